//! The JSON text the C API hands out for query results, query diffs and collection changes.
//!
//! Values stay the canonical JSON text the store holds and are embedded as they are, never
//! parsed and printed again (one value, one form); only ids are escaped.
//!
//! | What                         | JSON                                                        |
//! |------------------------------|-------------------------------------------------------------|
//! | a row                        | `{"id":"a","value":V}`                                      |
//! | `mizu_query_get`             | `[row, ...]`                                                |
//! | `mizu_query_ids`             | `["a", ...]`                                                |
//! | first query event            | `{"result":[row, ...]}`                                     |
//! | later query events           | `{"diff":[op, ...]}`                                        |
//! | removed op                   | `{"op":"removed","index":i,"id":"a"}`                       |
//! | inserted op                  | `{"op":"inserted","index":i,"id":"a","value":V}`            |
//! | moved op                     | `{"op":"moved","from":i,"to":j,"id":"a"}`                   |
//! | updated op                   | `{"op":"updated","index":i,"id":"a","value":V}`             |
//! | collection change            | `{"changed":[row, ...],"removed":["b", ...]}`               |

use std::fmt::Write;

use crate::protocol::entity::JsonText;
use crate::query::{CollectionEvent, DiffOp, QueryEvent};

/// Appends `text` as a JSON string (RFC 8259 escaping; the rest of UTF-8 as it is).
fn push_string(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                let byte = u32::from(c) as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[byte >> 4]));
                out.push(char::from(HEX[byte & 0xf]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends a number.
fn push_index(out: &mut String, n: usize) {
    // Writing to a String cannot fail.
    let _ = write!(out, "{n}");
}

/// Appends `{"id":id,"value":value}`.
fn push_row(out: &mut String, id: &str, value: &str) {
    out.push_str("{\"id\":");
    push_string(out, id);
    out.push_str(",\"value\":");
    out.push_str(value);
    out.push('}');
}

/// Appends `[item, ...]`, each item written by `push`.
fn push_array<I>(
    out: &mut String,
    items: impl IntoIterator<Item = I>,
    push: impl Fn(&mut String, I),
) {
    out.push('[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push(out, item);
    }
    out.push(']');
}

/// `[{"id":..,"value":..}, ...]`.
pub(crate) fn rows(rows: &[(String, JsonText)]) -> String {
    let mut out = String::new();
    push_array(&mut out, rows, |out, (id, value)| push_row(out, id, value));
    out
}

/// `["a", ...]`.
pub(crate) fn ids(ids: &[String]) -> String {
    let mut out = String::new();
    push_array(&mut out, ids, |out, id| push_string(out, id));
    out
}

/// Appends one diff op.
fn push_op(out: &mut String, op: &DiffOp<JsonText>) {
    let name = match op {
        DiffOp::Removed { .. } => "removed",
        DiffOp::Inserted { .. } => "inserted",
        DiffOp::Moved { .. } => "moved",
        DiffOp::Updated { .. } => "updated",
    };
    out.push_str("{\"op\":\"");
    out.push_str(name);
    out.push('"');
    match op {
        DiffOp::Removed { index, .. }
        | DiffOp::Inserted { index, .. }
        | DiffOp::Updated { index, .. } => {
            out.push_str(",\"index\":");
            push_index(out, *index);
        }
        DiffOp::Moved { from, to, .. } => {
            out.push_str(",\"from\":");
            push_index(out, *from);
            out.push_str(",\"to\":");
            push_index(out, *to);
        }
    }
    out.push_str(",\"id\":");
    push_string(out, op.id());
    if let DiffOp::Inserted { value, .. } | DiffOp::Updated { value, .. } = op {
        out.push_str(",\"value\":");
        out.push_str(value);
    }
    out.push('}');
}

/// `{"result":[rows]}` or `{"diff":[ops]}`.
pub(crate) fn query_event(event: &QueryEvent<JsonText>) -> String {
    let mut out = String::new();
    match event {
        QueryEvent::Result(result) => {
            out.push_str("{\"result\":");
            push_array(&mut out, result, |out, (id, value)| {
                push_row(out, id, value)
            });
        }
        QueryEvent::Diff(ops) => {
            out.push_str("{\"diff\":");
            push_array(&mut out, ops, push_op);
        }
    }
    out.push('}');
    out
}

/// `{"changed":[rows],"removed":[ids]}`.
pub(crate) fn collection_changes(event: &CollectionEvent) -> String {
    let mut out = String::from("{\"changed\":");
    push_array(&mut out, &event.changed, |out, (id, value)| {
        push_row(out, id, value)
    });
    out.push_str(",\"removed\":");
    push_array(&mut out, &event.removed, |out, id| push_string(out, id));
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn text(value: Value) -> JsonText {
        value.to_string().into()
    }

    #[test]
    fn escapes_ids_as_serde_json_does() {
        for id in [
            "plain",
            "qu\"ote",
            "back\\slash",
            "line\nfeed",
            "\u{1}\u{1f}\t\r\u{8}\u{c}",
            "é漢🙂",
            "",
        ] {
            let mut out = String::new();
            push_string(&mut out, id);
            assert_eq!(out, serde_json::to_string(id).unwrap());
            assert_eq!(serde_json::from_str::<String>(&out).unwrap(), id);
        }
    }

    #[test]
    fn writes_rows_ids_and_every_diff_op_as_json_with_values_embedded() {
        let rows_json = rows(&[
            ("a".into(), text(json!({"n": 1}))),
            ("b\"".into(), text(json!([true]))),
        ]);
        assert_eq!(
            serde_json::from_str::<Value>(&rows_json).unwrap(),
            json!([{"id": "a", "value": {"n": 1}}, {"id": "b\"", "value": [true]}])
        );
        assert_eq!(ids(&[]), "[]");
        assert_eq!(ids(&["x".into(), "y".into()]), r#"["x","y"]"#);

        let diff = QueryEvent::Diff(vec![
            DiffOp::Removed {
                index: 3,
                id: "r".into(),
            },
            DiffOp::Inserted {
                index: 0,
                id: "i".into(),
                value: text(json!("v")),
            },
            DiffOp::Moved {
                from: 1,
                to: 2,
                id: "m".into(),
            },
            DiffOp::Updated {
                index: 2,
                id: "u".into(),
                value: text(json!(null)),
            },
        ]);
        assert_eq!(
            serde_json::from_str::<Value>(&query_event(&diff)).unwrap(),
            json!({"diff": [
                {"op": "removed", "index": 3, "id": "r"},
                {"op": "inserted", "index": 0, "id": "i", "value": "v"},
                {"op": "moved", "from": 1, "to": 2, "id": "m"},
                {"op": "updated", "index": 2, "id": "u", "value": null},
            ]})
        );
        let result = QueryEvent::Result(vec![("a".into(), text(json!(1)))]);
        assert_eq!(query_event(&result), r#"{"result":[{"id":"a","value":1}]}"#);
        assert_eq!(
            query_event(&QueryEvent::Result(Vec::new())),
            r#"{"result":[]}"#
        );
    }

    #[test]
    fn writes_a_collection_change_with_changed_rows_and_removed_ids() {
        let event = CollectionEvent {
            changed: vec![("a".into(), text(json!({"t": "x"})))],
            removed: vec!["b".into(), "c".into()],
        };
        assert_eq!(
            collection_changes(&event),
            r#"{"changed":[{"id":"a","value":{"t":"x"}}],"removed":["b","c"]}"#
        );
    }
}
