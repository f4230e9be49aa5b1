//! Apply functions: the app logic that turns a mutation into state writes and change data.
//! The default follows the project's data convention (PROTOCOL.md); embedders may install
//! their own for app-defined mutation names.

use std::sync::Arc;

use serde_json::{json, Value};

use super::scope_state::ScopeState;
use crate::protocol::entity::EntityOp;
use crate::protocol::wire::Mutation;

/// Error text of mizu's `sync.ErrConflict`.
pub const ERR_CONFLICT: &str = "sync: conflict";
/// Error text of mizu's `sync.ErrNotFound`.
pub const ERR_NOT_FOUND: &str = "sync: not found";
/// Error text of mizu's `sync.ErrInvalidMutation`.
pub const ERR_INVALID_MUTATION: &str = "sync: invalid mutation";

/// Applies one mutation to its scope's state and returns the `data` of each change to log
/// (an empty list logs nothing). An `Err` text comes back to the client as `ok:false`; the
/// server then undoes every write the function made to the state.
///
/// The mutation's `scope` is already resolved (never empty). The function runs without any
/// server lock held, one mutation of a scope at a time.
pub type ApplyFn =
    Arc<dyn Fn(&Mutation, &mut ScopeState) -> Result<Vec<Value>, String> + Send + Sync>;

/// Derives the authoritative scope of a request from the scope it claims, like mizu's
/// `ScopeFunc`; an `Err` text denies the request (HTTP 403 `internal_error`, or 401 on the
/// live handshake). It runs without any server lock held.
pub type ScopeFn = Arc<dyn Fn(&ScopeRequest<'_>) -> Result<String, String> + Send + Sync>;

/// What a [`ScopeFn`] sees of a request.
#[derive(Debug, Clone, Copy)]
pub struct ScopeRequest<'a> {
    /// The claimed scope, `_default` when the request names none.
    pub claimed: &'a str,
    /// The request path (without query).
    pub path: &'a str,
    /// Request headers as (lower-case name, value) pairs, e.g. to read `authorization`.
    pub headers: &'a [(String, String)],
}

impl ScopeRequest<'_> {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The default apply function: the project's data convention.
///
/// - `<collection>.create` with args `{"id":ID,"data":VALUE}`: fails with `sync: conflict`
///   when the id exists.
/// - `<collection>.update` with the same args: fails with `sync: not found` when it does not.
/// - `<collection>.delete` with args `{"id":ID}`: fails with `sync: not found` when missing.
/// - Anything else (no `.`, unknown op, args not an object, missing or non-string or empty
///   `id`, missing `data`) fails with `sync: invalid mutation`. Other keys in args are ignored.
///
/// Each success logs one change `{"entity","id","op","data"}` (`data` omitted on delete).
///
/// # Errors
/// The texts above, as `Err(String)`.
pub fn convention_apply(m: &Mutation, state: &mut ScopeState) -> Result<Vec<Value>, String> {
    let invalid = || ERR_INVALID_MUTATION.to_owned();
    let (collection, op) = m.name.rsplit_once('.').ok_or_else(invalid)?;
    let op = EntityOp::parse(op).ok_or_else(invalid)?;
    if collection.is_empty() {
        return Err(invalid());
    }
    let args = m
        .args
        .as_ref()
        .and_then(Value::as_object)
        .ok_or_else(invalid)?;
    let id = args
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .ok_or_else(invalid)?;
    let change = match op {
        EntityOp::Create | EntityOp::Update => {
            let data = args.get("data").ok_or_else(invalid)?.clone();
            let exists = state.contains(collection, id);
            if op == EntityOp::Create && exists {
                return Err(ERR_CONFLICT.to_owned());
            }
            if op == EntityOp::Update && !exists {
                return Err(ERR_NOT_FOUND.to_owned());
            }
            state.insert(collection, id, data.clone());
            json!({"entity": collection, "id": id, "op": op.as_str(), "data": data})
        }
        EntityOp::Delete => {
            state
                .remove(collection, id)
                .ok_or_else(|| ERR_NOT_FOUND.to_owned())?;
            json!({"entity": collection, "id": id, "op": "delete"})
        }
    };
    Ok(vec![change])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, args: Value) -> Mutation {
        Mutation {
            id: "m".into(),
            scope: "s".into(),
            name: name.into(),
            args: Some(args),
        }
    }

    #[test]
    fn creates_updates_and_deletes_by_convention() {
        let mut s = ScopeState::default();
        let c = convention_apply(&m("todo.create", json!({"id":"a","data":{"t":1}})), &mut s);
        assert_eq!(
            c,
            Ok(vec![
                json!({"entity":"todo","id":"a","op":"create","data":{"t":1}})
            ])
        );
        let c = convention_apply(&m("todo.update", json!({"id":"a","data":2})), &mut s);
        assert_eq!(
            c,
            Ok(vec![
                json!({"entity":"todo","id":"a","op":"update","data":2})
            ])
        );
        let c = convention_apply(&m("todo.delete", json!({"id":"a"})), &mut s);
        assert_eq!(c, Ok(vec![json!({"entity":"todo","id":"a","op":"delete"})]));
        assert_eq!(s.to_json(), json!({}));
    }

    #[test]
    fn reports_conflict_not_found_and_invalid_with_the_library_texts() {
        let mut s = ScopeState::default();
        s.load("todo".into(), "a".into(), json!(1));
        let err = |name: &str, args: Value, s: &mut ScopeState| {
            convention_apply(&m(name, args), s).unwrap_err()
        };
        assert_eq!(
            err("todo.create", json!({"id":"a","data":1}), &mut s),
            ERR_CONFLICT
        );
        assert_eq!(
            err("todo.update", json!({"id":"b","data":1}), &mut s),
            ERR_NOT_FOUND
        );
        assert_eq!(err("todo.delete", json!({"id":"b"}), &mut s), ERR_NOT_FOUND);
        assert_eq!(
            err("todo.rename", json!({"id":"a"}), &mut s),
            ERR_INVALID_MUTATION
        );
        assert_eq!(err("todo", json!({"id":"a"}), &mut s), ERR_INVALID_MUTATION);
        assert_eq!(
            err(".create", json!({"id":"a","data":1}), &mut s),
            ERR_INVALID_MUTATION
        );
        assert_eq!(
            err("todo.create", json!({"id":"c"}), &mut s),
            ERR_INVALID_MUTATION
        );
        assert_eq!(
            err("todo.create", json!({"id":1,"data":1}), &mut s),
            ERR_INVALID_MUTATION
        );
        assert_eq!(err("todo.create", json!([1]), &mut s), ERR_INVALID_MUTATION);
    }
}
