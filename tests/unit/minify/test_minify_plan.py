"""plan_minify's rules on synthetic images: traces, package closures (dpkg, apk, npm,
Python) in both modes, the app directory, essentials, user keeps, structure, widen, the
keep list, and what the plan reports as removed."""

from __future__ import annotations

import pytest

from deadweight import static as S
from deadweight.errors import UsageError
from deadweight.image import Image
from deadweight.minify import Evidence, Reason, Trace, plan_minify

ELF_LESS = b"\0binary"


def image(entries: list[S.Entry], **config: object) -> Image:
    cfg = {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["app"], **config}
    return S.image([S.Step("ADD", S.layer(entries))], config=cfg)


def traced(*paths: str) -> Evidence:
    return Evidence((Trace("run: test", frozenset(paths)),))


def dpkg_entries(status: bytes, owned: dict[str, list[str]]) -> list[S.Entry]:
    """A dpkg database (``status``, an ``info/NAME.list`` per package) and the files each
    package owns (ten bytes each; executable under a ``bin/``)."""
    entries: list[S.Entry] = [S.File("var/lib/dpkg/status", status)]
    for name, files in owned.items():
        listed = "".join(f"/{f}\n" for f in files).encode()
        entries.append(S.File(f"var/lib/dpkg/info/{name}.list", listed))
        entries += [S.File(f, b"x" * 10, 0o755 if "bin/" in f else 0o644) for f in files]
    return entries


DPKG_STATUS = b"""Package: tool
Status: install ok installed
Architecture: amd64
Depends: libnope | libalt (>= 1), libd (>= 1.0), virtual-x, coreutils (>= 8), debconf
Version: 1

Package: coreutils
Essential: yes
Status: install ok installed
Architecture: amd64
Version: 9

Package: debconf
Status: install ok installed
Architecture: all
Version: 1

Package: libalt
Status: install ok installed
Architecture: amd64
Version: 1

Package: libd
Status: install ok installed
Architecture: amd64
Multi-Arch: same
Version: 1

Package: provider
Status: install ok installed
Architecture: amd64
Provides: virtual-x (= 2)
Version: 1

Package: other
Status: install ok installed
Architecture: amd64
Depends: tool
Version: 1

Package: gone
Status: deinstall ok config-files
Architecture: amd64
Version: 1
"""


def dpkg_image() -> Image:
    def pkg(name: str, *files: str, arch: str = "") -> list[S.Entry]:
        listed = "\n".join(["/.", "/usr", "/usr/bin", *files]) + "\n"
        suffix = f":{arch}" if arch else ""
        out: list[S.Entry] = [S.File(f"var/lib/dpkg/info/{name}{suffix}.list", listed.encode())]
        real = [f.replace("/bin/", "/usr/bin/", 1) if f.startswith("/bin/") else f for f in files]
        out += [S.File(f.lstrip("/"), name.encode() * 100, 0o755) for f in real]
        return out

    return image(
        [
            S.Dir("usr/bin"),
            S.Symlink("bin", "usr/bin"),
            S.Dir("var/lib/dpkg/info"),
            S.File("var/lib/dpkg/status", DPKG_STATUS),
            *pkg("tool", "/bin/tool", "/usr/bin/tool-helper"),  # listed through /bin
            *pkg("libalt", "/usr/bin/alt"),
            *pkg("libd", "/usr/bin/d", arch="amd64"),
            *pkg("provider", "/usr/bin/provider"),
            *pkg("other", "/usr/bin/other"),
            *pkg("coreutils", "/usr/bin/cat"),
            *pkg("debconf", "/usr/bin/debconf"),
        ],
        Cmd=["/bin/true"],
    )


def test_dpkg_touched_keeps_package_and_real_dependencies() -> None:
    plan = plan_minify(dpkg_image(), evidence=traced("/usr/bin/tool"))
    kept = plan.kept
    assert kept["/usr/bin/tool"] == (Reason.PACKAGE, Reason.TRACED)
    for path in ("/usr/bin/tool-helper", "/usr/bin/alt", "/usr/bin/d", "/usr/bin/provider"):
        assert Reason.PACKAGE in kept[path], path
    removed = {r.path: r for r in plan.removed}
    assert removed["/usr/bin/other"].package == "other"  # depends on tool, not needed by it
    assert removed["/usr/bin/other"].manager == "dpkg"
    assert removed["/usr/bin/other"].size == 500
    assert ("dpkg", "other", 500) in plan.removed_by_package
    assert kept["/var/lib/dpkg/status"] == (Reason.DATABASE,)  # rewritten, not removed
    # an essential package, and a tool of maintainer scripts: depended on, not followed
    assert removed["/usr/bin/cat"].package == "coreutils"
    assert removed["/usr/bin/debconf"].package == "debconf"
    assert "/bin" in kept  # a link to a kept directory
    assert plan.before_bytes - plan.after_bytes == sum(r.size for r in plan.removed)


def test_dpkg_none_keeps_only_used_files_and_widen_adds_the_package() -> None:
    plan = plan_minify(dpkg_image(), evidence=traced("/usr/bin/tool"), packages="none")
    assert "/usr/bin/tool" in plan.kept
    assert "/usr/bin/tool-helper" not in plan.kept
    wide = plan.widen(traced("/usr/bin/alt"))
    # libalt has no dependencies; it is listed in the package database again
    assert plan.added_by(wide) == ("/usr/bin/alt", "/var/lib/dpkg/info/libalt.list")
    wider = plan.widen(traced("/usr/bin/tool"))
    assert {"/usr/bin/tool-helper", "/usr/bin/d", "/usr/bin/provider"} <= set(plan.added_by(wider))
    assert wider.widened == frozenset({"dpkg:tool"})


APK_DB = b"""P:musl
V:1.2
F:lib
R:ld-musl-x86_64.so.1
p:so:libc.musl-x86_64.so.1=1

P:busybox
V:1.36
D:so:libc.musl-x86_64.so.1
F:bin
R:busybox
p:/bin/sh cmd:busybox=1

P:curl
V:8
D:musl so:libc.musl-x86_64.so.1 !curl-old
F:usr/bin
R:curl
"""


def apk_image() -> Image:
    """musl, busybox (its shell the command) and curl (nothing needs it), from apk."""
    return image(
        [
            S.File("lib/apk/db/installed", APK_DB),
            S.File("lib/ld-musl-x86_64.so.1", b"musl" * 50, 0o755),
            S.File("bin/busybox", b"bb" * 100, 0o755),
            S.Symlink("bin/sh", "/bin/busybox"),
            S.File("usr/bin/curl", b"curl" * 10, 0o755),
        ],
        Cmd=["/bin/sh", "-c", "echo hi"],
        Env=["PATH=/bin"],
    )


def test_apk_dependencies_through_provides() -> None:
    img = apk_image()
    plan = plan_minify(img, evidence=None)
    assert Reason.ENTRYPOINT in plan.kept["/bin/busybox"]
    assert Reason.PACKAGE in plan.kept["/lib/ld-musl-x86_64.so.1"]  # so: dependency
    assert "/usr/bin/curl" not in plan.kept
    assert {r.path: r.manager for r in plan.removed}["/usr/bin/curl"] == "apk"


def npm_image(**config: object) -> Image:
    nm = "app/node_modules"
    return image(
        [
            S.File(
                "app/package.json",
                b'{"dependencies": {"express": "4"}, "devDependencies": {"jest": "29"}}',
            ),
            S.File("app/server.js", b"require('express')"),
            S.File("app/views/index.html", b"<html>"),
            S.File(f"{nm}/express/package.json", b'{"dependencies": {"debug": "2"}}'),
            S.File(f"{nm}/express/index.js", b"x" * 10),
            S.File(f"{nm}/express/node_modules/debug/package.json", b'{"name": "debug"}'),
            S.File(f"{nm}/express/node_modules/debug/index.js", b"d" * 10),
            S.File(f"{nm}/debug/package.json", b'{"name": "debug"}'),  # not the one express finds
            S.File(f"{nm}/debug/index.js", b"D" * 10),
            S.File(f"{nm}/jest/package.json", b'{"dependencies": {"@babel/core": "7"}}'),
            S.File(f"{nm}/jest/index.js", b"j" * 1000),
            S.File(f"{nm}/@babel/core/package.json", b"{}"),
            S.File(f"{nm}/@babel/core/lib.js", b"b" * 1000),
            S.File(f"{nm}/undeclared/package.json", b"{}"),  # installed with --no-save
            S.File(f"{nm}/undeclared/index.js", b"u"),
            S.File(
                "app/package-lock.json",
                b'{"lockfileVersion": 3, "packages": {"node_modules/undeclared": {},'
                b' "node_modules/jest": {"dev": true}}}',
            ),
            S.File("usr/bin/node", ELF_LESS, 0o755),
        ],
        Cmd=["node", "server.js"],
        WorkingDir="/app",
        **config,
    )


def test_npm_app_and_production_tree_static() -> None:
    plan = plan_minify(npm_image(), evidence=None)
    kept = plan.kept
    for path in ("/app/server.js", "/app/views/index.html", "/app/package.json"):
        assert Reason.ENTRYPOINT in kept[path]
    assert Reason.PACKAGE in kept["/app/node_modules/express/index.js"]
    assert Reason.PACKAGE in kept["/app/node_modules/express/node_modules/debug/index.js"]
    assert Reason.PACKAGE in kept["/app/node_modules/undeclared/index.js"]  # by the lockfile
    removed = {r.path: r for r in plan.removed}
    assert removed["/app/node_modules/jest/index.js"].package == "jest"
    assert removed["/app/node_modules/@babel/core/lib.js"].package == "@babel/core"
    assert "/app/node_modules/debug/index.js" in removed
    assert plan.static_only


def test_npm_none_mode_keeps_only_traced_modules() -> None:
    ev = traced("/app/node_modules/express/index.js")
    plan = plan_minify(npm_image(), evidence=ev, packages="none")
    assert "/app/node_modules/express/index.js" in plan.kept
    assert "/app/node_modules/express/node_modules/debug/index.js" not in plan.kept
    assert "/app/server.js" in plan.kept  # the app directory stays
    touched = plan_minify(npm_image(), evidence=ev)
    assert "/app/node_modules/express/node_modules/debug/index.js" in touched.kept


METADATA = b"""Metadata-Version: 2.1
Name: Flask
Version: 3.0
Requires-Dist: Werkzeug>=3.0
Requires-Dist: asgiref>=3.2 ; extra == "async"

Flask is a micro framework. Requires-Dist: not-a-header
"""


def python_image() -> Image:
    site = "usr/local/lib/python3.12/site-packages"
    record = (
        b"flask/__init__.py,sha256=x,10\nflask-3.0.dist-info/METADATA,,\n"
        b"../../../bin/flask,,\nflask-3.0.dist-info/RECORD,,\n"
    )
    return local_python_app(
        [
            S.File("usr/local/bin/flask", b"#!/usr/local/bin/python3.12\n", 0o755),
            S.File("usr/local/lib/python3.12/json/__init__.py", b"j"),
            S.File(f"{site}/flask/__init__.py", b"f" * 10),
            S.File(f"{site}/flask-3.0.dist-info/METADATA", METADATA),
            S.File(f"{site}/flask-3.0.dist-info/RECORD", record),
            S.File(f"{site}/werkzeug/__init__.py", b"w" * 10),
            S.File(f"{site}/werkzeug-3.0.dist-info/METADATA", b"Name: werkzeug\n"),
            S.File(f"{site}/werkzeug-3.0.dist-info/RECORD", b"werkzeug/__init__.py,,\n"),
            S.File(f"{site}/asgiref/__init__.py", b"a" * 10),
            S.File(f"{site}/asgiref-3.0.dist-info/METADATA", b"Name: asgiref\n"),
            S.File(f"{site}/asgiref-3.0.dist-info/RECORD", b"asgiref/__init__.py,,\n"),
        ],
        b"import flask",
    )


def local_python_app(entries: list[S.Entry], main: bytes) -> Image:
    """``entries`` beside a Python 3.12 in ``/usr/local`` (``os.py`` its library) and
    ``/app/main.py`` holding ``main``, run as ``python3 main.py`` in ``/app``."""
    return image(
        [
            S.File("usr/local/bin/python3.12", ELF_LESS, 0o755),
            S.Symlink("usr/local/bin/python3", "python3.12"),
            S.File("usr/local/lib/python3.12/os.py", b"os" * 10),
            *entries,
            S.File("app/main.py", main),
        ],
        Cmd=["python3", "main.py"],
        WorkingDir="/app",
        Env=["PATH=/usr/local/bin:/usr/bin"],
    )


def test_python_interpreter_stdlib_and_distributions() -> None:
    site = "/usr/local/lib/python3.12/site-packages"
    static = plan_minify(python_image(), evidence=None)
    assert Reason.ENTRYPOINT in static.kept["/usr/local/lib/python3.12/os.py"]
    assert Reason.ENTRYPOINT in static.kept["/usr/local/lib/python3.12/json/__init__.py"]
    assert Reason.PACKAGE in static.kept[f"{site}/asgiref/__init__.py"]
    assert "/usr/local/bin/flask" in static.kept  # listed in flask's RECORD
    none = plan_minify(
        python_image(), evidence=traced(f"{site}/flask/__init__.py"), packages="none"
    )
    assert "/usr/local/lib/python3.12/os.py" in none.kept  # the interpreter's own library
    assert f"{site}/werkzeug/__init__.py" not in none.kept
    touched = plan_minify(python_image(), evidence=traced(f"{site}/flask/__init__.py"))
    assert Reason.PACKAGE in touched.kept[f"{site}/werkzeug/__init__.py"]  # Requires-Dist


def test_debian_python_and_a_virtual_environment() -> None:
    img = image(
        [
            S.File("usr/bin/python3.11", ELF_LESS, 0o755),
            S.Symlink("usr/bin/python3", "python3.11"),
            S.File("usr/lib/python3.11/os.py", b"os"),
            S.File("usr/lib/python3/dist-packages/debian_pkg/__init__.py", b"d"),
            S.File("usr/local/lib/python3.11/dist-packages/pipped/__init__.py", b"p"),
            S.File("usr/local/lib/python3.11/other.txt", b"o"),
            S.File("app/venv/pyvenv.cfg", b"home = /usr/bin\n"),
            S.Symlink("app/venv/bin/python", "/usr/bin/python3"),
            S.File("app/venv/lib/python3.11/site-packages/dep/__init__.py", b"v"),
            S.File("app/main.py", b"import dep"),
        ],
        Cmd=["/app/venv/bin/python", "main.py"],
        WorkingDir="/app",
    )
    kept = plan_minify(img, evidence=None).kept
    for path in (
        "/usr/lib/python3.11/os.py",
        "/usr/lib/python3/dist-packages/debian_pkg/__init__.py",
        "/usr/local/lib/python3.11/dist-packages/pipped/__init__.py",
        "/app/venv/pyvenv.cfg",
        "/app/venv/lib/python3.11/site-packages/dep/__init__.py",
        "/app/main.py",
    ):
        assert path in kept, path
    assert Reason.PACKAGE in kept["/app/venv/lib/python3.11/site-packages/dep/__init__.py"]
    assert "/usr/local/lib/python3.11/other.txt" not in kept
    none = plan_minify(img, evidence=traced("/app/main.py"), packages="none").kept
    assert "/app/venv/lib/python3.11/site-packages/dep/__init__.py" not in none
    assert "/app/venv/pyvenv.cfg" in none


def test_essentials_follow_the_config() -> None:
    img = image(
        [
            S.File(
                "etc/passwd", b"root:x:0:0::/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n"
            ),
            S.File("etc/group", b"root:x:0:\n"),
            S.Dir("etc/ssl/certs"),
            S.File("usr/share/ca-certificates/mozilla/A.crt", b"cert"),
            S.Symlink("etc/ssl/certs/A.pem", "/usr/share/ca-certificates/mozilla/A.crt"),
            S.File("usr/share/zoneinfo/Europe/Paris", b"tzif"),
            S.File("usr/share/zoneinfo/Asia/Tokyo", b"tzif"),
            S.File("usr/lib/locale/C.utf8/LC_CTYPE", b"ctype"),
            S.File("usr/lib/locale/de_DE.utf8/LC_CTYPE", b"ctype"),
            S.Dir("tmp", 0o1777),
            S.Dir("home/node"),
            S.File("home/node/.bashrc", b"x"),
            S.Dir("data"),
            S.File("data/seed.db", b"seed"),
            S.Dir("srv/work"),
            S.File("junk/file", b"junk"),
        ],
        Env=["PATH=/bin", "TZ=Europe/Paris", "LANG=C.UTF-8"],
        User="node",
        WorkingDir="/srv/work",
        Volumes={"/data": {}},
    )
    plan = plan_minify(img, evidence=traced())
    kept = plan.kept
    for path in (
        "/etc/passwd",
        "/etc/group",
        "/etc/ssl/certs/A.pem",
        "/usr/share/ca-certificates/mozilla/A.crt",
        "/usr/share/zoneinfo/Europe/Paris",
        "/usr/lib/locale/C.utf8/LC_CTYPE",
        "/tmp",
        "/home/node",
        "/data/seed.db",
        "/srv/work",
    ):
        assert Reason.ESSENTIAL in kept[path], path
    for path in ("/usr/share/zoneinfo/Asia/Tokyo", "/usr/lib/locale/de_DE.utf8/LC_CTYPE",
                 "/home/node/.bashrc", "/junk/file", "/junk"):  # fmt: skip
        assert path not in kept, path


def test_user_keeps_structure_and_keep_list() -> None:
    img = image(
        [
            S.File("opt/a/one.txt", b"1"),
            S.File("opt/a/sub/two.txt", b"2"),
            S.File("opt/b/three.cfg", b"3"),
            S.File("opt/b/four.txt", b"4"),
            S.Symlink("opt/link", "a/one.txt"),
            S.Symlink("opt/dangling", "nowhere"),
            S.Hardlink("opt/hard", "opt/b/four.txt"),
        ],
    )
    plan = plan_minify(img, evidence=None, keep=["/opt/a", "/opt/b/*.cfg", "# comment", "/nope"])
    kept = plan.kept
    assert kept["/opt/a/sub/two.txt"] == (Reason.USER,)
    assert kept["/opt/b/three.cfg"] == (Reason.USER,)
    assert kept["/opt/link"] == (Reason.STRUCTURE,)  # resolves to a kept file
    assert kept["/opt"] == (Reason.STRUCTURE,)
    assert "/opt/dangling" not in kept and "/opt/b/four.txt" not in kept
    assert plan.unmatched_keeps == ("/nope",)
    listed = plan.keep_list()
    assert "/opt" not in listed and "/opt/a/one.txt" in listed
    again = plan_minify(img, evidence=None, keep=listed)
    assert set(plan.kept) <= set(again.kept)
    removed = {r.path: r.size for r in plan.removed}
    assert removed["/opt/b/four.txt"] + removed["/opt/hard"] == 1  # one inode, counted once


def test_each_way_of_running_is_followed() -> None:
    img = image(
        [
            S.File("usr/bin/env", ELF_LESS, 0o755),
            S.File("usr/bin/web", ELF_LESS, 0o755),
            S.File("usr/bin/worker", ELF_LESS, 0o755),
            S.File("usr/bin/other", ELF_LESS, 0o755),
        ],
        Entrypoint=["/usr/bin/env"],
        Cmd=["web"],
    )
    assert "/usr/bin/worker" not in plan_minify(img, evidence=None).kept
    kept = plan_minify(img, evidence=None, runs=[["worker", "--queue"]]).kept
    assert (
        Reason.ENTRYPOINT in kept["/usr/bin/web"] and Reason.ENTRYPOINT in kept["/usr/bin/worker"]
    )
    assert "/usr/bin/other" not in kept


def test_the_healthcheck_command_is_kept() -> None:
    entries: list[S.Entry] = [
        S.File("bin/sh", ELF_LESS, 0o755),
        S.File("usr/bin/app", ELF_LESS, 0o755),
        S.File("usr/bin/curl", ELF_LESS, 0o755),
        S.File("usr/bin/wget", ELF_LESS, 0o755),
    ]
    shell = image(entries, Cmd=["app"], Healthcheck={"Test": ["CMD-SHELL", "curl -f x || exit 1"]})
    kept = plan_minify(shell, evidence=traced("/usr/bin/app")).kept
    assert Reason.ENTRYPOINT in kept["/usr/bin/curl"] and Reason.ENTRYPOINT in kept["/bin/sh"]
    assert "/usr/bin/wget" not in kept
    exec_form = image(entries, Cmd=["app"], Healthcheck={"Test": ["CMD", "wget", "-q", "x"]})
    kept = plan_minify(exec_form, evidence=traced("/usr/bin/app")).kept
    assert Reason.ENTRYPOINT in kept["/usr/bin/wget"] and "/usr/bin/curl" not in kept
    assert "/bin/sh" not in kept


def test_the_directory_a_traced_file_was_created_in_is_kept() -> None:
    img = image(
        [
            S.File("usr/bin/app", ELF_LESS, 0o755),
            S.Dir("var/lib/app", 0o700),
            S.File("var/lib/app/old.db", b"old", uid=1001),
            S.Dir("var/cache/app/sub"),
            S.File("etc/app.conf", b"conf"),
        ],
        User="1001",
    )
    # the container wrote files the image does not hold; mkdir -p left no trace
    evidence = traced("/usr/bin/app", "/var/lib/app/state.json", "/var/cache/app/new/deep/x")
    kept = plan_minify(img, evidence=evidence).kept
    assert kept["/var/lib/app"] == (Reason.TRACED,)
    assert kept["/var/cache/app"] == (Reason.TRACED,)  # the nearest directory the image has
    assert "/var/lib/app/old.db" not in kept
    assert kept["/var/cache/app/sub"] == (Reason.STRUCTURE,)  # empty in the image: kept
    assert "/etc" not in kept  # nothing was created under a file
    assert "/etc/app.conf" not in plan_minify(img, evidence=traced("/etc/app.conf/x")).kept


def test_what_one_copy_put_there_is_kept_whole_when_the_app_used_it() -> None:
    bk = "buildkit.dockerfile.v0"
    rootfs = S.layer(
        [
            S.File("usr/sbin/nginx", ELF_LESS, 0o755),
            S.File("usr/bin/tool", ELF_LESS, 0o755),
            S.File("usr/share/nginx/html/index.html", b"debian's page"),
        ]
    )
    site = S.layer(
        [
            S.Dir("srv/site"),
            S.File("srv/site/index.html", b"<h1>hi</h1>"),
            S.File("srv/site/css/style.css", b"body{}"),
            S.Dir("srv/site/empty"),
            S.File("srv/site/node_modules/dep/package.json", b'{"name":"dep"}'),
            S.File("srv/site/node_modules/dep/index.js", b""),
            S.File("srv/site/node_modules/jest/package.json", b'{"name":"jest"}'),
            S.File("srv/site/node_modules/jest/bin/jest.js", b"j" * 100),
            S.Symlink("srv/site/node_modules/.bin/jest", "../jest/bin/jest.js"),
            S.File("srv/site/node_modules/.package-lock.json", b"{}"),
        ]
    )
    junk = S.layer([S.File("opt/junk/data.bin", b"j" * 100)])
    chown = S.layer([S.File("srv/site/index.html", b"<h1>hi</h1>", uid=33)])
    installed = S.layer([S.File("usr/bin/extra", ELF_LESS, 0o755)])
    img = S.image(
        [
            S.Step("/bin/sh -c #(nop) ADD file:0123abcd in / ", rootfs),
            S.Step('/bin/sh -c #(nop)  CMD ["bash"]'),
            S.Step("COPY site/ /srv/site/ # buildkit", site, comment=bk),
            S.Step("RUN /bin/sh -c chown -R 33 /srv/site # buildkit", chown, comment=bk),
            S.Step("COPY junk /opt/junk # buildkit", junk, comment=bk),
            S.Step("RUN /bin/sh -c apt-get install -y extra # buildkit", installed, comment=bk),
            S.Step('CMD ["nginx" "-g" "daemon off;"]', comment=bk),
        ],
        config={"Env": ["PATH=/usr/sbin:/usr/bin"], "Cmd": ["nginx", "-g", "daemon off;"]},
    )
    assert "/srv/site/index.html" not in plan_minify(img, evidence=traced("/usr/sbin/nginx")).kept
    # the probe fetched one page: the rest of the document root goes with it
    kept = plan_minify(img, evidence=traced("/usr/sbin/nginx", "/srv/site/index.html")).kept
    for path in ("/srv/site/css/style.css", "/srv/site/empty"):
        assert kept[path] == (Reason.COPIED,), path
    assert Reason.COPIED in kept["/srv/site/index.html"]  # the RUN chown rewrote it
    assert "/opt/junk/data.bin" not in kept  # a COPY nothing used
    static = plan_minify(img, evidence=None).kept  # nothing tells what is used: all stays
    assert "/opt/junk/data.bin" in static and "/srv/site/css/style.css" in static
    assert "/srv/site/node_modules/dep/index.js" not in kept  # a package: its closure decides
    # nor do node_modules' own links and lockfile pull in what they name (a devDependency's
    # .bin link made the whole dev tree, jest and babel, "used")
    for path in ("/srv/site/node_modules/.bin/jest", "/srv/site/node_modules/jest/bin/jest.js",
                 "/srv/site/node_modules/.package-lock.json"):  # fmt: skip
        assert path not in kept, path
    for path in ("/usr/bin/extra", "/usr/bin/tool", "/usr/share/nginx/html/index.html"):
        assert path not in kept, path  # a RUN's and the base's files are not the app's


def test_unknown_packages_mode_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--packages"):
        plan_minify(image([]), evidence=None, packages="some")  # type: ignore[arg-type]


DEBIAN_PY_STATUS = b"""Package: python3.11-minimal
Status: install ok installed
Architecture: amd64
Depends: libpython3.11-minimal
Version: 1

Package: libpython3.11-minimal
Status: install ok installed
Architecture: amd64
Version: 1

Package: libpython3.11-stdlib
Status: install ok installed
Architecture: amd64
Depends: libpython3.11-minimal, tzdata
Version: 1

Package: tzdata
Status: install ok installed
Architecture: all
Version: 1

Package: libpython3.11-dev
Status: install ok installed
Architecture: amd64
Depends: libpython3.11-stdlib, libc6-dev
Version: 1

Package: libc6-dev
Status: install ok installed
Architecture: amd64
Version: 1

Package: python3-pip
Status: install ok installed
Architecture: all
Version: 1
"""


def test_a_packaged_standard_library_is_kept_by_its_runtime_packages() -> None:
    lib = "usr/lib/python3.11"
    owned = {
        "python3.11-minimal": ["usr/bin/python3.11"],
        "libpython3.11-minimal": [f"{lib}/os.py"],
        "libpython3.11-stdlib": [
            f"{lib}/json/__init__.py",
            "usr/share/doc/libpython3.11-stdlib/README",
        ],
        "tzdata": ["usr/share/zoneinfo/UTC"],
        "libpython3.11-dev": [f"{lib}/config-3.11/libpython3.11.a"],
        "libc6-dev": ["usr/include/stdio.h"],
        "python3-pip": ["usr/lib/python3/dist-packages/pip/__init__.py"],
    }
    entries = dpkg_entries(DEBIAN_PY_STATUS, owned)
    entries += [
        S.Symlink("usr/bin/python3", "python3.11"),
        S.File(f"{lib}/__pycache__/os.cpython-311.pyc", b"pyc"),  # py3compile's, unowned
        S.File(f"{lib}/__pycache__/gone.cpython-311.pyc", b"pyc"),
        S.File("app/app.py", b"import json"),
    ]
    img = image(entries, Cmd=["python3", "app.py"], WorkingDir="/app")
    traced_run = traced("/usr/bin/python3.11", f"/{lib}/os.py", "/app/app.py")
    for plan in (plan_minify(img, evidence=None), plan_minify(img, evidence=traced_run)):
        kept = plan.kept
        for path in (f"/{lib}/os.py", f"/{lib}/json/__init__.py", "/usr/share/zoneinfo/UTC",
                     f"/{lib}/__pycache__/os.cpython-311.pyc"):  # fmt: skip
            assert path in kept, path
        for path in (f"/{lib}/config-3.11/libpython3.11.a", "/usr/include/stdio.h",
                     "/usr/share/doc/libpython3.11-stdlib/README",
                     f"/{lib}/__pycache__/gone.cpython-311.pyc"):  # fmt: skip
            assert path not in kept, path
    # Debian's pip is not the app's: with a trace it goes unless it was used
    assert "/usr/lib/python3/dist-packages/pip/__init__.py" not in plan.kept


PERL_STATUS = b"".join(
    f"Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n\n".encode()
    for name in ("perl-base", "perl-modules-5.36", "libperl5.36", "libperl-dev", "libjson-perl")
)


def test_a_perl_or_ruby_interpreter_keeps_its_library() -> None:
    arch = "usr/lib/x86_64-linux-gnu"
    owned = {
        "perl-base": ["usr/bin/perl", f"{arch}/perl-base/strict.pm"],
        "perl-modules-5.36": ["usr/share/perl/5.36.0/JSON/PP.pm"],
        "libperl5.36": [f"{arch}/perl/5.36.0/auto/POSIX/POSIX.so", f"{arch}/perl/5.36.0/POSIX.pm"],
        "libperl-dev": [f"{arch}/perl/5.36.0/CORE/perl.h", f"{arch}/libperl.a"],
        "libjson-perl": ["usr/share/perl5/JSON.pm"],
    }
    entries = dpkg_entries(PERL_STATUS, owned)
    entries += [
        S.Symlink(f"{arch}/perl/5.36", "5.36.0"),
        S.File("usr/local/bin/app.pl", b"#!/usr/bin/perl\nrequire JSON::PP;\n", 0o755),
        # a Ruby built from source: nothing owns its library
        S.File("usr/local/bin/ruby", ELF_LESS, 0o755),
        S.File("usr/local/lib/ruby/3.2.0/json.rb", b"module JSON; end"),
        S.File("usr/local/lib/ruby/gems/3.2.0/gems/rack-3.0/lib/rack.rb", b""),
        S.File("usr/local/lib/x86_64-linux-gnu/ruby/3.2.0/digest.so", ELF_LESS),
        S.File("usr/share/vim/syntax/ruby", b"not an interpreter"),
    ]
    perl = image(entries, Cmd=["/usr/local/bin/app.pl"])
    run = traced("/usr/bin/perl", "/usr/local/bin/app.pl")
    for plan in (plan_minify(perl, evidence=None), plan_minify(perl, evidence=run)):
        kept = plan.kept
        for path in ("/usr/share/perl/5.36.0/JSON/PP.pm", f"/{arch}/perl/5.36.0/POSIX.pm",
                     f"/{arch}/perl/5.36.0/auto/POSIX/POSIX.so",
                     f"/{arch}/perl-base/strict.pm"):  # fmt: skip
            assert path in kept, path
        for path in (f"/{arch}/perl/5.36.0/CORE/perl.h", f"/{arch}/libperl.a",
                     "/usr/share/perl5/JSON.pm", "/usr/local/lib/ruby/3.2.0/json.rb"):  # fmt: skip
            assert path not in kept, path
    kept = plan_minify(
        image(entries, Cmd=["/usr/local/bin/ruby", "app.rb"]), evidence=traced()
    ).kept
    for path in ("/usr/local/lib/ruby/3.2.0/json.rb",
                 "/usr/local/lib/ruby/gems/3.2.0/gems/rack-3.0/lib/rack.rb",
                 "/usr/local/lib/x86_64-linux-gnu/ruby/3.2.0/digest.so"):  # fmt: skip
        assert path in kept, path
    assert "/usr/share/perl/5.36.0/JSON/PP.pm" not in kept
    # a kept file named like an interpreter that is not in a bin directory keeps nothing
    kept = plan_minify(perl, evidence=None, keep=["/usr/share/vim/syntax/ruby"]).kept
    assert "/usr/local/lib/ruby/3.2.0/json.rb" not in kept


@pytest.mark.parametrize("packages", ["touched", "none"])
def test_a_jdk_unpacked_from_a_tarball_keeps_its_lib_and_conf(packages: str) -> None:
    home = "opt/java/openjdk"
    img = image(
        [
            S.File(f"{home}/bin/java", ELF_LESS, 0o755),
            S.File(f"{home}/bin/jshell", ELF_LESS, 0o755),
            S.File(f"{home}/lib/modules", b"jimage"),
            S.File(f"{home}/lib/libawt.so", ELF_LESS),  # dlopened for the first image
            S.File(f"{home}/lib/security/cacerts", b"certs"),
            S.File(f"{home}/lib/src.zip", b"sources"),
            S.File(f"{home}/conf/security/java.security", b"conf"),
            S.File(f"{home}/include/jni.h", b"header"),
            S.File(f"{home}/legal/java.base/LICENSE", b"legal"),
            S.File("app/app.jar", b"PK"),
            # a file named java, not in a Java home
            S.File("usr/local/bin/java", b"#!/bin/sh\n", 0o755),
            S.File("usr/local/lib/other.so", ELF_LESS),
        ],
        Env=[f"PATH=/{home}/bin:/usr/bin"],
        Cmd=["java", "-jar", "/app/app.jar"],
        WorkingDir="/app",
    )
    run = traced(f"/{home}/bin/java", f"/{home}/lib/modules", "/app/app.jar")
    kept = plan_minify(img, evidence=run, packages=packages).kept  # type: ignore[arg-type]
    for name in ("lib/libawt.so", "lib/security/cacerts", "conf/security/java.security"):
        assert f"/{home}/{name}" in kept, name
    for name in ("lib/src.zip", "include/jni.h", "legal/java.base/LICENSE", "bin/jshell"):
        assert f"/{home}/{name}" not in kept, name
    kept = plan_minify(img, evidence=None, keep=["/usr/local/bin/java"]).kept
    assert "/usr/local/lib/other.so" not in kept


def test_package_closure_leaves_documentation_out() -> None:
    status = b"Package: tool\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n"
    files = [
        "usr/bin/tool",
        "usr/share/doc/tool/copyright",
        "usr/share/man/man1/tool.1.gz",
        "usr/share/locale/de/LC_MESSAGES/tool.mo",
        "usr/share/locale/fr/LC_MESSAGES/tool.mo",
        "usr/share/tool/data.txt",
    ]
    listed = "".join(f"/{f}\n" for f in files).encode()
    img = image(
        [
            S.File("var/lib/dpkg/status", status),
            S.File("var/lib/dpkg/info/tool.list", listed),
            *(S.File(f, b"x", 0o755) for f in files),
        ],
        Env=["PATH=/usr/bin", "LANG=de_DE.UTF-8"],
        Cmd=["tool"],
    )
    kept = plan_minify(img, evidence=traced("/usr/share/man/man1/tool.1.gz")).kept
    assert "/usr/share/tool/data.txt" in kept and "/usr/share/locale/de/LC_MESSAGES/tool.mo" in kept
    assert "/usr/share/man/man1/tool.1.gz" in kept  # traced: kept whatever it is
    assert "/usr/share/doc/tool/copyright" not in kept
    assert "/usr/share/locale/fr/LC_MESSAGES/tool.mo" not in kept


def test_damaged_metadata_and_files_are_read_without_failing() -> None:
    img = image(
        [
            S.File("var/lib/dpkg/status", b"\xff\xfe garbage\n\nPackage:\nStatus: x\n"),
            S.File("var/lib/dpkg/info/x.list", b"/../../etc/passwd\n\x00\n"),
            S.File("lib/apk/db/installed", b"P:\nR:orphan\n\nD:so:nothing\n"),
            S.File("app/package.json", b"{not json"),
            S.File("app/node_modules/a/package.json", b'{"dependencies": ["not", "a", "map"]}'),
            S.File("app/node_modules/b/package.json", b'{"dependencies": {"../../../etc": "1"}}'),
            S.File("usr/lib/python3/dist-packages/x-1.dist-info/RECORD", b",,,\n\xff\n"),
            S.File("usr/bin/app", b"\x7fELF" + b"\x02\x01\x01" + b"\x00" * 40, 0o755),
            S.File("usr/bin/loop.sh", b"#!/usr/bin/loop.sh\n", 0o755),
            S.File("etc/ld.so.conf", b"include ld.so.conf\ninclude /etc/*.conf\n"),
        ],
        Cmd=["/bin/sh", "-c", 'app; loop.sh; exec "$@"; $(('],
        WorkingDir="/app",
    )
    plan = plan_minify(img, evidence=traced("/proc/self/exe", "/usr/bin/app", "relative"))
    assert "/usr/bin/app" in plan.kept  # a truncated ELF file is kept, with no asks
    assert "/app/package.json" in plan.kept
    assert plan.before_bytes >= plan.after_bytes


def test_a_traced_bytecode_file_keeps_its_source() -> None:
    """CPython opens only ``__pycache__/NAME.cpython-311.pyc`` when it is valid (the source
    is stat'd, which the trace does not see), yet never imports that file without
    ``NAME.py``: with ``--packages none`` a pip-installed module whose cache was used kept
    the cache alone, and the result failed with "No module named ..."."""
    site = "usr/local/lib/python3.11/dist-packages/gunicorn/app"
    img = image(
        [
            S.File("usr/bin/python3.11", b"\x7fELF", 0o755),
            S.File(f"{site}/wsgiapp.py", b"def run(): pass\n"),
            S.File(f"{site}/__pycache__/wsgiapp.cpython-311.pyc", b"pyc"),
            S.File(f"{site}/__pycache__/wsgiapp.cpython-311.opt-1.pyc", b"pyc"),
            S.File(f"{site}/base.py", b"unused\n"),
            S.File(f"{site}/__pycache__/base.cpython-311.pyc", b"pyc"),
            S.File("usr/lib/python3.11/__pycache__/orphan.cpython-311.pyc", b"pyc"),
        ],
        Cmd=["/usr/bin/python3.11"],
    )
    evidence = traced(
        "/usr/bin/python3.11",
        f"/{site}/__pycache__/wsgiapp.cpython-311.pyc",
        "/usr/lib/python3.11/__pycache__/orphan.cpython-311.pyc",
    )
    kept = plan_minify(img, evidence=evidence, packages="none").kept
    assert f"/{site}/wsgiapp.py" in kept
    assert f"/{site}/__pycache__/wsgiapp.cpython-311.opt-1.pyc" in kept  # follows the source
    assert (
        f"/{site}/base.py" not in kept and f"/{site}/__pycache__/base.cpython-311.pyc" not in kept
    )
    assert "/usr/lib/python3.11/__pycache__/orphan.cpython-311.pyc" in kept  # no source: as is


def test_a_distributions_test_suite_is_left_out_of_its_closure_unless_used() -> None:
    """numpy ships 15 MB of ``tests/`` folders, pandas and scipy more: ``pkg.test()`` runs
    them, an app never imports them. Its runtime helpers (``numpy/testing``) and a
    top-level ``tests`` package (a distribution of its own) stay; a traced test file
    stays."""
    site = "usr/local/lib/python3.12/site-packages"
    files = [
        "numpy/__init__.py", "numpy/_core/multiarray.py", "numpy/_core/tests/test_a.py",
        "numpy/_core/tests/__pycache__/test_a.cpython-312.pyc", "numpy/lib/tests/test_b.py",
        "numpy/lib/tests/data/x.npy", "numpy/testing/utils.py", "numpy/random/tests/test_c.py",
    ]  # fmt: skip
    record = "".join(f"{f},,\n" for f in files).encode() + b"numpy-2.2.dist-info/RECORD,,\n"
    img = local_python_app(
        [
            *(S.File(f"{site}/{f}", b"x" * 10) for f in files),
            S.File(f"{site}/numpy-2.2.dist-info/METADATA", b"Name: numpy\n"),
            S.File(f"{site}/numpy-2.2.dist-info/RECORD", record),
            S.File(f"{site}/tests/__init__.py", b"t"),
            S.File(f"{site}/tests-0.1.dist-info/METADATA", b"Name: tests\n"),
            S.File(f"{site}/tests-0.1.dist-info/RECORD", b"tests/__init__.py,,\n"),
        ],
        b"import numpy",
    )
    used = traced(f"/{site}/numpy/__init__.py", f"/{site}/numpy/random/tests/test_c.py")
    kept = plan_minify(img, evidence=used).kept
    for f in ("numpy/_core/multiarray.py", "numpy/testing/utils.py",
              "numpy/random/tests/test_c.py", "tests/__init__.py"):  # fmt: skip
        assert f"/{site}/{f}" in kept, f
    for f in ("numpy/_core/tests/test_a.py", "numpy/_core/tests/__pycache__/test_a.cpython-312.pyc",
              "numpy/lib/tests/test_b.py", "numpy/lib/tests/data/x.npy"):  # fmt: skip
        assert f"/{site}/{f}" not in kept, f
    # with nothing traced (--static) the site directories stay whole, test suites too
    assert f"/{site}/numpy/lib/tests/test_b.py" in plan_minify(img, evidence=None).kept


def test_an_empty_directory_of_the_image_is_kept() -> None:
    """nginx makes ``/var/lib/nginx/body`` at start, an app its uploads: a trace of opens
    sees neither mkdir, and without the empty directory the result failed to start. A
    directory that only held removed files still goes."""
    img = image(
        [
            S.File("usr/sbin/nginx", ELF_LESS, 0o755),
            S.Dir("var/lib/nginx", 0o700),
            S.Dir("srv/uploads", 0o1777),
            S.Dir("opt/junk"),
            S.File("opt/junk/big.bin", b"j" * 100),
        ],
        Cmd=["/usr/sbin/nginx"],
    )
    for evidence in (traced("/usr/sbin/nginx"), None):
        kept = plan_minify(img, evidence=evidence, packages="none").kept
        assert Reason.STRUCTURE in kept["/var/lib/nginx"]
        assert "/srv/uploads" in kept and "/srv" in kept
        assert "/opt/junk" not in kept and "/opt/junk/big.bin" not in kept


BUILD_STATUS = b"""Package: npm
Status: install ok installed
Architecture: all
Depends: node-gyp
Version: 1

Package: node-gyp
Status: install ok installed
Architecture: all
Depends: libnode-dev, nodejs
Version: 1

Package: nodejs
Status: install ok installed
Architecture: amd64
Version: 1

Package: libnode-dev
Status: install ok installed
Architecture: amd64
Depends: libssl-dev
Version: 1

Package: libssl-dev
Status: install ok installed
Architecture: amd64
Version: 1
"""


@pytest.mark.parametrize("dev_used", [False, True])
def test_a_dependency_for_building_is_not_followed_unless_used(dev_used: bool) -> None:
    """Debian's npm depends on node-gyp, which depends on libnode-dev and on to libssl-dev
    and libc6-dev: headers and static libraries no running program opens (15 MB and more
    on an express app run by `npm start`). A -dev package a program did open is kept."""
    owned = {
        "npm": ["usr/bin/npm"],
        "node-gyp": ["usr/bin/node-gyp"],
        "nodejs": ["usr/bin/node"],
        "libnode-dev": ["usr/include/node/node.h"],
        "libssl-dev": ["usr/include/openssl/ssl.h", "usr/lib/libssl.so"],
    }
    entries = dpkg_entries(BUILD_STATUS, owned)
    used = ["/usr/bin/npm"] + (["/usr/lib/libssl.so"] if dev_used else [])
    kept = plan_minify(image(entries, Cmd=["npm", "start"]), evidence=traced(*used)).kept
    for path in ("/usr/bin/npm", "/usr/bin/node-gyp", "/usr/bin/node"):
        assert Reason.PACKAGE in kept[path], path
    assert "/usr/include/node/node.h" not in kept
    assert ("/usr/include/openssl/ssl.h" in kept) is dev_used  # its package, when used


JDK_STATUS = b"""Package: openjdk-17-jre-headless
Status: install ok installed
Architecture: amd64
Version: 1

Package: openjdk-17-jdk-headless
Status: install ok installed
Architecture: amd64
Depends: openjdk-17-jre-headless
Version: 1
"""


def test_a_debian_jre_is_kept_whole_and_its_jdk_is_not() -> None:
    """Debian's JDK package owns one file in the Java home's ``lib``, ``src.zip``: it made
    the JDK a package of the runtime's library, and javac and 78 MB of jmods were kept
    for an app that only runs ``java``."""
    home = "usr/lib/jvm/java-17-openjdk-amd64"
    owned = {
        "openjdk-17-jre-headless": [
            f"{home}/bin/java", f"{home}/lib/modules", f"{home}/lib/libawt.so",
            f"{home}/conf/security/java.security",
        ],
        "openjdk-17-jdk-headless": [
            f"{home}/bin/javac", f"{home}/jmods/java.base.jmod", f"{home}/lib/src.zip",
        ],
    }  # fmt: skip
    entries = [*dpkg_entries(JDK_STATUS, owned), S.File("app/app.jar", b"PK")]
    img = image(entries, Env=[f"PATH=/{home}/bin:/usr/bin"], Cmd=["java", "-jar", "/app/app.jar"])
    kept = plan_minify(img, evidence=traced(f"/{home}/bin/java", f"/{home}/lib/modules")).kept
    for path in ("lib/libawt.so", "conf/security/java.security"):
        assert f"/{home}/{path}" in kept, path
    for path in ("bin/javac", "jmods/java.base.jmod", "lib/src.zip"):
        assert f"/{home}/{path}" not in kept, path
