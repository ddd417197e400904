//! Replays of the read models from a generated history of at least a million messages,
//! on NATS and on the embedded log, each beside a raw read of the same log in this
//! process: each model alone, all five in one pass, a level and a badge recompute
//! preview (the live model and the recompute's in one pass), and a new partition `0/4`
//! of the five catching up.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures::StreamExt as _;
use helpdesk_bench::history::History;
use helpdesk_bench::measure::{peak_rss, reset_peak_rss};
use helpdesk_log::{
    Append, EmbeddedConfig, EmbeddedLog, EventLog, JetStreamConfig, JetStreamLog, Position,
    MAX_BATCH,
};
use helpdesk_projections::badges::Badges;
use helpdesk_projections::levels::{self, Levels};
use helpdesk_projections::recompute::{replay_badges, replay_levels, BadgeDefinitions};
use helpdesk_projections::reports::Reports;
use helpdesk_projections::stats::Stats;
use helpdesk_projections::tickets::Tickets;
use helpdesk_projections::{Model, Partition, ProjectorConfig, Projectors};
use helpdesk_workload::{WorkloadConfig, DAY};

use crate::raw::Raw;

pub const STREAM: &str = "REPLAY";
pub const PREFIX: &str = "replay";

/// The generated stream.
#[derive(Debug, Clone, Copy)]
pub struct Generated {
    pub messages: u64,
    pub events: u64,
    pub bytes: u64,
    pub agents: u32,
    pub days: f64,
    pub seconds: f64,
}

/// The history every replay reads: ten years from a fixed Monday (2015-01-05), the same
/// whatever the run's date.
fn history(agents: u32) -> History {
    let mut cfg = WorkloadConfig::new(11, agents, 3_650, 1_420_416_000_000);
    cfg.departments = 6;
    History::new(cfg)
}

/// Generates `messages` messages of help desk history for `agents` agents and publishes
/// them to a fresh stream (the event log's own configuration).
pub async fn generate(
    raw: &Raw,
    url: &str,
    messages: u64,
    agents: u32,
) -> anyhow::Result<Generated> {
    let _ = raw.js.delete_stream(STREAM).await;
    // The event log makes its stream as it wants it.
    JetStreamLog::connect(log_config(url)).await?;
    let mut history = history(agents);
    let start = history.workload().now();
    let (mut events, mut bytes) = (0u64, 0u64);
    let started = Instant::now();
    let published = raw
        .publish_all(history.by_ref().take(messages as usize).map(|m| {
            events += m.events as u64;
            bytes += m.payload.len() as u64;
            (format!("{PREFIX}.{}", m.subject), Bytes::from(m.payload))
        }))
        .await?;
    anyhow::ensure!(
        history.refused() == 0,
        "the deciders refused {} generated commands",
        history.refused()
    );
    Ok(Generated {
        messages: published,
        events,
        bytes,
        agents,
        days: (history.workload().now() - start) as f64 / DAY as f64 + 1.0,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Generates the same history into an embedded log in `dir` (appended in batches, as an
/// import would).
pub async fn generate_embedded(
    dir: &Path,
    messages: u64,
    agents: u32,
) -> anyhow::Result<(Arc<dyn EventLog>, Generated)> {
    let log = EmbeddedLog::open(dir, EmbeddedConfig::default())?;
    let mut history = history(agents);
    let start = history.workload().now();
    let (mut events, mut bytes) = (0u64, 0u64);
    let started = Instant::now();
    let mut last_of: HashMap<String, Position> = HashMap::new();
    let mut end: Position = 0;
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut remaining = messages;
    while remaining > 0 {
        batch.clear();
        for message in history
            .by_ref()
            .take(remaining.min(MAX_BATCH as u64) as usize)
        {
            events += message.events as u64;
            bytes += message.payload.len() as u64;
            let position = end + batch.len() as u64 + 1;
            let expected_last = last_of
                .insert(message.subject.clone(), position)
                .unwrap_or(0);
            batch.push(Append {
                subject: message.subject,
                expected_last,
                message_id: format!("bench-{position}"),
                payload: Bytes::from(message.payload),
            });
        }
        anyhow::ensure!(!batch.is_empty(), "the history ended early");
        remaining -= batch.len() as u64;
        let positions = log.append_batch(std::mem::take(&mut batch), end).await?;
        end = *positions.last().expect("a batch appends");
    }
    anyhow::ensure!(
        history.refused() == 0,
        "the deciders refused {} generated commands",
        history.refused()
    );
    let generated = Generated {
        messages: end,
        events,
        bytes,
        agents,
        days: (history.workload().now() - start) as f64 / DAY as f64 + 1.0,
        seconds: started.elapsed().as_secs_f64(),
    };
    Ok((Arc::new(log), generated))
}

fn log_config(url: &str) -> JetStreamConfig {
    JetStreamConfig {
        url: url.to_owned(),
        stream: STREAM.into(),
        subject_prefix: PREFIX.into(),
        ..JetStreamConfig::default()
    }
}

/// The generated stream on NATS, as the event log reads it.
pub async fn nats_log(url: &str) -> anyhow::Result<Arc<dyn EventLog>> {
    Ok(Arc::new(JetStreamLog::connect(log_config(url)).await?))
}

/// One replay: messages per second, the time it took, and the peak memory it took
/// this process to, in bytes.
#[derive(Debug, Clone)]
pub struct Replayed {
    pub name: String,
    pub rate: f64,
    pub seconds: f64,
    pub peak: Option<u64>,
}

/// Measures a raw consume of the stream (ordered consumer, pull consumer) with this
/// process's peak memory: (ordered, pull).
pub async fn raw_consume(raw: &Raw, messages: u64) -> anyhow::Result<(Replayed, Replayed)> {
    reset_peak_rss(std::process::id());
    let ordered = raw.consume_ordered(STREAM, messages).await?;
    let ordered_peak = peak_rss(std::process::id());
    reset_peak_rss(std::process::id());
    let pull = raw.consume_pull(STREAM, messages).await?;
    let pull_peak = peak_rss(std::process::id());
    Ok((
        Replayed {
            name: "raw ordered consume".into(),
            rate: ordered,
            seconds: messages as f64 / ordered,
            peak: ordered_peak,
        },
        Replayed {
            name: "raw pull consume".into(),
            rate: pull,
            seconds: messages as f64 / pull,
            peak: pull_peak,
        },
    ))
}

/// Reads the whole log through the event log's own live tail, folding nothing: what a
/// replay cannot beat.
pub async fn read_log(log: &Arc<dyn EventLog>, messages: u64) -> anyhow::Result<Replayed> {
    measured("the log read, nothing folded", messages, async {
        let mut tail = log.subscribe(1).await?;
        let mut read = 0u64;
        while read < messages {
            match tail.next().await {
                Some(stored) => {
                    stored?;
                    read += 1;
                }
                None => anyhow::bail!("the log's tail ended at {read}"),
            }
        }
        Ok(read)
    })
    .await
}

/// Each model alone, all five in one pass, the two recompute previews and a partition
/// `0/4` of the five, each into fresh stores under `dir`.
pub async fn replay_all(
    log: Arc<dyn EventLog>,
    dir: &Path,
    messages: u64,
) -> anyhow::Result<Vec<Replayed>> {
    let mut out = Vec::new();
    out.push(alone(Tickets, &log, &dir.join("tickets"), messages).await?);
    out.push(alone(Stats::default(), &log, &dir.join("stats"), messages).await?);
    out.push(alone(Levels::new(), &log, &dir.join("levels"), messages).await?);
    out.push(alone(Badges::new(), &log, &dir.join("badges"), messages).await?);
    out.push(alone(Reports::default(), &log, &dir.join("reports"), messages).await?);
    out.push(
        measured("all five in one pass", messages, async {
            five(&log, &dir.join("five"), Partition::ALL).await
        })
        .await?,
    );
    out.push(
        measured("a level recompute preview", messages, async {
            let scratch = dir.join("level-recompute");
            let replays =
                replay_levels(log.clone(), &scratch, levels::Mode::AsItHappened, |_, _| {}).await?;
            Ok(replays.replayed_to)
        })
        .await?,
    );
    out.push(
        measured("a badge recompute preview", messages, async {
            let scratch = dir.join("badge-recompute");
            let replays = replay_badges(
                log.clone(),
                &scratch,
                BadgeDefinitions::AsItHappened,
                |_, _| {},
            )
            .await?;
            Ok(replays.replayed_to)
        })
        .await?,
    );
    out.push(
        measured("a partition 0/4 of the five catching up", messages, async {
            five(
                &log,
                &dir.join("partition"),
                "0/4".parse().expect("a partition"),
            )
            .await
        })
        .await?,
    );
    Ok(out)
}

/// The five models of `partition` in one pass into fresh stores under `dir`: the
/// position reached.
async fn five(
    log: &Arc<dyn EventLog>,
    dir: &Path,
    partition: Partition,
) -> anyhow::Result<Position> {
    let mut config = ProjectorConfig::new(dir);
    config.partition = partition;
    let mut pass = Projectors::new(log.clone(), config);
    pass.add(Tickets)?;
    pass.add(Stats::default())?;
    pass.add(Levels::new())?;
    pass.add(Badges::new())?;
    pass.add(Reports::default())?;
    Ok(pass.catch_up(|_, _| {}).await?)
}

async fn alone<M: Model>(
    model: M,
    log: &Arc<dyn EventLog>,
    dir: &Path,
    messages: u64,
) -> anyhow::Result<Replayed> {
    measured(M::NAME, messages, async {
        let mut pass = Projectors::new(log.clone(), ProjectorConfig::new(dir));
        pass.add(model)?;
        Ok(pass.catch_up(|_, _| {}).await?)
    })
    .await
}

/// Times `replay` (which answers the position it reached) and the peak memory of this
/// process meanwhile.
async fn measured(
    name: &str,
    messages: u64,
    replay: impl std::future::Future<Output = anyhow::Result<Position>>,
) -> anyhow::Result<Replayed> {
    reset_peak_rss(std::process::id());
    let started = Instant::now();
    let position = replay.await?;
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        position >= messages,
        "the replay of {name} stopped at {position} of {messages}"
    );
    let rate = messages as f64 / seconds;
    eprintln!("  {name}: {rate:.0} messages/s, {seconds:.1} s");
    Ok(Replayed {
        name: name.into(),
        rate,
        seconds,
        peak: peak_rss(std::process::id()),
    })
}
