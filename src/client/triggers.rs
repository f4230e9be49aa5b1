//! Fine-grained reactive triggers for the store: one version signal per entity read, plus two
//! per collection (its membership, for `count` / `has`-style reads, and its contents, for
//! `all` / `find`). The store reports which keys changed; only their readers wake.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::protocol::entity::EntityKey;
use crate::reactive::{batch, Signal};
use crate::store::Changed;

/// A version counter a reader subscribes to by reading it.
type Trigger = Signal<u64>;

#[derive(Default)]
struct Maps {
    keys: HashMap<EntityKey, Trigger>,
    members: HashMap<String, Trigger>,
    contents: HashMap<String, Trigger>,
}

/// The registry of triggers of one client.
#[derive(Default)]
pub(crate) struct Triggers {
    maps: Mutex<Maps>,
}

fn bump(trigger: &Trigger) {
    trigger.update(|v| v.wrapping_add(1));
}

impl Triggers {
    /// Subscribes the running observer to changes of one entity's visible value.
    pub(crate) fn track_key(&self, key: &EntityKey) {
        let trigger = {
            let mut maps = self.lock();
            match maps.keys.get(key) {
                Some(t) => t.clone(),
                None => {
                    let t = Signal::new(0);
                    maps.keys.insert(key.clone(), t.clone());
                    t
                }
            }
        };
        // Read outside the lock: reading may run no user code, but the rule is simple to keep.
        trigger.get();
    }

    /// Subscribes the running observer to changes of a collection's set of ids.
    pub(crate) fn track_members(&self, collection: &str) {
        let trigger = Self::get_or_insert(&mut self.lock().members, collection);
        trigger.get();
    }

    /// Subscribes the running observer to any change in a collection.
    pub(crate) fn track_contents(&self, collection: &str) {
        let trigger = Self::get_or_insert(&mut self.lock().contents, collection);
        trigger.get();
    }

    /// Wakes the readers of what `changed` names, in one batch (effects run once, after it).
    pub(crate) fn notify(&self, changed: &Changed) {
        if changed.is_empty() {
            return;
        }
        let to_bump: Vec<Trigger> = {
            let maps = self.lock();
            let mut out = Vec::new();
            for key in &changed.keys {
                if let Some(t) = maps.keys.get(key) {
                    out.push(t.clone());
                }
                if let Some(t) = maps.contents.get(&key.collection) {
                    out.push(t.clone());
                }
            }
            for collection in &changed.collections {
                if let Some(t) = maps.members.get(collection) {
                    out.push(t.clone());
                }
                if let Some(t) = maps.contents.get(collection) {
                    out.push(t.clone());
                }
            }
            out
        };
        // Effects run synchronously inside `bump`, so the lock must be released first.
        batch(|| to_bump.iter().for_each(bump));
    }

    fn get_or_insert(map: &mut HashMap<String, Trigger>, name: &str) -> Trigger {
        if let Some(t) = map.get(name) {
            return t.clone();
        }
        let t = Signal::new(0);
        map.insert(name.to_owned(), t.clone());
        t
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Maps> {
        // The maps stay consistent even if a thread panicked while holding the lock.
        self.maps.lock().unwrap_or_else(|e| e.into_inner())
    }
}
