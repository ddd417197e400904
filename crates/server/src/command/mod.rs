//! The command side: a command is authenticated, decided by the domain against the
//! aggregates it reads, and appended; the clock and the policies append the system's own.

pub mod service;
pub mod admin;
pub mod engine;
pub mod follower;
pub mod errors;
pub mod clock;
pub mod policies;
pub mod setup;
pub mod recompute;
