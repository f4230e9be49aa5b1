//! How outcomes are reported: online / offline transitions, errors, retries, auth refresh.

use std::time::Instant;

use super::timer::Timer;
use super::{Action, AuthFailure, Event, Lifecycle, Link, Operation, SyncError, SyncMachine};

impl SyncMachine {
    /// A 200 answer to `operation`: online, shortest backoff again, and that operation's error
    /// is resolved.
    pub(super) fn succeeded(&mut self, operation: Operation) {
        self.set_link(Link::Online);
        self.backoff.reset();
        let resolved = self
            .last_error
            .as_ref()
            .is_some_and(|(failed, _)| same_channel(*failed, operation));
        if resolved {
            self.last_error = None;
        }
    }

    /// The server answered, though not with a 200: it is reachable.
    pub(super) fn reached(&mut self) {
        self.set_link(Link::Online);
    }

    /// An unreachable or failing server: offline, `sync()` calls fail, retry after a backoff.
    /// No error event: the transition event and the status say it.
    pub(super) fn went_offline(&mut self, operation: Operation, error: SyncError, now: Instant) {
        self.set_link(Link::Offline);
        self.fail_waiters(&error);
        self.last_error = Some((operation, error));
        let delay = self.backoff.next_delay();
        self.arm_retry(now + delay);
    }

    /// 401 / 403: ask for fresh credentials once; if they were just refreshed, the refusal is
    /// final for now: surface it and retry after a long backoff.
    pub(super) fn auth_failed(
        &mut self,
        operation: Operation,
        status: u16,
        message: String,
        now: Instant,
    ) {
        self.reached();
        if self.just_refreshed {
            self.auth_refused(operation, SyncError::Unauthorized { status, message }, now);
        } else {
            self.awaiting_auth = Some(AuthFailure {
                operation,
                status,
                message,
            });
            self.actions.push_back(Action::RefreshAuth);
        }
    }

    pub(super) fn on_auth_refreshed(&mut self, ok: bool, now: Instant) {
        let Some(failure) = self.awaiting_auth.take() else {
            return;
        };
        if ok {
            self.just_refreshed = true;
        } else {
            let error = SyncError::Unauthorized {
                status: failure.status,
                message: format!("{} (credential refresh failed)", failure.message),
            };
            self.auth_refused(failure.operation, error, now);
        }
    }

    fn auth_refused(&mut self, operation: Operation, error: SyncError, now: Instant) {
        self.surface(operation, error);
        let delay = self.backoff.long_delay();
        self.arm_retry(now + delay);
    }

    /// Nothing is sent before `at`. Only while running: pause and stop clear all timers, and
    /// resuming or starting tries at once.
    fn arm_retry(&mut self, at: Instant) {
        if self.lifecycle == Lifecycle::Running {
            self.timers.set(Timer::Retry, at);
        }
    }

    /// An error the host must hear about that ends any `sync()` in progress.
    pub(super) fn surface(&mut self, operation: Operation, error: SyncError) {
        self.report(operation, error.clone());
        self.fail_waiters(&error);
    }

    /// An error the host must hear about that does not stop the sync (a skipped change).
    pub(super) fn report(&mut self, operation: Operation, error: SyncError) {
        self.last_error = Some((operation, error.clone()));
        self.emit(Event::Error { operation, error });
    }

    fn set_link(&mut self, link: Link) {
        if self.link == link {
            return;
        }
        self.link = link;
        match link {
            Link::Online => self.emit(Event::Online),
            Link::Offline => self.emit(Event::Offline),
            Link::Unknown => {}
        }
    }
}

/// Push errors are resolved by a push; pull and snapshot errors by a pull or a snapshot.
fn same_channel(a: Operation, b: Operation) -> bool {
    (a == Operation::Push) == (b == Operation::Push)
}
