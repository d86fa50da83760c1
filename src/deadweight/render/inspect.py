"""``docker image inspect`` as docker 20.10 prints it.

The daemon answers ``GET /images/{name}/json`` with ``types.ImageInspect`` encoded by
``httputils.WriteJSON`` — a ``json.Encoder`` with ``SetEscapeHTML(false)``, so ``&&`` in a
``Cmd`` stays ``&&`` — and the CLI's ``IndentedInspector`` prints ``[`` + the raw answers
joined by ``,`` + ``]`` through ``json.Indent(…, "", "    ")`` and a final newline.
Struct fields keep Go's declaration order; Go maps (``Labels``, ``ExposedPorts``,
``Volumes``) are sorted. The image config is decoded as Go decodes it into
``image.Image``: keys match case-insensitively, unknown keys are dropped, missing ones
take the zero value; values of the wrong JSON type (which the daemon would refuse to
load) are read leniently as the zero value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from deadweight.render import _gojson as gojson
from deadweight.render._gobuiltins import Duration, NilMap, NilSlice, StructValue, TimeText
from deadweight.render._gotime import rfc3339nano

ZERO_TIME = "0001-01-01T00:00:00Z"
_ABSENT = object()

# api/types/container.Config of docker 20.10, in declaration order: (field, kind);
# a trailing "?" marks ``omitempty``; ``intptr`` is a ``*int``.
_CONFIG_FIELDS = (
    ("Hostname", "string"),
    ("Domainname", "string"),
    ("User", "string"),
    ("AttachStdin", "bool"),
    ("AttachStdout", "bool"),
    ("AttachStderr", "bool"),
    ("ExposedPorts", "set?"),
    ("Tty", "bool"),
    ("OpenStdin", "bool"),
    ("StdinOnce", "bool"),
    ("Env", "strings"),
    ("Cmd", "strslice"),
    ("Healthcheck", "health?"),
    ("ArgsEscaped", "bool?"),
    ("Image", "string"),
    ("Volumes", "set"),
    ("WorkingDir", "string"),
    ("Entrypoint", "strslice"),
    ("NetworkDisabled", "bool?"),
    ("MacAddress", "string?"),
    ("OnBuild", "strings"),
    ("Labels", "labels"),
    ("StopSignal", "string?"),
    ("StopTimeout", "intptr?"),
    ("Shell", "strslice?"),
)
# container.HealthConfig of docker 20.10: every field is omitempty; durations are ns.
_HEALTH_FIELDS = (
    ("Test", "strings?"),
    ("Interval", "int?"),
    ("Timeout", "int?"),
    ("StartPeriod", "int?"),
    ("Retries", "int?"),
)


def _field(doc: object, name: str) -> object:
    """What Go's decoder stores in the field ``name``: the last key matching it, any case."""
    if not isinstance(doc, Mapping):
        return _ABSENT
    value: object = _ABSENT
    folded = name.casefold()
    for key, item in doc.items():
        if isinstance(key, str) and key.casefold() == folded:
            value = item
    return value


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""


def _convert(value: object, kind: str) -> object:
    """A JSON value decoded into a Go field of ``kind`` and encoded again."""
    if kind == "string":
        return _string(value)
    if kind == "bool":
        return value is True
    if kind in ("int", "intptr"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return int(value) if float(value).is_integer() else None
    if kind == "strslice" and isinstance(value, str):
        return [value]
    if kind in ("strings", "strslice"):
        return [_string(v) for v in value] if isinstance(value, list) else None
    if kind == "set":
        return {k: {} for k in sorted(value)} if isinstance(value, Mapping) else None
    if kind == "labels":
        return {k: _string(value[k]) for k in sorted(value)} if isinstance(value, Mapping) else None
    if kind == "health":
        return _struct(value, _HEALTH_FIELDS) if isinstance(value, Mapping) else None
    raise ValueError(f"unknown field kind {kind!r}")


def _empty(value: object) -> bool:
    """Go's ``omitempty`` test for the values :func:`_convert` returns."""
    return value is None or value is False or value == 0 or value == "" or value in ([], {})


def _struct(doc: object, fields: Sequence[tuple[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, kind in fields:
        raw = _field(doc, name)
        value = _convert(None if raw is _ABSENT else raw, kind.rstrip("?"))
        # omitempty drops zero values, but a pointer (*int) only when it is nil
        if kind.endswith("?") and (value is None or (kind != "intptr?" and _empty(value))):
            continue
        out[name] = value
    return out


def container_config(doc: object) -> dict[str, Any]:
    """``container.Config`` decoded from ``doc`` (the zero config for null or absent)."""
    return _struct(doc, _CONFIG_FIELDS)


def inspect_document(
    image_id: str,
    repo_tags: Sequence[str],
    repo_digests: Sequence[str],
    parent: str,
    config_document: Mapping[str, Any],
    size: int,
    diff_ids: Sequence[str],
    graph_driver: Mapping[str, Any] | None = None,
    last_tag_time: str | None = None,
) -> dict[str, Any]:
    """``types.ImageInspect`` of docker 20.10, as the daemon builds it, in field order.

    ``Comment`` falls back to the last history entry's comment; ``Created`` is the
    config's ``created`` re-formatted as RFC 3339 with nanoseconds (Go's zero time when
    absent); ``ContainerConfig`` is the zero ``container.Config`` when the config has none
    (BuildKit images); ``Config`` is null when absent; ``Os`` defaults to ``linux`` as a
    Linux daemon's ``runtime.GOOS``; ``Variant``/``OsVersion`` are omitted when empty and
    ``RootFS.Layers`` when there are no layers.

    ``GraphDriver`` describes the daemon's storage of the layers (``overlay2`` and the
    host paths of its upper/lower/merged/work directories). Without a daemon there is no
    storage driver and no such path, so the honest value is ``{"Data": null, "Name": ""}``
    — the shape the daemon itself gives an image without layers — unless the caller
    passes one (``{"Data": {...}, "Name": "overlay2"}``). ``Metadata.LastTagTime`` is the
    daemon's record of the last tagging; without one it is Go's zero time, as for an
    image that was never tagged.
    """
    doc = config_document
    comment = _string(_field(doc, "comment"))
    history = _field(doc, "history")
    if not comment and isinstance(history, list) and history:
        comment = _string(_field(history[-1], "comment"))
    created = _field(doc, "created")
    config = _field(doc, "config")
    out: dict[str, Any] = {
        "Id": image_id,
        "RepoTags": list(repo_tags),
        "RepoDigests": list(repo_digests),
        "Parent": parent,
        "Comment": comment,
        "Created": rfc3339nano(created if isinstance(created, str) else None),
        "Container": _string(_field(doc, "container")),
        "ContainerConfig": container_config(_field(doc, "container_config")),
        "DockerVersion": _string(_field(doc, "docker_version")),
        "Author": _string(_field(doc, "author")),
        "Config": container_config(config) if isinstance(config, Mapping) else None,
        "Architecture": _string(_field(doc, "architecture")),
    }
    if variant := _string(_field(doc, "variant")):
        out["Variant"] = variant
    out["Os"] = _string(_field(doc, "os")) or "linux"
    if os_version := _string(_field(doc, "os.version")):
        out["OsVersion"] = os_version
    out["Size"] = size
    out["VirtualSize"] = size
    driver = graph_driver or {}
    out["GraphDriver"] = {"Data": driver.get("Data"), "Name": driver.get("Name", "")}
    root_fs: dict[str, Any] = {"Type": _string(_field(_field(doc, "rootfs"), "type"))}
    if diff_ids:
        root_fs["Layers"] = list(diff_ids)
    out["RootFS"] = root_fs
    out["Metadata"] = {"LastTagTime": last_tag_time or ZERO_TIME}
    return out


def format_inspect(documents: Sequence[Mapping[str, Any]]) -> str:
    """The stdout of ``docker image inspect``: an indented JSON array, keys as given."""
    if not documents:
        return "[]\n"
    return gojson.encode(list(documents), escape_html=False, indent="    ") + "\n"


# --- what ``docker inspect --format`` executes on ----------------------------------------
# The CLI runs the template on the answer decoded into Go's types.ImageInspect (falling
# back to the raw JSON only when that fails): every field exists, with its zero value when
# the JSON left it out, a nil slice prints [] and a nil map map[], a struct {v1 v2 ...},
# a duration 5s, a time as time.Time.String().
_HEALTH_DURATIONS = ("Interval", "Timeout", "StartPeriod")


def _typed(value: object, kind: str) -> object:
    if kind in ("strings", "strslice"):
        return list(value) if isinstance(value, list) else NilSlice()
    if kind == "set":
        return {k: StructValue() for k in value} if isinstance(value, Mapping) else NilMap()
    if kind == "labels":
        return dict(value) if isinstance(value, Mapping) else NilMap()
    if kind == "health":
        return _typed_struct(value, _HEALTH_FIELDS) if isinstance(value, Mapping) else None
    if kind == "string":
        return value if isinstance(value, str) else ""
    if kind == "bool":
        return value is True
    if kind == "int":
        return value if isinstance(value, int) else 0
    return value  # intptr: an int or nil


def _typed_struct(doc: Mapping[str, Any], fields: Sequence[tuple[str, str]]) -> StructValue:
    values: dict[str, object] = {}
    for name, kind in fields:
        value = _typed(doc.get(name), kind.rstrip("?"))
        values[name] = Duration(int(value)) if name in _HEALTH_DURATIONS else value  # type: ignore[call-overload]
    omit = [name for name, kind in fields if kind.endswith("?") and name not in doc]
    return StructValue(values, omit)


def _config_value(doc: object) -> StructValue | None:
    return _typed_struct(doc, _CONFIG_FIELDS) if isinstance(doc, Mapping) else None


def template_data(document: Mapping[str, Any]) -> StructValue:
    """``document`` (an :func:`inspect_document`, or an engine's answer) as the typed
    ``types.ImageInspect`` docker's template sees."""
    root_fs = document.get("RootFS")
    root_fs = root_fs if isinstance(root_fs, Mapping) else {}
    driver = document.get("GraphDriver")
    driver = driver if isinstance(driver, Mapping) else {}
    metadata = document.get("Metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    values: dict[str, object] = {}
    for name in ("Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created", "Container"):
        values[name] = _typed(
            document.get(name), "strings" if name.startswith("Repo") else "string"
        )
    values["ContainerConfig"] = _config_value(document.get("ContainerConfig"))
    for name in ("DockerVersion", "Author"):
        values[name] = _typed(document.get(name), "string")
    values["Config"] = _config_value(document.get("Config"))
    for name in ("Architecture", "Variant", "Os", "OsVersion"):
        values[name] = _typed(document.get(name), "string")
    for name in ("Size", "VirtualSize"):
        values[name] = _typed(document.get(name), "int")
    data = driver.get("Data")
    values["GraphDriver"] = StructValue(
        {
            "Data": dict(data) if isinstance(data, Mapping) else NilMap(),
            "Name": _typed(driver.get("Name"), "string"),
        }
    )
    values["RootFS"] = StructValue(
        {
            "Type": _typed(root_fs.get("Type"), "string"),
            "Layers": _typed(root_fs.get("Layers"), "strings"),
            "BaseLayer": _typed(root_fs.get("BaseLayer"), "string"),
        },
        [k for k in ("Layers", "BaseLayer") if k not in root_fs],
    )
    last_tag = metadata.get("LastTagTime")
    values["Metadata"] = StructValue(
        {"LastTagTime": TimeText(last_tag if isinstance(last_tag, str) else ZERO_TIME)}
    )
    return StructValue(values, [k for k in ("Variant", "OsVersion") if k not in document])
