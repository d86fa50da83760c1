"""``deadweight scan SOURCE...``: every image of a registry, a repository, a list, a folder
or an engine, each unique layer read once, on Dask."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from deadweight.cli._options import echo_raw, parse_platform, progress_bars, store
from deadweight.cli._report import check_writable, html_option, write_report
from deadweight.cluster.runners import InProcess, OnDemand, Runner, have_dask
from deadweight.cluster.scan import scan as run_scan
from deadweight.errors import IncompleteScan, RuntimeProblem, UsageError
from deadweight.fleet.changes import Before, compare
from deadweight.limits import DOCUMENT_BYTES
from deadweight.render.fleet import read_previous, render_text, to_json


@contextmanager
def _runner(workers: int | None, scheduler: str | None) -> Iterator[Runner]:
    if scheduler and workers is not None:
        raise UsageError("--workers and --scheduler exclude each other")
    if workers == 0:
        yield InProcess()
        return
    if not have_dask():
        if scheduler:
            raise RuntimeProblem("--scheduler needs Dask: pip install 'deadweight[fleet]'")
        click.echo(
            "deadweight: Dask is not installed: reading the layers in this process "
            "(pip install 'deadweight[fleet]' to read them on a cluster)",
            err=True,
        )
        yield InProcess()
        return
    with OnDemand(workers=workers, scheduler=scheduler) as runner:
        yield runner


def _previous(path: str | None) -> Before | None:
    """The previous report, read before the scan: a file that is no report is said at
    once, not after scanning a fleet."""
    if path is None:
        return None
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"--previous {path}: no such file")
    try:
        with file.open("rb") as f:
            raw = f.read(DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"--previous {path}: {exc.strerror or exc}") from exc
    if len(raw) > DOCUMENT_BYTES:
        raise UsageError(f"--previous {path}: over {DOCUMENT_BYTES >> 20} MiB: no fleet report")
    return read_previous(raw, path)


@click.command()
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@click.option("-o", "--output", metavar="FILE", help="Write the JSON report to FILE.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@html_option
@click.option("--previous", metavar="FILE", help="A previous report: say what grew and shrank.")
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    metavar="N",
    help="Processes of the embedded Dask cluster (default: one per CPU; 0: no cluster).",
)
@click.option(
    "--scheduler", metavar="ADDRESS", help="Run on this Dask scheduler (tcp://HOST:8786)."
)
@click.option("--platform", metavar="OS/ARCH[/VARIANT]", help="Pick this platform from indexes.")
@click.option("--insecure", is_flag=True, help="Allow plain HTTP and skip TLS checks.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the layer store.")
def scan(
    sources: tuple[str, ...],
    output: str | None,
    fmt: str,
    html: str | None,
    previous: str | None,
    workers: int | None,
    scheduler: str | None,
    platform: str | None,
    insecure: bool,
    no_cache: bool,
) -> None:
    """Scan every image of SOURCE... once per unique layer: waste, bloat, shared layers.

    SOURCE is any image source, or docker://HOST (the registry's catalog), docker://HOST/REPO
    (every tag), a file listing sources, a folder of archives and layouts, or docker-daemon:
    (every local image). Exit 3 when some images could not be read (the report says why).
    """
    wanted = parse_platform(platform)
    check_writable(output, "-o")
    check_writable(html)
    before = _previous(previous)
    with (
        store(no_cache) as layer_store,
        _runner(workers, scheduler) as runner,
        progress_bars(("layers", "images"), quiet=fmt == "json") as bars,
    ):
        fleet = run_scan(
            sources,
            runner,
            platform=wanted,
            insecure=insecure,
            store=layer_store,
            layer_progress=bars[0] if bars else None,
            image_progress=bars[1] if bars else None,
        )
    changes = compare(before, fleet) if before else None
    if output:
        write_report(output, to_json(fleet, changes))
    if html:
        from deadweight.render.html import fleet_html

        write_report(html, fleet_html(fleet, changes, title=" ".join(sources)))
    if fmt == "json":
        echo_raw(to_json(fleet, changes))
    else:
        echo_raw(render_text(fleet, changes))
    if fleet.failed:
        count = len(fleet.failed) + len(fleet.images)
        raise IncompleteScan(
            f"{len(fleet.failed)} of {count} images could not be scanned (listed in the report)"
        )
    if not fleet.images:
        raise IncompleteScan("no image found in " + ", ".join(sources))
