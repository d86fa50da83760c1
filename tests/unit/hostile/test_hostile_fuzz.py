"""The fuzz harness, small: each target of ``fuzz_targets`` (what ``scripts/fuzz`` runs for
as long as asked) on a bounded budget of hypothesis examples, so the unit suite stays fast.
The contract: an answer or one of our typed errors, never another exception."""

from __future__ import annotations

import pytest
from fuzz_targets import TARGETS
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

BUDGET = {"tar": 80, "json": 60, "template": 120, "dockerfile": 40, "registry": 12, "metadata": 60}
SIZES = {
    "tar": 400, "json": 120, "template": 200, "dockerfile": 300, "registry": 80, "metadata": 200
}  # fmt: skip


def fuzz(name: str) -> None:
    @settings(
        max_examples=BUDGET[name],
        deadline=None,  # no timing asserts in unit tests; scripts/fuzz bounds time
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(st.binary(max_size=SIZES[name]))
    @example(b"")
    @example(bytes(range(256)))
    @example(b"\x01" + bytes(range(1, 200, 3)))  # pax records
    @example(b"\x02" + b"\x80" + b"\xff" * 11 + b"\x01")  # absurd sparse, extension
    @example(b"\x01\x00\xff\xff\xff")  # a deep JSON document
    @example(b"\x04" + bytes([39, 0, 9] * 60))  # deep names
    def check(data: bytes) -> None:
        TARGETS[name](data)

    check()


@pytest.mark.parametrize("name", sorted(BUDGET))
def test_fuzz_target_keeps_the_contract(name: str, no_docker_config: object) -> None:
    fuzz(name)
