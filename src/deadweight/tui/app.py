"""``deadweight explore``: the layers on the left, the file tree as of the selected layer on
the right, a file pane below it (issue 15). dive's key bindings where dive has them.

The tree is lazy: a directory's entries are listed when it is opened (at most ``CHUNK`` at
a time, the largest first), so a tree of any size opens and moves at once.
"""

from __future__ import annotations

import gc
import stat
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Static, Tree
from textual.widgets.tree import TreeNode

from deadweight.analysis.bloat import CATEGORIES
from deadweight.analysis.report import Analysis
from deadweight.render.controls import for_terminal
from deadweight.render.units import human_size
from deadweight.tui.model import CHUNK, MARKS, Explorer, Filter, LayerView, Mark, Order, Row

MIN_WIDTH, MIN_HEIGHT = 60, 16
SETTLE = 0.15  # seconds a layer cursor or the filter text rests before the tree follows
COLOURS: dict[str, str] = {"A": "green", "M": "yellow", "R": "red", "W": "magenta", "": ""}
Preview = Callable[[LayerView, str], bytes]
Extract = Callable[[LayerView, str], str]

HELP = [
    ("tab", "switch between the layers and the file tree"),
    ("up/down, pgup/pgdn", "move"),
    ("ctrl+a (layers)", "show the tree as of the layer: everything so far (aggregated)"),
    ("ctrl+l (layers)", "show only what the selected layer changed"),
    ("space", "collapse / expand a directory"),
    ("ctrl+space, z", "collapse all directories"),
    ("ctrl+a / a (tree)", "show / hide added entries (A)"),
    ("ctrl+r / r", "show / hide removed entries (R)"),
    ("m", "show / hide modified entries (M) (ctrl+m is enter in terminals)"),
    ("ctrl+u / u", "show / hide unmodified entries"),
    ("w", "show / hide wasted entries (W: a later layer hides them)"),
    ("ctrl+f, /", "filter by path (esc closes the filter)"),
    ("c", "filter by bloat category (cycles through those in the image)"),
    ("ctrl+o, s", "sort by size or by name"),
    ("ctrl+b", "show / hide file attributes (mode, owner)"),
    ("L", "jump to the largest file (of what is shown)"),
    ("enter, v", "preview a file (text, or hex of its start)"),
    ("x", "extract the file to the extract folder (safely, as export does)"),
    ("?, f1", "this help"),
    ("q, ctrl+c", "quit"),
]


@dataclass(frozen=True, slots=True)
class Slot:
    """What a tree node stands for: a path, or the "more" line of a long directory."""

    path: str
    more_from: int = -1


def mode_text(mode: int, kind: str) -> str:
    kinds = {"dir": stat.S_IFDIR, "symlink": stat.S_IFLNK}
    return stat.filemode(kinds.get(kind, stat.S_IFREG) | (mode & 0o7777))


def label(row: Row, attrs: bool, view: LayerView) -> Text:
    mark = row.mark or " "
    text = Text()
    text.append(mark, style=f"bold {COLOURS[row.mark]}" if row.mark else "dim")
    text.append(f" {human_size(row.bytes):>8} ")
    if attrs:
        node = view.nodes.get(row.path) or view.removed[row.path]
        text.append(f"{mode_text(node.mode, node.kind)} {node.uid}:{node.gid} ", style="dim")
    name = for_terminal(row.name) + ("/" if row.is_dir else "")
    text.append(name, style=COLOURS[row.mark] or ("bold" if row.is_dir else ""))
    if row.kind == "symlink":
        link = (view.nodes.get(row.path) or view.removed[row.path]).link
        text.append(f" -> {for_terminal(link)}", style="dim")
    return text


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "dismiss", "close")
    ]

    def compose(self) -> ComposeResult:
        lines = Text("deadweight explore: keys (dive's where dive has them)\n\n", style="bold")
        for keys, what in HELP:
            lines.append(f"{keys:<22}", style="bold cyan")
            lines.append(f"{what}\n")
        lines.append("\nmarks: ", style="bold")
        for mark, what in MARKS.items():
            if mark:
                lines.append(mark, style=f"bold {COLOURS[mark]}")
                lines.append(f" {what}  ")
        yield VerticalScroll(Static(lines, id="help-text"), id="help")


class PreviewScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,v", "dismiss", "close")]

    def __init__(self, title: str, body: Text) -> None:
        super().__init__()
        self.title_text, self.body = title, body

    def compose(self) -> ComposeResult:
        yield VerticalScroll(
            Static(Text(self.title_text, style="bold")), Static(self.body, id="preview-body"),
            id="preview",
        )  # fmt: skip


def preview_text(data: bytes, size: int) -> Text:
    """Text as text; anything else as hex of its first 512 bytes."""
    try:
        text = data.decode("utf-8")
        if "\x00" not in text:
            more = f"\n… ({size - len(data)} more bytes)" if size > len(data) else ""
            return Text(for_terminal(text) + more)  # escape sequences shown, not obeyed
    except UnicodeDecodeError:
        pass
    head = data[:512]
    out = Text(f"binary: hex of the first {len(head)} of {size} bytes\n\n", style="dim")
    for i in range(0, len(head), 16):
        chunk = head[i : i + 16]
        printable = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        out.append(f"{i:06x}  {chunk.hex(' '):<47}  {printable}\n")
    return out


class ExplorerApp(App[None]):
    CSS = """
    #title { height: 1; background: $primary; color: $text; padding: 0 1; }
    #main { height: 1fr; }
    #layers { width: 38%; min-width: 24; }
    #right { width: 1fr; }
    #treehead { height: 1; background: $boost; padding: 0 1; }
    #files { height: 1fr; }
    #details { height: 7; border-top: solid $primary; padding: 0 1; }
    #filter { display: none; }
    #toosmall { display: none; height: 1fr; content-align: center middle; }
    #help, #preview { background: $surface; border: round $primary; margin: 1 1; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+c", "quit", "quit", priority=True),
        Binding("q", "quit", "quit", show=False),
        Binding("question_mark,f1", "help", "help"),
        Binding("ctrl+f,slash", "filter", "filter"),
        Binding("escape", "close_filter", "close filter", show=False),
        Binding("ctrl+a", "ctrl_a", "added/aggregated", show=False),
        Binding("ctrl+l", "changes_only", "layer changes"),
        Binding("a", "toggle_mark('A')", "added", show=False),
        Binding("ctrl+r,r", "toggle_mark('R')", "removed", show=False),
        Binding("m", "toggle_mark('M')", "modified", show=False),
        Binding("ctrl+u,u", "toggle_mark('')", "unmodified", show=False),
        Binding("w", "toggle_mark('W')", "wasted", show=False),
        Binding("c", "category", "category", show=False),
        Binding("ctrl+o,s", "sort", "sort"),
        Binding("ctrl+b", "attributes", "attrs", show=False),
        Binding("ctrl+space,ctrl+at,z", "collapse_all", "collapse all", show=False),
        Binding("L", "largest", "largest"),
        Binding("v", "preview", "view", show=False),
        Binding("x", "extract", "extract", show=False),
    ]

    def __init__(
        self,
        explorer: Explorer,
        *,
        name: str,
        preview: Preview | None = None,
        extract: Extract | None = None,
        analyze: Callable[[], Analysis] | None = None,
    ) -> None:
        super().__init__()
        self.explorer = explorer
        self.analyze = analyze
        self.image_name = name
        self.preview_file = preview
        self.extract_file = extract
        self.view_: LayerView | None = None
        self.filter = Filter()
        self.order: Order = "size"
        self.attrs = False
        self._loaded: set[str] = set()
        self._pending: dict[str, Timer] = {}
        self._generation = 0
        self._requested = -1
        self._states_started = False
        self._tree_nodes: dict[str, TreeNode[Slot]] = {}

    # -- layout ----------------------------------------------------------------------

    def title_text(self) -> str:
        a = self.explorer.analysis
        if a is None:
            size = sum(d.size for d in self.explorer.deltas)
            return f"{self.image_name}  {human_size(size)}  analysing (waste, packages)…"
        return (
            f"{self.image_name}  {human_size(a.size)}  "
            f"wasted {human_size(a.waste.reclaimable)}  efficiency {a.efficiency * 100:.1f}%"
        )

    def compose(self) -> ComposeResult:
        yield Static(self.title_text(), id="title")
        with Horizontal(id="main"):
            yield DataTable(id="layers", cursor_type="row", zebra_stripes=True)
            with Vertical(id="right"):
                yield Static("", id="treehead")
                yield Tree[Slot]("/", data=Slot(""), id="files")
                yield Static("", id="details")
        yield Static(
            Text(f"terminal too small: need at least {MIN_WIDTH}x{MIN_HEIGHT}", style="bold"),
            id="toosmall",
        )
        yield Input(placeholder="filter by path (esc closes)", id="filter")
        yield Footer()

    def _fill_layers(self) -> None:
        table = self.query_one("#layers", DataTable)
        for info in self.explorer.layers:
            table.add_row(
                str(info.index),
                human_size(info.size),
                human_size(info.wasted) if info.wasted else "",
                for_terminal(" ".join(info.instruction.split())),
                key=str(info.index),
            )

    def on_mount(self) -> None:
        table = self.query_one("#layers", DataTable)
        table.add_columns("#", "size", "wasted", "instruction")
        self._fill_layers()
        tree = self.query_one("#files", Tree)
        tree.show_root = False
        tree.guide_depth = 2
        last = len(self.explorer.layers) - 1
        self._check_size()
        tree.focus()
        # the final file system first, at once; the table's cursor follows (its own first
        # highlight, row 0, then finds the cursor on the layer already shown)
        if last >= 0:
            self.select_layer(last)
        self.call_after_refresh(table.move_cursor, row=max(0, last))

    def analysis_ready(self, analysis: Analysis) -> None:
        if not self.is_running:
            return
        gc.freeze()
        self.explorer.attach(analysis)
        self.query_one("#title", Static).update(self.title_text())
        table = self.query_one("#layers", DataTable)
        row = table.cursor_row
        table.clear()
        self._fill_layers()
        table.move_cursor(row=row)
        if self.view_ is not None:
            self.refresh_tree(self.selected_path())

    def on_resize(self, event: events.Resize) -> None:
        self._check_size(event.size.width, event.size.height)

    def _check_size(self, width: int | None = None, height: int | None = None) -> None:
        width = self.size.width if width is None else width
        height = self.size.height if height is None else height
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        self.query_one("#main").display = not small
        self.query_one("#toosmall").display = small

    # -- layers ----------------------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # a tree is built once the cursor rests (holding a key down builds none between),
        # for the row the cursor is on then
        self._later("layer", SETTLE, self._follow_cursor)

    def _follow_cursor(self) -> None:
        index = self.query_one("#layers", DataTable).cursor_row
        if index != self._requested:
            self.select_layer(index)

    def _later(self, what: str, delay: float, then: Callable[[], None]) -> None:
        timer = self._pending.pop(what, None)
        if timer is not None:
            timer.stop()

        def fire() -> None:
            self._pending.pop(what, None)
            if self.is_running:  # not once quitting has begun to take the screens down
                then()

        self._pending[what] = self.set_timer(delay, fire)

    def select_layer(self, index: int) -> None:
        self.query_one("#treehead", Static).update(f"layer {index}: reading the tree…")
        self._requested = index
        self._generation += 1
        generation, wanted = self._generation, self.filter
        self.run_worker(lambda: self._build(index, wanted, generation), thread=True, group="view")

    def _build(self, index: int, wanted: Filter, generation: int) -> None:
        view = self.explorer.view(index)
        view.set_filter(wanted)
        self.call_from_thread(self._arrived, view, generation, None)

    def _arrived(self, view: LayerView, generation: int, keep: str | None) -> None:
        if not self.is_running:  # read while quitting: nothing left to show it on
            return
        # Hundreds of thousands of long-lived objects now: out of the collector's sight, or
        # each of its full passes (while the interface makes nodes) walks them all again.
        gc.freeze()
        if generation == self._generation:  # a later request supersedes this one
            self.view_ = view
            self.refresh_tree(keep)
        if not self._states_started:
            # the first screen is up: now the analysis (waste marks, packages, figures),
            # then every layer's stacking, in the background
            self._states_started = True
            analyze, explorer = self.analyze, self.explorer

            def background() -> None:
                if explorer.analysis is None and analyze is not None:
                    self.call_from_thread(self.analysis_ready, analyze())
                explorer.keep_states()

            self.run_worker(background, thread=True, group="background")

    # -- the tree --------------------------------------------------------------------

    def refresh_tree(self, keep: str | None = None) -> None:
        view = self.view_
        if view is None:
            return
        tree = self.query_one("#files", Tree)
        tree.clear()
        tree.root.data = Slot("")
        self._loaded = set()
        self._tree_nodes = {"": tree.root}
        self.load(tree.root)
        tree.root.expand()
        self._head()
        if keep:
            self.reveal(keep)

    def _head(self) -> None:
        view = self.view_
        assert view is not None
        f = self.filter
        bits = [f"layer {view.index}", "changes only" if f.changes_only else "aggregated",
                f"by {self.order}"]  # fmt: skip
        if f.hide:
            bits.append("hiding " + "".join(m or "U" for m in sorted(f.hide)))
        if f.text:
            bits.append(f"path ~ {f.text!r}")
        if f.category:
            bits.append(f"category {f.category}")
        self.query_one("#treehead", Static).update("  ·  ".join(bits))

    def load(self, node: TreeNode[Slot], start: int = 0) -> None:
        view, slot = self.view_, node.data
        if view is None or slot is None or (start == 0 and slot.path in self._loaded):
            return
        self._loaded.add(slot.path)
        rows = view.listing(slot.path, self.order)
        for row in rows[start : start + CHUNK]:
            text = label(row, self.attrs, view)
            if row.is_dir:
                below = view.children.get(row.path) or view.removed_children.get(row.path)
                child = node.add(text, data=Slot(row.path), allow_expand=bool(below))
            else:
                child = node.add_leaf(text, data=Slot(row.path))
            self._tree_nodes[row.path] = child
        left = len(rows) - start - CHUNK
        if left > 0:
            node.add_leaf(
                Text(f"  … {left} more (enter shows them; a filter narrows)", style="italic"),
                data=Slot(slot.path, start + CHUNK),
            )

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Slot]) -> None:
        self.load(event.node)

    def on_tree_node_selected(self, event: Tree.NodeSelected[Slot]) -> None:
        slot = event.node.data
        if slot is None:
            return
        if slot.more_from >= 0 and event.node.parent is not None:
            parent = event.node.parent
            event.node.remove()
            self.load(parent, slot.more_from)
        elif self.view_ is not None and slot.path and not self._is_dir(slot.path):
            self.action_preview()

    def _is_dir(self, path: str) -> bool:
        view = self.view_
        assert view is not None
        node = view.nodes.get(path) or view.removed.get(path)
        return node is not None and node.kind == "dir"

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[Slot]) -> None:
        slot = event.node.data
        pane = self.query_one("#details", Static)
        if self.view_ is None or slot is None or not slot.path or slot.more_from >= 0:
            pane.update("")
            return
        d = self.view_.details(slot.path)
        text = Text()
        text.append(for_terminal(f"/{d.path}"), style="bold")
        if d.mark:
            text.append(f"  {d.mark}: {MARKS[d.mark]}", style=COLOURS[d.mark])
        text.append(f"\n{d.kind}  {human_size(d.size)} ({d.size} B)  {mode_text(d.mode, d.kind)}"
                    f"  owner {d.uid}:{d.gid}")  # fmt: skip
        if d.link:
            text.append(f"  -> {for_terminal(d.link)}")
        wrote, hid = (
            for_terminal(" ".join(i.split())) for i in (d.written_instruction, d.hidden_instruction)
        )
        text.append(f"\nwritten by layer {d.written_by}: {wrote}")
        if d.hidden_by >= 0:
            text.append(f"\nhidden by layer {d.hidden_by}: {hid}", style="magenta")
        extra = [x for x in (f"package {d.package}" if d.package else "",
                             f"bloat: {d.category}" if d.category else "") if x]  # fmt: skip
        if extra:
            text.append("\n" + for_terminal("  ·  ".join(extra)))
        pane.update(text)

    def reveal(self, path: str) -> bool:
        """Open the directories above ``path`` and put the cursor on it."""
        tree = self.query_one("#files", Tree)
        parts = path.split("/")
        for i in range(1, len(parts)):
            up = "/".join(parts[:i])
            node = self._tree_nodes.get(up)
            if node is None:
                return False
            self.load(node)
            node.expand()
        target = self._tree_nodes.get(path)
        if target is None:
            return False
        # the tree lays out the opened directories' lines on its next refresh
        self.call_after_refresh(tree.move_cursor, target)
        return True

    def selected_path(self) -> str | None:
        node = self.query_one("#files", Tree).cursor_node
        slot = node.data if node is not None else None
        return slot.path if slot is not None and slot.more_from < 0 and slot.path else None

    # -- actions ---------------------------------------------------------------------

    def _refilter(self, f: Filter) -> None:
        """Filter in a thread (a pass over every path), then redraw; the newest wins."""
        self.filter = f
        view = self.view_
        if view is None:
            return
        keep = self.selected_path()
        self._generation += 1
        generation = self._generation

        def work() -> None:
            view.set_filter(f)
            self.call_from_thread(self._arrived, view, generation, keep)

        self.run_worker(work, thread=True, group="view")

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        text = event.value.strip()
        self._later("filter", SETTLE, lambda: self._refilter(replace(self.filter, text=text)))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one("#files", Tree).focus()

    def action_close_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.display:
            box.display = False
            box.value = ""
            self.query_one("#files", Tree).focus()

    def action_ctrl_a(self) -> None:
        """dive: aggregated view in the layer pane, added files in the tree."""
        if isinstance(self.focused, DataTable):
            self._refilter(replace(self.filter, changes_only=False))
        else:
            self.action_toggle_mark("A")

    def action_changes_only(self) -> None:
        self._refilter(replace(self.filter, changes_only=not self.filter.changes_only))

    def action_toggle_mark(self, mark: Mark) -> None:
        self._refilter(replace(self.filter, hide=self.filter.hide ^ {mark}))

    def action_category(self) -> None:
        if self.explorer.analysis is None:
            self.notify("the analysis is still running: categories come with it")
            return
        present = [c for c, _ in self.explorer.analysis.bloat.by_category if c in CATEGORIES]
        cycle = ["", *present]
        nxt = cycle[(cycle.index(self.filter.category) + 1) % len(cycle)] if (
            self.filter.category in cycle) else ""  # fmt: skip
        self._refilter(replace(self.filter, category=nxt))

    def action_sort(self) -> None:
        self.order = "name" if self.order == "size" else "size"
        self.refresh_tree(self.selected_path())

    def action_attributes(self) -> None:
        self.attrs = not self.attrs
        self.refresh_tree(self.selected_path())

    def action_collapse_all(self) -> None:
        tree = self.query_one("#files", Tree)
        for child in tree.root.children:
            child.collapse_all()

    def action_largest(self) -> None:
        if self.view_ is None:
            return
        path = self.view_.largest()
        if path is None:
            self.notify("no file to jump to")
            return
        self.reveal(path)
        self.query_one("#files", Tree).focus()

    def action_preview(self) -> None:
        path = self.selected_path()
        view = self.view_
        if path is None or view is None or self.preview_file is None:
            return
        node = view.nodes.get(path)
        if node is None or node.kind not in ("file", "hardlink"):
            self.notify("only a regular file that is in this layer's tree can be previewed")
            return
        fetch = self.preview_file

        def work() -> None:
            try:
                data = fetch(view, path)
            except Exception as exc:  # a broken layer: say so, keep the explorer
                self.call_from_thread(self.notify, f"cannot read /{path}: {exc}", severity="error")
                return
            body = preview_text(data, node.size)
            self.call_from_thread(self.push_screen, PreviewScreen(for_terminal(f"/{path}"), body))

        self.run_worker(work, thread=True, group="preview")

    def action_extract(self) -> None:
        path = self.selected_path()
        view = self.view_
        if path is None or view is None or self.extract_file is None:
            return
        extract = self.extract_file

        def work() -> None:
            try:
                where = extract(view, path)
            except Exception as exc:
                self.call_from_thread(self.notify, f"not extracted: {exc}", severity="error")
                return
            self.call_from_thread(self.notify, f"extracted /{path} to {where}")

        self.run_worker(work, thread=True, group="extract")


def run(app: ExplorerApp, **kwargs: Any) -> None:
    app.run(**kwargs)
