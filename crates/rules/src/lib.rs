//! Gamification rules: the level condition language, the levels and badges the system
//! ships with, and the Four-leaf Clover's draw. Pure: no I/O.

#![forbid(unsafe_code)]

pub mod badges;
pub mod condition;
pub mod defaults;
