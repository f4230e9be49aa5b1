//! [`MachineOptions`]: batch sizes, intervals, backoff bounds and the jitter seed.

use std::time::Duration;

use crate::protocol::wire::MAX_PUSH_BATCH;

/// How the sync machine batches, schedules and retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineOptions {
    /// Scope sent with pulls and snapshots; empty means the server's `_default`.
    pub scope: String,
    /// Most mutations per push, `1..=100` (the server's limit). Default 100.
    pub push_batch_size: usize,
    /// Most changes per pull page (`limit`), at least 1; the server caps it (1000 by default).
    /// Default 100.
    pub pull_limit: u32,
    /// How often pending mutations are pushed again when nothing else triggered a push (after a
    /// refused push, for instance). Default 10 s.
    pub push_interval: Duration,
    /// How long after the last complete pull the next one starts, so that the client is correct
    /// without the live channel. Default 30 s.
    pub pull_interval: Duration,
    /// First retry delay after a network or server failure. Default 1 s.
    pub backoff_min: Duration,
    /// Largest retry delay; also the delay after an auth failure. Default 60 s.
    pub backoff_max: Duration,
    /// How long a push whose outcome is unknown (a timeout, a broken connection, a 5xx) may
    /// still reach the server and run there. The server runs a refused mutation again when it
    /// comes back, so a rejection of such a mutation by a later push is only believed once this
    /// much time has passed since the unknown outcome: until then the mutation stays queued and
    /// is pushed again after the window (the late copy may have been applied meanwhile, and the
    /// server then answers `ok`). The client sets it to its request timeout. Default 30 s.
    pub doubt_window: Duration,
    /// Seed of the jitter's pseudo-random generator. Give each client its own (e.g. from the
    /// clock at startup) so clients do not retry in lockstep; fix it in tests.
    pub jitter_seed: u64,
    /// Whether the driver has a live channel: the machine then asks it to open the socket on
    /// [`Input::Start`](super::Input::Start) and to reopen it (backing off within
    /// `[backoff_min, backoff_max]`) whenever it drops. Default `false`.
    pub live: bool,
}

impl Default for MachineOptions {
    fn default() -> Self {
        MachineOptions {
            scope: String::new(),
            push_batch_size: MAX_PUSH_BATCH,
            pull_limit: 100,
            push_interval: Duration::from_secs(10),
            pull_interval: Duration::from_secs(30),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            doubt_window: Duration::from_secs(30),
            jitter_seed: 0x6d69_7a75_7379_6e63,
            live: false,
        }
    }
}

/// Options that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    /// `push_batch_size` is 0 or above the server's limit.
    #[error("push_batch_size must be between 1 and {MAX_PUSH_BATCH}, got {0}")]
    PushBatchSize(usize),
    /// `pull_limit` is 0.
    #[error("pull_limit must be at least 1")]
    PullLimit,
    /// An interval or backoff bound is zero.
    #[error("{0} must be greater than zero")]
    ZeroDuration(&'static str),
    /// `backoff_min` is above `backoff_max`.
    #[error("backoff_min ({min:?}) must not exceed backoff_max ({max:?})")]
    BackoffBounds {
        /// The given minimum.
        min: Duration,
        /// The given maximum.
        max: Duration,
    },
}

impl MachineOptions {
    /// Checks that the options can work.
    ///
    /// # Errors
    ///
    /// [`OptionsError`] naming the first unusable option.
    pub fn validate(&self) -> Result<(), OptionsError> {
        if !(1..=MAX_PUSH_BATCH).contains(&self.push_batch_size) {
            return Err(OptionsError::PushBatchSize(self.push_batch_size));
        }
        if self.pull_limit == 0 {
            return Err(OptionsError::PullLimit);
        }
        for (name, value) in [
            ("push_interval", self.push_interval),
            ("pull_interval", self.pull_interval),
            ("backoff_min", self.backoff_min),
            ("backoff_max", self.backoff_max),
        ] {
            if value.is_zero() {
                return Err(OptionsError::ZeroDuration(name));
            }
        }
        if self.backoff_min > self.backoff_max {
            return Err(OptionsError::BackoffBounds {
                min: self.backoff_min,
                max: self.backoff_max,
            });
        }
        Ok(())
    }
}
