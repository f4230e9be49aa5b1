//! The fuzzed server's answers to the request the session's driver has outstanding: raw bodies,
//! well-formed answers with fuzzed details, failures, and answers to abandoned requests.

use serde_json::json;

use super::{Request, Session, STATUSES};
use crate::__fuzz::Script;
use crate::protocol::machine::{Input, RequestId, SentMutation, TransportFailure};
use crate::protocol::wire::{
    Change, MutationResult, PullResponse, PushResponse, RawPullResponse, SnapshotResponse,
};

impl Session {
    /// Answers the outstanding request with a fuzzed body, decoded as the HTTP transport does
    /// (an undecodable 200 is a [`TransportFailure::Decode`]).
    pub(super) fn answer_raw(&mut self, script: &mut Script<'_>) {
        let body = script.chunk();
        let Some(request) = self.current.take() else {
            return;
        };
        let input = match request {
            Request::Push { id, sent } => {
                let result = decode::<PushResponse>(body);
                if let Ok(response) = &result {
                    self.note_results(&response.results);
                }
                self.push_answer(id, sent, result)
            }
            Request::Pull(id) => Input::Pulled {
                request: id,
                result: decode(body),
            },
            Request::Snapshot(id) => Input::Snapshotted {
                request: id,
                result: decode(body),
            },
        };
        self.handle(input);
    }

    /// Answers the outstanding request with a 200 in the protocol's shape, its details fuzzed:
    /// some results refused, pages of default-convention changes (some at or below the cursor),
    /// snapshots of a few entities.
    pub(super) fn answer_well_formed(&mut self, script: &mut Script<'_>) {
        let Some(request) = self.current.take() else {
            return;
        };
        let cursor = self.store.cursor().unwrap_or(0);
        let input = match request {
            Request::Push { id, sent } => {
                let mut results: Vec<MutationResult> = sent
                    .iter()
                    .map(|_| match script.byte() % 5 {
                        0 => MutationResult {
                            ok: false,
                            cursor: None,
                            error: Some("sync: conflict".into()),
                            changes: None,
                        },
                        _ => MutationResult {
                            ok: true,
                            cursor: Some(cursor.saturating_add(u64::from(script.byte()))),
                            error: None,
                            changes: None,
                        },
                    })
                    .collect();
                // Sometimes too few or too many results.
                match script.byte() % 8 {
                    0 => {
                        results.pop();
                    }
                    1 => results.push(results.first().cloned().unwrap_or(MutationResult {
                        ok: true,
                        cursor: None,
                        error: None,
                        changes: None,
                    })),
                    _ => {}
                }
                self.note_results(&results);
                self.push_answer(id, sent, Ok(PushResponse { results }))
            }
            Request::Pull(id) => {
                let mut changes = Vec::new();
                let mut at = cursor;
                for _ in 0..script.below(5) {
                    let step = u64::from(script.byte());
                    at = if step >= 200 {
                        at.saturating_sub(step - 200)
                    } else {
                        at.saturating_add(step)
                    };
                    changes.push(entity_change(script, at));
                }
                let flags = script.byte();
                let next_cursor =
                    (flags & 2 != 0).then(|| at.saturating_add(u64::from(flags >> 2)));
                Input::Pulled {
                    request: id,
                    result: Ok(PullResponse {
                        changes: (!changes.is_empty() || flags & 4 != 0).then_some(changes),
                        has_more: flags & 1 != 0,
                        next_cursor,
                    }
                    .into()),
                }
            }
            Request::Snapshot(id) => {
                let mut todo = serde_json::Map::new();
                for _ in 0..script.below(4) {
                    let id = ["a", "b", "c", "d"][script.below(4)];
                    todo.insert(id.into(), json!({"n": script.byte()}));
                }
                Input::Snapshotted {
                    request: id,
                    result: Ok(SnapshotResponse {
                        data: json!({ "todo": todo }),
                        cursor: cursor.saturating_add(u64::from(script.byte())),
                    }),
                }
            }
        };
        self.handle(input);
    }

    /// Answers the outstanding request with a failure.
    pub(super) fn answer_failure(&mut self, script: &mut Script<'_>) {
        let failure = match script.byte() % 4 {
            0 => TransportFailure::Network("connection reset".into()),
            1 => TransportFailure::Timeout,
            _ => {
                let status = STATUSES[script.below(STATUSES.len())];
                let code =
                    ["cursor_too_old", "invalid_mutation", "internal_error", ""][script.below(4)];
                TransportFailure::Http {
                    status,
                    code: (!code.is_empty()).then(|| code.to_owned()),
                    message: String::from_utf8_lossy(script.chunk()).into_owned(),
                }
            }
        };
        let Some(request) = self.current.take() else {
            return;
        };
        let input = match request {
            Request::Push { id, sent } => self.push_answer(id, sent, Err(failure)),
            Request::Pull(id) => Input::Pulled {
                request: id,
                result: Err(failure),
            },
            Request::Snapshot(id) => Input::Snapshotted {
                request: id,
                result: Err(failure),
            },
        };
        self.handle(input);
    }

    /// Answers a request abandoned by a stop: the machine must ignore it entirely.
    pub(super) fn answer_stale(&mut self) {
        let Some(request) = self.stale.pop() else {
            return;
        };
        let before = self.machine.status();
        let input = match request {
            Request::Push { id, sent } => Input::Pushed {
                request: id,
                sent,
                result: Ok(PushResponse { results: vec![] }),
            },
            Request::Pull(id) => Input::Pulled {
                request: id,
                result: Ok(RawPullResponse {
                    changes: None,
                    has_more: true,
                    next_cursor: Some(u64::MAX),
                }),
            },
            Request::Snapshot(id) => Input::Snapshotted {
                request: id,
                result: Ok(SnapshotResponse {
                    data: json!({}),
                    cursor: u64::MAX,
                }),
            },
        };
        self.machine.handle(input, self.now);
        assert_eq!(
            self.machine.poll_action(),
            None,
            "a stale answer is ignored"
        );
        assert_eq!(
            self.machine.status(),
            before,
            "a stale answer changes nothing"
        );
    }

    pub(super) fn push_answer(
        &mut self,
        id: RequestId,
        sent: Vec<SentMutation>,
        result: Result<PushResponse, TransportFailure>,
    ) -> Input {
        self.answering.clone_from(&sent);
        Input::Pushed {
            request: id,
            sent,
            result,
        }
    }

    fn note_results(&mut self, results: &[MutationResult]) {
        for cursor in results.iter().filter_map(|r| r.cursor) {
            self.highest_result_cursor = self.highest_result_cursor.max(cursor);
        }
    }
}

/// A default-convention change at `cursor`, its details from the script.
fn entity_change(script: &mut Script<'_>, cursor: u64) -> Change {
    let id = ["a", "b", "c", ""][script.below(4)];
    let op = ["create", "update", "delete", "rename"][script.below(4)];
    let data = match script.byte() % 8 {
        0 => None,
        1 => Some(json!("not an object")),
        _ => Some(json!({"entity": "todo", "id": id, "op": op, "data": {"n": cursor}})),
    };
    Change {
        cursor,
        scope: "s".into(),
        time: String::new(),
        data,
    }
}

/// A 200 body decoded as the HTTP transport does.
fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, TransportFailure> {
    serde_json::from_slice(body).map_err(|e| TransportFailure::Decode(e.to_string()))
}
