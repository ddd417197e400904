//! The command side: a command is authenticated, decided by the domain against the
//! aggregates it reads, and appended; the clock and the policies append the system's own.

pub mod admin;
pub mod clock;
pub mod engine;
pub mod errors;
pub mod follower;
pub mod policies;
pub mod recompute;
pub mod service;
pub mod setup;
