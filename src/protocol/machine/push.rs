//! Push answers: acknowledgements, rejections (believed only once no earlier copy of the push
//! can still run), bisection of refused batches.

use std::time::Instant;

use super::failure::{classify, may_still_run, Disposition};
use super::timer::Timer;
use super::{
    Action, Event, Operation, Rejection, SentMutation, SyncError, SyncMachine, TransportFailure,
};
use crate::protocol::wire::PushResponse;

/// What one 200 push response means, computed before anything changes.
#[derive(Debug, Default, PartialEq)]
struct PushOutcome {
    acked: Vec<String>,
    rejected: Vec<Rejection>,
    max_cursor: Option<u64>,
    /// Set when the results do not match the mutations sent one for one.
    mismatch: Option<SyncError>,
}

impl PushOutcome {
    /// Pairs results with the mutations sent, in order. Mutations without a result stay pending
    /// (they are sent again: ids make that safe); extra results are ignored.
    fn new(sent: Vec<SentMutation>, response: PushResponse) -> Self {
        let mut outcome = PushOutcome::default();
        if response.results.len() != sent.len() {
            outcome.mismatch = Some(SyncError::Protocol(format!(
                "push of {} mutations returned {} results",
                sent.len(),
                response.results.len()
            )));
        }
        for (mutation, result) in sent.into_iter().zip(response.results) {
            if result.ok {
                outcome.acked.push(mutation.id);
                outcome.max_cursor = outcome.max_cursor.max(result.cursor);
            } else {
                let reason = result
                    .error
                    .filter(|e| !e.is_empty())
                    .unwrap_or_else(|| "rejected by the server without a reason".into());
                outcome.rejected.push(Rejection {
                    mutation_id: mutation.id,
                    name: mutation.name,
                    reason,
                });
            }
        }
        outcome
    }
}

impl SyncMachine {
    pub(super) fn on_pushed(
        &mut self,
        sent: Vec<SentMutation>,
        result: Result<PushResponse, TransportFailure>,
        now: Instant,
    ) {
        if sent.is_empty() {
            // The store had nothing to send, so no request was made: our count was stale.
            self.pending = 0;
            return;
        }
        match result {
            Ok(response) => {
                self.succeeded(Operation::Push);
                let outcome = PushOutcome::new(sent, response);
                self.apply_push(outcome, now);
            }
            Err(failure) => {
                if may_still_run(&failure) {
                    self.doubt(&sent, now);
                }
                self.push_failed(sent, failure, now);
            }
        }
    }

    fn push_failed(&mut self, sent: Vec<SentMutation>, failure: TransportFailure, now: Instant) {
        match classify(Operation::Push, failure) {
            Disposition::Offline(error) => self.went_offline(Operation::Push, error, now),
            Disposition::Auth { status, message } => {
                self.auth_failed(Operation::Push, status, message, now);
            }
            Disposition::Bisect { status, message } => self.bisect(sent, status, message),
            Disposition::CursorTooOld(error) | Disposition::Refused(error) => {
                self.reached();
                self.push_held = true;
                self.surface(Operation::Push, error);
            }
        }
    }

    /// The outcome of a push of `sent` is unknown: it may still run on the server until the
    /// doubt window has passed.
    fn doubt(&mut self, sent: &[SentMutation], now: Instant) {
        self.in_doubt.retain(|_, until| *until > now);
        let until = now + self.options.doubt_window;
        for m in sent {
            self.in_doubt.insert(m.id.clone(), until);
        }
    }

    /// Splits off the rejections not to be believed yet (an earlier push of the mutation may
    /// still run) and holds pushes until the last of their windows closes. Every mutation
    /// answered for good leaves the doubt set.
    fn believed(
        &mut self,
        acked: &[String],
        rejected: Vec<Rejection>,
        now: Instant,
    ) -> Vec<Rejection> {
        for id in acked {
            self.in_doubt.remove(id);
        }
        let mut believed = Vec::with_capacity(rejected.len());
        for rejection in rejected {
            match self.in_doubt.get(&rejection.mutation_id) {
                Some(&until) if until > now => {
                    let hold = self
                        .timers
                        .at(Timer::Doubt)
                        .map_or(until, |at| at.max(until));
                    self.timers.set(Timer::Doubt, hold);
                }
                _ => {
                    self.in_doubt.remove(&rejection.mutation_id);
                    believed.push(rejection);
                }
            }
        }
        believed
    }

    fn apply_push(&mut self, outcome: PushOutcome, now: Instant) {
        let PushOutcome {
            acked,
            rejected,
            max_cursor,
            mismatch,
        } = outcome;
        let rejected = self.believed(&acked, rejected, now);
        self.pending = self.pending.saturating_sub(acked.len() + rejected.len());
        self.settled_total += (acked.len() + rejected.len()) as u64;
        if !acked.is_empty() {
            self.want_pull = true;
            self.unpulled_since.get_or_insert(now);
        }
        if let Some(cursor) = max_cursor {
            self.max_acked_cursor = self.max_acked_cursor.max(cursor);
        }
        if !acked.is_empty() || !rejected.is_empty() {
            self.actions.push_back(Action::ApplyPush {
                acked,
                rejected: rejected.clone(),
            });
        }
        for rejection in rejected {
            self.emit(Event::Rejected(rejection));
        }
        match mismatch {
            Some(error) => {
                self.push_held = true;
                self.surface(Operation::Push, error);
            }
            None => {
                // Grow back after a bisection, one doubling per successful push.
                self.bisect_limit = self
                    .bisect_limit
                    .map(|limit| limit * 2)
                    .filter(|limit| *limit < self.options.push_batch_size);
            }
        }
    }

    /// 400 / 413 on a batch: halve it; a batch of one is the culprit and is rejected.
    fn bisect(&mut self, mut sent: Vec<SentMutation>, status: u16, message: String) {
        self.reached();
        if sent.len() > 1 {
            self.bisect_limit = Some(sent.len() / 2);
            return;
        }
        self.bisect_limit = None;
        let Some(mutation) = sent.pop() else {
            return; // `on_pushed` handles an empty `sent`.
        };
        let reason = if message.is_empty() {
            format!("HTTP {status}")
        } else {
            message
        };
        let rejection = Rejection {
            mutation_id: mutation.id,
            name: mutation.name,
            reason,
        };
        self.pending = self.pending.saturating_sub(1);
        self.settled_total += 1;
        self.actions.push_back(Action::ApplyPush {
            acked: Vec::new(),
            rejected: vec![rejection.clone()],
        });
        self.emit(Event::Rejected(rejection));
    }
}
