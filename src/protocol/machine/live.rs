//! The live channel's decisions: when to open the socket, when to reopen it after it dropped or
//! an attempt failed (with the machine's seeded [`Backoff`]), when to send a refreshed token, and
//! when to close it. The driver only opens and closes the socket when told
//! ([`Action::ConnectLive`], [`Action::CloseLive`]) and reports what happened
//! ([`Input::LiveOpened`], [`Input::LiveClosed`], [`Input::LiveAuthRejected`], and each
//! notification as [`Input::LiveCursor`]).
//!
//! The channel only speeds syncing up: none of this changes the status or emits events.
//!
//! [`Input::LiveOpened`]: super::Input::LiveOpened
//! [`Input::LiveClosed`]: super::Input::LiveClosed
//! [`Input::LiveAuthRejected`]: super::Input::LiveAuthRejected
//! [`Input::LiveCursor`]: super::Input::LiveCursor

use std::time::{Duration, Instant};

use super::backoff::Backoff;
use super::{Action, SyncMachine};

/// Where the live socket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LiveState {
    /// No socket and none wanted (no live channel, or the machine is stopped).
    Idle,
    /// [`Action::ConnectLive`] was queued; its outcome is not known yet.
    Connecting,
    /// Handshake done and subscribed, since `since`.
    Open {
        /// When the handshake was reported done.
        since: Instant,
    },
    /// Waiting for the backoff to end before the next attempt.
    Waiting {
        /// When the next attempt is due.
        at: Instant,
    },
}

/// The live socket's state and retry policy, owned by the [`SyncMachine`].
#[derive(Debug, Clone)]
pub(crate) struct LiveLink {
    /// Whether the driver has a live channel at all ([`MachineOptions::live`]).
    ///
    /// [`MachineOptions::live`]: super::MachineOptions::live
    enabled: bool,
    state: LiveState,
    backoff: Backoff,
    /// The server refused the last handshake's credentials: the next attempt asks for a fresh
    /// token.
    refresh_auth: bool,
}

/// How long an open socket must have lasted for its loss to start the reconnects over from
/// the shortest delay.
pub(crate) const STABLE_OPEN: Duration = Duration::from_secs(30);

/// Derives the live backoff's seed from the machine's, so the two do not draw the same jitter.
fn live_seed(seed: u64) -> u64 {
    seed.rotate_left(32) ^ 0x6c69_7665_6c69_6e6b
}

impl LiveLink {
    pub(crate) fn new(enabled: bool, min: Duration, max: Duration, seed: u64) -> Self {
        LiveLink {
            enabled,
            state: LiveState::Idle,
            backoff: Backoff::new(min, max, live_seed(seed)),
            refresh_auth: false,
        }
    }

    /// When the next attempt is due, while backing off.
    pub(crate) fn retry_at(&self) -> Option<Instant> {
        match self.state {
            LiveState::Waiting { at } => Some(at),
            _ => None,
        }
    }

    /// Whether the socket is open (handshake done).
    pub(crate) fn is_open(&self) -> bool {
        matches!(self.state, LiveState::Open { .. })
    }

    fn connect(&mut self) -> Action {
        self.state = LiveState::Connecting;
        Action::ConnectLive {
            refresh_auth: self.refresh_auth,
        }
    }

    /// The machine started: open the socket (when there is a live channel).
    fn start(&mut self) -> Option<Action> {
        (self.enabled && self.state == LiveState::Idle).then(|| {
            self.backoff.reset();
            self.refresh_auth = false;
            self.connect()
        })
    }

    /// The machine stopped: close the socket and forget any retry.
    fn stop(&mut self) -> Option<Action> {
        let was = std::mem::replace(&mut self.state, LiveState::Idle);
        (was != LiveState::Idle).then_some(Action::CloseLive)
    }

    /// The backoff ended: try again.
    fn fire(&mut self, now: Instant) -> Option<Action> {
        match self.state {
            LiveState::Waiting { at } if at <= now => Some(self.connect()),
            _ => None,
        }
    }

    fn opened(&mut self, now: Instant) {
        if self.state == LiveState::Connecting {
            self.state = LiveState::Open { since: now };
            self.refresh_auth = false;
        }
    }

    /// The attempt failed or the open socket ended: wait, then reconnect. A connection lost
    /// after [`STABLE_OPEN`] starts over from the shortest delay; a failed attempt, or a socket
    /// closed sooner (a server that accepts and drops at once), doubles it.
    fn closed(&mut self, auth_rejected: bool, now: Instant) {
        match self.state {
            LiveState::Idle | LiveState::Waiting { .. } => return,
            LiveState::Open { since } if now.saturating_duration_since(since) >= STABLE_OPEN => {
                self.backoff.reset();
            }
            LiveState::Open { .. } | LiveState::Connecting => {}
        }
        self.refresh_auth = auth_rejected;
        let delay = self.backoff.next_delay();
        self.state = LiveState::Waiting { at: now + delay };
    }
}

impl SyncMachine {
    pub(super) fn live_start(&mut self) {
        if let Some(action) = self.live.start() {
            self.actions.push_back(action);
        }
    }

    pub(super) fn live_stop(&mut self) {
        if let Some(action) = self.live.stop() {
            self.actions.push_back(action);
        }
    }

    pub(super) fn live_fire(&mut self, now: Instant) {
        if let Some(action) = self.live.fire(now) {
            self.actions.push_back(action);
        }
    }

    pub(super) fn live_opened(&mut self, now: Instant) {
        self.live.opened(now);
    }

    pub(super) fn live_closed(&mut self, auth_rejected: bool, now: Instant) {
        self.live.closed(auth_rejected, now);
    }

    /// When the live socket's next attempt is due, while it backs off; `None` otherwise. A
    /// driver logs a new value as a reconnect decision.
    pub fn live_retry_at(&self) -> Option<Instant> {
        self.live.retry_at()
    }

    /// Whether the live socket is open, as last reported by the driver.
    pub fn is_live_open(&self) -> bool {
        self.live.is_open()
    }
}
