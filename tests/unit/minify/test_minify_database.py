"""Package databases in a minified image list exactly the packages that remain (issue 12's
"explain every byte", and scanners such as trivy or grype still see what is installed)."""

from __future__ import annotations

import tarfile

from hypothesis import given
from hypothesis import strategies as st
from test_minify_plan import apk_image, dpkg_image, image, traced

from deadweight import static as S
from deadweight.minify import Reason, apply_minify, plan_minify
from deadweight.minify.database import _records
from deadweight.streams import as_file
from deadweight.validation import validate


def test_dpkg_status_lists_the_packages_that_remain_and_keeps_their_file_lists() -> None:
    plan = plan_minify(dpkg_image(), evidence=traced("/usr/bin/tool"))
    (db,) = plan.databases
    assert (db.path, db.manager, db.listed, db.total) == ("/var/lib/dpkg/status", "dpkg", 4, 7)
    text = db.data.decode()
    for name in ("tool", "libalt", "libd", "provider"):
        assert f"Package: {name}\n" in text
    for name in ("other", "coreutils", "debconf"):
        assert f"Package: {name}\n" not in text
    assert "Package: gone\nStatus: deinstall ok config-files" in text  # not installed: as it was
    assert db.changed and len(db.data) < db.size
    assert plan.kept["/var/lib/dpkg/status"] == (Reason.DATABASE,)
    assert Reason.DATABASE in plan.kept["/var/lib/dpkg/info/tool.list"]
    assert Reason.DATABASE in plan.kept["/var/lib/dpkg/info/libd:amd64.list"]
    assert "/var/lib/dpkg/info/other.list" not in plan.kept
    assert plan.before_bytes - plan.after_bytes == sum(r.size for r in plan.removed)


def test_the_minified_layer_holds_the_rewritten_status() -> None:
    img = dpkg_image()
    plan = plan_minify(img, evidence=traced("/usr/bin/tool"))
    out = apply_minify(img, plan, epoch=0)
    assert validate(out).problems == ()
    with out.layers[0].open() as stream, tarfile.open(fileobj=as_file(stream), mode="r|") as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar if m.isreg()}  # type: ignore[union-attr]
    assert files["var/lib/dpkg/status"] == plan.databases[0].data
    assert "var/lib/dpkg/info/tool.list" in files
    assert "var/lib/dpkg/info/other.list" not in files


def test_an_unchanged_database_is_kept_as_it_was() -> None:
    plan = plan_minify(dpkg_image(), evidence=None, keep=["/usr"])  # every package stays
    (db,) = plan.databases
    assert "/var/lib/dpkg/info/other.list" in plan.kept
    assert db.listed == db.total and not db.changed


def test_apk_database_without_the_removed_packages() -> None:
    img = apk_image()
    plan = plan_minify(img, evidence=None)
    (db,) = plan.databases
    assert (db.manager, db.listed, db.total) == ("apk", 2, 3)
    assert b"P:curl\n" not in db.data and db.data.startswith(b"P:musl\n")
    assert b"P:busybox\n" in db.data


def test_python_metadata_of_a_distribution_that_remains() -> None:
    site = "usr/lib/python3/dist-packages"
    record = "flask/__init__.py,,\nflask/cli.py,,\nflask-3.0.dist-info/METADATA,,\n"
    img = image(
        [
            S.File(f"{site}/flask/__init__.py", b"import x"),
            S.File(f"{site}/flask/cli.py", b"c" * 100),
            S.File(f"{site}/flask-3.0.dist-info/METADATA", b"Name: flask\nVersion: 3.0\n"),
            S.File(f"{site}/flask-3.0.dist-info/RECORD", record.encode()),
        ],
    )
    plan = plan_minify(img, evidence=traced(f"/{site}/flask/__init__.py"), packages="none")
    assert f"/{site}/flask/cli.py" not in plan.kept
    assert Reason.DATABASE in plan.kept[f"/{site}/flask-3.0.dist-info/METADATA"]


@given(st.lists(st.sampled_from([b"P:a\n", b"\n", b"\n\n", b"x", b"Package: b\r\n", b" \n"])))
def test_records_join_back_to_the_database(parts: list[bytes]) -> None:
    data = b"".join(parts)
    assert b"".join(_records(data)) == data
