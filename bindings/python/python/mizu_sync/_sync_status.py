"""SyncStatus (what the sync engine is doing) and SyncProgress (done of total): plain values
made from the generated records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from . import _native


@dataclass(frozen=True)
class SyncProgress:
    """``done`` of ``total`` (equal when complete)."""

    done: int
    """How much is done."""
    total: int
    """How much there is, as known now (it can grow while a download runs)."""

    @property
    def fraction(self) -> float:
        """``done / total``, from 0 to 1; 1 when there is nothing to do."""
        return 1.0 if self.total <= 0 else min(1.0, self.done / self.total)

    @property
    def is_complete(self) -> bool:
        """Whether everything known is done."""
        return self.done >= self.total

    @classmethod
    def _of(cls, native: _native.SyncProgress) -> "SyncProgress":
        return cls(done=native.done, total=native.total)


@dataclass(frozen=True)
class SyncStatus:
    """A snapshot of what the sync engine is doing (:attr:`Client.status`)."""

    online: bool
    """Whether the last exchange with the server succeeded (false until one has)."""
    syncing: bool
    """Whether a push, pull or snapshot is in flight."""
    pending: int
    """How many local mutations wait to be acknowledged by the server."""
    cursor: Optional[int]
    """The pull cursor, ``None`` before the first snapshot."""
    last_error: Optional[str]
    """The text of the last error, cleared by the next successful exchange."""
    last_synced_ms: Optional[int]
    """When the last pull or snapshot completed, in milliseconds since the Unix epoch."""
    paused: bool
    """Whether syncing is paused."""
    has_synced: bool
    """Whether a first full catch-up with the server has completed; persisted with the store
    (true on a reopened file client before :meth:`Client.start`), reset by :meth:`Client.clear`."""
    download: SyncProgress
    """The current (or last) download: server changes applied of those known to exist."""
    upload: SyncProgress
    """The current (or last) upload: mutations acknowledged of those queued since the queue
    was last empty."""

    @classmethod
    def _of(cls, native: _native.SyncStatus) -> "SyncStatus":
        return cls(
            online=native.online,
            syncing=native.syncing,
            pending=native.pending,
            cursor=native.cursor,
            last_error=native.last_error,
            last_synced_ms=native.last_synced_ms,
            paused=native.paused,
            has_synced=native.has_synced,
            download=SyncProgress._of(native.download),
            upload=SyncProgress._of(native.upload),
        )


__all__ = ["SyncProgress", "SyncStatus"]
