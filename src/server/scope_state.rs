//! The state of one scope: collection → id → value, with an undo journal so a failed apply
//! leaves no trace and a successful one tells storage exactly which entries to write.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// The entities of one scope, as the apply function sees and changes them.
///
/// Reads and writes are by `(collection, id)`. Every write made during one apply call is
/// journaled: when the apply function fails, the server restores the previous values; when it
/// succeeds, the server persists the touched entries in the same transaction as the changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScopeState {
    collections: BTreeMap<String, BTreeMap<String, Value>>,
    /// Value before the first write of the current apply, per touched key.
    journal: BTreeMap<(String, String), Option<Value>>,
}

impl ScopeState {
    /// The value of entity `id` in `collection`, if present.
    pub fn get(&self, collection: &str, id: &str) -> Option<&Value> {
        self.collections.get(collection)?.get(id)
    }

    /// Whether entity `id` exists in `collection`.
    pub fn contains(&self, collection: &str, id: &str) -> bool {
        self.get(collection, id).is_some()
    }

    /// All entities of `collection` (id → value), if it has any.
    pub fn collection(&self, collection: &str) -> Option<&BTreeMap<String, Value>> {
        self.collections.get(collection)
    }

    /// Sets entity `id` of `collection` to `value`; returns the previous value.
    pub fn insert(&mut self, collection: &str, id: &str, value: Value) -> Option<Value> {
        self.remember(collection, id);
        self.collections
            .entry(collection.to_owned())
            .or_default()
            .insert(id.to_owned(), value)
    }

    /// Removes entity `id` of `collection`; returns its value when it existed.
    pub fn remove(&mut self, collection: &str, id: &str) -> Option<Value> {
        self.remember(collection, id);
        let entries = self.collections.get_mut(collection)?;
        let old = entries.remove(id);
        if entries.is_empty() {
            self.collections.remove(collection);
        }
        old
    }

    /// The whole state as snapshot data: `{"COLLECTION":{"ID":VALUE,...},...}`.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        for (collection, entries) in &self.collections {
            let inner: Map<String, Value> = entries
                .iter()
                .map(|(id, v)| (id.clone(), v.clone()))
                .collect();
            out.insert(collection.clone(), Value::Object(inner));
        }
        Value::Object(out)
    }

    fn remember(&mut self, collection: &str, id: &str) {
        let key = (collection.to_owned(), id.to_owned());
        if !self.journal.contains_key(&key) {
            let old = self.get(collection, id).cloned();
            self.journal.insert(key, old);
        }
    }

    /// Loads one entry without journaling (used when reading storage).
    pub(crate) fn load(&mut self, collection: String, id: String, value: Value) {
        self.collections
            .entry(collection)
            .or_default()
            .insert(id, value);
    }

    /// The entries touched by the current apply, with their current values (`None` = removed).
    pub(crate) fn touched(&self) -> Vec<(String, String, Option<Value>)> {
        self.journal
            .keys()
            .map(|(collection, id)| {
                let now = self.get(collection, id).cloned();
                (collection.clone(), id.clone(), now)
            })
            .collect()
    }

    /// Ends an apply that succeeded: its writes stay.
    pub(crate) fn commit(&mut self) {
        self.journal.clear();
    }

    /// Ends an apply that failed: restores every touched entry.
    pub(crate) fn rollback(&mut self) {
        let journal = std::mem::take(&mut self.journal);
        for ((collection, id), old) in journal {
            match old {
                Some(value) => {
                    self.collections
                        .entry(collection)
                        .or_default()
                        .insert(id, value);
                }
                None => {
                    if let Some(entries) = self.collections.get_mut(&collection) {
                        entries.remove(&id);
                        if entries.is_empty() {
                            self.collections.remove(&collection);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rollback_restores_every_touched_entry() {
        let mut s = ScopeState::default();
        s.load("todo".into(), "a".into(), json!(1));
        s.insert("todo", "a", json!(2));
        s.insert("todo", "b", json!(3));
        s.remove("todo", "a");
        s.rollback();
        assert_eq!(s.to_json(), json!({"todo":{"a":1}}));
    }

    #[test]
    fn commit_reports_the_final_value_of_each_touched_key() {
        let mut s = ScopeState::default();
        s.load("todo".into(), "a".into(), json!(1));
        s.insert("todo", "b", json!(3));
        s.remove("todo", "a");
        let touched = s.touched();
        s.commit();
        assert_eq!(
            touched,
            vec![
                ("todo".into(), "a".into(), None),
                ("todo".into(), "b".into(), Some(json!(3)))
            ]
        );
        s.rollback();
        assert_eq!(s.to_json(), json!({"todo":{"b":3}}));
    }
}
