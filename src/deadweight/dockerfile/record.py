"""Frozen, slotted value classes without :mod:`dataclasses`' start-up cost (issue 14).

``deadweight lint FILE`` runs once per file from editors and pre-commit hooks, so its
start-up is most of its time. :mod:`dataclasses` imports :mod:`inspect` (with ``ast``,
``dis`` and ``tokenize``) and writes every class's methods as source text it compiles;
for the thirty classes of the Dockerfile linter that was a third of the start-up.
:func:`record` makes the same classes (``__init__`` from the annotations, defaults and
:func:`field` factories, ``__eq__``, ``__hash__``, ``__repr__``, ``__slots__``, frozen
unless asked otherwise, pickling) with methods shared by every record. Type checkers read
it as a dataclass (PEP 681). :func:`replace` is :func:`dataclasses.replace`'s
counterpart.

The shared ``__init__`` reads the field list on every call, about four times the cost of
a written-out one. ``lint IMAGE`` on 100,000 history rows builds over a million records
(issue 16), so a class built :data:`SPECIALIZE_AFTER` times gets an ``__init__`` of its
own, compiled then: a short run compiles nothing, a long one pays a few microseconds per
class once.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not `typing`: lint start-up (issue 14); mypy reads it as True
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar, dataclass_transform, overload

    T = TypeVar("T")
else:

    def dataclass_transform(**_kwargs: object) -> object:
        return lambda decorated: decorated


class FrozenRecordError(AttributeError):
    """An attribute of a frozen record was set or deleted."""


_MISSING: Any = object()


class _Field:
    __slots__ = ("compare", "default", "factory", "repr")

    def __init__(self, default: Any, factory: Any, compare: bool, repr: bool) -> None:
        self.default, self.factory, self.compare, self.repr = default, factory, compare, repr


def field(
    *,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] | None = None,
    compare: bool = True,
    repr: bool = True,
) -> Any:
    """A field's default (or a factory of it), and whether it counts in ``==`` and repr."""
    return _Field(default, default_factory, compare, repr)


# constructions of one class after which it gets an ``__init__`` of its own
SPECIALIZE_AFTER = 200


class _Spec:
    """What the shared methods need to know about one record class."""

    __slots__ = ("built", "compared", "defaults", "fields", "frozen", "names", "owner", "shown")

    def __init__(self, fields: dict[str, _Field], frozen: bool) -> None:
        self.fields = fields
        self.frozen = frozen
        self.names = tuple(fields)
        self.defaults = {n: f for n, f in fields.items() if _has_default(f)}
        self.compared = tuple(n for n, f in fields.items() if f.compare)
        self.shown = tuple(n for n, f in fields.items() if f.repr)
        self.built = 0  # constructions through the shared ``__init__``
        self.owner: type | None = None  # the class made with this spec


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    cls = type(self)
    spec: _Spec = cls.__record__
    spec.built += 1
    if spec.built == SPECIALIZE_AFTER and cls is spec.owner:
        _specialize(cls, spec)
    names = spec.names
    if len(args) > len(names):
        raise TypeError(f"{type(self).__name__}() takes {len(names)} arguments, not {len(args)}")
    put = object.__setattr__
    for name, value in zip(names, args, strict=False):
        put(self, name, value)
    for name in names[len(args) :]:
        if name in kwargs:
            put(self, name, kwargs.pop(name))
            continue
        f = spec.defaults.get(name)
        if f is None:
            raise TypeError(f"{type(self).__name__}() is missing the argument {name!r}")
        put(self, name, f.factory() if f.factory is not None else f.default)
    if kwargs:
        raise TypeError(f"{type(self).__name__}() got unexpected arguments {sorted(kwargs)}")
    post = getattr(self, "__post_init__", None)
    if post is not None:
        post()


def _specialize(cls: type, spec: _Spec) -> None:
    """Give ``cls`` an ``__init__`` written out for its fields (same arguments, defaults and
    ``__post_init__`` as the shared one); a field list Python cannot spell as a signature
    (a required field after a defaulted one, a name that is a keyword) keeps the shared."""
    import keyword

    params, body, seen_default = ["__record_self"], [], False
    scope: dict[str, Any] = {"__record_set": object.__setattr__, "__record_missing": _MISSING}
    for i, name in enumerate(spec.names):
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("__"):
            return
        f = spec.defaults.get(name)
        if f is None:
            if seen_default:
                return
            params.append(name)
        else:
            seen_default = True
            if f.factory is not None:
                scope[f"__record_factory{i}"] = f.factory
                params.append(f"{name}=__record_missing")
                body.append(f" if {name} is __record_missing: {name} = __record_factory{i}()")
            else:
                scope[f"__record_default{i}"] = f.default
                params.append(f"{name}=__record_default{i}")
        body.append(f" __record_set(__record_self, {name!r}, {name})")
    if getattr(cls, "__post_init__", None) is not None:
        body.append(" __record_self.__post_init__()")
    source = f"def __init__({', '.join(params)}):\n" + ("\n".join(body) or " pass") + "\n"
    exec(compile(source, f"<record {cls.__qualname__}>", "exec"), scope)
    made = scope["__init__"]
    made.__qualname__ = f"{cls.__qualname__}.__init__"
    type.__setattr__(cls, "__init__", made)


def _values(self: Any, names: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple([getattr(self, n) for n in names])


def _eq(self: Any, other: Any) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented  # type: ignore[no-any-return]
    names: tuple[str, ...] = self.__record__.compared
    return _values(self, names) == _values(other, names)


def _hash(self: Any) -> int:
    return hash(_values(self, self.__record__.compared))


def _repr(self: Any) -> str:
    shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__record__.shown)
    return f"{type(self).__qualname__}({shown})"


def _frozen_setattr(self: Any, name: str, value: object) -> None:
    raise FrozenRecordError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenRecordError(f"cannot delete field {name!r}")


def _getstate(self: Any) -> tuple[Any, ...]:
    return _values(self, self.__record__.names)


def _setstate(self: Any, state: tuple[Any, ...]) -> None:
    for name, value in zip(self.__record__.names, state, strict=True):
        object.__setattr__(self, name, value)


def _make(cls: type[T], frozen: bool) -> type[T]:
    fields: dict[str, _Field] = {}
    for base in reversed(cls.__mro__[1:]):
        inherited = base.__dict__.get("__record__")
        if inherited is not None:
            fields.update(inherited.fields)
    namespace = dict(cls.__dict__)
    own: list[str] = []
    # the class's own annotations (strings: `from __future__ import annotations`); not
    # inspect.get_annotations, whose import is what this module saves
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063
        if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
            continue
        value = namespace.pop(name, _MISSING)
        fields[name] = value if isinstance(value, _Field) else _Field(value, None, True, True)
        if not any(name in getattr(base, "__slots__", ()) for base in cls.__mro__[1:]):
            own.append(name)
    spec = _Spec(fields, frozen)
    namespace.pop("__dict__", None)
    namespace.pop("__weakref__", None)
    namespace["__slots__"] = tuple(own)
    namespace["__record__"] = spec
    namespace["__match_args__"] = spec.names
    namespace.setdefault("__init__", _init)
    namespace.setdefault("__repr__", _repr)
    namespace.setdefault("__eq__", _eq)
    namespace["__getstate__"] = _getstate
    namespace["__setstate__"] = _setstate
    if frozen:
        namespace["__hash__"] = _hash
        namespace["__setattr__"] = _frozen_setattr
        namespace["__delattr__"] = _frozen_delattr
    elif "__eq__" not in cls.__dict__:
        namespace["__hash__"] = None
    made: type[T] = type.__new__(type(cls), cls.__name__, cls.__bases__, namespace)
    if namespace["__init__"] is _init:
        spec.owner = made
    return made


def _has_default(f: _Field) -> bool:
    return f.default is not _MISSING or f.factory is not None


if TYPE_CHECKING:

    @overload
    def record(cls: type[T], /) -> type[T]: ...
    @overload
    def record(*, frozen: bool = True) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: Any = None, /, *, frozen: bool = True) -> Any:
    """Make ``cls`` a record: ``@record`` (frozen) or ``@record(frozen=False)``."""
    if cls is None:
        return lambda c: _make(c, frozen)
    return _make(cls, frozen)


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of the record ``obj`` with ``changes``."""
    spec: _Spec = type(obj).__record__  # type: ignore[attr-defined]
    values = {n: changes.pop(n) if n in changes else getattr(obj, n) for n in spec.names}
    if changes:
        raise TypeError(f"{type(obj).__name__} has no fields {sorted(changes)}")
    return type(obj)(**values)
