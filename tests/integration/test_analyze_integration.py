"""``deadweight analyze`` on real images built with BuildKit on the real engine.

Three images are built from the session's busybox base (no network) and exported with
``docker save`` (uncompressed layers) and ``skopeo copy`` to an OCI layout (gzip layers):

* ``waste``: a file deleted later, one overwritten later with new content, one rewritten
  with the same content, one copied again by a later chmod;
* ``bloat``: apt lists, a pip cache and an npm cache left behind, and npm devDependencies
  installed (recorded in node_modules/.package-lock.json);
* ``clean``: a multi-stage build that COPYs one file from a builder stage, the negative
  control.

Files are made at their real paths with known sizes, so every figure below is exact. The
real CLI is the subject: its JSON document, and the CI gate's exit codes and JUnit file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from engine_fixtures import DockerEngine, unavailable

pytestmark = pytest.mark.integration

SKOPEO = "/usr/bin/skopeo"
KiB, MiB = 1024, 1 << 20

# waste: sizes of the files each step writes
BIG, CONF_OLD, CONF_NEW, CHMODDED, SAME = 3 * MiB, 1 * MiB, 600_000, 512 * KiB, 200_000
WASTE_DOCKERFILE = f"""\
FROM {{base}}
RUN head -c {BIG} /dev/urandom > /big.bin && head -c {CONF_OLD} /dev/urandom > /conf.bin \
&& head -c {CHMODDED} /dev/urandom > /app.bin && head -c {SAME} /dev/urandom > /same.bin
RUN rm /big.bin
RUN head -c {CONF_NEW} /dev/urandom > /conf.bin
RUN chmod 0700 /app.bin
RUN cp /same.bin /same.tmp && mv /same.tmp /same.bin
"""

# bloat: caches at the paths apt, pip and npm use, and an npm project with dev dependencies
APT_PACKAGES, APT_RELEASE = 300_000, 50_000
LISTS = "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm"
PIP, NPM_CONTENT, NPM_INDEX = 250_000, 400_000, 1_000
BLOAT_DOCKERFILE = f"""\
FROM {{base}}
RUN mkdir -p /var/lib/apt/lists/partial && touch /var/lib/apt/lists/lock \
&& head -c {APT_RELEASE} /dev/urandom > {LISTS}_InRelease \
&& head -c {APT_PACKAGES} /dev/urandom > {LISTS}_main_binary-amd64_Packages
RUN mkdir -p /root/.cache/pip/http-v2/a/b \
&& head -c {PIP} /dev/urandom > /root/.cache/pip/http-v2/a/b/0f1e2d3c4b5a.body
RUN mkdir -p /root/.npm/_cacache/content-v2/sha512/ab/cd /root/.npm/_cacache/index-v5/12 \
&& head -c {NPM_CONTENT} /dev/urandom > /root/.npm/_cacache/content-v2/sha512/ab/cd/ef0123 \
&& head -c {NPM_INDEX} /dev/urandom > /root/.npm/_cacache/index-v5/12/3456
COPY app/ /app/
"""
LOCK = {
    "name": "demo",
    "version": "1.0.0",
    "lockfileVersion": 3,
    "requires": True,
    "packages": {
        "node_modules/left-pad": {"version": "1.3.0"},
        "node_modules/jest": {"version": "29.7.0", "dev": True},
        "node_modules/@types/node": {"version": "20.11.5", "dev": True},
    },
}
# app/ of the bloat image: path -> content (all different, so none are duplicates)
APP_FILES: dict[str, bytes] = {
    "package.json": json.dumps(
        {
            "name": "demo",
            "version": "1.0.0",
            "dependencies": {"left-pad": "^1.3.0"},
            "devDependencies": {"jest": "^29.7.0", "@types/node": "^20.11.5"},
        },
        indent=2,
    ).encode(),
    "server.js": b"const pad = require('left-pad');\nconsole.log(pad('x', 5));\n",
    "node_modules/.package-lock.json": json.dumps(LOCK, indent=2).encode(),
    "node_modules/left-pad/package.json": b'{"name": "left-pad", "version": "1.3.0"}\n',
    "node_modules/left-pad/index.js": b"module.exports = function leftPad() {};\n" * 40,
    "node_modules/jest/package.json": b'{"name": "jest", "version": "29.7.0"}\n',
    "node_modules/jest/build/jest.js": b"// jest runtime\n" + b"j" * 120_000,
    "node_modules/jest/bin/jest.js": b"#!/usr/bin/env node\nrequire('../build/jest');\n",
    "node_modules/@types/node/package.json": b'{"name": "@types/node", "version": "20.11.5"}\n',
    "node_modules/@types/node/index.d.ts": b"declare module 'fs';\n" + b"t" * 80_000,
}


def _under(prefix: str) -> int:
    return sum(len(data) for path, data in APP_FILES.items() if path.startswith(prefix))


JEST, TYPES_NODE, LEFT_PAD = (
    _under("node_modules/jest/"),
    _under("node_modules/@types/node/"),
    _under("node_modules/left-pad/"),
)

# clean: a builder stage makes and deletes a scratch file; the final stage COPYs one file.
APP_BIN = 700_000
CLEAN_DOCKERFILE = f"""\
FROM {{base}} AS build
RUN mkdir /out && head -c {APP_BIN} /dev/urandom > /out/app.bin \
&& head -c 2000000 /dev/urandom > /out/scratch.bin
RUN rm /out/scratch.bin

FROM {{base}}
COPY --from=build /out/app.bin /app/app.bin
"""

DOCKERFILES = {"waste": WASTE_DOCKERFILE, "bloat": BLOAT_DOCKERFILE, "clean": CLEAN_DOCKERFILE}


@dataclass(frozen=True)
class Built:
    saved: dict[str, Path]  # name -> docker save archive
    oci: Path | None  # skopeo's OCI layout holding "waste" (None: no skopeo, not in CI)
    base_size: int  # bytes of the busybox base layer, as docker counts them


def _tag(name: str) -> str:
    return f"dw-analyze-{name}:latest"


@pytest.fixture(scope="module")
def built(
    docker_engine: DockerEngine, busybox_base: str, tmp_path_factory: pytest.TempPathFactory
) -> Built:
    root = tmp_path_factory.mktemp("analyze")
    saved: dict[str, Path] = {}
    for name, dockerfile in DOCKERFILES.items():
        context = root / f"context-{name}"
        context.mkdir()
        (context / "Dockerfile").write_text(dockerfile.format(base=busybox_base))
        if name == "bloat":
            for rel, data in APP_FILES.items():
                (context / "app" / rel).parent.mkdir(parents=True, exist_ok=True)
                (context / "app" / rel).write_bytes(data)
        docker_engine.build(context, _tag(name), buildkit=True)
        saved[name] = root / f"{name}.tar"
        docker_engine.docker("save", "-o", str(saved[name]), _tag(name))
    base_size = int(docker_engine.docker("image", "inspect", "--format", "{{.Size}}", busybox_base))
    oci: Path | None = None
    if os.access(SKOPEO, os.X_OK):
        oci = root / "oci"
        proc = subprocess.run(
            [SKOPEO, "--insecure-policy", "copy", "-q", "--src-daemon-host", docker_engine.host,
             f"docker-daemon:{_tag('waste')}", f"oci:{oci}:waste"],
            env=docker_engine.env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    return Built(saved, oci, base_size)


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.out)
        return doc


def deadweight(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, ci: bool = False
) -> Run:
    """The real CLI, in its own process; CI is set only when asked."""
    exe = Path(sys.executable).with_name("deadweight")
    full = {k: v for k, v in os.environ.items() if k != "CI"}
    full["DEADWEIGHT_CACHE_DIR"] = str(cwd / "cache")
    full.update(env or {})
    if ci:
        full["CI"] = "true"
    proc = subprocess.run(
        [str(exe), "analyze", *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=300
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def json_of(spec: str, tmp_path: Path, *args: str) -> dict[str, Any]:
    r = deadweight("--format", "json", spec, *args, cwd=tmp_path)
    assert (r.code, r.err) == (0, ""), r.err
    return r.doc


def waste_items(doc: dict[str, Any]) -> list[tuple[str, int, str, int, int]]:
    return [
        (i["path"], i["bytes"], i["cause"], i["writtenBy"]["layer"], i["hiddenBy"]["layer"])
        for i in doc["waste"]["items"]
    ]


EXPECTED_WASTE = [
    ("/big.bin", BIG, "deleted", 1, 2),
    ("/conf.bin", CONF_OLD, "overwritten_changed", 1, 3),
    ("/app.bin", CHMODDED, "metadata_only", 1, 4),
    ("/same.bin", SAME, "overwritten_same", 1, 5),
]
RECLAIMABLE = BIG + CONF_OLD + CHMODDED + SAME


def test_waste_by_cause_is_exact(built: Built, tmp_path: Path) -> None:
    doc = json_of(f"docker-archive:{built.saved['waste']}", tmp_path)
    assert doc["waste"]["reclaimable"] == RECLAIMABLE == 4_918_592
    assert waste_items(doc) == EXPECTED_WASTE
    assert doc["waste"]["byCause"] == {
        "deleted": BIG,
        "overwritten_changed": CONF_OLD,
        "overwritten_same": SAME,
        "metadata_only": CHMODDED,
        "opaque": 0,
    }
    instructions = [i["writtenBy"]["instruction"] for i in doc["waste"]["items"]]
    assert {i.split(" # buildkit")[0] for i in instructions} == {
        f"RUN /bin/sh -c head -c {BIG} /dev/urandom > /big.bin && head -c {CONF_OLD} "
        f"/dev/urandom > /conf.bin && head -c {CHMODDED} /dev/urandom > /app.bin && "
        f"head -c {SAME} /dev/urandom > /same.bin"
    }
    assert (
        doc["waste"]["items"][0]["hiddenBy"]["instruction"]
        == "RUN /bin/sh -c rm /big.bin # buildkit"
    )
    # every layer's size as docker counts it; reclaimable is exactly what a squash drops
    assert [lr["size"] for lr in doc["layers"]] == [
        built.base_size,
        BIG + CONF_OLD + CHMODDED + SAME,
        0,
        CONF_NEW,
        CHMODDED,
        SAME,
    ]
    assert doc["size"] == built.base_size + BIG + CONF_OLD + 2 * CHMODDED + 2 * SAME + CONF_NEW
    assert doc["size"] - doc["finalSize"] == RECLAIMABLE
    assert [lr["wasted"] for lr in doc["layers"]] == [0, RECLAIMABLE, 0, 0, 0, 0]
    assert doc["bloat"]["byCategory"] == {}
    assert [r["id"] for r in doc["recommendations"]] == [
        "delete-in-same-step",
        "write-once",
        "chown-chmod-at-copy",
        "drop-repeated-copy",
    ]
    assert [r["bytes"] for r in doc["recommendations"]] == [BIG, CONF_OLD, CHMODDED, SAME]
    # dive counts every copy of a path seen twice, the surviving one included; a deleted
    # file's whiteout counts 0
    dive = doc["diveCompatible"]
    assert dive["wastedBytes"] == BIG + CONF_OLD + CONF_NEW + 2 * CHMODDED + 2 * SAME
    assert [(r["path"], r["count"], r["cumulativeSize"]) for r in dive["inefficiencies"]][:4] == [
        ("/big.bin", 2, BIG),
        ("/conf.bin", 2, CONF_OLD + CONF_NEW),
        ("/app.bin", 2, 2 * CHMODDED),
        ("/same.bin", 2, 2 * SAME),
    ]


def test_excluding_the_base_layer(built: Built, tmp_path: Path) -> None:
    doc = json_of(f"docker-archive:{built.saved['waste']}", tmp_path, "--exclude-base", "1")
    assert (doc["baseLayers"], doc["waste"]["reclaimable"]) == (1, RECLAIMABLE)
    assert doc["scopeSize"] == doc["size"] - built.base_size


def test_skopeo_oci_layout_gives_the_same_figures(built: Built, tmp_path: Path) -> None:
    if built.oci is None:
        unavailable(f"skopeo is not installed ({SKOPEO}): apt-get install skopeo")
    assert built.oci is not None
    from_oci = json_of(f"oci:{built.oci}:waste", tmp_path)
    from_save = json_of(f"docker-archive:{built.saved['waste']}", tmp_path)
    assert waste_items(from_oci) == EXPECTED_WASTE
    # the same layers (by diff_id) give the same document, whatever the medium
    for key in ("size", "finalSize", "layers", "waste", "bloat", "diveCompatible"):
        assert from_oci[key] == from_save[key], key


def test_bloat_categories_and_dev_dependencies(built: Built, tmp_path: Path) -> None:
    doc = json_of(f"docker-archive:{built.saved['bloat']}", tmp_path)
    assert doc["waste"]["reclaimable"] == 0
    assert doc["bloat"]["byCategory"] == {
        "apt-cache": APT_PACKAGES + APT_RELEASE,
        "pip-cache": PIP,
        "npm-cache": NPM_CONTENT + NPM_INDEX,
        "npm-dev-dependencies": JEST + TYPES_NODE,
    }
    assert [(b["category"], b["path"], b["bytes"], b["files"]) for b in doc["bloat"]["items"]] == [
        ("npm-cache", "/root/.npm", NPM_CONTENT + NPM_INDEX, 2),
        ("apt-cache", "/var/lib/apt/lists", APT_PACKAGES + APT_RELEASE, 2),
        ("pip-cache", "/root/.cache/pip", PIP, 1),
        ("npm-dev-dependencies", "/app/node_modules/jest", JEST, 3),
        ("npm-dev-dependencies", "/app/node_modules/@types/node", TYPES_NODE, 2),
    ]
    assert doc["bloat"]["duplicates"] == []
    assert sorted(
        (p["name"], p["version"], p["dev"], p["bytes"], p["path"])
        for p in doc["packages"]
        if p["ecosystem"] == "npm"
    ) == [
        ("@types/node", "20.11.5", True, TYPES_NODE, "/app/node_modules/@types/node"),
        ("jest", "29.7.0", True, JEST, "/app/node_modules/jest"),
        ("left-pad", "1.3.0", False, LEFT_PAD, "/app/node_modules/left-pad"),
    ]
    assert [(r["id"], r["bytes"]) for r in doc["recommendations"]] == [
        ("npm-cache-clean", NPM_CONTENT + NPM_INDEX),
        ("apt-clean", APT_PACKAGES + APT_RELEASE),
        ("pip-no-cache", PIP),
        ("npm-omit-dev", JEST + TYPES_NODE),
    ]


def test_the_clean_multi_stage_image_has_no_waste(built: Built, tmp_path: Path) -> None:
    doc = json_of(f"docker-archive:{built.saved['clean']}", tmp_path)
    assert doc["size"] == doc["finalSize"] == built.base_size + APP_BIN
    assert doc["waste"]["reclaimable"] == 0
    assert doc["waste"]["items"] == []
    assert doc["bloat"] == {"byCategory": {}, "items": [], "duplicates": []}
    assert doc["recommendations"] == []
    assert (doc["efficiency"], doc["wastedPercent"]) == (1.0, 0.0)
    dive = doc["diveCompatible"]
    assert (dive["efficiency"], dive["wastedBytes"], dive["userSize"]) == (1.0, 0, APP_BIN)


def test_ci_gate_fails_on_waste_and_writes_junit(built: Built, tmp_path: Path) -> None:
    r = deadweight(
        f"docker-archive:{built.saved['waste']}", "--ci", "--junit", "junit.xml", cwd=tmp_path
    )
    assert r.code == 1, r.err
    lines = r.out.splitlines()
    assert lines[-1] == "Result: FAIL"
    assert "  SKIP: max-size: disabled" in lines
    assert "  SKIP: max-wasted-bytes: disabled" in lines
    assert any(
        line.startswith("  FAIL: max-wasted-percent: too many bytes wasted relative to the image")
        for line in lines
    )
    assert any(
        line.startswith("  FAIL: min-efficiency: image efficiency is too low") for line in lines
    )
    suite = ElementTree.parse(tmp_path / "junit.xml").getroot()[0]
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("5", "2", "3")
    assert [c.get("name") for c in suite if c.find("failure") is not None] == [
        "max-wasted-percent",
        "min-efficiency",
    ]


def test_ci_gate_passes_on_the_clean_image_when_ci_is_set(built: Built, tmp_path: Path) -> None:
    r = deadweight(
        f"docker-archive:{built.saved['clean']}", "--junit", "junit.xml", cwd=tmp_path, ci=True
    )
    assert r.code == 0, r.out + r.err
    assert r.out.splitlines()[-1] == "Result: PASS"
    assert "  PASS: min-efficiency: 1.0000 (limit 0.9)" in r.out.splitlines()
    suite = ElementTree.parse(tmp_path / "junit.xml").getroot()[0]
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("5", "0", "3")


def test_ci_gate_with_a_dive_ci_file_and_forbidden_categories(built: Built, tmp_path: Path) -> None:
    (tmp_path / ".dive-ci").write_text(
        "rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 1MB\n"
        "  highestUserWastedPercent: disabled\n"
    )
    spec = f"docker-archive:{built.saved['bloat']}"
    r = deadweight(spec, "--ci", "--json-report", "report.json", cwd=tmp_path)
    assert r.code == 0, r.out + r.err
    r = deadweight(
        spec, "--ci", "--forbid", "apt-cache", "--forbid", "temp", "--junit", "j.xml", cwd=tmp_path
    )
    assert r.code == 1, r.err
    assert (
        "  FAIL: forbid:apt-cache: apt-cache found in the final image "
        f"({APT_PACKAGES + APT_RELEASE} bytes)" in r.out.splitlines()
    )
    assert "  PASS: forbid:temp: 0 (limit 0)" in r.out.splitlines()
    report = json.loads((tmp_path / "report.json").read_text())
    assert [(x["rule"], x["status"]) for x in report["ci"]["rules"]] == [
        ("max-size", "SKIP"),
        ("max-wasted-bytes", "PASS"),
        ("max-wasted-percent", "SKIP"),
        ("min-efficiency", "PASS"),
        ("max-layers", "SKIP"),
    ]
    suite = ElementTree.parse(tmp_path / "j.xml").getroot()[0]
    assert [c.get("name") for c in suite if c.find("failure") is not None] == ["forbid:apt-cache"]
