"""The layer cache: per-layer results keyed by diff_id, and its SQLite store.

A diff_id names the uncompressed content of a layer, so what is computed from it never
goes stale. :class:`LayerCache` is the one protocol every reader of layers takes; its rule:
**a layer cache may be called from any thread, and a failure in it is a miss, never an
error.** :class:`LayerStore` keeps it in SQLite under the user's cache directory
(``DEADWEIGHT_CACHE_DIR`` overrides it).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Protocol, TypeVar

T = TypeVar("T")

# What a blob is copied into or out of the store by, at a time.
_CHUNK = 1 << 20


class LayerCache(Protocol):
    """Per-layer results by diff_id: docker's size of the layer, and blobs serialized by
    their producer (``kind`` names the format and its version). Safe to call from any
    thread; a failure is a miss (None), never an error."""

    def get(self, diff_id: str) -> int | None: ...

    def put(self, diff_id: str, size: int) -> None: ...

    def get_blob(self, kind: str, diff_id: str) -> bytes | None: ...

    def put_blob(self, kind: str, diff_id: str, data: bytes) -> None: ...


def default_path() -> Path:
    override = os.environ.get("DEADWEIGHT_CACHE_DIR")
    if override:
        return Path(override) / "layers.sqlite"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("deadweight")) / "layers.sqlite"


def _blob_row(db: sqlite3.Connection, kind: str, diff_id: str) -> tuple[int, int] | None:
    """The rowid and length of a stored blob, without reading it; None if there is none."""
    row = db.execute(
        "SELECT rowid, length(data) FROM layer_blob WHERE kind = ? AND diff_id = ?",
        (kind, diff_id),
    ).fetchone()
    return None if row is None or row[1] is None else (int(row[0]), int(row[1]))


class LayerStore:
    """A :class:`LayerCache` persisted across runs in SQLite. One connection serves every
    thread, one statement at a time."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                self.path, timeout=10, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA journal_mode=WAL")
            # a cache: a commit need not reach the disk before the next (one fsync per
            # layer made an image of 100,000 layers take minutes; issue 16)
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS layer_size (diff_id TEXT PRIMARY KEY, size INTEGER)"
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS layer_blob"
                " (kind TEXT, diff_id TEXT, data BLOB, PRIMARY KEY (kind, diff_id))"
            )
            self._db = db
        except (OSError, sqlite3.Error):
            self._db = None

    def _run(self, use: Callable[[sqlite3.Connection], T]) -> T | None:
        with self._lock:
            if self._db is None:
                return None
            try:
                return use(self._db)
            except sqlite3.Error:
                return None

    def get(self, diff_id: str) -> int | None:
        row = self._run(
            lambda db: db.execute(
                "SELECT size FROM layer_size WHERE diff_id = ?", (diff_id,)
            ).fetchone()
        )
        return int(row[0]) if row else None

    def put(self, diff_id: str, size: int) -> None:
        self._run(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO layer_size (diff_id, size) VALUES (?, ?)", (diff_id, size)
            )
        )

    def get_blob(self, kind: str, diff_id: str) -> bytes | None:
        """The blob, read straight into the one ``bytes`` returned (a ``SELECT`` of the
        column would first make SQLite's own copy of it: for the delta of a layer of a
        million files, 77 MB held twice; issue 16)."""

        def get(db: sqlite3.Connection) -> bytes | None:
            row = _blob_row(db, kind, diff_id)
            if row is None:
                return None
            with db.blobopen("layer_blob", "data", row[0], readonly=True) as blob:
                return blob.read()

        return self._run(get)

    def has_blob(self, kind: str, diff_id: str) -> bool:
        """Whether the store holds the blob, without reading it (a warm run asked this of
        every layer by reading each whole: 77 MB for a layer of a million files)."""
        return self._run(lambda db: _blob_row(db, kind, diff_id)) is not None

    def get_blob_or_spill(
        self, kind: str, diff_id: str, above: int, spill: Callable[[], IO[bytes]]
    ) -> bytes | IO[bytes] | None:
        """:meth:`get_blob`, but a blob longer than ``above`` bytes is copied a chunk at a
        time into the file ``spill`` makes, which is returned (positioned at its start):
        a caller that decodes it from a map of that file gives its pages back as it goes
        (``filetree.record``), where a ``bytes`` is held whole to the end (issue 16)."""

        def get(db: sqlite3.Connection) -> bytes | IO[bytes] | None:
            row = _blob_row(db, kind, diff_id)
            if row is None:
                return None
            with db.blobopen("layer_blob", "data", row[0], readonly=True) as blob:
                if row[1] <= above:
                    return blob.read()
                try:
                    out = spill()
                except OSError:
                    return None  # no room for it: a miss, as any failure here
                try:
                    while chunk := blob.read(_CHUNK):
                        out.write(chunk)
                    out.flush()
                    out.seek(0)
                except OSError:
                    out.close()
                    return None
                except BaseException:
                    out.close()
                    raise
                return out

        return self._run(get)

    def put_blob(self, kind: str, diff_id: str, data: bytes) -> None:
        self._run(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO layer_blob (kind, diff_id, data) VALUES (?, ?, ?)",
                (kind, diff_id, data),
            )
        )

    def put_blob_from(self, kind: str, diff_id: str, file: IO[bytes]) -> None:
        """:meth:`put_blob` of the whole content of ``file`` (from its start), copied a
        chunk at a time into the row: a blob of any size is never held in memory, here or
        by SQLite (which makes its own copy of a bound value). The row appears whole, in
        one transaction, or not at all; a failure reading ``file`` is a miss too."""

        def put(db: sqlite3.Connection) -> None:
            size = os.fstat(file.fileno()).st_size
            db.execute("BEGIN IMMEDIATE")
            try:
                cursor = db.execute(
                    "INSERT OR REPLACE INTO layer_blob (kind, diff_id, data)"
                    " VALUES (?, ?, zeroblob(?))",
                    (kind, diff_id, size),
                )
                if size:
                    with db.blobopen("layer_blob", "data", cursor.lastrowid or 0) as blob:
                        file.seek(0)
                        left = size
                        while left > 0 and (chunk := file.read(min(_CHUNK, left))):
                            blob.write(chunk)
                            left -= len(chunk)
                        if left:
                            raise sqlite3.DataError("the file shrank while it was stored")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

        try:
            self._run(put)
        except OSError:
            return

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
