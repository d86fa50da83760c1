"""Real images built once per session, and exported to every medium deadweight reads.

``built_images`` builds one Dockerfile twice on the private engine (``engine_fixtures``):
with BuildKit and with the classic builder, whose history has an image ID on every row.
``exported_images`` then writes each image to every medium: ``docker save`` (one image, several
images, the classic image with its parent images), ``skopeo copy`` to ``oci:``,
``oci-archive:`` and two real registries (anonymous and htpasswd), and pulls the registry
copies back into the engine so that ``/usr/bin/docker`` can be the oracle for them too.

``Medium`` names one image on one medium: how deadweight is asked for it, which name docker
knows it by, and what the medium cannot carry (docker-formats.md §3.2, §8.4).

Import the fixtures into ``conftest.py``; the helpers (``run_deadweight``, ``run_docker``,
``tree_digest``) are shared by the integration test modules.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from engine_fixtures import DOCKER_CLI, DockerEngine, log_tail, unavailable
from registry_fixtures import RegistryServer, require_tools, running_registry

SKOPEO = "/usr/bin/skopeo"
MISSING = "<missing>"
# The newest image must be older than this before outputs are compared: from one minute on,
# CREATED words change once a minute (docker-formats.md §5.2), not every second.
SETTLED_AGE = 62.0

# No "# syntax=" line: the engine cannot pull a frontend image, and the frontend built into
# 20.10 does not know heredocs ("unknown instruction"), so there is no heredoc RUN here.
# The RUN with non-ASCII text holds a real TAB and a real BEL (U+0007) and comes before the
# ARG so that BuildKit's "|1 FLAVOUR=plain" prefix does not push it past the 45-column cut.
DOCKERFILE = """\
FROM {base} AS builder
ARG GREETING=bonjour
RUN mkdir -p /out && echo "$GREETING from the builder" > /out/built.txt \
&& head -c 250000 /dev/urandom > /out/noise.bin
RUN ["/bin/sh", "-c", "echo json-form > /out/json.txt"]

FROM {base}
LABEL org.example.title="deadweight fixture" org.example.unicode="h\u00e9llo w\u00f6rld"
ENV APP_HOME=/srv/app GREETING="h\u00e9llo w\u00f6rld"
WORKDIR /srv/app
COPY hello.txt ./
ADD data.bin /srv/data/
RUN echo "\u65e5\u672c\u8a9e \u00e9\ttab\x07bell" > unicode.txt
ARG FLAVOUR=plain
RUN printf 'temporary file\\n' > doomed.txt && printf 'version one\\n' > overwritten.txt \
&& head -c 70000 /dev/urandom > doomed.bin
RUN rm doomed.txt doomed.bin && printf 'version two, longer\\n' > overwritten.txt
RUN ["/bin/sh", "-c", "echo json-run > json-run.txt"]
COPY --from=builder /out/ /srv/app/from-builder/
RUN echo 'app:x:1000:1000:app:/srv/app:/bin/sh' >> /etc/passwd && chown -R 1000:1000 /srv/app
USER app
EXPOSE 8080 9090/udp
VOLUME /srv/app/state
ENTRYPOINT ["/bin/sh", "-c"]
CMD echo "shell form $APP_HOME"
"""

# key → (DOCKER_BUILDKIT, tags); the first tag is the image's main name.
IMAGES: dict[str, tuple[bool, tuple[str, ...]]] = {
    "bk": (True, ("dw-bk:latest", "dw-bk:v1.10", "dw-bk:v1.9", "dw-alias:bk")),
    "classic": (False, ("dw-classic:latest", "dw-classic:1.0")),
}
REGISTRY_REPOS = {"bk": "dw/bk", "classic": "dw/classic"}
REGISTRY_TAGS = {"bk": ("latest", "v1.9"), "classic": ("latest",)}
REGISTRY_USER, REGISTRY_PASSWORD = "deadweight", "s3cret-pass"


def deadweight_command() -> list[str]:
    script = Path(sys.executable).with_name("deadweight")
    if script.exists():
        return [str(script)]
    found = shutil.which("deadweight")
    if found:
        return [found]
    return [sys.executable, "-c", "from deadweight.cli import main; main()"]


def tree_digest(path: Path) -> str:
    """One sha256 over a file, or over every file (names, modes and bytes) of a directory."""
    h = hashlib.sha256()
    paths = [path] if path.is_file() else sorted(p for p in path.rglob("*"))
    for p in paths:
        h.update(str(p.relative_to(path.parent)).encode() + b"\0")
        h.update(oct(p.lstat().st_mode).encode() + b"\0")
        if p.is_file() and not p.is_symlink():
            with open(p, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class BuiltImage:
    key: str
    buildkit: bool
    id: str
    tags: tuple[str, ...]
    ancestors: tuple[str, ...]  # IDs the engine shows below the top row, without <missing>
    rows: int  # history rows

    @property
    def name(self) -> str:
        return self.tags[0]


@dataclass(frozen=True)
class Medium:
    """One image on one medium, and what docker knows about the same image."""

    key: str  # medium key, e.g. "oci-archive"
    image: str  # BuiltImage key
    spec: str  # the IMAGE argument for deadweight
    docker_ref: str  # the name docker knows the same image by
    repo_tags: tuple[str, ...]  # the tags this medium carries for the image
    image_id: str  # the ID deadweight must print: docker's, or the config digest skopeo wrote
    ids_below_top: bool  # whether the medium links parents (history IDs below the top row)
    docker_config: bool  # whether the config is docker's bytes (else skopeo's OCI rewrite)
    env: Mapping[str, str] = field(default_factory=dict)  # extra environment for both tools

    @property
    def id(self) -> str:
        return f"{self.key}-{self.image}"


@dataclass
class Exports:
    """Every file, directory and registry the session's images were exported to."""

    root: Path
    images: dict[str, BuiltImage]
    save: dict[str, Path]  # key → docker save of all the image's tags in its main repository
    save_multi: Path  # dw-bk:latest dw-bk:v1.9 dw-classic:latest dw-classic:1.0
    save_multi_tags: tuple[str, ...]
    save_alias: Path  # dw-bk:latest and dw-alias:bk: one image, two repositories
    save_parents: Path  # dw-classic:latest with every ancestor (the base by its tag)
    parents_linked: bool  # manifest.json of save_parents has "Parent" entries
    oci: Path  # one layout holding both images, ref names "dw-bk:latest", "dw-classic:latest"
    oci_ids: dict[str, str]  # key → config digest that skopeo wrote
    oci_manifest_digests: dict[str, str]
    oci_archive: dict[str, Path]
    oci_archive_ids: dict[str, str]
    registries: dict[str, RegistryServer]  # "anon", "auth"
    docker_config_auth: Path  # a DOCKER_CONFIG dir with credentials for the auth registry
    docker_config_empty: Path  # a DOCKER_CONFIG dir without any
    cache_dir: Path
    newest_created: float
    input_digests: dict[str, str]  # path → tree_digest, taken right after writing

    def media(self) -> dict[str, Medium]:
        """Every (medium, image) pair, by ``Medium.id`` (the keys of MEDIA_KEYS)."""
        out: list[Medium] = []
        for key, img in self.images.items():
            repo = img.name.rsplit(":", 1)[0]
            saved = tuple(t for t in img.tags if t.startswith(repo + ":"))
            multi = tuple(t for t in img.tags if t in self.save_multi_tags)

            def same(medium: str, spec: str, tags: tuple[str, ...], linked: bool = False) -> Medium:
                """A medium that keeps docker's config bytes, hence its image ID."""
                return Medium(medium, key, spec, img.name, tags, img.id, linked, True)  # noqa: B023

            out.append(same("daemon", f"docker-daemon:{img.name}", img.tags, linked=True))
            out.append(same("archive", f"docker-archive:{self.save[key]}", saved))
            out.append(same("archive-multi", f"docker-archive:{self.save_multi}:{img.name}", multi))
            if key == "bk":
                out.append(same("archive-bare", str(self.save[key]), saved))
            if key == "classic":
                spec = f"docker-archive:{self.save_parents}:{img.name}"
                out.append(same("archive-parents", spec, (img.name,), self.parents_linked))
            for medium, spec, image_id in (
                ("oci", f"oci:{self.oci}:{img.name}", self.oci_ids[key]),
                ("oci-archive", f"oci-archive:{self.oci_archive[key]}:{img.name}",
                 self.oci_archive_ids[key]),
            ):  # fmt: skip
                out.append(Medium(medium, key, spec, img.name, (img.name,), image_id, False, False))
            for which, reg in self.registries.items():
                ref = f"{reg.host}/{REGISTRY_REPOS[key]}:{REGISTRY_TAGS[key][0]}"
                cfg = self.docker_config_auth if reg.auth else self.docker_config_empty
                out.append(
                    Medium(f"registry-{which}", key, f"docker://{ref}", ref, (ref,), img.id,
                           False, True, {"DOCKER_CONFIG": str(cfg)})
                )  # fmt: skip
        # One layer-size store per medium: sizes are computed from each medium's own bytes
        # (a shared store would let the first medium answer for the gzip ones).
        return {m.id: replace(m, env={**m.env, **self.cache_env(m.key)}) for m in out}

    def cache_env(self, name: str) -> dict[str, str]:
        return {"DEADWEIGHT_CACHE_DIR": str(self.cache_dir / name)}


MEDIA_KEYS = (
    "daemon-bk", "daemon-classic",
    "archive-bk", "archive-classic", "archive-bare-bk",
    "archive-multi-bk", "archive-multi-classic", "archive-parents-classic",
    "oci-bk", "oci-classic", "oci-archive-bk", "oci-archive-classic",
    "registry-anon-bk", "registry-anon-classic", "registry-auth-bk", "registry-auth-classic",
)  # fmt: skip


def need_tools() -> None:
    if not os.access(SKOPEO, os.X_OK):
        unavailable(f"skopeo is not installed ({SKOPEO}): apt-get install skopeo")


def _run(cmd: list[str], env: Mapping[str, str], what: str, engine: DockerEngine) -> str:
    proc = subprocess.run(cmd, env=dict(env), capture_output=True, text=True, timeout=600)
    if proc.returncode:
        raise AssertionError(
            f"{what} failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}"
            f"\n--- dockerd.log tail ---\n{log_tail(engine.log)}"
        )
    return proc.stdout


def write_context(context: Path, base: str) -> None:
    context.mkdir(parents=True, exist_ok=True)
    (context / "hello.txt").write_text("hello from the build context\n")
    (context / "data.bin").write_bytes(bytes(range(256)) * 3 + b"x" * 232)  # 1000 bytes
    (context / "Dockerfile").write_text(DOCKERFILE.format(base=base), encoding="utf-8")


def build_images(engine: DockerEngine, base: str, workdir: Path) -> dict[str, BuiltImage]:
    context = workdir / "context"
    write_context(context, base)
    built: dict[str, BuiltImage] = {}
    for key, (buildkit, tags) in IMAGES.items():
        image_id = engine.build(context, tags[0], buildkit=buildkit)
        for tag in tags[1:]:
            engine.docker("tag", tags[0], tag)
        ids = engine.docker("history", "-q", "--no-trunc", tags[0]).split()
        assert ids[0] == image_id
        built[key] = BuiltImage(
            key, buildkit, image_id, tags, tuple(i for i in ids[1:] if i != MISSING), len(ids)
        )
    assert not built["bk"].ancestors, "BuildKit records no parents"
    assert len(built["classic"].ancestors) == built["classic"].rows - 1, "classic: IDs everywhere"
    return built


def _skopeo(engine: DockerEngine, *args: str) -> str:
    return _run([SKOPEO, "--insecure-policy", *args], engine.env, "skopeo", engine)


def _config_digest_of_layout(layout: Path, ref_name: str) -> tuple[str, str]:
    """(config digest, manifest digest) of the entry named ``ref_name`` in an OCI layout."""
    index = json.loads((layout / "index.json").read_bytes())
    (desc,) = [
        d
        for d in index["manifests"]
        if d.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref_name
    ]
    manifest = json.loads((layout / "blobs" / "sha256" / desc["digest"][7:]).read_bytes())
    config_digest = manifest["config"]["digest"]
    raw = (layout / "blobs" / "sha256" / config_digest[7:]).read_bytes()
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == config_digest
    return config_digest, desc["digest"]


def _oci_archive_config_digest(path: Path, ref_name: str, scratch: Path) -> str:
    target = scratch / path.name.replace(".", "-")
    target.mkdir(parents=True)
    with tarfile.open(path) as tar:
        tar.extractall(target, filter="data")
    return _config_digest_of_layout(target, ref_name)[0]


def export_images(
    engine: DockerEngine,
    built: dict[str, BuiltImage],
    root: Path,
    registries: dict[str, RegistryServer],
) -> Exports:
    need_tools()
    root.mkdir(parents=True, exist_ok=True)
    save: dict[str, Path] = {}
    for key, img in built.items():
        save[key] = root / f"save-{key}.tar"
        # Naming the repository saves every tag it has (docker-formats.md §8.1).
        engine.docker("save", "-o", str(save[key]), img.name.rsplit(":", 1)[0])
    multi_tags = ("dw-bk:latest", "dw-bk:v1.9", "dw-classic:latest", "dw-classic:1.0")
    save_multi = root / "save-multi.tar"
    engine.docker("save", "-o", str(save_multi), *multi_tags)
    save_alias = root / "save-alias.tar"
    engine.docker("save", "-o", str(save_alias), "dw-bk:latest", "dw-alias:bk")

    # The classic image with every ancestor: ancestors by ID (they have no tags), except the
    # base, which is saved by its tag so that the archive keeps its name.
    classic = built["classic"]
    base_id = engine.docker("image", "inspect", "--format", "{{.Id}}", "dw-busybox:latest")
    names = ["dw-busybox:latest" if a == base_id.strip() else a for a in classic.ancestors]
    save_parents = root / "save-parents.tar"
    engine.docker("save", "-o", str(save_parents), classic.name, *names)
    with tarfile.open(save_parents) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        entries = json.loads(member.read())
    parents_linked = any(e.get("Parent") for e in entries)

    daemon = ["--src-daemon-host", engine.host]
    oci = root / "oci"
    oci_ids, oci_manifests, oci_archive, oci_archive_ids = {}, {}, {}, {}
    for key, img in built.items():
        _skopeo(engine, "copy", "-q", *daemon, f"docker-daemon:{img.name}", f"oci:{oci}:{img.name}")
        oci_ids[key], oci_manifests[key] = _config_digest_of_layout(oci, img.name)
        oci_archive[key] = root / f"{key}.oci.tar"
        _skopeo(
            engine, "copy", "-q", *daemon,
            f"docker-daemon:{img.name}", f"oci-archive:{oci_archive[key]}:{img.name}",
        )  # fmt: skip
        oci_archive_ids[key] = _oci_archive_config_digest(
            oci_archive[key], img.name, root / "scratch"
        )

    empty_cfg = root / "docker-config-empty"
    empty_cfg.mkdir()
    (empty_cfg / "config.json").write_text("{}\n")
    auth_cfg = root / "docker-config-auth"
    auth_cfg.mkdir()
    auths = {
        reg.host: {"auth": base64.b64encode(f"{reg.user}:{reg.password}".encode()).decode()}
        for reg in registries.values()
        if reg.auth
    }
    (auth_cfg / "config.json").write_text(json.dumps({"auths": auths}, indent=1) + "\n")

    for reg in registries.values():
        creds = ["--dest-creds", f"{reg.user}:{reg.password}"] if reg.auth else []
        for key, img in built.items():
            for tag in REGISTRY_TAGS[key]:
                _skopeo(
                    engine, "copy", "-q", *daemon, "--dest-tls-verify=false", *creds,
                    f"docker-daemon:{img.name}", f"docker://{reg.host}/{REGISTRY_REPOS[key]}:{tag}",
                )  # fmt: skip
        # Pull them back: the engine is the oracle for registry images too (127.0.0.0/8 is an
        # insecure registry for dockerd by default). The image IDs are the ones already there.
        env = dict(engine.env, DOCKER_CONFIG=str(auth_cfg if reg.auth else empty_cfg))
        for key, img in built.items():
            for tag in REGISTRY_TAGS[key]:
                ref = f"{reg.host}/{REGISTRY_REPOS[key]}:{tag}"
                _run([DOCKER_CLI, "pull", "-q", ref], env, "docker pull", engine)
                pulled = engine.docker("image", "inspect", "--format", "{{.Id}}", ref).strip()
                assert pulled == img.id, f"{ref}: pulled {pulled}, built {img.id}"

    created = [
        # RFC 3339 in UTC with nanoseconds ("…T05:21:15.991541526Z"): whole seconds suffice
        dt.datetime.strptime(
            engine.docker("image", "inspect", "--format", "{{.Created}}", img.id)[:19],
            "%Y-%m-%dT%H:%M:%S",
        )
        .replace(tzinfo=dt.UTC)
        .timestamp()
        for img in built.values()
    ]
    cache = root / "deadweight-cache"
    cache.mkdir()
    inputs = [*save.values(), save_multi, save_alias, save_parents, oci, *oci_archive.values()]
    return Exports(
        root=root,
        images=built,
        save=save,
        save_multi=save_multi,
        save_multi_tags=multi_tags,
        save_alias=save_alias,
        save_parents=save_parents,
        parents_linked=parents_linked,
        oci=oci,
        oci_ids=oci_ids,
        oci_manifest_digests=oci_manifests,
        oci_archive=oci_archive,
        oci_archive_ids=oci_archive_ids,
        registries=registries,
        docker_config_auth=auth_cfg,
        docker_config_empty=empty_cfg,
        cache_dir=cache,
        newest_created=max(float(c) for c in created),
        input_digests={str(p): tree_digest(p) for p in inputs},
    )


@dataclass(frozen=True)
class Tools:
    """Runs deadweight and the docker 20.10 CLI with the same environment."""

    engine: DockerEngine
    exports: Exports

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {
            k: v
            for k, v in self.engine.env.items()
            if not k.startswith(("DEADWEIGHT_", "LC_", "TZ"))
        }
        env.update(
            DOCKER_HOST=self.engine.host,
            DOCKER_CONFIG=str(self.exports.docker_config_empty),
            DEADWEIGHT_CACHE_DIR=str(self.exports.cache_dir),
            TZ="UTC",
            LANG="C.UTF-8",
        )
        env.update(extra or {})
        return env

    def docker(self, *args: str, env: Mapping[str, str] | None = None) -> bytes:
        proc = subprocess.run(
            [DOCKER_CLI, *args], env=self.env(env), capture_output=True, timeout=300
        )
        if proc.returncode:
            raise AssertionError(
                f"docker {' '.join(args)} failed ({proc.returncode}): {proc.stderr.decode()}"
            )
        return proc.stdout

    def deadweight(
        self, *args: str, env: Mapping[str, str] | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[bytes]:
        proc = subprocess.run(
            [*deadweight_command(), *args], env=self.env(env), capture_output=True, timeout=300
        )
        if check and proc.returncode:
            raise AssertionError(
                f"deadweight {' '.join(args)} failed ({proc.returncode}):\n"
                f"{proc.stderr.decode(errors='replace')}"
            )
        return proc


def wait_until_settled(newest_created: float) -> None:
    """Sleep until the newest image is SETTLED_AGE seconds old (see SETTLED_AGE)."""
    age = time.time() - newest_created
    if age < SETTLED_AGE:
        time.sleep(SETTLED_AGE - age)


@pytest.fixture(scope="session")
def built_images(
    docker_engine: DockerEngine, busybox_base: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, BuiltImage]:
    """The fixture Dockerfile built with BuildKit ("bk") and the classic builder ("classic")."""
    return build_images(docker_engine, busybox_base, tmp_path_factory.mktemp("images"))


@pytest.fixture(scope="session")
def image_registries(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, RegistryServer]]:
    """Two real registries for the session's images: anonymous, and behind htpasswd."""
    require_tools()
    root = tmp_path_factory.mktemp("image-registries")
    with (
        running_registry(root / "anon") as anon,
        running_registry(root / "auth", REGISTRY_USER, REGISTRY_PASSWORD) as auth,
    ):
        yield {"anon": anon, "auth": auth}


@pytest.fixture(scope="session")
def exported_images(
    docker_engine: DockerEngine,
    built_images: dict[str, BuiltImage],
    image_registries: dict[str, RegistryServer],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Exports]:
    """Every medium, written once per session; outputs are settled (SETTLED_AGE) on return."""
    exports = export_images(
        docker_engine, built_images, tmp_path_factory.mktemp("exports"), image_registries
    )
    wait_until_settled(exports.newest_created)
    yield exports


@pytest.fixture(scope="session")
def tools(docker_engine: DockerEngine, exported_images: Exports) -> Tools:
    return Tools(docker_engine, exported_images)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def json_lines(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.decode().splitlines() if line.strip()]
