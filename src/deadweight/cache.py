"""The embedded store: per-layer results keyed by diff_id, in SQLite.

A diff_id names the uncompressed content of a layer, so what is computed from it never
goes stale. The store lives under the user's cache directory (``DEADWEIGHT_CACHE_DIR``
overrides it); any failure to open or write it degrades to no caching, never to an error.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


def default_path() -> Path:
    override = os.environ.get("DEADWEIGHT_CACHE_DIR")
    if override:
        return Path(override) / "layers.sqlite"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("deadweight")) / "layers.sqlite"


class LayerStore:
    """diff_id → docker size, and per-layer analysis results, persisted across runs."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self._db: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
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

    def get(self, diff_id: str) -> int | None:
        if self._db is None:
            return None
        try:
            row = self._db.execute(
                "SELECT size FROM layer_size WHERE diff_id = ?", (diff_id,)
            ).fetchone()
        except sqlite3.Error:
            return None
        return int(row[0]) if row else None

    def put(self, diff_id: str, size: int) -> None:
        if self._db is None:
            return
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO layer_size (diff_id, size) VALUES (?, ?)", (diff_id, size)
            )
        except sqlite3.Error:
            return

    def get_blob(self, kind: str, diff_id: str) -> bytes | None:
        """A per-layer result serialized by its producer (``kind`` names format and version)."""
        if self._db is None:
            return None
        try:
            row = self._db.execute(
                "SELECT data FROM layer_blob WHERE kind = ? AND diff_id = ?", (kind, diff_id)
            ).fetchone()
        except sqlite3.Error:
            return None
        return bytes(row[0]) if row else None

    def put_blob(self, kind: str, diff_id: str, data: bytes) -> None:
        if self._db is None:
            return
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO layer_blob (kind, diff_id, data) VALUES (?, ?, ?)",
                (kind, diff_id, data),
            )
        except sqlite3.Error:
            return

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
