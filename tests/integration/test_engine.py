"""docker-daemon: against a private dockerd, with the docker 20.10 CLI as the oracle."""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import socket
import sys
import tarfile
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_fixtures import DockerEngine

from deadweight.errors import EngineError, NotFound
from deadweight.history import MISSING, HistoryRow
from deadweight.sources import engine
from deadweight.streams import as_file

_CONFTEST = Path(__file__).with_name("conftest.py")
if not (_CONFTEST.exists() and "engine_fixtures" in _CONFTEST.read_text()):
    # Until tests/integration/conftest.py shares them, this module brings its own.
    from engine_fixtures import busybox_base, docker_engine  # noqa: F401

pytestmark = pytest.mark.integration

DOCKERFILE = """\
FROM {base}
ENV GREETING=hello APP_HOME=/app
RUN mkdir -p /app/data && echo "$GREETING" > /app/greeting.txt && echo 12345 > /app/data/n
COPY app.txt /app/
RUN rm /app/greeting.txt && echo 'app:x:1000:1000:app:/app:/bin/sh' >> /etc/passwd
LABEL org.example.flavour={flavour}
WORKDIR /app
USER app
CMD ["cat", "/app/app.txt"]
"""

FLAVOURS = {"bk": True, "legacy": False}  # tag suffix → DOCKER_BUILDKIT


@pytest.fixture(scope="module")
def images(
    docker_engine: DockerEngine, busybox_base: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """Tag by flavour: one image built with BuildKit, one with the classic builder."""
    tags = {}
    for flavour, buildkit in FLAVOURS.items():
        context = tmp_path_factory.mktemp(f"ctx-{flavour}")
        (context / "app.txt").write_text(f"app built by {flavour}\n")
        (context / "Dockerfile").write_text(DOCKERFILE.format(base=busybox_base, flavour=flavour))
        tag = f"dw-engine-{flavour}:latest"
        docker_engine.build(context, tag, buildkit=buildkit)
        tags[flavour] = tag
    docker_engine.docker("tag", tags["bk"], "localhost:5000/dw/alias:v1")
    # Rebuild a tag with other content so its old image becomes dangling (<none>:<none>).
    context = tmp_path_factory.mktemp("ctx-dangle")
    for n in (1, 2):
        (context / "Dockerfile").write_text(f"FROM {busybox_base}\nRUN echo {n} > /n\n")
        docker_engine.build(context, "dw-engine-dangle:latest", buildkit=True)
    return tags


def cli_history(engine_: DockerEngine, name: str) -> list[HistoryRow]:
    out = engine_.docker(
        "history", "--no-trunc", "-H=false",
        "--format", "{{.ID}}|{{.CreatedAt}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}", name,
    )  # fmt: skip
    rows = []
    for line in out.splitlines():
        image_id, created_at, rest = line.split("|", 2)
        created_by, size, comment = rest.rsplit("|", 2)
        created = int(dt.datetime.fromisoformat(created_at.replace("Z", "+00:00")).timestamp())
        rows.append(HistoryRow(image_id, created, created_by, comment, int(size)))
    return rows


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_history_rows_are_what_docker_history_prints(
    docker_engine: DockerEngine, images: dict[str, str], flavour: str
) -> None:
    rows = engine.history_rows(images[flavour], host=docker_engine.host)
    # The CLI turns TABs of CREATED BY into spaces (docker-formats.md §3.3).
    shown = [
        HistoryRow(r.id, r.created, r.created_by.replace("\t", " "), r.comment, r.size)
        for r in rows
    ]
    assert shown == cli_history(docker_engine, images[flavour])
    ids = [r.id for r in rows]
    if flavour == "legacy":
        assert MISSING not in ids  # the classic builder links every step to its parent
    else:
        assert ids[0] != MISSING and set(ids[1:]) == {MISSING}
        assert any(r.comment == "buildkit.dockerfile.v0" for r in rows)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_inspect_is_docker_image_inspect(
    docker_engine: DockerEngine, images: dict[str, str], flavour: str
) -> None:
    doc = engine.inspect(images[flavour], host=docker_engine.host)
    (cli,) = json.loads(docker_engine.docker("image", "inspect", images[flavour]))
    assert doc == cli
    assert json.dumps(doc) == json.dumps(cli)  # same keys in the same order


def test_list_summaries_is_docker_images(
    docker_engine: DockerEngine, images: dict[str, str]
) -> None:
    rows = engine.list_summaries(host=docker_engine.host)
    assert all({"Id", "RepoTags", "RepoDigests", "Created", "Size"} <= r.keys() for r in rows)
    tags = {t for r in rows for t in r["RepoTags"]}
    assert {*images.values(), "localhost:5000/dw/alias:v1", "dw-busybox:latest"} <= tags
    cli_ids = docker_engine.docker("images", "--no-trunc", "--format", "{{.ID}}").split()
    # Intermediate images of the classic build are left out; the replaced build is dangling.
    assert sorted({r["Id"] for r in rows}) == sorted(set(cli_ids))
    assert any(r["RepoTags"] == ["<none>:<none>"] for r in rows)
    everything = docker_engine.docker("images", "-a", "--no-trunc", "--format", "{{.ID}}")
    assert len(set(everything.split())) > len(rows)
    bk = engine.inspect(images["bk"], host=docker_engine.host)
    (row,) = [r for r in rows if r["Id"] == bk["Id"]]
    created = int(dt.datetime.fromisoformat(bk["Created"][:19] + "+00:00").timestamp())
    assert (row["Size"], row["Created"]) == (bk["Size"], created)
    assert row["RepoDigests"] is None  # docker 20.10 sends null for a never-pushed image
    assert set(row["RepoTags"]) == {images["bk"], "localhost:5000/dw/alias:v1"}


def test_list_summaries_reference_filter(
    docker_engine: DockerEngine, images: dict[str, str]
) -> None:
    rows = engine.list_summaries({"reference": ["dw-engine-*"]}, host=docker_engine.host)
    tags = {t for r in rows for t in r["RepoTags"]}
    assert tags == {*images.values(), "dw-engine-dangle:latest"}


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_read_gives_the_engine_image(
    docker_engine: DockerEngine, images: dict[str, str], flavour: str
) -> None:
    doc = engine.inspect(images[flavour], host=docker_engine.host)
    rows = engine.history_rows(images[flavour], host=docker_engine.host)
    image = engine.read(images[flavour], host=docker_engine.host)
    assert image.id == doc["Id"]
    assert list(image.config.diff_ids) == doc["RootFS"]["Layers"]
    assert list(image.repo_tags) == doc["RepoTags"]
    assert image.source == f"docker-daemon:{images[flavour]}"
    assert image.config.document["config"]["User"] == "app"
    history = image.history or ()
    assert len(history) == len(rows)
    non_empty = [r.size for r, h in zip(reversed(rows), history, strict=True) if not h.empty_layer]
    assert [layer.size for layer in image.layers] == non_empty
    assert sum(layer.size or 0 for layer in image.layers) == doc["Size"]
    assert image.ancestors == tuple(r.id for r in rows[1:] if r.id != MISSING)
    found = {}
    for layer in image.layers:  # reading every layer to its end verifies its diff_id
        with layer.open() as stream, tarfile.open(fileobj=as_file(stream), mode="r|") as tar:
            for m in tar:
                if m.isfile() and m.name.startswith("app/"):
                    found[m.name] = tar.extractfile(m).read()  # type: ignore[union-attr]
            assert stream.read() == b""
    assert found["app/app.txt"] == f"app built by {flavour}\n".encode()
    assert found["app/data/n"] == b"12345\n"


def test_read_spool_lives_with_the_image(
    docker_engine: DockerEngine, images: dict[str, str]
) -> None:
    image = engine.read(images["bk"], host=docker_engine.host)
    spool = weakref.ref(image.layers[0].opener.spool)  # type: ignore[attr-defined]
    with image.layers[0].open() as stream:
        assert len(stream.read()) > 1_000_000  # busybox
    del image, stream
    gc.collect()
    assert spool() is None  # its file closed with it, and it had no name to leave behind


def test_read_spools_into_deadweight_tmpdir_under_no_name(
    docker_engine: DockerEngine,
    images: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEADWEIGHT_TMPDIR", str(tmp_path))
    image = engine.read(images["legacy"], host=docker_engine.host)
    spool: Path = image.layers[0].opener.spool.path  # type: ignore[attr-defined]
    held = os.stat(spool)
    assert held.st_nlink == 0 and held.st_size > 0  # no name: a SIGKILL leaves nothing
    assert held.st_dev == os.stat(tmp_path).st_dev
    assert list(tmp_path.iterdir()) == []
    with image.layers[0].open() as stream:
        assert stream.read(512)
    del image, stream


def test_open_image_uses_docker_host(
    docker_engine: DockerEngine, images: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from deadweight.sources import open_image

    monkeypatch.setenv("DOCKER_HOST", docker_engine.host)
    assert engine.available()
    image = open_image(f"docker-daemon:{images['bk']}")
    assert image.id == engine.inspect(images["bk"])["Id"]


@pytest.mark.parametrize("call", ["read", "inspect", "history_rows"])
def test_missing_image_is_not_found(docker_engine: DockerEngine, call: str) -> None:
    with pytest.raises(NotFound, match=r"^docker-daemon: no such image: dw-nope:x$"):
        getattr(engine, call)("dw-nope:x", host=docker_engine.host)


@pytest.fixture
def refusing_socket(tmp_path: Path) -> Iterator[str]:
    """A unix socket nobody accepts on: connecting is refused."""
    path = tmp_path / "refuse.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.bind(str(path))
        yield str(path)


def test_refused_engine_is_an_engine_error(refusing_socket: str) -> None:
    host = f"unix://{refusing_socket}"
    assert not engine.available(host)
    with pytest.raises(EngineError) as info:
        engine.list_summaries(host=host)
    message = str(info.value)
    assert message.startswith(f"docker-daemon: cannot connect to the engine at {host}: ")
    assert "refused" in message and "\n" not in message


def test_absent_socket_is_an_engine_error(tmp_path: Path) -> None:
    host = f"unix://{tmp_path}/absent.sock"
    assert not engine.available(host)
    with pytest.raises(EngineError, match=r"absent\.sock: no such socket$"):
        engine.inspect("x", host=host)


def test_default_candidates() -> None:
    assert engine.candidates({"DOCKER_HOST": "tcp://h:2375"}) == ["tcp://h:2375"]
    assert engine.candidates({"XDG_RUNTIME_DIR": "/run/user/7"}) == [
        "unix:///var/run/docker.sock",
        "unix:///run/user/7/podman/podman.sock",
        "unix:///run/podman/podman.sock",
    ]


def test_without_docker_py(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "docker", None)
    engine._ENGINES.clear()
    with pytest.raises(EngineError, match=r"pip install deadweight\[engine\]$"):
        engine.history_rows("x", host=f"unix://{tmp_path}/other.sock")
    assert not engine.available(f"unix://{tmp_path}/other.sock")


def test_no_engine_names_the_sockets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in ("DOCKER_HOST", "XDG_RUNTIME_DIR"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(engine, "DEFAULT_SOCKET", f"{tmp_path}/docker.sock")
    monkeypatch.setattr(engine, "PODMAN_ROOT_SOCKET", f"{tmp_path}/podman.sock")
    engine._ENGINES.clear()
    assert not engine.available()
    with pytest.raises(EngineError) as info:
        engine.list_summaries()
    assert str(info.value) == (
        f"docker-daemon: no engine: no socket at {tmp_path}/docker.sock, {tmp_path}/podman.sock"
        " (start Docker or Podman, or set DOCKER_HOST)"
    )
    engine._ENGINES.clear()
