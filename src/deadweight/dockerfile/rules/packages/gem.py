"""gem (Ruby): pinning."""

from __future__ import annotations

from collections.abc import Iterator

from deadweight.dockerfile.rule import Context, Doc, Hit, Rule
from deadweight.dockerfile.rules.packages._common import W


def _dl3028(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        for c in site.script.commands:
            if c.name != "gem" or not c.has_arg("install", "i") or c.has_flag("v", "version"):
                continue
            pkgs = [p for p in c.positional() if p not in ("install", "i")]
            if not all(":" in p for p in pkgs):
                yield Hit(site.instruction)
                break


DL3028 = Rule(
    "DL3028",
    W,
    "Pin versions in gem install. Instead of `gem install <gem>` use `gem install <gem>:<version>`",
    _dl3028,
    Doc(
        "Unpinned gems make builds unrepeatable.",
        "RUN gem install bundler",
        "RUN gem install bundler:2.4.22",
    ),
)


RULES = (DL3028,)
