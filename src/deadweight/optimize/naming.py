"""The name an optimized image gets when its destination names no tag.

``docker load`` of an untagged archive leaves ``<none>:<none>``; defaulting to ``latest``
would replace the source's own tag in an engine. So the result is called after its
source, with ``-deadweight`` appended to the tag: ``node:16`` -> ``node:16-deadweight``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from deadweight.errors import InvalidReference
from deadweight.reference import Reference

SUFFIX = "-deadweight"
_MAX_TAG = 128


def derived_tag(tag: str) -> str:
    """The source's tag (``latest`` when it has none) with the suffix, within 128 chars."""
    return (tag or "latest")[: _MAX_TAG - len(SUFFIX)] + SUFFIX


def _repository_of(text: str) -> Reference | None:
    try:
        return Reference.parse(text, default_tag=False)
    except InvalidReference:
        return None


def _from_file_name(name: str) -> str:
    """A repository name made of a file name: ``My App.tar.gz`` -> ``my-app``."""
    stem = name.rsplit("/", 1)[-1].lower()
    for suffix in (".gz", ".zst", ".xz", ".tgz", ".tar", ".oci"):
        stem = stem.removesuffix(suffix)
    words = re.findall(r"[a-z0-9]+", stem)
    return "-".join(words) or "image"


def source_reference(repo_tags: Sequence[str], *, reference: str = "", path: str = "") -> Reference:
    """The source's own name: its first tag, else the reference it was opened by (an
    engine's or a registry's), else a name made of its file or directory name."""
    for text in (*repo_tags, reference):
        ref = _repository_of(text) if text else None
        if ref is not None:
            return Reference(ref.domain, ref.path, ref.tag)
    return Reference.parse(_from_file_name(path.rstrip("/")), default_tag=False)


def derived_reference(
    repo_tags: Sequence[str], *, reference: str = "", path: str = ""
) -> Reference:
    """The default name of the optimized image (see the module docstring)."""
    ref = source_reference(repo_tags, reference=reference, path=path)
    return ref.with_tag(derived_tag(ref.tag))
