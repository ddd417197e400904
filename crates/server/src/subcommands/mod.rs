//! The `helpdesk` subcommands: each puts the command side, the query side and the
//! operations together for one way of running the system.

pub mod dev;
pub mod commands;
pub mod project;
pub mod replay;
pub mod simulate;
pub mod owner_token;
