//! Fetching: bootstrap by snapshot, pull pages, 410 recovery, undecodable changes.

use super::*;
use crate::protocol::entity::EntityKey;

const NONE: [&str; 0] = [];

#[test]
fn bootstraps_with_a_snapshot_then_pulls_pages_to_the_head() {
    let mut h = Harness::new();
    assert_eq!(
        h.handle(Input::Start {
            cursor: None,
            pending: 0
        }),
        ["snapshot #1 scope=s"]
    );
    assert_eq!(
        h.snapshotted(Ok(snapshot(json!({"todo":{"a":1,"b":2},"tag":{}}), 10))),
        [
            "online",
            "replace-base cursor=10 {tag:0,todo:2}",
            "pull #2 scope=s cursor=10 limit=2",
        ]
    );
    assert_eq!(
        h.pulled(Ok(page(
            &[created(11, "c"), created(13, "d")],
            true,
            Some(13)
        ))),
        [
            "pull #3 scope=s cursor=13 limit=2",
            "apply-changes cursor=13 [todo/c create, todo/d create]",
        ]
    );
    let delete = change(16, json!({"entity":"todo","id":"a","op":"delete"}));
    assert_eq!(
        h.pulled(Ok(page(&[delete], false, Some(16)))),
        ["apply-changes cursor=16 [todo/a delete]", "synced 16"]
    );
    let status = h.machine.status();
    assert_eq!(status.cursor, Some(16));
    assert_eq!(status.last_synced_at, Some(h.now));
    assert!(status.online && !status.syncing);
    assert!(h.machine.is_settled());
}

#[test]
fn carries_decoded_values_in_applied_changes() {
    let mut h = Harness::synced(5);
    h.handle(Input::LiveCursor(6));
    h.machine.handle(
        Input::Pulled {
            request: RequestId(2),
            result: Ok(page(&[created(6, "a")], false, None).into()),
        },
        h.now,
    );
    let Some(Action::ApplyChanges { changes, cursor }) = h.machine.poll_action() else {
        panic!("expected changes first");
    };
    assert_eq!(cursor, 6);
    assert_eq!(changes[0].key, EntityKey::new("todo", "a"));
    assert_eq!(changes[0].value.as_deref(), Some(r#"{"n":6}"#));
}

#[test]
fn advances_to_the_largest_change_cursor_without_next_cursor_and_accepts_null_changes() {
    let mut h = Harness::synced(5);
    h.handle(Input::LiveCursor(20));
    assert_eq!(
        h.pulled(Ok(page(&[created(20, "a"), created(18, "b")], true, None))),
        [
            "pull #3 scope=s cursor=20 limit=2",
            "apply-changes cursor=20 [todo/a create, todo/b create]",
        ]
    );
    assert_eq!(h.pulled(Ok(page(&[], false, None))), ["synced 20"]);
}

/// Overlap: the next page's pull is queued ahead of the current page's apply (the driver sends
/// it, then applies while it travels); the skipped change's error stays after the apply, the
/// last page has no pull to overlap, and a snapshot's continuation is not reordered.
#[test]
fn queues_the_next_pages_pull_ahead_of_the_current_pages_apply() {
    let mut h = Harness::synced(5);
    h.handle(Input::LiveCursor(30));
    let first = [created(6, "a"), change(7, json!([1]))];
    assert_eq!(
        h.pulled(Ok(page(&first, true, Some(10)))),
        [
            "pull #3 scope=s cursor=10 limit=2",
            "apply-changes cursor=10 [todo/a create]",
            "error Pull: skipped the change at cursor 7: change data must be a JSON object, found an array",
        ]
    );
    assert_eq!(
        h.pulled(Ok(page(&[created(12, "b")], true, Some(20)))),
        [
            "pull #4 scope=s cursor=20 limit=2",
            "apply-changes cursor=20 [todo/b create]",
        ]
    );
    assert_eq!(
        h.pulled(Ok(page(&[created(30, "c")], false, Some(30)))),
        ["apply-changes cursor=30 [todo/c create]", "synced 30"]
    );
}

/// A page the store could not take: the machine goes back to the store's cursor, ignores the
/// answer to the pull already sent past that page, fails the waiting `sync()`, and pulls the
/// page again only at the next trigger (no loop on a store that keeps failing).
#[test]
fn goes_back_to_the_stores_cursor_when_a_page_could_not_be_applied() {
    let mut h = Harness::synced(5);
    h.handle(Input::LiveCursor(30));
    assert_eq!(
        h.pulled(Ok(page(&[created(6, "a")], true, Some(10)))),
        [
            "pull #3 scope=s cursor=10 limit=2",
            "apply-changes cursor=10 [todo/a create]",
        ]
    );
    let stale = h.request();
    h.handle(Input::SyncRequested { id: 1 });
    let error = SyncError::Storage("disk full".into());
    assert_eq!(
        h.handle(Input::ApplyFailed {
            cursor: Some(5),
            error: error.clone(),
        }),
        ["sync 1 failed: local storage: disk full"]
    );
    let status = h.machine.status();
    assert_eq!(status.cursor, Some(5));
    assert!(!status.syncing, "the pull past the page is abandoned");
    assert_eq!(status.last_error, Some(error));
    // Its answer comes, and is ignored: the changes after the lost page are not applied.
    let answer = page(&[created(12, "b")], false, Some(12));
    assert_eq!(
        h.handle(Input::Pulled {
            request: stale.0,
            result: Ok(answer.into()),
        }),
        NONE
    );
    assert_eq!(h.advance(1.0), NONE, "no retry loop");
    assert_eq!(
        h.handle(Input::LiveCursor(31)),
        ["pull #4 scope=s cursor=5 limit=2"],
        "the lost page is pulled again"
    );
}

#[test]
fn never_applies_changes_at_or_below_the_cursor() {
    let mut h = Harness::synced(5);
    h.handle(Input::LiveCursor(7));
    let changes = [created(4, "old"), created(5, "same"), created(7, "new")];
    assert_eq!(
        h.pulled(Ok(page(&changes, false, Some(7)))),
        ["apply-changes cursor=7 [todo/new create]", "synced 7"]
    );
}

#[test]
fn skips_undecodable_changes_with_an_error_and_moves_past_them() {
    let mut h = Harness::synced(5);
    h.handle(Input::LiveCursor(10));
    let changes = [
        created(6, "a"),
        change(7, json!({"entity":"todo","id":"b","op":"upsert"})),
        change(8, json!([1])),
        change(9, Value::Null),
        created(10, "c"),
    ];
    assert_eq!(
        h.pulled(Ok(page(&changes, false, Some(10)))),
        [
            "apply-changes cursor=10 [todo/a create, todo/c create]",
            "error Pull: skipped the change at cursor 7: unknown op `upsert` (expected create, update or delete)",
            "error Pull: skipped the change at cursor 8: change data must be a JSON object, found an array",
            "synced 10",
        ]
    );
    assert!(matches!(
        h.machine.status().last_error,
        Some(SyncError::Change { cursor: 8, .. })
    ));
}

#[test]
fn recovers_from_cursor_too_old_with_a_snapshot_keeping_pending_mutations() {
    let mut h = Harness::new();
    assert_eq!(
        h.handle(Input::Start {
            cursor: Some(5),
            pending: 0
        }),
        ["pull #1 scope=s cursor=5 limit=2"]
    );
    assert_eq!(
        h.pulled(Err(http(410, "cursor_too_old", "cursor too old"))),
        ["online", "snapshot #2 scope=s"]
    );
    assert_eq!(h.write(1), NONE);
    assert!(!h.machine.is_settled());
    assert_eq!(
        h.snapshotted(Ok(snapshot(json!({"todo":{"x":true}}), 40))),
        ["replace-base cursor=40 {todo:1}", "push #3 limit=1"]
    );
    assert_eq!(
        h.pushed(Ok(())),
        [
            "apply-push acked=m0 rejected=",
            "pull #4 scope=s cursor=40 limit=2"
        ]
    );
    assert_eq!(
        h.pulled(Ok(page(&[created(41, "m0")], false, Some(41)))),
        ["apply-changes cursor=41 [todo/m0 create]", "synced 41"]
    );
}

#[test]
fn keeps_the_base_when_the_snapshot_cannot_be_decoded_and_retries_on_the_pull_interval() {
    let mut h = Harness::new();
    h.handle(Input::Start {
        cursor: None,
        pending: 0,
    });
    assert_eq!(
        h.snapshotted(Ok(snapshot(json!([1]), 9))),
        [
            "online",
            "error Snapshot: cannot use the snapshot: snapshot data must be a JSON object, found an array",
        ]
    );
    assert_eq!(h.machine.status().cursor, None);
    assert_eq!(h.advance(29.0), NONE);
    assert_eq!(h.advance(1.0), ["snapshot #2 scope=s"]);
    assert_eq!(
        h.snapshotted(Ok(snapshot(Value::Null, 9))),
        [
            "replace-base cursor=9 {}",
            "pull #3 scope=s cursor=9 limit=2"
        ]
    );
    assert_eq!(h.machine.status().last_error, None);
}

#[test]
fn surfaces_more_pages_without_progress_instead_of_looping() {
    let mut h = Harness::synced(5);
    h.handle(Input::SyncRequested { id: 1 });
    assert_eq!(
        h.pulled(Ok(page(&[], true, None))),
        [
            "error Pull: protocol violation: pull from cursor 5 reported more changes without moving the cursor",
            "sync 1 failed: protocol violation: pull from cursor 5 reported more changes without moving the cursor",
        ]
    );
    assert_eq!(h.advance(1.0), NONE);
}

#[test]
fn surfaces_a_refused_pull_and_waits_for_the_next_trigger() {
    let mut h = Harness::synced(5);
    h.handle(Input::LiveCursor(6));
    assert_eq!(
        h.pulled(Err(http(400, "invalid_mutation", "invalid request body"))),
        ["error Pull: request refused (HTTP 400, invalid_mutation): invalid request body"]
    );
    assert_eq!(h.advance(5.0), NONE);
    assert_eq!(
        h.handle(Input::LiveCursor(7)),
        ["pull #3 scope=s cursor=5 limit=2"]
    );
}

#[test]
fn refreshes_auth_on_a_refused_pull_then_pulls_again() {
    let mut h = Harness::synced(5);
    h.handle(Input::LiveCursor(6));
    assert_eq!(h.pulled(Err(http(401, "", "expired"))), ["refresh-auth"]);
    assert_eq!(
        h.handle(Input::AuthRefreshed { ok: true }),
        ["pull #3 scope=s cursor=5 limit=2"]
    );
    assert_eq!(
        h.pulled(Ok(page(&[created(6, "a")], false, None))),
        ["apply-changes cursor=6 [todo/a create]", "synced 6"]
    );
}

#[test]
fn ignores_an_answer_that_does_not_match_the_request_in_flight() {
    let mut h = Harness::synced(5);
    h.handle(Input::LiveCursor(6));
    let wrong_kind = Input::Snapshotted {
        request: RequestId(2),
        result: Ok(snapshot(json!({}), 99)),
    };
    assert_eq!(h.handle(wrong_kind), NONE);
    let wrong_id = Input::Pulled {
        request: RequestId(1),
        result: Ok(page(&[created(9, "x")], false, None).into()),
    };
    assert_eq!(h.handle(wrong_id), NONE);
    assert_eq!(h.machine.status().cursor, Some(5));
    assert_eq!(
        h.pulled(Ok(page(&[], false, None))),
        ["synced 5"],
        "the real answer is still awaited"
    );
}

#[test]
fn never_pulls_from_cursor_0_which_a_trimmed_log_would_answer_with_a_gap() {
    let mut h = Harness::new();
    assert_eq!(
        h.handle(Input::Start {
            cursor: Some(0),
            pending: 0
        }),
        ["snapshot #1 scope=s"],
        "a stored cursor of 0 is no cursor to pull from"
    );
    assert_eq!(
        h.snapshotted(Ok(snapshot(json!({}), 0))),
        ["online", "replace-base cursor=0 {}", "synced 0"],
        "an empty scope: nothing to pull, and the round is complete"
    );
    assert_eq!(h.write(1), ["push #2 limit=1"]);
    assert_eq!(
        h.pushed(Ok(())),
        ["apply-push acked=m0 rejected=", "snapshot #3 scope=s"],
        "the scope was empty at the last snapshot: snapshot again"
    );
    assert_eq!(
        h.snapshotted(Ok(snapshot(json!({"todo":{"m0":1}}), 100))),
        [
            "replace-base cursor=100 {todo:1}",
            "pull #4 scope=s cursor=100 limit=2"
        ]
    );
}
