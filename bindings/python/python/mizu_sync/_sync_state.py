"""SyncState (where an entity stands with the server) and QueuedMutation (a write waiting for
it): plain values made from the generated records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Union

from . import _native


class SyncState:
    """Where an entity stands with the server: one of :class:`SyncState.Synced`,
    :class:`SyncState.Pending` (``mutations`` local writes wait) or :class:`SyncState.Rejected`
    (its last write was rejected by the server or discarded by the app, and rolled back; until
    it is written again). Frozen dataclasses, comparable and usable with ``match``::

        match todo.sync_state:
            case SyncState.Pending(mutations=n): badge(f"{n} waiting")
            case SyncState.Rejected(reason=why): badge(f"not saved: {why}")
    """

    __slots__ = ()

    Synced: ClassVar[type]
    Pending: ClassVar[type]
    Rejected: ClassVar[type]


@dataclass(frozen=True)
class _Synced(SyncState):
    """No local write of the entity waits for the server."""


@dataclass(frozen=True)
class _Pending(SyncState):
    """Local writes of the entity wait for the server."""

    mutations: int
    """How many queued mutations touch it."""


@dataclass(frozen=True)
class _Rejected(SyncState):
    """The entity's last local write was rejected (or discarded) and rolled back."""

    reason: str
    """The server's reason (``"discarded by the app"`` after :meth:`Client.discard`)."""


for _cls, _name in ((_Synced, "Synced"), (_Pending, "Pending"), (_Rejected, "Rejected")):
    _cls.__name__ = _cls.__qualname__ = f"SyncState.{_name}"
    setattr(SyncState, _name, _cls)
del _cls, _name

SYNCED = _Synced()


def sync_state_of(native: _native.EntitySyncState) -> SyncState:
    """The wrapper's value for the generated enum."""
    # The variants' fields are set at import time by the generated module: untyped here.
    variant: Any = native
    if native.is_pending():
        return _Pending(mutations=variant.mutations)
    if native.is_rejected():
        return _Rejected(reason=variant.reason)
    return SYNCED


@dataclass(frozen=True)
class QueuedMutation:
    """A local mutation waiting for the server (see :meth:`Client.pending`)."""

    id: str
    """Its idempotency id (pass it to :meth:`Client.discard`)."""
    name: str
    """Its name, e.g. ``"todo.update"``."""
    scope: str
    """The data scope it was made in."""
    age: float
    """How long ago it was made, in seconds."""
    attempts: int
    """How many times it was pushed since the process started (0: not yet)."""

    @classmethod
    def _of(cls, native: _native.QueuedMutation) -> "QueuedMutation":
        return cls(
            id=native.id,
            name=native.name,
            scope=native.scope,
            age=native.age_ms / 1000.0,
            attempts=native.attempts,
        )


__all__ = ["QueuedMutation", "SyncState", "sync_state_of"]
