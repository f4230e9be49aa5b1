"""Client: the sync client, as a context manager; its awaitable forms, its token provider and
its delivery context."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
import weakref
from typing import (
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Dict,
    List,
    Mapping,
    Optional,
    Type,
    TypeVar,
    Union,
    overload,
)

from . import _errors, _native
from ._collection import Collection
from ._stream import drop_oldest, event_stream, state_stream
from ._sync_report import SyncReport
from ._sync_state import QueuedMutation
from ._sync_status import SyncStatus
from ._support import CallbackAdapter, Codec, Subscription, dumps, logger

T = TypeVar("T")

RejectedMutation = _native.RejectedMutation

TokenProvider = Callable[[bool], Union[Optional[str], Awaitable[Optional[str]]]]
"""``token_provider(refresh: bool) -> str | None``, or an ``async def`` of the same shape."""

Delivery = Union[asyncio.AbstractEventLoop, concurrent.futures.Executor]
"""Where a client's deliveries run: an asyncio event loop or an executor."""


def _ms(seconds: float) -> int:
    if seconds < 0:
        raise ValueError("durations must not be negative")
    return int(seconds * 1000)


class _Call(
    _native.SyncListener,
    _native.ConnectivityListener,
    _native.ErrorListener,
    _native.RejectionListener,
    _native.StatusListener,
):
    """Adapts a Python callable to any one-method listener trait."""

    __slots__ = ("_adapter",)

    def __init__(self, fn: Callable[..., object]) -> None:
        self._adapter = CallbackAdapter(fn)

    def on_sync(self, cursor: int) -> None:
        self._adapter.call(cursor)

    def on_connectivity(self, online: bool) -> None:
        self._adapter.call(online)

    def on_error(self, error: _native.MizuError) -> None:
        self._adapter.call(error)

    def on_rejected(self, mutation: _native.RejectedMutation) -> None:
        self._adapter.call(mutation)

    def on_status(self, status: _native.SyncStatus) -> None:
        self._adapter.call(SyncStatus._of(status))


async def _as_coroutine(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


class _Token(_native.TokenProvider):
    """The client's token provider: a plain function, or an ``async def`` awaited on the loop
    that was running when the client was made (else with ``asyncio.run`` on the library's I/O
    thread), for at most the client's request timeout. Any failure, a timeout included, fails
    the request as unauthorized; nothing here waits without a bound."""

    __slots__ = ("_adapter", "_loop", "_timeout")

    def __init__(
        self, fn: TokenProvider, loop: Optional[asyncio.AbstractEventLoop], timeout: float
    ) -> None:
        self._loop = loop
        self._timeout = timeout

        def token(refresh: bool) -> Optional[str]:
            result = fn(refresh)
            if inspect.isawaitable(result):
                result = self._wait(result)
            if result is not None and not isinstance(result, str):
                raise TypeError(f"a token must be a str or None, not {type(result).__name__}")
            return result

        self._adapter = CallbackAdapter(token)

    def _wait(self, awaitable: Awaitable[Optional[str]]) -> Optional[str]:
        loop = self._loop
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:  # pragma: no cover - the library calls providers on its own threads
            raise RuntimeError("an async token provider cannot be awaited on an event loop thread")
        if loop is not None and not loop.is_closed():
            try:
                future = asyncio.run_coroutine_threadsafe(_as_coroutine(awaitable), loop)
            except RuntimeError:  # the loop closed in between: run it here instead
                pass
            else:
                try:
                    return future.result(self._timeout)  # type: ignore[no-any-return]
                except concurrent.futures.TimeoutError:
                    future.cancel()
                    raise TimeoutError(
                        f"the token provider did not answer within {self._timeout} s"
                    ) from None
        return asyncio.run(  # type: ignore[no-any-return]
            asyncio.wait_for(_as_coroutine(awaitable), self._timeout)
        )

    def token(self, refresh: bool) -> Optional[str]:
        return self._adapter.call(refresh)  # type: ignore[no-any-return]


TRACE = 5
"""The ``logging`` level of the engine's finest records (each HTTP exchange), below ``DEBUG``."""

_TO_PYTHON = {
    _native.LogLevel.ERROR: logging.ERROR,
    _native.LogLevel.WARN: logging.WARNING,
    _native.LogLevel.INFO: logging.INFO,
    _native.LogLevel.DEBUG: logging.DEBUG,
    _native.LogLevel.TRACE: TRACE,
}

_DEFAULT_LOGGER: Any = object()


def _native_minimum(level: int) -> Optional[_native.LogLevel]:
    """The least severe engine level a Python minimum ``level`` lets through; ``None`` when
    none does (above ``ERROR``)."""
    if level <= TRACE:
        return _native.LogLevel.TRACE
    if level <= logging.DEBUG:
        return _native.LogLevel.DEBUG
    if level <= logging.INFO:
        return _native.LogLevel.INFO
    if level <= logging.WARNING:
        return _native.LogLevel.WARN
    if level <= logging.ERROR:
        return _native.LogLevel.ERROR
    return None


class _Log(_native.LogListener):
    """Forwards the engine's records to ``logger``'s children named after their kind
    (``mizu_sync::push`` goes to ``<logger>.push``)."""

    __slots__ = ("_logger", "_children")

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._children: Dict[str, logging.Logger] = {}

    def on_log(self, level: _native.LogLevel, target: str, message: str) -> None:
        child = self._children.get(target)
        if child is None:
            kind = target.rpartition("::")[2]
            child = self._logger.getChild(kind) if kind else self._logger
            self._children[target] = child
        child.log(_TO_PYTHON[level], "%s", message)


class _Pending(_native.PendingListener):
    """The client's delivery queue, told when deliveries wait: hands ``dispatch_pending`` to
    the delivery context. Holds the generated client weakly (the library holds this object)."""

    __slots__ = ("_schedule", "_client")

    def __init__(self, delivery: Delivery) -> None:
        self._client: Optional[Callable[[], Optional[_native.Client]]] = None
        if isinstance(delivery, asyncio.AbstractEventLoop):
            loop = delivery
            self._schedule: Callable[[Callable[[], None]], object] = loop.call_soon_threadsafe
        elif isinstance(delivery, concurrent.futures.Executor):
            self._schedule = delivery.submit
        else:
            raise TypeError(
                "delivery must be an asyncio event loop or a concurrent.futures.Executor, "
                f"not {type(delivery).__name__}"
            )

    def on_pending(self) -> None:
        try:
            self._schedule(self._dispatch)
        except RuntimeError as e:  # the loop is closed or the executor shut down
            logger.warning("mizu-sync: deliveries dropped, the delivery context is gone: %s", e)

    def _dispatch(self) -> None:
        client = None if self._client is None else self._client()
        if client is None:
            return
        try:
            client.dispatch_pending()
        except _errors.Closed:
            pass


class Client:
    """An offline-first sync client: a local store, a durable mutation queue and a background
    engine that pushes, pulls and listens. Reads and writes never wait for the network.

    Use it as a context manager (``with Client(url) as client:``) or call :meth:`close`.

    Blocking calls (:meth:`sync`, :meth:`flush`, :meth:`close`, :meth:`mutate`) have awaitable
    forms with the ``_async`` suffix (:meth:`sync_async`, ...): coroutines for any running
    asyncio loop, on which nothing blocks; cancelling the task stops the wait at once.

    Listeners (``on_sync``, ``on_connectivity``, ``on_error``, ``on_rejected``,
    ``subscribe_status``) return a :class:`Subscription` and can be used as decorators; the
    streams ``syncs()``, ``connectivity()``, ``errors()``, ``rejections()`` and
    ``status_changes()`` are their async iterators. They, and the listeners and effects woken
    by server changes and awaited writes, run on the client's sync thread, or on ``delivery``
    when one is given. An exception in any listener is reported to the ``on_error`` listeners
    (or the ``mizu_sync`` logger) and never breaks syncing. Keep the returned subscriptions:
    dropping one cancels its listener.

    :param base_url: the sync endpoints, e.g. ``http://127.0.0.1:8080/_sync``.
    :param scope: the data scope; empty for the server's default.
    :param storage_path: SQLite file for durable storage; ``None`` keeps data in memory.
    :param encryption_key: encrypts the store file (and its WAL) with SQLCipher under this key,
        a passphrase or a raw key written ``x'<64 hex digits>'``; needs ``storage_path``. The
        same key must be given at every open (a wrong or missing one raises
        ``MizuError.WrongKey``); :meth:`rekey` changes it. Keep it in the platform's keystore:
        a lost key is lost data. ``None`` keeps the file plain SQLite.
    :param durability: how hard each commit to the store file is pushed to disk.
        ``Durability.FULL`` (the default, SQLite ``synchronous=FULL``) fsyncs every commit: a
        write that returned survives a process kill and a power loss. ``Durability.NORMAL``
        (``synchronous=NORMAL``) skips that fsync: writes are faster and still survive a process
        kill, but the last commits before a power loss or an OS crash may be lost, with their
        queued mutations (the file stays consistent). No effect without ``storage_path``; the
        :attr:`durability` property reads the mode back from SQLite.
    :param live_url: the live WebSocket URL (``ws://host/ws?scope=S``) for instant pulls.
    :param max_snapshot_bytes: the largest snapshot accepted, in bytes; ``None`` (the default)
        accepts any size. A larger one is abandoned as it streams in (local data is kept) and
        reported as ``MizuError.SnapshotTooLarge`` through the status and ``on_error``; it is
        asked for again at the next pull interval, live notice or :meth:`sync`.
    :param token_provider: ``token_provider(refresh: bool) -> str | None`` supplying a bearer
        token, or an ``async def`` of the same shape. It is called on a library I/O thread
        (``refresh`` is true once after the server refused a token, 401 or 403); an async one
        runs on the event loop that was running when the client was made (or, with none, in
        its own ``asyncio.run`` on that I/O thread). It is given ``request_timeout`` to answer;
        a failure or a timeout fails the request as unauthorized.
    :param delivery: where listeners and effects for server changes, awaited writes and the
        client's events run: an ``asyncio`` event loop (scheduled with
        ``call_soon_threadsafe``) or a ``concurrent.futures.Executor``. ``None`` (the default)
        runs them on the client's sync thread. Local blocking writes still run their
        listeners on the writing thread before returning.
    :param logger: where the engine's decisions are logged (pushes and their outcome, pull
        pages, snapshots, backoff delays, rejections, auth refreshes, the live connection,
        store errors): records go to its children named after their kind (``mizu_sync.push``,
        ``mizu_sync.pull``, ``mizu_sync.snapshot``, ``mizu_sync.backoff``,
        ``mizu_sync.rejection``, ``mizu_sync.auth``, ``mizu_sync.live``, ``mizu_sync.store``,
        ``mizu_sync.engine``, ``mizu_sync.http``), on the library's threads. The default is
        the ``mizu_sync`` logger; ``None`` logs nothing. Tokens and header values never appear.
    :param log_level: the least severe ``logging`` level the engine sends (``TRACE``, 5, is
        below ``DEBUG`` for each HTTP exchange). The default is the logger's effective level
        when the client is made, so a disabled logger costs nothing: set the level first.
    :param start: start syncing at once.
    """

    def __init__(
        self,
        base_url: str,
        *,
        scope: str = "",
        storage_path: Optional[str] = None,
        encryption_key: Optional[str] = None,
        durability: _native.Durability = _native.Durability.FULL,
        live_url: Optional[str] = None,
        push_interval: float = 5.0,
        pull_interval: float = 30.0,
        request_timeout: float = 30.0,
        backoff: tuple[float, float] = (0.5, 60.0),
        push_batch_size: int = 100,
        pull_limit: int = 1000,
        max_snapshot_bytes: Optional[int] = None,
        headers: Optional[Mapping[str, str]] = None,
        subscribe_message: Any = None,
        token_provider: Optional[TokenProvider] = None,
        delivery: Optional[Delivery] = None,
        logger: Optional[logging.Logger] = _DEFAULT_LOGGER,
        log_level: Optional[int] = None,
        start: bool = False,
    ) -> None:
        options = _native.ClientOptions(
            base_url=base_url,
            scope=scope,
            storage_path=None if storage_path is None else str(storage_path),
            encryption_key=encryption_key,
            durability=durability,
            live_url=live_url,
            push_interval_ms=_ms(push_interval),
            pull_interval_ms=_ms(pull_interval),
            request_timeout_ms=_ms(request_timeout),
            backoff_min_ms=_ms(backoff[0]),
            backoff_max_ms=_ms(backoff[1]),
            push_batch_size=push_batch_size,
            pull_limit=pull_limit,
            max_snapshot_bytes=max_snapshot_bytes,
            headers=dict(headers or {}),
            subscribe_message_json=None if subscribe_message is None else dumps(subscribe_message),
        )
        auth = None
        if token_provider is not None:
            try:
                loop: Optional[asyncio.AbstractEventLoop] = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            auth = _Token(token_provider, loop, request_timeout)
        pending = None if delivery is None else _Pending(delivery)
        if logger is _DEFAULT_LOGGER:
            logger = logging.getLogger("mizu_sync")
        log, minimum = None, None
        if logger is not None:
            minimum = _native_minimum(
                logger.getEffectiveLevel() if log_level is None else log_level
            )
            log = None if minimum is None else _Log(logger)
        self._native = _native.Client(options, auth, pending, log, minimum)
        if pending is not None:
            pending._client = weakref.ref(self._native)
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

    async def close_async(self) -> None:
        """:meth:`close`, awaited: the engine's last step and the store's closing happen off
        the event loop's thread. The client is closed for calls as soon as this starts."""
        try:
            await self._native.close_async()
        finally:
            self._finalizer()  # idempotent: unregisters what is left, never blocks here
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

    async def sync_async(self) -> None:
        """:meth:`sync`, awaited: nothing blocks the loop, and cancelling the task stops the
        wait at once (the round goes on in the background)."""
        await self._native.sync_async()

    def flush(self, timeout: float = 30.0) -> None:
        """Waits until everything queued so far is acknowledged and pulled back; raises
        ``MizuError.Timeout`` after ``timeout`` seconds (GIL released while waiting)."""
        self._native.flush(_ms(timeout))

    async def flush_async(self, timeout: float = 30.0) -> None:
        """:meth:`flush`, awaited: nothing blocks the loop, and cancelling the task stops the
        wait at once."""
        await self._native.flush_async(_ms(timeout))

    def mutate(self, name: str, args: Any = None) -> str:
        """Queues the app-defined mutation ``name(args)`` and returns its id (durable before
        it returns)."""
        return self._native.mutate(name, None if args is None else dumps(args))

    async def mutate_async(self, name: str, args: Any = None) -> str:
        """:meth:`mutate` committed off the loop's thread (queued in call order with the
        client's other awaited writes); returns the mutation's id once durable. Cancelling
        the wait does not undo the mutation."""
        return await self._native.mutate_async(name, None if args is None else dumps(args))

    def dispatch_pending(self) -> int:
        """Runs the deliveries waiting for the ``delivery`` context on the calling thread, in
        order, and returns how many ran. The client calls it on its ``delivery`` context by
        itself; call it directly only to drain the queue elsewhere. Returns 0 without a
        ``delivery``, or while another thread dispatches (that one runs them)."""
        return self._native.dispatch_pending()

    # First sync and background sync

    def wait_for_first_sync(self, timeout: float = 30.0) -> None:
        """Waits until a first full catch-up with the server has completed: returns at once
        when one ever has (:attr:`SyncStatus.has_synced` is persisted with the
        store, so a reopened file client returns at once, even before :meth:`start`). Raises
        ``MizuError.Offline`` when the client is not started (and never synced),
        ``MizuError.Timeout`` after ``timeout`` seconds (GIL released while waiting)."""
        self._native.wait_for_first_sync(_ms(timeout))

    async def wait_for_first_sync_async(self, timeout: float = 30.0) -> None:
        """:meth:`wait_for_first_sync`, awaited: nothing blocks the loop, and cancelling the
        task stops the wait at once."""
        await self._native.wait_for_first_sync_async(_ms(timeout))

    def sync_once(self, within: float) -> SyncReport:
        """Pushes and pulls until caught up or ``within`` seconds have passed, and reports what
        it did; for an OS background task (a cron job, a systemd timer, a worker). A client
        that is not started is started without its live connection for the call and stopped
        after; a started one stays started. Against a server that does not answer it returns
        at its deadline with ``caught_up`` false (``error`` holds the last failed round's
        error; the deadline itself is not one); writes that did not go out stay queued.
        Blocks (GIL released); raises only ``MizuError.Closed``."""
        return SyncReport._of(self._native.sync_once(_ms(within)))

    async def sync_once_async(self, within: float) -> SyncReport:
        """:meth:`sync_once`, awaited: it runs on the loop's default executor, so it never
        blocks the loop. Cancelling the task stops the wait, not the round."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.sync_once, within)

    # Logout and the queue

    def clear(self, flush_within: Optional[float] = None, discard_pending: bool = False) -> None:
        """Deletes everything local, for a logout: flushes first for at most ``flush_within``
        seconds when given (and started), stops syncing, deletes the store's files (the SQLite
        file with its WAL and SHM), and starts afresh with an empty store and a new
        :attr:`client_id`, syncing again if it was. Readers and live queries wake to the empty
        store. Blocks (GIL released) for the flush and the wipe.

        Raises ``MizuError.PendingWrites`` (its ``count`` says how many) when writes still wait
        for the server and ``discard_pending`` is false: nothing is deleted then. A flush that
        does not finish in time is not an error by itself; what it left is pending."""
        self._native.clear(None if flush_within is None else _ms(flush_within), discard_pending)

    async def clear_async(
        self, flush_within: Optional[float] = None, discard_pending: bool = False
    ) -> None:
        """:meth:`clear`, awaited: it runs on the loop's default executor, so the flush and
        the wipe never block the loop. Cancelling the task stops the wait, not the clear."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.clear, flush_within, discard_pending)

    def pending(self) -> List[QueuedMutation]:
        """The mutations waiting for the server, oldest first."""
        return [QueuedMutation._of(m) for m in self._native.pending()]

    def discard(self, mutation_id: str) -> None:
        """Rolls back the queued mutation ``mutation_id`` as a server rejection would: its
        effect is undone, its entity's :attr:`Entity.sync_state` becomes
        ``SyncState.Rejected("discarded by the app")``, and the ``on_error`` and
        ``on_rejected`` listeners are told. Raises ``MizuError.InvalidArgument`` when no
        queued mutation has that id."""
        self._native.discard(mutation_id)

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
    def status(self) -> SyncStatus:
        """The sync status now."""
        return SyncStatus._of(self._native.status())

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
    def durability(self) -> Optional[_native.Durability]:
        """The durability mode the store file is in, read back from SQLite (``None`` for a
        store in memory)."""
        return self._native.durability()

    @property
    def client_id(self) -> str:
        """This client's id, persisted with the store."""
        return self._native.client_id()

    def rekey(self, new_key: str) -> None:
        """Re-encrypts the store file with ``new_key`` in one transaction: from then on only
        ``new_key`` opens it (as ``encryption_key``). Takes time in proportion to the file's
        size (GIL released). Raises ``MizuError.InvalidArgument`` for an empty key or a store
        opened without an ``encryption_key``."""
        self._native.rekey(new_key)

    # Listeners

    def subscribe_status(self, fn: Callable[[SyncStatus], object]) -> Subscription:
        """Calls ``fn(status)`` now and after each change of the sync status."""
        return Subscription(self._native.subscribe_status(_Call(fn)))

    def on_sync(self, fn: Callable[[int], object]) -> Subscription:
        """Calls ``fn(cursor)`` after each completed pull or snapshot."""
        return Subscription(self._native.on_sync(_Call(fn)))

    def on_connectivity(self, fn: Callable[[bool], object]) -> Subscription:
        """Calls ``fn(online)`` on each transition: ``True`` when the client comes online,
        ``False`` when it goes offline."""
        return Subscription(self._native.on_connectivity(_Call(fn)))

    def on_error(self, fn: Callable[[_native.MizuError], object]) -> Subscription:
        """Calls ``fn(error)`` with each error: network trouble, rejected mutations, storage
        failures, and exceptions raised by this client's other listeners."""
        return Subscription(self._native.on_error(_Call(fn)))

    def on_rejected(self, fn: Callable[[_native.RejectedMutation], object]) -> Subscription:
        """Calls ``fn(mutation)`` for each mutation the server rejects (already rolled back)."""
        return Subscription(self._native.on_rejected(_Call(fn)))

    # Streams (asyncio): the listeners above as async iterators. The event streams hold up to
    # EVENT_BUFFER events for a slow consumer and then drop the oldest.

    def status_changes(self) -> AsyncIterator[SyncStatus]:
        """The status now, then each new one; keeps only the latest for a slow consumer."""
        return state_stream(self.subscribe_status)

    def syncs(self) -> AsyncIterator[int]:
        """The cursor after each completed pull or snapshot (see :meth:`on_sync`)."""
        return event_stream(self.on_sync, drop_oldest)

    def connectivity(self) -> AsyncIterator[bool]:
        """``True`` / ``False`` on each online / offline transition."""
        return event_stream(self.on_connectivity, drop_oldest)

    def errors(self) -> AsyncIterator[_native.MizuError]:
        """Each error (see :meth:`on_error`)."""
        return event_stream(self.on_error, drop_oldest)

    def rejections(self) -> AsyncIterator[_native.RejectedMutation]:
        """Each mutation the server rejects (see :meth:`on_rejected`)."""
        return event_stream(self.on_rejected, drop_oldest)

    def __repr__(self) -> str:
        return f"<Client closed={self.closed}>"
