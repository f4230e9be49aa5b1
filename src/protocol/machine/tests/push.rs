//! Pushing: batching, acknowledgements, rejections, bisection, auth refresh.

use super::*;

/// Options whose intervals never fire during a test, so only retries move things.
fn quiet() -> MachineOptions {
    MachineOptions {
        push_interval: Duration::from_secs(1000),
        pull_interval: Duration::from_secs(1000),
        ..options()
    }
}

fn quiet_synced(cursor: u64) -> Harness {
    let mut h = Harness::with(quiet());
    h.handle(Input::Start {
        cursor: Some(cursor),
        pending: 0,
    });
    h.pulled(Ok(page(&[], false, None)));
    h
}

#[test]
fn pushes_250_pending_in_batches_of_100_100_50_back_to_back_then_pulls() {
    let mut h = Harness::synced(5);
    assert_eq!(h.write(250), ["push #2 limit=100"]);
    assert_eq!(
        h.pushed(Ok(())),
        [
            "apply-push acked=m0..m99 (100) rejected=",
            "push #3 limit=100"
        ],
        "a backlog drains in back-to-back pushes"
    );
    assert_eq!(
        h.pushed(Ok(())),
        [
            "apply-push acked=m100..m199 (100) rejected=",
            "push #4 limit=50"
        ]
    );
    assert_eq!(
        h.pushed(Ok(())),
        [
            "apply-push acked=m200..m249 (50) rejected=",
            "pull #5 scope=s cursor=5 limit=2"
        ],
        "the drained queue is pulled back"
    );
    assert_eq!(h.machine.status().pending, 0);
}

#[test]
fn pulls_before_pushing_on_once_acknowledgements_waited_long_enough() {
    let mut h = Harness::synced(5);
    assert_eq!(h.write(300), ["push #2 limit=100"]);
    assert_eq!(h.pushed(Ok(()))[1], "push #3 limit=100");
    h.now += MAX_UNPULLED_AGE;
    assert_eq!(
        h.pushed(Ok(())),
        [
            "apply-push acked=m100..m199 (100) rejected=",
            "pull #4 scope=s cursor=5 limit=2"
        ],
        "writers keeping the queue busy cannot hold pulls off for long"
    );
    assert_eq!(
        h.pulled(Ok(page(&[], false, None))),
        ["synced 5", "push #5 limit=100"],
        "then the queue drains on"
    );
}

#[test]
fn never_moves_the_cursor_from_push_results() {
    let mut h = Harness::synced(5);
    h.write(3);
    h.pushed(Ok(()));
    // The results said cursors 100..=102; only the pull may move the cursor.
    assert_eq!(h.machine.status().cursor, Some(5));
    assert!(!h.machine.is_settled());
    assert_eq!(
        h.pulled(Ok(page(&[created(100, "m0")], false, Some(100)))),
        ["apply-changes cursor=100 [todo/m0 create]", "synced 100"]
    );
    assert!(!h.machine.is_settled(), "cursor 100 is below the acked 102");
    h.handle(Input::SyncRequested { id: 1 });
    h.pulled(Ok(page(&[created(102, "m2")], false, Some(102))));
    assert!(h.machine.is_settled());
}

#[test]
fn pushes_local_writes_at_once_and_again_after_the_push_in_flight() {
    let mut h = Harness::synced(5);
    assert_eq!(h.write(1), ["push #2 limit=1"]);
    assert_eq!(
        h.write(2),
        Vec::<String>::new(),
        "one push in flight at most"
    );
    assert_eq!(
        h.pushed(Ok(())),
        ["apply-push acked=m0 rejected=", "push #3 limit=2"]
    );
    assert_eq!(
        h.pushed(Ok(())),
        [
            "apply-push acked=m1,m2 rejected=",
            "pull #4 scope=s cursor=5 limit=2"
        ]
    );
}

#[test]
fn a_rejected_mutation_leaves_the_queue_without_wedging_it() {
    let mut h = Harness::synced(5);
    h.write(3);
    assert_eq!(
        h.pushed_with(|id| (id == "m1").then_some("sync: conflict"), Ok(())),
        [
            "apply-push acked=m0,m2 rejected=m1",
            "rejected m1 todo.create: sync: conflict",
            "pull #3 scope=s cursor=5 limit=2",
        ]
    );
    assert!(h.queue.is_empty());
    assert_eq!(h.write(1), Vec::<String>::new());
    assert_eq!(
        h.pulled(Ok(page(&[], false, None))),
        ["synced 5", "push #4 limit=1"]
    );
}

#[test]
fn bisects_a_batch_refused_with_400_down_to_the_bad_mutation() {
    let mut h = Harness::synced(5);
    let invalid = || Err(http(400, "invalid_mutation", "invalid request body"));
    assert_eq!(h.write(8), ["push #2 limit=8"]);
    assert_eq!(h.pushed(invalid()), ["push #3 limit=4"]);
    assert_eq!(
        h.pushed(Ok(())),
        ["apply-push acked=m0..m3 (4) rejected=", "push #4 limit=4"]
    );
    assert_eq!(h.pushed(invalid()), ["push #5 limit=2"]);
    assert_eq!(h.pushed(invalid()), ["push #6 limit=1"]);
    assert_eq!(
        h.pushed(Ok(())),
        ["apply-push acked=m4 rejected=", "push #7 limit=2"]
    );
    assert_eq!(h.pushed(invalid()), ["push #8 limit=1"]);
    assert_eq!(
        h.pushed(invalid()),
        [
            "apply-push acked= rejected=m5",
            "rejected m5 todo.create: invalid request body",
            "push #9 limit=2",
        ]
    );
    assert_eq!(
        h.pushed(Ok(())),
        [
            "apply-push acked=m6,m7 rejected=",
            "pull #10 scope=s cursor=5 limit=2"
        ]
    );
    assert!(h.queue.is_empty());
    assert_eq!(
        h.machine.status().last_error,
        None,
        "bisection is not an error"
    );
}

#[test]
fn rejects_a_single_mutation_too_large_for_the_server() {
    let mut h = Harness::synced(5);
    h.write(1);
    let too_large = TransportFailure::Http {
        status: 413,
        code: None,
        message: String::new(),
    };
    assert_eq!(
        h.pushed(Err(too_large)),
        [
            "apply-push acked= rejected=m0",
            "rejected m0 todo.create: HTTP 413",
        ]
    );
    assert_eq!(h.machine.status().pending, 0);
}

#[test]
fn holds_a_refused_push_until_the_next_push_interval() {
    let mut h = Harness::synced(5);
    h.write(2);
    assert_eq!(
        h.pushed(Err(http(404, "not_found", "no route"))),
        ["error Push: request refused (HTTP 404, not_found): no route"]
    );
    assert_eq!(h.write(1), Vec::<String>::new(), "no tight retry");
    assert_eq!(h.advance(9.0), Vec::<String>::new());
    assert_eq!(h.advance(1.0), ["push #3 limit=3"]);
    h.pushed(Ok(()));
    assert_eq!(
        h.machine.status().last_error,
        None,
        "a push success resolves it"
    );
}

#[test]
fn surfaces_a_result_count_mismatch_and_keeps_unanswered_mutations() {
    let mut h = Harness::synced(5);
    h.write(3);
    let sent = h.queue.clone();
    let request = RequestId(2);
    let result = Ok(PushResponse {
        results: vec![ok(100)],
    });
    assert_eq!(
        h.handle(Input::Pushed {
            request,
            sent,
            result
        }),
        [
            "apply-push acked=m0 rejected=",
            "error Push: protocol violation: push of 3 mutations returned 1 results",
            "pull #3 scope=s cursor=5 limit=2",
        ]
    );
    h.pulled(Ok(page(&[], false, None)));
    assert_eq!(h.advance(10.0), ["push #4 limit=2"]);
}

#[test]
fn learns_the_store_is_empty_when_nothing_was_sent() {
    let mut h = Harness::new();
    assert_eq!(
        h.handle(Input::Start {
            cursor: Some(5),
            pending: 2
        }),
        ["push #1 limit=2"]
    );
    assert_eq!(h.pushed(Ok(())), ["pull #2 scope=s cursor=5 limit=2"]);
    assert_eq!(h.machine.status().pending, 0);
}

#[test]
fn refreshes_auth_once_on_401_then_retries() {
    let mut h = Harness::synced(5);
    h.write(1);
    assert_eq!(
        h.pushed(Err(http(401, "", "token expired"))),
        ["refresh-auth"]
    );
    assert!(h.machine.status().syncing);
    assert_eq!(
        h.write(1),
        Vec::<String>::new(),
        "nothing is sent meanwhile"
    );
    assert_eq!(
        h.handle(Input::AuthRefreshed { ok: true }),
        ["push #3 limit=2"]
    );
    assert_eq!(
        h.pushed(Ok(())),
        [
            "apply-push acked=m0,m1 rejected=",
            "pull #4 scope=s cursor=5 limit=2"
        ]
    );
}

#[test]
fn surfaces_a_refusal_after_refresh_and_retries_after_a_long_backoff() {
    let mut h = quiet_synced(5);
    h.write(1);
    h.pushed(Err(http(403, "internal_error", "scope denied")));
    h.handle(Input::AuthRefreshed { ok: true });
    assert_eq!(
        h.pushed(Err(http(403, "internal_error", "scope denied"))),
        ["error Push: not authorized (HTTP 403): scope denied"]
    );
    assert!(h.machine.status().online, "the server answered");
    let (waited, actions) = h.wait();
    assert!(waited >= Duration::from_secs(30) && waited <= Duration::from_secs(60));
    assert_eq!(actions, ["push #4 limit=1"]);
    assert_eq!(h.pushed(Err(http(401, "", "expired"))), ["refresh-auth"]);
    assert_eq!(
        h.handle(Input::AuthRefreshed { ok: false }),
        ["error Push: not authorized (HTTP 401): expired (credential refresh failed)"]
    );
    let (waited, _) = h.wait();
    assert!(waited >= Duration::from_secs(30));
}

#[test]
fn retries_a_push_after_a_server_error_with_backoff() {
    let mut h = quiet_synced(5);
    h.write(2);
    assert_eq!(h.pushed(Err(http(503, "", "unavailable"))), ["offline"]);
    assert_eq!(
        h.machine.status().last_error,
        Some(SyncError::Unavailable {
            status: 503,
            message: "unavailable".into()
        })
    );
    let (waited, actions) = h.wait();
    assert_eq!(waited, Duration::from_secs(1));
    assert_eq!(actions, ["push #3 limit=2"]);
    assert_eq!(
        h.pushed(Ok(())),
        [
            "online",
            "apply-push acked=m0,m1 rejected=",
            "pull #4 scope=s cursor=5 limit=2"
        ]
    );
}

/// Quiet options whose doubt window is 5 s.
fn doubting() -> Harness {
    let mut h = Harness::with(MachineOptions {
        doubt_window: Duration::from_secs(5),
        ..quiet()
    });
    h.handle(Input::Start {
        cursor: Some(5),
        pending: 0,
    });
    h.pulled(Ok(page(&[], false, None)));
    h
}

/// Two writes; the first push times out, the retry sees `m1` refused.
fn retry_refuses_m1_after_a_timeout(h: &mut Harness) {
    assert_eq!(h.write(2), ["push #2 limit=2"]);
    assert_eq!(h.pushed(Err(TransportFailure::Timeout)), ["offline"]);
    assert_eq!(h.wait().1, ["push #3 limit=2"]);
    assert_eq!(
        h.pushed_with(|id| (id == "m1").then_some("sync: not found"), Ok(())),
        [
            "online",
            "apply-push acked=m0 rejected=",
            "pull #4 scope=s cursor=5 limit=2"
        ],
        "the timed-out copy may still apply m1: its rejection is not believed yet"
    );
}

#[test]
fn a_rejection_while_a_timed_out_copy_may_still_run_is_believed_only_after_the_window() {
    let mut h = doubting();
    retry_refuses_m1_after_a_timeout(&mut h);
    h.handle(Input::SyncRequested { id: 1 });
    assert_eq!(
        h.pulled(Ok(page(&[], false, None))),
        ["synced 5", "pull #5 scope=s cursor=5 limit=2"],
        "pushes wait for the window, pulls do not"
    );
    assert_eq!(
        h.pulled(Ok(page(&[], false, None))),
        ["synced 5"],
        "the sync() call waits for m1"
    );
    assert_eq!(h.machine.status().pending, 1);
    assert!(!h.machine.is_settled());
    let (waited, actions) = h.wait();
    assert!(waited <= Duration::from_secs(5), "{waited:?}");
    assert_eq!(actions, ["push #6 limit=1"]);
    assert_eq!(
        h.pushed_with(|id| (id == "m1").then_some("sync: not found"), Ok(())),
        [
            "apply-push acked= rejected=m1",
            "rejected m1 todo.create: sync: not found",
            "pull #7 scope=s cursor=5 limit=2"
        ],
        "the window has closed: the rejection is final"
    );
    assert_eq!(
        h.pulled(Ok(page(&[], false, None))),
        ["synced 5", "sync 1 ok"]
    );
}

#[test]
fn a_mutation_the_late_copy_applied_is_acknowledged_not_rejected() {
    let mut h = doubting();
    retry_refuses_m1_after_a_timeout(&mut h);
    h.pulled(Ok(page(&[], false, None)));
    assert_eq!(h.wait().1, ["push #5 limit=1"]);
    // The server had seen m1 by then (the late copy ran it): `ok`.
    assert_eq!(
        h.pushed(Ok(())),
        [
            "apply-push acked=m1 rejected=",
            "pull #6 scope=s cursor=5 limit=2"
        ]
    );
    assert_eq!(h.machine.status().pending, 0);
}

#[test]
fn a_push_that_was_never_sent_leaves_no_doubt() {
    let mut h = doubting();
    assert_eq!(h.write(2), ["push #2 limit=2"]);
    assert_eq!(
        h.pushed(Err(TransportFailure::Unreachable(
            "connection refused".into()
        ))),
        ["offline"]
    );
    assert_eq!(h.wait().1, ["push #3 limit=2"]);
    assert_eq!(
        h.pushed_with(|id| (id == "m1").then_some("sync: conflict"), Ok(())),
        [
            "online",
            "apply-push acked=m0 rejected=m1",
            "rejected m1 todo.create: sync: conflict",
            "pull #4 scope=s cursor=5 limit=2"
        ]
    );
}

#[test]
fn a_rejection_long_after_the_unknown_outcome_is_believed_at_once() {
    let mut h = doubting();
    assert_eq!(h.write(2), ["push #2 limit=2"]);
    assert_eq!(
        h.pushed(Err(http(503, "internal_error", "busy"))),
        ["offline"]
    );
    assert_eq!(h.advance(6.0), ["push #3 limit=2"]);
    assert_eq!(
        h.pushed_with(|id| (id == "m1").then_some("sync: conflict"), Ok(())),
        [
            "online",
            "apply-push acked=m0 rejected=m1",
            "rejected m1 todo.create: sync: conflict",
            "pull #4 scope=s cursor=5 limit=2"
        ]
    );
}
