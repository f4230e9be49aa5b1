use serde_json::json;

use super::*;

fn change(data: Value) -> Change {
    Change {
        cursor: 1,
        scope: "_default".into(),
        time: "2026-01-01T00:00:00.000000001Z".into(),
        data: Some(data),
    }
}

fn write(collection: &str, id: &str, op: EntityOp, value: Option<&str>) -> EntityChange {
    EntityChange {
        key: EntityKey::new(collection, id),
        op,
        value: value.map(Arc::from),
    }
}

#[test]
fn encodes_writes_as_convention_mutations() {
    let create = write(
        "todo",
        "a",
        EntityOp::Create,
        Some(r#"{"title":"x","done":false}"#),
    );
    assert_eq!(
        DefaultCodec.encode_write(&create).unwrap(),
        (
            "todo.create".to_string(),
            Some(json!({"id":"a","data":{"title":"x","done":false}}))
        )
    );
    let update = write("todo", "a", EntityOp::Update, Some("3"));
    assert_eq!(
        DefaultCodec.encode_write(&update).unwrap(),
        ("todo.update".to_string(), Some(json!({"id":"a","data":3})))
    );
    let delete = write("todo", "a", EntityOp::Delete, Some("ignored"));
    assert_eq!(
        DefaultCodec.encode_write(&delete).unwrap(),
        ("todo.delete".to_string(), Some(json!({"id":"a"})))
    );
}

#[test]
fn refuses_to_encode_writes_without_a_usable_value_or_key() {
    let cases = [
        write("", "a", EntityOp::Create, Some("1")),
        write("todo", "", EntityOp::Delete, None),
        write("todo", "a", EntityOp::Create, None),
        write("todo", "a", EntityOp::Update, Some("null")),
    ];
    for case in cases {
        assert!(DefaultCodec.encode_write(&case).is_err(), "{case:?}");
    }
    let err = DefaultCodec
        .encode_write(&write("todo", "a", EntityOp::Update, Some("{not json")))
        .unwrap_err();
    assert!(matches!(err, CodecError::InvalidJson { ref key, .. } if key == "todo/a"));
}

#[test]
fn a_parsed_value_is_moved_into_the_args_like_the_parsed_text() {
    let text = r#"{"done":false,"tags":["a"],"title":"x"}"#;
    let update = write("todo", "a", EntityOp::Update, Some(text));
    let tree: Value = serde_json::from_str(text).unwrap();
    assert_eq!(
        DefaultCodec
            .encode_write_parsed(&update, Some(tree))
            .unwrap(),
        DefaultCodec.encode_write(&update).unwrap()
    );
    // A null tree is refused as a null text is; a delete ignores any value.
    assert!(matches!(
        DefaultCodec.encode_write_parsed(&update, Some(Value::Null)),
        Err(CodecError::MissingValue { .. })
    ));
    let delete = write("todo", "a", EntityOp::Delete, None);
    assert_eq!(
        DefaultCodec
            .encode_write_parsed(&delete, Some(json!(1)))
            .unwrap(),
        ("todo.delete".to_string(), Some(json!({"id":"a"})))
    );
}

#[test]
fn decodes_each_op_and_recompacts_the_value() {
    let created = DefaultCodec
        .decode_change(&change(json!({
            "entity":"todo","id":"a","op":"create","data":{"b":[1, 2],"a":"x"},"extra":true
        })))
        .unwrap();
    assert_eq!(
        created,
        vec![EntityChange {
            key: EntityKey::new("todo", "a"),
            op: EntityOp::Create,
            value: Some(Arc::from(r#"{"a":"x","b":[1,2]}"#)),
        }]
    );
    let deleted = DefaultCodec
        .decode_change(&change(
            json!({"entity":"todo","id":"a","op":"delete","data":{"x":1}}),
        ))
        .unwrap();
    assert_eq!(deleted[0].op, EntityOp::Delete);
    assert_eq!(deleted[0].value, None);
}

#[test]
fn decodes_a_change_without_data_to_nothing() {
    let mut empty = change(Value::Null);
    assert_eq!(DefaultCodec.decode_change(&empty).unwrap(), vec![]);
    empty.data = None;
    assert_eq!(DefaultCodec.decode_change(&empty).unwrap(), vec![]);
}

#[test]
fn rejects_hostile_change_data_with_typed_errors() {
    let cases = [
        (
            json!([1, 2]),
            "change data must be a JSON object, found an array",
        ),
        (
            json!("todo"),
            "change data must be a JSON object, found a string",
        ),
        (
            json!({"id":"a","op":"create","data":1}),
            "change data has no `entity`",
        ),
        (
            json!({"entity":"t","op":"create","data":1}),
            "change data has no `id`",
        ),
        (
            json!({"entity":"t","id":null,"op":"create","data":1}),
            "change data has no `id`",
        ),
        (
            json!({"entity":"t","id":5,"op":"create","data":1}),
            "`id` of change data must be a string, found a number",
        ),
        (
            json!({"entity":{"x":1},"id":"a","op":"create","data":1}),
            "`entity` of change data must be a string, found an object",
        ),
        (
            json!({"entity":"","id":"a","op":"create","data":1}),
            "`entity` of change data is empty",
        ),
        (
            json!({"entity":"t","id":"a","data":1}),
            "change data has no `op`",
        ),
        (
            json!({"entity":"t","id":"a","op":true,"data":1}),
            "`op` of change data must be a string, found a boolean",
        ),
        (
            json!({"entity":"t","id":"a","op":"upsert","data":1}),
            "unknown op `upsert` (expected create, update or delete)",
        ),
        (
            json!({"entity":"t","id":"a","op":"CREATE","data":1}),
            "unknown op `CREATE` (expected create, update or delete)",
        ),
        (
            json!({"entity":"t","id":"a","op":"update"}),
            "t/a has no value",
        ),
        (
            json!({"entity":"t","id":"a","op":"create","data":null}),
            "t/a has no value",
        ),
    ];
    for (data, message) in cases {
        let err = DefaultCodec
            .decode_change(&change(data.clone()))
            .unwrap_err();
        assert_eq!(err.to_string(), message, "{data}");
    }
}

#[test]
fn decodes_a_snapshot_into_collections_of_compact_values() {
    let data = json!({
        "todo": {"a": {"t": "x", "n": 1.5}, "b": [true, null]},
        "user": {},
        "tag": null
    });
    let snapshot = DefaultCodec.decode_snapshot(&data).unwrap();
    assert_eq!(snapshot.len(), 2);
    assert_eq!(&*snapshot["todo"]["a"], r#"{"n":1.5,"t":"x"}"#);
    assert_eq!(&*snapshot["todo"]["b"], "[true,null]");
    assert!(snapshot["user"].is_empty());
    assert!(DefaultCodec
        .decode_snapshot(&Value::Null)
        .unwrap()
        .is_empty());
}

#[test]
fn rejects_hostile_snapshots_with_typed_errors() {
    let cases = [
        (
            json!([]),
            "snapshot data must be a JSON object, found an array",
        ),
        (
            json!(42),
            "snapshot data must be a JSON object, found a number",
        ),
        (
            json!({"todo": [1]}),
            "snapshot collection must be a JSON object, found an array",
        ),
        (
            json!({"todo": "a"}),
            "snapshot collection must be a JSON object, found a string",
        ),
        (
            json!({"": {"a": 1}}),
            "`collection` of snapshot data is empty",
        ),
        (
            json!({"todo": {"": 1}}),
            "`id` of snapshot collection is empty",
        ),
        (json!({"todo": {"a": null}}), "todo/a has no value"),
    ];
    for (data, message) in cases {
        let err = DefaultCodec.decode_snapshot(&data).unwrap_err();
        assert_eq!(err.to_string(), message, "{data}");
    }
}

#[test]
fn survives_deeply_nested_values() {
    let mut value = json!(0);
    for _ in 0..100 {
        value = json!([value]);
    }
    let decoded = DefaultCodec
        .decode_change(&change(
            json!({"entity":"t","id":"a","op":"update","data":value}),
        ))
        .unwrap();
    assert!(decoded[0].value.as_deref().unwrap().starts_with("[[[["));
}

/// A raw change with `data` as given text (`None`: absent).
fn raw_change(data: Option<&str>) -> RawChange {
    RawChange {
        cursor: 1,
        scope: "_default".into(),
        time: String::new(),
        data: data.map(|text| RawValue::from_string(text.to_owned()).unwrap()),
    }
}

/// The tree decoder's outcome for the same text (`None`: absent data).
fn tree_decoded(data: Option<&str>) -> Result<Vec<EntityChange>, CodecError> {
    let change = Change {
        cursor: 1,
        scope: "_default".into(),
        time: String::new(),
        data: data.map(|text| serde_json::from_str(text).unwrap()),
    };
    DefaultCodec.decode_change(&change)
}

#[test]
fn decodes_raw_change_data_exactly_as_the_tree_decoder() {
    let deep = format!("{}1{}", "[".repeat(120), "]".repeat(120));
    let deep_change = format!(r#"{{"entity":"t","id":"a","op":"create","data":{deep}}}"#);
    let cases = [
        None,
        Some("null"),
        Some(r#"{"entity":"todo","id":"a","op":"create","data":{"done":false,"title":"x"}}"#),
        // Not canonical: unsorted keys, whitespace, floats, escapes, -0, duplicates, big ints.
        Some(r#"{"entity":"todo","id":"a","op":"update","data":{"title":"x","done":false}}"#),
        Some(r#"{"entity":"todo","id":"a","op":"create","data":{"a": [1, 2]}}"#),
        Some(r#"{"entity":"todo","id":"a","op":"create","data":{"n":1.50,"m":1e2}}"#),
        Some(r#"{"entity":"todo","id":"a","op":"create","data":"\u00e9\/\u003c"}"#),
        Some(r#"{"entity":"todo","id":"a","op":"create","data":{"\u0061":1}}"#),
        Some(r#"{"entity":"todo","id":"a","op":"create","data":[-0,12345678901234567890]}"#),
        Some(r#"{"entity":"todo","id":"a","op":"create","data":{"a":1,"a":2}}"#),
        Some(r#"{"entity":"todo","id":"a","op":"create","data":"tab\tquote\"slash\\"}"#),
        Some(r#"{"data":{"b":1},"op":"create","id":"\u0061","entity":"todo","extra":[1]}"#),
        Some(r#"{"entity":"todo","id":"a","op":"delete","data":{"ignored":true}}"#),
        Some(r#"{"entity":"todo","id":"a","op":"delete"}"#),
        // Every error of the tree decoder.
        Some(r#"[1,2,3,4]"#),
        Some(r#""text""#),
        Some(r#"{"id":"a","op":"create","data":1}"#),
        Some(r#"{"entity":"","id":"a","op":"create","data":1}"#),
        Some(r#"{"entity":7,"id":"a","op":"create","data":1}"#),
        Some(r#"{"entity":"todo","id":"a","op":"upsert","data":1}"#),
        Some(r#"{"entity":"todo","id":"a","op":null,"data":1}"#),
        Some(r#"{"entity":"todo","id":"a","op":"create","data":null}"#),
        Some(r#"{"entity":"todo","id":"a","op":"create"}"#),
        Some(r#"{"entity":"todo","id":"a","entity":"note","op":"create","data":1}"#),
        Some(deep_change.as_str()),
    ];
    for data in cases {
        let raw = DefaultCodec.decode_raw_change(&raw_change(data));
        assert_eq!(raw, tree_decoded(data), "{data:?}");
    }
}

#[test]
fn too_deep_raw_change_data_is_a_typed_error_not_a_panic() {
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let text = format!(r#"{{"entity":"t","id":"a","op":"create","data":{deep}}}"#);
    let err = DefaultCodec
        .decode_raw_change(&raw_change(Some(&text)))
        .unwrap_err();
    assert!(matches!(err, CodecError::InvalidJson { .. }), "{err}");
}

#[test]
fn canonical_text_is_what_compact_writes() {
    for text in [
        r#"{"a":1,"b":[true,false,null],"c":{"d":"é \"x\" \\ \n"}}"#,
        r#"[]"#,
        r#"{}"#,
        r#"-12"#,
        r#""""#,
    ] {
        assert!(is_canonical(text), "{text}");
        let tree: Value = serde_json::from_str(text).unwrap();
        assert_eq!(tree.to_string(), text);
    }
    for text in [
        r#"{"b":1,"a":2}"#,
        r#"{"a":1,"a":1}"#,
        r#"{"a": 1}"#,
        r#"1.5"#,
        r#"1e3"#,
        r#"-0"#,
        r#""\u0041""#,
        r#""\/""#,
        r#"{"\n":1}"#,
        r#"1234567890123456789"#,
    ] {
        assert!(!is_canonical(text), "{text}");
    }
}

#[test]
fn canonical_checks_keys_and_strings_at_every_depth() {
    // Past the levels kept inline, and back: each object checks its own keys' order.
    let nest = |inner: &str, depth: usize| {
        let mut text = inner.to_owned();
        for level in 0..depth {
            text = if level % 2 == 0 {
                format!(r#"{{"a":{text},"z":"q\"uote"}}"#)
            } else {
                format!("[1,{text}]")
            };
        }
        text
    };
    for depth in [1, 7, 8, 9, 20] {
        let good = nest(r#"{"k":"v","l":["w\n"]}"#, depth);
        assert!(is_canonical(&good), "{good}");
        assert_eq!(
            serde_json::from_str::<Value>(&good).unwrap().to_string(),
            good
        );
        for bad in [
            nest(r#"{"l":1,"k":2}"#, depth),
            nest(r#"{"k":"\u0041"}"#, depth),
            nest(r#"{"k\n":1}"#, depth),
        ] {
            assert!(!is_canonical(&bad), "{bad}");
        }
        let after = format!(r#"{{"b":{},"a":1}}"#, nest("1", depth));
        assert!(
            !is_canonical(&after),
            "the outer object's order counts after a deep value"
        );
    }
}
