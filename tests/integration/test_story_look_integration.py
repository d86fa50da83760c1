"""The HTML report and the explorer on the story's images (a Node backend and a Python app
on locally made Debian bases, hundreds of MB and tens of thousands of files each): the
report stays small and opens without a console error; the explorer's first screen and the
jump to the largest file work on them."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import browser
from images_fixtures import deadweight_command
from story_fixtures import Story, StoryApp
from test_html_integration import console_errors, open_report

from deadweight.analysis import packages as pkgs
from deadweight.analysis.analyze import analyze_deltas
from deadweight.analysis.instructions import layer_instructions
from deadweight.reading import read_deltas
from deadweight.sources import open_image

pytestmark = pytest.mark.integration
__all__ = ["browser"]
MiB = 1 << 20


def _apps(story: Story) -> list[StoryApp]:
    return [story.node, story.python]


def test_story_reports_open_in_the_browser(story: Story, browser: Any, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["DEADWEIGHT_CACHE_DIR"] = str(tmp_path / "cache")
    for app in _apps(story):
        report = tmp_path / f"{app.name}.html"
        proc = subprocess.run(
            [*deadweight_command(), "analyze", f"docker-archive:{app.saved}", "--html",
             str(report)], env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert report.stat().st_size < 5 * MiB
        open_report(browser, report)
        assert console_errors(browser) == []
        ids = browser.execute_script(
            "var out = []; window.dwReport.charts.treemap.getModel().getSeriesByIndex(0)"
            ".getData().tree.eachNode(function (n) { out.push(n.getModel().get('id')); });"
            "return out;"
        )
        assert "usr" in ids and len(ids) > 100
        rows = browser.execute_script(
            "return document.querySelectorAll('#packages-table tbody tr').length"
        )
        assert rows > 10  # dpkg and npm or Python packages, read from the image


def test_story_images_in_the_explorer(story: Story) -> None:
    pytest.importorskip("textual")
    from deadweight.tui.app import ExplorerApp
    from deadweight.tui.model import Explorer

    for app_ in _apps(story):
        image = open_image(f"docker-archive:{app_.saved}")
        deltas = read_deltas(image, capture=pkgs.capture)
        analysis = analyze_deltas(deltas, instructions=layer_instructions(image))

        async def drive(explorer: Explorer, name: str) -> tuple[str | None, str]:
            app = ExplorerApp(explorer, name=name)
            async with app.run_test(size=(80, 24)) as pilot:
                while app.view_ is None:
                    await pilot.pause(0.05)
                await app.workers.wait_for_complete()
                await pilot.press("L")
                await pilot.pause(0.2)
                return app.selected_path(), str(app.query_one("#details").render())

        path, pane = asyncio.run(drive(Explorer(deltas, analysis), app_.tag))
        assert path is not None and f"/{path}" in pane
        largest = max(
            (n for n in Explorer(deltas, analysis).view(len(deltas) - 1).nodes.values()
             if n.kind in ("file", "hardlink")),
            key=lambda n: (n.size, n.path),
        )  # fmt: skip
        assert path == largest.path
