//! The replays of a recompute (docs/STATISTICS.md, Levels and Badges): the live model as
//! it stands and the recompute's model, folded in **one pass** over the log into scratch
//! stores, and read back for the caller to compare.
//!
//! A recompute with today's definitions needs them before the pass: the levels' ladder
//! comes from the caller (the command side's configuration), the badge definitions from
//! the configuration's own events ([`badges::definitions_after`]), read from the log
//! first (a few messages).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use helpdesk_domain::state::Level;
use helpdesk_domain::{AggregateId, Envelope};
use helpdesk_log::{EventLog, LogError, Position};
use uuid::Uuid;

use crate::badges::{self, BadgeDef, Badges, BadgesView, Evaluation};
use crate::calendar::Day;
use crate::levels::{self, Levels, LevelsView, Reached};
use crate::runtime::{CatchUpError, ModelError, ProjectorConfig, Projectors};

/// Why a recompute's replays failed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    CatchUp(#[from] CatchUpError),
    #[error("reading a replayed model failed: {0}")]
    Model(#[from] ModelError),
    #[error("the event log failed: {0}")]
    Log(#[from] LogError),
}

impl From<crate::runtime::ProjectionError> for ReplayError {
    fn from(err: crate::runtime::ProjectionError) -> Self {
        ReplayError::CatchUp(err.into())
    }
}

/// Levels reached, per agent and level.
pub type ReachedLevels = BTreeMap<Uuid, BTreeMap<Uuid, Reached>>;

/// What the two level replays reached.
pub struct LevelReplays {
    pub live: ReachedLevels,
    /// The live model's ladder at the end (for level names).
    pub live_ladder: Vec<Level>,
    pub recomputed: ReachedLevels,
    /// The log position both went up to.
    pub replayed_to: Position,
}

/// Badge evaluations, per badge and day.
pub type Evaluations = BTreeMap<(String, Day), Evaluation>;

/// What the two badge replays evaluated.
pub struct BadgeReplays {
    pub live: Evaluations,
    pub recomputed: Evaluations,
    /// The log position both went up to.
    pub replayed_to: Position,
}

/// The scratch configuration: a small sled cache (the models live in memory).
fn config(scratch: &Path) -> ProjectorConfig {
    let mut config = ProjectorConfig::new(scratch);
    config.cache_bytes = 16 * 1024 * 1024;
    config
}

/// Replays the live levels model and one in `mode` in one pass, into stores under
/// `scratch`; `progress` is told the position reached and the end after each batch.
pub async fn replay_levels(
    log: Arc<dyn EventLog>,
    scratch: &Path,
    mode: levels::Mode,
    progress: impl FnMut(Position, Position) + Send,
) -> Result<LevelReplays, ReplayError> {
    let mut pass = Projectors::new(log, config(scratch));
    let live = LevelsView::new(pass.add_in(Levels::new(), &scratch.join("live"))?);
    let recomputed =
        LevelsView::new(pass.add_in(Levels::with_mode(mode), &scratch.join("replay"))?);
    let replayed_to = pass.catch_up(progress).await?;
    Ok(LevelReplays {
        live: live.all_reached()?,
        live_ladder: live.ladder()?,
        recomputed: recomputed.all_reached()?,
        replayed_to,
    })
}

/// Which badge definitions a recompute evaluates with.
pub enum BadgeDefinitions {
    /// Those in force at each midnight (undoes the recomputes applied before).
    AsItHappened,
    /// Today's, for all of history.
    Todays,
}

/// Replays the live badges model and a recompute's in one pass, into stores under
/// `scratch`; `progress` is told the position reached and the end after each batch.
pub async fn replay_badges(
    log: Arc<dyn EventLog>,
    scratch: &Path,
    definitions: BadgeDefinitions,
    progress: impl FnMut(Position, Position) + Send,
) -> Result<BadgeReplays, ReplayError> {
    let mode = match definitions {
        BadgeDefinitions::AsItHappened => badges::Mode::AsItHappened,
        BadgeDefinitions::Todays => badges::Mode::TodaysDefinitions(todays_badges(&*log).await?),
    };
    let mut pass = Projectors::new(log, config(scratch));
    let live = BadgesView::new(pass.add_in(Badges::new(), &scratch.join("live"))?);
    let recomputed =
        BadgesView::new(pass.add_in(Badges::with_mode(mode), &scratch.join("replay"))?);
    let replayed_to = pass.catch_up(progress).await?;
    Ok(BadgeReplays {
        live: live.all_evaluations()?,
        recomputed: recomputed.all_evaluations()?,
        replayed_to,
    })
}

/// Today's badge definitions, from the configuration's events.
async fn todays_badges(log: &dyn EventLog) -> Result<BTreeMap<String, BadgeDef>, ReplayError> {
    let messages = log
        .read_subject(&AggregateId::config().subject(), 0)
        .await?;
    // A configuration message that does not decode is set aside by the models too.
    let envelopes: Vec<Envelope> = messages
        .iter()
        .filter_map(|stored| Envelope::decode(&stored.payload).ok())
        .collect();
    Ok(badges::definitions_after(
        envelopes.iter().flat_map(|envelope| &envelope.events),
    ))
}
