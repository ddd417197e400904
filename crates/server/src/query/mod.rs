//! The query side: one service per read model, each answering from its projector's
//! store after the shared preamble (who is asking, how far the model must have read).

pub mod preamble;
pub mod answer_cache;
pub mod tickets;
pub mod stats;
pub mod levels;
pub mod badges;
pub mod reports;
