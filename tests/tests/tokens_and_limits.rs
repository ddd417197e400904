//! Tokens expire and are listed without their secrets; a principal's rate limit holds
//! across connections; custom roles give their holders exactly their permissions; the
//! leaderboards are every agent's, another agent's statistics need reports.view.
//!
//! Needs the binary (`cargo build -p helpdesk-server`) and `nats-server` (`just test` sees to
//! both).

use std::time::Duration;

use helpdesk_api::{
    pb, AdminServiceClient, CommandServiceClient, LevelServiceClient, StatsServiceClient,
};
use helpdesk_tests::{with_token, Helpdesk};
use tonic::{Code, Request};

fn auth<T>(token: &str, message: T) -> Request<T> {
    with_token(Request::new(message), token)
}

fn agent_role() -> Option<pb::RoleRef> {
    Some(pb::RoleRef {
        role: Some(pb::role_ref::Role::Builtin(pb::BuiltinRole::Agent as i32)),
    })
}

#[tokio::test]
async fn tokens_expire_and_are_listed_without_secrets() -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::start_embedded().await?;
    let owner = helpdesk.token().to_owned();
    let channel = helpdesk.channel().await?;
    let mut commands = CommandServiceClient::new(channel.clone());
    let mut admin = AdminServiceClient::new(channel.clone());
    let ada = commands
        .register_agent(auth(
            &owner,
            pb::RegisterAgentRequest {
                name: "Ada".into(),
                email: "ada@example.com".into(),
                role: agent_role(),
                ..Default::default()
            },
        ))
        .await?
        .into_inner()
        .aggregate_id;

    // An expiry in the past is refused, naming the field.
    let past = admin
        .issue_token(auth(
            &owner,
            pb::IssueTokenRequest {
                subject: Some(pb::issue_token_request::Subject::AgentId(ada.clone())),
                expires_at: Some(prost_types::Timestamp {
                    seconds: 1_000_000_000,
                    nanos: 0,
                }),
                ..Default::default()
            },
        ))
        .await
        .expect_err("an expiry in the past");
    assert_eq!(past.code(), Code::InvalidArgument);
    assert!(past.message().contains("expires_at"), "{past:?}");

    // A token that expires soon: first used while it is valid, then refused once it has
    // expired. Expiry is real time on the server's clock, so this part reads the wall
    // clock, as seconds since the epoch relative to now: the same on any date. Its lifetime starts short and doubles when a slow machine took the whole
    // of it before the first use (a refusal before the expiry is a failure).
    let mut lifetime = Duration::from_secs(2);
    let (issued, expiry) = loop {
        let expiry = std::time::SystemTime::now() + lifetime;
        let since_epoch = expiry.duration_since(std::time::UNIX_EPOCH)?;
        let issued = admin
            .issue_token(auth(
                &owner,
                pb::IssueTokenRequest {
                    subject: Some(pb::issue_token_request::Subject::AgentId(ada.clone())),
                    expires_at: Some(prost_types::Timestamp {
                        seconds: since_epoch.as_secs() as i64,
                        nanos: since_epoch.subsec_nanos() as i32,
                    }),
                    ..Default::default()
                },
            ))
            .await?
            .into_inner();
        let used = commands
            .go_online(auth(&issued.token, pb::GoOnlineRequest::default()))
            .await;
        match used {
            Ok(_) => break (issued, expiry),
            Err(status)
                if status.code() == Code::Unauthenticated
                    && std::time::SystemTime::now() >= expiry
                    && lifetime < Duration::from_secs(60) =>
            {
                lifetime *= 2;
            }
            Err(status) => panic!("a valid token was refused: {status:?}"),
        }
    };
    let expiry_seconds = expiry.duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;

    let listed = admin
        .list_tokens(auth(&owner, pb::ListTokensRequest {}))
        .await?
        .into_inner()
        .tokens;
    let mine = listed
        .iter()
        .find(|t| t.token_id == issued.token_id)
        .expect("the new token is listed");
    assert_eq!(mine.agent_id, ada);
    assert_eq!(mine.expires_at.unwrap().seconds, expiry_seconds);
    assert!(!mine.revoked);
    assert!(listed.len() >= 2, "the Owner's and Ada's");

    // An agent may not list tokens: PERMISSION_DENIED while the token is valid, then
    // UNAUTHENTICATED once it has expired, and not before.
    let deadline = tokio::time::Instant::now() + lifetime + Duration::from_secs(30);
    let expired = loop {
        let answer = admin
            .list_tokens(auth(&issued.token, pb::ListTokensRequest {}))
            .await
            .expect_err("an agent lists no tokens");
        match answer.code() {
            Code::PermissionDenied => {}
            Code::Unauthenticated => break answer,
            _ => panic!("unexpected {answer:?}"),
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the token was still accepted {}s after its expiry",
            30
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        std::time::SystemTime::now() >= expiry,
        "the token was refused before its expiry"
    );
    assert!(expired.message().contains("expired"), "{expired:?}");
    // An unknown token hears the very same words: a caller learns nothing of why.
    let unknown = admin
        .list_tokens(auth(
            "hd_not_a_token_anyone_issued",
            pb::ListTokensRequest {},
        ))
        .await
        .expect_err("an unknown token");
    assert_eq!(unknown.code(), Code::Unauthenticated);
    assert_eq!(unknown.message(), expired.message());
    // The log says which token failed, by its hash's prefix, never by its secret.
    let logged = helpdesk.output();
    assert!(
        logged.contains("authentication failed") && logged.contains("Expired"),
        "{logged}"
    );
    assert!(
        !logged.contains(&issued.token),
        "a token's secret reached the log"
    );
    // Every method refuses it, not only that one.
    let refused = commands
        .go_offline(auth(&issued.token, pb::GoOfflineRequest::default()))
        .await
        .expect_err("the token expired");
    assert_eq!(refused.code(), Code::Unauthenticated);
    helpdesk.stop().await
}

#[tokio::test]
async fn a_rate_limit_holds_across_connections() -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::builder()
        .arg("--rate-limit")
        .arg("5")
        .start()
        .await?;
    let owner = helpdesk.token().to_owned();
    // Two connections, one principal: one allowance (a burst of 10, 5 more each second).
    let first = StatsServiceClient::new(helpdesk.channel().await?);
    let second = StatsServiceClient::new(helpdesk.channel().await?);
    // The statistics know the Owner once the projector has folded the setup (the ready
    // line does not wait for it); then the allowance refills in full.
    let mut known = false;
    for _ in 0..100 {
        let answer = first
            .clone()
            .get_agent_stats(auth(&owner, pb::GetAgentStatsRequest::default()))
            .await;
        if answer.is_ok() {
            known = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(known, "the statistics never knew the Owner");
    // Time for the allowance to refill: the burst takes 2 s at 5/s (a wait for time to
    // pass, which is what is tested, not for something to happen).
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let mut refused = 0;
    let mut served = 0;
    let started = std::time::Instant::now();
    for i in 0..40 {
        let mut client = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        match client
            .get_agent_stats(auth(&owner, pb::GetAgentStatsRequest::default()))
            .await
        {
            Ok(_) => served += 1,
            Err(status) if status.code() == Code::ResourceExhausted => {
                assert!(status.message().contains("slow down"), "{status:?}");
                refused += 1;
            }
            Err(status) => panic!("unexpected {status:?}"),
        }
    }
    // A slow machine may take a while over the 40: what refilled meanwhile may be served.
    let took = started.elapsed().as_secs_f64();
    let allowance = 10 + (took * 5.0).ceil() as usize;
    assert!(served >= 10, "the burst is served: {served}");
    assert!(
        served <= allowance,
        "the limit holds across both connections: {served} served in {took:.2}s, at most \
         {allowance} allowed"
    );
    assert_eq!(served + refused, 40);
    // After a pause the allowance refills.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    first
        .clone()
        .get_agent_stats(auth(&owner, pb::GetAgentStatsRequest::default()))
        .await?;
    helpdesk.stop().await
}

#[tokio::test]
async fn a_custom_role_gives_exactly_its_permissions() -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::start_embedded().await?;
    let owner = helpdesk.token().to_owned();
    let channel = helpdesk.channel().await?;
    let mut commands = CommandServiceClient::new(channel.clone());
    let mut admin = AdminServiceClient::new(channel.clone());

    // A custom role: the Agent role's permissions plus these two.
    let role_id = uuid::Uuid::now_v7().to_string();
    commands
        .define_role(auth(
            &owner,
            pb::DefineRoleRequest {
                role_id: role_id.clone(),
                name: "Team lead".into(),
                permissions: vec!["reports.view".into(), "departments.manage".into()],
                ..Default::default()
            },
        ))
        .await?;
    let lead = commands
        .register_agent(auth(
            &owner,
            pb::RegisterAgentRequest {
                name: "Lea".into(),
                email: "lea@example.com".into(),
                role: Some(pb::RoleRef {
                    role: Some(pb::role_ref::Role::CustomRoleId(role_id)),
                }),
                ..Default::default()
            },
        ))
        .await?
        .into_inner()
        .aggregate_id;
    let token = admin
        .issue_token(auth(
            &owner,
            pb::IssueTokenRequest {
                subject: Some(pb::issue_token_request::Subject::AgentId(lead.clone())),
                ..Default::default()
            },
        ))
        .await?
        .into_inner()
        .token;

    // departments.manage: yes.
    commands
        .create_department(auth(
            &token,
            pb::CreateDepartmentRequest {
                name: "Billing".into(),
                ..Default::default()
            },
        ))
        .await?;
    // reports.view: another agent's statistics, yes.
    let owner_agent = StatsServiceClient::new(channel.clone())
        .get_agent_stats(auth(&owner, pb::GetAgentStatsRequest::default()))
        .await?
        .into_inner()
        .agent_id;
    StatsServiceClient::new(channel.clone())
        .get_agent_stats(auth(
            &token,
            pb::GetAgentStatsRequest {
                agent_id: owner_agent,
                ..Default::default()
            },
        ))
        .await?;
    // Not agents.manage: registering someone is refused.
    let denied = commands
        .register_agent(auth(
            &token,
            pb::RegisterAgentRequest {
                name: "Eve".into(),
                email: "eve@example.com".into(),
                role: agent_role(),
                ..Default::default()
            },
        ))
        .await
        .expect_err("no agents.manage");
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(denied.message().contains("agents.manage"), "{denied:?}");
    helpdesk.stop().await
}

/// A client's deadline (`grpc-timeout`) wins over a longer wait the request asks for.
#[tokio::test]
async fn client_deadlines_are_honoured() -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::start_embedded().await?;
    let owner = helpdesk.token().to_owned();
    let mut request = auth(
        &owner,
        pb::GetAgentStatsRequest {
            read: Some(pb::ReadOptions {
                min_position: 1_000_000,
                wait_ms: 60_000,
            }),
            ..Default::default()
        },
    );
    // The deadline as the header only, so that it is the server that keeps it (tonic's
    // own client timer would give up on its own).
    request
        .metadata_mut()
        .insert("grpc-timeout", "300m".parse().unwrap());
    let started = std::time::Instant::now();
    let status = StatsServiceClient::new(helpdesk.channel().await?)
        .get_agent_stats(request)
        .await
        .expect_err("the position is never reached");
    assert!(
        matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{status:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered after {:?}, not at the client's deadline",
        started.elapsed()
    );
    helpdesk.stop().await
}

#[tokio::test]
async fn a_revoked_token_is_refused_by_commands_at_once_and_by_queries_soon() -> anyhow::Result<()>
{
    let mut helpdesk = Helpdesk::start_embedded().await?;
    let owner = helpdesk.token().to_owned();
    let channel = helpdesk.channel().await?;
    let mut commands = CommandServiceClient::new(channel.clone());
    let mut admin = AdminServiceClient::new(channel.clone());
    let mut stats = StatsServiceClient::new(channel.clone());
    let ada = commands
        .register_agent(auth(
            &owner,
            pb::RegisterAgentRequest {
                name: "Ada".into(),
                email: "ada@example.com".into(),
                role: agent_role(),
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    let issued = admin
        .issue_token(auth(
            &owner,
            pb::IssueTokenRequest {
                subject: Some(pb::issue_token_request::Subject::AgentId(
                    ada.aggregate_id.clone(),
                )),
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    // Ada asks for her statistics (once the projector knows her), and so is remembered.
    let read = Some(pb::ReadOptions {
        min_position: ada.position,
        wait_ms: 10_000,
    });
    stats
        .get_agent_stats(auth(
            &issued.token,
            pb::GetAgentStatsRequest {
                read,
                ..Default::default()
            },
        ))
        .await?;

    admin
        .revoke_token(auth(
            &owner,
            pb::RevokeTokenRequest {
                token_id: issued.token_id.clone(),
                ..Default::default()
            },
        ))
        .await?;
    let refused = commands
        .go_online(auth(&issued.token, pb::GoOnlineRequest::default()))
        .await
        .expect_err("a command with a revoked token");
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");

    // Queries refuse it within a second (docs/SECURITY.md); a few seconds are allowed
    // here for a loaded machine.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let answer = stats
            .get_agent_stats(auth(
                &issued.token,
                pb::GetAgentStatsRequest {
                    read,
                    ..Default::default()
                },
            ))
            .await;
        match answer {
            Err(status) if status.code() == Code::Unauthenticated => break,
            other => assert!(
                std::time::Instant::now() < deadline,
                "queries still accept the revoked token: {other:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    helpdesk.stop().await
}

/// A request with a field of the wrong wire type: `command_id` (field 1, a string in
/// every command) sent as a number.
#[derive(Clone, PartialEq, prost::Message)]
struct Undecodable {
    #[prost(uint64, tag = "1")]
    command_id: u64,
}

/// Statuses a client can act on: a message that does not decode is its own mistake
/// (`INVALID_ARGUMENT`, not `INTERNAL`), one over the size limit a limit
/// (`RESOURCE_EXHAUSTED`, not `OUT_OF_RANGE`), and an `occurred_at` before 1990
/// (docs/TICKETS.md, Input limits) is refused naming the field.
#[tokio::test]
async fn statuses_a_client_can_act_on() -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::start_embedded().await?;
    let owner = helpdesk.token().to_owned();
    let channel = helpdesk.channel().await?;

    let undecodable = helpdesk_tests::grpc::unary::<Undecodable, pb::CommandResponse>(
        channel.clone(),
        "/helpdesk.v1.CommandService/CreateTicket",
        auth(&owner, Undecodable { command_id: 7 }),
    )
    .await
    .expect_err("a message that does not decode");
    assert_eq!(undecodable.code(), Code::InvalidArgument, "{undecodable:?}");

    let mut commands = CommandServiceClient::new(channel.clone());
    let too_large = commands
        .create_ticket(auth(
            &owner,
            pb::CreateTicketRequest {
                subject: "big".into(),
                body: Some("x".repeat(5 * 1024 * 1024)),
                ..Default::default()
            },
        ))
        .await
        .expect_err("a message over the size limit");
    assert_eq!(too_large.code(), Code::ResourceExhausted, "{too_large:?}");

    // Year 0001, as a client with a zeroed date sends it.
    let ancient = commands
        .go_online(auth(
            &owner,
            pb::GoOnlineRequest {
                occurred_at: Some(prost_types::Timestamp {
                    seconds: -62_135_596_800,
                    nanos: 0,
                }),
                ..Default::default()
            },
        ))
        .await
        .expect_err("an occurred_at in year 1");
    assert_eq!(ancient.code(), Code::InvalidArgument, "{ancient:?}");
    assert!(ancient.message().contains("occurred_at"), "{ancient:?}");

    // In an Execute stream: what arrived before is answered, then the stream ends with
    // the status, not as if the client had sent everything.
    let ticket = |body: String| pb::ExecuteRequest {
        command: Some(pb::execute_request::Command::CreateTicket(
            pb::CreateTicketRequest {
                channel: pb::Channel::Email as i32,
                priority: pb::Priority::Normal as i32,
                subject: "In a stream".into(),
                body: Some(body),
                ..Default::default()
            },
        )),
    };
    let stream = tokio_stream::iter([ticket("fine".into()), ticket("x".repeat(5 * 1024 * 1024))]);
    let mut answers = commands.execute(auth(&owner, stream)).await?.into_inner();
    let first = answers.message().await?;
    assert!(
        matches!(
            first.and_then(|a| a.result),
            Some(pb::execute_response::Result::Response(_))
        ),
        "the command before the oversized one is carried out"
    );
    let end = answers
        .message()
        .await
        .expect_err("a stream cut off by an oversized message ends with a status");
    assert_eq!(end.code(), Code::ResourceExhausted, "{end:?}");

    // The server still answers.
    let ok = commands
        .go_online(auth(&owner, pb::GoOnlineRequest::default()))
        .await;
    assert!(ok.is_ok(), "{ok:?}");
    helpdesk.stop().await
}

#[tokio::test]
async fn the_leaderboards_are_everyones_another_agents_statistics_are_not() -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::start_embedded().await?;
    let owner = helpdesk.token().to_owned();
    let channel = helpdesk.channel().await?;
    let (_, token, position) = helpdesk.new_agent("Ada").await?;
    let read = Some(pb::ReadOptions {
        min_position: position,
        wait_ms: 10_000,
    });
    // Ada, a plain agent, reads the level leaderboard and a benchmark of every agent…
    // (A new organization's boards may be empty: that they answer her is the point.)
    LevelServiceClient::new(channel.clone())
        .get_leaderboard(auth(&token, pb::GetLeaderboardRequest { limit: 10, read }))
        .await?;
    StatsServiceClient::new(channel.clone())
        .benchmark(auth(
            &token,
            pb::BenchmarkRequest {
                statistic: "answers".into(),
                read,
                ..Default::default()
            },
        ))
        .await?;
    // …but not the Owner's statistics: that needs reports.view.
    let owner_agent = StatsServiceClient::new(channel.clone())
        .get_agent_stats(auth(&owner, pb::GetAgentStatsRequest::default()))
        .await?
        .into_inner()
        .agent_id;
    let denied = StatsServiceClient::new(channel.clone())
        .get_agent_stats(auth(
            &token,
            pb::GetAgentStatsRequest {
                agent_id: owner_agent,
                ..Default::default()
            },
        ))
        .await
        .expect_err("another agent's statistics");
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(denied.message().contains("reports.view"), "{denied:?}");
    helpdesk.stop().await
}
