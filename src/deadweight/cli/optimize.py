"""``deadweight optimize IMAGE -o DEST``: a smaller image, checked to still work.

The plan and the new image come from ``deadweight.optimize`` (pure); ``runs.optimizing``
applies it, has ``runs.verify`` run the original and the result on the local engine with
``--verify``, and writes the result to its medium (``runs.delivery``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from deadweight.cli._context import Context, with_context
from deadweight.cli._options import echo_raw
from deadweight.cli._report import check_writable, html_option, write_report
from deadweight.errors import UsageError
from deadweight.optimize import Report, plan
from deadweight.optimize.planning import STEP_NAMES
from deadweight.optimize.verify import BODY_RULES
from deadweight.render.optimize import render_text, to_json
from deadweight.runs.delivery import named, refuse_input
from deadweight.runs.optimizing import Checks, optimize_to
from deadweight.runs.optimizing import dry_run as dry_run_report


def parse_epoch(value: int | None) -> int | None:
    if value is not None:
        if value < 0:
            raise UsageError(f"--epoch {value}: must be 0 or more")
        return value
    text = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise UsageError(f"SOURCE_DATE_EPOCH={text!r}: not a number of seconds")
    return int(text)


@click.command()
@click.argument("image")
@click.option("-o", "--output", "dest", metavar="DEST", help="Where to write the result.")
@click.option(
    "--level", type=click.Choice(["safe", "moderate"]), default="safe", show_default=True,
    help="safe: caches and temp files; moderate: also docs, man and info pages, locales, "
    "npm devDependencies, package tests/docs/examples/source maps, npm itself, a non-root user.",
)  # fmt: skip
@click.option(
    "--squash", "squash_mode", type=click.Choice(["own", "all"]), default="own",
    show_default=True, help="Squash the layers above the base image, or every layer.",
)  # fmt: skip
@click.option(
    "--epoch", type=int, metavar="SECONDS", help="Timestamps (default: SOURCE_DATE_EPOCH)."
)
@click.option(
    "--skip", multiple=True, type=click.Choice(STEP_NAMES), metavar="STEP",
    help=f"A step not to do (repeatable): {', '.join(STEP_NAMES)}.",
)  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing.")
@click.option("--explain", is_flag=True, help="List every removed path.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--verify", "do_verify", is_flag=True, help="Run both images on the engine.")
@click.option("--verify-cmd", metavar="CMD", help="A command that must exit 0 in both.")
@click.option("--verify-http", metavar="URL", help="Must answer the same in both.")
@click.option(
    "--verify-body", type=click.Choice(BODY_RULES), default="shape", show_default=True,
    help="How --verify-http compares bodies: shape (same status and JSON keys and value "
    "types; other bodies: same content type), exact (same bytes), status (status only).",
)  # fmt: skip
@click.option("--force", is_flag=True, help="Write the result even if verification fails.")
@click.option(
    "--dockerfile", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The image's Dockerfile: write an optimized Dockerfile.deadweight beside it.",
)  # fmt: skip
@click.option(
    "--slim-base", metavar="IMAGE",
    help="With --dockerfile: the final stage's base (default: the slim variant of node/python).",
)  # fmt: skip
@html_option
@with_context
def optimize(
    image: str, dest: str | None, level: str, squash_mode: str, epoch: int | None,
    skip: tuple[str, ...], dry_run: bool, explain: bool, fmt: str, do_verify: bool,
    verify_cmd: str | None, verify_http: str | None, verify_body: str, force: bool,
    dockerfile: Path | None, slim_base: str | None, html: str | None, ctx: Context,
) -> None:  # fmt: skip
    """Write a smaller IMAGE to DEST: squash its own layers, drop caches and temp files.

    DEST is docker-archive:PATH[:TAG], oci:DIR[:TAG], oci-archive:PATH[:TAG], dir:DIR,
    docker-daemon:NAME:TAG or docker://HOST/REPO[:TAG] (a push).
    """
    check_writable(html)
    if dest is None and not dry_run:
        raise UsageError("-o DEST is required (or --dry-run)")
    if slim_base is not None and dockerfile is None:
        raise UsageError("--slim-base needs --dockerfile")
    out = ctx.locate(dest, destination=True) if dest is not None else None
    stamp = parse_epoch(epoch)
    loc = ctx.locate(image)
    if out is not None:
        refuse_input(out, loc)
    img = ctx.open(loc)
    if out is not None:
        out = named(out, img, loc)
    deltas = ctx.deltas(img, lazy=True)  # a large layer's entries stay on disk
    p = plan(img, level=level, squash=squash_mode, epoch=stamp, deltas=deltas, skip=skip)  # type: ignore[arg-type]
    if dry_run or out is None:
        _emit(dry_run_report(img, p, deltas), fmt, explain, html)
        return
    checks = Checks(do_verify, verify_cmd, verify_http, verify_body)  # type: ignore[arg-type]
    report = optimize_to(
        img, p, deltas, out, checks=checks, force=force, insecure=ctx.insecure,
        written=None if dockerfile is None else lambda: _write_dockerfile(dockerfile, slim_base),
    )  # fmt: skip
    _emit(report, fmt, explain, html)
    failed = report.verification is not None and not report.verification.passed
    if failed and force:
        click.echo("deadweight: WARNING: verification FAILED; written anyway (--force)", err=True)
    elif failed:
        click.echo("deadweight: error: verification failed; nothing written", err=True)
        raise click.exceptions.Exit(1)


def _write_dockerfile(path: Path, slim_base: str | None) -> None:
    """``--dockerfile``: Dockerfile.deadweight beside ``path``; its changes go to stderr so
    that ``--format json`` output stays one document."""
    from deadweight.dockerfile import optimize as dockerfile

    dest, optimized = dockerfile.write(path, slim_base=slim_base)
    click.echo(f"deadweight: wrote {dest} ({len(optimized.changes)} changes)", err=True)
    for change in optimized.changes:
        click.echo(f"  line {change.line}: {change.description}", err=True)


def _emit(report: Report, fmt: str, explain: bool, html: str | None = None) -> None:
    if html is not None:
        from deadweight.render.html import optimize_html

        write_report(html, optimize_html(report))
    echo_raw(to_json(report) if fmt == "json" else render_text(report, explain=explain))
    sys.stdout.flush()
