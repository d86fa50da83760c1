"""What a rule is: an ID, a default severity, a message, a doc page and a pure check."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from deadweight.dockerfile.findings import Fix, Severity
from deadweight.dockerfile.record import field, record
from deadweight.dockerfile.stages import Build
from deadweight.dockerfile.syntax import Instruction


@record
class Context:
    """What a check may read besides the Dockerfile: settings and the build context."""

    build: Build
    trusted_registries: tuple[str, ...] = ()
    allowed_images: tuple[str, ...] = ()
    dockerignore: str | None = None
    has_context: bool = False


@record
class Hit:
    """Where a check fired; ``message`` overrides the rule's when the detail matters."""

    instruction: Instruction
    message: str | None = None
    fix: Fix | None = None
    suggestion: str | None = None


@record
class Doc:
    """The page ``--explain`` prints."""

    why: str
    bad: str
    good: str


Check = Callable[[Context], Iterable[Hit]]


@record
class Rule:
    code: str
    severity: Severity
    message: str
    check: Check
    doc: Doc = field(default=Doc("", "", ""))
    suggestion: str = ""
    enabled: bool = True
