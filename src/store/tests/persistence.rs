//! What a store file keeps across reopening, and what a failed write leaves behind.

use rusqlite::Connection;
use serde_json::json;

use super::*;
use crate::protocol::entity::SnapshotData;
use crate::store::Error;

#[test]
fn restores_base_pending_queue_cursor_and_client_id_after_reopen() {
    let dir = temp_dir("reopen");
    let (path, store) = file_of(&dir);
    let client_id = store.client_id();
    assert_eq!(client_id.len(), 32);
    assert_eq!(store.cursor(), None);
    store
        .apply_remote(
            &[
                upsert("todo", "a", json!({"t":"a"})),
                upsert("todo", "b", json!(2)),
            ],
            17,
        )
        .unwrap();
    write(&store, "m1", upsert("todo", "a", json!({"t":"mine"})));
    store
        .enqueue(
            Mutation {
                id: "m2".into(),
                scope: "s".into(),
                name: "app.custom".into(),
                args: Some(json!([1, "x"])),
            },
            None,
        )
        .unwrap();
    write(&store, "m3", delete("todo", "b"));
    store.meta_set("scope", Some("s")).unwrap();
    let pending_before = store.pending(usize::MAX);

    let store = reopen(&path, store);
    assert_eq!(store.client_id(), client_id);
    assert_eq!(store.cursor(), Some(17));
    assert_eq!(store.pending(usize::MAX), pending_before);
    assert_eq!(store.pending_ids(), ["m1", "m2", "m3"]);
    assert_eq!(
        store.all("todo"),
        [("a".to_string(), text(json!({"t":"mine"})))]
    );
    assert_eq!(store.meta_get("scope").as_deref(), Some("s"));
    // Settling after the reopen reveals the restored base.
    store.settle(&["m1".into(), "m3".into()], &[]).unwrap();
    assert_eq!(value(&store, "todo", "a"), Some(json!({"t":"a"})));
    assert_eq!(value(&store, "todo", "b"), Some(json!(2)));
}

#[test]
fn stores_the_cursor_with_the_changes_it_covers() {
    let dir = temp_dir("cursor");
    let (path, store) = file_of(&dir);
    let mut snapshot = SnapshotData::new();
    snapshot
        .entry("todo".into())
        .or_default()
        .insert("s".into(), text(json!("snap")));
    store.replace_base(snapshot, 100).unwrap();
    let store = reopen(&path, store);
    assert_eq!(
        (store.cursor(), store.ids("todo")),
        (Some(100), vec!["s".to_string()])
    );

    store
        .apply_remote(&[upsert("todo", "x", json!(1)), delete("todo", "s")], 120)
        .unwrap();
    let store = reopen(&path, store);
    assert_eq!(
        (store.cursor(), store.ids("todo")),
        (Some(120), vec!["x".to_string()])
    );
    store.meta_set("k", Some("v")).unwrap();
    store.meta_set("k", None).unwrap();
    let store = reopen(&path, store);
    assert_eq!(store.meta_get("k"), None);
}

#[test]
fn never_reuses_a_seq_after_the_queue_drains_and_the_file_reopens() {
    let dir = temp_dir("seq");
    let (path, store) = file_of(&dir);
    let (s1, _) = store
        .enqueue(mutation_for("m1", &delete("t", "a")), None)
        .unwrap();
    let (s2, _) = store
        .enqueue(mutation_for("m2", &delete("t", "a")), None)
        .unwrap();
    assert!(s1 < s2);
    store.settle(&["m1".into(), "m2".into()], &[]).unwrap();
    let store = reopen(&path, store);
    assert_eq!(store.pending_count(), 0);
    let (s3, _) = store
        .enqueue(mutation_for("m3", &delete("t", "a")), None)
        .unwrap();
    assert!(s3 > s2, "seq {s3} after {s2}");
}

/// Makes every write of the marker id `boom` fail inside SQLite, as a full disk would.
fn install_failing_triggers(path: &Path) {
    Connection::open(path)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER fail_base BEFORE INSERT ON base WHEN NEW.id = 'boom'
                 BEGIN SELECT RAISE(ABORT, 'injected failure'); END;
             CREATE TRIGGER fail_enqueue BEFORE INSERT ON pending WHEN NEW.mutation_id = 'boom'
                 BEGIN SELECT RAISE(ABORT, 'injected failure'); END;
             CREATE TRIGGER fail_settle BEFORE DELETE ON pending WHEN OLD.mutation_id = 'stuck'
                 BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
        )
        .unwrap();
}

#[test]
fn a_failed_write_changes_neither_memory_nor_the_file() {
    let dir = temp_dir("failure");
    let (path, store) = file_of(&dir);
    store
        .apply_remote(&[upsert("todo", "a", json!(1))], 1)
        .unwrap();
    write(&store, "stuck", upsert("todo", "a", json!("stuck")));
    drop(store);
    install_failing_triggers(&path);
    let store = Store::open(&path).unwrap();

    let failed = store.apply_remote(
        &[
            upsert("todo", "fine", json!(1)),
            upsert("todo", "boom", json!(1)),
        ],
        2,
    );
    assert!(matches!(failed, Err(Error::Sqlite(_))), "{failed:?}");
    let mut snapshot = SnapshotData::new();
    snapshot
        .entry("todo".into())
        .or_default()
        .insert("boom".into(), text(json!(0)));
    assert!(matches!(
        store.replace_base(snapshot, 3),
        Err(Error::Sqlite(_))
    ));
    let failed = store.enqueue(
        mutation_for("boom", &upsert("todo", "b", json!(1))),
        Some(upsert("todo", "b", json!(1))),
    );
    assert!(matches!(failed, Err(Error::Sqlite(_))));
    assert!(matches!(
        store.settle(&[], &["stuck".into()]),
        Err(Error::Sqlite(_))
    ));

    let check = |store: &Store| {
        assert_eq!(store.cursor(), Some(1));
        assert_eq!(store.ids("todo"), ["a"]);
        assert_eq!(value(store, "todo", "a"), Some(json!("stuck")));
        assert_eq!(store.pending_ids(), ["stuck"]);
    };
    check(&store);
    let store = reopen(&path, store);
    check(&store);
    // The failure was not sticky: a later write goes through.
    write(&store, "m2", upsert("todo", "b", json!(2)));
    assert_eq!(store.pending_ids(), ["stuck", "m2"]);
}

#[test]
fn refuses_a_second_store_on_the_same_file() {
    let dir = temp_dir("locked");
    let (path, store) = file_of(&dir);
    assert!(matches!(Store::open(&path), Err(Error::Locked)));
    write(&store, "m1", upsert("todo", "a", json!(1)));
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.pending_ids(), ["m1"]);
}

#[test]
fn each_in_memory_store_has_its_own_client_id() {
    let a = Store::open_in_memory();
    let b = Store::open_in_memory();
    assert_ne!(a.client_id(), b.client_id());
    assert_eq!(a.client_id(), a.client_id());
}

#[test]
fn keeps_acknowledgements_awaiting_their_pull_across_reopen_until_settled() {
    on_both_backends("acked", |store| {
        write(store, "m1", upsert("todo", "a", json!(1)));
        write(store, "m2", upsert("todo", "b", json!(2)));
        write(store, "m3", upsert("todo", "c", json!(3)));
        store
            .acknowledge(
                &["m1".into()],
                &[],
                &[("m2".into(), 40), ("gone".into(), 41)],
            )
            .unwrap();
        assert_eq!(store.pending_ids(), ["m2", "m3"], "m1 settled at once");
        assert_eq!(
            store.acked().into_iter().collect::<Vec<_>>(),
            [("m2".to_owned(), 40)],
            "a mutation no longer queued is not recorded"
        );
        assert_eq!(value(store, "todo", "b"), Some(json!(2)), "still shown");
    });

    let dir = temp_dir("acked-reopen");
    let (path, store) = file_of(&dir);
    write(&store, "m1", upsert("todo", "a", json!(1)));
    write(&store, "m2", upsert("todo", "b", json!(2)));
    store
        .acknowledge(&[], &[], &[("m1".into(), 40), ("m2".into(), 41)])
        .unwrap();
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.acked().into_iter().collect::<Vec<_>>(),
        [("m1".to_owned(), 40), ("m2".to_owned(), 41)]
    );
    store.settle(&["m1".into()], &[]).unwrap();
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.acked().into_iter().collect::<Vec<_>>(),
        [("m2".to_owned(), 41)],
        "settling forgets the acknowledgement with the mutation"
    );
    assert_eq!(store.pending_ids(), ["m2"]);
}
