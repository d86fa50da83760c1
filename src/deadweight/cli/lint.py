"""``deadweight lint PATH...``: lint Dockerfiles, print findings, fix what is safe to fix."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from deadweight import __version__
from deadweight.cli._errors import EXIT_POLICY
from deadweight.dockerfile.config import LintConfig, find_config, load_config, parse_threshold
from deadweight.dockerfile.explain import explain
from deadweight.dockerfile.findings import LintResult
from deadweight.dockerfile.fixes import fixed_source, unified_diff, write_atomically
from deadweight.dockerfile.lint import dockerignore_for, read_dockerfile
from deadweight.dockerfile.lint import lint as lint_text
from deadweight.dockerfile.rules import BY_CODE
from deadweight.errors import NotFound
from deadweight.render.lint import FORMATS, render

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


def _config_for(path: Path, explicit: Path | None) -> LintConfig:
    if explicit is not None:
        return load_config(explicit)
    found = find_config(path.parent, Path.cwd())
    return load_config(found) if found is not None else LintConfig()


@click.command(name="lint")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
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
def lint_command(
    paths: tuple[Path, ...],
    fmt: str,
    failure_threshold: str | None,
    ignores: tuple[str, ...],
    config_path: Path | None,
    fix: bool,
    show_diff: bool,
    explain_rule: str | None,
) -> None:
    """Lint Dockerfiles (files, or folders searched for Dockerfile, *.Dockerfile, Dockerfile.*).

    Rules carry hadolint's IDs where the check is the same (so `# hadolint ignore=`
    pragmas and .hadolint.yaml keep working) and DW IDs for deadweight's own.
    """
    if explain_rule is not None:
        click.echo(explain(explain_rule), nl=False)
        return
    if not paths:
        raise click.UsageError("give at least one Dockerfile or folder (or --explain RULE)")
    files = [f for p in paths for f in find_dockerfiles(p)]
    results: list[LintResult] = []
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
            source, path=str(path), config=config, dockerignore=ignore_text, has_context=True
        )
        if fix or show_diff:
            after = fixed_source(source, result)
            if show_diff and after != source:
                click.echo(unified_diff(str(path), source, after), nl=False)
            if fix and after != source:
                write_atomically(path, after)
                click.echo(f"deadweight: fixed {path}", err=True)
                result = lint_text(
                    after, path=str(path), config=config, dockerignore=ignore_text, has_context=True
                )
        failed = failed or result.failed(threshold)
        results.append(result)
    if not show_diff or fix:
        color = fmt == "tty" and sys.stdout.isatty()
        rules = {code: r.message for code, r in BY_CODE.items()}
        click.echo(render(fmt, results, rules=rules, version=__version__, color=color), nl=False)
    if failed:
        # click's main(standalone_mode=False) returns an Exit's code instead of raising
        # it, and cli._errors.run drops return values; SystemExit goes through both.
        sys.exit(EXIT_POLICY)


lint = lint_command
