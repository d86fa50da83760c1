"""Typed errors. Every failure a user can cause or meet is one of these.

::

    DeadweightError                 base; the CLI maps it to a one-line message
    ├── UsageError                  exit 2: a reference or option that does not parse
    │   ├── InvalidReference        an image reference or source string
    │   └── PlatformMismatch        two images of different platforms compared
    └── RuntimeProblem              exit 3
        ├── NotFound                a file, image, tag, blob or platform that is not there
        ├── CorruptImage            not an image, truncated, broken JSON, bad layout
        │   ├── DigestMismatch      bytes whose sha256 is not the digest that named them
        │   ├── UnsafeLayer         path traversal, link escapes, decompression bombs
        │   └── UnsupportedMediaType
        ├── RegistryError           a registry that refuses (401/403/404/429/5xx) or fails
        │   └── AuthError
        ├── NetworkError            a registry or engine that does not answer
        ├── EngineError             a Docker/Podman engine that fails or is absent
        ├── TraceUnavailable        tracing a container is impossible here (not root, no fanotify)
        ├── ImageRunFailed          an image that does not run as asked (exits at once, no answer)
        └── IncompleteScan          some images of a fleet scan failed (the report says why)

Policy failures (a lint threshold, a CI gate) are results, not errors.
"""

from __future__ import annotations


class DeadweightError(Exception):
    """Base of every error deadweight raises on purpose."""

    exit_code = 3

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(DeadweightError):
    """The user asked for something that does not parse."""

    exit_code = 2


class InvalidReference(UsageError):
    """An image reference or source string that does not parse."""


class PlatformMismatch(UsageError):
    """Two images for different platforms: their bytes are not comparable."""


class RuntimeProblem(DeadweightError):
    """Something in the world is missing, broken or refusing."""

    exit_code = 3


class NotFound(RuntimeProblem):
    """A file, image, tag, blob or platform that is not there."""


class CorruptImage(RuntimeProblem):
    """Bytes that are not a valid image: truncated, broken JSON, bad layout."""


class DigestMismatch(CorruptImage):
    """Content whose sha256 differs from the digest that names it."""


class UnsafeLayer(CorruptImage):
    """A layer that tries to escape its root or exhaust resources."""


class UnsupportedMediaType(CorruptImage):
    """A manifest, config or layer media type deadweight cannot read."""


class RegistryError(RuntimeProblem):
    """A registry answered with an error status."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AuthError(RegistryError):
    """A registry refused our credentials (or asked for some we do not have)."""


class NetworkError(RuntimeProblem):
    """A registry or engine that does not answer."""


class EngineError(RuntimeProblem):
    """A Docker or Podman engine that fails or is absent."""


class TraceUnavailable(RuntimeProblem):
    """Tracing what a container opens is impossible here (not root, no fanotify)."""


class ImageRunFailed(RuntimeProblem):
    """An image that does not run as asked: it exits at once, or a probe gets no answer."""


class IncompleteScan(RuntimeProblem):
    """A fleet scan finished, but some of its images could not be read; its report lists
    them with their reasons."""
