"""A synthetic fleet: a few dozen images built from shared bases, in memory (``static``).

Bases share layers the way real registries do (a debian-like root, a python-like runtime
on it, an alpine-like root); each app adds its own layers with what real builds leave
behind: apt lists, a deleted build directory, a package database listing compilers,
an npm lockfile with devDependencies, and a large file every fourth app carries a copy of.
Contents are deterministic for a given ``scale`` (bytes of filler per layer).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from deadweight import static as S
from deadweight.image import Image

DPKG = "var/lib/dpkg/status"


def _bytes(seed: str, n: int) -> bytes:
    return random.Random(seed).randbytes(n)


def _dpkg(packages: list[tuple[str, str, int]]) -> bytes:
    stanzas = [
        f"Package: {name}\nStatus: install ok installed\nInstalled-Size: {kb}\nVersion: {ver}\n"
        for name, ver, kb in packages
    ]
    return "\n".join(stanzas).encode()


BASE_DEBS = [("libc6", "2.36-9", 12000), ("bash", "5.2.15-2", 7000), ("coreutils", "9.1-1", 17000)]
TOOLS = [
    ("gcc-12", "12.2.0-14", 36000),
    ("make", "4.3-4.1", 1500),
    ("libssl-dev", "3.0.11-1", 2400),
]


@dataclass(frozen=True)
class Base:
    name: str
    steps: tuple[S.Step, ...]


def bases(scale: int) -> list[Base]:
    root = S.Step(
        "ADD file:debian-rootfs in / ",
        S.layer(
            [
                S.Dir("etc"),
                S.File("etc/os-release", b"ID=debian\n"),
                S.File("usr/lib/libc.so.6", _bytes("libc", 8 * scale)),
                S.File(DPKG, _dpkg(BASE_DEBS)),
                S.File("usr/share/doc/bash/README", _bytes("doc", scale // 4)),
            ],
            "gzip",
        ),
    )
    python = S.Step(
        "RUN /bin/sh -c install-python # buildkit",
        S.layer(
            [S.File("usr/local/lib/python3.11/os.py", _bytes("py", 6 * scale))],
            "gzip",
        ),
    )
    alpine = S.Step(
        "ADD file:alpine-rootfs in / ",
        S.layer([S.File("lib/ld-musl.so.1", _bytes("musl", 4 * scale))], "gzip"),
    )
    cmd = S.Step('CMD ["sh"]')
    return [
        Base("debian", (root, cmd)),
        Base("python", (root, python, cmd)),
        Base("alpine", (alpine, cmd)),
    ]


def app(n: int, base: Base, scale: int) -> Image:
    """App ``n``: its own layers on ``base``; what it leaves behind varies with ``n``."""
    own: list[S.Entry] = [S.File(f"app/{n}/main.bin", _bytes(f"app{n}", scale))]
    if n % 4 == 0:  # the same large file, copied into several apps' own layers
        own.append(S.File("app/data/model.bin", _bytes("model", (1 << 20) + scale)))
    if n % 3 == 0:
        own.append(S.File("var/lib/apt/lists/deb.debian.org_Packages", _bytes(f"apt{n}", scale)))
    if n % 2 == 0:
        own.append(S.File(DPKG, _dpkg(BASE_DEBS + TOOLS[: 1 + n % 3])))
    if n % 5 == 0:
        lock = {
            "name": f"app{n}",
            "lockfileVersion": 3,
            "packages": {
                "": {"name": f"app{n}"},
                "node_modules/express": {"version": "4.18.2"},
                "node_modules/jest": {"version": "29.7.0", "dev": True},
            },
        }
        own += [
            S.File(f"app/{n}/package-lock.json", json.dumps(lock).encode()),
            S.File(f"app/{n}/node_modules/express/index.js", _bytes(f"ex{n}", scale // 8)),
            S.File(f"app/{n}/node_modules/jest/index.js", _bytes(f"jest{n}", scale // 8)),
        ]
    steps = [
        *base.steps,
        S.Step(
            "RUN /bin/sh -c make build # buildkit",
            S.layer([S.File(f"build/{n}/obj.o", _bytes(f"obj{n}", scale))], "gzip"),
        ),
        S.Step("COPY . /app # buildkit", S.layer(own, "gzip")),
    ]
    if n % 2 == 1:
        steps.append(
            S.Step(
                "RUN /bin/sh -c rm -rf /build # buildkit", S.layer([S.Whiteout("build")], "gzip")
            )
        )
    return S.image(steps, repo_tags=(f"app{n}:v1",))


def fleet(count: int = 30, scale: int = 64 << 10) -> list[tuple[str, Image]]:
    """``count`` apps as (repository/tag, image), plus the bases themselves."""
    shared = bases(scale)
    found = [(f"base/{b.name}:latest", S.image(list(b.steps))) for b in shared]
    for n in range(count):
        found.append((f"team{n % 4}/app{n}:v1", app(n, shared[n % len(shared)], scale)))
    return found
