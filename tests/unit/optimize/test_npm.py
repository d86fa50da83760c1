"""npm: which lockfile packages may be pruned, and when `npm start` becomes `node FILE`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deadweight import static
from deadweight.filetree.tree import stack
from deadweight.mutate import layer_deltas
from deadweight.optimize import npm

S = static


def lock(packages: dict[str, Any], version: int = 3) -> str:
    return json.dumps({"name": "app", "lockfileVersion": version, "packages": packages})


ROOT = {"name": "app", "dependencies": {"express": "^4"}, "devDependencies": {"jest": "^29"}}


def test_dev_flagged_packages_are_pruned_and_production_ones_kept() -> None:
    text = lock(
        {
            "": ROOT,
            "node_modules/express": {"version": "4", "dependencies": {"debug": "2"}},
            "node_modules/debug": {"version": "2"},
            "node_modules/jest": {"version": "29", "dev": True, "dependencies": {"chalk": "4"}},
            "node_modules/chalk": {"version": "4", "dev": True},
            "node_modules/fsevents": {"version": "2", "dev": True, "optional": True},
        }
    )
    assert npm.dev_packages([text]) == (
        "node_modules/chalk",
        "node_modules/fsevents",
        "node_modules/jest",
    )


def test_an_inconsistent_dev_flag_never_prunes_what_production_needs() -> None:
    text = lock(
        {
            "": {"name": "app", "dependencies": {"express": "^4", "cors": "^2"}},
            # express is production, yet the lockfile (wrongly) flags its dependency dev
            "node_modules/express": {"version": "4", "dependencies": {"debug": "2"}},
            "node_modules/debug": {"version": "2", "dev": True, "dependencies": {"ms": "2"}},
            "node_modules/ms": {"version": "2", "dev": True},
            # the root's own production dependency flagged dev
            "node_modules/cors": {"version": "2", "dev": True},
        }
    )
    assert npm.dev_packages([text]) == ()


def test_missing_flags_keep_the_package_and_what_it_reaches() -> None:
    text = lock(
        {
            "": {"name": "app", "devDependencies": {"jest": "^29"}},
            "node_modules/jest": {"version": "29", "dev": True, "dependencies": {"chalk": "4"}},
            "node_modules/chalk": {"version": "4", "dependencies": {"ansi": "5"}},  # no flag
            "node_modules/ansi": {"version": "5", "dev": True},
        }
    )
    assert npm.dev_packages([text]) == ("node_modules/jest",)


def test_dev_optional_and_links_stay() -> None:
    text = lock(
        {
            "": ROOT,
            "node_modules/both": {"version": "1", "devOptional": True},
            "node_modules/ws": {"link": True, "resolved": "packages/ws", "dev": True},
            "packages/ws": {"version": "1", "dev": True},
        }
    )
    assert npm.dev_packages([text]) == ()


def test_nested_copies_resolve_like_node() -> None:
    text = lock(
        {
            "": {"name": "app", "dependencies": {"a": "1"}},
            "node_modules/a": {"version": "1", "dependencies": {"x": "2"}},
            "node_modules/a/node_modules/x": {"version": "2", "dev": True},
            "node_modules/x": {"version": "1", "dev": True},
        }
    )
    # a needs x: node finds the copy inside a first, so that one stays; the top one goes
    assert npm.dev_packages([text]) == ("node_modules/x",)


def test_a_dev_package_holding_one_that_stays_stays() -> None:
    text = lock(
        {
            "": {"name": "app"},
            "node_modules/d": {"version": "1", "dev": True},
            "node_modules/d/node_modules/p": {"version": "1"},  # not flagged: stays
        }
    )
    assert npm.dev_packages([text]) == ()


def test_every_lockfile_must_agree() -> None:
    a = lock({"": ROOT, "node_modules/jest": {"version": "29", "dev": True}})
    b = lock({"node_modules/jest": {"version": "29"}})
    assert npm.dev_packages([a]) == ("node_modules/jest",)
    assert npm.dev_packages([a, b]) == ()
    assert npm.dev_packages([a, "not json", json.dumps({"lockfileVersion": 1})]) == (
        "node_modules/jest",
    )


def test_lockfiles_and_bin_links_in_a_tree() -> None:
    image = S.image(
        [
            S.Step(
                "RUN npm install",
                S.layer(
                    [
                        S.File("app/package-lock.json", b"{}"),
                        S.File("app/node_modules/.package-lock.json", b"{}"),
                        S.File("app/node_modules/x/package-lock.json", b"{}"),
                        S.File("package-lock.json", b"{}"),
                        S.File("app/node_modules/jest/bin/jest.js", b"j"),
                        S.Symlink("app/node_modules/.bin/jest", "../jest/bin/jest.js"),
                        S.Symlink("app/node_modules/.bin/abs", "/app/node_modules/jest/x"),
                        S.Symlink("app/node_modules/.bin/tsc", "../typescript/bin/tsc"),
                    ]
                ),
            )
        ]
    )
    tree = stack(layer_deltas(image))
    assert npm.lockfiles(tree) == {
        "": ["package-lock.json"],
        "app": ["app/node_modules/.package-lock.json", "app/package-lock.json"],
    }
    assert npm.bin_links(tree, ["app/node_modules/jest"]) == {
        "app/node_modules/.bin/abs": "app/node_modules/jest",
        "app/node_modules/.bin/jest": "app/node_modules/jest",
    }


@pytest.mark.parametrize(
    ("path", "link", "group"),
    [
        ("usr/local/lib/node_modules/npm/bin/npm-cli.js", "", "usr/local/lib/node_modules/npm"),
        ("usr/lib/node_modules/corepack", "", "usr/lib/node_modules/corepack"),
        ("opt/yarn-v1.22.22/bin/yarn", "", "opt/yarn-v1.22.22"),
        ("usr/local/bin/npx", "../lib/node_modules/npm/bin/npx-cli.js", "usr/local/bin/npx"),
        ("usr/local/bin/yarnpkg", "", "usr/local/bin/yarnpkg"),
        ("usr/local/bin/pnpm", "../lib/node_modules/corepack/dist/pnpm.js", "usr/local/bin/pnpm"),
        ("usr/local/bin/pnpm", "", None),
        ("usr/local/lib/node_modules/npmlog/index.js", "", None),
        ("app/node_modules/npm/index.js", "", None),
        ("usr/local/bin/node", "", None),
    ],
)
def test_tool_paths(path: str, link: str, group: str | None) -> None:
    assert npm.tool_group(path, link) == group


def pkg(scripts: dict[str, str]) -> bytes:
    return json.dumps({"name": "app", "scripts": scripts}).encode()


@pytest.mark.parametrize(
    ("package_json", "server", "argv", "why"),
    [
        (pkg({"start": "node server.js"}), False, ["node", "server.js"], ""),
        (pkg({"start": "node  dist/main.js --port=8080 -v"}), False, None, ""),
        (pkg({}), True, ["node", "server.js"], ""),
        (pkg({}), False, [], "package.json has no start script"),
        (None, False, [], "no package.json in the working directory"),
        (b"{", False, [], "package.json is not valid JSON"),
        (
            pkg({"start": "NODE_ENV=production node server.js"}),
            False,
            [],
            "scripts.start 'NODE_ENV=production node server.js' is not `node FILE [args]`",
        ),
        (
            pkg({"start": "node build.js && node server.js"}),
            False,
            [],
            "scripts.start 'node build.js && node server.js' is not a plain node command "
            "(shell syntax)",
        ),
        (
            pkg({"start": "node server.js > log"}),
            False,
            [],
            "scripts.start 'node server.js > log' is not a plain node command (shell syntax)",
        ),
        (
            pkg({"start": "node -r dotenv/config server.js"}),
            False,
            [],
            "scripts.start 'node -r dotenv/config server.js' is not `node FILE [args]`",
        ),
        (
            pkg({"start": "nodemon server.js"}),
            False,
            [],
            "scripts.start 'nodemon server.js' is not `node FILE [args]`",
        ),
        (pkg({"start": "node"}), False, [], "scripts.start 'node' is not `node FILE [args]`"),
        (
            pkg({"prestart": "node migrate.js", "start": "node server.js"}),
            False,
            [],
            "package.json has a prestart script",
        ),
    ],
)
def test_start_script(
    package_json: bytes | None, server: bool, argv: list[str] | None, why: str
) -> None:
    if argv is None:
        argv = ["node", "dist/main.js", "--port=8080", "-v"]
    assert npm.start_script(package_json, server) == (argv, why)


START = pkg({"start": "node server.js"})


@pytest.mark.parametrize(
    "config",
    [
        {"Cmd": ["npm", "start"]},
        {"Cmd": ["/bin/sh", "-c", "npm start"]},
        {"Cmd": ["yarn", "start"]},
        {"Cmd": ["npm", "run", "start"]},
        {"Cmd": ["/usr/local/bin/npm", "start"]},
    ],
)
def test_npm_start_is_rewritten_to_node(config: dict[str, Any]) -> None:
    got = npm.command(config, START, False)
    assert got.changes == (("Cmd", ("node", "server.js")),)
    assert got.removable and got.reason == ""
    assert got.note == f'Cmd {json.dumps(config["Cmd"])} -> ["node", "server.js"] (exec form)'


def test_an_npm_entrypoint_is_replaced_and_another_one_kept() -> None:
    got = npm.command({"Entrypoint": ["npm"], "Cmd": ["start"]}, START, False)
    assert got.changes == (("Entrypoint", None), ("Cmd", ("node", "server.js")))
    assert got.removable
    kept = npm.command(
        {"Entrypoint": ["docker-entrypoint.sh"], "Cmd": ["npm", "start"]}, START, False
    )
    assert kept == npm.Command(reason="npm stays: the entrypoint may need it")


@pytest.mark.parametrize(
    ("config", "removable", "reason"),
    [
        ({"Cmd": ["node", "server.js"]}, True, ""),
        (
            {"Cmd": ["sh", "-c", "node server.js"]},
            False,
            'npm stays: the command ["sh", "-c", "node server.js"] is not node',
        ),
        ({}, False, "npm stays: the command [] is not node"),
        (
            {
                "Cmd": ["node", "server.js"],
                "Healthcheck": {"Test": ["CMD", "npm", "run", "health"]},
            },
            False,
            "npm stays: the command or healthcheck names it",
        ),
        (
            {"Cmd": ["node", "/usr/local/bin/npm"]},
            False,
            "npm stays: the command or healthcheck names it",
        ),
        (
            {"Cmd": ["npm", "start", "--", "--port", "1"]},
            False,
            'npm stays: the command ["npm", "start", "--", "--port", "1"] is not node',
        ),
    ],
)
def test_when_the_tools_can_go(config: dict[str, Any], removable: bool, reason: str) -> None:
    got = npm.command(config, START, False)
    assert (got.changes, got.removable, got.reason) == ((), removable, reason)


def test_an_unusable_start_script_keeps_npm_and_says_why() -> None:
    got = npm.command({"Cmd": ["yarn", "start"]}, pkg({"start": "next start"}), False)
    assert got == npm.Command(
        reason="yarn stays: `yarn start` is the command and scripts.start 'next start' is not "
        "`node FILE [args]`"
    )
