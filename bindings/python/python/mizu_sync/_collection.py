"""Collection[T] and Entity[T]: synchronized data, with dataclasses or plain JSON values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import (
    Any,
    AsyncIterator,
    Callable,
    Deque,
    Dict,
    Generic,
    Iterable,
    Iterator,
    List,
    MutableMapping,
    Optional,
    Set,
    Tuple,
    TypeVar,
    Union,
    overload,
)

from . import _hot, _native
from ._filter import check_path
from ._hot import ABSENT, JSON, collection_get, collection_write, raise_error, slot
from ._hot import text as text_of
from ._query import Query
from ._stream import event_stream, state_stream
from ._support import CallbackAdapter, Codec, Subscription
from ._sync_state import SyncState, sync_state_of

T = TypeVar("T")
D = TypeVar("D")

_MISSING: Any = object()


@dataclass(frozen=True)
class Change(Generic[T]):
    """What changed in a collection since the previous notification; the first one holds every
    entity. It never carries the whole collection: apply each change to a dict of your own
    (:meth:`apply_to`) when you want all of it."""

    changed: List[Tuple[str, T]]
    """Entities created or changed since the previous notification (all on the first), ordered
    by id."""
    removed: List[str]
    """Ids deleted since the previous notification."""

    def apply_to(self, entries: MutableMapping[str, T]) -> MutableMapping[str, T]:
        """Applies this change to ``entries`` (id → value) in place and returns it."""
        entries.update(self.changed)
        for id in self.removed:
            entries.pop(id, None)
        return entries


def merge_changes(changes: Iterable[Change[T]]) -> Change[T]:
    """One change that does what ``changes`` do when applied in order."""
    changed: Dict[str, T] = {}
    removed: Set[str] = set()
    for change in changes:
        for id, value in change.changed:
            changed[id] = value
            removed.discard(id)
        for id in change.removed:
            changed.pop(id, None)
            removed.add(id)
    return Change(changed=sorted(changed.items(), key=_id), removed=sorted(removed))


def _id(entry: Tuple[str, Any]) -> str:
    return entry[0]


def _merge_into_one(items: Deque[Change[Any]], item: Change[Any]) -> bool:
    """The overflow policy of :meth:`Collection.changes`: the full buffer becomes one change."""
    merged = merge_changes([*items, item])
    items.clear()
    items.append(merged)
    return False


class _CollectionListener(_native.CollectionListener):
    __slots__ = ("_adapter", "_codec")

    def __init__(self, fn: Callable[[Change[Any]], object], codec: Codec[Any]) -> None:
        self._adapter = CallbackAdapter(fn)
        self._codec = codec

    def on_change(self, change: _native.CollectionChange) -> None:
        decode = self._codec.decode
        self._adapter.call(
            Change(
                changed=[(r.id, decode(r.value_json)) for r in change.changed],
                removed=list(change.removed),
            )
        )


class _EntityListener(_native.EntityListener):
    __slots__ = ("_adapter", "_codec")

    def __init__(self, fn: Callable[[Any], object], codec: Codec[Any]) -> None:
        self._adapter = CallbackAdapter(fn)
        self._codec = codec

    def on_change(self, value_json: Optional[str]) -> None:
        self._adapter.call(None if value_json is None else self._codec.decode(value_json))


class Entity(Generic[T]):
    """One entity of a collection, by id; it may or may not exist at any moment."""

    # get / set are direct calls on the collection's hot handle with the id; the generated
    # Entity object (_native) is made only when another method needs it.
    __slots__ = ("_collection", "_id", "_raw_id", "_codec", "_entity", "_closed", "__weakref__")

    def __init__(self, collection: "Collection[T]", id: str, codec: Codec[T]) -> None:
        self._collection = collection
        self._id = id
        self._raw_id = id.encode()
        self._codec = codec
        self._entity: Optional[_native.Entity] = None
        self._closed = False

    @property
    def _native(self) -> _native.Entity:
        """The generated Entity object, made on first use."""
        entity = self._entity
        if entity is None:
            entity = self._collection._native.get(self._id)
            self._entity = entity
        return entity

    @property
    def id(self) -> str:
        """The entity's id."""
        return self._id

    def get(self) -> Optional[T]:
        """The visible value (synced base plus pending local writes), or ``None`` when the
        entity does not exist. Tracked inside computeds and effects."""
        if self._closed:
            text = self._native.get()  # raises the generated layer's error
            return None if text is None else self._codec.decode(text)
        raw = self._raw_id
        tag = collection_get(self._collection._h, raw, len(raw), 1)
        if tag == JSON:
            return self._codec.decode(text_of(slot()))
        if tag == ABSENT:
            return None
        raise_error()

    @property
    def value(self) -> Optional[T]:
        """The value (tracked), like :meth:`get`."""
        return self.get()

    def exists(self) -> bool:
        """Whether the entity exists. Tracked."""
        return self._native.exists()

    @property
    def sync_state(self) -> SyncState:
        """Where the entity stands with the server: ``SyncState.Synced``,
        ``SyncState.Pending(mutations)`` or ``SyncState.Rejected(reason)``. Tracked: a computed
        or effect that reads it re-runs when the queue changes (a badge re-renders)."""
        return sync_state_of(self._native.sync_state())

    def set(self, value: T) -> None:
        """Replaces the value (creating the entity when missing), optimistically and durably."""
        if self._closed:
            self._native.set(self._codec.encode(value))  # raises the generated layer's error
            return
        raw = self._raw_id
        body = self._codec.encode(value).encode()
        if collection_write(self._collection._h, raw, len(raw), body, len(body), 0) < 0:
            raise_error()

    async def set_async(self, value: T) -> None:
        """:meth:`set` committed off the loop's thread: queued now (in call order with the
        client's other awaited writes), returns once durable. Cancelling the wait does not
        undo the write. The listeners it wakes run where the client's deliveries go."""
        await self._native.set_async(self._codec.encode(value))

    def delete(self) -> None:
        """Deletes the entity (nothing happens when it does not exist)."""
        self._native.delete()

    async def delete_async(self) -> None:
        """:meth:`delete` committed off the loop's thread (see :meth:`set_async`)."""
        await self._native.delete_async()

    def subscribe(self, fn: Callable[[Optional[T]], object]) -> Subscription:
        """Calls ``fn(value)`` now, then after each change (``None`` once deleted). Usable as
        a decorator. Server changes and awaited writes arrive on a library thread (the sync
        thread, the thread that committed the write), or on the client's ``delivery``."""
        return Subscription(self._native.subscribe(_EntityListener(fn, self._codec)))

    def changes(self) -> AsyncIterator[Optional[T]]:
        """The current value, then each new one, as an async iterator (asyncio). It keeps only
        the latest value: a consumer that falls behind skips to the newest."""
        return state_stream(self.subscribe)

    def close(self) -> None:
        """Releases the handle and cancels its subscriptions."""
        self._closed = True
        self._native.close()

    def __repr__(self) -> str:
        return f"<Entity {self._collection.name}/{self.id}>"


class Collection(Generic[T]):
    """A named set of entities, synchronized with the server. Values are instances of the
    dataclass given to :meth:`Client.collection`, or plain JSON values when none was given.

    Behaves like a mapping from id to value: ``todos["a"]``, ``"a" in todos``, ``len(todos)``,
    ``for id in todos``, ``todos.items()``. Reads are tracked inside computeds and effects.
    """

    # _native: the generated object; _h: its hot handle, for the direct calls of get / set /
    # create and of its entities' get / set, given back when this object is collected.
    __slots__ = ("_native", "_h", "_codec", "__weakref__")

    def __init__(self, native: _native.Collection, codec: Codec[T]) -> None:
        self._h = 0
        self._native = native
        self._codec = codec
        self._h = native.hot_handle()

    def __del__(self, release: Callable[[int], None] = _hot.collection_release) -> None:
        h = getattr(self, "_h", 0)
        if h:
            self._h = 0
            release(h)

    @property
    def name(self) -> str:
        """The collection's name."""
        return self._native.name()

    def create(self, id: str, value: T) -> Entity[T]:
        """Creates the entity ``id``; raises ``MizuError.InvalidArgument`` when it exists."""
        entity = Entity(self, id, self._codec)
        raw = entity._raw_id
        body = self._codec.encode(value).encode()
        if collection_write(self._h, raw, len(raw), body, len(body), 1) < 0:
            raise_error()
        return entity

    async def create_async(self, id: str, value: T) -> Entity[T]:
        """:meth:`create` committed off the loop's thread: queued now (in call order with the
        client's other awaited writes), returns once durable. Cancelling the wait does not
        undo the write. The listeners it wakes run where the client's deliveries go."""
        native = await self._native.create_async(id, self._codec.encode(value))
        entity = Entity(self, id, self._codec)
        entity._entity = native
        return entity

    def entity(self, id: str) -> Entity[T]:
        """A handle to the entity ``id``, whether or not it exists."""
        return Entity(self, id, self._codec)

    @overload
    def get(self, id: str) -> Optional[T]: ...
    @overload
    def get(self, id: str, default: D) -> T | D: ...
    def get(self, id: str, default: Any = None) -> Any:
        """The value of ``id``, or ``default`` when it does not exist. Tracked."""
        raw = id.encode()
        tag = collection_get(self._h, raw, len(raw), 1)
        if tag == JSON:
            return self._codec.decode(text_of(slot()))
        if tag == ABSENT:
            return default
        raise_error()

    def set(self, id: str, value: T) -> None:
        """Sets the value of ``id``, creating the entity when missing."""
        raw = id.encode()
        body = self._codec.encode(value).encode()
        if collection_write(self._h, raw, len(raw), body, len(body), 0) < 0:
            raise_error()

    async def set_async(self, id: str, value: T) -> None:
        """:meth:`set` committed off the loop's thread (see :meth:`create_async`)."""
        await self._native.set_async(id, self._codec.encode(value))

    def update(self, id: str, value: T) -> None:
        """Replaces the value of the existing entity ``id``; raises ``MizuError.NotFound``."""
        self._native.update(id, self._codec.encode(value))

    def delete(self, id: str) -> None:
        """Deletes ``id`` (nothing happens when it does not exist)."""
        self._native.delete(id)

    async def delete_async(self, id: str) -> None:
        """:meth:`delete` committed off the loop's thread (see :meth:`create_async`)."""
        await self._native.delete_async(id)

    def items(self) -> List[Tuple[str, T]]:
        """Every ``(id, value)``, ordered by id, read in one call. Tracked."""
        decode = self._codec.decode
        return [(r.id, decode(r.value_json)) for r in self._native.entries()]

    def values(self) -> List[T]:
        """Every value, ordered by id. Tracked."""
        return [value for _, value in self.items()]

    def keys(self) -> List[str]:
        """Every id, ordered. Tracked (membership only)."""
        return self._native.ids()

    def count(self) -> int:
        """How many entities exist. Tracked (membership only)."""
        return self._native.count()

    def sync_state(self, id: str) -> SyncState:
        """Where the entity ``id`` stands with the server (see :attr:`Entity.sync_state`),
        without making an entity handle. Tracked."""
        return sync_state_of(self._native.sync_state(id))

    def __len__(self) -> int:
        return self.count()

    def __contains__(self, id: object) -> bool:
        return isinstance(id, str) and self._native.has(id)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __getitem__(self, id: str) -> T:
        value = self.get(id, _MISSING)
        if value is _MISSING:
            raise KeyError(id)
        return value

    def __setitem__(self, id: str, value: T) -> None:
        self.set(id, value)

    def __delitem__(self, id: str) -> None:
        if id not in self:
            raise KeyError(id)
        self.delete(id)

    def query(self, spec: Union[str, Dict[str, Any], None] = None) -> Query[T]:
        """A live query over this collection. Without ``spec``, every entity by id; narrow it
        with :meth:`Query.where`, :meth:`Query.order_by`, :meth:`Query.limit` and
        :meth:`Query.offset`:

        >>> todos.query().where(field("completed") == False).order_by("due", "desc").limit(50)

        ``spec`` is the query's JSON form instead, as a dict or as text (``{"filter": ...,
        "order_by": [{"field": "due", "order": "desc"}], "offset": 0, "limit": 50}``); it is
        checked now. Raises :class:`InvalidQuery` for a spec that is not JSON or not a query
        (an unknown key or operator, a bad path, a negative limit, ...)."""
        if spec is None:
            return Query(self._native, self._codec, {})
        return Query.from_spec(self._native, self._codec, spec)

    def ensure_index(self, path: str) -> None:
        """Keeps an ordered index on the field at the dotted ``path``, which serves the first
        evaluation of queries that filter on it by equality or sort on it first. Idempotent.
        Raises :class:`InvalidQuery` for an empty or malformed path."""
        self._native.ensure_index(check_path(path))

    def subscribe(self, fn: Callable[[Change[T]], object]) -> Subscription:
        """Calls ``fn(change)`` with every entity now, then with only what changed after each
        change (never the whole collection: see :meth:`Change.apply_to`). Usable as a
        decorator. Server changes arrive on the client's sync thread."""
        return Subscription(self._native.subscribe(_CollectionListener(fn, self._codec)))

    def changes(self) -> AsyncIterator[Change[T]]:
        """Every entity now, then what each change changed, as an async iterator (asyncio).

        Up to :data:`EVENT_BUFFER` changes wait for a consumer that falls behind; when one more
        arrives, the waiting changes are merged into one (each changed id with its last value,
        the ids removed and not re-created), so applying the changes in order
        (:meth:`Change.apply_to`) still ends at the collection's state."""
        return event_stream(self.subscribe, _merge_into_one)

    def close(self) -> None:
        """Releases the handle and cancels its subscriptions."""
        self._native.close()

    def __repr__(self) -> str:
        return f"<Collection {self.name!r}>"
