"""Lint settings: ``.deadweight.yaml``, with hadolint's ``.hadolint.yaml`` as a fallback.

Keys (hadolint's spelling, ours accepted too): ``ignored``, ``override`` (severity ->
codes), ``failure-threshold`` (error|warning|info|style|none), ``trustedRegistries``,
``allowed-base-images``, ``disable-ignore-pragma``, ``no-fail``.
"""

from __future__ import annotations

import os

from deadweight.dockerfile.findings import Severity
from deadweight.dockerfile.record import record, replace
from deadweight.errors import NotFound, UsageError

TYPE_CHECKING = False  # not `typing`: lint start-up (issue 14); mypy reads it as True
if TYPE_CHECKING:
    from os import PathLike
    from pathlib import Path
    from typing import Any

CONFIG_NAMES = (".deadweight.yaml", ".deadweight.yml", ".hadolint.yaml", ".hadolint.yml")


@record
class LintConfig:
    ignored: frozenset[str] = frozenset()
    overrides: tuple[tuple[str, Severity], ...] = ()
    failure_threshold: Severity | None = Severity.INFO
    trusted_registries: tuple[str, ...] = ()
    allowed_images: tuple[str, ...] = ()
    disable_ignore_pragma: bool = False
    origin: str | None = None

    def severity_of(self, code: str, default: Severity) -> Severity:
        for c, sev in self.overrides:
            if c == code:
                return sev
        return default

    def overridden(self, code: str) -> bool:
        return any(c == code for c, _ in self.overrides)

    def ignoring(self, codes: tuple[str, ...]) -> LintConfig:
        return replace(self, ignored=self.ignored | {c.upper() for c in codes})


def parse_threshold(text: str) -> Severity | None:
    if text.strip().lower() == "none":
        return None
    return Severity.parse(text)


def failure_threshold(config: LintConfig, given: str | None) -> Severity | None:
    """The threshold given on the command line, else the settings'."""
    return parse_threshold(given) if given is not None else config.failure_threshold


def _strings(value: Any, key: str, origin: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise UsageError(f"{origin}: {key} must be a list of strings")


def parse_config(text: str, origin: str = "config") -> LintConfig:
    """Read one YAML document into a :class:`LintConfig`."""
    import yaml  # only when there is a settings file: lint start-up (issue 14)

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"{origin}: not valid YAML: {exc}".splitlines()[0]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UsageError(f"{origin}: expected a mapping at the top")
    overrides: list[tuple[str, Severity]] = []
    override = data.get("override") or {}
    if not isinstance(override, dict):
        raise UsageError(f"{origin}: override must map a severity to a list of rules")
    for level, codes in override.items():
        sev = Severity.parse(str(level))
        overrides += [(c.upper(), sev) for c in _strings(codes, f"override.{level}", origin)]
    threshold: Severity | None = Severity.INFO
    raw_threshold = data.get("failure-threshold", data.get("failure_threshold"))
    if raw_threshold is not None:
        threshold = parse_threshold(str(raw_threshold))
    if data.get("no-fail"):
        threshold = None
    trusted = data.get("trustedRegistries", data.get("trusted-registries"))
    allowed = data.get("allowed-base-images", data.get("allowedBaseImages"))
    return LintConfig(
        ignored=frozenset(c.upper() for c in _strings(data.get("ignored"), "ignored", origin)),
        overrides=tuple(overrides),
        failure_threshold=threshold,
        trusted_registries=_strings(trusted, "trustedRegistries", origin),
        allowed_images=_strings(allowed, "allowed-base-images", origin),
        disable_ignore_pragma=bool(data.get("disable-ignore-pragma", False)),
        origin=origin,
    )


def load_config(path: str | PathLike[str]) -> LintConfig:
    try:
        with open(path, encoding="utf-8") as settings:
            text = settings.read()
    except FileNotFoundError:
        raise NotFound(f"{path}: no such config file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, not a config file") from None
    return parse_config(text, os.fspath(path))


def find_config(*folders: str | PathLike[str]) -> Path | None:
    """The first ``.deadweight.yaml`` in the folders, else the first ``.hadolint.yaml``."""
    for names in (CONFIG_NAMES[:2], CONFIG_NAMES[2:]):
        for folder in folders:
            for name in names:
                candidate = os.path.join(folder, name)
                if os.path.isfile(candidate):
                    from pathlib import Path  # not at import: lint start-up (issue 14)

                    return Path(candidate)
    return None


def config_for(
    dockerfile: str | PathLike[str], explicit: str | PathLike[str] | None = None
) -> LintConfig:
    """``explicit`` when given, else the settings found beside the Dockerfile or in the
    working folder (see :func:`find_config`), else the defaults."""
    if explicit is not None:
        return load_config(explicit)
    found = find_config(os.path.dirname(os.fspath(dockerfile)) or ".", os.getcwd())
    return load_config(found) if found is not None else LintConfig()
