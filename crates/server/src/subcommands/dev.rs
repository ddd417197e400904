//! `helpdesk dev`: the whole system in one process.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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

#[derive(Debug, clap::Args)]
pub struct DevArgs {
    /// Where the embedded event log and the read models live.
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
    fold: FoldArgs,

    #[command(flatten)]
    tls: TlsArgs,

    #[command(flatten)]
    limits: LimitArgs,

    #[command(flatten)]
    ops: OpsArgs,
}

/// Options of the command side (`dev` and `commands`).
#[derive(Debug, clap::Args)]
pub struct CommandSideArgs {
    /// The Owner's token on first start (instead of a generated one): 32 to 256
    /// printable characters without spaces, a secret nobody can guess (e.g. `hd_` and
    /// the output of `openssl rand -hex 24`). Ignored once the Owner has a token. On the
    /// command line it is visible to other users (`ps`): prefer HELPDESK_OWNER_TOKEN or
    /// --owner-token-file.
    #[arg(long, env = "HELPDESK_OWNER_TOKEN", hide_env_values = true,
          value_parser = crate::command::setup::parse_owner_token)]
    pub owner_token: Option<String>,

    /// A file holding the Owner's token of --owner-token (surrounding whitespace is
    /// ignored).
    #[arg(
        long,
        env = "HELPDESK_OWNER_TOKEN_FILE",
        conflicts_with = "owner_token",
        value_name = "FILE"
    )]
    pub owner_token_file: Option<PathBuf>,

    /// Seconds of wall time between clock ticks.
    #[arg(long, env = "HELPDESK_TICK_SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub tick_seconds: u64,
}

impl CommandSideArgs {
    /// The Owner's token asked for, from --owner-token or --owner-token-file.
    pub fn owner_token(&self) -> anyhow::Result<Option<String>> {
        let Some(path) = &self.owner_token_file else {
            return Ok(self.owner_token.clone());
        };
        let token = crate::ops::security::read_secret_file(path, "--owner-token-file")?;
        crate::command::setup::parse_owner_token(&token)
            .map(Some)
            .map_err(|err| anyhow::anyhow!("--owner-token-file {}: {err}", path.display()))
    }
}

pub async fn run(args: DevArgs) -> anyhow::Result<()> {
    // The ports first: a start that cannot serve must change nothing (a first start
    // would otherwise set the organization up and show the Owner's token for nothing).
    let listener = process::bind(args.listen).await?;
    let owner_token = args.command_side.owner_token()?;
    let mut process = Process::new();
    process.bind_operations(&args.ops).await?;
    let (log, where_) = args.log.open(&args.data_dir).await?;
    let transport = Transport::from_args(&args.tls, &args.limits.concurrency, args.listen)?;
    let engine = Arc::new(Engine::new(log.clone()));
    let access = Arc::new(Access::new(engine.clone(), &args.limits));
    let log_for_services = log.clone();
    crate::command::start(
        &mut process,
        &engine,
        log.clone(),
        &args.data_dir,
        owner_token.as_deref(),
        Duration::from_secs(args.command_side.tick_seconds),
    )
    .await?;
    // One pass over the log folds every model.
    let mut models = Process::projectors(log.clone(), &args.data_dir, Partition::ALL, &args.fold);
    let tickets = models.add(Tickets)?;
    let stats = models.add(Stats::default())?;
    let levels = models.add(Levels::new())?;
    let badges = models.add(Badges::new())?;
    let reports = models.add(Reports::default())?;
    let roster = models.add(Roster::new())?;
    process.run_projectors(models);
    process.operations(&args.ops, log).await?;

    let address = listener.local_addr()?;
    let scheme = if transport.tls.is_some() {
        "https"
    } else {
        "http"
    };
    println!("helpdesk is ready on {scheme}://{address} (event log: {where_})");
    println!(
        "dashboard: {} (sign in with the owner token, or any token the Owner issued)",
        crate::dashboard::url(scheme, address)
    );
    tracing::info!(%address, "serving gRPC: commands, administration, tickets, stats, levels, badges, reports, roster");
    let services = Services {
        access,
        log: log_for_services.clone(),
        data_dir: args.data_dir.clone(),
        commands: Some(engine),
        tickets: Some(TicketsView::new(tickets)),
        stats: Some(StatsView::new(stats)),
        levels: Some(LevelsView::new(levels)),
        badges: Some(BadgesView::new(badges)),
        reports: Some(ReportsView::new(reports)),
        roster: Some(RosterView::new(roster)),
        pages: Some(crate::dashboard::router()),
    };
    let server = serve::serve(services, transport, listener, process.shutdown_token());
    process.serve(server).await
}
