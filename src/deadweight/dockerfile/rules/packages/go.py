"""go install: pinning."""

from __future__ import annotations

from collections.abc import Iterator

from deadweight.dockerfile.rule import Context, Doc, Hit, Rule
from deadweight.dockerfile.rules.packages._common import W
from deadweight.dockerfile.shell import Command


def _packages(commands: list[Command]) -> list[str]:
    """The words hadolint checks, read its way: the words of ``go`` that are not flags
    (a flag's value stays a word); of a ``go run``, the one word after ``run``, else of
    ``go install``/``go get`` every word but ``install``, ``get`` and ``tool``."""
    ran: list[str] = []
    got: list[str] = []
    for c in commands:
        if c.name != "go":
            continue
        words = [a for a in c.args if a in ("-", "--") or not a.startswith("-")]
        if "run" in c.args:
            ran.extend(w for i, w in enumerate(words) if w != "run" and i <= 1)
        if "install" in c.args or "get" in c.args:
            got.extend(w for w in words if w not in ("install", "get", "tool"))
    return ran or got


def _pinned(package: str) -> bool:
    if package == "." or package.startswith(("/", ".")):
        return True  # a local path
    # ``@latest`` moves: it is no pin (hadolint's isTagsVersion; issue 14)
    return "@" in package and not package.endswith(("@latest", "@none"))


def _dl3062(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        if not all(_pinned(p) for p in _packages(list(site.script.commands))):
            yield Hit(site.instruction)


DL3062 = Rule(
    "DL3062",
    W,
    "Pin versions in go. Instead of `go install <package>` use `go install <package>@<version>`",
    _dl3062,
    Doc(
        "Unpinned modules make builds unrepeatable.",
        "RUN go install golang.org/x/tools/gopls",
        "RUN go install golang.org/x/tools/gopls@v0.14.2",
    ),
)


RULES = (DL3062,)
