//! The system in separate processes on NATS: `helpdesk commands` and
//! `helpdesk project <model>`, each scaled and restarted on its own.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use helpdesk_projections::badges::{Badges, BadgesView};
use helpdesk_projections::levels::{Levels, LevelsView};
use helpdesk_projections::reports::{Reports, ReportsView};
use helpdesk_projections::stats::{Stats, StatsView};
use helpdesk_projections::tickets::{Tickets, TicketsView};
use helpdesk_projections::Partition;

use crate::dev::CommandSideArgs;
use crate::engine::Engine;
use crate::eventlog::LogArgs;
use crate::grpc::{Services, Transport};
use crate::metrics::OpsArgs;
use crate::process::{self, Process};
use crate::security::{LimitArgs, TlsArgs};

#[derive(Debug, clap::Args)]
pub struct CommandsArgs {
    /// Where the policies keep what they owe (planned pause ends, auto-pauses).
    #[arg(long, env = "HELPDESK_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,

    /// The address gRPC listens on (port 0 picks a free port; the ready line names it).
    #[arg(long, env = "HELPDESK_LISTEN", default_value = "127.0.0.1:50051")]
    listen: SocketAddr,

    #[command(flatten)]
    log: LogArgs,

    #[command(flatten)]
    command_side: CommandSideArgs,

    #[command(flatten)]
    tls: TlsArgs,

    #[command(flatten)]
    limits: LimitArgs,

    #[command(flatten)]
    ops: OpsArgs,
}

/// `helpdesk commands`: the command and admin services, the clock and the policies.
pub async fn commands(args: CommandsArgs) -> anyhow::Result<()> {
    args.log.require_nats("the command service")?;
    // The ports first: a start that cannot serve must change nothing.
    let listener = process::bind(args.listen).await?;
    let mut process = Process::new();
    process.bind_operations(&args.ops).await?;
    let (log, where_) = args.log.open(&args.data_dir).await?;
    let transport = Transport::from_args(&args.tls, &args.limits.concurrency)?;
    let engine = Arc::new(Engine::new(log.clone()).with_rate_limit(args.limits.rate_limit));
    let log_for_services = log.clone();
    process
        .command_side(
            &engine,
            log,
            &args.data_dir,
            args.command_side.owner_token.as_deref(),
            Duration::from_secs(args.command_side.tick_seconds),
        )
        .await?;
    process
        .operations(&args.ops, log_for_services.clone())
        .await?;
    let address = listener.local_addr()?;
    let scheme = if transport.tls.is_some() {
        "https"
    } else {
        "http"
    };
    println!("helpdesk commands is ready on {scheme}://{address} (event log: {where_})");
    process
        .serve(
            Services {
                engine,
                log: log_for_services.clone(),
                data_dir: args.data_dir.clone(),
                commands: true,
                tickets: None,
                stats: None,
                levels: None,
                badges: None,
                reports: None,
            },
            transport,
            listener,
        )
        .await
}

/// The read models a projector process can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelName {
    /// Tickets now, their lists and per-department counts (`TicketService`).
    Tickets,
    /// Agent statistics and benchmarks (`StatsService`).
    Stats,
    /// Levels, the leaderboard, progress and level-ups (`LevelService`).
    Levels,
    /// The daily badges, their holders, history and awards (`BadgeService`).
    Badges,
    /// Department reports: 24 columns by bucket and group, CSV, charts (`ReportService`).
    Reports,
}

#[derive(Debug, clap::Args)]
pub struct ProjectArgs {
    /// The read models to fold and serve, one or several (`project stats levels`): each
    /// has its own store and projector, so they can be moved to their own processes later.
    #[arg(value_enum, required = true, num_args = 1..)]
    models: Vec<ModelName>,

    /// Where the read model's store lives (`<data-dir>/models/<model>`).
    #[arg(long, env = "HELPDESK_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,

    /// The address gRPC listens on (port 0 picks a free port; the ready line names it).
    #[arg(long, env = "HELPDESK_LISTEN", default_value = "127.0.0.1:50052")]
    listen: SocketAddr,

    /// The share of the keys this replica folds, `i/N` (0-based): run N replicas with
    /// 0/N … N-1/N, each with its own data directory.
    #[arg(long, env = "HELPDESK_PARTITION", default_value = "0/1")]
    partition: Partition,

    #[command(flatten)]
    log: LogArgs,

    #[command(flatten)]
    tls: TlsArgs,

    #[command(flatten)]
    limits: LimitArgs,

    #[command(flatten)]
    ops: OpsArgs,
}

/// `helpdesk project <model>…`: the projectors of the models and their query services.
pub async fn project(args: ProjectArgs) -> anyhow::Result<()> {
    args.log.require_nats("a projector")?;
    let (log, where_) = args.log.open(&args.data_dir).await?;
    let transport = Transport::from_args(&args.tls, &args.limits.concurrency)?;
    // Queries authenticate against the tokens in the log; this engine only reads.
    let engine = Arc::new(Engine::new(log.clone()).with_rate_limit(args.limits.rate_limit));
    let mut process = Process::new();
    let mut services = Services {
        engine,
        log: log.clone(),
        data_dir: args.data_dir.clone(),
        commands: false,
        tickets: None,
        stats: None,
        levels: None,
        badges: None,
        reports: None,
    };
    let (dir, partition) = (&args.data_dir, args.partition);
    let mut models = args.models.clone();
    models.sort_by_key(|m| *m as u8);
    models.dedup();
    for model in &models {
        let log = log.clone();
        match model {
            ModelName::Tickets => {
                let handle = process.projector(Tickets, log, dir, partition)?;
                services.tickets = Some(TicketsView::new(handle));
            }
            ModelName::Stats => {
                let handle = process.projector(Stats::default(), log, dir, partition)?;
                services.stats = Some(StatsView::new(handle));
            }
            ModelName::Levels => {
                let handle = process.projector(Levels::new(), log, dir, partition)?;
                services.levels = Some(LevelsView::new(handle));
            }
            ModelName::Badges => {
                let handle = process.projector(Badges::new(), log, dir, partition)?;
                services.badges = Some(BadgesView::new(handle));
            }
            ModelName::Reports => {
                let handle = process.projector(Reports::default(), log, dir, partition)?;
                services.reports = Some(ReportsView::new(handle));
            }
        }
    }
    process.operations(&args.ops, services.log.clone()).await?;
    let listener = process::bind(args.listen).await?;
    let address = listener.local_addr()?;
    println!(
        "helpdesk project {} (partition {}) is ready on {}://{address} (event log: {where_})",
        models
            .iter()
            .map(|m| format!("{m:?}").to_lowercase())
            .collect::<Vec<_>>()
            .join(" "),
        args.partition,
        if transport.tls.is_some() {
            "https"
        } else {
            "http"
        },
    );
    process.serve(services, transport, listener).await
}
