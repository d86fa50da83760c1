"""Which files a lint target names: a Dockerfile, or the Dockerfiles in a folder."""

from __future__ import annotations

from pathlib import Path

from deadweight.errors import NotFound, UsageError

_SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "__pycache__"})


def is_dockerfile_name(path: Path) -> bool:
    """``Dockerfile``, ``Containerfile``, ``*.Dockerfile``, ``Dockerfile.*`` (not ignores)."""
    name = path.name
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


def dockerfiles_of(path: Path) -> list[Path]:
    """The Dockerfiles a target names; a folder holding none is a usage error, not a pass."""
    found = find_dockerfiles(path)
    if not found and is_dockerfile_name(path):
        raise UsageError(f"{path}: is a directory, not a Dockerfile")
    if not found:
        raise UsageError(f"{path}: no Dockerfile here (Dockerfile, *.Dockerfile, Dockerfile.*)")
    return found


def is_dockerfile_target(arg: str) -> bool:
    """An existing Dockerfile, or a folder holding Dockerfiles, is linted as a Dockerfile;
    anything else (an image archive or layout, a transport string, a name) as an image."""
    path = Path(arg)
    if path.is_dir():
        image_dir = any((path / n).exists() for n in ("index.json", "manifest.json"))
        return not image_dir or bool(find_dockerfiles(path))
    if path.is_file():
        if is_dockerfile_name(path):
            return True
        import tarfile

        return not tarfile.is_tarfile(path)
    return False
