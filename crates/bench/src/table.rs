//! The benchmark table: each figure beside its baseline from the same run, their ratio,
//! and the target.

use std::fmt::Write as _;

/// What a figure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Messages (or commands, queries) per second: higher is better.
    PerSecond,
    /// Milliseconds: lower is better.
    Millis,
    /// Nanoseconds: lower is better.
    Nanos,
    /// Seconds: lower is better.
    Seconds,
    /// Mebibytes: lower is better.
    MiB,
    /// A count per command or message (NATS requests): lower is better.
    Each,
}

impl Unit {
    fn format(self, value: f64) -> String {
        if !value.is_finite() {
            return "n/a".into();
        }
        match self {
            Unit::PerSecond if value >= 10_000.0 => format!("{:.0}k/s", value / 1000.0),
            Unit::PerSecond if value >= 1_000.0 => format!("{:.1}k/s", value / 1000.0),
            Unit::PerSecond => format!("{value:.0}/s"),
            Unit::Seconds => format!("{value:.1} s"),
            Unit::Millis if value >= 100.0 => format!("{value:.0} ms"),
            Unit::Millis if value >= 10.0 => format!("{value:.1} ms"),
            Unit::Millis => format!("{value:.2} ms"),
            Unit::Nanos => format!("{value:.1} ns"),
            Unit::MiB => format!("{value:.0} MiB"),
            Unit::Each => format!("{value:.2}"),
        }
    }
}

/// What a figure should reach.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// The ratio figure / baseline is at least this.
    RatioAtLeast(f64),
    /// The figure itself is at most this, in its unit.
    AtMost(f64),
    /// No target: shown for information.
    None,
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The figure measured, e.g. "replay stats (msg/s)".
    pub figure: String,
    pub value: f64,
    /// The baseline measured in the same run, e.g. "raw ordered consume".
    pub baseline_name: String,
    pub baseline: f64,
    pub unit: Unit,
    pub target: Target,
}

impl Row {
    /// A row with no target.
    pub fn info(
        figure: impl Into<String>,
        value: f64,
        baseline_name: impl Into<String>,
        baseline: f64,
        unit: Unit,
    ) -> Row {
        Row {
            figure: figure.into(),
            value,
            baseline_name: baseline_name.into(),
            baseline,
            unit,
            target: Target::None,
        }
    }

    /// The same row with a target.
    pub fn with_target(mut self, target: Target) -> Row {
        self.target = target;
        self
    }

    /// figure / baseline (`NaN` when there is no baseline).
    pub fn ratio(&self) -> f64 {
        if self.baseline > 0.0 && self.value.is_finite() {
            self.value / self.baseline
        } else {
            f64::NAN
        }
    }

    /// `Some(true)` when the target is met, `Some(false)` when missed, `None` without
    /// a target.
    pub fn met(&self) -> Option<bool> {
        match self.target {
            Target::RatioAtLeast(at_least) => Some(self.ratio() >= at_least),
            Target::AtMost(at_most) => Some(self.value.is_finite() && self.value <= at_most),
            Target::None => None,
        }
    }

    fn target_text(&self) -> String {
        match self.target {
            Target::RatioAtLeast(r) => format!("≥ {r}×"),
            Target::AtMost(v) => format!("≤ {}", self.unit.format(v)),
            Target::None => "—".into(),
        }
    }
}

/// The table, as Markdown with aligned columns (readable as plain text too).
pub fn render(rows: &[Row]) -> String {
    let header = [
        "figure",
        "value",
        "baseline (same run)",
        "baseline value",
        "ratio",
        "target",
        "met",
    ];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|row| {
            let ratio = row.ratio();
            [
                row.figure.clone(),
                row.unit.format(row.value),
                row.baseline_name.clone(),
                row.unit.format(row.baseline),
                if ratio.is_finite() {
                    format!("{ratio:.2}×")
                } else {
                    "n/a".into()
                },
                row.target_text(),
                match row.met() {
                    Some(true) => "yes".into(),
                    Some(false) => "**NO**".into(),
                    None => "".into(),
                },
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String]| {
        out.push('|');
        for (cell, width) in cells.iter().zip(widths) {
            let pad = width - cell.chars().count();
            // Numbers right-aligned, words left-aligned.
            let numeric = cell.starts_with(|c: char| c.is_ascii_digit()) || cell == "n/a";
            if numeric {
                let _ = write!(out, " {}{cell} |", " ".repeat(pad));
            } else {
                let _ = write!(out, " {cell}{} |", " ".repeat(pad));
            }
        }
        out.push('\n');
    };
    line(&mut out, &header.map(String::from));
    out.push('|');
    for width in widths {
        let _ = write!(out, "{}|", "-".repeat(width + 2));
    }
    out.push('\n');
    for row in &cells {
        line(&mut out, row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_and_verdicts() {
        let replay = Row::info(
            "replay",
            300_000.0,
            "raw consume",
            500_000.0,
            Unit::PerSecond,
        )
        .with_target(Target::RatioAtLeast(0.5));
        assert!((replay.ratio() - 0.6).abs() < 1e-9);
        assert_eq!(replay.met(), Some(true));
        let slow = Row {
            value: 200_000.0,
            ..replay.clone()
        };
        assert_eq!(slow.met(), Some(false));
        let p99 =
            Row::info("p99", 2.5, "trivial", 0.5, Unit::Millis).with_target(Target::AtMost(2.0));
        assert_eq!(p99.met(), Some(false));
        assert!((p99.ratio() - 5.0).abs() < 1e-9);
        let info = Row::info("memory", 100.0, "nats-server", 0.0, Unit::MiB);
        assert!(info.ratio().is_nan());
        assert_eq!(info.met(), None);
    }

    #[test]
    fn renders_aligned_markdown() {
        let rows = vec![
            Row::info(
                "replay tickets",
                123_456.0,
                "raw consume",
                500_000.0,
                Unit::PerSecond,
            )
            .with_target(Target::RatioAtLeast(0.5)),
            Row::info("command p99", 1.234, "raw publish p99", 0.5, Unit::Millis)
                .with_target(Target::AtMost(2.0)),
            Row::info("peak memory", 50.0, "nats-server", f64::NAN, Unit::MiB),
        ];
        let table = render(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 5, "{table}");
        let width = lines[0].chars().count();
        assert!(lines.iter().all(|l| l.chars().count() == width), "{table}");
        assert!(lines[1].starts_with("|---"));
        assert!(lines[2].contains("123k/s") && lines[2].contains("500k/s"));
        assert!(lines[2].contains("0.25×") && lines[2].contains("≥ 0.5×"));
        assert!(lines[2].contains("**NO**"));
        assert!(lines[3].contains("1.23 ms") && lines[3].contains("≤ 2.00 ms"));
        assert!(lines[3].contains("2.47×") && lines[3].contains("yes"));
        assert!(lines[4].contains("n/a"));
    }

    #[test]
    fn units() {
        assert_eq!(Unit::PerSecond.format(512.4), "512/s");
        assert_eq!(Unit::PerSecond.format(7_512.0), "7.5k/s");
        assert_eq!(Unit::PerSecond.format(212_000.0), "212k/s");
        assert_eq!(Unit::Millis.format(0.874), "0.87 ms");
        assert_eq!(Unit::Millis.format(48.0), "48.0 ms");
        assert_eq!(Unit::Nanos.format(41.25), "41.2 ns");
        assert_eq!(Unit::MiB.format(88.6), "89 MiB");
    }
}
