//! Golden transcripts of the sync machine: inputs in, actions out, on a simulated clock.
//!
//! [`Harness`] plays the driver: a fake store queue of pending mutations, and a clock that only
//! moves when a test says so. Actions are rendered as short lines so a transcript reads as the
//! conversation it pins.

mod fetch;
mod live;
mod push;
mod schedule;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::*;
use crate::protocol::codec::DefaultCodec;
use crate::protocol::wire::{Change, MutationResult, PullResponse, PushResponse, SnapshotResponse};

pub(super) struct Harness {
    pub(super) machine: SyncMachine,
    pub(super) now: Instant,
    /// The fake store's pending queue, oldest first.
    pub(super) queue: Vec<SentMutation>,
    written: usize,
    /// The last request the machine asked for, with its push limit.
    request: Option<(RequestId, usize)>,
}

pub(super) fn options() -> MachineOptions {
    MachineOptions {
        scope: "s".into(),
        pull_limit: 2,
        push_interval: Duration::from_secs(10),
        pull_interval: Duration::from_secs(30),
        backoff_min: Duration::from_secs(1),
        backoff_max: Duration::from_secs(60),
        jitter_seed: 42,
        ..MachineOptions::default()
    }
}

impl Harness {
    pub(super) fn new() -> Self {
        Harness::with(options())
    }

    pub(super) fn with(options: MachineOptions) -> Self {
        let machine = SyncMachine::new(options, Arc::new(DefaultCodec)).expect("valid options");
        Harness {
            machine,
            now: Instant::now(),
            queue: Vec::new(),
            written: 0,
            request: None,
        }
    }

    /// A started machine that has synced to `cursor` with nothing pending.
    pub(super) fn synced(cursor: u64) -> Self {
        let mut h = Harness::new();
        h.handle(Input::Start {
            cursor: Some(cursor),
            pending: 0,
        });
        h.pulled(Ok(page(&[], false, None)));
        h
    }

    /// Feeds one input at the current time; returns the rendered actions.
    pub(super) fn handle(&mut self, input: Input) -> Vec<String> {
        self.machine.handle(input, self.now);
        let mut lines = Vec::new();
        while let Some(action) = self.machine.poll_action() {
            match &action {
                Action::SendPush { request, limit } => self.request = Some((*request, *limit)),
                Action::SendPull { request, .. } | Action::SendSnapshot { request, .. } => {
                    self.request = Some((*request, 0));
                }
                Action::ApplyPush { acked, rejected } => self.queue.retain(|m| {
                    !acked.contains(&m.id) && !rejected.iter().any(|r| r.mutation_id == m.id)
                }),
                _ => {}
            }
            lines.push(render(&action));
        }
        lines
    }

    /// Local writes `m<k>` committed to the store, then reported.
    pub(super) fn write(&mut self, count: usize) -> Vec<String> {
        for _ in 0..count {
            self.queue.push(SentMutation {
                id: format!("m{}", self.written),
                name: "todo.create".into(),
            });
            self.written += 1;
        }
        let count = self.queue.len();
        self.handle(Input::PendingChanged { count })
    }

    fn request(&self) -> (RequestId, usize) {
        self.request.expect("a request was sent")
    }

    /// Answers the last push with one result per mutation sent (`ok(n)` for mutation `m<k>` gives
    /// cursor `100 + k`), or with a failure.
    pub(super) fn pushed(&mut self, result: Result<(), TransportFailure>) -> Vec<String> {
        self.pushed_with(|_| None, result)
    }

    /// Like [`pushed`](Self::pushed), with `reject(id)` giving the error text of refused ones.
    pub(super) fn pushed_with(
        &mut self,
        reject: impl Fn(&str) -> Option<&'static str>,
        result: Result<(), TransportFailure>,
    ) -> Vec<String> {
        let (request, limit) = self.request();
        let sent: Vec<SentMutation> = self.queue.iter().take(limit).cloned().collect();
        let result = result.map(|()| PushResponse {
            results: sent
                .iter()
                .map(|m| match reject(&m.id) {
                    Some(text) => MutationResult {
                        ok: false,
                        cursor: None,
                        error: Some(text.into()),
                        changes: None,
                    },
                    None => ok(100 + m.id[1..].parse::<u64>().unwrap_or(0)),
                })
                .collect(),
        });
        self.handle(Input::Pushed {
            request,
            sent,
            result,
        })
    }

    pub(super) fn pulled(&mut self, result: Result<PullResponse, TransportFailure>) -> Vec<String> {
        let (request, _) = self.request();
        let result = result.map(Into::into);
        self.handle(Input::Pulled { request, result })
    }

    pub(super) fn snapshotted(
        &mut self,
        result: Result<SnapshotResponse, TransportFailure>,
    ) -> Vec<String> {
        let (request, _) = self.request();
        self.handle(Input::Snapshotted { request, result })
    }

    /// Moves the clock forward by `secs` and ticks.
    pub(super) fn advance(&mut self, secs: f64) -> Vec<String> {
        self.now += Duration::from_secs_f64(secs);
        self.handle(Input::Tick)
    }

    /// Moves the clock to the next deadline and ticks; returns the wait and the actions.
    pub(super) fn wait(&mut self) -> (Duration, Vec<String>) {
        let at = self.machine.poll_timeout().expect("a timer is armed");
        let waited = at.saturating_duration_since(self.now);
        self.now = at;
        (waited, self.handle(Input::Tick))
    }
}

pub(super) fn ok(cursor: u64) -> MutationResult {
    MutationResult {
        ok: true,
        cursor: Some(cursor),
        error: None,
        changes: None,
    }
}

pub(super) fn http(status: u16, code: &str, message: &str) -> TransportFailure {
    TransportFailure::Http {
        status,
        code: Some(code.into()),
        message: message.into(),
    }
}

/// A change in the default convention (`data: null` for a change without entity data).
pub(super) fn change(cursor: u64, data: Value) -> Change {
    Change {
        cursor,
        scope: "s".into(),
        time: "2026-01-01T00:00:00.000000001Z".into(),
        data: (!data.is_null()).then_some(data),
    }
}

/// A create of `todo/<id>` at `cursor`.
pub(super) fn created(cursor: u64, id: &str) -> Change {
    change(
        cursor,
        json!({"entity":"todo","id":id,"op":"create","data":{"n":cursor}}),
    )
}

pub(super) fn page(changes: &[Change], has_more: bool, next: Option<u64>) -> PullResponse {
    PullResponse {
        changes: (!changes.is_empty()).then(|| changes.to_vec()),
        has_more,
        next_cursor: next,
    }
}

pub(super) fn snapshot(data: Value, cursor: u64) -> SnapshotResponse {
    SnapshotResponse { data, cursor }
}

/// One action as a short line.
fn render(action: &Action) -> String {
    match action {
        Action::SendPush { request, limit } => format!("push #{} limit={limit}", request.0),
        Action::SendPull { request, body } => format!(
            "pull #{} scope={} cursor={} limit={}",
            request.0,
            body.scope,
            body.cursor,
            body.limit.unwrap_or(0)
        ),
        Action::SendSnapshot { request, body } => {
            format!("snapshot #{} scope={}", request.0, body.scope)
        }
        Action::ApplyPush { acked, rejected } => {
            let rejected: Vec<_> = rejected.iter().map(|r| r.mutation_id.as_str()).collect();
            format!(
                "apply-push acked={} rejected={}",
                ids(acked),
                rejected.join(",")
            )
        }
        Action::SwapStagedBase { cursor } => format!("swap-staged-base cursor={cursor}"),
        Action::ApplyChanges { changes, cursor } => {
            let changes: Vec<_> = changes
                .iter()
                .map(|c| format!("{}/{} {}", c.key.collection, c.key.id, c.op.as_str()))
                .collect();
            format!("apply-changes cursor={cursor} [{}]", changes.join(", "))
        }
        Action::ReplaceBase { data, cursor } => {
            let counts: Vec<_> = data
                .iter()
                .map(|(c, e)| format!("{c}:{}", e.len()))
                .collect();
            format!("replace-base cursor={cursor} {{{}}}", counts.join(","))
        }
        Action::RefreshAuth => "refresh-auth".into(),
        Action::ConnectLive { refresh_auth } => format!("connect-live refresh_auth={refresh_auth}"),
        Action::CloseLive => "close-live".into(),
        Action::Emit(Event::Online) => "online".into(),
        Action::Emit(Event::Offline) => "offline".into(),
        Action::Emit(Event::Synced { cursor }) => format!("synced {cursor}"),
        Action::Emit(Event::Rejected(r)) => {
            format!("rejected {} {}: {}", r.mutation_id, r.name, r.reason)
        }
        Action::Emit(Event::Error { operation, error }) => format!("error {operation:?}: {error}"),
        Action::Emit(Event::SyncCompleted { id, result }) => match result {
            Ok(()) => format!("sync {id} ok"),
            Err(error) => format!("sync {id} failed: {error}"),
        },
    }
}

/// `m0,m1` for a few ids, `m0..m99 (100)` for many.
fn ids(ids: &[String]) -> String {
    match ids {
        [first, .., last] if ids.len() > 3 => format!("{first}..{last} ({})", ids.len()),
        _ => ids.join(","),
    }
}

#[test]
fn refuses_options_that_cannot_work() {
    let bad = [
        MachineOptions {
            push_batch_size: 0,
            ..options()
        },
        MachineOptions {
            push_batch_size: 101,
            ..options()
        },
        MachineOptions {
            pull_limit: 0,
            ..options()
        },
        MachineOptions {
            pull_interval: Duration::ZERO,
            ..options()
        },
        MachineOptions {
            backoff_min: Duration::from_secs(9),
            backoff_max: Duration::from_secs(8),
            ..options()
        },
    ];
    for options in bad {
        assert!(
            SyncMachine::new(options.clone(), Arc::new(DefaultCodec)).is_err(),
            "{options:?}"
        );
    }
    assert!(SyncMachine::new(MachineOptions::default(), Arc::new(DefaultCodec)).is_ok());
}
