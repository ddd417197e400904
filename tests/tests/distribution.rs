//! Automatic distribution end to end (docs/DISTRIBUTION.md), on the embedded log and on
//! NATS. With `system_routes` on, a chat started in a department with one free member
//! (the others paused, offline, or outside it) is offered to that member only; the
//! routing time passes (pinned times: the next command comes a minute later) and the
//! miss is recorded at offer time + 30 s, the agent auto-paused; the chat waits in the
//! queue until an agent resumes, and is offered to them at the resume's time. A call
//! waits the same way, rings for an agent who goes online, is missed, and rings for the
//! next who resumes. The roster shows the presences as they change, offering by hand is
//! refused while the system routes, a bad routing time changes nothing, and a rebuild of
//! the policies model from the log adds no offer (the same ids, the same times).
//!
//! Needs the binaries (`cargo build -p helpdesk-server -p helpdesk-cli`) and
//! `nats-server`.

use std::future::Future;
use std::time::Duration;

use helpdesk_api::{
    pb, AdminServiceClient, CommandServiceClient, ConfigServiceClient, RosterServiceClient,
    StatsServiceClient,
};
use helpdesk_tests::workload::{assert_same_records, model_checkpoint, model_records};
use helpdesk_tests::{helpdesk_bin, with_token, Helpdesk, NatsServer, HISTORY_START};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

const MINUTE: i64 = 60_000;
/// 09:00 on the first day of the tests' history: every command is pinned to it.
const T0: i64 = HISTORY_START + 9 * 60 * MINUTE;

fn auth<T>(token: &str, message: T) -> Request<T> {
    with_token(Request::new(message), token)
}

/// `minute` minutes and `second` seconds after 09:00.
fn at_s(minute: i64, second: i64) -> Option<prost_types::Timestamp> {
    let millis = T0 + minute * MINUTE + second * 1000;
    Some(prost_types::Timestamp {
        seconds: millis.div_euclid(1000),
        nanos: 0,
    })
}

fn at(minute: i64) -> Option<prost_types::Timestamp> {
    at_s(minute, 0)
}

fn read(position: u64) -> Option<pb::ReadOptions> {
    Some(pb::ReadOptions {
        min_position: position,
        wait_ms: 30_000,
    })
}

/// Tries `attempt` every 100 ms for up to 20 s, until it gives `Some`.
async fn eventually<T, F: Future<Output = anyhow::Result<Option<T>>>>(
    what: &str,
    mut attempt: impl FnMut() -> F,
) -> anyhow::Result<T> {
    for _ in 0..200 {
        if let Some(value) = attempt().await? {
            return Ok(value);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("{what}: not within 20 s")
}

/// The desk of the story: a server, its Owner and the commands in people's terms.
struct Desk {
    channel: Channel,
    owner: String,
}

impl Desk {
    fn commands(&self) -> CommandServiceClient<Channel> {
        CommandServiceClient::new(self.channel.clone())
    }

    fn auth<T>(&self, message: T) -> Request<T> {
        auth(&self.owner, message)
    }

    async fn agent(&self, name: &str) -> anyhow::Result<String> {
        Ok(self
            .commands()
            .register_agent(self.auth(pb::RegisterAgentRequest {
                occurred_at: at(1),
                name: name.into(),
                email: format!("{}@example.com", name.to_lowercase()),
                role: Some(pb::RoleRef {
                    role: Some(pb::role_ref::Role::Builtin(pb::BuiltinRole::Agent as i32)),
                }),
                ..Default::default()
            }))
            .await?
            .into_inner()
            .aggregate_id)
    }

    async fn online(&self, agent: &str, minute: i64) -> anyhow::Result<u64> {
        Ok(self
            .commands()
            .go_online(self.auth(pb::GoOnlineRequest {
                occurred_at: at(minute),
                agent_id: agent.into(),
                ..Default::default()
            }))
            .await?
            .into_inner()
            .position)
    }

    async fn pause(&self, agent: &str, minute: i64) -> anyhow::Result<u64> {
        Ok(self
            .commands()
            .pause_agent(self.auth(pb::PauseAgentRequest {
                occurred_at: at(minute),
                agent_id: agent.into(),
                ..Default::default()
            }))
            .await?
            .into_inner()
            .position)
    }

    async fn resume(&self, agent: &str, minute: i64) -> anyhow::Result<u64> {
        Ok(self
            .commands()
            .resume_agent(self.auth(pb::ResumeAgentRequest {
                occurred_at: at(minute),
                agent_id: agent.into(),
                ..Default::default()
            }))
            .await?
            .into_inner()
            .position)
    }

    /// Time passes: a ticket nobody routes, created at `minute`:`second`, moves the log's
    /// time on (while an import runs, the distribution's "now" is the log's time).
    async fn time_passes_to(&self, minute: i64, second: i64) -> anyhow::Result<u64> {
        Ok(self
            .commands()
            .create_ticket(self.auth(pb::CreateTicketRequest {
                occurred_at: at_s(minute, second),
                channel: pb::Channel::Email as i32,
                priority: pb::Priority::Normal as i32,
                subject: format!("{minute}:{second}"),
                ..Default::default()
            }))
            .await?
            .into_inner()
            .position)
    }

    /// `agent` accepts `chat` at `minute`, once it is offered to them.
    async fn accept_chat(&self, chat: &str, agent: &str, minute: i64) -> anyhow::Result<u64> {
        eventually("the chat offered", || async {
            let answer = self
                .commands()
                .accept_chat(self.auth(pb::AcceptChatRequest {
                    occurred_at: at(minute),
                    chat_id: chat.into(),
                    agent_id: agent.into(),
                    ..Default::default()
                }))
                .await;
            not_yet(answer.map(|r| r.into_inner().position))
        })
        .await
    }

    /// `agent` answers `call` at `minute`, once it rings for them.
    async fn answer_call(&self, call: &str, agent: &str, minute: i64) -> anyhow::Result<u64> {
        eventually("the call ringing", || async {
            let answer = self
                .commands()
                .answer_call(self.auth(pb::AnswerCallRequest {
                    occurred_at: at(minute),
                    call_id: call.into(),
                    agent_id: agent.into(),
                    ..Default::default()
                }))
                .await;
            not_yet(answer.map(|r| r.into_inner().position))
        })
        .await
    }

    /// One of `agent`'s all-time counters, once it is `expected` (the distribution
    /// records misses by itself, at no position the test knows).
    async fn counter_becomes(&self, agent: &str, name: &str, expected: u64) -> anyhow::Result<()> {
        eventually(&format!("{name} = {expected}"), || async {
            Ok((self.counter(agent, name, 0).await? == expected).then_some(()))
        })
        .await
        .map_err(|e| e.context(format!("{name} of agent {agent}")))
    }

    async fn counter(&self, agent: &str, name: &str, position: u64) -> anyhow::Result<u64> {
        let stats = StatsServiceClient::new(self.channel.clone())
            .get_agent_stats(self.auth(pb::GetAgentStatsRequest {
                agent_id: agent.into(),
                read: read(position),
                ..Default::default()
            }))
            .await?
            .into_inner();
        Ok(stats.counters.get(name).copied().unwrap_or(0))
    }

    async fn roster(&self, agent: &str, position: u64) -> anyhow::Result<pb::RosterAgent> {
        Ok(RosterServiceClient::new(self.channel.clone())
            .get_agent(self.auth(pb::GetAgentRequest {
                agent_id: agent.into(),
                read: read(position),
            }))
            .await?
            .into_inner()
            .agent
            .expect("an agent"))
    }

    /// The agent's presence in the roster, once it is `expected` (and since when).
    async fn presence_becomes(
        &self,
        agent: &str,
        expected: pb::Presence,
    ) -> anyhow::Result<pb::RosterAgent> {
        eventually(&format!("{expected:?}"), || async {
            let a = self.roster(agent, 0).await?;
            Ok((a.presence == expected as i32).then_some(a))
        })
        .await
    }

    async fn log_position(&self) -> anyhow::Result<u64> {
        Ok(AdminServiceClient::new(self.channel.clone())
            .get_log_clock(self.auth(pb::GetLogClockRequest::default()))
            .await?
            .into_inner()
            .position)
    }
}

/// A refusal because the conversation is not (yet) offered to the agent is "not yet".
fn not_yet(answer: Result<u64, Status>) -> anyhow::Result<Option<u64>> {
    match answer {
        Ok(position) => Ok(Some(position)),
        Err(status) if status.code() == Code::FailedPrecondition => Ok(None),
        Err(status) => Err(status.into()),
    }
}

async fn story(mut helpdesk: Helpdesk) -> anyhow::Result<()> {
    let owner = helpdesk.token().to_owned();
    let channel = helpdesk.channel().await?;
    let desk = Desk {
        channel: channel.clone(),
        owner: owner.clone(),
    };
    let mut commands = desk.commands();
    let mut config = ConfigServiceClient::new(channel.clone());

    // The system routes, with auto-pause on; the routing time stays the default.
    let set = commands
        .set_organization_settings(desk.auth(pb::SetOrganizationSettingsRequest {
            occurred_at: at(0),
            system_routes: Some(true),
            auto_pause: Some(true),
            ..Default::default()
        }))
        .await?
        .into_inner()
        .position;
    let settings = config
        .get_organization_settings(
            desk.auth(pb::GetOrganizationSettingsRequest { read: read(set) }),
        )
        .await?
        .into_inner();
    assert!(settings.system_routes);
    assert!(settings.auto_pause);
    assert_eq!(settings.routing_seconds, 30);

    // Billing: Ada, Bob and Cy. Dee is in no department.
    let billing = commands
        .create_department(desk.auth(pb::CreateDepartmentRequest {
            occurred_at: at(0),
            name: "Billing".into(),
            ..Default::default()
        }))
        .await?
        .into_inner()
        .aggregate_id;
    let ada = desk.agent("Ada").await?;
    let bob = desk.agent("Bob").await?;
    let cy = desk.agent("Cy").await?;
    let dee = desk.agent("Dee").await?;
    for agent in [&ada, &bob, &cy] {
        commands
            .add_agent_to_department(desk.auth(pb::AddAgentToDepartmentRequest {
                occurred_at: at(2),
                department_id: billing.clone(),
                agent_id: agent.clone(),
                ..Default::default()
            }))
            .await?;
    }
    // Ada and Dee online; Bob online but paused; Cy offline.
    desk.online(&ada, 3).await?;
    desk.online(&bob, 3).await?;
    desk.online(&dee, 3).await?;
    let position = desk.pause(&bob, 4).await?;
    assert_eq!(
        desk.roster(&bob, position).await?.presence,
        pb::Presence::Paused as i32
    );
    assert_eq!(
        desk.roster(&cy, position).await?.presence,
        pb::Presence::Offline as i32
    );

    // Offering by hand is refused while the system routes, naming the setting.
    let chat = uuid::Uuid::now_v7().to_string();
    commands
        .start_chat(desk.auth(pb::StartChatRequest {
            occurred_at: at(5),
            chat_id: chat.clone(),
            channel: pb::Channel::Chat as i32,
            department_id: billing.clone(),
            ..Default::default()
        }))
        .await?;
    let by_hand = commands
        .offer_chat(desk.auth(pb::OfferChatRequest {
            occurred_at: at(5),
            chat_id: chat.clone(),
            agent_id: dee.clone(),
            ..Default::default()
        }))
        .await
        .expect_err("offering by hand while the system routes");
    assert_eq!(by_hand.code(), Code::FailedPrecondition, "{by_hand:?}");
    assert!(by_hand.message().contains("system_routes"), "{by_hand:?}");

    // The chat rings only Ada, the one free member. Nobody answers: when the log's time
    // reaches 09:05:29 nothing happens yet; at 09:05:30 the miss is hers, and she is paused
    // for it.
    let position = desk.time_passes_to(5, 29).await?;
    assert_eq!(desk.counter(&ada, "missed_chats", position).await?, 0);
    desk.time_passes_to(5, 30).await?;
    desk.counter_becomes(&ada, "missed_chats", 1).await?;
    let a = desk.presence_becomes(&ada, pb::Presence::Paused).await?;
    assert_eq!(a.since, at_s(5, 30), "auto-paused at the miss: {a:?}");
    let auto_missed = a.pause.expect("a pause").pause_reason;
    assert!(
        matches!(
            auto_missed,
            Some(pb::pause_info::PauseReason::AutoMissed(_))
        ),
        "{auto_missed:?}"
    );
    // Nobody else is free in Billing (Dee is online but not a member): the chat waits.
    let position = desk.time_passes_to(8, 0).await?;
    for agent in [&bob, &cy, &dee] {
        assert_eq!(desk.counter(agent, "missed_chats", position).await?, 0);
    }

    // Bob resumes at 09:10: it is offered to him then; he accepts a minute later.
    desk.resume(&bob, 10).await?;
    let accepted = desk.accept_chat(&chat, &bob, 11).await?;
    assert_eq!(
        desk.counter(&bob, "chat_pickup_ms", accepted).await?,
        MINUTE as u64,
        "offered at the resume, 09:10"
    );
    let b = desk.roster(&bob, accepted).await?;
    assert_eq!(b.presence, pb::Presence::Online as i32);
    assert_eq!(b.open_chat_ids, vec![chat.clone()]);
    commands
        .end_chat(desk.auth(pb::EndChatRequest {
            occurred_at: at(12),
            chat_id: chat.clone(),
            ..Default::default()
        }))
        .await?;

    // A call in Billing while Bob is paused, Ada still auto-paused and Cy offline: it waits.
    desk.pause(&bob, 13).await?;
    let call = uuid::Uuid::now_v7().to_string();
    commands
        .incoming_call(desk.auth(pb::IncomingCallRequest {
            occurred_at: at(14),
            call_id: call.clone(),
            department_id: billing.clone(),
            ..Default::default()
        }))
        .await?;
    // Cy goes online at 09:16: it rings for her; unanswered, it is missed at 09:16:30.
    desk.online(&cy, 16).await?;
    let c = desk.presence_becomes(&cy, pb::Presence::Online).await?;
    assert_eq!(c.since, at(16));
    desk.time_passes_to(16, 30).await?;
    desk.counter_becomes(&cy, "missed_calls", 1).await?;
    let c = desk.presence_becomes(&cy, pb::Presence::Paused).await?;
    assert_eq!(c.since, at_s(16, 30));
    // Ada resumes at 09:18: it rings for her, she answers at 09:19.
    desk.resume(&ada, 18).await?;
    let answered = desk.answer_call(&call, &ada, 19).await?;
    let a = desk.roster(&ada, answered).await?;
    assert_eq!(a.presence, pb::Presence::Online as i32);
    assert_eq!(a.since, at(18));
    assert_eq!(a.open_call_ids, vec![call.clone()]);
    assert_eq!(desk.counter(&bob, "missed_calls", answered).await?, 0);
    assert_eq!(desk.counter(&ada, "missed_calls", answered).await?, 0);

    // `helpdesk simulate` lets the system offer, but its agents do not expect to be
    // auto-paused when they decline: with auto_pause on it says so and sends nothing.
    let before = desk.log_position().await?;
    let simulate = tokio::process::Command::new(helpdesk_bin())
        .args(["simulate", "--agents", "2", "--days", "1", "--server"])
        .arg(helpdesk.endpoint())
        .env("HELPDESK_TOKEN", &owner)
        .output()
        .await?;
    let stderr = String::from_utf8_lossy(&simulate.stderr);
    assert!(!simulate.status.success(), "{stderr}");
    assert!(stderr.contains("nothing was sent"), "{stderr}");
    assert!(stderr.contains("auto_pause"), "{stderr}");
    assert_eq!(desk.log_position().await?, before);

    // A routing time outside 5 to 600 seconds is refused and changes nothing.
    let bad = commands
        .set_organization_settings(desk.auth(pb::SetOrganizationSettingsRequest {
            routing_seconds: Some(1),
            ..Default::default()
        }))
        .await
        .expect_err("a routing time of 1 s");
    assert_eq!(bad.code(), Code::InvalidArgument, "{bad:?}");
    assert!(bad.message().contains("routing_seconds"), "{bad:?}");
    let settings = config
        .get_organization_settings(desk.auth(pb::GetOrganizationSettingsRequest {
            read: read(answered),
        }))
        .await?
        .into_inner();
    assert_eq!(settings.routing_seconds, 30);

    // A rebuild of the policies model from the log: the same model, and no offer or miss
    // added (its commands carry the ids and times of the first time).
    let end = desk.log_position().await?;
    helpdesk.stop().await?;
    let live = model_records(helpdesk.data_dir(), "policies")?;
    std::fs::remove_dir_all(helpdesk.data_dir().join("models").join("policies"))?;
    helpdesk.start_again().await?;
    let desk = Desk {
        channel: helpdesk.channel().await?,
        owner,
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        desk.log_position().await?,
        end,
        "nothing added after the rebuild"
    );
    helpdesk.stop().await?;
    assert_eq!(model_checkpoint(helpdesk.data_dir(), "policies")?, end);
    let rebuilt = model_records(helpdesk.data_dir(), "policies")?;
    assert_same_records(&live, "live", &rebuilt, "rebuilt");
    Ok(())
}

/// The clock ticks hourly: no tick at today's time lands among the pinned history.
fn builder() -> helpdesk_tests::Builder {
    Helpdesk::builder().arg("--tick-seconds").arg("3600")
}

#[tokio::test]
async fn distribution_on_the_embedded_log() -> anyhow::Result<()> {
    story(builder().start().await?).await
}

#[tokio::test]
async fn distribution_on_nats() -> anyhow::Result<()> {
    let nats = NatsServer::start()?;
    story(builder().nats(&nats).start().await?).await
}
