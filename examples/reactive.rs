//! A short tour of the reactive graph: signals, a computed, an effect, a batch, and a write
//! from another thread. Run with `cargo run --example reactive`.

use mizu_sync::reactive::{batch, on_cleanup, Computed, Effect, Signal};

fn main() {
    let count = Signal::new(5);
    let price = Signal::new(10.0);

    let (c, p) = (count.clone(), price.clone());
    let total = Computed::new(move || {
        println!("  (computing total)");
        f64::from(c.get()) * p.get()
    });
    println!("created a computed: nothing computed yet (lazy)");

    let t = total.clone();
    let effect = Effect::new(move || {
        let value = t.get();
        println!("effect: total = {value}");
        on_cleanup(move || println!("  (cleanup of the run that saw {value})"));
    });

    println!("set count = 10");
    count.set(10);

    println!("set count = 10 again (equal: nobody is notified)");
    count.set(10);

    println!("batch: count = 2, price = 2.5 (one run after the batch)");
    batch(|| {
        count.set(2);
        price.set(2.5);
    });

    println!("set price from another thread (the effect runs on that thread)");
    let p = price.clone();
    std::thread::spawn(move || p.set(4.0))
        .join()
        .expect("the writer thread finished");

    println!("drop the effect (stops it, runs its last cleanup)");
    drop(effect);
    count.set(3);
    println!("after the drop, total is still readable: {}", total.get());
}
