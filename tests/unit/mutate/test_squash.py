"""squash and prune on synthetic images: exact layer contents, the merged file system kept
(whiteouts over kept layers, opaque dirs, hardlinks, symlinks), deterministic output."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Sequence

import pytest

from deadweight import mediatypes, static
from deadweight.errors import UsageError
from deadweight.filetree.delta import read_delta
from deadweight.filetree.tree import Tree, stack
from deadweight.image import Image, Layer
from deadweight.mutate import gzip_layers, prune, squash, squash_merge
from deadweight.streams import as_file

S = static


def img(*layers: Sequence[static.Entry]) -> Image:
    steps = [S.Step(f"RUN step {i}", S.layer(list(entries))) for i, entries in enumerate(layers)]
    return S.image(steps)


def members(layer: Layer) -> list[tuple[str, str, str]]:
    """(name, type, linkname or data) of every member, in tar order."""
    out = []
    with layer.open() as stream, tarfile.open(fileobj=as_file(stream), mode="r|") as tar:
        for m in tar:
            data = ""
            if m.isreg():
                f = tar.extractfile(m)
                assert f is not None
                data = f.read().decode()
            kind = {tarfile.DIRTYPE: "dir", tarfile.LNKTYPE: "link", tarfile.SYMTYPE: "sym"}
            out.append((m.name, kind.get(m.type, "file"), m.linkname or data))
    return out


def tree(image: Image) -> Tree:
    deltas = []
    for layer in image.layers:
        with layer.open() as stream:
            deltas.append(read_delta(stream, hash="sha256"))
    return stack(deltas)


def view(image: Image, modes: bool = True) -> dict[str, tuple[object, ...]]:
    """The merged file system as a container sees it: hardlinks are files with content
    (their mode is the inode's, which a tree does not record: ``modes=False`` skips it)."""
    t = tree(image)
    out: dict[str, tuple[object, ...]] = {}
    for path, n in t.nodes.items():
        kind = "file" if n.kind in ("file", "hardlink") else n.kind
        link = n.link if n.kind == "symlink" else ""
        mode = n.mode if modes or n.kind == "dir" else None
        out[path] = (kind, mode, n.uid, n.gid, link, n.digest, n.size)
    return out


def same_fs(a: Image, b: Image, modes: bool = True) -> None:
    assert view(a, modes) == view(b, modes)


BASE: list[static.Entry] = [
    S.Dir("etc"),
    S.File("etc/os-release", b"busybox\n"),
    S.Dir("app"),
    S.File("app/old.txt", b"old"),
    S.File("app/keep.txt", b"keep"),
]


def test_whiteout_over_a_kept_layer_is_kept_and_range_only_paths_leave_no_trace() -> None:
    image = img(
        BASE,
        [S.Dir("tmp"), S.File("tmp/big", b"x" * 1000), S.File("app/new.txt", b"new")],
        [S.Whiteout("app/old.txt"), S.Whiteout("tmp/big")],
    )
    out = squash(image, 1)
    assert len(out.layers) == 2
    assert out.layers[0] is image.layers[0]
    assert members(out.layers[1]) == [
        ("app/.wh.old.txt", "file", ""),
        ("app/new.txt", "file", "new"),
        ("tmp", "dir", ""),
    ]
    same_fs(image, out)


def test_opaque_dir_in_the_range_becomes_one_opaque_marker() -> None:
    image = img(BASE, [S.Dir("app"), S.Opaque("app"), S.File("app/only.txt", b"only")])
    out = squash(image, 1)
    assert members(out.layers[1]) == [
        ("app", "dir", ""),
        ("app/.wh..wh..opq", "file", ""),
        ("app/only.txt", "file", "only"),
    ]
    same_fs(image, out)


def test_delete_then_recreate_a_directory() -> None:
    image = img(
        BASE,
        [S.Whiteout("app")],
        [S.Dir("app", mode=0o700), S.File("app/keep.txt", b"new keep")],
    )
    out = squash(image, 1)
    assert members(out.layers[1]) == [
        ("app", "dir", ""),
        ("app/.wh..wh..opq", "file", ""),
        ("app/keep.txt", "file", "new keep"),
    ]
    same_fs(image, out)


def test_a_directory_with_kept_children_gets_whiteouts_not_an_opaque_marker() -> None:
    image = img(BASE, [S.Dir("app", mode=0o700), S.Whiteout("app/old.txt")])
    out = squash(image, 1)
    assert members(out.layers[1]) == [("app", "dir", ""), ("app/.wh.old.txt", "file", "")]
    same_fs(image, out)


def test_whiteout_of_a_whole_lower_directory_is_one_whiteout() -> None:
    image = img(BASE, [S.Whiteout("app")], [S.File("etc/motd", b"hi")])
    out = squash(image, 1)
    assert members(out.layers[1]) == [(".wh.app", "file", ""), ("etc/motd", "file", "hi")]
    same_fs(image, out)


def test_hardlink_to_a_file_deleted_later_carries_the_data() -> None:
    image = img(
        BASE,
        [S.File("opt/f", b"payload")],
        [S.Hardlink("opt/g", "opt/f")],
        [S.Whiteout("opt/f")],
    )
    out = squash(image, 1)
    assert members(out.layers[1]) == [("opt", "dir", ""), ("opt/g", "file", "payload")]
    same_fs(image, out, modes=False)


def test_hardlinks_across_layers_put_the_data_on_the_first_name() -> None:
    image = img(BASE, [S.File("z/f", b"data", mode=0o755)], [S.Hardlink("a/link", "z/f")])
    out = squash(image, 1)
    assert members(out.layers[1]) == [
        ("a", "dir", ""),
        ("a/link", "file", "data"),
        ("z", "dir", ""),
        ("z/f", "link", "a/link"),
    ]
    same_fs(image, out, modes=False)


def test_hardlink_to_a_kept_layer_file_stays_a_hardlink() -> None:
    image = img(BASE, [S.Hardlink("etc/os-release.bak", "etc/os-release")])
    out = squash(image, 1)
    assert members(out.layers[1]) == [("etc/os-release.bak", "link", "etc/os-release")]
    same_fs(image, out)


def test_symlinked_app_directory_is_kept_and_written_through_its_target() -> None:
    base: list[static.Entry] = [S.Dir("srv"), S.Dir("srv/app"), S.Symlink("app", "srv/app")]
    image = img(
        base,
        [S.File("srv/app/server.js", b"js")],
        [S.Symlink("current", "srv/app"), S.File("srv/app/server.js", b"js2")],
    )
    out = squash(image, 1)
    assert members(out.layers[1]) == [
        ("current", "sym", "srv/app"),
        ("srv/app/server.js", "file", "js2"),
    ]
    same_fs(image, out)


def test_file_replaced_by_a_directory_and_a_directory_by_a_file() -> None:
    image = img(BASE, [S.File("app", b"now a file"), S.Dir("etc/os-release")])
    out = squash(image, 1)
    assert members(out.layers[1]) == [("app", "file", "now a file"), ("etc/os-release", "dir", "")]
    same_fs(image, out)


def test_squash_all_layers_has_no_whiteouts() -> None:
    image = img(BASE, [S.Whiteout("app/old.txt")], [S.File("tmp/x", b"1")])
    out = squash(image, 0)
    assert [m[0] for m in members(out.layers[0])] == [
        "app",
        "app/keep.txt",
        "etc",
        "etc/os-release",
        "tmp",
        "tmp/x",
    ]
    same_fs(image, out)


def test_config_history_and_diff_ids() -> None:
    image = img(BASE, [S.File("a", b"1")], [S.File("b", b"2")])
    out = squash(image, 1, epoch=86400)
    doc = json.loads(out.raw_config)
    assert doc["rootfs"]["diff_ids"] == [image.layers[0].diff_id, out.layers[1].diff_id]
    assert doc["created"] == "1970-01-02T00:00:00Z"
    assert [(h["created_by"], h.get("empty_layer", False)) for h in doc["history"]] == [
        ("RUN step 0", False),
        ("RUN step 1", True),
        ("RUN step 2", True),
        ("deadweight squash 2 layer(s) above layer 1", False),
    ]
    assert doc["history"][-1]["created"] == "1970-01-02T00:00:00Z"
    assert out.config.diff_ids == (image.layers[0].diff_id, out.layers[1].diff_id)
    assert image.layers[1].diff_id != out.layers[1].diff_id  # the input is untouched


def test_same_input_and_options_give_the_same_digests() -> None:
    image = img(BASE, [S.File("b", b"2"), S.File("a", b"1")], [S.Whiteout("app/old.txt")])
    one, two = squash(image, 1, epoch=1700000000), squash(image, 1, epoch=1700000000)
    assert one.id == two.id
    assert one.layers[1].diff_id == two.layers[1].diff_id
    other = squash(image, 1, epoch=1700000001)
    assert other.id != one.id


def test_epoch_sets_every_mtime_and_names_are_dropped() -> None:
    image = img(BASE, [S.File("a", b"1", uid=1000, gid=1001)])
    out = squash(image, 1, epoch=1234)
    with out.layers[1].open() as stream, tarfile.open(fileobj=as_file(stream), mode="r|") as tar:
        got = [(m.name, m.mtime, m.uid, m.gid, m.uname) for m in tar]
    assert got == [("a", 1234, 1000, 1001, "")]


def test_extended_attributes_are_kept() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("bin/ping")
        info.size, info.mode = 3, 0o755
        info.pax_headers = {"SCHILY.xattr.security.capability": "cap", "comment": "drop me"}
        tar.addfile(info, io.BytesIO(b"elf"))
    raw = buf.getvalue()
    from deadweight.digest import sha256_bytes
    from deadweight.spec.manifest import Descriptor

    top = Layer(
        sha256_bytes(raw),
        Descriptor(mediatypes.OCI_LAYER, sha256_bytes(raw), len(raw)),
        lambda: io.BytesIO(raw),
    )
    image = S.image([S.Step("base", S.layer(BASE)), S.Step("cap", top)])
    out = squash(image, 1)
    with out.layers[1].open() as stream, tarfile.open(fileobj=as_file(stream), mode="r|") as tar:
        got = [(m.name, m.mode, m.pax_headers) for m in tar]
    assert got == [
        ("bin", 0o755, {}),
        ("bin/ping", 0o755, {"SCHILY.xattr.security.capability": "cap"}),
    ]


def test_nothing_to_squash_returns_the_image_and_bad_counts_are_refused() -> None:
    image = img(BASE)
    assert squash(image, 1) is image
    with pytest.raises(UsageError, match="cannot keep 2 bottom layers of an image with 1"):
        squash(image, 2)


def test_prune_drops_files_of_the_top_layer_and_whites_out_lower_ones() -> None:
    image = img(
        BASE,
        [
            S.Dir("var/lib/apt/lists"),
            S.File("var/lib/apt/lists/deb_main", b"x" * 500),
            S.File("app/keep.txt", b"overwritten"),
            S.File("app/main", b"main"),
        ],
    )
    done = squash_merge(
        image, 1, drop=lambda p: p.startswith("var/lib/apt/lists/") or p == "app/keep.txt"
    )
    out, merged = done.image, done.merge
    assert merged is not None
    assert [n.path for n in merged.dropped] == ["app/keep.txt", "var/lib/apt/lists/deb_main"]
    assert merged.dropped_bytes == 511
    assert members(out.layers[1]) == [
        ("app/.wh.keep.txt", "file", ""),
        ("app/main", "file", "main"),
        ("var", "dir", ""),
        ("var/lib", "dir", ""),
        ("var/lib/apt", "dir", ""),
        ("var/lib/apt/lists", "dir", ""),
    ]
    pruned = prune(image, lambda p: p.startswith("var/lib/apt/lists/") or p == "app/keep.txt")
    assert pruned.id == out.id


def test_prune_keeps_an_inode_another_name_still_uses() -> None:
    image = img(BASE, [S.File("tmp/a", b"abc"), S.Hardlink("usr/b", "tmp/a")])
    done = squash_merge(image, 1, drop=lambda p: p.startswith("tmp/"))
    out, merged = done.image, done.merge
    assert merged is not None and merged.dropped_bytes == 0
    assert members(out.layers[1]) == [
        ("tmp", "dir", ""),
        ("usr", "dir", ""),
        ("usr/b", "file", "abc"),
    ]


def test_gzip_layers_is_deterministic_and_keeps_diff_ids() -> None:
    image = squash(img(BASE, [S.File("a", b"1" * 4000)]), 1, epoch=0)
    one, two = gzip_layers(image), gzip_layers(image)
    assert [layer.blob.digest for layer in one.layers] == [
        layer.blob.digest for layer in two.layers
    ]
    assert one.id == image.id
    assert [layer.blob.media_type for layer in one.layers] == [
        "application/vnd.oci.image.layer.v1.tar+gzip"
    ] * 2
    with one.layers[1].open() as a, image.layers[1].open() as b:
        assert a.read() == b.read()
    assert gzip_layers(one) is one


def test_a_name_twice_in_one_layer_each_member_gives_its_own_data() -> None:
    # the first "x" lives on as "y" (a hardlink made before "x" was written again), the
    # second as "x": the squash reads both members of that name, and an empty one
    image = img(
        BASE,
        [
            S.File("opt/x", b"first"),
            S.Hardlink("opt/y", "opt/x"),
            S.File("opt/x", b"second"),
            S.File("opt/empty", b""),
            S.File("opt/empty2", b""),
        ],
    )
    out = squash(image, 1)
    assert members(out.layers[1]) == [
        ("opt", "dir", ""),
        ("opt/empty", "file", ""),
        ("opt/empty2", "file", ""),
        ("opt/x", "file", "second"),
        ("opt/y", "file", "first"),
    ]
    same_fs(image, out, modes=False)


def _raw_layer(infos: Sequence[tarfile.TarInfo], fmt: int = tarfile.USTAR_FORMAT) -> Layer:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for info in infos:
            tar.addfile(info)
    raw = buf.getvalue()
    from deadweight.digest import sha256_bytes
    from deadweight.spec.manifest import Descriptor

    digest = sha256_bytes(raw)
    return Layer(
        digest, Descriptor(mediatypes.OCI_LAYER, digest, len(raw)), lambda: io.BytesIO(raw)
    )


def test_members_that_differ_in_one_header_field_each_keep_it() -> None:
    # the squash makes a member's head once per distinct raw header but the name: each
    # field that head holds must tell two members apart
    def info(name: str, **fields: object) -> tarfile.TarInfo:
        made = tarfile.TarInfo(name)
        made.mode, made.mtime = 0o644, 1000
        for key, value in fields.items():
            setattr(made, key, value)
        return made

    infos = [
        info("d/a"),
        info("d/b"),  # the same head as d/a
        info("d/c", mode=0o600),
        info("d/e", uid=7),
        info("d/f", gid=8),
        info("d/g", mtime=2000),
        info("d/h", type=tarfile.FIFOTYPE),
        info("d/i", type=tarfile.CHRTYPE, devmajor=1, devminor=3),
        info("d/j", type=tarfile.CHRTYPE, devmajor=1, devminor=5),
        info("d/k", type=tarfile.CHRTYPE, devmajor=4, devminor=5),
        info("d/l", type=tarfile.SYMTYPE, linkname="a"),
        info("d/m", type=tarfile.SYMTYPE, linkname="b"),
    ]
    image = S.image([S.Step("base", S.layer(BASE)), S.Step("top", _raw_layer(infos))])
    out = squash(image, 1)
    with out.layers[1].open() as stream, tarfile.open(fileobj=as_file(stream), mode="r|") as tar:
        got = [(m.name, m.type, m.mode, m.uid, m.gid, m.mtime, m.devmajor, m.devminor,
                m.linkname) for m in tar if m.name != "d"]  # fmt: skip
    want = [(i.name, i.type, i.mode, i.uid, i.gid, i.mtime, i.devmajor, i.devminor,
             i.linkname) for i in infos]  # fmt: skip
    assert got == want


def test_a_name_written_again_after_a_child_replaced_it_gives_the_last_data() -> None:
    # "a" is a file, then the implicit parent of "a/b", then a file again: the squash must
    # take the third member of the layer named "a", though no "a" was live when it came
    image = img(BASE, [S.File("a", b"first"), S.File("a/b", b"x"), S.File("a", b"second")])
    out = squash(image, 1)
    assert members(out.layers[1]) == [("a", "file", "second")]
    same_fs(image, out)


def test_a_member_the_first_read_dropped_does_not_stand_in_for_a_file_of_its_name() -> None:
    # a hardlink leaving the root is dropped when the layer is read; a file of the same
    # name follows: the squash finds the file's member by its inode, never the link's
    link = tarfile.TarInfo("x")
    link.type, link.linkname = tarfile.LNKTYPE, "../../etc/passwd"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        tar.addfile(link)
        real = tarfile.TarInfo("x")
        real.size = 4
        tar.addfile(real, io.BytesIO(b"real"))
    raw = buf.getvalue()
    from deadweight.digest import sha256_bytes
    from deadweight.spec.manifest import Descriptor

    digest = sha256_bytes(raw)
    top = Layer(digest, Descriptor(mediatypes.OCI_LAYER, digest, len(raw)), lambda: io.BytesIO(raw))
    image = S.image([S.Step("base", S.layer(BASE)), S.Step("top", top)])
    out = squash(image, 1)
    assert members(out.layers[1]) == [("x", "file", "real")]
