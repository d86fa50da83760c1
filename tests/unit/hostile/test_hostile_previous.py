"""``scan --previous FILE``: a previous report is read back, so it is input like any other
(the second campaign after issue 16). A file that is no report is a usage error (exit 2)
naming it, said before the scan starts; never an internal error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deadweight.errors import UsageError
from deadweight.fleet.tally import SCHEMA_VERSION
from deadweight.render.fleet import KIND, read_previous


def report(**images: object) -> dict[str, object]:
    return {
        "kind": KIND,
        "schemaVersion": SCHEMA_VERSION,
        "fleet": {"totalBytes": 10, "uniqueBytes": 10, "reclaimable": 1},
        "images": [{"name": "a", "size": 10, "reclaimable": 1, **images}],
    }


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper"),  # was RecursionError
        (json.dumps(report()).replace('"size": 10', '"size": 1e999').encode(), "range"),
        (json.dumps(report()).replace('"totalBytes": 10', '"totalBytes": 1e999').encode(), ""),
        (b'{"kind": "\xff"}', "not a deadweight fleet report"),  # not UTF-8
        (json.dumps(report(size="9" * 5000)).encode(), "digits"),
        (json.dumps(report(size=[1])).encode(), ""),
        (json.dumps({**report(), "images": [[1]]}).encode(), ""),
        (json.dumps({**report(), "images": ["a"]}).encode(), ""),
        (json.dumps({**report(), "fleet": []}).encode(), ""),
        (b"", ""),
    ],
)
def test_a_previous_report_that_is_hostile_is_a_usage_error(raw: bytes, says: str) -> None:
    with pytest.raises(UsageError, match=f"--previous old.json: .*{says}"):
        read_previous(raw, "old.json")


def test_a_bad_previous_report_is_refused_before_the_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from deadweight.cli import scan as scan_cli
    from deadweight.cli._group import cli

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the scan ran")

    monkeypatch.setattr(scan_cli, "run_scan", never)
    old = tmp_path / "old.json"
    old.write_bytes(b"[" * 5000)
    result = CliRunner().invoke(cli, ["scan", "--previous", str(old), "docker-archive:x"])
    assert isinstance(result.exception, UsageError)  # exit 2 (cli._errors)
    assert "nested deeper than 128 levels" in result.exception.message
