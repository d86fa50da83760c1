"""deadweight: find and remove the dead weight in container images.

The library first, the CLI on top::

    import deadweight

    image = deadweight.open_image("docker-archive:app.tar")
    report = deadweight.analyze(image)                  # Analysis
    change = deadweight.diff(image, deadweight.open_image("oci:./next"))   # ImageDiff
    plan = deadweight.plan(image, level="safe")          # Plan
    smaller = deadweight.apply(image, plan)              # a new, lazy Image
    deadweight.validate(smaller).check()
    deadweight.write_image(smaller, deadweight.locate("docker-archive:small.tar"))

Every public name is loaded from its module on first use (PEP 562), so ``import
deadweight`` costs almost nothing: ``deadweight lint FILE`` starts in one process per
file and must not pay for the analyzer.
"""

from __future__ import annotations

# not `typing.TYPE_CHECKING`: importing typing is a noticeable part of the start-up of
# `deadweight lint FILE` (issue 14); private, so it stays out of the public names
_TYPE_CHECKING = False
if _TYPE_CHECKING:
    from deadweight.analysis.analyze import analyze
    from deadweight.analysis.report import Analysis
    from deadweight.analysis.sizes import layer_sizes
    from deadweight.cache import LayerStore
    from deadweight.compare.diff import compare as diff
    from deadweight.compare.result import ImageDiff
    from deadweight.dockerfile.findings import Finding, LintResult
    from deadweight.dockerfile.linting import lint
    from deadweight.errors import (
        AuthError,
        CorruptImage,
        DeadweightError,
        DigestMismatch,
        EngineError,
        InvalidReference,
        NetworkError,
        NotFound,
        RegistryError,
        UnsafeLayer,
        UnsupportedMediaType,
        UsageError,
    )
    from deadweight.history import HistoryRow, history_rows
    from deadweight.image import Image, Layer
    from deadweight.imagelint.lint import ImageLintResult, lint_image
    from deadweight.optimize.planning import Plan, apply, plan
    from deadweight.platform import Platform
    from deadweight.reference import Reference
    from deadweight.sources import Location, list_images, locate, open_image, write_image
    from deadweight.validation import Validation, validate

__version__ = "0.1.0"

# The public names, loaded from their modules on first use: ``import deadweight.x`` (the
# CLI's commands, the layer-reading helper process) then costs only what ``x`` needs.
# A value is the module, or ``module:attribute`` when the public name differs: compare's
# verb is ``diff`` here, as ``deadweight.compare`` is its package.
_EXPORTS = {
    "analyze": "deadweight.analysis.analyze",
    "Analysis": "deadweight.analysis.report",
    "layer_sizes": "deadweight.analysis.sizes",
    "LayerStore": "deadweight.cache",
    "diff": "deadweight.compare.diff:compare",
    "ImageDiff": "deadweight.compare.result",
    "Finding": "deadweight.dockerfile.findings",
    "LintResult": "deadweight.dockerfile.findings",
    "lint": "deadweight.dockerfile.linting",
    **dict.fromkeys(
        (
            "AuthError",
            "CorruptImage",
            "DeadweightError",
            "DigestMismatch",
            "EngineError",
            "InvalidReference",
            "NetworkError",
            "NotFound",
            "RegistryError",
            "UnsafeLayer",
            "UnsupportedMediaType",
            "UsageError",
        ),
        "deadweight.errors",
    ),
    "HistoryRow": "deadweight.history",
    "history_rows": "deadweight.history",
    "Image": "deadweight.image",
    "Layer": "deadweight.image",
    "ImageLintResult": "deadweight.imagelint.lint",
    "lint_image": "deadweight.imagelint.lint",
    "Plan": "deadweight.optimize.planning",
    "apply": "deadweight.optimize.planning",
    "plan": "deadweight.optimize.planning",
    "Platform": "deadweight.platform",
    "Reference": "deadweight.reference",
    "Location": "deadweight.sources",
    "list_images": "deadweight.sources",
    "locate": "deadweight.sources",
    "open_image": "deadweight.sources",
    "write_image": "deadweight.sources",
    "Validation": "deadweight.validation",
    "validate": "deadweight.validation",
}


def __getattr__(name: str) -> object:
    where = _EXPORTS.get(name)
    if where is None:
        raise AttributeError(f"module 'deadweight' has no attribute {name!r}")
    import importlib  # here, not at import: lint start-up (issue 14)

    module, _, attribute = where.partition(":")
    value = getattr(importlib.import_module(module), attribute or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "Analysis",
    "AuthError",
    "CorruptImage",
    "DeadweightError",
    "DigestMismatch",
    "EngineError",
    "Finding",
    "HistoryRow",
    "Image",
    "ImageDiff",
    "ImageLintResult",
    "InvalidReference",
    "Layer",
    "LayerStore",
    "LintResult",
    "Location",
    "NetworkError",
    "NotFound",
    "Plan",
    "Platform",
    "Reference",
    "RegistryError",
    "UnsafeLayer",
    "UnsupportedMediaType",
    "UsageError",
    "Validation",
    "analyze",
    "apply",
    "diff",
    "history_rows",
    "layer_sizes",
    "lint",
    "lint_image",
    "list_images",
    "locate",
    "open_image",
    "plan",
    "validate",
    "write_image",
]
