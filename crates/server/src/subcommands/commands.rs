//! `helpdesk commands`: the command side in a process of its own on NATS (the command
//! and admin services, the clock and the policies), scaled and restarted on its own.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::access::Access;
use crate::command::engine::Engine;
use crate::ops::event_log::LogArgs;
use crate::ops::grpc::Transport;
use crate::ops::metrics::OpsArgs;
use crate::ops::process::{self, Process};
use crate::ops::security::{LimitArgs, TlsArgs};
use crate::subcommands::dev::CommandSideArgs;
use crate::subcommands::serve::{self, Services};

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
pub async fn run(args: CommandsArgs) -> anyhow::Result<()> {
    args.log.require_nats("the command service")?;
    // The ports first: a start that cannot serve must change nothing.
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
        log,
        &args.data_dir,
        owner_token.as_deref(),
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
    let services = Services {
        access,
        log: log_for_services.clone(),
        data_dir: args.data_dir.clone(),
        commands: Some(engine),
        tickets: None,
        stats: None,
        levels: None,
        badges: None,
        reports: None,
        roster: None,
        pages: None,
    };
    let server = serve::serve(services, transport, listener, process.shutdown_token());
    process.serve(server).await
}
