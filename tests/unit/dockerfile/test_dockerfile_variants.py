"""``--dockerfile`` on Node projects shaped differently from one another: node_modules
moved or linked, ``npm ci``, yarn, pnpm, workspaces, a build step, a global tool the
command needs; the npm self-upgrade dropped, npm's cache cleaned, a USER added."""

from __future__ import annotations

import json

import pytest

from deadweight.dockerfile.optimize import optimize_dockerfile

PACKAGE = json.dumps({"scripts": {"start": "node server.js"}, "dependencies": {"ms": "2"}}).encode()
HEAD = "FROM node:20\nRUN npm install -g npm@10.5.0\nWORKDIR /app\nCOPY package*.json ./\n"
TAIL = "COPY . .\nCMD npm start\n"


def final_stage(text: str) -> str:
    return text[text.rindex("FROM ") :]


def build_stage(text: str) -> str:
    return text[: text.rindex("FROM ")]


def optimized(install: str, *, package: bytes = PACKAGE, head: str = HEAD, tail: str = TAIL) -> str:
    return optimize_dockerfile(head + install + tail, package_json=package, lockfile=True).text


@pytest.mark.parametrize(
    ("install", "copies"),
    [
        (
            "RUN npm install && mv node_modules ../\n",
            "COPY --from=build /node_modules /node_modules\n",
        ),
        ("RUN npm ci && mv node_modules /deps\n", "COPY --from=build /deps /deps\n"),
        (
            "RUN npm ci && mv node_modules /opt/\n",
            "COPY --from=build /opt/node_modules /opt/node_modules\n",
        ),
        (
            "RUN npm ci && mv node_modules /opt/node_modules"
            " && ln -s /opt/node_modules node_modules\n",
            "COPY --from=build /opt/node_modules /opt/node_modules\n"
            "RUN ln -s /opt/node_modules node_modules\n",
        ),
        ("RUN npm ci\n", "COPY --from=build /app/node_modules ./node_modules\n"),
    ],
)
def test_node_modules_is_copied_from_where_the_install_left_it(install: str, copies: str) -> None:
    text = optimized(install)
    assert text.count("FROM ") == 2
    assert "npm ci --omit=dev" in build_stage(text)
    assert copies in final_stage(text)
    assert final_stage(text).startswith("FROM node:20-slim\n")


def test_the_npm_self_upgrade_is_dropped_everywhere() -> None:
    text = optimized("RUN npm install\n")
    assert "npm@" not in text
    tarball = "FROM node:20\nRUN npm i -g /tmp/npm-10.5.0.tgz\nWORKDIR /app\nCOPY . .\n"
    assert "npm-10.5.0.tgz" not in optimized("RUN npm install\n", head=tarball)


def test_a_global_tool_the_command_runs_stays_in_the_final_stage() -> None:
    head = HEAD + "RUN npm install -g pm2@5 nodemon\n"
    text = optimized("RUN npm ci\n", head=head, tail='COPY . .\nCMD ["pm2-runtime", "server.js"]\n')
    assert "RUN npm install -g pm2@5 nodemon \\\n && npm cache clean --force\n" in final_stage(text)
    text = optimized("RUN npm ci\n", head=head)  # CMD node server.js: a build tool only
    assert "pm2" not in final_stage(text)


@pytest.mark.parametrize(
    ("tool", "install", "production"),
    [
        (
            "yarn",
            "RUN yarn install --frozen-lockfile\n",
            "RUN yarn install --production --frozen-lockfile\n",
        ),
        (
            "pnpm",
            "RUN pnpm install --frozen-lockfile\n",
            "RUN pnpm install --prod --frozen-lockfile\n",
        ),
        ("yarn", "RUN yarn\n", "RUN yarn --production\n"),
    ],
)
def test_yarn_and_pnpm_leave_the_dev_dependencies_out(
    tool: str, install: str, production: str
) -> None:
    head = "FROM node:20\nRUN corepack enable\nWORKDIR /app\nCOPY package.json ./\n"
    text = optimized(install, head=head)
    assert production in build_stage(text)
    assert "COPY --from=build /app/node_modules ./node_modules\n" in final_stage(text)
    assert "corepack" not in final_stage(text)


@pytest.mark.parametrize(
    ("install", "prune"),
    [
        ("RUN npm ci\n", "RUN npm prune --omit=dev\n"),
        (
            "RUN yarn install --frozen-lockfile\n",
            "RUN yarn install --production --ignore-scripts --prefer-offline\n",
        ),
        ("RUN pnpm install\n", "RUN pnpm prune --prod\n"),
    ],
)
def test_a_build_step_runs_with_dev_dependencies_then_prunes(install: str, prune: str) -> None:
    tool = install.split()[1]
    tail = f"COPY . .\nRUN {tool} run build\nCMD npm start\n"
    text = optimized(install, tail=tail)
    build = build_stage(text)
    assert build.index(f"RUN {tool} run build") < build.index(prune)
    assert "COPY --from=build /app ./\n" in final_stage(text)


def test_workspaces_copy_the_whole_workdir() -> None:
    package = json.dumps({"workspaces": ["packages/*"], "scripts": {"start": "node s.js"}})
    head = HEAD + "COPY packages ./packages\n"
    text = optimized("RUN npm ci\n", package=package.encode(), head=head)
    assert "npm ci --omit=dev" in build_stage(text)
    assert "COPY --from=build /app ./\n" in final_stage(text)


def test_one_stage_still_drops_the_upgrade_cleans_the_cache_and_adds_a_user() -> None:
    source = (
        "FROM debian:12\nRUN npm install -g npm@10\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"
        'RUN cd sub && npm ci\nCMD ["node", "s.js"]\n'
    )
    text = optimize_dockerfile(source, package_json=PACKAGE, lockfile=True).text
    assert text.count("FROM ") == 1
    assert "npm@10" not in text
    assert text.count("npm cache clean --force") == 2
    assert "USER 10001:10001\nCMD" in text
