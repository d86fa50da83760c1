"""Dockerfiles: a BuildKit-faithful parser, hadolint-compatible and DW rules, safe fixes.

::

    from deadweight.dockerfile import lint, parse

    result = lint(text, path="Dockerfile")
    for f in result.findings:
        print(f.line, f.code, f.severity.label, f.message)
"""

from __future__ import annotations

# not `typing.TYPE_CHECKING`: start-up of `deadweight lint FILE` (issue 14)
_TYPE_CHECKING = False
if _TYPE_CHECKING:
    from deadweight.dockerfile.config import LintConfig, load_config, parse_config
    from deadweight.dockerfile.findings import Finding, Fix, LintResult, Severity
    from deadweight.dockerfile.linting import lint, lint_file
    from deadweight.dockerfile.parser import parse
    from deadweight.dockerfile.syntax import Dockerfile, Instruction

# The public names, loaded from their modules on first use: ``deadweight lint FILE``
# starts ShellCheck once the file is parsed, and imports the rest (settings, stages,
# pragmas, rules) while ShellCheck works.
_EXPORTS = {
    **dict.fromkeys(("LintConfig", "load_config", "parse_config"), "config"),
    **dict.fromkeys(("Finding", "Fix", "LintResult", "Severity"), "findings"),
    **dict.fromkeys(("lint", "lint_file"), "linting"),
    "parse": "parser",
    **dict.fromkeys(("Dockerfile", "Instruction"), "syntax"),
}


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'deadweight.dockerfile' has no attribute {name!r}")
    import importlib  # here, not at import: lint start-up (issue 14)

    value = getattr(importlib.import_module(f"deadweight.dockerfile.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "Dockerfile",
    "Finding",
    "Fix",
    "Instruction",
    "LintConfig",
    "LintResult",
    "Severity",
    "lint",
    "lint_file",
    "load_config",
    "parse",
    "parse_config",
]
