"""``dockerfile.record``: what the linter's classes relied on from ``dataclasses``."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

from deadweight.dockerfile.findings import Finding, Fix, Severity
from deadweight.dockerfile.record import SPECIALIZE_AFTER, FrozenRecordError, field, record, replace


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


def test_a_class_built_often_gets_its_own_init_that_behaves_the_same() -> None:
    @record
    class Base:
        a: int
        b: str = "b"
        items: list[int] = field(default_factory=list)

    @record
    class Child(Base):
        c: int = 0

        def __post_init__(self) -> None:
            object.__setattr__(self, "c", self.c * 2)

    shared = Base.__init__
    for _ in range(SPECIALIZE_AFTER - 1):
        Base(1)
    assert Base.__init__ is shared  # a short run compiles nothing
    Base(1)
    assert Base.__init__ is not shared and Child.__init__ is shared
    for _ in range(SPECIALIZE_AFTER):
        Child(1, c=1)
    assert Child.__init__ not in (shared, Base.__init__)
    for cls in (Base, Child):
        one = cls(1)
        assert (one.a, one.b, one.items) == (1, "b", []) and one.items is not cls(1).items
        assert cls(b="x", a=2) == cls(2, "x") and cls(2, "x", [3]).items == [3]
        wrongs: tuple[tuple[Any, ...], ...] = ((), (1, "b", [], 0, 9))
        for wrong in wrongs:
            with pytest.raises(TypeError):
                cls(*wrong)
        with pytest.raises(TypeError):
            cls(1, w=3)  # type: ignore[call-arg]
        with pytest.raises(FrozenRecordError):
            one.a = 2  # type: ignore[misc]
    assert Child(1, c=3).c == 6  # __post_init__ still runs
    assert copy.deepcopy(Child(1, c=2)) == Child(1, c=2)


def test_a_field_list_python_cannot_spell_keeps_the_shared_init() -> None:
    @record
    class Loose:
        a: int = 0

    @record
    class Required(Loose):
        b: int  # type: ignore[misc]  # required after a defaulted field: no signature can say that

    for _ in range(SPECIALIZE_AFTER + 1):
        Required(1, 2)
    assert Required(b=2) == Required(0, 2)
    with pytest.raises(TypeError, match="missing the argument 'b'"):
        Required(1)  # type: ignore[call-arg]
