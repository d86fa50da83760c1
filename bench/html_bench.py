"""Benchmark the HTML report of a big image: its size, and how long a browser takes to
open it, against a floor.

Builds an image of ``--files`` files (default 100,000) in a deep tree (system libraries,
a node_modules forest, docs, caches, a layer that deletes a tenth of them), runs the real
CLI ``deadweight analyze --html`` on it, and opens the report in Debian's headless
chromium (selenium and chromedriver, as the tests do) ``--rounds`` times:

* report: from navigation start until the charts are drawn (the report's script has run
  and two animation frames have passed);
* floor: the same for a page holding only the inlined charting library and one empty
  chart: what any self-contained ECharts page costs.

The issue's budget: under 5 MB and under 2 seconds for 100,000 files.

Usage: ``python bench/html_bench.py [--files 100000] [--rounds 5] [--workdir D]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from deadweight import static as s
from deadweight.render.html.page import asset
from deadweight.sources import archive

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
]
DRAWN = """
const done = arguments[arguments.length - 1];
const wait = () => document.body.getAttribute('data-ready') === '1'
  ? requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now())))
  : setTimeout(wait, 5);
wait();
"""


def build(files: int, path: Path) -> None:
    def body(i: int) -> bytes:
        return f"{i:07d}".encode() * (1 + (i * 7919) % 700)

    per = files // 4
    system = [s.File(f"usr/lib/x86_64-linux-gnu/p{i % 400}/lib{i}.so", body(i)) for i in range(per)]
    docs = [s.File(f"usr/share/doc/pkg{i % 900}/f{i}.txt", body(i)) for i in range(per, 2 * per)]
    modules = [
        s.File(f"app/node_modules/m{i % 1500}/node_modules/d{i % 37}/lib/f{i}.js", body(i))
        for i in range(2 * per, 3 * per)
    ]
    cache = [s.File(f"root/.npm/_cacache/c{i % 256}/e{i}", body(i)) for i in range(3 * per, files)]
    gone = [s.Whiteout(f.path) for f in modules[::10]]
    steps = [
        s.Step("ADD rootfs.tar /", s.layer(system)),
        s.Step("RUN apt-get install -y docs", s.layer(docs)),
        s.Step("RUN npm install", s.layer([*modules, *cache])),
        s.Step("RUN rm -rf some modules", s.layer(gone)),
    ]
    archive.write([s.image(steps, repo_tags=("big:1",))], path)


def open_times(driver: Any, url: str, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        driver.get("about:blank")
        driver.get(url)
        times.append(float(driver.execute_async_script(DRAWN)) / 1000)
    return times


def floor_page(path: Path) -> None:
    path.write_text(
        "<!DOCTYPE html><html><body data-ready='0'><div id='c' style='height:500px'></div>"
        f"<script>{asset('echarts/echarts.min.js')}</script>"
        "<script>echarts.init(document.getElementById('c')).setOption({series: []});"
        "document.body.setAttribute('data-ready', '1');</script></body></html>",
        encoding="utf-8",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        work = Path(tmp)
        image = work / "big.tar"
        build(args.files, image)
        report, floor = work / "report.html", work / "floor.html"
        env = {**os.environ, "DEADWEIGHT_CACHE_DIR": str(work / "cache")}
        exe = Path(sys.executable).with_name("deadweight")
        began = time.perf_counter()
        subprocess.run([str(exe), "analyze", f"docker-archive:{image}", "--html", str(report)],
                       env=env, check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        made = time.perf_counter() - began
        floor_page(floor)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*FLAGS, f"--user-data-dir={work / 'profile'}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        try:
            floor_s = open_times(driver, floor.as_uri(), args.rounds)
            report_s = open_times(driver, report.as_uri(), args.rounds)
        finally:
            driver.quit()
        size = report.stat().st_size
        lib = len(asset("echarts/echarts.min.js").encode())
        med_r, med_f = statistics.median(report_s), statistics.median(floor_s)
        print(f"image: {args.files} files; analyze --html took {made:.1f} s (reading included)")
        print(f"report: {size / 1e6:.2f} MB ({lib / 1e6:.2f} MB of it the charting library)"
              f" -> {'under' if size < 5e6 else 'OVER'} the 5 MB budget")  # fmt: skip
        print(
            f"open, floor (library + empty chart): median {med_f:.3f} s, best {min(floor_s):.3f} s"
        )
        verdict = "under" if med_r < 2 else "OVER"
        print(
            f"open, report:                        median {med_r:.3f} s, "
            f"best {min(report_s):.3f} s = {med_r / med_f:.2f}x the floor -> {verdict} 2 s"
        )


if __name__ == "__main__":
    main()
