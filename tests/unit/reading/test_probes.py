"""How many times each command streams each layer (issue 11: "each layer is streamed once
per command"), counted by instrumenting the opening of the layers' blob files, never by
timing. The images are OCI layouts on disk, so the helper processes take part: the parent
opens a blob once and hands the open file to a helper."""

from __future__ import annotations

import builtins
import io
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from deadweight import static as S
from deadweight.cli._group import cli
from deadweight.sources import layout

STATUS = b"Package: libc6\nStatus: install ok installed\nVersion: 2.36\n\n"
BASE = [
    S.Step(
        "ADD rootfs.tar /",
        S.layer(
            [
                S.Dir("etc"),
                S.File("etc/os-release", b"ID=debian\n"),
                S.File("var/lib/dpkg/status", STATUS),
                S.File("bin/sh", b"\x7fELF" + b"s" * 4000, mode=0o755),
            ],
            "gzip",
        ),
    ),
    S.Step("COPY big.bin /app/", S.layer([S.File("app/big.bin", b"b" * 300_000)], "gzip")),
]
TOP_A = [
    S.Step(
        "RUN rm /app/big.bin && echo main > /app/main.py",
        S.layer([S.Whiteout("app/big.bin"), S.File("app/main.py", b"print(1)\n")], "gzip"),
    ),
    S.Step(
        "RUN ln /app/main.py /app/again.py && ln -s main.py /app/link",
        S.layer(
            [S.Hardlink("app/again.py", "app/main.py"), S.Symlink("app/link", "main.py")],
            "gzip",
        ),
    ),
]
TOP_B = [S.Step("COPY other.py /app/", S.layer([S.File("app/other.py", b"x = 2\n")], "gzip"))]


@pytest.fixture
def images(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Image A (4 layers) and image B (A's 2 bottom layers and one of its own) as OCI
    layouts, with an empty layer store and helpers allowed (as on 2 CPUs)."""
    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    a, b = tmp_path / "a", tmp_path / "b"
    layout.write([S.image(BASE + TOP_A, repo_tags=("a:1",))], a)
    layout.write([S.image(BASE + TOP_B, repo_tags=("b:1",))], b)
    return a, b


def layer_blobs(root: Path) -> list[str]:
    """The blob digests (hex) of the layers of the one image of the layout at ``root``."""
    index = json.loads((root / "index.json").read_text())
    digest = index["manifests"][0]["digest"].split(":")[1]
    manifest = json.loads((root / "blobs" / "sha256" / digest).read_text())
    return [layer["digest"].split(":")[1] for layer in manifest["layers"]]


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Every file opened in this process, by name (the helpers read what is handed to
    them; they open nothing)."""
    seen: Counter[str] = Counter()
    real_open, real_io_open, real_os_open = builtins.open, io.open, os.open

    def spy(real: Callable[..., Any]) -> Callable[..., Any]:
        def opening(file: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(file, str | Path):
                seen[os.path.basename(file)] += 1
            return real(file, *args, **kwargs)

        return opening

    monkeypatch.setattr(builtins, "open", spy(real_open))
    monkeypatch.setattr(io, "open", spy(real_io_open))
    monkeypatch.setattr(os, "open", spy(real_os_open))
    yield seen


def streams(seen: Counter[str], blobs: list[str]) -> list[int]:
    return [seen[b] for b in blobs]


def invoke(*args: str) -> None:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code in (0, 1), result.output  # lint exits 1 on its findings


def test_analyze_streams_each_layer_once(images: tuple[Path, Path], opened: Counter[str]) -> None:
    a, _ = images
    invoke("analyze", "--no-cache", "--format", "json", f"oci:{a}")
    assert streams(opened, layer_blobs(a)) == [1, 1, 1, 1]


def test_lint_image_streams_each_layer_once(
    images: tuple[Path, Path], opened: Counter[str]
) -> None:
    a, _ = images
    invoke("lint", "--no-cache", f"oci:{a}")
    assert streams(opened, layer_blobs(a)) == [1, 1, 1, 1]


def test_diff_streams_each_layer_it_needs_once(
    images: tuple[Path, Path], opened: Counter[str]
) -> None:
    a, b = images
    invoke("diff", "--no-cache", "--format", "json", f"oci:{a}", f"oci:{b}")
    # The shared layers are only sized (a header scan: the medium does not know docker's
    # size); the others are read into deltas; each layer once, a shared one for both.
    assert streams(opened, layer_blobs(a)) == [1, 1, 1, 1]
    assert streams(opened, layer_blobs(b)) == [1, 1, 1]


def test_a_warm_store_streams_no_layer(images: tuple[Path, Path], opened: Counter[str]) -> None:
    a, b = images
    invoke("analyze", "--format", "json", f"oci:{a}")
    invoke("diff", "--format", "json", f"oci:{a}", f"oci:{b}")  # sizes and B's top stored
    opened.clear()
    invoke("analyze", "--format", "json", f"oci:{a}")
    invoke("diff", "--format", "json", f"oci:{a}", f"oci:{b}")
    assert streams(opened, layer_blobs(a)) == [0, 0, 0, 0]
    assert streams(opened, layer_blobs(b)) == [0, 0, 0]


def test_export_streams_each_layer_once_from_a_warm_store(
    images: tuple[Path, Path], opened: Counter[str], tmp_path: Path
) -> None:
    a, _ = images
    blobs = layer_blobs(a)
    invoke("export", f"oci:{a}", "-o", str(tmp_path / "cold"))
    # Cold: each layer is read once, its entries staged beside the destination while its
    # whiteouts apply to what lower layers wrote, in memory flat in the files (issue 16).
    assert streams(opened, blobs) == [1, 1, 1, 1]
    assert (tmp_path / "cold" / "app" / "again.py").read_bytes() == b"print(1)\n"
    assert not (tmp_path / "cold" / "app" / "big.bin").exists()
    invoke("analyze", "--format", "json", f"oci:{a}")  # the deltas, stored
    opened.clear()
    # Warm: the stored deltas decide what survives; only a layer holding a file that is
    # written is read. The second layer's only file is deleted above it, the fourth holds
    # links only: neither is read.
    invoke("export", f"oci:{a}", "-o", str(tmp_path / "warm"))
    assert streams(opened, blobs) == [1, 0, 1, 0]
    assert (tmp_path / "warm" / "app" / "again.py").read_bytes() == b"print(1)\n"
