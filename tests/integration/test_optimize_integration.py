"""``deadweight optimize`` against the real engine: images built with BuildKit from the
session's busybox base (no network), optimized to every medium, loaded, run and verified.

* ``app``: apt lists and archives, a pip cache and a temp file left behind, a 1 MB file
  deleted by a later layer, and a busybox ``httpd`` serving /health as its command;
* ``fragile``: its command needs a file under /tmp, so the safe level (which removes temp
  files) breaks it: verification must catch that and refuse to write.

The real CLI runs in its own process; skopeo inspects every output; docker's own sizes are
the oracle for what was saved.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from engine_fixtures import SKOPEO, DockerEngine, unavailable

from deadweight.analysis.analyze import analyze
from deadweight.optimize.planning import SAFE_CATEGORIES
from deadweight.sources import archive

pytestmark = pytest.mark.integration

PORT = 18931
APT_LISTS, APT_DEB, PIP, TMP, DELETED = 300_000, 200_000, 150_000, 100_000, 1_000_000
APP_DOCKERFILE = f"""\
FROM {{base}}
RUN mkdir -p /var/lib/apt/lists/partial /var/cache/apt/archives /root/.cache/pip /app /www \
&& touch /var/lib/apt/lists/lock \
&& head -c {APT_LISTS} /dev/urandom > /var/lib/apt/lists/deb_main_Packages \
&& head -c {APT_DEB} /dev/urandom > /var/cache/apt/archives/tool.deb \
&& head -c {PIP} /dev/urandom > /root/.cache/pip/wheel.whl \
&& head -c {TMP} /dev/urandom > /tmp/build.log \
&& head -c {DELETED} /dev/urandom > /app/big.bin \
&& echo healthy > /www/health
RUN rm /app/big.bin && printf '#!/bin/sh\\necho ok\\n' > /app/check.sh && chmod 755 /app/check.sh
CMD ["httpd", "-f", "-p", "127.0.0.1:{PORT}", "-h", "/www"]
"""
# odd inputs: a directory deleted and re-created, a hardlink whose first name is deleted
# later, an app directory reached through a symlink, a base file deleted by the image
ODD_DOCKERFILE = """\
FROM {base}
RUN mkdir -p /data/sub /srv/app && echo one > /data/sub/a && echo two > /data/b \
&& echo payload > /usr-f && ln -s /srv/app /app && echo v1 > /app/server \\
&& echo pair > /srv/h1 && ln /srv/h1 /srv/h2
RUN ln /usr-f /usr-g && chmod 0600 /data/b
RUN rm -rf /data && mkdir /data && echo new > /data/c && rm /usr-f /bin/vi \
&& echo v2 > /app/server2
CMD ["sh", "-c", "exec sleep 600"]
"""
# every path of the root file system with its type, mode, owner, size and target, and the
# link count and content of every regular file (the engine's own files left out). Link
# counts are overlayfs's: it reports 1 for a directory merged from several layers, and a
# file's lower inode count even when the other name is hidden, so they are compared apart.
LISTING = (
    "find / -xdev | grep -v -e '^/proc' -e '^/sys' -e '^/dev' -e '^/etc/hosts$' "
    "-e '^/etc/hostname$' -e '^/etc/resolv.conf$' -e '^/$' | sort | "
    "while read -r p; do stat -c '%n %A %u %g %s %N' \"$p\"; "
    'if [ -f "$p" ] && [ ! -L "$p" ]; then stat -c "links %h" "$p"; md5sum "$p"; fi; done'
)
FRAGILE_DOCKERFILE = """\
FROM {base}
RUN echo needed > /tmp/needed
CMD ["sh", "-c", "cat /tmp/needed && exec sleep 600"]
"""


@dataclass(frozen=True)
class Built:
    engine: DockerEngine
    saved: dict[str, Path]
    workdir: Path


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.out)
        return doc


@pytest.fixture(scope="module")
def built(
    docker_engine: DockerEngine, busybox_base: str, tmp_path_factory: pytest.TempPathFactory
) -> Built:
    if not os.access(SKOPEO, os.X_OK):
        unavailable(f"skopeo is not installed ({SKOPEO}): apt-get install skopeo")
    work = tmp_path_factory.mktemp("optimize")
    saved = {}
    images = (("app", APP_DOCKERFILE), ("fragile", FRAGILE_DOCKERFILE), ("odd", ODD_DOCKERFILE))
    for name, dockerfile in images:
        context = work / name
        context.mkdir()
        (context / "Dockerfile").write_text(dockerfile.format(base=busybox_base))
        docker_engine.build(context, f"dw-opt-{name}:latest", buildkit=True)
        saved[name] = work / f"{name}.tar"
        docker_engine.docker("save", "-o", str(saved[name]), f"dw-opt-{name}:latest")
    return Built(docker_engine, saved, work)


def deadweight(built: Built, *args: str, cwd: Path) -> Run:
    """The real CLI's optimize command in its own process, with the engine's DOCKER_HOST."""
    proc = built.engine.deadweight("optimize", *args, cwd=cwd)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def skopeo_inspect(built: Built, spec: str) -> dict[str, Any]:
    return built.engine.skopeo_inspect(spec)


def docker_size(built: Built, ref: str) -> int:
    return int(built.engine.docker("image", "inspect", "--format", "{{.Size}}", ref))


def removable_at_safe(path: Path) -> int:
    """What ``analyze`` calls removable at the safe level: the waste of the image's own
    layers plus the safe categories' bloat."""
    image = archive.read(path)
    result = analyze(image, base_layers=1)
    by_cat = dict(result.bloat.by_category)
    return result.waste.reclaimable + sum(by_cat.get(c, 0) for c in SAFE_CATEGORIES)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_optimize_into_the_engine_shrinks_and_still_runs(built: Built, tmp_path: Path) -> None:
    src = f"docker-archive:{built.saved['app']}"
    r = deadweight(
        built, src, "-o", "docker-daemon:dw-opt-slim:1", "--epoch", "0", "--format", "json",
        cwd=tmp_path,
    )  # fmt: skip
    assert (r.code, r.err) == (0, ""), r.err
    doc = r.doc
    assert [(s["name"], s["bytes"]) for s in doc["steps"]] == [
        ("squash", DELETED),
        ("apt-cache", APT_LISTS + APT_DEB),
        ("pip-cache", PIP),
        ("temp", TMP),
        ("epoch", 0),
    ]
    engine = built.engine
    assert (
        engine.docker("image", "inspect", "--format", "{{.Id}}", "dw-opt-slim:1").strip()
        == (doc["imageId"])
    )
    before, after = docker_size(built, "dw-opt-app:latest"), docker_size(built, "dw-opt-slim:1")
    assert before - after == doc["bytesSaved"] == DELETED + APT_LISTS + APT_DEB + PIP + TMP
    assert before - after >= removable_at_safe(built.saved["app"])
    out = engine.docker("run", "--rm", "--network", "none", "dw-opt-slim:1", "/app/check.sh")
    assert out == "ok\n"
    listing = engine.docker(
        "run", "--rm", "--network", "none", "dw-opt-slim:1",
        "sh", "-c", "ls -A /tmp /var/lib/apt/lists /root/.cache/pip /app",
    )  # fmt: skip
    assert listing == (
        "/app:\ncheck.sh\n\n/root/.cache/pip:\n\n/tmp:\n\n/var/lib/apt/lists:\nlock\npartial\n"
    )
    inspected = skopeo_inspect(built, "docker-daemon:dw-opt-slim:1")
    assert len(inspected["Layers"]) == 2
    history = engine.docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", "dw-opt-slim:1")
    assert history.splitlines()[0] == "deadweight optimize --level safe --squash own --epoch 0"


def test_archives_are_reproducible_and_skopeo_reads_them(built: Built, tmp_path: Path) -> None:
    src = f"docker-archive:{built.saved['app']}"
    outputs = [
        ("docker-archive:one.tar:dw-opt-slim:2", "docker-archive:two.tar:dw-opt-slim:2"),
        ("oci-archive:one-oci.tar:v2", "oci-archive:two-oci.tar:v2"),
    ]
    for first, second in outputs:
        for dest in (first, second):
            r = deadweight(built, src, "-o", dest, "--epoch", "0", cwd=tmp_path)
            assert (r.code, r.err) == (0, ""), r.err
    assert sha(tmp_path / "one.tar") == sha(tmp_path / "two.tar")
    assert sha(tmp_path / "one-oci.tar") == sha(tmp_path / "two-oci.tar")
    r = deadweight(built, src, "-o", "oci:layout:v2", "--epoch", "0", cwd=tmp_path)
    assert (r.code, r.err) == (0, ""), r.err
    a = skopeo_inspect(built, f"docker-archive:{tmp_path / 'one.tar'}")
    b = skopeo_inspect(built, f"oci-archive:{tmp_path / 'one-oci.tar'}:v2")
    c = skopeo_inspect(built, f"oci:{tmp_path / 'layout'}:v2")
    assert len(a["Layers"]) == len(b["Layers"]) == len(c["Layers"]) == 2
    assert b["Digest"] == c["Digest"]
    assert b["Layers"] == c["Layers"]
    # skopeo can copy the OCI result into the engine, and it runs there
    proc = subprocess.run(
        [SKOPEO, "--insecure-policy", "copy", "-q", "--dest-daemon-host", built.engine.host,
         f"oci:{tmp_path / 'layout'}:v2", "docker-daemon:dw-opt-oci:2"],
        capture_output=True, text=True, timeout=300, env=built.engine.env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = built.engine.docker("run", "--rm", "--network", "none", "dw-opt-oci:2", "/app/check.sh")
    assert out == "ok\n"


def test_verify_passes_for_a_working_result(built: Built, tmp_path: Path) -> None:
    r = deadweight(
        built, f"docker-archive:{built.saved['app']}", "-o", "docker-archive:ok.tar",
        "--verify", "--verify-cmd", "/app/check.sh",
        "--verify-http", f"http://127.0.0.1:{PORT}/health", "--format", "json",
        cwd=tmp_path,
    )  # fmt: skip
    assert (r.code, r.err) == (0, ""), r.err
    checks = r.doc["verification"]["checks"]
    assert [(c["name"], c["passed"]) for c in checks] == [
        ("starts", True),
        ("command", True),
        ("http", True),
    ]
    assert checks[0]["original"]["running"] is True and checks[0]["optimized"]["running"]
    assert checks[1]["optimized"]["exitCode"] == 0
    assert (checks[2]["original"]["status"], checks[2]["optimized"]["status"]) == (200, 200)
    assert checks[2]["original"]["output"] == checks[2]["optimized"]["output"] == "healthy\n"
    assert r.doc["written"] is True and (tmp_path / "ok.tar").is_file()
    tags = built.engine.docker("images", "--format", "{{.Repository}}", "deadweight-verify/*")
    assert tags == ""  # the temporary tags are gone


def test_verify_catches_a_broken_result_and_refuses_to_write(built: Built, tmp_path: Path) -> None:
    src = f"docker-archive:{built.saved['fragile']}"
    r = deadweight(built, src, "-o", "docker-archive:bad.tar", "--verify", cwd=tmp_path)
    assert r.code == 1
    assert r.err == "deadweight: error: verification failed; nothing written\n"
    assert "  FAIL starts (the image's command): original running, optimized exited 1" in r.out
    assert not (tmp_path / "bad.tar").exists()
    forced = deadweight(
        built, src, "-o", "docker-archive:bad.tar", "--verify", "--force", cwd=tmp_path
    )
    assert forced.code == 0
    assert forced.err == "deadweight: WARNING: verification FAILED; written anyway (--force)\n"
    assert "WARNING: VERIFICATION FAILED" in forced.out
    assert (tmp_path / "bad.tar").is_file()


def test_same_input_twice_gives_the_same_image_id_in_the_engine(
    built: Built, tmp_path: Path
) -> None:
    src = "docker-daemon:dw-opt-app:latest"
    ids = []
    for tag in ("dw-opt-twice:a", "dw-opt-twice:b"):
        r = deadweight(built, src, "-o", f"docker-daemon:{tag}", "--epoch", "0", cwd=tmp_path)
        assert (r.code, r.err) == (0, ""), r.err
        ids.append(built.engine.docker("image", "inspect", "--format", "{{.Id}}", tag).strip())
    assert ids[0] == ids[1]


def test_odd_inputs_keep_the_file_system_exactly(built: Built, tmp_path: Path) -> None:
    engine = built.engine
    for mode, tag in (("own", "dw-opt-odd:own"), ("all", "dw-opt-odd:all")):
        r = deadweight(
            built, f"docker-archive:{built.saved['odd']}", "-o", f"docker-daemon:{tag}",
            "--squash", mode, "--epoch", "0", "--verify", cwd=tmp_path,
        )  # fmt: skip
        assert (r.code, r.err) == (0, ""), r.err
        layers = skopeo_inspect(built, f"docker-daemon:{tag}")["Layers"]
        assert len(layers) == (2 if mode == "own" else 1)
        listings = [
            engine.docker("run", "--rm", "--network", "none", ref, "sh", "-c", LISTING)
            for ref in ("dw-opt-odd:latest", tag)
        ]
        assert _without_links(listings[0]) == _without_links(listings[1])
    text = listings[1]
    assert "/usr-g -rw-r--r-- 0 0 8 /usr-g\nlinks 1\n" in text  # the only name left
    assert "/srv/h1 -rw-r--r-- 0 0 5 /srv/h1\nlinks 2\n" in text
    assert "/srv/h2 -rw-r--r-- 0 0 5 /srv/h2\nlinks 2\n" in text
    assert "/usr-f " not in text and "/bin/vi " not in text and "/data/sub" not in text
    assert "/app lrwxrwxrwx 0 0 8 '/app' -> '/srv/app'\n" in text
    assert "/srv/app/server2 -rw-r--r-- 0 0 3 /srv/app/server2\nlinks 1\n" in text
    assert "/data/c -rw-r--r-- 0 0 4 /data/c\nlinks 1\n" in text
    assert "/data/b " not in text


def _without_links(listing: str) -> str:
    return "\n".join(line for line in listing.splitlines() if not line.startswith("links "))


# A Node-like app on the busybox base with FAKE node tooling (shell scripts: nothing is
# downloaded): npm's start runs "node server.js", and "node" just stays up. The moderate
# level prunes the devDependencies the lockfile names, package extras and npm itself,
# rewrites CMD npm start to node in exec form and runs as the user it adds.
JEST, CHALK, EXPRESS_TEST, EXPRESS_MAP, NPM_BLOB = 300_000, 100_000, 5_000, 4_000, 200_000
NODE_DOCKERFILE = f"""\
FROM {{base}}
RUN mkdir -p /usr/local/lib/node_modules/npm/bin /usr/local/bin \\
&& printf '#!/bin/sh\\nexec node server.js --port 8080\\n' \\
> /usr/local/lib/node_modules/npm/bin/npm-cli.js \\
&& chmod 755 /usr/local/lib/node_modules/npm/bin/npm-cli.js \\
&& ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
&& head -c {NPM_BLOB} /dev/urandom > /usr/local/lib/node_modules/npm/blob \\
&& printf '#!/bin/sh\\nexec sleep 600\\n' > /usr/local/bin/node && chmod 755 /usr/local/bin/node
WORKDIR /app
COPY package.json package-lock.json server.js ./
RUN mkdir -p node_modules/express/test node_modules/debug node_modules/jest \\
node_modules/chalk node_modules/.bin \\
&& head -c 30000 /dev/urandom > node_modules/express/index.js \\
&& head -c {EXPRESS_TEST} /dev/urandom > node_modules/express/test/app.js \\
&& head -c {EXPRESS_MAP} /dev/urandom > node_modules/express/index.js.map \\
&& head -c 20000 /dev/urandom > node_modules/debug/index.js \\
&& head -c {JEST} /dev/urandom > node_modules/jest/index.js \\
&& head -c {CHALK} /dev/urandom > node_modules/chalk/index.js \\
&& ln -s ../jest/index.js node_modules/.bin/jest
CMD npm start
"""
NODE_LOCK = {
    "name": "app",
    "lockfileVersion": 3,
    "packages": {
        "": {"name": "app", "dependencies": {"express": "4"}, "devDependencies": {"jest": "29"}},
        "node_modules/express": {"version": "4", "dependencies": {"debug": "2"}},
        "node_modules/debug": {"version": "2", "dev": True},  # inconsistent: must stay
        "node_modules/jest": {"version": "29", "dev": True, "dependencies": {"chalk": "4"}},
        "node_modules/chalk": {"version": "4", "dev": True},
    },
}


@pytest.fixture(scope="module")
def node_app(
    docker_engine: DockerEngine, busybox_base: str, tmp_path_factory: pytest.TempPathFactory
) -> Built:
    work = tmp_path_factory.mktemp("optimize-node")
    context = work / "node"
    context.mkdir()
    (context / "Dockerfile").write_text(NODE_DOCKERFILE.format(base=busybox_base))
    package = {"name": "app", "scripts": {"start": "node server.js --port 8080"}}
    (context / "package.json").write_text(json.dumps(package))
    (context / "package-lock.json").write_text(json.dumps(NODE_LOCK))
    (context / "server.js").write_text("console.log('up')\n")
    docker_engine.build(context, "dw-opt-node:latest", buildkit=True)
    saved = work / "node.tar"
    docker_engine.docker("save", "-o", str(saved), "dw-opt-node:latest")
    return Built(docker_engine, {"node": saved}, work)


def test_moderate_node_app_prunes_rewrites_cmd_and_runs_as_app(
    node_app: Built, tmp_path: Path
) -> None:
    r = deadweight(
        node_app, f"docker-archive:{node_app.saved['node']}",
        "-o", "docker-daemon:dw-opt-node:slim", "--level", "moderate", "--epoch", "0",
        "--format", "json", "--verify", "--verify-cmd", "cat /app/server.js", cwd=tmp_path,
    )  # fmt: skip
    assert (r.code, r.err) == (0, ""), r.err + r.out
    doc = r.doc
    steps = {s["name"]: s for s in doc["steps"]}
    assert steps["npm-dev-dependencies"]["bytes"] == JEST + CHALK + len("../jest/index.js")
    assert steps["package-extras"]["bytes"] == EXPRESS_TEST + EXPRESS_MAP
    assert steps["npm-tools"]["bytes"] > NPM_BLOB
    assert steps["non-root"]["bytes"] < 0
    assert doc["skipped"] == []
    assert doc["config"] == {"Cmd": ["node", "server.js", "--port", "8080"], "User": "10001:10001"}
    assert [(c["name"], c["passed"]) for c in doc["verification"]["checks"]] == [
        ("starts", True),
        ("command", True),
    ]
    engine = node_app.engine
    before, after = (
        docker_size(node_app, "dw-opt-node:latest"),
        docker_size(node_app, "dw-opt-node:slim"),
    )
    # the result's size is docker's own; the original's, measured by the engine on the
    # layers BuildKit built, leaves out the two symlinks its RUN steps made (a loaded tar's
    # size counts their targets' lengths, docker-formats.md 3.4, as deadweight does)
    links = len("../lib/node_modules/npm/bin/npm-cli.js") + len("../jest/index.js")
    assert after == doc["after"]["total"]
    assert before == doc["before"]["total"] - links
    assert before - after == doc["bytesSaved"] - links
    config = json.loads(
        engine.docker("image", "inspect", "--format", "{{json .Config}}", "dw-opt-node:slim")
    )
    assert config["Cmd"] == ["node", "server.js", "--port", "8080"]
    assert config["User"] == "10001:10001" and config["WorkingDir"] == "/app"
    assert not config.get("Entrypoint")
    out = engine.docker(
        "run", "--rm", "--network", "none", "--entrypoint", "sh", "dw-opt-node:slim", "-c",
        "id -u; id -g; stat -c '%u:%g' /app /app/server.js /etc/passwd; "
        "ls -A /app/node_modules; find /app/node_modules -type f -o -type l | sort; "
        "test -e /usr/local/bin/npm || echo no-npm; tail -n 1 /etc/passwd",
    )  # fmt: skip
    assert out == (
        "10001\n10001\n10001:10001\n10001:10001\n0:0\n.bin\ndebug\nexpress\n"
        "/app/node_modules/debug/index.js\n/app/node_modules/express/index.js\n"
        "no-npm\napp:x:10001:10001:app:/app:/sbin/nologin\n"
    )
    skopeo_inspect(node_app, "docker-daemon:dw-opt-node:slim")


# The official node images' entrypoint script, as they ship it: it execs its arguments,
# putting node in front when the first one is not a command (issue 13).
NODE_ENTRYPOINT = """#!/bin/sh
set -e

if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] \\
    || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi

exec "$@"
"""


@pytest.fixture(scope="module")
def node_entrypoint_app(node_app: Built) -> Built:
    context = node_app.workdir / "node-entrypoint"
    context.mkdir()
    (context / "docker-entrypoint.sh").write_text(NODE_ENTRYPOINT)
    (context / "Dockerfile").write_text(
        "FROM dw-opt-node:latest\n"
        "COPY docker-entrypoint.sh /usr/local/bin/\n"
        "RUN chmod 755 /usr/local/bin/docker-entrypoint.sh\n"
        'ENTRYPOINT ["docker-entrypoint.sh"]\n'
        "CMD npm start\n"
    )
    node_app.engine.build(context, "dw-opt-node-ep:latest", buildkit=True)
    saved = node_app.workdir / "node-ep.tar"
    node_app.engine.docker("save", "-o", str(saved), "dw-opt-node-ep:latest")
    return Built(node_app.engine, {"node": saved}, node_app.workdir)


def test_an_entrypoint_that_execs_its_arguments_lets_npm_go(
    node_entrypoint_app: Built, tmp_path: Path
) -> None:
    built = node_entrypoint_app
    r = deadweight(
        built, f"docker-archive:{built.saved['node']}", "-o", "docker-daemon:dw-opt-node-ep:slim",
        "--level", "moderate", "--squash", "all", "--skip", "non-root", "--epoch", "0",
        "--format", "json", "--verify", "--verify-cmd", "cat /app/server.js", cwd=tmp_path,
    )  # fmt: skip
    assert (r.code, r.err) == (0, ""), r.err + r.out
    steps = {s["name"]: s for s in r.doc["steps"]}
    assert steps["npm-tools"]["bytes"] > NPM_BLOB
    assert r.doc["config"] == {"Cmd": ["node", "server.js", "--port", "8080"]}
    assert r.doc["verification"]["passed"] is True
    config = json.loads(
        built.engine.docker(
            "image", "inspect", "--format", "{{json .Config}}", "dw-opt-node-ep:slim"
        )
    )
    assert config["Entrypoint"] == ["docker-entrypoint.sh"]
    out = built.engine.docker(
        "run", "--rm", "--network", "none", "--entrypoint", "sh", "dw-opt-node-ep:slim", "-c",
        "test -e /usr/local/bin/npm || echo no-npm",
    )  # fmt: skip
    assert out == "no-npm\n"


def test_moderate_skips_leave_npm_and_root(node_app: Built, tmp_path: Path) -> None:
    r = deadweight(
        node_app, f"docker-archive:{node_app.saved['node']}", "-o", "docker-archive:kept.tar",
        "--level", "moderate", "--skip", "npm-tools", "--skip", "non-root", "--format", "json",
        "--verify-cmd", "test -x /usr/local/bin/npm", cwd=tmp_path,
    )  # fmt: skip
    assert (r.code, r.err) == (0, ""), r.err + r.out
    assert r.doc["config"] == {}
    assert "npm-tools" not in [s["name"] for s in r.doc["steps"]]
    assert r.doc["verification"]["passed"] is True


# An image with no shell at all: one static binary, a page it serves, a pip cache and a
# temp file. Nothing optimize does may need a shell in the image: the user is added by
# writing /etc/passwd and /etc/group, verification runs the image's own exec-form command.
NO_SHELL_PORT = 18933
NO_SHELL_DOCKERFILE = f"""\
FROM scratch
COPY busybox /bin/busybox
COPY www /www
COPY build.log /tmp/build.log
COPY wheel.whl /root/.cache/pip/wheel.whl
WORKDIR /www
CMD ["/bin/busybox", "httpd", "-f", "-p", "127.0.0.1:{NO_SHELL_PORT}", "-h", "/www"]
"""


def test_an_image_without_a_shell_is_optimized_and_still_serves(
    docker_engine: DockerEngine, tmp_path: Path
) -> None:
    context = tmp_path / "noshell"
    (context / "www").mkdir(parents=True)
    (context / "www" / "health").write_text("healthy\n")
    (context / "build.log").write_bytes(b"x" * 5000)
    (context / "wheel.whl").write_bytes(b"w" * 7000)
    (context / "busybox").write_bytes(Path("/bin/busybox").read_bytes())
    (context / "busybox").chmod(0o755)
    (context / "Dockerfile").write_text(NO_SHELL_DOCKERFILE)
    docker_engine.build(context, "dw-opt-noshell:latest", buildkit=True)
    saved = tmp_path / "noshell.tar"
    docker_engine.docker("save", "-o", str(saved), "dw-opt-noshell:latest")
    built = Built(docker_engine, {"noshell": saved}, tmp_path)
    r = deadweight(
        built, f"docker-archive:{saved}", "-o", "docker-daemon:dw-opt-noshell:slim",
        "--level", "moderate", "--format", "json", "--verify",
        "--verify-http", f"http://127.0.0.1:{NO_SHELL_PORT}/health", cwd=tmp_path,
    )  # fmt: skip
    assert (r.code, r.err) == (0, ""), r.err + r.out
    doc = r.doc
    steps = {s["name"]: s["bytes"] for s in doc["steps"]}
    assert (steps["temp"], steps["pip-cache"]) == (5000, 7000)
    assert doc["config"] == {"User": "10001:10001"} and doc["skipped"] == []
    checks = doc["verification"]["checks"]
    assert [(c["name"], c["passed"]) for c in checks] == [("starts", True), ("http", True)]
    assert checks[1]["optimized"]["output"] == "healthy\n"
    out = docker_engine.docker(
        "run", "--rm", "--network", "none", "--entrypoint", "/bin/busybox",
        "dw-opt-noshell:slim", "sh", "-c",
        "ls -A /bin /tmp; cat /etc/passwd /etc/group; id; stat -c '%u:%g %n' /www /www/health",
    )  # fmt: skip
    assert out == (
        "/bin:\nbusybox\n\n/tmp:\n"
        "root:x:0:0:root:/root:/bin/sh\napp:x:10001:10001:app:/www:/sbin/nologin\n"
        "root:x:0:\napp:x:10001:\n"
        "uid=10001(app) gid=10001(app) groups=10001(app)\n"
        "10001:10001 /www\n10001:10001 /www/health\n"
    )
    skopeo_inspect(built, "docker-daemon:dw-opt-noshell:slim")
