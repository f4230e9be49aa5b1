//! [`Projection`]: parses only the top-level members of a stored JSON object that some query or
//! index reads, skipping the rest without allocating it (a 131-byte todo keeps two of its five
//! members for a query on `completed` ordered by `due`).

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::path::FieldPath;

/// The top-level member names some paths start with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Projection {
    members: BTreeSet<Box<str>>,
}

impl Projection {
    /// The members `paths` read.
    pub(crate) fn of<'a>(paths: impl IntoIterator<Item = &'a FieldPath>) -> Projection {
        Projection {
            members: paths
                .into_iter()
                .map(|p| p.as_str().split('.').next().unwrap_or_default().into())
                .collect(),
        }
    }

    /// `text` parsed, keeping only the projected members when it is an object (anything else is
    /// parsed whole); text that is not JSON reads as `null` (stored values are checked JSON).
    pub(crate) fn parse(&self, text: &str) -> Value {
        if text.trim_start().starts_with('{') {
            let mut de = serde_json::Deserializer::from_str(text);
            if let Ok(value) = de.deserialize_map(ProjectedObject(self)) {
                return value;
            }
        }
        serde_json::from_str(text).unwrap_or(Value::Null)
    }
}

struct ProjectedObject<'p>(&'p Projection);

impl<'de> Visitor<'de> for ProjectedObject<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Value, M::Error> {
        let mut out = Map::new();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            if self.0.members.contains(&*key) {
                out.insert(key.into_owned(), map.next_value::<Value>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Value::Object(out))
    }
}

/// A member name, borrowed from the text when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keeps_only_the_members_the_paths_read() {
        let paths = [FieldPath::new("address.city"), FieldPath::new("due")];
        let projection = Projection::of(&paths);
        let text = r#"{"title":"x","address":{"city":"Oslo","zip":"1"},"due":"2026","tags":[1,{"a":2}],"esc\"aped":1}"#;
        assert_eq!(
            projection.parse(text),
            json!({"address": {"city": "Oslo", "zip": "1"}, "due": "2026"})
        );
        assert_eq!(projection.parse("[1,2]"), json!([1, 2]));
        assert_eq!(projection.parse("7"), json!(7));
        assert_eq!(projection.parse("{oops"), Value::Null);
        let escaped = Projection::of(&[FieldPath::new("a\"b")]);
        assert_eq!(escaped.parse(r#"{"a\"b":1,"c":2}"#), json!({"a\"b": 1}));
    }
}
