"""deadweight's security rules: root, secrets, remote code, permissions, signals, context."""

from __future__ import annotations

import re
from collections.abc import Iterator

from deadweight.dockerfile.findings import Edit, Fix, Severity
from deadweight.dockerfile.pairs import pairs
from deadweight.dockerfile.regex import lazy
from deadweight.dockerfile.rule import Context, Doc, Hit, Rule
from deadweight.dockerfile.rules.instructions import copy_parts, is_url, sensitive_name
from deadweight.dockerfile.shell import Command
from deadweight.dockerfile.syntax import Instruction

E, W = Severity.ERROR, Severity.WARNING
_NONROOT_BASES = lazy(r"(distroless.*:.*nonroot|chainguard|/static-debian\d+:nonroot)")
# servers whose master process starts as root on purpose and drops privileges itself
_DROPS_PRIVILEGES = lazy(r"^(?:docker\.io/)?(?:library/)?(nginx|httpd|php:[^/]*apache[^/]*)(:|$)")
_REMOTE_TO_SHELL = lazy(
    r"\b(curl|wget)\b[^|;&\n]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:/usr)?(?:/bin/)?"
    r"(sh|bash|zsh|dash|ash|ksh|python[0-9.]*|perl|ruby|node)\b"
)
# each pattern with text it cannot match without: a value without it skips the pattern,
# which is then not compiled (issue 14)
_SECRET_VALUES = (
    ("AKIA", lazy(r"\bAKIA[0-9A-Z]{16}\b")),
    ("gh", lazy(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("glpat-", lazy(r"\bglpat-[A-Za-z0-9_-]{20,}\b")),
    ("npm_", lazy(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("xox", lazy(r"\bxox[abpr]-[A-Za-z0-9-]{10,}\b")),
    ("sk_live_", lazy(r"\bsk_live_[A-Za-z0-9]{20,}\b")),
    ("-----BEGIN ", lazy(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("_authToken=", lazy(r"_authToken=\S+")),
    ("://", lazy(r"://[^/\s:@]+:[^/\s@$]+@")),
)
_SECRET_NAMES = lazy(r"(PASSWD|PASSPHRASE|CREDENTIAL|_KEY$|^KEY$|AUTH$|_PAT$)", re.I)
_SECRET_FILES = (
    ".npmrc",
    ".env",
    ".env.*",
    "*.env",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    ".pypirc",
    ".netrc",
    ".git-credentials",
    "credentials",
    "credentials.json",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    ".htpasswd",
    "secrets.*",
    ".dockercfg",
)


def _secret_file(name: str) -> bool:
    """Whether a file name matches one of ``_SECRET_FILES`` (fnmatch patterns, case
    sensitive). Without a regular expression: compiling one of them all was a tenth of a
    small Dockerfile's rules (issue 14)."""
    for pattern in _SECRET_FILES:
        stem = pattern.strip("*")
        if not any(c in stem for c in "*?[") and pattern.count("*") <= 1:
            if pattern.startswith("*"):
                matched = name.endswith(stem)
            elif pattern.endswith("*"):
                matched = name.startswith(stem)
            else:
                matched = name == pattern
        else:
            import fnmatch  # a pattern with a glob inside (none of ours today)

            matched = fnmatch.fnmatchcase(name, pattern)
        if matched:
            return True
    return False


_INITS = ("tini", "dumb-init", "/sbin/tini", "/usr/bin/tini", "/usr/bin/dumb-init", "s6-svscan")


def _final_users(ctx: Context) -> list[Instruction]:
    final = ctx.build.final
    if final is None:
        return []
    return [i for s in ctx.build.lineage(final) for i in s.instructions if i.keyword == "USER"]


def _uid_of(c: Command) -> str | None:
    """The numeric id ``useradd -u N`` / ``--uid N`` / ``adduser -u N`` gives."""
    args = list(c.args)
    for k, a in enumerate(args):
        if a in ("-u", "--uid") and k + 1 < len(args) and args[k + 1].isdigit():
            return args[k + 1]
        if a.startswith("--uid=") and a[6:].isdigit():
            return a[6:]
    return None


def _created_user(ctx: Context) -> tuple[str, str | None] | None:
    """The user the final stage creates (or its base image provides): name, numeric id."""
    final = ctx.build.final
    if final is None:
        return None
    found: tuple[str, str | None] | None = None
    for site in ctx.build.runs:
        if site.stage is None or not ctx.build.reaches_final(site.stage):
            continue
        for c in site.script.commands:
            if c.name in ("useradd", "adduser"):
                pos = c.positional(
                    "u",
                    "uid",
                    "g",
                    "gid",
                    "G",
                    "groups",
                    "s",
                    "shell",
                    "d",
                    "home",
                    "home-dir",
                    "h",
                    "c",
                    "comment",
                    "ingroup",
                    "k",
                    "K",
                )
                if pos:
                    found = (pos[-1], _uid_of(c))
    if found is None and final.ref.name.rsplit("/", 1)[-1] == "node":
        found = ("node", "1000")  # the official node images' user
    return found


def _dw001(ctx: Context) -> Iterator[Hit]:
    final = ctx.build.final
    if final is None or (final.image == "scratch" and not final.instructions):
        return
    if _final_users(ctx) or _NONROOT_BASES.search(final.image):
        return
    if any(_DROPS_PRIVILEGES.match(s.image) for s in ctx.build.lineage(final)):
        return
    created = _created_user(ctx)
    fix = None
    suggestion = None
    if created is not None:
        name, uid = created
        # the fix writes the numeric id: ``USER name`` would trade DW001 for DL3066, and
        # --fix must add no finding (issue 14); the fix's title names the user
        suggestion = f"add `USER {uid}` ({name})" if uid else f"add `USER` with {name}'s uid"
    if created is not None and created[1] is not None:
        name, uid = created
        line = f"USER {uid}"
        target = next((i for i in final.instructions if i.keyword in ("CMD", "ENTRYPOINT")), None)
        src = ctx.build.dockerfile.source
        if target is not None:
            line_start = src.rfind("\n", 0, target.start) + 1
            fix = Fix(f"add `USER {uid}` ({name})", (Edit(line_start, line_start, line + "\n"),))
        else:
            last = final.instructions[-1] if final.instructions else final.from_
            fix = Fix(f"add `USER {uid}` ({name})", (Edit(last.end, last.end, "\n" + line),))
    yield Hit(final.from_, fix=fix, suggestion=suggestion)


DW001 = Rule(
    "DW001",
    W,
    "No USER in the final stage: the container runs as root",
    _dw001,
    Doc(
        "Without USER the process runs as root; a container escape or a writable "
        "mount then acts as root on the host.",
        'FROM node:20-slim\nCMD ["node", "server.js"]',
        'FROM node:20-slim\nUSER node\nCMD ["node", "server.js"]',
    ),
)


def _dw008(ctx: Context) -> Iterator[Hit]:
    for ins in ctx.build.dockerfile.instructions:
        inner = ins.trigger or ins
        if inner.keyword != "ADD" or inner.flag("checksum") is not None:
            continue
        srcs, _ = copy_parts(inner)
        if any(is_url(s.strip("\"'")) and not s.startswith("git@") for s in srcs):
            yield Hit(ins)


DW008 = Rule(
    "DW008",
    W,
    "`ADD` of a URL without `--checksum`",
    _dw008,
    Doc(
        "A remote file that changes (or is tampered with) goes into the image unnoticed.",
        "ADD https://example.com/app.jar /app.jar",
        "ADD --checksum=sha256:<digest> https://example.com/app.jar /app.jar",
    ),
)


def _dw009(ctx: Context) -> Iterator[Hit]:
    for site in ctx.build.runs:
        text = site.script.text
        if ("curl" in text or "wget" in text) and _REMOTE_TO_SHELL.search(text):
            yield Hit(site.instruction)


DW009 = Rule(
    "DW009",
    W,
    "A remote script is piped into a shell (`curl ... | sh`)",
    _dw009,
    Doc(
        "The script is neither pinned nor verified: whatever the server returns runs as "
        "root in the build.",
        "RUN curl -fsSL https://get.example.com | sh",
        "ADD --checksum=sha256:<digest> https://get.example.com/install.sh /tmp/\n"
        "RUN sh /tmp/install.sh",
    ),
)


def _dw010(ctx: Context) -> Iterator[Hit]:
    for ins in ctx.build.dockerfile.instructions:
        inner = ins.trigger or ins
        if inner.keyword == "ENV":
            items = pairs(inner.value)
        elif inner.keyword == "ARG":
            items = [
                (w.split("=", 1)[0], w.split("=", 1)[1] if "=" in w else "")
                for w in inner.value.split()
            ]
        else:
            continue
        for name, value in items:
            literal = value and not value.startswith("$")
            by_value = any(needle in value and p.search(value) for needle, p in _SECRET_VALUES)
            by_name = literal and not sensitive_name(name) and _SECRET_NAMES.search(name)
            if by_value or by_name:
                yield Hit(
                    ins,
                    message=f"`{name}` looks like a secret baked into the image "
                    "config; use a build secret (RUN --mount=type=secret) or runtime env",
                )
                break


DW010 = Rule(
    "DW010",
    E,
    "A secret value in ENV or ARG",
    _dw010,
    Doc(
        "ENV and ARG values are stored in the image config and history, readable by "
        "anyone who can pull the image. Complements DL3064, which judges names only.",
        "ENV NPM_CONFIG_//registry.npmjs.org/:_authToken=npm_xxx",
        "RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci",
    ),
)


def _dw011(ctx: Context) -> Iterator[Hit]:
    for ins in ctx.build.dockerfile.instructions:
        inner = ins.trigger or ins
        if inner.keyword not in ("COPY", "ADD") or inner.heredocs:
            continue
        srcs, _ = copy_parts(inner)
        for s in srcs:
            base = s.strip("\"'").rstrip("/").rsplit("/", 1)[-1]
            if _secret_file(base) and base not in (
                ".env.example",
                ".env.sample",
            ):
                yield Hit(
                    ins,
                    message=f"`{base}` is copied into the image; secrets in a "
                    "layer can be read by anyone with the image",
                )
                break


DW011 = Rule(
    "DW011",
    E,
    "A secret file is copied into the image",
    _dw011,
    Doc(
        "Files like .npmrc, .env and id_rsa stay in a layer even if deleted later.",
        "COPY .npmrc ./",
        "RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci",
    ),
)


def _dw012(ctx: Context) -> Iterator[Hit]:
    """chmod giving write to others: octal with the 2 bit in the last digit, or o+w/a+w."""
    for site in ctx.build.runs:
        for c in site.script.named("chmod"):
            mode = next(iter(c.positional()), "")
            octal = re.fullmatch(r"0?[0-7]?[0-7][0-7][2367]", mode)
            symbolic = re.fullmatch(r"(?:[ugo]*,)*[ao]+[+=][rwxXst]*w[rwxXst]*(?:,.*)?", mode)
            if octal or symbolic:
                yield Hit(site.instruction)
                break


DW012 = Rule(
    "DW012",
    W,
    "World-writable permissions (`chmod 777`)",
    _dw012,
    Doc(
        "Any user in the container can then change those files, including code that runs as root.",
        "RUN chmod -R 777 /app",
        "RUN chown -R app:app /app && chmod -R u+rwX,go-w /app",
    ),
)


def _pid1_words(ins: Instruction) -> list[str]:
    if ins.exec_form is not None:
        return list(ins.exec_form)
    return ins.value.split()


def _dw013(ctx: Context) -> Iterator[Hit]:
    final = ctx.build.final
    if final is None:
        return
    entry = cmd = None
    for s in reversed(ctx.build.lineage(final)):
        for ins in s.instructions:
            if ins.keyword == "ENTRYPOINT":
                entry = ins
            elif ins.keyword == "CMD":
                cmd = ins
    if entry is not None:
        words = _pid1_words(entry)
        if words and words[0].rsplit("/", 1)[-1] in {i.rsplit("/", 1)[-1] for i in _INITS}:
            return
        target = entry
    elif cmd is not None:
        words = _pid1_words(cmd)
        target = cmd
    else:
        return
    if (
        len(words) >= 2
        and words[0] in ("npm", "yarn", "pnpm")
        and words[1] in ("start", "run", "run-script")
    ):
        yield Hit(
            target,
            message=f"`{' '.join(words[:2])}` runs as PID 1: SIGTERM stops npm/yarn, "
            "not your app, so shutdown is not graceful; run node directly",
        )


DW013 = Rule(
    "DW013",
    W,
    "`npm start`/`yarn start` as PID 1",
    _dw013,
    Doc(
        "npm and yarn do not forward SIGTERM to the app reliably; the container is "
        "killed after the stop timeout instead of shutting down cleanly.",
        'CMD ["npm", "start"]',
        'CMD ["node", "server.js"]',
    ),
)


def _ignored_by(patterns: list[str], name: str) -> bool:
    import fnmatch  # only with a .dockerignore: lint start-up (issue 14)

    ignored = False
    for p in patterns:
        neg = p.startswith("!")
        p = p[1:] if neg else p
        p = p.strip("/").removeprefix("./")
        if p.startswith("**/"):
            p = p[3:]
        if fnmatch.fnmatch(name, p) or fnmatch.fnmatch(name, p.rstrip("*").rstrip("/")):
            ignored = not neg
    return ignored


def _dw014(ctx: Context) -> Iterator[Hit]:
    if not ctx.has_context:
        return
    patterns = [
        ln.strip()
        for ln in (ctx.dockerignore or "").splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    for ins in ctx.build.dockerfile.instructions:
        if ins.keyword not in ("COPY", "ADD") or ins.flag("from") is not None:
            continue
        srcs, _ = copy_parts(ins)
        if not any(s.strip("\"'") in (".", "./") for s in srcs):
            continue
        if ctx.dockerignore is None:
            yield Hit(
                ins,
                message="The whole build context is copied and there is no "
                ".dockerignore beside the Dockerfile: .git, node_modules and local "
                "secrets go into the image",
            )
            continue
        missing = [n for n in (".git", "node_modules") if not _ignored_by(patterns, n)]
        if missing:
            yield Hit(
                ins,
                message="The whole build context is copied and .dockerignore does "
                "not exclude " + " and ".join(missing),
            )


DW014 = Rule(
    "DW014",
    W,
    "`COPY . .` without a .dockerignore excluding .git and node_modules",
    _dw014,
    Doc(
        "The whole build context goes into a layer: the .git history, host "
        "node_modules (wrong platform), local .env files.",
        "COPY . .  # no .dockerignore",
        "# .dockerignore\n.git\nnode_modules\n.env",
    ),
)


def _dw016(ctx: Context) -> Iterator[Hit]:
    if not ctx.allowed_images:
        return
    import fnmatch  # only with allowed images configured: lint start-up (issue 14)

    for stage in ctx.build.stages:
        if stage.parent is not None or stage.image == "scratch":
            continue
        if not any(
            fnmatch.fnmatch(stage.image, p) or fnmatch.fnmatch(stage.ref.name, p)
            for p in ctx.allowed_images
        ):
            yield Hit(
                stage.from_, message=f"Base image `{stage.image}` is not in allowed-base-images"
            )


DW016 = Rule(
    "DW016",
    E,
    "Base image not in allowed-base-images",
    _dw016,
    Doc(
        "Only runs when the configuration lists allowed base images (fnmatch patterns).",
        "FROM someone/python:3.12",
        "FROM python:3.12-slim",
    ),
)


RULES = (
    DW001,
    DW008,
    DW009,
    DW010,
    DW011,
    DW012,
    DW013,
    DW014,
    DW016,
)
