"""Lint Dockerfiles on disk: each with its own settings and ``.dockerignore``, the RUNs
of all of them through one ShellCheck process, and the safe fixes written atomically."""

from __future__ import annotations

import os
from collections.abc import Sequence

from deadweight.dockerfile.config import config_for, failure_threshold
from deadweight.dockerfile.findings import LintResult, Severity
from deadweight.dockerfile.linting import dockerignore_for, lint, read_dockerfile
from deadweight.dockerfile.record import record

TYPE_CHECKING = False  # not `typing`: lint start-up (issue 14); mypy reads it as True
if TYPE_CHECKING:
    from os import PathLike

    from deadweight.dockerfile.shellcheck import ShellFinding


@record
class FileLint:
    """One file's lint: its text before, with the fixes applied, and its findings now."""

    path: str | PathLike[str]  # as the caller named it
    source: str
    fixed: str  # ``source`` with the safe fixes applied (``source`` when none were asked)
    written: bool  # ``fixed`` replaced the file; ``result`` is then the fixed file's
    result: LintResult
    threshold: Severity | None

    @property
    def failed(self) -> bool:
        return self.result.failed(self.threshold)


def lint_files(
    files: Sequence[str | PathLike[str]],
    *,
    config_path: str | PathLike[str] | None = None,
    ignores: tuple[str, ...] = (),
    threshold: str | None = None,
    shellcheck: str | None = None,
    fix: bool = False,
    diff: bool = False,
) -> list[FileLint]:
    """Lint each file with the settings found for it (``config_path`` instead when given),
    less ``ignores``; ``threshold`` overrides the settings' failure threshold. ``diff``
    computes the fixed text; ``fix`` also writes it and lints the file again."""
    sources = [read_dockerfile(path) for path in files]
    shell_findings: list[list[ShellFinding]] | None = None
    if shellcheck is not None and len(files) > 1:
        # one ShellCheck process for every file's RUNs, not one per file
        from deadweight.dockerfile.parser import parse
        from deadweight.dockerfile.shellcheck import check_files

        shell_findings = check_files([parse(source) for source in sources], shellcheck)
    linted: list[FileLint] = []
    for index, (path, source) in enumerate(zip(files, sources, strict=True)):
        config = config_for(path, config_path).ignoring(ignores)
        ignore_text = dockerignore_for(path)
        result = lint(
            source,
            path=os.fspath(path),
            config=config,
            dockerignore=ignore_text,
            has_context=True,
            shellcheck=shellcheck,
            shell_findings=None if shell_findings is None else shell_findings[index],
        )
        after = source
        if fix or diff:
            from deadweight.dockerfile.fixes import fixed_source

            after = fixed_source(source, result)
        written = fix and after != source
        if written:
            from pathlib import Path

            from deadweight.dockerfile.fixes import write_atomically

            write_atomically(Path(path), after)
            result = lint(
                after,
                path=os.fspath(path),
                config=config,
                dockerignore=ignore_text,
                has_context=True,
                shellcheck=shellcheck,
            )
        threshold_now = failure_threshold(config, threshold)
        linted.append(FileLint(path, source, after, written, result, threshold_now))
    return linted
