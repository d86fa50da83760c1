"""CI rules: dive's keys and defaults, our keys, byte and ratio parsing, the verdict."""

from __future__ import annotations

import pytest

from deadweight import static
from deadweight.analysis.analyze import analyze
from deadweight.analysis.report import Analysis
from deadweight.analysis.rules import (
    RuleResult,
    Rules,
    evaluate,
    parse_bytes,
    parse_ratio,
    with_settings,
)
from deadweight.errors import UsageError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20MB", 20_000_000),
        ("20 MiB", 20 * 1024**2),
        ("1.5GB", 1_500_000_000),
        ("100", 100),
        ("10k", 10_000),
        ("2Ki", 2048),
        (7, 7),
    ],
)
def test_parse_bytes_like_go_humanize(text: object, expected: int) -> None:
    assert parse_bytes(text) == expected


@pytest.mark.parametrize("text", ["", "MB", "10XB", "-1MB", True])
def test_parse_bytes_refuses(text: object) -> None:
    with pytest.raises(UsageError):
        parse_bytes(text, "max-size")


def test_parse_ratio() -> None:
    assert (parse_ratio("0.25", "k"), parse_ratio("10%", "k"), parse_ratio(1, "k")) == (
        0.25,
        0.1,
        1.0,
    )
    with pytest.raises(UsageError) as err:
        parse_ratio("1.5", "min-efficiency")
    assert str(err.value) == "min-efficiency value is outside the allowed range (0-1): '1.5'"


def test_dive_defaults_and_dive_keys() -> None:
    assert Rules() == Rules(None, None, 0.1, 0.9, None, ())
    rules = with_settings(
        Rules(),
        {
            "lowestEfficiency": 0.95,
            "highestWastedBytes": "20MB",
            "highestUserWastedPercent": "disabled",
        },
    )
    assert rules == Rules(None, 20_000_000, None, 0.95, None, ())


def test_our_keys_and_forbid() -> None:
    rules = with_settings(
        Rules(),
        {"max-size": "1GB", "max-layers": 30, "forbid": ["apt-cache"], "min-efficiency": "off"},
    )
    assert rules == Rules(1_000_000_000, None, 0.1, None, 30, ("apt-cache",))
    with pytest.raises(UsageError) as err:
        with_settings(Rules(), {"forbid": ["apt-cache", "nonsense"]})
    assert str(err.value) == "unknown bloat category in forbid: nonsense"
    with pytest.raises(UsageError):
        with_settings(Rules(), {"maxSize": 3})


def image_analysis() -> Analysis:
    img = static.image(
        [
            static.Step(
                "RUN a",
                static.layer(
                    [
                        static.File("big", b"b" * 900),
                        static.File("keep", b"k" * 100),
                        static.File("var/lib/apt/lists/x", b"l" * 50),
                    ]
                ),
            ),
            static.Step("RUN rm big", static.layer([static.Whiteout("big")])),
        ]
    )
    return analyze(img)


def test_verdict_lines_pass_fail_and_skip() -> None:
    a = image_analysis()
    assert (a.size, a.waste.reclaimable, a.efficiency) == (1050, 900, 1 - 900 / 1050)
    v = evaluate(
        a, Rules(max_size=2000, max_wasted_bytes=899, max_layers=1, forbid=("apt-cache", "vcs"))
    )
    assert v.results == (
        RuleResult("max-size", "PASS", "2000", "1050", ""),
        RuleResult(
            "max-wasted-bytes",
            "FAIL",
            "899",
            "900",
            "too many bytes wasted (900 > 899; dive-compatible wasted bytes: 900)",
        ),
        RuleResult(
            "max-wasted-percent",
            "FAIL",
            "10.00%",  # the limit in the figure's unit (it said 0.1 beside 85.71%)
            "85.71%",
            "too many bytes wasted relative to the image (85.71% > 10.00%; dive-compatible: n/a)",
        ),
        RuleResult(
            "min-efficiency",
            "FAIL",
            "0.9",
            "0.1429",
            "image efficiency is too low (0.1429 < 0.9; dive-compatible: 0.1429)",
        ),
        RuleResult("max-layers", "FAIL", "1", "2", "too many layers (2 > 1)"),
        RuleResult(
            "forbid:apt-cache", "FAIL", "0", "50", "apt-cache found in the final image (50 bytes)"
        ),
        RuleResult("forbid:vcs", "PASS", "0", "0", ""),
    )
    assert not v.passed
    ok = evaluate(a, Rules(max_wasted_percent=None, min_efficiency=None))
    assert ok.passed and [r.status for r in ok.results] == ["SKIP"] * 5
