//! The in-memory read model: the synced base, the pending queue, and the overlay (the net effect
//! of the pending queue on each key). Every operation here is infallible and reports exactly which
//! keys' visible values changed; the facade calls it only after the matching SQLite transaction
//! committed, so memory never runs ahead of the file.

use std::cmp::Ordering;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::iter::Peekable;

use crate::protocol::entity::{EntityChange, EntityKey, EntityOp, JsonText, SnapshotData};

use super::{Changed, Delta, PendingMutation, ARRIVAL_MIN_ENTITIES};

/// The net effect of the pending queue on one key.
#[derive(Debug)]
struct Overlay {
    /// The value the last pending change of this key left (`None`: deleted).
    value: Option<JsonText>,
    /// The seqs of the pending mutations that touch this key, ascending.
    seqs: Vec<u64>,
}

/// Base + pending + overlay. Values are shared `Arc<str>`: the overlay and the pending queue point
/// at the same text, nothing is copied per reader.
#[derive(Debug, Default)]
pub(crate) struct Memory {
    /// What the server said, as of the cursor: collection → id → value. No empty collections.
    base: SnapshotData,
    /// collection → id → net pending effect. Only keys some pending mutation touches.
    overlay: BTreeMap<String, BTreeMap<String, Overlay>>,
    /// The queue, by seq (enqueue order).
    pending: BTreeMap<u64, PendingMutation>,
    /// Mutation id → seq, for settling and duplicate checks.
    seq_by_id: HashMap<String, u64>,
}

/// Records the visible values of keys before an operation, then diffs them after it.
#[derive(Default)]
struct Diff {
    before: BTreeMap<EntityKey, Option<JsonText>>,
}

impl Diff {
    /// Remembers `key`'s visible value, unless already remembered (the first one is the "before").
    fn note(&mut self, memory: &Memory, key: &EntityKey) {
        if !self.before.contains_key(key) {
            let value = memory.get(key).cloned();
            self.before.insert(key.clone(), value);
        }
    }

    /// Compares every noted key with its visible value now.
    fn finish(self, memory: &Memory) -> Delta {
        let mut changed = ChangedBuilder::default();
        for (key, before) in self.before {
            let after = memory.get(&key);
            changed.compare(key, before.as_ref(), after);
        }
        changed.build()
    }
}

/// Accumulates a [`Delta`]: keys in ascending order with their values before, collections
/// deduplicated.
#[derive(Default)]
struct ChangedBuilder {
    keys: Vec<EntityKey>,
    before: Vec<Option<JsonText>>,
    collections: BTreeSet<String>,
    arrived: Vec<String>,
}

impl ChangedBuilder {
    fn compare(&mut self, key: EntityKey, before: Option<&JsonText>, after: Option<&JsonText>) {
        if before.map(|v| &**v) == after.map(|v| &**v) {
            return;
        }
        if before.is_some() != after.is_some() && !self.collections.contains(&key.collection) {
            self.collections.insert(key.collection.clone());
        }
        self.keys.push(key);
        self.before.push(before.cloned());
    }

    /// Notes that `collection` arrived whole (every entity of it appeared). Called in
    /// ascending order of collection.
    fn arrive(&mut self, collection: &str) {
        self.collections.insert(collection.to_owned());
        self.arrived.push(collection.to_owned());
    }

    fn build(self) -> Delta {
        Delta {
            changed: Changed {
                keys: self.keys,
                collections: self.collections.into_iter().collect(),
                arrived: self.arrived,
            },
            before: self.before,
        }
    }
}

impl Memory {
    /// Builds the model from what a file held: base, and the pending queue in seq order.
    pub(crate) fn restore(base: SnapshotData, pending: Vec<PendingMutation>) -> Memory {
        let mut memory = Memory {
            base,
            ..Memory::default()
        };
        memory.base.retain(|_, ids| !ids.is_empty());
        for p in pending {
            memory.push_pending(p);
        }
        memory
    }

    /// The ids of the pending mutations that touch `key`, oldest first.
    pub(crate) fn pending_ids_of(&self, key: &EntityKey) -> Vec<String> {
        self.overlay
            .get(&key.collection)
            .and_then(|ids| ids.get(&key.id))
            .map(|overlay| {
                overlay
                    .seqs
                    .iter()
                    .filter_map(|seq| self.pending.get(seq))
                    .map(|p| p.mutation.id.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The pending mutation `mutation_id`, if queued.
    pub(crate) fn pending_by_id(&self, mutation_id: &str) -> Option<&PendingMutation> {
        self.pending.get(self.seq_by_id.get(mutation_id)?)
    }

    /// Forgets everything (base, overlay, queue); returns what vanished.
    pub(crate) fn clear(&mut self) -> Delta {
        let mut keys = Vec::new();
        for (collection, ids) in &self.base {
            keys.extend(
                ids.keys()
                    .map(|id| EntityKey::new(collection.as_str(), id.as_str())),
            );
        }
        for (collection, ids) in &self.overlay {
            keys.extend(
                ids.keys()
                    .map(|id| EntityKey::new(collection.as_str(), id.as_str())),
            );
        }
        let mut diff = Diff::default();
        for key in &keys {
            diff.note(self, key);
        }
        *self = Memory::default();
        diff.finish(self)
    }

    /// The visible value of `key`: the overlay's if a pending change touches it, else the base's.
    pub(crate) fn get(&self, key: &EntityKey) -> Option<&JsonText> {
        self.get_in(&key.collection, &key.id)
    }

    /// The visible value of `collection`/`id` (see [`get`](Self::get)).
    pub(crate) fn get_in(&self, collection: &str, id: &str) -> Option<&JsonText> {
        match self.overlay.get(collection).and_then(|ids| ids.get(id)) {
            Some(overlay) => overlay.value.as_ref(),
            None => self.base.get(collection)?.get(id),
        }
    }

    /// The visible entities of `collection`, ascending by id.
    pub(crate) fn visible<'a>(&'a self, collection: &str) -> Visible<'a> {
        Visible {
            base: self.base.get(collection).map(|ids| ids.iter().peekable()),
            overlay: self
                .overlay
                .get(collection)
                .map(|ids| ids.iter().peekable()),
        }
    }

    /// The number of visible entities of `collection`.
    /// O(keys with pending changes), not O(collection).
    pub(crate) fn count(&self, collection: &str) -> usize {
        let base = self.base.get(collection);
        let in_base = base.map_or(0, BTreeMap::len);
        let Some(overlay) = self.overlay.get(collection) else {
            return in_base;
        };
        let (mut added, mut removed) = (0, 0);
        for (id, pending) in overlay {
            match (
                base.is_some_and(|b| b.contains_key(id)),
                pending.value.is_some(),
            ) {
                (false, true) => added += 1,
                (true, false) => removed += 1,
                _ => {}
            }
        }
        in_base + added - removed
    }

    /// The seq of the pending mutation with this id.
    pub(crate) fn seq_of(&self, mutation_id: &str) -> Option<u64> {
        self.seq_by_id.get(mutation_id).copied()
    }

    /// The pending queue, oldest first.
    pub(crate) fn pending(&self) -> impl Iterator<Item = &PendingMutation> {
        self.pending.values()
    }

    /// The pending queue from seq `from` on, oldest first.
    pub(crate) fn pending_from(&self, from: u64) -> impl Iterator<Item = &PendingMutation> {
        self.pending.range(from..).map(|(_, p)| p)
    }

    /// The number of pending mutations.
    pub(crate) fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// Appends a mutation to the queue and lays its optimistic effect over the base.
    pub(crate) fn push_pending(&mut self, p: PendingMutation) -> Delta {
        let mut diff = Diff::default();
        if let Some(change) = &p.change {
            diff.note(self, &change.key);
            let overlay = self
                .overlay
                .entry(change.key.collection.clone())
                .or_default()
                .entry(change.key.id.clone())
                .or_insert_with(|| Overlay {
                    value: None,
                    seqs: Vec::new(),
                });
            overlay.value = effect(change);
            overlay.seqs.push(p.seq);
        }
        self.seq_by_id.insert(p.mutation.id.clone(), p.seq);
        self.pending.insert(p.seq, p);
        diff.finish(self)
    }

    /// Removes these seqs from the queue; each touched key falls back to the effect of its last
    /// remaining pending change, or to the base.
    pub(crate) fn remove_pending(&mut self, seqs: &[u64]) -> Delta {
        let mut diff = Diff::default();
        for seq in seqs {
            let Some(p) = self.pending.remove(seq) else {
                continue;
            };
            self.seq_by_id.remove(&p.mutation.id);
            let Some(change) = p.change else { continue };
            diff.note(self, &change.key);
            self.drop_from_overlay(&change.key, *seq);
        }
        diff.finish(self)
    }

    fn drop_from_overlay(&mut self, key: &EntityKey, seq: u64) {
        let Some(ids) = self.overlay.get_mut(&key.collection) else {
            return;
        };
        let Some(overlay) = ids.get_mut(&key.id) else {
            return;
        };
        overlay.seqs.retain(|s| *s != seq);
        let last = overlay.seqs.last().and_then(|s| self.pending.get(s));
        match last.and_then(|p| p.change.as_ref()) {
            Some(change) => overlay.value = effect(change),
            None => {
                ids.remove(&key.id);
                if ids.is_empty() {
                    self.overlay.remove(&key.collection);
                }
            }
        }
    }

    /// Applies server changes to the base, in order. Keys with pending changes keep showing them.
    ///
    /// One base lookup per change: the value a change replaces is the key's visible value
    /// before it (a key the overlay shadows is not visible through the base, so it cannot
    /// change), and the last change of a key leaves its value after.
    pub(crate) fn apply_remote(&mut self, changes: &[EntityChange]) -> Delta {
        // (key, visible value before this change, after it), in change order.
        let mut steps: Vec<(&EntityKey, Option<JsonText>, Option<JsonText>)> =
            Vec::with_capacity(changes.len());
        for change in changes {
            let key = &change.key;
            let shadowed = self
                .overlay
                .get(&key.collection)
                .is_some_and(|ids| ids.contains_key(&key.id));
            let after = effect(change);
            let before = match &after {
                Some(value) => {
                    let ids = match self.base.get_mut(&key.collection) {
                        Some(ids) => ids,
                        None => self.base.entry(key.collection.clone()).or_default(),
                    };
                    match ids.entry(key.id.clone()) {
                        Entry::Occupied(mut slot) => Some(slot.insert(value.clone())),
                        Entry::Vacant(slot) => {
                            slot.insert(value.clone());
                            None
                        }
                    }
                }
                None => {
                    let (removed, emptied) = match self.base.get_mut(&key.collection) {
                        Some(ids) => (ids.remove(&key.id), ids.is_empty()),
                        None => (None, false),
                    };
                    if emptied {
                        self.base.remove(&key.collection);
                    }
                    removed
                }
            };
            if !shadowed {
                steps.push((key, before, after));
            }
        }
        // Per key: the value before its first change, after its last (a stable sort keeps
        // each key's changes in order).
        steps.sort_by(|a, b| a.0.cmp(b.0));
        let mut changed = ChangedBuilder::default();
        let mut steps = steps.into_iter().peekable();
        while let Some((key, before, mut after)) = steps.next() {
            while let Some(next) = steps.next_if(|next| next.0 == key) {
                after = next.2;
            }
            changed.compare(key.clone(), before.as_ref(), after.as_ref());
        }
        changed.build()
    }

    /// Replaces the base wholesale. Keys with pending changes keep showing them. A large
    /// collection that nothing showed before is told of as arrived (see [`Changed::arrived`]),
    /// every other one key by key.
    pub(crate) fn replace_base(&mut self, mut snapshot: SnapshotData) -> Delta {
        snapshot.retain(|_, ids| !ids.is_empty());
        let old = std::mem::replace(&mut self.base, snapshot);
        let mut changed = ChangedBuilder::default();
        let collections: BTreeSet<&String> = old.keys().chain(self.base.keys()).collect();
        let empty = BTreeMap::new();
        for collection in collections {
            let before = old.get(collection).unwrap_or(&empty);
            let after = self.base.get(collection).unwrap_or(&empty);
            let overlay = self.overlay.get(collection);
            if before.is_empty() && overlay.is_none() && after.len() >= ARRIVAL_MIN_ENTITIES {
                changed.arrive(collection);
                continue;
            }
            let shadowed = |id: &String| overlay.is_some_and(|o| o.contains_key(id));
            for (id, before, after) in merge(before, after) {
                if !shadowed(id) {
                    let key = EntityKey::new(collection.as_str(), id.as_str());
                    changed.compare(key, before, after);
                }
            }
        }
        changed.build()
    }
}

/// The value a change leaves: the new value for create/update, `None` for delete.
fn effect(change: &EntityChange) -> Option<JsonText> {
    match change.op {
        EntityOp::Delete => None,
        EntityOp::Create | EntityOp::Update => change.value.clone(),
    }
}

/// Merge-joins two collections: every id of either, ascending, with its value on each side.
fn merge<'a>(
    a: &'a BTreeMap<String, JsonText>,
    b: &'a BTreeMap<String, JsonText>,
) -> impl Iterator<Item = (&'a String, Option<&'a JsonText>, Option<&'a JsonText>)> {
    let mut a = a.iter().peekable();
    let mut b = b.iter().peekable();
    std::iter::from_fn(move || {
        let order = match (a.peek(), b.peek()) {
            (None, None) => return None,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((ida, _)), Some((idb, _))) => ida.cmp(idb),
        };
        match order {
            Ordering::Less => a.next().map(|(id, x)| (id, Some(x), None)),
            Ordering::Greater => b.next().map(|(id, y)| (id, None, Some(y))),
            Ordering::Equal => {
                let (id, x) = a.next()?;
                let (_, y) = b.next()?;
                Some((id, Some(x), Some(y)))
            }
        }
    })
}

type BaseIter<'a> = Peekable<std::collections::btree_map::Iter<'a, String, JsonText>>;
type OverlayIter<'a> = Peekable<std::collections::btree_map::Iter<'a, String, Overlay>>;

/// The visible entities of one collection, ascending by id: the base merged with the overlay.
pub(crate) struct Visible<'a> {
    base: Option<BaseIter<'a>>,
    overlay: Option<OverlayIter<'a>>,
}

impl<'a> Iterator for Visible<'a> {
    type Item = (&'a String, &'a JsonText);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let next_base = self.base.as_mut().and_then(|b| b.peek().map(|(id, _)| *id));
            let next_overlay = self
                .overlay
                .as_mut()
                .and_then(|o| o.peek().map(|(id, _)| *id));
            let take_base = match (next_base, next_overlay) {
                (None, None) => return None,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(b), Some(o)) => {
                    if b == o {
                        // The overlay shadows the base entry: skip the base one.
                        self.base.as_mut().and_then(Iterator::next);
                    }
                    b < o
                }
            };
            if take_base {
                return self.base.as_mut().and_then(Iterator::next);
            }
            let (id, overlay) = self.overlay.as_mut().and_then(Iterator::next)?;
            if let Some(value) = &overlay.value {
                return Some((id, value));
            }
        }
    }
}
