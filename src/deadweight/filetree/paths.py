"""Layer paths made safe: relative to the root, no ``.`` or ``..``, never outside.

Docker cleans every tar name and refuses one that would land outside the root
(``pkg/archive``, "breakoutError"). We do the same once, when a layer is read, so every
later consumer can treat paths as plain keys.
"""

from __future__ import annotations

import posixpath

ROOT = ""


def clean(name: str) -> tuple[str | None, str]:
    """``(path, problem)``: the in-root path of a tar name, or ``None`` when it escapes.

    ``problem`` is "" for an ordinary name, else why the name was unsafe (an absolute name
    is still usable: docker resolves it against the root).
    """
    if name[:1] not in ("/", ".", "") and "//" not in name and "/." not in name:
        return name.rstrip("/"), ""  # no empty, "." or ".." part: the common case
    problem = ""
    if name.startswith("/"):
        problem = "absolute path"
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None, "path escapes the root"
            parts.pop()
            problem = problem or "path contains '..'"
            continue
        parts.append(part)
    return "/".join(parts), problem


def lexical(path: str) -> str:
    """``path`` with its empty, ``.`` and ``..`` parts resolved as text, a ``..`` at the root
    staying there: how a link target is followed inside the image."""
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def parent(path: str) -> str:
    return path.rpartition("/")[0]


def symlink_escapes(path: str, target: str) -> bool:
    """Whether a relative symlink at ``path`` points above the root, read lexically.

    Inside a container the kernel stops ``..`` at the root, so such a link is harmless
    there; it matters to anything that would extract the layer onto a host.
    """
    if target.startswith("/"):
        return False
    depth = len(parent(path).split("/")) if parent(path) else 0
    for part in posixpath.normpath(target).split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


def is_under(path: str, top: str) -> bool:
    """``path`` is ``top`` or below it (``top == ROOT`` holds everything)."""
    return top == ROOT or path == top or path.startswith(top + "/")
