"""The registry medium: read and push images over the distribution API
(``docker://host/repo:tag``).

A thin client on ``requests``: anonymous, Basic and Bearer-token auth with docker's
config.json and credential helpers, retries with backoff, digests verified everywhere.
"""

from __future__ import annotations

from deadweight.sources.registry.auth import Credentials, credentials_for
from deadweight.sources.registry.catalog import repositories
from deadweight.sources.registry.client import list_images, read, tags
from deadweight.sources.registry.push import write
from deadweight.sources.registry.transport import RetryPolicy

__all__ = [
    "Credentials",
    "RetryPolicy",
    "credentials_for",
    "list_images",
    "read",
    "repositories",
    "tags",
    "write",
]
