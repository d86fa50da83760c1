from __future__ import annotations

from pathlib import Path

import pytest

from deadweight.dockerfile.config import LintConfig, find_config, load_config, parse_config
from deadweight.dockerfile.findings import Severity
from deadweight.dockerfile.linting import lint
from deadweight.errors import NotFound, UsageError


def codes(src: str, config: LintConfig | None = None) -> list[str]:
    return [f"{f.code}@{f.line}" for f in lint(src, config=config).findings if f.code < "DW"]


BASE = "FROM debian:12\n# {p}\nRUN apt-get install -y curl\nRUN apt-get install -y curl\n"


@pytest.mark.parametrize(
    ("pragma", "expected"),
    [
        ("nothing", ["DL3008@3", "DL3015@3", "DL3008@4", "DL3015@4", "DL3059@4"]),
        ("hadolint ignore=DL3008,DL3015", ["DL3008@4", "DL3015@4", "DL3059@4"]),
        ("deadweight ignore=DL3008, DL3015 # why", ["DL3008@4", "DL3015@4", "DL3059@4"]),
        ("hadolint global ignore=DL3008", ["DL3015@3", "DL3015@4", "DL3059@4"]),
    ],
)
def test_inline_and_global_pragmas(pragma: str, expected: list[str]) -> None:
    assert codes(BASE.format(p=pragma)) == expected


def test_stage_pragma_covers_the_next_stage_only() -> None:
    src = (
        "# hadolint stage ignore=DL3008 # build stage\n"
        "FROM debian:12 AS b\nRUN apt-get install -y --no-install-recommends x\n"
        "FROM b\nRUN apt-get install -y --no-install-recommends x\n"
    )
    assert codes(src) == ["DL3008@5"]


def test_config_ignored_override_and_disable_pragma() -> None:
    cfg = parse_config(
        "ignored: [DL3015]\noverride:\n  error: [DL3008]\n  info: [DL3057]\n"
        "disable-ignore-pragma: true\n"
    )
    r = lint(BASE.format(p="hadolint ignore=DL3008"), config=cfg)
    got = [(f.code, f.line, f.severity) for f in r.findings if f.code < "DW"]
    assert got == [
        ("DL3057", 1, Severity.INFO),
        ("DL3008", 3, Severity.ERROR),
        ("DL3008", 4, Severity.ERROR),
        ("DL3059", 4, Severity.INFO),
    ]


def test_config_threshold_and_registries() -> None:
    cfg = parse_config("failure-threshold: warning\ntrustedRegistries: [quay.io]\n")
    assert (cfg.failure_threshold, cfg.trusted_registries) == (Severity.WARNING, ("quay.io",))
    assert parse_config("failure-threshold: none\n").failure_threshold is None
    assert parse_config("no-fail: true\n").failure_threshold is None
    assert parse_config("").failure_threshold is Severity.INFO


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2", "config: not valid YAML"),
        ("- a\n", "config: expected a mapping at the top"),
        ("ignored: 3\n", "config: ignored must be a list of strings"),
        ("failure-threshold: loud\n", "unknown severity 'loud'"),
    ],
)
def test_bad_config_is_a_usage_error(text: str, message: str) -> None:
    with pytest.raises(UsageError) as exc:
        parse_config(text)
    assert exc.value.message.startswith(message)


def test_config_lookup_prefers_deadweight_then_hadolint(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (b / ".hadolint.yaml").write_text("ignored: [DL3006]\n")
    assert find_config(a, b) == b / ".hadolint.yaml"
    (a / ".deadweight.yaml").write_text("ignored: [DL3007]\n")
    assert find_config(a, b) == a / ".deadweight.yaml"
    (b / ".deadweight.yaml").write_text("")
    assert find_config(a, b) == a / ".deadweight.yaml"
    assert load_config(a / ".deadweight.yaml").ignored == frozenset({"DL3007"})
    with pytest.raises(NotFound):
        load_config(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("pragma", "applies"),
    [
        ("# hadolint ignore=DL3006", True),
        ("#deadweight ignore=DL3006 # a remark", True),
        # hadolint 2.15.1's grammar is case-sensitive: these are plain comments to it
        ("# HADOLINT ignore=DL3006", False),
        ("#DeadWeight ignore=DL3006", False),
        ("# hadol\u0130nt ignore=DL3006", False),
        ("# hadolint ignore=dl3006", False),
        ("# hadolint ignore=DL3006 because", False),
    ],
)
def test_pragmas_are_read_as_hadolint_reads_them(pragma: str, applies: bool) -> None:
    src = f"{pragma}\nFROM ubuntu\n# just a comment\nUSER 1000\n"
    assert ("DL3006" not in {f.code for f in lint(src).findings}) is applies
    assert "DL3006" in {f.code for f in lint(src.replace("DL3006", "DL3007")).findings}
