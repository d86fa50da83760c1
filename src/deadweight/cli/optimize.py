"""``deadweight optimize IMAGE -o DEST``: a smaller image, checked to still work.

The plan and the new image come from ``deadweight.optimize`` (pure); this module reads the
image, writes the result to its medium and, with ``--verify``, runs the original and the
result on the local engine and compares them (``optimize.verify`` judges the runs).
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import click

from deadweight.analysis.analyze import read_deltas
from deadweight.analysis.sizes import layer_size
from deadweight.cli._options import (
    echo_raw,
    parse_platform,
    reading_workers,
    source_options,
    store,
)
from deadweight.errors import EngineError, UsageError
from deadweight.image import Image
from deadweight.mutate import gzip_layers
from deadweight.optimize import Check, Report, Run, Verification, apply, plan
from deadweight.optimize import verify as judge
from deadweight.optimize.plan import STEP_NAMES
from deadweight.reference import Reference
from deadweight.render.optimize import render_text, to_json
from deadweight.sources import Location, locate, open_image

DEST_TRANSPORTS = ("docker-archive", "oci", "oci-archive", "docker-daemon")
STAY_UP = 3.0  # seconds a service must stay up
HTTP_WAIT = 15.0  # seconds to wait for --verify-http to answer
VERIFY_REPO = "deadweight-verify"


def parse_dest(dest: str) -> Location:
    """``-o``: a medium that can be written (the ``sources.locate`` syntax)."""
    if dest.startswith("docker://"):
        pushed = locate(dest)
        if Reference.parse(pushed.target).digest:
            raise UsageError(f"-o {dest}: a destination takes a tag, not a digest")
        return pushed
    if not dest.startswith(tuple(t + ":" for t in DEST_TRANSPORTS)):
        # a bare path: FILE.tar is a docker archive, a directory (or DIR/) an OCI layout
        if dest.endswith(".tar"):
            return parse_dest("docker-archive:" + dest)
        if dest.endswith("/") or os.path.isdir(dest):
            return parse_dest("oci:" + dest.rstrip("/"))
        raise UsageError(
            f"-o {dest}: name the medium: docker-archive:PATH[:TAG], oci:DIR[:TAG], "
            "oci-archive:PATH[:TAG] or docker-daemon:NAME:TAG"
        )
    loc = locate(dest)
    if loc.transport == "docker-daemon":
        return Location(loc.transport, Reference.parse(loc.target).familiar)
    if not loc.target:
        raise UsageError(f"-o {dest}: no path")
    if loc.ref.startswith("@"):
        raise UsageError(f"-o {dest}: a destination takes a tag, not a digest")
    return loc


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


def _tag(ref: str) -> tuple[str, ...]:
    return (Reference.parse(ref).familiar,) if ref else ()


def write(image: Image, loc: Location, *, insecure: bool = False) -> None:
    """Write ``image`` to its destination, atomically (or load it into the engine, or push
    it: blobs first, the manifest last, so a failed push leaves no tag)."""
    from deadweight.sources import archive, layout, registry

    target = Path(loc.target)
    if loc.transport == "docker-archive":
        archive.write([dataclasses.replace(image, repo_tags=_tag(loc.ref))], target)
    elif loc.transport in ("oci", "oci-archive"):
        packed = dataclasses.replace(gzip_layers(image), repo_tags=(loc.ref,) if loc.ref else ())
        (layout.write if loc.transport == "oci" else layout.write_archive)([packed], target)
    elif loc.transport == "docker":
        # registries store compressed layers, gzip as the OCI writer does
        registry.write(gzip_layers(image), Reference.parse(loc.target), insecure=insecure)
    else:
        load(image, loc.target)


def load(image: Image, tag: str) -> None:
    """Load ``image`` into the engine under ``tag`` (a ``docker save`` stream)."""
    from deadweight.sources import archive, engine

    conn = engine.connect()
    with tempfile.TemporaryDirectory(prefix="deadweight-", dir=_tmpdir()) as tmp:
        path = Path(tmp) / "image.tar"
        archive.write([dataclasses.replace(image, repo_tags=(tag,))], path)
        client = conn.with_timeout(engine.SAVE_TIMEOUT)
        with open(path, "rb") as data:
            answers = engine._call(conn, tag, lambda: list(client.load_image(data)))
    for answer in answers:
        if isinstance(answer, dict) and answer.get("error"):
            raise EngineError(f"docker-daemon: loading {tag}: {answer['error']}")


def _tmpdir() -> str | None:
    return os.environ.get("DEADWEIGHT_TMPDIR")


# -- verification on the engine ---------------------------------------------------------


@contextmanager
def _loaded(image: Image, role: str) -> Iterator[str]:
    """``image`` in the engine under a temporary tag, removed afterwards."""
    from deadweight.sources import engine

    tag = f"{VERIFY_REPO}/{role}:{image.id[7:19]}"
    load(image, tag)
    try:
        yield tag
    finally:
        conn = engine.connect()
        with suppress(Exception):
            conn.client.remove_image(tag, noprune=False)


def _run(
    ref: str,
    *,
    argv: Sequence[str] | None = None,
    network: str = "none",
    probe: Callable[[], Run] | None = None,
) -> Run:
    """Run ``ref`` (its own command, or ``argv`` as the entrypoint): a service must stay up
    ``STAY_UP`` seconds; a one-shot's exit code counts. ``probe`` runs while it is up."""
    from deadweight.sources import engine

    client = engine.connect().client
    kwargs: dict[str, Any] = {"host_config": client.create_host_config(network_mode=network)}
    if argv is not None:
        kwargs.update(entrypoint=list(argv[:1]), command=list(argv[1:]))
    try:
        container = client.create_container(ref, **kwargs)["Id"]
    except Exception as exc:
        return Run(False, error=_short(exc))
    try:
        client.start(container)
        exit_code: int | None = None
        try:
            exit_code = int(client.wait(container, timeout=STAY_UP)["StatusCode"])
        except Exception:
            exit_code = None
        if exit_code is None and argv is not None:
            exit_code = int(client.wait(container, timeout=60)["StatusCode"])
        if exit_code is None and probe is not None:
            return probe()
        logs = client.logs(container, tail=20).decode("utf-8", "replace")
        return Run(exit_code is None, exit_code, output=logs)
    except Exception as exc:
        return Run(False, error=_short(exc))
    finally:
        with suppress(Exception):
            client.remove_container(container, force=True)


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "explanation", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def http_probe(url: str, wait: float = HTTP_WAIT) -> Run:
    """GET ``url`` until it answers (or ``wait`` seconds pass): its status and body."""
    deadline = time.monotonic() + wait
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return Run(
                    True, status=answer.status, output=answer.read().decode("utf-8", "replace")
                )
        except urllib.error.HTTPError as exc:
            return Run(True, status=exc.code, output=exc.read().decode("utf-8", "replace"))
        except (urllib.error.URLError, OSError) as exc:
            if time.monotonic() > deadline:
                return Run(True, error=f"no answer from {url}: {exc}")
            time.sleep(0.3)


def verify(original: Image, result: Image, *, command: str | None, url: str | None) -> Verification:
    """Run both images the same way and compare (see ``optimize.verify``)."""
    checks: list[Check] = []
    with _loaded(original, "original") as a, _loaded(result, "optimized") as b:
        checks.append(judge.compare_start("(the image's command)", _run(a), _run(b)))
        if command:
            argv = shlex.split(command)
            checks.append(judge.compare_command(command, _run(a, argv=argv), _run(b, argv=argv)))
        if url:
            probe = lambda: http_probe(url)  # noqa: E731
            checks.append(
                judge.compare_http(
                    url,
                    _run(a, network="host", probe=probe),
                    _run(b, network="host", probe=probe),
                )
            )
    return Verification(tuple(checks))


# -- the command ------------------------------------------------------------------------


def _deltas(image: Image, loc: Location, no_cache: bool) -> Any:
    workers = reading_workers(loc.transport)
    with store(no_cache) as layer_store:
        return read_deltas(image, store=layer_store, workers=workers)


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
    force: bool,
    dockerfile: Path | None,
    slim_base: str | None,
    platform: str | None,
    insecure: bool,
    no_cache: bool,
) -> None:
    """Write a smaller IMAGE to DEST: squash its own layers, drop caches and temp files.

    DEST is docker-archive:PATH[:TAG], oci:DIR[:TAG], oci-archive:PATH[:TAG],
    docker-daemon:NAME:TAG or docker://HOST/REPO[:TAG] (a push).
    """
    if dest is None and not dry_run:
        raise UsageError("-o DEST is required (or --dry-run)")
    if slim_base is not None and dockerfile is None:
        raise UsageError("--slim-base needs --dockerfile")
    out = parse_dest(dest) if dest is not None else None
    stamp = parse_epoch(epoch)
    checking = do_verify or bool(verify_cmd) or bool(verify_http)
    loc = locate(image)
    img = open_image(loc, platform=parse_platform(platform), insecure=insecure)
    deltas = _deltas(img, loc, no_cache)
    p = plan(img, level=level, squash=squash_mode, epoch=stamp, deltas=deltas, skip=skip)  # type: ignore[arg-type]
    before = tuple(d.size for d in deltas)
    name = image
    if dry_run:
        report = Report(
            name, p, before, tuple(before[: p.keep_bottom]) + _planned(p, before), dry_run=True
        )
        _emit(report, fmt, explain)
        return
    assert out is not None
    result = apply(img, p, deltas=deltas)
    after = before if result is img else (*before[: p.keep_bottom], layer_size(result.layers[-1]))
    verification = verify(img, result, command=verify_cmd, url=verify_http) if checking else None
    failed = verification is not None and not verification.passed
    if not failed or force:
        write(result, out, insecure=insecure)
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
    _emit(report, fmt, explain)
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


def _emit(report: Report, fmt: str, explain: bool) -> None:
    if fmt == "json":
        echo_raw(to_json(report))
    else:
        echo_raw(render_text(report, explain=explain))
    sys.stdout.flush()
