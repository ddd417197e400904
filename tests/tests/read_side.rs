//! The read side end to end: generated help desk days fed to the real binaries, the
//! tickets read model checked against the generator's own account, across backends and
//! across a projector killed in the middle of its catch-up.
//!
//! Needs the binary (`cargo build -p helpdesk-server`) and `nats-server` (`just test` sees to
//! both).

use std::collections::BTreeMap;
use std::time::Duration;

use helpdesk_api::{pb, TicketServiceClient};
use helpdesk_tests::workload::{assert_same_records, feed, model_checkpoint, model_records};
use helpdesk_tests::{helpdesk_bin, with_token, Builder, Helpdesk, NatsServer, HISTORY_START};
use helpdesk_workload::{Workload, WorkloadConfig};
use tonic::Request;

fn workload(seed: u64, agents: u32, days: u32) -> WorkloadConfig {
    WorkloadConfig::new(seed, agents, days, HISTORY_START)
}

/// new / open (answered or open) / resolved per department, as the generator's own model
/// of its tickets has them at the end.
fn expected_counts(config: &WorkloadConfig) -> BTreeMap<String, (u64, u64, u64)> {
    let mut workload = Workload::new(config.clone());
    for _ in workload.by_ref() {}
    let mut counts = BTreeMap::new();
    for ticket in workload.model_tickets() {
        let department = ticket.department.map(|d| d.to_string()).unwrap_or_default();
        let entry = counts.entry(department).or_insert((0, 0, 0));
        match ticket.status {
            "new" => entry.0 += 1,
            "answered" | "open" => entry.1 += 1,
            "resolved" => entry.2 += 1,
            "deleted" => {}
            other => panic!("the generator names an unknown status {other:?}"),
        }
    }
    counts
}

/// The tickets model's counts once it has reached `position`.
async fn counts_at(
    helpdesk: &Helpdesk,
    token: &str,
    position: u64,
) -> anyhow::Result<(u64, BTreeMap<String, (u64, u64, u64)>)> {
    let response = TicketServiceClient::new(helpdesk.channel().await?)
        .count_tickets(with_token(
            Request::new(pb::CountTicketsRequest {
                read: Some(pb::ReadOptions {
                    min_position: position,
                    wait_ms: 60_000,
                }),
            }),
            token,
        ))
        .await?
        .into_inner();
    let counts = response
        .departments
        .into_iter()
        .filter(|d| d.new + d.open + d.resolved > 0)
        .map(|d| (d.department_id, (d.new, d.open, d.resolved)))
        .collect();
    Ok((response.position, counts))
}

fn without_empty(counts: BTreeMap<String, (u64, u64, u64)>) -> BTreeMap<String, (u64, u64, u64)> {
    counts
        .into_iter()
        .filter(|(_, c)| *c != (0, 0, 0))
        .collect()
}

/// Feeds `config` to a fresh `helpdesk dev` and returns the tickets model's records.
async fn tickets_model_after(
    builder: Builder,
    config: &WorkloadConfig,
) -> anyhow::Result<helpdesk_projections::runtime::Records> {
    let mut helpdesk = builder.arg("--tick-seconds").arg("3600").start().await?;
    let token = helpdesk.token().to_owned();
    let last = feed(helpdesk.channel().await?, &token, config.clone()).await?;
    let (position, counts) = counts_at(&helpdesk, &token, last).await?;
    assert!(position >= last);
    assert_eq!(
        counts,
        without_empty(expected_counts(config)),
        "the model's counts are the generator's"
    );
    helpdesk.stop().await?;
    let records = model_records(helpdesk.data_dir(), "tickets")?;
    assert!(records.len() > 100, "a model of {} records", records.len());
    Ok(records)
}

#[tokio::test]
async fn the_same_seed_gives_the_same_tickets_model_on_both_backends() -> anyhow::Result<()> {
    let config = workload(11, 6, 2);
    let embedded = tickets_model_after(Helpdesk::builder(), &config).await?;
    let nats = NatsServer::start()?;
    let on_nats = tickets_model_after(Helpdesk::builder().nats(&nats), &config).await?;
    assert_same_records(&embedded, "embedded", &on_nats, "on NATS");
    Ok(())
}

#[tokio::test]
async fn a_projector_killed_in_its_catch_up_recovers_to_a_clean_rebuild() -> anyhow::Result<()> {
    let nats = NatsServer::start()?;
    let mut commands = Helpdesk::builder()
        .nats(&nats)
        .subcommand(["commands"])
        .arg("--tick-seconds")
        .arg("3600")
        .start()
        .await?;
    let token = commands.token().to_owned();
    let config = workload(23, 12, 3);
    let last = feed(commands.channel().await?, &token, config.clone()).await?;

    let mut projector = Helpdesk::builder()
        .nats(&nats)
        .subcommand(["project", "tickets"])
        .start()
        .await?;
    // Kill -9 it three times while it catches up: each time once it has folded (and
    // flushed) more than when it was last killed, and before it has read the whole log.
    // What counts is the checkpoint its store holds after the kill: where it starts again.
    let mut checkpoints = Vec::new();
    let mut previous = 0;
    for _ in 0..3 {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let mut client = TicketServiceClient::new(projector.channel().await?);
        loop {
            // Where the projector is now (no waiting).
            let reached = client
                .count_tickets(with_token(
                    Request::new(pb::CountTicketsRequest { read: None }),
                    &token,
                ))
                .await?
                .into_inner()
                .position;
            if reached > previous {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the projector folded nothing past {previous} in 60 s"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        projector.kill().await?;
        let checkpoint = model_checkpoint(projector.data_dir(), "tickets")?;
        checkpoints.push(checkpoint);
        assert!(
            checkpoint < last,
            "the projector had read the whole log ({last}) before kill {}: make the \
             history longer (checkpoints {checkpoints:?})",
            checkpoints.len()
        );
        previous = checkpoint;
        projector.start_again().await?;
    }
    assert!(
        checkpoints.iter().any(|&c| c > 0),
        "every kill came before the first flush: {checkpoints:?}"
    );
    eprintln!("killed at checkpoints {checkpoints:?} of {last}");
    let killed_mid_catch_up = checkpoints.len();
    let (position, counts) = counts_at(&projector, &token, last).await?;
    assert!(position >= last);
    assert_eq!(counts, without_empty(expected_counts(&config)));
    projector.stop().await?;

    // A clean rebuild of the same log elsewhere.
    let clean = tempfile::tempdir()?;
    let replay = tokio::process::Command::new(helpdesk_bin())
        .args(["replay", "tickets", "--nats", &nats.url(), "--data-dir"])
        .arg(clean.path())
        .output()
        .await?;
    assert!(
        replay.status.success(),
        "helpdesk replay failed: {}",
        String::from_utf8_lossy(&replay.stderr)
    );
    let recovered = model_records(projector.data_dir(), "tickets")?;
    let rebuilt = model_records(clean.path(), "tickets")?;
    assert!(
        recovered == rebuilt,
        "after {killed_mid_catch_up} kills in the catch-up the model differs from a clean \
         rebuild ({} and {} records)",
        recovered.len(),
        rebuilt.len()
    );
    commands.stop().await?;
    Ok(())
}

/// The five models in one pass write behind their folds: every few milliseconds, each
/// on its own thread, so kills land while batches are being written. Whatever a kill
/// interrupts, each store is whole at its checkpoint, and the models that come out of the
/// restarts equal a clean rebuild of the same log, record for record.
#[tokio::test]
async fn five_models_killed_while_writing_behind_equal_a_clean_rebuild() -> anyhow::Result<()> {
    const MODELS: [&str; 5] = ["tickets", "stats", "levels", "badges", "reports"];
    let nats = NatsServer::start()?;
    let mut commands = Helpdesk::builder()
        .nats(&nats)
        .subcommand(["commands"])
        .arg("--tick-seconds")
        .arg("3600")
        .start()
        .await?;
    let token = commands.token().to_owned();
    let config = workload(29, 12, 3);
    let last = feed(commands.channel().await?, &token, config.clone()).await?;

    let mut projector = Helpdesk::builder()
        .nats(&nats)
        .subcommand(["project"].into_iter().chain(MODELS))
        // Writes as often as they can be: a kill almost always meets one.
        .arg("--write-every-ms")
        .arg("2")
        .arg("--model-memory-mib")
        .arg("1")
        .start()
        .await?;
    let mut previous = 0;
    let mut kills = Vec::new();
    for round in 0..3u64 {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let mut client = TicketServiceClient::new(projector.channel().await?);
        loop {
            let reached = client
                .count_tickets(with_token(
                    Request::new(pb::CountTicketsRequest { read: None }),
                    &token,
                ))
                .await?
                .into_inner()
                .position;
            if reached > previous {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the projector wrote nothing past {previous} in 60 s"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        // Somewhere between two writes, or in one.
        tokio::time::sleep(Duration::from_millis(3 * round + 1)).await;
        projector.kill().await?;
        let checkpoints = MODELS
            .iter()
            .map(|model| model_checkpoint(projector.data_dir(), model))
            .collect::<anyhow::Result<Vec<_>>>()?;
        assert!(
            checkpoints.iter().all(|&c| c < last),
            "a model had written the whole log ({last}) before kill {round}: make the \
             history longer ({checkpoints:?})"
        );
        previous = checkpoints[0];
        kills.push(checkpoints);
        projector.start_again().await?;
    }
    eprintln!("killed with the five at {kills:?} of {last}");
    let (position, _) = counts_at(&projector, &token, last).await?;
    assert!(position >= last);
    // A stop writes what memory holds: every model at the log's end.
    projector.stop().await?;

    let clean = tempfile::tempdir()?;
    let replay = tokio::process::Command::new(helpdesk_bin())
        .args(["replay"])
        .args(MODELS)
        .args(["--nats", &nats.url(), "--data-dir"])
        .arg(clean.path())
        .output()
        .await?;
    assert!(
        replay.status.success(),
        "helpdesk replay failed: {}",
        String::from_utf8_lossy(&replay.stderr)
    );
    for model in MODELS {
        assert_eq!(
            model_checkpoint(projector.data_dir(), model)?,
            last,
            "{model}"
        );
        let recovered = model_records(projector.data_dir(), model)?;
        let rebuilt = model_records(clean.path(), model)?;
        assert!(
            recovered == rebuilt,
            "after {} kills while writing behind the {model} model differs from a clean \
             rebuild ({} and {} records)",
            kills.len(),
            recovered.len(),
            rebuilt.len()
        );
    }
    commands.stop().await?;
    Ok(())
}
