//! Pull and snapshot answers: pages of changes, cursor moves, bootstrap and 410 recovery.

use std::time::Instant;

use super::failure::{classify, Disposition};
use super::timer::Timer;
use super::{
    Action, Event, Operation, SnapshotFailure, StagedSnapshot, SyncError, SyncMachine,
    TransportFailure,
};
use crate::protocol::entity::EntityChange;
use crate::protocol::wire::{RawPullResponse, SnapshotResponse};

/// What one 200 pull response means, computed before anything changes.
#[derive(Debug, PartialEq)]
struct Page {
    /// Decoded changes of the page, in log order.
    changes: Vec<EntityChange>,
    /// Changes the codec refused, skipped.
    skipped: Vec<SyncError>,
    /// The cursor the pull started from.
    from: u64,
    /// The cursor after the page.
    cursor: u64,
    has_more: bool,
}

impl SyncMachine {
    /// Decodes a page. Changes at or below the current cursor are dropped (pull is exclusive, so
    /// only a faulty server sends them, and applying them again could undo newer state).
    ///
    /// # Errors
    ///
    /// [`SyncError::Protocol`] when the server says more follows but the cursor cannot move.
    fn page(&self, response: RawPullResponse) -> Result<Page, SyncError> {
        let from = self.cursor.unwrap_or(0);
        let mut page = Page {
            changes: Vec::new(),
            skipped: Vec::new(),
            from,
            cursor: from,
            has_more: response.has_more,
        };
        for change in response.changes.into_iter().flatten() {
            if change.cursor <= from {
                continue;
            }
            page.cursor = page.cursor.max(change.cursor);
            match self.codec.decode_raw_change(&change) {
                Ok(decoded) => page.changes.extend(decoded),
                Err(error) => page.skipped.push(SyncError::Change {
                    cursor: change.cursor,
                    error,
                }),
            }
        }
        if let Some(next) = response.next_cursor {
            page.cursor = page.cursor.max(next);
        }
        if page.has_more && page.cursor == from {
            return Err(SyncError::Protocol(format!(
                "pull from cursor {from} reported more changes without moving the cursor"
            )));
        }
        Ok(page)
    }

    /// Queues a request action. The pull that continues a page which said more follow queues
    /// ahead of that page's [`Action::ApplyChanges`], so that the driver sends it (its round
    /// trip and its decoding on the I/O side) while it applies the page: the pages of a catch-up
    /// overlap. (The client's I/O worker goes further: it sends that pull as soon as the page
    /// arrives, before this machine has decoded it; the cursor it uses is the one [`Self::page`]
    /// computes.) Safe because a pull only reads, and its cursor is the page's, already taken as
    /// applied; a failed apply surfaces as before, and the next page is handled after it. Any
    /// other request (a push chosen instead, a fresh round after the head) keeps its place.
    pub(super) fn queue_request(&mut self, action: Action) {
        let continues = std::mem::take(&mut self.page_continues);
        let page = self
            .actions
            .iter()
            .rposition(|queued| matches!(queued, Action::ApplyChanges { .. }));
        match page {
            Some(at) if continues && matches!(action, Action::SendPull { .. }) => {
                self.actions.insert(at, action);
            }
            _ => self.actions.push_back(action),
        }
    }

    pub(super) fn on_pulled(
        &mut self,
        result: Result<RawPullResponse, TransportFailure>,
        now: Instant,
    ) {
        let response = match result {
            Ok(response) => response,
            Err(failure) => return self.fetch_failed(Operation::Pull, failure, now),
        };
        self.succeeded(Operation::Pull);
        match self.page(response) {
            Ok(page) => self.apply_page(page, now),
            Err(error) => {
                self.round_first_fetch = None;
                self.surface(Operation::Pull, error);
            }
        }
    }

    fn apply_page(&mut self, page: Page, now: Instant) {
        let Page {
            changes,
            skipped,
            from,
            cursor,
            has_more,
        } = page;
        if !changes.is_empty() || cursor != from {
            self.cursor = Some(cursor);
            self.actions
                .push_back(Action::ApplyChanges { changes, cursor });
        }
        for error in skipped {
            self.report(Operation::Pull, error);
        }
        if has_more {
            self.want_pull = true;
            self.page_continues = true;
        } else {
            self.at_head(cursor, now);
        }
    }

    /// The store could not take what the last pull or snapshot brought
    /// ([`Input::ApplyFailed`](super::Input::ApplyFailed)): back to the store's cursor, with the
    /// pull in flight (sent from the cursor that did not hold) abandoned. The next pull waits for
    /// its interval, a live notice or `sync()`: a store that keeps failing is not retried in a
    /// loop.
    pub(super) fn on_apply_failed(&mut self, cursor: Option<u64>, error: SyncError) {
        self.cursor = cursor;
        self.page_continues = false;
        self.want_pull = false;
        self.round_first_fetch = None;
        if self
            .in_flight
            .is_some_and(|f| matches!(f.operation, Operation::Pull | Operation::Snapshot))
        {
            self.in_flight = None;
        }
        // Remembered for the status; the driver reported it already.
        self.last_error = Some((Operation::Pull, error.clone()));
        self.fail_waiters(&error);
    }

    /// The fetches reached the head of the log at `cursor`: the pull round is complete.
    fn at_head(&mut self, cursor: u64, now: Instant) {
        self.last_synced_at = Some(now);
        self.emit(Event::Synced { cursor });
        if let Some(first) = self.round_first_fetch.take() {
            self.round_completed(first);
        }
        // The next poll is an interval after this one, however it was triggered.
        if self.timers.is_set(Timer::Pull) {
            self.timers
                .set(Timer::Pull, now + self.options.pull_interval);
        }
    }

    pub(super) fn on_snapshotted(
        &mut self,
        result: Result<SnapshotResponse, TransportFailure>,
        now: Instant,
    ) {
        let response = match result {
            Ok(response) => response,
            Err(failure) => return self.fetch_failed(Operation::Snapshot, failure, now),
        };
        self.succeeded(Operation::Snapshot);
        match self.codec.decode_snapshot(&response.data) {
            Ok(data) => {
                self.cursor = Some(response.cursor);
                self.base_stale = false;
                self.actions.push_back(Action::ReplaceBase {
                    data,
                    cursor: response.cursor,
                });
                if response.cursor > 0 {
                    // Continue from the snapshot's cursor to the head of the log.
                    self.want_pull = true;
                } else {
                    // An empty scope: there is nothing to pull, and no pull from 0 is safe.
                    self.at_head(0, now);
                }
            }
            Err(error) => {
                self.round_first_fetch = None;
                self.surface(Operation::Snapshot, SyncError::Snapshot(error));
            }
        }
    }

    /// A streamed snapshot's answer ([`Input::SnapshotStaged`](super::Input::SnapshotStaged)).
    pub(super) fn on_snapshot_staged(
        &mut self,
        result: Result<StagedSnapshot, SnapshotFailure>,
        now: Instant,
    ) {
        let error = match result {
            Ok(staged) => {
                self.succeeded(Operation::Snapshot);
                self.cursor = Some(staged.cursor);
                self.base_stale = false;
                self.actions.push_back(Action::SwapStagedBase {
                    cursor: staged.cursor,
                });
                if staged.cursor > 0 {
                    self.want_pull = true;
                } else {
                    self.at_head(0, now);
                }
                return;
            }
            Err(SnapshotFailure::Transport(failure)) => {
                return self.fetch_failed(Operation::Snapshot, failure, now)
            }
            Err(SnapshotFailure::Codec(error)) => SyncError::Snapshot(error),
            Err(SnapshotFailure::TooLarge { limit }) => SyncError::SnapshotTooLarge { limit },
            Err(SnapshotFailure::Storage(message)) => SyncError::Storage(message),
        };
        // The server answered: online, and asked again at the next trigger (not in a loop).
        self.succeeded(Operation::Snapshot);
        self.round_first_fetch = None;
        self.surface(Operation::Snapshot, error);
    }

    /// A failed pull or snapshot: retried after a backoff or a credential refresh, turned into a
    /// snapshot on 410, or surfaced and left to the next trigger.
    fn fetch_failed(&mut self, operation: Operation, failure: TransportFailure, now: Instant) {
        // A retry begins a new round.
        self.round_first_fetch = None;
        match classify(operation, failure) {
            Disposition::Offline(error) => {
                self.want_pull = true;
                self.went_offline(operation, error, now);
            }
            Disposition::Auth { status, message } => {
                self.want_pull = true;
                self.auth_failed(operation, status, message, now);
            }
            Disposition::CursorTooOld(_) => {
                self.reached();
                self.base_stale = true;
                self.want_pull = true;
            }
            Disposition::Bisect { status, message } => {
                // Only pushes are bisected; classify never says so for a fetch.
                self.reached();
                let error = SyncError::Refused {
                    status,
                    code: None,
                    message,
                };
                self.surface(operation, error);
            }
            Disposition::Refused(error) => {
                self.reached();
                self.surface(operation, error);
            }
        }
    }
}
