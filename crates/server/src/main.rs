//! `helpdesk`: the help desk backend's services.
//!
//! Today it has one subcommand, `dev`, which runs everything in one process; the
//! projector services, `replay` and `simulate` join it as their issues land.

use clap::{Parser, Subcommand};

mod admin;
mod auth;
mod commands;
mod dev;
mod engine;
mod grpc;
mod logs;
mod setup;
mod status;
mod ticker;

/// The help desk backend: commands in, statistics, levels, badges and reports out.
///
/// Every service speaks gRPC (package `helpdesk.v1`) and serves `grpc.health.v1` and
/// server reflection, so `grpcurl -plaintext 127.0.0.1:50051 list` shows what is there.
#[derive(Debug, Parser)]
#[command(name = "helpdesk", version, propagate_version = true)]
struct Cli {
    /// Log as JSON lines (for log collectors) instead of text for people.
    #[arg(long, global = true, env = "HELPDESK_LOG_JSON")]
    log_json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole system in one process: the command service and every projector,
    /// on the embedded event log in `--data-dir` (or on NATS JetStream with `--nats`).
    Dev(dev::DevArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    logs::init(cli.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Dev(args) => dev::run(args).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
