"""Client: the sync client, as a context manager."""

from __future__ import annotations

import weakref
from typing import Any, Callable, Dict, Mapping, Optional, Type, TypeVar, overload

from . import _native
from ._collection import Collection
from ._support import CallbackAdapter, Codec, Subscription, dumps

T = TypeVar("T")

SyncStatus = _native.SyncStatus
RejectedMutation = _native.RejectedMutation


def _ms(seconds: float) -> int:
    if seconds < 0:
        raise ValueError("durations must not be negative")
    return int(seconds * 1000)


class _Call(
    _native.SyncListener,
    _native.ErrorListener,
    _native.RejectionListener,
    _native.StatusListener,
    _native.TokenProvider,
):
    """Adapts a Python callable to any one-method listener trait."""

    __slots__ = ("_adapter",)

    def __init__(self, fn: Callable[..., object]) -> None:
        self._adapter = CallbackAdapter(fn)

    def on_sync(self, cursor: int) -> None:
        self._adapter.call(cursor)

    def on_error(self, error: _native.MizuError) -> None:
        self._adapter.call(error)

    def on_rejected(self, mutation: _native.RejectedMutation) -> None:
        self._adapter.call(mutation)

    def on_status(self, status: _native.SyncStatus) -> None:
        self._adapter.call(status)

    def token(self, refresh: bool) -> Optional[str]:
        return self._adapter.call(refresh)  # type: ignore[no-any-return]


class _Connectivity(_native.ConnectivityListener):
    __slots__ = ("_adapter", "_when")

    def __init__(self, fn: Callable[[], object], when: bool) -> None:
        self._adapter = CallbackAdapter(fn)
        self._when = when

    def on_connectivity(self, online: bool) -> None:
        if online == self._when:
            self._adapter.call()


class Client:
    """An offline-first sync client: a local store, a durable mutation queue and a background
    engine that pushes, pulls and listens. Reads and writes never wait for the network.

    Use it as a context manager (``with Client(url) as client:``) or call :meth:`close`.

    Listeners (``on_sync``, ``on_online``, ``on_offline``, ``on_error``, ``on_rejected``,
    ``on_status``) run on the client's sync thread; each returns a :class:`Subscription`, and
    each can be used as a decorator. An exception in any listener is reported to the
    ``on_error`` listeners (or the ``mizu_sync`` logger) and never breaks syncing. Keep the
    returned subscriptions: dropping one cancels its listener.

    :param base_url: the sync endpoints, e.g. ``http://127.0.0.1:8080/_sync``.
    :param scope: the data scope; empty for the server's default.
    :param storage_path: SQLite file for durable storage; ``None`` keeps data in memory.
    :param live_url: the live WebSocket URL (``ws://host/ws?scope=S``) for instant pulls.
    :param token: ``token(refresh: bool) -> str | None`` supplying a bearer token.
    :param start: start syncing at once.
    """

    def __init__(
        self,
        base_url: str,
        *,
        scope: str = "",
        storage_path: Optional[str] = None,
        live_url: Optional[str] = None,
        push_interval: float = 5.0,
        pull_interval: float = 30.0,
        request_timeout: float = 30.0,
        backoff: tuple[float, float] = (0.5, 60.0),
        push_batch_size: int = 100,
        pull_limit: int = 1000,
        headers: Optional[Mapping[str, str]] = None,
        subscribe_message: Any = None,
        token: Optional[Callable[[bool], Optional[str]]] = None,
        start: bool = False,
    ) -> None:
        options = _native.ClientOptions(
            base_url=base_url,
            scope=scope,
            storage_path=None if storage_path is None else str(storage_path),
            live_url=live_url,
            push_interval_ms=_ms(push_interval),
            pull_interval_ms=_ms(pull_interval),
            request_timeout_ms=_ms(request_timeout),
            backoff_min_ms=_ms(backoff[0]),
            backoff_max_ms=_ms(backoff[1]),
            push_batch_size=push_batch_size,
            pull_limit=pull_limit,
            headers=dict(headers or {}),
            subscribe_message_json=None if subscribe_message is None else dumps(subscribe_message),
        )
        self._native = _native.Client(options, None if token is None else _Call(token))
        self._collections: Dict[tuple[str, Any], Collection[Any]] = {}
        # Closed when collected, and at interpreter exit at the latest: the sync thread must
        # not call into a finalizing interpreter.
        self._finalizer = weakref.finalize(self, self._native.close)
        if start:
            self.start()

    # Lifecycle

    def start(self) -> None:
        """Starts syncing in the background (idempotent); works with the server unreachable."""
        self._native.start()

    def stop(self) -> None:
        """Stops syncing; local reads and writes keep working."""
        self._native.stop()

    def close(self) -> None:
        """Stops syncing, closes the store and unregisters every listener. Idempotent."""
        self._finalizer()
        self._collections.clear()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._native.is_closed()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Sync

    def sync(self) -> None:
        """Pushes everything pending, then pulls; returns when both are done (GIL released)."""
        self._native.sync()

    def flush(self, timeout: float = 10.0) -> None:
        """Waits until everything queued so far is acknowledged and pulled back; raises
        ``MizuError.Timeout`` after ``timeout`` seconds (GIL released while waiting)."""
        self._native.flush(_ms(timeout))

    def mutate(self, name: str, args: Any = None) -> str:
        """Queues the app-defined mutation ``name(args)`` and returns its id."""
        return self._native.mutate(name, None if args is None else dumps(args))

    def pause(self) -> None:
        """Pauses syncing; local writes keep queueing."""
        self._native.pause()

    def resume(self) -> None:
        """Resumes syncing after :meth:`pause`."""
        self._native.resume()

    def notify_live(self, cursor: int) -> None:
        """Tells the client the server has reached ``cursor``: pulls when it is ahead."""
        self._native.notify_live(cursor)

    # Data

    @overload
    def collection(self, name: str) -> Collection[Any]: ...
    @overload
    def collection(self, name: str, type: Type[T]) -> Collection[T]: ...
    def collection(self, name: str, type: Optional[Type[Any]] = None) -> Collection[Any]:
        """The collection ``name``, with values of the dataclass ``type`` (or plain JSON)."""
        key = (name, type)
        found = self._collections.get(key)
        if found is None:
            found = Collection(self._native.collection(name), Codec(type))
            self._collections[key] = found
        return found

    # State

    @property
    def status(self) -> _native.SyncStatus:
        """The sync status now."""
        return self._native.status()

    @property
    def online(self) -> bool:
        """Whether the last exchange with the server succeeded."""
        return self._native.is_online()

    @property
    def started(self) -> bool:
        """Whether the client is syncing."""
        return self._native.is_started()

    @property
    def cursor(self) -> int:
        """The pull cursor (0 before the first snapshot)."""
        return self._native.cursor()

    @property
    def pending_count(self) -> int:
        """How many local mutations wait to be acknowledged."""
        return self._native.pending_count()

    @property
    def client_id(self) -> str:
        """This client's id, persisted with the store."""
        return self._native.client_id()

    # Listeners

    def on_status(self, fn: Callable[[_native.SyncStatus], object]) -> Subscription:
        """Calls ``fn(status)`` now and after each change of the sync status."""
        return Subscription(self._native.subscribe_status(_Call(fn)))

    def on_sync(self, fn: Callable[[int], object]) -> Subscription:
        """Calls ``fn(cursor)`` after each completed pull or snapshot."""
        return Subscription(self._native.on_sync(_Call(fn)))

    def on_online(self, fn: Callable[[], object]) -> Subscription:
        """Calls ``fn()`` on each offline → online transition."""
        return Subscription(self._native.on_connectivity(_Connectivity(fn, True)))

    def on_offline(self, fn: Callable[[], object]) -> Subscription:
        """Calls ``fn()`` on each online → offline transition."""
        return Subscription(self._native.on_connectivity(_Connectivity(fn, False)))

    def on_error(self, fn: Callable[[_native.MizuError], object]) -> Subscription:
        """Calls ``fn(error)`` with each error: network trouble, rejected mutations, storage
        failures, and exceptions raised by this client's other listeners."""
        return Subscription(self._native.on_error(_Call(fn)))

    def on_rejected(self, fn: Callable[[_native.RejectedMutation], object]) -> Subscription:
        """Calls ``fn(mutation)`` for each mutation the server rejects (already rolled back)."""
        return Subscription(self._native.on_rejected(_Call(fn)))

    def __repr__(self) -> str:
        return f"<Client closed={self.closed}>"
