//! The reactively dynamic-graph benchmark (`reactively/dependencyGraph.ts`, `dynamicBench.ts`,
//! `config.ts`): a rectangular graph of sums, part of it with data-dependent dependencies.
//!
//! Values are `f64`, as in JS: the `deep` configuration's sum (3.02e241) only exists as a double,
//! and every addition happens in the JS order so the sums are bit-exact.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use crate::framework::{Framework, Node};
use crate::prng::PseudoRandom;
use crate::shape::{check, path_budget, timed, Mismatch, Runner, Shape};
use crate::util::Counter;

/// One configuration of `config.ts`, with its expected results.
#[derive(Debug, Clone, Copy)]
pub struct DynamicConfig {
    /// Row label.
    pub name: &'static str,
    /// Sources, and computeds per row.
    pub width: usize,
    /// Rows, the source row included.
    pub total_layers: usize,
    /// Fraction of static nodes.
    pub static_fraction: f64,
    /// Sources each node reads from the row above.
    pub n_sources: usize,
    /// Fraction of the last row the effect reads.
    pub read_fraction: f64,
    /// Iterations of one run.
    pub iterations: usize,
    /// Sum of the read leaves after a run.
    pub expected_sum: f64,
    /// Computed executions in a run that follows a previous run.
    pub expected_count: i64,
}

/// The six configurations of `config.ts`.
pub const CONFIGS: [DynamicConfig; 6] = [
    DynamicConfig {
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
    DynamicConfig {
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
    DynamicConfig {
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
    DynamicConfig {
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
    DynamicConfig {
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
    DynamicConfig {
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

/// A reactively configuration. The graph is built once, run once to reach its steady state,
/// then run once more with the full iteration count and checked (sum and, where the JS
/// benchmark checks it, count); each sample then times one run of `timed_iterations`.
#[derive(Debug, Clone, Copy)]
pub struct Dynamic {
    /// The configuration.
    pub config: DynamicConfig,
    /// Iterations per timed run (the configuration's own count in a full run).
    pub timed_iterations: usize,
}

struct Graph<F: Framework> {
    sources: Vec<F::Signal<f64>>,
    read_leaves: Arc<Vec<F::Computed<f64>>>,
    counter: Arc<Counter>,
    _effect: F::Effect,
}

fn make_graph<F: Framework>(config: &DynamicConfig) -> Graph<F> {
    let sources: Vec<F::Signal<f64>> = (0..config.width).map(|i| F::signal(i as f64)).collect();
    let counter = Counter::shared();
    let mut random = PseudoRandom::new("seed");
    let mut previous: Vec<Node<F, f64>> = sources.iter().cloned().map(Node::Signal).collect();
    for _ in 0..config.total_layers - 1 {
        previous = make_row::<F>(&previous, config, &counter, &mut random);
    }
    let mut leaves: Vec<F::Computed<f64>> = previous
        .into_iter()
        .filter_map(|node| match node {
            Node::Computed(c) => Some(c),
            Node::Signal(_) => None,
        })
        .collect();
    let mut random = PseudoRandom::new("seed");
    let skip = (leaves.len() as f64 * (1.0 - config.read_fraction)).round() as usize;
    for _ in 0..skip {
        let index = (random.next_f64() * leaves.len() as f64).floor() as usize;
        leaves.remove(index);
    }
    let read_leaves = Arc::new(leaves);
    let effect = F::effect({
        let leaves = read_leaves.clone();
        move || {
            for leaf in leaves.iter() {
                black_box(F::read(leaf));
            }
        }
    });
    Graph {
        sources,
        read_leaves,
        counter,
        _effect: effect,
    }
}

fn make_row<F: Framework>(
    above: &[Node<F, f64>],
    config: &DynamicConfig,
    counter: &Arc<Counter>,
    random: &mut PseudoRandom,
) -> Vec<Node<F, f64>> {
    (0..above.len())
        .map(|my_dex| {
            let my_sources: Vec<Node<F, f64>> = (0..config.n_sources)
                .map(|source_dex| above[(my_dex + source_dex) % above.len()].clone())
                .collect();
            let counter = counter.clone();
            let static_node = random.next_f64() < config.static_fraction;
            Node::Computed(if static_node {
                F::computed(move || {
                    counter.bump();
                    let mut sum = 0.0;
                    for source in &my_sources {
                        sum += source.read();
                    }
                    sum
                })
            } else {
                let first = my_sources[0].clone();
                let tail: Vec<Node<F, f64>> = my_sources[1..].to_vec();
                F::computed(move || {
                    counter.bump();
                    let mut sum = first.read();
                    // JS: `sum & 0x1` and `sum % tail.length` on a double; the values here are
                    // non-negative integers below 2^53, where these are exact.
                    let should_drop = sum % 2.0 != 0.0;
                    let drop_dex = (sum % tail.len() as f64) as usize;
                    for (i, node) in tail.iter().enumerate() {
                        if should_drop && i == drop_dex {
                            continue;
                        }
                        sum += node.read();
                    }
                    sum
                })
            })
        })
        .collect()
}

/// `runGraph`: `iterations` batched writes, each followed by reading the chosen leaves; returns
/// the sum of the leaves, added in the JS order.
fn run_graph<F: Framework>(graph: &Graph<F>, iterations: usize) -> f64 {
    let width = graph.sources.len();
    for i in 0..iterations {
        let source_dex = i % width;
        F::batch(|| F::set(&graph.sources[source_dex], (i + source_dex) as f64));
        for leaf in graph.read_leaves.iter() {
            black_box(F::read(leaf));
        }
    }
    graph
        .read_leaves
        .iter()
        .fold(0.0, |total, leaf| F::read(leaf) + total)
}

/// Runs the graph once to reach its steady state, then once more counted: the sum of the read
/// leaves and the computed executions of the second run (what [`Dynamic`] checks).
fn counted_run<F: Framework>(graph: &Graph<F>, config: &DynamicConfig) -> (f64, i64) {
    run_graph(graph, config.iterations);
    graph.counter.reset();
    let sum = run_graph(graph, config.iterations);
    (sum, graph.counter.get())
}

/// Builds the graph of `config` on `F`, runs it once, then once more counted, and returns the
/// second run's sum of the read leaves and computed executions, to compare with the
/// configuration's `expected_sum` and `expected_count` (what [`Dynamic`] checks).
pub fn sum_and_count<F: Framework>(config: &DynamicConfig) -> (f64, i64) {
    let (graph, scope) = F::scope(|| make_graph::<F>(config));
    let result = counted_run(&graph, config);
    drop(graph);
    drop(scope);
    result
}

/// Paths from a written source to every computed (and through the leaves to the effect), on
/// average over the sources, counting every node's `n_sources` edges (dynamic nodes drop at most
/// one): what one write marks when marking walks paths.
fn marking_paths_per_write(c: &DynamicConfig) -> f64 {
    let mut ways = vec![1.0f64; c.width];
    let mut total = 0.0;
    for _ in 1..c.total_layers {
        ways = (0..c.width)
            .map(|j| (0..c.n_sources).map(|k| ways[(j + k) % c.width]).sum())
            .collect();
        total += ways.iter().sum::<f64>();
    }
    (total + ways.iter().sum::<f64>() * c.read_fraction) / c.width as f64
}

struct DynamicRunner<F: Framework> {
    graph: Graph<F>,
    iterations: usize,
    _scope: F::Scope,
}

impl<F: Framework> Runner for DynamicRunner<F> {
    fn sample(&mut self) -> Result<Duration, Mismatch> {
        timed(|| {
            black_box(run_graph(&self.graph, self.iterations));
            Ok(())
        })
    }
}

impl Shape for Dynamic {
    fn name(&self) -> String {
        let c = &self.config;
        let reduced = if self.timed_iterations < c.iterations {
            format!(", {} it.", self.timed_iterations)
        } else {
            String::new()
        };
        format!(
            "{} {}x{}x{}{}",
            c.name, c.n_sources, c.width, c.total_layers, reduced
        )
    }

    fn infeasible<F: Framework>(&self) -> Option<String> {
        let c = &self.config;
        path_budget::<F>(
            marking_paths_per_write(c) * c.iterations.max(self.timed_iterations) as f64,
        )
    }

    fn prepare<F: Framework>(&self) -> Result<Box<dyn Runner>, Mismatch> {
        let config = self.config;
        let (graph, scope) = F::scope(|| make_graph::<F>(&config));
        let (sum, count) = counted_run(&graph, &config);
        check(sum == config.expected_sum, || {
            format!("sum: got {sum:e}, expected {:e}", config.expected_sum)
        })?;
        if F::LAZY || config.read_fraction == 1.0 {
            check(count == config.expected_count, || {
                format!("count: got {count}, expected {}", config.expected_count)
            })?;
        }
        Ok(Box::new(DynamicRunner::<F> {
            graph,
            iterations: self.timed_iterations,
            _scope: scope,
        }))
    }
}
