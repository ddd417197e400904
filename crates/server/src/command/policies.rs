//! The policy runner: the system's own commands that react to what happened
//! (docs/TICKETS.md, Agents: presence and pauses).
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
//! - Distribution (organization setting `system_routes`, docs/DISTRIBUTION.md): a waiting
//!   chat or call is offered to the available agent the `policies` model chooses, recorded
//!   at the time the pairing became possible; an offer not answered within the routing
//!   time is missed at exactly offer time + routing time. Ids derive from the events that
//!   called for them, so two runners (a restart, a rebuild, two processes) never double
//!   an offer or a miss; the domain refuses an offer that no longer fits.
//!
//! What is owed comes from the `policies` read model, so it survives restarts; the
//! runner only issues commands.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use helpdesk_domain::command::{MissCall, MissChat, OfferChat, PauseAgent, RingCall};
use helpdesk_domain::state::{CallStatus, ChatStatus};
use helpdesk_domain::{
    AgentId, AggregateId, CallId, ChatId, Command, ConversationKind, ConversationRef, PauseReason,
    State, Timestamp,
};
use helpdesk_projections::policies::{PoliciesView, Routing};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::command::engine::{wall_clock, Engine, ExecError, Freshness, Request};

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
    // While an import runs, "now" is as far as the log's history has come: a pause
    // planned to end later in the imported day must not end ahead of the import.
    let now = if engine.import_running(crate::command::clock::IMPORT_HOLD_OFF) {
        wall_clock().min(view.handle().time())
    } else {
        wall_clock()
    };
    for (agent, planned_end) in view.due_resumes(now).map_err(|e| e.to_string())? {
        match engine.end_planned_pause_by(agent, now).await {
            Ok(()) => tracing::debug!(%agent, %planned_end, "planned pause ended"),
            Err(ExecError::Domain(err)) => {
                tracing::info!(%agent, "a planned pause end does not apply: {err}")
            }
            Err(err) => return Err(format!("cannot end agent {agent}'s planned pause: {err}")),
        }
    }
    let owed = view.auto_pauses().map_err(|e| e.to_string())?;
    refused.retain(|id| owed.iter().any(|(_, p)| p.command_id == *id));
    let owed_pause: Vec<AgentId> = owed.iter().map(|(agent, _)| *agent).collect();
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
            received: Instant::now(),
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
    distribute(engine, view, now, &owed_pause).await
}

/// Issues what the distribution has to do by `now`: misses first (they free agents and
/// put conversations back in the queue for the next look), then offers.
async fn distribute(
    engine: &Engine,
    view: &PoliciesView,
    now: Timestamp,
    owed_pause: &[AgentId],
) -> Result<(), String> {
    for step in view
        .distribution(now, owed_pause)
        .map_err(|e| e.to_string())?
    {
        let (command_id, at, command, what) = match step {
            Routing::Miss {
                conversation,
                agent,
                command_id,
                at,
            } => {
                // `MissChat` misses whoever the chat is offered to now: not someone else
                // it went to meanwhile (the agent declined by hand, and it moved on).
                if !still_offered(engine, conversation, agent).await? {
                    continue;
                }
                (command_id, at, miss(conversation), ("missed", agent))
            }
            Routing::Offer {
                conversation,
                agent,
                command_id,
                at,
            } => (
                command_id,
                at,
                offer(conversation, agent),
                ("offered", agent),
            ),
        };
        let request = Request {
            command_id: Some(command_id),
            occurred_at: Some(at),
            command,
            received: Instant::now(),
        };
        let (done, agent) = what;
        match engine.execute_as_system(request).await {
            Ok(outcome) => tracing::info!(
                %agent,
                duplicate = outcome.duplicate,
                "distribution: {done}"
            ),
            // The model was behind the log (answered meanwhile, the agent paused, …):
            // the next look sees what happened instead.
            Err(ExecError::Domain(err)) => {
                tracing::debug!(%agent, "distribution: not {done}: {err}")
            }
            Err(err) => return Err(format!("distribution: cannot record {done}: {err}")),
        }
    }
    Ok(())
}

/// Whether `conversation` is offered to (rings for) `agent`, as the log holds it now.
async fn still_offered(
    engine: &Engine,
    conversation: ConversationRef,
    agent: AgentId,
) -> Result<bool, String> {
    let id = match conversation.kind {
        ConversationKind::Call => AggregateId::call(CallId::from_uuid(conversation.id)),
        _ => AggregateId::chat(ChatId::from_uuid(conversation.id)),
    };
    let loaded = engine
        .load(id, Freshness::now())
        .await
        .map_err(|e| format!("distribution: cannot read {id:?}: {e}"))?;
    Ok(match &loaded.state {
        State::Chat(chat) => chat.status == ChatStatus::Offered(agent),
        State::Call(call) => call.status == CallStatus::Ringing(agent),
        _ => false,
    })
}

fn offer(conversation: ConversationRef, agent: AgentId) -> Command {
    match conversation.kind {
        ConversationKind::Call => RingCall {
            call: CallId::from_uuid(conversation.id),
            agent,
        }
        .into(),
        _ => OfferChat {
            chat: ChatId::from_uuid(conversation.id),
            agent,
        }
        .into(),
    }
}

fn miss(conversation: ConversationRef) -> Command {
    match conversation.kind {
        ConversationKind::Call => MissCall {
            call: CallId::from_uuid(conversation.id),
        }
        .into(),
        _ => MissChat {
            chat: ChatId::from_uuid(conversation.id),
        }
        .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use helpdesk_domain::command::AcceptChat;
    use helpdesk_domain::command::{
        GoOnline, MissChat, OfferChat, RegisterAgent, SetOrganizationSettings, StartChat,
    };
    use helpdesk_domain::event::{AgentPaused, AgentResumed, ChatMissed, ChatOffered};
    use helpdesk_domain::{
        AgentId, AggregateId, Channel, ChatId, ConversationRef, Envelope, Event, ResumeReason,
        Role, Timestamp,
    };
    use helpdesk_log::{EmbeddedConfig, EmbeddedLog, EventLog};
    use helpdesk_projections::policies::Policies;
    use helpdesk_projections::{Partition, Projector, ProjectorConfig};

    /// An engine on an embedded log, a policies projector and the runner, in one place.
    struct Desk {
        _dir: tempfile::TempDir,
        log: Arc<dyn EventLog>,
        engine: Arc<Engine>,
        shutdown: CancellationToken,
    }

    impl Desk {
        async fn new() -> Desk {
            let dir = tempfile::tempdir().unwrap();
            let log: Arc<dyn EventLog> = Arc::new(
                EmbeddedLog::open(&dir.path().join("log"), EmbeddedConfig::default()).unwrap(),
            );
            let engine = Arc::new(Engine::new(log.clone()));
            crate::command::setup::ensure(&engine, Some("test-owner"))
                .await
                .unwrap();
            Desk {
                _dir: dir,
                log,
                engine,
                shutdown: CancellationToken::new(),
            }
        }

        /// Starts a policies projector (with its own store) and a runner; returns what the
        /// runner reads.
        fn start_policies(&self, store: &std::path::Path) -> PoliciesView {
            let mut config = ProjectorConfig::new(store);
            config.partition = Partition::ALL;
            let projector = Projector::open(Policies, self.log.clone(), config).unwrap();
            let view = PoliciesView::new(projector.handle());
            tokio::spawn(projector.run(self.shutdown.clone()));
            tokio::spawn(run(
                self.engine.clone(),
                view.clone(),
                self.shutdown.clone(),
            ));
            view
        }

        /// Starts a policies projector only (no runner): a test then does a look itself,
        /// at a `now` of its choosing.
        fn start_model(&self, store: &std::path::Path) -> PoliciesView {
            let mut config = ProjectorConfig::new(store);
            config.partition = Partition::ALL;
            let projector = Projector::open(Policies, self.log.clone(), config).unwrap();
            let view = PoliciesView::new(projector.handle());
            tokio::spawn(projector.run(self.shutdown.clone()));
            view
        }

        /// Waits (up to 10 s) until `view` has read the whole log.
        async fn caught_up(&self, view: &PoliciesView) {
            let end = self.log.last_position().await.unwrap();
            view.handle()
                .wait_for(end, Duration::from_secs(10))
                .await
                .expect("the policies model reads the whole log within 10 s");
        }

        /// The chat's events, read straight from the log.
        async fn chat_events(&self, chat: ChatId) -> Vec<(Timestamp, Event)> {
            self.log
                .read_subject(&AggregateId::chat(chat).subject(), 0)
                .await
                .unwrap()
                .iter()
                .map(|stored| Envelope::decode(&stored.payload).unwrap())
                .flat_map(|e| e.events.into_iter().map(move |ev| (e.occurred_at, ev)))
                .collect()
        }

        /// Waits (up to 10 s) until `view` has read the whole log, then does what its
        /// runner does on each look, once more, and waits for it: whatever that runner
        /// would ever issue for what has happened so far is in the log when this returns.
        async fn look_when_caught_up(&self, view: &PoliciesView) {
            let end = self.log.last_position().await.unwrap();
            view.handle()
                .wait_for(end, Duration::from_secs(10))
                .await
                .expect("the policies model reads the whole log within 10 s");
            look(&self.engine, view, &mut HashSet::new()).await.unwrap();
        }

        async fn run(&self, at: Option<Timestamp>, command: impl Into<Command>) {
            self.engine
                .execute_as_system(Request {
                    command_id: None,
                    occurred_at: at,
                    command: command.into(),
                    received: Instant::now(),
                })
                .await
                .unwrap();
        }

        async fn agent(&self, at: Timestamp) -> AgentId {
            let agent = AgentId::from_uuid(Uuid::now_v7());
            self.run(
                Some(at),
                RegisterAgent {
                    agent_id: agent,
                    name: "Ada".into(),
                    email: "ada@example.com".into(),
                    role: Role::Agent,
                },
            )
            .await;
            self.run(Some(at), GoOnline { agent }).await;
            agent
        }

        /// The agent's envelopes, read straight from the log.
        async fn history(&self, agent: AgentId) -> Vec<Envelope> {
            self.log
                .read_subject(&AggregateId::agent(agent).subject(), 0)
                .await
                .unwrap()
                .iter()
                .map(|stored| Envelope::decode(&stored.payload).unwrap())
                .collect()
        }

        /// Waits (up to 10 s) until the agent's history has `n` envelopes.
        async fn history_of_len(&self, agent: AgentId, n: usize) -> Vec<Envelope> {
            for _ in 0..100 {
                let history = self.history(agent).await;
                if history.len() >= n {
                    return history;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            self.history(agent).await
        }
    }

    #[tokio::test]
    async fn a_planned_pause_ends_at_its_planned_end_once() {
        let desk = Desk::new().await;
        let start = Timestamp::from_millis(wall_clock().millis() - 10 * 60_000);
        let agent = desk.agent(start).await;
        // Paused for 2 minutes, 10 minutes ago (an import): the end passed while no
        // policy ran, as if the service had been down.
        desk.run(
            Some(start.plus_minutes(1)),
            PauseAgent {
                agent,
                reason: PauseReason::Text("lunch".into()),
                planned_minutes: Some(2),
            },
        )
        .await;
        let stores = tempfile::tempdir().unwrap();
        desk.start_policies(stores.path());
        let history = desk.history_of_len(agent, 4).await;
        let last = history.last().unwrap();
        assert_eq!(
            last.events,
            vec![Event::AgentResumed(AgentResumed {
                agent,
                reason: ResumeReason::PlannedEnd,
            })]
        );
        assert_eq!(
            last.occurred_at,
            start.plus_minutes(3),
            "exactly at the planned end"
        );

        // A second runner with a store of its own (a rebuild, another process) adds nothing.
        let other = tempfile::tempdir().unwrap();
        let view = desk.start_policies(other.path());
        desk.look_when_caught_up(&view).await;
        assert_eq!(desk.history(agent).await.len(), 4);
        desk.shutdown.cancel();
    }

    #[tokio::test]
    async fn a_miss_pauses_the_agent_when_auto_pause_is_on() {
        let desk = Desk::new().await;
        let stores = tempfile::tempdir().unwrap();
        desk.start_policies(stores.path());
        desk.run(
            None,
            SetOrganizationSettings {
                time_zone: None,
                auto_pause: Some(true),
                clover_odds: None,
                seed: None,
                max_custom_roles: None,
                system_routes: None,
                routing_seconds: None,
            },
        )
        .await;
        let agent = desk.agent(wall_clock()).await;
        let chat = ChatId::from_uuid(Uuid::now_v7());
        desk.run(
            None,
            StartChat {
                chat_id: chat,
                channel: Channel::Chat,
                department: None,
            },
        )
        .await;
        desk.run(None, OfferChat { chat, agent }).await;
        desk.run(None, MissChat { chat }).await;

        let history = desk.history_of_len(agent, 3).await;
        assert_eq!(history.len(), 3, "registered, online, auto-paused");
        assert_eq!(
            history[2].events,
            vec![Event::AgentPaused(AgentPaused {
                agent,
                reason: PauseReason::AutoMissed {
                    conversation: ConversationRef::chat(chat),
                },
                planned_end: None,
            })]
        );
        // A second runner (a rebuild, another process) does not pause twice.
        let other = tempfile::tempdir().unwrap();
        let view = desk.start_policies(other.path());
        desk.look_when_caught_up(&view).await;
        assert_eq!(desk.history(agent).await.len(), 3);
        desk.shutdown.cancel();
    }

    #[tokio::test]
    async fn no_auto_pause_when_the_setting_is_off() {
        let desk = Desk::new().await;
        let stores = tempfile::tempdir().unwrap();
        let view = desk.start_policies(stores.path());
        let agent = desk.agent(wall_clock()).await;
        let chat = ChatId::from_uuid(Uuid::now_v7());
        desk.run(
            None,
            StartChat {
                chat_id: chat,
                channel: Channel::Chat,
                department: None,
            },
        )
        .await;
        desk.run(None, OfferChat { chat, agent }).await;
        desk.run(None, MissChat { chat }).await;
        desk.look_when_caught_up(&view).await;
        assert_eq!(
            desk.history(agent).await.len(),
            2,
            "registered and online only"
        );
        desk.shutdown.cancel();
    }

    /// The agents `view` owes an auto-pause, as [`look`] reads them for the distribution.
    fn owed_pauses(view: &PoliciesView) -> Vec<AgentId> {
        let owed = view.auto_pauses().unwrap();
        owed.into_iter().map(|(agent, _)| agent).collect()
    }

    /// The distribution's choice (docs/DISTRIBUTION.md): the longest idle first, then
    /// the smallest id; an agent with an offer waiting gets no second one; a miss is
    /// recorded at offer time + routing time and moves the chat on.
    #[tokio::test]
    async fn the_distribution_offers_to_the_longest_idle_and_misses_after_the_routing_time() {
        let desk = Desk::new().await;
        let t0 = Timestamp::from_millis(1_740_992_400_000);
        let minute = |m: i64| t0.plus_minutes(m);
        desk.run(
            Some(t0),
            SetOrganizationSettings {
                time_zone: None,
                auto_pause: None,
                clover_odds: None,
                seed: None,
                max_custom_roles: None,
                system_routes: Some(true),
                routing_seconds: Some(600),
            },
        )
        .await;
        let ada = desk.agent(minute(1)).await;
        let (bob, cy) = {
            let x = desk.agent(minute(2)).await;
            let y = desk.agent(minute(2)).await;
            (x.min(y), x.max(y))
        };
        let stores = tempfile::tempdir().unwrap();
        let view = desk.start_model(stores.path());
        let start = |chat: ChatId, at: Timestamp| {
            desk.run(
                Some(at),
                StartChat {
                    chat_id: chat,
                    channel: Channel::Chat,
                    department: None,
                },
            )
        };
        let (d, v) = (&desk, &view);
        let look = move |now: Timestamp| async move {
            d.caught_up(v).await;
            distribute(&d.engine, v, now, &owed_pauses(v))
                .await
                .unwrap();
            d.caught_up(v).await;
        };
        let (c1, c2, c3) = (
            ChatId::from_uuid(Uuid::now_v7()),
            ChatId::from_uuid(Uuid::now_v7()),
            ChatId::from_uuid(Uuid::now_v7()),
        );
        // Ada has been online longest; then Bob and Cy, at the same time: the smaller id.
        start(c1, minute(5)).await;
        look(minute(5)).await;
        start(c2, minute(6)).await;
        look(minute(6)).await;
        let offered = |chat, agent| Event::ChatOffered(ChatOffered { chat, agent });
        assert_eq!(desk.chat_events(c1).await[1], (minute(5), offered(c1, ada)));
        assert_eq!(desk.chat_events(c2).await[1], (minute(6), offered(c2, bob)));
        // Ada accepts; the third chat goes to Cy, idle since 09:02 (Ada since her offer).
        desk.run(
            Some(minute(7)),
            AcceptChat {
                chat: c1,
                agent: Some(ada),
            },
        )
        .await;
        start(c3, minute(8)).await;
        look(minute(8)).await;
        assert_eq!(desk.chat_events(c3).await[1], (minute(8), offered(c3, cy)));
        // Bob's offer (09:06) is not missed before 09:16, then exactly then; the chat goes
        // to the one agent free who has not missed it: Ada.
        look(minute(16).plus_millis(-1)).await;
        assert_eq!(desk.chat_events(c2).await.len(), 2);
        look(minute(17)).await;
        look(minute(17)).await;
        let events = desk.chat_events(c2).await;
        assert_eq!(
            events[2],
            (
                minute(16),
                Event::ChatMissed(ChatMissed {
                    chat: c2,
                    agent: bob
                })
            )
        );
        assert_eq!(
            events[3],
            (minute(16), offered(c2, ada)),
            "offered at the miss: Ada is free since her accept at 09:07"
        );
        // A second model (a rebuild) looking at the same log adds nothing.
        let other = tempfile::tempdir().unwrap();
        let rebuilt = desk.start_model(other.path());
        desk.caught_up(&rebuilt).await;
        distribute(&desk.engine, &rebuilt, minute(17), &owed_pauses(&rebuilt))
            .await
            .unwrap();
        assert_eq!(desk.chat_events(c2).await, events);
        desk.shutdown.cancel();
    }
}
