"""Every registered command loads, and start-up imports none of them."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

from deadweight.cli import COMMANDS, cli


def test_every_command_loads_and_has_help() -> None:
    ctx = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert isinstance(command, click.Command), name
        assert command.name == name
        assert command.help


def test_unknown_command_is_none() -> None:
    assert cli.get_command(click.Context(cli), "nope") is None


def test_startup_does_not_import_commands() -> None:
    code = (
        "import sys, deadweight.cli; "
        "print(sorted(m for m in sys.modules if m.startswith('deadweight.cli.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['deadweight.cli._errors']"


def test_a_command_given_an_image_on_disk_starts_the_layer_readers_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The helper processes start before the command's module is imported (their start-up
    overlaps its imports): only for commands that read layers, given an image here whose
    layers the store does not hold; ``analyze`` even starts reading its one image's layers
    (as it opens without ``--platform``)."""
    import deadweight.reading
    import deadweight.sources
    from deadweight import static
    from deadweight.cli._context import Context
    from deadweight.image import Image
    from deadweight.sources import Location, archive

    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(tmp_path / "cache"))
    calls: list[str] = []
    monkeypatch.setattr(deadweight.reading, "warm_up", lambda: calls.append("warm"))
    monkeypatch.setattr(deadweight.reading, "read_ahead", lambda *a, **k: calls.append("ahead"))
    image = tmp_path / "app.tar"
    step = static.Step("RUN x", static.layer([static.File("f", b"1")], "none"))
    archive.write([static.image([step])], image)
    (tmp_path / "notes.txt").write_text("not an image")
    ctx = click.Context(cli)

    def started(*args: str) -> list[str]:
        calls.clear()
        cli.resolve_command(ctx, list(args))
        return calls

    def warmed(*args: str) -> bool:
        return started(*args) != []

    assert started("analyze", "--format", "json", str(image)) == ["warm", "ahead"]
    assert started("diff", "docker://registry.example/a:1", f"docker-archive:{image}") == ["warm"]
    assert started("analyze", "--platform", "linux/arm64", str(image)) == ["warm"]
    assert started("analyze", "--platform=linux/arm64", str(image)) == ["warm"]
    assert started("analyze", "--exclude-base", str(image), str(image)) == ["warm"]
    assert not warmed("analyze", "docker://registry.example/a:1")
    assert not warmed("analyze", str(tmp_path / "missing.tar"))
    assert not warmed("analyze", str(tmp_path / "notes.txt"))  # fails to open: no reading
    assert not warmed("history", str(image))  # reads no layer
    store = Context(None, insecure=False, no_cache=False)
    store.deltas(store.open(str(image)))  # the store now holds every layer
    store.close()
    assert not warmed("analyze", str(image))
    assert started("analyze", "--no-cache", str(image)) == ["warm", "ahead"]
    # a compressed archive is not opened to ask (that would decompress it twice): the
    # readers start although the store holds its layers
    packed = tmp_path / "app.tar.gz"
    packed.write_bytes(gzip.compress(image.read_bytes()))
    opened: list[str] = []
    made: list[Image] = []
    real_open = deadweight.sources.open_image

    def counted_open(spec: str | Location, **kw: Any) -> Image:
        opened.append(spec.target if isinstance(spec, Location) else spec)
        made.append(real_open(spec, **kw))
        return made[-1]

    monkeypatch.setattr(deadweight.sources, "open_image", counted_open)
    assert started("analyze", str(packed)) == ["warm"]  # nor read ahead
    assert opened == []
    assert not warmed("analyze", str(image))
    assert opened == [str(image)]
    # the image opened to ask the store is the one the command then opens, not a second
    assert not warmed("lint", str(image))
    command = Context(None, insecure=False, no_cache=False)
    assert command.open(str(image)) is made[-1]
    command.close()


def test_main_warms_up_before_click_and_the_group_does_not_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``main`` starts the readers (and analyze's reading) before importing click; the
    group then resolves that same command without starting them a second time, and the
    next command is warmed up afresh."""
    import deadweight.reading
    from deadweight import static
    from deadweight.cli import _warm
    from deadweight.sources import archive

    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(tmp_path / "cache"))
    calls: list[str] = []
    monkeypatch.setattr(deadweight.reading, "warm_up", lambda: calls.append("warm"))
    monkeypatch.setattr(deadweight.reading, "read_ahead", lambda *a, **k: calls.append("ahead"))
    image = tmp_path / "app.tar"
    step = static.Step("RUN x", static.layer([static.File("f", b"1")], "none"))
    archive.write([static.image([step])], image)
    args = ["analyze", "--no-cache", str(image)]
    _warm.main_early(args)
    assert calls == ["warm", "ahead"]
    cli.resolve_command(click.Context(cli), list(args))
    assert calls == ["warm", "ahead"]  # main did it
    cli.resolve_command(click.Context(cli), list(args))
    assert calls == ["warm", "ahead"] * 2  # a command of its own
    _warm.main_early(["history", str(image)])
    _warm.main_early(["--version"])
    assert calls == ["warm", "ahead"] * 2
