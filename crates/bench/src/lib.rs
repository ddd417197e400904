//! Workloads and benchmarks for the help desk backend.
//!
//! - [`workload`]: a seeded generator of realistic help desk days, as a lazy stream of
//!   `CommandService/Execute` requests ([`Workload`], configured by [`WorkloadConfig`]).

pub mod workload;

pub use workload::{
    command_kind, ModelTicket, Workload, WorkloadConfig, WorkloadStats, GENERATED_KINDS,
};
