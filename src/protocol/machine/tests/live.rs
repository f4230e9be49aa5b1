//! The live socket: when it is opened, reopened (with the seeded backoff) and closed, when a
//! fresh token is sent, and what a notification triggers. All on the simulated clock.

use super::*;
use crate::protocol::machine::live::STABLE_OPEN;

const NONE: [&str; 0] = [];

/// The machine's options with a live channel, and intervals long enough to stay out of the way.
fn live_options() -> MachineOptions {
    MachineOptions {
        push_interval: Duration::from_secs(1000),
        pull_interval: Duration::from_secs(1000),
        live: true,
        ..options()
    }
}

/// A started machine with a live channel, synced to `cursor`, its socket asked for (not open).
fn live_synced(cursor: u64) -> Harness {
    let mut h = Harness::with(live_options());
    assert_eq!(
        h.handle(Input::Start {
            cursor: Some(cursor),
            pending: 0,
        }),
        [
            "connect-live refresh_auth=false".to_string(),
            format!("pull #1 scope=s cursor={cursor} limit=2"),
        ]
    );
    assert_eq!(
        h.pulled(Ok(page(&[], false, None))),
        ["online".to_string(), format!("synced {cursor}")]
    );
    h
}

fn closed(reason: &str) -> Input {
    Input::LiveClosed {
        reason: reason.into(),
    }
}

#[test]
fn opens_the_socket_on_start_only_when_there_is_a_live_channel() {
    let mut h = Harness::with(MachineOptions {
        live: false,
        ..live_options()
    });
    assert_eq!(
        h.handle(Input::Start {
            cursor: Some(5),
            pending: 0,
        }),
        ["pull #1 scope=s cursor=5 limit=2"]
    );
    assert_eq!(h.handle(Input::Stop), NONE, "nothing to close");

    let mut h = live_synced(5);
    assert_eq!(h.handle(Input::LiveOpened), NONE);
    assert!(h.machine.is_live_open());
    assert_eq!(h.machine.live_retry_at(), None);
    assert_eq!(
        h.handle(Input::Start {
            cursor: Some(5),
            pending: 0,
        }),
        NONE,
        "a second start opens no second socket"
    );
}

#[test]
fn reconnects_failed_attempts_with_the_seeded_exponential_backoff() {
    let mut h = live_synced(5);
    // Golden: the delays seed 42 draws, each within [max(d/2, 1 s), d] for d = 1 s * 2^n,
    // capped at 60 s.
    let golden = [
        1_000_000_000,
        1_135_672_916,
        3_132_075_300,
        6_814_580_417,
        15_194_154_185,
        27_820_255_444,
        44_410_211_770,
        45_460_442_855,
    ]
    .map(Duration::from_nanos);
    let mut waits = Vec::new();
    for _ in golden {
        assert_eq!(h.handle(closed("connection refused")), NONE);
        let (waited, actions) = h.wait();
        assert_eq!(actions, ["connect-live refresh_auth=false"]);
        waits.push(waited);
    }
    assert_eq!(waits, golden);
    for (n, wait) in waits.iter().enumerate() {
        let ceiling = (Duration::from_secs(1) * 2u32.pow(n as u32)).min(Duration::from_secs(60));
        assert!(
            *wait >= (ceiling / 2).max(Duration::from_secs(1)) && *wait <= ceiling,
            "attempt {n}: {wait:?}"
        );
    }
}

#[test]
fn a_lost_connection_reconnects_after_the_shortest_delay() {
    let mut h = live_synced(5);
    h.handle(closed("connection refused"));
    h.wait();
    h.handle(closed("connection refused"));
    h.wait();
    assert_eq!(h.handle(Input::LiveOpened), NONE);
    h.advance(STABLE_OPEN.as_secs_f64());
    assert_eq!(h.handle(closed("closed by the server")), NONE);
    let (waited, actions) = h.wait();
    assert_eq!(
        waited,
        Duration::from_secs(1),
        "the socket that stayed open reset the backoff"
    );
    assert_eq!(actions, ["connect-live refresh_auth=false"]);
}

/// A server that accepts the socket and drops it at once is not reconnected to at the
/// shortest delay forever: each short-lived socket counts as a failed attempt.
#[test]
fn a_socket_dropped_right_after_it_opened_keeps_backing_off() {
    let mut h = live_synced(5);
    let mut waits = Vec::new();
    for _ in 0..4 {
        assert_eq!(h.handle(Input::LiveOpened), NONE);
        h.advance(STABLE_OPEN.as_secs_f64() / 2.0);
        assert_eq!(h.handle(closed("closed by the server")), NONE);
        let (waited, actions) = h.wait();
        assert_eq!(actions, ["connect-live refresh_auth=false"]);
        waits.push(waited);
    }
    // The same seeded delays as failed attempts in a row.
    let golden = [1_000_000_000, 1_135_672_916, 3_132_075_300, 6_814_580_417];
    assert_eq!(waits, golden.map(Duration::from_nanos));
}

#[test]
fn retries_a_refused_handshake_with_a_fresh_token_until_it_is_accepted() {
    let mut h = live_synced(5);
    assert_eq!(h.handle(Input::LiveAuthRejected { status: 401 }), NONE);
    let (waited, actions) = h.wait();
    assert_eq!(waited, Duration::from_secs(1));
    assert_eq!(actions, ["connect-live refresh_auth=true"]);
    // The fresh token is refused too: ask for another one, later.
    h.handle(Input::LiveAuthRejected { status: 403 });
    let (waited, actions) = h.wait();
    assert!(waited >= Duration::from_secs(1) && waited <= Duration::from_secs(2));
    assert_eq!(actions, ["connect-live refresh_auth=true"]);
    // A failure that is not about credentials goes back to the token at hand.
    h.handle(closed("handshake timed out"));
    assert_eq!(h.wait().1, ["connect-live refresh_auth=false"]);
    h.handle(Input::LiveAuthRejected { status: 401 });
    assert_eq!(h.wait().1, ["connect-live refresh_auth=true"]);
    h.handle(Input::LiveOpened);
    h.handle(closed("connection reset"));
    assert_eq!(
        h.wait().1,
        ["connect-live refresh_auth=false"],
        "an accepted token is kept"
    );
}

#[test]
fn stop_closes_the_socket_and_forgets_the_retry_and_start_reopens_it() {
    let mut h = live_synced(5);
    h.handle(Input::LiveOpened);
    assert_eq!(h.handle(Input::Stop), ["close-live"]);
    assert_eq!(h.handle(closed("closed")), NONE, "after a stop, ignored");
    assert_eq!(h.machine.poll_timeout(), None, "no reconnect is due");

    assert_eq!(
        h.handle(Input::Start {
            cursor: Some(5),
            pending: 0,
        }),
        [
            "connect-live refresh_auth=false",
            "pull #2 scope=s cursor=5 limit=2"
        ]
    );
    h.handle(closed("connection refused"));
    assert!(h.machine.live_retry_at().is_some());
    assert_eq!(h.handle(Input::Stop), ["close-live"], "while backing off");
    assert_eq!(h.machine.live_retry_at(), None);
    assert_eq!(h.machine.poll_timeout(), None);
    assert_eq!(h.handle(Input::LiveOpened), NONE, "a late open is ignored");
    assert!(!h.machine.is_live_open());
    assert_eq!(h.handle(Input::Stop), NONE, "nothing left to close");
}

#[test]
fn ignores_reports_that_answer_no_request() {
    let mut h = live_synced(5);
    h.handle(closed("connection refused"));
    let at = h.machine.live_retry_at().expect("backing off");
    assert_eq!(h.handle(closed("connection refused")), NONE);
    assert_eq!(h.handle(Input::LiveAuthRejected { status: 401 }), NONE);
    assert_eq!(
        h.machine.live_retry_at(),
        Some(at),
        "a stray report moves no deadline"
    );
    assert_eq!(h.handle(Input::LiveOpened), NONE);
    assert!(!h.machine.is_live_open(), "an open nobody asked for");
    assert_eq!(h.wait().1, ["connect-live refresh_auth=false"]);
}

#[test]
fn a_notification_above_the_cursor_pulls_at_once_and_others_do_nothing() {
    let mut h = live_synced(5);
    h.handle(Input::LiveOpened);
    assert_eq!(h.handle(Input::LiveCursor(5)), NONE);
    assert_eq!(h.handle(Input::LiveCursor(3)), NONE);
    assert_eq!(
        h.handle(Input::LiveCursor(8)),
        ["pull #2 scope=s cursor=5 limit=2"]
    );
    assert_eq!(
        h.pulled(Ok(page(&[created(8, "a")], false, Some(8)))),
        ["apply-changes cursor=8 [todo/a create]", "synced 8"]
    );
    // Paused: the socket stays open (as it always has), and notifications wait for `Resume`.
    assert_eq!(h.handle(Input::Pause), NONE);
    assert_eq!(h.handle(Input::LiveCursor(9)), NONE);
    assert!(h.machine.is_live_open());
    assert_eq!(
        h.handle(Input::Resume),
        ["pull #3 scope=s cursor=8 limit=2"]
    );
}

#[test]
fn the_socket_neither_changes_the_status_nor_shares_the_requests_backoff() {
    let mut h = live_synced(5);
    let status = h.machine.status();
    h.handle(Input::LiveOpened);
    assert_eq!(
        h.handle(closed("connection reset")),
        NONE,
        "no offline event"
    );
    h.handle(Input::LiveAuthRejected { status: 401 });
    assert_eq!(h.machine.status(), status, "connectivity is the requests'");

    // Requests failing back off on their own: the socket's failures did not lengthen it, and
    // its retry does not wait for theirs.
    h.handle(Input::LiveCursor(6));
    assert_eq!(h.pulled(Err(TransportFailure::Timeout)), ["offline"]);
    let live_at = h.machine.live_retry_at().expect("socket backing off");
    let retry_at = h.machine.retry_at().expect("requests backing off");
    assert_eq!(retry_at - h.now, Duration::from_secs(1));
    assert_eq!(live_at - h.now, Duration::from_secs(1));
    let (_, actions) = h.wait();
    assert_eq!(
        actions,
        [
            "connect-live refresh_auth=false",
            "pull #3 scope=s cursor=5 limit=2"
        ]
    );
}
