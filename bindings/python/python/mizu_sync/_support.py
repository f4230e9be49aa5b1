"""Shared helpers: JSON conversion, listener adapters and the subscription handle."""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any, Callable, Dict, Generic, Optional, Tuple, Type, TypeVar

from . import _errors, _hot, _native

T = TypeVar("T")

logger = logging.getLogger("mizu_sync")

_field_names: Dict[type, Tuple[str, ...]] = {}


def _fields_of(value: Any) -> Dict[str, Any]:
    """A dataclass instance as a flat dict of its fields (nested dataclasses are converted by
    the encoder when it reaches them): much cheaper than ``dataclasses.asdict``, which copies
    everything deeply."""
    kind = type(value)
    names = _field_names.get(kind)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(value))
        _field_names[kind] = names
    return {name: getattr(value, name) for name in names}


def _default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _fields_of(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_encoder = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_default
)
_make_encoder = getattr(json.encoder, "c_make_encoder", None)
if _make_encoder is not None:
    # The C encoder, made once (JSONEncoder.encode makes one per call). Without the markers
    # dict it keeps no state between calls; a circular value ends in a RecursionError.
    _chunks = _make_encoder(
        None, _default, json.encoder.encode_basestring, None, ":", ",", False, False, False
    )
    _join = "".join

    def _dumps(value: Any) -> str:
        return _join(_chunks(value, 0))

else:  # pragma: no cover - CPython always has the C encoder

    def _dumps(value: Any) -> str:
        return _encoder.encode(value)


_loads = json.loads


def dumps(value: Any) -> str:
    """Encodes ``value`` as JSON text; dataclass instances (nested ones too) become objects."""
    try:
        return _dumps(value)
    except (TypeError, ValueError, RecursionError) as e:
        raise TypeError(f"value is not JSON-serializable: {e}") from e


def loads(text: str) -> Any:
    """Decodes JSON text."""
    return _loads(text)


class Codec(Generic[T]):
    """Maps values of a collection to and from JSON: dataclasses by field, anything else as is."""

    def __init__(self, type_: Optional[Type[T]]) -> None:
        self.type = type_
        self._fields: Optional[frozenset[str]] = None
        if type_ is not None and dataclasses.is_dataclass(type_):
            self._fields = frozenset(f.name for f in dataclasses.fields(type_))

    def encode(self, value: T) -> str:
        fields = self._fields
        if self.type is not None and fields is not None:
            if not isinstance(value, self.type):
                raise TypeError(f"expected {self.type.__name__}, got {type(value).__name__}")
            attributes = getattr(value, "__dict__", None)
            if attributes is not None and attributes.keys() == fields:
                # The instance's own dict is exactly its fields: encode it as is (nested
                # dataclasses are converted by the encoder when it reaches them).
                return dumps(attributes)
        return dumps(value)

    def decode(self, text: str) -> T:
        value = _loads(text)
        fields = self._fields
        if fields is None or self.type is None:
            return value  # type: ignore[no-any-return]
        if not isinstance(value, dict):
            raise _errors.InvalidJson(
                f"expected a JSON object for {self.type.__name__}, got {text[:80]}"
            )
        if value.keys() <= fields:  # the common case: no unknown keys to drop
            return self.type(**value)
        known = {k: v for k, v in value.items() if k in fields}
        return self.type(**known)


class Subscription:
    """A registered listener. ``cancel()`` (or leaving a ``with`` block, or the garbage
    collector) stops it. Idempotent."""

    __slots__ = ("_native", "__weakref__")

    def __init__(self, native: _native.Subscription) -> None:
        self._native = native

    def cancel(self) -> None:
        """Stops the listener; it is not called again once this returns."""
        self._native.cancel()

    close = cancel

    @property
    def cancelled(self) -> bool:
        """Whether the subscription was cancelled."""
        return self._native.is_cancelled()

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()

    def __repr__(self) -> str:
        return f"<Subscription cancelled={self.cancelled}>"


class HotSubscription(Subscription):
    """A listener registered by a direct call (``src/ffi/hot``): its function is found by
    ``token`` in ``_hot.callbacks``; ``_h`` is the subscription's hot handle, given back when
    this object is collected."""

    __slots__ = ("_h", "_token")

    def __init__(self, fn: Callable[..., Any], make: Callable[[int], int]) -> None:
        """Registers ``fn`` and subscribes it: ``make(token)`` is the direct subscribe call."""
        self._h = 0
        self._token, self._h = _hot.attach(fn, make)

    def __del__(
        self,
        detach: Callable[..., None] = _hot.detach,
        release: Callable[[int], None] = _hot.subscription_release,
    ) -> None:
        h, self._h = getattr(self, "_h", 0), 0
        detach(h, getattr(self, "_token", 0), release)

    def cancel(self) -> None:
        """Stops the listener; it is not called again once this returns."""
        _hot.subscription_cancel(self._h)
        _hot.callbacks.pop(self._token, None)

    close = cancel

    @property
    def cancelled(self) -> bool:
        """Whether the subscription was cancelled (or its signal closed)."""
        state: int = _hot.subscription_is_cancelled(self._h)
        if state < 0:
            _hot.raise_error()
        return state != 0


class CallbackAdapter:
    """Calls a Python function from Rust. UniFFI turns an exception into an error result that
    the library reports (never a crash); the original exception is kept for re-raising."""

    __slots__ = ("fn", "error")

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.error: Optional[BaseException] = None

    def call(self, *args: Any) -> Any:
        try:
            result = self.fn(*args)
        except _native.MizuError:
            raise
        except Exception as e:
            self.error = e
            raise _errors.Callback(f"{type(e).__name__}: {e}") from e
        self.error = None
        return result


class ErrorLogger(_native.ErrorListener):
    """The default sink of unhandled errors: the ``mizu_sync`` logger."""

    def on_error(self, error: _native.MizuError) -> None:
        logger.error("mizu-sync: unhandled error in a callback: %r", error)
