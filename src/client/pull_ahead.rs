//! The next page of a catch-up, asked for before the engine asks.
//!
//! When a pull answer says more changes follow, the machine's next request is the pull that
//! continues from the page's cursor (see [`SyncMachine`](crate::protocol::machine::SyncMachine)
//! on pulls). The I/O worker sends that request as soon as it has handed the page over, so the
//! server builds page N + 1 while the engine decodes and applies page N; when the engine's
//! request for it comes, it takes that answer (success or failure, as if it had been sent then).
//! Any other request next (a push, a snapshot, a pull from elsewhere) drops it: a page fetched
//! ahead only ever answers the request that immediately follows its page, so a `sync()` round
//! never ends on an answer older than itself. Pulls only read, so a dropped one changes nothing.

use crate::protocol::machine::TransportFailure;
use crate::protocol::wire::{PullRequest, RawPullResponse};

/// An answer to a pull, as the transport gives it.
pub(crate) type PullAnswer = Result<RawPullResponse, TransportFailure>;

/// The pull that continues `body` after its answer `response`: `None` unless the page says more
/// follow and moves the cursor. Its cursor is the one the machine moves to: the highest of the
/// page's change cursors above `body`'s and of its `next_cursor`.
pub(crate) fn continuation(body: &PullRequest, response: &RawPullResponse) -> Option<PullRequest> {
    if !response.has_more {
        return None;
    }
    let from = body.cursor;
    let cursor = response
        .changes
        .iter()
        .flatten()
        .map(|change| change.cursor)
        .chain(response.next_cursor)
        .fold(from, u64::max);
    (cursor > from).then(|| PullRequest {
        cursor,
        ..body.clone()
    })
}

/// At most one answer fetched ahead, with the request it answers.
#[derive(Default)]
pub(crate) struct PullAhead {
    fetched: Option<(PullRequest, PullAnswer)>,
}

impl PullAhead {
    /// Keeps `answer`, fetched ahead for `body`.
    pub(crate) fn keep(&mut self, body: PullRequest, answer: PullAnswer) {
        self.fetched = Some((body, answer));
    }

    /// The answer fetched ahead for exactly `body`, if any. Called before every request: it
    /// drops an answer fetched for anything else.
    pub(crate) fn take_for(&mut self, body: Option<&PullRequest>) -> Option<PullAnswer> {
        match (self.fetched.take(), body) {
            (Some((fetched, answer)), Some(body)) if fetched == *body => Some(answer),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::wire::RawChange;

    fn body(cursor: u64) -> PullRequest {
        PullRequest {
            scope: "s".into(),
            cursor,
            limit: Some(1000),
        }
    }

    fn page(cursors: &[u64], has_more: bool, next_cursor: Option<u64>) -> RawPullResponse {
        let changes = cursors
            .iter()
            .map(|&cursor| RawChange {
                cursor,
                scope: "s".into(),
                time: String::new(),
                data: None,
            })
            .collect();
        RawPullResponse {
            changes: Some(changes),
            has_more,
            next_cursor,
        }
    }

    #[test]
    fn a_page_with_more_continues_from_its_highest_cursor() {
        let next = continuation(&body(10), &page(&[11, 14, 12], true, None)).unwrap();
        assert_eq!(next, body(14));
        let next = continuation(&body(10), &page(&[11], true, Some(20))).unwrap();
        assert_eq!(next, body(20), "next_cursor moves it further");
        let next = continuation(&body(10), &page(&[3, 15], true, None)).unwrap();
        assert_eq!(
            next,
            body(15),
            "a change at or below the cursor does not count"
        );
    }

    #[test]
    fn the_last_page_or_one_that_does_not_move_has_no_continuation() {
        assert_eq!(continuation(&body(10), &page(&[11], false, Some(11))), None);
        assert_eq!(continuation(&body(10), &page(&[4, 10], true, None)), None);
        assert_eq!(continuation(&body(10), &page(&[], true, None)), None);
    }

    #[test]
    fn an_answer_fetched_ahead_serves_only_the_next_request_and_only_if_it_matches() {
        let mut ahead = PullAhead::default();
        ahead.keep(body(14), Ok(page(&[15], false, None)));
        assert!(ahead.take_for(Some(&body(13))).is_none());
        assert!(
            ahead.take_for(Some(&body(14))).is_none(),
            "dropped by the request before"
        );

        ahead.keep(body(14), Ok(page(&[15], false, None)));
        assert!(ahead.take_for(None).is_none(), "a push drops it");
        assert!(ahead.take_for(Some(&body(14))).is_none());

        ahead.keep(body(14), Err(TransportFailure::Network("down".into())));
        assert!(matches!(ahead.take_for(Some(&body(14))), Some(Err(_))));
        assert!(ahead.take_for(Some(&body(14))).is_none(), "used once");
    }
}
