//! The FFI's reactive surface, driven as a host language would: Signal, Computed and Effect
//! from foreign functions, batch, subscriptions, closing, errors.

mod ffi_support;

use std::sync::{Arc, Mutex};

use ffi_support::{host_failure, Func, Recorder, Run};
use mizu_sync::ffi::{batch, untracked, Computed, Effect, MizuError, Signal};

fn json(text: &str) -> String {
    text.to_string()
}

#[test]
fn signal_sets_gets_and_updates_json_values() {
    let count = Signal::new(json("0")).unwrap();
    count.set(json("5")).unwrap();
    assert_eq!(count.get().unwrap(), "5");
    #[derive(Debug)]
    struct Inc;
    impl mizu_sync::ffi::SignalUpdateFn for Inc {
        fn update(&self, value_json: String) -> Result<String, MizuError> {
            let n: i64 = value_json.parse().unwrap();
            Ok((n + 1).to_string())
        }
    }
    count.update(Arc::new(Inc)).unwrap();
    assert_eq!(count.get().unwrap(), "6");
}

#[test]
fn signal_values_are_canonical_json_so_equal_objects_notify_nobody() {
    let signal = Signal::new(json(r#"{ "b": 1, "a": [true, null] }"#)).unwrap();
    assert_eq!(signal.get().unwrap(), r#"{"a":[true,null],"b":1}"#);
    let (listener, seen) = Recorder::<String>::new();
    let _subscription = signal.subscribe(listener).unwrap();
    signal.set(json(r#"{"a":[true,null],  "b":1}"#)).unwrap();
    assert_eq!(seen.all(), [r#"{"a":[true,null],"b":1}"#]);
}

#[test]
fn signal_listener_gets_the_current_value_first_then_each_change_until_cancelled() {
    let signal = Signal::new(json(r#""a""#)).unwrap();
    let (listener, seen) = Recorder::<String>::new();
    let subscription = signal.subscribe(listener.clone()).unwrap();
    signal.set(json(r#""b""#)).unwrap();
    subscription.cancel();
    assert!(subscription.is_cancelled());
    signal.set(json(r#""c""#)).unwrap();
    assert_eq!(seen.all(), [r#""a""#, r#""b""#]);
    // The subscription held the only other strong reference to the listener.
    assert_eq!(Arc::strong_count(&listener), 1);
}

#[test]
fn dropping_a_subscription_stops_its_listener() {
    let signal = Signal::new(json("1")).unwrap();
    let (listener, seen) = Recorder::<String>::new();
    drop(signal.subscribe(listener).unwrap());
    signal.set(json("2")).unwrap();
    assert_eq!(seen.all(), ["1"]);
}

#[test]
fn invalid_json_is_rejected_with_invalid_json_and_changes_nothing() {
    assert!(matches!(
        Signal::new(json("{oops")),
        Err(MizuError::InvalidJson { .. })
    ));
    let signal = Signal::new(json("1")).unwrap();
    assert!(matches!(
        signal.set(json("")),
        Err(MizuError::InvalidJson { .. })
    ));
    assert_eq!(signal.get().unwrap(), "1");
}

#[test]
fn a_closed_signal_fails_with_closed_and_cancels_its_subscriptions() {
    let signal = Signal::new(json("1")).unwrap();
    let (listener, _seen) = Recorder::<String>::new();
    let subscription = signal.subscribe(listener).unwrap();
    signal.close();
    signal.close();
    assert!(signal.is_closed());
    assert!(subscription.is_cancelled());
    assert_eq!(
        signal.get(),
        Err(MizuError::Closed {
            what: "signal".into()
        })
    );
    assert!(matches!(
        signal.set(json("2")),
        Err(MizuError::Closed { .. })
    ));
}

#[test]
fn foreign_computed_tracks_signals_read_through_the_library() {
    // The seed's example: total = price * count; 10 * 5.0 = 50.0, then 20 → 100.0.
    let price = Signal::new(json("10")).unwrap();
    let count = Signal::new(json("5.0")).unwrap();
    let runs = Arc::new(Mutex::new(0));
    let (p, c, r) = (price.clone(), count.clone(), runs.clone());
    let total = Computed::new(Arc::new(Func(move || {
        *r.lock().unwrap() += 1;
        let p: f64 = p.get()?.parse().unwrap();
        let c: f64 = c.get()?.parse().unwrap();
        Ok(serde_json::to_string(&(p * c)).unwrap())
    })));
    assert_eq!(*runs.lock().unwrap(), 0, "computeds are lazy");
    assert_eq!(total.get().unwrap(), "50.0");
    assert_eq!(total.get().unwrap(), "50.0");
    assert_eq!(*runs.lock().unwrap(), 1, "cached");
    price.set(json("20")).unwrap();
    assert_eq!(total.get().unwrap(), "100.0");
    assert_eq!(*runs.lock().unwrap(), 2);
}

#[test]
fn computed_error_reaches_its_readers_until_a_dependency_changes() {
    let divisor = Signal::new(json("0")).unwrap();
    let d = divisor.clone();
    let ratio = Computed::new(Arc::new(Func(move || {
        let d: i64 = d.get()?.parse().unwrap();
        if d == 0 {
            return Err(host_failure("ZeroDivisionError"));
        }
        Ok((10 / d).to_string())
    })));
    assert_eq!(ratio.get(), Err(host_failure("ZeroDivisionError")));
    divisor.set(json("5")).unwrap();
    assert_eq!(ratio.get().unwrap(), "2");
    let bad = Computed::new(Arc::new(Func(|| Ok("not json".to_string()))));
    assert!(matches!(bad.get(), Err(MizuError::InvalidJson { .. })));
}

#[test]
fn effect_runs_on_creation_and_each_set_and_is_silent_after_stop() {
    let count = Signal::new(json("0")).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (c, s) = (count.clone(), seen.clone());
    let effect = Effect::new(Arc::new(Run(move || {
        s.lock().unwrap().push(c.get()?);
        Ok(())
    })));
    count.set(json("5")).unwrap();
    count.set(json("6")).unwrap();
    effect.stop();
    effect.stop();
    assert!(effect.is_stopped());
    count.set(json("7")).unwrap();
    assert_eq!(*seen.lock().unwrap(), ["0", "5", "6"]);
}

#[test]
fn batch_defers_effects_until_the_block_returns() {
    let (first, last) = (
        Signal::new(json(r#""Ada""#)).unwrap(),
        Signal::new(json(r#""Byron""#)).unwrap(),
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (f, l, s) = (first.clone(), last.clone(), seen.clone());
    let _effect = Effect::new(Arc::new(Run(move || {
        s.lock().unwrap().push(format!("{} {}", f.get()?, l.get()?));
        Ok(())
    })));
    let (f, l) = (first.clone(), last.clone());
    batch(Arc::new(Run(move || {
        f.set(json(r#""Grace""#))?;
        l.set(json(r#""Hopper""#))
    })))
    .unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [r#""Ada" "Byron""#, r#""Grace" "Hopper""#]
    );
}

#[test]
fn batch_returns_the_error_of_its_block() {
    let result = batch(Arc::new(Run(|| Err(host_failure("boom")))));
    assert_eq!(result, Err(host_failure("boom")));
}

#[test]
fn untracked_reads_do_not_become_dependencies() {
    let tracked = Signal::new(json("1")).unwrap();
    let hidden = Signal::new(json("1")).unwrap();
    let runs = Arc::new(Mutex::new(0));
    let (t, h, r) = (tracked.clone(), hidden.clone(), runs.clone());
    let _effect = Effect::new(Arc::new(Run(move || {
        *r.lock().unwrap() += 1;
        t.get()?;
        let h = h.clone();
        untracked(Arc::new(Func(move || h.get())))?;
        Ok(())
    })));
    hidden.set(json("2")).unwrap();
    assert_eq!(*runs.lock().unwrap(), 1);
    tracked.set(json("2")).unwrap();
    assert_eq!(*runs.lock().unwrap(), 2);
}

#[test]
fn a_failing_listener_is_reported_as_unhandled_and_keeps_listening() {
    let (errors, reported) = Recorder::<MizuError>::new();
    let _sink = mizu_sync::ffi::on_unhandled_error(errors);
    let signal = Signal::new(json("1")).unwrap();
    let (listener, seen) = Recorder::<String>::failing(host_failure("listener-42 failed"));
    let _subscription = signal.subscribe(listener).unwrap();
    signal.set(json("2")).unwrap();
    assert_eq!(seen.all(), ["1", "2"]);
    let mine: Vec<_> = reported
        .all()
        .into_iter()
        .filter(|e| *e == host_failure("listener-42 failed"))
        .collect();
    assert_eq!(mine.len(), 2);
}

#[test]
fn a_listener_may_write_other_signals_and_read_its_own_without_deadlock() {
    let source = Signal::new(json("1")).unwrap();
    let mirror = Signal::new(json("0")).unwrap();
    #[derive(Debug)]
    struct Mirror {
        source: Arc<Signal>,
        mirror: Arc<Signal>,
    }
    impl mizu_sync::ffi::SignalListener for Mirror {
        fn on_change(&self, value_json: String) -> Result<(), MizuError> {
            assert_eq!(self.source.peek()?, value_json);
            self.mirror.set(value_json)
        }
    }
    let _subscription = source
        .subscribe(Arc::new(Mirror {
            source: source.clone(),
            mirror: mirror.clone(),
        }))
        .unwrap();
    source.set(json("3")).unwrap();
    assert_eq!(mirror.get().unwrap(), "3");
}

#[test]
fn core_errors_map_to_what_the_app_would_do_differently() {
    use mizu_sync::Error as E;
    let rejected = MizuError::from(E::Rejected {
        mutation_id: "c1-7".into(),
        name: "todo.create".into(),
        reason: "no".into(),
    });
    assert_eq!(
        rejected,
        MizuError::Rejected {
            mutation_id: "c1-7".into(),
            name: "todo.create".into(),
            reason: "no".into()
        }
    );
    assert!(matches!(
        MizuError::from(E::NotStarted),
        MizuError::Offline { .. }
    ));
    assert!(matches!(
        MizuError::from(E::Paused),
        MizuError::Offline { .. }
    ));
    assert!(matches!(
        MizuError::from(E::WaitTimedOut(std::time::Duration::from_secs(1))),
        MizuError::Timeout { .. }
    ));
    assert!(matches!(
        MizuError::from(E::Timeout),
        MizuError::Network { .. }
    ));
    assert!(matches!(
        MizuError::from(E::Serialization("x".into())),
        MizuError::InvalidJson { .. }
    ));
    assert_eq!(
        MizuError::from(E::Closed),
        MizuError::Closed {
            what: "client".into()
        }
    );
    assert_eq!(
        MizuError::from(uniffi::UnexpectedUniFFICallbackError::new("KeyError('x')")),
        host_failure("KeyError('x')")
    );
}

#[test]
fn concurrent_ffi_updates_count_every_increment() {
    #[derive(Debug)]
    struct Inc;
    impl mizu_sync::ffi::SignalUpdateFn for Inc {
        fn update(&self, value_json: String) -> Result<String, MizuError> {
            let n: i64 = value_json.parse().unwrap();
            std::thread::yield_now(); // widen the window a lost update would need
            Ok((n + 1).to_string())
        }
    }
    let count = Signal::new("0".into()).unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..500 {
                    count.update(Arc::new(Inc)).unwrap();
                }
            });
        }
    });
    assert_eq!(count.get().unwrap(), "2000");
}
