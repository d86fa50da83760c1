"""yum and dnf (RHEL, Fedora, CentOS): -y, the cache cleaned, pinning."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from deadweight.dockerfile import edits
from deadweight.dockerfile.pairs import arg_name, pairs
from deadweight.dockerfile.regex import lazy
from deadweight.dockerfile.rule import Context, Doc, Hit, Rule
from deadweight.dockerfile.rules.packages._common import W, _mounted
from deadweight.dockerfile.shell import Command
from deadweight.dockerfile.syntax import Instruction


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


_RPM_VERSION_PART = lazy(r"[A-Za-z0-9.~^_:+]*")


class _Declared:
    """hadolint's state for DL3033 and DL3041: the ENV names of each stage (a stage built
    on an earlier stage's name starts with that stage's), and every ARG name so far, in
    any stage. A package that holds ``${NAME}`` of one of them counts as pinned."""

    def __init__(self) -> None:
        self.empty = True
        self.stage = 0
        self.aliases: dict[int, str] = {}
        self.envs: dict[int, set[str]] = {}
        self.args: set[str] = set()

    def _start(self) -> None:
        if self.empty:
            self.empty, self.stage = False, 0
            self.aliases, self.envs = {0: ""}, {0: set()}

    def env(self, names: list[str]) -> None:
        self._start()
        self.envs[self.stage] |= set(names)

    def arg(self, name: str) -> None:
        self._start()
        self.args.add(name)

    def new_stage(self, image: str, alias: str) -> None:
        if self.empty:
            self.empty, self.stage = False, 1
            self.aliases, self.envs, self.args = {1: alias}, {1: set()}, set()
            return
        new = self.stage + 1
        self.aliases[new] = alias
        parent = next((i for i in sorted(self.aliases) if self.aliases[i] == image), new)
        self.envs[new] = set(self.envs.get(parent, ()))
        self.stage = new

    def holds(self, package: str) -> bool:
        if self.empty:
            return False
        names = self.envs.get(self.stage, set()) | self.args
        return any("${" + n + "}" in package for n in names)


def _rpm_pinned(p: str, declared: _Declared) -> bool:
    """hadolint's ``packageVersionFixed``: ``name-version``, where the parts after the
    first hyphen are version characters and one of them starts with a digit. A hyphen
    alone is no pin: ``epel-release`` and ``centos-release-scl`` are names (issue 14).
    A word without a hyphen is never pinned; one with a ``$`` is when it holds
    ``${NAME}`` of a declared ENV or ARG (hadolint writes ``$NAME`` so too)."""
    parts = p.split("-")
    if len(parts) <= 1:
        return False
    if p.endswith(".rpm"):
        return True
    if "$" in p:
        return declared.holds(p)
    rest = parts[1:]
    return all(_RPM_VERSION_PART.fullmatch(x) for x in rest) and any(x[:1].isdigit() for x in rest)


def _image_name(value: str) -> str:
    """The name hadolint compares with the stages' names: no tag, digest or registry."""
    words = value.split()
    image = words[0].split("@", 1)[0] if words else ""
    first, slash, rest = image.partition("/")
    if slash and "." in first:
        image = rest
    return image.split(":", 1)[0]


def _pinning(
    ctx: Context, manager: Callable[[Command], bool], apart: tuple[str, ...]
) -> Iterator[Hit]:
    """hadolint's DL3033 and DL3041: a RUN fails when a package of an install (a command
    ``manager`` names, with ``install`` among its words and none of ``apart``) is not
    pinned, or a module of a ``module install`` has no ``:stream``. ONBUILD instructions
    are read on their own, with their own declarations."""
    main, onbuild = _Declared(), _Declared()
    for ins in ctx.build.dockerfile.instructions:
        state, inner = (main, ins) if ins.trigger is None else (onbuild, ins.trigger)
        kw = inner.keyword
        if kw == "FROM" and state is main:
            words = inner.value.split()
            alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else ""
            state.new_stage(_image_name(inner.value), alias)
        elif kw == "ENV":
            state.env([k for k, _ in pairs(inner.value)])
        elif kw == "ARG":
            name = arg_name(inner.value)
            if name:
                state.arg(name)
        elif kw == "RUN" and not all(
            _pinned_command(c, manager, apart, state) for c in _commands(ctx, ins)
        ):
            yield Hit(ins)


def _commands(ctx: Context, ins: Instruction) -> tuple[Command, ...]:
    return ctx.build.site(ins).script.commands


def _pinned_command(
    c: Command, manager: Callable[[Command], bool], apart: tuple[str, ...], state: _Declared
) -> bool:
    if not (manager(c) and c.has_arg("install")):
        return True
    words = [a for a in c.positional() if a not in ("install", "module")]
    if c.has_arg("module"):
        return all(":" in w for w in words)
    if c.has_arg(*apart):
        return True
    return all(_rpm_pinned(w, state) for w in words)


def _dl3033(ctx: Context) -> Iterator[Hit]:
    return _pinning(ctx, lambda c: c.name == "yum", ("module",))


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
    return _pinning(ctx, lambda c: c.name in ("dnf", "microdnf"), ("module", "group"))


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
