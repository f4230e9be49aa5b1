//! The visible state: base + overlay, and the exact reporting of what changed.

use serde_json::json;

use super::*;
use crate::protocol::entity::SnapshotData;
use crate::store::{Changed, Error, PendingMutation};

fn changed(keys: &[(&str, &str)], collections: &[&str]) -> Changed {
    Changed {
        keys: keys.iter().map(|(c, id)| key(c, id)).collect(),
        collections: collections.iter().map(|c| c.to_string()).collect(),
        arrived: Vec::new(),
    }
}

fn snapshot(entries: &[(&str, &str, serde_json::Value)]) -> SnapshotData {
    let mut data = SnapshotData::new();
    for (collection, id, value) in entries {
        data.entry(collection.to_string())
            .or_default()
            .insert(id.to_string(), text(value.clone()));
    }
    data
}

#[test]
fn shows_pending_writes_on_top_of_the_base() {
    on_both_backends("overlay", |store| {
        store
            .apply_remote(
                &[
                    upsert("todo", "a", json!({"t":"base a"})),
                    upsert("todo", "b", json!({"t":"base b"})),
                ],
                5,
            )
            .unwrap();
        write(store, "m1", upsert("todo", "a", json!({"t":"local a"})));
        write(store, "m2", delete("todo", "b"));
        write(
            store,
            "m3",
            change(EntityOp::Create, "todo", "c", Some(json!({"t":"new c"}))),
        );

        assert_eq!(value(store, "todo", "a"), Some(json!({"t":"local a"})));
        assert_eq!(value(store, "todo", "b"), None);
        assert!(!store.has(&key("todo", "b")));
        assert_eq!(value(store, "todo", "c"), Some(json!({"t":"new c"})));
        assert_eq!(store.ids("todo"), ["a", "c"]);
        assert_eq!(store.count("todo"), 2);
        assert_eq!(store.pending_count(), 3);
        assert_eq!(store.pending_ids(), ["m1", "m2", "m3"]);
    });
}

#[test]
fn reports_exactly_the_keys_whose_visible_value_changed() {
    on_both_backends("changed", |store| {
        store
            .apply_remote(&[upsert("todo", "a", json!(1))], 1)
            .unwrap();
        assert_eq!(
            write(store, "m1", upsert("todo", "a", json!(1))),
            Changed::default()
        );
        assert_eq!(
            write(store, "m2", upsert("todo", "a", json!(2))),
            changed(&[("todo", "a")], &[])
        );
        assert_eq!(
            write(store, "m3", upsert("note", "x", json!(0))),
            changed(&[("note", "x")], &["note"])
        );
        assert_eq!(
            write(store, "m4", delete("todo", "a")),
            changed(&[("todo", "a")], &["todo"])
        );
        assert_eq!(write(store, "m5", delete("todo", "zz")), Changed::default());
        // The base moves under a pending delete: nothing visible changes.
        assert_eq!(
            store
                .apply_remote(&[upsert("todo", "a", json!(3))], 2)
                .unwrap(),
            Changed::default()
        );
        // A change to one entity reports only that entity.
        assert_eq!(
            store
                .apply_remote(
                    &[upsert("todo", "b", json!(1)), upsert("todo", "b", json!(2))],
                    3
                )
                .unwrap(),
            changed(&[("todo", "b")], &["todo"])
        );
        assert_eq!(
            store
                .apply_remote(&[upsert("todo", "c", json!(1)), delete("todo", "c")], 4)
                .unwrap(),
            Changed::default()
        );
    });
}

#[test]
fn pending_except_skips_the_named_mutations_and_says_where_to_read_next() {
    on_both_backends("pending-except", |store| {
        for id in ["m1", "m2", "m3", "m4"] {
            let mutation = Mutation {
                id: id.into(),
                scope: "s".into(),
                name: "todo.archive_done".into(),
                args: None,
            };
            store.enqueue(mutation, None).unwrap();
        }
        let read = |from, skip: &[&str], limit| {
            let skip: std::collections::HashSet<String> =
                skip.iter().map(|id| id.to_string()).collect();
            let (pending, next) =
                store.pending_except(from, limit, |id| skip.contains(id), PendingMutation::clone);
            let ids: Vec<String> = pending.into_iter().map(|p| p.mutation.id).collect();
            (ids, next)
        };
        let seq = |id: &str| {
            let all = store
                .pending_except(0, 10, |_| false, PendingMutation::clone)
                .0;
            all.iter()
                .find(|p| p.mutation.id == id)
                .map(|p| p.seq)
                .unwrap()
        };
        assert_eq!(
            read(0, &["m1", "m3"], 10),
            (vec!["m2".into(), "m4".into()], seq("m2"))
        );
        assert_eq!(
            read(0, &["m1"], 2),
            (vec!["m2".into(), "m3".into()], seq("m2"))
        );
        assert_eq!(read(0, &[], 1), (vec!["m1".into()], seq("m1")));
        assert_eq!(read(seq("m3"), &[], 10).0, ["m3", "m4"]);
        let (none, next) = read(0, &["m1", "m2", "m3", "m4"], 10);
        assert!(none.is_empty());
        assert_eq!(next, seq("m4") + 1);
    });
}

#[test]
fn an_app_defined_mutation_is_queued_without_local_effect() {
    on_both_backends("app-defined", |store| {
        let mutation = Mutation {
            id: "m1".into(),
            scope: "s".into(),
            name: "todo.archive_done".into(),
            args: None,
        };
        let (seq, changed) = store.enqueue(mutation.clone(), None).unwrap();
        assert!(changed.is_empty());
        let pending = store.pending(10);
        assert_eq!(pending.len(), 1);
        assert_eq!(
            (pending[0].seq, &pending[0].mutation, &pending[0].change),
            (seq, &mutation, &None)
        );
        assert_eq!(
            store.settle(&[], &["m1".into()]).unwrap(),
            Changed::default()
        );
        assert_eq!(store.pending_count(), 0);
    });
}

#[test]
fn a_rejected_write_disappears_and_reveals_what_was_under_it() {
    on_both_backends("reject", |store| {
        store
            .apply_remote(&[upsert("todo", "a", json!("base"))], 1)
            .unwrap();
        write(store, "m1", upsert("todo", "a", json!("first")));
        write(store, "m2", upsert("todo", "a", json!("second")));
        write(store, "m3", upsert("todo", "n", json!("new")));

        // The later pending write wins; rejecting it reveals the earlier one.
        assert_eq!(
            store.settle(&[], &["m2".into()]).unwrap(),
            changed(&[("todo", "a")], &[])
        );
        assert_eq!(value(store, "todo", "a"), Some(json!("first")));
        // Rejecting the earlier one reveals the base.
        assert_eq!(
            store.settle(&[], &["m1".into()]).unwrap(),
            changed(&[("todo", "a")], &[])
        );
        assert_eq!(value(store, "todo", "a"), Some(json!("base")));
        // A rejected create vanishes from the collection.
        assert_eq!(
            store.settle(&[], &["m3".into()]).unwrap(),
            changed(&[("todo", "n")], &["todo"])
        );
        assert_eq!(store.ids("todo"), ["a"]);
        // Settling again, or an unknown id, is a no-op.
        assert_eq!(
            store.settle(&["m3".into()], &["nope".into()]).unwrap(),
            Changed::default()
        );
    });
}

#[test]
fn an_acked_write_leaves_the_server_value_visible_once_pulled() {
    on_both_backends("ack", |store| {
        store
            .apply_remote(&[upsert("todo", "a", json!("old"))], 1)
            .unwrap();
        write(store, "m1", upsert("todo", "a", json!("mine")));
        write(store, "m2", upsert("todo", "b", json!("other")));
        // The pull that carries the server's version of m1 keeps the pending effect on top.
        let pulled = store
            .apply_remote(&[upsert("todo", "a", json!("mine"))], 2)
            .unwrap();
        assert_eq!(pulled, Changed::default());
        // Settling the ack then changes nothing visible: the base already holds the value.
        assert_eq!(
            store.settle(&["m1".into()], &[]).unwrap(),
            Changed::default()
        );
        assert_eq!(value(store, "todo", "a"), Some(json!("mine")));
        assert_eq!(store.pending_ids(), ["m2"]);
        // Acked before its change arrived: the key shows the base until the pull.
        assert_eq!(
            store.settle(&["m2".into()], &[]).unwrap(),
            changed(&[("todo", "b")], &["todo"])
        );
        assert_eq!(value(store, "todo", "b"), None);
    });
}

#[test]
fn replacing_the_base_keeps_pending_writes_on_top() {
    on_both_backends("replace", |store| {
        store
            .apply_remote(
                &[
                    upsert("todo", "a", json!(1)),
                    upsert("todo", "b", json!(1)),
                    upsert("old", "x", json!(1)),
                ],
                3,
            )
            .unwrap();
        write(store, "m1", upsert("todo", "a", json!("mine")));
        write(store, "m2", upsert("todo", "p", json!("pending")));

        let snap = snapshot(&[
            ("todo", "a", json!(9)),
            ("todo", "b", json!(1)),
            ("todo", "c", json!(2)),
            ("new", "y", json!(3)),
        ]);
        let changed_now = store.replace_base(snap, 40).unwrap();
        assert_eq!(
            changed_now,
            changed(
                &[("new", "y"), ("old", "x"), ("todo", "c")],
                &["new", "old", "todo"]
            )
        );
        assert_eq!(store.cursor(), Some(40));
        assert_eq!(value(store, "todo", "a"), Some(json!("mine")));
        assert_eq!(store.ids("todo"), ["a", "b", "c", "p"]);
        assert_eq!(store.count("old"), 0);
        // Once the pending writes settle, the snapshot's values show.
        store.settle(&["m1".into(), "m2".into()], &[]).unwrap();
        assert_eq!(value(store, "todo", "a"), Some(json!(9)));
        assert_eq!(store.ids("todo"), ["a", "b", "c"]);
    });
}

#[test]
fn lists_visible_entities_sorted_by_id() {
    on_both_backends("sorted", |store| {
        let ids = ["b", "a10", "a2", "Z", "é", "a1"];
        let changes: Vec<_> = ids.iter().map(|id| upsert("t", id, json!(id))).collect();
        store.apply_remote(&changes, 1).unwrap();
        write(store, "m1", upsert("t", "0", json!("zero")));
        write(store, "m2", delete("t", "a2"));
        write(store, "m3", upsert("t", "b", json!("bee")));
        let all = store.all("t");
        let listed: Vec<(&str, &str)> = all.iter().map(|(id, v)| (id.as_str(), &**v)).collect();
        assert_eq!(
            listed,
            [
                ("0", "\"zero\""),
                ("Z", "\"Z\""),
                ("a1", "\"a1\""),
                ("a10", "\"a10\""),
                ("b", "\"bee\""),
                ("é", "\"é\"")
            ]
        );
        assert_eq!(store.count("t"), 6);
        assert_eq!(store.ids("missing"), Vec::<String>::new());
        assert_eq!(store.count("missing"), 0);
    });
}

#[test]
fn rejects_malformed_writes_and_changes_nothing() {
    on_both_backends("malformed", |store| {
        write(store, "m1", upsert("todo", "a", json!(1)));
        let duplicate = store.enqueue(
            mutation_for("m1", &upsert("todo", "a", json!(2))),
            Some(upsert("todo", "a", json!(2))),
        );
        assert!(matches!(duplicate, Err(Error::DuplicateMutation(id)) if id == "m1"));
        let no_value = change(EntityOp::Create, "todo", "b", None);
        let result = store.enqueue(mutation_for("m2", &no_value), Some(no_value));
        assert!(matches!(result, Err(Error::InvalidChange { .. })));
        let mut bad_json = upsert("todo", "c", json!(1));
        bad_json.value = Some("{not json".into());
        assert!(matches!(
            store.apply_remote(&[upsert("todo", "d", json!(1)), bad_json], 9),
            Err(Error::InvalidChange { .. })
        ));
        let mut snap = snapshot(&[("todo", "e", json!(1))]);
        snap.entry("todo".into())
            .or_default()
            .insert("f".into(), "nope".into());
        assert!(matches!(
            store.replace_base(snap, 10),
            Err(Error::InvalidChange { .. })
        ));

        assert_eq!(store.pending_ids(), ["m1"]);
        assert_eq!(value(store, "todo", "a"), Some(json!(1)));
        assert_eq!(store.ids("todo"), ["a"]);
        assert_eq!(store.cursor(), None);
    });
}

#[test]
fn a_delete_is_stored_without_its_value() {
    on_both_backends("delete-value", |store| {
        let mut with_value = delete("todo", "a");
        with_value.value = Some("1".into());
        store
            .enqueue(mutation_for("m1", &delete("todo", "a")), Some(with_value))
            .unwrap();
        assert_eq!(store.pending(1)[0].change, Some(delete("todo", "a")));
    });
}
