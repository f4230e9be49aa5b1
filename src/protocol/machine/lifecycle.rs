//! Lifecycle and scheduling inputs: start, stop, pause, resume, `sync()` calls and timers.

use std::time::Instant;

use super::timer::Timer;
use super::{Event, Lifecycle, SyncError, SyncMachine, Waiter};

impl SyncMachine {
    pub(super) fn start(&mut self, cursor: Option<u64>, pending: usize, now: Instant) {
        if self.lifecycle != Lifecycle::Stopped {
            return;
        }
        self.lifecycle = Lifecycle::Running;
        self.cursor = cursor;
        self.pending = pending;
        self.base_stale = false;
        self.want_pull = true;
        self.push_held = false;
        self.bisect_limit = None;
        self.backoff.reset();
        self.arm_intervals(now);
        self.live_start();
    }

    pub(super) fn stop(&mut self) {
        self.lifecycle = Lifecycle::Stopped;
        self.timers.clear();
        self.in_flight = None;
        self.awaiting_auth = None;
        self.just_refreshed = false;
        self.live_stop();
        self.fail_waiters(&SyncError::Stopped);
    }

    pub(super) fn pause(&mut self) {
        if self.lifecycle == Lifecycle::Running {
            self.lifecycle = Lifecycle::Paused;
            self.timers.clear();
            self.fail_waiters(&SyncError::Paused);
        }
    }

    pub(super) fn resume(&mut self, now: Instant) {
        if self.lifecycle == Lifecycle::Paused {
            self.lifecycle = Lifecycle::Running;
            self.want_pull = true;
            self.push_held = false;
            self.arm_intervals(now);
        }
    }

    pub(super) fn request_sync(&mut self, id: u64) {
        let refusal = match self.lifecycle {
            Lifecycle::Running => None,
            Lifecycle::Paused => Some(SyncError::Paused),
            Lifecycle::Stopped => Some(SyncError::Stopped),
        };
        if let Some(error) = refusal {
            self.emit(Event::SyncCompleted {
                id,
                result: Err(error),
            });
            return;
        }
        self.waiters.push(Waiter {
            id,
            push_target: self.settled_total + self.pending as u64,
            pulled_after: None,
        });
        self.want_pull = true;
        self.push_held = false;
        // The host asked explicitly: try now rather than at the end of a backoff.
        self.timers.stop(Timer::Retry);
    }

    pub(super) fn arm_intervals(&mut self, now: Instant) {
        self.timers
            .set(Timer::Push, now + self.options.push_interval);
        self.timers
            .set(Timer::Pull, now + self.options.pull_interval);
    }

    pub(super) fn fire_timers(&mut self, now: Instant) {
        for timer in self.timers.expire(now) {
            match timer {
                // Their expiry alone unblocks what waited for them.
                Timer::Retry | Timer::Doubt => {}
                Timer::Push => {
                    self.push_held = false;
                    self.timers
                        .set(Timer::Push, now + self.options.push_interval);
                }
                Timer::Pull => {
                    self.want_pull = true;
                    self.timers
                        .set(Timer::Pull, now + self.options.pull_interval);
                }
            }
        }
    }
}
