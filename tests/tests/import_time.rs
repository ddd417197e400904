//! Imports and the time the log has reached: history is never moved in time.
//!
//! - The README's walk-through, followed literally (start, stop, start again, simulate a
//!   few days) gives the simulated days as they happened, not flattened into the moment
//!   of the restart.
//! - An import older than what the log has already reached is refused
//!   (`FAILED_PRECONDITION`, naming both times and what to do) and changes nothing;
//!   `helpdesk simulate` says so before it sends anything.
//! - A restart in the middle of an import (`kill -9` or a graceful stop) leaves the models
//!   exactly as an uninterrupted import does.
//!
//! Needs the binary (`cargo build -p helpdesk-server`); `just test` sees to it.

use std::collections::BTreeSet;
use std::process::Output;

use anyhow::Context as _;
use helpdesk_api::{
    pb, AdminServiceClient, CommandServiceClient, LevelServiceClient, ReportServiceClient,
    TicketServiceClient,
};
use helpdesk_tests::compare::Pair;
use helpdesk_tests::{helpdesk_bin, same, utc_date, with_token, Helpdesk, HISTORY_START};
use helpdesk_workload::{Workload, WorkloadConfig};
use tonic::transport::Channel;
use tonic::{Code, Request};

const OWNER: &str = "import-time-test-owner-token-0123456789";

fn auth<T>(message: T) -> Request<T> {
    with_token(Request::new(message), OWNER)
}

fn read(position: u64) -> Option<pb::ReadOptions> {
    Some(pb::ReadOptions {
        min_position: position,
        wait_ms: 60_000,
    })
}

fn timestamp(millis: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: millis.div_euclid(1000),
        nanos: (millis.rem_euclid(1000) * 1_000_000) as i32,
    })
}

/// `helpdesk simulate` against `helpdesk`, with the Owner's token.
async fn simulate(helpdesk: &Helpdesk, args: &[&str]) -> anyhow::Result<Output> {
    tokio::process::Command::new(helpdesk_bin())
        .arg("simulate")
        .args(["--server", &helpdesk.endpoint()])
        .env("HELPDESK_TOKEN", OWNER)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .await
        .context("running helpdesk simulate")
}

async fn log_clock(channel: Channel) -> anyhow::Result<pb::GetLogClockResponse> {
    Ok(AdminServiceClient::new(channel)
        .get_log_clock(auth(pb::GetLogClockRequest {}))
        .await?
        .into_inner())
}

/// Sends `requests` over one `Execute` stream; fails on any refusal. Returns the highest
/// position written or found (duplicates included).
async fn import(channel: Channel, requests: Vec<pb::ExecuteRequest>) -> anyhow::Result<u64> {
    let total = requests.len();
    let mut answers = CommandServiceClient::new(channel)
        .execute(auth(tokio_stream::iter(requests)))
        .await?
        .into_inner();
    let (mut answered, mut last) = (0, 0);
    while let Some(answer) = answers.message().await? {
        answered += 1;
        match answer.result {
            Some(pb::execute_response::Result::Response(r)) => last = last.max(r.position),
            other => anyhow::bail!("command #{} was refused: {other:?}", answer.index),
        }
    }
    anyhow::ensure!(answered == total, "{answered} answers to {total} commands");
    Ok(last)
}

/// The ungrouped report by day over the history's days.
async fn daily_report(
    channel: Channel,
    config: &WorkloadConfig,
    position: u64,
) -> anyhow::Result<pb::ReportResponse> {
    Ok(ReportServiceClient::new(channel)
        .get_report(auth(pb::ReportRequest {
            from: utc_date(config.start),
            to: utc_date(config.end() - 1),
            bucket: pb::ReportBucket::Day as i32,
            read: read(position),
            ..Default::default()
        }))
        .await?
        .into_inner())
}

fn column(report: &pb::ReportResponse, name: &str) -> usize {
    report
        .columns
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", report.columns))
}

#[tokio::test]
async fn the_readme_walk_through_with_a_restart_gives_the_simulated_days() -> anyhow::Result<()> {
    // `just run`, Ctrl-C, `just run` again (a short tick, so that a clock running too
    // early would show at once), then `just simulate`.
    let mut helpdesk = Helpdesk::builder()
        .owner_token(OWNER)
        .arg("--tick-seconds")
        .arg("1")
        .start()
        .await?;
    helpdesk.restart().await?;
    let days = 3;
    let config = WorkloadConfig::new(7, 6, days, HISTORY_START);
    let output = simulate(
        &helpdesk,
        &[
            "--agents",
            "6",
            "--days",
            "3",
            "--seed",
            "7",
            "--from",
            "2025-03-03",
        ],
    )
    .await?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains(" 0 rejected"),
        "simulate: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let channel = helpdesk.channel().await?;
    let position = log_clock(channel.clone()).await?.position;

    // Each simulated day has its own tickets, created when they were, and answered
    // after a while: the week is not flattened into one instant.
    let report = daily_report(channel.clone(), &config, position).await?;
    let created = column(&report, "created_tickets");
    let first_answer = column(&report, "mean_first_answer_seconds");
    let days_seen: Vec<&str> = report.rows.iter().map(|r| r.bucket.as_str()).collect();
    assert_eq!(days_seen, ["2025-03-03", "2025-03-04", "2025-03-05"]);
    let mut workload = Workload::new(config.clone());
    for _ in workload.by_ref() {}
    let expected = workload.stats().count("CreateTicket") as f64;
    let reported: f64 = report.rows.iter().map(|r| r.values[created]).sum();
    assert_eq!(reported, expected, "every simulated ticket on its own day");
    for row in &report.rows {
        assert!(row.values[created] > 0.0, "no tickets on {}", row.bucket);
        assert!(
            row.values[first_answer] > 0.0,
            "first answers take no time on {}: {row:?}",
            row.bucket
        );
    }
    let tickets = TicketServiceClient::new(channel)
        .list_tickets(auth(pb::ListTicketsRequest {
            page_size: 1000,
            read: read(position),
            ..Default::default()
        }))
        .await?
        .into_inner()
        .tickets;
    let created_at: BTreeSet<i64> = tickets
        .iter()
        .filter_map(|t| t.created_at.map(|c| c.seconds))
        .collect();
    assert!(
        created_at.len() * 2 > tickets.len(),
        "{} tickets created at only {} moments",
        tickets.len(),
        created_at.len()
    );
    Ok(())
}

#[tokio::test]
async fn an_import_older_than_the_log_is_refused_and_changes_nothing() -> anyhow::Result<()> {
    let helpdesk = Helpdesk::builder()
        .owner_token(OWNER)
        .arg("--tick-seconds")
        .arg("3600")
        .start()
        .await?;
    let channel = helpdesk.channel().await?;
    let mut commands = CommandServiceClient::new(channel.clone());
    // Live work: the log reaches today.
    commands
        .create_ticket(auth(pb::CreateTicketRequest {
            channel: pb::Channel::Email as i32,
            priority: pb::Priority::Normal as i32,
            subject: "Live work".into(),
            ..Default::default()
        }))
        .await?;
    let clock = log_clock(channel.clone()).await?;
    let reached = clock.time.expect("the log has a time");
    assert_eq!(clock.import_lag_max_seconds, 60);

    let refused = commands
        .create_ticket(auth(pb::CreateTicketRequest {
            channel: pb::Channel::Email as i32,
            priority: pb::Priority::Normal as i32,
            subject: "From last year".into(),
            occurred_at: timestamp(HISTORY_START),
            ..Default::default()
        }))
        .await
        .expect_err("an import older than the log is refused");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let message = refused.message();
    for part in [
        "2025-03-03 00:00:00 UTC",
        "already reached",
        "new data directory",
    ] {
        assert!(message.contains(part), "{part:?} not in {message:?}");
    }
    let tickets = TicketServiceClient::new(channel.clone())
        .list_tickets(auth(pb::ListTicketsRequest {
            read: read(log_clock(channel.clone()).await?.position),
            ..Default::default()
        }))
        .await?
        .into_inner()
        .tickets;
    let subjects: Vec<&str> = tickets.iter().map(|t| t.subject.as_str()).collect();
    assert_eq!(subjects, ["Live work"], "a refused import appends nothing");

    // Within the documented lag, an importer running beside another is accepted.
    let within = reached.seconds * 1000 - 30_000;
    commands
        .create_ticket(auth(pb::CreateTicketRequest {
            channel: pb::Channel::Email as i32,
            priority: pb::Priority::Normal as i32,
            subject: "Half a minute behind".into(),
            occurred_at: timestamp(within),
            ..Default::default()
        }))
        .await?;

    // simulate checks before it sends anything, and says why in one line.
    let output = simulate(
        &helpdesk,
        &["--agents", "2", "--days", "1", "--from", "2025-03-03"],
    )
    .await?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "simulate succeeded: {stderr}");
    assert!(
        stderr.contains("nothing was sent") && stderr.contains("fresh data directory"),
        "{stderr}"
    );
    let after = log_clock(channel.clone()).await?.position;
    let tickets = TicketServiceClient::new(channel)
        .count_tickets(auth(pb::CountTicketsRequest { read: read(after) }))
        .await?
        .into_inner();
    assert!(
        tickets
            .departments
            .iter()
            .all(|d| d.department_id.is_empty()),
        "simulate created departments: {tickets:?}"
    );
    Ok(())
}

/// The leaderboard, the daily report by agent and the tickets, as users see them.
async fn answers_agree(
    left: &Helpdesk,
    right: &Helpdesk,
    config: &WorkloadConfig,
) -> anyhow::Result<()> {
    let pair = Pair {
        left: left.channel().await?,
        right: right.channel().await?,
        names: ["an import without a restart", "an import with restarts"],
        token: OWNER.into(),
        read: None,
    };
    let leaderboard = same!(
        pair,
        LevelServiceClient,
        get_leaderboard,
        pb::GetLeaderboardRequest {
            limit: 1000,
            read: None
        }
    );
    assert!(leaderboard.rows.len() >= 6);
    for group_by in [pb::ReportGroup::Unspecified, pb::ReportGroup::Agent] {
        let report = same!(
            pair,
            ReportServiceClient,
            get_report,
            pb::ReportRequest {
                from: utc_date(config.start),
                to: utc_date(config.end() - 1),
                bucket: pb::ReportBucket::Hour as i32,
                group_by: group_by as i32,
                ..Default::default()
            }
        );
        assert!(!report.rows.is_empty());
    }
    same!(
        pair,
        TicketServiceClient,
        list_tickets,
        pb::ListTicketsRequest {
            page_size: 1000,
            ..Default::default()
        }
    );
    Ok(())
}

/// Waits until every model of `helpdesk` has folded the log up to `position`.
async fn settled(helpdesk: &Helpdesk, position: u64) -> anyhow::Result<()> {
    let channel = helpdesk.channel().await?;
    TicketServiceClient::new(channel.clone())
        .count_tickets(auth(pb::CountTicketsRequest {
            read: read(position),
        }))
        .await?;
    LevelServiceClient::new(channel.clone())
        .get_leaderboard(auth(pb::GetLeaderboardRequest {
            limit: 1,
            read: read(position),
        }))
        .await?;
    ReportServiceClient::new(channel)
        .get_report(auth(pb::ReportRequest {
            from: "2025-03-03".into(),
            to: "2025-03-03".into(),
            read: read(position),
            ..Default::default()
        }))
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_restart_in_the_middle_of_an_import_changes_no_model() -> anyhow::Result<()> {
    let config = WorkloadConfig::new(5, 6, 2, HISTORY_START);
    let requests: Vec<pb::ExecuteRequest> = Workload::new(config.clone()).collect();
    let third = requests.len() / 3;

    let whole = Helpdesk::builder()
        .owner_token(OWNER)
        .arg("--tick-seconds")
        .arg("1")
        .start()
        .await?;
    let last = import(whole.channel().await?, requests.clone()).await?;
    settled(&whole, last).await?;

    // The same import, cut off twice: by kill -9, then by a graceful stop. Each time the
    // importer starts over (what was appended comes back as duplicates).
    let mut restarted = Helpdesk::builder()
        .owner_token(OWNER)
        .arg("--tick-seconds")
        .arg("1")
        .start()
        .await?;
    import(restarted.channel().await?, requests[..third].to_vec()).await?;
    restarted.kill().await?;
    restarted.start_again().await?;
    import(restarted.channel().await?, requests[..2 * third].to_vec()).await?;
    restarted.restart().await?;
    let last = import(restarted.channel().await?, requests.clone()).await?;
    settled(&restarted, last).await?;
    answers_agree(&whole, &restarted, &config).await
}

/// An import run with the Owner's token names who did what: the leaderboard and the
/// benchmarks show the agents who worked, never the Owner, and no time before the
/// history (the organization's setup is recorded at the Unix epoch).
#[tokio::test]
async fn an_import_credits_the_agents_who_worked_not_the_importer() -> anyhow::Result<()> {
    let helpdesk = Helpdesk::builder()
        .owner_token(OWNER)
        .arg("--tick-seconds")
        .arg("3600")
        .start()
        .await?;
    let config = WorkloadConfig::new(3, 5, 1, HISTORY_START);
    let workload = Workload::new(config.clone());
    let agents: BTreeSet<String> = workload.agent_ids().iter().map(|a| a.to_string()).collect();
    let last = import(helpdesk.channel().await?, workload.collect()).await?;
    let channel = helpdesk.channel().await?;

    let leaderboard = LevelServiceClient::new(channel.clone())
        .get_leaderboard(auth(pb::GetLeaderboardRequest {
            limit: 100,
            read: read(last),
        }))
        .await?
        .into_inner();
    let listed: BTreeSet<String> = leaderboard
        .rows
        .iter()
        .map(|r| r.agent_id.clone())
        .collect();
    assert_eq!(
        listed, agents,
        "the leaderboard lists the agents who worked"
    );
    for row in &leaderboard.rows {
        let reached = row.reached_at.expect("a time").seconds * 1000;
        assert!(
            reached >= config.start && reached < config.end(),
            "{} reached {} at {reached}",
            row.name,
            row.level.as_ref().map_or("", |l| l.name.as_str())
        );
    }
    for statistic in ["answers", "transfers", "worktime"] {
        let benchmark = helpdesk_api::StatsServiceClient::new(channel.clone())
            .benchmark(auth(pb::BenchmarkRequest {
                statistic: statistic.into(),
                read: read(last),
                ..Default::default()
            }))
            .await?
            .into_inner();
        let ranked: BTreeSet<String> = benchmark.rows.iter().map(|r| r.agent_id.clone()).collect();
        assert!(
            ranked.is_subset(&agents) && !ranked.is_empty(),
            "{statistic}: {:?}",
            benchmark.rows
        );
    }
    Ok(())
}
