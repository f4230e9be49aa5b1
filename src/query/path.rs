//! [`FieldPath`]: a dotted path to a field inside a stored JSON value (`"address.city"`).

use std::fmt;

use serde_json::Value;

use super::error::QueryError;

/// A dotted path to a field inside an entity's JSON value, such as `"completed"` or
/// `"address.city"`. Each segment names an object member; a segment of digits also indexes
/// into an array (`"tags.0"`).
///
/// Made leniently by [`FieldPath::new`] so that filters can be built fluently; a query refuses
/// an invalid path (empty, or with an empty segment) with [`QueryError::InvalidPath`] when it
/// is first read.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct FieldPath {
    text: Box<str>,
}

impl FieldPath {
    /// The path `text`, unchecked (see [`validate`](Self::validate)).
    pub fn new(text: &str) -> FieldPath {
        FieldPath { text: text.into() }
    }

    /// The path `text`, checked.
    ///
    /// # Errors
    /// [`QueryError::InvalidPath`] for an empty path or an empty segment (`"a..b"`, `".a"`).
    pub fn parse(text: &str) -> Result<FieldPath, QueryError> {
        let path = FieldPath::new(text);
        path.validate()?;
        Ok(path)
    }

    /// Checks the path.
    ///
    /// # Errors
    /// As [`parse`](Self::parse).
    pub fn validate(&self) -> Result<(), QueryError> {
        let invalid = |reason: &str| QueryError::InvalidPath {
            path: self.text.to_string(),
            reason: reason.to_owned(),
        };
        if self.text.is_empty() {
            return Err(invalid("a field path must not be empty"));
        }
        if self.text.split('.').any(str::is_empty) {
            return Err(invalid("a field path must not have an empty segment"));
        }
        Ok(())
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value at this path inside `value`, or `None` when a segment is missing.
    pub fn lookup<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        self.text
            .split('.')
            .try_fold(value, |current, segment| match current {
                Value::Object(map) => map.get(segment),
                Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            })
    }
}

impl fmt::Debug for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.text, f)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<&str> for FieldPath {
    fn from(text: &str) -> Self {
        FieldPath::new(text)
    }
}

impl From<String> for FieldPath {
    fn from(text: String) -> Self {
        FieldPath::new(&text)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn looks_up_nested_members_and_array_items() {
        let value = json!({"address": {"city": "Oslo"}, "tags": ["a", "b"]});
        assert_eq!(
            FieldPath::new("address.city").lookup(&value),
            Some(&json!("Oslo"))
        );
        assert_eq!(FieldPath::new("tags.1").lookup(&value), Some(&json!("b")));
        assert_eq!(FieldPath::new("address.zip").lookup(&value), None);
        assert_eq!(FieldPath::new("tags.x").lookup(&value), None);
    }

    #[test]
    fn refuses_empty_paths_and_segments() {
        for bad in ["", ".", "a..b", ".a", "a."] {
            assert!(
                matches!(FieldPath::parse(bad), Err(QueryError::InvalidPath { .. })),
                "{bad:?}"
            );
        }
        assert!(FieldPath::parse("a.b").is_ok());
    }
}
