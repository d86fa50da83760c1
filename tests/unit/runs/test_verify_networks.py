"""``verify``'s runs: which network each check's containers get."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from deadweight import static as S
from deadweight.optimize.verify import Run
from deadweight.runs import verify as runs_verify
from deadweight.sources.containers import RunSpec


@pytest.mark.parametrize(("uid", "network"), [(0, "none"), (1000, "host")])
def test_an_http_check_runs_on_no_network_as_root_and_on_the_hosts_otherwise(
    monkeypatch: pytest.MonkeyPatch, uid: int, network: str
) -> None:
    """As root the GET is made from within each container's network namespace, so the
    containers need no network of the host's: no host port is taken, and a server
    already on the host's port is never the one that answers. Otherwise the GET comes
    from the host, which only reaches a container on the host's network."""
    seen: list[tuple[str, str]] = []

    @contextlib.contextmanager
    def pair(*args: Any) -> Iterator[tuple[str, str]]:
        yield "a", "b"

    def observe(spec: RunSpec, **kwargs: Any) -> Run:
        seen.append((spec.image, spec.network))
        if kwargs.get("probe") is not None:
            return Run(True, status=200, output='{"ok": true}', content_type="application/json")
        return Run(True)

    monkeypatch.setattr(runs_verify, "loaded_pair", pair)
    monkeypatch.setattr(runs_verify, "observe", observe)
    monkeypatch.setattr("deadweight.runs.verify.os.geteuid", lambda: uid)
    image = S.image([S.Step("ADD", S.layer([S.File("x", b"x")]))])
    result = runs_verify.verify(image, image, command=None, url="http://localhost:8000/health")
    assert result.passed
    assert seen == [("a", "none"), ("b", "none"), ("a", network), ("b", network)]
