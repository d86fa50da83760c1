"""Dockerfiles: a BuildKit-faithful parser, hadolint-compatible and DW rules, safe fixes.

::

    from deadweight.dockerfile import lint, parse

    result = lint(text, path="Dockerfile")
    for f in result.findings:
        print(f.line, f.code, f.severity.label, f.message)
"""

from __future__ import annotations

from deadweight.dockerfile.config import LintConfig, load_config, parse_config
from deadweight.dockerfile.findings import Finding, Fix, LintResult, Severity
from deadweight.dockerfile.linting import lint, lint_file
from deadweight.dockerfile.parser import parse
from deadweight.dockerfile.syntax import Dockerfile, Instruction

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
