//! A client sending made-up tokens is held back by its address before its requests cost
//! a read of the log, on a server and on the gateway, while tokens that proved good keep
//! working (docs/SECURITY.md, "Before authentication").
//!
//! Needs the binary (`cargo build -p helpdesk-server`).

use helpdesk_api::{pb, AdminServiceClient, StatsServiceClient};
use helpdesk_tests::{with_token, Helpdesk};
use tonic::transport::Channel;
use tonic::{Code, Request};

/// Sends 40 queries with tokens nobody issued; the codes they got, in order.
async fn guess(channel: Channel) -> Vec<Code> {
    let mut codes = Vec::new();
    for i in 0..40 {
        let made_up = format!("hd_guess{i:035}");
        let answer = StatsServiceClient::new(channel.clone())
            .get_agent_stats(with_token(
                Request::new(pb::GetAgentStatsRequest::default()),
                &made_up,
            ))
            .await;
        codes.push(answer.expect_err("a made-up token").code());
    }
    codes
}

/// The log's last position, asked of the server that holds the log.
async fn log_end(server: &Helpdesk) -> anyhow::Result<u64> {
    Ok(AdminServiceClient::new(server.channel().await?)
        .get_log_clock(server.auth(pb::GetLogClockRequest::default()))
        .await?
        .into_inner()
        .position)
}

/// The Owner's token still answers: their statistics, once the stats model has folded
/// the log up to `end` (right after a start it may not have met the Owner yet).
async fn owner_still_answers(
    helpdesk: &Helpdesk,
    channel: Channel,
    end: u64,
) -> anyhow::Result<()> {
    StatsServiceClient::new(channel)
        .get_agent_stats(helpdesk.auth(pb::GetAgentStatsRequest {
            read: Some(pb::ReadOptions {
                min_position: end,
                wait_ms: 10_000,
            }),
            ..Default::default()
        }))
        .await?;
    Ok(())
}

fn assert_held_back(codes: &[Code]) {
    // 5 a second with bursts of 10, one of which the Owner's first query took (their
    // token was not known yet): 9 are refused as unknown, then the address is held back
    // (a slow machine may refill a few meanwhile).
    assert_eq!(&codes[..9], &[Code::Unauthenticated; 9], "{codes:?}");
    let held = codes
        .iter()
        .filter(|c| **c == Code::ResourceExhausted)
        .count();
    assert!(held >= 20, "{held} of 40 held back: {codes:?}");
}

#[tokio::test]
async fn a_server_holds_back_an_address_that_guesses_tokens() -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::builder()
        .arg("--unverified-per-address")
        .arg("5")
        .start()
        .await?;
    let end = log_end(&helpdesk).await?;
    let channel = helpdesk.channel().await?;
    owner_still_answers(&helpdesk, channel.clone(), end).await?;
    assert_held_back(&guess(channel.clone()).await);
    owner_still_answers(&helpdesk, channel, end).await?;
    helpdesk.stop().await
}

#[tokio::test]
async fn the_gateway_holds_back_an_address_that_guesses_tokens() -> anyhow::Result<()> {
    let mut server = Helpdesk::start_embedded().await?;
    let mut gateway = Helpdesk::builder()
        .subcommand(["gateway"])
        .owner_token(server.token())
        .arg("--route")
        .arg(format!("stats={}", server.endpoint()))
        .arg("--unverified-per-address")
        .arg("5")
        .start()
        .await?;
    let end = log_end(&server).await?;
    let channel = gateway.channel().await?;
    owner_still_answers(&gateway, channel.clone(), end).await?;
    assert_held_back(&guess(channel.clone()).await);
    owner_still_answers(&gateway, channel, end).await?;
    gateway.stop().await?;
    server.stop().await
}
