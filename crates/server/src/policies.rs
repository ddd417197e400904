//! The policy runner: the system's own commands that react to what happened (SPEC §3).
//!
//! - A planned pause ends at its planned end: `AgentResumed{planned_end}` recorded at
//!   exactly that time, also when the service was down then (it is done on the next
//!   start). Its command id derives from the pause's, so the engine (which ends a due
//!   pause before any other command on the agent) and this runner never double it.
//! - Auto-pause (organization setting): an agent who misses a chat or call is paused
//!   (`reason: auto_missed`) at the time of the miss, with a command id derived from the
//!   miss's. If something happened to the agent first (they went offline, paused, …)
//!   the pause no longer fits and is let go.
//!
//! What is owed comes from the `policies` read model, so it survives restarts; the
//! runner only issues commands.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use helpdesk_domain::command::PauseAgent;
use helpdesk_domain::{Command, PauseReason};
use helpdesk_projections::policies::PoliciesView;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::engine::{wall_clock, Engine, ExecError, Request};

/// The longest the runner sleeps between looks (a pause planned in a minute is ended
/// within this of its end).
const LOOK_EVERY: Duration = Duration::from_secs(1);

pub async fn run(engine: Arc<Engine>, view: PoliciesView, shutdown: CancellationToken) {
    let mut position = view.handle().clone();
    // Auto-pauses tried and refused: the model forgets them with the agent's next event.
    let mut refused: HashSet<Uuid> = HashSet::new();
    loop {
        if let Err(err) = look(&engine, &view, &mut refused).await {
            tracing::warn!("policies: {err}; trying again shortly");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(LOOK_EVERY) => {}
            _ = position.changed() => {}
        }
    }
}

async fn look(
    engine: &Engine,
    view: &PoliciesView,
    refused: &mut HashSet<Uuid>,
) -> Result<(), String> {
    for (agent, planned_end) in view.due_resumes(wall_clock()).map_err(|e| e.to_string())? {
        match engine.end_planned_pause_now(agent).await {
            Ok(()) => tracing::debug!(%agent, %planned_end, "planned pause ended"),
            Err(ExecError::Domain(err)) => {
                tracing::info!(%agent, "a planned pause end does not apply: {err}")
            }
            Err(err) => return Err(format!("cannot end agent {agent}'s planned pause: {err}")),
        }
    }
    let owed = view.auto_pauses().map_err(|e| e.to_string())?;
    refused.retain(|id| owed.iter().any(|(_, p)| p.command_id == *id));
    for (agent, pause) in owed {
        if refused.contains(&pause.command_id) {
            continue;
        }
        let request = Request {
            command_id: Some(pause.command_id),
            occurred_at: Some(pause.missed_at),
            command: Command::PauseAgent(PauseAgent {
                agent,
                reason: PauseReason::AutoMissed {
                    conversation: pause.conversation,
                },
                planned_minutes: None,
            }),
        };
        match engine.execute_as_system(request).await {
            Ok(outcome) => tracing::info!(
                %agent,
                conversation = %pause.conversation.id,
                duplicate = outcome.duplicate,
                "auto-paused after a miss"
            ),
            Err(ExecError::Domain(err)) => {
                tracing::info!(%agent, "auto-pause after a miss does not apply: {err}");
                refused.insert(pause.command_id);
            }
            Err(err) => return Err(format!("cannot auto-pause agent {agent}: {err}")),
        }
    }
    Ok(())
}
