"""The base image, as far as an image's history can tell: the one place ``diff``,
``optimize``, ``analyze`` and ``lint IMAGE`` learn it (``compare.base`` for images,
``dockerfile.reconstruct`` for its rebuilt Dockerfile), so they never disagree.

The base's name is never recorded. Its rows are told from the image's own by the places
where one build ended: an imported layer (``docker import``), a row no Dockerfile
instruction made followed by one that is, a switch between the classic builder and
BuildKit (whose rows carry the comment ``buildkit.dockerfile.v0``), and a CMD/ENTRYPOINT
followed by more instructions and a layer (a base ends with its command; an image's own
CMD followed only by EXPOSE or USER does not make its layers a base). The well-known
rootfs pattern of official images (``ADD file:… in /`` then ``CMD``) ends a base too,
and gives a best guess of its name. The base is everything up to the last such place.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from deadweight.dockerfile.words import pairs


class Row(Protocol):
    """What the split needs of one parsed history row (``reconstruct.Step``)."""

    @property
    def created_by(self) -> str: ...

    @property
    def layer(self) -> int | None: ...

    @property
    def keyword(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def builder(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Split:
    """``rows`` history rows (``layers`` layers) are the base's; the first ``guessed`` of
    them look like the official image ``name`` (0 and "" when they do not)."""

    rows: int
    layers: int
    guessed: int = 0
    name: str = ""


def split(steps: Sequence[Row]) -> Split:
    """Where the base ends in ``steps`` (bottom first)."""
    guessed, name = _guess(steps)
    cuts = [b for b in _boundaries(steps) if b < len(steps)]
    if guessed and guessed < len(steps) and guessed not in cuts:
        cuts.append(guessed)
    base = max(cuts, default=0)
    if guessed > base:
        guessed, name = 0, ""
    layers = sum(1 for s in steps[:base] if s.layer is not None)
    return Split(base, layers, guessed, name)


def rootfs(step: Row) -> bool:
    """Whether ``step`` writes a whole root file system (an official image's first layer)."""
    if step.builder in ("import", "other") and step.layer is not None:
        return True
    if step.keyword != "ADD":
        return False
    words = step.text.split()
    return len(words) >= 3 and words[-1] == "/"


def _guess(steps: Sequence[Row]) -> tuple[int, str]:
    """(rows, name) when the history starts like an official image's rootfs, else (0, "")."""
    i = 0
    labels: dict[str, str] = {}
    while i < len(steps) and steps[i].keyword in ("ARG", "LABEL"):
        for k, v in pairs(steps[i].text.partition(" ")[2], {}):
            labels[k] = v.strip('"')
        i += 1
    if i >= len(steps) or not rootfs(steps[i]):
        return 0, ""
    first = steps[i]
    i += 1
    while i < len(steps) and steps[i].keyword in ("ARG", "LABEL", "ENV"):
        i += 1
    if i >= len(steps) or steps[i].keyword != "CMD":
        return 0, ""
    cmd = steps[i].text.removeprefix("CMD ")
    version = ""
    m = re.search(r"alpine-minirootfs-(\d+(?:\.\d+)*)", first.text)
    suite = re.search(r"debian\.sh .*?'([a-z]+)'", first.created_by)
    if cmd in ('["/bin/sh"]', "/bin/sh"):
        name, version = "alpine", m.group(1) if m else ""
    elif cmd in ('["sh"]', "sh"):
        name = "busybox"
    elif cmd in ('["bash"]', "bash"):
        name, version = "debian", suite.group(1) if suite else ""
    elif cmd in ('["/bin/bash"]', "/bin/bash"):
        name = labels.get("org.opencontainers.image.ref.name", "ubuntu")
        version = labels.get("org.opencontainers.image.version", "")
    else:
        return 0, ""
    return i + 1, f"{name}:{version}" if version else name


def _boundaries(steps: Sequence[Row]) -> list[int]:
    """Row counts after which one build ended and another began."""
    found: list[int] = []
    last_layer = max((i for i, s in enumerate(steps) if s.layer is not None), default=-1)
    for i, s in enumerate(steps[:-1]):
        nxt = steps[i + 1]
        ended = s.builder == "import" or (
            s.builder == "other" and not s.keyword and nxt.builder != "other"
        )
        switched = {s.builder, nxt.builder} == {"classic", "buildkit"}
        trailer = (
            s.keyword in ("CMD", "ENTRYPOINT")
            and nxt.keyword not in ("CMD", "ENTRYPOINT")
            and i < last_layer  # the image's own CMD, then EXPOSE or USER: not a base
        )
        if ended or switched or trailer:
            found.append(i + 1)
    return found
