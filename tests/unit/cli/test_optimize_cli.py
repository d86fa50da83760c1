"""``deadweight optimize``: dry run, every writable medium, reproducible output, refusals,
and what happens when verification fails (with and without --force)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from deadweight import static
from deadweight.cli.optimize import optimize
from deadweight.errors import UsageError
from deadweight.image import Image
from deadweight.optimize import Check, Run, Verification
from deadweight.runs import optimizing as cli_optimize
from deadweight.sources import Location, archive, open_image

S = static
STEPS = [
    S.Step("ADD rootfs.tar /", S.layer([S.Dir("etc"), S.File("etc/os-release", b"base\n")])),
    S.Step('CMD ["sh"]'),
    S.Step(
        "RUN apt-get update",
        S.layer(
            [
                S.File("var/lib/apt/lists/deb_Packages", b"p" * 3000),
                S.File("usr/bin/tool", b"t" * 700),
                S.File("tmp/x.log", b"l" * 400),
            ]
        ),
    ),
    S.Step("RUN rm big", S.layer([S.Whiteout("tmp/x.log")])),
]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    archive.write([S.image(STEPS, repo_tags=("app:1",))], tmp_path / "app.tar")
    return tmp_path


def run(*args: str) -> Result:
    return CliRunner().invoke(optimize, list(args))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_dry_run_text(env: Path) -> None:
    r = run("app.tar", "--dry-run")
    assert r.exit_code == 0, r.output
    assert r.output == (
        "Plan: app:1 (level safe, squash own)\n"
        "  squash            400B  squash layers (drop the bytes later layers hide)\n"
        "               2 layer(s) above the 1 base layer(s) merged into one\n"
        "  apt-cache          3kB  remove apt package lists and downloaded archives\n"
        "               var/lib/apt/lists: 3kB in 1 file(s)\n"
        "                 /var/lib/apt/lists/deb_Packages\n"
        "\n"
        "Layers (before -> after):\n"
        "    0         5B -> 5B\n"
        "    1      4.1kB\n"
        "    2         0B\n"
        "  1-2      4.1kB -> 700B  (2 layers squashed into one)\n"
        "Total: 4.11kB -> 705B (saved 3.4kB, 0.17x)\n"
    )
    assert not list(env.glob("*.part"))


def test_dry_run_json(env: Path) -> None:
    r = run("app.tar", "--dry-run", "--format", "json", "--epoch", "7")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert [(s["name"], s["bytes"]) for s in doc["steps"]] == [
        ("squash", 400),
        ("apt-cache", 3000),
        ("epoch", 0),
    ]
    assert doc["before"] == {"layers": [5, 4100, 0], "total": 4105}
    assert doc["after"] == {"layers": [5, 700], "total": 705}
    assert doc["bytesSaved"] == 3400 and doc["dryRun"] is True and doc["written"] is False
    assert doc["keepBottom"] == 1 and doc["epoch"] == 7 and doc["verification"] is None


def test_docker_archive_output_is_smaller_and_reproducible(env: Path) -> None:
    r = run("app.tar", "-o", "docker-archive:out.tar:slim:1", "--epoch", "0", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["written"] is True and doc["after"]["layers"] == [5, 700]
    out = archive.read(env / "out.tar")
    assert out.repo_tags == ("slim:1",)
    assert out.id == doc["imageId"]
    assert len(out.layers) == 2
    first = sha(env / "out.tar")
    again = run("app.tar", "-o", "docker-archive:out2.tar:slim:1", "--epoch", "0")
    assert again.exit_code == 0, again.output
    assert sha(env / "out2.tar") == first


def test_oci_and_oci_archive_outputs(env: Path) -> None:
    assert run("app.tar", "-o", "oci:layout:v1", "--epoch", "0").exit_code == 0
    assert run("app.tar", "-o", "oci-archive:app-oci.tar:v1", "--epoch", "0").exit_code == 0
    a = open_image("oci:layout:v1")
    b = open_image(f"oci-archive:{env / 'app-oci.tar'}:v1")
    assert a.id == b.id and a.digest == b.digest
    assert [layer.blob.media_type for layer in a.layers] == [
        "application/vnd.oci.image.layer.v1.tar+gzip"
    ] * 2
    with a.layers[1].open() as stream:
        assert len(stream.read()) > 0  # reading to the end verifies the diff_id
    assert run("app.tar", "-o", "oci-archive:again.tar:v1", "--epoch", "0").exit_code == 0
    assert sha(env / "again.tar") == sha(env / "app-oci.tar")


def test_source_date_epoch_is_used(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    assert run("app.tar", "-o", "docker-archive:out.tar").exit_code == 0
    out = archive.read(env / "out.tar")
    assert json.loads(out.raw_config)["created"] == "1970-01-02T00:00:00Z"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "soon")
    r = run("app.tar", "-o", "docker-archive:out.tar")
    assert isinstance(r.exception, UsageError)
    assert str(r.exception) == "SOURCE_DATE_EPOCH='soon': not a number of seconds"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["-o", "docker://localhost:5000/app@sha256:" + "a" * 64],
            "-o docker://localhost:5000/app@sha256:"
            + "a" * 64
            + ": a destination takes a tag, not a digest",
        ),
        ([], "-o DEST is required (or --dry-run)"),
        (
            ["-o", "out.img"],
            "-o out.img: name the medium: docker-archive:PATH[:TAG], oci:DIR[:TAG], "
            "oci-archive:PATH[:TAG], dir:DIR or docker-daemon:NAME:TAG",
        ),
        (["-o", "oci:dir", "--epoch", "-1"], "--epoch -1: must be 0 or more"),
    ],
)
def test_usage_errors(env: Path, args: list[str], message: str) -> None:
    r = run("app.tar", *args)
    assert isinstance(r.exception, UsageError)
    assert str(r.exception) == message
    assert sorted(p.name for p in env.iterdir()) == ["app.tar"]


def failing(
    original: Image, result: Image, *, command: str | None, url: str | None, body: str
) -> Verification:
    assert body == "shape"  # the default of --verify-body
    return Verification(
        (
            Check(
                "command",
                command or "",
                Run(False, 0),
                Run(False, 127, output="sh: not found"),
                False,
                "exit codes: original exited 0, optimized exited 127",
            ),
        )
    )


def test_failed_verification_writes_nothing(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_optimize, "verify", failing)
    r = CliRunner().invoke(
        optimize, ["app.tar", "-o", "docker-archive:out.tar", "--verify-cmd", "true"]
    )
    assert r.exit_code == 1
    assert r.stderr == "deadweight: error: verification failed; nothing written\n"
    assert "  FAIL command true: original exited 0, optimized exited 127" in r.stdout
    assert "Not written: docker-archive:out.tar" in r.stdout
    assert not (env / "out.tar").exists()


def test_forced_write_after_failed_verification(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_optimize, "verify", failing)
    r = CliRunner().invoke(
        optimize,
        ["app.tar", "-o", "docker-archive:out.tar", "--verify", "--force", "--format", "json"],
    )
    assert r.exit_code == 0
    assert r.stderr == "deadweight: WARNING: verification FAILED; written anyway (--force)\n"
    doc = json.loads(r.stdout)
    assert doc["forced"] is True and doc["written"] is True
    assert doc["verification"]["passed"] is False
    assert doc["verification"]["checks"][0]["optimized"]["exitCode"] == 127
    assert archive.read(env / "out.tar").id == doc["imageId"]


def test_bare_destinations_pick_the_medium_by_shape(env: Path) -> None:
    from deadweight.sources import locate

    assert locate("out.tar", destination=True) == Location("docker-archive", "out.tar", "")
    assert locate("layout/", destination=True) == Location("oci", "layout", "")
    (env / "existing").mkdir()
    assert locate(str(env / "existing"), destination=True) == Location(
        "oci", str(env / "existing"), ""
    )


NODE_STEPS = [
    S.Step("ADD rootfs.tar /", S.layer([S.Dir("etc"), S.File("etc/os-release", b"base\n")])),
    S.Step('CMD ["sh"]'),
    S.Step(
        "COPY . .",
        S.layer(
            [
                S.File("app/package.json", b'{"scripts": {"start": "node a.js && node b.js"}}'),
                S.File("app/node_modules/x/index.js", b"x" * 100),
                S.File("app/node_modules/x/index.js.map", b"m" * 60),
                S.File("usr/local/bin/npm", b"n" * 10),
            ]
        ),
    ),
]


@pytest.fixture
def node_app(env: Path) -> Path:
    config = {"Cmd": ["npm", "start"], "WorkingDir": "/app"}
    archive.write([S.image(NODE_STEPS, repo_tags=("node:1",), config=config)], env / "node.tar")
    return env


def test_moderate_dry_run_text_lists_config_changes_and_what_was_not_done(node_app: Path) -> None:
    r = run("node.tar", "--dry-run", "--level", "moderate")
    assert r.exit_code == 0, r.output
    assert r.output == (
        "Plan: node:1 (level moderate, squash own)\n"
        "  squash                0B  squash layers (drop the bytes later layers hide)\n"
        "               1 layer(s) above the 1 base layer(s) merged into one\n"
        "  package-extras       60B  remove tests, docs, examples and source maps of packages\n"
        "               app/node_modules/x: 60B in 1 file(s)\n"
        "                 /app/node_modules/x/index.js.map\n"
        "  non-root        adds 94B  run as a non-root user\n"
        "               User 10001:10001 (app) owns /app and what the new layer holds below it\n"
        "  npm-tools              -  not done: npm stays: `npm start` is the command and "
        "scripts.start 'node a.js && node b.js' is not a plain node command (shell syntax)\n"
        "\n"
        "Config changes:\n"
        '  User: "10001:10001"\n'
        "\n"
        "Layers (before -> after):\n"
        "    0         5B -> 5B\n"
        "    1       218B -> 252B  (rewritten)\n"
        "Total: 223B -> 257B (grew 34B, 1.15x)\n"
    )


def test_skip_in_json_and_in_the_result(node_app: Path) -> None:
    r = run(
        "node.tar",
        *("-o", "docker-archive:out.tar", "--level", "moderate", "--epoch", "0"),
        *("--skip", "non-root", "--skip", "package-extras", "--format", "json"),
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["skip"] == ["package-extras", "non-root"]
    assert [s["name"] for s in doc["steps"]] == ["squash", "epoch"]
    assert doc["config"] == {}
    assert doc["skipped"] == [
        {
            "name": "npm-tools",
            "reason": "npm stays: `npm start` is the command and scripts.start "
            "'node a.js && node b.js' is not a plain node command (shell syntax)",
            "bytes": 0,
        }
    ]
    out = archive.read(node_app / "out.tar")
    history = json.loads(out.raw_config)["history"]
    assert history[-1]["created_by"] == (
        "deadweight optimize --level moderate --squash own --epoch 0 "
        "--skip package-extras --skip non-root"
    )


def test_skip_names_are_checked_and_listed_in_help(env: Path) -> None:
    r = run("app.tar", "--dry-run", "--skip", "npm")
    assert r.exit_code == 2
    assert "'npm' is not one of 'apt-cache'" in r.output
    help_text = "".join(run("--help").output.split())
    listed = (
        "A step not to do (repeatable): apt-cache, apk-cache, pip-cache, poetry-cache, "
        "uv-cache, npm-cache, yarn-cache, pnpm-store, temp, docs, man, info, locales, "
        "npm-dev-dependencies, package-extras, npm-tools, non-root."
    )
    assert "".join(listed.split()) in help_text
