//! The direct calls through their C ABI, as a binding makes them.

#![allow(clippy::undocumented_unsafe_blocks)]

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::collection::*;
use super::computed::*;
use super::effect::*;
use super::signal::*;
use super::value::tag;
use super::*;
use crate::ffi::{Client, ClientOptions, Signal};

fn slot() -> &'static HotSlot {
    // SAFETY: read on this thread between direct calls only.
    unsafe { &*mizu_hot_slot() }
}

fn slot_bytes() -> String {
    let s = slot();
    // SAFETY: valid until the next direct call on this thread.
    let b = unsafe { std::slice::from_raw_parts(s.ptr, s.len as usize) };
    String::from_utf8(b.to_vec()).unwrap()
}

fn signal(json: &str) -> u64 {
    Signal::new(json.into()).unwrap().hot_handle()
}

#[test]
fn a_signal_reads_back_what_was_written_with_its_version() {
    let s = signal("0");
    unsafe {
        let v = mizu_hot_signal_set_int(s, 42);
        assert!(v > 0);
        assert_eq!(mizu_hot_signal_get(s, 1, v as u64), tag::UNCHANGED);
        assert_eq!(mizu_hot_signal_get(s, 1, 0), tag::INT);
        assert_eq!((slot().int, slot().version), (42, v as u64));
        // Equal text keeps the version and notifies nobody.
        assert_eq!(mizu_hot_signal_set_int(s, 42), v);
        assert_eq!(mizu_hot_signal_set_json(s, b"42".as_ptr(), 2), v);

        let w = mizu_hot_signal_set_float(s, 2.5);
        assert!(w > v);
        assert_eq!(mizu_hot_signal_get(s, 0, v as u64), tag::FLOAT);
        assert_eq!(slot().float, 2.5);

        let text = "é \"quoted\"";
        mizu_hot_signal_set_string(s, text.as_ptr(), text.len() as u64);
        assert_eq!(mizu_hot_signal_get(s, 0, 0), tag::STRING);
        assert_eq!(slot_bytes(), text);

        mizu_hot_signal_set_bool(s, 1);
        assert_eq!(mizu_hot_signal_get(s, 0, 0), tag::TRUE);
        mizu_hot_signal_set_null(s);
        assert_eq!(mizu_hot_signal_get(s, 0, 0), tag::NULL);

        let json = br#"{ "b": 1, "a": [true] }"#;
        mizu_hot_signal_set_json(s, json.as_ptr(), json.len() as u64);
        assert_eq!(mizu_hot_signal_get(s, 0, 0), tag::JSON);
        assert_eq!(slot_bytes(), r#"{"a":[true],"b":1}"#);
        mizu_hot_signal_release(s);
    }
}

#[test]
fn failures_are_kept_for_take_hot_error_with_their_type() {
    let native = Signal::new("1".into()).unwrap();
    let s = Arc::clone(&native).hot_handle();
    unsafe {
        assert_eq!(mizu_hot_signal_set_float(s, f64::NAN), -1);
        assert!(matches!(
            take_hot_error(),
            Err(MizuError::InvalidJson { .. })
        ));
        assert_eq!(mizu_hot_signal_set_json(s, b"{".as_ptr(), 1), -1);
        assert!(matches!(
            take_hot_error(),
            Err(MizuError::InvalidJson { .. })
        ));
        let bad = [0xff_u8, 0xfe];
        assert_eq!(mizu_hot_signal_set_string(s, bad.as_ptr(), 2), -1);
        assert!(matches!(
            take_hot_error(),
            Err(MizuError::InvalidArgument { .. })
        ));
        // A closed signal fails, and the handle stays safe to use and to release.
        native.close();
        assert_eq!(mizu_hot_signal_get(s, 1, 0), -1);
        assert!(matches!(take_hot_error(), Err(MizuError::Closed { .. })));
        assert_eq!(mizu_hot_signal_set_int(s, 2), -1);
        assert!(matches!(take_hot_error(), Err(MizuError::Closed { .. })));
        mizu_hot_signal_release(s);
    }
    // Nothing failed since: the error was taken.
    assert!(matches!(take_hot_error(), Err(MizuError::Internal { .. })));
}

static SEEN: Mutex<Vec<(u64, i32, i64)>> = Mutex::new(Vec::new());

extern "C" fn record(token: u64, tag: i32, int: i64, _f: f64, _p: *const u8, _l: u64) -> i32 {
    SEEN.lock().unwrap().push((token, tag, int));
    0
}

#[test]
fn a_listener_gets_each_value_once_without_a_second_call() {
    let s = signal("1");
    unsafe {
        let sub = mizu_hot_signal_subscribe(s, record, 7);
        assert_ne!(sub, 0);
        mizu_hot_signal_set_int(s, 2);
        mizu_hot_signal_set_int(s, 2);
        assert_eq!(mizu_hot_subscription_is_cancelled(sub), 0);
        mizu_hot_subscription_cancel(sub);
        assert_eq!(mizu_hot_subscription_is_cancelled(sub), 1);
        mizu_hot_signal_set_int(s, 3);
        mizu_hot_subscription_release(sub);
        mizu_hot_signal_release(s);
    }
    // (Other tests record under other tokens.)
    let seen: Vec<_> = SEEN
        .lock()
        .unwrap()
        .iter()
        .copied()
        .filter(|e| e.0 == 7)
        .collect();
    assert_eq!(seen, vec![(7, tag::INT, 1), (7, tag::INT, 2)]);
}

static RUNS: AtomicUsize = AtomicUsize::new(0);
static READ: AtomicI64 = AtomicI64::new(0);
static WATCHED: AtomicI64 = AtomicI64::new(0);

extern "C" fn effect_body(token: u64) -> i32 {
    RUNS.fetch_add(1, Ordering::SeqCst);
    unsafe {
        assert_eq!(mizu_hot_signal_get(token, 1, 0), tag::INT);
    }
    READ.store(slot().int, Ordering::SeqCst);
    if slot().int == 13 {
        let why = "unlucky";
        unsafe { mizu_hot_callback_error(why.as_ptr(), why.len() as u64) };
        return 1;
    }
    0
}

#[test]
fn an_effect_reruns_on_the_writing_thread_and_stops() {
    let s = signal("1");
    WATCHED.store(s as i64, Ordering::SeqCst);
    unsafe {
        let e = mizu_hot_effect_new(effect_body, s);
        assert_eq!(RUNS.load(Ordering::SeqCst), 1);
        mizu_hot_signal_set_int(s, 5);
        assert_eq!(
            (RUNS.load(Ordering::SeqCst), READ.load(Ordering::SeqCst)),
            (2, 5)
        );
        // A failing run is reported, and the effect keeps running.
        mizu_hot_signal_set_int(s, 13);
        mizu_hot_signal_set_int(s, 14);
        assert_eq!(READ.load(Ordering::SeqCst), 14);
        mizu_hot_effect_stop(e);
        mizu_hot_signal_set_int(s, 6);
        assert_eq!(RUNS.load(Ordering::SeqCst), 4);
        mizu_hot_effect_release(e);
        mizu_hot_signal_release(s);
    }
}

#[test]
fn an_entity_is_written_and_read_by_id_as_canonical_json() {
    let client = Client::new(
        ClientOptions {
            base_url: "http://127.0.0.1:9/_sync".into(),
            scope: String::new(),
            storage_path: None,
            encryption_key: None,
            durability: None,
            live_url: None,
            push_interval_ms: 5000,
            pull_interval_ms: 30000,
            request_timeout_ms: 1000,
            backoff_min_ms: 500,
            backoff_max_ms: 60000,
            push_batch_size: 100,
            pull_limit: 1000,
            headers: std::collections::HashMap::new(),
            max_snapshot_bytes: None,
            subscribe_message_json: None,
        },
        None,
        None,
        None,
        None,
    )
    .unwrap();
    let todos = client.collection("todo".into()).unwrap();
    let c = Arc::clone(&todos).hot_handle();
    let (id, value) = ("t1", br#"{"title":"A", "done":false}"#);
    unsafe {
        let write = |create: i32| {
            mizu_hot_collection_write(
                c,
                id.as_ptr(),
                2,
                value.as_ptr(),
                value.len() as u64,
                create,
            )
        };
        assert_eq!(mizu_hot_collection_get(c, id.as_ptr(), 2, 1), tag::ABSENT);
        assert_eq!(write(1), 0);
        assert_eq!(mizu_hot_collection_get(c, id.as_ptr(), 2, 1), tag::JSON);
        assert_eq!(slot_bytes(), r#"{"done":false,"title":"A"}"#);
        // A second create is refused; a set is fine.
        assert_eq!(write(1), -1);
        assert!(matches!(
            take_hot_error(),
            Err(MizuError::InvalidArgument { .. })
        ));
        assert_eq!(write(0), 0);
        assert_eq!(
            todos.value(id.into()).unwrap().as_deref(),
            Some(r#"{"done":false,"title":"A"}"#)
        );
        // Like the generated calls: a closed client refuses writes, a closed collection all.
        client.close();
        assert_eq!(write(0), -1);
        assert!(matches!(take_hot_error(), Err(MizuError::Closed { .. })));
        todos.close();
        assert_eq!(mizu_hot_collection_get(c, id.as_ptr(), 2, 0), -1);
        assert!(matches!(take_hot_error(), Err(MizuError::Closed { .. })));
        mizu_hot_collection_release(c);
    }
}

/// Collects the unhandled errors reported while it is registered.
#[derive(Debug, Default)]
struct Reported(Mutex<Vec<MizuError>>);

impl crate::ffi::listener::ErrorListener for Reported {
    fn on_error(&self, error: MizuError) -> Result<(), MizuError> {
        self.0.lock().unwrap().push(error);
        Ok(())
    }
}

extern "C" fn refuse_two(_token: u64, _tag: i32, int: i64, _f: f64, _p: *const u8, _l: u64) -> i32 {
    if int != 2 {
        return 0;
    }
    hot_callback_error(MizuError::NotFound {
        what: "hot-typed-two".to_owned(),
    });
    1
}

extern "C" fn refuse_three(token: u64) -> i32 {
    unsafe {
        assert_eq!(mizu_hot_signal_get(token, 1, 0), tag::INT);
    }
    if slot().int != 3 {
        return 0;
    }
    let why = "hot-untyped-three";
    unsafe { mizu_hot_callback_error(why.as_ptr(), why.len() as u64) };
    1
}

#[test]
fn a_failing_callback_is_reported_with_its_type() {
    let reported = Arc::new(Reported::default());
    let registration = crate::ffi::on_unhandled_error(Arc::clone(&reported) as _);
    let s = signal("1");
    unsafe {
        let sub = mizu_hot_signal_subscribe(s, refuse_two, 0);
        let e = mizu_hot_effect_new(refuse_three, s);
        mizu_hot_signal_set_int(s, 2);
        mizu_hot_signal_set_int(s, 3);
        // Both keep running after failing.
        mizu_hot_signal_set_int(s, 2);
        mizu_hot_subscription_release(sub);
        mizu_hot_effect_release(e);
        mizu_hot_signal_release(s);
    }
    registration.cancel();
    // Other tests may report their own errors meanwhile: only these two reasons count.
    let ours: Vec<MizuError> = reported
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.to_string().contains("hot-"))
        .cloned()
        .collect();
    let typed = MizuError::NotFound {
        what: "hot-typed-two".to_owned(),
    };
    let untyped = MizuError::Callback {
        reason: "hot-untyped-three".to_owned(),
    };
    assert_eq!(ours, vec![typed.clone(), untyped, typed]);
}

extern "C" fn ignore(_t: u64, _tag: i32, _i: i64, _f: f64, _p: *const u8, _l: u64) -> i32 {
    0
}

#[test]
fn closing_a_signal_cancels_its_direct_subscriptions() {
    let native = Signal::new("1".into()).unwrap();
    let s = Arc::clone(&native).hot_handle();
    unsafe {
        let sub = mizu_hot_signal_subscribe(s, ignore, 1);
        assert_eq!(mizu_hot_subscription_is_cancelled(sub), 0);
        native.close();
        assert_eq!(mizu_hot_subscription_is_cancelled(sub), 1);
        mizu_hot_subscription_release(sub);
        mizu_hot_signal_release(s);
    }
}

#[derive(Debug)]
struct Sum(Arc<Signal>, Arc<AtomicUsize>);

impl crate::ffi::ComputedFn for Sum {
    fn compute(&self) -> Result<String, MizuError> {
        self.1.fetch_add(1, Ordering::SeqCst);
        let n: i64 = self.0.get()?.parse().unwrap();
        if n < 0 {
            return Err(MizuError::InvalidArgument {
                reason: "negative".into(),
            });
        }
        Ok(format!("{}", n * 2))
    }
}

#[test]
fn a_computed_reads_directly_with_versions_and_recomputes_once_per_change() {
    let source = Signal::new("1".into()).unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let computed = crate::ffi::Computed::new(Arc::new(Sum(Arc::clone(&source), runs.clone())));
    let c = Arc::clone(&computed).hot_handle();
    let s = Arc::clone(&source).hot_handle();
    unsafe {
        assert_eq!(mizu_hot_computed_get(c, 1, 0), tag::INT);
        let (value, version) = (slot().int, slot().version);
        assert_eq!(value, 2);
        // Unchanged: nothing copied, nothing recomputed.
        assert_eq!(mizu_hot_computed_get(c, 1, version), tag::UNCHANGED);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        mizu_hot_signal_set_int(s, 5);
        assert_eq!(mizu_hot_computed_get(c, 0, version), tag::INT);
        assert_eq!(slot().int, 10);
        assert_ne!(slot().version, version);
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        // The function's error is the read's error, typed.
        mizu_hot_signal_set_int(s, -1);
        assert_eq!(mizu_hot_computed_get(c, 1, 0), -1);
        assert!(matches!(
            take_hot_error(),
            Err(MizuError::InvalidArgument { .. })
        ));
        computed.close();
        assert_eq!(mizu_hot_computed_get(c, 1, 0), -1);
        assert!(matches!(take_hot_error(), Err(MizuError::Closed { .. })));
        mizu_hot_computed_release(c);
        mizu_hot_signal_release(s);
    }
}

static OUTER_INNER: AtomicI64 = AtomicI64::new(0);
static SOURCE: AtomicI64 = AtomicI64::new(0);

/// token 1: the source signal × 10; token 2: the inner computed + 1, giving its result after
/// reading the inner one (so results nest); token 3: fails; token 4: gives a string.
extern "C" fn compute_body(token: u64) -> i32 {
    unsafe {
        match token {
            1 => {
                assert_eq!(
                    mizu_hot_signal_get(SOURCE.load(Ordering::SeqCst) as u64, 1, 0),
                    tag::INT
                );
                mizu_hot_result_int(slot().int * 10);
            }
            2 => {
                assert_eq!(
                    mizu_hot_computed_get(OUTER_INNER.load(Ordering::SeqCst) as u64, 1, 0),
                    tag::INT
                );
                mizu_hot_result_int(slot().int + 1);
            }
            3 => {
                let why = "nope";
                mizu_hot_callback_error(why.as_ptr(), why.len() as u64);
                return 1;
            }
            _ => {
                let s = "é";
                mizu_hot_result_string(s.as_ptr(), s.len() as u64);
            }
        }
    }
    0
}

#[test]
fn a_computed_with_a_direct_function_nests_fails_typed_and_closes() {
    let s = signal("2");
    SOURCE.store(s as i64, Ordering::SeqCst);
    unsafe {
        let inner = mizu_hot_computed_new(compute_body, 1);
        OUTER_INNER.store(inner as i64, Ordering::SeqCst);
        let outer = mizu_hot_computed_new(compute_body, 2);
        assert_eq!(mizu_hot_computed_get(outer, 1, 0), tag::INT);
        assert_eq!(slot().int, 21);
        let sub = mizu_hot_computed_subscribe(outer, record, 9);
        mizu_hot_signal_set_int(s, 3);
        assert_eq!(mizu_hot_computed_get(outer, 1, 0), tag::INT);
        assert_eq!(slot().int, 31);
        assert!(SEEN.lock().unwrap().contains(&(9, tag::INT, 31)));

        let failing = mizu_hot_computed_new(compute_body, 3);
        assert_eq!(mizu_hot_computed_get(failing, 1, 0), -1);
        assert!(
            matches!(take_hot_error(), Err(MizuError::Callback { reason }) if reason == "nope")
        );
        let text = mizu_hot_computed_new(compute_body, 4);
        assert_eq!(mizu_hot_computed_get(text, 0, 0), tag::STRING);
        assert_eq!(slot_bytes(), "é");

        mizu_hot_computed_close(outer);
        assert_eq!(mizu_hot_computed_get(outer, 1, 0), -1);
        assert!(matches!(take_hot_error(), Err(MizuError::Closed { .. })));
        mizu_hot_subscription_release(sub);
        for c in [inner, outer, failing, text] {
            mizu_hot_computed_release(c);
        }
        mizu_hot_signal_release(s);
    }
}
