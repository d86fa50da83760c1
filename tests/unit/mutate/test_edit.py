"""Edits a squash applies to its new layer (files, owners) and ``with_config``."""

from __future__ import annotations

import json
import re
import tarfile
from collections.abc import Callable, Sequence

import pytest

from deadweight import static
from deadweight.errors import UsageError
from deadweight.image import Image, Layer
from deadweight.mutate import Edit, NewFile, Owner, squash_merge, with_config
from deadweight.streams import as_file

S = static


def img(*layers: Sequence[static.Entry]) -> Image:
    return S.image([S.Step(f"RUN {i}", S.layer(list(e))) for i, e in enumerate(layers)])


def members(layer: Layer) -> list[tuple[str, str, int, int, int, bytes]]:
    """(name, type, mode, uid, gid, data) of every member, in tar order."""
    out = []
    with layer.open() as stream, tarfile.open(fileobj=as_file(stream), mode="r|") as tar:
        for m in tar:
            data = b""
            if m.isreg():
                f = tar.extractfile(m)
                assert f is not None
                data = f.read()
            kind = {tarfile.DIRTYPE: "dir", tarfile.LNKTYPE: "link", tarfile.SYMTYPE: "sym"}
            out.append((m.name, kind.get(m.type, "file"), m.mode, m.uid, m.gid, data))
    return out


BASE: list[static.Entry] = [
    S.Dir("etc"),
    S.File("etc/passwd", b"root\n"),
    S.Dir("app"),
    S.File("app/a", b"a"),
]


def test_files_replace_lower_and_upper_versions_and_owners_cover_a_lower_directory() -> None:
    image = img(BASE, [S.File("etc/group", b"old"), S.File("app/b", b"bb", uid=5, gid=6)])
    edit = Edit(
        (NewFile("etc/passwd", b"root\napp\n"), NewFile("etc/group", b"new\n", 0o640)),
        Owner("app", 10001, 10002),
    )
    done = squash_merge(image, 1, epoch=0, edit=edit)
    out, merged = done.image, done.merge
    assert merged is not None
    assert members(out.layers[-1]) == [
        ("app", "dir", 0o755, 10001, 10002, b""),
        ("app/b", "file", 0o644, 10001, 10002, b"bb"),
        ("etc/group", "file", 0o640, 0, 0, b"new\n"),
        ("etc/passwd", "file", 0o644, 0, 0, b"root\napp\n"),
    ]
    assert out.layers[0] is image.layers[0]


def test_a_file_under_missing_directories_gets_them() -> None:
    image = img([S.File("bin/sh", b"x")], [S.File("srv/x", b"1")])
    done = squash_merge(image, 1, edit=Edit((NewFile("etc/ssl/passwd", b"p"),)))
    out, _ = done.image, done.merge
    assert [(m[0], m[1]) for m in members(out.layers[-1])] == [
        ("etc", "dir"),
        ("etc/ssl", "dir"),
        ("etc/ssl/passwd", "file"),
        ("srv", "dir"),
        ("srv/x", "file"),
    ]


@pytest.mark.parametrize(
    ("layers", "edit", "message"),
    [
        (
            [BASE, [S.File("etc/group", b"g"), S.Hardlink("etc/group-", "etc/group")]],
            Edit((NewFile("etc/group", b"x"),)),
            "/etc/group has other names (hardlinks); not rewritten",
        ),
        ([BASE, [S.File("x", b"1")]], Edit((NewFile("app", b"x"),)), "/app is a directory"),
        (
            [BASE, [S.Symlink("run", "/tmp")]],
            Edit((NewFile("run/passwd", b"x"),)),
            "/run is not a directory; /run/passwd not written",
        ),
        (
            [BASE, [S.File("x", b"1")]],
            Edit(owner=Owner("app/a", 1, 1)),
            "/app/a is not a directory; owners not changed",
        ),
    ],
)
def test_edits_that_would_change_more_than_they_name_are_refused(
    layers: list[list[static.Entry]], edit: Edit, message: str
) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        squash_merge(img(*layers), 1, edit=edit)


def test_with_config_sets_and_removes_keys_and_keeps_layers() -> None:
    image = S.image(
        [S.Step("RUN a", S.layer(BASE))],
        config={"Entrypoint": ["npm"], "Cmd": ["start"], "Env": ["A=1"]},
    )
    out = with_config(image, {"Entrypoint": None, "Cmd": ["node", "x.js"], "User": "1:2"})
    assert json.loads(out.raw_config)["config"] == {
        "Cmd": ["node", "x.js"],
        "Env": ["A=1"],
        "User": "1:2",
    }
    assert out.layers == image.layers and out.id != image.id
    assert with_config(image, {}) is image


def test_removed_directories_go_with_their_dropped_files() -> None:
    image = img(
        BASE,
        [S.File("app/nm/jest/a.js", b"j"), S.Dir("app/nm/jest/lib"), S.File("app/nm/x/b.js", b"x")],
    )
    drop = lambda path: path.startswith("app/nm/jest/")  # noqa: E731
    done = squash_merge(image, 1, drop=drop, edit=Edit(remove=("app/nm/jest",)))
    out, merged = done.image, done.merge
    assert merged is not None and [d.path for d in merged.dropped] == ["app/nm/jest/a.js"]
    assert [m[0] for m in members(out.layers[-1])] == ["app/nm", "app/nm/x", "app/nm/x/b.js"]


@pytest.mark.parametrize(
    ("drop", "remove", "message"),
    [
        (None, "app/nm", "/app/nm/a.js is still in /app/nm; /app/nm not removed"),
        (lambda path: True, "app", "/app is also in the kept layers; not removed"),
    ],
)
def test_removing_a_directory_that_still_holds_something_is_refused(
    drop: Callable[[str], bool] | None, remove: str, message: str
) -> None:
    image = img(BASE, [S.File("app/nm/a.js", b"a")])
    with pytest.raises(UsageError, match=re.escape(message)):
        squash_merge(image, 1, drop=drop, edit=Edit(remove=(remove,)))
