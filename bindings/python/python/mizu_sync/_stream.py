"""Stream: what ``changes()``, ``diffs()``, ``results()`` and the client's event streams return. Items come from the
library's threads and wait for the one asyncio consumer in a bounded buffer, so a slow consumer
never makes memory grow without limit.

Two kinds of streams, two policies:

- **State streams** (``Signal.changes``, ``Computed.changes``, ``Entity.changes``,
  ``Query.results``) keep only the latest value: a consumer that falls behind skips the values
  it missed and gets the newest one (:func:`latest`).
- **Event streams** (``Query.diffs``, ``Collection.changes``, and the client's ``syncs``,
  ``connectivity``, ``errors``, ``rejections``) hold up to :data:`EVENT_BUFFER` events. When
  the buffer is full, a query's diffs restart from a fresh ``QueryResult`` (:func:`restart`),
  a collection's changes are merged into one (``_collection``), and the client's plain events
  drop the oldest one (:func:`drop_oldest`), as in every binding.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from typing import Any, AsyncIterator, Callable, Deque, Generic, Optional, TypeVar

from ._support import Subscription

T = TypeVar("T")

EVENT_BUFFER = 64
"""How many events an event stream holds for a consumer that has not taken them yet; the same
in every binding (Kotlin ``EVENT_BUFFER``, Swift ``eventBuffer``). See :class:`Stream` for what
happens when it is full."""

Overflow = Callable[[Deque[T], T], bool]
"""Makes room for an item in a full buffer (under the stream's lock): returns ``False`` once the
buffer holds at most its bound again, or ``True`` to drop everything and restart the
subscription (whose first item then describes the whole state)."""


def latest(items: Deque[Any], item: Any) -> bool:
    """State streams (a bound of 1): the new value replaces the one not taken yet."""
    items.clear()
    items.append(item)
    return False


def drop_oldest(items: Deque[Any], item: Any) -> bool:
    """Plain event streams (the client's ``syncs``, ``connectivity``, ``errors``,
    ``rejections``): the oldest waiting event makes room for the new one."""
    items.popleft()
    items.append(item)
    return False


def restart(items: Deque[Any], item: Any) -> bool:
    """Event streams whose first event is the whole state (a query's ``QueryResult``): the
    buffered events are dropped and the stream subscribes again, so the next event is a fresh
    whole state that the events after it apply to, in order.

    A new subscription, rather than a read of the query (``query.get()``), is what keeps it
    correct: the library hands a subscription its first result and then the diffs made after
    it, in commit order, whereas a read on a listener's thread may already include writes
    whose diffs are still on their way and would then be applied twice."""
    return True


class _Restart:
    """What :meth:`_Channel.take` returns when the stream must subscribe again."""


_RESTART = _Restart()


class _Channel(Generic[T]):
    """The buffer between the library's threads (:meth:`push`) and the event loop
    (:meth:`take`). It wakes the loop at most once per wait, so the loop's own queue of
    callbacks stays bounded too. Pushes from an earlier subscription (before a restart) are
    ignored."""

    __slots__ = (
        "bound",
        "overflow",
        "lock",
        "items",
        "loop",
        "waiter",
        "wake_pending",
        "generation",
        "restarting",
        "high_water",
    )

    def __init__(self, bound: int, overflow: Overflow[T]) -> None:
        self.bound = bound
        self.overflow = overflow
        self.lock = threading.Lock()
        self.items: Deque[T] = deque()
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.waiter: Optional[asyncio.Future[None]] = None
        self.wake_pending = False
        self.generation = 0
        self.restarting = False
        self.high_water = 0

    def sink(self) -> Callable[[T], None]:
        """The function the current subscription pushes to."""
        generation = self.generation

        def push(item: T) -> None:
            self.push(generation, item)

        return push

    def push(self, generation: int, item: T) -> None:
        with self.lock:
            if generation != self.generation or self.restarting:
                return
            items = self.items
            if len(items) < self.bound:
                items.append(item)
            elif self.overflow(items, item):
                items.clear()
                self.restarting = True
            if len(items) > self.high_water:
                self.high_water = len(items)
            if self.waiter is None or self.wake_pending or self.loop is None:
                return
            self.wake_pending = True
            loop = self.loop
        try:
            loop.call_soon_threadsafe(self.wake)
        except RuntimeError:  # the loop is closed: nobody is iterating any more
            pass

    def wake(self) -> None:
        with self.lock:
            self.wake_pending = False
            waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def take(self) -> Any:
        """The oldest item, or :data:`_RESTART`; waits for one."""
        assert self.loop is not None
        while True:
            with self.lock:
                if self.items:
                    return self.items.popleft()
                if self.restarting:
                    self.restarting = False
                    self.generation += 1
                    return _RESTART
                waiter = self.loop.create_future()
                self.waiter = waiter
            try:
                await waiter
            finally:
                with self.lock:
                    self.waiter = None


async def _follow(
    channel: _Channel[T], subscribe: Callable[[Callable[[T], None]], Subscription]
) -> AsyncIterator[T]:
    # Only the channel is reachable from the library's side (through the sink), never this
    # generator: when the consumer drops the stream, the generator is finalized and the
    # subscription cancelled.
    channel.loop = asyncio.get_running_loop()
    subscription = subscribe(channel.sink())
    try:
        while True:
            item = await channel.take()
            if item is _RESTART:
                subscription.cancel()
                subscription = subscribe(channel.sink())
                continue
            yield item
    finally:
        subscription.cancel()


class Stream(AsyncIterator[T]):
    """An async iterator over a subscription (asyncio): it subscribes when first iterated, on
    the running event loop, and cancels the subscription when the iteration ends (``break``,
    :meth:`aclose`, or garbage collection).

    Items wait in a bounded buffer while the consumer is busy elsewhere. A state stream keeps
    only the latest value. An event stream keeps up to :data:`EVENT_BUFFER` events; when it
    is full, ``Query.diffs`` drops them and continues with a fresh ``QueryResult`` (the whole
    result as it is then, followed by the diffs after it, so replaying events in order stays
    correct), and ``Collection.changes`` merges them into one ``Change`` (the last value of
    each changed id, the ids removed and not re-created), and the client's plain event streams
    drop the oldest event.
    """

    __slots__ = ("_channel", "_iterator")

    def __init__(
        self,
        subscribe: Callable[[Callable[[T], None]], Subscription],
        bound: int,
        overflow: Overflow[T],
    ) -> None:
        self._channel: _Channel[T] = _Channel(bound, overflow)
        self._iterator = _follow(self._channel, subscribe)

    def __aiter__(self) -> "Stream[T]":
        return self

    def __anext__(self) -> Any:
        return self._iterator.__anext__()

    async def aclose(self) -> None:
        """Ends the iteration and cancels the subscription."""
        await self._iterator.aclose()  # type: ignore[attr-defined]

    # Internal, for tests: how many items wait now, and at most so far.

    @property
    def _buffered(self) -> int:
        with self._channel.lock:
            return len(self._channel.items)

    @property
    def _high_water(self) -> int:
        with self._channel.lock:
            return self._channel.high_water


def state_stream(subscribe: Callable[[Callable[[T], None]], Subscription]) -> Stream[T]:
    """A stream of values that keeps only the latest one."""
    return Stream(subscribe, 1, latest)


def event_stream(
    subscribe: Callable[[Callable[[T], None]], Subscription], overflow: Overflow[T]
) -> Stream[T]:
    """A stream of events that holds up to :data:`EVENT_BUFFER`, then applies ``overflow``."""
    return Stream(subscribe, EVENT_BUFFER, overflow)
