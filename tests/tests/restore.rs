//! A backup of the log restored while everything runs (docs/RUNBOOK.md, "Backups"): the
//! projectors and the command side notice that the log is not the one they read, and
//! once clients have sent their lost commands again every model equals a clean rebuild.
//!
//! The backup is the nats-server store directory copied while the server is stopped, and
//! the restore puts it back the same way; the helpdesk runs through both.
//!
//! Needs the binary (`cargo build -p helpdesk-server`) and `nats-server` (`just test` sees to
//! both).

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use helpdesk_api::{
    pb, AdminServiceClient, BadgeServiceClient, CommandServiceClient, LevelServiceClient,
    ReportServiceClient, StatsServiceClient, TicketServiceClient,
};
use helpdesk_tests::workload::{assert_same_records, model_records};
use helpdesk_tests::{helpdesk_bin, Helpdesk, NatsServer};
use tonic::Code;

/// The models compared with a clean rebuild.
const MODELS: [&str; 5] = ["tickets", "stats", "levels", "badges", "reports"];

/// The `n`th command id of the test (a UUID, as every command id is).
fn command_id(n: u128) -> String {
    uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n).to_string()
}

/// Creates a ticket with `command_id`, sending it again while the log is unreachable
/// (as a client does, with the same id). Returns the ticket's id.
async fn create_ticket(server: &Helpdesk, command_id: &str) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = CommandServiceClient::new(server.channel().await?)
            .create_ticket(server.auth(pb::CreateTicketRequest {
                command_id: command_id.into(),
                channel: pb::Channel::Email as i32,
                priority: pb::Priority::Normal as i32,
                subject: format!("Ticket {command_id}"),
                ..Default::default()
            }))
            .await;
        match answer {
            Ok(answer) => return Ok(answer.into_inner().aggregate_id),
            Err(status) if status.code() == Code::Unavailable && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(status) => bail!("CreateTicket {command_id}: {status:?}"),
        }
    }
}

/// Every ticket the tickets model lists once it has folded the log's end.
async fn listed_tickets(server: &Helpdesk) -> anyhow::Result<BTreeSet<String>> {
    let mut tickets = BTreeSet::new();
    let mut page_token = String::new();
    loop {
        let page = TicketServiceClient::new(server.channel().await?)
            .list_tickets(server.auth(pb::ListTicketsRequest {
                page_size: 500,
                page_token: page_token.clone(),
                ..Default::default()
            }))
            .await?
            .into_inner();
        tickets.extend(page.tickets.into_iter().map(|t| t.ticket_id));
        if page.next_page_token.is_empty() {
            return Ok(tickets);
        }
        page_token = page.next_page_token;
    }
}

/// Waits until every model has folded the log's end (the clock does not tick during
/// the test: nothing is appended meanwhile).
async fn every_model_at_the_end(server: &Helpdesk) -> anyhow::Result<()> {
    let channel = server.channel().await?;
    let end = AdminServiceClient::new(channel.clone())
        .get_log_clock(server.auth(pb::GetLogClockRequest {}))
        .await?
        .into_inner()
        .position;
    let read = || {
        Some(pb::ReadOptions {
            min_position: end,
            wait_ms: 60_000,
        })
    };
    TicketServiceClient::new(channel.clone())
        .count_tickets(server.auth(pb::CountTicketsRequest { read: read() }))
        .await?;
    StatsServiceClient::new(channel.clone())
        .benchmark(server.auth(pb::BenchmarkRequest {
            statistic: "answers".into(),
            read: read(),
            ..Default::default()
        }))
        .await?;
    LevelServiceClient::new(channel.clone())
        .list_levels(server.auth(pb::ListLevelsRequest { read: read() }))
        .await?;
    BadgeServiceClient::new(channel.clone())
        .list_badges(server.auth(pb::ListBadgesRequest { read: read() }))
        .await?;
    ReportServiceClient::new(channel)
        .get_report(server.auth(pb::ReportRequest {
            from: "2000-01-01".into(),
            to: "2000-01-02".into(),
            read: read(),
            ..Default::default()
        }))
        .await?;
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_backup_restored_under_running_projectors_ends_with_every_model_as_a_rebuild(
) -> anyhow::Result<()> {
    let mut nats = NatsServer::start()?;
    // No clock tick in the middle (one a minute by default): the models are compared
    // with a rebuild of the log as it is at the end.
    let mut server = Helpdesk::builder()
        .nats(&nats)
        .arg("--tick-seconds")
        .arg("3600")
        .start()
        .await?;
    let mut kept = BTreeSet::new();
    for i in 0..40 {
        kept.insert(create_ticket(&server, &command_id(i)).await?);
    }

    // The backup.
    let backup = tempfile::tempdir()?;
    nats.stop()?;
    copy_dir(&nats.store_dir(), backup.path())?;
    nats.start_again()?;

    // Work after the backup: acknowledged, folded, then lost with the restore.
    let lost: Vec<String> = (1_000..1_060).map(command_id).collect();
    let mut lost_tickets = BTreeSet::new();
    for id in &lost {
        lost_tickets.insert(create_ticket(&server, id).await?);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while !listed_tickets(&server).await?.is_superset(&lost_tickets) {
        assert!(
            Instant::now() < deadline,
            "the lost work is not folded after a minute"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // The restore, with the helpdesk running.
    nats.stop()?;
    std::fs::remove_dir_all(nats.store_dir())?;
    copy_dir(backup.path(), &nats.store_dir())?;
    nats.start_again()?;

    // Clients send what was lost again (same command ids), and new work follows: the log
    // grows past where the projectors were.
    for id in &lost {
        kept.insert(create_ticket(&server, id).await?);
    }
    for i in 0..30 {
        kept.insert(create_ticket(&server, &command_id(2_000 + i)).await?);
    }

    // The tickets model lists exactly what the restored log holds.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let listed = listed_tickets(&server).await?;
        if listed == kept {
            break;
        }
        if Instant::now() > deadline {
            bail!(
                "the tickets model lists {} tickets, the log holds {}: {} not in the log, {} \
                 missing",
                listed.len(),
                kept.len(),
                listed.difference(&kept).count(),
                kept.difference(&listed).count()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // Every model equals a clean rebuild of the log.
    every_model_at_the_end(&server).await?;
    server.stop().await?;
    let clean = tempfile::tempdir()?;
    for model in MODELS {
        let replay = tokio::process::Command::new(helpdesk_bin())
            .args(["replay", model, "--nats", &nats.url(), "--data-dir"])
            .arg(clean.path())
            .output()
            .await
            .context("helpdesk replay")?;
        assert!(
            replay.status.success(),
            "helpdesk replay {model} failed: {}",
            String::from_utf8_lossy(&replay.stderr)
        );
        assert_same_records(
            &model_records(server.data_dir(), model)?,
            "after restore",
            &model_records(clean.path(), model)?,
            "rebuilt",
        );
    }
    Ok(())
}
