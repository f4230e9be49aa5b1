"""Direct calls: the fast path of the hottest operations (``src/ffi/hot`` in the crate).

UniFFI's generated module costs several ctypes crossings per call (a handle clone, a
call-status struct, a buffer per string). The few operations an app makes hundreds of times per
frame — a signal's read and write, an entity's read and write by id, an effect's or a listener's
run — are also exported by the same shared library as plain C functions (``mizu_hot_*``) that
take and return numbers and byte slices, one crossing each. This module declares them once,
through ctypes, on the very library the generated module loaded.

- Handles: ``Signal.hot_handle()`` / ``Collection.hot_handle()`` (generated) give a number the
  wrapper owns and gives back once, when it is collected (``release_*``).
- Errors: a direct call that fails returns a negative number; :func:`raise_error` then calls the
  generated ``take_hot_error()``, which raises the typed ``MizuError``.
- Values read come back as a tag plus a payload in this thread's slot (:func:`slot`).
- Callbacks (effects, listeners) go through one module-level C trampoline per signature, which
  finds the Python function by token in :data:`callbacks`.

Not a public API: the wrappers in ``_reactive`` and ``_collection`` use it.
"""

from __future__ import annotations

import ctypes
import itertools
import json
import threading
from ctypes import c_char_p, c_double, c_int32, c_int64, c_uint64, c_void_p
from typing import Any, Callable, Dict, NoReturn, Optional, Tuple

from . import _errors, _native

# The tags of values read (src/ffi/hot/value.rs).
NULL = 0
FALSE = 1
TRUE = 2
INT = 3
FLOAT = 4
STRING = 5
JSON = 6
UNCHANGED = 7
ABSENT = 8

#: A version no stored value ever has: "nothing cached".
NO_VERSION = (1 << 64) - 1
#: Integers outside ``[-I64, I64)`` go through JSON text.
I64 = 1 << 63


def _generated_library() -> ctypes.CDLL:
    """The CDLL object through which the generated module calls the library."""
    modules = [_native] + [getattr(_native, name) for name in dir(_native)]
    for module in modules:
        lib = getattr(module, "_UniffiLib", None)
        if isinstance(lib, ctypes.CDLL):
            return lib
    raise ImportError("mizu_sync: the generated module's library (_UniffiLib) was not found")


_generated = _generated_library()
# The same loaded library (its handle, no second dlopen), with our own function objects so the
# declarations below never touch the generated module's.
_lib = ctypes.CDLL(_generated._name, handle=_generated._handle)


def _declare(name: str, restype: Any, *argtypes: Any) -> Any:
    fn = getattr(_lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


class Slot(ctypes.Structure):
    """``HotSlot``: the payload of the last value a direct call read on this thread."""

    _fields_ = [
        ("int", c_int64),
        ("float", c_double),
        ("ptr", c_void_p),
        ("len", c_uint64),
        ("version", c_uint64),
    ]


#: ``int32 (*)(u64 token, int32 tag, int64 int, double float, const u8 *ptr, u64 len)``
VALUE_FN = ctypes.CFUNCTYPE(c_int32, c_uint64, c_int32, c_int64, c_double, c_void_p, c_uint64)
#: ``int32 (*)(u64 token)``
EFFECT_FN = ctypes.CFUNCTYPE(c_int32, c_uint64)

noop = _declare("mizu_hot_noop", c_int32)
_slot_address = _declare("mizu_hot_slot", c_void_p)
callback_error = _declare("mizu_hot_callback_error", None, c_char_p, c_uint64)

signal_release = _declare("mizu_hot_signal_release", None, c_uint64)
computed_release = _declare("mizu_hot_computed_release", None, c_uint64)
computed_get = _declare("mizu_hot_computed_get", c_int32, c_uint64, c_int32, c_uint64)
computed_new = _declare("mizu_hot_computed_new", c_uint64, EFFECT_FN, c_uint64)
computed_subscribe = _declare("mizu_hot_computed_subscribe", c_uint64, c_uint64, VALUE_FN, c_uint64)
computed_close = _declare("mizu_hot_computed_close", None, c_uint64)
result_null = _declare("mizu_hot_result_null", None)
result_bool = _declare("mizu_hot_result_bool", None, c_int32)
result_int = _declare("mizu_hot_result_int", None, c_int64)
result_float = _declare("mizu_hot_result_float", None, c_double)
result_string = _declare("mizu_hot_result_string", None, c_char_p, c_uint64)
result_json = _declare("mizu_hot_result_json", None, c_char_p, c_uint64)
signal_get = _declare("mizu_hot_signal_get", c_int32, c_uint64, c_int32, c_uint64)
signal_set_null = _declare("mizu_hot_signal_set_null", c_int64, c_uint64)
signal_set_bool = _declare("mizu_hot_signal_set_bool", c_int64, c_uint64, c_int32)
signal_set_int = _declare("mizu_hot_signal_set_int", c_int64, c_uint64, c_int64)
signal_set_float = _declare("mizu_hot_signal_set_float", c_int64, c_uint64, c_double)
signal_set_string = _declare("mizu_hot_signal_set_string", c_int64, c_uint64, c_char_p, c_uint64)
signal_set_json = _declare("mizu_hot_signal_set_json", c_int64, c_uint64, c_char_p, c_uint64)
signal_subscribe = _declare("mizu_hot_signal_subscribe", c_uint64, c_uint64, VALUE_FN, c_uint64)
subscription_cancel = _declare("mizu_hot_subscription_cancel", None, c_uint64)
subscription_is_cancelled = _declare("mizu_hot_subscription_is_cancelled", c_int32, c_uint64)
subscription_release = _declare("mizu_hot_subscription_release", None, c_uint64)

effect_new = _declare("mizu_hot_effect_new", c_uint64, EFFECT_FN, c_uint64)
effect_stop = _declare("mizu_hot_effect_stop", None, c_uint64)
effect_release = _declare("mizu_hot_effect_release", None, c_uint64)

collection_release = _declare("mizu_hot_collection_release", None, c_uint64)
collection_get = _declare("mizu_hot_collection_get", c_int32, c_uint64, c_char_p, c_uint64, c_int32)
collection_write = _declare(
    "mizu_hot_collection_write", c_int32, c_uint64, c_char_p, c_uint64, c_char_p, c_uint64, c_int32
)

string_at = ctypes.string_at
loads = json.loads
_local = threading.local()


def slot() -> Slot:
    """This thread's slot (its address is stable for the thread's life: cached per thread)."""
    try:
        return _local.slot  # type: ignore[no-any-return]
    except AttributeError:
        s = Slot.from_address(_slot_address())
        _local.slot = s
        return s


def raise_error() -> NoReturn:
    """Raises the typed error of this thread's last failed direct call."""
    _native.take_hot_error()
    raise _errors.Internal("a direct call failed without an error")  # unreachable


def text(s: Slot) -> str:
    """The UTF-8 text at the slot's ``ptr`` / ``len``, copied."""
    n = s.len
    return string_at(s.ptr, n).decode() if n else ""


def argument_value(tag: int, i: int, f: float, ptr: Optional[int], n: int) -> Any:
    """A value passed to a callback as arguments."""
    if tag == INT:
        return i
    if tag == STRING and not n:
        return ""
    if tag == TRUE:
        return True
    if tag == FALSE:
        return False
    if tag == FLOAT:
        return f
    if tag == NULL:
        return None
    if ptr is None:
        raise _errors.Internal("a text argument without its text")
    text = string_at(ptr, n).decode()
    return text if tag == STRING else loads(text)


# Callbacks: token → the app's function (called as is: the trampolines catch what it raises).
# Entries live as long as the effect or the subscription.
# A plain callable, or a CallbackAdapter (a computed's function, with what it raised).
callbacks: Dict[int, Any] = {}
_tokens = itertools.count(1)


def register(fn: Callable[..., Any]) -> int:
    token = next(_tokens)
    callbacks[token] = fn
    return token


def attach(fn: Any, make: Callable[[int], int]) -> Tuple[int, int]:
    """Registers ``fn`` and makes the library object that calls it: ``make(token)`` is a direct
    call returning a hot handle, 0 on failure (the registration is then undone and the typed
    error raised). Returns ``(token, handle)``."""
    token = register(fn)
    handle = make(token)
    if handle == 0:
        callbacks.pop(token, None)
        raise_error()
    return token, handle


def detach(
    handle: int,
    token: int,
    release: Callable[[int], None],
    callbacks: Dict[int, Callable[..., Any]] = callbacks,
) -> None:
    """Gives back ``handle`` (unless 0) and forgets ``token``'s function: a wrapper's
    ``__del__`` (safe at interpreter exit: everything it uses is bound already)."""
    if handle:
        release(handle)
    callbacks.pop(token, None)


def _fail(error: BaseException) -> int:
    """Reports a callback's exception to the library and returns the failure status. A
    ``MizuError`` keeps its type (``hot_callback_error``); anything else goes to
    ``on_unhandled_error`` as a ``MizuError.Callback`` with the reason ``CallbackAdapter`` gives
    a failing generated callback."""
    if isinstance(error, _native.MizuError):
        _native.hot_callback_error(error)
        return 1
    raw = f"{type(error).__name__}: {error}".encode("utf-8", "replace")
    callback_error(raw, len(raw))
    return 1


def _on_value(token: int, tag: int, i: int, f: float, ptr: Optional[int], n: int) -> int:
    fn = callbacks.get(token)
    if fn is None:  # cancelled while this call was on its way
        return 0
    try:
        fn(argument_value(tag, i, f, ptr, n))
    except BaseException as e:  # noqa: BLE001 - reported to the library, never crashes
        return _fail(e)
    return 0


def _on_run(token: int) -> int:
    fn = callbacks.get(token)
    if fn is None:
        return 0
    try:
        fn()
    except BaseException as e:  # noqa: BLE001 - reported to the library, never crashes
        return _fail(e)
    return 0


_INF = float("inf")


def _give(value: Any) -> None:
    """Hands a computed function's value to the library: scalars typed, the rest as JSON text
    (``dumps`` raises ``TypeError`` for what JSON cannot hold)."""
    kind = type(value)
    if kind is int and -I64 <= value < I64:
        result_int(value)
    elif kind is str:
        raw = value.encode()
        result_string(raw, len(raw))
    elif kind is bool:
        result_bool(value)
    elif kind is float and -_INF < value < _INF:
        result_float(value)
    elif value is None:
        result_null()
    else:
        from ._support import dumps  # (imported here: _support imports this module)

        raw = dumps(value).encode()
        result_json(raw, len(raw))


def _on_compute(token: int) -> int:
    """Runs a computed's function (``callbacks[token]``, a ``CallbackAdapter`` that keeps what
    the function raised for the reader to re-raise; a ``MizuError`` keeps its own type)."""
    adapter = callbacks.get(token)
    if adapter is None:  # closed while this call was on its way
        raw = b"the computed was closed"
        callback_error(raw, len(raw))
        return 1
    try:
        _give(adapter.fn())
    except BaseException as e:  # noqa: BLE001 - reported to the library, never crashes
        adapter.error = None if isinstance(e, _native.MizuError) else e
        return _fail(e)
    adapter.error = None
    return 0


# The trampolines: one per signature, alive as long as the module.
on_value = VALUE_FN(_on_value)
on_run = EFFECT_FN(_on_run)
on_compute = EFFECT_FN(_on_compute)
