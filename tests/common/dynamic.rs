//! The reactively dynamic dependency graphs (`dependencyGraph.ts` and `config.ts`).

use mizu_sync::reactive::{batch, Computed, Effect, Signal};

use super::{Counter, Node};
use mizu_test_support::js_random::PseudoRandom;

/// One configuration of the benchmark, with its expected result.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    pub name: &'static str,
    pub width: usize,
    pub total_layers: usize,
    pub static_fraction: f64,
    pub n_sources: usize,
    pub read_fraction: f64,
    pub iterations: usize,
    pub expected_sum: f64,
    pub expected_count: usize,
}

/// The six configurations of `config.ts`.
pub const CONFIGS: [Config; 6] = [
    Config {
        name: "simple",
        width: 10,
        total_layers: 5,
        static_fraction: 1.0,
        n_sources: 2,
        read_fraction: 0.2,
        iterations: 600_000,
        expected_sum: 19_199_968.0,
        expected_count: 3_480_000,
    },
    Config {
        name: "dynamic",
        width: 10,
        total_layers: 10,
        static_fraction: 3.0 / 4.0,
        n_sources: 6,
        read_fraction: 0.2,
        iterations: 15_000,
        expected_sum: 302_310_782_860.0,
        expected_count: 1_155_000,
    },
    Config {
        name: "large",
        width: 1000,
        total_layers: 12,
        static_fraction: 0.95,
        n_sources: 4,
        read_fraction: 1.0,
        iterations: 7000,
        expected_sum: 29_355_933_696_000.0,
        expected_count: 1_463_000,
    },
    Config {
        name: "wide dense",
        width: 1000,
        total_layers: 5,
        static_fraction: 1.0,
        n_sources: 25,
        read_fraction: 1.0,
        iterations: 3000,
        expected_sum: 1_171_484_375_000.0,
        expected_count: 732_000,
    },
    Config {
        name: "deep",
        width: 5,
        total_layers: 500,
        static_fraction: 1.0,
        n_sources: 3,
        read_fraction: 1.0,
        iterations: 500,
        expected_sum: 3.023_964_267_689_846_4e241,
        expected_count: 1_246_500,
    },
    Config {
        name: "very dynamic",
        width: 100,
        total_layers: 15,
        static_fraction: 0.5,
        n_sources: 6,
        read_fraction: 1.0,
        iterations: 2000,
        expected_sum: 15_664_996_402_790_400.0,
        expected_count: 1_078_000,
    },
];

/// A built graph: the sources, the leaves read, the effect reading them, the run counter.
pub struct Graph {
    pub sources: Vec<Signal<f64>>,
    pub layers: Vec<Vec<Computed<f64>>>,
    pub read_leaves: Vec<Computed<f64>>,
    pub effect: Effect,
    pub counter: Counter,
}

/// `makeGraph`: numbers are `f64` as in JavaScript (the "deep" sum is about 3e241).
pub fn make_graph(config: &Config) -> Graph {
    let sources: Vec<Signal<f64>> = (0..config.width).map(|i| Signal::new(i as f64)).collect();
    let counter = Counter::default();
    let mut generator = PseudoRandom::new("seed");
    let mut random = move || generator.next_f64();
    let mut prev: Vec<Node<f64>> = sources.iter().cloned().map(Node::Signal).collect();
    let mut layers = Vec::with_capacity(config.total_layers - 1);
    for _ in 0..config.total_layers - 1 {
        let row: Vec<Computed<f64>> = (0..prev.len())
            .map(|my_dex| {
                let my_sources: Vec<Node<f64>> = (0..config.n_sources)
                    .map(|k| prev[(my_dex + k) % prev.len()].clone())
                    .collect();
                let counter = counter.clone();
                if random() < config.static_fraction {
                    Computed::new(move || {
                        counter.hit();
                        let mut sum = 0.0;
                        for source in &my_sources {
                            sum += source.read();
                        }
                        sum
                    })
                } else {
                    Computed::new(move || {
                        counter.hit();
                        let (first, tail) = (&my_sources[0], &my_sources[1..]);
                        let mut sum = first.read();
                        // JavaScript's `sum & 0x1` and `sum % tail.length` on a float.
                        let should_drop = sum % 2.0 == 1.0;
                        let drop_dex = sum % tail.len() as f64;
                        for (i, source) in tail.iter().enumerate() {
                            if should_drop && i as f64 == drop_dex {
                                continue;
                            }
                            sum += source.read();
                        }
                        sum
                    })
                }
            })
            .collect();
        prev = row.iter().cloned().map(Node::Computed).collect();
        layers.push(row);
    }
    let mut generator = PseudoRandom::new("seed");
    let mut rand = move || generator.next_f64();
    let leaves = layers.last().cloned().unwrap_or_default();
    let skip = (leaves.len() as f64 * (1.0 - config.read_fraction)).round() as usize;
    let mut read_leaves = leaves;
    for _ in 0..skip {
        let at = (rand() * read_leaves.len() as f64).floor() as usize;
        read_leaves.remove(at);
    }
    let leaves = read_leaves.clone();
    let effect = Effect::new(move || {
        for leaf in &leaves {
            leaf.get();
        }
    });
    Graph {
        sources,
        layers,
        read_leaves,
        effect,
        counter,
    }
}

/// `runGraph`: returns the sum of the leaves.
pub fn run_graph(graph: &Graph, iterations: usize) -> f64 {
    let width = graph.sources.len();
    for i in 0..iterations {
        let source_dex = i % width;
        batch(|| graph.sources[source_dex].set((i + source_dex) as f64));
        for leaf in &graph.read_leaves {
            leaf.get();
        }
    }
    graph
        .read_leaves
        .iter()
        .fold(0.0, |total, leaf| leaf.get() + total)
}

/// Builds the graph, runs it once to warm up (as the benchmark does), then once counted.
/// Returns the sum and the number of computed runs of the counted run.
pub fn sum_and_count(config: &Config) -> (f64, usize) {
    let graph = make_graph(config);
    run_graph(&graph, config.iterations);
    graph.counter.reset();
    let sum = run_graph(&graph, config.iterations);
    (sum, graph.counter.get())
}
