"""The verdicts of verification: what counts as the same behaviour."""

from __future__ import annotations

from deadweight.optimize import Run, Verification
from deadweight.optimize.verify import compare_command, compare_http, compare_start

UP = Run(True)


def test_a_service_must_stay_up_in_both() -> None:
    assert compare_start("cmd", UP, UP).passed
    broken = compare_start("cmd", UP, Run(False, 1, output="cat: /tmp/needed"))
    assert (broken.passed, broken.reason) == (False, "the optimized image exited 1")


def test_a_one_shot_must_exit_the_same_way() -> None:
    assert compare_start("cmd", Run(False, 0), Run(False, 0)).passed
    assert compare_start("cmd", Run(False, 2), Run(False, 2)).passed
    check = compare_start("cmd", Run(False, 0), UP)
    assert check.reason == "the original exited 0, the optimized image: running"
    check = compare_start("cmd", Run(False, 0), Run(False, 127))
    assert check.reason == "the original exited 0, the optimized image: exited 127"
    failed = compare_start("cmd", UP, Run(False, error="no such image"))
    assert (failed.passed, failed.reason) == (False, "a container did not run")


def test_command_must_exit_zero_in_both() -> None:
    assert compare_command("true", Run(False, 0), Run(False, 0)).passed
    check = compare_command("true", Run(False, 0), Run(False, 1))
    assert check.reason == "exit codes: original exited 0, optimized exited 1"
    assert not compare_command("true", Run(False, 1), Run(False, 1)).passed


def test_http_must_answer_the_same() -> None:
    ok = Run(True, status=200, output="healthy\n")
    assert compare_http("u", ok, ok).passed
    assert compare_http("u", ok, Run(True, status=500, output="")).reason == (
        "status 200 became 500"
    )
    assert compare_http("u", ok, Run(True, status=200, output="sick\n")).reason == (
        "the bodies differ"
    )
    none = compare_http("u", ok, Run(True, error="no answer from u: refused"))
    assert none.reason == "original HTTP 200, optimized error: no answer from u: refused"


def test_verification_passes_only_when_every_check_does() -> None:
    good, bad = compare_start("c", UP, UP), compare_start("c", UP, Run(False, 1))
    assert Verification((good,)).passed
    assert not Verification((good, bad)).passed
    assert Verification(()).passed
