"""Filters of live queries: ``field("completed") == False``, combined with ``&``, ``|``, ``~``.

A filter is a value: it holds the JSON form the library reads (``{"field", "op", "value"}``,
``{"and": [...]}``, ``{"or": [...]}``, ``{"not": ...}``). Every input is checked while the
filter is built, so a bad path or an operand that is not JSON raises
:class:`~mizu_sync.InvalidQuery` on the line that wrote it.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Dict, Iterable, List, Mapping, NoReturn, Union

from . import _errors, _native

InvalidQuery = _errors.InvalidQuery

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def invalid(reason: str) -> NoReturn:
    """Raises :class:`InvalidQuery` with ``reason``."""
    raise InvalidQuery(reason)


def check_path(path: object) -> str:
    """``path`` when it is a valid dotted field path (the library's own rule: not empty, no
    empty segment); raises :class:`InvalidQuery` otherwise."""
    if not isinstance(path, str):
        invalid(f"a field path must be a string, not {type(path).__name__}")
    if not path:
        invalid("a field path must not be empty")
    if "" in path.split("."):
        invalid(f"the field path {path!r} has an empty segment")
    return path


def to_json(value: Any, what: str) -> Any:
    """A detached JSON copy of ``value`` (dataclasses become objects); raises
    :class:`InvalidQuery` when it is not JSON-serializable (sets, objects, NaN, ...)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    try:
        return json.loads(_dumps(value))
    except (TypeError, ValueError, RecursionError) as e:
        invalid(f"{what} is not JSON-serializable: {e}")


class Filter:
    """A condition on an entity's value. Combine with ``&`` (and), ``|`` (or), ``~`` (not),
    or with :func:`and_`, :func:`or_`, :func:`not_`. Python's ``and`` / ``or`` / ``not``
    cannot be overloaded: using a filter as a truth value raises :class:`InvalidQuery`."""

    __slots__ = ("_spec",)

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self._spec: Dict[str, Any] = dict(spec)

    @property
    def spec(self) -> Dict[str, Any]:
        """The JSON form of the filter (a copy)."""
        return json.loads(_dumps(self._spec))  # type: ignore[no-any-return]

    def __and__(self, other: object) -> "Filter":
        return and_(self, as_filter(other))

    def __or__(self, other: object) -> "Filter":
        return or_(self, as_filter(other))

    def __invert__(self) -> "Filter":
        return not_(self)

    def __bool__(self) -> NoReturn:
        invalid("a filter has no truth value: combine filters with &, | and ~ (not and/or/not)")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Filter) and other._spec == self._spec

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Filter({_dumps(self._spec)})"


FilterLike = Union[Filter, Mapping[str, Any]]
"""A :class:`Filter`, or a filter's JSON form as a dict."""


def as_filter(value: object) -> Filter:
    """``value`` as a :class:`Filter`: filters as they are, dicts as a filter's JSON form
    (checked by the library when the query is made)."""
    if isinstance(value, Filter):
        return value
    if isinstance(value, Mapping):
        return Filter(to_json(dict(value), "a filter"))
    if isinstance(value, Field):
        invalid(f"{value!r} is a field, not a filter: compare it (== False, .exists(), ...)")
    invalid(f"expected a filter, got {type(value).__name__} {value!r}")


def _join(name: str, filters: Iterable[object]) -> Filter:
    parts: List[Dict[str, Any]] = []
    for f in filters:
        spec = as_filter(f)._spec
        # (a & b) & c is one "and" of three: flatter JSON, the same meaning.
        if len(spec) == 1 and name in spec:
            parts.extend(spec[name])
        else:
            parts.append(spec)
    return Filter({name: parts})


def and_(*filters: FilterLike) -> Filter:
    """Matches what every one of ``filters`` matches (all entities when there are none)."""
    return _join("and", filters)


def or_(*filters: FilterLike) -> Filter:
    """Matches what any one of ``filters`` matches (nothing when there are none)."""
    return _join("or", filters)


def not_(filter: FilterLike) -> Filter:
    """Matches what ``filter`` does not match."""
    return Filter({"not": as_filter(filter)._spec})


def _precedence(self: "Field", other: object) -> NoReturn:
    invalid(
        f"cannot combine {self!r} with &, | or ~: put each comparison in parentheses, "
        "e.g. (field('a') == 1) & (field('b') > 2)"
    )


class Field:
    """A field of an entity's value, by dotted path (``"address.city"``; a segment of digits
    also indexes an array: ``"tags.0"``). Compare it to make a :class:`Filter`:

    >>> (field("completed") == False) & (field("priority") >= 2)
    Filter({"and":[{"field":"completed","op":"eq","value":false},{"field":"priority","op":"ge","value":2}]})

    Comparisons use one total order over JSON values: null < false < true < numbers <
    strings < arrays < objects; a missing field compares as null.
    """

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = check_path(path)

    def _compare(self, op: str, value: Any) -> Filter:
        operand = to_json(value, f"the operand of {op!r} on {self.path!r}")
        return Filter({"field": self.path, "op": op, "value": operand})

    def eq(self, value: Any) -> Filter:
        """Equal to ``value`` (also ``field == value``)."""
        return self._compare("eq", value)

    def ne(self, value: Any) -> Filter:
        """Not equal to ``value`` (also ``field != value``)."""
        return self._compare("ne", value)

    def lt(self, value: Any) -> Filter:
        """Less than ``value`` (also ``field < value``)."""
        return self._compare("lt", value)

    def le(self, value: Any) -> Filter:
        """At most ``value`` (also ``field <= value``)."""
        return self._compare("le", value)

    def gt(self, value: Any) -> Filter:
        """Greater than ``value`` (also ``field > value``)."""
        return self._compare("gt", value)

    def ge(self, value: Any) -> Filter:
        """At least ``value`` (also ``field >= value``)."""
        return self._compare("ge", value)

    __eq__ = eq  # type: ignore[assignment]
    __ne__ = ne  # type: ignore[assignment]
    __lt__ = lt
    __le__ = le
    __gt__ = gt
    __ge__ = ge
    __hash__ = None  # type: ignore[assignment]
    __and__ = __rand__ = __or__ = __ror__ = _precedence

    def __invert__(self) -> NoReturn:
        _precedence(self, None)

    def contains(self, value: Any) -> Filter:
        """A string field containing ``value`` as a substring, or an array field holding
        ``value`` as an element."""
        return self._compare("contains", value)

    def is_in(self, values: Iterable[Any]) -> Filter:
        """Equal to one of ``values`` (a list, tuple, set of JSON values...)."""
        if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
            invalid(f"is_in on {self.path!r} takes a list of values, not {values!r}")
        return self._compare("in", list(values))

    def exists(self, present: bool = True) -> Filter:
        """The field is present (``present=False``: absent). A field holding null exists."""
        if not isinstance(present, bool):
            invalid(f"exists on {self.path!r} takes True or False, not {present!r}")
        return Filter({"field": self.path, "op": "exists", "value": present})

    def __repr__(self) -> str:
        return f"field({self.path!r})"


def field(path: str) -> Field:
    """The field at the dotted ``path``; raises :class:`InvalidQuery` for an empty path or an
    empty segment (``"a..b"``)."""
    return Field(path)
