"""``optimize --dockerfile`` on a family of variants of the story's Node backend, each
built on the real engine (BuildKit, ``--network none``, npm's cache seeded from the
fixtures) before and after: ``npm ci`` after an extra global tool, with node_modules moved
out of the WORKDIR; node_modules moved and linked back; a build step that needs a
devDependency. Three builds of the original and three of the rewrite: the family is kept
small on purpose (the text-level variants, yarn and pnpm included, are unit tests).

Each Dockerfile.deadweight must build, drop the npm self-upgrade, leave the
devDependencies and the build tooling out of the final image, run as a user, be smaller
than 0.8x of the original, and pass the verification ``optimize`` runs (the image's own
command, the same /health answer)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from engine_fixtures import DockerEngine
from story_fixtures import NODE_DOCKERFILE, NODE_PACKAGE, NPM_UPGRADE, Story

from deadweight.sources import archive

pytestmark = pytest.mark.integration

SEED = (
    "RUN --mount=type=bind,from=dw-fixtures:latest,source=/npm/cache,target=/seed \\\n"
    "    mkdir -p /root/.npm && cp -a /seed/. /root/.npm/ && "
)
STORY_INSTALL = SEED + "npm install --offline\n"
GLOBAL_TOOL = SEED + "npm install -g --offline prettier@3.2.5\n"
VARIANTS = {
    "moved-ci-global-tool": {
        "install": GLOBAL_TOOL + SEED + "npm ci --offline && mv node_modules ../\n"
    },
    "linked": {
        "install": SEED + "npm install --offline && mv node_modules /opt/node_modules"
        " && ln -s /opt/node_modules node_modules\n"
    },
    "build-step": {
        "install": STORY_INSTALL,
        "after": "RUN npm run build\n",
        "build": "tsc --version > build-info.txt",
    },
}


def variant_context(story: Story, work: Path, name: str) -> Path:
    spec = VARIANTS[name]
    context = work / name
    context.mkdir()
    for file in ("package-lock.json", "server.js", "README.md"):
        shutil.copy(story.node.context / file, context / file)
    package = json.loads(json.dumps(NODE_PACKAGE))
    if "build" in spec:
        package["scripts"]["build"] = spec["build"]
    (context / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    dockerfile = NODE_DOCKERFILE.replace(STORY_INSTALL, spec["install"])
    assert dockerfile != NODE_DOCKERFILE or spec["install"] == STORY_INSTALL
    if "after" in spec:
        dockerfile = dockerfile.replace("COPY . .\n", "COPY . .\n" + spec["after"])
    (context / "Dockerfile").write_text(dockerfile)
    return context


def size(engine: DockerEngine, ref: str) -> int:
    return int(engine.docker("image", "inspect", "--format", "{{.Size}}", ref))


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_dockerfile_variant_builds_smaller_and_verifies(
    story: Story, tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = story.engine
    context = variant_context(story, tmp_path, name)
    original = f"dw-variant-{name}:original"
    engine.build(context, original, buildkit=True)
    saved = tmp_path / "original.tar"
    engine.docker("save", "-o", str(saved), original)

    r = engine.deadweight(
        "optimize", f"docker-archive:{saved}", "-o", "oci-archive:optimized.tar",
        "--dockerfile", str(context / "Dockerfile"), cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr + r.stdout
    text = (context / "Dockerfile.deadweight").read_text()
    assert text.count("FROM ") == 2, r.stderr + text
    assert f"npm-{NPM_UPGRADE}.tgz" not in text, text  # DW002: the upgrade is dropped

    rebuilt = f"dw-variant-{name}:dockerfile"
    engine.docker(
        "build", "--network", "none", "-f", str(context / "Dockerfile.deadweight"),
        "-t", rebuilt, str(context), buildkit=True,
    )  # fmt: skip
    assert size(engine, rebuilt) < size(engine, original) * 0.8
    user = engine.docker("image", "inspect", "--format", "{{.Config.User}}", rebuilt).strip()
    assert user not in ("", "root", "0")
    probe = (
        "node -e \"require('ms'); require('debug');"
        " for (const dev of ['typescript', 'prettier']) {"
        " try { require.resolve(dev); console.log('has ' + dev) } catch (e) {} }\";"
        " command -v prettier || true; ls /usr/local/lib/node_modules"
    )
    out = engine.docker(
        "run", "--rm", "--network", "none", "--entrypoint", "sh", rebuilt, "-c", probe
    )
    assert out.split() == ["corepack", "npm"] or out.split() == ["npm"], out
    if name == "build-step":
        built = engine.docker(
            "run", "--rm", "--network", "none", "--entrypoint", "cat", rebuilt, "build-info.txt"
        )
        assert built.startswith("Version 5.4.5"), built

    from deadweight.runs.verify import verify

    for key in [k for k in os.environ if k.startswith("DOCKER_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("DOCKER_HOST", engine.host)
    rebuilt_tar = tmp_path / "rebuilt.tar"
    engine.docker("save", "-o", str(rebuilt_tar), rebuilt)
    health = story.node.health
    result = verify(archive.read(saved), archive.read(rebuilt_tar), command=None, url=health)
    assert [(c.name, c.passed) for c in result.checks] == [("starts", True), ("http", True)], [
        (c.name, c.reason) for c in result.checks
    ]
