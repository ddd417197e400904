//! Benchmarks for the help desk backend.
//!
//! The simulated help desk days come from the `helpdesk-workload` crate
//! (`helpdesk_workload::Workload`).
//!
//! - [`history`]: those days run through the domain's deciders in memory, as the
//!   log's messages (for replay benchmarks).
//! - [`measure`]: latency percentiles and peak memory of processes.
//! - [`procs`]: the `helpdesk` binary as a child process.
//! - [`table`]: the benchmark table (figure, baseline of the same run, ratio, target).
//!
//! The benchmarks themselves are the `helpdesk-bench` binary (`just bench`, see
//! `docs/PERFORMANCE.md`) and the criterion micro-benchmarks in `benches/`
//! (`just bench-micro`).

pub mod history;
pub mod measure;
pub mod procs;
pub mod table;
