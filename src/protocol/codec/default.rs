//! [`DefaultCodec`]: this project's data convention (`PROTOCOL.md`, "The data convention").

use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{decode_through_tree, json_type, Codec, CodecError, MAX_SNAPSHOT_VALUE_DEPTH};
use crate::protocol::entity::{EntityChange, EntityKey, EntityOp, JsonText, SnapshotData};
use crate::protocol::wire::{Change, RawChange};

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

    fn decode_raw_change(&self, change: &RawChange) -> Result<Vec<EntityChange>, CodecError> {
        let Some(data) = &change.data else {
            return Ok(Vec::new());
        };
        match decode_raw_data(data) {
            Some(decoded) => Ok(decoded),
            // Anything unusual (and every error) goes the tree way, so its outcome and error
            // are exactly the tree decoder's.
            None => decode_through_tree(self, change),
        }
    }

    fn values_are_valid_json(&self) -> bool {
        // Values are either a `Value` serialized, or raw text the JSON parser validated.
        true
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

/// The fields of change data, each as raw JSON text borrowed from the page.
#[derive(Deserialize)]
struct RawChangeData<'a> {
    #[serde(borrow, default)]
    entity: Option<&'a RawValue>,
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    op: Option<&'a RawValue>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

/// The fast way to decode change data from its raw text: `None` whenever the outcome is not a
/// plain success (not an object, a missing or odd field, a value that is not already compact
/// canonical JSON), for the caller to decode through a tree, which gives the same result for
/// every input.
fn decode_raw_data(data: &RawValue) -> Option<Vec<EntityChange>> {
    if !data.get().starts_with('{') {
        return None;
    }
    let fields: RawChangeData<'_> = serde_json::from_str(data.get()).ok()?;
    let string = |raw: Option<&RawValue>| -> Option<String> {
        let raw = raw?;
        if !raw.get().starts_with('"') {
            return None;
        }
        serde_json::from_str::<String>(raw.get())
            .ok()
            .filter(|s| !s.is_empty())
    };
    let collection = string(fields.entity)?;
    let id = string(fields.id)?;
    let op = EntityOp::parse(&string(fields.op)?)?;
    let key = EntityKey::new(collection, id);
    let value = match op {
        EntityOp::Delete => None,
        EntityOp::Create | EntityOp::Update => {
            let text = fields.data?.get();
            if text == "null" || !is_canonical(text) {
                return None;
            }
            Some(JsonText::from(text))
        }
    };
    Some(vec![EntityChange { key, op, value }])
}

/// Deepest nesting [`is_canonical`] accepts (`serde_json` refuses beyond 128 when parsing a
/// tree, so deeper text takes the tree way and its error).
const CANONICAL_DEPTH: usize = 100;
const _: () = assert!(CANONICAL_DEPTH <= MAX_SNAPSHOT_VALUE_DEPTH);

/// Whether `text`, one valid JSON value, is already exactly what [`compact`] writes for it once
/// parsed into a [`Value`]: no whitespace, object keys in strictly ascending byte order (a
/// `Value` object is sorted, and keeps one of duplicate keys), no escape in keys and only the
/// escapes `serde_json` writes (`\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`) in values,
/// integers only (of at most 18 characters, so in `i64` range; not `-0`), limited depth.
/// Conservative: `false` for some canonical texts (floats, `\u` escapes), never `true` for
/// a text that parsing and writing would change.
pub(crate) fn is_canonical(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    // Per open container: `None` for an array, `Some(last key)` for an object.
    let mut stack: Containers<'_> = Containers::default();
    let mut expect_key = false;
    while i < b.len() {
        match b[i] {
            b'{' | b'[' => {
                if stack.len() >= CANONICAL_DEPTH {
                    return false;
                }
                let object = b[i] == b'{';
                stack.push(object.then_some(None));
                expect_key = object;
                i += 1;
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
                i += 1;
            }
            b',' => {
                expect_key = matches!(stack.last(), Some(Some(_)));
                i += 1;
            }
            b':' => {
                expect_key = false;
                i += 1;
            }
            b'"' => {
                let start = i + 1;
                i += 1;
                loop {
                    // The next quote or backslash, skipping the plain bytes between at once.
                    match memchr::memchr2(b'"', b'\\', &b[i..]) {
                        None => return false,
                        Some(at) => i += at,
                    }
                    if b[i] == b'"' {
                        break;
                    }
                    if expect_key {
                        return false;
                    }
                    match b.get(i + 1) {
                        Some(b'"' | b'\\' | b'n' | b'r' | b't' | b'b' | b'f') => i += 2,
                        _ => return false,
                    }
                }
                let string = &b[start..i];
                i += 1;
                if expect_key {
                    if let Some(Some(last)) = stack.last_mut() {
                        if last.is_some_and(|previous| previous >= string) {
                            return false;
                        }
                        *last = Some(string);
                    }
                    expect_key = false;
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                if i < b.len() && matches!(b[i], b'.' | b'e' | b'E') {
                    return false;
                }
                let number = &b[start..i];
                if number == b"-0" || number.len() > 18 {
                    return false;
                }
            }
            b't' | b'f' | b'n' => {
                while i < b.len() && b[i].is_ascii_lowercase() {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
    true
}

/// The open containers of [`is_canonical`]: the first few levels inline (values rarely nest
/// deeper), the rest on the heap, so a check allocates nothing for the usual value.
#[derive(Default)]
struct Containers<'a> {
    inline: [Option<Option<&'a [u8]>>; 8],
    deeper: Vec<Option<Option<&'a [u8]>>>,
    len: usize,
}

impl<'a> Containers<'a> {
    fn len(&self) -> usize {
        self.len
    }

    fn push(&mut self, container: Option<Option<&'a [u8]>>) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = container,
            None => self.deeper.push(container),
        }
        self.len += 1;
    }

    fn pop(&mut self) {
        if self.len > self.inline.len() {
            self.deeper.pop();
        }
        self.len = self.len.saturating_sub(1);
    }

    fn last(&self) -> Option<&Option<Option<&'a [u8]>>> {
        let top = self.len.checked_sub(1)?;
        self.inline.get(top).or_else(|| self.deeper.last())
    }

    fn last_mut(&mut self) -> Option<&mut Option<Option<&'a [u8]>>> {
        let top = self.len.checked_sub(1)?;
        match self.inline.get_mut(top) {
            Some(slot) => Some(slot),
            None => self.deeper.last_mut(),
        }
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

/// Valid JSON text (a `RawValue`'s) as the store keeps it: checked to nest at most
/// [`MAX_SNAPSHOT_VALUE_DEPTH`] levels, kept as is when it is already canonical (the usual case:
/// copied once into the `Arc`), otherwise written the way [`DefaultCodec::decode_snapshot`]
/// writes it (compact, keys sorted), so a snapshot and a pull store the same text for one value.
fn compact_raw(text: &str) -> Result<JsonText, String> {
    // Canonical text nests at most CANONICAL_DEPTH (< MAX_SNAPSHOT_VALUE_DEPTH) levels: one pass.
    if is_canonical(text) {
        return Ok(Arc::from(text));
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in text.as_bytes() {
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
            _ => {}
        }
    }
    let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    Ok(compact(&value))
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
