//! Latency samples and their percentiles, and peak memory of processes.

use std::time::Duration;

use hdrhistogram::Histogram;

/// Significant decimal digits every latency keeps: 1 µs in a millisecond, 1 ms in a
/// second, far finer than the bench's tables print.
const SIGNIFICANT_DIGITS: u8 = 3;

/// Latency samples of one measurement: an HDR histogram of nanoseconds, so that a run of
/// millions of requests takes a few kilobytes, whatever its length.
#[derive(Debug, Clone)]
pub struct Latencies {
    histogram: Histogram<u64>,
    /// Requests that failed (not in the histogram).
    pub errors: u64,
}

impl Default for Latencies {
    fn default() -> Self {
        Latencies {
            // From 1 ns, growing as larger values arrive.
            histogram: Histogram::new(SIGNIFICANT_DIGITS).expect("3 significant digits are valid"),
            errors: 0,
        }
    }
}

impl Latencies {
    /// Adds one sample.
    pub fn record(&mut self, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        // The histogram grows to any value from 1 ns up to u64::MAX / 2 (centuries):
        // 0 counts as 1 ns, and beyond is clamped.
        self.histogram
            .record(nanos.clamp(1, u64::MAX / 2))
            .expect("an auto-resizing histogram takes every value in its range");
    }

    /// Adds the samples and errors of `other`.
    pub fn merge(&mut self, other: Latencies) {
        self.histogram
            .add(&other.histogram)
            .expect("auto-resizing histograms of the same precision add up");
        self.errors += other.errors;
    }

    /// Samples recorded.
    pub fn len(&self) -> usize {
        self.histogram.len() as usize
    }

    /// Whether no sample was recorded.
    pub fn is_empty(&self) -> bool {
        self.histogram.is_empty()
    }

    /// The `p`-th percentile (0 ≤ p ≤ 100): the smallest recorded value that at least
    /// `p` % of the samples are at or below, to [`SIGNIFICANT_DIGITS`] digits. `None`
    /// without samples.
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        if self.histogram.is_empty() {
            return None;
        }
        // Less a hair, so that 0.999 × 1000 (999.000…01 in floating point) is rank 999.
        let quantile = (p / 100.0 - 1e-12).clamp(0.0, 1.0);
        Some(Duration::from_nanos(
            self.histogram.value_at_quantile(quantile),
        ))
    }

    /// The mean, `None` without samples.
    pub fn mean(&self) -> Option<Duration> {
        if self.histogram.is_empty() {
            return None;
        }
        Some(Duration::from_nanos(self.histogram.mean() as u64))
    }
}

/// The peak resident set size (`VmHWM`) of process `pid` in bytes, from
/// `/proc/<pid>/status`; `None` where there is no such file (not Linux, process gone).
pub fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status_field_kib(&status, "VmHWM:").map(|kib| kib * 1024)
}

/// The current resident set size (`VmRSS`) of process `pid` in bytes.
pub fn current_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status_field_kib(&status, "VmRSS:").map(|kib| kib * 1024)
}

/// Resets the peak resident set size of process `pid` to its current size (Linux:
/// `echo 5 > /proc/<pid>/clear_refs`). False where that is not possible.
pub fn reset_peak_rss(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

fn status_field_kib(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(field))?;
    line[field.len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `got` is `want` to three significant digits.
    fn close(got: Option<Duration>, want: Duration) -> bool {
        let got = got.expect("a percentile").as_nanos() as f64;
        let want = want.as_nanos() as f64;
        (got - want).abs() <= want / 1000.0
    }

    #[test]
    fn nearest_rank_percentiles() {
        let mut l = Latencies::default();
        assert_eq!(l.percentile(50.0), None);
        assert_eq!(l.mean(), None);
        for ms in [15, 20, 35, 40, 50] {
            l.record(Duration::from_millis(ms));
        }
        // The textbook example of the nearest-rank method.
        let ms = Duration::from_millis;
        assert!(close(l.percentile(5.0), ms(15)));
        assert!(close(l.percentile(30.0), ms(20)));
        assert!(close(l.percentile(40.0), ms(20)));
        assert!(close(l.percentile(50.0), ms(35)));
        assert!(close(l.percentile(100.0), ms(50)));
        assert!(close(l.percentile(0.0), ms(15)));
        assert!(close(l.mean(), ms(32)));
    }

    #[test]
    fn p99_of_a_thousand_is_the_990th() {
        let mut l = Latencies::default();
        for n in (1..=1000u64).rev() {
            l.record(Duration::from_micros(n));
        }
        assert!(close(l.percentile(99.0), Duration::from_micros(990)));
        assert!(close(l.percentile(99.9), Duration::from_micros(999)));
        let mut other = Latencies::default();
        other.record(Duration::from_secs(5));
        other.errors = 2;
        l.merge(other);
        assert_eq!(l.len(), 1001);
        assert_eq!(l.errors, 2);
        assert!(close(l.percentile(100.0), Duration::from_secs(5)));
        // Zero is counted, as the smallest value there is.
        l.record(Duration::ZERO);
        assert_eq!(l.len(), 1002);
        assert_eq!(l.percentile(0.0), Some(Duration::from_nanos(1)));
    }

    #[test]
    fn proc_status_fields() {
        let status = "Name:\tx\nVmPeak:\t  100 kB\nVmHWM:\t    2048 kB\nVmRSS:\t 1024 kB\n";
        assert_eq!(status_field_kib(status, "VmHWM:"), Some(2048));
        assert_eq!(status_field_kib(status, "VmRSS:"), Some(1024));
        assert_eq!(status_field_kib(status, "VmSwap:"), None);
        assert!(peak_rss(std::process::id()).is_some_and(|b| b > 0));
    }
}
