"""Signal, Computed, Effect, batch and untracked: the reactive graph, shared with Rust."""

from __future__ import annotations

import functools
from typing import (
    Any,
    AsyncIterator,
    Callable,
    ContextManager,
    Generic,
    NoReturn,
    Tuple,
    TypeVar,
    overload,
)

from . import _errors, _hot, _native
from ._hot import (
    FALSE,
    FLOAT,
    I64,
    INT,
    NO_VERSION,
    NULL,
    STRING,
    TRUE,
    UNCHANGED,
    computed_get,
    raise_error,
    signal_get,
    signal_set_bool,
    signal_set_float,
    signal_set_int,
    signal_set_json,
    signal_set_null,
    signal_set_string,
    slot,
    string_at,
)
from ._stream import state_stream
from ._support import CallbackAdapter, HotSubscription, Subscription, dumps, loads

_INF = float("inf")

T = TypeVar("T")
R = TypeVar("R")


class _UpdateFn(_native.SignalUpdateFn):
    """Adapts a Python function to the ``SignalUpdateFn`` trait (values as JSON)."""

    __slots__ = ("adapter",)

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.adapter = CallbackAdapter(lambda text: dumps(fn(loads(text))))

    def update(self, value_json: str) -> str:
        return self.adapter.call(value_json)  # type: ignore[no-any-return]


class _Versioned:
    """What a signal and a computed share: ``_cache``, the (version, value) of the last
    immutable value read or written, so a read of an unchanged value copies and decodes
    nothing (the read still crosses, so tracking works)."""

    __slots__ = ("_cache",)

    def __init__(self) -> None:
        self._cache: Tuple[int, Any] = (NO_VERSION, None)

    def _fresh(self, tag: int) -> Any:
        """The value a read left in this thread's slot; immutable ones are cached."""
        if tag < 0:
            raise_error()
        s = slot()
        if tag == INT:
            value: Any = s.int
        elif tag == STRING:
            n = s.len
            value = string_at(s.ptr, n).decode() if n else ""
        elif tag == TRUE:
            value = True
        elif tag == FALSE:
            value = False
        elif tag == FLOAT:
            value = s.float
        elif tag == NULL:
            value = None
        else:  # JSON: a list or dict (decoded each time: the caller may mutate it) or a big int
            return loads(_hot.text(s))
        self._cache = (s.version, value)
        return value


class Signal(_Versioned, Generic[T]):
    """A writable reactive value. Computeds and effects that read it — here or in Rust — re-run
    when it changes. Values must be JSON-serializable; setting an equal value notifies nobody.

    >>> count = Signal(0)
    >>> count.set(5)
    >>> count.update(lambda n: n + 1)
    >>> count.get()
    6
    """

    # _native: the generated object (update, close, repr); _h: its hot handle (direct calls
    # for get / peek / set / subscribe); _cache: (version, value) of the last immutable value
    # seen, so a read of an unchanged value copies and decodes nothing.
    __slots__ = ("_native", "_h", "__weakref__")

    def __init__(self, value: T) -> None:
        super().__init__()
        self._h = 0
        self._native = _native.Signal(dumps(value))
        self._h = self._native.hot_handle()

    def __del__(self, release: Callable[[int], None] = _hot.signal_release) -> None:
        h = getattr(self, "_h", 0)
        if h:
            self._h = 0
            release(h)

    def get(self) -> T:
        """The value. Inside a computed or effect, the read is tracked."""
        cache = self._cache
        tag = signal_get(self._h, 1, cache[0])
        if tag == UNCHANGED:
            return cache[1]  # type: ignore[no-any-return]
        return self._fresh(tag)  # type: ignore[no-any-return]

    def peek(self) -> T:
        """The value, without becoming a dependency of the running computed or effect."""
        cache = self._cache
        tag = signal_get(self._h, 0, cache[0])
        if tag == UNCHANGED:
            return cache[1]  # type: ignore[no-any-return]
        return self._fresh(tag)  # type: ignore[no-any-return]

    def set(self, value: T) -> None:
        """Replaces the value; dependents re-run on this thread before this returns."""
        h = self._h
        kind = type(value)
        if kind is int:
            if not -I64 <= value < I64:  # type: ignore[operator]
                # JSON text, not cached: the library may keep it as a float (past u64)
                self._set_json(value)
                return
            version = signal_set_int(h, value)
        elif kind is str:
            raw = value.encode()  # type: ignore[attr-defined]
            version = signal_set_string(h, raw, len(raw))
        elif kind is bool:
            version = signal_set_bool(h, value)
        elif kind is float and -_INF < value < _INF:  # type: ignore[operator]
            version = signal_set_float(h, value)
        elif value is None:
            version = signal_set_null(h)
        else:  # lists, dicts, dataclasses, NaN (TypeError, as dumps raises): JSON text
            self._set_json(value)
            return
        if version < 0:
            raise_error()
        self._cache = (version, value)

    def _set_json(self, value: Any) -> None:
        raw = dumps(value).encode()
        if signal_set_json(self._h, raw, len(raw)) < 0:
            raise_error()

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
        except _errors.Callback:
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
        return HotSubscription(
            fn, lambda token: _hot.signal_subscribe(self._h, _hot.on_value, token)
        )

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
        return f"<Signal {self._native.peek()}>"


class Computed(_Versioned, Generic[T]):
    """A value derived by ``fn`` from signals, computeds, collections and entities, cached and
    recomputed lazily after what it read changes. ``fn`` runs inside Rust's tracking context,
    so it can depend on Rust-side state (a collection's count) and Python signals alike.

    >>> price, count = Signal(10.0), Signal(5)
    >>> total = Computed(lambda: price.get() * count.get())
    >>> total.get()
    50.0
    """

    # Entirely on direct calls: _h is the computed's hot handle (its only handle), _fn keeps
    # what ``fn`` raised for the reader, found by _token in ``_hot.callbacks``.
    __slots__ = ("_h", "_fn", "_token", "__weakref__")

    def __init__(self, fn: Callable[[], T]) -> None:
        super().__init__()
        self._h = 0
        self._fn = CallbackAdapter(fn)
        self._token, self._h = _hot.attach(
            self._fn, lambda token: _hot.computed_new(_hot.on_compute, token)
        )

    def __del__(
        self,
        detach: Callable[..., None] = _hot.detach,
        release: Callable[[int], None] = _hot.computed_release,
    ) -> None:
        h, self._h = getattr(self, "_h", 0), 0
        detach(h, getattr(self, "_token", 0), release)

    def get(self) -> T:
        """The value, computing it if needed; re-raises what ``fn`` raised. Tracked."""
        cache = self._cache
        tag = computed_get(self._h, 1, cache[0])
        if tag == UNCHANGED:
            return cache[1]  # type: ignore[no-any-return]
        if tag < 0:
            self._raise()
        return self._fresh(tag)  # type: ignore[no-any-return]

    def peek(self) -> T:
        """The value, without becoming a dependency."""
        cache = self._cache
        tag = computed_get(self._h, 0, cache[0])
        if tag == UNCHANGED:
            return cache[1]  # type: ignore[no-any-return]
        if tag < 0:
            self._raise()
        return self._fresh(tag)  # type: ignore[no-any-return]

    def _raise(self) -> NoReturn:
        """Raises why the read failed: what ``fn`` raised, or the library's typed error."""
        try:
            raise_error()
        except _errors.Callback:
            error = self._fn.error
            if error is not None:
                raise error from None
            raise

    @property
    def value(self) -> T:
        """The value (tracked), like :meth:`get`."""
        return self.get()

    def subscribe(self, fn: Callable[[T], object]) -> Subscription:
        """Calls ``fn(value)`` now, then after each change. Usable as a decorator."""
        return HotSubscription(
            fn, lambda token: _hot.computed_subscribe(self._h, _hot.on_value, token)
        )

    def changes(self) -> AsyncIterator[T]:
        """The current value, then each new one, as an async iterator (asyncio). It keeps only
        the latest value: a consumer that falls behind skips to the newest."""
        return state_stream(self.subscribe)

    def close(self) -> None:
        """Releases the computed and its function."""
        _hot.computed_close(self._h)
        _hot.callbacks.pop(self._token, None)

    def __enter__(self) -> "Computed[T]":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def computed(fn: Callable[[], T]) -> Computed[T]:
    """Decorator form of :class:`Computed`: ``@computed def total(): ...``."""
    return Computed(fn)


class Effect:
    """Runs ``fn`` now, then again after each change of what it read, on the thread that made
    the change (for a server change, the client's sync thread or its ``delivery`` context),
    until stopped. An exception in ``fn`` is logged (``mizu_sync`` logger or
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

    # A direct effect (src/ffi/hot): the library calls the module's C trampoline with _token,
    # which finds fn in _hot.callbacks.
    __slots__ = ("_h", "_token", "_stopped", "__weakref__")

    def __init__(self, fn: Callable[[], object]) -> None:
        self._h = 0
        self._stopped = False
        self._token, self._h = _hot.attach(fn, lambda token: _hot.effect_new(_hot.on_run, token))

    def __del__(
        self,
        detach: Callable[..., None] = _hot.detach,
        release: Callable[[int], None] = _hot.effect_release,
    ) -> None:
        h, self._h = getattr(self, "_h", 0), 0
        detach(h, getattr(self, "_token", 0), release)

    def stop(self) -> None:
        """Stops the effect; it never runs again once this returns. Idempotent."""
        _hot.effect_stop(self._h)
        self._stopped = True
        _hot.callbacks.pop(self._token, None)

    close = stop

    @property
    def stopped(self) -> bool:
        """Whether the effect is stopped."""
        return self._stopped

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

    def __exit__(self, *exc_info: object) -> None:
        self._scope.end()


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
    except _errors.Callback:
        if runner.adapter.error is not None:
            raise runner.adapter.error from None
        raise
    return runner.result


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
    except _errors.Callback:
        if runner.adapter.error is not None:
            raise runner.adapter.error from None
        raise
    return runner.result  # type: ignore[no-any-return]
