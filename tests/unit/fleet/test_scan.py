"""``cluster.scan`` in this process: each image as ``analyze`` sees it alone, each unique
layer read once, the store honoured, failures reported with their reasons."""

from __future__ import annotations

import shutil
from pathlib import Path

from deadweight.analysis.analyze import analyze
from deadweight.cache import LayerStore
from deadweight.cluster.runners import InProcess, OnDemand
from deadweight.cluster.scan import scan
from deadweight.fleet.tally import Tally
from deadweight.sources import list_images, open_image


def test_each_image_equals_analyze_alone_and_each_layer_is_read_once(fleet_dir: Path) -> None:
    layers: list[tuple[int, int]] = []
    images: list[tuple[int, int]] = []
    fleet = scan(
        [str(fleet_dir)],
        InProcess(),
        layer_progress=lambda *done: layers.append(done),
        image_progress=lambda *done: images.append(done),
    )
    archives = sorted(fleet_dir.glob("*.tar"))
    assert len(fleet.images) == len(archives) and not fleet.failed
    diff_ids = {
        layer.diff_id for path in archives for layer in open_image(f"docker-archive:{path}").layers
    }
    assert fleet.unique_layers == len(diff_ids) == fleet.layers_read
    assert fleet.layers > fleet.unique_layers  # the bases are shared
    for figures in fleet.images:
        alone = analyze(open_image(figures.source))
        tally = Tally()
        tally.add_image(alone, name=figures.name, source=figures.source, digest=figures.digest)
        assert tally.fleet(layers_read=0, layers_cached=0).images == (figures,)
    assert layers[-1] == (len(diff_ids), len(diff_ids))
    assert images[-1] == (len(archives), len(archives))


def test_the_fleet_figures(fleet_dir: Path) -> None:
    fleet = scan([str(fleet_dir)], InProcess())
    assert fleet.total_bytes == sum(f.size for f in fleet.images)
    assert fleet.reclaimable == sum(f.reclaimable for f in fleet.images) > 0
    assert fleet.unique_bytes < fleet.total_bytes
    top = fleet.shared_layers[0]
    assert top.instruction.startswith("ADD file:debian-rootfs")
    assert len(top.images) == sum(1 for f in fleet.images if top.diff_id in f.diff_ids) > 2
    dup = fleet.duplicate_files[0]
    assert dup.paths == ("app/data/model.bin",) and dup.copies >= 2
    assert dup.extra_bytes == dup.size * (dup.copies - 1)
    by_name = {(p.ecosystem, p.name): p.images for p in fleet.packages}
    # The debian and python bases, the six apps on them (n % 3 != 2) and the apps on
    # alpine that add a dpkg database (even n: 2 and 8).
    assert by_name[("dpkg", "libc6")] == 2 + 6 + 2
    gcc = [f for f in fleet.images if any(p.name == "gcc-12" for p in f.notable)]
    assert gcc and all(p.why == "build tool" for f in gcc for p in f.notable if p.name == "gcc-12")
    assert any(p.why == "dev" and p.name == "jest" for f in fleet.images for p in f.notable)


def test_a_second_scan_reads_nothing_the_store_holds(fleet_dir: Path, tmp_path: Path) -> None:
    store = LayerStore(tmp_path / "store.sqlite")
    first = scan([str(fleet_dir)], InProcess(), store=store)
    again = scan([str(fleet_dir)], InProcess(), store=store)
    assert (again.layers_read, again.layers_cached) == (0, first.unique_layers)
    assert again.images == first.images


def test_failures_are_reported_and_the_scan_goes_on(fleet_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    shutil.copytree(fleet_dir, folder)
    (folder / "broken.tar").write_bytes(b"not a tar at all" * 100)
    good = sorted(folder.glob("[0-9]*.tar"))
    listing = tmp_path / "images.txt"
    listing.write_text(f"# a fleet\n{good[0]}\n\n{tmp_path / 'gone.tar'}\ndocker://bad ref!\n")
    fleet = scan([str(folder), str(listing)], InProcess())
    reasons = {f.name: f.reason for f in fleet.failed}
    assert len(fleet.images) == len(good)
    assert "not an image archive" in reasons[str(folder / "broken.tar")]
    assert "no such file" in reasons[str(tmp_path / "gone.tar")].lower()
    assert "invalid reference" in reasons["docker://bad ref!"]


def test_a_layer_that_cannot_be_read_fails_the_images_on_it(
    fleet_dir: Path, tmp_path: Path
) -> None:
    path = sorted(fleet_dir.glob("*.tar"))[-1]
    image = list_images(f"docker-archive:{path}")[0]
    data = bytearray(path.read_bytes())
    top = image.layers[-1]
    at = data.find(bytes(top.open_blob().read()[:512]))
    data[at + 600 : at + 700] = b"\xff" * 100  # inside the layer's tar: its diff_id breaks
    broken = tmp_path / "broken.tar"
    broken.write_bytes(bytes(data))
    fleet = scan([f"docker-archive:{broken}"], InProcess())
    assert not fleet.images
    (failed,) = fleet.failed
    assert failed.reason.startswith(f"layer {top.diff_id[:19]}: ")


def test_a_scan_with_nothing_to_read_starts_no_cluster(fleet_dir: Path, tmp_path: Path) -> None:
    store = LayerStore(tmp_path / "store.sqlite")
    first = scan([str(fleet_dir)], InProcess(), store=store)
    # Nothing listens there: connecting would fail the scan.
    with OnDemand(workers=None, scheduler="tcp://127.0.0.1:9") as runner:
        again = scan([str(fleet_dir)], runner, store=store)
    assert again.images == first.images and again.layers_read == 0
