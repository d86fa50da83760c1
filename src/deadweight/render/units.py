"""Sizes and durations worded as docker/go-units words them (docker-formats.md §5.1, §5.2).

go-units v0.4.0 (CLI 20.10) and v0.5.0 (CLI 28) share these functions unchanged.
"""

from __future__ import annotations

_DECIMAL_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")

# time.Duration is an int64 count of nanoseconds; Time.Sub saturates at its limits.
MAX_DURATION_NS = (1 << 63) - 1
MIN_DURATION_NS = -(1 << 63)

_SECOND = 1_000_000_000
_MINUTE = 60 * _SECOND
_HOUR = 60 * _MINUTE


def human_size(n: float, precision: int = 3) -> str:
    """go-units ``HumanSizeWithPrecision``: decimal units, ``%.{precision}g``, no space.

    The unit is chosen before rounding, so 999 500 bytes print as ``1e+03kB`` (§5.1).
    Python's ``%g`` rounds the exact binary value half-to-even like Go's ``strconv``.
    """
    size = float(n)
    index = 0
    while size >= 1000.0 and index < len(_DECIMAL_UNITS) - 1:
        size /= 1000.0
        index += 1
    return "%.*g%s" % (precision, size, _DECIMAL_UNITS[index])  # noqa: UP031 - %g is Go's %g


def since_ns(now: float, created: int) -> int:
    """``time.Now().Sub(time.Unix(created, 0))`` as the CLI computes it, saturated.

    ``now`` is the wall clock in (fractional) seconds; ``created`` whole seconds. Splitting
    ``now`` keeps nanosecond precision far from the epoch, where a float alone would not.
    """
    whole = int(now // 1)
    fraction_ns = round((now - whole) * 1e9)
    ns = (whole - created) * _SECOND + fraction_ns
    return max(MIN_DURATION_NS, min(MAX_DURATION_NS, ns))


def _go_div(a: int, b: int) -> int:
    """Go's integer division: truncation toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _float_units(ns: int, unit: int) -> float:
    """``Duration.Seconds()/Minutes()/Hours()``: whole units plus the float remainder."""
    whole = _go_div(ns, unit)
    return float(whole) + float(ns - whole * unit) / float(unit)


def human_duration_ns(ns: int) -> str:
    """go-units ``HumanDuration`` of a ``time.Duration`` in nanoseconds (§5.2)."""
    seconds = int(_float_units(ns, _SECOND))
    if seconds < 1:
        return "Less than a second"
    if seconds == 1:
        return "1 second"
    if seconds < 60:
        return f"{seconds} seconds"
    minutes = int(_float_units(ns, _MINUTE))
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours_float = _float_units(ns, _HOUR)
    hours = int(hours_float + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    # Truncated hours here, rounded above: hence "1 years" just before 730 days.
    return f"{int(hours_float) // 24 // 365} years"
