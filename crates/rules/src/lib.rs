//! Gamification rules: the level condition language and the definitions the system ships
//! with. Pure: no I/O.

pub mod condition;
pub mod defaults;
