"""What a squash may change besides dropping paths: files it writes and owners it sets.

``Edit`` is applied to the squashed layer only (see ``squash_merge``): ``files`` are regular
files written there (a new version of a lower file, or a new file), ``owner`` sets the uid and
gid of every entry at or below one directory the squashed layer holds (the directory itself
is written there too when a kept layer holds it, so its owner changes with it), ``remove``
names directories that go with everything below them: the squash's ``drop`` must have
dropped every non-directory there, and no kept layer may hold them (no whiteout is needed).
``with_config`` changes the runtime config (``config.Cmd``, ``config.User``, ...).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from deadweight.errors import CorruptImage
from deadweight.image import Image, assemble


@dataclass(frozen=True, slots=True)
class NewFile:
    """A regular file the squashed layer writes: ``data``, ``mode``, owned by root."""

    path: str
    data: bytes
    mode: int = 0o644


@dataclass(frozen=True, slots=True)
class Owner:
    """Entries at and below ``path`` get ``uid``/``gid``."""

    path: str
    uid: int
    gid: int

    def covers(self, path: str) -> bool:
        return path == self.path or path.startswith(self.path + "/")


@dataclass(frozen=True, slots=True)
class Edit:
    files: tuple[NewFile, ...] = ()
    owner: Owner | None = None
    remove: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.files) or self.owner is not None or bool(self.remove)


def with_config(image: Image, changes: Mapping[str, Any]) -> Image:
    """A new image whose runtime config (the config's ``config`` object) has ``changes``:
    a value of None removes the key. Layers are shared; history is kept."""
    if not changes:
        return image
    doc = config_document(image)
    runtime = doc.setdefault("config", {})
    if not isinstance(runtime, dict):
        raise CorruptImage("config: 'config' is not an object")
    for key, value in changes.items():
        if value is None:
            runtime.pop(key, None)
        else:
            runtime[key] = value
    raw = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    return assemble(raw, list(image.layers), repo_tags=image.repo_tags, source=image.source)


def config_document(image: Image) -> dict[str, Any]:
    """A copy of the image's config as it was read (decoded once, the way every command
    decodes it: ``spec.document``), for a transformation to change."""
    doc = msgspec.json.decode(msgspec.json.encode(image.config.document))
    if not isinstance(doc, dict):
        raise CorruptImage("image config: not a JSON object")
    return doc
