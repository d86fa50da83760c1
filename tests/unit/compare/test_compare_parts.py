"""The parts of a diff on their own: step alignment, views, packages, config, base, budget."""

from __future__ import annotations

import json

from compare_helpers import delta

from deadweight import static
from deadweight.compare import ConfigChange, PackageChange, StepChange, check
from deadweight.compare.base import base_info, base_layers
from deadweight.compare.config import diff_config
from deadweight.compare.files import diff_files
from deadweight.compare.packages import diff_packages
from deadweight.compare.steps import Step, align
from deadweight.compare.view import BASE, view


def s(i: int, diff_id: str, instruction: str, size: int = 10) -> Step:
    return Step(i, diff_id, instruction, size)


def test_align_by_diff_id_then_instruction_then_keyword() -> None:
    a = [
        s(1, "x", "RUN apt-get install curl", 100),
        s(2, "npm", "RUN npm install -g npm@8.5.1", 900),
        s(3, "p", "COPY package.json .", 5),
        s(4, "i", "RUN npm install", 5000),
    ]
    b = [
        s(1, "y", "RUN apk add nodejs", 300),
        s(2, "p", "COPY package.json .", 5),
        s(3, "j", "RUN npm install", 4000),
        s(4, "c", "COPY . .", 70),
    ]
    assert align(a, b) == (
        StepChange("changed", 1, 1, "RUN apt-get install curl", "RUN apk add nodejs", 100, 300),
        StepChange("removed", 2, -1, "RUN npm install -g npm@8.5.1", "", 900, 0),
        StepChange("same", 3, 2, "COPY package.json .", "COPY package.json .", 5, 5),
        StepChange("changed", 4, 3, "RUN npm install", "RUN npm install", 5000, 4000),
        StepChange("added", -1, 4, "", "COPY . .", 0, 70),
    )


def test_align_prefers_the_same_layer_over_the_same_instruction() -> None:
    a = [s(0, "l1", "RUN make"), s(1, "l2", "RUN make")]
    b = [s(0, "l2", "RUN make")]
    assert [(c.status, c.a_index, c.b_index) for c in align(a, b)] == [
        ("removed", 0, -1),
        ("same", 1, 0),
    ]
    assert align([], []) == ()
    assert [c.status for c in align([], [s(0, "n", "ADD x")])] == ["added"]


def test_incomplete_view_states() -> None:
    v = view(
        [
            delta([static.File("a/kept", b"1"), static.File("f", b"")]),
            delta([static.Whiteout("gone"), static.Opaque("op"), static.File("op/new", b"n")]),
            delta([static.File("file", b"1")]),
        ],
        5,
        False,
    )
    assert v.state("a/kept") is not None and v.state("a/kept") is not BASE
    assert v.state("a/other") is BASE  # a directory the view writes, a child it does not
    assert v.state("gone") is None and v.state("gone/child") is None
    assert v.state("op/old") is None  # hidden by the opaque marker
    assert v.state("op/new") is not BASE
    assert v.state("file/x") is None  # a non-directory in the way
    assert v.state("elsewhere/y") is BASE
    assert view([delta([static.File("x", b"1")])], 0, True).state("y") is None


def test_diff_files_kind_change_and_directory_metadata() -> None:
    a = view(
        [delta([static.Dir("d", 0o755), static.File("k", b"12"), static.Dir("only-a")])], 0, True
    )
    b = view([delta([static.Dir("d", 0o700), static.Dir("k"), static.Dir("only-b")])], 0, True)
    found = diff_files(a, b)
    assert [(c.path, c.status, c.changed, c.delta) for c in found.changes] == [
        ("k", "modified", ("kind", "size", "mode"), -2),
        ("d", "modified", ("mode",), 0),
    ]
    assert found.assumed == () and found.unresolved == ()


def test_diff_files_hardlinks_count_no_bytes() -> None:
    a = view([delta([static.File("f", b"abc")])], 0, True)
    b = view([delta([static.File("f", b"abc"), static.Hardlink("g", "f")])], 0, True)
    (change,) = diff_files(a, b).changes
    assert (change.path, change.status, change.delta) == ("g", "added", 0)
    assert change.b is not None and (change.b.kind, change.b.link) == ("hardlink", "f")


def lock(*pkgs: tuple[str, str]) -> bytes:
    packages = {"": {"name": "app"}} | {f"node_modules/{n}": {"version": v} for n, v in pkgs}
    return json.dumps({"lockfileVersion": 3, "packages": packages}).encode()


def test_packages_npm_python_apk() -> None:
    apk_a = b"P:musl\nV:1.2.3\nI:400\n\nP:zlib\nV:1.3\nI:100\n\n"
    apk_b = b"P:musl\nV:1.2.4\nI:410\n\n"
    site = "usr/lib/python3.12/site-packages"
    a = view(
        [
            delta(
                [
                    static.File("lib/apk/db/installed", apk_a),
                    static.File("app/package-lock.json", lock(("left-pad", "1.0.0"))),
                    static.File("app/node_modules/left-pad/index.js", b"l" * 50),
                    static.File(
                        f"{site}/rich-13.7.0.dist-info/METADATA", b"Name: rich\nVersion: 13.7.0\n\n"
                    ),
                    static.File(f"{site}/rich/__init__.py", b"r" * 100),
                ]
            )
        ],
        0,
        True,
    )
    b = view(
        [
            delta(
                [
                    static.File("lib/apk/db/installed", apk_b),
                    static.File(
                        "app/package-lock.json", lock(("left-pad", "1.1.0"), ("is-odd", "3.0.1"))
                    ),
                    static.File("app/node_modules/left-pad/index.js", b"l" * 70),
                    static.File("app/node_modules/is-odd/index.js", b"o" * 30),
                    static.File(
                        f"{site}/rich-13.7.1.dist-info/METADATA", b"Name: rich\nVersion: 13.7.1\n\n"
                    ),
                    static.File(f"{site}/rich/__init__.py", b"r" * 100),
                ]
            )
        ],
        0,
        True,
    )
    found = diff_packages(a, b)
    assert found.unresolved == ()
    assert found.changes == (
        PackageChange("apk", "zlib", "removed", "1.3", "", 100, 0, "lib/apk/db/installed"),
        PackageChange("npm", "is-odd", "added", "", "3.0.1", 0, 30, "app/node_modules/is-odd"),
        PackageChange(
            "npm", "left-pad", "changed", "1.0.0", "1.1.0", 50, 70, "app/node_modules/left-pad"
        ),
        PackageChange("apk", "musl", "changed", "1.2.3", "1.2.4", 400, 410, "lib/apk/db/installed"),
        PackageChange(
            "python", "rich", "changed", "13.7.0", "13.7.1", 28, 28,
            f"{site}/rich-13.7.1.dist-info",
        ),
    )  # fmt: skip


def test_a_package_database_only_one_side_writes_is_unresolved_over_an_unread_base() -> None:
    status = b"Package: curl\nStatus: install ok installed\nVersion: 8\nInstalled-Size: 1\n\n"
    a = view([delta([static.File("var/lib/dpkg/status", status)])], 1, False)
    b = view([delta([static.File("app", b"x")])], 1, False)
    found = diff_packages(a, b)
    assert found == type(found)((), ("var/lib/dpkg/status",))


def cfg(**config: object) -> static.Image:  # type: ignore[name-defined]
    return static.image(
        [static.Step("ADD x", static.layer([static.File("x", b"1")]))], config=config
    )


def test_config_every_field() -> None:
    a = cfg(
        User="",
        Entrypoint=["/entry"],
        Cmd=["a"],
        WorkingDir="/",
        Env=["A=1", "B=2"],
        ExposedPorts={"80/tcp": {}},
        Volumes={"/data": {}},
        Labels={"k": "v", "gone": "1"},
        Healthcheck={"Test": ["CMD", "true"]},
    )
    b = cfg(
        User="1000:1000",
        Cmd=["b", "c"],
        WorkingDir="/srv",
        Env=["A=1", "B=3", "C="],
        ExposedPorts={"443/tcp": {}},
        Volumes={"/data": {}, "/logs": {}},
        Labels={"k": "w"},
    )
    assert diff_config(a.config, b.config) == (
        ConfigChange("user", "", "", "1000:1000"),
        ConfigChange("entrypoint", "", '["/entry"]', None),
        ConfigChange("cmd", "", '["a"]', '["b","c"]'),
        ConfigChange("workdir", "", "/", "/srv"),
        ConfigChange("healthcheck", "", '{"Test":["CMD","true"]}', None),
        ConfigChange("env", "B", "2", "3"),
        ConfigChange("env", "C", None, ""),
        ConfigChange("ports", "443/tcp", None, ""),
        ConfigChange("ports", "80/tcp", "", None),
        ConfigChange("volumes", "/logs", None, ""),
        ConfigChange("labels", "gone", "1", None),
        ConfigChange("labels", "k", "v", "w"),
    )
    assert diff_config(a.config, a.config) == ()


def test_base_from_history_and_labels() -> None:
    l1, l2, l3 = (static.layer([static.File(n, b"x" * 10)]) for n in ("a", "b", "c"))
    classic = static.image(
        [
            static.Step("/bin/sh -c #(nop) ADD file:1 in /", l1),
            static.Step("/bin/sh -c apk add x", l2),
            static.Step('/bin/sh -c #(nop)  CMD ["/bin/sh"]'),
            static.Step("/bin/sh -c make", l3),
            static.Step('/bin/sh -c #(nop)  CMD ["app"]'),
        ]
    )
    assert base_layers(classic) == 2
    bk = static.image(
        [
            static.Step("/bin/sh -c #(nop) ADD file:1 in /", l1),
            static.Step("RUN /bin/sh -c make # buildkit", l2, comment="buildkit.dockerfile.v0"),
        ],
        config={"Labels": {"org.opencontainers.image.base.name": "docker.io/library/alpine:3"}},
    )
    assert base_layers(bk) == 1
    info = base_info(bk, (10, 10))
    assert (info.name, info.layers, info.size, info.top) == (
        "docker.io/library/alpine:3", 1, 10, l1.diff_id
    )  # fmt: skip
    scratch = static.image([static.Step("COPY app /", l1)])
    assert base_layers(scratch) == 0
    assert base_info(scratch, (10,)).top == ""


def test_budget() -> None:
    from compare_helpers import sealed

    small = static.image([static.Step("ADD x", sealed([static.File("x", b"1" * 1000)]))])
    big = static.image(
        [
            static.Step("ADD x", sealed([static.File("x", b"1" * 1000)])),
            static.Step("ADD y", static.layer([static.File("y", b"2" * 100)])),
        ]
    )
    from deadweight.compare import compare

    d = compare(small, big)
    assert (d.delta, d.percent) == (100, 10.0)
    ok = check(d, 10, 100)
    assert ok.passed and [(c.rule, c.limit, c.actual) for c in ok.checks] == [
        ("max-growth", "10%", "+10.00%"),
        ("max-growth-bytes", "100", "+100"),
    ]
    bad = check(d, 9.99, 99)
    assert not bad.passed and [c.passed for c in bad.checks] == [False, False]
    assert check(d, None, None).checks == () and check(d, None, None).passed
    shrink = compare(big, small)
    assert check(shrink, -9, None).passed  # shrank by 9.09%: at least 9% asked
    assert not check(shrink, -10, None).passed
    assert check(shrink, -10, None).checks[0].actual == "-9.09%"
