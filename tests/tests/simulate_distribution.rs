//! `helpdesk simulate` into an organization where the system routes (docs/DISTRIBUTION.md,
//! Simulated history): the history only starts the chats and calls, the system offers
//! them (its runner logs each offer; an offer by hand would be refused then), the
//! simulated agents take them, and the statistics count the accepted chats with their
//! pickup times. The same seed into a second fresh organization (on NATS, the setting
//! turned on by `simulate --system-routes`) gives the same statistics, agent by agent: the
//! system's choices depend on the log alone.
//!
//! Needs the binaries (`cargo build -p helpdesk-server -p helpdesk-cli`) and
//! `nats-server`.

use std::collections::BTreeMap;

use helpdesk_api::{pb, CommandServiceClient, RosterServiceClient, StatsServiceClient};
use helpdesk_tests::{helpdesk_bin, utc_date, with_token, Helpdesk, NatsServer, HISTORY_START};
use tonic::Request;

/// The counters compared between the two runs.
const COUNTERS: [&str; 7] = [
    "chats",
    "chat_pickups",
    "chat_pickup_ms",
    "missed_chats",
    "calls",
    "missed_calls",
    "chat_answers",
];

/// A fresh organization where the system routes, from an hour before the simulated day
/// (pinned: an import's time, so the day's history may follow it).
async fn routing_desk() -> anyhow::Result<Helpdesk> {
    let helpdesk = fresh_desk().await?;
    let before = HISTORY_START - 3_600_000;
    CommandServiceClient::new(helpdesk.channel().await?)
        .set_organization_settings(with_token(
            Request::new(pb::SetOrganizationSettingsRequest {
                occurred_at: Some(prost_types::Timestamp {
                    seconds: before / 1000,
                    nanos: 0,
                }),
                system_routes: Some(true),
                ..Default::default()
            }),
            helpdesk.token(),
        ))
        .await?;
    Ok(helpdesk)
}

/// A fresh organization. The clock ticks hourly: no tick at today's time lands among the
/// pinned history.
async fn fresh_desk() -> anyhow::Result<Helpdesk> {
    Helpdesk::builder()
        .arg("--tick-seconds")
        .arg("3600")
        .start()
        .await
}

/// Runs `helpdesk simulate` for one day of 5 agents, with `more` arguments; its stdout.
async fn simulate(helpdesk: &Helpdesk, more: &[&str]) -> anyhow::Result<String> {
    let output = tokio::process::Command::new(helpdesk_bin())
        .args(["simulate", "--agents", "5", "--days", "1", "--seed", "11"])
        .args(more)
        .args(["--from", &utc_date(HISTORY_START)])
        .args(["--server", &helpdesk.endpoint()])
        .env("HELPDESK_TOKEN", helpdesk.token())
        .output()
        .await?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    anyhow::ensure!(
        output.status.success(),
        "simulate failed: {stderr}\n{stdout}"
    );
    assert!(
        stderr.contains("the system offering the chats and calls"),
        "{stderr}"
    );
    Ok(stdout)
}

/// Every simulated agent's counters (the Owner left out), by agent id.
async fn counters(
    helpdesk: &Helpdesk,
) -> anyhow::Result<BTreeMap<String, BTreeMap<&'static str, u64>>> {
    let channel = helpdesk.channel().await?;
    let end = pb::ReadOptions {
        min_position: helpdesk_log_end(helpdesk).await?,
        wait_ms: 30_000,
    };
    let agents = RosterServiceClient::new(channel.clone())
        .list_agents(with_token(
            Request::new(pb::ListAgentsRequest {
                read: Some(end),
                ..Default::default()
            }),
            helpdesk.token(),
        ))
        .await?
        .into_inner()
        .agents;
    let mut all = BTreeMap::new();
    for agent in agents.iter().filter(|a| a.name != "Owner") {
        let stats = StatsServiceClient::new(channel.clone())
            .get_agent_stats(with_token(
                Request::new(pb::GetAgentStatsRequest {
                    agent_id: agent.agent_id.clone(),
                    read: Some(end),
                    ..Default::default()
                }),
                helpdesk.token(),
            ))
            .await?
            .into_inner();
        let mine = COUNTERS
            .iter()
            .map(|&name| (name, stats.counters.get(name).copied().unwrap_or(0)))
            .collect();
        all.insert(agent.agent_id.clone(), mine);
    }
    Ok(all)
}

async fn helpdesk_log_end(helpdesk: &Helpdesk) -> anyhow::Result<u64> {
    Ok(
        helpdesk_api::AdminServiceClient::new(helpdesk.channel().await?)
            .get_log_clock(with_token(
                Request::new(pb::GetLogClockRequest::default()),
                helpdesk.token(),
            ))
            .await?
            .into_inner()
            .position,
    )
}

/// A log line without its terminal colours (`ESC [ … m`).
fn without_colours(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            plain.push(c);
        }
    }
    plain
}

fn total(all: &BTreeMap<String, BTreeMap<&'static str, u64>>, counter: &str) -> u64 {
    all.values().map(|c| c[counter]).sum()
}

#[tokio::test]
async fn simulate_lets_the_system_offer_the_chats_and_calls() -> anyhow::Result<()> {
    let mut first = routing_desk().await?;
    let started = std::time::Instant::now();
    let stdout = simulate(&first, &[]).await?;
    eprintln!(
        "simulate (5 agents, 1 day) took {:.1} s: {stdout}",
        started.elapsed().as_secs_f64()
    );
    assert!(stdout.contains(" 0 rejected"), "{stdout}");
    let one = counters(&first).await?;

    // The offers are the system's: its runner recorded each (the history sent none, and
    // could not have: offering by hand is refused while the system routes).
    let offers = first
        .lines()
        .iter()
        .map(|l| without_colours(&l.text))
        .filter(|l| l.contains("distribution: offered") && l.contains("duplicate=false"))
        .count() as u64;
    let chats = total(&one, "chats");
    let calls = total(&one, "calls");
    let missed = total(&one, "missed_chats") + total(&one, "missed_calls");
    assert!(chats > 20 && calls > 5, "{one:?}");
    assert!(missed > 0, "some offers declined: {one:?}");
    assert!(
        offers >= chats + calls + missed,
        "{offers} offers by the system for {chats} chats and {calls} calls taken, {missed} missed"
    );
    // Every accepted chat was offered first: its pickup time counts, at most the routing time.
    assert_eq!(total(&one, "chat_pickups"), chats);
    assert!(total(&one, "chat_pickup_ms") <= chats * 30_000, "{one:?}");
    assert!(total(&one, "chat_answers") > chats, "{one:?}");
    first.stop().await?;

    // The same seed into another fresh organization, on NATS, where simulate turns the
    // setting on itself (--system-routes): the same statistics, agent by agent.
    let nats = NatsServer::start()?;
    let mut second = Helpdesk::builder()
        .arg("--tick-seconds")
        .arg("3600")
        .nats(&nats)
        .start()
        .await?;
    simulate(&second, &["--system-routes"]).await?;
    assert_eq!(counters(&second).await?, one);
    second.stop().await?;
    Ok(())
}

/// The time a simulated week of 20 agents takes, the system routing or not (ignored:
/// a measurement, `cargo test -p helpdesk-tests --test simulate_distribution -- --ignored
/// --nocapture`).
#[tokio::test]
#[ignore]
async fn a_week_of_twenty_agents() -> anyhow::Result<()> {
    for routes in [false, true] {
        let mut helpdesk = match routes {
            true => routing_desk().await?,
            false => fresh_desk().await?,
        };
        let started = std::time::Instant::now();
        let output = tokio::process::Command::new(helpdesk_bin())
            .args(["simulate", "--agents", "20", "--days", "7", "--seed", "7"])
            .args(["--from", &utc_date(HISTORY_START)])
            .args(["--server", &helpdesk.endpoint()])
            .env("HELPDESK_TOKEN", helpdesk.token())
            .output()
            .await?;
        assert!(output.status.success(), "{output:?}");
        eprintln!(
            "system routes: {routes}: {:.1} s: {}",
            started.elapsed().as_secs_f64(),
            String::from_utf8_lossy(&output.stdout)
        );
        helpdesk.stop().await?;
    }
    Ok(())
}
