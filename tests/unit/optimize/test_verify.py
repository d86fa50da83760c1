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
    sick = Run(True, status=200, output="sick\n")
    assert compare_http("u", ok, sick, "exact").reason == "the bodies differ"
    assert compare_http("u", ok, sick, "status").passed
    none = compare_http("u", ok, Run(True, error="no answer from u: refused"))
    assert none.reason == "original HTTP 200, optimized error: no answer from u: refused"


def test_verification_passes_only_when_every_check_does() -> None:
    good, bad = compare_start("c", UP, UP), compare_start("c", UP, Run(False, 1))
    assert Verification((good,)).passed
    assert not Verification((good, bad)).passed
    assert Verification(()).passed


def _json(body: str, content_type: str = "application/json") -> Run:
    return Run(True, status=200, output=body, content_type=content_type)


def test_shape_passes_bodies_with_changing_figures() -> None:
    """A health endpoint reporting its uptime, memory and a timestamp answers alike."""
    a = _json('{"status": "ok", "uptime": 12, "memory": {"rss": 1024.5, "heap": [1, 2]},'
              ' "at": "2026-12-06T13:00:00Z", "checks": []}')  # fmt: skip
    b = _json('{"at": "2026-12-06T13:00:09Z", "uptime": 13.25, "status": "ok",'
              ' "memory": {"heap": [7], "rss": 2048}, "checks": [{"db": true}]}')  # fmt: skip
    assert compare_http("u", a, b).passed
    assert not compare_http("u", a, b, "exact").passed


def test_shape_fails_on_missing_keys_and_changed_types() -> None:
    a = _json('{"status": "ok", "deps": {"db": true}}')
    assert compare_http("u", a, _json('{"status": "ok"}')).reason == (
        "the JSON bodies differ in shape (keys or value types)"
    )
    assert not compare_http("u", a, _json('{"status": "ok", "deps": {"db": "yes"}}')).passed
    assert not compare_http("u", a, _json('{"status": 1, "deps": {"db": true}}')).passed
    assert not compare_http("u", _json("[1, 2]"), _json('["a"]')).passed
    assert compare_http("u", a, _json("not json", "text/plain")).reason == (
        "the body is no longer JSON"
    )


def test_shape_compares_content_types_of_other_bodies() -> None:
    html = _json("<p>up 3s</p>", "text/html; charset=utf-8")
    assert compare_http("u", html, _json("<p>up 9s</p>", "Text/HTML")).passed
    assert compare_http("u", html, _json("<p>up</p>", "text/plain")).reason == (
        "content type text/html became text/plain"
    )
    assert not compare_http("u", _json("ok", ""), _json("ok", "text/plain")).passed
