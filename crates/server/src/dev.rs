//! `helpdesk dev`: the whole system in one process.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use helpdesk_log::{EmbeddedConfig, EmbeddedLog, EventLog, JetStreamConfig, JetStreamLog};
use tokio_util::sync::CancellationToken;

use crate::engine::Engine;
use crate::setup::{self, OwnerToken};
use crate::{grpc, ticker};

#[derive(Debug, clap::Args)]
pub struct DevArgs {
    /// Where the embedded event log and the read models live.
    #[arg(long, env = "HELPDESK_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,

    /// The address gRPC listens on (port 0 picks a free port; the ready line names it).
    #[arg(long, env = "HELPDESK_LISTEN", default_value = "127.0.0.1:50051")]
    listen: SocketAddr,

    /// Run on NATS JetStream at this URL (comma-separate several servers) instead of the
    /// embedded log.
    #[arg(long, env = "HELPDESK_NATS", value_name = "URL")]
    nats: Option<String>,

    /// The JetStream stream holding the events (created when missing).
    #[arg(
        long,
        env = "HELPDESK_STREAM",
        default_value = "HELPDESK",
        requires = "nats"
    )]
    stream: String,

    /// The first subject token(s) of the events: subjects are `<prefix>.<kind>.<id>`.
    #[arg(
        long,
        env = "HELPDESK_SUBJECT_PREFIX",
        default_value = "helpdesk",
        requires = "nats"
    )]
    subject_prefix: String,

    /// Copies of each event in a NATS cluster (1, 3 or 5).
    #[arg(
        long,
        env = "HELPDESK_REPLICAS",
        default_value_t = 1,
        requires = "nats"
    )]
    replicas: usize,

    /// How long a command id is remembered by the log itself, in seconds. Beyond it,
    /// a retried command is still recognized by its aggregate.
    #[arg(long, env = "HELPDESK_DUPLICATE_WINDOW", default_value_t = 120)]
    duplicate_window_secs: u64,

    /// The Owner's token on first start (instead of a generated one).
    #[arg(long, env = "HELPDESK_OWNER_TOKEN", hide_env_values = true)]
    owner_token: Option<String>,

    /// Seconds of wall time between clock ticks.
    #[arg(long, env = "HELPDESK_TICK_SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    tick_seconds: u64,
}

pub async fn run(args: DevArgs) -> anyhow::Result<()> {
    let duplicate_window = Duration::from_secs(args.duplicate_window_secs);
    let (log, where_): (Arc<dyn EventLog>, String) = match &args.nats {
        Some(url) => {
            let config = JetStreamConfig {
                url: url.clone(),
                stream: args.stream.clone(),
                subject_prefix: args.subject_prefix.clone(),
                replicas: args.replicas,
                duplicate_window,
                ..JetStreamConfig::default()
            };
            let log = JetStreamLog::connect(config)
                .await
                .with_context(|| format!("cannot use NATS JetStream at {url}"))?;
            (
                Arc::new(log),
                format!("NATS JetStream at {url}, stream {}", args.stream),
            )
        }
        None => {
            let dir = args.data_dir.join("log");
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
            let config = EmbeddedConfig {
                duplicate_window,
                ..EmbeddedConfig::default()
            };
            let log = EmbeddedLog::open(&dir, config).with_context(|| {
                format!(
                    "cannot open the embedded event log in {} (is another helpdesk using it?)",
                    dir.display()
                )
            })?;
            (
                Arc::new(log),
                format!("embedded at {}", args.data_dir.display()),
            )
        }
    };
    let engine = Arc::new(Engine::new(log));

    match setup::ensure(&engine, args.owner_token.as_deref())
        .await
        .context("cannot set the organization up")?
    {
        OwnerToken::Created(token) => {
            println!("owner token: {token}");
            println!(
                "  (shown only this once: keep it, and send it as `authorization: Bearer <token>`)"
            );
        }
        OwnerToken::Registered => println!("owner token: the one given with --owner-token"),
        OwnerToken::Existing => {}
    }

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;

    let shutdown = CancellationToken::new();
    let ticker = tokio::spawn(ticker::run(
        engine.clone(),
        Duration::from_secs(args.tick_seconds),
        shutdown.clone(),
    ));
    tokio::spawn(stop_on_signal(shutdown.clone()));

    let server = grpc::serve(engine.clone(), listener, shutdown.clone());
    println!("helpdesk is ready on http://{address} (event log: {where_})");
    tracing::info!(%address, "serving gRPC");
    let served = server.await;
    shutdown.cancel();
    let _ = ticker.await;
    drop(engine);
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// Cancels `shutdown` on Ctrl-C or SIGTERM.
async fn stop_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(err) => {
                    tracing::warn!("cannot listen for SIGTERM: {err}");
                    let _ = ctrl_c.await;
                    shutdown.cancel();
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("stopping: finishing the requests in flight");
    shutdown.cancel();
}
