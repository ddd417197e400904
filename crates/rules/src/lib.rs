//! Gamification rules: the level condition language (coming with the levels issue) and
//! the definitions the system ships with.

pub mod defaults;
