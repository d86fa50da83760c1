"""``deadweight explore IMAGE``: the terminal explorer (``deadweight.tui``).

The layers are read here first (from the layer store when it has them: a second open reads
nothing), with a progress bar; the application shows the tree at once and analyses the
image (waste, packages) in the background.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

import click

from deadweight.analysis.analyze import analyze_read
from deadweight.analysis.instructions import layer_instructions
from deadweight.analysis.report import Analysis
from deadweight.cli._options import (
    deltas_of,
    parse_platform,
    source_options,
)
from deadweight.cli._warm import take_opened
from deadweight.compare.content import copy_members, holder, occurrences
from deadweight.errors import RuntimeProblem, UsageError
from deadweight.filetree.delta import LayerDelta
from deadweight.image import Image
from deadweight.sources import locate, open_image
from deadweight.tui.model import Explorer, LayerView

PREVIEW = 64 * 1024  # bytes of a file the preview reads


def need_textual() -> None:
    if importlib.util.find_spec("textual") is None:
        raise RuntimeProblem(
            "deadweight explore needs Textual: pip install 'deadweight[explore]' "
            "(or pip install textual)"
        )


def file_head(image: Image, deltas: tuple[LayerDelta, ...]) -> Callable[[LayerView, str], bytes]:
    """The first bytes of a file of a view, read from the layer that holds them."""

    def head(view: LayerView, path: str) -> bytes:
        node = view.nodes[path]
        layer, member = holder(view.tree, node)
        out: list[bytes] = []

        def sink(_: str, f: IO[bytes]) -> None:
            out.append(f.read(PREVIEW))

        copy_members(image.layers[layer], occurrences(deltas[layer], [member]), sink)
        return out[0] if out else b""

    return head


def file_extractor(
    image: Image, deltas: tuple[LayerDelta, ...], folder: Path
) -> Callable[[LayerView, str], str]:
    """Extract one file of a view below ``folder``, as ``export`` does (no link followed,
    nothing overwritten, set-id bits dropped)."""
    from deadweight.extraction import extract_nodes
    from deadweight.extraction.dirs import DIR_FLAGS

    def save(view: LayerView, path: str) -> str:
        node = view.nodes.get(path)
        if node is None or node.kind not in ("file", "hardlink", "symlink"):
            raise UsageError("only a file or a symlink of this layer's tree can be extracted")
        folder.mkdir(parents=True, exist_ok=True)
        if folder.is_symlink() or not folder.is_dir():
            raise UsageError(f"{folder}: not a directory")
        root = os.open(folder, DIR_FLAGS)
        try:
            extract_nodes(image, deltas, view.tree, [node], root)
        except FileExistsError:
            raise UsageError(f"{folder / path}: exists; nothing overwritten") from None
        finally:
            os.close(root)
        return str(folder / path)

    return save


@click.command()
@click.argument("image")
@click.option(
    "--extract-dir",
    default="extracted",
    show_default=True,
    metavar="DIR",
    help="Where `x` extracts a file (its image path below DIR; nothing is overwritten).",
)
@source_options
def explore(
    image: str, extract_dir: str, platform: str | None, insecure: bool, no_cache: bool
) -> None:
    """Explore IMAGE in the terminal: layers, the file tree at each, what each changed.

    Press ? inside for the keys (dive's where dive has them).
    """
    need_textual()
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("deadweight explore needs an interactive terminal")
    loc, plat = locate(image), parse_platform(platform)
    # the image opened to ask the layer store, if it was (cli._warm), is not opened again
    img = take_opened(loc, plat, insecure) or open_image(loc, platform=plat, insecure=insecure)
    deltas = deltas_of(img, no_cache)
    instructions = layer_instructions(img)

    def analyze() -> Analysis:
        return analyze_read(img, deltas)

    from deadweight.tui.app import ExplorerApp

    app = ExplorerApp(
        Explorer(deltas, None, instructions),
        name=img.name,
        preview=file_head(img, deltas),
        extract=file_extractor(img, deltas, Path(extract_dir)),
        analyze=analyze,  # in the background: the tree is on screen before it ends
    )
    app.run()
