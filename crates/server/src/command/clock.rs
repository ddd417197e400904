//! The clock: a `ClockTicked` event at least every interval of wall time, so that days
//! close, planned pauses end and open intervals are counted when no one works.
//!
//! Two things hold it back, both read from the log (so a restart, or another process,
//! changes neither):
//! - In a new organization it starts with the first event after the setup, not before:
//!   a history imported into a new organization must not come after a tick at today's
//!   time.
//! - It holds off while an import runs: an import's command arrived (here, or in the log
//!   from another process) within the last [`IMPORT_HOLD_OFF`], or the log's last command
//!   from outside was an import when this process started less than that ago, so that a
//!   tick at today's time never lands in the middle of imported history and an import
//!   cut off by a restart can go on where it stopped.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::command::engine::Engine;

/// How long after an import's last command the clock (and the policies) hold back.
pub const IMPORT_HOLD_OFF: Duration = Duration::from_secs(60);

/// Ticks every `every` once work has started, except while an import runs.
pub async fn run(engine: Arc<Engine>, every: Duration, shutdown: CancellationToken) {
    tokio::select! {
        _ = shutdown.cancelled() => return,
        _ = engine.work_started() => {}
    }
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = interval.tick() => {}
        }
        if engine.import_running(IMPORT_HOLD_OFF) {
            tracing::debug!("an import is running: no tick");
            continue;
        }
        match engine.tick().await {
            Ok(position) => tracing::debug!(position, "clock ticked"),
            // The next tick comes soon enough; a log that is down is reported elsewhere.
            Err(err) => tracing::warn!("the clock could not tick: {err}"),
        }
    }
}
