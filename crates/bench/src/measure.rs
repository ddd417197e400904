//! Latency samples and their percentiles, and peak memory of processes.

use std::time::Duration;

/// Latency samples of one measurement, in nanoseconds.
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    samples: Vec<u64>,
    sorted: bool,
    /// Requests that failed (not in `samples`).
    pub errors: u64,
}

impl Latencies {
    /// Empty, with room for `capacity` samples.
    pub fn with_capacity(capacity: usize) -> Self {
        Latencies {
            samples: Vec::with_capacity(capacity),
            sorted: true,
            errors: 0,
        }
    }

    /// Adds one sample.
    pub fn record(&mut self, latency: Duration) {
        self.samples
            .push(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
        self.sorted = false;
    }

    /// Adds the samples and errors of `other`.
    pub fn merge(&mut self, other: Latencies) {
        self.samples.extend(other.samples);
        self.errors += other.errors;
        self.sorted = false;
    }

    /// Samples recorded.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether no sample was recorded.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The `p`-th percentile (0 ≤ p ≤ 100) by the nearest-rank method: the smallest
    /// sample that at least `p` % of the samples are at or below. `None` without samples.
    pub fn percentile(&mut self, p: f64) -> Option<Duration> {
        if self.samples.is_empty() {
            return None;
        }
        if !self.sorted {
            self.samples.sort_unstable();
            self.sorted = true;
        }
        Some(Duration::from_nanos(
            self.samples[nearest_rank(self.samples.len(), p)],
        ))
    }

    /// The mean, `None` without samples.
    pub fn mean(&self) -> Option<Duration> {
        if self.samples.is_empty() {
            return None;
        }
        let sum: u128 = self.samples.iter().map(|&s| u128::from(s)).sum();
        Some(Duration::from_nanos(
            (sum / self.samples.len() as u128) as u64,
        ))
    }
}

/// The 0-based index of the nearest-rank `p`-th percentile among `n` sorted samples.
pub fn nearest_rank(n: usize, p: f64) -> usize {
    assert!(n > 0, "a percentile of nothing");
    let p = p.clamp(0.0, 100.0);
    // Less a hair, so that 0.99 × 1000 (990.000…01 in floating point) is rank 990.
    let rank = ((p / 100.0) * n as f64 - 1e-9).ceil() as usize;
    rank.clamp(1, n) - 1
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

    #[test]
    fn nearest_rank_percentiles() {
        let mut l = Latencies::default();
        assert_eq!(l.percentile(50.0), None);
        for ms in [15, 20, 35, 40, 50] {
            l.record(Duration::from_millis(ms));
        }
        // The textbook example of the nearest-rank method.
        assert_eq!(l.percentile(5.0), Some(Duration::from_millis(15)));
        assert_eq!(l.percentile(30.0), Some(Duration::from_millis(20)));
        assert_eq!(l.percentile(40.0), Some(Duration::from_millis(20)));
        assert_eq!(l.percentile(50.0), Some(Duration::from_millis(35)));
        assert_eq!(l.percentile(100.0), Some(Duration::from_millis(50)));
        assert_eq!(l.percentile(0.0), Some(Duration::from_millis(15)));
        assert_eq!(l.mean(), Some(Duration::from_millis(32)));
    }

    #[test]
    fn p99_of_a_thousand_is_the_990th() {
        let mut l = Latencies::with_capacity(1000);
        // Recorded in reverse: sorting is the percentile's job.
        for n in (1..=1000u64).rev() {
            l.record(Duration::from_nanos(n));
        }
        assert_eq!(l.percentile(99.0), Some(Duration::from_nanos(990)));
        assert_eq!(l.percentile(99.9), Some(Duration::from_nanos(999)));
        let mut other = Latencies::default();
        other.record(Duration::from_nanos(5000));
        other.errors = 2;
        l.merge(other);
        assert_eq!(l.len(), 1001);
        assert_eq!(l.errors, 2);
        assert_eq!(l.percentile(100.0), Some(Duration::from_nanos(5000)));
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
