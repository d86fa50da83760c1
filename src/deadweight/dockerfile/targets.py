"""Which files a lint target names: a Dockerfile, or the Dockerfiles in a folder."""

from __future__ import annotations

import os

from deadweight.errors import NotFound, UsageError

TYPE_CHECKING = False  # not `typing`: lint start-up (issue 14); mypy reads it as True
if TYPE_CHECKING:
    from os import PathLike
    from pathlib import Path

_SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "__pycache__"})


def is_dockerfile_name(path: str | PathLike[str]) -> bool:
    """``Dockerfile``, ``Containerfile``, ``*.Dockerfile``, ``Dockerfile.*`` (not ignores)."""
    name = os.path.basename(os.fspath(path))
    if name.endswith(".dockerignore"):
        return False
    return (
        name in ("Dockerfile", "Containerfile")
        or name.endswith((".Dockerfile", ".dockerfile", ".Containerfile"))
        or name.startswith(("Dockerfile.", "Containerfile."))
    )


def find_dockerfiles(path: Path) -> list[Path]:
    """A file is itself; a directory is searched (not into .git or node_modules)."""
    if not path.exists():
        raise NotFound(f"{path}: no such file or directory")
    if path.is_file():
        return [path]
    found: list[Path] = []
    for child in sorted(path.iterdir()):
        if child.is_dir():
            if child.name not in _SKIP_DIRS:
                found += find_dockerfiles(child)
        elif is_dockerfile_name(child):
            found.append(child)
    return found


def dockerfiles_of(target: str | PathLike[str]) -> list[str | PathLike[str]]:
    """The Dockerfiles a target names: a file is itself, as named (no pathlib on the path of
    ``deadweight lint FILE``: start-up, issue 14); a folder is searched, and one holding
    none is a usage error, not a pass."""
    if os.path.isfile(target):
        return [target]
    from pathlib import Path

    path = Path(target)
    found: list[str | PathLike[str]] = list(find_dockerfiles(path))
    if not found and is_dockerfile_name(path):
        raise UsageError(f"{path}: is a directory, not a Dockerfile")
    if not found:
        raise UsageError(f"{path}: no Dockerfile here (Dockerfile, *.Dockerfile, Dockerfile.*)")
    return found


def is_dockerfile_target(arg: str) -> bool:
    """An existing Dockerfile, or a folder holding Dockerfiles, is linted as a Dockerfile;
    anything else (an image archive or layout, a transport string, a name) as an image."""
    if os.path.isdir(arg):
        from pathlib import Path

        image_dir = any(
            os.path.exists(os.path.join(arg, n)) for n in ("index.json", "manifest.json")
        )
        return not image_dir or bool(find_dockerfiles(Path(arg)))
    if os.path.isfile(arg):
        if is_dockerfile_name(arg):
            return True
        import tarfile

        return not tarfile.is_tarfile(arg)
    return False
