"""The moderate level on a synthetic Node image: npm devDependencies, package extras, npm
itself with the CMD rewrite, a non-root user; exact bytes, exact layer contents, refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deadweight import static
from deadweight.analysis.analyze import analyze
from deadweight.analysis.sizes import layer_sizes
from deadweight.filetree.tree import Tree, stack
from deadweight.image import Image
from deadweight.mutate import layer_deltas
from deadweight.optimize import STEP_NAMES, Skipped, apply, plan

S = static
PASSWD = b"root:x:0:0:root:/root:/bin/sh\nsvc:x:10001:10001::/:/bin/false\n"
GROUP = b"root:x:0:\n"
LOCK = {
    "name": "app",
    "lockfileVersion": 3,
    "packages": {
        "": {"name": "app", "dependencies": {"express": "4"}, "devDependencies": {"jest": "29"}},
        "node_modules/express": {"version": "4", "dependencies": {"debug": "2"}},
        "node_modules/debug": {"version": "2", "dev": True},  # inconsistent: stays
        "node_modules/jest": {"version": "29", "dev": True, "dependencies": {"chalk": "4"}},
        "node_modules/chalk": {"version": "4", "dev": True},
    },
}
PACKAGE = {"name": "app", "scripts": {"start": "node server.js --port 8080"}}
NPM_LINK = "../lib/node_modules/npm/bin/npm-cli.js"  # 38 bytes
JEST_LINK = "../jest/bin/jest.js"  # 19 bytes


def node_image(config: dict[str, Any] | None = None, workdir: str = "/app") -> Image:
    base: list[static.Entry] = [
        S.Dir("etc"),
        S.File("etc/passwd", PASSWD),
        S.File("etc/group", GROUP),
        S.File("etc/os-release", b"base\n"),
        S.File("bin/sh", b"x" * 10),
        S.Dir("usr/local/bin"),
    ]
    app: list[static.Entry] = [
        S.Dir("app"),
        S.File("app/package.json", json.dumps(PACKAGE).encode()),
        S.File("app/package-lock.json", json.dumps(LOCK).encode()),
        S.File("app/server.js", b"s" * 50),
        S.File("app/node_modules/express/index.js", b"e" * 100),
        S.File("app/node_modules/express/test/app.test.js", b"t" * 30),
        S.File("app/node_modules/express/index.js.map", b"m" * 20),
        S.File("app/node_modules/debug/index.js", b"d" * 70),
        S.File("app/node_modules/jest/bin/jest.js", b"j" * 300),
        S.File("app/node_modules/jest/docs/api.md", b"a" * 40),
        S.File("app/node_modules/chalk/index.js", b"c" * 200),
        S.Symlink("app/node_modules/.bin/jest", JEST_LINK),
    ]
    cfg = config or {
        "Env": ["PATH=/usr/local/bin:/bin"],
        "Cmd": ["/bin/sh", "-c", "npm start"],
        "WorkingDir": workdir,
    }
    return S.image(
        [
            S.Step("ADD rootfs.tar /", S.layer(base)),
            S.Step('CMD ["sh"]'),
            S.Step(
                "RUN install node and npm",
                S.layer(
                    [
                        S.File("usr/local/bin/node", b"n" * 1000),
                        S.File("usr/local/lib/node_modules/npm/bin/npm-cli.js", b"p" * 500),
                        S.Symlink("usr/local/bin/npm", NPM_LINK),
                    ]
                ),
            ),
            S.Step("COPY . .", S.layer(app)),
            S.Step("CMD npm start"),
        ],
        config=cfg,
    )


def tree_of(image: Image) -> Tree:
    return stack(layer_deltas(image))


def runtime(image: Image) -> dict[str, Any]:
    config: dict[str, Any] = json.loads(image.raw_config)["config"]
    return config


APP_USER = b"app:x:10002:10001:app:/app:/sbin/nologin\n"


def test_moderate_plan_steps_bytes_and_config() -> None:
    image = node_image()
    p = plan(image, level="moderate", epoch=0)
    assert p.keep_bottom == 1
    assert [(s.name, s.bytes) for s in p.steps] == [
        ("squash", 0),
        ("npm-dev-dependencies", 300 + 40 + 200 + len(JEST_LINK)),
        ("package-extras", 30 + 20),
        ("npm-tools", 500 + len(NPM_LINK)),
        ("non-root", -(len(PASSWD) + len(APP_USER) + len(GROUP) + len(b"app:x:10001:\n"))),
        ("epoch", 0),
    ]
    dev = p.steps[1]
    assert dev.paths == (
        "app/node_modules/.bin/jest",
        "app/node_modules/chalk/index.js",
        "app/node_modules/jest/bin/jest.js",
        "app/node_modules/jest/docs/api.md",
    )
    assert [(r.path, r.bytes, r.files) for r in dev.removed] == [
        ("app/node_modules/jest", 340 + len(JEST_LINK), 3),
        ("app/node_modules/chalk", 200, 1),
    ]
    assert p.steps[3].note == (
        'Cmd ["/bin/sh", "-c", "npm start"] -> ["node", "server.js", "--port", "8080"] (exec form)'
    )
    assert p.steps[3].paths == (
        "usr/local/bin/npm",
        "usr/local/lib/node_modules/npm/bin/npm-cli.js",
    )
    assert (
        p.steps[4].note == "User 10002:10001 (app) owns /app and what the new layer holds below it"
    )
    assert p.config == (("Cmd", ("node", "server.js", "--port", "8080")), ("User", "10002:10001"))
    assert p.skipped == ()
    assert p.edit.remove == (
        "app/node_modules/chalk",
        "app/node_modules/jest",
        "usr/local/lib/node_modules/npm",
    )


def test_apply_removes_exactly_the_plan_and_rewrites_config_and_owners() -> None:
    image = node_image()
    p = plan(image, level="moderate", epoch=0)
    out = apply(image, p)
    assert sum(layer_sizes(image)) - sum(layer_sizes(out)) == p.bytes_saved
    assert layer_sizes(out)[-1] == p.layer_after
    assert out.layers[0] is image.layers[0]
    config = runtime(out)
    assert config["Cmd"] == ["node", "server.js", "--port", "8080"]
    assert config["User"] == "10002:10001"
    assert "Entrypoint" not in config and config["WorkingDir"] == "/app"
    created_by = json.loads(out.raw_config)["history"][-1]["created_by"]
    assert created_by == "deadweight optimize --level moderate --squash own --epoch 0"
    t = tree_of(out)
    live = {p for p in t.nodes if t.nodes[p].kind != "dir"}
    assert live == {
        "etc/passwd",
        "etc/group",
        "etc/os-release",
        "bin/sh",
        "usr/local/bin/node",
        "app/package.json",
        "app/package-lock.json",
        "app/server.js",
        "app/node_modules/express/index.js",
        "app/node_modules/debug/index.js",
    }
    dirs = {p for p in t.nodes if t.nodes[p].kind == "dir" and "node_modules" in p}
    assert dirs == {
        "app/node_modules",
        "app/node_modules/.bin",
        "app/node_modules/debug",
        "app/node_modules/express",
        "app/node_modules/express/test",  # extras go file by file, as in analyze
        "usr/local/lib/node_modules",
    }
    owners = {p: (n.uid, n.gid) for p, n in t.nodes.items()}
    assert owners["app"] == owners["app/server.js"] == (10002, 10001)
    assert owners["app/node_modules/debug/index.js"] == (10002, 10001)
    assert owners["etc/passwd"] == owners["usr/local/bin/node"] == (0, 0)
    # the lockfile is left as it was; the new files are the old ones plus one line
    from deadweight.optimize._content import read_files

    files = read_files(out, t, ["etc/passwd", "etc/group", "app/package-lock.json"])
    assert files["etc/passwd"] == PASSWD + APP_USER
    assert files["etc/group"] == GROUP + b"app:x:10001:\n"
    assert json.loads(files["app/package-lock.json"]) == LOCK
    again = apply(image, plan(image, level="moderate", epoch=0))
    assert again.id == out.id


def test_plan_agrees_with_analyze_on_package_extras() -> None:
    image = node_image()
    p = plan(image, level="moderate")
    by_cat = dict(analyze(image, base_layers=1).bloat.by_category)
    assert {s.name: s.bytes for s in p.steps}["package-extras"] == by_cat["package-extras"]


@pytest.mark.parametrize(
    "name", ["npm-dev-dependencies", "package-extras", "npm-tools", "non-root"]
)
def test_each_moderate_step_can_be_skipped(name: str) -> None:
    image = node_image()
    p = plan(image, level="moderate", skip=[name], epoch=0)
    assert name not in [s.name for s in p.steps]
    assert p.skip == (name,)
    out = apply(image, p)
    assert sum(layer_sizes(image)) - sum(layer_sizes(out)) == p.bytes_saved
    config = runtime(out)
    assert ("User" in config) == (name != "non-root")
    assert (config["Cmd"][0] == "node") == (name != "npm-tools")
    assert json.loads(out.raw_config)["history"][-1]["created_by"].endswith(f" --skip {name}")


def test_unknown_step_to_skip() -> None:
    from deadweight.errors import UsageError

    with pytest.raises(UsageError, match=r"unknown step 'npm' to skip \(choose from apt-cache, "):
        plan(node_image(), skip=["npm"])
    assert STEP_NAMES[-4:] == ("npm-dev-dependencies", "package-extras", "npm-tools", "non-root")


def test_safe_level_does_none_of_it() -> None:
    p = plan(node_image(), level="safe")
    assert [s.name for s in p.steps] == ["squash"]
    assert p.config == () and p.prefixes == () and not p.edit and p.skipped == ()


def test_npm_in_the_base_layers_stays_but_the_command_is_rewritten() -> None:
    image = node_image()
    p = plan(image, level="moderate", keep_bottom=2)
    assert [s.name for s in p.steps][-2:] == ["npm-tools", "non-root"]
    assert p.steps[-2].bytes == 0 and p.steps[-2].paths == ()
    # done (the command) and not done (npm itself) are said once, in the one step
    assert p.steps[-2].title == "run node directly"
    assert p.steps[-2].note.splitlines()[1] == (
        "npm and yarn stay: /usr/local/bin/npm is in the base image layers "
        "(--squash all removes them)"
    )
    assert "npm-tools" not in [s.name for s in p.skipped]
    out = apply(image, p)
    assert runtime(out)["Cmd"] == ["node", "server.js", "--port", "8080"]
    assert "usr/local/bin/npm" in tree_of(out).nodes


def test_a_command_that_needs_npm_keeps_it() -> None:
    config = {"Cmd": ["npm", "run", "serve"], "WorkingDir": "/app"}
    p = plan(node_image(config), level="moderate")
    assert "npm-tools" not in [s.name for s in p.steps]
    assert p.skipped == (
        Skipped("npm-tools", 'npm stays: the command ["npm", "run", "serve"] is not node'),
    )
    assert p.config == (("User", "10002:10001"),)


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        (
            {"Cmd": ["node", "server.js"]},
            "WorkingDir is empty or /: there is no app directory to hand over",
        ),
        (
            {"Cmd": ["node", "server.js"], "WorkingDir": "/"},
            "WorkingDir is empty or /: there is no app directory to hand over",
        ),
        ({"Cmd": ["node", "server.js"], "WorkingDir": "/srv"}, "WorkingDir /srv does not exist"),
        (
            {"Cmd": ["node", "server.js"], "WorkingDir": "/app", "User": "node"},
            "the image already runs as node",
        ),
    ],
)
def test_non_root_refusals_are_in_the_plan(config: dict[str, Any], reason: str) -> None:
    image = node_image(config)
    p = plan(image, level="moderate")
    assert Skipped("non-root", reason) in p.skipped
    assert "non-root" not in [s.name for s in p.steps]
    assert p.edit.files == () and p.edit.owner is None
    out = apply(image, p)
    assert runtime(out).get("User") == config.get("User")
    assert tree_of(out).nodes["app/server.js"].uid == 0


def test_dev_dependencies_in_the_base_layers_stay_and_the_plan_says_so() -> None:
    image = node_image()
    top = S.Step("RUN touch /app/ready", S.layer([S.File("app/ready", b"")]))
    raw = json.loads(image.raw_config)
    image = S.image(
        [
            S.Step("ADD rootfs.tar /", image.layers[0]),
            S.Step("RUN install node and npm", image.layers[1]),
            S.Step("COPY . .", image.layers[2]),
            top,
        ],
        config=raw["config"],
    )
    p = plan(image, level="moderate", keep_bottom=3)
    assert "npm-dev-dependencies" not in [s.name for s in p.steps]
    assert p.skipped[0] == Skipped(
        "npm-dev-dependencies",
        "2 devDependencies are in the base image layers and stay (/app/node_modules/chalk, ...)",
    )
    out = apply(image, p)
    assert "app/node_modules/jest/bin/jest.js" in tree_of(out).nodes


def test_a_package_directory_a_base_layer_made_stays_empty() -> None:
    image = node_image()
    raw = json.loads(image.raw_config)
    base = S.layer([S.Dir("etc"), S.File("etc/passwd", PASSWD), S.Dir("app/node_modules/chalk")])
    image = S.image(
        [
            S.Step("ADD rootfs.tar /", base),
            S.Step("RUN install node and npm", image.layers[1]),
            S.Step("COPY . .", image.layers[2]),
        ],
        config=raw["config"],
    )
    p = plan(image, level="moderate", keep_bottom=1)
    assert "app/node_modules/chalk/index.js" in p.steps[1].paths
    assert "app/node_modules/chalk" not in p.edit.remove
    assert "app/node_modules/jest" in p.edit.remove
    t = tree_of(apply(image, p))
    assert t.nodes["app/node_modules/chalk"].kind == "dir"
    assert "app/node_modules/chalk/index.js" not in t.nodes
    assert "app/node_modules/jest" not in t.nodes


NODE_ENTRYPOINT = (
    b'#!/bin/sh\nset -e\nif [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ]; then\n'
    b'  set -- node "$@"\nfi\n\nexec "$@"\n'
)


def entrypoint_image(script: bytes) -> Image:
    """The node image's shape: ENTRYPOINT docker-entrypoint.sh, CMD npm start."""
    base = node_image()
    extra = S.layer([S.File("usr/local/bin/docker-entrypoint.sh", script, 0o755)])
    cfg = {
        "Env": ["PATH=/usr/local/bin:/bin"],
        "Entrypoint": ["docker-entrypoint.sh"],
        "Cmd": ["npm", "start"],
        "WorkingDir": "/app",
    }
    steps = [S.Step(f"layer {i}", layer) for i, layer in enumerate(base.layers)]
    return S.image([*steps, S.Step("COPY docker-entrypoint.sh", extra)], config=cfg)


def test_a_node_entrypoint_that_execs_its_arguments_lets_npm_go() -> None:
    image = entrypoint_image(NODE_ENTRYPOINT)
    p = plan(image, level="moderate", epoch=0, squash="all")
    assert [s.name for s in p.steps if s.name == "npm-tools"] == ["npm-tools"]
    assert ("Cmd", ("node", "server.js", "--port", "8080")) in p.config
    assert all(key != "Entrypoint" for key, _ in p.config)  # the entrypoint stays
    config = runtime(apply(image, p))
    assert config["Entrypoint"] == ["docker-entrypoint.sh"]


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        (
            b'#!/bin/sh\nnpm ci\nexec "$@"\n',
            "npm stays: the entrypoint docker-entrypoint.sh runs npm",
        ),
        (b"#!/bin/sh\nexec node server.js\n", 'does not end in exec "$@"'),
        (b'#!/bin/sh\n$RUNNER "$@"\n', "runs what cannot be read"),
    ],
)
def test_an_entrypoint_that_may_run_npm_keeps_it(script: bytes, reason: str) -> None:
    p = plan(entrypoint_image(script), level="moderate", epoch=0, squash="all")
    (skipped,) = [s for s in p.skipped if s.name == "npm-tools"]
    assert reason in skipped.reason
