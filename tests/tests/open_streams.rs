//! Streams that stay open follow what happens to their caller: an `Execute` stream whose
//! token is revoked ends `UNAUTHENTICATED` before its next command is carried out, and a
//! watch ends once its caller no longer may watch (docs/SECURITY.md, "How fresh
//! authentication is").
//!
//! Needs the binary (`cargo build -p helpdesk-server`) and `nats-server` (`just test` sees to
//! both).

use std::time::Duration;

use helpdesk_api::{pb, AdminServiceClient, CommandServiceClient, LevelServiceClient};
use helpdesk_tests::{with_token, Helpdesk};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Request};

fn auth<T>(token: &str, message: T) -> Request<T> {
    with_token(Request::new(message), token)
}

fn role(builtin: pb::BuiltinRole) -> Option<pb::RoleRef> {
    Some(pb::RoleRef {
        role: Some(pb::role_ref::Role::Builtin(builtin as i32)),
    })
}

/// Registers an agent with `role` and issues them a token: (agent id, token id, token).
async fn agent_with_token(
    helpdesk: &Helpdesk,
    name: &str,
    builtin: pb::BuiltinRole,
) -> anyhow::Result<(String, String, String)> {
    let owner = helpdesk.token();
    let channel = helpdesk.channel().await?;
    let agent = CommandServiceClient::new(channel.clone())
        .register_agent(auth(
            owner,
            pb::RegisterAgentRequest {
                name: name.into(),
                email: format!("{}@example.com", name.to_lowercase()),
                role: role(builtin),
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    let issued = AdminServiceClient::new(channel)
        .issue_token(auth(
            owner,
            pb::IssueTokenRequest {
                subject: Some(pb::issue_token_request::Subject::AgentId(
                    agent.aggregate_id.clone(),
                )),
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    Ok((agent.aggregate_id, issued.token_id, issued.token))
}

async fn revoke(helpdesk: &Helpdesk, token_id: &str) -> anyhow::Result<()> {
    AdminServiceClient::new(helpdesk.channel().await?)
        .revoke_token(auth(
            helpdesk.token(),
            pb::RevokeTokenRequest {
                token_id: token_id.into(),
                ..Default::default()
            },
        ))
        .await?;
    Ok(())
}

fn ticket(subject: &str) -> pb::ExecuteRequest {
    pb::ExecuteRequest {
        command: Some(pb::execute_request::Command::CreateTicket(
            pb::CreateTicketRequest {
                channel: pb::Channel::Email as i32,
                priority: pb::Priority::Normal as i32,
                subject: subject.into(),
                body: Some("Hello".into()),
                ..Default::default()
            },
        )),
    }
}

#[tokio::test]
async fn a_revoked_tokens_execute_stream_ends_before_its_next_command() -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::start_embedded().await?;
    let (_, token_id, token) = agent_with_token(&helpdesk, "Ada", pb::BuiltinRole::Agent).await?;
    let mut commands = CommandServiceClient::new(helpdesk.channel().await?);
    let (send, requests) = tokio::sync::mpsc::channel(8);
    let mut answers = commands
        .execute(auth(&token, ReceiverStream::new(requests)))
        .await?
        .into_inner();
    send.send(ticket("Before the revocation")).await?;
    let first = answers.message().await?.and_then(|a| a.result);
    let Some(pb::execute_response::Result::Response(created)) = first else {
        panic!("the first command is carried out: {first:?}");
    };

    revoke(&helpdesk, &token_id).await?;
    send.send(ticket("After the revocation")).await?;
    let end = answers
        .message()
        .await
        .expect_err("a stream whose token was revoked ends with a status");
    assert_eq!(end.code(), Code::Unauthenticated, "{end:?}");
    // Nothing of the command after the revocation is in the log.
    let clock = AdminServiceClient::new(helpdesk.channel().await?)
        .get_log_clock(helpdesk.auth(pb::GetLogClockRequest::default()))
        .await?
        .into_inner();
    assert_eq!(
        clock.position,
        created.position + 1,
        "the log holds the ticket before the revocation and the revocation, nothing after"
    );
    helpdesk.stop().await
}

/// Reads `stream` until it ends with a status (or 20 s pass).
async fn ending<T: std::fmt::Debug>(
    stream: &mut tonic::Streaming<T>,
) -> anyhow::Result<tonic::Status> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match tokio::time::timeout_at(deadline, stream.message()).await {
            Err(_) => anyhow::bail!("the stream is still open 20 s later"),
            Ok(Ok(Some(_))) => continue,
            Ok(Ok(None)) => anyhow::bail!("the stream ended without a status"),
            Ok(Err(status)) => return Ok(status),
        }
    }
}

#[tokio::test]
async fn a_watch_ends_once_its_caller_no_longer_may_watch() -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::start_embedded().await?;
    let owner = helpdesk.token().to_owned();
    let channel = helpdesk.channel().await?;
    let mut levels = LevelServiceClient::new(channel.clone());

    // Revoked: the watch of her own level-ups ends UNAUTHENTICATED.
    let (_, token_id, token) = agent_with_token(&helpdesk, "Ada", pb::BuiltinRole::Agent).await?;
    let mut own = levels
        .watch_level_ups(auth(&token, pb::WatchLevelUpsRequest::default()))
        .await?
        .into_inner();
    revoke(&helpdesk, &token_id).await?;
    let end = ending(&mut own).await?;
    assert_eq!(end.code(), Code::Unauthenticated, "{end:?}");

    // Demoted: an administrator watching everyone's level-ups (which needs reports.view)
    // made an agent: the watch ends PERMISSION_DENIED.
    let (lead, _, token) =
        agent_with_token(&helpdesk, "Lin", pb::BuiltinRole::Administrator).await?;
    let mut everyone = levels
        .watch_level_ups(auth(&token, pb::WatchLevelUpsRequest::default()))
        .await?
        .into_inner();
    CommandServiceClient::new(channel)
        .change_agent_role(auth(
            &owner,
            pb::ChangeAgentRoleRequest {
                agent_id: lead,
                role: role(pb::BuiltinRole::Agent),
                ..Default::default()
            },
        ))
        .await?;
    let end = ending(&mut everyone).await?;
    assert_eq!(end.code(), Code::PermissionDenied, "{end:?}");
    assert!(end.message().contains("open it again"), "{end:?}");
    helpdesk.stop().await
}
