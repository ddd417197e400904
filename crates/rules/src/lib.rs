//! Gamification rules: the level condition language and the definitions the system ships
//! with. Pure: no I/O.

#![forbid(unsafe_code)]

pub mod condition;
pub mod defaults;
