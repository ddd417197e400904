//! `helpdesk replay <model>`: rebuild a read model from the whole log, with progress.
//!
//! For operators after a rule change or a lost store: the model's store is dropped and
//! the log folded again from position 1. The projector of that model must not be running
//! on the same data directory (its store is locked while it runs).

use std::path::PathBuf;
use std::time::Instant;

use helpdesk_projections::badges::Badges;
use helpdesk_projections::levels::Levels;
use helpdesk_projections::reports::Reports;
use helpdesk_projections::stats::Stats;
use helpdesk_projections::tickets::Tickets;
use helpdesk_projections::{Model, Partition, Projector, ProjectorConfig};
use indicatif::{ProgressBar, ProgressStyle};

use crate::ops::event_log::LogArgs;
use crate::subcommands::project::ModelName;

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The read model to rebuild.
    #[arg(value_enum)]
    model: ModelName,

    /// The data directory holding the model's store (and the embedded log, without
    /// --nats).
    #[arg(long, env = "HELPDESK_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,

    /// The partition of the store to rebuild, `i/N`.
    #[arg(long, env = "HELPDESK_PARTITION", default_value = "0/1")]
    partition: Partition,

    #[command(flatten)]
    log: LogArgs,
}

pub async fn run(args: ReplayArgs) -> anyhow::Result<()> {
    match args.model {
        ModelName::Tickets => replay(Tickets, &args).await,
        ModelName::Stats => replay(Stats::default(), &args).await,
        ModelName::Levels => replay(Levels::new(), &args).await,
        ModelName::Badges => replay(Badges::new(), &args).await,
        ModelName::Reports => replay(Reports::default(), &args).await,
    }
}

async fn replay<M: Model>(model: M, args: &ReplayArgs) -> anyhow::Result<()> {
    let (log, where_) = args.log.open(&args.data_dir).await?;
    let end = log.last_position().await?;
    let mut config = ProjectorConfig::new(&args.data_dir);
    config.partition = args.partition;
    let mut projector = Projector::open(model, log, config)?;
    projector.rebuild()?;
    eprintln!(
        "rebuilding the {} read model in {} from {end} messages (event log: {where_})",
        M::NAME,
        projector.path().display()
    );
    let bar = ProgressBar::new(end).with_style(
        ProgressStyle::with_template(
            "{spinner} {msg} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_message(M::NAME);
    let started = Instant::now();
    let checkpoint = projector
        .catch_up(|position, _| bar.set_position(position))
        .await?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{} rebuilt up to position {} in {seconds:.1} s ({:.0} messages/s){}",
        M::NAME,
        checkpoint.position,
        checkpoint.position as f64 / seconds.max(1e-9),
        match checkpoint.dead_letters {
            0 => String::new(),
            n => format!("; {n} unreadable messages set aside (see the log lines above)"),
        }
    );
    Ok(())
}
