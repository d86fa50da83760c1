"""``deadweight minify IMAGE -o DEST``: keep only what the app uses, proven by running it.

The workflow is ``runs.shrink``; this module parses the options, reads the image, writes
the result where it may, and renders the report (``render.minify``).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from deadweight.cli._context import Context, with_context
from deadweight.cli._options import echo_raw
from deadweight.cli._report import check_writable, html_option, write_report
from deadweight.cli.optimize import parse_epoch
from deadweight.errors import UsageError
from deadweight.optimize.verify import BODY_RULES
from deadweight.render.minify import render_text, to_json
from deadweight.runs.delivery import named, refuse_input
from deadweight.runs.exercise import Options, Probes, Way
from deadweight.runs.minifying import env_pairs, minify_to
from deadweight.runs.shrink import Request, preflight


def _keeps(keep: tuple[str, ...], keep_file: Path | None) -> tuple[str, ...]:
    """``--keep`` entries, then the lines of ``--keep-file`` (blank lines and ``#``
    comments left out)."""
    lines: list[str] = []
    if keep_file is not None:
        # as --write-keep-file writes it: a path a line, a name that is not UTF-8 by its
        # bytes (read back as the surrogate escapes the tree names it with)
        text = keep_file.read_bytes().decode("utf-8", "surrogateescape")
        lines = [s.strip() for s in text.split("\n") if s.strip() and not s.startswith("#")]
    return (*keep, *lines)


def _say(message: str) -> None:
    click.echo(f"deadweight: {message}", err=True)


@click.command()
@click.argument("image")
@click.option("-o", "--output", "dest", metavar="DEST", help="Where to write the result.")
@click.option(
    "--network", default="none", show_default=True, metavar="NAME", help="docker run --network."
)
@click.option("--env", "env", multiple=True, metavar="KEY=VALUE", help="docker run --env.")
@click.option("--probe-http", multiple=True, metavar="URL", help="GET URL while it runs.")
@click.option("--probe-cmd", multiple=True, metavar="CMD", help="Run CMD inside it (docker exec).")
@click.option(
    "--probe-script",
    type=click.Path(exists=True, dir_okay=False),
    help="Run FILE on the host while it runs (DEADWEIGHT_CONTAINER, DEADWEIGHT_IMAGE name them).",
)
@click.option("--run", "runs", multiple=True, metavar="CMD", help="Another way to run it.")
@click.option(
    "--trace-seconds", type=click.FloatRange(0), default=5.0, show_default=True, metavar="N",
    help="How long to let it live after the probes.",
)  # fmt: skip
@click.option("--keep", multiple=True, metavar="PATH_OR_GLOB", help="Keep these paths too.")
@click.option(
    "--keep-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Keep the paths FILE lists too (one a line, # comments).",
)  # fmt: skip
@click.option(
    "--write-keep-file", type=click.Path(dir_okay=False, path_type=Path),
    help="Write the kept paths to FILE (for --static --keep-file FILE).",
)  # fmt: skip
@click.option(
    "--packages", type=click.Choice(["touched", "none"]), default="touched", show_default=True,
    help="touched: keep whole packages a used file belongs to; none: only used files.",
)  # fmt: skip
@click.option("--static", is_flag=True, help="Run nothing: static closure only (unverified).")
@click.option(
    "--verify-body", type=click.Choice(BODY_RULES), default="shape", show_default=True,
    help="How HTTP answers are compared: shape, exact or status.",
)  # fmt: skip
@click.option("--epoch", type=int, metavar="SECONDS", help="Timestamps (SOURCE_DATE_EPOCH).")
@click.option("--dry-run", is_flag=True, help="Trace and plan; write nothing.")
@click.option("--explain", is_flag=True, help="List every removed and kept path.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--force", is_flag=True, help="Write the result even if verification fails.")
@html_option
@with_context
def minify(
    image: str, dest: str | None, network: str, env: tuple[str, ...],
    probe_http: tuple[str, ...], probe_cmd: tuple[str, ...], probe_script: str | None,
    runs: tuple[str, ...], trace_seconds: float, keep: tuple[str, ...],
    keep_file: Path | None, write_keep_file: Path | None, packages: str, static: bool,
    verify_body: str, epoch: int | None, dry_run: bool, explain: bool, fmt: str,
    force: bool, html: str | None, ctx: Context,
) -> None:  # fmt: skip
    """Write IMAGE to DEST keeping only what its app uses: traced while it runs with the
    probes, then proven by running the original and the result the same way.

    DEST is docker-archive:PATH[:TAG], oci:DIR[:TAG], oci-archive:PATH[:TAG], dir:DIR,
    docker-daemon:NAME:TAG or docker://HOST/REPO[:TAG] (a push).
    """
    check_writable(html)
    if dest is None and not dry_run:
        raise UsageError("-o DEST is required (or --dry-run)")
    out = ctx.locate(dest, destination=True) if dest is not None else None
    request = Request(
        ways=(Way(), *(Way(tuple(shlex.split(r))) for r in runs)) if runs else (Way(),),
        options=Options(network=network, env=env_pairs(env)),
        probes=Probes(http=probe_http, commands=probe_cmd, script=probe_script),
        trace_seconds=trace_seconds,
        packages=packages,  # type: ignore[arg-type]
        keep=_keeps(keep, keep_file),
        static=static,
        body=verify_body,  # type: ignore[arg-type]
        dry_run=dry_run,
        epoch=parse_epoch(epoch),
    )
    preflight(request)
    loc = ctx.locate(image)
    if out is not None:
        refuse_input(out, loc)
    img = ctx.open(loc)
    if out is not None:
        out = named(out, img, loc)  # never untagged, never the source's own tag
    report = minify_to(
        img, request, ctx.deltas(img), out, force=force, insecure=ctx.insecure,
        from_engine=loc.transport == "docker-daemon",
        say=_say if fmt == "text" and sys.stderr.isatty() else (lambda _: None),
    )  # fmt: skip
    failed = report.shrunk.verified is False
    if write_keep_file is not None and not failed:  # atomically, one path a line
        write_report(
            str(write_keep_file), "".join(p + "\n" for p in report.shrunk.plan.keep_list())
        )
    if html is not None:
        from deadweight.render.html import minify_html

        write_report(html, minify_html(report))
    echo_raw(to_json(report) if fmt == "json" else render_text(report, explain=explain))
    if failed and force:
        click.echo("deadweight: WARNING: verification FAILED; written anyway (--force)", err=True)
    elif failed:
        click.echo("deadweight: error: verification failed; nothing written", err=True)
        raise click.exceptions.Exit(1)
