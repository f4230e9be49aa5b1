//! The snapshot staging (batches written while the body is decoded, one swap at the end), and
//! the durability mode that the commits of what the server sent, and the app's discards, leave
//! behind.

use std::sync::mpsc;

use serde_json::json;

use super::*;
use crate::store::{Durability, Error, StagingBatch};

/// Stages `n` entities of `todo` in `staging`, handing every full batch to `batches`.
fn stage_todos(
    store: &Store,
    staging: &mut crate::store::SnapshotStaging,
    n: usize,
    batches: &mpsc::SyncSender<StagingBatch>,
) {
    for i in 0..n {
        let value = text(json!({ "n": i, "pad": "x".repeat(64) }));
        assert!(store
            .stage_entity(staging, "todo", format!("t{i:06}"), value)
            .is_ok());
        if let Some(batch) = staging.take_full_batch() {
            batches.send(batch).unwrap();
        }
    }
}

#[test]
fn batches_written_on_another_thread_replace_the_base_only_at_the_commit() {
    let dir = temp_dir("staging-threads");
    let (path, store) = file_of(&dir);
    store
        .apply_remote(&[upsert("todo", "old", json!(1))], 3)
        .unwrap();
    write(&store, "m1", upsert("todo", "mine", json!("pending")));

    let mut staging = store.begin_snapshot().unwrap();
    let written = std::thread::scope(|scope| {
        let (batches, to_write) = mpsc::sync_channel::<StagingBatch>(1);
        let writer = scope.spawn(|| {
            to_write
                .into_iter()
                .map(|batch| store.write_staging_batch(batch))
                .collect::<Result<Vec<()>, Error>>()
        });
        stage_todos(&store, &mut staging, 10_000, &batches);
        drop(batches);
        writer.join().unwrap().unwrap().len()
    });
    assert!(written >= 2, "10,000 rows make at least two full batches");
    assert_eq!(staging.entities(), 10_000);
    // Written but not swapped in: readers and the file keep the old base.
    assert_eq!(value(&store, "todo", "old"), Some(json!(1)));
    assert_eq!(store.cursor(), Some(3));

    store.commit_snapshot(staging, 9).unwrap();
    assert_eq!(value(&store, "todo", "old"), None);
    assert_eq!(value(&store, "todo", "t009999").unwrap()["n"], json!(9999));
    assert_eq!(value(&store, "todo", "mine"), Some(json!("pending")));
    let store = reopen(&path, store);
    assert_eq!(store.cursor(), Some(9));
    assert_eq!(
        store.all("todo").len(),
        10_001,
        "10,000 staged, one pending"
    );
    assert_eq!(store.pending_ids(), ["m1"]);
}

#[test]
fn a_staging_superseded_by_a_wipe_refuses_its_batches_and_its_commit() {
    let dir = temp_dir("staging-wiped");
    let (_path, store) = file_of(&dir);
    let mut staging = store.begin_snapshot().unwrap();
    let (batches, to_write) = mpsc::sync_channel::<StagingBatch>(8);
    stage_todos(&store, &mut staging, 5_000, &batches);
    store.wipe().unwrap();
    let batch = to_write.try_recv().expect("one full batch");
    assert!(matches!(
        store.write_staging_batch(batch),
        Err(Error::InvalidChange { .. })
    ));
    assert!(matches!(
        store.commit_snapshot(staging, 5),
        Err(Error::InvalidChange { .. })
    ));
    assert_eq!(store.cursor(), None);
    assert!(store.all("todo").is_empty());
}

#[test]
fn a_memory_store_never_hands_out_batches() {
    let store = Store::open_in_memory();
    let mut staging = store.begin_snapshot().unwrap();
    for i in 0..10_000 {
        assert!(store
            .stage_entity(&mut staging, "todo", format!("t{i}"), text(json!(i)))
            .is_ok());
        assert!(staging.take_full_batch().is_none());
    }
    assert_eq!(
        store.stage_entity(&mut staging, "todo", "t7".into(), text(json!("again"))),
        Err("t7".to_owned())
    );
    store.commit_snapshot(staging, 1).unwrap();
    assert_eq!(store.all("todo").len(), 10_000);
    assert_eq!(value(&store, "todo", "t7"), Some(json!(7)));
}

#[test]
fn commits_of_what_the_server_sent_leave_the_file_in_its_own_durability_mode() {
    for mode in [Durability::Full, Durability::Normal] {
        let dir = temp_dir("server-sent-mode");
        let store = Store::open_with(&dir.path().join("store.db"), None, mode).unwrap();
        assert_eq!(store.durability().unwrap(), Some(mode));
        write(&store, "m1", upsert("todo", "a", json!(1)));
        store
            .apply_remote(&[upsert("todo", "b", json!(2))], 4)
            .unwrap();
        assert_eq!(store.durability().unwrap(), Some(mode), "after a pull");
        store.acknowledge(&[], &[], &[("m1".into(), 5)]).unwrap();
        assert_eq!(store.durability().unwrap(), Some(mode), "after an ack");
        let mut staging = store.begin_snapshot().unwrap();
        assert!(store
            .stage_entity(&mut staging, "todo", "c".into(), text(json!(3)))
            .is_ok());
        store.commit_snapshot(staging, 6).unwrap();
        assert_eq!(store.durability().unwrap(), Some(mode), "after a snapshot");
        write(&store, "m2", upsert("todo", "d", json!(4)));
        assert_eq!(
            store.durability().unwrap(),
            Some(mode),
            "after a local write"
        );
        store.discard(&["m2".into()]).unwrap();
        assert_eq!(store.durability().unwrap(), Some(mode), "after a discard");
        write(&store, "m3", upsert("todo", "e", json!(5)));
        store.acknowledge(&[], &["m3".into()], &[]).unwrap();
        assert_eq!(store.durability().unwrap(), Some(mode), "after a rejection");
        assert_eq!(store.pending_ids(), ["m1"]);
        assert_eq!(
            value(&store, "todo", "d"),
            None,
            "the discarded effect is gone"
        );
    }
}
