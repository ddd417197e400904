//! Two command services on one NATS stream: a command decided by one sees everything the
//! other acknowledged before it was sent. Each service keeps the configuration and the
//! agents cached and follows the log to know when they changed (crates/server/src/
//! follower.rs); these are the cases where a stale cache would decide wrongly: a token
//! issued or revoked, an agent paused or resumed, each by the other service a moment
//! before.
//!
//! Needs the binary (`cargo build -p helpdesk-server`) and `nats-server` (`just test` sees to
//! both).

use helpdesk_api::{pb, AdminServiceClient, CommandServiceClient};
use helpdesk_testkit::NatsServer;
use helpdesk_tests::{with_token, Helpdesk};
use tonic::transport::Channel;
use tonic::{Code, Request};

const OWNER: &str = "hd_consistencyOwnerToken0000000000000000000";
const ROUNDS: usize = 20;

fn auth<T>(token: &str, message: T) -> Request<T> {
    with_token(Request::new(message), token)
}

async fn command_service(nats: &NatsServer) -> anyhow::Result<Helpdesk> {
    Helpdesk::builder()
        .nats(nats)
        .subcommand(["commands"])
        .owner_token(OWNER)
        .arg("--tick-seconds")
        .arg("3600")
        .start()
        .await
}

/// A new high-priority ticket, created through `commands`; its id.
async fn high_priority_ticket(
    commands: &mut CommandServiceClient<Channel>,
) -> anyhow::Result<String> {
    let created = commands
        .create_ticket(auth(
            OWNER,
            pb::CreateTicketRequest {
                subject: "The printer is on fire".into(),
                priority: pb::Priority::Urgent as i32,
                channel: pb::Channel::Email as i32,
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    Ok(created.aggregate_id)
}

/// The Owner sets `agent` online.
async fn go_online(
    commands: &mut CommandServiceClient<Channel>,
    agent: &str,
) -> anyhow::Result<()> {
    commands
        .go_online(auth(
            OWNER,
            pb::GoOnlineRequest {
                agent_id: agent.to_owned(),
                ..Default::default()
            },
        ))
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_command_sees_what_another_service_acknowledged_before_it() -> anyhow::Result<()> {
    let nats = NatsServer::start()?;
    let mut one = command_service(&nats).await?;
    let mut other = command_service(&nats).await?;
    let mut commands_one = CommandServiceClient::new(one.channel().await?);
    let mut admin_one = AdminServiceClient::new(one.channel().await?);
    let mut commands_other = CommandServiceClient::new(other.channel().await?);

    let ada = commands_one
        .register_agent(auth(
            OWNER,
            pb::RegisterAgentRequest {
                name: "Ada".into(),
                email: "ada@example.com".into(),
                role: Some(pb::RoleRef {
                    role: Some(pb::role_ref::Role::Builtin(pb::BuiltinRole::Agent as i32)),
                }),
                ..Default::default()
            },
        ))
        .await?
        .into_inner()
        .aggregate_id;
    go_online(&mut commands_one, &ada).await?;

    for round in 0..ROUNDS {
        // Both services have decided on Ada and on the configuration before this round,
        // so both are cached; each change below is made by one service and used at once
        // by the other.
        let ticket = high_priority_ticket(&mut commands_other).await?;
        commands_one
            .pause_agent(auth(
                OWNER,
                pb::PauseAgentRequest {
                    agent_id: ada.clone(),
                    ..Default::default()
                },
            ))
            .await?;
        let refused = commands_other
            .assign_ticket(auth(
                OWNER,
                pb::AssignTicketRequest {
                    ticket_id: ticket.clone(),
                    agent_id: ada.clone(),
                    ..Default::default()
                },
            ))
            .await
            .expect_err("a high-priority ticket assigned to an agent paused a moment ago");
        assert_eq!(
            refused.code(),
            Code::FailedPrecondition,
            "round {round}: {refused:?}"
        );
        commands_one
            .resume_agent(auth(
                OWNER,
                pb::ResumeAgentRequest {
                    agent_id: ada.clone(),
                    ..Default::default()
                },
            ))
            .await?;
        commands_other
            .assign_ticket(auth(
                OWNER,
                pb::AssignTicketRequest {
                    ticket_id: ticket,
                    agent_id: ada.clone(),
                    ..Default::default()
                },
            ))
            .await
            .map_err(|status| anyhow::anyhow!("round {round}: assign after resume: {status:?}"))?;

        let issued = admin_one
            .issue_token(auth(
                OWNER,
                pb::IssueTokenRequest {
                    subject: Some(pb::issue_token_request::Subject::AgentId(ada.clone())),
                    ..Default::default()
                },
            ))
            .await?
            .into_inner();
        commands_other
            .go_offline(auth(&issued.token, pb::GoOfflineRequest::default()))
            .await
            .map_err(|status| {
                anyhow::anyhow!("round {round}: a token issued a moment ago: {status:?}")
            })?;
        go_online(&mut commands_one, &ada).await?;
        admin_one
            .revoke_token(auth(
                OWNER,
                pb::RevokeTokenRequest {
                    token_id: issued.token_id,
                    ..Default::default()
                },
            ))
            .await?;
        // Ada is online: going offline would be accepted but for the token.
        let refused = commands_other
            .go_offline(auth(&issued.token, pb::GoOfflineRequest::default()))
            .await
            .expect_err("a token revoked a moment ago");
        assert_eq!(
            refused.code(),
            Code::Unauthenticated,
            "round {round}: {refused:?}"
        );
    }
    one.stop().await?;
    other.stop().await
}
