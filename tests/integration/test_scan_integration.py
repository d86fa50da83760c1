"""``deadweight scan`` against a real registry (distribution) holding a few dozen images
built from shared bases (synthetic ones pushed by our registry writer, and images built by
the real engine): the embedded cluster, a real ``dask scheduler`` with two ``dask worker``
processes, and the same with one worker killed mid-scan all give the report of the
sequential in-process scan; each image's figures are ``analyze``'s of it alone; each
unique layer is read once; refusals and broken images are reported and the scan goes on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import keep_screenshot
from engine_fixtures import DockerEngine
from fleet_cluster import dask_cluster
from images_fixtures import BuiltImage
from registry_fixtures import RegistryServer, free_port, require_tools, running_registry

from deadweight.analysis.analyze import analyze
from deadweight.cluster.runners import InProcess, OnDask, dask_runner
from deadweight.cluster.scan import scan
from deadweight.cluster.work import LayerJob, LayerResult
from deadweight.fleet.tally import Fleet, Tally
from deadweight.reference import Reference
from deadweight.render.fleet import document
from deadweight.sources import archive, open_image, registry

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import fleet_images

pytestmark = pytest.mark.integration
DEADWEIGHT = Path(sys.executable).with_name("deadweight")
APPS = 30


@dataclass
class Filled:
    registry: RegistryServer
    work: Path
    names: list[str]
    reference: Fleet  # the sequential in-process scan

    @property
    def source(self) -> str:
        return f"docker://{self.registry.host}"


def _push_engine_images(
    engine: DockerEngine, built: dict[str, BuiltImage], host: str, work: Path
) -> list[str]:
    names = []
    for key, image in sorted(built.items()):
        saved = work / f"{key}.tar"
        engine.docker("save", "-o", str(saved), image.name)
        ref = Reference.parse(f"{host}/engine/{key}:latest")
        registry.write(archive.read(saved, image.name), ref)
        names.append(str(ref))
    return names


@pytest.fixture(scope="module")
def filled(
    tmp_path_factory: pytest.TempPathFactory,
    docker_engine: DockerEngine,
    built_images: dict[str, BuiltImage],
) -> Iterator[Filled]:
    require_tools()
    work = tmp_path_factory.mktemp("scan")
    with running_registry(work / "registry") as server:
        names = []
        for name, image in fleet_images.fleet(APPS, 16 << 10):
            ref = Reference.parse(f"{server.host}/{name}")
            registry.write(image, ref)
            names.append(str(ref))
        names += _push_engine_images(docker_engine, built_images, server.host, work)
        reference = scan([f"docker://{server.host}"], InProcess())
        yield Filled(server, work, sorted(names), reference)


class _Watched:
    """A Dask runner whose results are seen by the test (who read which layer)."""

    def __init__(self, runner: OnDask, on_result: object = None) -> None:
        self.runner, self.on_result = runner, on_result
        self.results: list[LayerResult] = []

    def run(self, jobs: Sequence[LayerJob], done: object) -> None:
        def seen(result: LayerResult) -> None:
            self.results.append(result)
            if callable(self.on_result):
                self.on_result(self, result)
            done(result)  # type: ignore[operator]

        self.runner.run(jobs, seen)


def _unique_diff_ids(filled: Filled) -> set[str]:
    found: set[str] = set()
    for name in filled.names:
        found.update(layer.diff_id for layer in registry.read(Reference.parse(name)).layers)
    return found


def test_the_sequential_scan_is_every_image_as_analyze_sees_it(filled: Filled) -> None:
    fleet = filled.reference
    assert [f.name for f in fleet.images] == filled.names and not fleet.failed
    assert len(fleet.images) >= APPS + 3 + 2
    assert fleet.layers_read == fleet.unique_layers == len(_unique_diff_ids(filled))
    assert fleet.unique_bytes < 0.7 * fleet.total_bytes  # shared bases
    for figures in fleet.images:
        alone = analyze(open_image(f"docker://{figures.name}"))
        tally = Tally()
        tally.add_image(alone, name=figures.name, source=figures.source, digest=figures.digest)
        assert tally.fleet(layers_read=0, layers_cached=0).images == (figures,), figures.name


def test_figures_match_the_analyze_command(filled: Filled) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CI"}  # no CI gate: figures only
    env["DEADWEIGHT_CACHE_DIR"] = str(filled.work / "cli-store")
    by_name = {f.name: f for f in filled.reference.images}
    for name in (filled.names[0], filled.names[-1], *[n for n in filled.names if "app5" in n]):
        out = subprocess.run(
            [str(DEADWEIGHT), "analyze", "--format", "json", f"docker://{name}"],
            capture_output=True, text=True, env=env, timeout=300, check=True,
        )  # fmt: skip
        doc = json.loads(out.stdout)
        figures = by_name[name]
        assert (doc["size"], doc["finalSize"]) == (figures.size, figures.final_size)
        assert doc["waste"]["reclaimable"] == figures.reclaimable
        assert {c: b for c, b in doc["waste"]["byCause"].items() if b} == dict(figures.causes)
        assert [layer["diffId"] for layer in doc["layers"]] == list(figures.diff_ids)


def test_embedded_cluster_from_the_command_line(filled: Filled) -> None:
    out = filled.work / "embedded.json"
    result = subprocess.run(
        [str(DEADWEIGHT), "scan", filled.source, "--workers", "2", "--no-cache", "-o", str(out)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text()) == json.loads(json.dumps(document(filled.reference)))
    assert result.stdout.startswith(f"{len(filled.names)} images (0 failed)")


def test_a_real_scheduler_and_two_workers(filled: Filled) -> None:
    with (
        dask_cluster(filled.work / "dask") as cluster,
        dask_runner(workers=None, scheduler=cluster.address) as runner,
    ):
        watched = _Watched(runner)
        fleet = scan([filled.source], watched)
    assert fleet == filled.reference
    reads = Counter(r.diff_id for r in watched.results)
    assert set(reads) == _unique_diff_ids(filled) and set(reads.values()) == {1}
    assert len({r.reader for r in watched.results}) == 2  # both workers read layers


def test_a_worker_killed_mid_scan(filled: Filled) -> None:
    with (
        dask_cluster(filled.work / "dask-kill") as cluster,
        dask_runner(workers=None, scheduler=cluster.address) as runner,
    ):
        killed: list[str] = []

        def kill_first_reader(watched: _Watched, result: LayerResult) -> None:
            if not killed:
                pid = int(result.reader.rsplit(":", 1)[1])
                name = next(n for n, p in cluster.workers.items() if p.pid == pid)
                cluster.kill_worker(name)
                killed.append(result.reader)

        watched = _Watched(runner, kill_first_reader)
        fleet = scan([filled.source], watched)
    assert fleet == filled.reference
    unique = _unique_diff_ids(filled)
    assert len(watched.results) == len(unique) and all(r.delta for r in watched.results)
    after = [r.reader for r in watched.results[1:]]
    assert after and killed[0] not in after  # the rest was read by the surviving worker


def test_refusals_and_broken_images_are_reported(filled: Filled) -> None:
    work = filled.work / "bad"
    with (
        running_registry(work / "private", "user", "secret") as private,
        _broken_manifest(filled) as broken,
    ):
        listing = work / "fleet.txt"
        nowhere = f"docker://127.0.0.1:{free_port()}"  # nothing listens there
        listing.write_text(
            "\n".join(
                [
                    f"docker://{filled.registry.host}/team1/app1",  # every tag of the repository
                    nowhere,
                    f"docker://{private.host}",  # 401 without credentials
                    f"docker://{filled.registry.host}/no/such-repo",  # 404
                    f"docker://{broken}",
                ]
            )
        )
        out = work / "report.json"
        env = {**os.environ, "DOCKER_CONFIG": str(work / "no-config")}
        result = subprocess.run(
            [str(DEADWEIGHT), "scan", str(listing), "--workers", "0", "--no-cache", "-o", str(out)],
            capture_output=True, text=True, env=env, timeout=300,
        )  # fmt: skip
    assert result.returncode == 3, result.stderr
    assert (
        result.stderr
        == "deadweight: error: 4 of 5 images could not be scanned (listed in the report)\n"
    )
    doc = json.loads(out.read_text())
    reasons = {f["name"]: f["reason"] for f in doc["failed"]}
    assert len(reasons) == 4
    assert "cannot reach registry" in reasons[nowhere]
    assert reasons[f"docker://{private.host}"].startswith(
        f"{private.host} (catalog): authentication required"
    )
    assert "repository unknown" in reasons[f"{filled.registry.host}/no/such-repo"]
    assert "but its bytes hash to" in reasons[broken]
    assert [i["name"] for i in doc["images"]] == [f"{filled.registry.host}/team1/app1:v1"]


@contextmanager
def _broken_manifest(filled: Filled) -> Iterator[str]:
    """Change one stored manifest's bytes under the registry (its digest no longer holds)
    for the duration of the block; the name of the image it breaks."""
    name = next(n for n in filled.names if "/team2/" in n)
    image = registry.read(Reference.parse(name))
    digest = image.digest
    assert digest is not None
    hexa = digest.split(":", 1)[1]
    blob = filled.registry.root / "data/docker/registry/v2/blobs/sha256" / hexa[:2] / hexa / "data"
    data = blob.read_bytes()
    changed = data.replace(b'"schemaVersion":2', b'"schemaVersion": 2', 1)
    assert changed != data
    blob.write_bytes(changed)  # still a valid manifest, but not the bytes of its digest
    try:
        yield name
    finally:
        blob.write_bytes(data)


def test_every_image_of_the_engine(filled: Filled, docker_engine_env: DockerEngine) -> None:
    docker_engine = docker_engine_env
    out = filled.work / "engine.json"
    env = {**docker_engine.env, "DEADWEIGHT_CACHE_DIR": str(filled.work / "engine-store")}
    result = subprocess.run(
        [str(DEADWEIGHT), "scan", "docker-daemon:", "--workers", "0", "-o", str(out)],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text())
    ids = set(docker_engine.docker("images", "-q", "--no-trunc").split())
    assert {i["imageId"] for i in doc["images"]} == ids and not doc["failed"]
    for image in doc["images"]:
        alone = analyze(open_image(f"docker-daemon:{image['imageId']}"))
        assert (image["size"], image["reclaimable"]) == (alone.size, alone.waste.reclaimable)


def test_the_fleet_page_in_the_browser(filled: Filled, browser: Any) -> None:
    page, out = filled.work / "fleet.html", filled.work / "page.json"
    result = subprocess.run(
        [str(DEADWEIGHT), "scan", filled.source, "--workers", "0", "--no-cache",
         "--html", str(page), "-o", str(out)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text())
    worst = sorted(doc["images"], key=lambda i: (-i["reclaimable"], -i["size"], i["name"]))
    browser.get(page.as_uri())
    for _ in range(100):
        if browser.execute_script("return document.body.getAttribute('data-ready')") == "1":
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the page's script never finished")
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    bars = browser.execute_script("return window.dwReport.charts.images.getOption().yAxis[0].data")
    assert bars == [i["name"] for i in worst[:30]]
    figure = browser.execute_script(
        "return document.querySelector('[data-figure=\"images\"] .value').textContent"
    )
    assert figure == str(len(doc["images"]))
    keep_screenshot(browser, "html-scan.png")
