//! [`store_operations`]: the in-memory store against a model that recomputes the visible state
//! from scratch (base, then every pending effect in order) after each operation.

use std::collections::{BTreeMap, BTreeSet};

use super::Script;
use crate::protocol::entity::{EntityChange, EntityKey, EntityOp, SnapshotData};
use crate::protocol::wire::Mutation;
use crate::store::{Changed, Error, Store};

const COLLECTIONS: [&str; 2] = ["a", "b"];
const IDS: [&str; 3] = ["x", "y", "z"];
/// Value texts: compact, spaced (same value, other text), `null`, and two that are not JSON.
const VALUES: [&str; 8] = [
    "1",
    "\"t\"",
    "{\"k\":1}",
    "{ \"k\" : 1 }",
    "null",
    "[1,2]",
    "{",
    "",
];

type Visible = BTreeMap<EntityKey, String>;

/// Runs a fuzzed sequence of store operations.
///
/// # Panics
/// When the store's visible state, pending queue, cursor or reported `Changed` differ from
/// the model's, or when it accepts (or refuses) a write the model says it must refuse (or
/// accept).
pub fn store_operations(data: &[u8]) {
    let mut script = Script::new(data);
    let store = Store::open_in_memory();
    let mut model = Model::default();
    while !script.is_empty() {
        let before = model.visible();
        let changed = match script.byte() % 6 {
            0 | 1 => model.enqueue(&store, &mut script, true),
            2 => model.enqueue(&store, &mut script, false),
            3 => Some(model.settle(&store, &mut script)),
            4 => model.apply_remote(&store, &mut script),
            _ => model.replace_base(&store, &mut script),
        };
        let after = model.visible();
        if let Some(changed) = changed {
            assert_eq!(
                changed,
                expected_changes(&before, &after),
                "reported changes"
            );
        }
        model.check(&store, &after);
    }
}

#[derive(Default)]
struct Model {
    base: Visible,
    /// Pending mutations in queue order: id and optimistic effect.
    pending: Vec<(String, Option<EntityChange>)>,
    cursor: Option<u64>,
    written: u64,
}

impl Model {
    /// Base with every pending effect applied in order, from scratch.
    fn visible(&self) -> Visible {
        let mut visible = self.base.clone();
        for change in self.pending.iter().filter_map(|(_, c)| c.as_ref()) {
            apply(&mut visible, change);
        }
        visible
    }

    fn enqueue(
        &mut self,
        store: &Store,
        script: &mut Script<'_>,
        with_change: bool,
    ) -> Option<Changed> {
        let duplicate = script.byte().is_multiple_of(8) && !self.pending.is_empty();
        let id = if duplicate {
            let index = script.below(self.pending.len());
            self.pending[index].0.clone()
        } else {
            self.written += 1;
            format!("m{}", self.written)
        };
        let change = with_change.then(|| change(script));
        let mutation = Mutation {
            id: id.clone(),
            scope: String::new(),
            name: "a.op".into(),
            args: None,
        };
        let result = store.enqueue(mutation, change.clone());
        if let Some(reason) = change.as_ref().and_then(invalid) {
            assert!(
                matches!(result, Err(Error::InvalidChange { .. })),
                "{reason}: {result:?}"
            );
            return None;
        }
        if duplicate {
            assert!(
                matches!(&result, Err(Error::DuplicateMutation(d)) if *d == id),
                "a pending id is refused: {result:?}"
            );
            return None;
        }
        let (_, changed) = result.expect("a valid, fresh mutation is queued");
        let change = change.map(|mut c| {
            if c.op == EntityOp::Delete {
                c.value = None;
            }
            c
        });
        self.pending.push((id, change));
        Some(changed)
    }

    fn settle(&mut self, store: &Store, script: &mut Script<'_>) -> Changed {
        let (mut acked, mut rejected) = (Vec::new(), Vec::new());
        for (id, _) in &self.pending {
            match script.byte() % 3 {
                0 => {}
                1 => acked.push(id.clone()),
                _ => rejected.push(id.clone()),
            }
        }
        if script.byte().is_multiple_of(4) {
            acked.push("never-queued".into());
        }
        if script.byte().is_multiple_of(4) {
            if let Some(id) = acked.first().cloned() {
                rejected.push(id);
            }
        }
        let changed = store.settle(&acked, &rejected).expect("settling succeeds");
        let gone: BTreeSet<&String> = acked.iter().chain(&rejected).collect();
        self.pending.retain(|(id, _)| !gone.contains(id));
        changed
    }

    fn apply_remote(&mut self, store: &Store, script: &mut Script<'_>) -> Option<Changed> {
        let changes: Vec<EntityChange> = (0..script.below(5)).map(|_| change(script)).collect();
        let cursor = script.u64();
        let result = store.apply_remote(&changes, cursor);
        if let Some(reason) = changes.iter().find_map(invalid) {
            assert!(
                matches!(result, Err(Error::InvalidChange { .. })),
                "{reason}: {result:?}"
            );
            return None;
        }
        let changed = result.expect("valid changes apply");
        for change in &changes {
            apply(&mut self.base, change);
        }
        self.cursor = Some(cursor);
        Some(changed)
    }

    fn replace_base(&mut self, store: &Store, script: &mut Script<'_>) -> Option<Changed> {
        let mut snapshot = SnapshotData::new();
        for _ in 0..script.below(6) {
            let collection = COLLECTIONS[script.below(COLLECTIONS.len())];
            let ids = snapshot.entry(collection.to_owned()).or_default();
            if !script.byte().is_multiple_of(4) {
                let id = IDS[script.below(IDS.len())];
                ids.insert(id.to_owned(), VALUES[script.below(VALUES.len())].into());
            }
        }
        let cursor = script.u64();
        let result = store.replace_base(snapshot.clone(), cursor);
        let not_json = snapshot
            .values()
            .flat_map(|ids| ids.values())
            .any(|value| crate::store::check_json(value).is_err());
        if not_json {
            assert!(
                matches!(result, Err(Error::InvalidChange { .. })),
                "a snapshot value that is not JSON is refused: {result:?}"
            );
            return None;
        }
        let changed = result.expect("a snapshot of JSON values applies");
        self.base = snapshot
            .into_iter()
            .flat_map(|(collection, ids)| {
                ids.into_iter()
                    .map(move |(id, value)| (EntityKey::new(collection.as_str(), id), value))
            })
            .map(|(key, value)| (key, value.to_string()))
            .collect();
        self.cursor = Some(cursor);
        Some(changed)
    }

    /// The store agrees with the model on everything it exposes.
    fn check(&self, store: &Store, visible: &Visible) {
        assert_eq!(store.cursor(), self.cursor, "cursor");
        let queued: Vec<(String, Option<EntityChange>)> = store
            .pending(usize::MAX)
            .into_iter()
            .map(|p| (p.mutation.id, p.change))
            .collect();
        assert_eq!(queued, self.pending, "pending queue, in order");
        assert_eq!(store.pending_count(), self.pending.len());
        let seqs: Vec<u64> = store.pending(usize::MAX).iter().map(|p| p.seq).collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "seqs ascend: {seqs:?}"
        );
        for collection in COLLECTIONS {
            let expected: Vec<(String, String)> = visible
                .iter()
                .filter(|(key, _)| key.collection == collection)
                .map(|(key, value)| (key.id.clone(), value.clone()))
                .collect();
            let all: Vec<(String, String)> = store
                .all(collection)
                .into_iter()
                .map(|(id, value)| (id, value.to_string()))
                .collect();
            assert_eq!(all, expected, "visible entities of {collection}");
            assert_eq!(
                store.count(collection),
                expected.len(),
                "count of {collection}"
            );
            let ids: Vec<String> = expected.into_iter().map(|(id, _)| id).collect();
            assert_eq!(store.ids(collection), ids, "ids of {collection}");
            for id in IDS {
                let key = EntityKey::new(collection, id);
                let value = store.get(&key).map(|v| v.to_string());
                assert_eq!(
                    value.as_ref(),
                    visible.get(&key),
                    "value of {collection}/{id}"
                );
                assert_eq!(store.has(&key), value.is_some());
            }
        }
    }
}

/// A change to a random key with a random op and value (possibly missing or not JSON).
fn change(script: &mut Script<'_>) -> EntityChange {
    let key = EntityKey::new(
        COLLECTIONS[script.below(COLLECTIONS.len())],
        IDS[script.below(IDS.len())],
    );
    let op = [EntityOp::Create, EntityOp::Update, EntityOp::Delete][script.below(3)];
    let value = match script.byte() % 8 {
        0 => None,
        n => Some(VALUES[usize::from(n) % VALUES.len()].into()),
    };
    EntityChange { key, op, value }
}

/// Why the store must refuse `change`, if it must.
fn invalid(change: &EntityChange) -> Option<&'static str> {
    match (change.op, change.value.as_deref()) {
        (EntityOp::Delete, _) => None,
        (_, None) => Some("a create or update without a value is refused"),
        (_, Some(value)) if crate::store::check_json(value).is_err() => {
            Some("a value that is not JSON is refused")
        }
        _ => None,
    }
}

fn apply(visible: &mut Visible, change: &EntityChange) {
    match (change.op, &change.value) {
        (EntityOp::Delete, _) => {
            visible.remove(&change.key);
        }
        (_, Some(value)) => {
            visible.insert(change.key.clone(), value.to_string());
        }
        (_, None) => unreachable!("refused before it reaches the model"),
    }
}

/// What a correct store reports between two visible states: every key whose text differs,
/// ascending, and every collection in which some key appeared or vanished.
fn expected_changes(before: &Visible, after: &Visible) -> Changed {
    let keys: BTreeSet<&EntityKey> = before.keys().chain(after.keys()).collect();
    let mut changed = Changed::default();
    let mut collections = BTreeSet::new();
    for key in keys {
        let (b, a) = (before.get(key), after.get(key));
        if b != a {
            if b.is_some() != a.is_some() {
                collections.insert(key.collection.clone());
            }
            changed.keys.push(key.clone());
        }
    }
    changed.collections = collections.into_iter().collect();
    changed
}
