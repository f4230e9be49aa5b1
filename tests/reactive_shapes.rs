//! The kairo cases and CellX of js-reactivity-benchmark, with their exact run counts, on the
//! shapes the benchmarks time (`mizu-reactivity-shapes`), built on mizu-sync's adapter.

use mizu_reactivity_shapes::kairo::{Case, KairoCase};
use mizu_reactivity_shapes::{cellx, Ours};

/// Builds `case` on mizu-sync.
fn build(case: KairoCase) -> Case {
    case.build::<Ours>()
}

/// Runs `iter` three times (as the benchmark's warm-up does), each time with its counters reset
/// first and its own checks passing, checking `expect` after each.
fn run_thrice(case: &mut Case, expect: impl Fn(&Case)) {
    for _ in 0..3 {
        case.reset();
        case.iter().unwrap_or_else(|mismatch| panic!("{mismatch}"));
        expect(case);
    }
}

#[test]
fn avoidable_propagation_reruns_nothing_past_the_cut_off() {
    let mut case = build(KairoCase::AvoidablePropagation);
    for name in ["c1", "c2", "c3", "c4", "c5", "effect"] {
        assert_eq!(case.counter(name), 1, "{name} runs once when built");
    }
    run_thrice(&mut case, |case| {
        assert_eq!(case.counter("c1"), 1001);
        assert_eq!(case.counter("c2"), 1001);
        for name in ["c3", "c4", "c5", "effect"] {
            assert_eq!(case.counter(name), 0, "{name} is past the cut-off");
        }
    });
}

#[test]
fn broad_propagation_runs_each_effect_once_per_write() {
    let mut case = build(KairoCase::BroadPropagation);
    assert_eq!(case.counter("effect"), 50);
    // The exact 50 x 50 count is also checked inside the iteration, after its first write.
    run_thrice(&mut case, |case| assert_eq!(case.counter("effect"), 2500));
}

#[test]
fn deep_propagation_runs_the_tail_effect_once_per_write() {
    let mut case = build(KairoCase::DeepPropagation);
    run_thrice(&mut case, |case| assert_eq!(case.counter("effect"), 50));
}

#[test]
fn diamond_runs_its_effect_once_per_write() {
    let mut case = build(KairoCase::Diamond);
    run_thrice(&mut case, |case| assert_eq!(case.counter("effect"), 500));
}

#[test]
fn mux_wakes_only_the_effect_of_the_written_head() {
    let mut case = build(KairoCase::Mux);
    assert_eq!(case.counter("mux"), 1);
    assert_eq!(case.counter("effect"), 100);
    // Writing heads[0] = 0 (twice) changes nothing; the 18 other writes change one head each.
    run_thrice(&mut case, |case| {
        assert_eq!(case.counter("mux"), 18);
        assert_eq!(case.counter("effect"), 18);
    });
}

#[test]
fn repeated_observers_run_once_per_write() {
    let mut case = build(KairoCase::RepeatedObservers);
    run_thrice(&mut case, |case| assert_eq!(case.counter("effect"), 100));
}

#[test]
fn triangle_runs_its_effect_once_per_write() {
    let mut case = build(KairoCase::Triangle);
    run_thrice(&mut case, |case| assert_eq!(case.counter("effect"), 100));
}

#[test]
fn unstable_dependencies_run_the_effect_once_per_write() {
    let mut case = build(KairoCase::Unstable);
    run_thrice(&mut case, |case| assert_eq!(case.counter("effect"), 100));
}

#[test]
fn mol_bench_effects_see_each_batch_whole() {
    let mut case = build(KairoCase::MolBench);
    assert_eq!(case.pushed(), [3201, 1604, 3196]);
    run_thrice(&mut case, |case| {
        // Batch 1 (B = 1, A odd): G = 1607; batch 2 (A even, B = 2): G = 1604. F never changes.
        let mut seen = case.pushed();
        seen.sort_unstable();
        assert_eq!(seen, [1604, 1607, 3201, 3204]);
        assert_eq!(case.counter("H"), 2);
        assert_eq!(case.counter("I"), 2);
        assert_eq!(case.counter("J"), 0);
    });
}

#[test]
fn cellx_with_1000_layers_gives_the_expected_ends() {
    assert_eq!(
        cellx::last_layer::<Ours>(1000),
        ([-3, -6, -2, 2], [-2, -4, 2, 3])
    );
}

#[test]
fn cellx_with_2500_layers_gives_the_expected_ends() {
    assert_eq!(
        cellx::last_layer::<Ours>(2500),
        ([-3, -6, -2, 2], [-2, -4, 2, 3])
    );
}
