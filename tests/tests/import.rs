//! A bulk import through `CommandService/Execute`: the commands that have arrived are
//! decided in order and appended as one atomic batch (crates/server/src/command/engine.rs,
//! `execute_batch`). Fed the same history, a helpdesk that took it in batches and one
//! that took it one command at a time (the client waiting for each answer) hold the same
//! tickets model, on the embedded log and on NATS.
//!
//! Needs the binary (`cargo build -p helpdesk-server`) and `nats-server` (`just test` sees to
//! both).

use std::collections::BTreeMap;

use anyhow::{bail, Context as _};
use helpdesk_api::{pb, CommandServiceClient, TicketServiceClient};
use helpdesk_tests::workload::{assert_same_records, feed, model_records};
use helpdesk_tests::{with_token, Builder, Helpdesk, NatsServer, HISTORY_START};
use helpdesk_workload::{Workload, WorkloadConfig};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic::Request;

fn workload() -> WorkloadConfig {
    let mut config = WorkloadConfig::new(5, 8, 2, HISTORY_START);
    // The organization's own settings at the history's times too: nothing at wall time.
    config.config_at_wall_clock = false;
    config
}

/// Sends the workload over one `Execute` stream, each command only after the answer to
/// the one before: the server never has more than one at hand, so it appends them one
/// by one. Returns the highest log position written.
async fn feed_one_by_one(
    channel: Channel,
    token: &str,
    config: WorkloadConfig,
) -> anyhow::Result<u64> {
    let (requests, stream) = mpsc::channel(1);
    let mut responses = CommandServiceClient::new(channel)
        .execute(with_token(Request::new(ReceiverStream::new(stream)), token))
        .await
        .context("Execute")?
        .into_inner();
    let mut last = 0;
    for (index, request) in Workload::new(config).enumerate() {
        requests.send(request).await.context("sending")?;
        let response = responses
            .message()
            .await?
            .with_context(|| format!("no answer to command #{index}"))?;
        match response.result {
            Some(pb::execute_response::Result::Response(r)) => last = last.max(r.position),
            other => bail!("command #{index} was refused: {other:?}"),
        }
    }
    Ok(last)
}

/// new / open (answered or open) / resolved per department, as the generator's own model
/// of its tickets has them at the end (as in read_side.rs).
fn expected_counts(config: &WorkloadConfig) -> BTreeMap<String, (u64, u64, u64)> {
    let mut workload = Workload::new(config.clone());
    for _ in workload.by_ref() {}
    let mut counts: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    for ticket in workload.model_tickets() {
        let department = ticket.department.map(|d| d.to_string()).unwrap_or_default();
        let entry = counts.entry(department).or_default();
        match ticket.status {
            "new" => entry.0 += 1,
            "answered" | "open" => entry.1 += 1,
            "resolved" => entry.2 += 1,
            "deleted" => {}
            other => panic!("the generator names an unknown status {other:?}"),
        }
    }
    counts.retain(|_, c| *c != (0, 0, 0));
    counts
}

/// Waits until the tickets model has folded the log up to `position`; its counts then
/// (new / open / resolved per department, the empty ones left out).
async fn tickets_reach(
    helpdesk: &Helpdesk,
    token: &str,
    position: u64,
) -> anyhow::Result<BTreeMap<String, (u64, u64, u64)>> {
    let counts = TicketServiceClient::new(helpdesk.channel().await?)
        .count_tickets(with_token(
            Request::new(pb::CountTicketsRequest {
                read: Some(pb::ReadOptions {
                    min_position: position,
                    wait_ms: 60_000,
                }),
            }),
            token,
        ))
        .await
        .context("waiting for the tickets model")?
        .into_inner();
    Ok(counts
        .departments
        .into_iter()
        .filter(|d| d.new + d.open + d.resolved > 0)
        .map(|d| (d.department_id, (d.new, d.open, d.resolved)))
        .collect())
}

/// The tickets model of a fresh helpdesk fed `config` in batches (`batched`) or one by
/// one, and how many batches it appended.
async fn tickets_after(
    builder: Builder,
    config: &WorkloadConfig,
    batched: bool,
) -> anyhow::Result<(helpdesk_projections::runtime::Records, usize)> {
    let mut helpdesk = builder
        .arg("--tick-seconds")
        .arg("3600")
        .env("RUST_LOG", "info")
        .start()
        .await?;
    let token = helpdesk.token().to_owned();
    let last = if batched {
        feed(helpdesk.channel().await?, &token, config.clone()).await?
    } else {
        feed_one_by_one(helpdesk.channel().await?, &token, config.clone()).await?
    };
    let counts = tickets_reach(&helpdesk, &token, last).await?;
    // Not only the same either way: what the generator's own account says.
    assert_eq!(
        counts,
        expected_counts(config),
        "the ticket counts are not the generator's (batched: {batched})"
    );
    helpdesk.stop().await?;
    let batches = helpdesk.output().matches("appended a batch").count();
    let records = model_records(helpdesk.data_dir(), "tickets")?;
    assert!(records.len() > 100, "a model of {} records", records.len());
    Ok((records, batches))
}

async fn same_model_either_way(builder: impl Fn() -> Builder) -> anyhow::Result<()> {
    let config = workload();
    let (batched, batches) = tickets_after(builder(), &config, true).await?;
    let (one_by_one, none) = tickets_after(builder(), &config, false).await?;
    assert!(
        batches > 0,
        "the import appended no batch: the batch path went untested"
    );
    assert_eq!(none, 0, "a client waiting for each answer got batches");
    assert_same_records(&batched, "batched", &one_by_one, "one by one");
    Ok(())
}

#[tokio::test]
async fn batches_and_one_by_one_give_the_same_model_on_the_embedded_log() -> anyhow::Result<()> {
    same_model_either_way(Helpdesk::builder).await
}

#[tokio::test]
async fn batches_and_one_by_one_give_the_same_model_on_nats() -> anyhow::Result<()> {
    let nats_batched = NatsServer::start()?;
    let nats_one_by_one = NatsServer::start()?;
    let servers = [&nats_batched, &nats_one_by_one];
    let next = std::sync::atomic::AtomicUsize::new(0);
    same_model_either_way(|| {
        let server = servers[next.fetch_add(1, std::sync::atomic::Ordering::SeqCst)];
        Helpdesk::builder().nats(server)
    })
    .await
}
