//! The server starts, answers health and reflection, refuses callers without a token, stops
//! cleanly on SIGTERM and carries on after a restart: on the embedded log and on NATS.
//!
//! Needs the binary (`cargo build -p helpdesk-server`) and `nats-server` (`just test` sees to
//! both).

use helpdesk_tests::grpc::{self, health};
use helpdesk_tests::{with_token, Helpdesk, NatsServer, COMMAND_SERVICE};
use tonic::transport::Channel;
use tonic::{Code, Request};
use tonic_health::pb::health_check_response::ServingStatus;

const GO_ONLINE: &str = "/helpdesk.v1.CommandService/GoOnline";

/// `helpdesk.v1.GoOnlineRequest` on the wire (fields 1 and 3; 2 is `occurred_at`).
#[derive(Clone, PartialEq, prost::Message)]
struct GoOnlineRequest {
    #[prost(string, tag = "1")]
    command_id: String,
    #[prost(string, tag = "3")]
    agent_id: String,
}

/// `helpdesk.v1.CommandResponse` on the wire.
#[derive(Clone, PartialEq, prost::Message)]
struct CommandResponse {
    #[prost(string, tag = "1")]
    command_id: String,
    #[prost(string, repeated, tag = "2")]
    events: Vec<String>,
    #[prost(uint64, tag = "3")]
    position: u64,
    #[prost(bool, tag = "4")]
    duplicate: bool,
    #[prost(string, tag = "5")]
    aggregate_id: String,
}

async fn go_online(
    channel: Channel,
    request: Request<GoOnlineRequest>,
) -> Result<CommandResponse, tonic::Status> {
    grpc::unary::<_, CommandResponse>(channel, GO_ONLINE, request)
        .await
        .map(tonic::Response::into_inner)
}

fn go_online_request(command_id: &str) -> GoOnlineRequest {
    GoOnlineRequest {
        command_id: command_id.to_owned(),
        agent_id: String::new(),
    }
}

/// Health, reflection v1 and v1alpha, and authentication.
async fn serves(helpdesk: &Helpdesk) -> anyhow::Result<()> {
    let address = helpdesk.address();
    assert!(address.ip().is_loopback(), "listens on {address}");
    assert_ne!(address.port(), 0, "the ready line names the bound port");

    let channel = helpdesk.channel().await?;

    assert_eq!(health(channel.clone(), "").await?, ServingStatus::Serving);
    assert_eq!(
        health(channel.clone(), COMMAND_SERVICE).await?,
        ServingStatus::Serving
    );

    for (version, services) in [
        ("v1", grpc::reflection_services_v1(channel.clone()).await?),
        (
            "v1alpha",
            grpc::reflection_services_v1alpha(channel.clone()).await?,
        ),
    ] {
        for wanted in [COMMAND_SERVICE, "grpc.health.v1.Health"] {
            assert!(
                services.iter().any(|s| s == wanted),
                "reflection {version} lists {services:?}, not {wanted}"
            );
        }
    }

    let anonymous = go_online(channel.clone(), Request::new(go_online_request("")))
        .await
        .expect_err("a call without a token must fail");
    assert_eq!(anonymous.code(), Code::Unauthenticated, "{anonymous:?}");

    let wrong = go_online(
        channel.clone(),
        with_token(Request::new(go_online_request("")), "not-a-token"),
    )
    .await
    .expect_err("a call with a wrong token must fail");
    assert_eq!(wrong.code(), Code::Unauthenticated, "{wrong:?}");

    // The Owner is an agent: going online as themself is allowed.
    let owner = go_online(channel, helpdesk.auth(go_online_request(""))).await;
    assert!(owner.is_ok(), "the Owner goes online: {owner:?}");
    Ok(())
}

/// Stop (exit code 0), start again on the same data: same token, no new token line,
/// serving again, and a command id accepted before is recognized as a duplicate.
async fn carries_on(mut helpdesk: Helpdesk) -> anyhow::Result<()> {
    let command_id = uuid::Uuid::now_v7().to_string();
    let channel = helpdesk.channel().await?;
    let first = go_online(channel, helpdesk.auth(go_online_request(&command_id))).await?;
    assert!(!first.duplicate, "{first:?}");
    assert_eq!(first.command_id, command_id);

    let token = helpdesk.token().to_owned();
    helpdesk.restart().await?;
    assert_eq!(helpdesk.token(), token);
    let printed_token: Vec<_> = helpdesk
        .stdout_of_last_run()
        .into_iter()
        .filter(|line| line.trim_start().starts_with("owner token:"))
        .collect();
    assert!(
        printed_token.is_empty(),
        "the owner token is shown on the first start only, yet the restart printed \
         {printed_token:?}"
    );

    let channel = helpdesk.channel().await?;
    grpc::wait_serving(channel.clone(), "").await?;
    let again = go_online(channel, helpdesk.auth(go_online_request(&command_id))).await?;
    assert!(again.duplicate, "the command id is remembered: {again:?}");
    assert_eq!(again.events, first.events, "the first result is returned");
    assert_eq!(
        again.position, first.position,
        "the first result is returned"
    );

    helpdesk.stop().await?;
    Ok(())
}

#[tokio::test]
async fn embedded_serves() -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::start_embedded().await?;
    serves(&helpdesk).await?;
    helpdesk.stop().await
}

#[tokio::test]
async fn nats_serves() -> anyhow::Result<()> {
    let nats = NatsServer::start()?;
    let mut helpdesk = Helpdesk::start_on_nats(&nats).await?;
    serves(&helpdesk).await?;
    helpdesk.stop().await
}

#[tokio::test]
async fn embedded_carries_on_after_restart() -> anyhow::Result<()> {
    carries_on(Helpdesk::start_embedded().await?).await
}

#[tokio::test]
async fn nats_carries_on_after_restart() -> anyhow::Result<()> {
    let nats = NatsServer::start()?;
    carries_on(Helpdesk::start_on_nats(&nats).await?).await
}

#[tokio::test]
async fn a_given_owner_token_is_used_and_not_printed() -> anyhow::Result<()> {
    let token = format!("smoke-{}", uuid::Uuid::new_v4().simple());
    let mut helpdesk = Helpdesk::builder().owner_token(&token).start().await?;
    assert_eq!(helpdesk.token(), token);
    let leaked: Vec<_> = helpdesk
        .lines()
        .into_iter()
        .filter(|line| line.text.contains(&token))
        .collect();
    assert!(leaked.is_empty(), "the given token is printed: {leaked:?}");

    let channel = helpdesk.channel().await?;
    let owner = go_online(channel, helpdesk.auth(go_online_request(""))).await;
    assert!(
        owner.is_ok(),
        "the given token authenticates the Owner: {owner:?}"
    );
    helpdesk.stop().await
}
