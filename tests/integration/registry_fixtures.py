"""Real distribution registries for integration tests, and images pushed into them.

``running_registry(root)`` starts Debian's ``docker-registry serve`` on a free 127.0.0.1 port
with filesystem storage under ``root`` (with ``user``/``password``: behind ``auth.htpasswd``,
a bcrypt entry), waits until ``/v2/`` answers, and stops it by pid on exit. ``OciImage`` and
``write_oci_layout`` build small OCI layouts in Python (gzip layers, one or two platforms),
and ``skopeo_copy`` pushes them. ``RegistryServer`` has the ``host``/``user``/``password``
fields of ``images_fixtures.Registry``. Without the binaries, ``require_tools()`` skips, or
fails when ``CI`` is set: in CI nothing is skipped silently.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import secrets
import signal
import socket
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REGISTRY_BIN = "/usr/bin/docker-registry"
SKOPEO = "/usr/bin/skopeo"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
REF_NAME = "org.opencontainers.image.ref.name"


def missing_reason() -> str | None:
    """Why a real registry cannot be used here, or None."""
    for path, package in ((REGISTRY_BIN, "docker-registry"), (SKOPEO, "skopeo")):
        if not os.access(path, os.X_OK):
            return f"{path} is not installed: apt-get install {package} (scripts/bootstrap)"
    try:
        import bcrypt  # noqa: F401
    except ImportError:
        return "the bcrypt package is not installed: pip install -e '.[dev]'"
    return None


def require_tools() -> None:
    """Skip without the registry or skopeo, or fail when CI is set."""
    reason = missing_reason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI: {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class RegistryServer:
    """A running registry: ``host`` is ``127.0.0.1:PORT``; creds when it wants them."""

    host: str
    pid: int
    root: Path
    user: str = ""
    password: str = ""

    @property
    def auth(self) -> bool:
        return bool(self.user)

    def docker_config(self, directory: Path, password: str | None = None) -> Path:
        """Write a DOCKER_CONFIG directory holding this registry's credentials."""
        directory.mkdir(parents=True, exist_ok=True)
        pair = f"{self.user}:{self.password if password is None else password}"
        auth = base64.b64encode(pair.encode()).decode()
        doc = {"auths": {self.host: {"auth": auth}}}
        (directory / "config.json").write_text(json.dumps(doc))
        return directory


def _config(root: Path, port: int, user: str, password: str) -> Path:
    lines = [
        "version: 0.1",
        "log:",
        "  level: warn",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {root / 'data'}",
        "http:",
        f"  addr: 127.0.0.1:{port}",
        f"  secret: {secrets.token_hex(16)}",
    ]
    if user:
        import bcrypt

        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
        (root / "htpasswd").write_text(f"{user}:{hashed}\n")
        lines += [
            "auth:",
            "  htpasswd:",
            "    realm: deadweight-test",
            f"    path: {root / 'htpasswd'}",
        ]
    path = root / "config.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2) as response:
            return int(response.status) == 200
    except urllib.error.HTTPError as exc:
        return exc.code == 401
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(STOP_TIMEOUT)


@contextmanager
def running_registry(root: Path, user: str = "", password: str = "") -> Iterator[RegistryServer]:
    """A registry serving from ``root`` until the block ends (stopped by its pid)."""
    root.mkdir(parents=True, exist_ok=True)
    log_path = root / "registry.log"
    for _ in range(3):  # another process may take the free port before the registry binds it
        port = free_port()
        config = _config(root, port, user, password)
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [REGISTRY_BIN, "serve", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while process.poll() is None and time.monotonic() < deadline and not _answers(port):
            time.sleep(0.05)
        if process.poll() is None and _answers(port):
            break
        _stop(process)
        if "address already in use" not in log_path.read_text(errors="replace"):
            tail = log_path.read_text(errors="replace")[-2000:]
            pytest.fail(f"docker-registry did not start on port {port}:\n{tail}", pytrace=False)
    else:
        pytest.fail("docker-registry found no free port in 3 tries", pytrace=False)
    try:
        yield RegistryServer(f"127.0.0.1:{port}", process.pid, root, user, password)
    finally:
        _stop(process)


def skopeo_copy(
    source: str, dest: str, workdir: Path, *, all_images: bool = False, creds: str = ""
) -> None:
    """``skopeo copy`` to a plain-http registry, with an accept-anything policy of our own."""
    policy = workdir / "policy.json"
    if not policy.exists():
        policy.write_text('{"default": [{"type": "insecureAcceptAnything"}]}')
    args = [SKOPEO, "--policy", str(policy), "copy", "--quiet", "--dest-tls-verify=false"]
    if all_images:
        args.append("--all")
    if creds:
        args += ["--dest-creds", creds]
    result = subprocess.run([*args, source, dest], capture_output=True, timeout=120, check=False)
    if result.returncode != 0:
        pytest.fail(f"skopeo copy {source} {dest} failed: {result.stderr.decode()}", pytrace=False)


def skopeo_inspect(ref: str, *config: str) -> bytes:
    """Raw manifest (or, with ``"--config"``, raw config) of ``docker://ref`` as skopeo sees it."""
    args = [SKOPEO, "inspect", "--raw", *config, "--tls-verify=false", f"docker://{ref}"]
    result = subprocess.run(args, capture_output=True, timeout=60, check=False)
    if result.returncode != 0:
        pytest.fail(f"skopeo inspect {ref} failed: {result.stderr.decode()}", pytrace=False)
    return result.stdout


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _canonical(doc: object) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


@dataclass
class OciImage:
    """One platform's image as written into a layout: the exact bytes and their digests."""

    arch: str
    files: list[dict[str, bytes]]
    layers: list[bytes] = field(default_factory=list)  # gzip blobs
    diff_ids: list[str] = field(default_factory=list)
    config: bytes = b""
    manifest: bytes = b""

    def build(self) -> OciImage:
        for files in self.files:
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
                for name, data in files.items():
                    info = tarfile.TarInfo(name)
                    info.size, info.mode, info.mtime = len(data), 0o644, 1_700_000_000
                    tar.addfile(info, io.BytesIO(data))
            self.diff_ids.append(sha(buf.getvalue()))
            self.layers.append(gzip.compress(buf.getvalue(), mtime=0))
        self.config = _canonical(
            {
                "architecture": self.arch,
                "os": "linux",
                "created": "2024-05-06T07:08:09Z",
                "config": {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh"]},
                "rootfs": {"type": "layers", "diff_ids": self.diff_ids},
                "history": [
                    {"created": "2024-05-06T07:08:09Z", "created_by": f"ADD layer{i}"}
                    for i in range(len(self.files))
                ],
            }
        )
        self.manifest = _canonical(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": _descriptor(OCI_CONFIG, self.config),
                "layers": [_descriptor(OCI_LAYER_GZIP, blob) for blob in self.layers],
            }
        )
        return self

    @property
    def digest(self) -> str:
        return sha(self.manifest)


def _descriptor(media_type: str, blob: bytes) -> dict[str, object]:
    return {"mediaType": media_type, "digest": sha(blob), "size": len(blob)}


def write_oci_layout(directory: Path, tag: str, images: list[OciImage]) -> bytes | None:
    """An OCI layout whose ``tag`` names one image, or an index of several (returned)."""
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def put(data: bytes) -> None:
        (blobs / sha(data).split(":", 1)[1]).write_bytes(data)

    for image in images:
        put(image.config)
        put(image.manifest)
        for layer in image.layers:
            put(layer)
    index: bytes | None = None
    if len(images) == 1:
        top = {**_descriptor(OCI_MANIFEST, images[0].manifest), "annotations": {REF_NAME: tag}}
    else:
        entries = [
            {
                **_descriptor(OCI_MANIFEST, image.manifest),
                "platform": {"os": "linux", "architecture": image.arch},
            }
            for image in images
        ]
        index = _canonical({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})
        put(index)
        top = {**_descriptor(OCI_INDEX, index), "annotations": {REF_NAME: tag}}
    (directory / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (directory / "index.json").write_bytes(
        _canonical({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [top]})
    )
    return index
