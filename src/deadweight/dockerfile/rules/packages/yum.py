"""yum and dnf (RHEL, Fedora, CentOS): -y, the cache cleaned, pinning."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from deadweight.dockerfile import edits
from deadweight.dockerfile.regex import lazy
from deadweight.dockerfile.rule import Context, Doc, Hit, Rule
from deadweight.dockerfile.rules.packages._common import W, _after, _mounted
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


def _first(commands: tuple[Command, ...], test: Callable[[Command], bool]) -> int | None:
    return next((i for i, c in enumerate(commands) if test(c)), None)


def _cleaned_after_install(
    commands: tuple[Command, ...],
    install: Callable[[Command], bool],
    clean: Callable[[Command], bool],
) -> bool:
    """hadolint's test: no install, or the first install comes before the first clean.
    A clean is the manager with ``clean`` or ``all`` among its words, or an ``rm`` with
    ``-rf`` or the cache path: ``yum clean metadata`` before the install is one, and the
    install after it is then reported, as hadolint does."""
    first_install = _first(commands, install)
    if first_install is None:
        return True
    first_clean = _first(commands, clean)
    return first_clean is not None and first_install < first_clean


def _dl3032(ctx: Context) -> Iterator[Hit]:
    def install(c: Command) -> bool:
        return c.name == "yum" and c.has_arg("install")

    def clean(c: Command) -> bool:
        return (c.name == "yum" and c.has_arg("clean", "all")) or (
            c.name == "rm" and c.has_arg("-rf", "/var/cache/yum/*")
        )

    for site in ctx.build.runs:
        # hadolint does not count a cache mount of /var/cache/yum here (it does for dnf)
        if not _cleaned_after_install(site.script.commands, install, clean):
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


_DNF_INSTALLS = ("install", "in", "upgrade", "up", "upgrade-minimal", "up-min", "reinstall", "rei")


def _dl3040(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        commands = site.script.commands
        for name in ("dnf", "microdnf"):

            def install(c: Command, name: str = name) -> bool:
                return c.name == name and c.has_arg(*_DNF_INSTALLS)

            def clean(c: Command, name: str = name) -> bool:
                return (c.name == name and c.has_arg("clean", "all")) or (
                    c.name == "rm" and c.has_arg("-rf", "/var/cache/libdnf5*")
                )

            if not _cleaned_after_install(commands, install, clean):
                if not _mounted(site, "/var/cache/libdnf5") and not _mounted(
                    site, ".cache/libdnf5"
                ):
                    yield Hit(site.instruction)
                break


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
