"""mizu-sync: an offline-first sync client with fine-grained reactive state.

The reactive graph (:class:`Signal`, :class:`Computed`, :class:`Effect`, :func:`batch`) is the
Rust library's own: a Python computed can depend on a Rust-side collection count and a Python
signal alike. :class:`Client` syncs :class:`Collection` data with a mizu sync server;
:meth:`Collection.query` makes a live :class:`Query` (``where(field("done") == False)``,
``order_by``, ``limit``, ``offset``) that delivers its result, then a :class:`QueryDiff` per
change.

Every failure raises :class:`MizuError` (a subclass per kind: ``MizuError.InvalidJson``,
``MizuError.Closed``, ``MizuError.Rejected``, ``MizuError.PendingWrites``, ...); a malformed query raises
:class:`InvalidQuery` (which is ``MizuError.InvalidQuery``).

Threading: listeners and effects run on the thread that made the change — the client's sync
thread for server changes — unless the client was given a ``delivery`` context (an asyncio
event loop or an executor), where server changes, awaited writes and client events are then
delivered. Calls into the library release the GIL. Blocking calls have awaitable forms with the
``_async`` suffix (``Client.sync_async``, ``Collection.set_async``, ...): coroutines that never
block the event loop and stop waiting at once when cancelled. The async iterators
(``changes()``, ``diffs()``, ``results()``, the client's ``syncs()``, ``errors()``, ...) hand
values to the event loop through a bounded buffer: state streams keep the latest value, event
streams up to :data:`EVENT_BUFFER` events (see :class:`Stream`).
"""

from __future__ import annotations

from importlib.metadata import version as _distribution_version
from typing import Callable

from . import _errors, _native
from ._client import TRACE, Client, RejectedMutation
from ._collection import Change, Collection, Entity
from ._diff import (
    Inserted,
    Moved,
    QueryDiff,
    QueryDiffOp,
    QueryEvent,
    QueryResult,
    Removed,
    Updated,
    apply_diff,
)
from ._filter import Field, Filter, InvalidQuery, and_, field, not_, or_
from ._query import Query, QueryListener
from ._reactive import Computed, Effect, Signal, batch, batched, computed, effect, untracked
from ._stream import EVENT_BUFFER, Stream
from ._sync_report import SyncReport
from ._sync_state import QueuedMutation, SyncState
from ._sync_status import SyncProgress, SyncStatus
from ._support import ErrorLogger, Subscription

#: The installed distribution's version: the Rust crate's (Cargo.toml), as the wheel was built.
__version__: str = _distribution_version("mizu-sync")

MizuError = _native.MizuError
#: How hard each commit to the store file is pushed to disk: ``Durability.FULL`` (the default)
#: or ``Durability.NORMAL`` (survives a process kill, may lose the last commits on power loss).
Durability = _native.Durability
#: Raised when a store file is encrypted and ``encryption_key`` is wrong or missing (or a key is
#: given for a plain file): ``MizuError.WrongKey``.
WrongKey = _errors.WrongKey
#: Raised (and reported to ``on_error``) when a snapshot is larger than ``max_snapshot_bytes``:
#: ``MizuError.SnapshotTooLarge`` (its ``limit`` is the configured limit).
SnapshotTooLarge = _errors.SnapshotTooLarge


def on_unhandled_error(fn: Callable[[MizuError], object]) -> Subscription:
    """Calls ``fn(error)`` with errors no client listener takes (exceptions in signal
    listeners and effects). By default they are logged to the ``mizu_sync`` logger."""

    class _Listener(_native.ErrorListener):
        def on_error(self, error: MizuError) -> None:
            fn(error)

    return Subscription(_native.on_unhandled_error(_Listener()))


# The default sink of unhandled errors; kept for the life of the module.
_default_errors = Subscription(_native.on_unhandled_error(ErrorLogger()))

__all__ = [
    "__version__",
    "EVENT_BUFFER",
    "Change",
    "Client",
    "Collection",
    "Computed",
    "Durability",
    "Effect",
    "Entity",
    "Field",
    "Filter",
    "Inserted",
    "InvalidQuery",
    "MizuError",
    "Moved",
    "Query",
    "QueryDiff",
    "QueryDiffOp",
    "QueryEvent",
    "QueryListener",
    "QueryResult",
    "QueuedMutation",
    "RejectedMutation",
    "Removed",
    "Signal",
    "SnapshotTooLarge",
    "Stream",
    "Subscription",
    "SyncProgress",
    "SyncReport",
    "SyncState",
    "SyncStatus",
    "TRACE",
    "Updated",
    "WrongKey",
    "and_",
    "apply_diff",
    "batch",
    "batched",
    "computed",
    "effect",
    "field",
    "not_",
    "on_unhandled_error",
    "or_",
    "untracked",
]
