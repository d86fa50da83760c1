"""``optimize --dockerfile``: the multi-stage build on a slimmer base, exactly, and the
shapes it leaves single-stage (with the reason)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from deadweight import static as S
from deadweight.cli.optimize import optimize
from deadweight.dockerfile.multistage import slim_variant
from deadweight.dockerfile.optimize import Change, optimize_dockerfile, write
from deadweight.errors import UsageError
from deadweight.sources import archive

# the story's two apps (tests/integration/story_fixtures.py builds them on the engine)
NODE = """\
FROM node:16.20.2
RUN --mount=type=bind,from=dw-fixtures:latest,source=/npm,target=/fx \\
    npm install -g /fx/npm-8.5.1.tgz
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=bind,from=dw-fixtures:latest,source=/npm/cache,target=/seed \\
    mkdir -p /root/.npm && cp -a /seed/. /root/.npm/ && npm install --offline
COPY . .
EXPOSE 18940
CMD npm start
"""
NODE_PACKAGE = json.dumps(
    {
        "scripts": {"start": "node server.js", "test": "node --test"},
        "dependencies": {"ms": "2.1.3", "debug": "4.3.4"},
        "devDependencies": {"typescript": "5.4.5", "prettier": "3.2.5"},
    }
).encode()
PYTHON = """\
FROM python:3.11-slim
RUN --mount=type=bind,from=dw-fixtures:latest,source=/debs,target=/debs \\
    cp /debs/*.deb /var/cache/apt/archives/ && dpkg -i /var/cache/apt/archives/*.deb
WORKDIR /app
COPY requirements.txt .
RUN --mount=type=bind,from=dw-fixtures:latest,source=/python,target=/wheels \\
    pip install --break-system-packages --no-index --find-links /wheels -r requirements.txt
COPY . .
EXPOSE 18941
CMD python3 app.py
"""
NODE_OUT = """\
FROM node:16.20.2 AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=bind,from=dw-fixtures:latest,source=/npm/cache,target=/seed \\
    mkdir -p /root/.npm && cp -a /seed/. /root/.npm/ && npm ci --omit=dev --offline

FROM node:16.20.2-slim
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY . .
EXPOSE 18940
USER 1000
CMD ["node", "server.js"]
"""
PYTHON_OUT = """\
FROM python:3.11-slim AS build
RUN --mount=type=bind,from=dw-fixtures:latest,source=/debs,target=/debs \\
    cp /debs/*.deb /var/cache/apt/archives/ && dpkg -i /var/cache/apt/archives/*.deb
WORKDIR /app
COPY requirements.txt .
RUN --mount=type=bind,from=dw-fixtures:latest,source=/python,target=/wheels \\
    python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir \
--break-system-packages --no-index --find-links /wheels -r requirements.txt

FROM python:3.11-slim
ENV PATH="/opt/venv/bin:$PATH"
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY . .
EXPOSE 18941
USER 10001:10001
CMD ["python3", "app.py"]
"""
TOOLING = "build stage only: it sets up build tooling"
COPIED_AGAIN = "build stage only: line 8 copies the whole context"
NUMERIC_USER = "add `USER 10001:10001` (numeric ids need no /etc/passwd entry)"


def test_the_node_story_becomes_a_multistage_build_on_the_slim_base() -> None:
    result = optimize_dockerfile(NODE, package_json=NODE_PACKAGE, lockfile=True)
    assert result.text == NODE_OUT
    assert result.changes == (
        Change(
            1,
            "multi-stage build: stage `build` installs, the final stage is "
            "`node:16.20.2-slim` (the slim variant)",
        ),
        Change(2, "DW002: drop the npm self-upgrade (the base image's npm installs)"),
        Change(5, COPIED_AGAIN),
        Change(6, "`npm ci --omit=dev` instead of `npm install`"),
        Change(6, "the final stage copies /app/node_modules"),
        Change(10, "run `node server.js` directly (package.json scripts.start)"),
        Change(10, "DW001: add `USER 1000` (node)"),
    )


def test_the_python_story_installs_into_a_virtualenv_the_final_stage_copies() -> None:
    result = optimize_dockerfile(PYTHON)
    assert result.text == PYTHON_OUT
    assert result.changes == (
        Change(
            1, "multi-stage build: stage `build` installs, the final stage is `python:3.11-slim`"
        ),
        Change(2, TOOLING),  # dpkg -i of the .deb files: the compiler, headers, pip, venv
        Change(5, COPIED_AGAIN),
        Change(6, "DL3042: add --no-cache-dir"),
        Change(6, "pip installs into /opt/venv, copied to the final stage"),
        Change(10, "DL3025: use the JSON (exec) form"),
        Change(10, NUMERIC_USER),
    )


@pytest.mark.parametrize(
    ("source", "package", "final"), [(NODE, NODE_PACKAGE, 7), (PYTHON, None, 9)]
)
def test_a_second_run_leaves_the_multistage_build_alone(
    source: str, package: bytes, final: int
) -> None:
    once = optimize_dockerfile(source, package_json=package, lockfile=True)
    twice = optimize_dockerfile(once.text, package_json=package, lockfile=True)
    assert twice.text == once.text
    assert twice.changes == (Change(final, "no multi-stage build: it is already multi-stage"),)


def test_without_a_lockfile_the_build_stage_runs_npm_install_omitting_dev() -> None:
    result = optimize_dockerfile(NODE, package_json=NODE_PACKAGE, lockfile=False)
    assert "cp -a /seed/. /root/.npm/ && npm install --omit=dev --offline\n" in result.text


def test_a_build_step_keeps_the_devdependencies_then_prunes_them() -> None:
    source = """\
FROM node:20-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends g++ make python3
WORKDIR /usr/src/app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build
EXPOSE 3000
CMD ["npm", "start"]
"""
    package = json.dumps({"scripts": {"start": "node dist/main.js", "build": "tsc"}}).encode()
    result = optimize_dockerfile(source, package_json=package, lockfile=True)
    assert (
        result.text
        == """\
FROM node:20-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends g++ make python3 \
&& rm -rf /var/lib/apt/lists/*
WORKDIR /usr/src/app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build
RUN npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /usr/src/app
ENV NODE_ENV=production
COPY --from=build /usr/src/app ./
EXPOSE 3000
USER 1000
CMD ["node", "dist/main.js"]
"""
    )
    assert Change(2, TOOLING) in result.changes
    assert (
        Change(8, "`npm prune --omit=dev` after the build; the final stage copies /usr/src/app")
        in result.changes
    )


def test_npm_ci_without_a_build_step_omits_dev() -> None:
    source = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD node index.js\n"
    result = optimize_dockerfile(source, lockfile=True)
    assert result.text == (
        "FROM node:20 AS build\nWORKDIR /app\nCOPY . .\nRUN npm ci --omit=dev\n\n"
        "FROM node:20-slim\nWORKDIR /app\nCOPY . .\n"
        "COPY --from=build /app/node_modules ./node_modules\n"
        'USER 1000\nCMD ["node", "index.js"]\n'
    )
    assert Change(4, "`npm ci --omit=dev` instead of `npm ci`") in result.changes


def test_slim_base_overrides_the_final_stage_base() -> None:
    result = optimize_dockerfile(
        PYTHON.replace("python:3.11-slim", "python:3.11"), slim_base="registry.local/py:3.11-min"
    )
    assert result.text.startswith("FROM python:3.11 AS build\n")
    assert "\n\nFROM registry.local/py:3.11-min\nENV PATH=" in result.text
    assert result.changes[0] == Change(
        1,
        "multi-stage build: stage `build` installs, the final stage is "
        "`registry.local/py:3.11-min` (--slim-base)",
    )


def test_an_image_without_a_slim_variant_keeps_its_base_and_its_runtime_packages() -> None:
    source = """\
FROM ubuntu:22.04
RUN apt-get update && apt-get install -y python3 python3-venv python3-pip
WORKDIR /srv
COPY requirements.txt .
RUN python3 -m pip install -r requirements.txt
COPY app.py .
CMD python3 app.py
"""
    result = optimize_dockerfile(source)
    assert (
        result.text
        == """\
FROM ubuntu:22.04 AS build
RUN apt-get update && apt-get install -y python3 python3-venv python3-pip \
&& rm -rf /var/lib/apt/lists/*
WORKDIR /srv
COPY requirements.txt .
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt

FROM ubuntu:22.04
ENV PATH="/opt/venv/bin:$PATH"
COPY --from=build /opt/venv /opt/venv
RUN apt-get update && apt-get install -y python3 python3-venv python3-pip \
&& rm -rf /var/lib/apt/lists/*
WORKDIR /srv
COPY requirements.txt .
COPY app.py .
USER 10001:10001
CMD ["python3", "app.py"]
"""
    )
    assert result.changes[0] == Change(
        1, "multi-stage build: stage `build` installs, the final stage is `ubuntu:22.04`"
    )


SINGLE_STAGE = [
    ("FROM node:20 AS deps\nRUN npm ci\nFROM node:20-slim\n", "it is already multi-stage"),
    ("FROM node:20\nWORKDIR /a\nRUN yarn add express\n", "`yarn add express` names packages"),
    (
        "FROM python:3.12\nRUN pip install a\nRUN pip install -r r.txt\n",
        "several RUNs install dependencies (lines 2, 3)",
    ),
    (
        "FROM python:3.12\nRUN pip install --user -r r.txt\n",
        "pip installs with --user, --target, --prefix, --root or -e are kept",
    ),
    (
        "FROM node:20\nONBUILD COPY . .\nRUN npm ci\n",
        "ONBUILD triggers run in the images built on this one",
    ),
    (
        "FROM node:20\nCOPY . .\nCMD node a.js\n",
        "no RUN installs dependencies (`npm install`, `npm ci`, `pip install`)",
    ),
    ("FROM node:20\nRUN npm install && npm run build\n", "the build steps run without a WORKDIR"),
    ("FROM node:20\nWORKDIR /a\nRUN npm install express\n", "`npm install express` names packages"),
    (
        "FROM node:20\nWORKDIR /a\nRUN npm i && mv node_modules/x /x\n",
        "`mv node_modules/x /x` moves files the final stage would miss",
    ),
    (  # libpq5 is a run-time library: the final stage would lose it
        "FROM python:3\nRUN apt-get install -y libpq5 && pip install -r r.txt\n",
        "the RUN at line 2 also runs `apt-get` before installing",
    ),
    (
        "FROM node:20\nWORKDIR /a\nRUN npm ci\nWORKDIR /b\nRUN npm run build\n",
        "line 4 changes the WORKDIR between the install and the build",
    ),
]


@pytest.mark.parametrize(("source", "reason"), SINGLE_STAGE)
def test_other_shapes_stay_single_stage_with_the_reason(source: str, reason: str) -> None:
    result = optimize_dockerfile(source, lockfile=True)
    assert "AS build" not in result.text and result.text.count("FROM") == source.count("FROM")
    last_from = source[: source.rindex("FROM")].count("\n") + 1
    assert Change(last_from, f"no multi-stage build: {reason}") in result.changes


@pytest.mark.parametrize(
    ("image", "slim"),
    [
        ("node:16.20.2", "node:16.20.2-slim"),
        ("node:20-bookworm", "node:20-bookworm-slim"),
        ("node", "node:slim"),
        ("python:3.11", "python:3.11-slim"),
        ("python:3.12-bookworm", "python:3.12-slim-bookworm"),
        ("python:bookworm", "python:slim-bookworm"),
        ("docker.io/library/node:18", "docker.io/library/node:18-slim"),
        ("docker.io/python:3.11", "docker.io/python:3.11-slim"),
        ("library/python:3.11", "library/python:3.11-slim"),
        ("node:20-slim", "node:20-slim"),
        ("node:20-alpine3.19", "node:20-alpine3.19"),
        ("python:3.11-slim-bookworm", "python:3.11-slim-bookworm"),
        ("node@sha256:" + "a" * 64, "node@sha256:" + "a" * 64),
        ("node:20@sha256:" + "a" * 64, "node:20@sha256:" + "a" * 64),
        ("node:${NODE_VERSION}", "node:${NODE_VERSION}"),
        ("ubuntu:22.04", "ubuntu:22.04"),
        ("myorg/node:20", "myorg/node:20"),
        ("localhost:5000/python:3.11", "localhost:5000/python:3.11"),
    ],
)
def test_slim_variants_of_the_official_images(image: str, slim: str) -> None:
    assert slim_variant(image) == slim


def test_write_and_the_command_pass_slim_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "Dockerfile").write_text(PYTHON)
    _, result = write(tmp_path / "Dockerfile", slim_base="py:min")
    assert "\nFROM py:min\n" in result.text
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(tmp_path / "cache"))
    layer = S.layer([S.File("app/app.py", b"1\n")])
    archive.write([S.image([S.Step("COPY . /app", layer)])], tmp_path / "app.tar")
    runner = CliRunner()
    args = ["app.tar", "-o", "oci:out", "--dockerfile", "Dockerfile", "--slim-base", "py:tiny"]
    r = runner.invoke(optimize, args)
    assert r.exit_code == 0, r.output
    assert "\nFROM py:tiny\n" in (tmp_path / "Dockerfile.deadweight").read_text()
    assert (
        "line 1: multi-stage build: stage `build` installs, the final stage is `py:tiny`"
        in r.stderr
    )
    alone = runner.invoke(optimize, ["app.tar", "-o", "oci:out", "--slim-base", "py:tiny"])
    assert isinstance(alone.exception, UsageError)
    assert str(alone.exception) == "--slim-base needs --dockerfile"
