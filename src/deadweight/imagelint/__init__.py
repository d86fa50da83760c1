"""Linting images: the Dockerfile rules on the Dockerfile rebuilt from the history, plus
what only an image can answer (root user, secrets in env and files, setuid/setgid and
world-writable files, caches and build tools left behind).

::

    from deadweight.imagelint import lint_image

    result = lint_image(image)
    for f in result.findings:
        print(f.line, f.code, f.severity.label, f.message)  # line: the history row
"""

from __future__ import annotations

from deadweight.imagelint.lint import ImageLintResult, lint_image, lint_parts
from deadweight.imagelint.rules import BY_CODE, RULES, ImageRule, explain

__all__ = [
    "BY_CODE",
    "RULES",
    "ImageLintResult",
    "ImageRule",
    "explain",
    "lint_image",
    "lint_parts",
]
