"""``minify``'s workflow: trace the image, plan, apply, prove the result, repair once.

1. The original is put into the engine under a temporary tag (an image read from the
   engine is run by its ID) and exercised each way it runs (its own command, each
   ``--run``), traced with fanotify from before its container starts.
2. ``minify.plan_minify`` decides what stays from that evidence; ``apply_minify`` builds
   the one-layer result.
3. The result goes into the engine under a temporary tag, and both images are exercised
   the same way, untraced: both stay up (or exit alike), each probe answers alike.
4. If a check fails, the plan is widened once with the evidence the failing run or probe
   left on the original, and step 3 runs again. The report says what was added.

Nothing is written here: the caller writes the result when the report says it may.
Every image and container this makes is removed on every way out (SIGTERM included).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from deadweight.errors import ImageRunFailed, TraceUnavailable
from deadweight.filetree import LayerDelta
from deadweight.image import Image
from deadweight.minify import Evidence, MinifyPlan, Packages, apply_minify, plan_minify
from deadweight.optimize.verify import BodyRule, Verification
from deadweight.runs.exercise import Exercise, Options, Probes, Way, exercise
from deadweight.runs.judge import Judged, judge, traces_behind
from deadweight.runs.verify import temporary_tag
from deadweight.sources import containers, engine
from deadweight.sources.fanotify import Tracer, require_root

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Request:
    """What the user asked for (the CLI's options, parsed)."""

    ways: tuple[Way, ...] = (Way(),)
    options: Options = field(default_factory=Options)
    probes: Probes = field(default_factory=Probes)
    trace_seconds: float = 5.0
    packages: Packages = "touched"
    keep: tuple[str, ...] = ()
    static: bool = False
    body: BodyRule = "shape"
    dry_run: bool = False
    epoch: int | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One verification: the plan it checked and every check, way by way."""

    plan: MinifyPlan
    verification: Verification
    result_logs: str = ""


@dataclass(frozen=True, slots=True)
class Shrunk:
    """Everything ``minify`` did: the final plan and image, the traced runs, each
    verification attempt, what the repair added, and the seconds spent per phase."""

    plan: MinifyPlan
    result: Image | None
    traced: tuple[Exercise, ...] = ()
    attempts: tuple[Attempt, ...] = ()
    repaired: tuple[str, ...] = ()
    phases: tuple[tuple[str, float], ...] = ()
    evidence: Evidence | None = field(default=None, repr=False)

    @property
    def verified(self) -> bool | None:
        """True/False after a verification, None when nothing was verified."""
        return self.attempts[-1].verification.passed if self.attempts else None


class _Clock:
    """Seconds per phase, in the order the phases first ran."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @property
    def phases(self) -> tuple[tuple[str, float], ...]:
        return tuple(self.seconds.items())

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        began = time.monotonic()
        try:
            yield
        finally:
            spent = time.monotonic() - began
            self.seconds[name] = self.seconds.get(name, 0.0) + spent


@contextmanager
def in_engine(image: Image, role: str, *, from_engine: bool) -> Iterator[str]:
    """A name the engine runs ``image`` by: its ID when the engine holds it already, else
    a temporary tag removed afterwards."""
    if from_engine:
        yield image.id
        return
    with engine.loaded(image, temporary_tag(image, role)) as tag:
        yield tag


def _trace(tag: str, request: Request, say: Say) -> tuple[Exercise, ...]:
    """Each way of running, traced from before its container starts."""
    root = engine.storage_root()
    done: list[Exercise] = []
    with Tracer(root) as tracer:
        for way in request.ways:
            say(f"tracing {way.name}")
            run = exercise(tag, way, request.options, request.probes, tracer=tracer,
                           life=request.trace_seconds, on_probe=say)  # fmt: skip
            done.append(run)
    if tracer.overflowed:  # events were lost: the trace would under-report what ran
        raise TraceUnavailable("the trace lost events (the fanotify queue overflowed)")
    _refuse_failed(tuple(done), request.options.network)
    return tuple(done)


def _last_line(run: Exercise) -> str:
    lines = run.logs.strip().splitlines()
    return lines[-1] if lines else "(no output)"


def _refuse_failed(runs: tuple[Exercise, ...], network: str) -> None:
    """The original must run as asked, or its trace is not evidence of anything: no way
    of running it may fail at once, and each probe must work on at least one way (a probe
    that fails on one way, a worker's, is not checked there)."""
    own = runs[0]
    for run in runs:
        if not run.start.running and run.start.exit_code not in (0, None):
            raise ImageRunFailed(
                f"{run.way.name}: the original image exited with code "
                f"{run.start.exit_code}: {_last_line(run)}"
            )
    for i, outcome in enumerate(own.outcomes):
        if all(run.outcomes[i].run.error for run in runs):
            hint = ""
            if outcome.kind == "http" and network == "none" and os.geteuid() != 0:
                # as root the GET is made inside the container's network (http_get)
                hint = (
                    "; with --network none only root can reach the container (from within "
                    "its network): run as root, or --network host?"
                )
            raise ImageRunFailed(
                f"probe {outcome.subject}: {outcome.run.error} (the original image; its last "
                f"log line: {_last_line(own)}{hint})"
            )


def applicable(run: Exercise) -> Probes:
    """The probes that worked on this way of running the original."""
    worked = {(o.kind, o.subject) for o in run.outcomes if not o.run.error}
    return Probes(
        http=tuple(u for u in run.probes.http if ("http", u) in worked),
        commands=tuple(c for c in run.probes.commands if ("command", c) in worked),
        script=run.probes.script if ("script", run.probes.script) in worked else None,
    )


def _verify(
    original: str, result: str, request: Request, traced: tuple[Exercise, ...], say: Say
) -> tuple[list[Judged], str]:
    """Exercise both images each way, untraced, with the probes that worked there on the
    traced original; the checks, and the result's last logs where a check failed."""
    judged: list[Judged] = []
    logs: list[str] = []
    for way, seen in zip(request.ways, traced, strict=True):
        say(f"verifying {way.name}")
        probes = applicable(seen)
        a = exercise(original, way, request.options, probes)
        b = exercise(result, way, request.options, probes)
        found = judge(a, b, request.body, several=len(request.ways) > 1)
        judged.extend(found)
        if not all(j.check.passed for j in found):
            logs.append(f"{way.name}:\n{b.logs.rstrip() or '(no output)'}")
    return judged, "\n".join(logs)


def preflight(request: Request) -> None:
    """Fail fast, before any layer is read: tracing needs root and an engine."""
    if not request.static:
        require_root()
        engine.connect()


def shrink(
    image: Image,
    request: Request,
    *,
    deltas: Sequence[LayerDelta] | None = None,
    from_engine: bool = False,
    say: Say | None = None,
) -> Shrunk:
    """Minify ``image`` as ``request`` says (see the module docstring)."""
    tell: Say = say or (lambda _: None)
    clock = _Clock()
    runs = tuple(w.argv for w in request.ways if w.argv is not None)
    with containers.interruptible(), ExitStack() as stack:
        traced: tuple[Exercise, ...] = ()
        evidence: Evidence | None = None
        if not request.static:
            with clock.phase("load"):
                tag = stack.enter_context(in_engine(image, "original", from_engine=from_engine))
            with clock.phase("trace"):
                traced = _trace(tag, request, tell)
            evidence = Evidence(tuple(t for run in traced for t in run.traces))
        with clock.phase("plan"):
            tell("planning")
            plan = plan_minify(image, evidence=evidence, packages=request.packages,
                               keep=request.keep, runs=runs, deltas=deltas)  # fmt: skip
        if request.dry_run:
            return Shrunk(plan, None, traced, (), (), clock.phases, evidence)
        with clock.phase("apply"):
            result = apply_minify(image, plan, epoch=request.epoch)
        if request.static:
            return Shrunk(plan, result, (), (), (), clock.phases, evidence)
        attempts: list[Attempt] = []
        repaired: tuple[str, ...] = ()
        for attempt in ("verify", "repair"):
            with (
                clock.phase(attempt),
                engine.loaded(result, temporary_tag(result, "minified")) as b,
            ):
                judged, logs = _verify(tag, b, request, traced, tell)
            verification = Verification(tuple(j.check for j in judged))
            attempts.append(Attempt(plan, verification, logs))
            if verification.passed or attempt == "repair":
                break
            wider = plan.widen(traces_behind(judged, traced))
            repaired = plan.added_by(wider)
            if not repaired:
                break  # widening keeps nothing more: a second try would fail alike
            tell(f"repairing: keeping {len(repaired)} more path(s)")
            plan = wider
            with clock.phase("apply"):
                result = apply_minify(image, plan, epoch=request.epoch)
        return Shrunk(plan, result, traced, tuple(attempts), repaired, clock.phases,
                      evidence)  # fmt: skip
