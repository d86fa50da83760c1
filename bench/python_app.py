"""A ~640 MB Python application image for the benches, built from what is on the machine.

Layers, bottom first (uncompressed sizes from the story fixtures of the integration
suite, ``~/.cache/deadweight/test-fixtures``, which ``tests/integration`` builds):

1. a slim Debian with Python (``rootfs-python-slim``, ~165 MB),
2. the same with the build toolchain and headers (``rootfs-python-dev``, ~440 MB): most of
   layer 1 written again, as a ``RUN apt-get install build-essential python3-dev`` does,
3. the application: ``--app-mb`` of source and data files in ``/app`` (~30 MB by default),
4. ``rm -rf /var/lib/apt/lists /usr/include``: whiteouts.

Written once as a ``docker save`` archive (uncompressed layers) and once as an OCI layout
with gzip layers; both are cached in the work directory.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import BinaryIO

from deadweight import mediatypes
from deadweight import static as s
from deadweight.image import Image, Layer
from deadweight.mutate.compress import gzip_layers
from deadweight.sources import archive, layout
from deadweight.spec.manifest import Descriptor

FIXTURES = Path(os.environ.get("DEADWEIGHT_FIXTURES", "~/.cache/deadweight/test-fixtures"))


def _file_layer(path: Path) -> Layer:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    diff_id = "sha256:" + digest.hexdigest()
    desc = Descriptor(mediatypes.DOCKER_LAYER, diff_id, path.stat().st_size)

    def opener() -> BinaryIO:
        return path.open("rb")

    return Layer(diff_id=diff_id, blob=desc, opener=opener, seekable=True)


def _app_files(mb: int) -> list[s.Entry]:
    """Source files, templates and data of an application: text that compresses as code
    does (about 4x), in a few hundred directories."""
    entries: list[s.Entry] = [s.Dir("app")]
    total, n = 0, 0
    while total < mb * 1_000_000:
        words = [f"name_{(n * 7919 + i * 104729) % 100003:05d}" for i in range(64)]
        body = ("def f(" + ", ".join(words) + "):\n    return 0\n").encode() * (4 + n % 40)
        entries.append(s.File(f"app/pkg{n % 300}/mod{n}.py", body))
        total += len(body)
        n += 1
    return entries


def python_app(app_mb: int = 30) -> Image:
    root = FIXTURES.expanduser()
    slim = root / "rootfs-python-slim" / "rootfs.tar"
    dev = root / "rootfs-python-dev" / "rootfs.tar"
    for p in (slim, dev):
        if not p.is_file():
            raise SystemExit(f"{p}: missing (the integration suite's story fixtures make it)")
    steps = [
        s.Step("ADD rootfs.tar / # python:3.11-slim", _file_layer(slim)),
        s.Step(
            "RUN apt-get update && apt-get install -y build-essential python3-dev",
            _file_layer(dev),
        ),
        s.Step("COPY . /app # buildkit", s.layer(_app_files(app_mb))),
        s.Step(
            "RUN rm -rf /var/lib/apt/lists /usr/include",
            s.layer([s.Whiteout("var/lib/apt/lists"), s.Whiteout("usr/include")]),
        ),
    ]
    return s.image(
        steps,
        repo_tags=("bench/python-app:1",),
        config={"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"], "Cmd": ["python3", "/app/main.py"]},
    )


def write_both(work: Path, app_mb: int = 30) -> tuple[Path, Path]:
    """The docker archive and the gzip OCI layout of :func:`python_app` under ``work``
    (made once; kept for the next run)."""
    tar, oci = work / "python-app.tar", work / "python-app-oci"
    if not tar.exists() or not oci.exists():
        image = python_app(app_mb)
        if not tar.exists():
            archive.write([image], tar)
        if not oci.exists():
            layout.write([gzip_layers(image)], oci)
    return tar, oci


if __name__ == "__main__":
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    print(*write_both(out))
