"""hadolint's package-manager rules (apt, apk, yum, dnf, zypper, pip, npm, gem, go, yarn)."""

from __future__ import annotations

from collections.abc import Iterator

from deadweight.dockerfile import edits
from deadweight.dockerfile.findings import Severity
from deadweight.dockerfile.regex import lazy
from deadweight.dockerfile.rule import Context, Doc, Hit, Rule
from deadweight.dockerfile.shell import Command
from deadweight.dockerfile.stages import RunSite, Stage

W, INFO = Severity.WARNING, Severity.INFO
_PIP_CACHE_TRUE = frozenset({"1", "true", "True", "TRUE", "on", "On", "ON", "yes", "Yes", "YES"})


def _after(args: tuple[str, ...], word: str) -> list[str]:
    """hadolint's ``stripInstallPrefix``: the words after the first ``word`` run."""
    out = list(args)
    while out and out[0] != word:
        out.pop(0)
    while out and out[0] == word:
        out.pop(0)
    return out


def _cached(site: RunSite, prefix: str) -> bool:
    for mount in site.run.flag_values("mount"):
        parts = dict(p.partition("=")[::2] for p in mount.split(","))
        target = parts.get("target") or parts.get("dst") or parts.get("destination") or ""
        # a cache or a tmpfs mount keeps what is written there out of the layer
        if parts.get("type") in ("cache", "tmpfs") and target.startswith(prefix):
            return True
    return False


def _apt_install(c: Command) -> bool:
    return c.name == "apt-get" and c.has_arg("install")


def _dl3008(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        for c in site.script.commands:
            if not _apt_install(c):
                continue
            pkgs = [a for a in c.positional("t", "target-release") if a != "install"]
            if not all("=" in p or "/" in p or p.endswith(".deb") for p in pkgs):
                yield Hit(site.instruction)
                break


def _final_or_reused(ctx: Context, stage: Stage | None, site: RunSite) -> bool:
    """hadolint's DL3009/DL3060 scope: the last stage, or one a later FROM builds on."""
    if site.onbuild or stage is None:
        return True
    if stage is ctx.build.final:
        return True
    return stage.name is not None and any(
        s.image.lower() == stage.name for s in ctx.build.stages if s.index > stage.index
    )


def _dl3009(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        cmds = site.script.commands
        update = any(c.name in ("apt-get", "apt") and c.has_arg("update") for c in cmds)
        cleanup = any(c.name == "rm" and c.has_arg("-rf", "/var/lib/apt/lists/*") for c in cmds)
        if not update or cleanup:
            continue
        if _cached(site, "/var/lib/apt/lists") or (
            _cached(site, "/var/lib/apt") and _cached(site, "/var/cache/apt")
        ):
            continue
        if _final_or_reused(ctx, site.stage, site):
            # removing the lists is only safe where this RUN also installs what it needs
            fix = (
                edits.append_command(
                    ctx.build.dockerfile.source, site.instruction, "rm -rf /var/lib/apt/lists/*"
                )
                if any(_apt_install(c) for c in cmds)
                else None
            )
            yield Hit(site.instruction, fix=fix)


def _apt_yes(c: Command) -> bool:
    flags = c.flags
    return (
        any(f in ("y", "yes", "assume-yes") for f in flags)
        or flags.count("q") >= 2
        or c.has_arg("-q=2", "--quiet=2")
    )


def _dl3014(ctx: Context) -> Iterator[Hit]:
    src = ctx.build.dockerfile.source
    for site in ctx.build.runs:
        if any(_apt_install(c) and not _apt_yes(c) for c in site.script.commands):
            fix = edits.add_flag(
                src,
                site.instruction,
                r"apt-get",
                "install",
                "-y",
                lambda seg: any(t in seg.split() for t in ("-y", "--yes", "--assume-yes", "-qq")),
            )
            yield Hit(site.instruction, fix=fix)


def _no_recommends(c: Command) -> bool:
    return c.has_flag("no-install-recommends") or any(
        "APT::Install-Recommends=false" in a for a in c.args
    )


def _dl3015(ctx: Context) -> Iterator[Hit]:
    src = ctx.build.dockerfile.source
    for site in ctx.build.runs:
        if any(_apt_install(c) and not _no_recommends(c) for c in site.script.commands):
            fix = edits.add_flag(
                src,
                site.instruction,
                r"apt-get",
                "install",
                "--no-install-recommends",
                lambda seg: "--no-install-recommends" in seg or "Install-Recommends" in seg,
            )
            yield Hit(site.instruction, fix=fix)


def _dl3027(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        if any(c.name == "apt" for c in site.script.commands):
            yield Hit(site.instruction)


def _apk_add(c: Command) -> bool:
    return c.name == "apk" and c.has_arg("add")


def _dl3018(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        for c in site.script.commands:
            if not _apk_add(c):
                continue
            pkgs = _after(
                c.positional("t", "virtual", "X", "repository", "repositories-file"), "add"
            )
            if not all("=" in p or p.endswith(".apk") for p in pkgs):
                yield Hit(site.instruction)
                break


def _dl3019(ctx: Context) -> Iterator[Hit]:
    src = ctx.build.dockerfile.source
    for site in ctx.build.runs:
        if _cached(site, "/var/cache/apk") or _cached(site, "/etc/apk/cache"):
            continue
        if any(_apk_add(c) and not c.has_flag("no-cache") for c in site.script.commands):
            fix = edits.add_flag(
                src, site.instruction, r"apk", "add", "--no-cache", lambda s: "--no-cache" in s
            )
            yield Hit(site.instruction, fix=fix)


def _yum_install(c: Command) -> bool:
    return c.name == "yum" and c.has_arg("install", "groupinstall", "localinstall")


def _dl3030(ctx: Context) -> Iterator[Hit]:
    src = ctx.build.dockerfile.source
    for site in ctx.build.runs:
        if any(_yum_install(c) and not c.has_flag("y", "assumeyes") for c in site.script.commands):
            fix = edits.add_flag(
                src,
                site.instruction,
                "yum",
                "install",
                "-y",
                lambda seg: "-y" in seg.split() or "--assumeyes" in seg,
            )
            yield Hit(site.instruction, fix=fix)


def _dl3032(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        cmds = site.script.commands
        installs = [i for i, c in enumerate(cmds) if _yum_install(c)]
        if not installs:
            continue
        # the clean must come after the (last) install to remove what it left (issue 14)
        clean = any(
            (c.name == "yum" and c.has_arg("clean"))
            or (c.name == "rm" and any(a.startswith("/var/cache/yum") for a in c.args))
            for c in cmds[installs[-1] + 1 :]
        )
        if not clean and not _cached(site, "/var/cache/yum"):
            yield Hit(site.instruction)


_RPM_VERSION_PART = lazy(r"[A-Za-z0-9.~^_:+]+")


def _rpm_pinned(p: str) -> bool:
    """hadolint's ``packageVersionFixed``: ``name-version``, where the parts after the
    first hyphen are version characters and one of them starts with a digit. A hyphen
    alone is no pin: ``epel-release`` and ``centos-release-scl`` are names (issue 14)."""
    if p.endswith(".rpm") or "$" in p:
        return True
    parts = p.split("-")[1:]
    return (
        bool(parts)
        and all(_RPM_VERSION_PART.fullmatch(x) for x in parts)
        and any(x[:1].isdigit() for x in parts)
    )


def _dl3033(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        for c in site.script.commands:
            if c.name == "yum" and c.has_arg("install"):
                pkgs = _after(c.positional(), "install")
                if not all(_rpm_pinned(p) for p in pkgs):
                    yield Hit(site.instruction)
                    break


_ZYPPER_INSTALL = ("install", "in", "remove", "rm", "source-install", "si", "patch")


def _dl3034(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        if any(
            c.name == "zypper"
            and c.has_arg(*_ZYPPER_INSTALL)
            and not c.has_flag("n", "non-interactive", "y", "no-confirm")
            for c in site.script.commands
        ):
            yield Hit(site.instruction)


def _dl3035(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        if any(
            c.name == "zypper" and c.has_arg("dist-upgrade", "dup") for c in site.script.commands
        ):
            yield Hit(site.instruction)


def _dl3036(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        cmds = site.script.commands
        if any(c.name == "zypper" and c.has_arg("install", "in") for c in cmds) and not any(
            c.name == "zypper" and c.has_arg("clean", "cc") for c in cmds
        ):
            yield Hit(site.instruction)


def _dl3037(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        for c in site.script.commands:
            if c.name == "zypper" and c.has_arg("install", "in"):
                pkgs = [p for p in c.positional() if p not in ("install", "in")]
                if not all(
                    any(s in p for s in ("=", ">", "<")) or p.endswith(".rpm") for p in pkgs
                ):
                    yield Hit(site.instruction)
                    break


def _dnf(c: Command) -> bool:
    return c.name in ("dnf", "microdnf") and c.has_arg("install", "groupinstall", "localinstall")


def _dl3038(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        if any(_dnf(c) and not c.has_flag("y", "assumeyes") for c in site.script.commands):
            yield Hit(site.instruction)


def _dl3040(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        cmds = site.script.commands
        if not any(_dnf(c) for c in cmds):
            continue
        clean = any(c.name in ("dnf", "microdnf") and c.has_arg("clean") for c in cmds) or any(
            c.name == "rm" and any(a.startswith("/var/cache/") for a in c.args) for c in cmds
        )
        if not clean and not _cached(site, "/var/cache/"):
            yield Hit(site.instruction)


def _dl3041(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        for c in site.script.commands:
            if c.name in ("dnf", "microdnf") and c.has_arg("install"):
                pkgs = _after(c.positional(), "install")
                if not all(_rpm_pinned(p) for p in pkgs):
                    yield Hit(site.instruction)
                    break


def is_pip_install(c: Command) -> bool:
    if c.name.rsplit("/", 1)[-1].startswith("pip") and "install" in c.args:
        return True
    if c.name.rsplit("/", 1)[-1].startswith("python"):
        a = list(c.args)
        return any(a[i : i + 3] == ["-m", "pip", "install"] for i in range(len(a)))
    return False


def _pip_wrapper(c: Command) -> bool:
    a = list(c.args)
    return any(w in c.name for w in ("pipx", "pipenv")) or any(
        a[i : i + 2] in (["-m", "pipx"], ["-m", "pipenv"]) for i in range(len(a))
    )


_PIP_VALUED = (
    "abi",
    "b",
    "build",
    "e",
    "editable",
    "extra-index-url",
    "f",
    "find-links",
    "i",
    "index-url",
    "implementation",
    "no-binary",
    "only-binary",
    "platform",
    "prefix",
    "progress-bar",
    "proxy",
    "python-version",
    "root",
    "src",
    "t",
    "target",
    "trusted-host",
    "upgrade-strategy",
)


def _pip_pinned(p: str) -> bool:
    if any(s in p for s in ("==", ">=", "<=", ">", "<", "!=", "~=")):
        return True
    if p.endswith((".whl", ".tar.gz")):
        return True
    vcs = p.startswith(("git", "hg", "svn", "bzr"))
    return (vcs and "@" in p) or (not vcs and "/" in p)


def _dl3013(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        for c in site.script.commands:
            if not is_pip_install(c) or c.has_flag("constraint", "c"):
                continue
            if any(a in ("--requirement", "-r", ".") for a in c.args):
                continue
            pkgs = _after(c.positional(*_PIP_VALUED), "install")
            if not all(_pip_pinned(p) for p in pkgs):
                yield Hit(site.instruction)
                break


def _first_env_setting(stage: Stage, name: str, truthy: frozenset[str]) -> int:
    """The line of the stage's first ENV that sets ``name`` to a truthy value (or a huge
    number)."""
    for ins in stage.instructions:
        if ins.keyword == "ENV" and _env_pairs_value(ins.value, name) in truthy:
            return ins.start_line
    return 10**12


def _env_pairs_value(value: str, name: str) -> str | None:
    from deadweight.dockerfile.pairs import pairs

    found = None
    for k, v in pairs(value):
        if k == name:
            found = v
    return found


def _pip_cache_off(ctx: Context, site: RunSite, first: dict[int, int]) -> bool:
    """PIP_NO_CACHE_DIR set by an ENV before this RUN, in its stage or one it builds on.
    ``first`` keeps each stage's answer, so a file of many RUNs is read once (issue 16)."""
    if site.onbuild:
        return False
    stage = site.stage
    if stage is None:
        return False
    for s in ctx.build.lineage(stage):
        if s.index not in first:
            first[s.index] = _first_env_setting(s, "PIP_NO_CACHE_DIR", _PIP_CACHE_TRUE)
        upto = site.instruction.start_line if s is stage else 10**12
        if first[s.index] < upto:
            return True
    return False


def _dl3042(ctx: Context) -> Iterator[Hit]:
    src = ctx.build.dockerfile.source
    first: dict[int, int] = {}
    for site in ctx.build.runs:
        if _pip_cache_off(ctx, site, first) or _cached(site, "/root/.cache/pip"):
            continue
        text = site.script.text
        if "PIP_NO_CACHE_DIR=" in text:
            after = text.split("PIP_NO_CACHE_DIR=", 1)[1]
            if any(after.startswith(t) for t in _PIP_CACHE_TRUE):
                continue
        if any(
            is_pip_install(c) and "--no-cache-dir" not in c.args and not _pip_wrapper(c)
            for c in site.script.commands
        ):
            fix = edits.add_flag(
                src,
                site.instruction,
                r"pip[0-9.]*|python[0-9.]*\s+-m\s+pip",
                "install",
                "--no-cache-dir",
                lambda seg: "--no-cache-dir" in seg,
            )
            yield Hit(site.instruction, fix=fix)


def _npm_pinned(p: str) -> bool:
    if p.startswith(("git://", "git+ssh://", "git+http://", "git+https://")):
        return "#" in p
    if p.endswith((".tar", ".tar.gz", ".tgz")) or p.startswith(("/", "./", "../", "~/")):
        return True
    body = p.split("/", 1)[1] if p.startswith("@") and "/" in p else p
    return "@" in body


def _dl3016(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        for c in site.script.commands:
            if c.name != "npm" or not c.has_arg("install"):
                continue
            pos = c.positional()
            if not pos or pos[0] != "install":
                continue
            if not all(_npm_pinned(p) for p in _after(pos, "install")):
                yield Hit(site.instruction)
                break


def _dl3028(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        for c in site.script.commands:
            if c.name != "gem" or not c.has_arg("install", "i") or c.has_flag("v", "version"):
                continue
            pkgs = [p for p in c.positional() if p not in ("install", "i")]
            if not all(":" in p for p in pkgs):
                yield Hit(site.instruction)
                break


def _dl3060(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        cmds = site.script.commands
        install = any(c.name == "yarn" and c.has_arg("install") for c in cmds)
        clean = any(c.name == "yarn" and c.has_arg("cache", "clean") for c in cmds)
        cached = _cached(site, "/usr/local/share/.cache/yarn")
        if install and not clean and not cached and _final_or_reused(ctx, site.stage, site):
            yield Hit(site.instruction)


def _dl3062(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        for c in site.script.commands:
            if c.name != "go" or not c.args or c.args[0] not in ("install", "get", "run"):
                continue
            pkgs = list(c.positional("o", "C", "ldflags", "gcflags", "tags", "modfile"))[1:]
            remote = [p for p in pkgs if not p.startswith((".", "/", "$")) and "/" in p]
            # ``@latest`` moves: it is no pin (hadolint's isTagsVersion; issue 14)
            if any("@" not in p or p.endswith(("@latest", "@none")) for p in remote):
                yield Hit(site.instruction)
                break


def _doc(why: str, bad: str, good: str) -> Doc:
    return Doc(why, bad, good)


RULES = (
    Rule(
        "DL3008",
        W,
        "Pin versions in apt get install. Instead of `apt-get install <package>` use "
        "`apt-get install <package>=<version>`",
        _dl3008,
        _doc(
            "Unpinned packages make builds unrepeatable.",
            "RUN apt-get install -y curl",
            "RUN apt-get install -y curl=7.88.1-10+deb12u5",
        ),
    ),
    Rule(
        "DL3009",
        INFO,
        "Delete the apt lists (/var/lib/apt/lists) after installing something",
        _dl3009,
        _doc(
            "The package lists stay in the layer (tens of MB) unless removed in the same RUN.",
            "RUN apt-get update && apt-get install -y curl",
            "RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*",
        ),
        suggestion="end the RUN with `&& rm -rf /var/lib/apt/lists/*`",
    ),
    Rule(
        "DL3014",
        W,
        "Use the `-y` switch to avoid manual input `apt-get -y install <package>`",
        _dl3014,
        _doc(
            "Without -y apt-get waits for an answer and the build fails.",
            "RUN apt-get install curl",
            "RUN apt-get install -y curl",
        ),
    ),
    Rule(
        "DL3015",
        INFO,
        "Avoid additional packages by specifying `--no-install-recommends`",
        _dl3015,
        _doc(
            "Recommended packages are rarely needed and add size.",
            "RUN apt-get install -y curl",
            "RUN apt-get install -y --no-install-recommends curl",
        ),
    ),
    Rule(
        "DL3027",
        W,
        "Do not use apt as it is meant to be an end-user tool, use apt-get or apt-cache instead",
        _dl3027,
        _doc(
            "apt's interface is not stable for scripts.",
            "RUN apt install -y curl",
            "RUN apt-get install -y curl",
        ),
    ),
    Rule(
        "DL3018",
        W,
        "Pin versions in apk add. Instead of `apk add <package>` use `apk add <package>=<version>`",
        _dl3018,
        _doc(
            "Unpinned packages make builds unrepeatable.",
            "RUN apk add --no-cache curl",
            "RUN apk add --no-cache curl=8.5.0-r0",
        ),
    ),
    Rule(
        "DL3019",
        INFO,
        "Use the `--no-cache` switch to avoid the need to use `--update` and remove "
        "`/var/cache/apk/*` when done installing packages",
        _dl3019,
        _doc(
            "Without --no-cache the APK index stays in the layer.",
            "RUN apk add curl",
            "RUN apk add --no-cache curl",
        ),
    ),
    Rule(
        "DL3028",
        W,
        "Pin versions in gem install. Instead of `gem install <gem>` use "
        "`gem install <gem>:<version>`",
        _dl3028,
        _doc(
            "Unpinned gems make builds unrepeatable.",
            "RUN gem install bundler",
            "RUN gem install bundler:2.4.22",
        ),
    ),
    Rule(
        "DL3030",
        W,
        "Use the -y switch to avoid manual input `yum install -y <package>`",
        _dl3030,
        _doc(
            "Without -y yum waits for an answer.",
            "RUN yum install httpd",
            "RUN yum install -y httpd-2.4.6 && yum clean all",
        ),
    ),
    Rule(
        "DL3032",
        W,
        "`yum clean all` missing after yum command.",
        _dl3032,
        _doc(
            "yum's cache stays in the layer.",
            "RUN yum install -y httpd-2.4.6",
            "RUN yum install -y httpd-2.4.6 && yum clean all",
        ),
    ),
    Rule(
        "DL3033",
        W,
        "Specify version with `yum install -y <package>-<version>`.",
        _dl3033,
        _doc(
            "Unpinned packages make builds unrepeatable.",
            "RUN yum install -y httpd",
            "RUN yum install -y httpd-2.4.6",
        ),
    ),
    Rule(
        "DL3034",
        W,
        "Non-interactive switch missing from `zypper` command: `zypper install -y`",
        _dl3034,
        _doc(
            "zypper waits for an answer without -n/-y.",
            "RUN zypper install curl",
            "RUN zypper install -y curl=8.0",
        ),
    ),
    Rule(
        "DL3035",
        W,
        "Do not use `zypper dist-upgrade`.",
        _dl3035,
        _doc("Upgrade the base image instead.", "RUN zypper dist-upgrade", "FROM opensuse:15.5"),
    ),
    Rule(
        "DL3036",
        W,
        "`zypper clean` missing after zypper use.",
        _dl3036,
        _doc(
            "zypper's cache stays in the layer.",
            "RUN zypper install -y curl=8.0",
            "RUN zypper install -y curl=8.0 && zypper clean",
        ),
    ),
    Rule(
        "DL3037",
        W,
        "Specify version with `zypper install -y <package>=<version>`.",
        _dl3037,
        _doc(
            "Unpinned packages make builds unrepeatable.",
            "RUN zypper install -y curl",
            "RUN zypper install -y curl=8.0",
        ),
    ),
    Rule(
        "DL3038",
        W,
        "Use the -y switch to avoid manual input `dnf install -y <package>`",
        _dl3038,
        _doc(
            "dnf waits for an answer without -y.",
            "RUN dnf install curl",
            "RUN dnf install -y curl-8.0 && dnf clean all",
        ),
    ),
    Rule(
        "DL3040",
        W,
        "`dnf clean all` missing after dnf command.",
        _dl3040,
        _doc(
            "dnf's cache stays in the layer.",
            "RUN dnf install -y curl-8.0",
            "RUN dnf install -y curl-8.0 && dnf clean all",
        ),
    ),
    Rule(
        "DL3041",
        W,
        "Specify version with `dnf install -y <package>-<version>`.",
        _dl3041,
        _doc(
            "Unpinned packages make builds unrepeatable.",
            "RUN dnf install -y curl",
            "RUN dnf install -y curl-8.0",
        ),
    ),
    Rule(
        "DL3013",
        W,
        "Pin versions in pip. Instead of `pip install <package>` use `pip install "
        "<package>==<version>` or `pip install --requirement <requirements file>`",
        _dl3013,
        _doc(
            "Unpinned packages make builds unrepeatable.",
            "RUN pip install flask",
            "RUN pip install --no-cache-dir flask==3.0.0",
        ),
    ),
    Rule(
        "DL3042",
        W,
        "Avoid use of cache directory with pip. Use `pip install --no-cache-dir <package>`",
        _dl3042,
        _doc(
            "pip's wheel cache stays in the layer.",
            "RUN pip install -r requirements.txt",
            "RUN pip install --no-cache-dir -r requirements.txt",
        ),
    ),
    Rule(
        "DL3016",
        W,
        "Pin versions in npm. Instead of `npm install <package>` use "
        "`npm install <package>@<version>`",
        _dl3016,
        _doc(
            "Unpinned packages make builds unrepeatable.",
            "RUN npm install -g nodemon",
            "RUN npm install -g nodemon@3.0.2",
        ),
    ),
    Rule(
        "DL3060",
        INFO,
        "`yarn cache clean` missing after `yarn install` was run.",
        _dl3060,
        _doc(
            "yarn's cache stays in the image.",
            "RUN yarn install",
            "RUN yarn install --frozen-lockfile && yarn cache clean",
        ),
    ),
    Rule(
        "DL3062",
        W,
        "Pin versions in go. Instead of `go install <package>` use "
        "`go install <package>@<version>`",
        _dl3062,
        _doc(
            "Unpinned modules make builds unrepeatable.",
            "RUN go install golang.org/x/tools/gopls",
            "RUN go install golang.org/x/tools/gopls@v0.14.2",
        ),
    ),
)
