//! A large collection new to the store is told of as arrived (no key per entity), and what
//! that says is exactly what changed: checked against a brute-force diff of the visible state
//! through random bases, pending writes and snapshots around the size at which it applies.

use std::collections::{BTreeMap, BTreeSet};

use mizu_test_support::Rng;
use serde_json::json;

use super::*;
use crate::protocol::entity::SnapshotData;
use crate::store::{Changed, ARRIVAL_MIN_ENTITIES};

type Visible = BTreeMap<EntityKey, JsonText>;

fn visible(store: &Store, collections: &[&str]) -> Visible {
    let mut all = Visible::new();
    for collection in collections {
        for (id, value) in store.all(collection) {
            all.insert(key(collection, &id), value);
        }
    }
    all
}

/// Every key `changed` says changed: the listed keys, and each entity of an arrived
/// collection as it is now.
fn expand(store: &Store, changed: &Changed) -> BTreeSet<EntityKey> {
    let mut keys: BTreeSet<EntityKey> = changed.keys.iter().cloned().collect();
    for collection in &changed.arrived {
        keys.extend(
            store
                .all(collection)
                .into_iter()
                .map(|(id, _)| key(collection, &id)),
        );
    }
    keys
}

fn todos(ids: impl IntoIterator<Item = usize>, n: usize) -> SnapshotData {
    let mut data = SnapshotData::new();
    let todo = data.entry("todo".to_owned()).or_default();
    for i in ids {
        todo.insert(format!("t{i:04}"), text(json!({ "n": i, "v": n })));
    }
    data
}

#[test]
fn a_large_collection_new_to_the_store_arrives_whole() {
    on_both_backends("arrival", |store| {
        let mut data = todos(0..ARRIVAL_MIN_ENTITIES, 1);
        data.entry("tag".to_owned())
            .or_default()
            .insert("home".to_owned(), text(json!({ "name": "home" })));
        let changed = store.replace_base(data, 5).unwrap();
        assert_eq!(changed.arrived, ["todo"]);
        assert_eq!(changed.collections, ["tag", "todo"]);
        assert_eq!(
            changed.keys,
            [key("tag", "home")],
            "a small one goes key by key"
        );
        assert_eq!(store.count("todo"), ARRIVAL_MIN_ENTITIES);
    });
}

#[test]
fn a_collection_shown_before_is_told_key_by_key() {
    on_both_backends("arrival-known", |store| {
        // Pending: the collection shows an entity already, which the snapshot does not change.
        write(store, "m1", upsert("todo", "t0003", json!("mine")));
        let changed = store.replace_base(todos(0..300, 1), 5).unwrap();
        assert!(changed.arrived.is_empty());
        assert_eq!(
            changed.keys.len(),
            299,
            "the pending entity shadows its base"
        );
        // A base shown before: only the differences.
        let changed = store.replace_base(todos(0..301, 1), 6).unwrap();
        assert!(changed.arrived.is_empty());
        assert_eq!(changed.keys, [key("todo", "t0300")]);
        // Below the size: key by key.
        store.settle(&[], &["m1".to_owned()]).unwrap();
        store.replace_base(SnapshotData::new(), 7).unwrap();
        let changed = store
            .replace_base(todos(0..ARRIVAL_MIN_ENTITIES - 1, 1), 8)
            .unwrap();
        assert!(changed.arrived.is_empty());
        assert_eq!(changed.keys.len(), ARRIVAL_MIN_ENTITIES - 1);
    });
}

#[test]
fn a_staged_snapshot_arrives_whole_too() {
    on_both_backends("arrival-staged", |store| {
        let mut staging = store.begin_snapshot().unwrap();
        for i in 0..1000 {
            let value = text(json!({ "n": i }));
            assert!(store
                .stage_entity(&mut staging, "todo", format!("t{i:04}"), value)
                .is_ok());
        }
        let changed = store.commit_snapshot(staging, 3).unwrap();
        assert_eq!(changed.arrived, ["todo"]);
        assert!(changed.keys.is_empty());
        assert_eq!(changed.collections, ["todo"]);
    });
}

/// Random steps (pending writes, settles, pulled changes, snapshots of every size around the
/// threshold, emptied collections); after each snapshot, what the store reports equals the
/// brute-force diff of the visible state before and after.
#[test]
fn arrivals_name_exactly_what_changed() {
    const COLLECTIONS: [&str; 2] = ["todo", "tag"];
    let mut rng = Rng::new(17);
    let store = Store::open_in_memory();
    let (mut seq, mut cursor, mut arrivals) = (0u64, 0u64, 0usize);
    for step in 0..300 {
        match rng.below(10) {
            0..=2 => {
                seq += 1;
                let collection = COLLECTIONS[rng.below(2) as usize];
                let id = format!("t{:04}", rng.below(400));
                write(
                    &store,
                    &format!("m{seq}"),
                    upsert(collection, &id, json!(step)),
                );
            }
            3 => {
                let pending: Vec<String> = store
                    .pending(usize::MAX)
                    .into_iter()
                    .map(|p| p.mutation.id)
                    .collect();
                store.settle(&[], &pending).unwrap();
            }
            4 => {
                cursor += 1;
                let id = format!("t{:04}", rng.below(400));
                store
                    .apply_remote(&[upsert("todo", &id, json!(step))], cursor)
                    .unwrap();
            }
            _ => {
                let mut data = SnapshotData::new();
                for collection in COLLECTIONS {
                    let size = match rng.below(4) {
                        0 => 0,
                        1 => rng.below(10) as usize,
                        _ => ARRIVAL_MIN_ENTITIES - 2 + rng.below(5) as usize,
                    };
                    let ids = data.entry(collection.to_owned()).or_default();
                    let start = rng.below(400);
                    for n in (start..start + size as u64).map(|n| n % 400) {
                        ids.insert(format!("t{n:04}"), text(json!({ "n": n, "s": step % 3 })));
                    }
                }
                let before = visible(&store, &COLLECTIONS);
                cursor += 1;
                let changed = store.replace_base(data, cursor).unwrap();
                let after = visible(&store, &COLLECTIONS);
                let expected: BTreeSet<EntityKey> = before
                    .keys()
                    .chain(after.keys())
                    .filter(|k| before.get(*k) != after.get(*k))
                    .cloned()
                    .collect();
                assert_eq!(expand(&store, &changed), expected, "step {step}: keys");
                for collection in &changed.arrived {
                    assert!(
                        !before.keys().any(|k| k.collection == *collection),
                        "step {step}: {collection} arrived but showed entities before"
                    );
                    assert!(changed.collections.contains(collection));
                }
                let expected_collections: Vec<String> = COLLECTIONS
                    .iter()
                    .filter(|c| {
                        let ids = |v: &Visible| {
                            v.keys()
                                .filter(|k| k.collection == **c)
                                .map(|k| k.id.clone())
                                .collect::<BTreeSet<_>>()
                        };
                        ids(&before) != ids(&after)
                    })
                    .map(|c| c.to_string())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                assert_eq!(changed.collections, expected_collections, "step {step}");
                arrivals += changed.arrived.len();
            }
        }
    }
    assert!(
        arrivals >= 10,
        "only {arrivals} arrivals: the walk misses the case"
    );
}
