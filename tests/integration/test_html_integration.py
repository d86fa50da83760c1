"""The HTML reports in a real browser (Debian's chromium, headless): on images the real
engine built, each report opens without a console error, its chart and tables hold the
expected names and numbers, clicking a directory of the treemap zooms into it, and a
screenshot is kept as a test artifact."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import keep_screenshot
from engine_fixtures import DockerEngine
from images_fixtures import deadweight_command

pytestmark = pytest.mark.integration

MiB = 1 << 20
DOCKERFILE = """\
FROM {base}
RUN mkdir -p /opt/tool/lib /var/lib/apt/lists \
&& head -c 3000000 /dev/urandom > /opt/tool/lib/libtool.so \
&& head -c 400000 /dev/urandom > /opt/tool/lib/libextra.so \
&& head -c 300000 /dev/urandom > /var/lib/apt/lists/deb_Packages \
&& head -c 2000000 /dev/urandom > /tmp/build.tar
RUN rm /tmp/build.tar
COPY app/ /srv/app/
CMD ["/bin/sh"]
"""
APP = {"server.js": b"console.log('up')\n" * 5000, "data/blob.bin": os.urandom(700_000)}


@dataclass(frozen=True)
class Images:
    first: Path  # docker save of the first build
    second: Path  # the same Dockerfile with a bigger app and no apt lists
    work: Path


def _build(
    engine: DockerEngine, root: Path, name: str, dockerfile: str, app: dict[str, bytes]
) -> Path:
    context = root / f"ctx-{name}"
    for rel, data in app.items():
        (context / "app" / rel).parent.mkdir(parents=True, exist_ok=True)
        (context / "app" / rel).write_bytes(data)
    (context / "Dockerfile").write_text(dockerfile)
    tag = f"dw-html-{name}:latest"
    engine.build(context, tag, buildkit=True)
    out = root / f"{name}.tar"
    engine.docker("save", "-o", str(out), tag)
    return out


@pytest.fixture(scope="module")
def images(
    docker_engine: DockerEngine, busybox_base: str, tmp_path_factory: pytest.TempPathFactory
) -> Images:
    root = tmp_path_factory.mktemp("html")
    first = _build(docker_engine, root, "first", DOCKERFILE.format(base=busybox_base), APP)
    second_file = DOCKERFILE.format(base=busybox_base).replace(
        "&& head -c 300000 /dev/urandom > /var/lib/apt/lists/deb_Packages ", ""
    )
    bigger = {**APP, "data/more.bin": os.urandom(1_200_000)}
    second = _build(docker_engine, root, "second", second_file, bigger)
    return Images(first, second, root)


def deadweight(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["DEADWEIGHT_CACHE_DIR"] = str(cwd / "cache")
    return subprocess.run(
        [*deadweight_command(), *args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip


def open_report(driver: Any, path: Path) -> None:
    driver.get_log("browser")  # the session's one browser: what earlier pages logged is not ours
    driver.get(path.as_uri())
    for _ in range(100):
        if driver.execute_script("return document.body.getAttribute('data-ready')") == "1":
            return
        time.sleep(0.1)
    raise AssertionError(f"{path}: the report's script never finished")


def console_errors(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def cells(driver: Any, table: str) -> list[list[str]]:
    script = (
        "return Array.from(document.querySelectorAll('#' + arguments[0] + ' tbody tr'))"
        ".map(r => Array.from(r.cells).map(c => c.textContent));"
    )
    rows: list[list[str]] = driver.execute_script(script, table)
    return rows


def screenshot(driver: Any, name: str) -> Path:
    return keep_screenshot(driver, name)


def wait_for(check: Callable[[], Any], what: str) -> Any:
    for _ in range(50):
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_analyze_report_in_the_browser(images: Images, browser: Any) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    report = images.work / "analyze.html"
    proc = deadweight("analyze", f"docker-archive:{images.first}", "--html", str(report),
                      cwd=images.work)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert report.stat().st_size < 5 * MiB
    open_report(browser, report)
    assert console_errors(browser) == []

    figure = browser.find_element(By.CSS_SELECTOR, '[data-figure="reclaimable"] .value').text
    assert figure == "2MB"  # /tmp/build.tar, written then deleted
    waste = cells(browser, "waste-table")
    assert waste[0][:2] == ["/tmp/build.tar", "2MB"]
    assert "head -c 2000000" in waste[0][3] and waste[0][4].startswith("#")
    assert "RUN /bin/sh -c rm /tmp/build.tar" in waste[0][4]
    layers = cells(browser, "layers-table")
    assert any("COPY app/ /srv/app/" in row[1] for row in layers)
    assert cells(browser, "bloat-table")[0][:4] == ["apt-cache", "/var/lib/apt/lists", "300kB", "1"]

    # the chart: the library drew it, with our regions and colours
    names = browser.execute_script(
        "var out = []; window.dwReport.charts.treemap.getModel().getSeriesByIndex(0)"
        ".getData().tree.eachNode(function (n) { out.push(n.getModel().get('id')); });"
        "return out;"
    )
    assert {"opt", "opt/tool", "srv", "tmp/build.tar (hidden)"} <= set(names)
    # one bar group per layer, labelled with its instruction: bytes added, modified,
    # deleted and wasted (the Dockerfile above says how many)
    option = browser.execute_script("return window.dwReport.charts.layers.getOption()")
    bars = option["yAxis"][0]["data"]
    assert any("COPY app/ /srv/app/" in b for b in bars)
    assert [s["name"] for s in option["series"]] == [
        "added", "modified", "deleted (hidden from earlier layers)",
        "wasted (hidden by a later layer)",
    ]  # fmt: skip
    drawn = {
        label: [s["data"][n]["value"] for s in option["series"]] for n, label in enumerate(bars)
    }
    made, removed, copied = (
        next((values for label, values in drawn.items() if words in label), None)
        for words in ("mkdir -p /opt/tool/lib", "rm /tmp/build.tar", "COPY app/")
    )
    assert made == [3_000_000 + 400_000 + 300_000 + 2_000_000, 0, 0, 2_000_000]
    assert removed == [0, 0, 2_000_000, 0]
    assert copied == [len(APP["server.js"]) + len(APP["data/blob.bin"]), 0, 0, 0]
    assert drawn[bars[0]][0] > 0  # the base layer added the busybox files
    deleted = [row[5] for row in layers if "rm /tmp/build.tar" in row[1]]
    assert deleted == ["2MB (1)"]

    assert [lr["base"] for lr in browser.execute_script("return window.dwReport.data.layers")] == [
        True, False, False, False
    ]  # fmt: skip
    browser.execute_script("document.getElementById('layers-section').scrollIntoView()")
    screenshot(browser, "html-analyze-layers.png")
    browser.execute_script("window.scrollTo(0, 0)")
    screenshot(browser, "html-analyze.png")

    # clicking the band of /opt zooms the treemap into it
    assert browser.execute_script("return window.dwReport.treemapRoot") == "/"
    box = browser.execute_script("return window.dwReport.regionBox('opt')")
    chart = browser.find_element(By.ID, "treemap")
    browser.execute_script("arguments[0].scrollIntoView()", chart)
    dx = box["x"] + box["width"] / 2 - chart.size["width"] / 2
    dy = box["y"] + 9 - chart.size["height"] / 2  # its label band, not a child
    ActionChains(browser).move_to_element_with_offset(chart, int(dx), int(dy)).click().perform()
    wait_for(lambda: browser.find_element(By.ID, "treemap-root").text == "/opt", "zoom")
    assert browser.execute_script("return window.dwReport.treemapRoot") == "/opt"
    # drawn: /tmp has left the view, /opt/tool fills it
    box_of = "return window.dwReport.regionBox(arguments[0])"
    wait_for(lambda: browser.execute_script(box_of, "tmp") is None, "/tmp to leave the view")
    tool = wait_for(lambda: browser.execute_script(box_of, "opt/tool"), "/opt/tool")
    assert tool["width"] > 0.9 * chart.size["width"]
    assert console_errors(browser) == []
    screenshot(browser, "html-analyze-zoomed.png")


def test_diff_report_in_the_browser(images: Images, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    report = images.work / "diff.html"
    proc = deadweight("diff", f"docker-archive:{images.first}", f"docker-archive:{images.second}",
                      "--html", str(report), cwd=images.work)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    open_report(browser, report)
    assert console_errors(browser) == []
    delta = browser.find_element(By.CSS_SELECTOR, '[data-figure="delta"] .value').text
    assert delta.startswith("+900kB (+")  # 1.2 MB more data, 300 kB of apt lists fewer
    steps = browser.execute_script("return window.dwReport.charts.steps.getOption()")
    labels = steps["yAxis"][0]["data"]
    assert any("COPY app/ /srv/app/" in label for label in labels)
    assert [s["name"] for s in steps["series"]] == ["dw-html-first:latest", "dw-html-second:latest"]
    dirs = browser.execute_script("return window.dwReport.charts.dirs.getOption().yAxis[0].data")
    assert "/srv/app/data/" in dirs and "/var/lib/apt/lists/" in dirs
    files = {row[1]: row for row in cells(browser, "files-table")}
    assert files["/srv/app/data/more.bin"][:3] == ["added", "/srv/app/data/more.bin", "+1.2MB"]
    assert files["/var/lib/apt/lists/deb_Packages"][2] == "-300kB"
    screenshot(browser, "html-diff.png")


def test_optimize_report_in_the_browser(
    images: Images, browser: Any, docker_engine: DockerEngine
) -> None:
    from selenium.webdriver.common.by import By

    report = images.work / "optimize.html"
    env = {**docker_engine.env, "DEADWEIGHT_CACHE_DIR": str(images.work / "cache")}
    proc = subprocess.run(
        [*deadweight_command(), "optimize", f"docker-archive:{images.first}", "-o",
         f"docker-archive:{images.work / 'opt.tar'}", "--verify", "--html", str(report)],
        cwd=images.work, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    open_report(browser, report)
    assert console_errors(browser) == []
    saved = {
        s["label"]: s["bytes"]
        for s in browser.execute_script("return window.dwReport.data.savings")
    }
    assert saved["squash"] == 2_000_000 and saved["apt-cache"] == 300_000
    assert browser.find_element(By.CSS_SELECTOR, '[data-figure="verification"] .value').text == (
        "passed"
    )
    checks = cells(browser, "verification-table")
    assert checks and all(row[0] == "ok" for row in checks)
    removed = cells(browser, "removed-table")
    assert ["apt-cache", "/var/lib/apt/lists", "300kB", "1"] in removed
    assert browser.find_element(By.ID, "status").text.startswith("Wrote docker-archive:")
    screenshot(browser, "html-optimize.png")


def test_minify_report_in_the_browser(images: Images, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    report = images.work / "minify.html"
    proc = deadweight("minify", f"docker-archive:{images.first}", "-o",
                      f"docker-archive:{images.work / 'min.tar'}", "--static",
                      "--html", str(report), cwd=images.work)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    open_report(browser, report)
    assert console_errors(browser) == []
    dirs = browser.execute_script("return window.dwReport.charts.dirs.getOption().yAxis[0].data")
    assert dirs[:2] == ["/opt/tool", "/var/lib"]  # the largest losses first
    # what the image's own COPY put there stays whole with --static: no trace tells
    # which of it the app reads
    assert "/srv/app" not in dirs
    removed = {row[0]: row for row in cells(browser, "removed-table")}
    assert removed["/opt/tool/lib/libtool.so"][1] == "3MB"
    verdict = browser.find_element(By.CSS_SELECTOR, '[data-figure="verification"] .value').text
    assert verdict == "not run (--static)"
    screenshot(browser, "html-minify.png")
