//! `helpdesk project <model>…`: read models' projectors and their query services in a
//! process of their own on NATS, each model (or partition of one) scaled on its own.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use helpdesk_projections::badges::{Badges, BadgesView};
use helpdesk_projections::levels::{Levels, LevelsView};
use helpdesk_projections::reports::{Reports, ReportsView};
use helpdesk_projections::roster::{Roster, RosterView};
use helpdesk_projections::stats::{Stats, StatsView};
use helpdesk_projections::tickets::{Tickets, TicketsView};
use helpdesk_projections::Partition;

use crate::access::Access;
use crate::command::engine::Engine;
use crate::ops::event_log::LogArgs;
use crate::ops::grpc::Transport;
use crate::ops::metrics::OpsArgs;
use crate::ops::process::FoldArgs;
use crate::ops::process::{self, Process};
use crate::ops::security::{LimitArgs, TlsArgs};
use crate::subcommands::serve::{self, Services};

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
    /// Agents with presence, departments, level, open chats and calls; presence changes
    /// (`RosterService`).
    Roster,
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
    fold: FoldArgs,

    #[command(flatten)]
    tls: TlsArgs,

    #[command(flatten)]
    limits: LimitArgs,

    #[command(flatten)]
    ops: OpsArgs,
}

/// `helpdesk project <model>…`: the projectors of the models and their query services.
pub async fn run(args: ProjectArgs) -> anyhow::Result<()> {
    args.log.require_nats("a projector")?;
    let (log, where_) = args.log.open(&args.data_dir).await?;
    let transport = Transport::from_args(&args.tls, &args.limits.concurrency, args.listen)?;
    // Queries authenticate against the tokens in the log; this engine only reads.
    let engine = Arc::new(Engine::new(log.clone()));
    let access = Arc::new(Access::new(engine.clone(), &args.limits));
    let mut process = Process::new();
    let mut services = Services {
        access,
        log: log.clone(),
        data_dir: args.data_dir.clone(),
        commands: None,
        tickets: None,
        stats: None,
        levels: None,
        badges: None,
        reports: None,
        roster: None,
        pages: None,
    };
    let (dir, partition) = (&args.data_dir, args.partition);
    let mut models = args.models.clone();
    models.sort_by_key(|m| *m as u8);
    models.dedup();
    // One pass over the log folds every model this process serves.
    let mut projectors = Process::projectors(log.clone(), dir, partition, &args.fold);
    for model in &models {
        match model {
            ModelName::Tickets => {
                let handle = projectors.add(Tickets)?;
                services.tickets = Some(TicketsView::new(handle));
            }
            ModelName::Stats => {
                let handle = projectors.add(Stats::default())?;
                services.stats = Some(StatsView::new(handle));
            }
            ModelName::Levels => {
                let handle = projectors.add(Levels::new())?;
                services.levels = Some(LevelsView::new(handle));
            }
            ModelName::Badges => {
                let handle = projectors.add(Badges::new())?;
                services.badges = Some(BadgesView::new(handle));
            }
            ModelName::Reports => {
                let handle = projectors.add(Reports::default())?;
                services.reports = Some(ReportsView::new(handle));
            }
            ModelName::Roster => {
                let handle = projectors.add(Roster::new())?;
                services.roster = Some(RosterView::new(handle));
            }
        }
    }
    process.run_projectors(projectors);
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
    let server = serve::serve(services, transport, listener, process.shutdown_token());
    process.serve(server).await
}
