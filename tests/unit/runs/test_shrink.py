"""minify's workflow with the engine replaced by a script of what the runs observed: the
repair loop widens the plan with the failing probe's evidence once, and says what it
added; a result that still fails is reported, never hidden."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from deadweight import static as S
from deadweight.errors import ImageRunFailed, TraceUnavailable
from deadweight.image import Image
from deadweight.minify import Trace
from deadweight.optimize.verify import Run
from deadweight.runs import shrink as workflow
from deadweight.runs.exercise import Exercise, Options, Outcome, Probes, Way
from deadweight.sources import engine

URL = "http://127.0.0.1:1/health"
DPKG_STATUS = b"Package: tool\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n\n"


def image() -> Image:
    files = S.layer([
        S.Dir("bin"), S.File("bin/server", b"#!/bin/sh\n", 0o755), S.File("bin/sh", b"sh", 0o755),
        S.Dir("opt"), S.Dir("opt/tool"), S.File("opt/tool/a", b"a" * 100),
        S.File("opt/tool/b", b"b" * 100),
        S.Dir("var"), S.Dir("var/lib"), S.Dir("var/lib/dpkg"), S.Dir("var/lib/dpkg/info"),
        S.File("var/lib/dpkg/status", DPKG_STATUS),
        S.File("var/lib/dpkg/info/tool.list", b"/opt\n/opt/tool\n/opt/tool/a\n/opt/tool/b\n"),
    ])  # fmt: skip
    return S.image([S.Step("ADD / /", files)], config={"Cmd": ["/bin/server"]})


class Script:
    """What each run observes: the traced original opened /opt/tool/a during the probe;
    the result answers the probe only once ``fixed_after`` attempts have failed."""

    def __init__(self, fixed_after: int) -> None:
        self.fixed_after = fixed_after
        self.results = 0

    def __call__(self, tag: str, way: Way, options: Options, probes: Probes,
                 **kwargs: Any) -> Exercise:  # fmt: skip
        ok = Run(True, status=200, output='{"ok": 1}', content_type="application/json")
        if tag.startswith("deadweight-verify/minified"):
            self.results += 1
            if self.results <= self.fixed_after:
                ok = Run(True, status=500, output="missing /opt/tool/b")
        traces: tuple[Trace, ...] = ()
        if kwargs.get("tracer") is not None:
            traces = (
                Trace(way.name, frozenset({"/bin/server"}), frozenset({"/bin/server"})),
                Trace(f"probe-http {URL}", frozenset({"/opt/tool/a"})),
            )
        outcomes = tuple(Outcome("http", u, ok) for u in probes.http)
        return Exercise(way, probes, Run(True), outcomes, traces, "log line")


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    @contextmanager
    def loaded(image: Image, tag: str, **kwargs: Any) -> Iterator[str]:
        yield tag

    class Tracer:
        overflowed = False

        def __init__(self, root: str) -> None:
            pass

        def __enter__(self) -> Tracer:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

    monkeypatch.setattr(engine, "loaded", loaded)
    monkeypatch.setattr(engine, "storage_root", lambda: "/")
    monkeypatch.setattr(workflow, "Tracer", Tracer)


REQUEST = workflow.Request(
    options=Options(network="host"), probes=Probes(http=(URL,)), packages="none"
)


def test_a_failed_probe_is_repaired_once_with_its_own_evidence(
    no_engine: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workflow, "exercise", Script(fixed_after=1))
    shrunk = workflow.shrink(image(), REQUEST)
    assert [a.verification.passed for a in shrunk.attempts] == [False, True]
    assert shrunk.verified is True
    assert "/opt/tool/b" in shrunk.repaired  # the rest of the package the probe touched
    assert "/opt/tool/b" in shrunk.plan.kept and "/opt/tool/b" not in shrunk.attempts[0].plan.kept
    assert [name for name, _ in shrunk.phases] == ["load", "trace", "plan", "apply", "verify",
                                                   "repair"]  # fmt: skip


def test_a_result_that_still_fails_is_reported_with_its_logs(
    no_engine: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workflow, "exercise", Script(fixed_after=2))
    shrunk = workflow.shrink(image(), REQUEST)
    assert shrunk.verified is False and len(shrunk.attempts) == 2
    failed = [c for c in shrunk.attempts[-1].verification.checks if not c.passed]
    assert [(c.name, c.reason) for c in failed] == [("http", "status 200 became 500")]
    assert shrunk.attempts[-1].result_logs == "(the image's command):\nlog line"


def test_a_trace_that_lost_events_is_an_error(
    no_engine: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workflow, "exercise", Script(fixed_after=0))
    monkeypatch.setattr("deadweight.runs.shrink.Tracer.overflowed", True)  # the fake one
    with pytest.raises(TraceUnavailable, match="the trace lost events"):
        workflow.shrink(image(), REQUEST)


def test_an_original_that_does_not_answer_is_an_error(
    no_engine: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def silent(tag: str, way: Way, options: Options, probes: Probes, **kw: Any) -> Exercise:
        gone = Run(True, error=f"no answer from {URL} in 20 s: refused")
        return Exercise(way, probes, Run(True), (Outcome("http", URL, gone),), (), "")

    monkeypatch.setattr(workflow, "exercise", silent)
    with pytest.raises(ImageRunFailed, match="^" + re.escape(f"probe {URL}: no answer")):
        workflow.shrink(image(), REQUEST)


@pytest.mark.parametrize(("uid", "hinted"), [(0, False), (1000, True)])
def test_an_unanswered_probe_on_no_network_hints_at_root_only_when_not_root(
    no_engine: None, monkeypatch: pytest.MonkeyPatch, uid: int, hinted: bool
) -> None:
    """As root the GET is made inside the container's network, so ``--network none`` is no
    reason for the silence; otherwise it is, and the error says what to do."""

    def silent(tag: str, way: Way, options: Options, probes: Probes, **kw: Any) -> Exercise:
        gone = Run(True, error=f"no answer from {URL} in 20 s: refused")
        return Exercise(way, probes, Run(True), (Outcome("http", URL, gone),), (), "")

    monkeypatch.setattr(workflow, "exercise", silent)
    monkeypatch.setattr("deadweight.runs.shrink.os.geteuid", lambda: uid)
    on_none = dataclasses.replace(REQUEST, options=Options(network="none"))
    with pytest.raises(ImageRunFailed) as failed:
        workflow.shrink(image(), on_none)
    assert ("run as root, or --network host?" in failed.value.message) is hinted
