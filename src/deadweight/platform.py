"""Platforms (``os/arch[/variant]``) and how to pick one from an index."""

from __future__ import annotations

from dataclasses import dataclass

from deadweight.errors import UsageError


@dataclass(frozen=True, slots=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""

    def __str__(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.strip().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise UsageError(f"invalid platform {text!r}: expected os/arch[/variant]")
        arch = _ARCH_ALIASES.get(parts[1], parts[1])
        return cls(parts[0], arch, parts[2] if len(parts) == 3 else "")

    def matches(self, other: Platform) -> bool:
        """Does ``other`` (from an index) satisfy this request? An empty variant matches any."""
        if self.os != other.os or self.architecture != other.architecture:
            return False
        if not self.variant:
            return True
        return self.variant == (other.variant or _DEFAULT_VARIANT.get(other.architecture, ""))


_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm"}
_DEFAULT_VARIANT = {"arm64": "v8", "arm": "v7"}


def host() -> Platform:
    import platform as _platform

    machine = _platform.machine().lower()
    return Platform("linux", _ARCH_ALIASES.get(machine, machine))
