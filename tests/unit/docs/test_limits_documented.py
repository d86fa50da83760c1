"""The README's exit-code section states every bound of ``deadweight.limits`` with its
value (issue 16): a limit added, or changed, without the README fails here."""

from __future__ import annotations

from pathlib import Path

from deadweight import limits

ROOT = Path(__file__).parents[3]


def _mib(n: int) -> str:
    return f"{n >> 20} MiB"


# each limit and how the README says it
SAID: dict[str, str] = {
    "JSON_DEPTH": f"deeper than {limits.JSON_DEPTH} levels",
    "DOCUMENT_BYTES": f"over {_mib(limits.DOCUMENT_BYTES)} in an archive or layout",
    "TAR_SPECIAL": f"GNU long name over {_mib(limits.TAR_SPECIAL)}",
    "PAX_DIGITS": f"more than {limits.PAX_DIGITS} of them",
    "TAR_MEMBER": f"a file over {limits.TAR_MEMBER >> 40} TiB",
    "TAR_ENTRIES": f"more than {limits.TAR_ENTRIES:,} entries",
    "IMAGE_ENTRIES": f"more than {limits.IMAGE_ENTRIES:,} entries in all",
    "TAR_TRAILING": f"more than {_mib(limits.TAR_TRAILING)} after the end-of-archive",
    "TAR_CAPTURE_TOTAL": f"first {_mib(limits.TAR_CAPTURE_TOTAL)} of small files",
    "INDEX_NESTING": f"indexes nested more than {limits.INDEX_NESTING} deep",
    "SYMLINK_HOPS": f"more than {limits.SYMLINK_HOPS} symbolic links",
    "DIFF_TEXT": f"a file over {_mib(limits.DIFF_TEXT)}",
    "BOMB_RATIO": f"more than {limits.BOMB_RATIO} times its size",
    "BOMB_FLOOR": f"past {limits.BOMB_FLOOR >> 30} GiB",
    "TEMPLATE_DEPTH": f"nesting deeper than {limits.TEMPLATE_DEPTH} levels",
    "TEMPLATE_TEXT": f"`pad` making more than {_mib(limits.TEMPLATE_TEXT)}",
    "TEMPLATE_ITEMS": f"`split` more than {limits.TEMPLATE_ITEMS:,} pieces",
    "TEMPLATE_OUTPUT": f"output over {_mib(limits.TEMPLATE_OUTPUT)}",
    "TEMPLATE_NUMBER_DIGITS": f"over {limits.TEMPLATE_NUMBER_DIGITS} characters",
    "MANIFEST_BYTES": f"a manifest over {_mib(limits.MANIFEST_BYTES)}",
    "CONFIG_BYTES": f"a config over {_mib(limits.CONFIG_BYTES)}",
    "TAGS_BYTES": f"a tag list or a repository list over {_mib(limits.TAGS_BYTES)}",
    "TAG_PAGES": f"{limits.TAG_PAGES:,} pages",
    "CATALOG_BYTES": f"a repository list over {_mib(limits.CATALOG_BYTES)}",
    "CATALOG_PAGES": f"{limits.CATALOG_PAGES:,} pages",
    "TOKEN_BYTES": f"a token answer over {_mib(limits.TOKEN_BYTES)}",
    "ERROR_BODY_BYTES": f"first {limits.ERROR_BODY_BYTES >> 10} KiB of an error answer",
    "REQUEST_READS": "plus two read timeouts" if limits.REQUEST_READS == 2 else "?",
    "BODY_MIN_RATE": f"one second per {limits.BODY_MIN_RATE >> 10} KiB of a blob",
    "RETRY_AFTER": f"honoured up to {limits.RETRY_AFTER:g} s",
    "STALE_TEMP": f"it is {limits.STALE_TEMP / 60:g} minutes old",
    "LISTING_LINE": f"a line over {limits.LISTING_LINE:,} bytes",
    "HTTP_ANSWER": f"answer | over {_mib(limits.HTTP_ANSWER)}",
    "CONTAINER_OUTPUT": f"the last {limits.CONTAINER_OUTPUT >> 10} KiB are kept",
    "LD_CONF_MATCHES": f"compared with more than {limits.LD_CONF_MATCHES:,} file names",
    "LD_LOOKUPS": f"more than {limits.LD_LOOKUPS:,} lookups in all",
}


def _section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("**Limits that produce a refusal.**")
    return " ".join(text[start : text.index("\n## ", start)].split())


def test_every_limit_is_stated_with_its_value() -> None:
    names = {n for n in vars(limits) if n.isupper() and not n.startswith("_")}
    assert names == set(SAID), "a limit without a README line (or the reverse)"
    section = _section()
    missing = {name: said for name, said in SAID.items() if said not in section}
    assert not missing
