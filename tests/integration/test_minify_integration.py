"""``deadweight minify`` on the real engine: traced with fanotify from the host, verified by
running the original and the result the same way, written, then loaded and run again by
``docker run`` and read by skopeo.

The story images (the Node backend and the Python app of ``story_fixtures``) must shrink to
at most a quarter of their size and still answer /health. Small images built from busybox
and local files cover the rest: a static binary on ``scratch``, a shell-form ``CMD``, a
module loaded only on a second endpoint, an image run two ways, bad input, and Podman.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_fixtures import BUSYBOX, SKOPEO, DockerEngine
from story_fixtures import Story, StoryApp

from deadweight.sources import containers, engine
from deadweight.sources.fanotify import Tracer

pytestmark = pytest.mark.integration

BODY_PORT = 18951
LAZY_PORT = 18952
NO_ANSWER_PORT = 18953


def minify(
    eng: DockerEngine, *args: str, cwd: Path, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = eng.deadweight("minify", *args, cwd=cwd)
    if ok:
        assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc


def free_port() -> int:
    """A port nothing listens on now: other test runs on this host use the story's own."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def engine_size(eng: DockerEngine, ref: str) -> int:
    return int(eng.docker("image", "inspect", "--format", "{{.Size}}", ref))


def get(url: str, wait: float = 20.0) -> tuple[int, bytes]:
    deadline = time.monotonic() + wait
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while True:
        try:
            with opener.open(url, timeout=5) as answer:
                return answer.status, answer.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def port_closed(url: str, wait: float = 10.0) -> None:
    """Wait until nothing answers at ``url``'s port: a removed container's process may
    take a moment longer to let it go, and the next test listens there."""
    host, port = url.split("/")[2].split(":")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex((host, int(port))):
                return
        time.sleep(0.1)


def left_behind(eng: DockerEngine) -> tuple[str, str]:
    """Containers and deadweight's temporary images still in the engine."""
    ps = eng.docker("ps", "-aq").strip()
    images = eng.docker("images", "--format", "{{.Repository}}", "deadweight-verify/*").strip()
    return ps, images


def serve(eng: DockerEngine, ref: str, url: str, *env: str) -> dict[str, object]:
    """``docker run`` the image on the host network, GET ``url``; the JSON it answered."""
    flags = [f for e in env for f in ("--env", e)]
    cid = eng.docker("run", "-d", "--network", "host", *flags, ref).strip()
    try:
        status, body = get(url)
    finally:
        eng.docker("rm", "-f", cid)
        port_closed(url)
    assert status == 200
    doc: dict[str, object] = json.loads(body)
    return doc


def build(eng: DockerEngine, context: Path, tag: str, dockerfile: str, **files: bytes) -> str:
    context.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = context / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o755)
    (context / "Dockerfile").write_text(dockerfile)
    eng.build(context, tag, buildkit=True)
    return tag


# -- the tracer itself ------------------------------------------------------------------


def test_tracer_sees_the_loader_libc_and_the_apps_files(
    story: Story, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mark placed before the container starts sees its first opens: the dynamic loader
    and libc of python3, then the app's own file, as the container names them."""
    for key in ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DOCKER_HOST", story.engine.host)
    app, port = story.python, free_port()
    spec = containers.RunSpec(app.tag, network="host", env=(("PORT", str(port)),))
    with Tracer(engine.storage_root()) as tracer, containers.run(spec) as container:
        container.start()
        assert get(f"http://127.0.0.1:{port}/health")[0] == 200
        seen = tracer.seen(container.id)
    assert "/app/app.py" in seen.opened
    assert any(p.startswith("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so") for p in seen.executed)
    assert "/usr/lib/x86_64-linux-gnu/libc.so.6" in seen.opened
    assert any("/markupsafe/_speedups" in p for p in seen.opened)
    assert not [p for p in seen.opened if p.startswith(("/proc/", "/tmp/pytest"))]


# -- the story images -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["node", "python"])
def test_story_image_minified_to_a_quarter_still_answers(
    story: Story, name: str, tmp_path: Path
) -> None:
    app: StoryApp = getattr(story, name)
    eng = story.engine
    out = tmp_path / "min.tar"
    port = free_port()
    health = f"http://127.0.0.1:{port}/health"
    proc = minify(
        eng, f"docker-archive:{app.saved}", "-o", f"docker-archive:{out}:dw-min-{name}:1",
        "--network", "host", "--env", f"PORT={port}", "--probe-http", health,
        "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "deadweight.minify/v1" and doc["written"] is True
    assert [c["passed"] for v in doc["verifications"][-1:] for c in v["checks"]] == [True, True]
    assert doc["size"]["after"] <= doc["size"]["before"] * 0.25, doc["size"]
    assert {"traced", "elf", "essential"} <= {r for k in doc["kept"] for r in k["reasons"]}
    assert doc["removedByPackage"] and doc["removedByTopDir"]
    # the dpkg database lists the packages that remain, no more, no fewer
    (dpkg,) = [d for d in doc["databases"] if d["manager"] == "dpkg"]
    assert 0 < dpkg["listed"] < dpkg["total"], dpkg
    assert dpkg["bytes"]["after"] < dpkg["bytes"]["before"]
    # skopeo reads it; docker loads it, it is a quarter of the original, and it answers
    inspected = json.loads(subprocess.run(
        [SKOPEO, "inspect", f"docker-archive:{out}"], capture_output=True, text=True, check=True
    ).stdout)  # fmt: skip
    assert len(inspected["Layers"]) == 1
    assert inspected["Labels"]["org.deadweight.minify.source"].startswith("sha256:")
    eng.docker("load", "-i", str(out))
    assert engine_size(eng, f"dw-min-{name}:1") <= engine_size(eng, app.tag) * 0.25
    assert serve(eng, f"dw-min-{name}:1", health, f"PORT={port}")["status"] == "ok"
    assert left_behind(eng) == ("", "")


LAZY_APP = f"""\
import json
from http.server import BaseHTTPRequestHandler, HTTPServer

import lazymod


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/first":
            body = {{"ok": lazymod.NAME}}
        elif self.path == "/second":
            from lazymod import extra  # only this endpoint loads it

            body = {{"ok": extra.NAME}}
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())


HTTPServer(("127.0.0.1", {LAZY_PORT}), Handler).serve_forever()
"""
SITE = "usr/local/lib/python3.11/dist-packages"


@pytest.fixture(scope="module")
def lazy(story: Story, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Python app whose package ``lazymod`` (a distribution with a RECORD) loads its
    submodule ``extra`` only on the second endpoint."""
    record = (
        "lazymod/__init__.py,,\nlazymod/extra.py,,\n"
        "lazymod-1.0.dist-info/METADATA,,\nlazymod-1.0.dist-info/RECORD,,\n"
    )
    files = {
        f"{SITE}/lazymod/__init__.py": b'NAME = "first"\n',
        f"{SITE}/lazymod/extra.py": b'NAME = "second"\n',
        f"{SITE}/lazymod-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: lazymod\n"
        b"Version: 1.0\n",
        f"{SITE}/lazymod-1.0.dist-info/RECORD": record.encode(),
        "app/app.py": LAZY_APP.encode(),
    }
    context = tmp_path_factory.mktemp("lazy")
    for name, data in files.items():
        (context / "root" / name).parent.mkdir(parents=True, exist_ok=True)
        (context / "root" / name).write_bytes(data)
    (context / "Dockerfile").write_text(
        'FROM python:3.11-slim\nCOPY root/ /\nCMD ["python3", "/app/app.py"]\n'
    )
    story.engine.build(context, "dw-min-lazy:1", buildkit=True)
    return "dw-min-lazy:1"


@pytest.mark.parametrize("packages", ["touched", "none"])
def test_a_module_loaded_only_on_a_second_endpoint(
    story: Story, lazy: str, packages: str, tmp_path: Path
) -> None:
    first = f"http://127.0.0.1:{LAZY_PORT}/first"
    out = tmp_path / "out.tar"
    proc = minify(
        story.engine, f"docker-daemon:{lazy}", "-o", f"docker-archive:{out}:dw-min-lazy:{packages}",
        "--probe-http", first, "--packages", packages,  # --network none: probed inside
        "--trace-seconds", "1", "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    doc = json.loads(proc.stdout)
    removed = {r["path"] for r in doc["removed"]}
    extra = f"/{SITE}/lazymod/extra.py"
    if packages == "none":
        assert extra in removed
        return
    assert extra not in removed
    kept = {k["path"]: k["reasons"] for k in doc["kept"]}
    assert "package" in kept[extra]
    story.engine.docker("load", "-i", str(out))
    second = f"http://127.0.0.1:{LAZY_PORT}/second"
    assert serve(story.engine, f"dw-min-lazy:{packages}", second) == {"ok": "second"}


# -- small images -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(
    docker_engine: DockerEngine, busybox_base: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """The small images, built once for the module."""
    eng = docker_engine
    work = tmp_path_factory.mktemp("small")
    busybox = Path(BUSYBOX).read_bytes()
    tags = {
        "static": build(eng, work / "static", "dw-min-static:1",
                        'FROM scratch\nCOPY busybox /busybox\nCMD ["/busybox", "true"]\n',
                        busybox=busybox),
        "shell": build(eng, work / "shell", "dw-min-shell:1",
                       "FROM dw-busybox:latest\nCOPY www /www\nCOPY junk /opt/junk\n"
                       f"CMD httpd -f -p 127.0.0.1:{BODY_PORT} -h /www\n",
                       www__health=b'{"status": "ok", "uptime": 1}\n', junk=b"j" * 300_000),
        "two": build(eng, work / "two", "dw-min-two:1",
                     "FROM dw-busybox:latest\nCOPY web /web\nCOPY worker.conf /etc/worker.conf\n"
                     "COPY junk /opt/junk\nCMD [\"sleep\", \"3600\"]\n",
                     web__index=b"web\n", **{"worker.conf": b"jobs=3\n"}, junk=b"j" * 300_000),
    }  # fmt: skip
    yield tags


def test_static_binary_on_scratch_keeps_everything(
    docker_engine: DockerEngine, small: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "out.tar"
    proc = minify(docker_engine, f"docker-daemon:{small['static']}", "-o",
                  f"docker-archive:{out}", "--format", "json", cwd=tmp_path)  # fmt: skip
    doc = json.loads(proc.stdout)
    assert doc["removed"] == []
    assert "/busybox" in [k["path"] for k in doc["kept"]]
    assert doc["verifications"][0]["checks"][0]["passed"]


def test_shell_form_cmd_keeps_the_shell(
    docker_engine: DockerEngine, small: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "out.tar"
    url = f"http://127.0.0.1:{BODY_PORT}/health"
    proc = minify(docker_engine, f"docker-daemon:{small['shell']}", "-o",
                  f"docker-archive:{out}:dw-min-shell:min", "--network", "host",
                  "--probe-http", url, "--format", "json", cwd=tmp_path)  # fmt: skip
    doc = json.loads(proc.stdout)
    kept = {k["path"]: k["reasons"] for k in doc["kept"]}
    assert "/bin/sh" in kept and "/bin/busybox" in kept and "/www/health" in kept
    assert "/opt/junk" in {r["path"] for r in doc["removed"]}
    docker_engine.docker("load", "-i", str(out))
    assert serve(docker_engine, "dw-min-shell:min", url)["status"] == "ok"


def test_two_ways_of_running_are_united(
    docker_engine: DockerEngine, small: dict[str, str], tmp_path: Path
) -> None:
    proc = minify(
        docker_engine, f"docker-daemon:{small['two']}", "-o", f"docker-archive:{tmp_path}/o.tar",
        "--run", "sh -c 'cat /web/index >/dev/null; exec sleep 3600'",
        "--run", "sh -c 'cat /etc/worker.conf >/dev/null; exec sleep 3600'",
        "--trace-seconds", "1", "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    doc = json.loads(proc.stdout)
    kept = {k["path"] for k in doc["kept"]}
    assert {"/web/index", "/etc/worker.conf"} <= kept
    assert "/opt/junk" in {r["path"] for r in doc["removed"]}
    subjects = [c["subject"] for c in doc["verifications"][0]["checks"]]
    assert len(subjects) == 3 and all(c["passed"] for c in doc["verifications"][0]["checks"])


# -- bad input --------------------------------------------------------------------------


def test_a_probe_that_never_answers_is_a_clear_error_and_leaves_nothing(
    docker_engine: DockerEngine, small: dict[str, str], tmp_path: Path
) -> None:
    proc = minify(docker_engine, f"docker-daemon:{small['two']}", "-o",
                  f"docker-archive:{tmp_path / 'o.tar'}", "--network", "host",
                  "--probe-http", f"http://127.0.0.1:{NO_ANSWER_PORT}/", cwd=tmp_path,
                  ok=False)  # fmt: skip
    assert proc.returncode == 3
    assert proc.stderr.startswith("deadweight: error: probe http://127.0.0.1:18953/: no answer")
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o.tar").exists()
    assert left_behind(docker_engine) == ("", "")


def test_a_command_that_exits_at_once_is_a_clear_error(
    docker_engine: DockerEngine, small: dict[str, str], tmp_path: Path
) -> None:
    proc = minify(docker_engine, f"docker-daemon:{small['static']}", "-o",
                  f"docker-archive:{tmp_path / 'o.tar'}", "--run", "/busybox false",
                  cwd=tmp_path, ok=False)  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.startswith(
        "deadweight: error: run: /busybox false: the original image exited"
    )
    assert "with code 1" in proc.stderr
    assert left_behind(docker_engine) == ("", "")


# -- Podman -----------------------------------------------------------------------------


def test_podman_as_the_engine(
    docker_engine: DockerEngine, small: dict[str, str], podman_engine: DockerEngine, tmp_path: Path
) -> None:
    """The same workflow on Podman's compatible API: loaded, traced, verified, cleaned."""
    saved = tmp_path / "shell.tar"
    docker_engine.docker("save", "-o", str(saved), small["shell"])
    out = tmp_path / "out.tar"
    url = f"http://127.0.0.1:{BODY_PORT}/health"
    proc = minify(
        podman_engine, f"docker-archive:{saved}", "-o", f"docker-archive:{out}",
        "--network", "host", "--probe-http", url, "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    doc = json.loads(proc.stdout)
    assert doc["written"] and all(c["passed"] for c in doc["verifications"][0]["checks"])
    assert "/www/health" in {k["path"] for k in doc["kept"]}
    assert "/opt/junk" in {r["path"] for r in doc["removed"]}
    assert podman_engine.docker("ps", "-aq").strip() == ""
    assert podman_engine.docker("images", "-q").strip() == ""
    subprocess.run([SKOPEO, "inspect", f"docker-archive:{out}"], check=True, capture_output=True)


def test_sigterm_mid_trace_removes_the_container_and_the_temporary_image(
    docker_engine: DockerEngine, small: dict[str, str], tmp_path: Path
) -> None:
    saved = tmp_path / "two.tar"  # from an archive: loaded under a temporary tag
    docker_engine.docker("save", "-o", str(saved), small["two"])
    env = {k: v for k, v in docker_engine.env.items() if k != "CI"}
    env["DEADWEIGHT_CACHE_DIR"] = str(tmp_path / "cache")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from deadweight.cli import main\nmain()\n", "minify",
         f"docker-archive:{saved}", "-o", f"docker-archive:{tmp_path}/o.tar",
         "--trace-seconds", "120"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not docker_engine.docker("ps", "-q").strip():
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.2)
        assert left_behind(docker_engine)[1]  # the temporary tag is there while it runs
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    # click puts a newline after the ^C a terminal shows
    assert (proc.returncode, stderr.lstrip("\n")) == (130, "deadweight: error: interrupted\n")
    assert left_behind(docker_engine) == ("", "")
    assert not (tmp_path / "o.tar").exists()
