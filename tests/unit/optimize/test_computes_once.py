"""One optimize computes each thing once (issue 11): probe counts on a 3-layer image.

The probes are instruments, not clocks: how often each layer is opened, how many deltas
are stacked (``Stacker.apply``) and how many merges are made (``_merge._emitted_links``
runs once per merge).
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from deadweight import static
from deadweight.analysis import packages
from deadweight.filetree.tree import Stacker
from deadweight.image import Image, Opener, assemble
from deadweight.mutate import _merge
from deadweight.mutate.squashing import layer_deltas
from deadweight.optimize import apply, plan
from deadweight.streams import ByteStream
from deadweight.validation import validate

S = static
PASSWD = b"root:x:0:0:root:/root:/bin/sh\n"
GROUP = b"root:x:0:\n"
LOCK = {
    "name": "app",
    "lockfileVersion": 3,
    "packages": {
        "": {"name": "app", "devDependencies": {"jest": "29"}},
        "node_modules/jest": {"version": "29", "dev": True},
    },
}


class Probes:
    def __init__(self) -> None:
        self.opened: Counter[int] = Counter()
        self.stacked = 0
        self.merges = 0

    def reset(self) -> None:
        self.opened.clear()
        self.stacked = self.merges = 0


def counted(image: Image, probes: Probes) -> Image:
    """``image`` whose layers count how often they are opened."""

    def opener(index: int, inner: Opener) -> Opener:
        def open_layer() -> ByteStream:
            probes.opened[index] += 1
            return inner()

        return open_layer

    layers = [
        dataclasses.replace(layer, opener=opener(i, layer.opener))
        for i, layer in enumerate(image.layers)
    ]
    return assemble(image.raw_config, layers, source="probed")


@pytest.fixture
def probes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Probes]:
    found = Probes()
    apply_delta = Stacker.apply
    emitted = _merge._emitted_links

    def stack_one(self: Stacker, delta: Any) -> Any:
        found.stacked += 1
        return apply_delta(self, delta)

    def one_merge(*args: Any) -> Any:
        found.merges += 1
        return emitted(*args)

    monkeypatch.setattr(Stacker, "apply", stack_one)
    monkeypatch.setattr(_merge, "_emitted_links", one_merge)
    yield found


def three_layers(probes: Probes) -> Image:
    base = S.layer([S.Dir("etc"), S.File("etc/passwd", PASSWD), S.File("etc/group", GROUP)])
    app = S.layer(
        [
            S.Dir("app"),
            S.File("app/package.json", json.dumps({"name": "app"}).encode()),
            S.File("app/package-lock.json", json.dumps(LOCK).encode()),
            S.File("app/node_modules/jest/index.js", b"j" * 300),
            S.File("app/server.js", b"s" * 40),
            S.File("var/cache/apt/archives/x.deb", b"d" * 500),
            S.File("usr/share/doc/x/README", b"r" * 60),
        ]
    )
    cleanup = S.layer(
        [
            S.File("tmp/build.log", b"l" * 70),
            S.Whiteout("app/server.js"),
            S.File("app/index.js", b"i" * 30),
        ]
    )
    image = S.image(
        [
            S.Step("ADD rootfs.tar /", base),
            S.Step('CMD ["sh"]'),
            S.Step("COPY . /app", app),
            S.Step("RUN rm app/server.js", cleanup),
        ],
        config={"WorkingDir": "/app", "Cmd": ["node", "index.js"]},
    )
    return counted(image, probes)


@pytest.mark.parametrize(
    ("level", "squash", "squashed"),
    [("safe", "own", [1, 2]), ("moderate", "own", [1, 2]), ("moderate", "all", [0, 1, 2])],
)
def test_each_layer_is_streamed_once_stacked_once_and_merged_once(
    probes: Probes, level: Any, squash: Any, squashed: list[int]
) -> None:
    image = three_layers(probes)
    deltas = layer_deltas(image, capture=packages.capture)
    assert probes.opened == Counter({0: 1, 1: 1, 2: 1})  # the first read
    probes.reset()

    p = plan(image, level=level, squash=squash, epoch=0, deltas=deltas)
    assert p.keep_bottom == 3 - len(squashed)
    assert sum(probes.opened.values()) == 0  # plan opens no layer
    assert probes.stacked == 3  # every delta stacked once
    assert probes.merges == 1
    probes.reset()

    result = apply(image, p, deltas=deltas)
    assert probes.opened == Counter(dict.fromkeys(squashed, 1))  # each merged layer once
    assert probes.stacked == 0 and probes.merges == 0
    assert result.layers[-1].size == p.layer_after  # counted as written: no second sizing
    if level == "moderate":
        assert any(s.name == "npm-dev-dependencies" for s in p.steps)
        assert dict(p.config).get("User")  # passwd came from the first read's capture
    assert validate(result).ok


def test_a_plan_without_deltas_reads_each_layer_once(probes: Probes) -> None:
    image = three_layers(probes)
    p = plan(image, level="moderate", epoch=0)
    assert p.merged is not None and p.stacking is not None  # carried to apply
    assert probes.opened == Counter({0: 1, 1: 1, 2: 1})
    assert probes.stacked == 3 and probes.merges == 1


def test_a_moderate_plan_reads_the_entrypoint_script_from_the_first_read(probes: Probes) -> None:
    script = (  # the official node image's
        b'#!/bin/sh\nset -e\nif [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ]; then\n'
        b'  set -- node "$@"\nfi\n\nexec "$@"\n'
    )
    base = S.layer(
        [
            S.Dir("etc"),
            S.File("etc/passwd", PASSWD),
            S.File("etc/group", GROUP),
            S.File("usr/local/bin/docker-entrypoint.sh", script, 0o755),
            S.File("usr/local/lib/node_modules/npm/bin/npm-cli.js", b"n" * 50),
            S.Symlink("usr/local/bin/npm", "../lib/node_modules/npm/bin/npm-cli.js"),
        ]
    )
    app = S.layer(
        [
            S.Dir("app"),
            S.File("app/package.json", b'{"scripts": {"start": "node server.js"}}'),
            S.File("app/server.js", b"s" * 40),
        ]
    )
    image = counted(
        S.image(
            [
                S.Step("ADD rootfs.tar /", base),
                S.Step('ENTRYPOINT ["docker-entrypoint.sh"]'),
                S.Step('CMD ["node"]'),
                S.Step("COPY . /app", app),
                S.Step("RUN true", S.layer([S.File("tmp/x", b"x")])),
            ],
            config={
                "Env": ["PATH=/usr/local/bin:/bin"],
                "Entrypoint": ["docker-entrypoint.sh"],
                "Cmd": ["npm", "start"],
                "WorkingDir": "/app",
            },
        ),
        probes,
    )
    deltas = layer_deltas(image, capture=packages.capture)
    probes.reset()
    p = plan(image, level="moderate", squash="all", epoch=0, deltas=deltas)
    assert sum(probes.opened.values()) == 0
    # the same plan as one that reads the script from its layer (deltas that kept nothing)
    bare = layer_deltas(image, capture=None)
    probes.reset()
    read = plan(image, level="moderate", squash="all", epoch=0, deltas=bare)
    assert probes.opened[0] >= 1  # without the capture: the layer holding the script
    assert (p.config, p.skipped, p.steps) == (read.config, read.skipped, read.steps)
    assert any("docker-entrypoint.sh" in s.reason for s in p.skipped)  # it was judged
