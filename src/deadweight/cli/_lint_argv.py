"""``deadweight lint`` without click, for the common calls (issue 14).

Editors and pre-commit hooks run ``deadweight lint FILE...`` once per file; click's
import is a large part of that start-up. The calls read here are Dockerfile paths with
``--format``, ``--failure-threshold``, ``--ignore`` and ``--config``; anything else
(``--fix``, ``--explain``, images, ``--help``, a value click would refuse) returns
without doing anything, and the click command runs as usual, with its own messages.
"""

from __future__ import annotations

import os
import sys

from deadweight.cli._errors import guarded

_VALUED = ("--format", "--failure-threshold", "--ignore", "--config")
_THRESHOLDS = ("error", "warning", "info", "style", "none")


def _read(argv: list[str]) -> tuple[list[str], dict[str, str], list[str]] | None:
    """(paths, options given once, ``--ignore`` values) of a call this path can run."""
    paths: list[str] = []
    options: dict[str, str] = {}
    ignores: list[str] = []
    i = 0
    only_paths = False
    while i < len(argv):
        arg = argv[i]
        i += 1
        if only_paths or not arg.startswith("-"):
            if not arg:
                return None
            paths.append(arg)
            continue
        if arg == "--":
            only_paths = True
            continue
        name, eq, value = arg.partition("=")
        if name not in _VALUED:
            return None
        if not eq:
            if i >= len(argv):
                return None
            value = argv[i]
            i += 1
        if name == "--ignore":
            ignores.append(value)
        elif name in options:
            return None  # given twice: let click decide
        else:
            options[name] = value
    return paths, options, ignores


def lint_without_click(argv: list[str]) -> None:
    """Run ``deadweight lint ARGV`` and exit, when the call is one of the common ones."""
    from deadweight.render.lint import FORMATS

    read = _read(argv)
    if read is None or not read[0]:
        return
    paths, options, ignores = read
    fmt = options.get("--format", "tty")
    threshold = options.get("--failure-threshold")
    config = options.get("--config")
    if fmt not in FORMATS or (threshold is not None and threshold not in _THRESHOLDS):
        return
    from deadweight.cli._lint_run import run_lint
    from deadweight.dockerfile.targets import is_dockerfile_target

    if not all(p != "-" and os.path.exists(p) and is_dockerfile_target(p) for p in paths):
        return  # images, and paths that do not exist: click's command says what they are
    try:
        guarded(
            lambda: run_lint(
                tuple(paths),
                fmt=fmt,
                failure_threshold=threshold,
                ignores=tuple(ignores),
                config_path=config,
            )
        )
    except SystemExit as done:  # guarded always exits
        if isinstance(done.code, int):
            _exit_now(done.code)
        raise


def _exit_now(code: int) -> None:
    """Exit at once, without tearing the interpreter's modules down (a tenth of a small
    file's lint, issue 14): the output is written and flushed, ShellCheck waited for,
    and a lint of Dockerfiles leaves no file or process behind to clean up."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            continue  # a reader gone (| head), or a closed stream: nothing more to write
    os._exit(code)
