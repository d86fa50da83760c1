"""Docker image references (distribution/reference grammar, docker's normalization)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from deadweight.errors import InvalidReference

DEFAULT_DOMAIN = "docker.io"
LEGACY_DOMAIN = "index.docker.io"
OFFICIAL_PREFIX = "library/"

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_DOMAIN = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    r"|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$"
)
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$")


@dataclass(frozen=True, slots=True)
class Reference:
    """A normalized reference: ``domain/path[:tag][@digest]``."""

    domain: str
    path: str
    tag: str = ""
    digest: str = ""

    @classmethod
    def parse(cls, text: str, *, default_tag: bool = True) -> Reference:
        """Parse and normalize; a reference with neither tag nor digest gets ``latest``."""
        if not text or text != text.strip():
            raise InvalidReference(f"invalid reference format: {text!r}")
        rest, digest = text, ""
        if "@" in rest:
            rest, digest = rest.split("@", 1)
            if not _DIGEST.match(digest):
                raise InvalidReference(f"invalid reference format: bad digest in {text!r}")
        tag = ""
        slash = rest.rfind("/")
        colon = rest.rfind(":")
        if colon > slash:
            rest, tag = rest[:colon], rest[colon + 1 :]
            if not _TAG.match(tag):
                raise InvalidReference(f"invalid reference format: bad tag in {text!r}")
        first, _, remainder = rest.partition("/")
        if remainder and (
            "." in first or ":" in first or first == "localhost" or first != first.lower()
        ):
            domain, path = first, remainder
            if not _DOMAIN.match(domain):
                raise InvalidReference(f"invalid reference format: bad registry in {text!r}")
        else:
            domain, path = DEFAULT_DOMAIN, rest
        if domain == LEGACY_DOMAIN:
            domain = DEFAULT_DOMAIN
        if domain == DEFAULT_DOMAIN and "/" not in path:
            path = OFFICIAL_PREFIX + path
        if not _PATH.match(path):
            if path.lower() != path:
                raise InvalidReference(
                    f"invalid reference format: repository name must be lowercase: {text!r}"
                )
            raise InvalidReference(f"invalid reference format: {text!r}")
        if len(domain) + 1 + len(path) > 255:
            raise InvalidReference(f"invalid reference format: name too long: {text!r}")
        if default_tag and not tag and not digest:
            tag = "latest"
        return cls(domain, path, tag, digest)

    @property
    def name(self) -> str:
        """Fully qualified repository name, e.g. ``docker.io/library/alpine``."""
        return f"{self.domain}/{self.path}"

    @property
    def familiar_name(self) -> str:
        """The short name docker prints, e.g. ``alpine`` or ``localhost:5000/app``."""
        if self.domain == DEFAULT_DOMAIN:
            path = self.path
            return path[len(OFFICIAL_PREFIX) :] if path.startswith(OFFICIAL_PREFIX) else path
        return self.name

    def _suffix(self) -> str:
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def __str__(self) -> str:
        return self.name + self._suffix()

    @property
    def familiar(self) -> str:
        return self.familiar_name + self._suffix()

    @property
    def registry_host(self) -> str:
        """The host to talk to: Docker Hub's API lives at registry-1.docker.io."""
        return "registry-1.docker.io" if self.domain == DEFAULT_DOMAIN else self.domain

    def with_tag(self, tag: str) -> Reference:
        return Reference(self.domain, self.path, tag, "")


def familiar(text: str) -> str:
    """Familiar form of a reference string; the text itself if it does not parse."""
    try:
        return Reference.parse(text, default_tag=False).familiar
    except InvalidReference:
        return text
