"""``diff`` on pairs of real images built with BuildKit on the private engine, exported with
``docker save``: a package bump, a chmod, a moved file, another base, identical images.

Every pair is built from the session's busybox base without network; the dpkg and npm
package metadata is faked in the build context (there is no apt or npm offline).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from engine_fixtures import DockerEngine

from deadweight.compare import ImageDiff, PackageChange, compare
from deadweight.compare.diff import read_sides
from deadweight.sources import open_image

pytestmark = pytest.mark.integration

DOCKERFILE = """\
FROM {base}
COPY status /var/lib/dpkg/status
COPY app/ /app/
RUN chmod {mode} /app/run.sh
{extra}USER nobody
CMD ["/bin/sh", "/app/run.sh"]
"""
MOVE = "RUN mkdir /app/moved && mv /app/data/x.txt /app/moved/x.txt\n"
STATUS = "Package: tool\nStatus: install ok installed\nVersion: {v}\nInstalled-Size: {k}\n\n"
LOCK = (
    '{{"name": "app", "lockfileVersion": 3, "packages": {{"": {{"name": "app"}}, '
    '"node_modules/left-pad": {{"version": "{v}"}}}}}}\n'
)
BASE2 = """\
FROM {base}
RUN mkdir -p /lib/apk/db && printf 'P:musl\\nV:1.2.4\\nI:4000\\n\\n' > /lib/apk/db/installed \
&& head -c 3000 /dev/zero > /lib/libextra.so
CMD ["/bin/sh"]
"""


def context(root: Path, *, v: str, k: int, npm: str, js: int, mode: str, extra: str = "") -> Path:
    root.mkdir(parents=True)
    (root / "status").write_text(STATUS.format(v=v, k=k))
    app = root / "app"
    (app / "node_modules" / "left-pad").mkdir(parents=True)
    (app / "data").mkdir()
    (app / "package-lock.json").write_text(LOCK.format(v=npm))
    (app / "node_modules" / "left-pad" / "index.js").write_bytes(b"l" * js)
    (app / "run.sh").write_text("echo hi\n")
    (app / "run.sh").chmod(0o644)
    (app / "data" / "x.txt").write_bytes(b"x" * 300)
    return root


@dataclass(frozen=True)
class Pairs:
    saved: dict[str, Path]

    def image(self, key: str) -> str:
        return f"docker-archive:{self.saved[key]}"

    def diff(self, a: str, b: str, *, read_base: bool = False) -> ImageDiff:
        return compare(open_image(self.image(a)), open_image(self.image(b)), read_base=read_base)


@pytest.fixture(scope="module")
def pairs(
    docker_engine: DockerEngine, busybox_base: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pairs]:
    root = tmp_path_factory.mktemp("diff-pairs")
    b2 = root / "base2-image"
    b2.mkdir()
    (b2 / "Dockerfile").write_text(BASE2.format(base=busybox_base))
    docker_engine.build(b2, "dw-diff-base2:latest", buildkit=True)
    specs = {
        "v1": (busybox_base, {"v": "1.0", "k": 10, "npm": "1.0.0", "js": 50, "mode": "644"}),
        "v2": (busybox_base, {"v": "1.1", "k": 12, "npm": "1.1.0", "js": 70, "mode": "644"}),
        "chmod": (busybox_base, {"v": "1.0", "k": 10, "npm": "1.0.0", "js": 50, "mode": "755"}),
        "moved": (
            busybox_base,
            {"v": "1.0", "k": 10, "npm": "1.0.0", "js": 50, "mode": "644", "extra": MOVE},
        ),
        "base2": (
            "dw-diff-base2:latest",
            {"v": "1.0", "k": 10, "npm": "1.0.0", "js": 50, "mode": "644"},
        ),
    }
    saved: dict[str, Path] = {}
    for key, (base, kw) in specs.items():
        ctx = context(root / key, **kw)  # type: ignore[arg-type]
        extra = str(kw.get("extra", ""))
        (ctx / "Dockerfile").write_text(DOCKERFILE.format(base=base, mode=kw["mode"], extra=extra))
        docker_engine.build(ctx, f"dw-diff-{key}:latest", buildkit=True)
        saved[key] = root / f"{key}.tar"
        docker_engine.docker("save", "-o", str(saved[key]), f"dw-diff-{key}:latest")
    yield Pairs(saved)


def rows(d: ImageDiff) -> list[tuple[str, str, int, tuple[str, ...]]]:
    return [(f.path, f.status, f.delta, f.changed) for f in d.files]


def test_version_bump_of_one_dpkg_and_one_npm_package(pairs: Pairs) -> None:
    d = pairs.diff("v1", "v2")
    assert d.delta == 20 and d.shared_layers == 1  # only the busybox layer is shared
    assert rows(d) == [
        ("app/node_modules/left-pad/index.js", "modified", 20, ("size", "content")),
        ("app/package-lock.json", "modified", 0, ("content",)),
        ("var/lib/dpkg/status", "modified", 0, ("content",)),
    ]
    assert d.packages == (
        PackageChange("dpkg", "tool", "changed", "1.0", "1.1", 10240, 12288, "var/lib/dpkg/status"),
        PackageChange(
            "npm", "left-pad", "changed", "1.0.0", "1.1.0", 50, 70, "app/node_modules/left-pad"
        ),
    )
    assert [(s.status, s.a_instruction, s.delta) for s in d.steps[:2]] == [
        ("changed", "COPY status /var/lib/dpkg/status", 0),
        ("changed", "COPY app/ /app/", 20),
    ]
    # the chmod step copies run.sh up with its directory: the same layer unless the two
    # contexts' directory times differ
    (chmod,) = d.steps[2:]
    assert (chmod.a_instruction, chmod.b_instruction, chmod.delta) == (
        "RUN chmod 644 /app/run.sh", "RUN chmod 644 /app/run.sh", 0
    )  # fmt: skip
    assert chmod.status in ("same", "changed")
    assert d.config == () and d.user is None
    assert d.base_a.layers == d.base_b.layers == 1 and d.base_a.top == d.base_b.top


def test_chmod_only(pairs: Pairs) -> None:
    d = pairs.diff("v1", "chmod")
    assert d.delta == 0 and d.shared_layers == 3
    assert [(f.path, f.status, f.changed) for f in d.files] == [
        ("app/run.sh", "modified", ("mode",))
    ]
    (f,) = d.files
    assert f.a is not None and f.b is not None and (f.a.mode, f.b.mode) == (0o644, 0o755)
    assert [(s.status, s.a_instruction, s.b_instruction) for s in d.steps] == [
        ("changed", "RUN chmod 644 /app/run.sh", "RUN chmod 755 /app/run.sh")
    ]
    assert d.packages == () and d.config == ()


def test_file_moved_over_an_unread_base_then_read(pairs: Pairs) -> None:
    blind = pairs.diff("v1", "moved")
    # the old copy stays in its lower layer: docker's size grows by the moved file's bytes
    assert blind.shared_layers == 4 and blind.delta == 300
    assert rows(blind) == [("app/moved/x.txt", "added", 300, ())]
    assert blind.unresolved == ("app/data/x.txt",)  # deleted from the shared layers
    exact = pairs.diff("v1", "moved", read_base=True)
    assert exact.base_known and exact.unresolved == () and exact.assumed == ()
    assert rows(exact) == [
        ("app/data/x.txt", "removed", -300, ()),
        ("app/moved/x.txt", "added", 300, ()),
    ]
    assert sum(f.delta for f in exact.files) == 0 and exact.delta == 300
    assert [(s.status, s.b_instruction) for s in exact.steps] == [
        ("added", "RUN mkdir /app/moved && mv /app/data/x.txt /app/moved/x.txt")
    ]


def test_same_app_on_two_bases(pairs: Pairs) -> None:
    d = pairs.diff("v1", "base2")
    assert d.shared_layers == 1 and d.delta == 3000 + len("P:musl\nV:1.2.4\nI:4000\n\n")
    assert (d.base_a.layers, d.base_b.layers) == (1, 2)
    assert d.base_b.size - d.base_a.size == d.delta
    assert [(f.path, f.status, f.delta) for f in d.files] == [
        ("lib/libextra.so", "added", 3000),
        ("lib/apk/db/installed", "added", 23),
    ]
    # the busybox layer is shared and unread: it might hold an apk database of its own
    assert d.packages == () and d.unresolved == ("lib/apk/db/installed",)
    exact = pairs.diff("v1", "base2", read_base=True)
    assert exact.packages == (
        PackageChange("apk", "musl", "added", "", "1.2.4", 0, 4000, "lib/apk/db/installed"),
    )
    assert exact.files == d.files and exact.unresolved == ()
    # the second base's own RUN belongs to its base image: the base line accounts for it,
    # and only the app's steps are aligned
    assert [(s.a_instruction, s.b_instruction, s.delta) for s in d.steps] == [
        ("COPY status /var/lib/dpkg/status", "COPY status /var/lib/dpkg/status", 0),
        ("COPY app/ /app/", "COPY app/ /app/", 0),
        ("RUN chmod 644 /app/run.sh", "RUN chmod 644 /app/run.sh", 0),
    ]
    # the app's steps pair with themselves: the same layer, or rebuilt when the contexts'
    # directory times differ; either way they weigh the same
    assert {s.status for s in d.steps} <= {"same", "changed"}


def test_identical_images_from_two_media_read_no_layer(
    pairs: Pairs, docker_engine_env: DockerEngine
) -> None:
    a = open_image(pairs.image("v1"))
    b = open_image("docker-daemon:dw-diff-v1:latest")
    side_a, side_b, shared = read_sides(a, b)
    assert shared == len(a.layers) == 4
    assert all(delta is None for delta in side_a.deltas + side_b.deltas)
    d = compare(a, b)
    assert d.identical and d.delta == 0 and d.files == () and d.steps == ()
    assert d.config == ()


def test_cli_json_and_budget(pairs: Pairs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from deadweight.cli.diff import diff

    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(tmp_path / "cache"))
    args = [pairs.image("v1"), pairs.image("v2"), "--format", "json", "--max-growth-bytes", "10"]
    r = CliRunner().invoke(diff, args)
    assert r.exit_code == 1, r.output
    doc = json.loads(r.output)
    assert (doc["delta"], doc["budget"]["passed"]) == (20, False)
    r = CliRunner().invoke(
        diff, [pairs.image("v1"), pairs.image("v2"), "--file", "/app/package-lock.json"]
    )
    assert r.exit_code == 0
    assert "-" + LOCK.format(v="1.0.0") in r.output and "+" + LOCK.format(v="1.1.0") in r.output
