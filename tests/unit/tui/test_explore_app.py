"""The explorer, driven headless with Textual's Pilot at 80x24: the main screens, keys,
filters, the file pane, preview and extraction."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("textual")  # an optional extra; dev installs it (CI fails without it)

from textual.widgets import DataTable, Static, Tree

from deadweight import static as S
from deadweight.analysis.analyze import analyze_deltas
from deadweight.filetree import LayerDelta, read_delta
from deadweight.tui.app import ExplorerApp, HelpScreen, PreviewScreen
from deadweight.tui.model import Explorer, LayerView

LAYERS: list[tuple[str, list[S.Entry]]] = [
    ("ADD rootfs.tar /", [
        S.File("etc/os-release", b"NAME=test\n"),
        S.File("bin/sh", b"\x7fELF" + b"\x00" * 3000),
    ]),
    ("RUN apt-get update && build", [
        S.File("var/lib/apt/lists/deb_Packages", b"Package: x\n" * 400),
        S.File("opt/app/big.bin", b"B" * 90_000),
        S.File("opt/app/conf.txt", b"conf=1\n"),
        S.File("tmp/build.log", b"log\n" * 2000),
    ]),
    ("RUN rm /tmp/build.log && edit", [
        S.Whiteout("tmp/build.log"),
        S.File("opt/app/conf.txt", b"conf=2\n"),
    ]),
]  # fmt: skip


def delta(entries: list[S.Entry]) -> LayerDelta:
    return read_delta(io.BytesIO(S.tar_bytes(entries)), hash="sha256")


def explorer() -> Explorer:
    deltas = [delta(e) for _, e in LAYERS]
    analysis = analyze_deltas(deltas, instructions=[i for i, _ in LAYERS], image="test:1")
    return Explorer(deltas, analysis)


def app(**kw: object) -> ExplorerApp:
    return ExplorerApp(explorer(), name="test:1", **kw)  # type: ignore[arg-type]


def text_of(widget: Static) -> str:
    return str(widget.render())


def labels(a: ExplorerApp) -> list[str]:
    tree = a.query_one("#files", Tree)
    out = []

    def walk(node: object) -> None:
        for child in node.children:  # type: ignore[attr-defined]
            out.append(str(child.label))
            if child.is_expanded:
                walk(child)

    walk(tree.root)
    return out


async def settle(a: ExplorerApp, pilot: object) -> None:
    await pilot.pause(0.3)  # type: ignore[attr-defined]  # past the app's settle delay
    await a.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


def run(test: object) -> None:
    asyncio.run(test())  # type: ignore[operator]


def test_first_screen_is_the_final_file_system_largest_first() -> None:
    async def go() -> None:
        a = app()
        async with a.run_test(size=(80, 24)) as pilot:
            await settle(a, pilot)
            table = a.query_one("#layers", DataTable)
            assert table.row_count == 3 and table.cursor_row == 2
            assert "layer 2" in text_of(a.query_one("#treehead", Static))
            rows = labels(a)
            assert [r.split()[-1] for r in rows] == ["opt/", "var/", "bin/", "etc/", "tmp/"]
            assert rows[0].startswith(" ")  # opt/ itself unchanged by layer 2
            assert a.reveal("tmp/build.log")  # removed by layer 2: shown, marked R
            await settle(a, pilot)
            assert labels(a)[-1].startswith("R") and labels(a)[-1].endswith("build.log")
            assert "R: removed by this layer" in text_of(a.query_one("#details", Static))
            title = text_of(a.query_one("#title", Static))
            assert "test:1" in title and "wasted 8.01kB" in title  # log 8000 + conf 7

    run(go)


def test_keys_move_between_layers_and_marks_follow() -> None:
    async def go() -> None:
        a = app()
        async with a.run_test(size=(80, 24)) as pilot:
            await settle(a, pilot)
            await pilot.press("tab")  # to the layer table (dive: tab switches panes)
            assert isinstance(a.focused, DataTable)
            await pilot.press("up")
            await settle(a, pilot)
            assert a.view_ is not None and a.view_.index == 1
            assert a.view_.marks["opt/app/big.bin"] == "A"
            assert a.view_.marks["tmp/build.log"] == "W"  # layer 2 hides it
            assert a.view_.marks["opt/app/conf.txt"] == "W"
            await pilot.press("ctrl+l")  # only what layer 1 changed
            await settle(a, pilot)
            assert [r.split()[-1] for r in labels(a)] == ["opt/", "tmp/", "var/"]

    run(go)


def test_filter_by_path_kind_and_category() -> None:
    async def go() -> None:
        a = app()
        async with a.run_test(size=(80, 24)) as pilot:
            await settle(a, pilot)
            await pilot.press("slash")
            await pilot.press(*"conf")
            await pilot.press("enter")
            await settle(a, pilot)
            assert [r.split()[-1] for r in labels(a)] == ["opt/"]
            assert "path ~ 'conf'" in text_of(a.query_one("#treehead", Static))
            await pilot.press("escape")
            await pilot.press("slash", "escape")  # closing the filter clears it
            await settle(a, pilot)
            assert len(labels(a)) == 5
            await pilot.press("u")  # hide unmodified: what layer 2 touched remains
            await settle(a, pilot)
            names = [r.split()[-1] for r in labels(a)]
            assert names == ["opt/", "tmp/"]
            await pilot.press("u", "c")  # back; then the first bloat category
            await settle(a, pilot)
            assert a.filter.category == "apt-cache"
            assert [r.split()[-1] for r in labels(a)] == ["var/"]

    run(go)


def test_largest_file_pane_sort_and_collapse() -> None:
    async def go() -> None:
        a = app()
        async with a.run_test(size=(80, 24)) as pilot:
            await settle(a, pilot)
            await pilot.press("L")
            await settle(a, pilot)
            assert a.selected_path() == "opt/app/big.bin"
            pane = text_of(a.query_one("#details", Static))
            assert "/opt/app/big.bin" in pane and "90kB (90000 B)" in pane
            assert "-rw-r--r--" in pane and "owner 0:0" in pane
            assert "written by layer 1: RUN apt-get update && build" in pane
            await pilot.press("s")  # by name
            await settle(a, pilot)
            assert [r.split()[-1] for r in labels(a)][:2] == ["bin/", "etc/"]
            assert a.selected_path() == "opt/app/big.bin"  # the cursor stays on the file
            await pilot.press("z")  # collapse all
            await settle(a, pilot)
            assert len(labels(a)) == 5

    run(go)


def test_preview_text_and_hex_and_extract(tmp_path: Path) -> None:
    seen: list[str] = []

    def head(view: LayerView, path: str) -> bytes:
        seen.append(path)
        return {"etc/os-release": b"NAME=test\n", "bin/sh": b"\x7fELF" + b"\x00" * 60}[path]

    def extract(view: LayerView, path: str) -> str:
        (tmp_path / "out").write_text(path)
        return str(tmp_path / "out")

    async def go() -> None:
        a = app(preview=head, extract=extract)
        async with a.run_test(size=(80, 24)) as pilot:
            await settle(a, pilot)
            a.reveal("etc/os-release")
            await settle(a, pilot)
            await pilot.press("v")
            await settle(a, pilot)
            assert isinstance(a.screen, PreviewScreen)
            assert "NAME=test" in str(a.screen.body)
            await pilot.press("escape")
            a.reveal("bin/sh")
            await settle(a, pilot)
            await pilot.press("enter")
            await settle(a, pilot)
            assert isinstance(a.screen, PreviewScreen)
            assert "000000  7f 45 4c 46 00" in str(a.screen.body)
            await pilot.press("escape", "x")
            await settle(a, pilot)
            assert (tmp_path / "out").read_text() == "bin/sh"
        assert seen == ["etc/os-release", "bin/sh"]

    run(go)


def test_help_screen_and_too_small_terminal() -> None:
    async def go() -> None:
        a = app()
        async with a.run_test(size=(80, 24)) as pilot:
            await settle(a, pilot)
            await pilot.press("question_mark")
            await pilot.pause()
            assert isinstance(a.screen, HelpScreen)
            help_text = str(a.screen.query_one("#help-text", Static).render())
            assert "ctrl+l" in help_text and "ctrl+space" in help_text
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(a.screen, HelpScreen)
            await pilot.resize_terminal(50, 12)
            await pilot.pause()
            assert a.query_one("#toosmall").display and not a.query_one("#main").display
            assert "terminal too small" in text_of(a.query_one("#toosmall", Static))

    run(go)


def test_the_tree_comes_first_and_the_analysis_after() -> None:
    deltas = [delta(e) for _, e in LAYERS]
    instructions = [i for i, _ in LAYERS]
    calls: list[int] = []

    def analyze() -> object:
        calls.append(1)
        return analyze_deltas(deltas, instructions=instructions, image="test:1")

    async def go() -> None:
        a = ExplorerApp(Explorer(deltas, None, instructions), name="test:1",
                        analyze=analyze)  # type: ignore[arg-type]  # fmt: skip
        async with a.run_test(size=(80, 24)) as pilot:
            await settle(a, pilot)
            await settle(a, pilot)
            assert calls == [1]
            assert "wasted 8.01kB" in text_of(a.query_one("#title", Static))
            await pilot.press("tab", "up")  # layer 1: what layer 2 hides is marked
            await settle(a, pilot)
            assert a.view_ is not None and a.view_.marks["tmp/build.log"] == "W"
            assert a.query_one("#layers", DataTable).get_row_at(1)[2] == "8.01kB"

    run(go)


def test_a_view_without_the_analysis_has_no_waste_marks_yet() -> None:
    deltas = [delta(e) for _, e in LAYERS]
    e = Explorer(deltas, None, [i for i, _ in LAYERS])
    view = e.view(1)
    assert view.marks["tmp/build.log"] == "A" and e.layers[1].wasted == 0
    assert view.details("tmp/build.log").written_instruction == "RUN apt-get update && build"
    e.attach(analyze_deltas(deltas, instructions=[i for i, _ in LAYERS]))
    assert view.marks.get("tmp/build.log") == "W" and e.layers[1].wasted == 8007


def test_what_arrives_while_a_screen_is_on_top_reaches_the_main_screen() -> None:
    """The filter's and the layer cursor's delayed follow-ups, a layer's tree and the
    analysis that arrive while the help screen is up land on the main screen below it,
    instead of failing to find its widgets on the help screen."""
    deltas = [delta(e) for _, e in LAYERS]
    instructions = [i for i, _ in LAYERS]
    gate = __import__("threading").Event()

    def analyze() -> object:
        gate.wait(10)  # arrives once the help screen is up
        return analyze_deltas(deltas, instructions=instructions, image="test:1")

    async def go() -> None:
        a = ExplorerApp(Explorer(deltas, None, instructions), name="test:1",
                        analyze=analyze)  # type: ignore[arg-type]  # fmt: skip
        async with a.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.3)
            await pilot.press("slash", *"conf", "enter")  # the filter settles later
            await pilot.press("question_mark")
            assert isinstance(a.screen, HelpScreen)
            gate.set()
            await settle(a, pilot)
            assert isinstance(a.screen, HelpScreen)
            await pilot.press("escape")
            await pilot.pause()
            assert "path ~ 'conf'" in text_of(a.query_one("#treehead", Static))
            assert [r.split()[-1] for r in labels(a)] == ["opt/"]
            assert "wasted 8.01kB" in text_of(a.query_one("#title", Static))
            a.query_one("#layers", DataTable).focus()
            await pilot.press("up", "question_mark")  # the cursor settles later
            assert isinstance(a.screen, HelpScreen)
            await settle(a, pilot)
            await pilot.press("escape")
            await pilot.pause()
            assert a.view_ is not None and a.view_.index == 1

    run(go)


@pytest.mark.parametrize("keys", [("slash", "x", "escape"), ("tab", "up")])
def test_quitting_before_a_delayed_follow_up_runs(
    keys: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A follow-up of the filter or the layer cursor that comes due once quitting has
    begun (the screens being taken down) is dropped, not run against a missing tree."""
    due: list[Callable[[], object]] = []
    set_timer = ExplorerApp.set_timer

    def noting(self: ExplorerApp, delay: float, callback: Callable[[], object]) -> object:
        due.append(callback)
        return set_timer(self, delay, callback)

    monkeypatch.setattr(ExplorerApp, "set_timer", noting)

    async def go() -> None:
        a = app()
        async with a.run_test(size=(80, 24)) as pilot:
            await settle(a, pilot)
            due.clear()
            await pilot.press(*keys)
            assert due  # a follow-up waits
        assert not a.is_running
        for callback in due:  # as a timer would, had it come due during the teardown
            callback()

    run(go)
