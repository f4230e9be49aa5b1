//! Harnesses for the data codec and the live envelope: decoding never panics, and whatever
//! decodes survives a round trip unchanged.

use serde_json::{json, Map, Value};

use super::Script;
use crate::protocol::codec::{Codec, DefaultCodec};
use crate::protocol::entity::{EntityChange, EntityKey, EntityOp, SnapshotData};
use crate::protocol::wire::{Change, LiveEnvelope, DEFAULT_SCOPE};

/// One live text frame: decoded as the client's live channel does, the notified cursor read for
/// several scopes, and the envelope round-tripped through JSON.
///
/// # Panics
/// When a cursor is reported for a topic that does not name the scope, a reported cursor is not
/// the one in the message, or a round trip changes what the envelope means.
pub fn live_message(data: &[u8]) {
    let Ok(envelope) = serde_json::from_slice::<LiveEnvelope>(data) else {
        return;
    };
    let mut scopes = vec![String::new(), DEFAULT_SCOPE.to_owned(), "s".to_owned()];
    if let Some(scope) = envelope
        .topic
        .as_deref()
        .and_then(|t| t.strip_prefix("sync:"))
    {
        scopes.push(scope.to_owned());
    }
    let text = serde_json::to_string(&envelope).expect("an envelope always serializes");
    let again: LiveEnvelope = serde_json::from_str(&text).expect("a serialized envelope decodes");
    assert_eq!(again.topic, envelope.topic, "topic survives a round trip");
    for scope in &scopes {
        let cursor = envelope.sync_cursor(scope);
        assert_eq!(
            again.sync_cursor(scope),
            cursor,
            "cursor survives a round trip"
        );
        let Some(cursor) = cursor else { continue };
        let wanted = if scope.is_empty() {
            DEFAULT_SCOPE
        } else {
            scope
        };
        assert_eq!(
            envelope.topic.as_deref(),
            Some(format!("sync:{wanted}").as_str()),
            "a cursor is only read from the scope's own topic"
        );
        let data = envelope.data.as_ref().expect("a cursor comes from data");
        let found = [data.get("cursor"), data.pointer("/payload/cursor")]
            .into_iter()
            .flatten()
            .find_map(Value::as_u64);
        assert_eq!(found, Some(cursor), "the cursor is the one in the message");
    }
}

/// The whole input as change data and as snapshot data, then as a script of one local write.
///
/// # Panics
/// When something decodes to an entity the codec itself would refuse, or when a decoded change,
/// snapshot or encoded write does not survive a round trip.
pub fn codec_round_trip(data: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        change_round_trip(&value);
        snapshot_round_trip(&value);
    }
    write_round_trip(&mut Script::new(data));
}

fn change_round_trip(value: &Value) {
    let change = Change {
        cursor: 1,
        scope: "s".into(),
        time: String::new(),
        data: Some(value.clone()),
    };
    let decoded = match DefaultCodec.decode_change(&change) {
        Ok(decoded) => decoded,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };
    assert!(
        decoded.len() <= 1,
        "the default codec carries one entity per change"
    );
    for entity in decoded {
        assert!(!entity.key.collection.is_empty() && !entity.key.id.is_empty());
        match (&entity.op, &entity.value) {
            (EntityOp::Delete, value) => assert!(value.is_none(), "a delete has no value"),
            (_, Some(text)) => assert_canonical(text),
            (_, None) => panic!("a create or update without a value decoded: {entity:?}"),
        }
        let (name, args) = DefaultCodec
            .encode_write(&entity)
            .expect("a decoded change encodes as a write");
        check_write(&entity, &name, args.as_ref());
    }
}

fn snapshot_round_trip(value: &Value) {
    let snapshot = match DefaultCodec.decode_snapshot(value) {
        Ok(snapshot) => snapshot,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };
    let mut rebuilt = Map::new();
    for (collection, ids) in &snapshot {
        assert!(!collection.is_empty(), "collection names are never empty");
        let mut entities = Map::new();
        for (id, text) in ids {
            assert!(!id.is_empty(), "ids are never empty");
            assert_canonical(text);
            entities.insert(id.clone(), parse(text));
        }
        rebuilt.insert(collection.clone(), Value::Object(entities));
    }
    let again: SnapshotData = DefaultCodec
        .decode_snapshot(&Value::Object(rebuilt))
        .expect("a decoded snapshot decodes again");
    assert_eq!(again, snapshot, "a snapshot survives a round trip");
}

/// A local write from the script: collection, id, op and value text. `encode_write` either
/// refuses it or produces the mutation the convention describes, which, echoed back by the
/// server as change data, decodes to the same entity change.
fn write_round_trip(script: &mut Script<'_>) {
    let collection = String::from_utf8_lossy(script.chunk()).into_owned();
    let id = String::from_utf8_lossy(script.chunk()).into_owned();
    let op = [EntityOp::Create, EntityOp::Update, EntityOp::Delete][script.below(3)];
    let text = String::from_utf8_lossy(script.chunk()).into_owned();
    let change = EntityChange {
        key: EntityKey::new(collection, id),
        op,
        value: (!script.byte().is_multiple_of(4)).then(|| text.into()),
    };
    let Ok((name, args)) = DefaultCodec.encode_write(&change) else {
        return;
    };
    check_write(&change, &name, args.as_ref());
}

/// `name` and `args` are the convention's mutation for `change`, and the server's echo of it
/// decodes back to `change` (with its value in canonical form).
fn check_write(change: &EntityChange, name: &str, args: Option<&Value>) {
    let key = &change.key;
    assert_eq!(name, format!("{}.{}", key.collection, change.op.as_str()));
    let args = args.expect("a write has args");
    assert_eq!(args.get("id"), Some(&Value::String(key.id.clone())));
    let mut echo = json!({"entity": key.collection, "id": key.id, "op": change.op.as_str()});
    if change.op != EntityOp::Delete {
        let data = args.get("data").expect("a create or update carries data");
        assert!(!data.is_null(), "a write never carries null data");
        echo["data"] = data.clone();
    }
    let echoed = Change {
        cursor: 2,
        scope: String::new(),
        time: String::new(),
        data: Some(echo),
    };
    let decoded = DefaultCodec
        .decode_change(&echoed)
        .expect("the echo of an encoded write decodes");
    assert_eq!(decoded.len(), 1);
    let back = &decoded[0];
    assert_eq!((&back.key, back.op), (key, change.op));
    if change.op != EntityOp::Delete {
        let original = parse(change.value.as_deref().expect("encoded with a value"));
        let echoed = parse(back.value.as_deref().expect("decoded with a value"));
        assert_eq!(echoed, original, "the value survives the echo");
    }
}

/// Text the codec produced is one JSON value, not `null`, and already compact (re-encoding it
/// gives the same text, so an echo of a local write compares equal).
fn assert_canonical(text: &str) {
    let value = parse(text);
    assert!(!value.is_null(), "values are never null");
    assert_eq!(value.to_string(), text, "codec text is canonical");
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("codec text {text:?} is not JSON: {e}"))
}
