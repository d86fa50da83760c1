"""deadweight against /usr/bin/docker 20.10, for the same images on every medium.

The images are built once per session (images_fixtures.py) and exported to docker save
archives, OCI layouts and archives (skopeo) and two real registries; docker's own output for
the same image, on the same engine, is the oracle. CREATED moves with the clock, so every
comparison runs docker, deadweight, docker back to back and only counts when docker printed
the same bytes both times: deadweight ran in between, at a moment that reads the same.

Where a medium cannot carry what the engine knows, the expected output is docker's with
exactly that changed, and the change itself is asserted (never skipped):

* parent links (docker-formats.md §3.2): history IDs below the top row are ``<missing>``
  unless the medium links parents (the engine; ``docker save`` of an image with its parents);
* skopeo's ``oci:``/``oci-archive:`` copies re-serialize the config (§8.4): the image ID is the
  digest of the config skopeo wrote, and ``container_config``/``docker_version`` and the
  container-only ``Config`` fields are gone;
* tags: a medium only carries the tags it was written with; an OCI layout entry has a
  manifest digest, which ``images --digests`` shows where docker shows ``<none>``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import tarfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from engine_fixtures import DOCKER_CLI, DockerEngine
from images_fixtures import (
    MEDIA_KEYS,
    MISSING,
    REGISTRY_REPOS,
    Exports,
    Medium,
    Tools,
    json_lines,
    tree_digest,
)

pytestmark = pytest.mark.integration

TABLE_T = r"table {{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.CreatedBy}}"
HISTORY_MODES: dict[str, tuple[str, ...]] = {
    "table": (),
    "no-trunc": ("--no-trunc",),
    "human-false": ("-H=false",),
    "quiet": ("-q",),
    "quiet-no-trunc": ("-q", "--no-trunc"),
    "json": ("--format", "{{json .}}"),
    "json-human-false": ("-H=false", "--format", "{{json .}}"),
    "json-keyword": ("--format", "json"),  # CLI 20.10 prints the word (docker-formats.md §6.1)
    "table-template": ("--format", TABLE_T),
    "table-template-no-trunc": ("--no-trunc", "--format", r"table {{.ID}}\t{{.CreatedBy}}"),
    "template": ("--format", "{{.ID}}|{{.CreatedAt}}|{{.Size}}|{{json .CreatedBy}}|{{.Comment}}"),
}
HISTORY_TABLES = {"table", "no-trunc", "human-false", "table-template", "table-template-no-trunc"}

IMAGES_MODES: dict[str, tuple[str, ...]] = {
    "table": (),
    "no-trunc": ("--no-trunc",),
    "digests": ("--digests",),
    "digests-no-trunc": ("--digests", "--no-trunc"),
    "quiet": ("-q",),
    "quiet-no-trunc": ("-q", "--no-trunc"),
    "json": ("--format", "{{json .}}"),
    "json-digests": ("--digests", "--format", "{{json .}}"),
    "json-keyword": ("--format", "json"),
    "table-template": (
        "--format",
        r"table {{.Repository}}:{{.Tag}}\t{{.ID}}\t{{.CreatedAt}}\t{{.Size}}",
    ),
    "template": ("--format", "{{.Repository}} {{.Tag}} {{.Digest}} {{.CreatedSince}}"),
}
IMAGES_TABLES = {"table", "no-trunc", "digests", "digests-no-trunc", "table-template"}

# What a daemon-less medium can know of `docker image inspect`.
INSPECT_FIELDS = (
    "Id", "RepoTags", "Created", "Config", "Architecture", "Os", "Size", "RootFS",
    "ContainerConfig", "Author", "DockerVersion", "Comment",
)  # fmt: skip


@pytest.fixture(scope="session")
def media(exported_images: Exports) -> dict[str, Medium]:
    found = exported_images.media()
    assert sorted(found) == sorted(MEDIA_KEYS)
    return found


def text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def same_instant(
    tools: Tools,
    docker_args: Sequence[str],
    deadweight_args: Sequence[str],
    expect: Callable[[str], str] = lambda s: s,
    env: Mapping[str, str] | None = None,
    unordered: bool = False,
) -> tuple[str, str]:
    """docker, deadweight, docker; compare once docker printed the same twice in a row.

    ``unordered`` compares the multiset of lines (header included): for outputs whose row
    order docker itself draws at random (several repositories of one image, §4.2).
    """

    def key(s: str) -> Any:
        if not unordered:
            return s
        lines = s.splitlines(keepends=True)
        return sorted(lines)  # a header is one of the lines: still compared

    for _ in range(10):  # a loaded machine can cross a 'seconds ago' step between calls
        before = text(tools.docker(*docker_args, env=env))
        got = text(tools.deadweight(*deadweight_args, env=env).stdout)
        after = text(tools.docker(*docker_args, env=env))
        if key(before) == key(after):
            break
    else:
        pytest.fail(f"docker {' '.join(docker_args)} never printed the same twice in a row")
    expected = expect(before)
    if unordered:
        assert key(got) == key(expected)
    else:
        assert got == expected
    return got, expected


def rewrite_ids(out: str, mapping: Mapping[str, str], table: bool, json_: bool = False) -> str:
    """Replace image IDs (full and 12-character forms) as a medium shows them.

    ``mapping`` is old full ID → new full ID or ``<missing>``. In a table the column keeps its
    width (the top row keeps an ID of the same length), so ``<missing>`` is padded; in
    ``{{json .}}`` it is escaped as Go escapes ``<`` and ``>``.
    """
    for old, new in mapping.items():
        pairs = [(old, new), (old[7:19], new if new == MISSING else new[7:19])]
        for before, after in pairs:
            if table:
                after = after.ljust(len(before))
            if json_:
                after = after.replace("<", "\\u003c").replace(">", "\\u003e")
            pattern = re.compile(rf"(?<![0-9a-f]){re.escape(before)}(?![0-9a-f])")
            out = pattern.sub(after.replace("\\", "\\\\"), out)
    return out


def id_map(medium: Medium, exports: Exports) -> dict[str, str]:
    img = exports.images[medium.image]
    mapping = {img.id: medium.image_id} if medium.image_id != img.id else {}
    if not medium.ids_below_top:
        mapping.update(dict.fromkeys(img.ancestors, MISSING))
    return mapping


def test_the_engine_frontend_knows_no_heredocs(
    docker_engine: DockerEngine, busybox_base: str, tmp_path: Path
) -> None:
    """Why the fixture Dockerfile has no heredoc RUN: the dockerfile frontend built into
    20.10 rejects it, and a ``# syntax=`` frontend image cannot be pulled here. If this
    starts to pass (a newer engine), add a heredoc RUN to images_fixtures.DOCKERFILE."""
    (tmp_path / "Dockerfile").write_text(f"FROM {busybox_base}\nRUN <<EOT\necho hi > /h\nEOT\n")
    env = dict(docker_engine.env, DOCKER_BUILDKIT="1")
    proc = subprocess.run(
        [DOCKER_CLI, "build", "--network", "none", "-q", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0
    assert "unknown instruction" in proc.stderr.lower()


# --- history -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", HISTORY_MODES)
@pytest.mark.parametrize("medium_id", MEDIA_KEYS)
def test_history_is_docker_history(
    tools: Tools, exported_images: Exports, media: dict[str, Medium], medium_id: str, mode: str
) -> None:
    medium = media[medium_id]
    args = HISTORY_MODES[mode]
    mapping = id_map(medium, exported_images)
    same_instant(
        tools,
        ["history", *args, medium.docker_ref],
        ["history", *args, medium.spec],
        lambda out: rewrite_ids(
            out, mapping, table=mode in HISTORY_TABLES, json_=mode.startswith("json")
        ),
        env=medium.env,
    )


@pytest.mark.parametrize("medium_id", MEDIA_KEYS)
def test_history_ids_follow_the_parent_links_the_medium_keeps(
    tools: Tools, exported_images: Exports, media: dict[str, Medium], medium_id: str
) -> None:
    """docker-formats.md §3.2: the engine's IDs where links exist, else top ID + <missing>."""
    medium = media[medium_id]
    img = exported_images.images[medium.image]
    engine_ids = text(tools.docker("history", "-q", "--no-trunc", img.id)).split()
    got = text(tools.deadweight("history", "-q", "--no-trunc", medium.spec, env=medium.env).stdout)
    assert engine_ids[0] == img.id and len(engine_ids) == img.rows
    if img.buildkit:
        assert engine_ids[1:] == [MISSING] * (img.rows - 1)  # BuildKit links no parents
    else:
        assert MISSING not in engine_ids  # the classic builder links every step
    if medium.ids_below_top:
        assert got.split() == engine_ids
    else:
        assert got.split() == [medium.image_id] + [MISSING] * (img.rows - 1)


def test_docker_save_writes_parent_when_parents_are_saved_together(
    exported_images: Exports,
) -> None:
    """The case docker-formats.md §3.2 describes, on this engine: then every ID is known."""
    assert exported_images.parents_linked
    with tarfile.open(exported_images.save_parents) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        entries = json.loads(member.read())
    classic = exported_images.images["classic"]
    assert len(entries) == classic.rows  # the image and each ancestor
    by_config = {e["Config"].removesuffix(".json"): e for e in entries}
    chain, current = [], classic.id
    while current:
        chain.append(current)
        current = by_config[current[7:]].get("Parent", "")
    assert chain == [classic.id, *classic.ancestors]


@pytest.mark.parametrize("medium_id", ["archive-bk", "oci-classic", "registry-anon-classic"])
def test_history_created_at_in_another_zone(
    tools: Tools, exported_images: Exports, media: dict[str, Medium], medium_id: str
) -> None:
    medium = media[medium_id]
    mapping = id_map(medium, exported_images)
    for zone in ("Asia/Kolkata", "America/New_York"):
        env = {**medium.env, "TZ": zone}
        got, _ = same_instant(
            tools,
            ["history", "-H=false", medium.docker_ref],
            ["history", "-H=false", medium.spec],
            lambda out: rewrite_ids(out, mapping, table=True),
            env=env,
        )
        assert ("+05:30" if zone == "Asia/Kolkata" else "-0") in got


# --- images ------------------------------------------------------------------------------

IMAGES_SOURCES = (
    "archive-bk", "archive-classic", "archive-multi", "archive-alias",
    "oci", "oci-archive-bk", "oci-archive-classic",
    "registry-anon-bk", "registry-anon-classic", "registry-auth-bk", "registry-auth-classic",
    "daemon-bk", "daemon-classic",
)  # fmt: skip


def images_case(
    source: str, exports: Exports
) -> tuple[str, list[str], dict[str, str], dict[str, str], bool]:
    """deadweight's SOURCE, docker's arguments, the ID map, the env, if docker's order is random."""
    spec, docker_args, mapping, env, unordered = _images_case(source, exports)
    return spec, docker_args, mapping, {**env, **exports.cache_env(f"images-{source}")}, unordered


def _images_case(
    source: str, exports: Exports
) -> tuple[str, list[str], dict[str, str], dict[str, str], bool]:
    by_tag = {"bk": "dw-bk", "classic": "dw-classic"}
    kind, _, key = source.rpartition("-")
    if source == "archive-multi":
        refs = [f"--filter=reference={t}" for t in exports.save_multi_tags]
        return f"docker-archive:{exports.save_multi}", refs, {}, {}, False
    if source == "archive-alias":
        refs = ["--filter=reference=dw-bk:latest", "--filter=reference=dw-alias:bk"]
        return f"docker-archive:{exports.save_alias}", refs, {}, {}, True
    if source == "oci":
        refs = [f"--filter=reference={img.name}" for img in exports.images.values()]
        mapping = {img.id: exports.oci_ids[k] for k, img in exports.images.items()}
        return f"oci:{exports.oci}", refs, mapping, {}, False
    img = exports.images[key]
    if kind == "archive":
        return f"docker-archive:{exports.save[key]}", [by_tag[key]], {}, {}, False
    if kind == "oci-archive":
        mapping = {img.id: exports.oci_archive_ids[key]}
        return f"oci-archive:{exports.oci_archive[key]}", [img.name], mapping, {}, False
    if kind == "daemon":
        return by_tag[key], [by_tag[key]], {}, {}, False
    reg = exports.registries[kind.removeprefix("registry-")]
    cfg = exports.docker_config_auth if reg.auth else exports.docker_config_empty
    repo = f"{reg.host}/{REGISTRY_REPOS[key]}"
    return f"docker://{repo}", [repo], {}, {"DOCKER_CONFIG": str(cfg)}, False


def layout_digests(out: str, exports: Exports, mode: str) -> str:
    """An OCI layout entry has a manifest digest; docker, which never pulled it, shows <none>.

    Where docker shows digests (``--digests``, or a format naming ``{{.Digest}}``), put the
    manifest digest of each row's repository in place of ``<none>``; in a table the DIGEST
    column widens to fit it (tab writer: longest cell + 3).
    """
    args = IMAGES_MODES[mode]
    if "--digests" not in args and not any("{{.Digest}}" in a for a in args):
        return out
    by_repo = {
        img.name.rsplit(":", 1)[0]: exports.oci_manifest_digests[key]
        for key, img in exports.images.items()
    }
    lines = out.splitlines(keepends=True)
    if mode in IMAGES_TABLES:
        header = lines[0]
        start, end = header.index("DIGEST"), header.index("IMAGE ID")
        width = max(10, *(len(d) + 3 for d in by_repo.values()))
        rows = [header[:start] + "DIGEST".ljust(width) + header[end:]]
        for line in lines[1:]:
            assert line[start:end].rstrip() == "<none>"
            cell = by_repo[line.split()[0]].ljust(width)
            rows.append(line[:start] + cell + line[end:])
        return "".join(rows)
    rows = []
    for line in lines:
        if line.startswith("{"):
            repo = json.loads(line)["Repository"]
            line = line.replace('"Digest":"\\u003cnone\\u003e"', f'"Digest":"{by_repo[repo]}"')
        else:
            repo = line.split()[0]
            line = line.replace(" <none> ", f" {by_repo[repo]} ", 1)
        rows.append(line)
    return "".join(rows)


@pytest.mark.parametrize("mode", IMAGES_MODES)
@pytest.mark.parametrize("source", IMAGES_SOURCES)
def test_images_is_docker_images(
    tools: Tools, exported_images: Exports, source: str, mode: str
) -> None:
    spec, docker_args, mapping, env, unordered = images_case(source, exported_images)
    args = IMAGES_MODES[mode]

    def expect(out: str) -> str:
        out = rewrite_ids(out, mapping, table=mode in IMAGES_TABLES)
        if source.startswith("oci"):
            out = layout_digests(out, exported_images, mode)
        return out

    same_instant(
        tools,
        ["images", *args, *docker_args],
        ["images", *args, spec],
        expect,
        env=env,
        unordered=unordered,
    )


def test_images_of_a_layout_show_manifest_digests(tools: Tools, exported_images: Exports) -> None:
    """The one documented difference of ``images --digests`` on a layout, field by field."""
    spec, docker_args, _, _, _ = images_case("oci", exported_images)
    fmt = ("--digests", "--no-trunc", "--format", "{{json .}}")
    got = json_lines(tools.deadweight("images", *fmt, spec).stdout)
    want = json_lines(tools.docker("images", *fmt, *docker_args))
    assert len(got) == len(want) == 2
    for g, w in zip(got, want, strict=True):
        key = next(k for k, i in exported_images.images.items() if i.id == w["ID"])
        assert w["Digest"] == "<none>"
        assert g["Digest"] == exported_images.oci_manifest_digests[key]
        assert g["ID"] == exported_images.oci_ids[key] != w["ID"]
        assert {k: v for k, v in g.items() if k not in ("Digest", "ID", "CreatedSince")} == {
            k: v for k, v in w.items() if k not in ("Digest", "ID", "CreatedSince")
        }
    table = text(tools.deadweight("images", "--digests", spec).stdout).splitlines()
    assert table[0].split() == ["REPOSITORY", "TAG", "DIGEST", "IMAGE", "ID", "CREATED", "SIZE"]
    assert [line.split()[2] for line in table[1:]] == [g["Digest"] for g in got]


def test_images_of_the_engine_is_docker_images(tools: Tools, exported_images: Exports) -> None:
    """No SOURCE: every image of the engine (rows of multi-repository images in any order)."""
    for args in ((), ("--no-trunc",), ("--digests",), ("--format", "{{json .}}")):
        same_instant(tools, ["images", *args], ["images", *args], unordered=True)


@pytest.mark.parametrize("show_all", [False, True], ids=["default", "all"])
def test_images_of_an_archive_with_parents(
    tools: Tools, exported_images: Exports, show_all: bool
) -> None:
    """As docker lists the same images once loaded: the untagged parents, which have
    children, only with -a (docker-formats.md §4.1). The intermediate images of a classic
    build share their creation second, and docker orders such ties at random: rows are
    compared as a set (without the moving CreatedSince), and deadweight's order checked."""
    spec = f"docker-archive:{exported_images.save_parents}"
    classic = exported_images.images["classic"]
    wanted = {classic.id, *classic.ancestors}
    flags = ("-a",) if show_all else ()
    fmt = ("--no-trunc", "--format", "{{json .}}")
    got = json_lines(tools.deadweight("images", *flags, *fmt, spec).stdout)
    rows = [r for r in json_lines(tools.docker("images", *flags, *fmt)) if r["ID"] in wanted]
    # the engine also knows the classic image's other tags and its registry names
    want = [
        r
        for r in rows
        if r["Repository"] in ("<none>", "dw-busybox")
        or f"{r['Repository']}:{r['Tag']}" == classic.name
    ]

    def rows_of(found: list[dict[str, Any]]) -> list[list[tuple[str, Any]]]:
        return sorted(sorted((k, v) for k, v in r.items() if k != "CreatedSince") for r in found)

    assert rows_of(got) == rows_of(want)
    created = [r["CreatedAt"] for r in got]
    assert created == sorted(created, reverse=True)  # newest first (same zone: UTC)


def test_images_filters_on_an_archive_with_parents(tools: Tools, exported_images: Exports) -> None:
    """``--filter`` on a docker save of the classic image with its ancestors, as docker
    filters the same images in its store: dangling (images no other image has as parent),
    reference patterns, labels, and before/since, whose intermediate images were created
    within a second of each other (compared to the nanosecond)."""
    classic = exported_images.images["classic"]
    spec = f"docker-archive:{exported_images.save_parents}"
    ids = {classic.id, *classic.ancestors}
    names = {classic.name, "dw-busybox:latest", "<none>:<none>"}
    middle = classic.ancestors[len(classic.ancestors) // 2]
    fmt = ("--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}")
    cases: list[tuple[str, ...]] = [
        ("--filter", "dangling=true"),
        ("-a", "--filter", "dangling=true"),
        ("-a", "--filter", "dangling=false"),
        ("--filter", "reference=dw-*"),
        ("-a", "--filter", "reference=*:latest", "--filter", "reference=nothing"),
        ("-a", "--filter", "label=org.example.title=deadweight fixture"),
        ("-a", "--filter", f"before={middle}"),
        ("-a", "--filter", f"since={middle[7:19]}"),
        ("-a", "--filter", "since=dw-busybox", "--filter", f"before={classic.name}"),
    ]
    listed = 0
    for flags in cases:
        got = text(tools.deadweight("images", *flags, *fmt, spec).stdout).splitlines()
        rows = text(tools.docker("images", *flags, *fmt)).splitlines()
        want = [r for r in rows if r.split()[0] in ids and r.split()[1] in names]
        assert sorted(got) == sorted(want), flags
        listed += bool(got)
    assert listed >= len(cases) - 2  # only dangling=true (none here) may list nothing


def test_images_created_at_in_another_zone(tools: Tools, exported_images: Exports) -> None:
    spec, docker_args, _, env, _ = images_case("registry-anon-bk", exported_images)
    fmt = ("--format", "{{.Tag}} {{.CreatedAt}}")
    got, _ = same_instant(
        tools,
        ["images", *fmt, *docker_args],
        ["images", *fmt, spec],
        env={**env, "TZ": "America/New_York"},
    )
    assert re.search(r" -0[45]00 E[SD]T$", got.splitlines()[0])


# --- inspect -----------------------------------------------------------------------------


def docker_inspect(tools: Tools, ref: str) -> dict[str, Any]:
    (doc,) = json.loads(tools.docker("image", "inspect", ref))
    assert isinstance(doc, dict)
    return doc


def oci_config(exports: Exports, medium: Medium) -> dict[str, Any]:
    """The config document skopeo wrote for the medium's image."""
    layout = exports.oci
    if medium.key == "oci-archive":
        layout = exports.root / "scratch" / exports.oci_archive[medium.image].name.replace(".", "-")
    raw = (layout / "blobs" / "sha256" / medium.image_id[7:]).read_bytes()
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == medium.image_id
    doc: dict[str, Any] = json.loads(raw)
    return doc


def expected_inspect(
    tools: Tools, exports: Exports, medium: Medium, docker_doc: dict[str, Any]
) -> dict[str, Any]:
    expected = {k: docker_doc[k] for k in INSPECT_FIELDS}
    expected["Id"] = medium.image_id
    expected["RepoTags"] = [t for t in docker_doc["RepoTags"] if t in medium.repo_tags]
    assert sorted(expected["RepoTags"]) == sorted(medium.repo_tags)
    if not medium.docker_config:
        # What docker shows for a config without container_config and docker_version (a
        # BuildKit image); the container-only Config fields take their zero values.
        zero = docker_inspect(tools, exports.images["bk"].id)["ContainerConfig"]
        carried = oci_config(exports, medium)["config"]
        assert "container_config" not in oci_config(exports, medium)
        expected["ContainerConfig"] = zero
        expected["DockerVersion"] = ""
        expected["Config"] = {
            k: v if k in carried else zero[k]
            for k, v in docker_doc["Config"].items()
            if k in carried or k in zero
        }
    return expected


@pytest.mark.parametrize("medium_id", MEDIA_KEYS)
def test_inspect_is_docker_image_inspect(
    tools: Tools, exported_images: Exports, media: dict[str, Medium], medium_id: str
) -> None:
    medium = media[medium_id]
    (got,) = json.loads(tools.deadweight("inspect", medium.spec, env=medium.env).stdout)
    docker_doc = docker_inspect(tools, medium.docker_ref)
    if medium.key == "daemon":
        assert got == docker_doc
        return
    assert {k: got.get(k) for k in INSPECT_FIELDS} == expected_inspect(
        tools, exported_images, medium, docker_doc
    )


# Templates users write, over fields the JSON may leave out (docker's template sees the
# typed struct: zero values, nil slices print [], structs {v1 v2}).
INSPECT_TEMPLATES = (
    "{{.Config.ExposedPorts}} {{.Config.Volumes}} {{.Config.Entrypoint}} {{.Config.Cmd}}",
    "{{.Variant}}|{{.OsVersion}}|{{.Config.Healthcheck}}|{{.Config.StopTimeout}}|"
    "{{.Config.Shell}}|{{.Config.ArgsEscaped}}|{{.Config.MacAddress}}",
    "{{json .Config}} {{.RootFS}} {{.ContainerConfig.Cmd}} {{len .ContainerConfig.Env}}",
    "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}} {{.Config.OnBuild}} {{.Size}}",
    "{{if .ContainerConfig.Entrypoint}}set{{else}}unset{{end}} {{json .ContainerConfig.Volumes}}",
)


@pytest.mark.parametrize("medium_id", ["daemon-bk", "archive-bk", "archive-classic"])
def test_inspect_format_is_docker_image_inspect_format(
    tools: Tools, media: dict[str, Medium], medium_id: str
) -> None:
    medium = media[medium_id]
    for template in INSPECT_TEMPLATES:
        got = tools.deadweight("inspect", "-f", template, medium.spec, env=medium.env).stdout
        assert text(got) == text(
            tools.docker("image", "inspect", "-f", template, medium.docker_ref)
        )


@pytest.mark.parametrize("medium_id", [k for k in MEDIA_KEYS if not k.startswith("daemon")])
def test_inspect_raw_config_is_the_config_the_id_names(
    tools: Tools, exported_images: Exports, media: dict[str, Medium], medium_id: str
) -> None:
    medium = media[medium_id]
    raw = tools.deadweight("inspect", "--raw", "config", medium.spec, env=medium.env).stdout
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == medium.image_id
    img = exported_images.images[medium.image]
    if medium.docker_config:
        with tarfile.open(exported_images.save[medium.image]) as tar:
            member = tar.extractfile(f"{img.id[7:]}.json")
            assert member is not None
            assert raw == member.read()  # docker's own bytes
    else:
        # skopeo re-serialized the config (docker-formats.md §8.4): another ID, same content
        assert medium.image_id != img.id
        with tarfile.open(fileobj=io.BytesIO(tools.docker("save", img.id))) as tar:
            member = tar.extractfile(f"{img.id[7:]}.json")
            assert member is not None
            docker_config = json.loads(member.read())
        ours = json.loads(raw)
        for key in ("created", "architecture", "os", "rootfs", "history"):
            assert ours[key] == docker_config[key]


def test_deadweight_never_writes_to_its_inputs(exported_images: Exports) -> None:
    """Reading every medium (the runs above) left the files as docker and skopeo wrote them."""
    before = exported_images.input_digests
    assert {p: tree_digest(Path(p)) for p in before} == before
