//! The clock.

use serde::{Deserialize, Serialize};

use super::CommandBody;
use crate::aggregate::AggregateId;

/// System only: appends `ClockTicked` (docs/STATISTICS.md, Time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tick {}

impl CommandBody for Tick {
    fn target(&self) -> AggregateId {
        AggregateId::clock()
    }
}
