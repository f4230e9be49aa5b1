//! [`DefaultCodec`]: this project's data convention (`PROTOCOL.md`, "The data convention").

use std::sync::Arc;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{json_type, Codec, CodecError, MAX_SNAPSHOT_VALUE_DEPTH};
use crate::protocol::entity::{EntityChange, EntityKey, EntityOp, JsonText, SnapshotData};
use crate::protocol::wire::Change;

const CHANGE: &str = "change data";
const SNAPSHOT: &str = "snapshot data";
const COLLECTION: &str = "snapshot collection";
const WRITE: &str = "entity key";

/// The default convention, spoken by this project's reference server.
///
/// - Writes: mutation `<collection>.create` / `<collection>.update` with args
///   `{"id":ID,"data":VALUE}`, and `<collection>.delete` with args `{"id":ID}`.
/// - Change data: `{"entity":COLLECTION,"id":ID,"op":"create"|"update"|"delete","data":VALUE}`
///   (`data` required for create and update, ignored for delete; unknown keys ignored). A change
///   without data (absent or `null`) carries no entity change and decodes to nothing.
/// - Snapshot data: `{"COLLECTION":{"ID":VALUE,...},...}`; `null` for the whole snapshot or for
///   one collection means empty (Go encodes a nil map as `null`).
///
/// Ids are JSON strings and never empty; values are any JSON except `null`, kept as compact
/// JSON text.
///
/// # Example
///
/// ```
/// use mizu_sync::protocol::codec::{Codec, DefaultCodec};
/// use mizu_sync::protocol::wire::Change;
///
/// let change = Change {
///     cursor: 7,
///     scope: "_default".into(),
///     time: String::new(),
///     data: Some(serde_json::json!({"entity":"todo","id":"a","op":"create","data":{"t":1}})),
/// };
/// let decoded = DefaultCodec.decode_change(&change).unwrap();
/// assert_eq!(decoded[0].value.as_deref(), Some(r#"{"t":1}"#));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultCodec;

impl Codec for DefaultCodec {
    fn encode_write(&self, change: &EntityChange) -> Result<(String, Option<Value>), CodecError> {
        self.encode_write_parsed(change, None)
    }

    fn encode_write_parsed(
        &self,
        change: &EntityChange,
        value: Option<Value>,
    ) -> Result<(String, Option<Value>), CodecError> {
        let key = &change.key;
        if key.collection.is_empty() {
            return Err(CodecError::Empty {
                what: WRITE,
                field: "collection",
            });
        }
        if key.id.is_empty() {
            return Err(CodecError::Empty {
                what: WRITE,
                field: "id",
            });
        }
        let name = format!("{}.{}", key.collection, change.op.as_str());
        let mut args = Map::new();
        args.insert("id".into(), Value::String(key.id.clone()));
        if change.op != EntityOp::Delete {
            let data = match value {
                Some(Value::Null) => {
                    return Err(CodecError::MissingValue {
                        key: display_key(key),
                    })
                }
                Some(parsed) => parsed,
                None => parse_value(key, change.value.as_deref())?,
            };
            args.insert("data".into(), data);
        }
        Ok((name, Some(Value::Object(args))))
    }

    fn decode_change(&self, change: &Change) -> Result<Vec<EntityChange>, CodecError> {
        let data = match &change.data {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Object(data)) => data,
            Some(other) => {
                return Err(CodecError::NotAnObject {
                    what: CHANGE,
                    found: json_type(other),
                })
            }
        };
        let collection = required_str(data, "entity")?;
        let id = required_str(data, "id")?;
        let op_text = match data.get("op") {
            None | Some(Value::Null) => {
                return Err(CodecError::MissingField {
                    what: CHANGE,
                    field: "op",
                })
            }
            Some(Value::String(op)) => op,
            Some(other) => {
                return Err(CodecError::WrongType {
                    what: CHANGE,
                    field: "op",
                    expected: "a string",
                    found: json_type(other),
                })
            }
        };
        let op = EntityOp::parse(op_text).ok_or_else(|| CodecError::UnknownOp(op_text.clone()))?;
        let key = EntityKey::new(collection, id);
        let value = match op {
            EntityOp::Delete => None,
            EntityOp::Create | EntityOp::Update => match data.get("data") {
                None | Some(Value::Null) => {
                    return Err(CodecError::MissingValue {
                        key: display_key(&key),
                    })
                }
                Some(value) => Some(compact(value)),
            },
        };
        Ok(vec![EntityChange { key, op, value }])
    }

    fn decode_snapshot(&self, data: &Value) -> Result<SnapshotData, CodecError> {
        let collections = match data {
            Value::Null => return Ok(SnapshotData::new()),
            Value::Object(collections) => collections,
            other => {
                return Err(CodecError::NotAnObject {
                    what: SNAPSHOT,
                    found: json_type(other),
                })
            }
        };
        let mut snapshot = SnapshotData::new();
        for (collection, entities) in collections {
            if collection.is_empty() {
                return Err(CodecError::Empty {
                    what: SNAPSHOT,
                    field: "collection",
                });
            }
            let entities = match entities {
                Value::Null => continue,
                Value::Object(entities) => entities,
                other => {
                    return Err(CodecError::NotAnObject {
                        what: COLLECTION,
                        found: json_type(other),
                    })
                }
            };
            let decoded = snapshot.entry(collection.clone()).or_default();
            for (id, value) in entities {
                if id.is_empty() {
                    return Err(CodecError::Empty {
                        what: COLLECTION,
                        field: "id",
                    });
                }
                if value.is_null() {
                    return Err(CodecError::MissingValue {
                        key: format!("{collection}/{id}"),
                    });
                }
                decoded.insert(id.clone(), compact(value));
            }
        }
        Ok(snapshot)
    }
}

/// [`Codec::decode_snapshot_entity`]'s default: the rule of [`DefaultCodec::decode_snapshot`]
/// for one entity, on its raw text.
pub(super) fn snapshot_entity(
    collection: &str,
    id: &str,
    value: &RawValue,
) -> Result<JsonText, CodecError> {
    if collection.is_empty() {
        return Err(CodecError::Empty {
            what: SNAPSHOT,
            field: "collection",
        });
    }
    if id.is_empty() {
        return Err(CodecError::Empty {
            what: COLLECTION,
            field: "id",
        });
    }
    let text = value.get();
    if text == "null" {
        return Err(CodecError::MissingValue {
            key: format!("{collection}/{id}"),
        });
    }
    compact_raw(text).map_err(|reason| CodecError::InvalidJson {
        key: format!("{collection}/{id}"),
        reason,
    })
}

/// Valid JSON text (a `RawValue`'s) without the whitespace between tokens, checked to nest at
/// most [`MAX_SNAPSHOT_VALUE_DEPTH`] levels. Already compact text (the usual case) is kept as
/// is, copied once into the `Arc`.
fn compact_raw(text: &str) -> Result<JsonText, String> {
    let bytes = text.as_bytes();
    let (mut depth, mut in_string, mut escaped, mut loose) = (0usize, false, false, false);
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_SNAPSHOT_VALUE_DEPTH {
                    return Err(format!(
                        "nested deeper than {MAX_SNAPSHOT_VALUE_DEPTH} levels"
                    ));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b' ' | b'\n' | b'\r' | b'\t' => loose = true,
            _ => {}
        }
    }
    if !loose {
        return Ok(Arc::from(text));
    }
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if matches!(c, ' ' | '\n' | '\r' | '\t') {
            continue;
        }
        out.push(c);
    }
    Ok(Arc::from(out))
}

/// A required, non-empty string field of change data.
fn required_str<'a>(
    data: &'a Map<String, Value>,
    field: &'static str,
) -> Result<&'a str, CodecError> {
    match data.get(field) {
        None | Some(Value::Null) => Err(CodecError::MissingField {
            what: CHANGE,
            field,
        }),
        Some(Value::String(s)) if s.is_empty() => Err(CodecError::Empty {
            what: CHANGE,
            field,
        }),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(CodecError::WrongType {
            what: CHANGE,
            field,
            expected: "a string",
            found: json_type(other),
        }),
    }
}

/// Parses a local value's JSON text; `None` and JSON `null` are missing values.
fn parse_value(key: &EntityKey, text: Option<&str>) -> Result<Value, CodecError> {
    let text = text.ok_or_else(|| CodecError::MissingValue {
        key: display_key(key),
    })?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Null) => Err(CodecError::MissingValue {
            key: display_key(key),
        }),
        Ok(value) => Ok(value),
        Err(e) => Err(CodecError::InvalidJson {
            key: display_key(key),
            reason: e.to_string(),
        }),
    }
}

/// A JSON value as compact text.
fn compact(value: &Value) -> JsonText {
    // `Value`'s Display is serde_json's compact serializer and cannot fail.
    Arc::from(value.to_string())
}

fn display_key(key: &EntityKey) -> String {
    format!("{}/{}", key.collection, key.id)
}

#[cfg(test)]
#[path = "default_tests.rs"]
mod tests;
