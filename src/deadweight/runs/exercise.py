"""Exercising an image: start it as ``docker run`` would, drive its probes, watch it live.

One *way* of running an image is its own command or one ``--run`` command. Probes are
HTTP GETs from the host (``--probe-http``), commands run inside the running container
(``--probe-cmd``, as ``docker exec``) and a script run on the host (``--probe-script``,
which finds the container in ``DEADWEIGHT_CONTAINER``). With a tracer, what the
container opened is cut into one trace per phase: its start, each probe, its life.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Literal

from deadweight.errors import EngineError
from deadweight.minify import Trace
from deadweight.optimize.verify import Run
from deadweight.runs.verify import LOG_LINES, STAY_UP, http_run
from deadweight.sources import containers
from deadweight.sources.containers import Container, RunSpec, Tail
from deadweight.sources.fanotify import NOTHING, Seen, Tracer

PROBE_WAIT = 20.0  # seconds an HTTP probe waits for the service to answer
COMMAND_WAIT = 60.0  # seconds a probe command or script may take
OWN_COMMAND = "(the image's command)"
ProbeKind = Literal["http", "command", "script"]


@dataclass(frozen=True, slots=True)
class Way:
    """How the container is started: the image's own command (``argv`` None) or a
    ``--run`` command, which replaces ``CMD`` as ``docker run IMAGE CMD`` does."""

    argv: tuple[str, ...] | None = None

    @property
    def name(self) -> str:
        return OWN_COMMAND if self.argv is None else "run: " + shlex.join(self.argv)

    def source(self, phase: str) -> str:
        """The name of a trace this way left: ``probe-http URL``, ``life``; prefixed with
        the way for a ``--run`` command."""
        return phase if self.argv is None else f"{self.name} · {phase}"


def probe_phase(kind: ProbeKind, subject: str) -> str:
    return f"probe-{'cmd' if kind == 'command' else kind} {subject}"


@dataclass(frozen=True, slots=True)
class Probes:
    """What drives the container while it runs."""

    http: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    script: str | None = None

    def each(self) -> tuple[tuple[ProbeKind, str], ...]:
        kinds: list[tuple[ProbeKind, str]] = [("http", u) for u in self.http]
        kinds += [("command", c) for c in self.commands]
        if self.script:
            kinds.append(("script", self.script))
        return tuple(kinds)


@dataclass(frozen=True, slots=True)
class Options:
    """``docker run``'s options the user gave, the same for every run."""

    network: str = "none"
    env: tuple[tuple[str, str], ...] = ()
    user: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one probe returned."""

    kind: ProbeKind
    subject: str
    run: Run


@dataclass(frozen=True, slots=True)
class Exercise:
    """One container's life: whether it stayed up (``start``), what each probe returned,
    what it touched (per phase, when traced) and its last log lines."""

    way: Way
    probes: Probes
    start: Run
    outcomes: tuple[Outcome, ...]
    traces: tuple[Trace, ...] = ()
    logs: str = ""


def _script(path: str, container: Container) -> Run:
    """Run the host script ``path``; its exit code and the end of what it printed (the
    last ``limits.CONTAINER_OUTPUT`` bytes of its stdout, then of its stderr, read as
    they come), or a time-out ``COMMAND_WAIT`` seconds after it started (its pipes
    included: a child it left behind may hold them)."""
    env = dict(os.environ, DEADWEIGHT_CONTAINER=container.id, DEADWEIGHT_IMAGE=container.spec.image)
    late = Run(True, error=f"{path} ran longer than {COMMAND_WAIT:.0f} s")
    deadline = time.monotonic() + COMMAND_WAIT
    try:
        proc = subprocess.Popen(
            [os.path.abspath(path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except OSError as exc:
        return Run(False, error=f"{path}: {exc.strerror or exc}")
    tails = (Tail(), Tail())
    readers = [
        threading.Thread(target=_drain, args=(pipe, tail), daemon=True)
        for pipe, tail in zip((proc.stdout, proc.stderr), tails, strict=True)
    ]
    for reader in readers:
        reader.start()
    try:
        for reader in readers:
            reader.join(max(0.0, deadline - time.monotonic()))
        if any(reader.is_alive() for reader in readers):
            return late
        code = proc.wait(max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return late
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None and not any(reader.is_alive() for reader in readers):
                pipe.close()  # a pipe a reader still waits on is left to it
    text = (tails[0].data() + tails[1].data()).decode("utf-8", "replace")
    return Run(False, code, output=text[-2000:])


def _drain(pipe: IO[bytes] | None, tail: Tail) -> None:
    """Read ``pipe`` to its end into ``tail`` (a thread for each of a script's pipes)."""
    if pipe is None:
        return
    with contextlib.suppress(OSError, ValueError):
        while chunk := os.read(pipe.fileno(), 64 << 10):
            tail.add(chunk)


def _command(text: str, container: Container) -> Run:
    done = container.exec(shlex.split(text), COMMAND_WAIT)
    if done.timed_out:
        return Run(True, error=f"ran longer than {COMMAND_WAIT:.0f} s")
    return Run(False, done.exit_code, output=done.output[-2000:])


def probe(kind: ProbeKind, subject: str, container: Container) -> Run:
    """Run one probe against the running ``container``."""
    if kind == "http":
        return http_run(subject, container, wait=PROBE_WAIT)
    try:
        return _command(subject, container) if kind == "command" else _script(subject, container)
    except EngineError as exc:
        return Run(False, error=exc.message.removeprefix("docker-daemon: "))


class _Cutter:
    """Cuts what a traced container touched into one trace per phase."""

    def __init__(self, tracer: Tracer | None, container: Container) -> None:
        self.tracer, self.container = tracer, container
        self.before: Seen = NOTHING
        self.traces: list[Trace] = []
        self.layers: tuple[str, ...] = ()

    def cut(self, source: str) -> None:
        if self.tracer is None:
            return
        if not self.layers:
            self.layers = self.container.layer_dirs()
        now = self.tracer.seen(self.container.id, self.layers)
        new = now - self.before
        self.before = now
        self.traces.append(Trace(source, new.opened, new.executed))


def exercise(
    tag: str,
    way: Way,
    options: Options,
    probes: Probes,
    *,
    tracer: Tracer | None = None,
    life: float = 0.0,
    on_probe: Callable[[str], None] | None = None,
) -> Exercise:
    """Start ``tag`` the ``way`` asked, drive ``probes`` while it runs, let it live
    ``life`` more seconds; the container is removed afterwards, however this ends."""
    spec = RunSpec(tag, command=way.argv, network=options.network, env=options.env,
                   user=options.user)  # fmt: skip
    with containers.run(spec) as container:
        cutter = _Cutter(tracer, container)
        container.start()
        code = container.wait(STAY_UP)
        cutter.cut(way.name)
        outcomes: list[Outcome] = []
        for kind, subject in probes.each():
            if code is not None:
                gone = Run(False, code, error=f"the container exited ({code}) before the probe")
                outcomes.append(Outcome(kind, subject, gone))
                continue
            if on_probe is not None:
                on_probe(f"{kind} {subject}")
            outcomes.append(Outcome(kind, subject, probe(kind, subject, container)))
            cutter.cut(way.source(probe_phase(kind, subject)))
            code = container.wait(0)
        if code is None and life > 0:
            code = container.wait(life)
            cutter.cut(way.source("life"))
        if code is None:
            code = container.wait(0)
        logs = container.logs(LOG_LINES)
        start = Run(code is None, code, output=logs)
    return Exercise(way, probes, start, tuple(outcomes), tuple(cutter.traces), logs)
