//! The clock: a `ClockTicked` event at least every interval of wall time, so that days
//! close, planned pauses end and open intervals are counted when no one works (SPEC §1).
//!
//! It holds off while an import runs (a command with a caller-supplied time arrived
//! within the last interval), so that a tick at today's time never lands in the middle of
//! imported history; in a new organization it starts with the first command from outside.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::engine::Engine;

/// Ticks every `every`. With `fresh` (an organization set up by this start) the clock
/// starts with the first command from outside, not before: a history imported into a
/// new organization must not come after a tick at today's time (SPEC §1).
pub async fn run(engine: Arc<Engine>, every: Duration, fresh: bool, shutdown: CancellationToken) {
    if fresh {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = engine.worked() => {}
        }
    }
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = interval.tick() => {}
        }
        if engine.import_running(every) {
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
