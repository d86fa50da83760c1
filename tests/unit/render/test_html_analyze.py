"""``analyze --html``: one self-contained page whose figures, tables and chart data are the
analysis's, in exact bytes; written atomically; a path that cannot be written fails first."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from html_page import Page, walk

from deadweight import static
from deadweight.analysis.analyze import analyze_deltas
from deadweight.analysis.bytemap import byte_map
from deadweight.cli.analyze import analyze
from deadweight.errors import UsageError
from deadweight.filetree import read_delta
from deadweight.render.html import analyze_html
from deadweight.render.html.analyze import BAR_LAYERS
from deadweight.render.html.page import embed, page
from deadweight.sources import archive

STEPS = [
    static.Step("FROM base", static.layer([static.File("etc/os-release", b"o" * 100)], "gzip")),
    static.Step(
        "RUN fetch && build",
        static.layer(
            [
                static.File("big.bin", b"1" * 1000),
                static.File("var/lib/apt/lists/deb_Packages", b"p" * 400),
                static.File("app/<script>.js", b"s" * 50),
            ]
        ),
    ),
    static.Step("RUN rm /big.bin", static.layer([static.Whiteout("big.bin")])),
]


@pytest.fixture
def image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CI", raising=False)
    archive.write([static.image(STEPS, repo_tags=("waste:1",))], tmp_path / "waste.tar")
    return f"docker-archive:{tmp_path / 'waste.tar'}"


def run(*args: str) -> Result:
    return CliRunner().invoke(analyze, list(args))


def test_the_report_holds_the_analysis(image: str, tmp_path: Path) -> None:
    r = run(image, "--html", "report.html")
    assert r.exit_code == 0, r.output
    assert "reclaimable" in r.output  # the text report is still printed
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    p = Page(html)
    assert p.fetches == []  # nothing fetched at view time
    assert [a.get("id") for a, _ in p.scripts] == ["dw-data", None, None]
    assert "echarts" in p.scripts[1][1][:2000].lower()  # the library, inline
    assert p.rows("waste-table") == [
        ["/big.bin", "1kB", "deleted in a later layer", "#1 RUN fetch && build",
         "#2 RUN rm /big.bin"],
    ]  # fmt: skip
    assert p.rows("layers-table") == [
        ["0", "FROM base", "100B", "100B (1)", "-", "-", "0B"],
        ["1", "RUN fetch && build", "1.45kB", "1.45kB (3)", "-", "-", "1kB"],
        ["2", "RUN rm /big.bin", "0B", "-", "-", "1kB (1)", "0B"],
    ]
    assert ["apt-cache", "/var/lib/apt/lists", "400B", "1", "1"] in p.rows("bloat-table")
    assert any(row[0] == "1kB" for row in p.rows("recommendations-table"))
    doc = p.data
    assert doc["kind"] == "analyze"
    assert [(x["label"], x["size"], x["wasted"], x["base"]) for x in doc["layers"]] == [
        ("#0 FROM base", 100, 0, False),  # the history cannot tell the base: none
        ("#1 RUN fetch && build", 1450, 1000, False),
        ("#2 RUN rm /big.bin", 0, 0, False),
    ]
    # each layer's bar group: bytes added, modified, deleted, wasted
    assert [(x["added"], x["modified"], x["deleted"], x["wasted"]) for x in doc["layers"]] == [
        (100, 0, 0, 0), (1450, 0, 0, 1000), (0, 0, 1000, 0)
    ]  # fmt: skip
    nodes = {n["id"]: n for n in walk(doc["map"])}
    assert nodes[""]["value"] == 100 + 400 + 50 + 1000
    assert (nodes["big.bin (hidden)"]["kind"], nodes["big.bin (hidden)"]["value"]) == (
        "waste",
        1000,
    )
    assert nodes["var/lib/apt/lists/deb_Packages"]["kind"] == "apt-cache"
    assert nodes["app/<script>.js"]["value"] == 50
    assert "<script>.js" not in html  # escaped in the data and the tables alike
    assert doc["colors"]["waste"]


def test_unwritable_report_path_fails_before_the_image_is_read(tmp_path: Path) -> None:
    missing = f"docker-archive:{tmp_path / 'no-such.tar'}"
    for path, words in (
        (str(tmp_path / "nodir" / "r.html"), "no such directory"),
        (str(tmp_path), "is a directory"),
    ):
        r = run(missing, "--html", path)
        assert isinstance(r.exception, UsageError), r.output  # exit 2 through cli._errors
        assert words in str(r.exception) and "no-such.tar" not in str(r.exception)
    if os.geteuid() != 0:  # root writes anywhere; a read-only folder is tried, not guessed
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        r = run(missing, "--html", str(ro / "r.html"))
        assert isinstance(r.exception, UsageError) and "cannot write" in str(r.exception)


def test_a_failed_write_leaves_the_old_report(image: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    (tmp_path / "report.html").write_text("old")

    def broken(*_: object) -> str:
        raise RuntimeError("renderer failed")

    monkeypatch.setattr("deadweight.render.html.analyze_html", broken)
    r = run(image, "--html", "report.html")
    assert r.exit_code != 0
    assert (tmp_path / "report.html").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "report.html", "waste.tar"]


def test_embedded_data_cannot_end_its_script() -> None:
    text = embed({"name": "</script><script>alert(1)</script><!--\u2028&"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    html = page(title="t <b>", subtitle="s", body="", data={"kind": "none", "x": "</script>"})
    assert "<title>t &lt;b&gt;</title>" in html
    assert Page(html).data["x"] == "</script>"


def test_an_image_of_many_layers_draws_those_that_changed_most() -> None:
    count = BAR_LAYERS + 50  # layer i writes i + 1 bytes
    deltas = [
        read_delta(io.BytesIO(static.tar_bytes([static.File(f"f{i}", b"x" * (i + 1))])))
        for i in range(count)
    ]
    a = analyze_deltas(deltas, instructions=[f"RUN step {i}" for i in range(count)])
    html = analyze_html(a, byte_map(deltas, waste=a.waste))
    p = Page(html)
    drawn = [x["label"] for x in p.data["layers"]]
    assert drawn == [f"#{i} RUN step {i}" for i in range(50, count)]  # the largest, in order
    assert len(p.rows("layers-table")) == count  # the table lists every layer
    assert f"draws the {BAR_LAYERS} layers that changed the most bytes; the other 50" in html
