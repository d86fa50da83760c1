"""What one run of ``analyze`` checks: the CI rules and ignored paths from the rules file
(``.deadweight.yaml``, else dive's ``.dive-ci``), overridden by the command's flags."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deadweight.analysis.rules import Rules, parse_bytes, parse_ratio, with_settings
from deadweight.errors import UsageError
from deadweight.image import Image

CONFIG_FILES = (".deadweight.yaml", ".deadweight.yml", ".dive-ci")


@dataclass(frozen=True)
class Settings:
    rules: Rules
    ignore: tuple[str, ...]  # globs of paths left out
    exclude_base: str | None  # a layer count or a base image, as given


def load_config(path: str | None) -> Mapping[str, Any]:
    """The config file named, else the first of CONFIG_FILES in the working directory."""
    candidates = [Path(path)] if path else [Path(name) for name in CONFIG_FILES]
    for candidate in candidates:
        if not candidate.is_file():
            if path:
                raise UsageError(f"{path}: no such config file")
            continue
        import yaml  # only when there is a file: analyze's start-up

        try:
            doc = yaml.safe_load(candidate.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise UsageError(f"{candidate}: not valid YAML ({exc})") from exc
        if doc is None:
            return {}
        if not isinstance(doc, dict):
            raise UsageError(f"{candidate}: expected a mapping at the top")
        return doc
    return {}


def settings(
    config: Mapping[str, Any],
    flags: Mapping[str, str | None],
    *,
    forbid: tuple[str, ...] = (),
    ignore: tuple[str, ...] = (),
    exclude_base: str | None = None,
) -> Settings:
    """The config's rules with the flags given (``max_size``: a ``--max-size`` value, or
    None when not given) over them; ``forbid`` adds to the config's list."""
    given = config.get("rules") or {}
    if not isinstance(given, dict):
        raise UsageError("config: 'rules' must be a mapping")
    rules = with_settings(Rules(), given)
    over: dict[str, Any] = {k.replace("_", "-"): v for k, v in flags.items() if v is not None}
    if forbid:
        over["forbid"] = [*rules.forbid, *forbid]
    rules = with_settings(rules, over)
    globs = (*_strings(config.get("ignore"), "ignore"), *ignore)
    base = exclude_base if exclude_base is not None else config.get("exclude-base")
    return Settings(rules, globs, None if base is None else str(base))


def _strings(value: object, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise UsageError(f"config: {key!r} must be a list of strings")


def min_saving(value: str | None, size: int) -> int | None:
    """``--min-saving``: bytes (``1MiB``) or a share of the image (``2%``); None: default."""
    if value is None:
        return None
    text = value.strip()
    if text.endswith("%"):
        return int(size * parse_ratio(text, "--min-saving"))
    return parse_bytes(text, "--min-saving")


def excluded_layers(value: str | None, image: Image, open_image: Callable[[str], Image]) -> int:
    """``--exclude-base``: a layer count, or a base image (opened with ``open_image``)
    whose layers must be the bottom layers of ``image``; how many layers to leave out."""
    if value is None or value == "":
        return 0
    if value.isdigit():
        count = int(value)
        if count > len(image.layers):
            raise UsageError(
                f"--exclude-base {count}: the image has only {len(image.layers)} layers"
            )
        return count
    ids = [layer.diff_id for layer in open_image(value).layers]
    if [layer.diff_id for layer in image.layers[: len(ids)]] != ids:
        raise UsageError(
            f"--exclude-base {value}: its layers are not the bottom layers of the image"
        )
    return len(ids)
