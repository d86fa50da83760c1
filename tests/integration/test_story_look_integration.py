"""The HTML report and the explorer on every image the session's fixtures build: the two
images ``images_fixtures`` builds (BuildKit and the classic builder), the busybox base of
``engine_fixtures`` and the story's Node backend and Python app (``story_fixtures``; hundreds
of MB and tens of thousands of files each, their Debian, Python and Node bases as their
bottom layers). For each: ``analyze --html`` stays small and opens in the session's one
chromium without a console error, naming the image, its directories and its instructions;
the explorer (headless, 80x24, on the layers the report's run left in the layer store)
shows the image's name and directories, and jumps to the largest file."""

from __future__ import annotations

import asyncio
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from engine_fixtures import BASE_TAG, DockerEngine
from images_fixtures import BuiltImage, deadweight_command
from story_fixtures import Story
from test_html_integration import cells, console_errors, open_report
from textual.widgets import Tree

from deadweight.analysis.analyze import analyze_deltas
from deadweight.analysis.instructions import layer_instructions
from deadweight.cli._options import deltas_of
from deadweight.sources import open_image

pytestmark = pytest.mark.integration
MiB = 1 << 20


@dataclass(frozen=True)
class Looked:
    """One image, and what its report and the explorer must name."""

    key: str
    archive: Path  # a docker save of it
    name: str  # the name the report and the explorer give it
    dirs: tuple[str, ...]  # top-level directories of its final file system
    said: str  # words of one of its instructions, as its Dockerfile wrote them
    big: bool = False  # a story image: hundreds of packages, thousands of directories


@pytest.fixture(scope="module")
def every_image(
    built_images: dict[str, BuiltImage],
    docker_engine: DockerEngine,
    busybox_base: str,
    story: Story,
    tmp_path_factory: pytest.TempPathFactory,
) -> list[Looked]:
    work = tmp_path_factory.mktemp("look")
    saved: dict[str, Path] = {}
    for key, tag in (("bk", built_images["bk"].name), ("classic", built_images["classic"].name),
                     ("busybox", busybox_base)):  # fmt: skip
        saved[key] = work / f"{key}.tar"
        docker_engine.docker("save", "-o", str(saved[key]), tag)
    fixture = ("bin", "etc", "srv")
    return [
        Looked("bk", saved["bk"], built_images["bk"].name, fixture, "doomed.txt"),
        Looked("classic", saved["classic"], built_images["classic"].name, fixture, "doomed.txt"),
        Looked("busybox", saved["busybox"], BASE_TAG, ("bin",), "ADD file:"),  # classic builder
        Looked("node", story.node.saved, story.node.tag, ("app", "root", "usr"),
               "npm install --offline", big=True),
        Looked("python", story.python.saved, story.python.tag, ("app", "usr"),
               "pip install --break-system-packages", big=True),
    ]  # fmt: skip


def _report(image: Looked, browser: Any, work: Path) -> None:
    from selenium.webdriver.common.by import By

    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["DEADWEIGHT_CACHE_DIR"] = str(work / "cache")
    report = work / f"{image.key}.html"
    proc = subprocess.run(
        [*deadweight_command(), "analyze", f"docker-archive:{image.archive}", "--html",
         str(report)], env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert report.stat().st_size < 5 * MiB
    open_report(browser, report)
    assert console_errors(browser) == [], image.key
    assert browser.find_element(By.TAG_NAME, "h1").text == image.name
    ids = browser.execute_script(
        "var out = []; window.dwReport.charts.treemap.getModel().getSeriesByIndex(0)"
        ".getData().tree.eachNode(function (n) { out.push(n.getModel().get('id')); });"
        "return out;"
    )
    assert set(image.dirs) <= set(ids), (image.key, sorted(ids)[:40])
    # a bar group per layer, labelled with the instruction the layers table gives in full
    option = browser.execute_script("return window.dwReport.charts.layers.getOption()")
    labels = option["yAxis"][0]["data"]
    rows = cells(browser, "layers-table")
    assert any(image.said in row[1] for row in rows), (image.key, rows)
    layers = browser.find_element(By.CSS_SELECTOR, '[data-figure="layers"] .value').text
    assert len(labels) == int(layers) == len(rows), image.key
    for label, row in zip(labels, rows, strict=True):
        head, _, said = label.partition(" ")
        assert head == f"#{row[0]}" and " ".join(row[1].split()).startswith(said.rstrip("…"))
    assert all(len(s["data"]) == len(labels) for s in option["series"])
    if image.big:
        assert len(ids) > 100
        rows = browser.execute_script(
            "return document.querySelectorAll('#packages-table tbody tr').length"
        )
        assert rows > 10  # dpkg and npm or Python packages, read from the image


def _explore(image: Looked, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from deadweight.tui.app import ExplorerApp
    from deadweight.tui.model import Explorer

    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(work / "cache"))  # what the report read
    img = open_image(f"docker-archive:{image.archive}")
    deltas = deltas_of(img, False)
    said = layer_instructions(img)
    analysis = analyze_deltas(deltas, instructions=said)

    async def drive() -> tuple[str, list[str], str | None, str]:
        app = ExplorerApp(Explorer(deltas, None, said), name=image.name,
                          analyze=lambda: analysis)  # fmt: skip
        async with app.run_test(size=(80, 24)) as pilot:
            while app.view_ is None or app.explorer.analysis is None:
                await pilot.pause(0.05)
            await app.workers.wait_for_complete()
            await pilot.pause()
            title = str(app.query_one("#title").render())
            top = [str(n.label) for n in app.query_one("#files", Tree).root.children]
            await pilot.press("L")
            await pilot.pause(0.2)
            return title, top, app.selected_path(), str(app.query_one("#details").render())

    title, top, path, pane = asyncio.run(drive())
    assert image.name in title
    for d in image.dirs:
        assert any(label.endswith(f" {d}/") for label in top), (image.key, top)
    assert path is not None and f"/{path}" in pane, image.key
    largest = analysis.largest_files[0]
    assert f"({largest.bytes} B)" in pane, (image.key, largest, pane)


def test_every_image_in_the_report_and_the_explorer(
    every_image: list[Looked], browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for image in every_image:
        work = tmp_path / image.key
        work.mkdir()
        _report(image, browser, work)
        _explore(image, work, monkeypatch)
