"""Fuzz targets shared by the unit suite (hypothesis, small budgets) and ``scripts/fuzz``
(atheris or hypothesis, for as long as asked).

Each target takes raw bytes, decodes them into a structured hostile input (a tar, a JSON
document, a template, a registry's answers, a Dockerfile) and holds deadweight to the
contract of issue 16: an answer or one of our typed errors (:class:`DeadweightError`),
never another exception. :func:`bounded` adds the time bound for campaigns (the unit suite
asserts no timings).
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from deadweight.analysis.sizes import tar_content_size
from deadweight.errors import DeadweightError
from deadweight.filetree import read_delta

Target = Callable[[bytes], None]


class ContractBroken(AssertionError):
    """What a target raises when deadweight broke the contract (a campaign's finding)."""


@contextmanager
def contract(what: str) -> Iterator[None]:
    try:
        yield
    except DeadweightError:
        pass
    except RecursionError as exc:
        raise ContractBroken(f"{what}: RecursionError") from exc


def _pick(data: bytes, i: int, options: list[bytes] | list[str]) -> tuple[int, object]:
    return i + 1, options[data[i % len(data)] % len(options)] if data else options[0]


# -- tar -------------------------------------------------------------------------------------

_PAX_KEYS = [
    b"path", b"linkpath", b"size", b"uid", b"gid", b"mtime", b"uname", b"GNU.sparse.major",
    b"GNU.sparse.minor", b"GNU.sparse.size", b"GNU.sparse.realsize", b"GNU.sparse.name",
    b"GNU.sparse.map", b"SCHILY.xattr.user.x", b"hdrcharset", b"comment",
]  # fmt: skip
_PAX_VALUES = [
    b"0", b"1", b"5", b"-1", b"nan", b"inf", b"1e9", b"\xc2\xb2", b"9" * 25, b"9" * 5000,
    b"a\0b", b"../../etc/passwd", b"/abs", b"", b"0,10,20,30", b"\xff\xfe", b"x" * 300,
]  # fmt: skip


def _header(name: bytes, kind: bytes, size: int, extra: bytes = b"") -> bytes:
    h = bytearray(512)
    h[0 : min(100, len(name))] = name[:100]
    h[100:108] = b"0000644\0"
    h[108:116] = h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % (size & 0o77777777777)
    h[136:148] = b"00000000000\0"
    h[156:157] = kind
    h[257:265] = b"ustar\x0000"
    h[345 : 345 + min(155, len(extra))] = extra[:155]
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def _pad(data: bytes) -> bytes:
    return data + bytes(-len(data) % 512)


def _pax(records: list[tuple[bytes, bytes]]) -> bytes:
    body = b""
    for key, value in records:
        text = b" " + key + b"=" + value + b"\n"
        n = len(text) + 1
        while len(text) + len(str(n)) != n:
            n = len(text) + len(str(n))
        body += str(n).encode() + text
    return _header(b"PaxHeaders/x", b"x", len(body)) + _pad(body)


def hostile_tar(data: bytes) -> bytes:
    """A tar decoded from ``data``: raw bytes, pax records, sparse headers or a valid tar
    with bytes overwritten, chosen by the first byte."""
    mode = data[0] % 5 if data else 0
    rest = data[1:]
    if mode == 0:
        return rest
    if mode == 1:  # pax records from the vocabulary, then a member
        records = []
        for i in range(0, min(len(rest), 24), 2):
            key = _PAX_KEYS[rest[i] % len(_PAX_KEYS)]
            value = _PAX_VALUES[rest[i + 1] % len(_PAX_VALUES)] if i + 1 < len(rest) else b"1"
            records.append((key, value))
        body = rest[24:80]
        return _pax(records) + _header(b"f", b"0", len(body)) + _pad(body) + bytes(1024)
    if mode == 2:  # old GNU sparse: real size, extension flag, stored data from the bytes
        extra = bytearray(155)
        extra[137 : 137 + 12] = (rest[:12] or b"0").ljust(12, b"\0")[:12]
        extra[137 - 1] = rest[12] & 1 if len(rest) > 12 else 0
        h = bytearray(_header(b"sparse", b"S", len(rest[13:40])))
        h[482] = extra[136]
        h[483:495] = extra[137:149]
        h[148:156] = b" " * 8
        h[148:156] = b"%06o\0 " % sum(h)
        cut = rest[40] if len(rest) > 40 else 10_000
        return (bytes(h) + _pad(rest[13:40]) + bytes(1024))[: 512 + cut * 8]
    if mode == 3:  # a valid tar of links, dirs and files, with bytes overwritten
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name, kind in (("d", tarfile.DIRTYPE), ("d/f", tarfile.REGTYPE)):
                info = tarfile.TarInfo(name)
                info.type = kind
                info.size = 3 if kind == tarfile.REGTYPE else 0
                tar.addfile(info, io.BytesIO(b"abc") if info.size else None)
            link = tarfile.TarInfo("d/l")
            link.type, link.linkname = tarfile.SYMTYPE, "../../x"
            tar.addfile(link)
        raw = bytearray(buf.getvalue())
        for i in range(0, len(rest) - 2, 3):
            raw[(rest[i] << 8 | rest[i + 1]) % len(raw)] = rest[i + 2]
        return bytes(raw)
    # mode 4: many members from a few bytes (names, kinds, sizes)
    out = b""
    for i in range(0, min(len(rest), 300), 3):
        path = b"/".join([b"a"] * (1 + rest[i] % 40)) + b"%d" % i
        typeflag = b"0125LK7x"[rest[i + 1] % 8 : rest[i + 1] % 8 + 1] if i + 1 < len(rest) else b"0"
        size = rest[i + 2] if i + 2 < len(rest) else 0
        out += _header(path, typeflag, size) + _pad(bytes(size))
    return out + bytes(1024)


def tar_target(data: bytes) -> None:
    """The one tar reader: every verdict a typed error; sizes and deltas agree."""
    raw = hostile_tar(data)
    verdicts: list[object] = []
    reads: tuple[Callable[[], int], ...] = (
        lambda: read_delta(io.BytesIO(raw)).size,
        lambda: tar_content_size(io.BytesIO(raw)),
    )
    for read in reads:
        try:
            verdicts.append(read())
        except DeadweightError as exc:
            verdicts.append(type(exc).__name__)
        except RecursionError as exc:
            raise ContractBroken("tar: RecursionError") from exc
    if verdicts[0] != verdicts[1]:
        raise ContractBroken(f"tar: analyze says {verdicts[0]!r}, history {verdicts[1]!r}")


# -- JSON documents ----------------------------------------------------------------------------


def hostile_json(data: bytes) -> bytes:
    mode = data[0] % 4 if data else 0
    rest = data[1:]
    if mode == 0:
        return rest
    if mode == 1:  # nesting of arrays and objects, its depth and kind from the bytes
        depth = int.from_bytes(rest[:3].ljust(3, b"\0"), "big") % 200_000
        opener, closer = (b'{"a":', b"}") if rest[3:4] and rest[3] & 1 else (b"[", b"]")
        doc = opener * depth + b"1" + closer * depth
        return b'{"rootfs":{"type":"layers","diff_ids":[]},"x":' + doc + b"}"
    if mode == 2:  # a config with bytes of the input as its values, invalid UTF-8 and all
        return (
            b'{"architecture":"' + rest[:20].replace(b'"', b"") + b'","os":"linux",'
            b'"rootfs":{"type":"layers","diff_ids":[]},'
            b'"config":{"Env":["A=' + rest[20:60].replace(b'"', b"").replace(b"\\", b"") + b'"]},'
            b'"created":"' + rest[60:90].replace(b'"', b"") + b'"}'
        )
    index = {
        "schemaVersion": 2,
        "mediaType": ["application/vnd.oci.image.index.v1+json", "", 7][rest[0] % 3]
        if rest
        else "",
        "manifests": [{"digest": rest[1:40].hex(), "size": -1 if rest[1:2] == b"\0" else 1}],
        "layers": [],
        "config": {"digest": "sha256:" + "0" * 64, "size": len(rest)},
    }
    return json.dumps(index).encode()


def json_target(data: bytes) -> None:
    from deadweight.spec import manifest
    from deadweight.spec.config import parse_config

    raw = hostile_json(data)
    with contract("config"):
        parse_config(raw)
    with contract("manifest"):
        manifest.parse(raw, "manifest")


# -- Go templates -------------------------------------------------------------------------------

_TOKENS = [
    "{{", "}}", "{{- ", " -}}", "(", ")", "$x", "$", ":=", "=", " ", "|", ".", ".ID",
    ".Size", ".CreatedBy", "if", "else", "end", "range", "with", "pad", "split", "join",
    "printf", "print", "len", "index", "json", "truncate", "upper", "eq", "lt", "and", "not",
    '"%c"', '"%5000000d"', '"%.9999999f"', '"%x"', '"%v"', '"a"', '""', "0x" + "f" * 20,
    "99999999999999999999999", "1", "-1", "1e400", "'x'", "`raw`", "nil", "true", "\\t",
    "table ", "\t", "\n", "{{/* c */}}", ",", "2000000", "4000000000",
]  # fmt: skip


def hostile_template(data: bytes) -> str:
    return "".join(_TOKENS[b % len(_TOKENS)] for b in data[:400])


def template_target(data: bytes) -> None:
    from deadweight.render.formatter import write
    from deadweight.render.gotemplate import GoStruct, render_template

    text = hostile_template(data)
    row = GoStruct("*formatter.historyContext", {"ID": "abc", "Size": "1 kB", "CreatedBy": "x"})
    with contract("template"):
        write(text, [row, row], {"ID": "IMAGE", "Size": "SIZE", "CreatedBy": "CREATED BY"})
    with contract("inspect template"):
        render_template(text.replace("table ", ""), {"ID": "abc", "Config": {"Env": ["A=1"]}})


# -- Dockerfiles ----------------------------------------------------------------------------------

_DOCKER_TOKENS = [
    "FROM ", "RUN ", "ENV ", "COPY ", "ONBUILD ", "ARG ", "CMD ", "\\\n", "\n", "[", "]",
    '"', "$(", ")", "${A:-", "}", "A=a ", "<<EOF\n", "EOF\n", "\f", "\v", "\u00a0", "\u2028",
    "apt-get install -y x", " && ", "pip install ", "--from=", "scratch", "alpine:3", " ",
    "#", "# syntax=", "\\", "WORKDIR /", "USER 0", "HEALTHCHECK ", "SHELL [\"/bin/sh\"]",
]  # fmt: skip


def dockerfile_target(data: bytes) -> None:
    """Calls the Dockerfile parser and linter (their bugs are another engineer's)."""
    from deadweight.dockerfile.linting import lint

    text = "".join(_DOCKER_TOKENS[b % len(_DOCKER_TOKENS)] for b in data[:600])
    with contract("dockerfile"):
        lint(text, path="Dockerfile")


# -- a registry -----------------------------------------------------------------------------------


def registry_target(data: bytes) -> None:
    """A registry on 127.0.0.1 whose answers come from ``data``."""
    from hostile_registry import Reply, hostile_registry, registry_timeout

    from deadweight.reference import Reference
    from deadweight.sources import registry
    from deadweight.sources.registry.transport import RetryPolicy

    statuses = [200, 200, 307, 401, 404, 429, 500, 503]
    locations = ["http://[::1", "ftp://x/y", "/v2/app/manifests/2", "http:///x", "\x7f"]
    realms = ['Bearer realm="http://[::1/t"', 'Bearer realm=""', "Basic", 'Bearer realm="x y"']
    retry_after = ["²", "1e400", "-5", "Mon, 01 Jan 99999 00:00:00 GMT", "3"]
    links = ['<http://[::1/v2/_catalog>; rel="next"', '</v2/app/tags/list?last=a>; rel="next"',
             '<?n=1>; rel="next"', '<https://elsewhere/v2/x>; rel="next"', "<<;;>>",
             '<>; rel="next"', '</v2/_catalog?last=a>; rel="next"',
             '<http://h:port/>; rel="next"']  # fmt: skip
    replies = []
    for i in range(0, min(len(data), 24), 4):
        chunk = data[i : i + 4].ljust(4, b"\0")
        headers = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
        if chunk[1] & 1:
            headers["Location"] = locations[chunk[2] % len(locations)]
        if chunk[1] & 2:
            headers["WWW-Authenticate"] = realms[chunk[2] % len(realms)]
        if chunk[1] & 4:
            headers["Retry-After"] = retry_after[chunk[3] % len(retry_after)]
        if chunk[1] & 8:
            headers["Link"] = links[chunk[3] % len(links)]
        body = hostile_json(data[i + 4 : i + 40])
        if chunk[1] & 16:  # a well-formed page of a tag list or catalog, to follow its Link
            body = b'{"name": "app", "tags": ["1"], "repositories": ["app"]}'
        replies.append(Reply(statuses[chunk[0] % len(statuses)], headers, body))
    replies = replies or [Reply()]
    seen = [0]

    def answer(method: str, path: str) -> Reply:
        seen[0] += 1
        return replies[(seen[0] - 1) % len(replies)]

    retry = RetryPolicy(attempts=2, sleep=lambda _: None)
    os.environ.setdefault("DOCKER_CONFIG", "/nonexistent-docker-config")
    with registry_timeout("2"), hostile_registry(answer) as host, contract("registry"):
        # a manifest and its blobs, a tag list, or the catalog: all paginate or redirect
        how = (data[-1] >> 6) % 3 if data else 0
        if how == 0:
            registry.read(Reference.parse(f"{host}/app:1"), retry=retry)
        elif how == 1:
            registry.tags(Reference.parse(f"{host}/app"), retry=retry)
        else:
            registry.repositories(host, retry=retry)


# -- an image's metadata read by minify and analyze ---------------------------------------

_CONF_WORDS = [
    b"include /etc/ld.so.conf.d/*.conf", b"include ld.so.conf.d/*", b"include /etc/ld.so.conf",
    b"include *", b"include [", b"include /etc/ld.so.conf.d/[!a]*", b"/usr/lib", b"hwcap 1 x",
    b"# c", b"/lib:/lib64,/opt", b"\xff\xfe", b"include " + b"*" * 300, b"",
]  # fmt: skip
_DB_LINES = [
    b"Package: a", b"Status: install ok installed", b"Installed-Size: " + b"9" * 5000,
    b"Installed-Size: \xc2\xb2", b" continuation", b"\tmore", b"", b"Depends: a | b, c",
    b"P:a", b"I:" + b"9" * 30, b"V:1", b"Provides: x, y", b"\x00", b":", b"Package:",
]  # fmt: skip


def metadata_target(data: bytes) -> None:
    """ld.so.conf and the files it includes (chains, cycles, globs), dpkg's status and apk's
    installed with absurd fields, and --keep globs, as minify and analyze read them."""
    from deadweight.analysis import packages as pkgs
    from deadweight.minify.elf import conf_dirs
    from deadweight.minify.keeper import _glob

    i, texts = 0, {}
    for n in range(1 + (data[0] % 6 if data else 0)):
        lines = []
        for _ in range(1 + (data[i % len(data)] % 8 if data else 0)):
            i, word = _pick(data, i, _CONF_WORDS)
            lines.append(word)
        name = "etc/ld.so.conf" if n == 0 else f"etc/ld.so.conf.d/{n}.conf"
        texts[name] = b"\n".join(lines)  # type: ignore[arg-type]
    db = []
    for _ in range(len(data) // 3 + 1):
        i, line = _pick(data, i, _DB_LINES)
        db.append(line)
    text = b"\n".join(db).decode("utf-8", "replace")  # type: ignore[arg-type]
    with contract("metadata"):
        conf_dirs(texts, texts)
        pkgs.stanzas(text)
        pkgs.parse_dpkg(text)
        pkgs.parse_apk(text)
        paths = sorted(f"usr/{word.decode('utf-8', 'replace')}" for word in _CONF_WORDS)
        for word in _CONF_WORDS:
            glob = "/" + word.decode("utf-8", "replace").replace("include ", "")
            if any(c in glob for c in "*?["):
                _glob(paths, glob)


TARGETS: dict[str, Target] = {
    "tar": tar_target,
    "json": json_target,
    "template": template_target,
    "registry": registry_target,
    "dockerfile": dockerfile_target,
    "metadata": metadata_target,
}


def bounded(target: Target, seconds: float) -> Target:
    """``target`` that also fails when one input takes longer than ``seconds``."""

    def run(data: bytes) -> None:
        start = time.monotonic()
        target(data)
        took = time.monotonic() - start
        if took > seconds:
            raise ContractBroken(f"{target.__name__}: {took:.1f} s for {len(data)} bytes")

    return run
