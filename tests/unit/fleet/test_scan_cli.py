"""``deadweight scan``: the JSON report and its schema, --previous, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from deadweight.fleet.tally import SCHEMA_VERSION

DEADWEIGHT = Path(sys.executable).with_name("deadweight")


def _scan(*args: str) -> tuple[int, str, str]:
    """The real executable: exit codes and stderr come from the one error handler."""
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    result = subprocess.run(
        [str(DEADWEIGHT), "scan", "--workers", "0", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert "Traceback" not in result.stderr
    return result.returncode, result.stdout, result.stderr


def test_json_report_and_summary(fleet_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "fleet.json"
    code, text, _ = _scan(str(fleet_dir), "-o", str(out), "--no-cache")
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["schemaVersion"] == SCHEMA_VERSION and doc["kind"] == "deadweight-fleet"
    totals = doc["fleet"]
    assert totals["images"] == len(doc["images"]) == len(list(fleet_dir.glob("*.tar")))
    assert totals["layersRead"] == totals["uniqueLayers"]
    assert totals["totalBytes"] == sum(i["size"] for i in doc["images"])
    first = doc["images"][0]
    assert set(first) >= {"name", "size", "reclaimable", "byCause", "bloat", "packagesOfNote"}
    assert text.startswith(f"{totals['images']} images (0 failed)")
    assert "Most shared layers" in text and "Packages on most images" in text
    _, stdout, _ = _scan(str(fleet_dir), "--format", "json", "--no-cache")
    assert json.loads(stdout) == doc


def test_previous_says_what_grew(fleet_dir: Path, tmp_path: Path) -> None:
    before = tmp_path / "before.json"
    assert _scan(str(fleet_dir), "-o", str(before))[0] == 0
    doc = json.loads(before.read_text())
    shrunk = doc["images"][0]
    shrunk["size"] -= 1000
    doc["images"].append({**shrunk, "name": "gone:1"})
    doc["fleet"]["totalBytes"] -= 5000
    before.write_text(json.dumps(doc))
    code, _, _ = _scan(str(fleet_dir), "--previous", str(before), "-o", str(tmp_path / "a.json"))
    assert code == 0
    changes = json.loads((tmp_path / "a.json").read_text())["changes"]
    assert changes["removed"] == ["gone:1"] and changes["added"] == []
    (grew,) = changes["images"]
    assert grew["name"] == shrunk["name"]
    assert grew["size"][1] - grew["size"][0] == 1000
    assert changes["totalBytes"][1] - changes["totalBytes"][0] == 5000


def test_failed_images_exit_3_with_the_report_written(fleet_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    shutil.copytree(fleet_dir, folder)
    (folder / "zz-broken.tar").write_bytes(b"\0" * 4096)
    out = tmp_path / "fleet.json"
    code, text, err = _scan(str(folder), "-o", str(out))
    assert code == 3
    assert err.strip() == (
        "deadweight: error: 1 of 13 images could not be scanned (listed in the report)"
    )
    failed = json.loads(out.read_text())["failed"]
    assert [f["name"] for f in failed] == [str(folder / "zz-broken.tar")]
    assert "Failed\n  " + str(folder / "zz-broken.tar") in text


def test_usage_errors(fleet_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    for args, message in [
        ((str(fleet_dir), "--previous", str(bad)), "not a deadweight fleet report"),
        ((str(fleet_dir), "--previous", str(tmp_path / "none.json")), "no such file"),
        ((str(fleet_dir), "--scheduler", "tcp://127.0.0.1:1"), "exclude each other"),
    ]:
        code, _, err = _scan(*args)
        assert code == 2 and message in err, err
    code, _, err = _scan(str(tmp_path / "empty-dir-that-is-missing"))
    assert code == 3


def test_an_empty_folder_is_no_image(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, _, err = _scan(str(tmp_path / "empty"))
    assert code == 3 and "no image found" in err


def test_html_page(fleet_dir: Path, tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "render"))
    from html_page import Page

    page_path, out = tmp_path / "fleet.html", tmp_path / "fleet.json"
    code, _, err = _scan(str(fleet_dir), "--html", str(page_path), "-o", str(out))
    assert code == 0, err
    page = Page(page_path.read_text(encoding="utf-8"))
    doc = json.loads(out.read_text())
    assert page.fetches == []
    assert page.data["kind"] == "fleet"
    worst = sorted(doc["images"], key=lambda i: (-i["reclaimable"], -i["size"], i["name"]))
    assert [b["label"] for b in page.data["images"]] == [i["name"] for i in worst]
    assert [r[0] for r in page.rows("images-table")] == [i["name"] for i in worst]
    shared = doc["fleet"]["sharedLayers"]
    assert [int(r[0]) for r in page.rows("shared-table")] == [len(s["images"]) for s in shared]
    assert page.rows("failed-table") == [["none"]]
    code, _, err = _scan(str(fleet_dir), "--html", str(tmp_path / "no" / "such" / "x.html"))
    assert code == 2 and "no such directory" in err


def _scan_without_dask(*args: str) -> tuple[int, str, str]:
    """The CLI in a process where ``dask`` and ``distributed`` cannot be imported, as in a
    plain ``pip install deadweight`` without the ``fleet`` extra."""
    code = (
        "import sys\n"
        "sys.modules['dask'] = None\n"
        "sys.modules['distributed'] = None\n"
        "from deadweight.cli import main\n"
        "sys.argv = ['deadweight', 'scan', *sys.argv[1:]]\n"
        "main()\n"
    )
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert "Traceback" not in result.stderr
    return result.returncode, result.stdout, result.stderr


def test_without_dask_the_layers_are_read_in_this_process(fleet_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "fleet.json"
    code, _, err = _scan_without_dask(str(fleet_dir), "-o", str(out), "--no-cache")
    assert code == 0, err
    assert err == (
        "deadweight: Dask is not installed: reading the layers in this process "
        "(pip install 'deadweight[fleet]' to read them on a cluster)\n"
    )
    totals = json.loads(out.read_text())["fleet"]
    assert totals["layersRead"] == totals["uniqueLayers"] > 0


def test_without_dask_a_scheduler_is_a_one_line_error(fleet_dir: Path) -> None:
    code, _, err = _scan_without_dask(str(fleet_dir), "--scheduler", "tcp://127.0.0.1:9")
    assert code == 3
    assert err == "deadweight: error: --scheduler needs Dask: pip install 'deadweight[fleet]'\n"
