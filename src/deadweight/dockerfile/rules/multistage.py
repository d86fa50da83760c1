"""hadolint's rules that look across instructions of a stage or across stages."""

from __future__ import annotations

from collections.abc import Iterator

from deadweight.dockerfile.findings import Severity
from deadweight.dockerfile.rule import Context, Doc, Hit, Rule
from deadweight.dockerfile.rules.instructions import copy_parts

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
_RESERVED = frozenset({"scratch"})
_ARCHIVES = (
    ".tar",
    ".tar.gz",
    ".tgz",
    ".tar.bz2",
    ".tbz2",
    ".tar.xz",
    ".txz",
    ".zip",
    ".gz",
    ".bz2",
    ".xz",
    ".zst",
    ".tar.zst",
    ".7z",
    ".rar",
    ".lz",
    ".lzma",
    ".Z",
)
_EXTRACTORS = frozenset(
    {"unzip", "gunzip", "bunzip2", "unlzma", "unxz", "zgz", "uncompress", "zcat", "gzcat"}
)


def _dl3002(ctx: Context) -> Iterator[Hit]:
    for stage in ctx.build.stages:
        last = None
        for ins in stage.instructions:
            if ins.keyword == "USER":
                last = ins
        if last is not None:
            user = last.value.strip()
            if user in ("root", "0") or user.startswith(("root:", "0:")):
                yield Hit(last)


DL3002 = Rule(
    "DL3002",
    W,
    "Last USER should not be root",
    _dl3002,
    Doc(
        "A container running as root turns any escape into root on the host.",
        "USER root",
        "USER 10001",
    ),
)


def _basename(path: str) -> str:
    return path.strip("\"'").replace("\\", "/").rsplit("/", 1)[-1]


def _dl3010(ctx: Context) -> Iterator[Hit]:
    for stage in ctx.build.stages:
        archives: dict[str, list[int]] = {}  # name -> lines of the COPYs not yet matched
        hits: set[int] = set()
        by_line = {}
        for ins in stage.instructions:
            if ins.keyword == "COPY" and ins.flag("from") is None:
                srcs, dest = copy_parts(ins)
                names = [_basename(dest)] if _basename(dest).endswith(_ARCHIVES) else []
                names = names or [_basename(s) for s in srcs if _basename(s).endswith(_ARCHIVES)]
                for name in names:
                    archives.setdefault(name, []).append(ins.start_line)
                by_line[ins.start_line] = ins
            elif ins.keyword == "RUN":
                site = ctx.build.site(ins)
                for c in site.script.commands:
                    tar = c.name == "tar" and any(
                        a in ("--extract", "--get")
                        or (a.startswith("-") and "x" in a and not a.startswith("--"))
                        for a in c.args
                    )
                    if not tar and c.name not in _EXTRACTORS:
                        continue
                    for name in {_basename(a) for a in c.positional()}:
                        hits.update(archives.pop(name, ()))  # each COPY is matched once
        for line in sorted(hits):
            yield Hit(by_line[line])


DL3010 = Rule(
    "DL3010",
    INFO,
    "Use `ADD` for extracting archives into an image",
    _dl3010,
    Doc(
        "COPY then tar keeps the archive in a layer; ADD extracts it directly.",
        "COPY app.tar.gz /tmp/\nRUN tar -xzf /tmp/app.tar.gz",
        "ADD app.tar.gz /opt/app/",
    ),
)


def _per_stage_duplicates(ctx: Context, keyword: str) -> Iterator[Hit]:
    # the instructions before any FROM count as one more stage, as in hadolint (whose
    # count restarts at each FROM): a file without FROM is judged too
    groups = [ctx.build.preamble] + [stage.instructions for stage in ctx.build.stages]
    for instructions in groups:
        seen = False
        for ins in instructions:
            if ins.keyword == keyword:
                if seen:
                    yield Hit(ins)
                seen = True


def _dl3012(ctx: Context) -> Iterator[Hit]:
    return _per_stage_duplicates(ctx, "HEALTHCHECK")


DL3012 = Rule(
    "DL3012",
    E,
    "Multiple `HEALTHCHECK` instructions",
    _dl3012,
    Doc(
        "Only the last HEALTHCHECK counts.",
        "HEALTHCHECK CMD a\nHEALTHCHECK CMD b",
        "HEALTHCHECK CMD b",
    ),
)


def _dl4003(ctx: Context) -> Iterator[Hit]:
    return _per_stage_duplicates(ctx, "CMD")


DL4003 = Rule(
    "DL4003",
    W,
    "Multiple `CMD` instructions found. If you list more than one `CMD` then only the "
    "last `CMD` will take effect",
    _dl4003,
    Doc("Only the last CMD counts.", 'CMD ["a"]\nCMD ["b"]', 'CMD ["b"]'),
)


def _dl4004(ctx: Context) -> Iterator[Hit]:
    return _per_stage_duplicates(ctx, "ENTRYPOINT")


DL4004 = Rule(
    "DL4004",
    E,
    "Multiple `ENTRYPOINT` instructions found. If you list more than one `ENTRYPOINT` "
    "then only the last `ENTRYPOINT` will take effect",
    _dl4004,
    Doc(
        "Only the last ENTRYPOINT counts.",
        'ENTRYPOINT ["a"]\nENTRYPOINT ["b"]',
        'ENTRYPOINT ["b"]',
    ),
)


def _dl3022(ctx: Context) -> Iterator[Hit]:
    # hadolint's test, word for word: a source with ``:`` (after quotes are dropped) is an
    # image; else it must be an alias met so far (as written: case and quotes count) or a
    # number below the count of FROMs so far, this stage's included. An image named
    # without a tag (``--from=org/tool``) or a variable is reported, as hadolint does.
    defined: set[str] = set()
    for stage in ctx.build.stages:
        words = stage.from_.value.split()
        if len(words) >= 3 and words[1].lower() == "as":
            defined.add(words[2])  # as written: Stage.name is lower case
        for ins in stage.instructions:
            values = [f.value for f in ins.flags if f.name == "from"]
            src = values[-1] if ins.keyword == "COPY" and values else None
            # a bare ``--from`` (``--from name``) is no source to hadolint
            if src is None or ":" in src.strip("\"'") or src in defined:
                continue
            digits = len(src) - len(src.lstrip("0123456789"))
            if digits and int(src[:digits]) <= stage.index:
                continue
            yield Hit(ins)


DL3022 = Rule(
    "DL3022",
    W,
    "`COPY --from` should reference a previously defined `FROM` alias",
    _dl3022,
    Doc(
        "An unknown --from name is pulled as an image.",
        "COPY --from=build /a /a",
        "FROM golang:1.22 AS build\n...\nCOPY --from=build /a /a",
    ),
)


def _dl3023(ctx: Context) -> Iterator[Hit]:
    for stage in ctx.build.stages:
        for ins in stage.instructions:
            src = ins.flag("from") if ins.keyword == "COPY" else None
            if src is not None and stage.name and src.strip("\"'").lower() == stage.name:
                yield Hit(ins)


DL3023 = Rule(
    "DL3023",
    E,
    "`COPY --from` cannot reference its own `FROM` alias",
    _dl3023,
    Doc(
        "A stage cannot copy from itself.",
        "FROM x AS a\nCOPY --from=a / /",
        "COPY --from=b / /",
    ),
)


def _dl3024(ctx: Context) -> Iterator[Hit]:
    seen: set[str] = set()
    for stage in ctx.build.stages:
        if stage.name:
            if stage.name in seen:
                yield Hit(stage.from_)
            seen.add(stage.name)


DL3024 = Rule(
    "DL3024",
    E,
    "FROM aliases (stage names) must be unique",
    _dl3024,
    Doc(
        "Two stages with one name make --from ambiguous.",
        "FROM a AS b\nFROM c AS b",
        "FROM a AS b\nFROM c AS d",
    ),
)


def _dl3045(ctx: Context) -> Iterator[Hit]:
    workdir: dict[str, bool] = {}
    for stage in ctx.build.stages:
        key = stage.name or stage.image
        has = workdir.get(stage.image.lower(), False)
        for ins in stage.instructions:
            if ins.keyword == "WORKDIR":
                has = True
            elif ins.keyword == "COPY" and not has:
                _, dest = copy_parts(ins)
                d = dest.strip("\"'")
                if d.startswith(("/", "$")) or d[1:3] in (":\\", ":/"):
                    continue
                yield Hit(ins)
        workdir[key.lower()] = has


DL3045 = Rule(
    "DL3045",
    W,
    "`COPY` to a relative destination without `WORKDIR` set.",
    _dl3045,
    Doc(
        "Without WORKDIR a relative destination depends on the base image.",
        "COPY app.sh .",
        "WORKDIR /app\nCOPY app.sh .",
    ),
)


def _dl3063(ctx: Context) -> Iterator[Hit]:
    for stage in ctx.build.stages:
        if stage.name in _RESERVED:
            yield Hit(stage.from_)


DL3063 = Rule(
    "DL3063",
    W,
    "stage name should not be a reserved word",
    _dl3063,
    Doc("`scratch` names the empty image.", "FROM alpine AS scratch", "FROM alpine AS certs"),
)


def _dl3067(ctx: Context) -> Iterator[Hit]:
    for stage in ctx.build.stages:
        for ins in stage.instructions:
            if ins.keyword == "COPY" and ins.flag("from") is not None:
                srcs, dest = copy_parts(ins)
                if dest.strip("\"'") == "/" and any(s.strip("\"'") == "/" for s in srcs):
                    yield Hit(ins)


DL3067 = Rule(
    "DL3067",
    W,
    "Do not copy an entire filesystem from another stage",
    _dl3067,
    Doc(
        "Copying / drags in everything, including the build tools.",
        "COPY --from=build / /",
        "COPY --from=build /out/app /app",
    ),
)


def _dl3057(ctx: Context) -> Iterator[Hit]:
    if not any(i.keyword == "HEALTHCHECK" for i in ctx.build.dockerfile.instructions):
        final = ctx.build.final
        if final is not None:
            yield Hit(final.from_)


DL3057 = Rule(
    "DL3057",
    INFO,
    "`HEALTHCHECK` instruction missing.",
    _dl3057,
    Doc("Off by default, as in hadolint; DW015 is the stage-aware version.", "", ""),
    enabled=False,
)


RULES = (
    DL3002,
    DL3010,
    DL3012,
    DL3022,
    DL3023,
    DL3024,
    DL3045,
    DL3063,
    DL3067,
    DL4003,
    DL4004,
    DL3057,
)
