"""``deadweight explore`` once through a real terminal: tmux runs it at 80x24 on an image
the engine built; keys go in with send-keys and the screen comes back with capture-pane; a
window shrunk below 60x16 says the terminal is too small.
The last screen is kept as a test artifact (ANSI text, and a PNG drawn by chromium)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import artifacts, keep_screenshot
from engine_fixtures import DockerEngine, unavailable
from images_fixtures import deadweight_command
from test_html_integration import APP, DOCKERFILE, _build

pytestmark = pytest.mark.integration
TMUX = "/usr/bin/tmux"


class Terminal:
    def __init__(self, socket: Path, env: dict[str, str]) -> None:
        self.socket, self.env = socket, env

    def tmux(self, *args: str) -> str:
        proc = subprocess.run([TMUX, "-S", str(self.socket), *args], env=self.env,
                              capture_output=True, text=True, timeout=30)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def screen(self, escapes: bool = False) -> str:
        return self.tmux("capture-pane", "-p", *(["-e"] if escapes else []), "-t", "dw")

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", "dw", key)
            time.sleep(0.3)

    def wait_for(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; the screen:\n{screen}")
            time.sleep(0.2)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    if not os.access(TMUX, os.X_OK):
        unavailable(f"{TMUX} is not installed: apt-get install tmux")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX")}
    env.update(TERM="xterm-256color", DEADWEIGHT_CACHE_DIR=str(tmp_path / "cache"))
    term = Terminal(tmp_path / "tmux.sock", env)
    try:
        yield term
    finally:
        subprocess.run([TMUX, "-S", str(term.socket), "kill-server"], env=env,
                       capture_output=True, timeout=30)  # fmt: skip


def test_explore_in_a_real_terminal(
    docker_engine: DockerEngine,
    busybox_base: str,
    tmp_path: Path,
    terminal: Terminal,
    browser: Any,
) -> None:
    image = _build(docker_engine, tmp_path, "explore", DOCKERFILE.format(base=busybox_base), APP)
    command = " ".join([*deadweight_command(), "explore", f"docker-archive:{image}",
                        "--extract-dir", str(tmp_path / "out")])  # fmt: skip
    terminal.tmux("new-session", "-d", "-s", "dw", "-x", "80", "-y", "24",
                  f"{command}; echo EXITED $?; sleep 60")  # fmt: skip
    first = terminal.wait_for("layer 3  ·  aggregated")  # the final file system first
    assert "dw-html-explore:latest" in first
    for name in ("opt/", "srv/", "tmp/"):
        assert name in first
    terminal.keys("L")  # dive has no such key; ours: the largest file
    screen = terminal.wait_for("/opt/tool/lib/libtool.so")
    assert "3MB (3000000 B)" in screen and "written by layer 1" in screen
    _screenshot(browser, terminal.screen(escapes=True), artifacts() / "explore.png", tmp_path)
    terminal.keys("x")
    terminal.wait_for("extracted /opt/tool/lib/libtool.so")
    assert (tmp_path / "out" / "opt/tool/lib/libtool.so").stat().st_size == 3_000_000

    terminal.keys("Tab", "Up", "Up")  # the layer table; layer 1 wrote what layer 2 hides
    screen = terminal.wait_for("layer 1  ·")
    terminal.keys("Tab", "C-l")  # dive: only this layer's changes
    screen = terminal.wait_for("changes only")
    assert "tmp/" in screen, screen
    terminal.keys("/", *"libextra", "Enter")
    screen = terminal.wait_for("path ~")
    assert "opt/" in screen and "srv/" not in screen
    ansi = terminal.screen(escapes=True)
    (artifacts() / "explore-filter.ansi").write_text(ansi)
    _screenshot(browser, ansi, artifacts() / "explore-filter.png", tmp_path)

    terminal.keys("Escape")
    time.sleep(0.8)  # tmux's escape-time: a key right after Escape would read as alt+key
    terminal.keys("?")
    assert "keys (dive's where dive has them)" in terminal.wait_for("ctrl+space")
    terminal.keys("Escape")
    time.sleep(0.8)
    terminal.tmux("resize-window", "-t", "dw", "-x", "50", "-y", "12")  # smaller than 60x16
    assert "terminal too small: need at least 60x16" in terminal.wait_for("too small")
    terminal.tmux("resize-window", "-t", "dw", "-x", "80", "-y", "24")
    terminal.wait_for("layer 1  ·")  # back as it was
    terminal.keys("q")
    assert "EXITED 0" in terminal.wait_for("EXITED")


def _screenshot(driver: Any, ansi: str, png: Path, tmp: Path) -> None:
    """The captured screen drawn by rich as SVG (colours kept), photographed by chromium."""
    from rich.console import Console
    from rich.text import Text

    with open(os.devnull, "w") as sink:
        console = Console(record=True, width=80, force_terminal=True,
                          color_system="truecolor", file=sink)  # fmt: skip
        console.print(Text.from_ansi(ansi.rstrip("\n")), end="")
    svg = tmp / png.with_suffix(".svg").name
    svg.write_text(console.export_svg(title="deadweight explore"))
    driver.set_window_size(1000, 640)
    driver.get(svg.as_uri())
    keep_screenshot(driver, png.name)
    driver.set_window_size(1400, 1000)
    shutil.copy(svg, png.with_suffix(".svg"))
