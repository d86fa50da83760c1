"""``compare``: shared layers never opened, exact deltas for steps, files, packages, config."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from compare_helpers import MemoryStore, Opened, counted, sealed

from deadweight import static
from deadweight.compare import (
    BaseInfo,
    ConfigChange,
    DirChange,
    FileChange,
    FileState,
    PackageChange,
    PlatformMismatch,
    StepChange,
    compare,
)
from deadweight.compare.diff import read_sides
from deadweight.errors import UsageError
from deadweight.image import Image, Layer


def dpkg(*pkgs: tuple[str, str, int]) -> bytes:
    return "".join(
        f"Package: {n}\nStatus: install ok installed\nVersion: {v}\nInstalled-Size: {s}\n\n"
        for n, v, s in pkgs
    ).encode()


PASSWD = b"root:x:0:0:root:/root:/bin/sh\n"
BASE_FILES: list[static.Entry] = [
    static.Dir("etc"),
    static.File("etc/passwd", PASSWD),
    static.Dir("bin"),
    static.File("bin/sh", b"S" * 5000, mode=0o755),
    static.Symlink("bin/ls", "sh"),
]
BASE_SIZE = len(PASSWD) + 5000 + 2
STATUS_A = dpkg(("libc6", "2.36", 100), ("tool", "1.0", 10))
STATUS_B = dpkg(("libc6", "2.36", 100), ("tool", "1.1", 12), ("jq", "1.6", 3))

A_TOOL: list[static.Entry] = [
    static.File("var/lib/dpkg/status", STATUS_A),
    static.File("usr/bin/tool", b"t" * 2000),
]
B_TOOL: list[static.Entry] = [
    static.File("var/lib/dpkg/status", STATUS_B),
    static.File("usr/bin/tool", b"T" * 2500),
]
A_APP: list[static.Entry] = [
    static.Dir("app"),
    static.File("app/server.js", b"s" * 300),
    static.File("app/old.js", b"o" * 100),
    static.File("app/run.sh", b"#!/bin/sh\n", mode=0o644),
    static.Symlink("app/current", "old.js"),
]
B_APP: list[static.Entry] = [
    static.Dir("app"),
    static.File("app/server.js", b"S" * 350),
    static.File("app/new.js", b"n" * 80),
    static.File("app/run.sh", b"#!/bin/sh\n", mode=0o755, uid=1000, gid=1000),
    static.Symlink("app/current", "server.js"),
]
A_NPM: list[static.Entry] = [static.File("usr/lib/npm/npm.js", b"j" * 4000)]


def base_steps(layer: Layer) -> list[static.Step]:
    return [
        static.Step("/bin/sh -c #(nop) ADD file:0123 in / ", layer),
        static.Step('/bin/sh -c #(nop)  CMD ["/bin/sh"]'),
    ]


def app_a(base: Layer | None = None) -> Image:
    steps = [
        *base_steps(base or sealed(BASE_FILES)),
        static.Step("RUN /bin/sh -c apt-get install tool # buildkit", static.layer(A_TOOL)),
        static.Step("COPY app /app # buildkit", static.layer(A_APP)),
        static.Step("RUN /bin/sh -c npm install -g npm@8.5.1 # buildkit", static.layer(A_NPM)),
        static.Step('CMD ["node" "server.js"]'),
    ]
    config = {
        "Env": ["PATH=/bin", "NODE_ENV=development"],
        "Cmd": ["node", "server.js"],
        "ExposedPorts": {"8080/tcp": {}},
    }
    return static.image(steps, config=config, repo_tags=("app:1",))


def app_b(base: Layer | None = None) -> Image:
    steps = [
        *base_steps(base or sealed(BASE_FILES)),
        static.Step("RUN /bin/sh -c apt-get install tool # buildkit", static.layer(B_TOOL)),
        static.Step("COPY app /app # buildkit", static.layer(B_APP)),
        static.Step("USER app"),
    ]
    config = {
        "User": "app",
        "Env": ["PATH=/bin", "NODE_ENV=production"],
        "Cmd": ["node", "server.js"],
        "WorkingDir": "/app",
        "ExposedPorts": {"8080/tcp": {}, "9090/udp": {}},
        "Labels": {"version": "2"},
    }
    return static.image(steps, config=config, repo_tags=("app:2",))


def sizes(entries: Sequence[static.Entry]) -> int:
    return sum(
        len(e.data) if isinstance(e, static.File) else len(e.target.encode())
        for e in entries
        if isinstance(e, static.File | static.Symlink)
    )


def test_sizes_steps_and_shared_base_without_opening_it() -> None:
    d = compare(app_a(), app_b())  # the shared layer's opener raises
    a_size = BASE_SIZE + sizes(A_TOOL) + sizes(A_APP) + 4000
    b_size = BASE_SIZE + sizes(B_TOOL) + sizes(B_APP)
    assert (d.a.size, d.b.size) == (a_size, b_size)
    assert d.delta == b_size - a_size == -3394
    assert d.percent == pytest.approx(100 * -3394 / a_size)
    assert (d.shared_layers, d.shared_size, d.base_known) == (1, BASE_SIZE, False)
    assert d.a.name == "app:1" and d.a.layers == 4 and d.a.platform == "linux/amd64"
    top = app_a().layers[0].diff_id
    assert d.base_a == d.base_b == BaseInfo("", 1, BASE_SIZE, top)
    tool = "RUN apt-get install tool"
    assert d.steps == (
        StepChange("changed", 1, 1, tool, tool, sizes(A_TOOL), sizes(B_TOOL)),
        StepChange("changed", 2, 2, "COPY app /app", "COPY app /app", 416, 449),
        StepChange("removed", 3, -1, "RUN npm install -g npm@8.5.1", "", 4000, 0),
    )
    assert d.user == ConfigChange("user", "", "", "app")


def test_files_added_removed_modified_with_what_changed() -> None:
    d = compare(app_a(), app_b())
    by_path = {f.path: f for f in d.files}
    assert [f.path for f in d.files] == [
        "usr/lib/npm/npm.js",  # -4000
        "usr/bin/tool",  # +500
        "app/old.js",  # -100
        "app/new.js",  # +80
        "var/lib/dpkg/status",  # +73: the jq stanza
        "app/server.js",  # +50
        "app/current",  # +3 (link target "old.js" -> "server.js")
        "app/run.sh",  # 0
    ]
    assert by_path["app/run.sh"] == FileChange(
        "app/run.sh",
        "modified",
        FileState("file", 10, 0o644, 0, 0, "", by_path["app/run.sh"].a.digest),  # type: ignore[union-attr]
        FileState("file", 10, 0o755, 1000, 1000, "", by_path["app/run.sh"].a.digest),  # type: ignore[union-attr]
        ("mode", "owner"),
    )
    assert by_path["app/server.js"].changed == ("size", "content")
    assert by_path["app/current"].changed == ("size", "link")
    assert (by_path["app/current"].a.link, by_path["app/current"].b.link) == (  # type: ignore[union-attr]
        "old.js",
        "server.js",
    )
    assert by_path["usr/bin/tool"].changed == ("size", "content")
    assert (by_path["app/old.js"].status, by_path["app/old.js"].delta) == ("removed", -100)
    assert (by_path["app/new.js"].status, by_path["app/new.js"].delta) == ("added", 80)
    assert by_path["usr/lib/npm/npm.js"].b is None
    # paths only one side's own layers write are compared with absent, and said so
    assert d.assumed == ("app/new.js", "app/old.js", "usr/lib/npm/npm.js")
    assert d.unresolved == ()


def test_directories_roll_up_largest_delta_first() -> None:
    d = compare(app_a(), app_b())
    rows = {r.path: r for r in d.directories}
    assert rows[""] == DirChange("", -3394, 1, 2, 5)  # the whole image delta
    assert rows["usr"] == DirChange("usr", -3500, 0, 1, 1)
    assert rows["usr/lib/npm"] == DirChange("usr/lib/npm", -4000, 0, 1, 0)
    assert rows["app"] == DirChange("app", 33, 1, 1, 3)
    assert rows["var/lib/dpkg"] == DirChange("var/lib/dpkg", 73, 0, 0, 1)
    assert [r.path for r in d.directories] == [
        "usr/lib",
        "usr/lib/npm",
        "usr",
        "",
        "usr/bin",
        "var",
        "var/lib",
        "var/lib/dpkg",
        "app",
    ]


def test_packages_and_config() -> None:
    d = compare(app_a(), app_b())
    status = "var/lib/dpkg/status"
    assert d.packages == (
        PackageChange("dpkg", "jq", "added", "", "1.6", 0, 3 * 1024, status),
        PackageChange("dpkg", "tool", "changed", "1.0", "1.1", 10 * 1024, 12 * 1024, status),
    )
    assert d.config == (
        ConfigChange("user", "", "", "app"),
        ConfigChange("workdir", "", "", "/app"),
        ConfigChange("env", "NODE_ENV", "development", "production"),
        ConfigChange("ports", "9090/udp", None, ""),
        ConfigChange("labels", "version", None, "2"),
    )


def test_identical_images_open_nothing() -> None:
    one = static.image(
        [
            static.Step("/bin/sh -c #(nop) ADD file:0123 in / ", sealed(BASE_FILES)),
            static.Step("RUN /bin/sh -c apt-get install tool # buildkit", sealed(A_TOOL)),
        ]
    )
    d = compare(one, one)  # every opener raises
    assert d.identical and d.delta == 0 and d.percent == 0.0
    assert (d.steps, d.files, d.packages, d.config, d.directories) == ((), (), (), (), ())
    assert (d.shared_layers, d.shared_size) == (2, BASE_SIZE + sizes(A_TOOL))


def test_a_base_layer_opened_would_fail_the_diff() -> None:
    """The guard itself works: a sealed layer outside the shared prefix is read and raises."""
    a = static.image([static.Step("ADD a", sealed([static.File("x", b"1")]))])
    b = static.image([static.Step("ADD b", sealed([static.File("x", b"2")]))])
    with pytest.raises(Opened):
        compare(a, b)


def test_cached_base_index_makes_one_sided_paths_exact() -> None:
    """B edits /etc/passwd (a base file) in a step A does not have."""
    log: list[str] = []
    base = counted(BASE_FILES, log)
    extra = [static.File("etc/passwd", PASSWD + b"app:x:1000:1000::/app:/bin/sh\n")]
    a = static.image([static.Step("ADD base", base)])
    b = static.image(
        [static.Step("ADD base", base), static.Step("RUN useradd app", static.layer(extra))]
    )
    blind = compare(a, b)
    assert log == [base.diff_id]  # sized by a header scan; its files are not indexed
    assert [(f.path, f.status, f.delta) for f in blind.files] == [("etc/passwd", "added", 60)]
    assert blind.assumed == ("etc/passwd",)

    store = MemoryStore()
    log.clear()
    exact = compare(a, b, store=store, read_base=True)
    assert log == [base.diff_id]
    assert exact.base_known and exact.assumed == ()
    assert [(f.path, f.status, f.delta, f.changed) for f in exact.files] == [
        ("etc/passwd", "modified", 30, ("size", "content"))
    ]
    log.clear()
    again = compare(a, b, store=store)  # the base index now comes from the store
    assert log == []
    assert again == exact


def test_whiteout_of_a_base_path_is_unresolved_unless_the_base_is_known() -> None:
    base = sealed(BASE_FILES)
    a = static.image(
        [
            static.Step("ADD base", base),
            static.Step("RUN true", static.layer([static.File("t", b"")])),
        ]
    )
    b = static.image(
        [
            static.Step("ADD base", base),
            static.Step("RUN rm /bin/sh", static.layer([static.Whiteout("bin/sh")])),
        ]
    )
    d = compare(a, b)
    assert d.unresolved == ("bin/sh",)
    assert [(f.path, f.status) for f in d.files] == [("t", "removed")]


def test_different_platforms_are_refused_unless_asked() -> None:
    a = static.image([static.Step("ADD x", static.layer([static.File("x", b"1")]))])
    b = static.image(
        [static.Step("ADD x", static.layer([static.File("x", b"1")]))], architecture="arm64"
    )
    with pytest.raises(PlatformMismatch) as err:
        compare(a, b)
    assert isinstance(err.value, UsageError) and err.value.exit_code == 2
    assert str(err.value) == (
        "the images are for different platforms (linux/amd64 and linux/arm64); "
        "pick one with --platform, or pass --any-platform to compare them anyway"
    )
    d = compare(a, b, any_platform=True)
    assert d.config == (ConfigChange("architecture", "", "linux/amd64", "linux/arm64"),)
    assert d.files == ()


def test_each_needed_layer_is_read_once_even_if_both_sides_hold_it() -> None:
    log: list[str] = []
    app = counted([static.File("app", b"a" * 10)], log)
    a = static.image([static.Step("ADD base", sealed(BASE_FILES)), static.Step("COPY app", app)])
    b = static.image(
        [
            static.Step("ADD other", sealed([static.File("o", b"o")])),
            static.Step("COPY app", app),
        ]
    )
    with pytest.raises(Opened):
        read_sides(a, b)  # nothing is shared here, so every layer must be read
    a2 = static.image(
        [static.Step("ADD base", counted(BASE_FILES, log)), static.Step("COPY app", app)]
    )
    b2 = static.image(
        [
            static.Step("ADD other", counted([static.File("o", b"o")], log)),
            static.Step("COPY app", app),
        ]
    )
    log.clear()
    d = compare(a2, b2)
    assert sorted(log) == sorted([a2.layers[0].diff_id, b2.layers[0].diff_id, app.diff_id])
    assert [(s.status, s.a_instruction, s.b_instruction) for s in d.steps] == [
        ("changed", "ADD base", "ADD other"),
        ("same", "COPY app", "COPY app"),
    ]
