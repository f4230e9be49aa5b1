"""SyncReport: what one bounded background sync (:meth:`Client.sync_once`) did, as a plain
value made from the generated record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from . import _native


@dataclass(frozen=True)
class SyncReport:
    """What :meth:`Client.sync_once` did."""

    pushed: int
    """Mutations that left the queue (acknowledged or rejected)."""
    pulled: int
    """How far the pull cursor moved."""
    caught_up: bool
    """Whether it ended caught up: nothing left to push, nothing newer on the server."""
    error: Optional[str]
    """The last round's error when it did not end caught up (``None`` when it did)."""
    elapsed: float
    """How long it took, in seconds."""

    @classmethod
    def _of(cls, native: _native.SyncReport) -> "SyncReport":
        return cls(
            pushed=native.pushed,
            pulled=native.pulled,
            caught_up=native.caught_up,
            error=native.error,
            elapsed=native.elapsed_ms / 1000.0,
        )


__all__ = ["SyncReport"]
