"""Package inventories: dpkg, apk, npm lockfiles, Python dist-info; bytes and layers."""

from __future__ import annotations

import io
import json

from deadweight import static
from deadweight.analysis.packages import Package, capture, dev_dirs, inventory
from deadweight.filetree import LayerDelta, read_delta, stack


def deltas(*layers: list[static.Entry]) -> list[LayerDelta]:
    return [read_delta(io.BytesIO(static.tar_bytes(e)), capture=capture) for e in layers]


def packages(*layers: list[static.Entry]) -> tuple[Package, ...]:
    ds = deltas(*layers)
    captured = [(i, c.path, c.data) for i, d in enumerate(ds) for c in d.captured]
    return inventory(stack(ds), captured)


def dpkg(*pkgs: tuple[str, str, int]) -> bytes:
    return "".join(
        f"Package: {n}\nStatus: install ok installed\nVersion: {v}\nInstalled-Size: {s}\n"
        f"Description: x\n continued line\n\n"
        for n, v, s in pkgs
    ).encode()


def test_capture_selects_only_small_metadata_files() -> None:
    assert capture("var/lib/dpkg/status") == 32 << 20
    assert capture("lib/apk/db/installed") == 32 << 20
    assert capture("app/package-lock.json") == 32 << 20
    assert capture("app/node_modules/.package-lock.json") == 32 << 20
    assert capture("app/node_modules/x/package-lock.json") == 0
    assert capture("app/node_modules/x/node_modules/.package-lock.json") == 0
    assert capture("usr/lib/python3.12/site-packages/rich-13.7.1.dist-info/METADATA") == 16 << 10
    assert capture("usr/lib/python3.12/site-packages/rich-13.7.1.dist-info/RECORD") == 4 << 20
    assert capture("usr/bin/python3") == 0


def test_dpkg_packages_with_the_layer_that_installed_each() -> None:
    found = packages(
        [static.File("var/lib/dpkg/status", dpkg(("libc6", "2.36", 12000), ("bash", "5.2", 7000)))],
        [
            static.File(
                "var/lib/dpkg/status",
                dpkg(("libc6", "2.36", 12000), ("bash", "5.2.15", 7100), ("curl", "8.5", 500))
                + b"Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n",
            )
        ],
        [static.File("unrelated", b"x")],
    )
    assert found == (
        Package("dpkg", "libc6", "2.36", 12000 * 1024, 0, "var/lib/dpkg/status", declared=True),
        Package("dpkg", "bash", "5.2.15", 7100 * 1024, 1, "var/lib/dpkg/status", declared=True),
        Package("dpkg", "curl", "8.5", 500 * 1024, 1, "var/lib/dpkg/status", declared=True),
    )


def test_apk_installed_db() -> None:
    db = (
        b"C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nI:383152\n\n"
        b"C:Q1def=\nP:busybox\nV:1.36.1-r5\nI:924123\n\n"
    )
    found = packages([static.File("lib/apk/db/installed", db)])
    assert found == (
        Package("apk", "busybox", "1.36.1-r5", 924123, 0, "lib/apk/db/installed", declared=True),
        Package("apk", "musl", "1.2.4-r2", 383152, 0, "lib/apk/db/installed", declared=True),
    )


def test_npm_lockfile_with_dev_dependencies_and_installed_bytes() -> None:
    lock = json.dumps(
        {
            "lockfileVersion": 3,
            "packages": {
                "": {"name": "app"},
                "node_modules/express": {"version": "4.19.2"},
                "node_modules/jest": {"version": "29.7.0", "dev": True},
                "node_modules/@types/node": {"version": "20.1.0", "devOptional": True},
                "node_modules/absent": {"version": "1.0.0"},
            },
        }
    ).encode()
    found = packages(
        [static.File("app/package-lock.json", lock)],
        [
            static.File("app/node_modules/express/index.js", b"e" * 300),
            static.File("app/node_modules/jest/index.js", b"j" * 700),
            static.File("app/node_modules/@types/node/index.d.ts", b"t" * 50),
        ],
    )
    assert found == (
        Package("npm", "jest", "29.7.0", 700, 1, "app/node_modules/jest", dev=True),
        Package("npm", "express", "4.19.2", 300, 1, "app/node_modules/express"),
        Package("npm", "@types/node", "20.1.0", 50, 1, "app/node_modules/@types/node", dev=True),
    )
    assert dev_dirs(found) == ("app/node_modules/@types/node", "app/node_modules/jest")


def test_python_dist_info_counts_the_files_its_record_lists() -> None:
    site = "usr/lib/python3.12/site-packages"
    record = (
        b"rich/__init__.py,sha256=x,10\nrich/console.py,sha256=y,90\n"
        b"rich-13.7.1.dist-info/METADATA,,\n../../../bin/rich,,\n"
    )
    meta = b"Metadata-Version: 2.1\nName: rich\nVersion: 13.7.1\n\nName: not-this\n"
    found = packages(
        [
            static.File(f"{site}/rich/__init__.py", b"i" * 10),
            static.File(f"{site}/rich/console.py", b"c" * 90),
            static.File(f"{site}/rich-13.7.1.dist-info/METADATA", meta),
            static.File(f"{site}/rich-13.7.1.dist-info/RECORD", record),
            static.File("usr/bin/rich", b"b" * 5),
        ],
    )
    assert found == (
        Package(
            "python", "rich", "13.7.1", 10 + 90 + len(meta) + 5, 0, f"{site}/rich-13.7.1.dist-info"
        ),
    )
