//! The seed's snippets, caching, cleanup, batch and untrack.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use mizu_sync::reactive::{batch, on_cleanup, untrack, Computed, Effect, Signal};

type Log<T> = Arc<Mutex<Vec<T>>>;

fn log<T: Send + 'static>() -> (Log<T>, Log<T>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    (log.clone(), log)
}

fn counter() -> (Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let c = Arc::new(AtomicUsize::new(0));
    (c.clone(), c)
}

fn count(c: &AtomicUsize) -> usize {
    c.load(Ordering::SeqCst)
}

#[test]
fn signal_sets_and_updates_like_the_seed() {
    let count = Signal::new(0);
    count.set(5);
    count.update(|n| n + 1);
    assert_eq!(count.get(), 6);
    assert_eq!(count.peek(), 6);
    assert_eq!(count.with(|n| n * 2), 12);
}

#[test]
fn computed_multiplies_count_by_price_like_the_seed() {
    let count = Signal::new(5);
    let price = Signal::new(10.0);
    let (c, p) = (count.clone(), price.clone());
    let total = Computed::new(move || f64::from(c.get()) * p.get());
    assert_eq!(total.get(), 50.0);
    count.set(10);
    assert_eq!(total.get(), 100.0);
}

#[test]
fn effect_prints_on_creation_and_each_set_and_is_silent_after_stop() {
    let count = Signal::new(0);
    let (printed, out) = log();
    let c = count.clone();
    let effect = Effect::new(move || out.lock().unwrap().push(format!("count = {}", c.get())));
    count.set(1);
    count.set(2);
    assert!(!effect.is_stopped());
    effect.stop();
    assert!(effect.is_stopped());
    count.set(3);
    assert_eq!(
        *printed.lock().unwrap(),
        ["count = 0", "count = 1", "count = 2"]
    );
}

#[test]
fn setting_an_equal_value_notifies_nobody() {
    let s = Signal::new(1);
    let (runs, r) = counter();
    let s2 = s.clone();
    let _e = Effect::new(move || {
        s2.get();
        r.fetch_add(1, Ordering::SeqCst);
    });
    s.set(1);
    s.update(|v| *v);
    assert_eq!(count(&runs), 1);
    s.modify(|v| *v += 0);
    assert_eq!(count(&runs), 2, "modify always notifies");
}

#[test]
fn computed_is_lazy_cached_and_recomputes_exactly_once_per_change() {
    let a = Signal::new(1);
    let (runs, r) = counter();
    let a2 = a.clone();
    let double = Computed::new(move || {
        r.fetch_add(1, Ordering::SeqCst);
        a2.get() * 2
    });
    assert_eq!(count(&runs), 0, "lazy");
    assert_eq!(double.get(), 2);
    assert_eq!(double.get(), 2);
    assert_eq!(double.peek(), 2);
    assert_eq!(count(&runs), 1, "cached");
    a.set(2);
    a.set(3);
    assert_eq!(count(&runs), 1, "not recomputed before a read");
    assert_eq!(double.get(), 6);
    assert_eq!(double.with(|v| *v), 6);
    assert_eq!(count(&runs), 2);
    a.set(3);
    assert_eq!(double.get(), 6);
    assert_eq!(count(&runs), 2);
}

#[test]
fn computed_stops_depending_on_a_source_it_no_longer_reads() {
    let use_a = Signal::new(true);
    let (a, b) = (Signal::new(1), Signal::new(100));
    let (runs, r) = counter();
    let (u, a2, b2) = (use_a.clone(), a.clone(), b.clone());
    let pick = Computed::new(move || {
        r.fetch_add(1, Ordering::SeqCst);
        if u.get() {
            a2.get()
        } else {
            b2.get()
        }
    });
    assert_eq!(pick.get(), 1);
    use_a.set(false);
    assert_eq!(pick.get(), 100);
    assert_eq!(count(&runs), 2);
    a.set(2); // no longer read
    assert_eq!(pick.get(), 100);
    assert_eq!(count(&runs), 2);
    b.set(200);
    assert_eq!(pick.get(), 200);
    assert_eq!(count(&runs), 3);
}

#[test]
fn equal_recomputation_does_not_wake_downstream() {
    let a = Signal::new(1);
    let a2 = a.clone();
    let parity = Computed::new(move || a2.get() % 2);
    let (runs, r) = counter();
    let p = parity.clone();
    let _e = Effect::new(move || {
        p.get();
        r.fetch_add(1, Ordering::SeqCst);
    });
    a.set(3);
    a.set(5);
    assert_eq!(count(&runs), 1);
    a.set(6);
    assert_eq!(count(&runs), 2);
}

#[test]
fn cleanup_runs_before_the_next_run_and_on_stop() {
    let s = Signal::new(0);
    let (events, out) = log();
    let s2 = s.clone();
    let effect = Effect::new(move || {
        let v = s2.get();
        out.lock().unwrap().push(format!("run {v}"));
        let out = out.clone();
        on_cleanup(move || out.lock().unwrap().push(format!("cleanup {v}")));
    });
    s.set(1);
    drop(effect);
    s.set(2);
    assert_eq!(
        *events.lock().unwrap(),
        ["run 0", "cleanup 0", "run 1", "cleanup 1"]
    );
}

#[test]
fn nested_batches_run_effects_once_after_the_outermost() {
    let (a, b) = (Signal::new(0), Signal::new(0));
    let (seen, out) = log();
    let (a2, b2) = (a.clone(), b.clone());
    let _e = Effect::new(move || out.lock().unwrap().push((a2.get(), b2.get())));
    let inner_result = batch(|| {
        a.set(1);
        let r = batch(|| {
            b.set(2);
            a.set(3);
            7
        });
        assert_eq!(
            seen.lock().unwrap().len(),
            1,
            "still batched after the inner batch"
        );
        r
    });
    assert_eq!(inner_result, 7);
    assert_eq!(*seen.lock().unwrap(), [(0, 0), (3, 2)]);
}

#[test]
fn untracked_reads_create_no_dependency() {
    let (a, b) = (Signal::new(1), Signal::new(10));
    let (runs, r) = counter();
    let (a2, b2) = (a.clone(), b.clone());
    let _e = Effect::new(move || {
        a2.get();
        untrack(|| b2.get());
        b2.peek();
        r.fetch_add(1, Ordering::SeqCst);
    });
    b.set(11);
    assert_eq!(count(&runs), 1);
    a.set(2);
    assert_eq!(count(&runs), 2);
}

#[test]
fn detached_effect_keeps_running_without_its_handle() {
    let s = Signal::new(0);
    let (seen, out) = log();
    let s2 = s.clone();
    Effect::new(move || out.lock().unwrap().push(s2.get())).detach();
    s.set(1);
    assert_eq!(*seen.lock().unwrap(), [0, 1]);
}

#[test]
fn every_handle_is_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Signal<String>>();
    send_sync::<Computed<Vec<u8>>>();
    send_sync::<Effect>();
}
