"""``diff --html`` and ``optimize --html``: self-contained pages holding the comparison's
and the optimization's names and numbers, written by the real commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from html_page import Page

from deadweight import static as S
from deadweight.cli.diff import diff
from deadweight.cli.optimize import optimize
from deadweight.compare import compare
from deadweight.errors import UsageError
from deadweight.optimize import Check, Report, Run, Verification, plan
from deadweight.render.html import diff_html, optimize_html
from deadweight.sources import archive

BASE = S.Step("ADD rootfs.tar /", S.layer([S.File("etc/os-release", b"base\n")]))
A_STEPS = [
    BASE,
    S.Step('CMD ["sh"]'),
    S.Step(
        "RUN apt-get update && install",
        S.layer(
            [
                S.File("var/lib/apt/lists/deb_Packages", b"p" * 3000),
                S.File("usr/bin/tool", b"t" * 700),
                S.File("tmp/x.log", b"l" * 400),
            ]
        ),
    ),
]
B_STEPS = [
    BASE,
    S.Step('CMD ["sh"]'),
    S.Step(
        "RUN apt-get install",
        S.layer([S.File("usr/bin/tool", b"T" * 900), S.File("usr/lib/libnew.so", b"n" * 5000)]),
    ),
]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    archive.write([S.image(A_STEPS, repo_tags=("app:1",))], tmp_path / "a.tar")
    archive.write([S.image(B_STEPS, repo_tags=("app:2",))], tmp_path / "b.tar")
    return tmp_path


def test_diff_report(env: Path) -> None:
    r = CliRunner().invoke(diff, ["a.tar", "b.tar", "--html", "d.html"])
    assert r.exit_code == 0, r.output
    p = Page((env / "d.html").read_text(encoding="utf-8"))
    assert p.fetches == []
    doc = p.data
    assert doc["kind"] == "diff" and (doc["a"], doc["b"]) == ("app:1", "app:2")
    assert doc["steps"] == [
        {"label": "RUN apt-get update && install → RUN apt-get install", "a": 4100, "b": 5900}
    ]
    dirs = {d["path"]: d["delta"] for d in doc["dirs"]}
    assert dirs["/usr/lib/"] == 5000 and dirs["/var/lib/apt/lists/"] == -3000
    assert doc["dirs"][0]["path"] == "/usr/"  # grew most: 5000 + 200
    files = {row[1]: row for row in p.rows("files-table")}
    assert files["/usr/lib/libnew.so"][:3] == ["added", "/usr/lib/libnew.so", "+5kB"]
    assert files["/var/lib/apt/lists/deb_Packages"][2] == "-3kB"
    assert files["/usr/bin/tool"][3] == "size, content"
    assert p.rows("steps-table")[-1] == [
        "changed", "RUN apt-get update && install", "RUN apt-get install", "4.1kB", "5.9kB",
        "+1.8kB",
    ]  # fmt: skip


def test_diff_report_path_is_checked_first(env: Path) -> None:
    r = CliRunner().invoke(diff, ["nope-a.tar", "nope-b.tar", "--html", "no/d.html"])
    assert isinstance(r.exception, UsageError) and "--html no/d.html" in str(r.exception)


def test_optimize_report_with_a_dry_run(env: Path) -> None:
    r = CliRunner().invoke(optimize, ["a.tar", "--dry-run", "--html", "o.html"])
    assert r.exit_code == 0, r.output
    p = Page((env / "o.html").read_text(encoding="utf-8"))
    assert p.fetches == []
    doc = p.data
    assert (doc["kind"], doc["before"], doc["after"]) == ("optimize", 4105, 705)
    saved = {s["label"]: s["bytes"] for s in doc["savings"]}
    assert saved == {"squash": 0, "apt-cache": 3000, "temp": 400}
    removed = p.rows("removed-table")
    assert removed[0] == ["apt-cache", "/var/lib/apt/lists", "3kB", "1"]
    assert "Dry run" in (env / "o.html").read_text()
    assert "Not verified" in (env / "o.html").read_text()


def test_optimize_report_shows_each_verification_run() -> None:
    image = S.image(A_STEPS, repo_tags=("app:1",))
    p = plan(image)
    checks = (
        Check("starts", "(the image's command)", Run(True), Run(True), True),
        Check("http", "http://127.0.0.1:8080/", Run(True, status=200), Run(True, status=500),
              False, "HTTP 200 became 500"),
    )  # fmt: skip
    report = Report(
        "app:1", p, (5, 4100), (5, 700), image_id="sha256:x", destination="oci:out",
        written=False, verification=Verification(checks),
    )  # fmt: skip
    page = Page(optimize_html(report))
    assert page.rows("verification-table") == [
        ["ok", "starts (the image's command)", "running", "running", ""],
        ["FAIL", "http http://127.0.0.1:8080/", "HTTP 200", "HTTP 500", "HTTP 200 became 500"],
    ]
    assert 'data-figure="verification"' in optimize_html(report)


def test_identical_images_give_an_empty_but_valid_diff_page() -> None:
    image = S.image(A_STEPS, repo_tags=("app:1",))
    page = Page(diff_html(compare(image, image)))
    assert page.rows("files-table") == [["no file differs"]]
    assert page.data["dirs"] == []
