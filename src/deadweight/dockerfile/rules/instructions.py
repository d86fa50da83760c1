"""hadolint's rules about single instructions (FROM, USER, ENV, LABEL, CMD, ...)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from deadweight.dockerfile.findings import Edit, Fix, Severity
from deadweight.dockerfile.pairs import arg_name, pairs
from deadweight.dockerfile.regex import lazy
from deadweight.dockerfile.rule import Context, Doc, Hit, Rule
from deadweight.dockerfile.stages import ImageRef
from deadweight.dockerfile.syntax import Instruction

E, W, INFO, S = Severity.ERROR, Severity.WARNING, Severity.INFO, Severity.STYLE


def _all(
    ctx: Context, *keywords: str, onbuild: bool = False
) -> Iterator[tuple[Instruction, Instruction]]:
    """(reported instruction, inner instruction) for every instruction of these kinds."""
    for ins in ctx.build.dockerfile.instructions:
        if ins.keyword in keywords:
            yield ins, ins
        elif onbuild and ins.trigger is not None and ins.trigger.keyword in keywords:
            yield ins, ins.trigger


def _dequote(text: str) -> str:
    return text.strip("\"'")


def _dl3000(ctx: Context) -> Iterator[Hit]:
    for ins, inner in _all(ctx, "WORKDIR"):
        d = _dequote(inner.value)
        if d.startswith(("/", "$")) or re.match(r"^[A-Za-z]:[\\/]", d):
            continue
        yield Hit(ins)


DL3000 = Rule(
    "DL3000",
    E,
    "Use absolute WORKDIR",
    _dl3000,
    Doc("A relative WORKDIR depends on the one before it.", "WORKDIR app", "WORKDIR /app"),
)


def _dl3006(ctx: Context) -> Iterator[Hit]:
    aliases: set[str] = set()  # the names of the stages above this one
    for stage in ctx.build.stages:
        raw = stage.image_raw
        skip = raw.startswith("$") or raw == "scratch" or raw.lower() in aliases
        if stage.name:
            aliases.add(stage.name)
        if skip:
            continue
        ref = ImageRef.parse(raw)
        if ref.tag is None and ref.digest is None:
            yield Hit(stage.from_)


DL3006 = Rule(
    "DL3006",
    W,
    "Always tag the version of an image explicitly",
    _dl3006,
    Doc(
        "An untagged image is whatever `latest` is on build day.",
        "FROM node",
        "FROM node:20.11.0-bookworm-slim",
    ),
)


def _dl3007(ctx: Context) -> Iterator[Hit]:
    for stage in ctx.build.stages:
        ref = ImageRef.parse(stage.image_raw)
        if ref.tag == "latest" and ref.digest is None:
            yield Hit(stage.from_)


DL3007 = Rule(
    "DL3007",
    W,
    "Using latest is prone to errors if the image will ever update. Pin the version "
    "explicitly to a release tag",
    _dl3007,
    Doc("`latest` moves.", "FROM ubuntu:latest", "FROM ubuntu:22.04"),
)


def _dl3011(ctx: Context) -> Iterator[Hit]:
    for ins, inner in _all(ctx, "EXPOSE"):
        for word in inner.value.split():
            port = word.split("/", 1)[0]
            for part in port.split("-"):
                if part.isdigit() and int(part) > 65535:
                    yield Hit(ins)
                    return


DL3011 = Rule(
    "DL3011",
    E,
    "Valid UNIX ports range from 0 to 65535",
    _dl3011,
    Doc("A port above 65535 cannot exist.", "EXPOSE 70000", "EXPOSE 7000"),
)


_ARCHIVES = (
    ".tar",
    ".tar.bz2",
    ".tb2",
    ".tbz",
    ".tbz2",
    ".tar.gz",
    ".tgz",
    ".tpz",
    ".tar.lz",
    ".tar.lzma",
    ".tlz",
    ".tar.xz",
    ".txz",
    ".tar.Z",
    ".tZ",
    ".tar.zst",
    ".tzst",
    ".gz",
    ".bz2",
    ".xz",
    ".lz",
    ".lzma",
    ".Z",
    ".zst",
)


def is_url(src: str) -> bool:
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", src)) or src.startswith("git@")


def copy_parts(inner: Instruction) -> tuple[list[str], str]:
    """Sources and destination of COPY/ADD, in either form (heredoc names stay sources)."""
    words = list(inner.exec_form) if inner.exec_form is not None else shlex_split(inner.value)
    if len(words) < 2:
        return words, ""
    return words[:-1], words[-1]


def shlex_split(text: str) -> list[str]:
    """Words split at blanks outside quotes, quotes kept: ``"${D}"/file`` is one word.

    One pass, linear in the text (a 250 kB COPY line, issue 16). An unterminated quote
    runs to the end of the text, as in a shell.
    """
    words: list[str] = []
    start = -1
    quote = ""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in " \t\n\r":
            if start >= 0:
                words.append(text[start:i])
                start = -1
        else:
            if start < 0:
                start = i
            if ch in "\"'":
                quote = ch
        i += 1
    if start >= 0:
        words.append(text[start:])
    return words


def _dl3020(ctx: Context) -> Iterator[Hit]:
    for ins, inner in _all(ctx, "ADD"):
        srcs, _ = copy_parts(inner)
        srcs = [_dequote(s) for s in srcs if not s.startswith("<<")]
        if any(not is_url(s) and not s.endswith(_ARCHIVES) for s in srcs):
            yield Hit(ins, fix=_add_to_copy(ctx, ins))


DL3020 = Rule(
    "DL3020",
    E,
    "Use COPY instead of ADD for files and folders",
    _dl3020,
    Doc(
        "ADD's extra magic (URLs, archives) surprises; COPY says what it does.",
        "ADD . /app",
        "COPY . /app",
    ),
)


def _add_to_copy(ctx: Context, ins: Instruction) -> Fix | None:
    src = ctx.build.dockerfile.source
    raw = src[ins.start : ins.end]
    m = re.match(r"(\s*)ADD\b", raw, re.I)
    if not m or ins.trigger is not None:
        return None
    srcs, _ = copy_parts(ins)
    if any(is_url(_dequote(s)) or _dequote(s).endswith(_ARCHIVES) for s in srcs):
        return None
    return Fix("use COPY", (Edit(ins.start, ins.end, m.group(1) + "COPY" + raw[m.end() :]),))


def _dl3021(ctx: Context) -> Iterator[Hit]:
    for ins, inner in _all(ctx, "COPY"):
        srcs, dest = copy_parts(inner)
        if len(srcs) > 1 and not _dequote(dest).endswith("/"):
            yield Hit(ins)


DL3021 = Rule(
    "DL3021",
    E,
    "COPY with more than 2 arguments requires the last argument to end with /",
    _dl3021,
    Doc(
        "Several sources need a directory destination.",
        "COPY a b /opt/dir",
        "COPY a b /opt/dir/",
    ),
)


def _shell_form_fix(ctx: Context, ins: Instruction, inner: Instruction) -> Fix | None:
    """CMD/ENTRYPOINT in shell form to JSON form, when the words need no shell."""
    value = inner.value
    body = value
    prefix = ""
    if inner.keyword == "HEALTHCHECK":
        m = re.match(r"(?i)(CMD\s+)(.*)", value, re.S)
        if not m:
            return None
        prefix, body = m.group(1), m.group(2)
    if re.search(r"[$`|&;<>(){}*?\[\]~\\\n]", body) or ins.trigger is not None:
        return None
    import shlex  # only for this fix: its import compiles a pattern (start-up, issue 14)

    try:
        words = shlex.split(body)
    except ValueError:
        return None
    if not words:
        return None
    import json

    src = ctx.build.dockerfile.source
    raw = src[ins.start : ins.end]
    at = raw.rfind(body)
    if at < 0:
        return None
    new = raw[:at] + json.dumps(words) + raw[at + len(body) :]
    del prefix
    return Fix("use the JSON (exec) form", (Edit(ins.start, ins.end, new),))


def _dl3025(ctx: Context) -> Iterator[Hit]:
    # hadolint does not look into ONBUILD for this rule (it does for the rules whose
    # source wraps them in ``onbuild``: the RUN package rules, DL3064, ShellCheck)
    for ins, inner in _all(ctx, "CMD", "ENTRYPOINT", "HEALTHCHECK"):
        if inner.keyword == "HEALTHCHECK":
            m = re.match(r"(?i)CMD\s+(.*)", inner.value, re.S)
            if not m or inner.exec_form is not None:
                continue
        elif inner.exec_form is not None:
            continue
        yield Hit(ins, fix=_shell_form_fix(ctx, ins, inner))


DL3025 = Rule(
    "DL3025",
    W,
    "Use arguments JSON notation for CMD and ENTRYPOINT arguments",
    _dl3025,
    Doc(
        "Shell form runs under /bin/sh -c, which does not pass SIGTERM to the app.",
        "CMD npm start",
        'CMD ["node", "server.js"]',
    ),
)


def _dl3026(ctx: Context) -> Iterator[Hit]:
    if not ctx.trusted_registries:
        return
    aliases = {s.name for s in ctx.build.stages if s.name}
    for stage in ctx.build.stages:
        image = stage.image_raw
        if image == "scratch" or image.startswith("$") or image.lower() in aliases:
            continue
        first = image.split("/", 1)[0]
        registry = (
            first
            if "/" in image and ("." in first or ":" in first or first == "localhost")
            else "docker.io"
        )
        if not any(_registry_matches(registry, t) for t in ctx.trusted_registries):
            yield Hit(stage.from_)


DL3026 = Rule(
    "DL3026",
    E,
    "Use only an allowed registry in the FROM image",
    _dl3026,
    Doc(
        "Base images from unvetted registries are a supply-chain risk.",
        "FROM randomuser/python:3.12",
        "FROM docker.io/library/python:3.12",
    ),
)


def _registry_matches(registry: str, trusted: str) -> bool:
    if trusted.startswith("*."):
        return registry.endswith(trusted[1:])
    if trusted in ("docker.io", "hub.docker.com"):
        return registry == "docker.io"
    return registry == trusted


def _dl3029(ctx: Context) -> Iterator[Hit]:
    for stage in ctx.build.stages:
        p = stage.platform
        if p and "BUILDPLATFORM" not in p and "TARGETPLATFORM" not in p:
            yield Hit(stage.from_)


DL3029 = Rule(
    "DL3029",
    W,
    "Do not use --platform flag with FROM",
    _dl3029,
    Doc(
        "A hard-coded platform breaks multi-platform builds.",
        "FROM --platform=linux/amd64 debian:12",
        "FROM debian:12",
    ),
)


def _dl3065(ctx: Context) -> Iterator[Hit]:
    for stage in ctx.build.stages:
        if stage.platform in ("$TARGETPLATFORM", "${TARGETPLATFORM}"):
            yield Hit(stage.from_)


DL3065 = Rule(
    "DL3065",
    W,
    "Setting `FROM --platform` to predefined `$TARGETPLATFORM` in is redundant as this "
    "is the default behavior",
    _dl3065,
    Doc(
        "$TARGETPLATFORM is already the default.",
        "FROM --platform=$TARGETPLATFORM debian:12",
        "FROM debian:12",
    ),
)


def _dl3043(ctx: Context) -> Iterator[Hit]:
    for ins in ctx.build.dockerfile.instructions:
        if ins.trigger is not None and ins.trigger.keyword in ("ONBUILD", "FROM", "MAINTAINER"):
            yield Hit(ins)


DL3043 = Rule(
    "DL3043",
    E,
    "`ONBUILD`, `FROM` or `MAINTAINER` triggered from within `ONBUILD` instruction.",
    _dl3043,
    Doc("BuildKit refuses these triggers.", "ONBUILD FROM debian", "ONBUILD RUN make"),
)


_REFERENCE = lazy(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?=[:}+-])|([A-Za-z_][A-Za-z0-9_]*))")


def _references(text: str) -> set[str]:
    """The variables ``$VAR``, ``${VAR}`` and ``${VAR:-x}`` (and ``+``, ``-``) name."""
    return {m.group(1) or m.group(2) for m in _REFERENCE.finditer(text)}


def _dl3044(ctx: Context) -> Iterator[Hit]:
    # one pass over each value: linear in the length of the ENV line (issue 16)
    defined: set[str] = set()
    for ins in ctx.build.dockerfile.instructions:
        if ins.keyword == "ARG":
            defined.update(w.split("=", 1)[0] for w in ins.value.split())
        if ins.keyword != "ENV":
            continue
        ps = pairs(ins.value)
        counts = Counter(k for k, _ in ps)
        bad = any(
            name not in defined and (counts[name] > 1 or (name in counts and name != key))
            for key, value in ps
            for name in _references(value)
        )
        defined.update(k for k, _ in ps)
        if bad:
            yield Hit(ins)


DL3044 = Rule(
    "DL3044",
    E,
    "Do not refer to an environment variable within the same `ENV` statement where it is defined.",
    _dl3044,
    Doc(
        "Within one ENV, later pairs do not see earlier ones.",
        "ENV A=/opt B=$A/bin",
        "ENV A=/opt\nENV B=$A/bin",
    ),
)


def _label_key_ok(key: str) -> bool:
    if not key or key[0] not in "abcdefghijklmnopqrstuvwxyz":
        return False
    if key[-1] not in "abcdefghijklmnopqrstuvwxyz0123456789":
        return False
    if any(c not in "abcdefghijklmnopqrstuvwxyz0123456789.-_/" for c in key):
        return False
    if key.startswith(("com.docker.", "io.docker.", "org.dockerproject.")):
        return False
    return ".." not in key and "--" not in key


def _dl3048(ctx: Context) -> Iterator[Hit]:
    for ins, inner in _all(ctx, "LABEL"):
        if not all(_label_key_ok(k) for k, _ in pairs(inner.value)):
            yield Hit(ins)


DL3048 = Rule(
    "DL3048",
    S,
    "Invalid label key.",
    _dl3048,
    Doc(
        "Label keys are lower-case reverse-DNS, outside Docker's namespaces.",
        'LABEL Maintainer="x"',
        'LABEL org.opencontainers.image.authors="x"',
    ),
)


def _dl3061(ctx: Context) -> Iterator[Hit]:
    for ins in ctx.build.preamble:
        if ins.keyword != "ARG":
            yield Hit(ins)


DL3061 = Rule(
    "DL3061",
    E,
    "Invalid instruction order. Dockerfile must begin with `FROM`, `ARG` or comment.",
    _dl3061,
    Doc(
        "Only ARG may come before the first FROM.",
        "WORKDIR /app\nFROM debian:12",
        "FROM debian:12\nWORKDIR /app",
    ),
)


_SENSITIVE = frozenset(
    (
        "ACCESS_TOKEN",
        "APPLICATION_KEY",
        "APP_SECRET",
        "AUTH_TOKEN",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "BITTREX_API_KEY",
        "BITTREX_API_SECRET",
        "CF_PASSWORD",
        "CF_USERNAME",
        "CIRCLE_TOKEN",
        "CI_DEPLOY_PASSWORD",
        "CI_DEPLOY_USER",
        "DOCKERHUB_PASSWORD",
        "DOCKER_EMAIL",
        "DOCKER_PASSWORD",
        "DOCKER_USERNAME",
        "FACEBOOK_ACCESS_TOKEN",
        "FACEBOOK_APP_ID",
        "FACEBOOK_APP_SECRET",
        "FIREBASE_API_TOKEN",
        "FIREBASE_TOKEN",
        "FOSSA_API_KEY",
        "GH_ENTERPRISE_TOKEN",
        "GH_TOKEN",
        "GITHUB_ENTERPRISE_TOKEN",
        "GITHUB_TOKEN",
        "HEROKU_API_KEY",
        "HEROKU_API_USER",
        "NPM_AUTH_TOKEN",
        "NPM_TOKEN",
        "OKTA_AUTHN_GROUPID",
        "OKTA_CLIENT_ORGURL",
        "OKTA_CLIENT_TOKEN",
        "OKTA_OAUTH2_CLIENTID",
        "OKTA_OAUTH2_CLIENTSECRET",
        "OPENAI_API_KEY",
        "OS_PASSWORD",
        "OS_USERNAME",
        "POSTGRES_PASSWORD",
        "SLACK_TOKEN",
        "STRIPE_API_KEY",
        "STRIPE_DEVICE_NAME",
        "TRAVIS_OS_NAME",
        "TRAVIS_SECURE_ENV_VARS",
        "TRAVIS_SUDO",
        "VAULT_CLIENT_KEY",
        "VAULT_TOKEN",
    )
)
_SUSPICIOUS = ("api_key", "client_key", "password", "private", "secret", "token", "username")


def sensitive_name(name: str) -> bool:
    """hadolint DL3064's test of an ARG or ENV name."""
    return name.upper() in _SENSITIVE or any(s in name.lower() for s in _SUSPICIOUS)


def arg_names(value: str) -> list[str]:
    name = arg_name(value)
    return [name] if name else []


def _dl3064(ctx: Context) -> Iterator[Hit]:
    for ins, inner in _all(ctx, "ARG", "ENV", onbuild=True):
        names = (
            arg_names(inner.value) if inner.keyword == "ARG" else [k for k, _ in pairs(inner.value)]
        )
        if any(sensitive_name(n) for n in names):
            yield Hit(ins)


DL3064 = Rule(
    "DL3064",
    W,
    "Potentially sensitive data should not be used in the `ARG` or `ENV` commands",
    _dl3064,
    Doc(
        "ENV and ARG values are stored in the image config and history.",
        "ENV PASSWORD=toor",
        "RUN --mount=type=secret,id=password ...",
    ),
)


def _dl3066(ctx: Context) -> Iterator[Hit]:
    # hadolint's reading: the part before ``:`` all ASCII digits (or empty) passes, and so
    # does a USER that names, as ``$NAME`` or ``${NAME}`` anywhere in it, an ARG declared
    # earlier in the file (any stage): a variable cannot be judged, whatever its default
    declared: set[str] = set()
    longest = 0
    users = {id(ins): inner for ins, inner in _all(ctx, "USER")}
    for ins in ctx.build.dockerfile.instructions:
        if ins.keyword == "ARG":
            for name in arg_names(ins.value):
                declared.add(name)
                longest = max(longest, len(name))
        inner = users.get(id(ins))
        if inner is None:
            continue
        user = inner.value
        uid = user.split(":", 1)[0]
        if all(c in "0123456789" for c in uid) or _names_declared(user, declared, longest):
            continue
        yield Hit(ins)


def _names_declared(text: str, declared: set[str], longest: int) -> bool:
    """Whether ``$NAME`` or ``${NAME}`` of a declared name is in the text (as a substring,
    as hadolint tests it), in time bounded by the ``$`` count and the longest name."""
    at = text.find("$")
    while at >= 0:
        for size in range(1, longest + 1):
            if text[at + 1 : at + 1 + size] in declared:
                return True
            braced = text[at + 2 : at + 2 + size]
            if (
                text[at + 1 : at + 2] == "{"
                and braced in declared
                and (text[at + 2 + size : at + 3 + size] == "}")
            ):
                return True
        at = text.find("$", at + 1)
    return False


DL3066 = Rule(
    "DL3066",
    INFO,
    "Non-numeric user-id may not be resolvable by host system",
    _dl3066,
    Doc("Kubernetes' runAsNonRoot can only verify a numeric UID.", "USER app", "USER 10001"),
)


def _dl4000(ctx: Context) -> Iterator[Hit]:
    for ins, _ in _all(ctx, "MAINTAINER"):
        fix = None
        if ins.trigger is None:
            import json

            fix = Fix(
                "use a maintainer LABEL",
                (Edit(ins.start, ins.end, f"LABEL maintainer={json.dumps(ins.value)}"),),
            )
        yield Hit(ins, fix=fix)


DL4000 = Rule(
    "DL4000",
    E,
    "MAINTAINER is deprecated",
    _dl4000,
    Doc("Use a label.", "MAINTAINER me@example.com", 'LABEL maintainer="me@example.com"'),
)


RULES = (
    DL3000,
    DL3006,
    DL3007,
    DL3011,
    DL3020,
    DL3021,
    DL3025,
    DL3026,
    DL3029,
    DL3043,
    DL3044,
    DL3048,
    DL3061,
    DL3064,
    DL3065,
    DL3066,
    DL4000,
)
