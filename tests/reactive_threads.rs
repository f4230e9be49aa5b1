//! The graph under threads: shared signals hammered from 8 threads, effects that never run
//! concurrently with themselves, no lost wake-ups, nodes made on one thread used on another.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use mizu_sync::reactive::{batch, Computed, Effect, Signal};

/// Joins `handles`, failing the test (instead of hanging) if they do not finish in `limit`.
fn join_within(limit: Duration, handles: Vec<thread::JoinHandle<()>>) {
    let (done_tx, done_rx) = mpsc::channel();
    let count = handles.len();
    for handle in handles {
        let done_tx = done_tx.clone();
        thread::spawn(move || {
            let result = handle.join();
            let _ = done_tx.send(result.is_ok());
        });
    }
    let deadline = Instant::now() + limit;
    for _ in 0..count {
        let left = deadline.saturating_duration_since(Instant::now());
        match done_rx.recv_timeout(left) {
            Ok(true) => {}
            Ok(false) => panic!("a worker thread panicked"),
            Err(_) => panic!("deadlock: a worker did not finish within {limit:?}"),
        }
    }
}

fn last<T: Clone>(slot: &Mutex<Option<T>>) -> T {
    slot.lock().unwrap().clone().expect("the effect ran")
}

#[test]
fn eight_threads_sharing_signals_lose_no_update_and_effects_end_on_the_final_values() {
    let a = Signal::new(0i64);
    let b = Signal::new(0i64);
    let counter = Signal::new(0u64);
    let (a1, b1) = (a.clone(), b.clone());
    let sum = Computed::new(move || a1.get() + b1.get());
    let s1 = sum.clone();
    let doubled = Computed::new(move || s1.get() * 2);

    let seen_sum = Arc::new(Mutex::new(None));
    let seen_both = Arc::new(Mutex::new(None));
    let seen_counter = Arc::new(Mutex::new(None));
    let (d, out) = (doubled.clone(), seen_sum.clone());
    let _e1 = Effect::new(move || *out.lock().unwrap() = Some(d.get()));
    let (a1, b1, out) = (a.clone(), b.clone(), seen_both.clone());
    let _e2 = Effect::new(move || *out.lock().unwrap() = Some((a1.get(), b1.get())));
    let (c1, out) = (counter.clone(), seen_counter.clone());
    let _e3 = Effect::new(move || *out.lock().unwrap() = Some(c1.get()));

    let modifies = Arc::new(AtomicU64::new(0));
    let stop_at = Instant::now() + Duration::from_millis(2500);
    let workers: Vec<_> = (0..8i64)
        .map(|t| {
            let (a, b, counter, sum) = (a.clone(), b.clone(), counter.clone(), sum.clone());
            let modifies = modifies.clone();
            thread::spawn(move || {
                let mut i = 0i64;
                while Instant::now() < stop_at {
                    i += 1;
                    let value = i * 8 + t;
                    match i % 6 {
                        0 => a.set(value),
                        1 => b.set(-value),
                        2 => {
                            counter.modify(|c| *c += 1);
                            modifies.fetch_add(1, Ordering::Relaxed);
                        }
                        3 => batch(|| {
                            a.set(value);
                            b.set(value);
                            counter.modify(|c| *c += 1);
                            modifies.fetch_add(1, Ordering::Relaxed);
                        }),
                        4 => {
                            let a2 = a.clone();
                            let short = Effect::new(move || {
                                a2.get();
                            });
                            let _ = sum.get();
                            drop(short);
                        }
                        _ => {
                            let _ = sum.get() + b.peek();
                        }
                    }
                }
            })
        })
        .collect();
    join_within(Duration::from_secs(60), workers);

    let (fa, fb) = (a.peek(), b.peek());
    assert_eq!(counter.peek(), modifies.load(Ordering::Relaxed));
    assert_eq!(sum.get(), fa + fb);
    assert_eq!(last(&seen_sum), 2 * (fa + fb));
    assert_eq!(last(&seen_both), (fa, fb));
    assert_eq!(last(&seen_counter), counter.peek());
}

#[test]
fn an_effect_triggered_from_many_threads_never_runs_concurrently_with_itself() {
    let source = Signal::new(0u64);
    let inside = Arc::new(AtomicBool::new(false));
    let overlaps = Arc::new(AtomicUsize::new(0));
    let last_seen = Arc::new(AtomicU64::new(u64::MAX));
    let (s, ins, over, seen) = (
        source.clone(),
        inside.clone(),
        overlaps.clone(),
        last_seen.clone(),
    );
    let _effect = Effect::new(move || {
        if ins.swap(true, Ordering::SeqCst) {
            over.fetch_add(1, Ordering::SeqCst);
        }
        let v = s.get();
        for _ in 0..50 {
            std::hint::spin_loop();
        }
        seen.store(v, Ordering::SeqCst);
        ins.store(false, Ordering::SeqCst);
    });
    let workers: Vec<_> = (0..4u64)
        .map(|t| {
            let source = source.clone();
            thread::spawn(move || {
                for i in 0..5000 {
                    source.set(i * 4 + t + 1);
                }
            })
        })
        .collect();
    join_within(Duration::from_secs(60), workers);
    assert_eq!(overlaps.load(Ordering::SeqCst), 0);
    assert_eq!(last_seen.load(Ordering::SeqCst), source.peek());
}

#[test]
fn a_change_during_an_effect_run_on_another_thread_makes_it_run_again() {
    let source = Signal::new(0);
    let (entered_tx, entered_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (s, out) = (source.clone(), seen.clone());
    let _effect = Effect::new(move || {
        let v = s.get();
        out.lock().unwrap().push((v, thread::current().id()));
        if v == 1 {
            entered_tx.send(()).unwrap();
            go_rx.recv().unwrap();
        }
    });
    let s1 = source.clone();
    let writer = thread::spawn(move || {
        s1.set(1);
        thread::current().id()
    });
    entered_rx.recv_timeout(Duration::from_secs(30)).unwrap();
    source.set(2); // the effect is running on `writer`: this returns at once
    go_tx.send(()).unwrap();
    let writer_id = writer.join().unwrap();
    let seen = seen.lock().unwrap().clone();
    let values: Vec<i32> = seen.iter().map(|(v, _)| *v).collect();
    assert_eq!(values, [0, 1, 2]);
    assert_eq!(seen[1].1, writer_id, "run on the writing thread");
    assert_eq!(
        seen[2].1, writer_id,
        "re-run by the thread that was running it"
    );
}

#[test]
fn a_change_during_a_computed_run_is_seen_by_the_next_read() {
    let source = Signal::new(0);
    let (entered_tx, entered_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let go_rx = Mutex::new(go_rx);
    let entered_tx = Mutex::new(entered_tx);
    let s = source.clone();
    let computed = Computed::new(move || {
        let v = s.get();
        if v == 1 {
            entered_tx.lock().unwrap().send(()).unwrap();
            go_rx.lock().unwrap().recv().unwrap();
        }
        v * 10
    });
    assert_eq!(computed.get(), 0);
    source.set(1);
    let c = computed.clone();
    let reader = thread::spawn(move || c.get());
    entered_rx.recv_timeout(Duration::from_secs(30)).unwrap();
    source.set(2);
    go_tx.send(()).unwrap();
    assert_eq!(reader.join().unwrap(), 10, "the run that was under way");
    assert_eq!(
        computed.get(),
        20,
        "the write made during that run is not lost"
    );
}

/// A computed `source * 10` whose first run, having read `source`, lets another thread set
/// it to 2 before returning: that write reaches the computed but nothing downstream yet, as
/// nothing has read the computed so far.
fn computed_raced_by_a_write_in_its_first_run(source: &Signal<i32>) -> Computed<i32> {
    let s = source.clone();
    let writer = source.clone();
    let raced = AtomicBool::new(false);
    Computed::new(move || {
        let v = s.get();
        if !raced.swap(true, Ordering::SeqCst) {
            let w = writer.clone();
            thread::spawn(move || w.set(2)).join().unwrap();
        }
        v * 10
    })
}

#[test]
fn an_effect_that_first_reads_a_computed_as_a_write_races_it_runs_again() {
    let source = Signal::new(1);
    let computed = computed_raced_by_a_write_in_its_first_run(&source);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (c, out) = (computed.clone(), seen.clone());
    let _effect = Effect::new(move || out.lock().unwrap().push(c.get()));
    assert_eq!(
        *seen.lock().unwrap(),
        [10, 20],
        "its last run sees the write made while the computed ran"
    );
}

#[test]
fn a_computed_that_first_reads_a_computed_as_a_write_races_it_is_not_left_stale() {
    let source = Signal::new(1);
    let inner = computed_raced_by_a_write_in_its_first_run(&source);
    let i = inner.clone();
    let outer = Computed::new(move || i.get() + 1);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (o, out) = (outer.clone(), seen.clone());
    let _effect = Effect::new(move || out.lock().unwrap().push(o.get()));
    assert_eq!(outer.get(), 21, "the next read sees the write");
    assert_eq!(
        seen.lock().unwrap().last(),
        Some(&21),
        "and so does the effect"
    );
}

#[test]
fn nodes_made_on_one_thread_are_triggered_from_another() {
    let source = Signal::new(1);
    let s = source.clone();
    let doubled = Computed::new(move || s.get() * 2);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (d, out) = (doubled.clone(), seen.clone());
    let effect = Effect::new(move || out.lock().unwrap().push((d.get(), thread::current().id())));
    let s = source.clone();
    let writer = thread::spawn(move || {
        s.set(5);
        thread::current().id()
    })
    .join()
    .unwrap();
    let d = doubled.clone();
    assert_eq!(thread::spawn(move || d.get()).join().unwrap(), 10);
    let runs = seen.lock().unwrap().clone();
    assert_eq!(runs.len(), 2);
    assert_eq!(
        runs[1],
        (10, writer),
        "the effect ran on the writer's thread"
    );
    thread::spawn(move || drop(effect)).join().unwrap();
    source.set(6);
    assert_eq!(
        seen.lock().unwrap().len(),
        2,
        "stopped by a drop on another thread"
    );
}

#[test]
fn a_dependency_cycle_across_two_threads_panics_instead_of_deadlocking() {
    use std::sync::Barrier;
    type Slot = Arc<Mutex<Option<Computed<i32>>>>;
    let (x_slot, y_slot): (Slot, Slot) = Default::default();
    let barrier = Arc::new(Barrier::new(2));
    let first_pass = Arc::new(AtomicUsize::new(0));
    let make = |other: Slot| {
        let (barrier, first_pass) = (barrier.clone(), first_pass.clone());
        Computed::new(move || {
            // Both threads start their computed before either reads the other.
            if first_pass.fetch_add(1, Ordering::SeqCst) < 2 {
                barrier.wait();
            }
            let other = other.lock().unwrap().clone();
            other.map_or(0, |c| c.get() + 1)
        })
    };
    let x = make(y_slot.clone());
    let y = make(x_slot.clone());
    *x_slot.lock().unwrap() = Some(x.clone());
    *y_slot.lock().unwrap() = Some(y.clone());
    let (results_tx, results_rx) = mpsc::channel();
    let workers: Vec<_> = [x, y]
        .into_iter()
        .map(|c| {
            let results_tx = results_tx.clone();
            thread::spawn(move || {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| c.get()));
                results_tx.send(result.is_err()).unwrap();
            })
        })
        .collect();
    join_within(Duration::from_secs(30), workers);
    let panicked: Vec<bool> = results_rx.try_iter().collect();
    assert_eq!(panicked, [true, true], "both reads report the cycle");
    x_slot.lock().unwrap().take();
    y_slot.lock().unwrap().take();
}

#[test]
fn concurrent_updates_on_one_signal_count_every_increment() {
    let hits = Signal::new(0u64);
    let effect_saw = Arc::new(AtomicU64::new(0));
    let (h, saw) = (hits.clone(), effect_saw.clone());
    let _effect = Effect::new(move || saw.store(h.get(), Ordering::SeqCst));
    let handles = (0..8)
        .map(|_| {
            let hits = hits.clone();
            thread::spawn(move || {
                for _ in 0..2_000 {
                    hits.update(|n| n + 1);
                }
            })
        })
        .collect();
    join_within(Duration::from_secs(60), handles);
    assert_eq!(hits.get(), 16_000);
    assert_eq!(effect_saw.load(Ordering::SeqCst), 16_000);
}
