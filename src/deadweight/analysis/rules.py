"""The CI gate: rules over an :class:`Analysis`, and the verdict (a value, not an error).

Rules come from flags or a config file. ``.deadweight.yaml`` uses our keys; dive's
``.dive-ci`` keys are accepted with dive's defaults (wagoodman/dive, cmd/dive/cli/
internal/options/ci_rules.go): ``lowestEfficiency: 0.9``, ``highestWastedBytes:
disabled``, ``highestUserWastedPercent: 0.1``. The rules are evaluated on *our* figures
(bytes a squash would drop); dive's own figures are shown alongside for comparison.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from deadweight.analysis.bloat import CATEGORIES
from deadweight.analysis.report import Analysis
from deadweight.errors import UsageError

Status = Literal["PASS", "FAIL", "SKIP"]

# our key -> (dive's key, kind)
KEYS: dict[str, tuple[str, str]] = {
    "max-size": ("", "bytes"),
    "max-wasted-bytes": ("highestWastedBytes", "bytes"),
    "max-wasted-percent": ("highestUserWastedPercent", "ratio"),
    "min-efficiency": ("lowestEfficiency", "ratio"),
    "max-layers": ("", "count"),
}
DIVE_KEYS = {dive: ours for ours, (dive, _) in KEYS.items() if dive}


@dataclass(frozen=True, slots=True)
class Rules:
    """Limits; ``None`` disables a rule. The defaults are dive's."""

    max_size: int | None = None
    max_wasted_bytes: int | None = None
    max_wasted_percent: float | None = 0.1
    min_efficiency: float | None = 0.9
    max_layers: int | None = None
    forbid: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class RuleResult:
    key: str
    status: Status
    limit: str
    actual: str
    message: str


@dataclass(frozen=True, slots=True)
class Verdict:
    results: tuple[RuleResult, ...]

    @property
    def passed(self) -> bool:
        return all(r.status != "FAIL" for r in self.results)


_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "ki": 1024,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mi": 1024**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gi": 1024**3,
    "gib": 1024**3,
    "t": 1000**4,
    "tb": 1000**4,
    "ti": 1024**4,
    "tib": 1024**4,
}
_BYTES = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([a-zA-Z]*)\s*$")


def disabled(value: object) -> bool:
    """dive's ``isRuleDisabled``: empty, "disabled", "off" or "false" (any case)."""
    if value is None or value is False:
        return True
    return isinstance(value, str) and value.strip().lower() in ("", "disabled", "off", "false")


def parse_bytes(value: object, key: str = "size") -> int:
    """A byte count as go-humanize ``ParseBytes`` reads it: ``20MB`` = 20e6, ``20MiB``."""
    if isinstance(value, bool):
        raise UsageError(f"invalid {key} value {value!r}")
    if isinstance(value, int | float):
        return int(value)
    m = _BYTES.match(str(value))
    unit = m.group(2).lower() if m else ""
    if m is None or unit not in _UNITS:
        raise UsageError(f"invalid {key} value {value!r} (expected a size like 20MB or 512MiB)")
    return int(float(m.group(1)) * _UNITS[unit])


def parse_ratio(value: object, key: str) -> float:
    """A ratio between 0 and 1 (``0.1``); ``10%`` is accepted too."""
    text = str(value).strip()
    try:
        ratio = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise UsageError(
            f"invalid {key} value {value!r} (expected a ratio between 0 and 1)"
        ) from None
    if not 0 <= ratio <= 1 or math.isnan(ratio):
        raise UsageError(f"{key} value is outside the allowed range (0-1): {value!r}")
    return ratio


def _parse(key: str, value: object) -> int | float | None:
    if disabled(value):
        return None
    kind = KEYS[key][1]
    if kind == "bytes":
        return parse_bytes(value, key)
    if kind == "ratio":
        return parse_ratio(value, key)
    try:
        count = int(str(value))
    except ValueError:
        raise UsageError(f"invalid {key} value {value!r} (expected a whole number)") from None
    if count < 0:
        raise UsageError(f"invalid {key} value {value!r} (expected a whole number)")
    return count


def with_settings(rules: Rules, settings: Mapping[str, Any]) -> Rules:
    """``rules`` updated from a mapping of our keys or dive's (``rules:`` of a config)."""
    changes: dict[str, Any] = {}
    for raw_key, value in settings.items():
        key = DIVE_KEYS.get(str(raw_key), str(raw_key))
        if key == "forbid":
            cats = [value] if isinstance(value, str) else list(value or ())
            unknown = sorted(set(map(str, cats)) - set(CATEGORIES))
            if unknown:
                raise UsageError(
                    f"unknown bloat categor{'ies' if len(unknown) > 1 else 'y'} "
                    f"in forbid: {', '.join(unknown)}"
                )
            changes["forbid"] = tuple(str(c) for c in cats)
            continue
        if key not in KEYS:
            raise UsageError(
                f"unknown rule {raw_key!r} (known: {', '.join([*KEYS, 'forbid', *DIVE_KEYS])})"
            )
        changes[key.replace("-", "_")] = _parse(key, value)
    return replace(rules, **changes)


def _pct(x: float) -> str:
    return "n/a" if math.isnan(x) or math.isinf(x) else f"{x * 100:.2f}%"


def evaluate(analysis: Analysis, rules: Rules) -> Verdict:
    """Check every rule; a disabled rule is SKIP."""
    out: list[RuleResult] = []

    def check(key: str, limit: object, actual: str, failed: bool, message: str) -> None:
        if limit is None:
            out.append(RuleResult(key, "SKIP", "disabled", actual, "rule disabled"))
        else:
            out.append(
                RuleResult(
                    key, "FAIL" if failed else "PASS", str(limit), actual, message if failed else ""
                )
            )

    a = analysis
    wasted = a.waste.reclaimable
    check(
        "max-size",
        rules.max_size,
        str(a.size),
        rules.max_size is not None and a.size > rules.max_size,
        f"image is too large ({a.size} bytes > {rules.max_size})",
    )
    check(
        "max-wasted-bytes",
        rules.max_wasted_bytes,
        str(wasted),
        rules.max_wasted_bytes is not None and wasted > rules.max_wasted_bytes,
        f"too many bytes wasted ({wasted} > {rules.max_wasted_bytes}; "
        f"dive-compatible wasted bytes: {a.dive.wasted_bytes})",
    )
    check(
        "max-wasted-percent",
        None if rules.max_wasted_percent is None else _pct(rules.max_wasted_percent),
        _pct(a.wasted_percent),
        rules.max_wasted_percent is not None and a.wasted_percent > rules.max_wasted_percent,
        f"too many bytes wasted relative to the image ({_pct(a.wasted_percent)} > "
        f"{_pct(rules.max_wasted_percent or 0)}; "
        f"dive-compatible: {_pct(a.dive.user_wasted_percent)})",
    )
    check(
        "min-efficiency",
        rules.min_efficiency,
        f"{a.efficiency:.4f}",
        rules.min_efficiency is not None and a.efficiency < rules.min_efficiency,
        f"image efficiency is too low ({a.efficiency:.4f} < {rules.min_efficiency}; "
        f"dive-compatible: {a.dive.efficiency:.4f})",
    )
    check(
        "max-layers",
        rules.max_layers,
        str(len(a.layers)),
        rules.max_layers is not None and len(a.layers) > rules.max_layers,
        f"too many layers ({len(a.layers)} > {rules.max_layers})",
    )
    totals = dict(a.bloat.by_category)
    for cat in rules.forbid:
        found = totals.get(cat, 0)
        out.append(
            RuleResult(
                f"forbid:{cat}",
                "FAIL" if found else "PASS",
                "0",
                str(found),
                f"{cat} found in the final image ({found} bytes)" if found else "",
            )
        )
    return Verdict(tuple(out))
