//! Results: medians and percentiles of samples, and the table "case | ours | raw bound | ratio |
//! goal | met?".

use std::fmt::Write as _;
use std::time::Duration;

/// The unit of a row, and which direction is better.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unit {
    /// Milliseconds, lower is better.
    Ms,
    /// Seconds, lower is better.
    Secs,
    /// Records (or mutations) per second, higher is better.
    PerSec,
    /// Bytes, lower is better.
    Bytes,
    /// Mebibytes, lower is better.
    MiB,
}

impl Unit {
    fn higher_is_better(self) -> bool {
        self == Unit::PerSec
    }

    fn format(self, value: f64) -> String {
        match self {
            Unit::Ms if value < 0.1 => format!("{:.1} µs", value * 1000.0),
            Unit::Ms => format!("{value:.3} ms"),
            Unit::Secs => format!("{value:.3} s"),
            Unit::PerSec => format!("{value:.0}/s"),
            Unit::Bytes => format!("{value:.0} B"),
            Unit::MiB => format!("{value:.1} MiB"),
        }
    }
}

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    pub case: String,
    pub ours: f64,
    /// The raw bound measured beside it, when there is one.
    pub raw: Option<f64>,
    pub unit: Unit,
    /// The goal (at most, or at least for rates), when there is one.
    pub goal: Option<f64>,
    /// The largest ratio to the raw bound the goal allows, when there is one.
    pub within: Option<f64>,
}

impl Row {
    pub fn new(case: impl Into<String>, unit: Unit, ours: f64) -> Row {
        Row {
            case: case.into(),
            ours,
            raw: None,
            unit,
            goal: None,
            within: None,
        }
    }

    pub fn raw(mut self, raw: f64) -> Row {
        self.raw = Some(raw);
        self
    }

    pub fn goal(mut self, goal: f64) -> Row {
        self.goal = Some(goal);
        self
    }

    /// Sets the largest ratio to the raw bound that meets the goal (e.g. 1.1).
    pub fn within(mut self, ratio: f64) -> Row {
        self.within = Some(ratio);
        self
    }

    /// How many times slower (or bigger) than the raw bound: above 1 means ours costs more.
    pub fn ratio(&self) -> Option<f64> {
        let raw = self.raw?;
        if raw <= 0.0 || self.ours <= 0.0 {
            return None;
        }
        Some(if self.unit.higher_is_better() {
            raw / self.ours
        } else {
            self.ours / raw
        })
    }

    pub fn met(&self) -> Option<bool> {
        let absolute = self.goal.map(|goal| {
            if self.unit.higher_is_better() {
                self.ours >= goal
            } else {
                self.ours <= goal
            }
        });
        let relative = self
            .within
            .map(|within| self.ratio().is_some_and(|ratio| ratio <= within));
        match (absolute, relative) {
            (None, None) => None,
            (a, r) => Some(a.unwrap_or(true) && r.unwrap_or(true)),
        }
    }
}

/// The table as Markdown.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from("| case | ours | raw bound | ratio | goal | met? |\n");
    out.push_str("|---|---:|---:|---:|---:|:---:|\n");
    for row in rows {
        let raw = row.raw.map_or("–".to_owned(), |r| row.unit.format(r));
        let ratio = row.ratio().map_or("–".to_owned(), |r| format!("{r:.2}×"));
        let sign = if row.unit.higher_is_better() {
            "≥"
        } else {
            "≤"
        };
        let goals: Vec<String> = row
            .goal
            .map(|goal| format!("{sign} {}", row.unit.format(goal)))
            .into_iter()
            .chain(row.within.map(|within| format!("≤ {within:.2}× raw")))
            .collect();
        let (goal, met) = match row.met() {
            Some(met) => (goals.join(", "), if met { "yes" } else { "**no**" }),
            None => ("–".to_owned(), "–"),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {raw} | {ratio} | {goal} | {met} |",
            row.case,
            row.unit.format(row.ours)
        );
    }
    out
}

/// Samples in milliseconds.
#[derive(Debug, Default, Clone)]
pub struct Samples(Vec<f64>);

impl Samples {
    pub fn push(&mut self, d: Duration) {
        self.0.push(d.as_secs_f64() * 1000.0);
    }

    /// The `q` quantile (0.5 is the median), nearest rank.
    pub fn quantile(&self, q: f64) -> f64 {
        let mut sorted = self.0.clone();
        sorted.sort_by(f64::total_cmp);
        if sorted.is_empty() {
            return f64::NAN;
        }
        let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    pub fn median(&self) -> f64 {
        self.quantile(0.5)
    }
}

/// The median of a few values.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}
