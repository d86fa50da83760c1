"""``deadweight optimize IMAGE -o DEST``: a smaller image, checked to still work.

The plan and the new image come from ``deadweight.optimize`` (pure); this module reads the
image, writes the result to its medium (``runs.delivery``) and, with ``--verify``, has
``runs.verify`` run the original and the result on the local engine and compare them.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from contextlib import suppress
from pathlib import Path
from typing import Any

import click

from deadweight.analysis.sizes import layer_size
from deadweight.cli._options import (
    deltas_of,
    echo_raw,
    parse_platform,
    source_options,
)
from deadweight.cli._report import check_writable, html_option, write_report
from deadweight.errors import UsageError
from deadweight.image import Image
from deadweight.optimize import Report, apply, plan
from deadweight.optimize.naming import derived_reference
from deadweight.optimize.planning import STEP_NAMES
from deadweight.optimize.verify import BODY_RULES
from deadweight.reference import Reference
from deadweight.render.optimize import render_text, to_json
from deadweight.runs.delivery import deliver
from deadweight.runs.verify import verify
from deadweight.sources import Location, locate, open_image


def named(out: Location, image: Image, source: Location) -> Location:
    """``out`` with a tag: the one it names, else one derived from the source
    (``optimize.naming``), so the result is never untagged nor replaces the source's tag."""
    by_name = source.transport in ("docker", "docker-daemon")
    derived = derived_reference(
        image.repo_tags,
        reference=source.target if by_name else "",
        path="" if by_name else source.target,
    )
    if out.transport == "docker-archive" and not out.ref:
        return dataclasses.replace(out, ref=derived.familiar)
    if out.transport in ("oci", "oci-archive") and not out.ref:
        return dataclasses.replace(out, ref=derived.tag)
    if out.transport in ("docker", "docker-daemon"):
        ref = Reference.parse(out.target, default_tag=False)
        if not ref.tag and not ref.digest:
            tagged = ref.with_tag(derived.tag)
            return Location(
                out.transport, tagged.familiar if out.transport != "docker" else str(tagged)
            )
    return out


def refuse_input(out: Location, source: Location) -> None:
    """``-o`` naming the input archive or layout would replace what is being read."""
    files = ("docker-archive", "oci-archive", "oci")
    if out.transport not in files or source.transport not in files:
        return
    with suppress(OSError):
        if os.path.samefile(out.target, source.target):
            raise UsageError(f"-o {out.target}: that is the input; write the result elsewhere")


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


# -- the command ------------------------------------------------------------------------


@click.command()
@click.argument("image")
@click.option("-o", "--output", "dest", metavar="DEST", help="Where to write the result.")
@click.option(
    "--level",
    type=click.Choice(["safe", "moderate"]),
    default="safe",
    show_default=True,
    help="safe: caches and temp files; moderate: also docs, man and info pages, locales, "
    "npm devDependencies, package tests/docs/examples/source maps, npm itself, a non-root user.",
)
@click.option(
    "--squash",
    "squash_mode",
    type=click.Choice(["own", "all"]),
    default="own",
    show_default=True,
    help="Squash the layers above the base image, or every layer.",
)
@click.option(
    "--epoch", type=int, metavar="SECONDS", help="Timestamps (default: SOURCE_DATE_EPOCH)."
)
@click.option(
    "--skip",
    multiple=True,
    type=click.Choice(STEP_NAMES),
    metavar="STEP",
    help=f"A step not to do (repeatable): {', '.join(STEP_NAMES)}.",
)
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing.")
@click.option("--explain", is_flag=True, help="List every removed path.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--verify", "do_verify", is_flag=True, help="Run both images on the engine.")
@click.option("--verify-cmd", metavar="CMD", help="A command that must exit 0 in both.")
@click.option("--verify-http", metavar="URL", help="Must answer the same in both.")
@click.option(
    "--verify-body",
    type=click.Choice(BODY_RULES),
    default="shape",
    show_default=True,
    help="How --verify-http compares bodies: shape (same status and JSON keys and value "
    "types; other bodies: same content type), exact (same bytes), status (status only).",
)
@click.option("--force", is_flag=True, help="Write the result even if verification fails.")
@click.option(
    "--dockerfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The image's Dockerfile: write an optimized Dockerfile.deadweight beside it.",
)
@click.option(
    "--slim-base",
    metavar="IMAGE",
    help="With --dockerfile: the final stage's base (default: the slim variant of node/python).",
)
@html_option
@source_options
def optimize(
    image: str,
    dest: str | None,
    level: str,
    squash_mode: str,
    epoch: int | None,
    skip: tuple[str, ...],
    dry_run: bool,
    explain: bool,
    fmt: str,
    do_verify: bool,
    verify_cmd: str | None,
    verify_http: str | None,
    verify_body: str,
    force: bool,
    dockerfile: Path | None,
    slim_base: str | None,
    html: str | None,
    platform: str | None,
    insecure: bool,
    no_cache: bool,
) -> None:
    """Write a smaller IMAGE to DEST: squash its own layers, drop caches and temp files.

    DEST is docker-archive:PATH[:TAG], oci:DIR[:TAG], oci-archive:PATH[:TAG],
    docker-daemon:NAME:TAG or docker://HOST/REPO[:TAG] (a push).
    """
    check_writable(html)
    if dest is None and not dry_run:
        raise UsageError("-o DEST is required (or --dry-run)")
    if slim_base is not None and dockerfile is None:
        raise UsageError("--slim-base needs --dockerfile")
    out = locate(dest, destination=True) if dest is not None else None
    stamp = parse_epoch(epoch)
    checking = do_verify or bool(verify_cmd) or bool(verify_http)
    loc = locate(image)
    if out is not None:
        refuse_input(out, loc)
    img = open_image(loc, platform=parse_platform(platform), insecure=insecure)
    if out is not None:
        out = named(out, img, loc)
    deltas = deltas_of(img, no_cache)
    p = plan(img, level=level, squash=squash_mode, epoch=stamp, deltas=deltas, skip=skip)  # type: ignore[arg-type]
    before = tuple(d.size for d in deltas)
    name = image
    if dry_run:
        report = Report(
            name, p, before, tuple(before[: p.keep_bottom]) + _planned(p, before), dry_run=True
        )
        _emit(report, fmt, explain, html)
        return
    assert out is not None
    result = apply(img, p, deltas=deltas)
    after = before if result is img else (*before[: p.keep_bottom], layer_size(result.layers[-1]))
    verification = (
        verify(img, result, command=verify_cmd, url=verify_http, body=verify_body)  # type: ignore[arg-type]
        if checking
        else None
    )
    failed = verification is not None and not verification.passed
    if not failed or force:
        deliver(result, out, insecure=insecure)
        if dockerfile is not None:
            _write_dockerfile(dockerfile, slim_base)
    report = Report(
        name,
        p,
        before,
        tuple(after),
        image_id=result.id,
        destination=str(out),
        written=not failed or force,
        verification=verification,
        forced=failed and force,
    )
    _emit(report, fmt, explain, html)
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


def _planned(p: Any, before: tuple[int, ...]) -> tuple[int, ...]:
    """The one squashed layer's size a dry run predicts."""
    if not p.changes:
        return before[p.keep_bottom :]
    return (sum(before[p.keep_bottom :]) - p.bytes_saved,)


def _emit(report: Report, fmt: str, explain: bool, html: str | None = None) -> None:
    if html is not None:
        from deadweight.render.html import optimize_html

        write_report(html, optimize_html(report))
    if fmt == "json":
        echo_raw(to_json(report))
    else:
        echo_raw(render_text(report, explain=explain))
    sys.stdout.flush()
