//! Functions of computeds and effects calling back into the library.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use mizu_sync::reactive::{batch, on_cleanup, Computed, Effect, Signal};

#[test]
fn an_effect_that_writes_another_signal_wakes_its_readers() {
    let a = Signal::new(1);
    let b = Signal::new(0);
    let (a1, b1) = (a.clone(), b.clone());
    let _writer = Effect::new(move || b1.set(a1.get() * 2));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (b2, out) = (b.clone(), seen.clone());
    let _reader = Effect::new(move || out.lock().unwrap().push(b2.get()));
    a.set(5);
    batch(|| a.set(7));
    assert_eq!(*seen.lock().unwrap(), [2, 10, 14]);
}

#[test]
fn an_effect_may_update_the_signal_it_reads_until_it_settles() {
    let a = Signal::new(0);
    let a1 = a.clone();
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let _e = Effect::new(move || {
        r.fetch_add(1, Ordering::SeqCst);
        if a1.get() < 3 {
            a1.update(|v| v + 1);
        }
    });
    assert_eq!(a.get(), 3);
    assert_eq!(runs.load(Ordering::SeqCst), 4);
}

#[test]
fn a_computed_that_creates_an_effect_keeps_it_working() {
    let source = Signal::new(1);
    let created: Arc<Mutex<Vec<Effect>>> = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (s, made, out) = (source.clone(), created.clone(), seen.clone());
    let computed = Computed::new(move || {
        let (s2, out) = (s.clone(), out.clone());
        made.lock()
            .unwrap()
            .push(Effect::new(move || out.lock().unwrap().push(s2.get())));
        s.peek() * 10
    });
    assert_eq!(computed.get(), 10);
    assert_eq!(*seen.lock().unwrap(), [1]);
    source.set(2);
    assert_eq!(*seen.lock().unwrap(), [1, 2]);
    assert_eq!(computed.get(), 10, "the computed read its source untracked");
    assert_eq!(created.lock().unwrap().len(), 1);
}

#[test]
fn an_effect_can_stop_itself() {
    let source = Signal::new(0);
    let handle: Arc<Mutex<Option<Effect>>> = Arc::new(Mutex::new(None));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let cleanups = Arc::new(AtomicUsize::new(0));
    let (s, me, out, cl) = (
        source.clone(),
        handle.clone(),
        seen.clone(),
        cleanups.clone(),
    );
    let effect = Effect::new(move || {
        let v = s.get();
        out.lock().unwrap().push(v);
        let cl = cl.clone();
        on_cleanup(move || {
            cl.fetch_add(1, Ordering::SeqCst);
        });
        if v == 2 {
            let me = me.lock().unwrap().take();
            if let Some(me) = me {
                me.stop();
                assert!(me.is_stopped());
            }
        }
    });
    *handle.lock().unwrap() = Some(effect);
    for v in 1..5 {
        source.set(v);
    }
    assert_eq!(*seen.lock().unwrap(), [0, 1, 2]);
    assert_eq!(
        cleanups.load(Ordering::SeqCst),
        3,
        "every run's cleanup ran"
    );
    assert!(handle.lock().unwrap().is_none());
}

#[test]
fn an_effect_can_stop_and_create_other_effects() {
    let source = Signal::new(0);
    let victim_runs = Arc::new(AtomicUsize::new(0));
    let (s, r) = (source.clone(), victim_runs.clone());
    let victim = Arc::new(Effect::new(move || {
        s.get();
        r.fetch_add(1, Ordering::SeqCst);
    }));
    let spawned: Arc<Mutex<Vec<Effect>>> = Arc::new(Mutex::new(Vec::new()));
    let (s, v, sp) = (source.clone(), victim.clone(), spawned.clone());
    let _killer = Effect::new(move || {
        if s.get() == 1 {
            v.stop();
            let s2 = s.clone();
            sp.lock().unwrap().push(Effect::new(move || {
                s2.get();
            }));
        }
    });
    source.set(1);
    source.set(2);
    assert!(victim.is_stopped());
    assert!(victim_runs.load(Ordering::SeqCst) <= 2);
    assert_eq!(spawned.lock().unwrap().len(), 1);
}

#[test]
fn a_computed_may_read_and_create_computeds() {
    let source = Signal::new(3);
    let s = source.clone();
    let outer = Computed::new(move || {
        let s2 = s.clone();
        let inner = Computed::new(move || s2.get() + 1);
        inner.get() * 2
    });
    assert_eq!(outer.get(), 8);
    source.set(4);
    assert_eq!(outer.get(), 10);
}

#[test]
fn reading_a_computed_inside_its_own_function_panics_as_a_cycle() {
    let slot: Arc<Mutex<Option<Computed<i32>>>> = Arc::new(Mutex::new(None));
    let s = slot.clone();
    let computed = Computed::new(move || {
        let me = s.lock().unwrap().clone();
        me.map_or(0, |c| c.get() + 1)
    });
    *slot.lock().unwrap() = Some(computed.clone());
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| computed.get()));
    let message = result.expect_err("a cycle panics");
    let text = message
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| message.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert!(text.contains("cycle"), "{text}");
    slot.lock().unwrap().take();
}

#[test]
fn a_panicking_computed_can_be_read_again() {
    let source = Signal::new(0);
    let s = source.clone();
    let computed = Computed::new(move || {
        let v = s.get();
        assert!(v != 1, "one is refused");
        v
    });
    assert_eq!(computed.get(), 0);
    source.set(1);
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| computed.get())).is_err());
    source.set(2);
    assert_eq!(computed.get(), 2);
}

#[test]
fn a_computed_that_writes_a_signal_runs_the_woken_effects_after_it() {
    let source = Signal::new(1);
    let mirror = Signal::new(0);
    let (s, m) = (source.clone(), mirror.clone());
    let computed = Computed::new(move || {
        let v = s.get();
        m.set(v);
        v * 10
    });
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (m2, c2, out) = (mirror.clone(), computed.clone(), seen.clone());
    // Reads the computed only once the mirror is set: the first write to the mirror happens
    // inside the computed's first run, which must end before this effect reads it.
    let _effect = Effect::new(move || {
        let m = m2.get();
        let c = if m > 0 { c2.get() } else { 0 };
        out.lock().unwrap().push((m, c));
    });
    assert_eq!(computed.get(), 10);
    source.set(2);
    assert_eq!(*seen.lock().unwrap(), [(0, 0), (1, 10), (2, 20)]);
}
