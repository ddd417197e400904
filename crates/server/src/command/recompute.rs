//! Recomputing levels and badges (docs/STATISTICS.md, Levels and Badges): replay the
//! history beside the live model and compare.
//!
//! Two models folded in one pass over the log (`helpdesk_projections::recompute`), each
//! into a scratch store under `<data dir>/recompute/`: the live model as it stands (definitions in force at each moment, recomputes applied)
//! and the recompute's replay (without the recomputes applied before; with the
//! definitions in force at each moment, or today's for all of it). What one reached and
//! the other did not is the preview; applying it appends exactly that
//! (`LevelsRecomputed`), so every later replay of the log gets the same levels. Working
//! from the log alone, it runs in the process of the command side even when the levels
//! model runs elsewhere. Each runs as an operation (`operations.rs`) that reports the
//! replays' progress.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use helpdesk_domain::state::Level;
use helpdesk_domain::RecomputeMode;
use helpdesk_log::{EventLog, Position};
use helpdesk_projections::badges::Evaluation;
use helpdesk_projections::calendar::Day;
use helpdesk_projections::levels::{diff, Diff, Mode};
use helpdesk_projections::recompute::{
    replay_badges, replay_levels, BadgeDefinitions, BadgeReplays,
};
use uuid::Uuid;

use crate::command::engine::{Engine, ExecError, Freshness};

/// What a recompute found, with the level names to show it.
pub struct Found {
    pub diff: Diff,
    /// Level names, from today's ladder and the live replay's.
    pub names: BTreeMap<Uuid, String>,
    /// The log position both replays went up to.
    pub replayed_to: Position,
}

/// Why a recompute could not be worked out.
#[derive(Debug, thiserror::Error)]
pub enum RecomputeError {
    #[error(transparent)]
    Exec(#[from] ExecError),
    #[error("the recompute's replay failed: {0}")]
    Replay(String),
}

/// Told after each batch of the replay: the position reached and the one aimed at.
pub type ReplayProgress<'a> = dyn Fn(Position, Position) + Sync + 'a;

/// Replays the log both ways (in one pass) and compares.
pub async fn find(
    engine: &Engine,
    log: Arc<dyn EventLog>,
    data_dir: &Path,
    mode: RecomputeMode,
    progress: &ReplayProgress<'_>,
) -> Result<Found, RecomputeError> {
    let config = engine.load_config(Freshness::now()).await?;
    let today: Vec<Level> = config.levels.clone();
    let scratch = Scratch::new(data_dir)?;
    let replay_mode = match mode {
        RecomputeMode::AsItHappened => Mode::AsItHappened,
        RecomputeMode::TodaysDefinitions => Mode::TodaysDefinitions(today.clone()),
    };
    let started = std::time::Instant::now();
    let replays = replay_levels(log, &scratch.path, replay_mode, progress)
        .await
        .map_err(|e| RecomputeError::Replay(e.to_string()))?;
    tracing::info!(
        position = replays.replayed_to,
        seconds = started.elapsed().as_secs_f64(),
        "level recompute replay done"
    );
    let mut names: BTreeMap<Uuid, String> = replays
        .live_ladder
        .iter()
        .map(|l| (l.level_id.uuid(), l.name.clone()))
        .collect();
    names.extend(today.iter().map(|l| (l.level_id.uuid(), l.name.clone())));
    Ok(Found {
        diff: diff(&replays.live, &replays.recomputed),
        names,
        replayed_to: replays.replayed_to,
    })
}

/// A scratch directory, removed when dropped.
struct Scratch {
    path: PathBuf,
}

impl Scratch {
    fn new(data_dir: &Path) -> Result<Scratch, RecomputeError> {
        let path = data_dir
            .join("recompute")
            .join(Uuid::now_v7().simple().to_string());
        std::fs::create_dir_all(&path).map_err(|e| {
            RecomputeError::Replay(format!("cannot create {}: {e}", path.display()))
        })?;
        Ok(Scratch { path })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(err) = std::fs::remove_dir_all(&self.path) {
            tracing::warn!(path = %self.path.display(), "cannot remove a recompute's scratch store: {err}");
        }
    }
}

// ---------------------------------------------------------------------------------- badges

/// One badge evaluation that differs between the live model and the replay.
pub struct BadgeChange {
    pub key: String,
    pub day: Day,
    pub before: Option<Evaluation>,
    /// What the replay found; `None` when the replay has no such evaluation (the badge
    /// is not evaluated with those definitions): applied as an evaluation without holders.
    pub after: Option<Evaluation>,
}

/// What a badge recompute found.
pub struct FoundBadges {
    pub changes: Vec<BadgeChange>,
    pub replayed_to: Position,
}

/// Replays the log into a live badges model and a recompute's (in one pass), and
/// compares evaluations.
pub async fn find_badges(
    log: Arc<dyn EventLog>,
    data_dir: &Path,
    mode: RecomputeMode,
    progress: &ReplayProgress<'_>,
) -> Result<FoundBadges, RecomputeError> {
    let scratch = Scratch::new(data_dir)?;
    let definitions = match mode {
        RecomputeMode::AsItHappened => BadgeDefinitions::AsItHappened,
        RecomputeMode::TodaysDefinitions => BadgeDefinitions::Todays,
    };
    let BadgeReplays {
        live,
        recomputed,
        replayed_to,
    } = replay_badges(log, &scratch.path, definitions, progress)
        .await
        .map_err(|e| RecomputeError::Replay(e.to_string()))?;
    let mut changes = Vec::new();
    let keys: std::collections::BTreeSet<&(String, Day)> =
        live.keys().chain(recomputed.keys()).collect();
    for key in keys {
        let (before, after) = (live.get(key), recomputed.get(key));
        // An evaluation nobody holds is what "not evaluated" was applied as.
        let nobody =
            |e: Option<&Evaluation>| e.is_none_or(|e| e.holders.is_empty() && e.value.is_none());
        if before != after && !(nobody(before) && nobody(after)) {
            changes.push(BadgeChange {
                key: key.0.clone(),
                day: key.1,
                before: before.cloned(),
                after: after.cloned(),
            });
        }
    }
    Ok(FoundBadges {
        changes,
        replayed_to,
    })
}
