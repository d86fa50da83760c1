"""pip (Python): pinning and the wheel cache."""

from __future__ import annotations

from collections.abc import Iterator

from deadweight.dockerfile import edits
from deadweight.dockerfile.rule import Context, Doc, Hit, Rule
from deadweight.dockerfile.rules.packages._common import W, _after, _cached
from deadweight.dockerfile.shell import Command
from deadweight.dockerfile.stages import RunSite, SetBefore, Stage

_PIP_CACHE_TRUE = frozenset({"1", "true", "True", "TRUE", "on", "On", "ON", "yes", "Yes", "YES"})


def is_pip_install(c: Command) -> bool:
    # the command word as written, as hadolint reads it: ``/usr/bin/pip`` or
    # ``venv/bin/pip`` is not pip to hadolint, whose rules leave such a RUN alone
    if c.name.startswith("pip") and not c.name.startswith("pipenv") and "install" in c.args:
        return True
    if c.name.startswith("python"):
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


DL3013 = Rule(
    "DL3013",
    W,
    "Pin versions in pip. Instead of `pip install <package>` use `pip install "
    "<package>==<version>` or `pip install --requirement <requirements file>`",
    _dl3013,
    Doc(
        "Unpinned packages make builds unrepeatable.",
        "RUN pip install flask",
        "RUN pip install --no-cache-dir flask==3.0.0",
    ),
)


def _first_env_setting(stage: Stage, name: str, truthy: frozenset[str]) -> int | None:
    """The line of the stage's first ENV that sets ``name`` to a truthy value."""
    for ins in stage.instructions:
        if ins.keyword == "ENV" and _env_pairs_value(ins.value, name) in truthy:
            return ins.start_line
    return None


def _env_pairs_value(value: str, name: str) -> str | None:
    from deadweight.dockerfile.pairs import pairs

    found = None
    for k, v in pairs(value):
        if k == name:
            found = v
    return found


def _pip_cache_off(site: RunSite, set_before: SetBefore) -> bool:
    """PIP_NO_CACHE_DIR set by an ENV before this RUN, in its stage or one it builds on."""
    if site.onbuild or site.stage is None:
        return False
    return set_before(site.stage, site.instruction.start_line)


def _dl3042(ctx: Context) -> Iterator[Hit]:
    src = ctx.build.dockerfile.source
    set_before = SetBefore(
        ctx.build, lambda s: _first_env_setting(s, "PIP_NO_CACHE_DIR", _PIP_CACHE_TRUE)
    )
    for site in ctx.build.runs:
        if _pip_cache_off(site, set_before) or _cached(site, "/root/.cache/pip"):
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


DL3042 = Rule(
    "DL3042",
    W,
    "Avoid use of cache directory with pip. Use `pip install --no-cache-dir <package>`",
    _dl3042,
    Doc(
        "pip's wheel cache stays in the layer.",
        "RUN pip install -r requirements.txt",
        "RUN pip install --no-cache-dir -r requirements.txt",
    ),
)


RULES = (
    DL3013,
    DL3042,
)
