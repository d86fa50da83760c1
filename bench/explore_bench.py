"""Benchmark the terminal explorer on a big tree: how soon its first screen comes, against
``analyze`` on the same image, and how long moving around takes on ``--files`` entries
(default 500,000).

Builds an image (a base of system libraries, then a node_modules forest, a cache, and a
layer deleting a tenth of the modules; ``--files`` entries in all, 1 KB each), reads its
layers once, then measures, best of ``--rounds``:

* analyze: ``analyze_deltas`` on the read layers (what ``deadweight analyze`` adds to the
  read);
* explore, first screen: the application started headless (Textual's pilot, 80x24) as
  the CLI starts it, analysing in the background, until the final layer's tree is on
  screen; then when the analysis (waste marks, figures) is shown;
* kept: when the background work that keeps every layer's stacking is done;
* moving: one key (cursor down, open a directory of 10,000 entries, jump to the largest
  file, switch to another layer, filter by path) through the pilot, in the running app;
  the layer switch also with nothing kept (each tree stacked from the bottom), the floor
  the kept stackings are measured against.

Usage: ``python bench/explore_bench.py [--files 500000] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import time
from collections.abc import Awaitable, Callable

from deadweight import static as s
from deadweight.analysis.analyze import analyze_deltas
from deadweight.analysis.report import Analysis
from deadweight.filetree import LayerDelta, read_delta
from deadweight.reading import paused_gc
from deadweight.tui.app import ExplorerApp
from deadweight.tui.model import Explorer


def build(files: int) -> list[LayerDelta]:
    body = b"x" * 1000
    per = files // 4
    layers: list[list[s.Entry]] = [
        [s.File(f"usr/lib/p{i % 500}/lib{i}.so", body) for i in range(per)],
        [
            s.File(f"app/node_modules/m{i % 2000}/d{i % 31}/f{i}.js", body)
            for i in range(per, 3 * per)
        ],
        [
            *(s.File(f"big/f{i}", body) for i in range(3 * per, files - 10_000)),
            *(s.File(f"wide/f{i}", body) for i in range(10_000)),
        ],
    ]
    layers.append([s.Whiteout(f"app/node_modules/m{i}") for i in range(0, 2000, 10)])
    with paused_gc():
        return [read_delta(io.BytesIO(s.tar_bytes(e)), hash="sha256") for e in layers]


def best(rounds: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return min(times)


async def session(deltas: list[LayerDelta], rounds: int) -> dict[str, float]:
    said = ["ADD", "RUN npm", "RUN cache", "RUN rm"]

    def analyze() -> Analysis:
        with paused_gc():
            return analyze_deltas(deltas, instructions=said)

    began = time.perf_counter()  # as the CLI: the tree first, the analysis in the background
    app = ExplorerApp(Explorer(deltas, None, said), name="bench", analyze=analyze)
    out: dict[str, float] = {}
    async with app.run_test(size=(80, 24)) as pilot:
        while app.view_ is None or app.view_.index != len(deltas) - 1:
            await pilot.pause(0.01)
        await pilot.pause()
        out["first screen"] = time.perf_counter() - began
        while app.explorer.analysis is None:
            await pilot.pause(0.05)
        out["analysis shown"] = time.perf_counter() - began
        await app.workers.wait_for_complete()  # every layer's stacking kept, in the background
        out["layers kept in the background"] = time.perf_counter() - began

        async def timed(name: str, act: Callable[[], Awaitable[None]]) -> None:
            times = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                await act()
                await app.workers.wait_for_complete()
                await pilot.pause()
                times.append(time.perf_counter() - t0)
            out[name] = min(times)

        async def down() -> None:
            await pilot.press("down")

        async def open_wide() -> None:
            app.refresh_tree()
            app.reveal("wide/f0")

        async def largest() -> None:
            await pilot.press("L")

        async def other_layer() -> None:
            app.explorer.cache.clear()
            app.select_layer(1)
            await app.workers.wait_for_complete()
            app.select_layer(len(deltas) - 1)

        async def other_layer_unkept() -> None:
            # the same two switches with nothing kept: each tree stacked from the bottom
            ex = app.explorer
            states, sizes, kept, sized = dict(ex.states), dict(ex.sizes), ex._kept, ex._sized
            ex.states.clear()
            ex.sizes.clear()
            ex.cache.clear()
            app.select_layer(1)
            await app.workers.wait_for_complete()
            app.select_layer(len(deltas) - 1)
            await app.workers.wait_for_complete()
            ex.states.update(states)
            ex.sizes.update(sizes)
            ex._kept, ex._sized = kept, sized

        async def filter_path() -> None:
            await pilot.press("slash", "f", "1", "2", "escape")

        await timed("cursor down", down)
        await timed("open a directory of 10,000 entries", open_wide)
        await timed("jump to the largest file", largest)
        await timed("switch layers twice (from kept stackings)", other_layer)
        await timed("switch layers twice, nothing kept (floor)", other_layer_unkept)
        await timed("filter by path (3 keys, then cleared)", filter_path)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    deltas = build(args.files)
    entries = sum(len(d.entries) for d in deltas)

    def analyze() -> None:
        with paused_gc():
            analyze_deltas(deltas, instructions=["ADD", "RUN npm", "RUN cache", "RUN rm"])

    t_analyze = best(args.rounds, analyze)
    figures = asyncio.run(session(deltas, args.rounds))
    first = figures.pop("first screen")
    kept = figures.pop("layers kept in the background")
    shown = figures.pop("analysis shown")
    print(f"{entries} entries in {len(deltas)} layers")
    print(f"analyze (read layers given):        {t_analyze:6.2f} s")
    print(f"explore, first screen:              {first:6.2f} s = {first / t_analyze:.2f}x analyze")
    print(f"  waste marks and figures shown at:   {shown:6.2f} s (analysed in the background)")
    print(f"  every layer's stacking kept by:     {kept:6.2f} s (in the background)")
    for name, secs in figures.items():
        print(f"  {name:<42} {secs * 1000:8.1f} ms")
    warm = figures["switch layers twice (from kept stackings)"]
    cold = figures["switch layers twice, nothing kept (floor)"]
    print(f"  layer switch from kept stackings: {warm / cold:.2f}x the switch stacked again")


if __name__ == "__main__":
    main()
