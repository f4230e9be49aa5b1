//! Values and ids a host can get wrong, through the public API: values that do not serialize
//! or that JSON cannot hold, values read back as the wrong type, empty, huge and odd ids, and
//! collection names with dots. Each case asserts the exact error, or that the odd input works
//! end to end against a server.

mod client_support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use client_support::{options, scope, started, todo, wait_until, TestServer, Todo};
use mizu_sync::{Client, Error, Options};
use serde_json::{json, Value};

fn offline() -> Client {
    Client::new(Options::new("http://127.0.0.1:9/_sync")).unwrap()
}

#[test]
fn a_value_that_does_not_serialize_is_a_serialization_error() {
    let client = offline();
    let maps = client.collection::<HashMap<(u8, u8), u8>>("grid");
    let err = maps.create("a", HashMap::from([((1, 2), 3)])).unwrap_err();
    assert!(matches!(err, Error::Serialization(_)), "{err:?}");
    assert_eq!(maps.count(), 0, "nothing was written");
    assert_eq!(client.pending_count(), 0);
}

#[test]
fn a_null_value_is_refused_as_an_invalid_argument() {
    let client = offline();
    let values = client.collection::<Value>("any");
    assert!(matches!(
        values.create("a", Value::Null),
        Err(Error::InvalidArgument(_))
    ));
    // NaN and an absent option serialize to JSON null too.
    let floats = client.collection::<f64>("float");
    assert!(matches!(
        floats.create("nan", f64::NAN),
        Err(Error::InvalidArgument(_))
    ));
    let options = client.collection::<Option<Todo>>("maybe");
    assert!(matches!(
        options.create("none", None),
        Err(Error::InvalidArgument(_))
    ));
    let entity = values.create("b", json!(1)).unwrap();
    assert!(matches!(
        entity.set(Value::Null),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(
        entity.get(),
        Some(json!(1)),
        "the refused write changed nothing"
    );
    assert_eq!(client.pending_count(), 1);
}

#[test]
fn odd_but_valid_json_values_round_trip_through_the_server() {
    let server = TestServer::start();
    let scope = scope("odd-values");
    let writer = started(options(&server.base_url(), &scope));
    let reader = started(options(&server.base_url(), &scope));
    let mut deep = json!("bottom");
    for _ in 0..100 {
        deep = json!([deep]);
    }
    let cases = [
        (
            "controls",
            json!("nul\u{0}bell\u{7}esc\u{1b}del\u{7f}tab\tnl\n"),
        ),
        ("unicode", json!("日本語 \u{fffd} \u{10ffff} 🦀")),
        ("big-int", json!(u64::MAX)),
        ("neg-int", json!(i64::MIN)),
        ("float", json!(1.0e300)),
        ("tiny", json!(5e-324)),
        ("empty-object", json!({})),
        ("empty-array", json!([])),
        ("empty-string", json!("")),
        ("false", json!(false)),
        ("deep", deep),
        ("keys", json!({"": 1, "\u{0}": 2, "a.b/c": 3})),
    ];
    let values = writer.collection::<Value>("any");
    for (id, value) in &cases {
        values.create(*id, value.clone()).unwrap();
    }
    writer.flush(client_support::WAIT).unwrap();
    let seen = reader.collection::<Value>("any");
    wait_until("the reader has every value", || seen.count() == cases.len());
    for (id, value) in &cases {
        assert_eq!(seen.get(*id).get().as_ref(), Some(value), "{id}");
    }
}

#[test]
fn reading_a_value_as_the_wrong_type_is_a_serialization_error() {
    let errors = Arc::new(Mutex::new(Vec::new()));
    let log = errors.clone();
    let client = Client::new(Options::new("http://127.0.0.1:9/_sync").on_error(move |e| {
        log.lock().unwrap().push(e.clone());
    }))
    .unwrap();
    client
        .collection::<Todo>("todo")
        .create("a", todo("typed"))
        .unwrap();
    client
        .collection::<Value>("todo")
        .create("b", json!([1, 2]))
        .unwrap();
    let numbers = client.collection::<u32>("todo");
    let err = numbers.get("a").try_get().unwrap_err();
    assert!(matches!(err, Error::Serialization(_)), "{err:?}");
    assert_eq!(
        numbers.get("a").get(),
        None,
        "get reads an undecodable value as None"
    );
    assert!(
        numbers.entries().is_empty(),
        "entries skips undecodable values"
    );
    assert_eq!(numbers.count(), 2, "count does not decode");
    let todos = client.collection::<Todo>("todo");
    assert_eq!(
        todos.entries().len(),
        1,
        "the array does not decode as a Todo"
    );
    let reported = errors.lock().unwrap().clone();
    assert_eq!(
        reported.len(),
        4,
        "each skipped value was reported: {reported:?}"
    );
    assert!(reported
        .iter()
        .all(|e| matches!(e, Error::Serialization(_))));
}

#[test]
fn empty_ids_and_collection_names_are_invalid_arguments() {
    let client = offline();
    let todos = client.collection::<Todo>("todo");
    assert!(matches!(
        todos.create("", todo("x")),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        todos.get("").set(todo("x")),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        todos.get("").delete(),
        Err(Error::InvalidArgument(_))
    ));
    let unnamed = client.collection::<Todo>("");
    assert!(matches!(
        unnamed.create("a", todo("x")),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        client.mutate("", None),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(client.pending_count(), 0);
}

#[test]
fn creating_an_existing_id_is_an_invalid_argument() {
    let client = offline();
    let todos = client.collection::<Todo>("todo");
    todos.create("a", todo("first")).unwrap();
    assert!(matches!(
        todos.create("a", todo("second")),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(todos.get("a").get(), Some(todo("first")));
}

#[test]
fn odd_ids_and_dotted_collection_names_sync_to_another_client() {
    let server = TestServer::start();
    let scope = scope("odd-ids");
    let writer = started(options(&server.base_url(), &scope));
    let reader = started(options(&server.base_url(), &scope));
    let long = "x".repeat(100 * 1024);
    let ids = [
        "a.b",
        "a/b",
        "../../etc/passwd",
        "nul\u{0}id",
        "line\nbreak",
        " spaced ",
        "🦀",
        "%2F?&=#",
        long.as_str(),
    ];
    for collection in ["todo", "a.b", "x.create", "a/b"] {
        let todos = writer.collection::<Todo>(collection);
        for id in ids {
            todos.create(id, todo(collection)).unwrap();
        }
    }
    writer.flush(client_support::WAIT).unwrap();
    for collection in ["todo", "a.b", "x.create", "a/b"] {
        let seen = reader.collection::<Todo>(collection);
        wait_until(&format!("the reader has {collection}"), || {
            seen.count() == ids.len()
        });
        for id in ids {
            assert_eq!(seen.get(id).get(), Some(todo(collection)));
        }
    }
    let snapshot = server.snapshot(&scope);
    assert!(snapshot["a.b"]["a.b"].is_object(), "{snapshot}");
    assert!(snapshot["x.create"][long.as_str()].is_object());
}

#[test]
fn floats_reach_another_client_bit_for_bit() {
    let server = TestServer::start();
    let scope = scope("floats");
    let writer = started(options(&server.base_url(), &scope));
    let reader = started(options(&server.base_url(), &scope));
    // Shortest representations that an inexact decimal parser reads one ulp off.
    let floats = [1.4684474073709753e20, 2.2250738585072014e-308, 0.1 + 0.2];
    let numbers = writer.collection::<f64>("float");
    for (i, x) in floats.iter().enumerate() {
        numbers.create(format!("f{i}"), *x).unwrap();
    }
    writer.flush(client_support::WAIT).unwrap();
    let seen = reader.collection::<f64>("float");
    wait_until("the reader has every float", || {
        seen.count() == floats.len()
    });
    for (i, x) in floats.iter().enumerate() {
        let got = seen.get(format!("f{i}")).get().unwrap();
        assert_eq!(got.to_bits(), x.to_bits(), "{x:e} came back as {got:e}");
    }
}
