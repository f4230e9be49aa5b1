//! The machine's timers: an enum and a small table of deadlines.

use std::time::Instant;

/// A deadline the machine waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// End of a backoff: retry what failed.
    Retry,
    /// Periodic push of whatever is still pending.
    Push,
    /// Periodic pull, so the client is correct without the live channel.
    Pull,
    /// End of the window in which a push of unknown outcome may still run on the server:
    /// pushes wait for it (see [`MachineOptions::doubt_window`](super::MachineOptions)).
    Doubt,
}

impl Timer {
    const ALL: [Timer; 4] = [Timer::Retry, Timer::Push, Timer::Pull, Timer::Doubt];

    fn index(self) -> usize {
        match self {
            Timer::Retry => 0,
            Timer::Push => 1,
            Timer::Pull => 2,
            Timer::Doubt => 3,
        }
    }
}

/// One optional deadline per [`Timer`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Timers([Option<Instant>; 4]);

impl Timers {
    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        self.0[timer.index()] = Some(at);
    }

    pub(crate) fn stop(&mut self, timer: Timer) {
        self.0[timer.index()] = None;
    }

    /// The deadline of `timer`, when set.
    pub(crate) fn at(&self, timer: Timer) -> Option<Instant> {
        self.0[timer.index()]
    }

    pub(crate) fn is_set(&self, timer: Timer) -> bool {
        self.0[timer.index()].is_some()
    }

    pub(crate) fn clear(&mut self) {
        self.0 = [None; 4];
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.0.iter().flatten().min().copied()
    }

    /// Stops and returns the timers whose deadline is at or before `now`, in table order.
    pub(crate) fn expire(&mut self, now: Instant) -> Vec<Timer> {
        let mut expired = Vec::new();
        for timer in Timer::ALL {
            if self.0[timer.index()].is_some_and(|at| at <= now) {
                self.0[timer.index()] = None;
                expired.push(timer);
            }
        }
        expired
    }
}
