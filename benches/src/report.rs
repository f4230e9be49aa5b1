//! The results table: one row per case, one column per framework, and the two ratios the goals
//! are stated in.

use std::fmt::Write as _;
use std::time::Duration;

use crate::harness::Outcome;

/// Column titles, in the order of [`Row::outcomes`].
pub const FRAMEWORKS: [&str; 4] = ["ours", "alien-signals", "sycamore", "reactive_graph"];

/// One case's results.
#[derive(Debug, Clone)]
pub struct Row {
    /// The case.
    pub case: String,
    /// ours, alien-signals, sycamore, reactive_graph.
    pub outcomes: [Outcome; 4],
}

fn format_time(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Time(d) => format_duration(*d),
        Outcome::Failed(_) => "FAILED".into(),
        Outcome::Infeasible(_) => "DNF".into(),
        Outcome::Skipped => "-".into(),
    }
}

/// A duration in the unit that keeps three or four significant digits.
pub fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

fn ratio(numerator: &Outcome, denominator: &Outcome) -> String {
    match (numerator.time(), denominator.time()) {
        (Some(n), Some(d)) if !d.is_zero() => format!("{:.2}x", n.as_secs_f64() / d.as_secs_f64()),
        _ => "-".into(),
    }
}

/// Renders the rows as a Markdown table, followed by the reason of every failed check.
pub fn render(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str("| case | ours | alien-signals | sycamore | reactive_graph | ours/alien | reactive_graph/ours |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
    for row in rows {
        let [ours, alien, sycamore, leptos] = &row.outcomes;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.case,
            format_time(ours),
            format_time(alien),
            format_time(sycamore),
            format_time(leptos),
            ratio(ours, alien),
            ratio(leptos, ours),
        );
    }
    for row in rows {
        for (name, outcome) in FRAMEWORKS.iter().zip(&row.outcomes) {
            match outcome {
                Outcome::Failed(reason) => {
                    let _ = writeln!(out, "\n{name} failed a check in {}: {reason}", row.case);
                }
                Outcome::Infeasible(reason) => {
                    let _ = writeln!(out, "\n{name} did not run {}: {reason}", row.case);
                }
                _ => {}
            }
        }
    }
    out
}
