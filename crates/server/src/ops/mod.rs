//! Running a process: its pieces and how it stops, the gRPC server (and its JSON API), TLS and limits,
//! health and metrics over HTTP, logging, and which event log it uses.

pub mod connect;
pub mod event_log;
pub mod grpc;
pub mod logs;
pub mod metrics;
pub mod plaintext;
pub mod process;
pub mod security;
