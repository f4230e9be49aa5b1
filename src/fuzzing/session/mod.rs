//! [`sync_session`]: the sync machine and a real in-memory store, driven by a simulated driver
//! through a fuzzed conversation with a server that may answer anything.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

mod answers;

use super::Script;
use crate::protocol::codec::DefaultCodec;
use crate::protocol::entity::{EntityChange, EntityKey, EntityOp};
use crate::protocol::machine::{
    Action, Event, Input, MachineOptions, RequestId, SentMutation, SyncMachine,
};
use crate::protocol::wire::{
    Mutation, MutationResult, PushResponse, RawPullResponse, SnapshotResponse,
};
use crate::store::Store;

/// Steps of the final, cooperative drain (plus two per pending mutation) before the queue must be
/// empty and synced.
const DRAIN_STEPS: usize = 400;

/// Statuses a fuzzed server answers with, besides 200.
const STATUSES: [u16; 12] = [400, 401, 403, 404, 408, 409, 410, 413, 429, 500, 503, 302];

/// Runs one fuzzed session, then lets a cooperative server drain it.
///
/// # Panics
/// When the machine breaks its contract: two requests in flight, a push limit out of range, a
/// cursor that moves backwards through a pull, a store effect the store refuses, an
/// acknowledgement or rejection of a mutation that was not sent, a `sync()` completed twice,
/// a status that disagrees with the store, an action in answer to a stale response, or a queue
/// that does not drain once the server cooperates.
pub fn sync_session(data: &[u8]) {
    let mut script = Script::new(data);
    let mut session = Session::new(&mut script);
    while !script.is_empty() {
        session.step(&mut script);
    }
    session.drain();
}

/// The request the simulated driver has outstanding.
#[derive(Debug, Clone)]
enum Request {
    Push {
        id: RequestId,
        sent: Vec<SentMutation>,
    },
    Pull(RequestId),
    Snapshot(RequestId),
}

struct Session {
    machine: SyncMachine,
    store: Store,
    now: Instant,
    batch_size: usize,
    /// The request the machine is waiting for, as the driver sees it.
    current: Option<Request>,
    /// Requests abandoned by a stop: answers to them must be ignored.
    stale: Vec<Request>,
    /// The mutations of the push being answered: the only ones an `ApplyPush` may name.
    answering: Vec<SentMutation>,
    awaiting_auth: bool,
    written: u64,
    sync_ids: u64,
    open_syncs: BTreeSet<u64>,
    /// The largest cursor any push result carried: a cooperative pull reaches at least this.
    highest_result_cursor: u64,
}

impl Session {
    fn new(script: &mut Script<'_>) -> Self {
        let batch_size = 1 + script.below(100);
        let options = MachineOptions {
            scope: "s".into(),
            push_batch_size: batch_size,
            pull_limit: 1 + u32::from(script.byte()),
            jitter_seed: u64::from(script.byte()),
            ..MachineOptions::default()
        };
        let machine = SyncMachine::new(options, Arc::new(DefaultCodec)).expect("valid options");
        let store = Store::open_in_memory();
        let cursor = match script.byte() % 3 {
            0 => None,
            1 => Some(u64::from(script.byte())),
            _ => Some(script.u64()),
        };
        if let Some(cursor) = cursor {
            store
                .replace_base(Default::default(), cursor)
                .expect("an empty base is stored");
        }
        let mut session = Session {
            machine,
            store,
            now: Instant::now(),
            batch_size,
            current: None,
            stale: Vec::new(),
            answering: Vec::new(),
            awaiting_auth: false,
            written: 0,
            sync_ids: 0,
            open_syncs: BTreeSet::new(),
            highest_result_cursor: 0,
        };
        // Mutations queued before the start (e.g. by an earlier run of the app).
        for _ in 0..script.below(4) {
            let mutation = session.mutation("note.touch");
            session
                .store
                .enqueue(mutation, None)
                .expect("a fresh mutation is queued");
        }
        session.handle(Input::Start {
            cursor,
            pending: session.store.pending_count(),
        });
        session
    }

    fn step(&mut self, script: &mut Script<'_>) {
        match script.byte() % 16 {
            0 => self.write(1 + script.below(3)),
            1 | 2 => self.answer_raw(script),
            3 | 4 => self.answer_well_formed(script),
            5 => self.answer_failure(script),
            6 => self.answer_stale(),
            7 => {
                let envelope = script.chunk();
                if let Ok(envelope) =
                    serde_json::from_slice::<crate::protocol::wire::LiveEnvelope>(envelope)
                {
                    if let Some(cursor) = envelope.sync_cursor("s") {
                        self.handle(Input::LiveCursor(cursor));
                    }
                }
            }
            8 => self.handle(Input::LiveCursor(script.u64())),
            9 => {
                self.sync_ids += 1;
                self.open_syncs.insert(self.sync_ids);
                self.handle(Input::SyncRequested { id: self.sync_ids });
            }
            10 => {
                self.now += Duration::from_millis(u64::from(script.byte()) * 250);
                self.handle(Input::Tick);
            }
            11 => self.advance_to_timeout(),
            12 => {
                let input = match script.below(3) {
                    0 => Input::Pause,
                    1 => Input::Resume,
                    _ => Input::Stop,
                };
                self.lifecycle(input);
            }
            13 => {
                let cursor = self.store.cursor();
                let pending = self.store.pending_count();
                self.handle(Input::Start { cursor, pending });
            }
            14 => {
                if self.awaiting_auth {
                    self.awaiting_auth = false;
                    self.handle(Input::AuthRefreshed {
                        ok: !script.byte().is_multiple_of(4),
                    });
                }
            }
            _ => {
                // A local write to an entity the server may also change.
                self.write_entity(script);
            }
        }
    }

    /// Stops, pauses or resumes; a stop abandons the outstanding request.
    fn lifecycle(&mut self, input: Input) {
        if input == Input::Stop {
            self.stale.extend(self.current.take());
            self.awaiting_auth = false;
        }
        self.handle(input);
    }

    /// `count` app-defined mutations, queued durably, then reported.
    fn write(&mut self, count: usize) {
        for _ in 0..count {
            let mutation = self.mutation("note.touch");
            self.store
                .enqueue(mutation, None)
                .expect("a fresh mutation is queued");
        }
        let count = self.store.pending_count();
        self.handle(Input::PendingChanged { count });
    }

    fn write_entity(&mut self, script: &mut Script<'_>) {
        let op = [EntityOp::Create, EntityOp::Update, EntityOp::Delete][script.below(3)];
        let key = EntityKey::new("todo", ["a", "b", "c"][script.below(3)]);
        let mutation = self.mutation(&format!("todo.{}", op.as_str()));
        let value = (op != EntityOp::Delete).then(|| json!({"n": script.byte()}).to_string());
        let change = EntityChange {
            key,
            op,
            value: value.map(Into::into),
        };
        self.store
            .enqueue(mutation, Some(change))
            .expect("a well-formed write is queued");
        let count = self.store.pending_count();
        self.handle(Input::PendingChanged { count });
    }

    fn mutation(&mut self, name: &str) -> Mutation {
        self.written += 1;
        Mutation {
            id: format!("m{}", self.written),
            scope: "s".into(),
            name: name.into(),
            args: None,
        }
    }

    fn advance_to_timeout(&mut self) {
        if let Some(at) = self.machine.poll_timeout() {
            self.now = self.now.max(at);
        }
        self.handle(Input::Tick);
    }

    /// Feeds `input`, executes every action as a driver would, and checks the invariants.
    fn handle(&mut self, input: Input) {
        let mut inputs = vec![input];
        while let Some(input) = inputs.pop() {
            self.machine.handle(input, self.now);
            let mut pending_changed = false;
            while let Some(action) = self.machine.poll_action() {
                pending_changed |= self.execute(action);
            }
            if pending_changed {
                inputs.push(Input::PendingChanged {
                    count: self.store.pending_count(),
                });
            }
        }
        self.answering.clear();
        let status = self.machine.status();
        assert_eq!(
            status.cursor,
            self.store.cursor(),
            "machine and store cursors agree"
        );
        assert_eq!(
            status.pending,
            self.store.pending_count(),
            "machine and store agree on what is pending"
        );
    }

    /// Executes one action; returns whether the pending queue changed.
    fn execute(&mut self, action: Action) -> bool {
        match action {
            Action::SendPush { request, limit } => {
                self.expect_idle("push");
                assert!(
                    (1..=self.batch_size).contains(&limit),
                    "push limit {limit} within 1..={}",
                    self.batch_size
                );
                let sent = self
                    .store
                    .pending(limit)
                    .into_iter()
                    .map(|p| SentMutation {
                        id: p.mutation.id,
                        name: p.mutation.name,
                    })
                    .collect();
                self.current = Some(Request::Push { id: request, sent });
            }
            Action::SendPull { request, body } => {
                self.expect_idle("pull");
                // The machine's cursor: a pull continuing a page is sent before that page's
                // apply (overlap), which brings the store to the same cursor right after.
                assert_eq!(
                    Some(body.cursor),
                    self.machine.status().cursor,
                    "pulls from the cursor"
                );
                self.current = Some(Request::Pull(request));
            }
            Action::SendSnapshot { request, .. } => {
                self.expect_idle("snapshot");
                self.current = Some(Request::Snapshot(request));
            }
            Action::ApplyPush { acked, rejected } => {
                let mut named = BTreeSet::new();
                for id in acked.iter().chain(rejected.iter().map(|r| &r.mutation_id)) {
                    assert!(
                        self.answering.iter().any(|m| &m.id == id),
                        "settles {id}, which the answered push did not send"
                    );
                    assert!(named.insert(id.clone()), "settles {id} twice");
                }
                let rejected: Vec<String> = rejected.into_iter().map(|r| r.mutation_id).collect();
                self.store
                    .settle(&acked, &rejected)
                    .expect("the store settles");
                return true;
            }
            Action::ApplyChanges { changes, cursor } => {
                let from = self.store.cursor().unwrap_or(0);
                assert!(
                    cursor >= from,
                    "a pull moved the cursor back from {from} to {cursor}"
                );
                self.store
                    .apply_remote(&changes, cursor)
                    .expect("decoded changes apply");
            }
            Action::ReplaceBase { data, cursor } => {
                self.store
                    .replace_base(data, cursor)
                    .expect("a decoded snapshot applies");
            }
            Action::SwapStagedBase { .. } => {
                unreachable!("the session answers snapshots whole, never as staged")
            }
            Action::RefreshAuth => {
                assert!(!self.awaiting_auth, "one credential refresh at a time");
                self.awaiting_auth = true;
            }
            Action::ConnectLive { .. } | Action::CloseLive => {
                panic!("the live socket was asked for by a machine without a live channel")
            }
            Action::Emit(event) => self.event(event),
        }
        false
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::Rejected(rejection) => assert!(
                self.answering.iter().any(|m| m.id == rejection.mutation_id),
                "rejects {}, which the answered push did not send",
                rejection.mutation_id
            ),
            Event::SyncCompleted { id, .. } => {
                assert!(self.open_syncs.remove(&id), "sync {id} completed twice");
            }
            Event::Synced { cursor } => {
                assert_eq!(
                    Some(cursor),
                    self.store.cursor(),
                    "synced to the stored cursor"
                );
            }
            Event::Online | Event::Offline | Event::Error { .. } => {}
        }
    }

    fn expect_idle(&self, what: &str) {
        assert!(
            self.current.is_none(),
            "asked for a {what} while {:?} is in flight",
            self.current
        );
        assert!(
            !self.awaiting_auth,
            "asked for a {what} while refreshing credentials"
        );
    }

    /// A cooperative server from here on: every push acknowledged, pulls reach past every
    /// acknowledged cursor, snapshots succeed, credentials refresh. The queue must drain and
    /// the machine settle within [`DRAIN_STEPS`] plus two steps per pending mutation.
    fn drain(&mut self) {
        let cursor = self.store.cursor();
        let pending = self.store.pending_count();
        self.handle(Input::Start { cursor, pending });
        self.handle(Input::Resume);
        // With a batch of one, every pending mutation takes a push of its own.
        let budget = DRAIN_STEPS + 2 * self.store.pending_count();
        for _ in 0..budget {
            if self.store.pending_count() == 0 && self.machine.is_settled() {
                return;
            }
            if self.awaiting_auth {
                self.awaiting_auth = false;
                self.handle(Input::AuthRefreshed { ok: true });
                continue;
            }
            let head = self
                .highest_result_cursor
                .max(self.store.cursor().unwrap_or(0));
            let input = match self.current.take() {
                None => {
                    self.advance_to_timeout();
                    continue;
                }
                Some(Request::Push { id, sent }) => {
                    let results = sent
                        .iter()
                        .map(|_| MutationResult {
                            ok: true,
                            cursor: Some(head),
                            error: None,
                            changes: None,
                        })
                        .collect();
                    self.push_answer(id, sent, Ok(PushResponse { results }))
                }
                Some(Request::Pull(id)) => Input::Pulled {
                    request: id,
                    result: Ok(RawPullResponse {
                        changes: None,
                        has_more: false,
                        next_cursor: Some(head),
                    }),
                },
                Some(Request::Snapshot(id)) => Input::Snapshotted {
                    request: id,
                    result: Ok(SnapshotResponse {
                        data: json!({}),
                        cursor: head,
                    }),
                },
            };
            self.handle(input);
        }
        panic!(
            "the queue did not drain against a cooperative server: {} pending, {:?}",
            self.store.pending_count(),
            self.machine
        );
    }
}
