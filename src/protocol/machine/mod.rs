//! The sans-IO sync machine: every decision of the sync engine, none of its I/O.
//!
//! The driver owns the store, the HTTP client, the live channel and a clock. It feeds the
//! machine [`Input`]s with the current time, then executes the [`Action`]s the machine queues,
//! in order, and wakes it again at [`SyncMachine::poll_timeout`]:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Instant;
//! use mizu_sync::protocol::codec::DefaultCodec;
//! use mizu_sync::protocol::machine::{Action, Input, MachineOptions, SyncMachine};
//!
//! let mut machine = SyncMachine::new(MachineOptions::default(), Arc::new(DefaultCodec)).unwrap();
//! machine.handle(Input::Start { cursor: None, pending: 0 }, Instant::now());
//! // No cursor yet: the first request bootstraps from a snapshot.
//! assert!(matches!(machine.poll_action(), Some(Action::SendSnapshot { .. })));
//! ```
//!
//! # Contract with the driver
//!
//! - **Pending mutations** live in the store, which alone knows their order. The machine only
//!   tracks how many there are ([`Input::Start`], [`Input::PendingChanged`]) and asks for a push
//!   of the oldest `limit` ([`Action::SendPush`]); the driver answers with what it sent
//!   ([`Input::Pushed`]), so acknowledgements and rejections name the right mutations.
//! - **One request at a time.** At most one push, pull or snapshot is in flight; pushes go first,
//!   in store order, in batches of at most `push_batch_size` (≤ 100), then snapshots and pulls.
//! - **Status**: after each [`handle`](SyncMachine::handle), the driver reads
//!   [`status`](SyncMachine::status) and publishes it if it changed ([`Status`] is `PartialEq`);
//!   the machine emits no status events.
//! - **Flush**: [`is_settled`](SyncMachine::is_settled) says when everything queued was
//!   acknowledged and pulled back.
//!
//! # Policies
//!
//! - The pull cursor only moves from pull and snapshot responses, never from push results.
//!   Acknowledged mutations stay queued until a pull covers them (the client's engine stores
//!   their acknowledgements, so a restart does not push them again). A pull follows acknowledged pushes once the queue is drained, and
//!   goes before any further push once the oldest unpulled acknowledgement is
//!   [`MAX_UNPULLED_AGE`] old: a backlog drains in back-to-back pushes, and writers that keep
//!   the queue busy cannot hold pulls off for longer than that.
//! - `ok:false` results are rejections: the mutation leaves the queue with an event saying why,
//!   and the rest of the batch goes on.
//! - **A rejection is believed only when no earlier push of the mutation can still run.** The
//!   server runs a refused mutation again when it comes back (only applied ids are
//!   remembered), so after a push of unknown outcome (timeout, broken connection, 5xx) a late
//!   copy of it may still reach the server and apply a mutation that a retry saw refused. A
//!   rejection inside that window ([`MachineOptions::doubt_window`]) keeps the mutation queued,
//!   pushes wait until the window closes, and the mutation is pushed once more: `ok` if the late
//!   copy applied it, otherwise the rejection is final. A request that was never sent
//!   ([`TransportFailure::Unreachable`]) leaves no doubt.
//! - **400 / 413 on a push batch** (malformed or too large): the batch is bisected: the next push
//!   asks for half as many mutations, down to one; a single mutation still refused is rejected
//!   with the server's error text. After each successful push the batch size doubles back. So one
//!   bad mutation costs about log2(batch) extra requests and never wedges the queue. (A server
//!   that refuses every request with 400 would thereby reject every mutation, each with an
//!   event: that is a broken deployment, and nothing is dropped silently.)
//! - **Network errors, timeouts, undecodable responses, 5xx, 408, 429**: offline (the
//!   [`Event::Offline`] fires on the transition only) and retry after an exponential backoff with
//!   jitter within `[backoff_min, backoff_max]`; any answer from the server brings it back online.
//! - **401 / 403**: [`Action::RefreshAuth`], then retry once with new credentials; if that fails
//!   too, surface [`SyncError::Unauthorized`] and retry after a long backoff (around
//!   `backoff_max`), refreshing again then.
//! - **410 on a pull**: take a snapshot ([`Action::ReplaceBase`], pending mutations kept), then
//!   pull on from the snapshot's cursor.
//! - **Never pull from cursor 0.** The server never answers a pull from 0 with 410, even once
//!   it has trimmed its log, so such a pull could silently skip trimmed changes (ours
//!   included, and the acknowledged mutations they settle would vanish). A client whose
//!   snapshot said 0 (an empty scope) takes snapshots until the scope has a cursor.
//! - **Other refusals (4xx), protocol violations**: surfaced as [`Event::Error`]; the failed step
//!   waits for its next interval, a live notice or `sync()`, never a tight retry loop.
//! - **`sync()`** ([`Input::SyncRequested`]) completes once the mutations pending at the call
//!   have been answered and a whole pull round begun after that has completed; writes made
//!   meanwhile do not hold it up, and its pull goes before their pushes. It fails on the round's
//!   first error.
//! - **The live socket** (when [`MachineOptions::live`]): opened on [`Input::Start`]
//!   ([`Action::ConnectLive`]), closed on [`Input::Stop`] ([`Action::CloseLive`]), kept through
//!   `Pause`. An attempt that fails or an open socket that ends ([`Input::LiveClosed`]) is retried
//!   after the same seeded exponential backoff as requests, with its own failure count: from
//!   `backoff_min` again after a socket that stayed open 30 s, doubling per failed attempt in a
//!   row (a socket the server drops sooner counts as a failed attempt, so a server that accepts
//!   and drops at once is not reconnected to at the shortest delay forever). A
//!   refused handshake ([`Input::LiveAuthRejected`]) is retried the same way with a fresh token.
//!   The socket never changes the status: connectivity is the requests'. A notification
//!   ([`Input::LiveCursor`]) above the cursor pulls at once.
//! - **Undecodable changes** are skipped with an [`Event::Error`] each ([`SyncError::Change`]),
//!   and the cursor moves past them (see [`crate::protocol::codec`] for why). Changes at or below
//!   the current cursor are never applied again.

mod action;
mod backoff;
mod error;
mod failure;
mod input;
mod lifecycle;
mod live;
mod options;
mod pull;
mod push;
mod report;
mod status;
mod timer;

#[cfg(test)]
mod tests;

pub use action::{Action, Event, Rejection};
pub use error::{Operation, SyncError};
pub use input::{
    Input, RequestId, SentMutation, SnapshotFailure, StagedSnapshot, TransportFailure,
};
pub use options::{MachineOptions, OptionsError};
pub use status::Status;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::protocol::codec::Codec;
use crate::protocol::wire::{PullRequest, SnapshotRequest};
use backoff::Backoff;
use live::LiveLink;
use timer::{Timer, Timers};

/// How long acknowledged mutations may wait for the pull that settles them while further
/// pushes go first: the longest writers that keep the queue busy hold pulls off.
pub const MAX_UNPULLED_AGE: Duration = Duration::from_millis(500);

/// The sync engine's state and decisions, without I/O. See the [module docs](self).
///
/// # Threading
///
/// A plain value: the driver owns it and calls it from one thread at a time.
pub struct SyncMachine {
    options: MachineOptions,
    codec: Arc<dyn Codec>,
    lifecycle: Lifecycle,
    link: Link,
    /// The pull cursor; `None` until the first snapshot.
    cursor: Option<u64>,
    /// The base must be replaced by a snapshot (after a 410).
    base_stale: bool,
    pending: usize,
    /// The largest cursor of an acknowledged mutation: a flush waits until pulls reach it.
    max_acked_cursor: u64,
    in_flight: Option<InFlight>,
    last_request: u64,
    /// A pull (or snapshot) must start; cleared when one is sent.
    want_pull: bool,
    /// The page just handled said more follow: its continuation may overlap its apply (see
    /// `queue_request` in `pull.rs`); cleared when a request is queued.
    page_continues: bool,
    /// When the oldest acknowledgement not yet followed by a completed pull round (which
    /// settles it) came in.
    unpulled_since: Option<Instant>,
    /// Pushes wait for the next trigger after a refused push.
    push_held: bool,
    /// Batch size while bisecting a refused batch.
    bisect_limit: Option<usize>,
    /// Mutations sent in a push whose outcome is unknown, with the end of the window in which
    /// that push may still run on the server. A rejection of one of them before then is not
    /// believed yet.
    in_doubt: HashMap<String, Instant>,
    /// Waiting for [`Input::AuthRefreshed`] after this failure.
    awaiting_auth: Option<AuthFailure>,
    /// The credentials were just refreshed: the next 401/403 is final.
    just_refreshed: bool,
    backoff: Backoff,
    /// The live socket's state and its own backoff.
    live: LiveLink,
    timers: Timers,
    /// `sync()` calls waiting for completion.
    waiters: Vec<Waiter>,
    /// Mutations acknowledged or rejected since the start (how far the queue has drained).
    settled_total: u64,
    /// Pull and snapshot requests begun since the start.
    fetches_begun: u64,
    /// The first fetch of the pull round under way (pages until `has_more` is false).
    round_first_fetch: Option<u64>,
    last_error: Option<(Operation, SyncError)>,
    last_synced_at: Option<Instant>,
    actions: VecDeque<Action>,
}

/// A `sync()` call: done once the mutations pending when it was made have left the queue and
/// a whole pull round begun after that has completed. Writes made meanwhile do not hold it up.
#[derive(Debug, Clone, Copy)]
struct Waiter {
    id: u64,
    /// `settled_total` at which the mutations pending at the call have all been answered.
    push_target: u64,
    /// `fetches_begun` once the push target was met: a round starting later completes the call.
    pulled_after: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lifecycle {
    Stopped,
    Running,
    Paused,
}

/// Whether the server answers; `Unknown` until the first answer, so the first failure is a
/// transition to offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Unknown,
    Online,
    Offline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct InFlight {
    request: RequestId,
    operation: Operation,
}

/// The next thing [`SyncMachine::drive`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Blocked: stopped, paused, a request in flight, waiting for credentials or a backoff.
    Wait,
    /// Push the oldest `limit` pending mutations.
    Push { limit: usize },
    /// Pull from `cursor`.
    Pull { cursor: u64 },
    /// Take a snapshot (no cursor yet, or the cursor is too old).
    Snapshot,
    /// Nothing due: complete the waiting `sync()` calls.
    Settle,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct AuthFailure {
    operation: Operation,
    status: u16,
    message: String,
}

impl SyncMachine {
    /// A stopped machine; send [`Input::Start`] to begin.
    ///
    /// # Errors
    ///
    /// [`OptionsError`] when the options cannot work (see [`MachineOptions::validate`]).
    pub fn new(options: MachineOptions, codec: Arc<dyn Codec>) -> Result<Self, OptionsError> {
        options.validate()?;
        let backoff = Backoff::new(
            options.backoff_min,
            options.backoff_max,
            options.jitter_seed,
        );
        let live = LiveLink::new(
            options.live,
            options.backoff_min,
            options.backoff_max,
            options.jitter_seed,
        );
        Ok(SyncMachine {
            options,
            codec,
            lifecycle: Lifecycle::Stopped,
            link: Link::Unknown,
            cursor: None,
            base_stale: false,
            pending: 0,
            max_acked_cursor: 0,
            in_flight: None,
            last_request: 0,
            want_pull: false,
            page_continues: false,
            unpulled_since: None,
            push_held: false,
            bisect_limit: None,
            in_doubt: HashMap::new(),
            awaiting_auth: None,
            just_refreshed: false,
            backoff,
            live,
            timers: Timers::default(),
            waiters: Vec::new(),
            settled_total: 0,
            fetches_begun: 0,
            round_first_fetch: None,
            last_error: None,
            last_synced_at: None,
            actions: VecDeque::new(),
        })
    }

    /// Feeds one input at time `now`: expired timers fire first, then the input is applied, then
    /// the next request (if any is due) is queued. Never fails: bad answers become events.
    pub fn handle(&mut self, input: Input, now: Instant) {
        self.fire_timers(now);
        self.live_fire(now);
        match input {
            Input::Start { cursor, pending } => self.start(cursor, pending, now),
            Input::Stop => self.stop(),
            Input::Pause => self.pause(),
            Input::Resume => self.resume(now),
            Input::PendingChanged { count } => self.pending = count,
            Input::SyncRequested { id } => self.request_sync(id),
            Input::LiveCursor(cursor) => {
                if self.lifecycle == Lifecycle::Running && cursor > self.cursor.unwrap_or(0) {
                    self.want_pull = true;
                }
            }
            Input::Pushed {
                request,
                sent,
                result,
            } => {
                if self.accept(request, Operation::Push) {
                    self.on_pushed(sent, result, now);
                    self.just_refreshed = false;
                }
            }
            Input::Pulled { request, result } => {
                if self.accept(request, Operation::Pull) {
                    self.on_pulled(result, now);
                    self.just_refreshed = false;
                }
            }
            Input::Snapshotted { request, result } => {
                if self.accept(request, Operation::Snapshot) {
                    self.on_snapshotted(result, now);
                    self.just_refreshed = false;
                }
            }
            Input::SnapshotStaged { request, result } => {
                if self.accept(request, Operation::Snapshot) {
                    self.on_snapshot_staged(result, now);
                    self.just_refreshed = false;
                }
            }
            Input::AuthRefreshed { ok } => self.on_auth_refreshed(ok, now),
            Input::LiveOpened => self.live_opened(now),
            Input::LiveClosed { .. } => self.live_closed(false, now),
            Input::LiveAuthRejected { .. } => self.live_closed(true, now),
            Input::ApplyFailed { cursor, error } => self.on_apply_failed(cursor, error),
            Input::Tick => {}
        }
        self.drive(now);
    }

    /// The next action for the driver, oldest first; `None` when there is nothing to do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When the driver must call [`handle`](Self::handle) (with [`Input::Tick`] if nothing else
    /// happened) at the latest; `None` when no timer is armed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.timers.next(), self.live.retry_at()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// When the retry after a failure is due; `None` when no backoff is running. A driver
    /// logs a new value as a backoff decision.
    pub fn retry_at(&self) -> Option<Instant> {
        self.timers.at(Timer::Retry)
    }

    /// A snapshot of the state for the host.
    pub fn status(&self) -> Status {
        Status {
            running: self.lifecycle != Lifecycle::Stopped,
            paused: self.lifecycle == Lifecycle::Paused,
            online: self.link == Link::Online,
            syncing: self.in_flight.is_some() || self.awaiting_auth.is_some(),
            pending: self.pending,
            cursor: self.cursor,
            last_error: self.last_error.as_ref().map(|(_, e)| e.clone()),
            last_synced_at: self.last_synced_at,
        }
    }

    /// Whether everything queued was acknowledged and pulled back: nothing pending, nothing in
    /// flight or due, and the cursor at or past every acknowledged mutation's cursor. A flush
    /// waits for this.
    pub fn is_settled(&self) -> bool {
        self.pending == 0
            && self.in_flight.is_none()
            && self.awaiting_auth.is_none()
            && !self.want_pull
            && !self.base_stale
            && self.cursor.is_some_and(|c| c >= self.max_acked_cursor)
    }

    /// Whether an answer is for the request in flight; a stale (or mismatched) answer is ignored.
    fn accept(&mut self, request: RequestId, operation: Operation) -> bool {
        match self.in_flight {
            Some(in_flight) if in_flight.request == request && in_flight.operation == operation => {
                self.in_flight = None;
                true
            }
            _ => false,
        }
    }

    /// What to do next, from the state alone.
    fn next_step(&self, now: Instant) -> Step {
        let blocked = self.lifecycle != Lifecycle::Running
            || self.in_flight.is_some()
            || self.awaiting_auth.is_some()
            || self.timers.is_set(Timer::Retry);
        // The pull that settles acknowledged mutations goes before further pushes once the
        // oldest has waited `MAX_UNPULLED_AGE`, and so does the pull a `sync()` caller whose
        // pushes are done waits for: writers that keep the queue busy cannot starve either.
        let pull_first = self.want_pull
            && (self.unpulled_for(now) >= MAX_UNPULLED_AGE
                || self.waiters.iter().any(|w| w.pulled_after.is_some()));
        // A rejection is not believed while an earlier push of the mutation may still run:
        // pushes wait for that window to close, pulls do not.
        let doubt_held = self.pending > 0 && self.timers.is_set(Timer::Doubt);
        if blocked {
            Step::Wait
        } else if pull_first {
            self.fetch_step()
        } else if doubt_held {
            if self.want_pull {
                self.fetch_step()
            } else {
                Step::Wait
            }
        } else if self.pending > 0 && !self.push_held {
            let batch = self.bisect_limit.unwrap_or(self.options.push_batch_size);
            Step::Push {
                limit: batch.min(self.pending).max(1),
            }
        } else if !self.want_pull {
            // Nothing due. `sync()` callers cannot be waiting on a held push: a `sync()` call
            // releases the hold, and whatever holds it again fails the callers.
            Step::Settle
        } else {
            self.fetch_step()
        }
    }

    /// How long the oldest unpulled acknowledgement has waited for its pull.
    fn unpulled_for(&self, now: Instant) -> Duration {
        self.unpulled_since
            .map_or(Duration::ZERO, |since| now.saturating_duration_since(since))
    }

    /// The pull to make next: from the cursor, or a snapshot when there is none, it is stale,
    /// or it is 0 (see the module docs).
    fn fetch_step(&self) -> Step {
        match self.cursor {
            Some(cursor) if cursor > 0 && !self.base_stale => Step::Pull { cursor },
            _ => Step::Snapshot,
        }
    }

    /// Moves `sync()` callers along: a caller whose pushes are done now needs a pull round.
    fn advance_waiters(&mut self) {
        for waiter in &mut self.waiters {
            if waiter.pulled_after.is_none()
                && (self.settled_total >= waiter.push_target || self.pending == 0)
            {
                waiter.pulled_after = Some(self.fetches_begun);
                self.want_pull = true;
            }
        }
    }

    /// A pull round that began with fetch `first` completed: callers waiting for it are done.
    fn round_completed(&mut self, first: u64) {
        self.unpulled_since = None;
        let mut done = Vec::new();
        self.waiters.retain(|w| match w.pulled_after {
            Some(after) if first > after => {
                done.push(w.id);
                false
            }
            _ => true,
        });
        for id in done {
            self.emit(Event::SyncCompleted { id, result: Ok(()) });
        }
    }

    /// Queues the next request when one is due, or completes `sync()` calls when all is done.
    fn drive(&mut self, now: Instant) {
        self.advance_waiters();
        let action = match self.next_step(now) {
            Step::Wait => return,
            Step::Settle => {
                for waiter in std::mem::take(&mut self.waiters) {
                    self.emit(Event::SyncCompleted {
                        id: waiter.id,
                        result: Ok(()),
                    });
                }
                return;
            }
            Step::Push { limit } => Action::SendPush {
                request: self.begin(Operation::Push),
                limit,
            },
            Step::Pull { cursor } => {
                let body = PullRequest {
                    scope: self.options.scope.clone(),
                    cursor,
                    limit: Some(i64::from(self.options.pull_limit)),
                };
                self.want_pull = false;
                Action::SendPull {
                    request: self.begin(Operation::Pull),
                    body,
                }
            }
            Step::Snapshot => {
                let body = SnapshotRequest {
                    scope: self.options.scope.clone(),
                };
                self.want_pull = false;
                Action::SendSnapshot {
                    request: self.begin(Operation::Snapshot),
                    body,
                }
            }
        };
        self.queue_request(action);
    }

    fn begin(&mut self, operation: Operation) -> RequestId {
        if operation != Operation::Push {
            self.fetches_begun += 1;
            self.round_first_fetch.get_or_insert(self.fetches_begun);
        }
        self.last_request += 1;
        let request = RequestId(self.last_request);
        self.in_flight = Some(InFlight { request, operation });
        request
    }

    fn emit(&mut self, event: Event) {
        self.actions.push_back(Action::Emit(event));
    }

    fn fail_waiters(&mut self, error: &SyncError) {
        for Waiter { id, .. } in std::mem::take(&mut self.waiters) {
            self.emit(Event::SyncCompleted {
                id,
                result: Err(error.clone()),
            });
        }
    }
}

impl fmt::Debug for SyncMachine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncMachine")
            .field("lifecycle", &self.lifecycle)
            .field("link", &self.link)
            .field("cursor", &self.cursor)
            .field("pending", &self.pending)
            .field("in_flight", &self.in_flight)
            .field("want_pull", &self.want_pull)
            .field("timers", &self.timers)
            .finish_non_exhaustive()
    }
}
