//! The query side: one service per read model, each answering from its projector's
//! store after the shared preamble (who is asking, how far the model must have read).

pub mod answer_cache;
pub mod badges;
pub mod levels;
pub mod preamble;
pub mod ranking;
pub mod reports;
pub mod roster;
pub mod stats;
pub mod tickets;
