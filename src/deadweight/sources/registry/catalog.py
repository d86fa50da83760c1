"""List a registry's repositories (distribution-spec ``GET /v2/_catalog``, paginated by
``n``/``last`` and the ``Link`` header as the tag list is).

The catalog is an optional endpoint: registries that do not offer it answer 404 or 401
(Docker Hub, most cloud registries); either is a typed error naming the registry. Token
auth asks for the scope ``registry:catalog:*`` (docker/distribution's token spec).
"""

from __future__ import annotations

from typing import Any

import requests

from deadweight import limits
from deadweight.errors import AuthError, CorruptImage, RegistryError
from deadweight.reference import Reference
from deadweight.sources.registry.connection import Connection
from deadweight.sources.registry.pages import pages
from deadweight.sources.registry.transport import RetryPolicy
from deadweight.spec.config import decode_json

CATALOG_LIMIT = limits.CATALOG_BYTES
MAX_PAGES = limits.CATALOG_PAGES
# A placeholder repository: Connection authenticates per repository, the catalog is not one.
_ANY_REPOSITORY = "library/catalog"


def repositories(
    host: str,
    *,
    insecure: bool = False,
    session: requests.Session | None = None,
    retry: RetryPolicy | None = None,
    page_size: int | None = None,
) -> list[str]:
    """Every repository name the registry at ``host`` lists, sorted."""
    connection = Connection(
        Reference.parse(f"{host}/{_ANY_REPOSITORY}"),
        insecure=insecure,
        session=session,
        retry=retry,
    )
    connection.scope = "registry:catalog:*"
    try:
        return _pages(connection, host, page_size)
    except AuthError as exc:  # name the catalog, not the placeholder repository
        message = exc.message.replace(connection.label, f"{host} (catalog)", 1)
        raise AuthError(message, exc.status) from exc


def _pages(connection: Connection, host: str, page_size: int | None) -> list[str]:
    url = f"{connection.base()}/v2/_catalog" + (f"?n={page_size}" if page_size else "")
    found: set[str] = set()
    for body in pages(
        connection,
        url,
        what=f"{host}: the catalog",
        not_found=f"{host}: the registry does not list its repositories (no /v2/_catalog)",
        limit=CATALOG_LIMIT,
        max_pages=MAX_PAGES,
    ):
        found.update(_page(body, host))
    return sorted(found)


def _page(body: bytes, host: str) -> list[str]:
    try:
        doc: Any = decode_json(body, f"catalog of {host}")
    except CorruptImage as exc:
        raise RegistryError(str(exc)) from exc
    page = doc.get("repositories") if isinstance(doc, dict) else None
    if page is None and isinstance(doc, dict):
        return []
    if not isinstance(page, list) or not all(isinstance(r, str) for r in page):
        raise RegistryError(f"catalog of {host}: 'repositories' is not a list of strings")
    return page
