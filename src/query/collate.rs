//! The one total order of JSON values that every filter comparison and every sort uses, after
//! CouchDB's view collation:
//!
//! `null` < `false` < `true` < numbers < strings < arrays < objects
//!
//! - numbers compare by value (`1` equals `1.0`; as 64-bit floats, so integers beyond 2^53
//!   compare approximately);
//! - strings compare by Unicode code point (byte order of UTF-8; CouchDB uses ICU instead);
//! - arrays compare element by element, a prefix first;
//! - objects compare member by member in key order (keys first, then values), a prefix first;
//! - a missing field sorts as `null`.

use std::cmp::Ordering;

use compact_str::CompactString;
use serde_json::Value;

/// A JSON value reduced to what ordering needs, compact enough to keep one per entity in an
/// index: short strings (up to 24 bytes) are stored inline.
#[derive(Debug, Clone)]
pub(crate) enum SortKey {
    Null,
    False,
    True,
    Number(f64),
    String(CompactString),
    Array(Box<[SortKey]>),
    Object(Box<[(CompactString, SortKey)]>),
}

impl SortKey {
    /// The key of a field's value; a missing field is `null`.
    pub(crate) fn of(value: Option<&Value>) -> SortKey {
        match value {
            None | Some(Value::Null) => SortKey::Null,
            Some(Value::Bool(false)) => SortKey::False,
            Some(Value::Bool(true)) => SortKey::True,
            Some(Value::Number(n)) => SortKey::Number(normalized(n.as_f64().unwrap_or(0.0))),
            Some(Value::String(s)) => SortKey::String(CompactString::from(s.as_str())),
            Some(Value::Array(items)) => {
                SortKey::Array(items.iter().map(|v| SortKey::of(Some(v))).collect())
            }
            Some(Value::Object(map)) => SortKey::Object(
                map.iter()
                    .map(|(k, v)| (CompactString::from(k.as_str()), SortKey::of(Some(v))))
                    .collect(),
            ),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            SortKey::Null => 0,
            SortKey::False => 1,
            SortKey::True => 2,
            SortKey::Number(_) => 3,
            SortKey::String(_) => 4,
            SortKey::Array(_) => 5,
            SortKey::Object(_) => 6,
        }
    }

    /// The heap bytes this key owns beyond its own size (for memory accounting).
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            SortKey::String(s) if s.is_heap_allocated() => s.capacity(),
            SortKey::Array(items) => items
                .iter()
                .map(|k| std::mem::size_of::<SortKey>() + k.heap_bytes())
                .sum(),
            SortKey::Object(members) => members
                .iter()
                .map(|(name, k)| {
                    std::mem::size_of::<(CompactString, SortKey)>()
                        + k.heap_bytes()
                        + if name.is_heap_allocated() {
                            name.capacity()
                        } else {
                            0
                        }
                })
                .sum(),
            _ => 0,
        }
    }
}

impl PartialEq for SortKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SortKey {}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (SortKey::Number(a), SortKey::Number(b)) => a.total_cmp(b),
            (SortKey::String(a), SortKey::String(b)) => a.as_str().cmp(b.as_str()),
            (SortKey::Array(a), SortKey::Array(b)) => a.iter().cmp(b.iter()),
            (SortKey::Object(a), SortKey::Object(b)) => a
                .iter()
                .map(|(k, v)| (k.as_str(), v))
                .cmp(b.iter().map(|(k, v)| (k.as_str(), v))),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

/// `-0.0` as `0.0`, so that the two compare equal under `total_cmp`.
fn normalized(x: f64) -> f64 {
    if x == 0.0 {
        0.0
    } else {
        x
    }
}

fn rank(value: Option<&Value>) -> u8 {
    match value {
        None | Some(Value::Null) => 0,
        Some(Value::Bool(false)) => 1,
        Some(Value::Bool(true)) => 2,
        Some(Value::Number(_)) => 3,
        Some(Value::String(_)) => 4,
        Some(Value::Array(_)) => 5,
        Some(Value::Object(_)) => 6,
    }
}

/// Compares two values (a missing one as `null`) in the collation order, without building keys.
pub(crate) fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            normalized(x).total_cmp(&normalized(y))
        }
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            for (p, q) in x.iter().zip(y) {
                let order = compare(Some(p), Some(q));
                if order != Ordering::Equal {
                    return order;
                }
            }
            x.len().cmp(&y.len())
        }
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            for ((kp, p), (kq, q)) in x.iter().zip(y) {
                let order = kp.cmp(kq).then_with(|| compare(Some(p), Some(q)));
                if order != Ordering::Equal {
                    return order;
                }
            }
            x.len().cmp(&y.len())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ladder() -> Vec<Value> {
        vec![
            json!(null),
            json!(false),
            json!(true),
            json!(-3.5),
            json!(0),
            json!(2),
            json!(10),
            json!(""),
            json!("A"),
            json!("a"),
            json!("ab"),
            json!("é"),
            json!([]),
            json!([1]),
            json!([1, 2]),
            json!(["a"]),
            json!({}),
            json!({"a": 1}),
            json!({"a": 2}),
            json!({"a": 2, "b": 0}),
            json!({"b": 0}),
        ]
    }

    #[test]
    fn orders_every_json_type_as_documented_and_keys_agree_with_values() {
        let values = ladder();
        for (i, a) in values.iter().enumerate() {
            for (j, b) in values.iter().enumerate() {
                let expected = i.cmp(&j);
                assert_eq!(compare(Some(a), Some(b)), expected, "{a} vs {b}");
                assert_eq!(
                    SortKey::of(Some(a)).cmp(&SortKey::of(Some(b))),
                    expected,
                    "keys of {a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn a_missing_field_sorts_as_null_and_numbers_compare_by_value() {
        assert_eq!(compare(None, Some(&json!(null))), Ordering::Equal);
        assert_eq!(compare(None, Some(&json!(false))), Ordering::Less);
        assert_eq!(compare(Some(&json!(1)), Some(&json!(1.0))), Ordering::Equal);
        assert_eq!(
            compare(Some(&json!(-0.0)), Some(&json!(0))),
            Ordering::Equal
        );
        assert_eq!(SortKey::of(None), SortKey::Null);
    }

    #[test]
    fn short_string_keys_stay_inline() {
        let key = SortKey::of(Some(&json!("2026-02-02")));
        assert_eq!(key.heap_bytes(), 0);
        assert!(std::mem::size_of::<SortKey>() <= 32);
    }
}
