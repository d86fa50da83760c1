"""``docker-daemon:``: images held by a local Docker or Podman engine, through its HTTP API.

The engine is found the way the docker CLI finds it: ``DOCKER_HOST`` (with
``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH``) when set, else the default socket
``/var/run/docker.sock``, else Podman's compatible sockets. ``images``, ``history`` and
``inspect`` are the engine's own answers, passed through; :func:`read` gets the real image
(raw config, layer streams) from one ``docker save`` stream spooled to a temp file.

docker-py is an optional dependency (``deadweight[engine]``), imported only when needed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from deadweight.errors import DeadweightError, EngineError, NotFound
from deadweight.image import Image, Opener
from deadweight.platform import Platform
from deadweight.scratch import unnamed
from deadweight.sources import Location
from deadweight.spec.config import HistoryEntry
from deadweight.spec.history import MISSING, HistoryRow
from deadweight.streams import CHUNK as _CHUNK
from deadweight.streams import ByteStream

DEFAULT_SOCKET = "/var/run/docker.sock"
PODMAN_ROOT_SOCKET = "/run/podman/podman.sock"
PING_TIMEOUT = 3.0  # seconds: an engine that takes longer to answer /version is not there
API_TIMEOUT = 120.0  # seconds between two reads of one answer
SAVE_TIMEOUT = 900.0  # docker ≤ 24 exports the whole image before the first byte of a save

T = TypeVar("T")


@dataclasses.dataclass(frozen=True, slots=True)
class Engine:
    """An engine that answered: its URL, a docker-py client, and what it is."""

    url: str
    client: Any = dataclasses.field(repr=False)  # docker.APIClient
    podman: bool
    api_version: str
    env: tuple[tuple[str, str], ...] = dataclasses.field(repr=False)

    def with_timeout(self, timeout: float) -> Any:
        """A separate client for one long call, so the shared one keeps its timeout."""
        return _client(_docker(), self.url, dict(self.env), self.api_version, timeout)


def _docker() -> Any:
    try:
        import docker
    except ImportError as exc:
        raise EngineError(
            "docker-daemon: needs the 'docker' Python package: pip install deadweight[engine]"
        ) from exc
    return docker


def candidates(env: Mapping[str, str] | None = None) -> list[str]:
    """The engine URLs to try, in order (only ``DOCKER_HOST`` when it is set)."""
    env = os.environ if env is None else env
    if env.get("DOCKER_HOST"):
        return [env["DOCKER_HOST"]]
    urls = ["unix://" + DEFAULT_SOCKET]
    if env.get("XDG_RUNTIME_DIR"):
        urls.append(f"unix://{env['XDG_RUNTIME_DIR']}/podman/podman.sock")
    urls.append("unix://" + PODMAN_ROOT_SOCKET)
    return urls


def _socket_path(url: str) -> str | None:
    return url[len("unix://") :] if url.startswith("unix://") else None


def _reason(exc: BaseException) -> str:
    """The root cause of a connection failure, in a few words."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        item = todo.pop(0)
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, TimeoutError | socket.timeout) or "Timeout" in type(item).__name__:
            return "no answer in time"
        if isinstance(item, OSError) and item.strerror:
            return item.strerror.lower()
        todo.extend([item.__cause__, item.__context__, getattr(item, "reason", None), *item.args])
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _client(docker: Any, url: str, env: Mapping[str, str], version: str, timeout: float) -> Any:
    kwargs = docker.utils.kwargs_from_env(environment=dict(env))
    kwargs["base_url"] = url
    return docker.APIClient(version=version, timeout=timeout, **kwargs)


def _probe(docker: Any, url: str, env: Mapping[str, str], timeout: float) -> Engine:
    path = _socket_path(url)
    if path is not None and not os.path.exists(path):
        raise EngineError(f"docker-daemon: cannot connect to the engine at {url}: no such socket")
    try:
        probe = _client(docker, url, env, "1.24", timeout)  # the version is unused by /version
        try:
            info = probe.version(api_version=False)
        finally:
            probe.close()
        components = info.get("Components") or ()
        podman = any("podman" in str(c.get("Name", "")).lower() for c in components)
        version = str(info["ApiVersion"])
        client = _client(docker, url, env, version, API_TIMEOUT)
    except DeadweightError:
        raise
    except Exception as exc:  # docker-py raises requests', urllib3's and its own errors
        raise EngineError(
            f"docker-daemon: cannot connect to the engine at {url}: {_reason(exc)}"
        ) from exc
    return Engine(url, client, podman, version, tuple(sorted(env.items())))


# Engines that answered, by the environment that chose them; one /version probe each.
_ENGINES: dict[tuple[tuple[str, str], ...], Engine] = {}


def connect(host: str | None = None, timeout: float = PING_TIMEOUT) -> Engine:
    """The first engine that answers; ``host`` overrides ``DOCKER_HOST``."""
    keys = ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "XDG_RUNTIME_DIR")
    env = {k: os.environ[k] for k in keys if k in os.environ}
    if host:
        env["DOCKER_HOST"] = host
    key = tuple(sorted(env.items()))
    if key not in _ENGINES:
        docker = _docker()
        urls = candidates(env)
        present = [u for u in urls if env.get("DOCKER_HOST") or os.path.exists(u[7:])]
        if not present:
            raise EngineError(
                f"docker-daemon: no engine: no socket at {', '.join(u[7:] for u in urls)}"
                " (start Docker or Podman, or set DOCKER_HOST)"
            )
        errors: list[EngineError] = []
        for url in present:
            try:
                _ENGINES[key] = _probe(docker, url, env, timeout)
                break
            except EngineError as exc:
                errors.append(exc)
        else:
            raise errors[0]
    return _ENGINES[key]


def available(host: str | None = None, timeout: float = 1.0) -> bool:
    """Whether an engine answers, quickly; never raises."""
    try:
        connect(host, timeout)
    except EngineError:
        return False
    return True


def is_timeout(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) is an answer that did not come in time."""
    return exc is not None and _reason(exc) == "no answer in time"


def call(engine: Engine, name: str, fn: Callable[[], T], *, missing: str = "no such image") -> T:
    """Run one API call, turning docker-py's errors into ours (``missing``: what a 404
    means for this call)."""
    docker = _docker()
    try:
        return fn()
    except docker.errors.NotFound as exc:
        raise NotFound(f"docker-daemon: {missing}: {name}") from exc
    except docker.errors.APIError as exc:
        text = str(exc.explanation or exc).strip().splitlines()
        raise EngineError(f"docker-daemon: {name}: {text[0] if text else exc}") from exc
    except DeadweightError:
        raise
    except Exception as exc:
        raise EngineError(
            f"docker-daemon: the engine at {engine.url} failed: {_reason(exc)}"
        ) from exc


def list_summaries(
    filters: Mapping[str, Sequence[str]] | None = None,
    *,
    all_images: bool = False,
    host: str | None = None,
) -> list[dict[str, Any]]:
    """``GET /images/json`` as the docker CLI calls it (``all`` only for ``-a``, ``filters``
    as ``--filter`` and REPOSITORY[:TAG] give them): rows as sent.

    Each row has ``Id``, ``RepoTags``, ``RepoDigests``, ``Created`` and ``Size``; the lists
    may be null (docker 20.10 sends ``"RepoDigests": null`` for a never-pushed image). The
    engine applies docker's rules itself (docker-formats.md §4.1): intermediate images are
    left out, other untagged ones come as ``<none>:<none>``.
    """
    engine = connect(host)
    wanted = {k: list(v) for k, v in filters.items()} if filters else None
    docker = _docker()

    def images() -> object:
        try:
            return engine.client.images(all=all_images, filters=wanted)
        except docker.errors.NotFound as exc:  # the image a before= or since= filter names
            raise NotFound(f"docker-daemon: {exc.explanation or exc}") from exc

    rows = call(engine, "images", images)
    if not isinstance(rows, list):
        raise EngineError("docker-daemon: the engine's image list is not a JSON list")
    return [r for r in rows if isinstance(r, dict)]


def history_rows(name: str, *, host: str | None = None) -> tuple[HistoryRow, ...]:
    """``GET /images/{name}/history``: newest first, IDs and sizes as the engine computes them."""
    engine = connect(host)
    raw = call(engine, name, lambda: engine.client.history(name))
    if not isinstance(raw, list):
        raise EngineError(f"docker-daemon: {name}: the engine's history is not a JSON list")
    return tuple(
        HistoryRow(
            id=str(r.get("Id") or MISSING),
            created=int(r.get("Created") or 0),
            created_by=str(r.get("CreatedBy") or ""),
            comment=str(r.get("Comment") or ""),
            size=int(r.get("Size") or 0),
        )
        for r in raw
        if isinstance(r, dict)
    )


def inspect(name: str, *, host: str | None = None) -> dict[str, Any]:
    """``GET /images/{name}/json``: what ``docker image inspect`` prints, keys in engine order."""
    engine = connect(host)
    doc = call(engine, name, lambda: engine.client.inspect_image(name))
    if not isinstance(doc, dict):
        raise EngineError(f"docker-daemon: {name}: the engine's inspect answer is not an object")
    return doc


class _Spool:
    """The saved stream in a temp file with no name (``scratch.unnamed``), so nothing is
    left on disk however the process ends, SIGKILL included. ``path`` reopens it (through
    ``/proc``) as long as this object lives; the layers' openers keep it alive."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._file, _ = unnamed(os.environ.get("DEADWEIGHT_TMPDIR"))
        try:
            for chunk in chunks:
                self._file.write(chunk)
            self._file.flush()
        except BaseException:
            self._file.close()
            raise
        name = self._file.name
        self.path = Path(name) if isinstance(name, str) else Path(f"/proc/self/fd/{name}")


@dataclasses.dataclass(frozen=True, slots=True)
class _PinnedOpener:
    """A layer opener that keeps the spooled save stream alive as long as the layer."""

    opener: Opener
    spool: _Spool

    def __call__(self) -> ByteStream:
        return self.opener()


def _layer_sizes(
    history: tuple[HistoryEntry, ...] | None, rows: tuple[HistoryRow, ...], layers: int
) -> list[int] | None:
    """Per-layer sizes (bottom first) from engine history rows, when they line up."""
    if history is None or len(rows) != len(history):
        return None
    sizes = [r.size for r, h in zip(reversed(rows), history, strict=True) if not h.empty_layer]
    return sizes if len(sizes) == layers else None


def read(
    name: str | Location, *, platform: Platform | None = None, insecure: bool = False,
    host: str | None = None,
) -> Image:  # fmt: skip
    """The image ``name`` (or ``docker-daemon:`` location) as the engine holds it, from one
    ``docker save`` stream. ``platform`` and ``insecure`` are the other media's: the engine
    holds one image under a name, and answers on a local socket.

    The save is made by image ID, so the archive holds exactly that image; names, ancestors
    and (for Docker, whose history sizes are docker's per-layer sizes) layer sizes come
    from the engine's own inspect and history answers.
    """
    from deadweight.sources import archive

    if isinstance(name, Location):
        name = name.target
    engine = connect(host)
    doc = inspect(name, host=host)
    image_id = str(doc.get("Id", ""))
    rows = history_rows(image_id, host=host)

    def save() -> _Spool:
        saver = engine.with_timeout(SAVE_TIMEOUT)
        try:
            return _Spool(saver.get_image(image_id, chunk_size=_CHUNK))
        finally:
            saver.close()

    spool = call(engine, name, save)
    image = archive.read(spool.path)
    sizes = None if engine.podman else _layer_sizes(image.history, rows, len(image.layers))
    layers = tuple(
        dataclasses.replace(
            layer,
            opener=_PinnedOpener(layer.opener, spool),
            size=sizes[i] if sizes is not None else layer.size,
        )
        for i, layer in enumerate(image.layers)
    )
    ancestors: list[str] = []
    for row in rows[1:]:
        if row.id == MISSING:
            break
        ancestors.append(row.id)
    return dataclasses.replace(
        image,
        id=image_id or image.id,
        layers=layers,
        repo_tags=tuple(str(t) for t in doc.get("RepoTags") or ()),
        repo_digests=tuple(str(d) for d in doc.get("RepoDigests") or ()),
        ancestors=tuple(ancestors),
        source=f"docker-daemon:{name}",
    )


def load(
    images: Sequence[Image] | Image, tag: str | None = None, *, host: str | None = None
) -> None:
    """Load images into the engine (one ``docker save`` stream); ``tag`` names a single
    image, else each keeps its ``repo_tags``."""
    from deadweight.sources import archive

    todo = [images] if isinstance(images, Image) else list(images)
    if tag is not None:
        if len(todo) != 1:
            raise EngineError("docker-daemon: one tag names one image")
        todo = [dataclasses.replace(todo[0], repo_tags=(tag,))]
    name = tag or ", ".join(t for i in todo for t in i.repo_tags) or "image"
    conn = connect(host)
    with tempfile.TemporaryDirectory(
        prefix="deadweight-", dir=os.environ.get("DEADWEIGHT_TMPDIR")
    ) as tmp:
        path = Path(tmp) / "image.tar"
        archive.write(todo, path)
        client = conn.with_timeout(SAVE_TIMEOUT)
        try:
            with open(path, "rb") as data:
                answers = call(conn, name, lambda: list(client.load_image(data)))
        finally:
            client.close()
    for answer in answers:
        if isinstance(answer, dict) and answer.get("error"):
            raise EngineError(f"docker-daemon: loading {name}: {answer['error']}")


def write(
    images: Sequence[Image],
    location: Location,
    *,
    insecure: bool = False,
    host: str | None = None,
) -> None:
    """Load ``images`` under the ``docker-daemon:NAME[:TAG]`` location's name (``latest``
    when it names no tag): :func:`load`."""
    load(images, location.image_reference().familiar, host=host)


def remove_image(name: str, *, host: str | None = None) -> None:
    """Remove the tag ``name`` (and its image when no other tag holds it)."""
    conn = connect(host)
    call(conn, name, lambda: conn.client.remove_image(name, noprune=False))


@contextlib.contextmanager
def loaded(image: Image, tag: str, *, host: str | None = None) -> Iterator[str]:
    """``image`` in the engine under the temporary ``tag``, removed when the block ends
    (however it ends)."""
    load(image, tag, host=host)
    try:
        yield tag
    finally:
        with contextlib.suppress(DeadweightError):
            remove_image(tag, host=host)


def storage_root(*, host: str | None = None) -> str:
    """Where the engine keeps images and containers (Docker's data root, Podman's graph
    root): the file system a tracer watches."""
    conn = connect(host)
    info = call(conn, "info", conn.client.info)
    root = info.get("DockerRootDir") if isinstance(info, dict) else None
    if not root and isinstance(info, dict):
        store = info.get("store") or info.get("Store") or {}
        root = store.get("graphRoot") or store.get("GraphRoot")
    if not root:
        raise EngineError(f"docker-daemon: the engine at {conn.url} does not say where it stores")
    return str(root)
