"""yum and dnf (RHEL, Fedora, CentOS): -y, the cache cleaned, pinning."""

from __future__ import annotations

from collections.abc import Iterator

from deadweight.dockerfile import edits
from deadweight.dockerfile.regex import lazy
from deadweight.dockerfile.rule import Context, Doc, Hit, Rule
from deadweight.dockerfile.rules.packages._common import W, _after, _cached
from deadweight.dockerfile.shell import Command


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


DL3030 = Rule(
    "DL3030",
    W,
    "Use the -y switch to avoid manual input `yum install -y <package>`",
    _dl3030,
    Doc(
        "Without -y yum waits for an answer.",
        "RUN yum install httpd",
        "RUN yum install -y httpd-2.4.6 && yum clean all",
    ),
)


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


DL3032 = Rule(
    "DL3032",
    W,
    "`yum clean all` missing after yum command.",
    _dl3032,
    Doc(
        "yum's cache stays in the layer.",
        "RUN yum install -y httpd-2.4.6",
        "RUN yum install -y httpd-2.4.6 && yum clean all",
    ),
)


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


DL3033 = Rule(
    "DL3033",
    W,
    "Specify version with `yum install -y <package>-<version>`.",
    _dl3033,
    Doc(
        "Unpinned packages make builds unrepeatable.",
        "RUN yum install -y httpd",
        "RUN yum install -y httpd-2.4.6",
    ),
)


def _dnf(c: Command) -> bool:
    return c.name in ("dnf", "microdnf") and c.has_arg("install", "groupinstall", "localinstall")


def _dl3038(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        if any(_dnf(c) and not c.has_flag("y", "assumeyes") for c in site.script.commands):
            yield Hit(site.instruction)


DL3038 = Rule(
    "DL3038",
    W,
    "Use the -y switch to avoid manual input `dnf install -y <package>`",
    _dl3038,
    Doc(
        "dnf waits for an answer without -y.",
        "RUN dnf install curl",
        "RUN dnf install -y curl-8.0 && dnf clean all",
    ),
)


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


DL3040 = Rule(
    "DL3040",
    W,
    "`dnf clean all` missing after dnf command.",
    _dl3040,
    Doc(
        "dnf's cache stays in the layer.",
        "RUN dnf install -y curl-8.0",
        "RUN dnf install -y curl-8.0 && dnf clean all",
    ),
)


def _dl3041(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        for c in site.script.commands:
            if c.name in ("dnf", "microdnf") and c.has_arg("install"):
                pkgs = _after(c.positional(), "install")
                if not all(_rpm_pinned(p) for p in pkgs):
                    yield Hit(site.instruction)
                    break


DL3041 = Rule(
    "DL3041",
    W,
    "Specify version with `dnf install -y <package>-<version>`.",
    _dl3041,
    Doc(
        "Unpinned packages make builds unrepeatable.",
        "RUN dnf install -y curl",
        "RUN dnf install -y curl-8.0",
    ),
)


RULES = (
    DL3030,
    DL3032,
    DL3033,
    DL3038,
    DL3040,
    DL3041,
)
