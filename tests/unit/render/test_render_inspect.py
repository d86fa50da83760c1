"""``docker image inspect`` documents (types.ImageInspect of docker 20.10).

There is no recorded ``docker image inspect`` output; ``container.Config`` is checked
against the real Go encoding of the same configs that ``docker save`` wrote into each
image's top layer ``json`` (data/v1-top-layer-*.json), the rest against the moby source.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from deadweight.errors import UsageError
from deadweight.render._gobuiltins import duration_string, time_text_string
from deadweight.render._gojson import encode
from deadweight.render.gotemplate import render_template
from deadweight.render.inspect import (
    container_config,
    format_inspect,
    inspect_document,
    template_data,
)

DATA = Path(__file__).parent / "data"
Config = Callable[[str], dict[str, Any]]

KEYS = [
    "Id",
    "RepoTags",
    "RepoDigests",
    "Parent",
    "Comment",
    "Created",
    "Container",
    "ContainerConfig",
    "DockerVersion",
    "Author",
    "Config",
    "Architecture",
    "Os",
    "Size",
    "VirtualSize",
    "GraphDriver",
    "RootFS",
    "Metadata",
]


def _v1(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DATA / f"v1-top-layer-{name}.json").read_bytes())
    return doc


@pytest.mark.parametrize("name", ["dfx-legacy", "dfx-bk"])
def test_container_config_matches_gos_encoding(name: str, config_document: Config) -> None:
    doc = config_document(name)
    v1 = _v1(name)
    assert encode(container_config(doc["config"])) == encode(v1["config"])
    # dfx-bk (BuildKit) has no container_config: the zero container.Config.
    assert encode(container_config(doc.get("container_config"))) == encode(v1["container_config"])


def _document(name: str, config_document: Config, **extra: Any) -> dict[str, Any]:
    doc = config_document(name)
    return inspect_document(
        "sha256:" + "ab" * 32,
        [f"{name}:latest"],
        [],
        "",
        doc,
        205492871,
        doc["rootfs"]["diff_ids"],
        **extra,
    )


def test_fields_in_struct_order(config_document: Config) -> None:
    result = _document("dfx-bk", config_document)
    assert list(result) == KEYS
    assert result["Created"] == "2026-11-27T03:58:52.74927893Z"
    assert result["Comment"] == "buildkit.dockerfile.v0"  # from the last history entry
    assert result["Config"]["ArgsEscaped"] is True
    assert result["GraphDriver"] == {"Data": None, "Name": ""}
    assert result["Metadata"] == {"LastTagTime": "0001-01-01T00:00:00Z"}
    assert list(result["RootFS"]) == ["Type", "Layers"]
    assert len(result["RootFS"]["Layers"]) == 9
    legacy = _document("dfx-legacy", config_document)
    assert legacy["Container"].startswith("9d2c4c90dc0a")
    assert legacy["DockerVersion"] == "20.10.24+dfsg1"
    assert legacy["Comment"] == ""


def test_omitempty_fields_and_overrides(config_document: Config) -> None:
    result = inspect_document(
        "sha256:x",
        [],
        ["repo@sha256:" + "d" * 64],
        "sha256:parent",
        {"variant": "v8", "os.version": "10.0", "Architecture": "arm64", "comment": "top"},
        0,
        [],
        graph_driver={"Name": "overlay2", "Data": {"MergedDir": "/m"}},
        last_tag_time="2026-11-27T03:58:55.1Z",
    )
    assert list(result) == [*KEYS[:12], "Variant", "Os", "OsVersion", *KEYS[13:]]
    assert result["Architecture"] == "arm64"  # keys match case-insensitively, as in Go
    assert result["Comment"] == "top"
    assert result["Config"] is None
    assert result["Created"] == "0001-01-01T00:00:00Z"
    assert result["RootFS"] == {"Type": ""}
    assert result["GraphDriver"] == {"Data": {"MergedDir": "/m"}, "Name": "overlay2"}
    assert result["Parent"] == "sha256:parent"


def test_config_conversion_rules() -> None:
    converted = container_config(
        {
            "cmd": "echo hi",
            "Entrypoint": None,
            "ExposedPorts": {},
            "Volumes": {"/b": {}, "/a": {}},
            "Labels": {"z": "1", "a": "2"},
            "Healthcheck": {"Test": ["CMD", "true"], "Interval": 30000000000, "Retries": 0},
            "StopTimeout": 0,
            "Shell": [],
            "Unknown": 1,
        }
    )
    assert converted["Cmd"] == ["echo hi"]  # strslice accepts a string
    assert converted["Entrypoint"] is None
    assert "ExposedPorts" not in converted  # omitempty map
    assert list(converted["Volumes"]) == ["/a", "/b"]
    assert list(converted["Labels"]) == ["a", "z"]
    assert converted["Healthcheck"] == {"Test": ["CMD", "true"], "Interval": 30000000000}
    assert converted["StopTimeout"] == 0  # a non-nil *int is kept even when zero
    assert "Shell" not in converted and "Unknown" not in converted
    assert list(converted).index("Healthcheck") == list(converted).index("Cmd") + 1


def test_format_inspect_like_the_cli(config_document: Config) -> None:
    assert format_inspect([]) == "[]\n"
    out = format_inspect([_document("dfx-legacy", config_document)])
    assert out.startswith('[\n    {\n        "Id": "sha256:abab')
    assert out.endswith(
        '        "Metadata": {\n'
        '            "LastTagTime": "0001-01-01T00:00:00Z"\n'
        "        }\n    }\n]\n"
    )
    assert '"RepoDigests": [],' in out
    assert '"OnBuild": null,' in out
    # The daemon encodes without HTML escaping: && and > stay as they are.
    doc = {"Id": "x", "Config": {"Cmd": ["a && b > c"]}}
    assert format_inspect([doc, doc]).count('"a && b > c"') == 2


def test_inspect_format_templates(config_document: Config) -> None:
    doc = _document("dfx-bk", config_document)
    assert render_template("{{.Id}} {{.Config.User}} {{index .RepoTags 0}}", doc) == (
        f"{doc['Id']} nobody dfx-bk:latest"
    )
    assert render_template("{{json .GraphDriver}} {{.Size}}", doc) == (
        '{"Data":null,"Name":""} 205492871'
    )
    # Struct order is kept and nothing is HTML-escaped.
    assert render_template(
        "{{json .Metadata}}{{json .RootFS.Type}}", {**doc, "RootFS": {"Type": "<&>"}}
    ) == ('{"LastTagTime":"0001-01-01T00:00:00Z"}"<&>"')
    assert render_template("{{range .Config.Env}}{{.}};{{end}}", doc).count(";") == 3
    assert render_template("a\\tb", doc) == "a\\tb"  # no escape or table handling here
    with pytest.raises(UsageError, match='map has no entry for key "Nope"'):
        render_template("{{.Nope}}", doc)
    with pytest.raises(
        UsageError, match=r"^template parsing error: template: :1: unclosed action$"
    ):
        render_template("{{.Id", doc)


def test_inspect_templates_see_docker_typed_values(config_document: Config) -> None:
    """docker runs ``--format`` on the answer decoded into types.ImageInspect: fields the
    JSON left out have their zero values, a nil slice prints [], a nil map map[], a struct
    {v1 v2 ...}, a duration 5s, a time as Go's Time.String(). Each expectation is what
    /usr/bin/docker 20.10 printed for an image of the same shape."""
    bare = template_data(inspect_document("sha256:" + "a" * 64, (), (), "", {}, 0, ()))
    assert render_template("{{.Config}}|{{.Variant}}|{{.OsVersion}}", bare) == "<nil>||"
    assert render_template("{{.ContainerConfig.Entrypoint}}", bare) == "[]"
    assert render_template("{{.ContainerConfig.ExposedPorts}}", bare) == "map[]"
    assert render_template("{{.ContainerConfig.Healthcheck}}", bare) == "<nil>"
    assert render_template("{{.ContainerConfig.StopTimeout}}", bare) == "<nil>"
    assert render_template("{{len .ContainerConfig.Cmd}}{{json .ContainerConfig.Cmd}}", bare) == (
        "0null"
    )
    assert render_template("{{.ContainerConfig}}", bare) == (
        "{   false false false map[] false false false [] [] <nil> false  map[]  [] false  [] "
        "map[]  <nil> []}"
    )
    assert render_template("{{.Metadata}} {{.RootFS}}", bare) == (
        "{0001-01-01 00:00:00 +0000 UTC} { [] }"
    )
    assert render_template("{{json .}}", bare) == encode(
        inspect_document("sha256:" + "a" * 64, (), (), "", {}, 0, ()), escape_html=False
    )
    config = {
        "User": "1",
        "ExposedPorts": {"80/tcp": {}, "443/tcp": {}},
        "Healthcheck": {"Test": ["CMD", "true"], "Interval": 90_500_000_000},
        "Cmd": "sh",
        "Labels": {"a": "<&>"},
        "Shell": ["/bin/bash"],
    }
    doc = template_data(
        inspect_document("sha256:" + "b" * 64, ("x:1",), (), "", {"config": config}, 1, ("d",))
    )
    assert render_template("{{.Config.ExposedPorts}}", doc) == "map[443/tcp:{} 80/tcp:{}]"
    assert render_template("{{json .Config.ExposedPorts}}", doc) == '{"443/tcp":{},"80/tcp":{}}'
    assert render_template(
        "{{range $k, $v := .Config.ExposedPorts}}{{$k}}={{$v}};{{end}}", doc
    ) == ("443/tcp={};80/tcp={};")
    assert render_template("{{.Config.Healthcheck}}", doc) == "{[CMD true] 1m30.5s 0s 0s 0}"
    assert render_template("{{json .Config.Healthcheck}}", doc) == (
        '{"Test":["CMD","true"],"Interval":90500000000}'
    )
    assert render_template("{{json .Config}}", doc) == encode(
        container_config(config), escape_html=False
    )
    assert render_template("{{.RootFS}}|{{.Config.Shell}}|{{.Config.Cmd}}", doc) == (
        "{ [d] }|[/bin/bash]|[sh]"
    )


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0s"),
        (1, "1ns"),
        (1500, "1.5\u00b5s"),
        (5_000_000, "5ms"),
        (1_000_000_000, "1s"),
        (90_500_000_000, "1m30.5s"),
        (3_600_000_000_000, "1h0m0s"),
        (-2_000_000, "-2ms"),
    ],
)
def test_durations_print_as_go_does(ns: int, text: str) -> None:
    assert duration_string(ns) == text


def test_times_print_as_go_time_string() -> None:
    assert time_text_string("2026-12-07T08:02:12.059404301Z") == (
        "2026-12-07 08:02:12.059404301 +0000 UTC"
    )
    assert time_text_string("2026-12-07T08:02:12.5000Z") == "2026-12-07 08:02:12.5 +0000 UTC"
    assert time_text_string("2026-12-07T08:02:12+05:30") == "2026-12-07 08:02:12 +0530 +0530"


def test_a_failed_typed_run_falls_back_to_the_raw_document() -> None:
    """docker's TemplateInspector: the typed run first (a map's missing key prints
    ``<no value>``); when it fails (a field no struct has, a nil pointer), the run on the
    raw JSON with missingkey=error, whose error is the one shown."""
    doc = inspect_document("sha256:" + "c" * 64, (), (), "", {"config": {"Labels": {}}}, 0, ())
    typed = template_data(doc)
    assert render_template("{{.Config.Labels.nope}}", typed, doc) == "<no value>"
    with pytest.raises(
        UsageError,
        match=r'at <\.Config\.Healthcheck\.Test>: map has no entry for key "Healthcheck"',
    ):
        render_template("{{.Config.Healthcheck.Test}}", typed, doc)
    with pytest.raises(UsageError, match=r'at <\.Nope>: map has no entry for key "Nope"'):
        render_template("{{.Nope}}", typed, doc)
