//! The six reactively dynamic-graph configurations: exact sum and computed run count, on the
//! shapes the benchmarks time (`mizu-reactivity-shapes`), built on mizu-sync's adapter.

use std::time::Instant;

use mizu_reactivity_shapes::dynamic::sum_and_count;
use mizu_reactivity_shapes::{Ours, CONFIGS};

fn check(index: usize) {
    let config = &CONFIGS[index];
    let started = Instant::now();
    let (sum, count) = sum_and_count::<Ours>(config);
    eprintln!("{}: {:?}", config.name, started.elapsed());
    assert_eq!(sum, config.expected_sum, "sum of {}", config.name);
    assert_eq!(count, config.expected_count, "count of {}", config.name);
}

#[test]
fn simple_graph_matches_the_expected_sum_and_count() {
    check(0);
}

#[test]
fn dynamic_graph_matches_the_expected_sum_and_count() {
    check(1);
}

#[test]
fn large_graph_matches_the_expected_sum_and_count() {
    check(2);
}

#[test]
fn wide_dense_graph_matches_the_expected_sum_and_count() {
    check(3);
}

#[test]
fn deep_graph_matches_the_expected_sum_and_count() {
    check(4);
}

#[test]
fn very_dynamic_graph_matches_the_expected_sum_and_count() {
    check(5);
}
