//! `helpdesk replay <model>...`: rebuild read models from the whole log, in one pass,
//! with progress.
//!
//! For operators after a rule change or a lost store: the models' stores are dropped and
//! the log folded again from position 1, each message read and decoded once for all of
//! them. The projectors of those models must not be running on the same data directory
//! (a store is locked while it runs).

use std::path::PathBuf;
use std::time::Instant;

use helpdesk_projections::badges::Badges;
use helpdesk_projections::levels::Levels;
use helpdesk_projections::reports::Reports;
use helpdesk_projections::roster::Roster;
use helpdesk_projections::stats::Stats;
use helpdesk_projections::tickets::Tickets;
use helpdesk_projections::{Partition, Projectors};
use indicatif::{ProgressBar, ProgressStyle};

use crate::ops::event_log::LogArgs;
use crate::ops::process::FoldArgs;
use crate::subcommands::project::ModelName;

/// sled's page cache of each rebuilt store. A rebuild reads a record from its store at
/// most once (the fold keeps it, within `--model-memory-mib`) and nobody queries the
/// store meanwhile, so sled's cache only costs memory here: with the 64 MiB a serving
/// store has, five stores' caches were a large part of a rebuild's peak
/// (docs/PERFORMANCE.md, "The seventh round").
const REBUILD_CACHE_BYTES: u64 = 8 * 1024 * 1024;

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The read models to rebuild (one pass over the log for all of them).
    #[arg(value_enum, required = true, num_args = 1..)]
    models: Vec<ModelName>,

    /// The data directory holding the model's store (and the embedded log, without
    /// --nats).
    #[arg(long, env = "HELPDESK_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,

    /// The partition of the store to rebuild, `i/N`.
    #[arg(long, env = "HELPDESK_PARTITION", default_value = "0/1")]
    partition: Partition,

    #[command(flatten)]
    log: LogArgs,

    #[command(flatten)]
    fold: FoldArgs,
}

pub async fn run(args: ReplayArgs) -> anyhow::Result<()> {
    let (log, where_) = args.log.open(&args.data_dir).await?;
    let end = log.last_position().await?;
    let mut config = args.fold.config(&args.data_dir, args.partition);
    config.cache_bytes = REBUILD_CACHE_BYTES;
    let mut projectors = Projectors::new(log, config);
    let mut models = args.models.clone();
    models.sort_by_key(|m| *m as u8);
    models.dedup();
    for model in &models {
        match model {
            ModelName::Tickets => projectors.add(Tickets)?,
            ModelName::Stats => projectors.add(Stats::default())?,
            ModelName::Levels => projectors.add(Levels::new())?,
            ModelName::Badges => projectors.add(Badges::new())?,
            ModelName::Reports => projectors.add(Reports::default())?,
            ModelName::Roster => projectors.add(Roster::new())?,
        };
    }
    projectors.rebuild()?;
    let names: Vec<&str> = projectors.handles().iter().map(|h| h.name()).collect();
    let names = names.join(", ");
    eprintln!(
        "rebuilding {names} in {} from {end} messages, in one pass (event log: {where_})",
        args.data_dir.join("models").display(),
    );
    let bar = ProgressBar::new(end).with_style(
        ProgressStyle::with_template(
            "{spinner} {msg} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_message(names.clone());
    let started = Instant::now();
    let position = projectors
        .catch_up(|position, _| bar.set_position(position))
        .await?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let dead_letters = projectors
        .handles()
        .iter()
        .map(|h| h.checkpoint().dead_letters)
        .max()
        .unwrap_or(0);
    println!(
        "{names} rebuilt up to position {position} in {seconds:.1} s ({:.0} messages/s){}",
        position as f64 / seconds.max(1e-9),
        match dead_letters {
            0 => String::new(),
            n => format!("; {n} unreadable messages set aside (see the log lines above)"),
        }
    );
    Ok(())
}
