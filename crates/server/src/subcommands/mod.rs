//! The `helpdesk` subcommands: each puts the command side, the query side and the
//! operations together for one way of running the system.

pub mod commands;
pub mod dev;
pub mod owner_token;
pub mod project;
pub mod replay;
pub mod serve;
pub mod simulate;
