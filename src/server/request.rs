//! Request bodies decoded the way mizu's `Ctx.BindJSON` decodes them: unknown fields rejected
//! (`DisallowUnknownFields`), exactly one JSON value (trailing data rejected, trailing
//! whitespace allowed), an empty body rejected. Like Go, a JSON `null` anywhere a value is
//! expected leaves the zero value (`{"mutations":null}` is zero mutations, a `null` body is an
//! empty request), and `id` / `name` may be missing. A JSON array where an object is expected
//! is rejected (serde alone would read it positionally).

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::protocol::wire::Mutation;

/// Go's `null` handling: a `null` leaves the field at its zero value.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// One mutation as the server decodes it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MutationBody {
    #[serde(default, deserialize_with = "nullable")]
    id: String,
    #[serde(default, deserialize_with = "nullable")]
    scope: String,
    #[serde(default, deserialize_with = "nullable")]
    name: String,
    #[serde(default)]
    args: Option<Value>,
}

impl From<MutationBody> for Mutation {
    fn from(m: MutationBody) -> Mutation {
        Mutation {
            id: m.id,
            scope: m.scope,
            name: m.name,
            args: m.args,
        }
    }
}

/// Body of `/push`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PushBody {
    #[serde(default, deserialize_with = "nullable")]
    mutations: Vec<Option<MutationBody>>,
}

impl PushBody {
    /// Number of mutations.
    pub(crate) fn len(&self) -> usize {
        self.mutations.len()
    }

    /// The mutations (a `null` element is a mutation with every field empty, as in Go).
    pub(crate) fn into_mutations(self) -> Vec<Mutation> {
        self.mutations
            .into_iter()
            .map(|m| Mutation::from(m.unwrap_or_default()))
            .collect()
    }
}

/// Body of `/pull`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PullBody {
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) scope: String,
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) cursor: u64,
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) limit: i64,
}

/// Body of `/snapshot` and of `/_admin/trim`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScopeBody {
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) scope: String,
}

/// Body of `/_admin/reject`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RejectBody {
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) arg_contains: Option<String>,
    #[serde(default)]
    pub(crate) error: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) clear: bool,
}

/// Whether `v` is an object or `null`, and so is every element of the arrays it holds (the
/// only nested structs of the request bodies are the mutations of a push).
fn struct_shaped(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(fields) => fields.values().all(|field| match field {
            Value::Array(items) => items
                .iter()
                .all(|item| matches!(item, Value::Null | Value::Object(_))),
            _ => true,
        }),
        _ => false,
    }
}

/// Decodes exactly one JSON value of type `T` (a `null` body gives `T::default()`).
pub(crate) fn decode<T>(body: &[u8]) -> Option<T>
where
    T: for<'de> Deserialize<'de> + Default,
{
    let value: Value = serde_json::from_slice(body).ok()?;
    if !struct_shaped(&value) {
        return None;
    }
    serde_json::from_value::<Option<T>>(value)
        .ok()
        .map(Option::unwrap_or_default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_strictly_but_treats_null_as_zero() {
        assert!(decode::<PullBody>(b"").is_none());
        assert!(decode::<PullBody>(b"  ").is_none());
        assert!(decode::<PullBody>(br#"{"cursor":1}{}"#).is_none());
        assert!(decode::<PullBody>(br#"{"cursor":1,"x":1}"#).is_none());
        assert!(decode::<PullBody>(br#"{"cursor":-1}"#).is_none());
        assert!(decode::<PullBody>(br#"[]"#).is_none());
        let p = decode::<PullBody>(b"{\"cursor\":3,\"scope\":null}\n ").unwrap();
        assert_eq!((p.cursor, p.scope.as_str(), p.limit), (3, "", 0));
        let p = decode::<PushBody>(b"null").unwrap();
        assert!(p.mutations.is_empty());
        let p = decode::<PushBody>(br#"{"mutations":[{},null]}"#).unwrap();
        assert_eq!(p.into_mutations().len(), 2);
        assert!(decode::<PushBody>(br#"{"mutations":[["a","s","n"]]}"#).is_none());
        assert!(decode::<PushBody>(br#"{"mutations":[{"id":"a","client":"c"}]}"#).is_none());
    }
}
