//! The mol benchmark (`kairo/molBench.ts`): a small graph with objects, a conditional read and
//! three effects, two of them doing "hard" work.

use std::hint::black_box;

use super::util::{Counter, Fresh, Iter};
use crate::framework::Framework;
use crate::harness::check_eq;

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

/// Builds the mol graph; each `iter()` runs its two batches.
///
/// Per `iter()` the effects push exactly four values: H and I after each batch (G changes
/// 1604 → 1607 → 1604), never J (F stays at 1599): `3204 + 1607 + 3201 + 1604`.
pub(crate) fn mol<F: Framework>() -> Iter {
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
    let pushes = Counter::shared();
    let pushed = Counter::shared();
    let record = move |pushes: &Counter, pushed: &Counter, value: i64| {
        pushes.bump();
        pushed.add(value);
    };
    let effects = [
        F::effect({
            let (g, pushes, pushed) = (g.clone(), pushes.clone(), pushed.clone());
            move || record(&pushes, &pushed, hard(F::read(&g)))
        }),
        F::effect({
            let (g, pushes, pushed) = (g.clone(), pushes.clone(), pushed.clone());
            move || record(&pushes, &pushed, F::read(&g))
        }),
        F::effect({
            let (f, pushes, pushed) = (f.clone(), pushes.clone(), pushed.clone());
            move || record(&pushes, &pushed, hard(F::read(&f)))
        }),
    ];
    let mut i = 0i64;
    Box::new(move || {
        let _effects = &effects;
        i += 1;
        pushes.reset();
        pushed.reset();
        F::batch(|| {
            F::set(&b, 1);
            F::set(&a, 1 + i * 2);
        });
        F::batch(|| {
            F::set(&a, 2 + i * 2);
            F::set(&b, 2);
        });
        check_eq("effect pushes", pushes.get(), 4)?;
        check_eq(
            "sum of pushed values",
            pushed.get(),
            3204 + 1607 + 3201 + 1604,
        )
    })
}
