"""optimize's ``--verify``: the original and the result run the same way on the engine.

Both images are loaded under temporary tags and removed afterwards, as is every container
(Ctrl-C and SIGTERM included). ``optimize.verify`` judges what the runs observed.
"""

from __future__ import annotations

import os
import secrets
import shlex
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from deadweight.errors import EngineError
from deadweight.image import Image
from deadweight.optimize.verify import (
    BodyRule,
    Check,
    Run,
    Verification,
    compare_command,
    compare_http,
    compare_start,
)
from deadweight.sources import containers, engine
from deadweight.sources.containers import Container, RunSpec

STAY_UP = 3.0  # seconds a service must stay up
COMMAND_WAIT = 60.0  # seconds a --verify-cmd may take
HTTP_WAIT = 15.0  # seconds to wait for --verify-http to answer
LOG_LINES = 20
VERIFY_REPO = "deadweight-verify"


def temporary_tag(image: Image, role: str) -> str:
    """A tag no one else uses: ``deadweight-verify/ROLE:ID12-RANDOM``."""
    return f"{VERIFY_REPO}/{role}:{image.id[7:19]}-{secrets.token_hex(3)}"


@contextmanager
def loaded_pair(
    original: Image, result: Image, roles: tuple[str, str]
) -> Iterator[tuple[str, str]]:
    """Both images in the engine under temporary tags, removed when the block ends."""
    with containers.interruptible(), ExitStack() as stack:
        a = stack.enter_context(engine.loaded(original, temporary_tag(original, roles[0])))
        b = stack.enter_context(engine.loaded(result, temporary_tag(result, roles[1])))
        yield a, b


def http_run(url: str, container: Container | None = None, wait: float = HTTP_WAIT) -> Run:
    """GET ``url`` (waiting for the service to come up): status, body and content type;
    from within ``container``'s network namespace when it has one that can be entered
    (``localhost`` is then the container's, on any ``--network``)."""
    alive = None if container is None else (lambda: container.wait(0) is None)
    inside = None if container is None else container.network()
    answer = containers.http_get(url, wait=wait, alive=alive, inside=inside)
    if answer.status is None:
        return Run(True, error=answer.error)
    body = answer.body.decode("utf-8", "replace")
    return Run(True, status=answer.status, output=body, content_type=answer.content_type)


def observe(
    spec: RunSpec,
    *,
    one_shot: bool = False,
    probe: Callable[[Container], Run] | None = None,
) -> Run:
    """Run ``spec``: a service must stay up ``STAY_UP`` seconds (then ``probe`` runs
    while it is up); a one-shot's exit code counts."""
    try:
        with containers.run(spec) as container:
            container.start()
            code = container.wait(STAY_UP)
            if code is None and one_shot:
                code = container.wait(COMMAND_WAIT)
            if code is None and probe is not None:
                return probe(container)
            return Run(code is None, code, output=container.logs(LOG_LINES))
    except EngineError as exc:
        return Run(False, error=exc.message.removeprefix("docker-daemon: "))


def verify(
    original: Image,
    result: Image,
    *,
    command: str | None,
    url: str | None,
    body: BodyRule = "shape",
) -> Verification:
    """Run both images the same way and compare (see ``optimize.verify``): their own
    command (``--network none``), ``command`` as the entrypoint (exit 0 in both), and
    ``url`` answered alike (bodies compared by ``body``): as root on ``--network none``,
    the GET made from within each container's network (:func:`http_run`), so no host
    port is taken and a server on the host's port is never the one answering; otherwise
    on ``--network host``."""
    checks: list[Check] = []
    with loaded_pair(original, result, ("original", "optimized")) as (a, b):
        checks.append(
            compare_start("(the image's command)", observe(RunSpec(a)), observe(RunSpec(b)))
        )
        if command:
            argv = tuple(shlex.split(command))
            runs = [
                observe(RunSpec(t, command=argv[1:], entrypoint=argv[:1]), one_shot=True)
                for t in (a, b)
            ]
            checks.append(compare_command(command, *runs))
        if url:
            probe: Callable[[Container], Run] = lambda c: http_run(url, c)  # noqa: E731
            network = "none" if os.geteuid() == 0 else "host"
            first, second = (observe(RunSpec(t, network=network), probe=probe) for t in (a, b))
            checks.append(compare_http(url, first, second, body))
    return Verification(tuple(checks))
