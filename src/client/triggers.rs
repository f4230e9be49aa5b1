//! Fine-grained reactive triggers for the store: one version signal per entity read, plus two
//! per collection (its membership, for `count` / `has`-style reads, and its contents, for
//! `all` / `find`). The store reports which keys changed; only their readers wake.
//!
//! Entity triggers nobody subscribes to any more are dropped as the registry grows (a key read
//! outside any effect, or by an effect since stopped), so reading many entities over a
//! client's life does not grow it without bound.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::protocol::entity::EntityKey;
use crate::reactive::{batch, is_tracking, Signal};
use crate::store::Changed;

/// A version counter a reader subscribes to by reading it.
type Trigger = Signal<u64>;

/// Entity triggers kept before the first sweep of unused ones.
const FIRST_SWEEP_AT: usize = 1024;

struct Maps {
    keys: HashMap<EntityKey, Trigger>,
    members: HashMap<String, Trigger>,
    contents: HashMap<String, Trigger>,
    /// The entity-trigger count at which the next sweep runs: twice what the last one kept,
    /// so sweeping costs O(1) per trigger made.
    sweep_at: usize,
}

impl Default for Maps {
    fn default() -> Self {
        Maps {
            keys: HashMap::new(),
            members: HashMap::new(),
            contents: HashMap::new(),
            sweep_at: FIRST_SWEEP_AT,
        }
    }
}

impl Maps {
    /// Drops the entity triggers that only this map holds and nobody subscribes to. A reader
    /// that took one from the map holds a handle of its own until it has subscribed, so none
    /// is dropped under a reader's feet.
    fn sweep_keys(&mut self) {
        self.keys.retain(|_, t| !t.is_unshared_and_unobserved());
        self.sweep_at = (self.keys.len() * 2).max(FIRST_SWEEP_AT);
    }
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
        if !is_tracking() {
            return;
        }
        let trigger = {
            let mut maps = self.lock();
            match maps.keys.get(key) {
                Some(t) => t.clone(),
                None => {
                    if maps.keys.len() >= maps.sweep_at {
                        maps.sweep_keys();
                    }
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
        if !is_tracking() {
            return;
        }
        let trigger = Self::get_or_insert(&mut self.lock().members, collection);
        trigger.get();
    }

    /// Subscribes the running observer to any change in a collection.
    pub(crate) fn track_contents(&self, collection: &str) {
        if !is_tracking() {
            return;
        }
        let trigger = Self::get_or_insert(&mut self.lock().contents, collection);
        trigger.get();
    }

    /// Wakes the readers of what `changed` names, in one batch (effects run once, after it).
    /// `exists` tells whether an entity of an arrived collection exists now: only those
    /// appeared, so only their readers wake.
    pub(crate) fn notify(&self, changed: &Changed, exists: impl Fn(&EntityKey) -> bool) {
        if changed.is_empty() {
            return;
        }
        let (mut to_bump, arrivals) = {
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
            for collection in changed.collections.iter().chain(&changed.arrived) {
                if let Some(t) = maps.members.get(collection) {
                    out.push(t.clone());
                }
                if let Some(t) = maps.contents.get(collection) {
                    out.push(t.clone());
                }
            }
            let arrivals: Vec<(EntityKey, Trigger)> = if changed.arrived.is_empty() {
                Vec::new()
            } else {
                maps.keys
                    .iter()
                    .filter(|(key, _)| changed.arrived.contains(&key.collection))
                    .map(|(key, t)| (key.clone(), t.clone()))
                    .collect()
            };
            (out, arrivals)
        };
        // Asked with no lock of ours held (`exists` reads the store).
        to_bump.extend(
            arrivals
                .into_iter()
                .filter(|(key, _)| exists(key))
                .map(|(_, t)| t),
        );
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;
    use crate::reactive::Effect;

    fn key(id: usize) -> EntityKey {
        EntityKey::new("todo", format!("t{id}"))
    }

    fn changed(key: EntityKey) -> Changed {
        Changed {
            keys: vec![key],
            ..Changed::default()
        }
    }

    /// Reads `ids` inside short-lived effects (a thousand per effect), as screens that come and
    /// go do.
    fn read_in_passing_effects(triggers: &Arc<Triggers>, ids: std::ops::Range<usize>) {
        let ids: Vec<usize> = ids.collect();
        for chunk in ids.chunks(1000) {
            let (t, chunk) = (triggers.clone(), chunk.to_vec());
            Effect::new(move || chunk.iter().for_each(|&id| t.track_key(&key(id)))).stop();
        }
    }

    #[test]
    fn reads_outside_any_effect_register_nothing() {
        let triggers = Triggers::default();
        for id in 0..1000 {
            triggers.track_key(&key(id));
        }
        triggers.track_members("todo");
        triggers.track_contents("todo");
        let maps = triggers.lock();
        assert!(maps.keys.is_empty() && maps.members.is_empty() && maps.contents.is_empty());
    }

    #[test]
    fn reading_many_entities_keeps_the_registry_bounded_and_subscribers_woken() {
        let triggers = Arc::new(Triggers::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let (t, r) = (triggers.clone(), runs.clone());
        let effect = Effect::new(move || {
            t.track_key(&key(0));
            r.fetch_add(1, Ordering::SeqCst);
        });
        read_in_passing_effects(&triggers, 1..50_000);
        let kept = triggers.lock().keys.len();
        assert!(kept <= 2 * FIRST_SWEEP_AT, "{kept} entity triggers kept");
        assert!(
            triggers.lock().keys.contains_key(&key(0)),
            "the subscribed one stays"
        );

        triggers.notify(&changed(key(0)), |_| true);
        assert_eq!(runs.load(Ordering::SeqCst), 2, "its subscriber still wakes");

        effect.stop();
        read_in_passing_effects(&triggers, 50_000..60_000);
        assert!(
            !triggers.lock().keys.contains_key(&key(0)),
            "once unsubscribed it goes too"
        );
        triggers.notify(&changed(key(0)), |_| true);
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }
}
