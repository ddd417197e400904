//! Read models: the projector runtime and the models it folds.
//!
//! - [`runtime`]: batches, the checkpoint kept with the data, rebuilds, partitions, and
//!   [`runtime::ModelHandle`] for queries with read-your-writes.
//! - [`tickets`]: tickets now, their lists and per-department counts, with the department
//!   visibility (docs/TICKETS.md, Assignment, departments and the queue).
//! - [`stats`]: agent statistics (docs/STATISTICS.md, Level variables), all time and per
//!   day, with benchmarks.
//! - [`levels`]: levels reached (docs/STATISTICS.md, Levels), the leaderboard, progress,
//!   level-ups.
//! - [`badges`]: the daily badges (docs/STATISTICS.md, Badges), their holders and history,
//!   awards.
//! - [`calendar`]: days in the organization's time zone.
//! - [`reports`]: department reports (docs/REPORTS.md), 24 columns by bucket and group.
//! - [`roster`]: the agents as a live board shows them (docs/ROSTER.md): presence,
//!   departments, level, open chats and calls, last activity; presence changes.
//! - [`store`]: how models read their records (one typed read path for folds and
//!   queries) and lay out their keys.
//! - [`recompute`]: a recompute's two replays (the live model and the recompute's), in
//!   one pass.
//! - [`policies`]: what the policies owe (planned pause ends, auto-pauses), for the
//!   server's policy runner.
//!
//! This crate knows the domain and the log, not gRPC: queries are plain functions that
//! the server exposes.

pub mod badges;
pub mod calendar;
pub mod levels;
pub mod policies;
pub mod recompute;
pub mod reports;
pub mod roster;
pub mod runtime;
pub mod stats;
pub mod store;
pub mod tickets;

pub use runtime::{
    At, Checkpoint, Model, ModelError, ModelHandle, Note, Partition, ProjectionError, Projector,
    ProjectorConfig, Projectors, Txn, WaitError,
};
