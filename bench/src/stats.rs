//! Latency statistics and the plain-text tables the benchmark prints.

use serde::Serialize;

/// The `p`-th percentile (0 < p <= 100) of `sorted` by the nearest-rank method: the smallest
/// sample such that at least `p`% of the samples are less than or equal to it. `None` when
/// there are no samples.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, n) - 1])
}

/// A latency distribution, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Mean.
    pub mean_ms: f64,
    /// Largest sample.
    pub max_ms: f64,
}

/// Summarises latency samples given in nanoseconds (sorts them in place).
pub fn summarize(samples_ns: &mut [u64]) -> Summary {
    samples_ns.sort_unstable();
    let ms = |ns: u64| ns as f64 / 1e6;
    let n = samples_ns.len();
    if n == 0 {
        return Summary::default();
    }
    let sum: u128 = samples_ns.iter().map(|&s| u128::from(s)).sum();
    Summary {
        n,
        p50_ms: percentile(samples_ns, 50.0).map_or(0.0, ms),
        p99_ms: percentile(samples_ns, 99.0).map_or(0.0, ms),
        mean_ms: sum as f64 / n as f64 / 1e6,
        max_ms: samples_ns.last().copied().map_or(0.0, ms),
    }
}

/// The median of `values` (the mean of the two middle ones for an even count); 0 when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// A table printed as aligned plain text (it also reads as a Markdown table).
#[derive(Clone, Debug, Default)]
pub struct Table {
    title: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    notes: Vec<String>,
}

impl Table {
    /// An empty table with a title and column headers.
    pub fn new(title: impl Into<String>, headers: &[&str]) -> Self {
        Self {
            title: title.into(),
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Adds a row; missing cells print empty, extra cells are kept.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Adds a line printed under the table.
    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text: title, Markdown-style header and rows padded to the widest cell,
    /// numbers (cells starting with a digit) right-aligned, then the notes.
    pub fn render(&self) -> String {
        let cols = self
            .rows
            .iter()
            .map(Vec::len)
            .chain([self.headers.len()])
            .max()
            .unwrap_or(0);
        let cell = |row: &[String], i: usize| row.get(i).cloned().unwrap_or_default();
        let mut width = vec![3usize; cols];
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            for (i, w) in width.iter_mut().enumerate() {
                *w = (*w).max(cell(row, i).chars().count());
            }
        }
        let numeric = |s: &str| s.chars().next().is_some_and(|c| c.is_ascii_digit());
        let line = |row: &[String], align_numbers: bool| {
            let mut out = String::from("|");
            for (i, w) in width.iter().enumerate() {
                let c = cell(row, i);
                let pad = w - c.chars().count();
                if align_numbers && numeric(&c) {
                    out.push_str(&format!(" {}{} |", " ".repeat(pad), c));
                } else {
                    out.push_str(&format!(" {}{} |", c, " ".repeat(pad)));
                }
            }
            out.push('\n');
            out
        };
        let mut out = String::new();
        if !self.title.is_empty() {
            out.push_str(&format!("### {}\n\n", self.title));
        }
        out.push_str(&line(&self.headers, false));
        out.push('|');
        for w in &width {
            out.push_str(&format!("{}|", "-".repeat(w + 2)));
        }
        out.push('\n');
        for row in &self.rows {
            out.push_str(&line(row, true));
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for n in &self.notes {
                out.push_str(&format!("{n}\n"));
            }
        }
        out
    }
}

/// Formats milliseconds with a precision that suits their size (`0.0123`, `1.23`, `123`).
pub fn ms(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v < 0.1 {
        format!("{v:.4}")
    } else if v < 10.0 {
        format!("{v:.3}")
    } else if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&s, 50.0), Some(50));
        assert_eq!(percentile(&s, 99.0), Some(99));
        assert_eq!(percentile(&s, 100.0), Some(100));
        assert_eq!(percentile(&s, 0.1), Some(1));
        assert_eq!(percentile(&[7], 50.0), Some(7));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
        // 10 samples: p50 is the 5th, p99 the 10th.
        let s: Vec<u64> = (1..=10).map(|x| x * 10).collect();
        assert_eq!(percentile(&s, 50.0), Some(50));
        assert_eq!(percentile(&s, 99.0), Some(100));
    }

    #[test]
    fn summaries_are_in_milliseconds_and_sort_their_input() {
        // 1..=200 ms, shuffled.
        let mut s: Vec<u64> = (1..=200u64).rev().map(|x| x * 1_000_000).collect();
        let sum = summarize(&mut s);
        assert_eq!(sum.n, 200);
        assert_eq!(sum.p50_ms, 100.0);
        assert_eq!(sum.p99_ms, 198.0);
        assert_eq!(sum.max_ms, 200.0);
        assert!((sum.mean_ms - 100.5).abs() < 1e-9);
        assert!(s.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(summarize(&mut []), Summary::default());
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }

    #[test]
    fn tables_align_columns() {
        let mut t = Table::new("T", &["name", "value"]);
        t.row(vec!["a".into(), "1.5".into()]);
        t.row(vec!["longer".into(), "12".into()]);
        t.note("note");
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "### T");
        assert_eq!(lines[2], "| name   | value |");
        assert_eq!(lines[3], "|--------|-------|");
        assert_eq!(lines[4], "| a      |   1.5 |");
        assert_eq!(lines[5], "| longer |    12 |");
        assert_eq!(lines[7], "note");
    }

    #[test]
    fn millisecond_formatting() {
        assert_eq!(ms(0.0), "0");
        assert_eq!(ms(0.01234), "0.0123");
        assert_eq!(ms(1.23456), "1.235");
        assert_eq!(ms(12.345), "12.3");
        assert_eq!(ms(1234.4), "1234");
    }
}
