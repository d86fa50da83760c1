"""go install: pinning."""

from __future__ import annotations

from collections.abc import Iterator

from deadweight.dockerfile.rule import Context, Doc, Hit, Rule
from deadweight.dockerfile.rules.packages._common import W


def _dl3062(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        for c in site.script.commands:
            if c.name != "go" or not c.args or c.args[0] not in ("install", "get", "run"):
                continue
            pkgs = list(c.positional("o", "C", "ldflags", "gcflags", "tags", "modfile"))[1:]
            remote = [p for p in pkgs if not p.startswith((".", "/", "$")) and "/" in p]
            # ``@latest`` moves: it is no pin (hadolint's isTagsVersion; issue 14)
            if any("@" not in p or p.endswith(("@latest", "@none")) for p in remote):
                yield Hit(site.instruction)
                break


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
