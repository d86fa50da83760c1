"""``optimize --dockerfile``: Dockerfile.deadweight, exactly, for corpus-like Dockerfiles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from deadweight import static as S
from deadweight.cli.optimize import optimize
from deadweight.dockerfile.optimize import Change, optimize_dockerfile, write
from deadweight.errors import UsageError
from deadweight.sources import archive

NODE = """\
FROM node:16.14.0-alpine

ENV PORT=8080

# Create app directory
WORKDIR /usr/src/app

COPY package*.json ./

RUN npm install -g npm@8.5.1
RUN npm install && mv node_modules ../

# Bundle app source
COPY . .

EXPOSE 8080
CMD npm start
"""
PLAIN_START = json.dumps({"scripts": {"start": "node server.js --port 8080"}}).encode()
# NODE moves node_modules out of the WORKDIR after the install (`mv node_modules ../`): the
# final stage copies it from there
NODE_MULTISTAGE = """\
FROM node:16.14.0-alpine AS build

ENV PORT=8080

# Create app directory
WORKDIR /usr/src/app

COPY package*.json ./

RUN npm ci --omit=dev && mv node_modules ../

FROM node:16.14.0-alpine
ENV PORT=8080
WORKDIR /usr/src/app
COPY --from=build /usr/src/node_modules /usr/src/node_modules

# Bundle app source
COPY . .

EXPOSE 8080
USER 1000
CMD ["node", "server.js", "--port", "8080"]
"""


def test_node_backend_with_a_lockfile() -> None:
    result = optimize_dockerfile(NODE, package_json=PLAIN_START, lockfile=True)
    assert result.text == NODE_MULTISTAGE
    assert result.changes == (
        Change(
            1,
            "multi-stage build: stage `build` installs, the final stage is `node:16.14.0-alpine`",
        ),
        Change(8, "build stage only: line 14 copies the whole context"),
        Change(10, "DW002: drop the npm self-upgrade (the base image's npm installs)"),
        Change(11, "`npm ci --omit=dev` instead of `npm install`"),
        Change(
            11,
            "the final stage copies /usr/src/node_modules, where the install moved node_modules",
        ),
        Change(17, "run `node server.js --port 8080` directly (package.json scripts.start)"),
        Change(17, "DW001: add `USER 1000` (node)"),
    )


def test_without_a_lockfile_npm_install_omits_dev_dependencies() -> None:
    result = optimize_dockerfile(NODE, package_json=PLAIN_START, lockfile=False)
    assert "RUN npm install --omit=dev && mv node_modules ../\n" in result.text
    assert "npm@8.5.1" not in result.text  # DW002: the upgrade is dropped


@pytest.mark.parametrize(
    "start",
    [
        "node server.js | tee /tmp/log",  # shell syntax
        "NODE_ENV=production node server.js",  # an assignment
        "node $ENTRY",  # a variable
        "nodemon server.js",  # not node
        "node",  # no file
    ],
)
def test_a_start_script_that_is_not_plain_node_keeps_npm(start: str) -> None:
    package = json.dumps({"scripts": {"start": start}}).encode()
    result = optimize_dockerfile(NODE, package_json=package, lockfile=True)
    assert result.text.endswith('USER 1000\nCMD ["npm", "start"]\n')  # only the exec form
    assert Change(17, "DL3025: use the JSON (exec) form") in result.changes


def test_prestart_or_no_package_json_keeps_npm_start() -> None:
    package = json.dumps({"scripts": {"start": "node a.js", "prestart": "node migrate.js"}})
    for found in (package.encode(), None, b"{not json"):
        result = optimize_dockerfile(NODE, package_json=found, lockfile=True)
        assert result.text.endswith('CMD ["npm", "start"]\n')


def test_an_entrypoint_keeps_the_cmd() -> None:
    source = NODE.replace("CMD npm start", 'ENTRYPOINT ["tini", "--"]\nCMD ["npm", "start"]')
    result = optimize_dockerfile(source, package_json=PLAIN_START, lockfile=True)
    assert result.text.endswith('ENTRYPOINT ["tini", "--"]\nCMD ["npm", "start"]\n')


def test_multistage_only_the_final_stage_and_cleanups_in_the_same_run() -> None:
    source = """\
FROM node:20 AS build
WORKDIR /src
COPY package*.json ./
RUN npm install
COPY . .
RUN npm run build

FROM node:20-alpine
WORKDIR /app
COPY package*.json ./
RUN apk add curl && \\
    npm install --no-audit
COPY --from=build /src/dist ./dist
CMD npm run start
"""
    package = json.dumps({"scripts": {"start": "node dist/main.js", "build": "tsc"}}).encode()
    result = optimize_dockerfile(source, package_json=package, lockfile=True)
    assert (
        result.text
        == """\
FROM node:20 AS build
WORKDIR /src
COPY package*.json ./
RUN npm install
COPY . .
RUN npm run build

FROM node:20-alpine
WORKDIR /app
COPY package*.json ./
RUN apk add --no-cache curl && \\
    npm ci --omit=dev --no-audit \\
 && npm cache clean --force
COPY --from=build /src/dist ./dist
USER 1000
CMD ["node", "dist/main.js"]
"""
    )
    assert [c.line for c in result.changes] == [8, 11, 11, 11, 14, 14]
    assert result.changes[0] == Change(8, "no multi-stage build: it is already multi-stage")


@pytest.mark.parametrize(
    "later",
    [
        "RUN npm run build",
        "RUN npx tsc",
        "RUN npm test",
        "RUN yarn build",
    ],
)
def test_devdependencies_stay_when_the_stage_may_need_them(later: str) -> None:
    source = NODE.replace("COPY . .\n", f"COPY . .\n{later}\n")
    result = optimize_dockerfile(source, package_json=PLAIN_START, lockfile=True)
    # one stage: the build step would need node_modules where the install moved it
    assert "RUN npm install && mv node_modules ../ \\\n && npm cache clean --force\n" in result.text
    assert (
        Change(
            1,
            "no multi-stage build: node_modules moves to /usr/src/node_modules and "
            "a build step follows the install",
        )
        in result.changes
    )


def test_installs_of_named_packages_are_left_alone() -> None:
    source = "FROM node:20\nRUN npm install express && npm i --save-dev jest\nCMD node a.js\n"
    result = optimize_dockerfile(source, lockfile=True)
    assert result.text == (
        "FROM node:20\nRUN npm install express && npm i --save-dev jest \\\n"
        " && npm cache clean --force\n"
        'USER 1000\nCMD ["node", "a.js"]\n'
    )


def test_python_image_becomes_multistage_and_keeps_the_runtime_libraries() -> None:
    source = """\
FROM python:3.12-slim
RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
CMD ["gunicorn", "app:app"]
"""
    result = optimize_dockerfile(source)
    # libpq-dev brings libpq5, which psycopg2 needs at run time: the RUN is repeated
    assert (
        result.text
        == """\
FROM python:3.12-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev \
&& rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt

FROM python:3.12-slim
ENV PATH="/opt/venv/bin:$PATH"
COPY --from=build /opt/venv /opt/venv
RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev \
&& rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
USER 10001:10001
CMD ["gunicorn", "app:app"]
"""
    )
    assert result.changes == (
        Change(
            1, "multi-stage build: stage `build` installs, the final stage is `python:3.12-slim`"
        ),
        Change(2, "DL3009: append `rm -rf /var/lib/apt/lists/*`"),
        Change(4, "build stage only: line 6 copies the whole context"),
        Change(5, "DL3042: add --no-cache-dir"),
        Change(5, "pip installs into /opt/venv, copied to the final stage"),
        Change(7, "add `USER 10001:10001` (numeric ids need no /etc/passwd entry)"),
    )


def test_an_optimized_dockerfile_is_unchanged_by_a_second_run() -> None:
    once = optimize_dockerfile(NODE, package_json=PLAIN_START, lockfile=True)
    twice = optimize_dockerfile(once.text, package_json=PLAIN_START, lockfile=True)
    assert twice.text == once.text
    assert twice.changes == (Change(12, "no multi-stage build: it is already multi-stage"),)


def test_write_puts_dockerfile_deadweight_beside_the_original(tmp_path: Path) -> None:
    context = tmp_path / "app"
    context.mkdir()
    (context / "Dockerfile").write_text(NODE)
    (context / "package.json").write_bytes(PLAIN_START)
    (context / "package-lock.json").write_text("{}")
    dest, result = write(context / "Dockerfile")
    assert dest == context / "Dockerfile.deadweight"
    assert dest.read_text() == result.text
    assert 'CMD ["node", "server.js", "--port", "8080"]' in result.text
    assert "npm ci --omit=dev" in result.text
    assert (context / "Dockerfile").read_text() == NODE
    assert sorted(p.name for p in context.iterdir()) == [
        "Dockerfile",
        "Dockerfile.deadweight",
        "package-lock.json",
        "package.json",
    ]


def test_write_reads_package_json_only_beside_the_dockerfile(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_bytes(PLAIN_START)
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "Dockerfile").write_text(NODE)
    _, result = write(tmp_path / "docker" / "Dockerfile")
    assert result.text.endswith('CMD ["npm", "start"]\n')
    assert "npm install --omit=dev" in result.text  # and no lockfile beside it either


def test_write_refuses_its_own_output_name(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile.deadweight").write_text(NODE)
    with pytest.raises(UsageError, match="that is the output name"):
        write(tmp_path / "Dockerfile.deadweight")


def test_optimize_command_writes_the_dockerfile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(tmp_path / "cache"))
    layer = S.layer([S.File("app/server.js", b"1\n")])
    archive.write([S.image([S.Step("COPY . /app", layer)])], tmp_path / "app.tar")
    (tmp_path / "Dockerfile").write_text(NODE)
    (tmp_path / "package.json").write_bytes(PLAIN_START)
    runner = CliRunner()
    args = ["app.tar", "-o", "oci:out", "--format", "json", "--dockerfile", "Dockerfile"]
    r = runner.invoke(optimize, args)
    assert r.exit_code == 0, r.output
    json.loads(r.stdout)  # the report stays one JSON document
    assert r.stderr == (
        f"deadweight: wrote {Path('Dockerfile.deadweight')} (7 changes)\n"
        "  line 1: multi-stage build: stage `build` installs, the final stage is "
        "`node:16.14.0-alpine`\n"
        "  line 8: build stage only: line 14 copies the whole context\n"
        "  line 10: DW002: drop the npm self-upgrade (the base image's npm installs)\n"
        "  line 11: `npm install --omit=dev` instead of `npm install`\n"
        "  line 11: the final stage copies /usr/src/node_modules, where the install moved "
        "node_modules\n"
        "  line 17: run `node server.js --port 8080` directly (package.json scripts.start)\n"
        "  line 17: DW001: add `USER 1000` (node)\n"
    )
    assert (tmp_path / "Dockerfile").read_text() == NODE
    assert (tmp_path / "Dockerfile.deadweight").is_file()
    missing = runner.invoke(optimize, ["app.tar", "-o", "oci:out", "--dockerfile", "nope"])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_an_earlier_stage_keeps_its_npm_install() -> None:
    source = """\
FROM node:20 AS deps
WORKDIR /src
COPY package*.json ./
RUN npm install

FROM node:20-alpine
COPY --from=deps /src/node_modules ./node_modules
USER 1000
CMD ["node", "a.js"]
"""
    result = optimize_dockerfile(source, package_json=PLAIN_START, lockfile=True)
    assert result.text == source
    assert result.changes == (Change(6, "no multi-stage build: it is already multi-stage"),)
