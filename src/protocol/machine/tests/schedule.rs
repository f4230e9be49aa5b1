//! Scheduling: backoff, online / offline transitions, live cursors, intervals, lifecycle,
//! `sync()` completions.

use super::*;

const NONE: [&str; 0] = [];

fn quiet_synced(cursor: u64) -> Harness {
    let mut h = Harness::with(MachineOptions {
        push_interval: Duration::from_secs(1000),
        pull_interval: Duration::from_secs(1000),
        ..options()
    });
    h.handle(Input::Start {
        cursor: Some(cursor),
        pending: 0,
    });
    h.pulled(Ok(page(&[], false, None)));
    h
}

#[test]
fn backs_off_exponentially_with_jitter_and_reports_transitions_only() {
    let mut h = quiet_synced(5);
    h.handle(Input::LiveCursor(6));
    assert_eq!(
        h.pulled(Err(TransportFailure::Network("refused".into()))),
        ["offline"]
    );
    let mut waits = Vec::new();
    for attempt in 0..9u32 {
        let (waited, actions) = h.wait();
        let ceiling = (Duration::from_secs(1) * 2u32.pow(attempt)).min(Duration::from_secs(60));
        let floor = (ceiling / 2).max(Duration::from_secs(1));
        assert!(
            waited >= floor && waited <= ceiling,
            "attempt {attempt}: {waited:?}"
        );
        assert_eq!(
            actions,
            [format!("pull #{} scope=s cursor=5 limit=2", attempt + 3)]
        );
        assert_eq!(
            h.pulled(Err(TransportFailure::Timeout)),
            NONE,
            "still offline"
        );
        waits.push(waited);
    }
    assert!(waits[8] > waits[3], "grows: {waits:?}");
    assert!(
        waits[2..].iter().enumerate().any(|(i, w)| {
            *w != (Duration::from_secs(1) * 2u32.pow(i as u32 + 2)).min(Duration::from_secs(60))
        }),
        "jittered: {waits:?}"
    );
    assert!(!h.machine.status().online);
    assert_eq!(h.machine.status().last_error, Some(SyncError::Timeout));

    h.wait();
    assert_eq!(h.pulled(Ok(page(&[], false, None))), ["online", "synced 5"]);
    assert_eq!(h.machine.status().last_error, None);
    h.handle(Input::LiveCursor(6));
    assert_eq!(h.pulled(Err(TransportFailure::Timeout)), ["offline"]);
    let (waited, _) = h.wait();
    assert_eq!(
        waited,
        Duration::from_secs(1),
        "a success resets the backoff"
    );
}

#[test]
fn reports_offline_on_the_first_failure_before_any_answer() {
    let mut h = Harness::new();
    h.handle(Input::Start {
        cursor: None,
        pending: 0,
    });
    assert_eq!(
        h.snapshotted(Err(TransportFailure::Network("dns".into()))),
        ["offline"]
    );
}

#[test]
fn pulls_at_once_for_a_live_cursor_above_ours_only() {
    let mut h = Harness::synced(5);
    assert_eq!(h.handle(Input::LiveCursor(5)), NONE);
    assert_eq!(h.handle(Input::LiveCursor(3)), NONE);
    assert_eq!(
        h.handle(Input::LiveCursor(6)),
        ["pull #2 scope=s cursor=5 limit=2"]
    );
    assert_eq!(
        h.handle(Input::LiveCursor(9)),
        NONE,
        "one request at a time"
    );
    assert_eq!(
        h.pulled(Ok(page(&[created(6, "x")], false, Some(6)))),
        [
            "apply-changes cursor=6 [todo/x create]",
            "synced 6",
            "pull #3 scope=s cursor=6 limit=2",
        ]
    );
}

#[test]
fn pulls_on_the_pull_interval_counted_from_the_last_pull() {
    let mut h = Harness::synced(5);
    assert_eq!(h.advance(20.0), NONE);
    h.handle(Input::LiveCursor(6));
    h.pulled(Ok(page(&[created(6, "x")], false, None)));
    assert_eq!(h.advance(29.0), NONE);
    assert_eq!(h.advance(1.0), ["pull #3 scope=s cursor=6 limit=2"]);
}

#[test]
fn pause_stops_requests_and_resume_syncs_at_once() {
    let mut h = Harness::synced(5);
    assert_eq!(h.handle(Input::Pause), NONE);
    assert_eq!(h.write(1), NONE);
    assert_eq!(
        h.handle(Input::SyncRequested { id: 1 }),
        ["sync 1 failed: sync is paused"]
    );
    assert_eq!(h.machine.poll_timeout(), None);
    assert_eq!(h.advance(100.0), NONE);
    assert!(h.machine.status().paused);
    assert_eq!(h.handle(Input::Resume), ["push #2 limit=1"]);
    assert!(!h.machine.status().paused);
}

#[test]
fn applies_an_answer_that_arrives_while_paused_without_sending_more() {
    let mut h = Harness::synced(5);
    h.write(1);
    h.handle(Input::Pause);
    assert_eq!(h.pushed(Ok(())), ["apply-push acked=m0 rejected="]);
    assert_eq!(
        h.handle(Input::Resume),
        ["pull #3 scope=s cursor=5 limit=2"]
    );
}

#[test]
fn stop_fails_waiting_syncs_and_ignores_late_answers() {
    let mut h = Harness::synced(5);
    h.write(1);
    assert_eq!(h.handle(Input::SyncRequested { id: 2 }), NONE);
    assert_eq!(h.handle(Input::Stop), ["sync 2 failed: sync is stopped"]);
    assert_eq!(
        h.pushed(Ok(())),
        NONE,
        "late answer to an abandoned request"
    );
    assert_eq!(h.machine.poll_timeout(), None);
    assert!(!h.machine.status().running);
    assert_eq!(
        h.handle(Input::SyncRequested { id: 3 }),
        ["sync 3 failed: sync is stopped"]
    );
    assert_eq!(
        h.handle(Input::Start {
            cursor: Some(5),
            pending: 1
        }),
        ["push #3 limit=1"]
    );
}

#[test]
fn completes_sync_after_pushing_and_pulling_back() {
    let mut h = Harness::synced(5);
    assert_eq!(h.write(2), ["push #2 limit=2"]);
    assert_eq!(h.handle(Input::SyncRequested { id: 7 }), NONE);
    assert_eq!(
        h.pushed(Ok(())),
        [
            "apply-push acked=m0,m1 rejected=",
            "pull #3 scope=s cursor=5 limit=2"
        ]
    );
    assert!(!h.machine.is_settled());
    assert_eq!(
        h.pulled(Ok(page(
            &[created(100, "m0"), created(101, "m1")],
            false,
            None
        ))),
        [
            "apply-changes cursor=101 [todo/m0 create, todo/m1 create]",
            "synced 101",
            "sync 7 ok",
        ]
    );
    assert!(h.machine.is_settled());
}

#[test]
fn a_sync_requested_during_a_pull_waits_for_a_fresh_pull() {
    let mut h = Harness::synced(5);
    h.handle(Input::LiveCursor(6));
    assert_eq!(h.handle(Input::SyncRequested { id: 1 }), NONE);
    assert_eq!(
        h.pulled(Ok(page(&[], false, None))),
        ["synced 5", "pull #3 scope=s cursor=5 limit=2"]
    );
    assert_eq!(
        h.pulled(Ok(page(&[], false, None))),
        ["synced 5", "sync 1 ok"]
    );
}

#[test]
fn fails_sync_on_the_first_error_and_retries_at_once_on_the_next() {
    let mut h = Harness::synced(5);
    assert_eq!(
        h.handle(Input::SyncRequested { id: 3 }),
        ["pull #2 scope=s cursor=5 limit=2"]
    );
    assert_eq!(
        h.pulled(Err(TransportFailure::Network("down".into()))),
        ["offline", "sync 3 failed: network error: down"]
    );
    assert_eq!(
        h.handle(Input::SyncRequested { id: 4 }),
        ["pull #3 scope=s cursor=5 limit=2"],
        "an explicit sync does not wait for the backoff"
    );
    assert_eq!(
        h.pulled(Ok(page(&[], false, None))),
        ["online", "synced 5", "sync 4 ok"]
    );
}

#[test]
fn completes_sync_while_new_writes_keep_arriving() {
    let mut h = Harness::synced(5);
    assert_eq!(h.write(2), ["push #2 limit=2"]);
    assert_eq!(h.handle(Input::SyncRequested { id: 9 }), NONE);
    h.write(1); // m2 arrives after the call: the call does not wait for it.
    assert_eq!(
        h.pushed(Ok(())),
        [
            "apply-push acked=m0,m1 rejected=",
            "pull #3 scope=s cursor=5 limit=2"
        ],
        "the caller's pushes are done: its pull goes before m2's push"
    );
    h.write(1); // m3: still more writes
    assert_eq!(
        h.pulled(Ok(page(
            &[created(101, "a"), created(102, "b")],
            false,
            Some(102)
        ))),
        [
            "apply-changes cursor=102 [todo/a create, todo/b create]",
            "synced 102",
            "sync 9 ok",
            "push #4 limit=2"
        ]
    );
}

#[test]
fn a_pull_already_under_way_when_sync_is_called_does_not_complete_it() {
    let mut h = Harness::synced(5);
    assert_eq!(
        h.handle(Input::LiveCursor(9)),
        ["pull #2 scope=s cursor=5 limit=2"]
    );
    assert_eq!(h.handle(Input::SyncRequested { id: 4 }), NONE);
    assert_eq!(
        h.pulled(Ok(page(&[created(9, "c")], false, Some(9)))),
        [
            "apply-changes cursor=9 [todo/c create]",
            "synced 9",
            "pull #3 scope=s cursor=9 limit=2"
        ],
        "the round began before the call: another one is needed"
    );
    assert_eq!(
        h.pulled(Ok(page(&[], false, None))),
        ["synced 9", "sync 4 ok"]
    );
}
