//! The mol benchmark (`kairo/molBench.ts`): a small graph with objects, a conditional read and
//! three effects, two of them doing "hard" work.

use std::hint::black_box;
use std::sync::Arc;

use crate::framework::Framework;
use crate::kairo::Case;
use crate::shape::check_eq;
use crate::util::{Counter, Fresh, Log};

fn fib(n: u32) -> i64 {
    if n < 2 {
        1
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

fn hard(n: i64) -> i64 {
    n + fib(black_box(16))
}

/// Builds the mol graph; each `iter()` runs its two batches. The effects are counted as H, I
/// and J, and push to the case's log.
///
/// When built, the effects push `[3201, 1604, 3196]` (G = 1604, F = 1599). Per `iter()` they
/// push exactly four values: H and I after each batch (G changes 1604 → 1607 → 1604), never J
/// (F stays at 1599): `3204, 1607, 3201, 1604`.
pub(crate) fn mol<F: Framework>() -> Case {
    let a = F::signal(0i64);
    let b = F::signal(0i64);
    let c = F::computed({
        let (a, b) = (a.clone(), b.clone());
        move || F::get(&a) % 2 + F::get(&b) % 2
    });
    let d = F::computed({
        let (a, b) = (a.clone(), b.clone());
        move || Fresh::new([0i64, 1, 2, 3, 4].map(|i| i + F::get(&a) % 2 - F::get(&b) % 2))
    });
    let e = F::computed({
        let (a, c, d) = (a.clone(), c.clone(), d.clone());
        move || hard(F::read(&c) + F::get(&a) + F::read(&d).0[0])
    });
    let f = F::computed({
        let (b, d) = (b.clone(), d.clone());
        move || {
            let x = F::read(&d).0[2];
            hard(if x != 0 { x } else { F::get(&b) })
        }
    });
    let g = F::computed({
        let (c, d, e, f) = (c.clone(), d.clone(), e.clone(), f.clone());
        move || {
            let c = F::read(&c);
            c + (if c != 0 { c } else { F::read(&e) % 2 }) + F::read(&d).0[4] + F::read(&f)
        }
    });
    let log = Log::shared();
    let (h_runs, i_runs, j_runs) = (Counter::shared(), Counter::shared(), Counter::shared());
    let record = |runs: &Arc<Counter>, value: i64, log: &Log| {
        runs.bump();
        log.push(value);
    };
    let effects = [
        F::effect({
            let (g, runs, log) = (g.clone(), h_runs.clone(), log.clone());
            move || record(&runs, hard(F::read(&g)), &log)
        }),
        F::effect({
            let (g, runs, log) = (g.clone(), i_runs.clone(), log.clone());
            move || record(&runs, F::read(&g), &log)
        }),
        F::effect({
            let (f, runs, log) = (f.clone(), j_runs.clone(), log.clone());
            move || record(&runs, hard(F::read(&f)), &log)
        }),
    ];
    let mut i = 0i64;
    let step = Box::new({
        let log = log.clone();
        move || {
            let _effects = &effects;
            i += 1;
            log.clear();
            F::batch(|| {
                F::set(&b, 1);
                F::set(&a, 1 + i * 2);
            });
            F::batch(|| {
                F::set(&a, 2 + i * 2);
                F::set(&b, 2);
            });
            let mut pushed = log.values();
            pushed.sort_unstable();
            check_eq(
                "values pushed by the effects",
                pushed,
                vec![1604, 1607, 3201, 3204],
            )
        }
    });
    Case::with_log(step, vec![("H", h_runs), ("I", i_runs), ("J", j_runs)], log)
}
