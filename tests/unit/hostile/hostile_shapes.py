"""Valid but hostile images (issue 16), written as ``docker save`` archives.

Shared by the unit tests in this folder and ``bench/hostile_bench.py``: a very deep path,
an image of very many layers (one layer file named again and again, so the archive stays
small), and a small gzip layer of very many empty files.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

from deadweight.digest import sha256_bytes


def _member(tar: tarfile.TarFile, name: str, data: bytes, mtime: int = 0) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), mtime, 0o644
    tar.addfile(info, io.BytesIO(data))


def docker_archive(path: Path, layers: list[bytes], *, history: int | None = None) -> Path:
    """A ``docker save`` archive of one image with these layer tars (uncompressed or gzip),
    each stored once however often it is named; ``history`` rows (all empty but one per
    layer) default to one per layer."""
    diff_ids, names, stored = [], [], {}
    for blob in layers:
        raw = gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob
        diff_ids.append(sha256_bytes(raw))
        name = f"blobs/sha256/{hashlib.sha256(blob).hexdigest()}"
        stored[name] = blob
        names.append(name)
    rows: list[dict[str, object]] = [
        {"created": "2026-01-01T00:00:00Z", "created_by": f"RUN step {i}"}
        for i in range(len(layers))
    ]
    extra = (history or len(layers)) - len(layers)
    rows += [
        {"created": "2026-01-01T00:00:00Z", "created_by": "ENV X=1", "empty_layer": True}
    ] * max(0, extra)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["/bin/sh"]},
            "created": "2026-01-01T00:00:00Z",
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": rows,
        },
        separators=(",", ":"),
    ).encode()
    config_name = f"blobs/sha256/{hashlib.sha256(config).hexdigest()}"
    manifest = json.dumps(
        [{"Config": config_name, "RepoTags": ["hostile:1"], "Layers": names}]
    ).encode()
    with tarfile.open(path, "w") as tar:
        _member(tar, config_name, config)
        for name, blob in stored.items():
            _member(tar, name, blob)
        _member(tar, "manifest.json", manifest)
    return path


def tar_of(entries: list[tarfile.TarInfo], data: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info in entries:
            body = (data or {}).get(info.name)
            tar.addfile(info, io.BytesIO(body) if body is not None else None)
    return buf.getvalue()


def deep_path_layer(depth: int) -> bytes:
    """Directories ``d/d/.../d`` ``depth`` deep, each with a small file beside its child."""
    entries, data = [], {}
    for level in range(1, depth + 1):
        d = tarfile.TarInfo("/".join(["d"] * level))
        d.type, d.mode = tarfile.DIRTYPE, 0o755
        entries.append(d)
        f = tarfile.TarInfo(d.name + "/f")
        f.size = 2
        data[f.name] = b"x\n"
        entries.append(f)
    return tar_of(entries, data)


def many_empty_files_layer(count: int, per_dir: int = 1000, first: bytes = b"") -> bytes:
    """A gzip layer of ``count`` empty files, ``per_dir`` to a directory: tiny compressed;
    ``first``: the first file's content instead (another layer, the same paths)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for i in range(count):
            if i % per_dir == 0:
                d = tarfile.TarInfo(f"d{i // per_dir}")
                d.type, d.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(d)
            info = tarfile.TarInfo(f"d{i // per_dir}/f{i}")
            if i == 0 and first:
                info.size = len(first)
                tar.addfile(info, io.BytesIO(first))
            else:
                tar.addfile(info)
    return gzip.compress(raw.getvalue(), compresslevel=9, mtime=0)


def small_layer(content: bytes = b"host\n") -> bytes:
    info = tarfile.TarInfo("etc/hostname")
    info.size = len(content)
    return tar_of([info], {"etc/hostname": content})
