"""The non-root user: ids that are free, minimal files, reuse, and every refusal."""

from __future__ import annotations

import json
from collections.abc import Sequence

from deadweight import static
from deadweight.analysis.sizes import layer_sizes
from deadweight.filetree.tree import Tree, stack
from deadweight.mutate import NewFile, Owner, layer_deltas
from deadweight.optimize import apply, plan
from deadweight.optimize._content import read_files
from deadweight.optimize.user import User, non_root

S = static
ROOT = {"WorkingDir": "/app"}


def tree(*layers: Sequence[static.Entry]) -> Tree:
    image = S.image([S.Step(f"RUN {i}", S.layer(list(e))) for i, e in enumerate(layers)])
    return stack(layer_deltas(image))


APP: list[static.Entry] = [S.Dir("app"), S.File("app/main.js", b"m")]


def test_free_ids_are_taken_after_10001() -> None:
    passwd = b"root:x:0:0::/root:/bin/sh\na:x:10001:1::/:/bin/false\nb:x:10002:1::/:/x\n"
    group = b"root:x:0:\ng:x:10001:\n"
    t = tree([S.File("etc/passwd", passwd), S.File("etc/group", group), *APP])
    got = non_root(ROOT, t, {"etc/passwd": passwd, "etc/group": group}, 0)
    assert got.user == "10003:10002"
    assert got.files == (
        NewFile("etc/passwd", passwd + b"app:x:10003:10002:app:/app:/sbin/nologin\n"),
        NewFile("etc/group", group + b"app:x:10002:\n"),
    )
    assert got.owner == Owner("app", 10003, 10002)


def test_minimal_files_when_the_image_has_none_and_a_missing_newline() -> None:
    t = tree(APP)
    got = non_root({"WorkingDir": "/app/", "User": "root"}, t, {}, 0)
    assert got.files == (
        NewFile(
            "etc/passwd",
            b"root:x:0:0:root:/root:/bin/sh\napp:x:10001:10001:app:/app:/sbin/nologin\n",
        ),
        NewFile("etc/group", b"root:x:0:\napp:x:10001:\n"),
    )
    t = tree([S.File("etc/passwd", b"root:x:0:0::/:/bin/sh", mode=0o600), *APP])
    got = non_root(ROOT, t, {"etc/passwd": b"root:x:0:0::/:/bin/sh"}, 0)
    assert got.files[0] == NewFile(
        "etc/passwd", b"root:x:0:0::/:/bin/sh\napp:x:10001:10001:app:/app:/sbin/nologin\n", 0o600
    )


def test_an_existing_app_user_and_group_are_reused() -> None:
    passwd, group = b"app:x:500:600::/app:/bin/sh\n", b"app:x:600:\n"
    t = tree([S.File("etc/passwd", passwd), S.File("etc/group", group), *APP])
    got = non_root(ROOT, t, {"etc/passwd": passwd, "etc/group": group}, 0)
    assert got == User((), Owner("app", 500, 600), "500:600", note=got.note)
    root_app = b"app:x:0:0::/:/bin/sh\n"
    t = tree([S.File("etc/passwd", root_app), *APP])
    assert non_root(ROOT, t, {"etc/passwd": root_app}, 0).reason == "the user app exists with uid 0"


def test_refusals() -> None:
    linked = tree([S.Dir("srv"), S.Symlink("app", "srv"), S.File("srv/x", b"1")])
    assert non_root(ROOT, linked, {}, 0).reason == "WorkingDir /app is a symlink, not a directory"
    t = tree([S.Dir("etc"), S.Symlink("etc/passwd", "/run/passwd"), *APP])
    assert (
        non_root(ROOT, t, {}, 0).reason
        == "/etc/passwd is a symlink, not a plain file; no user added"
    )
    t = tree([S.File("etc/group", b"root:x:0:\n"), S.Hardlink("etc/group-", "etc/group"), *APP])
    assert (
        non_root(ROOT, t, {}, 0).reason == "/etc/group has other names (hardlinks); no user added"
    )
    t = tree([S.Symlink("etc", "/run/etc"), *APP])
    assert non_root(ROOT, t, {}, 0).reason == "/etc is not a directory; no user added"
    t = tree([S.File("etc/passwd", b"root:x:0:0::/:/bin/sh\n"), *APP])
    assert non_root(ROOT, t, {}, 0).reason == "/etc/passwd could not be read; no user added"
    assert non_root({"WorkingDir": "/app/main.js"}, tree(APP), {}, 0).reason == (
        "WorkingDir /app/main.js is a file, not a directory"
    )


def test_an_image_without_etc_gets_one_and_a_lower_app_dir_changes_owner() -> None:
    image = S.image(
        [
            S.Step("ADD rootfs.tar /", S.layer([S.Dir("app"), S.File("app/base.txt", b"b" * 9)])),
            S.Step('CMD ["sh"]'),
            S.Step("COPY main.js /app/", S.layer([S.File("app/main.js", b"m" * 5)])),
        ],
        config={"Cmd": ["/app/main.js"], "WorkingDir": "/app"},
    )
    p = plan(image, level="moderate", epoch=0)
    assert p.keep_bottom == 1
    note = (
        "User 10001:10001 (app) owns /app and what the new layer holds below it; "
        "1 entries below it from the base layers keep their owner"
    )
    added = len(b"root:x:0:0:root:/root:/bin/sh\napp:x:10001:10001:app:/app:/sbin/nologin\n")
    added += len(b"root:x:0:\napp:x:10001:\n")
    assert [(s.name, s.bytes, s.note) for s in p.steps if s.name == "non-root"] == [
        ("non-root", -added, note)
    ]
    out = apply(image, p)
    assert sum(layer_sizes(out)) - sum(layer_sizes(image)) == added
    t = stack(layer_deltas(out))
    assert t.nodes["etc"].kind == "dir"
    assert (t.nodes["app"].uid, t.nodes["app"].gid) == (10001, 10001)
    assert (t.nodes["app/main.js"].uid, t.nodes["app/base.txt"].uid) == (10001, 0)
    assert read_files(out, t, ["etc/group"])["etc/group"] == b"root:x:0:\napp:x:10001:\n"
    assert json.loads(out.raw_config)["config"]["User"] == "10001:10001"
    assert p.skipped == ()


def test_a_passwd_written_above_the_base_is_replaced_there() -> None:
    passwd = b"root:x:0:0::/root:/bin/sh\n"
    image = S.image(
        [
            S.Step("ADD rootfs.tar /", S.layer([S.File("etc/passwd", b"old\n"), *APP])),
            S.Step('CMD ["sh"]'),
            S.Step("RUN edit passwd", S.layer([S.File("etc/passwd", passwd)])),
        ],
        config={"Cmd": ["/app/main.js"], "WorkingDir": "/app"},
    )
    p = plan(image, level="moderate")
    line = b"app:x:10001:10001:app:/app:/sbin/nologin\n"
    group = b"root:x:0:\napp:x:10001:\n"
    assert [s.bytes for s in p.steps if s.name == "non-root"] == [-(len(line) + len(group))]
    out = apply(image, p)
    assert sum(layer_sizes(out)) - sum(layer_sizes(image)) == len(line) + len(group)
    t = stack(layer_deltas(out))
    assert read_files(out, t, ["etc/passwd"])["etc/passwd"] == passwd + line
