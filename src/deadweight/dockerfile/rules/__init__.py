"""Every rule, in the order findings on one line are reported."""

from __future__ import annotations

from deadweight.dockerfile.rule import Rule
from deadweight.dockerfile.rules import (
    commands,
    instructions,
    multistage,
    packages,
    security,
    size,
)

RULES: tuple[Rule, ...] = (
    *instructions.RULES,
    *multistage.RULES,
    *packages.RULES,
    *commands.RULES,
    *security.RULES,
    *size.RULES,
)

BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}
