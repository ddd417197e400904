//! `helpdesk`: the help desk backend's services.
//!
//! `dev` runs everything in one process; `commands` and `project <model>` run the command
//! side and each read model as separate processes on NATS.

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

// Where a command goes: validated, decided and appended, then the system's own reactions.
mod command;
// Where a query is answered from: the read models' services.
mod query;
// Who is calling, for both sides: tokens to principals, rate limits.
mod access;
// One address in front of a split deployment: routes, fans out, merges.
mod gateway;
// Running a process: serving gRPC, TLS and limits, health and metrics, logging.
mod ops;
// The dashboard web page served beside the API.
mod dashboard;
// The `helpdesk` subcommands, each putting the pieces above together.
mod subcommands;

use subcommands::{commands, dev, owner_token, project, replay, simulate};

/// jemalloc rather than the system's allocator: a replay allocates and frees records by
/// the million from several threads, and glibc's malloc spent a third of a rebuild's
/// time in its own bookkeeping and locks (docs/PERFORMANCE.md, "The sixth round").
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read by jemalloc when it starts (`_RJEM_MALLOC_CONF` in the
/// environment still overrides them). Pages a replay frees go back to the system within
/// a second, from a thread of jemalloc's own, instead of the default ten seconds: a
/// rebuild frees as fast as it allocates, and with the default the freed pages alone
/// held about 400 MiB at the peak of a 4-million-message rebuild of the tickets, with no
/// change in speed (docs/PERFORMANCE.md, "The seventh round").
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8] = b"background_thread:true,dirty_decay_ms:1000\0";

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
    /// Run the command side on NATS: CommandService, AdminService, the clock and the
    /// policies (planned pause ends, auto-pause). Several may run side by side.
    Commands(commands::CommandsArgs),
    /// Run read models' projectors and their query services on NATS (one model per
    /// process, or several), optionally as one partition of several (`--partition i/N`).
    Project(project::ProjectArgs),
    /// Rebuild a read model from the whole event log (after a rule change or a lost
    /// store), with a progress bar. Stop that model's projector first.
    Replay(replay::ReplayArgs),
    /// Feed a running system with seeded, realistic help desk days (agents, shifts,
    /// pauses, tickets, chats, calls, ratings) ending at today's midnight, with a
    /// progress bar: `helpdesk simulate --agents 50 --days 14 --seed 7`.
    Simulate(simulate::SimulateArgs),
    /// One address for clients in front of a split deployment: passes commands through
    /// and sends each query to the partitions that hold its answer, merging theirs:
    /// `helpdesk gateway --route commands=http://c:50051 --route stats=http://s0:50052,http://s1:50052`.
    Gateway(gateway::GatewayArgs),
    /// The way back when the Owner's token is lost: `helpdesk owner-token --reset
    /// --data-dir ./data` revokes the Owner's tokens and prints a new one. It needs the
    /// server's data, not a token; stop a server on the embedded log first.
    OwnerToken(owner_token::OwnerTokenArgs),
}

fn main() -> std::process::ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|err| err.exit());
    let log_json = cli.log_json;
    ops::logs::init(log_json);
    ops::security::warn_secrets_on_command_line(&matches);
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
            Command::Commands(args) => commands::run(args).await,
            Command::Project(args) => project::run(args).await,
            Command::Replay(args) => replay::run(args).await,
            Command::Simulate(args) => simulate::run(args).await,
            Command::Gateway(args) => gateway::run(args).await,
            Command::OwnerToken(args) => owner_token::run(args).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // Once: a log line for log collectors, or a line for people.
            let message = helpdesk_api::client::error_chain(err.as_ref());
            if log_json {
                tracing::error!("{message}");
            } else {
                eprintln!("error: {message}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}
