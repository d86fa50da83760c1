"""``deadweight lint PATH...``: lint Dockerfiles, print findings, fix what is safe to fix."""

from __future__ import annotations

from pathlib import Path

import click

from deadweight.cli._lint_run import run_lint
from deadweight.dockerfile.targets import find_dockerfiles, is_dockerfile_target
from deadweight.render.lint import FORMATS

__all__ = ["find_dockerfiles", "is_dockerfile_target", "lint", "lint_command"]


@click.command(name="lint")
@click.argument("paths", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="tty", show_default=True)
@click.option(
    "--failure-threshold",
    type=click.Choice(["error", "warning", "info", "style", "none"]),
    default=None,
    help="Exit 1 when a finding is at or above this level (default: config, else info).",
)
@click.option(
    "--ignore", "ignores", multiple=True, metavar="RULE", help="Skip a rule (repeatable)."
)
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
    if not paths and explain_rule is None:
        raise click.UsageError("give at least one Dockerfile or folder (or --explain RULE)")
    run_lint(
        paths,
        fmt,
        failure_threshold,
        ignores,
        config_path,
        fix,
        show_diff,
        explain_rule,
        platform,
        insecure,
        no_cache,
    )


lint = lint_command
