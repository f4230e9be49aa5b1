//! [`Client::sync_once`](crate::Client::sync_once): one bounded catch-up for OS background tasks
//! (Android WorkManager, iOS `BGTaskScheduler`), without a live connection.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::client::runtime::wait;
use crate::client::{ClientCore, Error};

/// What [`Client::sync_once`](crate::Client::sync_once) did.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncReport {
    /// Mutations that left the queue (acknowledged or rejected by the server).
    pub pushed: usize,
    /// How far the pull cursor moved (server changes applied).
    pub pulled: u64,
    /// Whether it ended caught up: nothing left to push, and the local state has everything the
    /// server had when the last round began.
    pub caught_up: bool,
    /// The last error of a round, when it did not end caught up (the deadline itself is not
    /// an error).
    pub error: Option<Error>,
    /// How long it took.
    pub elapsed: Duration,
}

/// The pause between rounds that failed, so a failing server is not hammered until the deadline.
const RETRY_PAUSE: Duration = Duration::from_millis(250);

impl ClientCore {
    /// See [`Client::sync_once`](crate::Client::sync_once).
    pub(crate) fn sync_once(self: &Arc<Self>, within: Duration) -> Result<SyncReport, Error> {
        self.check_open()?;
        let started = Instant::now();
        let deadline = started + within;
        let (pending_before, cursor_before) = (self.store.pending_count(), self.cursor_now());
        let was_started = self.is_started();
        if !was_started {
            self.start_engine(false)?;
        }
        let (mut caught_up, mut error) = (false, None);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            // One round, bounded by what is left (a hanging server cannot hold it longer).
            let round = self.sync_async();
            let bounded =
                self.on_runtime(async move { Ok(tokio::time::timeout(left, round).await.ok()) });
            match wait(bounded).and_then(|round| round.transpose()) {
                Ok(None) => break,
                Ok(Some(())) if self.store.pending_count() == 0 => {
                    caught_up = true;
                    error = None;
                    break;
                }
                Ok(Some(())) => {}
                Err(Error::Closed) => return Err(Error::Closed),
                Err(e) => {
                    error = Some(e);
                    let pause = RETRY_PAUSE.min(deadline.saturating_duration_since(Instant::now()));
                    std::thread::sleep(pause);
                }
            }
        }
        if !was_started {
            self.stop();
        }
        Ok(SyncReport {
            pushed: pending_before.saturating_sub(self.store.pending_count()),
            pulled: self.cursor_now().saturating_sub(cursor_before),
            caught_up,
            error,
            elapsed: started.elapsed(),
        })
    }

    fn cursor_now(&self) -> u64 {
        self.store.cursor().unwrap_or(0)
    }
}
