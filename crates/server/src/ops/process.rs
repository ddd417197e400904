//! What one process runs, and how it stops: its background tasks (projectors, the
//! command side's clock and policies, the operations endpoints), its server, one shutdown.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use helpdesk_log::EventLog;
use helpdesk_projections::{ModelHandle, Partition, ProjectorConfig, Projectors};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How the projectors of a process hold their models in memory.
#[derive(Debug, Clone, clap::Args)]
pub struct FoldArgs {
    /// Memory each read model may hold, in MiB: the copies it keeps of stored records are
    /// dropped when all of it is in use (its changed records are written at 1 MiB, or
    /// half of it if smaller; docs/PERFORMANCE.md, Memory).
    #[arg(long, env = "HELPDESK_MODEL_MEMORY_MIB", default_value_t = 64,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub model_memory_mib: u64,
    /// While a model catches up (a start, a rebuild, a new partition), the longest its
    /// changes stay in memory before they are written, in milliseconds; queries see the
    /// catch-up advance at this pace. At the log's tail every batch is written at once.
    #[arg(long, env = "HELPDESK_WRITE_EVERY_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub write_every_ms: u64,
}

impl FoldArgs {
    /// The projector configuration these options give.
    pub fn config(&self, data_dir: &Path, partition: Partition) -> ProjectorConfig {
        let mut config = ProjectorConfig::new(data_dir);
        config.partition = partition;
        config.memory_bytes = self.model_memory_mib.saturating_mul(1024 * 1024);
        config.write_every = std::time::Duration::from_millis(self.write_every_ms);
        config
    }
}

/// The background tasks of a process and the token that stops them.
pub struct Process {
    shutdown: CancellationToken,
    tasks: JoinSet<anyhow::Result<()>>,
    /// The projectors started, for the operations endpoints.
    projectors: Vec<(ModelHandle, Partition)>,
    /// The operations endpoints' listener, bound ahead by [`Process::bind_operations`].
    operations_listener: Option<TcpListener>,
}

impl Process {
    /// A process that stops on Ctrl-C or SIGTERM.
    pub fn new() -> Self {
        let shutdown = CancellationToken::new();
        stop_on_signal(shutdown.clone());
        Process {
            shutdown,
            tasks: JoinSet::new(),
            projectors: Vec::new(),
            operations_listener: None,
        }
    }

    /// The token cancelled when the process is asked to stop.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// A projector for the models [`Projectors::add`]ed to it, with their stores under
    /// `data_dir`: one pass over the log for all of them. Start it with
    /// [`Process::run_projectors`].
    pub fn projectors(
        log: Arc<dyn EventLog>,
        data_dir: &Path,
        partition: Partition,
        fold: &FoldArgs,
    ) -> Projectors {
        Projectors::new(log, fold.config(data_dir, partition))
    }

    /// Folds the log into `projectors`' models until the process stops.
    pub fn run_projectors(&mut self, projectors: Projectors) {
        let partition = projectors.partition();
        self.projectors
            .extend(projectors.handles().into_iter().map(|h| (h, partition)));
        let shutdown = self.shutdown.clone();
        self.tasks
            .spawn(async move { Ok(projectors.run(shutdown).await?) });
    }

    /// Runs `task` until the process stops; its failure stops the process.
    pub fn spawn(
        &mut self,
        task: impl std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
    ) {
        self.tasks.spawn(task);
    }

    /// Serves metrics, liveness and readiness over HTTP when `args` asks for it; the
    /// projectors started so far are ready once they have folded the log as it is now.
    pub async fn operations(
        &mut self,
        args: &crate::ops::metrics::OpsArgs,
        log: Arc<dyn EventLog>,
    ) -> anyhow::Result<()> {
        if args.metrics_listen.is_none() {
            return Ok(());
        }
        let start = log.last_position().await.unwrap_or(0);
        let watched = crate::ops::metrics::Watched {
            log: Some(log),
            projectors: self
                .projectors
                .iter()
                .map(|(handle, partition)| (handle.clone(), *partition, start))
                .collect(),
            upstreams: Vec::new(),
        };
        self.watch(args, watched).await
    }

    /// Binds the operations endpoints' port now, when `args` asks for them, so that a
    /// start that cannot serve them fails before it changes anything.
    pub async fn bind_operations(
        &mut self,
        args: &crate::ops::metrics::OpsArgs,
    ) -> anyhow::Result<()> {
        if let Some(listen) = args.metrics_listen {
            let listener = TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen for metrics on {listen}"))?;
            self.operations_listener = Some(listener);
        }
        Ok(())
    }

    /// Serves metrics, liveness and readiness of `watched` over HTTP when `args` asks for
    /// it.
    pub async fn watch(
        &mut self,
        args: &crate::ops::metrics::OpsArgs,
        watched: crate::ops::metrics::Watched,
    ) -> anyhow::Result<()> {
        let Some(listen) = args.metrics_listen else {
            return Ok(());
        };
        let listener = match self.operations_listener.take() {
            Some(listener) => listener,
            None => TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen for metrics on {listen}"))?,
        };
        tracing::info!(address = %listener.local_addr()?, "serving /metrics, /livez and /readyz");
        let shutdown = self.shutdown.clone();
        self.tasks.spawn(async move {
            crate::ops::metrics::serve(listener, watched, shutdown).await;
            Ok(())
        });
        Ok(())
    }

    /// Runs `server` (made with [`Process::shutdown_token`]) until the process is stopped
    /// or a task fails, then stops every task and waits for them.
    pub async fn serve(
        mut self,
        server: impl std::future::Future<Output = anyhow::Result<()>>,
    ) -> anyhow::Result<()> {
        tokio::pin!(server);
        let mut failure = None;
        let served = loop {
            tokio::select! {
                served = &mut server => break served,
                Some(done) = self.tasks.join_next() => {
                    let error = match done {
                        Ok(Ok(())) => continue,
                        Ok(Err(err)) => err,
                        Err(err) => anyhow::anyhow!("a task panicked: {err}"),
                    };
                    tracing::error!("stopping: {error:#}");
                    failure = Some(error);
                    self.shutdown.cancel();
                }
            }
        };
        self.shutdown.cancel();
        while let Some(done) = self.tasks.join_next().await {
            if let Ok(Err(err)) = done {
                failure.get_or_insert(err);
            }
        }
        served?;
        match failure {
            Some(err) => Err(err),
            None => {
                tracing::info!("stopped");
                Ok(())
            }
        }
    }
}

/// Binds `listen`, naming it in the error.
pub async fn bind(listen: std::net::SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))
}

/// Cancels `shutdown` on SIGTERM or Ctrl-C. The handlers are installed before this
/// returns, not when a task first runs: a SIGTERM right after the ready line must stop
/// the process gracefully, not kill it.
fn stop_on_signal(shutdown: CancellationToken) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut interrupt)) => {
                tokio::spawn(async move {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = interrupt.recv() => {}
                    }
                    tracing::info!("stopping: finishing the requests in flight");
                    shutdown.cancel();
                });
                return;
            }
            (Err(err), _) | (_, Err(err)) => {
                tracing::warn!("cannot listen for SIGTERM: {err}; Ctrl-C only");
            }
        }
    }
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("stopping: finishing the requests in flight");
        shutdown.cancel();
    });
}
