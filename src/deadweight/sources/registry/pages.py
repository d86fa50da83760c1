"""A registry's paginated lists (distribution-spec tag lists and ``/v2/_catalog``): the
first page, then each page the last one's ``Link: <URL>; rel="next"`` names.

A ``Link`` is input like any other: one that is no valid URL, points to another host or
back to a page already read is refused with one line, and a list is cut at ``max_pages``.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

from deadweight.errors import RegistryError
from deadweight.sources.registry.connection import Connection
from deadweight.sources.registry.transport import valid_url


def pages(
    connection: Connection,
    url: str,
    *,
    what: str,
    not_found: str,
    limit: int,
    max_pages: int,
) -> Iterator[bytes]:
    """The body of each page of the list at ``url`` (``what`` names it in errors; each
    body is at most ``limit`` bytes; a 404 is :class:`NotFound` saying ``not_found``)."""
    host = urlsplit(connection.base())[:2]
    read: set[str] = set()
    for _ in range(max_pages):
        read.add(url)
        answer = connection.get(url, not_found=not_found, limit=limit)
        yield answer.body
        following = answer.response.links.get("next", {}).get("url")
        if not following:
            return
        try:
            url = valid_url(urljoin(url, following), f"{what} link")
        except ValueError:  # urljoin parses it first: an unclosed IPv6 bracket, say
            raise RegistryError(f"{what} link is not a valid URL: {following[:100]!r}") from None
        if urlsplit(url)[:2] != host:
            raise RegistryError(f"{what} links to another host ({url[:200]})")
        if url in read:
            raise RegistryError(f"{what} links back to a page already read ({url[:200]})")
    raise RegistryError(f"{what} has more than {max_pages} pages")
