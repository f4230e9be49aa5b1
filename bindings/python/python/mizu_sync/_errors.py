"""The generated module's error subclasses, typed.

UniFFI's generated module attaches each ``MizuError`` kind to the class at import time
(``MizuError.Closed = Closed``), which a type checker cannot follow: the wrapper names them
through here, so that ``mypy --strict`` checks every use.
"""

from __future__ import annotations

from typing import Any, Type

from . import _native

MizuErrorType = Type[_native.MizuError]

_kinds: Any = _native.MizuError

Callback: MizuErrorType = _kinds.Callback
Closed: MizuErrorType = _kinds.Closed
Internal: MizuErrorType = _kinds.Internal
InvalidJson: MizuErrorType = _kinds.InvalidJson
InvalidQuery: MizuErrorType = _kinds.InvalidQuery
WrongKey: MizuErrorType = _kinds.WrongKey
SnapshotTooLarge: MizuErrorType = _kinds.SnapshotTooLarge
