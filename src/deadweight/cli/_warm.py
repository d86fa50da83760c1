"""Before a command that reads layers is imported: start the helper processes that will
read them, and for ``analyze``, the reading itself.

Click-free, so that ``deadweight.cli.main`` runs it before click and the command's
modules are imported (the click group runs it too, for a command invoked without
``main``, once per command). An image opened here to read it ahead is kept for the
command's own open of it (:func:`take_opened`), until the next command at most.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not `typing`: this runs before any import it can spare
if TYPE_CHECKING:
    from deadweight.image import Image
    from deadweight.platform import Platform
    from deadweight.sources import Location

# Commands that read an image's layers: given an image on disk whose layers the store
# does not hold, they start the helper processes that will read them before importing
# their own modules, which takes as long.
READS_LAYERS = frozenset(
    {"analyze", "cat", "diff", "explore", "export", "lint", "minify", "optimize"}
)

# Commands whose one image on disk is read ahead, before their modules are imported, with
# what they read it with: the packages' capture and the default per-file digest.
READS_AHEAD = frozenset({"analyze"})

# The image opened to read it ahead, for the command's first open of the same location
# (opening an image of 100,000 layers costs as much as reading them); it lasts until the
# command takes it or the next command starts, never longer: the file may change.
_OPENED: dict[tuple[Location, Platform | None, bool], Image] = {}
# The command (and its arguments) warmed up by ``main``, which the group need not repeat.
_DONE: list[tuple[str, tuple[str, ...]]] = []


def warm_up(command: str, args: list[str], *, early: bool = False) -> None:
    """What the layer-reading ``command`` given ``args`` benefits from starting now;
    nothing for another command. ``early``: called by ``main`` before click, so that the
    group's call for the same command does nothing."""
    key = (command, tuple(args))
    if not early and _DONE and _DONE.pop() == key:
        return  # main did it, for this very command
    _DONE.clear()
    _OPENED.clear()  # what an earlier command (in this process) left
    if command not in READS_LAYERS:
        return
    if early:
        _DONE.append(key)
    from deadweight.sources import on_disk

    here = [arg for arg in args if not arg.startswith("-") and on_disk(arg)]
    no_cache = "--no-cache" in args
    if here and (no_cache or not all(_stored(spec) for spec in here)):
        from deadweight.reading import warm_up as start_helpers

        start_helpers()
        # one image, as it opens without --platform (with it, the layers may be others)
        if command in READS_AHEAD and len(here) == 1 and not _has_option(args, "--platform"):
            _read_ahead(here[0], no_cache=no_cache)


def take_opened(loc: Location, platform: Platform | None, insecure: bool) -> Image | None:
    """The image opened ahead at ``loc`` (as ``platform`` and ``insecure`` open it), once."""
    return _OPENED.pop((loc, platform, insecure), None) if _OPENED else None


def _has_option(args: list[str], name: str) -> bool:
    return any(arg == name or arg.startswith(f"{name}=") for arg in args)


def _read_ahead(spec: str, *, no_cache: bool) -> None:
    """Start reading the layers of the image ``spec`` names that the store does not hold,
    for the command's read to take (``reading.read_ahead``); a compressed archive is left
    unopened (opening it spools it whole, which the command would do a second time), and
    an image that cannot be opened is left to the command to report."""
    from deadweight.analysis import packages as pkgs
    from deadweight.errors import DeadweightError
    from deadweight.reading import read_ahead
    from deadweight.sources import locate, open_image, spooled

    if spooled(spec):
        return
    store = None
    try:
        loc = locate(spec)
        image = _OPENED.get((loc, None, False)) or open_image(loc)  # _stored's, if it ran
        _OPENED[(loc, None, False)] = image
        if not no_cache:
            from deadweight.cache import LayerStore

            store = LayerStore()
        read_ahead(image, capture=pkgs.capture, store=store)
    except (DeadweightError, OSError):
        pass
    finally:
        if store is not None:
            store.close()


def _stored(spec: str) -> bool:
    """Whether the layer store holds every layer of the image ``spec`` names, so that
    reading it reads no layer (True too when it is no image: nothing to read). A
    compressed archive counts as not held, unopened: opening it spools the whole archive,
    which the command would then do a second time."""
    from deadweight.cli._context import Context
    from deadweight.errors import DeadweightError
    from deadweight.sources import locate, open_image, spooled

    if spooled(spec):
        return False

    ctx = Context(None, insecure=False, no_cache=False)
    try:
        loc = locate(spec)
        image = open_image(loc)
        _OPENED[(loc, None, False)] = image  # for the command's open (and the read ahead)
        return ctx.stored(image)
    except (DeadweightError, OSError):
        return True
    finally:
        ctx.close()


def main_early(argv: list[str]) -> None:
    """``warm_up`` from ``main``, before click: for ``deadweight COMMAND ARGS...`` (a
    command first, no global option before it). A failure here is left to the command to
    meet again, in its own error handling."""
    if argv[:1] and argv[0] in READS_LAYERS:
        try:
            warm_up(argv[0], argv[1:], early=True)
        except Exception:
            _DONE.clear()
            _OPENED.clear()
