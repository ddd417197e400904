//! Replays of each read model, and of all together, from a generated stream of at least
//! a million messages, beside a raw consume of the same stream, in this process.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use bytes::Bytes;
use helpdesk_bench::history::History;
use helpdesk_bench::measure::{peak_rss, reset_peak_rss};
use helpdesk_log::{EventLog, JetStreamConfig, JetStreamLog};
use helpdesk_projections::badges::Badges;
use helpdesk_projections::levels::Levels;
use helpdesk_projections::reports::Reports;
use helpdesk_projections::stats::Stats;
use helpdesk_projections::tickets::Tickets;
use helpdesk_projections::{Model, Projector, ProjectorConfig, Projectors};
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
    let days = 3_650;
    // Ten years from a fixed Monday (2015-01-05): the same history whatever the run's date.
    let mut cfg = WorkloadConfig::new(11, agents, days, 1_420_416_000_000);
    cfg.departments = 6;
    let start = cfg.start;
    let mut history = History::new(cfg);
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
        days: (history.workload().now() - start) as f64 / DAY as f64,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn log_config(url: &str) -> JetStreamConfig {
    JetStreamConfig {
        url: url.to_owned(),
        stream: STREAM.into(),
        subject_prefix: PREFIX.into(),
        ..JetStreamConfig::default()
    }
}

/// One replay: messages per second and the peak memory it took this process to, in
/// bytes.
#[derive(Debug, Clone)]
pub struct Replayed {
    pub name: String,
    pub rate: f64,
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
            peak: ordered_peak,
        },
        Replayed {
            name: "raw pull consume".into(),
            rate: pull,
            peak: pull_peak,
        },
    ))
}

/// Replays each model alone, then all five at once (each on its own task, as
/// `helpdesk dev` runs them), each into a fresh store under `dir`.
pub async fn replay_all(
    url: &str,
    dir: &std::path::Path,
    messages: u64,
) -> anyhow::Result<Vec<Replayed>> {
    let log: Arc<dyn EventLog> = Arc::new(JetStreamLog::connect(log_config(url)).await?);
    let mut out = Vec::new();
    out.push(one(Tickets, &log, &dir.join("tickets"), messages).await?);
    out.push(one(Stats::default(), &log, &dir.join("stats"), messages).await?);
    out.push(one(Levels::new(), &log, &dir.join("levels"), messages).await?);
    out.push(one(Badges::new(), &log, &dir.join("badges"), messages).await?);
    out.push(one(Reports::default(), &log, &dir.join("reports"), messages).await?);

    let all = dir.join("all");
    reset_peak_rss(std::process::id());
    let started = Instant::now();
    // One pass for the five, as `helpdesk dev` runs them.
    let mut five = Projectors::new(log.clone(), ProjectorConfig::new(&all));
    five.add(Tickets)?;
    five.add(Stats::default())?;
    five.add(Levels::new())?;
    five.add(Badges::new())?;
    five.add(Reports::default())?;
    let position = five.catch_up(|_, _| {}).await?;
    anyhow::ensure!(
        position >= messages,
        "the replay of the five stopped at {position}"
    );
    out.push(Replayed {
        name: "all five in one pass".into(),
        rate: messages as f64 / started.elapsed().as_secs_f64(),
        peak: peak_rss(std::process::id()),
    });
    Ok(out)
}

async fn one<M: Model>(
    model: M,
    log: &Arc<dyn EventLog>,
    dir: &std::path::Path,
    messages: u64,
) -> anyhow::Result<Replayed> {
    reset_peak_rss(std::process::id());
    let started = Instant::now();
    let position = catch_up(model, log.clone(), dir.to_owned()).await?;
    let rate = messages as f64 / started.elapsed().as_secs_f64();
    anyhow::ensure!(
        position >= messages,
        "the {} replay stopped at {position}",
        M::NAME
    );
    eprintln!("  replay {}: {:.0} messages/s", M::NAME, rate);
    Ok(Replayed {
        name: M::NAME.into(),
        rate,
        peak: peak_rss(std::process::id()),
    })
}

/// Folds the whole log into a fresh store of `model` under `dir`: the last position.
async fn catch_up<M: Model>(
    model: M,
    log: Arc<dyn EventLog>,
    dir: std::path::PathBuf,
) -> anyhow::Result<u64> {
    let mut projector = Projector::open(model, log, ProjectorConfig::new(&dir))
        .with_context(|| format!("opening a store in {}", dir.display()))?;
    let checkpoint = projector.catch_up(|_, _| {}).await?;
    Ok(checkpoint.position)
}
