"""What programs break without though no trace may show it: user and name-service files,
CA certificates and TLS configuration, the loader's cache and configuration, the time zone
(``TZ``) and locale (``LANG``, ``LC_ALL``) the config sets, the OS release, and the
directories the container writes to (``WORKDIR``, ``VOLUME``, ``/tmp``, the user's home)."""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable, Mapping
from typing import Any

from deadweight.analysis.entrypoint import env_of

# (pattern, whole): a path or fnmatch pattern of tree paths; ``whole`` keeps all below it.
FILES: tuple[tuple[str, bool], ...] = (
    ("etc/passwd", False),
    ("etc/group", False),
    ("etc/shadow", False),
    ("etc/gshadow", False),
    ("etc/nsswitch.conf", False),
    ("etc/hosts", False),
    ("etc/host.conf", False),
    ("etc/hostname", False),
    ("etc/resolv.conf", False),
    ("etc/gai.conf", False),
    ("etc/services", False),
    ("etc/protocols", False),
    ("etc/localtime", False),
    ("etc/timezone", False),
    ("etc/os-release", False),
    ("etc/ld.so.cache", False),
    ("etc/ld.so.conf", False),
    ("etc/ld.so.conf.d", True),
    ("etc/ld-musl-*.path", False),
    ("etc/ssl", True),  # CA bundle, certs/ links, openssl.cnf
    ("etc/pki/tls", True),
    ("etc/pki/ca-trust", True),
    ("usr/lib/ssl", True),
    ("usr/share/ca-certificates", True),
    ("etc/ca-certificates.conf", False),
)
DIRS = ("tmp", "var/tmp", "run")  # kept as directories, with their modes, not their content


def essential_paths(config: Mapping[str, Any], paths: Iterable[str]) -> list[tuple[str, bool]]:
    """(tree path, keep everything below it) for ``config`` in a tree holding ``paths``."""
    all_paths = list(paths)
    out: list[tuple[str, bool]] = []
    for pattern, whole in FILES:
        if "*" in pattern:
            out.extend((p, whole) for p in fnmatch.filter(all_paths, pattern))
        else:
            out.append((pattern, whole))
    out.extend((d, False) for d in DIRS)
    env = env_of(config)
    tz = env.get("TZ", "").lstrip(":")
    if tz and not tz.startswith("/"):
        out.append((f"usr/share/zoneinfo/{posixpath.normpath(tz)}", False))
    elif tz:
        out.append((tz.lstrip("/"), False))
    for var in ("LC_ALL", "LANG", "LC_CTYPE"):
        out.extend(_locale(env.get(var, ""), all_paths))
    workdir = str(config.get("WorkingDir") or "").strip("/")
    if workdir:
        out.append((workdir, False))
    volumes = config.get("Volumes")
    if isinstance(volumes, dict):
        out.extend((str(v).strip("/"), True) for v in volumes if str(v).strip("/"))
    return out


def _locale(value: str, paths: list[str]) -> list[tuple[str, bool]]:
    """The compiled locale ``value`` names (``en_US.UTF-8`` is ``en_US.utf8`` on disk) and
    the locale archive glibc looks in first."""
    if not value or value in ("C", "POSIX"):
        return []
    lang, _, codeset = value.partition(".")
    codeset = codeset.split("@", 1)[0]
    norm = codeset.lower().replace("-", "")
    names = {value, f"{lang}.{norm}" if codeset else lang, lang}
    out: list[tuple[str, bool]] = [("usr/lib/locale/locale-archive", False)]
    for top in ("usr/lib/locale", "usr/share/locale"):
        out.extend((f"{top}/{n}", True) for n in sorted(names))
    if codeset:
        out.extend((p, False) for p in fnmatch.filter(paths, f"usr/share/i18n/charmaps/{codeset}*"))
    return out


def home_of(user: str, passwd: bytes | None) -> str:
    """The home directory (a tree path) of the config's ``User`` in ``/etc/passwd``."""
    if passwd is None:
        return ""
    name = user.partition(":")[0] or "root"
    for line in passwd.decode("utf-8", "replace").splitlines():
        fields = line.split(":")
        if len(fields) >= 6 and name in (fields[0], fields[2]):
            return fields[5].strip("/")
    return ""


# Where packages keep what people read, not programs: left out of a package closure.
_DOCS = ("usr/share/doc/", "usr/share/man/", "usr/share/info/", "usr/share/lintian/",
         "usr/share/bug/", "usr/share/doc-base/", "usr/share/gtk-doc/")  # fmt: skip


def languages(config: Mapping[str, Any]) -> frozenset[str]:
    """The languages the config's ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES`` and ``LANG`` name
    (``de_DE.UTF-8`` gives ``de_DE`` and ``de``); C and POSIX name none."""
    env = env_of(config)
    out: set[str] = set()
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        for value in env.get(var, "").split(":"):
            lang = value.partition(".")[0].partition("@")[0]
            if lang and lang not in ("C", "POSIX"):
                out.update({lang, lang.partition("_")[0]})
    return frozenset(out)


# A test suite inside a Python distribution (``numpy/_core/tests/``, ``pandas/tests/``):
# ``pkg.test()`` runs it, an app never imports it. A top-level ``tests`` package some
# distributions install by mistake is not matched (it is a package of its own).
_TEST_SUITE = re.compile(r"(?:^|/)(?:site|dist)-packages/(?:[^/]+/)+tests/")


def test_suite(path: str) -> bool:
    """Whether a package closure leaves ``path`` out as part of a Python distribution's
    test suite (kept only when traced or kept for another reason)."""
    return "tests/" in path and _TEST_SUITE.search(path) is not None


def documentation(path: str, langs: frozenset[str]) -> bool:
    """Whether a package closure leaves ``path`` out: documentation, manual and info pages,
    and message catalogues (``usr/share/locale/LANG/``) of languages the config does not
    name."""
    if path.startswith(_DOCS):
        return True
    if path.startswith("usr/share/locale/"):
        lang, sep, _ = path[len("usr/share/locale/") :].partition("/")
        return bool(sep) and lang.partition(".")[0].partition("@")[0] not in langs
    return False
