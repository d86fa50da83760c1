"""``deadweight analyze``: text, JSON, the CI gate with dive's keys, reports, base exclusion."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner, Result

from deadweight import static
from deadweight.cli.analyze import analyze
from deadweight.errors import UsageError
from deadweight.sources import archive

BASE_STEPS = [
    static.Step("FROM base", static.layer([static.File("etc/os-release", b"o" * 100)], "gzip"))
]
WASTEFUL = [
    *BASE_STEPS,
    static.Step(
        "RUN fetch",
        static.layer([static.File("big.bin", b"1" * 1000), static.File("conf", b"c" * 80)]),
    ),
    static.Step("RUN rm /big.bin", static.layer([static.Whiteout("big.bin")])),
]
CLEAN = [
    *BASE_STEPS,
    static.Step("COPY app /app", static.layer([static.File("app/run", b"r" * 500)])),
]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CI", raising=False)
    for name, steps in (("waste", WASTEFUL), ("clean", CLEAN), ("base", BASE_STEPS)):
        archive.write([static.image(steps, repo_tags=(f"{name}:1",))], tmp_path / f"{name}.tar")
    return tmp_path


def run(*args: str) -> Result:
    return CliRunner().invoke(analyze, list(args))


def test_text_report(env: Path) -> None:
    r = run(f"docker-archive:{env / 'waste.tar'}")
    assert r.exit_code == 0, r.output
    assert "reclaimable by squashing: 1kB (84.7%), efficiency 0.1525" in r.output
    assert "deleted in a later layer" in r.output
    assert "CI rules" not in r.output


def test_json_document(env: Path) -> None:
    r = run(f"docker-archive:{env / 'waste.tar'}", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["schemaVersion"] == 1
    assert (doc["size"], doc["finalSize"], doc["waste"]["reclaimable"]) == (1180, 180, 1000)
    assert doc["waste"]["items"] == [
        {
            "path": "/big.bin",
            "bytes": 1000,
            "cause": "deleted",
            "writtenBy": {"layer": 1, "instruction": "RUN fetch"},
            "hiddenBy": {"layer": 2, "instruction": "RUN rm /big.bin"},
        },
    ]
    assert doc["diveCompatible"]["wastedBytes"] == 1000
    assert "ci" not in doc


def test_ci_gate_fails_with_dive_defaults_and_exits_1(env: Path) -> None:
    r = run(f"docker-archive:{env / 'waste.tar'}", "--ci")
    assert r.exit_code == 1
    assert (
        "  FAIL: max-wasted-percent: too many bytes wasted relative to the image "
        "(84.75% > 10.00%; dive-compatible: 92.59%)\n"
    ) in r.output
    assert (
        "  FAIL: min-efficiency: image efficiency is too low (0.1525 < 0.9; "
        "dive-compatible: 0.1525)\n"
    ) in r.output
    assert "  SKIP: max-wasted-bytes: disabled" in r.output
    assert r.output.rstrip().endswith("Result: FAIL")


def test_ci_gate_passes_on_a_clean_image(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    r = run(f"docker-archive:{env / 'clean.tar'}")
    assert r.exit_code == 0, r.output
    assert "  PASS: min-efficiency: 1.0000 (limit 0.9)" in r.output
    assert r.output.rstrip().endswith("Result: PASS")


def test_dive_ci_file_is_read(env: Path) -> None:
    (env / ".dive-ci").write_text(
        "rules:\n  lowestEfficiency: 0.1\n  highestWastedBytes: 2KB\n"
        "  highestUserWastedPercent: disabled\n"
    )
    r = run(f"docker-archive:{env / 'waste.tar'}", "--ci")
    assert r.exit_code == 0, r.output
    assert "  PASS: max-wasted-bytes: 1000 (limit 2000)" in r.output
    assert "  SKIP: max-wasted-percent: disabled" in r.output


def test_flags_override_the_config_and_reports_are_written(env: Path) -> None:
    (env / ".deadweight.yaml").write_text(
        "rules:\n  min-efficiency: 0.1\n  max-wasted-percent: off\n"
    )
    r = run(
        f"docker-archive:{env / 'waste.tar'}",
        "--ci",
        "--max-wasted-bytes",
        "999",
        "--max-layers",
        "3",
        "--junit",
        "out/junit.xml",
        "--json-report",
        "out/report.json",
    )
    assert r.exit_code == 1  # out/ does not exist yet
    (env / "out").mkdir()
    r = run(
        f"docker-archive:{env / 'waste.tar'}",
        "--ci",
        "--max-wasted-bytes",
        "999",
        "--max-layers",
        "3",
        "--junit",
        "out/junit.xml",
        "--json-report",
        "out/report.json",
    )
    assert r.exit_code == 1
    assert "  FAIL: max-wasted-bytes: too many bytes wasted (1000 > 999;" in r.output
    doc = json.loads((env / "out/report.json").read_text())
    assert doc["ci"]["passed"] is False
    assert [(x["rule"], x["status"]) for x in doc["ci"]["rules"]] == [
        ("max-size", "SKIP"),
        ("max-wasted-bytes", "FAIL"),
        ("max-wasted-percent", "SKIP"),
        ("min-efficiency", "PASS"),
        ("max-layers", "PASS"),
    ]
    suite = ElementTree.parse(env / "out/junit.xml").getroot()[0]
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("5", "1", "2")
    assert [c.get("name") for c in suite if c.find("failure") is not None] == ["max-wasted-bytes"]


def test_exclude_base_by_count_and_by_image(env: Path) -> None:
    by_count = json.loads(
        run(f"docker-archive:{env / 'waste.tar'}", "--format", "json", "--exclude-base", "1").output
    )
    by_image = json.loads(
        run(
            f"docker-archive:{env / 'waste.tar'}",
            "--format",
            "json",
            "--exclude-base",
            f"docker-archive:{env / 'base.tar'}",
        ).output
    )
    assert by_count == by_image
    assert (by_count["baseLayers"], by_count["scopeSize"]) == (1, 1080)
    r = run(
        f"docker-archive:{env / 'waste.tar'}",
        "--exclude-base",
        f"docker-archive:{env / 'clean.tar'}",
    )
    assert isinstance(r.exception, UsageError)
    assert str(r.exception).endswith("its layers are not the bottom layers of the image")


def test_ignore_globs(env: Path) -> None:
    doc = json.loads(
        run(
            f"docker-archive:{env / 'waste.tar'}", "--format", "json", "--ignore", "/big.bin"
        ).output
    )
    assert doc["waste"]["reclaimable"] == 0 and doc["ignore"] == ["/big.bin"]


def test_bad_rule_values_are_usage_errors(env: Path) -> None:
    r = run(f"docker-archive:{env / 'waste.tar'}", "--min-efficiency", "2")
    assert isinstance(r.exception, UsageError)
    assert str(r.exception) == "min-efficiency value is outside the allowed range (0-1): '2'"


def test_local_layers_are_read_by_helper_processes(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a machine with two CPUs, an archive's layers go to helper processes; the report
    is the one an in-process read gives."""
    from deadweight.reading import _helper_link as helper_link
    from deadweight.reading import _pool as readers

    readers.shutdown()
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    sent: list[str] = []
    real = helper_link.Helper.run

    def counting(
        self: helper_link.Helper,
        job: dict[str, object],
        fd: int,
        hasher: object = None,
        **kw: Any,
    ) -> object:
        sent.append(str(job["diff_id"]))
        return real(self, job, fd, hasher, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(helper_link.Helper, "run", counting)
    spec = f"docker-archive:{env / 'waste.tar'}"
    r = run(spec, "--format", "json", "--no-cache")
    assert r.exit_code == 0, r.output
    assert len(sent) == 3  # every layer, each once
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    alone = run(spec, "--format", "json", "--no-cache")
    assert len(sent) == 3  # one CPU: read in this process
    assert json.loads(alone.output) == json.loads(r.output)


def test_through_the_cli_the_layers_read_ahead_and_the_image_opened_ahead_are_taken(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``deadweight analyze IMAGE`` starts reading before its imports: the command takes
    the image opened then (opened once) and what was read (each layer sent once); an
    image opened ahead that the command never took is not what the next command sees."""
    import deadweight.sources
    from deadweight.cli import _context
    from deadweight.cli._group import cli
    from deadweight.reading import _helper_link as helper_link
    from deadweight.reading import _pool as readers

    readers.shutdown()
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    sent: list[str] = []
    real = helper_link.Helper.run

    def counting(
        self: helper_link.Helper, job: dict[str, object], fd: int, hasher: object = None, **kw: Any
    ) -> object:
        sent.append(str(job["diff_id"]))
        return real(self, job, fd, hasher, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(helper_link.Helper, "run", counting)
    opened: list[str] = []
    real_open = getattr(_context, "open_image")  # noqa: B009 - the name the CLI calls

    def open_image(spec: Any, **kw: Any) -> Any:
        opened.append(str(spec))
        return real_open(spec, **kw)

    monkeypatch.setattr(_context, "open_image", open_image)
    monkeypatch.setattr(deadweight.sources, "open_image", open_image)  # read ahead
    spec = str(env / "waste.tar")
    r = CliRunner().invoke(cli, ["analyze", "--format", "json", "--no-cache", spec])
    assert r.exit_code == 0, r.output
    assert len(opened) == 1 and len(sent) == 3  # the image once, every layer once
    assert json.loads(r.output) == json.loads(run(spec, "--format", "json").output)
    # opened ahead, then the command fails on its options: the next one opens afresh
    bad = CliRunner().invoke(cli, ["analyze", "--no-cache", "--min-efficiency", "2", spec])
    assert isinstance(bad.exception, UsageError)
    archive.write([static.image(CLEAN, repo_tags=("waste:1",))], env / "waste.tar")
    now = CliRunner().invoke(cli, ["history", "--no-trunc", spec])
    assert now.exit_code == 0, now.output
    assert "COPY app /app" in now.output and "RUN rm /big.bin" not in now.output
    readers.shutdown()
