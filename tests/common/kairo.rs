//! The kairo cases. Each builder returns the shape and its `iter`, which panics (via
//! `assert_eq!`) where the original `console.assert`s.

use mizu_sync::reactive::{batch, Computed, Effect, Signal};

use super::{Counter, Node};

/// `busy()`: a loop of 100 increments the optimizer must keep.
pub fn busy() {
    let mut a = 0u32;
    for _ in 0..100 {
        a = std::hint::black_box(a + 1);
    }
}

/// A built case: its `iter`, the handles it needs alive, and its run counters by name.
pub struct Case {
    pub iter: Box<dyn FnMut()>,
    pub effects: Vec<Effect>,
    pub counters: Vec<(&'static str, Counter)>,
}

impl Case {
    pub fn counter(&self, name: &str) -> usize {
        self.counters
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, c)| c.get())
            .unwrap_or_else(|| panic!("no counter {name}"))
    }
    pub fn reset(&self) {
        for (_, c) in &self.counters {
            c.reset();
        }
    }
}

fn counted<T: PartialEq + Send + Sync + 'static>(
    counter: &Counter,
    f: impl Fn() -> T + Send + Sync + 'static,
) -> Computed<T> {
    let counter = counter.clone();
    Computed::new(move || {
        counter.hit();
        f()
    })
}

fn effect(counter: &Counter, f: impl Fn() + Send + 'static) -> Effect {
    let counter = counter.clone();
    Effect::new(move || {
        f();
        counter.hit();
    })
}

pub fn avoidable_propagation() -> Case {
    let counters: Vec<(&str, Counter)> = ["c1", "c2", "c3", "c4", "c5", "effect"]
        .into_iter()
        .map(|n| (n, Counter::default()))
        .collect();
    let c = |i: usize| counters[i].1.clone();
    let head = Signal::new(0i64);
    let h = head.clone();
    let c1 = counted(&c(0), move || h.get());
    let c1b = c1.clone();
    let c2 = counted(&c(1), move || {
        c1b.get();
        0i64
    });
    let c3 = counted(&c(2), move || {
        busy();
        c2.get() + 1
    });
    let c4 = counted(&c(3), move || c3.get() + 2);
    let c5 = counted(&c(4), move || c4.get() + 3);
    let c5b = c5.clone();
    let effects = vec![effect(&c(5), move || {
        c5b.get();
        busy();
    })];
    let iter = Box::new(move || {
        batch(|| head.set(1));
        assert_eq!(c5.get(), 6);
        for i in 0..1000 {
            batch(|| head.set(i));
            assert_eq!(c5.get(), 6);
        }
    });
    Case {
        iter,
        effects,
        counters,
    }
}

pub fn broad_propagation() -> Case {
    let calls = Counter::default();
    let head = Signal::new(0i64);
    let mut last = Node::Signal(head.clone());
    let mut effects = Vec::new();
    for i in 0..50 {
        let h = head.clone();
        let current = Computed::new(move || h.get() + i);
        let current2 = Computed::new(move || current.get() + 1);
        let c2 = current2.clone();
        effects.push(effect(&calls, move || {
            c2.get();
        }));
        last = Node::Computed(current2);
    }
    let c = calls.clone();
    let iter = Box::new(move || {
        batch(|| head.set(1));
        c.reset();
        for i in 0..50 {
            batch(|| head.set(i));
            assert_eq!(last.read(), i + 50);
        }
        assert_eq!(c.get(), 50 * 50);
    });
    Case {
        iter,
        effects,
        counters: vec![("effect", calls)],
    }
}

pub fn deep_propagation() -> Case {
    let calls = Counter::default();
    let head = Signal::new(0i64);
    let mut current = Node::Signal(head.clone());
    for _ in 0..50 {
        let c = current.clone();
        current = Node::Computed(Computed::new(move || c.read() + 1));
    }
    let tail = current.clone();
    let effects = vec![effect(&calls, move || {
        tail.read();
    })];
    let c = calls.clone();
    let iter = Box::new(move || {
        batch(|| head.set(1));
        c.reset();
        for i in 0..50 {
            batch(|| head.set(i));
            assert_eq!(current.read(), 50 + i);
        }
        assert_eq!(c.get(), 50);
    });
    Case {
        iter,
        effects,
        counters: vec![("effect", calls)],
    }
}

pub fn diamond() -> Case {
    let calls = Counter::default();
    let head = Signal::new(0i64);
    let branches: Vec<Computed<i64>> = (0..5)
        .map(|_| {
            let h = head.clone();
            Computed::new(move || h.get() + 1)
        })
        .collect();
    let sum = Computed::new(move || branches.iter().map(Computed::get).sum::<i64>());
    let s = sum.clone();
    let effects = vec![effect(&calls, move || {
        s.get();
    })];
    let c = calls.clone();
    let iter = Box::new(move || {
        batch(|| head.set(1));
        assert_eq!(sum.get(), 2 * 5);
        c.reset();
        for i in 0..500 {
            batch(|| head.set(i));
            assert_eq!(sum.get(), (i + 1) * 5);
        }
        assert_eq!(c.get(), 500);
    });
    Case {
        iter,
        effects,
        counters: vec![("effect", calls)],
    }
}

pub fn mux() -> Case {
    let (mux_runs, effect_runs) = (Counter::default(), Counter::default());
    let heads: Vec<Signal<i64>> = (0..100).map(|_| Signal::new(0)).collect();
    let hs = heads.clone();
    let mux = counted(&mux_runs, move || {
        hs.iter().map(Signal::get).collect::<Vec<i64>>()
    });
    let splited: Vec<Computed<i64>> = (0..100)
        .map(|index| {
            let m = mux.clone();
            Computed::new(move || m.with(|v| v[index]))
        })
        .map(|x| Computed::new(move || x.get() + 1))
        .collect();
    let effects = splited
        .iter()
        .map(|x| {
            let x = x.clone();
            effect(&effect_runs, move || {
                x.get();
            })
        })
        .collect();
    let iter = Box::new(move || {
        for i in 0..10 {
            batch(|| heads[i].set(i as i64));
            assert_eq!(splited[i].get(), i as i64 + 1);
        }
        for i in 0..10 {
            batch(|| heads[i].set(i as i64 * 2));
            assert_eq!(splited[i].get(), i as i64 * 2 + 1);
        }
    });
    Case {
        iter,
        effects,
        counters: vec![("mux", mux_runs), ("effect", effect_runs)],
    }
}

pub fn repeated_observers() -> Case {
    let calls = Counter::default();
    let head = Signal::new(0i64);
    let h = head.clone();
    let current = Computed::new(move || (0..30).map(|_| h.get()).sum::<i64>());
    let c = current.clone();
    let effects = vec![effect(&calls, move || {
        c.get();
    })];
    let c = calls.clone();
    let iter = Box::new(move || {
        batch(|| head.set(1));
        assert_eq!(current.get(), 30);
        c.reset();
        for i in 0..100 {
            batch(|| head.set(i));
            assert_eq!(current.get(), i * 30);
        }
        assert_eq!(c.get(), 100);
    });
    Case {
        iter,
        effects,
        counters: vec![("effect", calls)],
    }
}

pub fn triangle() -> Case {
    let calls = Counter::default();
    let head = Signal::new(0i64);
    let mut current = Node::Signal(head.clone());
    let mut list = Vec::new();
    for _ in 0..10 {
        let c = current.clone();
        list.push(current.clone());
        current = Node::Computed(Computed::new(move || c.read() + 1));
    }
    let sum = Computed::new(move || list.iter().map(Node::read).sum::<i64>());
    let s = sum.clone();
    let effects = vec![effect(&calls, move || {
        s.get();
    })];
    let c = calls.clone();
    let iter = Box::new(move || {
        let constant: i64 = (1..=10).sum();
        batch(|| head.set(1));
        assert_eq!(sum.get(), constant);
        c.reset();
        for i in 0..100 {
            batch(|| head.set(i));
            assert_eq!(sum.get(), constant - 10 + i * 10);
        }
        assert_eq!(c.get(), 100);
    });
    Case {
        iter,
        effects,
        counters: vec![("effect", calls)],
    }
}

pub fn unstable() -> Case {
    let calls = Counter::default();
    let head = Signal::new(0i64);
    let h = head.clone();
    let double = Computed::new(move || h.get() * 2);
    let h = head.clone();
    let inverse = Computed::new(move || -h.get());
    let h = head.clone();
    let current = Computed::new(move || {
        let mut result = 0;
        for _ in 0..20 {
            result += if h.get() % 2 == 1 {
                double.get()
            } else {
                inverse.get()
            };
        }
        result
    });
    let c = current.clone();
    let effects = vec![effect(&calls, move || {
        c.get();
    })];
    let c = calls.clone();
    let iter = Box::new(move || {
        batch(|| head.set(1));
        assert_eq!(current.get(), 40);
        c.reset();
        for i in 0..100 {
            batch(|| head.set(i));
            let expected = if i % 2 == 1 { i * 2 * 20 } else { -i * 20 };
            assert_eq!(current.get(), expected);
        }
        assert_eq!(c.get(), 100);
    });
    Case {
        iter,
        effects,
        counters: vec![("effect", calls)],
    }
}

/// `fib` of molBench (`fib(0) = fib(1) = 1`).
pub fn fib(n: i64) -> i64 {
    if n < 2 {
        1
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

fn hard(n: i64) -> i64 {
    n + fib(16)
}

/// molBench: returns the case and the log its three effects push to.
pub fn mol_bench() -> (Case, std::sync::Arc<std::sync::Mutex<Vec<i64>>>) {
    use std::sync::{Arc, Mutex};
    let res = Arc::new(Mutex::new(Vec::new()));
    let counters: Vec<(&str, Counter)> = ["H", "I", "J"]
        .into_iter()
        .map(|n| (n, Counter::default()))
        .collect();
    let a = Signal::new(0i64);
    let b = Signal::new(0i64);
    let (a1, b1) = (a.clone(), b.clone());
    let c = Computed::new(move || a1.get() % 2 + b1.get() % 2);
    let (a1, b1) = (a.clone(), b.clone());
    let d = Computed::new(move || {
        (0..5)
            .map(|i| i + a1.get() % 2 - b1.get() % 2)
            .collect::<Vec<i64>>()
    });
    let (c1, a1, d1) = (c.clone(), a.clone(), d.clone());
    let e = Computed::new(move || hard(c1.get() + a1.get() + d1.with(|d| d[0])));
    let (d1, b1) = (d.clone(), b.clone());
    let f = Computed::new(move || {
        let x = d1.with(|d| d[2]);
        hard(if x != 0 { x } else { b1.get() })
    });
    let (c1, e1, d1, f1) = (c.clone(), e.clone(), d.clone(), f.clone());
    let g = Computed::new(move || {
        let c = c1.get();
        let c_or_e = if c != 0 { c } else { e1.get() % 2 };
        c + c_or_e + d1.with(|d| d[4]) + f1.get()
    });
    let mut effects = Vec::new();
    let (g1, r, n) = (g.clone(), res.clone(), counters[0].1.clone());
    effects.push(Effect::new(move || {
        n.hit();
        r.lock().unwrap().push(hard(g1.get()));
    }));
    let (g1, r, n) = (g.clone(), res.clone(), counters[1].1.clone());
    effects.push(Effect::new(move || {
        n.hit();
        r.lock().unwrap().push(g1.get());
    }));
    let (f1, r, n) = (f.clone(), res.clone(), counters[2].1.clone());
    effects.push(Effect::new(move || {
        n.hit();
        r.lock().unwrap().push(hard(f1.get()));
    }));
    let mut i = 0;
    let r = res.clone();
    let iter = Box::new(move || {
        i += 1;
        r.lock().unwrap().clear();
        batch(|| {
            b.set(1);
            a.set(1 + i * 2);
        });
        batch(|| {
            a.set(2 + i * 2);
            b.set(2);
        });
    });
    (
        Case {
            iter,
            effects,
            counters,
        },
        res,
    )
}
