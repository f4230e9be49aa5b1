"""Query[T]: a live query over a collection, built with ``where`` / ``order_by`` / ``limit`` /
``offset``, read with ``get`` / ``ids`` / ``count``, followed with ``subscribe`` / ``diffs`` /
``results``."""

from __future__ import annotations

import copy
import operator
import threading
from typing import (
    Any,
    AsyncIterator,
    Callable,
    Dict,
    Generic,
    Iterator,
    List,
    Optional,
    Protocol,
    Tuple,
    TypeVar,
    Union,
    overload,
)

from . import _errors, _native
from ._diff import QueryDiff, QueryEvent, QueryResult, apply_diff, lift_diff
from ._filter import FilterLike, _dumps, and_, as_filter, check_path, invalid
from ._reactive import untracked
from ._stream import event_stream, restart, state_stream
from ._support import CallbackAdapter, Codec, Subscription, loads

T = TypeVar("T")


class QueryListener(Protocol[T]):
    """What :meth:`Query.subscribe` calls: ``on_result`` once, first, with the whole result,
    then ``on_diff`` after each change of it."""

    def on_result(self, rows: List[Tuple[str, T]]) -> object: ...

    def on_diff(self, diff: QueryDiff[T]) -> object: ...


class _Listener(_native.QueryListener):
    __slots__ = ("_result", "_diff", "_decode")

    def __init__(
        self,
        on_result: Callable[[List[Tuple[str, Any]]], object],
        on_diff: Callable[[QueryDiff[Any]], object],
        codec: Codec[Any],
    ) -> None:
        self._result = CallbackAdapter(on_result)
        self._diff = CallbackAdapter(on_diff)
        self._decode = codec.decode

    def on_result(self, rows: List[_native.EntityRecord]) -> None:
        decode = self._decode
        self._result.call([(r.id, decode(r.value_json)) for r in rows])

    def on_diff(self, diff: List[_native.QueryDiffOp]) -> None:
        self._diff.call(lift_diff(diff, self._decode))


def _count(n: object, what: str) -> int:
    if isinstance(n, bool):
        invalid(f"{what} must be a whole number ≥ 0, not {n!r}")
    try:
        value = operator.index(n)  # type: ignore[arg-type]
    except TypeError:
        invalid(f"{what} must be a whole number ≥ 0, not {n!r}")
    if value < 0:
        invalid(f"{what} must be a whole number ≥ 0, not {value}")
    return value


class Query(Generic[T]):
    """A live query: the entities of a collection that pass its filters, in its order, within
    its window. Made by :meth:`Collection.query`; a value like a string: ``where``,
    ``order_by``, ``limit`` and ``offset`` return a new query and leave this one as it is.

    >>> open_todos = (
    ...     todos.query()
    ...     .where(field("completed") == False)
    ...     .order_by("due", "desc")
    ...     .limit(50)
    ... )
    >>> for id, todo in open_todos: ...

    Reads (``get``, ``ids``, ``count``, iteration, ``len``) are tracked inside computeds and
    effects: ``get`` / ``ids`` wake them only when the result changes, ``count`` only when the
    number of matches does. The library keeps the query's result up to date incrementally from
    its first read or subscription until :meth:`close` (or garbage collection).

    ``len(query)`` is the number of rows in the window (what iteration yields), like
    ``len(query.ids())``; :meth:`count` is the number of matches, ignoring offset and limit.
    """

    __slots__ = ("_collection", "_codec", "_spec", "_native", "_lock", "_closed", "__weakref__")

    def __init__(
        self,
        collection: _native.Collection,
        codec: Codec[T],
        spec: Dict[str, Any],
        native: Optional[_native.Query] = None,
    ) -> None:
        self._collection = collection
        self._codec = codec
        self._spec = spec
        self._native = native
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def from_spec(
        cls, collection: _native.Collection, codec: Codec[T], spec: Union[str, Dict[str, Any]]
    ) -> "Query[T]":
        """The query of a JSON spec (text or dict), made (and checked by the library) now."""
        if not isinstance(spec, str):
            try:
                spec = _dumps(spec)
            except (TypeError, ValueError, RecursionError) as e:
                invalid(f"the query spec is not JSON-serializable: {e}")
        native = untracked(lambda: collection.query(spec))
        return cls(collection, codec, loads(native.spec_json()), native)

    # Building

    def _with(self, **changes: Any) -> "Query[T]":
        spec = dict(self._spec)
        for key, value in changes.items():
            if value is None:
                spec.pop(key, None)
            else:
                spec[key] = value
        return Query(self._collection, self._codec, spec)

    def where(self, *filters: FilterLike) -> "Query[T]":
        """This query, keeping only what every one of ``filters`` matches (on top of the
        filters it already has): ``.where(a, b)`` and ``.where(a).where(b)`` mean ``a & b``."""
        if not filters:
            invalid("where() needs at least one filter")
        checked = [as_filter(f) for f in filters]
        current = self._spec.get("filter")
        if current is not None:
            checked.insert(0, as_filter(current))
        combined = checked[0] if len(checked) == 1 else and_(*checked)
        return self._with(filter=combined.spec)

    def order_by(self, path: str, order: str = "asc") -> "Query[T]":
        """This query, also sorted by the field at ``path``, ``"asc"`` (smallest first, the
        default) or ``"desc"``. Each call adds a key after those already there; rows that tie on
        every key are ordered by id."""
        check_path(path)
        if order not in ("asc", "desc"):
            invalid(f"order must be 'asc' or 'desc', not {order!r}")
        keys = list(self._spec.get("order_by", []))
        keys.append({"field": path, "order": order})
        return self._with(order_by=keys)

    def limit(self, n: Optional[int]) -> "Query[T]":
        """This query, returning at most ``n`` rows (``None``: no limit). Raises
        :class:`InvalidQuery` for a negative or fractional ``n``."""
        return self._with(limit=None if n is None else _count(n, "limit"))

    def offset(self, n: int) -> "Query[T]":
        """This query, skipping its first ``n`` rows. Raises :class:`InvalidQuery` for a
        negative or fractional ``n``."""
        return self._with(offset=_count(n, "offset") or None)

    @property
    def spec(self) -> Dict[str, Any]:
        """The query's JSON form (a copy): ``{"filter", "order_by", "offset", "limit"}``."""
        return copy.deepcopy(self._spec)

    @property
    def spec_json(self) -> str:
        """The query's JSON form as text, as the library reads it."""
        return _dumps(self._spec)

    # Reading

    def _query(self) -> _native.Query:
        native = self._native
        if native is None:
            with self._lock:
                native = self._native
                if self._closed:
                    raise _errors.Closed("query")
                if native is None:
                    text, collection = self.spec_json, self._collection
                    # Making the query evaluates it: that must not become a dependency of a
                    # computed that happens to make it.
                    native = untracked(lambda: collection.query(text))
                    self._native = native
        return native

    def get(self) -> List[Tuple[str, T]]:
        """The matching ``(id, value)`` rows in order, within the window. Tracked."""
        decode = self._codec.decode
        return [(r.id, decode(r.value_json)) for r in self._query().get()]

    def values(self) -> List[T]:
        """The matching values in order, within the window. Tracked."""
        return [value for _, value in self.get()]

    def ids(self) -> List[str]:
        """The ids of the matching entities in order, within the window. Tracked."""
        return self._query().ids()

    def count(self) -> int:
        """How many entities match, ignoring offset and limit. Tracked (the number only)."""
        return self._query().count()

    def __iter__(self) -> Iterator[Tuple[str, T]]:
        return iter(self.get())

    def __len__(self) -> int:
        return len(self._query().ids())

    # Following

    @overload
    def subscribe(self, listener: QueryListener[T], /) -> Subscription: ...
    @overload
    def subscribe(
        self,
        on_result: Callable[[List[Tuple[str, T]]], object],
        on_diff: Callable[[QueryDiff[T]], object],
        /,
    ) -> Subscription: ...
    def subscribe(self, first: Any, on_diff: Any = None, /) -> Subscription:
        """Calls ``on_result(rows)`` now with the whole result, then ``on_diff(diff)`` after
        each transaction that changed it (a local write, a pulled page, a rollback), with the
        steps that turn the previous result into the new one (see :func:`apply_diff`).

        Takes the two functions, or one object with ``on_result`` and ``on_diff`` methods.
        Changes from the server arrive on the client's sync thread (or its ``delivery``
        context); an exception in a callback
        goes to the client's error listeners. Keep the returned subscription: dropping it
        cancels the listener."""
        if on_diff is None:
            listener = first
            if not (
                callable(getattr(listener, "on_result", None))
                and callable(getattr(listener, "on_diff", None))
            ):
                raise TypeError(
                    "subscribe takes on_result and on_diff functions, or an object with "
                    "on_result and on_diff methods"
                )
            on_result, on_diff = listener.on_result, listener.on_diff
        else:
            on_result = first
            if not callable(on_result) or not callable(on_diff):
                raise TypeError("subscribe takes two functions: on_result and on_diff")
        native = self._query().subscribe(_Listener(on_result, on_diff, self._codec))
        return Subscription(native)

    def diffs(self) -> AsyncIterator[QueryEvent[T]]:
        """A :class:`QueryResult`, then a :class:`QueryDiff` per change, as an async iterator
        (asyncio); the subscription ends with the iteration.

        Up to :data:`EVENT_BUFFER` events wait for a consumer that falls behind; when one more
        arrives, the waiting ones are dropped and the next event is a fresh
        :class:`QueryResult` (the whole result as it is then), followed by the diffs after it.
        A consumer that applies the events in order, restarting from each ``QueryResult``,
        stays correct."""

        def subscribe(push: Callable[[QueryEvent[T]], None]) -> Subscription:
            return self.subscribe(lambda rows: push(QueryResult(rows)), push)

        return event_stream(subscribe, restart)

    def results(self) -> AsyncIterator[List[Tuple[str, T]]]:
        """The whole result now, then after each change, as an async iterator (asyncio). Each
        list is kept up to date from the diffs, with no extra read of the query. It keeps only
        the latest list: a consumer that falls behind skips to the newest."""

        def subscribe(push: Callable[[List[Tuple[str, T]]], None]) -> Subscription:
            rows: List[Tuple[str, T]] = []

            def on_result(result: List[Tuple[str, T]]) -> None:
                rows[:] = result
                push(list(rows))

            def on_diff(diff: QueryDiff[T]) -> None:
                apply_diff(rows, diff)
                push(list(rows))

            return self.subscribe(on_result, on_diff)

        return state_stream(subscribe)

    # Lifetime

    def close(self) -> None:
        """Stops keeping the result up to date and cancels the subscriptions made through this
        query; later reads raise ``MizuError.Closed``. Idempotent. Queries built from this one
        (``where``, ``limit``, ...) are not closed."""
        with self._lock:
            self._closed = True
            native = self._native
        if native is not None:
            native.close()

    def __enter__(self) -> "Query[T]":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Query {self._collection.name()!r} {self.spec_json}>"
