//! [`Index`]: an ordered secondary index of one collection on one field path, maintained on
//! every transaction, that live queries use to start from (see [`crate::query`]).

use std::cmp::Ordering;

use compact_str::CompactString;
use serde_json::Value;

use super::collate::SortKey;
use super::path::FieldPath;
use super::sorted::SortedList;

/// One index entry: a field's key and the entity's id, ordered by key, then id.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) key: SortKey,
    pub(crate) id: CompactString,
}

fn by_key_then_id(a: &Entry, b: &Entry) -> Ordering {
    a.key.cmp(&b.key).then_with(|| a.id.cmp(&b.id))
}

/// The entities of a collection ordered by the value at one path (a missing field as `null`),
/// then by id.
#[derive(Debug)]
pub(crate) struct Index {
    path: FieldPath,
    entries: SortedList<Entry>,
}

impl Index {
    /// An index of `entries` (id, parsed value) on `path`.
    pub(crate) fn build<'a>(
        path: FieldPath,
        entries: impl Iterator<Item = (&'a str, Option<Value>)>,
    ) -> Index {
        let mut items: Vec<Entry> = entries
            .map(|(id, value)| Entry {
                key: SortKey::of(value.as_ref().and_then(|v| path.lookup(v))),
                id: id.into(),
            })
            .collect();
        items.sort_unstable_by(by_key_then_id);
        Index {
            path,
            entries: SortedList::from_sorted(items),
        }
    }

    /// The indexed path.
    pub(crate) fn path(&self) -> &FieldPath {
        &self.path
    }

    /// How many entities are indexed.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Moves entity `id` from its entry for `before` to one for `after` (`None`: absent).
    pub(crate) fn apply(&mut self, id: &str, before: Option<&Value>, after: Option<&Value>) {
        let entry = |value: &Value| Entry {
            key: SortKey::of(self.path.lookup(value)),
            id: id.into(),
        };
        let old = before.map(entry);
        let new = after.map(entry);
        if let (Some(old), Some(new)) = (&old, &new) {
            if old.key == new.key {
                return;
            }
        }
        if let Some(old) = old {
            self.entries.remove(&old, by_key_then_id);
        }
        if let Some(new) = new {
            self.entries.insert(new, by_key_then_id);
        }
    }

    /// The ids in index order (ascending key, then id).
    pub(crate) fn ids(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.id.as_str())
    }

    /// The ids whose key equals `value`'s, ascending.
    pub(crate) fn ids_equal_to(&self, value: &Value) -> impl Iterator<Item = &str> {
        let key = SortKey::of(Some(value));
        let start = Entry {
            key: key.clone(),
            id: CompactString::default(),
        };
        let from = match self.entries.position(&start, by_key_then_id) {
            Ok(i) | Err(i) => i,
        };
        self.entries
            .iter_from(from)
            .take_while(move |e| e.key == key)
            .map(|e| e.id.as_str())
    }

    /// The bytes this index holds: entries inline, and any key or id too long to be inline.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.entries.storage_bytes()
            + self
                .entries
                .iter()
                .map(|e| {
                    e.key.heap_bytes()
                        + if e.id.is_heap_allocated() {
                            e.id.capacity()
                        } else {
                            0
                        }
                })
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keeps_entities_ordered_by_field_then_id_through_changes() {
        let values = [
            ("a", json!({"n": 2})),
            ("b", json!({"n": 1})),
            ("c", json!({})),
        ];
        let mut index = Index::build(
            FieldPath::new("n"),
            values.iter().map(|(id, v)| (*id, Some(v.clone()))),
        );
        assert_eq!(index.ids().collect::<Vec<_>>(), ["c", "b", "a"]);
        index.apply("c", Some(&json!({})), Some(&json!({"n": 3})));
        index.apply("d", None, Some(&json!({"n": 1})));
        index.apply("a", Some(&json!({"n": 2})), None);
        assert_eq!(index.ids().collect::<Vec<_>>(), ["b", "d", "c"]);
        assert_eq!(
            index.ids_equal_to(&json!(1)).collect::<Vec<_>>(),
            ["b", "d"]
        );
        assert_eq!(index.len(), 3);
    }
}
