"""Signal, Computed, Effect, batch and untracked: the reactive graph, shared with Rust."""

from __future__ import annotations

import functools
from typing import Any, AsyncIterator, Callable, ContextManager, Generic, TypeVar, overload

from . import _native
from ._stream import state_stream
from ._support import CallbackAdapter, Subscription, dumps, loads

T = TypeVar("T")
R = TypeVar("R")


class _Listener(_native.SignalListener):
    """Adapts a Python callable to the ``SignalListener`` trait (values decoded from JSON)."""

    __slots__ = ("_adapter",)

    def __init__(self, fn: Callable[[Any], object]) -> None:
        self._adapter = CallbackAdapter(fn)

    def on_change(self, value_json: str) -> None:
        self._adapter.call(loads(value_json))


class _UpdateFn(_native.SignalUpdateFn):
    """Adapts a Python function to the ``SignalUpdateFn`` trait (values as JSON)."""

    __slots__ = ("adapter",)

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.adapter = CallbackAdapter(lambda text: dumps(fn(loads(text))))

    def update(self, value_json: str) -> str:
        return self.adapter.call(value_json)  # type: ignore[no-any-return]


class Signal(Generic[T]):
    """A writable reactive value. Computeds and effects that read it — here or in Rust — re-run
    when it changes. Values must be JSON-serializable; setting an equal value notifies nobody.

    >>> count = Signal(0)
    >>> count.set(5)
    >>> count.update(lambda n: n + 1)
    >>> count.get()
    6
    """

    __slots__ = ("_native", "__weakref__")

    def __init__(self, value: T) -> None:
        self._native = _native.Signal(dumps(value))

    def get(self) -> T:
        """The value. Inside a computed or effect, the read is tracked."""
        return loads(self._native.get())  # type: ignore[no-any-return]

    def peek(self) -> T:
        """The value, without becoming a dependency of the running computed or effect."""
        return loads(self._native.get_untracked())  # type: ignore[no-any-return]

    def set(self, value: T) -> None:
        """Replaces the value; dependents re-run on this thread before this returns."""
        self._native.set(dumps(value))

    def update(self, fn: Callable[[T], T]) -> None:
        """Replaces the value with ``fn(current)``, atomically: when another thread writes the
        signal while ``fn`` runs, ``fn`` runs again on the newer value, so concurrent updates
        never lose one another (like Kotlin's ``MutableStateFlow.update``). ``fn`` may
        therefore run more than once: keep it free of side effects. No lock is held while it
        runs. The read of the current value is not tracked. What ``fn`` raises is re-raised,
        and the value is then unchanged."""
        runner = _UpdateFn(fn)
        try:
            self._native.update(runner)
        except _native.MizuError.Callback:
            if runner.adapter.error is not None:
                raise runner.adapter.error from None
            raise

    @property
    def value(self) -> T:
        """The value (tracked), like :meth:`get`."""
        return self.get()

    @value.setter
    def value(self, value: T) -> None:
        self.set(value)

    def subscribe(self, fn: Callable[[T], object]) -> Subscription:
        """Calls ``fn(value)`` now, then after each change, until the subscription is
        cancelled. Usable as a decorator."""
        return Subscription(self._native.subscribe(_Listener(fn)))

    def changes(self) -> AsyncIterator[T]:
        """The current value, then each new one, as an async iterator (asyncio). It keeps only
        the latest value: a consumer that falls behind skips to the newest."""
        return state_stream(self.subscribe)

    def close(self) -> None:
        """Releases the value and cancels subscriptions made through this signal."""
        self._native.close()

    def __enter__(self) -> "Signal[T]":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._native.is_closed():
            return "<Signal closed>"
        return f"<Signal {self._native.get_untracked()}>"


class _ComputedFn(_native.ComputedFn):
    """Adapts a Python function to the ``ComputedFn`` trait."""

    __slots__ = ("adapter",)

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.adapter = CallbackAdapter(fn)

    def compute(self) -> str:
        return dumps(self.adapter.call())


class Computed(Generic[T]):
    """A value derived by ``fn`` from signals, computeds, collections and entities, cached and
    recomputed lazily after what it read changes. ``fn`` runs inside Rust's tracking context,
    so it can depend on Rust-side state (a collection's count) and Python signals alike.

    >>> price, count = Signal(10.0), Signal(5)
    >>> total = Computed(lambda: price.get() * count.get())
    >>> total.get()
    50.0
    """

    __slots__ = ("_native", "_fn", "__weakref__")

    def __init__(self, fn: Callable[[], T]) -> None:
        self._fn = _ComputedFn(fn)
        self._native = _native.Computed(self._fn)

    def get(self) -> T:
        """The value, computing it if needed; re-raises what ``fn`` raised. Tracked."""
        return loads(self._call(self._native.get))  # type: ignore[no-any-return]

    def peek(self) -> T:
        """The value, without becoming a dependency."""
        return loads(self._call(self._native.get_untracked))  # type: ignore[no-any-return]

    def _call(self, read: Callable[[], str]) -> str:
        try:
            return read()
        except _native.MizuError.Callback:
            error = self._fn.adapter.error
            if error is not None:
                raise error from None
            raise

    @property
    def value(self) -> T:
        """The value (tracked), like :meth:`get`."""
        return self.get()

    def subscribe(self, fn: Callable[[T], object]) -> Subscription:
        """Calls ``fn(value)`` now, then after each change. Usable as a decorator."""
        return Subscription(self._native.subscribe(_Listener(fn)))

    def changes(self) -> AsyncIterator[T]:
        """The current value, then each new one, as an async iterator (asyncio). It keeps only
        the latest value: a consumer that falls behind skips to the newest."""
        return state_stream(self.subscribe)

    def close(self) -> None:
        """Releases the computed and its function."""
        self._native.close()

    def __enter__(self) -> "Computed[T]":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def computed(fn: Callable[[], T]) -> Computed[T]:
    """Decorator form of :class:`Computed`: ``@computed def total(): ...``."""
    return Computed(fn)


class _EffectFn(_native.EffectFn):
    """Adapts a Python function to the ``EffectFn`` trait."""

    __slots__ = ("adapter",)

    def __init__(self, fn: Callable[[], object]) -> None:
        self.adapter = CallbackAdapter(fn)

    def run(self) -> None:
        self.adapter.call()


class Effect:
    """Runs ``fn`` now, then again after each change of what it read, on the thread that made
    the change, until stopped. An exception in ``fn`` is logged (``mizu_sync`` logger or
    :func:`on_unhandled_error`); the effect keeps running.

    Keep the returned object: when it is garbage-collected, the effect stops (as after
    :meth:`stop`). The decorator form keeps it under the function's name.

    >>> name = Signal("Ada")
    >>> e = Effect(lambda: print("hello", name.get()))
    hello Ada
    >>> name.set("Grace")
    hello Grace
    >>> e.stop()
    >>> name.set("Linus")
    """

    __slots__ = ("_native", "__weakref__")

    def __init__(self, fn: Callable[[], object]) -> None:
        self._native = _native.Effect(_EffectFn(fn))

    def stop(self) -> None:
        """Stops the effect; it never runs again once this returns. Idempotent."""
        self._native.stop()

    close = stop

    @property
    def stopped(self) -> bool:
        """Whether the effect is stopped."""
        return self._native.is_stopped()

    def __enter__(self) -> "Effect":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def effect(fn: Callable[[], object]) -> Effect:
    """Decorator form of :class:`Effect`: runs the function now and after each change."""
    return Effect(fn)


class _BatchFn(_native.BatchFn):
    __slots__ = ("adapter", "result")

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.adapter = CallbackAdapter(fn)
        self.result: Any = None

    def run(self) -> None:
        self.result = self.adapter.call()


class _BatchBlock:
    """The ``with batch():`` form: effects are deferred until the block ends."""

    def __enter__(self) -> None:
        self._scope = _native.begin_batch()

    def __exit__(self, *exc_info: object) -> bool:
        self._scope.end()
        return False


@overload
def batch() -> ContextManager[None]: ...
@overload
def batch(fn: Callable[[], R]) -> R: ...
@overload
def batch(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R: ...
def batch(fn: Callable[..., R] | None = None, *args: Any, **kwargs: Any) -> Any:
    """Defers effects until the batch ends; each effect then runs once and sees every write.

    Two forms::

        with batch():            # a block
            first.set("Grace")
            last.set("Hopper")

        batch(fn, *args)         # a call: returns what fn returned, re-raises what it raised

    A batch belongs to the thread that opened it (see :func:`batched` for the decorator form).
    """
    if fn is None:
        return _BatchBlock()
    runner = _BatchFn(functools.partial(fn, *args, **kwargs) if args or kwargs else fn)
    try:
        _native.batch(runner)
    except _native.MizuError.Callback:
        if runner.adapter.error is not None:
            raise runner.adapter.error from None
        raise
    return runner.result  # type: ignore[no-any-return]


def batched(fn: Callable[..., R]) -> Callable[..., R]:
    """Decorator: every call of the function runs as one :func:`batch`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        return batch(fn, *args, **kwargs)

    return wrapper


def untracked(fn: Callable[[], R]) -> R:
    """Runs ``fn()`` without tracking its reads (inside a computed or effect)."""
    runner = _BatchFn(fn)

    class _Fn(_native.ComputedFn):
        def compute(self) -> str:
            runner.run()
            return "null"

    try:
        _native.untracked(_Fn())
    except _native.MizuError.Callback:
        if runner.adapter.error is not None:
            raise runner.adapter.error from None
        raise
    return runner.result  # type: ignore[no-any-return]
