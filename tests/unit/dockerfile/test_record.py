"""``dockerfile.record``: what the linter's classes relied on from ``dataclasses``."""

from __future__ import annotations

import copy
import pickle

import pytest

from deadweight.dockerfile.findings import Finding, Fix, Severity
from deadweight.dockerfile.record import FrozenRecordError, field, record, replace


@record
class Point:
    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list, compare=False, repr=False)

    @property
    def total(self) -> int:
        return self.x + self.y


@record(frozen=False)
class Tally:
    seen: list[int] = field(default_factory=list)
    count: int = 0


@record
class Point3(Point):
    z: int = 0


def test_init_defaults_and_factories() -> None:
    p = Point(1)
    assert (p.x, p.y, p.tags, p.total) == (1, 0, [], 1)
    assert Point(1).tags is not p.tags
    assert Point(y=2, x=1) == Point(1, 2)
    with pytest.raises(TypeError, match="missing the argument 'x'"):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected"):
        Point(1, w=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="takes 3 arguments"):
        Point(1, 2, [], 4)  # type: ignore[call-arg]


def test_equality_hash_and_repr_follow_the_compared_fields() -> None:
    assert Point(1, 2, ["a"]) == Point(1, 2, ["b"])
    assert hash(Point(1, 2, ["a"])) == hash(Point(1, 2, ["b"]))
    assert Point(1, 2) != Point(2, 1)
    assert Point(1) != Point3(1)  # another class, even a subclass, is never equal
    assert repr(Point(1, 2, ["a"])) == "Point(x=1, y=2)"
    assert repr(Point3(1, 2, z=3)) == "Point3(x=1, y=2, z=3)"


def test_frozen_slotted_and_mutable_records() -> None:
    p = Point(1)
    with pytest.raises(FrozenRecordError):
        p.x = 2  # type: ignore[misc]
    with pytest.raises(FrozenRecordError):
        del p.x
    assert not hasattr(p, "__dict__")
    with pytest.raises(AttributeError):
        p.other = 1  # type: ignore[attr-defined]
    t = Tally()
    t.count += 1
    t.seen.append(1)
    assert t == Tally([1], 1)
    with pytest.raises(TypeError):
        hash(t)


def test_copies_pickles_replace_and_match() -> None:
    finding = Finding("DL3000", Severity.ERROR, "m", 1, 2, fix=Fix("f", ()))
    assert pickle.loads(pickle.dumps(finding)) == finding
    assert copy.deepcopy(finding) == finding and copy.copy(finding) == finding
    assert replace(finding, line=5) == Finding(
        "DL3000", Severity.ERROR, "m", 5, 2, fix=Fix("f", ())
    )
    with pytest.raises(TypeError):
        replace(finding, nothing=1)
    match Point3(1, 2, z=3):
        case Point3(x, y, _, z):
            assert (x, y, z) == (1, 2, 3)
        case _:
            pytest.fail("no match")
