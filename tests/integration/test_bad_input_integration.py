"""Bad input through the real command line: one line on stderr, exit 3 (2 for usage), no
traceback, and the input left as it was.

Every broken input starts from a real one of this session (images_fixtures.py): a docker save
archive cut short, a skopeo OCI layout with one layer byte flipped, a layout whose manifest
names an unknown media type or a config that is not JSON (digests rewritten consistently, so
only the named fault is there), and real registries answering 401 and 404, or a port where
nothing listens. 429 and 500 are covered by unit tests against a fake server.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from images_fixtures import REGISTRY_REPOS, Exports, Tools, tree_digest

pytestmark = pytest.mark.integration

COMMANDS = ("history", "images", "inspect")


@dataclass(frozen=True)
class Case:
    spec: str
    code: int = 3
    inputs: tuple[Path, ...] = ()  # must be byte-identical afterwards
    env: dict[str, str] = field(default_factory=dict)
    message: str = ""  # a fragment the one-line message must hold (case-insensitive)


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Layout:
    """A writable copy of the session's OCI layout, edited with consistent digests."""

    def __init__(self, source: Path, target: Path, ref: str) -> None:
        shutil.copytree(source, target)
        self.root, self.ref = target, ref
        self.index = json.loads((target / "index.json").read_bytes())
        (self.entry,) = [
            d
            for d in self.index["manifests"]
            if d["annotations"]["org.opencontainers.image.ref.name"] == ref
        ]
        self.manifest = json.loads(self.blob(self.entry["digest"]))

    def blob_path(self, digest: str) -> Path:
        return self.root / "blobs" / "sha256" / digest.removeprefix("sha256:")

    def blob(self, digest: str) -> bytes:
        return self.blob_path(digest).read_bytes()

    def put(self, data: bytes) -> dict[str, object]:
        digest = _sha(data)
        self.blob_path(digest).write_bytes(data)
        return {"digest": digest, "size": len(data)}

    def save_manifest(self) -> None:
        """Write the edited manifest as a new blob and point index.json at it."""
        self.entry.update(self.put(json.dumps(self.manifest).encode()))
        (self.root / "index.json").write_text(json.dumps(self.index))

    @property
    def spec(self) -> str:
        return f"oci:{self.root}:{self.ref}"


def refused_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def cases(exported_images: Exports, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    work = tmp_path_factory.mktemp("bad-input")
    out: dict[str, Case] = {}
    bk = exported_images.images["bk"]

    absent = work / "absent" / "image.tar"
    out["missing-file"] = Case(str(absent), message="absent/image.tar")
    out["missing-file-archive"] = Case(f"docker-archive:{absent}", message="absent/image.tar")
    out["missing-layout"] = Case(f"oci:{work / 'no-layout'}:x", message="no-layout")

    text = work / "notes.tar"
    text.write_text("this is not an image archive\n" * 40)
    out["not-an-archive"] = Case(str(text), inputs=(text,))
    out["not-an-archive-docker"] = Case(f"docker-archive:{text}", inputs=(text,))
    plain = work / "plain.tar"
    subprocess.run(["tar", "-cf", str(plain), "-C", str(work), "notes.tar"], check=True)
    out["tar-without-image"] = Case(str(plain), inputs=(plain,))

    saved = exported_images.save["bk"].read_bytes()
    for name, cut in (("truncated-archive", len(saved) // 2), ("truncated-header", 700)):
        path = work / f"{name}.tar"
        path.write_bytes(saved[:cut])
        out[name] = Case(f"docker-archive:{path}", inputs=(path,))

    flipped = Layout(exported_images.oci, work / "flipped", bk.name)
    biggest = max(flipped.manifest["layers"], key=lambda d: d["size"])
    data = bytearray(flipped.blob(biggest["digest"]))
    data[len(data) // 2] ^= 0x40
    flipped.blob_path(biggest["digest"]).write_bytes(bytes(data))
    out["layer-byte-flipped"] = Case(flipped.spec, inputs=(flipped.root,), message="digest")

    unknown = Layout(exported_images.oci, work / "unknown-media-type", bk.name)
    unknown.manifest["layers"][-1]["mediaType"] = "application/vnd.example.unknown.v1+tar"
    unknown.save_manifest()
    out["unknown-media-type"] = Case(
        unknown.spec, inputs=(unknown.root,), message="application/vnd.example.unknown.v1+tar"
    )

    broken = Layout(exported_images.oci, work / "broken-config", bk.name)
    raw = broken.blob(broken.manifest["config"]["digest"])
    broken.manifest["config"].update(broken.put(raw[: len(raw) // 2]))
    broken.save_manifest()
    out["broken-config-json"] = Case(broken.spec, inputs=(broken.root,))

    garbage = Layout(exported_images.oci, work / "broken-manifest", bk.name)
    garbage.entry.update(garbage.put(b'{"schemaVersion": 2, "config": {'))
    (garbage.root / "index.json").write_text(json.dumps(garbage.index))
    out["broken-manifest-json"] = Case(garbage.spec, inputs=(garbage.root,))

    anon = exported_images.registries["anon"]
    auth = exported_images.registries["auth"]
    empty = {"DOCKER_CONFIG": str(exported_images.docker_config_empty)}
    out["invalid-reference"] = Case(f"docker://{anon.host}/Not/Lower:case", code=2)
    out["invalid-reference-bare"] = Case("no spaces allowed:in:names", code=2)
    out["invalid-reference-daemon"] = Case("docker-daemon:Upper:latest", code=2)
    repo = REGISTRY_REPOS["bk"]
    out["registry-401"] = Case(
        f"docker://{auth.host}/{repo}:latest", env=empty, message="authentication required"
    )
    wrong = auth.docker_config(work / "wrong-password", password="not-the-password")
    out["registry-401-wrong-password"] = Case(
        f"docker://{auth.host}/{repo}:latest", env={"DOCKER_CONFIG": str(wrong)}, message="401"
    )
    out["registry-404-tag"] = Case(f"docker://{anon.host}/{repo}:no-such-tag", env=empty)
    out["registry-404-repo"] = Case(f"docker://{anon.host}/dw/no-such-repo:latest", env=empty)
    out["registry-not-answering"] = Case(
        f"docker://127.0.0.1:{refused_port()}/{repo}:latest", env=empty
    )
    return out


CASE_IDS = (
    "missing-file", "missing-file-archive", "missing-layout",
    "not-an-archive", "not-an-archive-docker", "tar-without-image",
    "truncated-archive", "truncated-header", "layer-byte-flipped",
    "unknown-media-type", "broken-config-json", "broken-manifest-json",
    "invalid-reference", "invalid-reference-bare", "invalid-reference-daemon",
    "registry-401", "registry-401-wrong-password", "registry-404-tag", "registry-404-repo",
    "registry-not-answering",
)  # fmt: skip


def check_failure(proc: subprocess.CompletedProcess[bytes], case: Case) -> str:
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("deadweight: error: "), err
    assert "internal error" not in lines[0], err
    assert proc.returncode == case.code, err
    assert proc.stdout == b""
    if case.message:
        assert case.message.lower() in lines[0].lower(), err
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case_id", CASE_IDS)
def test_bad_input_is_one_line_and_exit_code(
    tools: Tools,
    cases: dict[str, Case],
    case_id: str,
    command: str,
    tmp_path: Path,
) -> None:
    case = cases[case_id]
    before = {p: tree_digest(p) for p in case.inputs}
    # A fresh layer-size store: sizes remembered from the intact image would hide a bad blob.
    env = {**case.env, "DEADWEIGHT_CACHE_DIR": str(tmp_path / "cache")}
    proc = tools.deadweight(command, case.spec, env=env, check=False)
    check_failure(proc, case)
    assert {p: tree_digest(p) for p in case.inputs} == before


def test_a_flipped_layer_byte_is_harmless_when_no_layer_is_read(
    tools: Tools, cases: dict[str, Case], tmp_path: Path
) -> None:
    """Only the config is needed for --raw: the corrupt layer is not read, so no error."""
    case = cases["layer-byte-flipped"]
    env = {"DEADWEIGHT_CACHE_DIR": str(tmp_path / "cache")}
    proc = tools.deadweight("inspect", "--raw", "config", case.spec, env=env, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout)["rootfs"]["type"] == "layers"
