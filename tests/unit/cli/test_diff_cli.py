"""``deadweight diff A B``: the report, JSON, the budget gate, --file, one-line errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import pytest

from deadweight import static
from deadweight.cli._errors import run
from deadweight.cli.diff import diff
from deadweight.sources import archive

BASE = static.layer(
    [
        static.Dir("etc"),
        static.File("etc/motd", b"hello\nworld\n"),
        static.File("bin/sh", b"s" * 900),
    ]
)
STATUS = "Package: {n}\nStatus: install ok installed\nVersion: {v}\nInstalled-Size: {k}\n\n"


def image(version: str, kib: int, motd: bytes, extra: bytes, **fields: object) -> static.Image:  # type: ignore[name-defined]
    status = STATUS.format(n="tool", v=version, k=kib).encode()
    steps = [
        static.Step("/bin/sh -c #(nop) ADD file:base in /", BASE),
        static.Step('/bin/sh -c #(nop)  CMD ["/bin/sh"]'),
        static.Step(
            "RUN /bin/sh -c apt-get install tool # buildkit",
            static.layer(
                [static.File("var/lib/dpkg/status", status), static.File("etc/motd", motd)]
            ),
            comment="buildkit.dockerfile.v0",
        ),
        static.Step(
            "COPY app /app # buildkit",
            static.layer([static.File("app/main", extra)]),
            comment="buildkit.dockerfile.v0",
        ),
    ]
    return static.image(steps, **fields)  # type: ignore[arg-type]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(tmp_path / "cache"))
    old = image("1.0", 10, b"hello\nworld\n", b"m" * 1000)
    new = image("1.1", 12, b"hello\nthere\nworld\n", b"M" * 1500)
    arm = image("1.0", 10, b"hello\nworld\n", b"m" * 1000, architecture="arm64")
    archive.write([old], tmp_path / "old.tar")
    archive.write([new], tmp_path / "new.tar")
    archive.write([arm], tmp_path / "arm.tar")
    return tmp_path


def dw(capsysbinary: pytest.CaptureFixture[bytes], *args: str) -> tuple[int, str, str]:
    group = click.Group("deadweight", commands={"diff": diff})
    argv = sys.argv
    sys.argv = ["deadweight", *args]
    try:
        with pytest.raises(SystemExit) as exit_:
            run(group)
    finally:
        sys.argv = argv
    out = capsysbinary.readouterr()
    code = exit_.value.code
    assert isinstance(code, int)
    return code, out.out.decode(), out.err.decode()


def test_text_report_summary_first(env: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, err = dw(capsysbinary, "diff", "old.tar", "new.tar")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:5] == [
        "docker-archive:old.tar -> docker-archive:new.tar     2kB -> 2.51kB  (+506B, +25.3%)",
        f"  base image      same: 1 layer {BASE.diff_id[7:19]} (912B)",
        "  shared layers   1 (912B), identical",
        f"  rebuilt step    {'RUN apt-get install tool':<56} +6B",
        f"  rebuilt step    {'COPY app /app':<56} +500B",
    ]
    assert "Files: 0 added, 0 removed, 3 modified" in lines
    assert "        +6B  ~ /etc/motd  [size, content]" in lines
    assert "    +2.05kB  ~ dpkg   tool 1.0 -> 1.1" in lines


def test_json_document(env: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = dw(capsysbinary, "diff", "old.tar", "new.tar", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert list(doc) == [
        "schemaVersion", "a", "b", "delta", "percent", "identical", "sizesKnown", "shared",
        "base", "steps", "files", "directories", "packages", "config", "assumedAbsentInBase",
        "unresolved",
    ]  # fmt: skip
    assert (doc["schemaVersion"], doc["delta"], doc["a"]["size"], doc["b"]["size"]) == (
        1, 506, 2000, 2506
    )  # fmt: skip
    assert [(f["path"], f["status"], f["delta"], f["changed"]) for f in doc["files"]] == [
        ("/app/main", "modified", 500, ["size", "content"]),
        ("/etc/motd", "modified", 6, ["size", "content"]),
        ("/var/lib/dpkg/status", "modified", 0, ["content"]),
    ]
    assert doc["files"][1]["a"]["mode"] == "0644"
    assert doc["packages"] == [
        {
            "ecosystem": "dpkg",
            "name": "tool",
            "status": "changed",
            "a": {"version": "1.0", "bytes": 10240},
            "b": {"version": "1.1", "bytes": 12288},
            "delta": 2048,
            "path": "/var/lib/dpkg/status",
        }
    ]
    assert doc["shared"] == {"layers": 1, "size": 912, "indexKnown": False}
    assert doc["config"] == [] and "budget" not in doc


def test_budget_gate(env: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = dw(capsysbinary, "diff", "old.tar", "new.tar", "--max-growth", "25%")
    assert code == 1
    assert out.endswith("Budget:\n  FAIL: max-growth: +25.30% (limit 25%)\n")
    code, out, _ = dw(capsysbinary, "diff", "old.tar", "new.tar", "--max-growth", "26")
    assert code == 0 and "PASS: max-growth: +25.30% (limit 26%)" in out
    code, out, _ = dw(
        capsysbinary,
        "diff",
        "old.tar",
        "new.tar",
        "--max-growth-bytes",
        "0.5kB",
        "--format",
        "json",
    )
    assert code == 1
    assert json.loads(out)["budget"] == {
        "passed": False,
        "checks": [{"rule": "max-growth-bytes", "limit": "500", "actual": "+506", "passed": False}],
    }
    code, _, _ = dw(capsysbinary, "diff", "new.tar", "old.tar", "--max-growth-bytes", "0")
    assert code == 0  # shrinking passes
    code, _, err = dw(capsysbinary, "diff", "old.tar", "new.tar", "--max-growth", "lots")
    assert code == 2
    assert err == (
        "deadweight: error: invalid --max-growth value 'lots' "
        "(expected a percentage like 10 or 2.5%)\n"
    )


def test_file_unified_diff(env: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = dw(capsysbinary, "diff", "old.tar", "new.tar", "--file", "/etc/motd")
    assert code == 0
    assert out == (
        "--- a/etc/motd\tdocker-archive:old.tar\n+++ b/etc/motd\tdocker-archive:new.tar\n"
        "@@ -1,2 +1,3 @@\n"
        " hello\n+there\n world\n"
    )
    code, out, _ = dw(capsysbinary, "diff", "old.tar", "old.tar", "--file", "etc/motd")
    assert (code, out) == (0, "")


def test_file_diff_of_large_images_looks_at_the_path_s_views_alone(
    env: Path, capsysbinary: pytest.CaptureFixture[bytes], request: pytest.FixtureRequest
) -> None:
    """Past ``partition.SIZE`` members, ``--file`` stacks only the path's range of each
    image (``partition.view``): the same diffs and errors (issue 16)."""
    asks = [("old.tar", "new.tar", "/etc/motd"), ("old.tar", "old.tar", "etc/motd"),
            ("old.tar", "new.tar", "/nope"), ("old.tar", "new.tar", "/etc")]  # fmt: skip
    whole = [dw(capsysbinary, "diff", a, b, "--file", p) for a, b, p in asks]
    made: list[str] = request.getfixturevalue("views_made")  # every image large from here
    assert [dw(capsysbinary, "diff", a, b, "--file", p) for a, b, p in asks] == whole
    assert made == ["etc/motd"] * 4 + ["nope"] * 2 + ["etc"] * 2


def test_errors_are_one_line(env: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, err = dw(capsysbinary, "diff", "old.tar", "new.tar", "--file", "/nope")
    assert (code, out, err) == (3, "", "deadweight: error: /nope: no such file in either image\n")
    code, _, err = dw(capsysbinary, "diff", "old.tar", "docker-archive:missing.tar")
    assert (code, err) == (3, "deadweight: error: missing.tar: no such file or directory\n")
    code, _, err = dw(capsysbinary, "diff", "old.tar", "arm.tar")
    assert code == 2
    assert err == (
        "deadweight: error: the images are for different platforms (linux/amd64 and "
        "linux/arm64); pick one with --platform, or pass --any-platform to compare them anyway\n"
    )
    code, out, _ = dw(capsysbinary, "diff", "old.tar", "arm.tar", "--any-platform")
    assert code == 0 and "  architecture             linux/amd64 -> linux/arm64" in out
    code, _, err = dw(capsysbinary, "diff", "old.tar", "new.tar", "--file", "/etc")
    assert (code, err) == (2, "deadweight: error: /etc: not a regular file (dir)\n")


def test_the_layer_store_is_filled_so_a_second_diff_reads_no_layer(
    env: Path, capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    from deadweight.reading import _deltas
    from deadweight.reading import _pool as readers

    code, first, _ = dw(capsysbinary, "diff", "old.tar", "new.tar", "--format", "json")
    assert code == 0

    def no_read(*_: object) -> None:
        raise AssertionError("a layer was read although the store holds it")

    monkeypatch.setattr(_deltas, "read_layer", no_read)  # in this process
    monkeypatch.setattr(readers.ReaderPool, "read", no_read)  # by a helper process
    code, second, _ = dw(capsysbinary, "diff", "old.tar", "new.tar", "--format", "json")
    assert (code, second) == (0, first)
