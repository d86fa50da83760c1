"""Judging the original's and the result's runs, and finding the traces behind a failure."""

from __future__ import annotations

from deadweight.minify import Trace
from deadweight.optimize.verify import Run
from deadweight.runs.exercise import Exercise, Outcome, Probes, Way
from deadweight.runs.judge import judge, traces_behind
from deadweight.runs.shrink import applicable

UP = Run(True)
PROBES = Probes(http=("http://h/health",), commands=("check",))
WORKER = Way(("worker.sh",))


def ran(way: Way, http: Run, cmd: Run, start: Run = UP) -> Exercise:
    outcomes = (Outcome("http", "http://h/health", http), Outcome("command", "check", cmd))
    traces = (
        Trace(way.name, frozenset({"/bin/app"})),
        Trace(way.source("probe-http http://h/health"), frozenset({"/app/health.js"})),
        Trace(way.source("probe-cmd check"), frozenset({"/bin/check"})),
        Trace(way.source("life"), frozenset({"/app/cron.js"})),
    )
    return Exercise(way, PROBES, start, outcomes, traces)


def ok_http(body: str = '{"up": 1}') -> Run:
    return Run(True, status=200, output=body, content_type="application/json")


def test_alike_runs_pass_and_name_the_way_when_there_are_several() -> None:
    a = ran(WORKER, ok_http('{"up": 1}'), Run(False, 0))
    b = ran(WORKER, ok_http('{"up": 2.5}'), Run(False, 0))
    found = judge(a, b, "shape", several=True)
    assert [(j.check.name, j.check.subject, j.check.passed) for j in found] == [
        ("starts", "run: worker.sh", True),
        ("http", "run: worker.sh · http://h/health", True),
        ("command", "run: worker.sh · check", True),
    ]


def test_a_failed_probe_points_at_its_own_traces_only() -> None:
    own = Way()
    a = ran(own, ok_http(), Run(False, 0))
    b = ran(own, ok_http(), Run(False, 1))
    found = judge(a, b, "shape", several=False)
    assert [j.check.passed for j in found] == [True, True, False]
    assert found[2].check.reason == "exit code 0 became 1"
    evidence = traces_behind(found, [a])
    assert {t.source for t in evidence.traces} == {"(the image's command)", "probe-cmd check"}
    assert evidence.paths() == {"/bin/app", "/bin/check"}


def test_a_result_that_exits_points_at_the_start_and_life() -> None:
    a = ran(WORKER, ok_http(), Run(False, 0))
    b = ran(WORKER, ok_http(), Run(False, 0), start=Run(False, 127))
    found = judge(a, b, "status", several=False)
    assert not found[0].check.passed
    assert traces_behind(found, [a]).paths() == {"/bin/app", "/app/cron.js"}


def test_probes_that_failed_on_a_way_of_the_original_are_not_checked_there() -> None:
    worker = ran(WORKER, Run(True, error="no answer from http://h/health"), Run(False, 0))
    assert applicable(worker) == Probes(commands=("check",))
