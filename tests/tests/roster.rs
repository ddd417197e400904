//! The roster end to end (docs/ROSTER.md): agents registered into departments go
//! online, pause, resume and go offline, and take a chat, at pinned times; the roster
//! shows each state as it changes (read-your-writes), its filters work, an agent sees
//! only the agents of their departments, the presence stream delivers the changes in
//! order (and to an agent only those they may see), `hdctl roster` prints it for
//! people, and `helpdesk replay roster` rebuilds exactly the live model. On NATS, two
//! partitions behind the gateway list the roster as one replica does.
//!
//! Needs the binaries (`cargo build -p helpdesk-server -p helpdesk-cli`) and
//! `nats-server`.

use std::time::Duration;

use tokio::io::AsyncBufReadExt as _;

use helpdesk_api::{pb, AdminServiceClient, CommandServiceClient, RosterServiceClient};
use helpdesk_tests::workload::{assert_same_records, feed, model_records};
use helpdesk_tests::{hdctl_bin, helpdesk_bin, with_token, Helpdesk, NatsServer, HISTORY_START};
use helpdesk_workload::{Workload, WorkloadConfig};
use tonic::transport::Channel;
use tonic::{Code, Request, Streaming};

const MINUTE: i64 = 60_000;
/// 09:00 on the first day of the tests' history: every command of the story is pinned
/// to a minute after it.
const T0: i64 = HISTORY_START + 9 * 60 * MINUTE;

fn auth<T>(token: &str, message: T) -> Request<T> {
    with_token(Request::new(message), token)
}

fn at(minute: i64) -> Option<prost_types::Timestamp> {
    Some(timestamp(T0 + minute * MINUTE))
}

fn timestamp(millis: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: millis.div_euclid(1000),
        nanos: (millis.rem_euclid(1000) * 1_000_000) as i32,
    }
}

fn read(position: u64) -> Option<pb::ReadOptions> {
    Some(pb::ReadOptions {
        min_position: position,
        wait_ms: 30_000,
    })
}

fn builtin(role: pb::BuiltinRole) -> Option<pb::RoleRef> {
    Some(pb::RoleRef {
        role: Some(pb::role_ref::Role::Builtin(role as i32)),
    })
}

fn presence(agent: &pb::RosterAgent) -> pb::Presence {
    pb::Presence::try_from(agent.presence).unwrap_or(pb::Presence::Unspecified)
}

fn names(agents: &[pb::RosterAgent]) -> Vec<&str> {
    agents.iter().map(|a| a.name.as_str()).collect()
}

/// The roster as `token` sees it with `request`, once the model has reached `position`.
async fn list(
    channel: &Channel,
    token: &str,
    position: u64,
    mut request: pb::ListAgentsRequest,
) -> anyhow::Result<Vec<pb::RosterAgent>> {
    request.read = read(position);
    let answer = RosterServiceClient::new(channel.clone())
        .list_agents(auth(token, request))
        .await?
        .into_inner();
    assert!(answer.position >= position);
    Ok(answer.agents)
}

/// One agent as the Owner sees them at `position`.
async fn agent(
    channel: &Channel,
    token: &str,
    position: u64,
    id: &str,
) -> anyhow::Result<pb::RosterAgent> {
    let answer = RosterServiceClient::new(channel.clone())
        .get_agent(auth(
            token,
            pb::GetAgentRequest {
                agent_id: id.into(),
                read: read(position),
            },
        ))
        .await?
        .into_inner();
    Ok(answer.agent.expect("an agent"))
}

/// The next change on `stream`, within 20 s.
async fn next(stream: &mut Streaming<pb::PresenceChange>) -> anyhow::Result<pb::PresenceChange> {
    Ok(
        tokio::time::timeout(Duration::from_secs(20), stream.message())
            .await??
            .expect("the stream stays open"),
    )
}

#[tokio::test]
async fn the_roster_follows_presence_with_filters_visibility_a_stream_and_a_rebuild(
) -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::builder()
        .arg("--tick-seconds")
        .arg("3600")
        .start()
        .await?;
    let owner = helpdesk.token().to_owned();
    let channel = helpdesk.channel().await?;
    let mut commands = CommandServiceClient::new(channel.clone());
    let mut watch = RosterServiceClient::new(channel.clone())
        .watch_presence(auth(&owner, pb::WatchPresenceRequest::default()))
        .await?
        .into_inner();

    // Two departments, three agents.
    let department = |name: &str| pb::CreateDepartmentRequest {
        occurred_at: at(0),
        name: name.into(),
        ..Default::default()
    };
    let billing = commands
        .create_department(auth(&owner, department("Billing")))
        .await?
        .into_inner()
        .aggregate_id;
    let support = commands
        .create_department(auth(&owner, department("Support")))
        .await?
        .into_inner()
        .aggregate_id;
    let mut ids = Vec::new();
    for (name, role) in [
        ("Ada", pb::BuiltinRole::Agent),
        ("Bob", pb::BuiltinRole::Agent),
        ("Cy", pb::BuiltinRole::Administrator),
    ] {
        let id = commands
            .register_agent(auth(
                &owner,
                pb::RegisterAgentRequest {
                    occurred_at: at(1),
                    name: name.into(),
                    email: format!("{}@example.com", name.to_lowercase()),
                    role: builtin(role),
                    ..Default::default()
                },
            ))
            .await?
            .into_inner()
            .aggregate_id;
        ids.push(id);
    }
    let [ada, bob, cy] = [ids[0].clone(), ids[1].clone(), ids[2].clone()];
    let mut last = 0;
    for (agent, department) in [
        (&ada, &billing),
        (&bob, &support),
        (&cy, &billing),
        (&cy, &support),
    ] {
        last = commands
            .add_agent_to_department(auth(
                &owner,
                pb::AddAgentToDepartmentRequest {
                    occurred_at: at(2),
                    department_id: department.clone(),
                    agent_id: agent.clone(),
                    ..Default::default()
                },
            ))
            .await?
            .into_inner()
            .position;
    }

    // Everyone offline since their registration, by name, with departments by name.
    let everyone = pb::ListAgentsRequest::default();
    let roster = list(&channel, &owner, last, everyone.clone()).await?;
    // The Owner came with the organization's setup (stamped with no time) and was never
    // online: since when is not known, and not shown as the year 1970.
    let the_owner = roster
        .iter()
        .find(|a| a.role_name == "Owner")
        .expect("the Owner is listed");
    assert_eq!(presence(the_owner), pb::Presence::Offline);
    assert_eq!(the_owner.since, None, "{the_owner:?}");
    let ours: Vec<&pb::RosterAgent> = roster
        .iter()
        .filter(|a| ids.contains(&a.agent_id))
        .collect();
    assert_eq!(
        ours.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["Ada", "Bob", "Cy"]
    );
    for a in &ours {
        assert_eq!(presence(a), pb::Presence::Offline, "{a:?}");
        assert_eq!(a.since, at(1), "{a:?}");
        assert_eq!(a.last_activity, None, "{a:?}");
    }
    assert_eq!(ours[0].email, "ada@example.com");
    assert_eq!(ours[0].role_name, "Agent");
    assert_eq!(ours[2].role_name, "Administrator");
    let departments: Vec<&str> = ours[2]
        .departments
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(departments, ["Billing", "Support"]);
    assert_eq!(ours[0].level_name, "Novice", "{:?}", ours[0]);
    assert_eq!(ours[0].level_rank, 1);

    // Ada goes online, then pauses for lunch, planned for 30 minutes.
    let online = |agent: &str, minute: i64| pb::GoOnlineRequest {
        occurred_at: at(minute),
        agent_id: agent.into(),
        ..Default::default()
    };
    let position = commands
        .go_online(auth(&owner, online(&ada, 10)))
        .await?
        .into_inner()
        .position;
    let a = agent(&channel, &owner, position, &ada).await?;
    assert_eq!(presence(&a), pb::Presence::Online);
    assert_eq!(a.since, at(10));
    assert_eq!(a.last_activity, at(10));
    let position = commands
        .pause_agent(auth(
            &owner,
            pb::PauseAgentRequest {
                occurred_at: at(20),
                agent_id: ada.clone(),
                pause_reason: Some(pb::pause_agent_request::PauseReason::Reason("lunch".into())),
                planned_minutes: Some(30),
                ..Default::default()
            },
        ))
        .await?
        .into_inner()
        .position;
    let a = agent(&channel, &owner, position, &ada).await?;
    assert_eq!(presence(&a), pb::Presence::Paused);
    assert_eq!(a.since, at(20));
    let pause = a.pause.expect("the pause");
    assert_eq!(
        pause.pause_reason,
        Some(pb::pause_info::PauseReason::Reason("lunch".into()))
    );
    assert_eq!(pause.planned_end, at(50));

    // The filters.
    let paused = list(
        &channel,
        &owner,
        position,
        pb::ListAgentsRequest {
            presence: pb::Presence::Paused as i32,
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(names(&paused), ["Ada"]);
    let in_support = list(
        &channel,
        &owner,
        position,
        pb::ListAgentsRequest {
            department_id: support.clone(),
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(names(&in_support), ["Bob", "Cy"]);
    let administrators = list(
        &channel,
        &owner,
        position,
        pb::ListAgentsRequest {
            role: builtin(pb::BuiltinRole::Administrator),
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(names(&administrators), ["Cy"]);

    // Bob goes online after Ada's planned end: her pause is over, since its planned end,
    // whether or not its AgentResumed has been recorded yet.
    let position = commands
        .go_online(auth(&owner, online(&bob, 55)))
        .await?
        .into_inner()
        .position;
    let a = agent(&channel, &owner, position, &ada).await?;
    assert_eq!(presence(&a), pb::Presence::Online, "{a:?}");
    assert_eq!(a.since, at(50));
    assert_eq!(a.pause, None);

    // Cy: online, an open-ended pause without a reason, resumed, offline.
    commands.go_online(auth(&owner, online(&cy, 60))).await?;
    let position = commands
        .pause_agent(auth(
            &owner,
            pb::PauseAgentRequest {
                occurred_at: at(61),
                agent_id: cy.clone(),
                ..Default::default()
            },
        ))
        .await?
        .into_inner()
        .position;
    let c = agent(&channel, &owner, position, &cy).await?;
    assert_eq!(presence(&c), pb::Presence::Paused);
    assert_eq!(c.pause.as_ref().unwrap().planned_end, None);
    let position = commands
        .resume_agent(auth(
            &owner,
            pb::ResumeAgentRequest {
                occurred_at: at(70),
                agent_id: cy.clone(),
                ..Default::default()
            },
        ))
        .await?
        .into_inner()
        .position;
    let c = agent(&channel, &owner, position, &cy).await?;
    assert_eq!((presence(&c), c.since), (pb::Presence::Online, at(70)));

    // Bob takes two chats and ends the first.
    let mut chats = Vec::new();
    for minute in [75, 80] {
        let chat = commands
            .start_chat(auth(
                &owner,
                pb::StartChatRequest {
                    occurred_at: at(minute),
                    channel: pb::Channel::Chat as i32,
                    department_id: support.clone(),
                    ..Default::default()
                },
            ))
            .await?
            .into_inner()
            .aggregate_id;
        commands
            .offer_chat(auth(
                &owner,
                pb::OfferChatRequest {
                    occurred_at: at(minute + 1),
                    chat_id: chat.clone(),
                    agent_id: bob.clone(),
                    ..Default::default()
                },
            ))
            .await?;
        let position = commands
            .accept_chat(auth(
                &owner,
                pb::AcceptChatRequest {
                    occurred_at: at(minute + 2),
                    chat_id: chat.clone(),
                    agent_id: bob.clone(),
                    ..Default::default()
                },
            ))
            .await?
            .into_inner()
            .position;
        chats.push(chat);
        let b = agent(&channel, &owner, position, &bob).await?;
        assert_eq!(b.open_chat_ids, chats);
        assert_eq!(b.last_activity, at(minute + 2));
    }
    let position = commands
        .end_chat(auth(
            &owner,
            pb::EndChatRequest {
                occurred_at: at(90),
                chat_id: chats[0].clone(),
                ..Default::default()
            },
        ))
        .await?
        .into_inner()
        .position;
    let b = agent(&channel, &owner, position, &bob).await?;
    assert_eq!(b.open_chat_ids, [chats[1].clone()]);
    let last = commands
        .go_offline(auth(
            &owner,
            pb::GoOfflineRequest {
                occurred_at: at(100),
                agent_id: cy.clone(),
                ..Default::default()
            },
        ))
        .await?
        .into_inner()
        .position;
    let c = agent(&channel, &owner, last, &cy).await?;
    assert_eq!((presence(&c), c.since), (pb::Presence::Offline, at(100)));

    // The stream told every change, in order, with its time (the planned end of Ada's
    // pause is told when the system records it, which may come later or not yet).
    let expected = [
        ("Ada", pb::Presence::Online, 10),
        ("Ada", pb::Presence::Paused, 20),
        ("Bob", pb::Presence::Online, 55),
        ("Cy", pb::Presence::Online, 60),
        ("Cy", pb::Presence::Paused, 61),
        ("Cy", pb::Presence::Online, 70),
        ("Cy", pb::Presence::Offline, 100),
    ];
    let mut told = Vec::new();
    while told.len() < expected.len() {
        let change = next(&mut watch).await?;
        let presence = pb::Presence::try_from(change.presence)?;
        if (change.name.as_str(), presence, change.since) == ("Ada", pb::Presence::Online, at(50)) {
            continue;
        }
        told.push((change.name.clone(), presence, change.since));
    }
    let expected: Vec<_> = expected
        .iter()
        .map(|(name, presence, minute)| (name.to_string(), *presence, at(*minute)))
        .collect();
    assert_eq!(told, expected);

    // hdctl roster, for people.
    let output = tokio::process::Command::new(hdctl_bin())
        .args(["--server", &helpdesk.endpoint(), "roster"])
        .env("HELPDESK_TOKEN", &owner)
        .output()
        .await?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = |name: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no line for {name}:\n{stdout}"))
            .to_owned()
    };
    assert!(stdout.starts_with("agent"), "{stdout}");
    assert!(line("Bob").contains("online for"), "{stdout}");
    assert!(line("Bob").contains("1 chat"), "{stdout}");
    assert!(line("Cy").contains("offline for"), "{stdout}");
    assert!(line("Cy").contains("Administrator"), "{stdout}");
    assert!(line("Cy").contains("Billing, Support"), "{stdout}");
    assert!(line("Ada").contains("Novice"), "{stdout}");
    let output = tokio::process::Command::new(hdctl_bin())
        .args(["--server", &helpdesk.endpoint(), "roster"])
        .args(["--presence", "offline", "--department", "Support"])
        .env("HELPDESK_TOKEN", &owner)
        .output()
        .await?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let rows: Vec<&str> = stdout.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{stdout}");
    assert!(rows[0].starts_with("Cy"), "{stdout}");
    // A department name nobody has is a mistake to point out, not an empty board.
    let output = tokio::process::Command::new(hdctl_bin())
        .args(["--server", &helpdesk.endpoint(), "roster"])
        .args(["--department", "Suport"])
        .env("HELPDESK_TOKEN", &owner)
        .output()
        .await?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(r#"no department is named "Suport" (there are: Billing, Support)"#),
        "{stderr}"
    );

    // Ada's own view (her token is issued now, at today's time: nothing below reads a
    // time): she is in Billing, so she sees Cy (Billing) and herself, not Bob (Support).
    let issued = AdminServiceClient::new(channel.clone())
        .issue_token(auth(
            &owner,
            pb::IssueTokenRequest {
                subject: Some(pb::issue_token_request::Subject::AgentId(ada.clone())),
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    let ada_token = issued.token;
    let position = issued.result.map_or(0, |r| r.position);
    let seen = list(&channel, &ada_token, position, everyone.clone()).await?;
    assert_eq!(names(&seen), ["Ada", "Cy"]);
    let refused = RosterServiceClient::new(channel.clone())
        .get_agent(auth(
            &ada_token,
            pb::GetAgentRequest {
                agent_id: bob.clone(),
                read: None,
            },
        ))
        .await
        .expect_err("Bob is not hers to see");
    assert_eq!(refused.code(), Code::NotFound, "{refused:?}");
    let mine = RosterServiceClient::new(channel.clone())
        .get_agent(auth(&ada_token, pb::GetAgentRequest::default()))
        .await?
        .into_inner();
    assert_eq!(mine.agent.unwrap().name, "Ada");
    // Her stream skips Bob's pause and tells Cy's return.
    let mut hers = RosterServiceClient::new(channel.clone())
        .watch_presence(auth(&ada_token, pb::WatchPresenceRequest::default()))
        .await?
        .into_inner();
    commands
        .pause_agent(auth(
            &owner,
            pb::PauseAgentRequest {
                agent_id: bob.clone(),
                ..Default::default()
            },
        ))
        .await?;
    commands
        .go_online(auth(
            &owner,
            pb::GoOnlineRequest {
                agent_id: cy.clone(),
                ..Default::default()
            },
        ))
        .await?;
    let change = next(&mut hers).await?;
    assert_eq!(
        (change.name.as_str(), change.presence),
        ("Cy", pb::Presence::Online as i32),
        "{change:?}"
    );
    drop(hers);
    drop(watch);

    // hdctl roster --watch: the table, then a line per change (Bob back from his pause).
    let mut watcher = tokio::process::Command::new(hdctl_bin())
        .args(["--server", &helpdesk.endpoint(), "roster", "--watch"])
        .env("HELPDESK_TOKEN", &owner)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut lines = tokio::io::BufReader::new(watcher.stdout.take().expect("piped")).lines();
    let mut next_line = async || -> anyhow::Result<String> {
        Ok(
            tokio::time::timeout(Duration::from_secs(20), lines.next_line())
                .await??
                .expect("hdctl keeps watching"),
        )
    };
    while !next_line().await?.starts_with("watching presence changes") {}
    let last = commands
        .resume_agent(auth(
            &owner,
            pb::ResumeAgentRequest {
                agent_id: bob.clone(),
                ..Default::default()
            },
        ))
        .await?
        .into_inner()
        .position;
    let line = next_line().await?;
    assert!(line.ends_with("  Bob  online"), "{line:?}");
    watcher.kill().await?;

    // A rebuild from the log equals the live model, record for record.
    let _ = list(&channel, &owner, last, everyone).await?;
    helpdesk.stop().await?;
    let live = model_records(helpdesk.data_dir(), "roster")?;
    let replay = tokio::process::Command::new(helpdesk_bin())
        .args(["replay", "roster", "--data-dir"])
        .arg(helpdesk.data_dir())
        .output()
        .await?;
    assert!(
        replay.status.success(),
        "helpdesk replay failed: {}",
        String::from_utf8_lossy(&replay.stderr)
    );
    let rebuilt = model_records(helpdesk.data_dir(), "roster")?;
    assert_same_records(&live, "live", &rebuilt, "rebuilt");
    Ok(())
}

const OWNER: &str = "roster-test-owner-token-0123456789abcdef";

/// `helpdesk project roster --partition <partition>` on `nats`.
async fn replica(nats: &NatsServer, partition: &str) -> anyhow::Result<Helpdesk> {
    Helpdesk::builder()
        .nats(nats)
        .subcommand(["project", "roster"])
        .arg("--partition")
        .arg(partition)
        .start()
        .await
}

/// `request`'s answer from `channel`, without its position (which may differ).
async fn listed(
    channel: &Channel,
    request: pb::ListAgentsRequest,
) -> anyhow::Result<Vec<pb::RosterAgent>> {
    Ok(RosterServiceClient::new(channel.clone())
        .list_agents(auth(OWNER, request))
        .await?
        .into_inner()
        .agents)
}

#[tokio::test]
async fn two_roster_partitions_behind_the_gateway_answer_as_one_replica() -> anyhow::Result<()> {
    let nats = NatsServer::start()?;
    let commands = Helpdesk::builder()
        .nats(&nats)
        .subcommand(["commands"])
        .owner_token(OWNER)
        .arg("--tick-seconds")
        .arg("3600")
        .start()
        .await?;
    let whole = replica(&nats, "0/1").await?;
    let parts = [replica(&nats, "0/2").await?, replica(&nats, "1/2").await?];
    let gateway = Helpdesk::builder()
        .subcommand(["gateway"])
        .arg("--route")
        .arg(format!("commands={}", commands.endpoint()))
        .arg("--route")
        .arg(format!(
            "roster={},{}",
            parts[0].endpoint(),
            parts[1].endpoint()
        ))
        .start()
        .await?;
    let (left, right) = (whole.channel().await?, gateway.channel().await?);

    // Two days of a help desk, through the gateway.
    let config = WorkloadConfig::new(23, 10, 2, HISTORY_START);
    let last = feed(right.clone(), OWNER, config.clone()).await?;
    let departments: Vec<String> = Workload::new(config)
        .department_ids()
        .iter()
        .map(|d| d.to_string())
        .collect();

    // Every list, every filter: the same agents in the same order.
    let everyone = pb::ListAgentsRequest {
        read: read(last),
        ..Default::default()
    };
    let all = listed(&left, everyone.clone()).await?;
    assert!(all.len() > 10, "{} agents", all.len());
    let mut requests = vec![
        everyone.clone(),
        pb::ListAgentsRequest {
            include_deactivated: true,
            ..everyone.clone()
        },
        pb::ListAgentsRequest {
            role: builtin(pb::BuiltinRole::Agent),
            ..everyone.clone()
        },
    ];
    for presence in [
        pb::Presence::Online,
        pb::Presence::Paused,
        pb::Presence::Offline,
    ] {
        requests.push(pb::ListAgentsRequest {
            presence: presence as i32,
            ..everyone.clone()
        });
    }
    for department in &departments {
        requests.push(pb::ListAgentsRequest {
            department_id: department.clone(),
            ..everyone.clone()
        });
    }
    for request in requests {
        let one = listed(&left, request.clone()).await?;
        let merged = listed(&right, request.clone()).await?;
        assert_eq!(one, merged, "{request:?}");
    }
    // Each partition holds some of the agents; one agent through the gateway is theirs.
    for part in &parts {
        let own = listed(&part.channel().await?, everyone.clone())
            .await?
            .len();
        assert!(own > 0 && own < all.len(), "{own} of {}", all.len());
    }
    for agent in &all {
        let got = RosterServiceClient::new(right.clone())
            .get_agent(auth(
                OWNER,
                pb::GetAgentRequest {
                    agent_id: agent.agent_id.clone(),
                    read: None,
                },
            ))
            .await?
            .into_inner();
        assert_eq!(got.agent.as_ref(), Some(agent));
    }

    // The gateway's stream tells a change of an agent of either partition: an offline
    // agent goes online a minute after the history's end.
    let mut watch = RosterServiceClient::new(right.clone())
        .watch_presence(auth(OWNER, pb::WatchPresenceRequest::default()))
        .await?
        .into_inner();
    let clock = AdminServiceClient::new(right.clone())
        .get_log_clock(auth(OWNER, pb::GetLogClockRequest {}))
        .await?
        .into_inner();
    let then = clock.time.map_or(0, |t| t.seconds * 1000) + MINUTE;
    let offline: Vec<&pb::RosterAgent> = all
        .iter()
        .filter(|a| presence(a) == pb::Presence::Offline)
        .take(2)
        .collect();
    assert_eq!(offline.len(), 2, "two offline agents at the end of the day");
    let mut commands_client = CommandServiceClient::new(right.clone());
    for (i, agent) in offline.iter().enumerate() {
        commands_client
            .go_online(auth(
                OWNER,
                pb::GoOnlineRequest {
                    occurred_at: Some(timestamp(then + i as i64 * MINUTE)),
                    agent_id: agent.agent_id.clone(),
                    ..Default::default()
                },
            ))
            .await?;
    }
    let mut told = Vec::new();
    while told.len() < 2 {
        let change = next(&mut watch).await?;
        if change.presence == pb::Presence::Online as i32 {
            told.push(change.agent_id);
        }
    }
    told.sort();
    let mut expected: Vec<String> = offline.iter().map(|a| a.agent_id.clone()).collect();
    expected.sort();
    assert_eq!(told, expected);
    Ok(())
}
