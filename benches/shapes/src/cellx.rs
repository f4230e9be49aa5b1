//! The cellx benchmark (`cellxBench.ts`): layers of four computeds, each layer with four effects.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::framework::{Framework, Node};
use crate::shape::{check_eq, path_budget, Aggregate, Mismatch, Runner, Shape};

/// Values of the last layer before and after the write, for 1000 and 2500 layers.
const EXPECTED: ([i64; 4], [i64; 4]) = ([-3, -6, -2, 2], [-2, -4, 2, 3]);

/// cellx with `layers` layers. Each sample builds a fresh graph (not timed) and times the reads,
/// the batched write and the reads again; the figure is the total of the samples (10 in the JS
/// benchmark).
#[derive(Debug, Clone, Copy)]
pub struct Cellx {
    /// Number of layers (1000 or 2500).
    pub layers: usize,
}

struct Graph<F: Framework> {
    start: [F::Signal<i64>; 4],
    end: [Node<F, i64>; 4],
    _effects: Vec<F::Effect>,
}

fn build<F: Framework>(layers: usize) -> Graph<F> {
    let start = [1, 2, 3, 4].map(F::signal);
    let mut layer: [Node<F, i64>; 4] = start.clone().map(Node::Signal);
    let mut effects = Vec::with_capacity(layers * 4);
    for _ in 0..layers {
        let [p1, p2, p3, p4] = layer;
        let s: [F::Computed<i64>; 4] = [
            F::computed({
                let p2 = p2.clone();
                move || p2.read()
            }),
            F::computed({
                let (p1, p3) = (p1.clone(), p3.clone());
                move || p1.read() - p3.read()
            }),
            F::computed({
                let (p2, p4) = (p2.clone(), p4.clone());
                move || p2.read() + p4.read()
            }),
            F::computed({
                let p3 = p3.clone();
                move || p3.read()
            }),
        ];
        for node in &s {
            let node = node.clone();
            effects.push(F::effect(move || {
                black_box(F::read(&node));
            }));
        }
        layer = s.map(Node::Computed);
    }
    Graph {
        start,
        end: layer,
        _effects: effects,
    }
}

/// The values of the last layer of a fresh `layers`-layer graph before and after writing
/// 4, 3, 2, 1 to the sources in one batch, and the time the reads and the write took (the
/// build and the disposal are not timed).
fn measure<F: Framework>(layers: usize) -> (([i64; 4], [i64; 4]), Duration) {
    let (graph, scope) = F::scope(|| build::<F>(layers));
    let start = Instant::now();
    let before = graph.end.each_ref().map(Node::read);
    F::batch(|| {
        for (signal, value) in graph.start.iter().zip([4, 3, 2, 1]) {
            F::set(signal, value);
        }
    });
    let after = graph.end.each_ref().map(Node::read);
    let elapsed = start.elapsed();
    drop(graph);
    drop(scope);
    ((before, after), elapsed)
}

/// The values of the last layer of a fresh `layers`-layer graph before and after writing
/// 4, 3, 2, 1 to the sources in one batch (what every sample checks).
pub fn last_layer<F: Framework>(layers: usize) -> ([i64; 4], [i64; 4]) {
    measure::<F>(layers).0
}

/// Runs the timed part on a fresh graph and checks the values; returns the time it took.
fn run<F: Framework>(layers: usize) -> Result<Duration, Mismatch> {
    let ((before, after), elapsed) = measure::<F>(layers);
    check_eq("last layer before", before, EXPECTED.0)?;
    check_eq("last layer after", after, EXPECTED.1)?;
    Ok(elapsed)
}

/// Paths from the four sources to every computed and effect: what one sample's writes mark when
/// marking walks paths. Each layer doubles back on the one above (p2 and p3 read two nodes), so
/// the count grows like the Fibonacci numbers.
fn marking_paths(layers: usize) -> f64 {
    let mut total = 0.0;
    for source in 0..4 {
        let mut ways = [0.0f64; 4];
        ways[source] = 1.0;
        for _ in 0..layers {
            ways = [ways[1], ways[0] + ways[2], ways[1] + ways[3], ways[2]];
            // Each computed and the effect reading it.
            total += 2.0 * ways.iter().sum::<f64>();
        }
    }
    total
}

struct CellxRunner<F: Framework> {
    layers: usize,
    _framework: std::marker::PhantomData<F>,
}

impl<F: Framework> Runner for CellxRunner<F> {
    fn sample(&mut self) -> Result<Duration, Mismatch> {
        run::<F>(self.layers)
    }
}

impl Shape for Cellx {
    fn name(&self) -> String {
        format!("cellx{}", self.layers)
    }

    fn aggregate(&self) -> Aggregate {
        Aggregate::Total
    }

    fn infeasible<F: Framework>(&self) -> Option<String> {
        path_budget::<F>(marking_paths(self.layers))
    }

    fn prepare<F: Framework>(&self) -> Result<Box<dyn Runner>, Mismatch> {
        run::<F>(self.layers)?;
        Ok(Box::new(CellxRunner::<F> {
            layers: self.layers,
            _framework: std::marker::PhantomData,
        }))
    }
}
