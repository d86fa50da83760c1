"""``minify --html``: the page holds the sizes, what each package and directory lost, why
the rest stays, and the verification state (here ``--static``: nothing run)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from html_page import Page

from deadweight.cli.minify import minify
from deadweight.errors import UsageError

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from minify_app import app_folder


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return app_folder(tmp_path, monkeypatch)


def test_static_minify_report(env: Path) -> None:
    r = CliRunner().invoke(minify, ["app.tar", "-o", "out.tar", "--static", "--html", "m.html"])
    assert r.exit_code == 0, r.output
    html = (env / "m.html").read_text(encoding="utf-8")
    p = Page(html)
    assert p.fetches == []
    doc = p.data
    assert doc["kind"] == "minify" and doc["before"] > doc["after"] > 0
    assert doc["dirs"] == [{"path": "/opt", "delta": -5000}, {"path": "/app", "delta": -300}]
    assert p.rows("removed-table")[:2] == [["/opt/junk.bin", "5kB", ""],
                                           ["/app/notes.txt", "300B", ""]]  # fmt: skip
    assert p.rows("dirs-table") == [["/opt", "5kB"], ["/app", "300B"]]
    assert "Not verified" in html and 'data-figure="verification"' in html
    assert "Wrote docker-archive:" in html
    assert p.rows("kept-table") == [["entrypoint", "2"], ["essential", "1"], ["structure", "3"]]


def test_minify_report_path_is_checked_first(env: Path) -> None:
    r = CliRunner().invoke(minify, ["app.tar", "--dry-run", "--static", "--html", "no/m.html"])
    assert isinstance(r.exception, UsageError) and "--html no/m.html" in str(r.exception)
