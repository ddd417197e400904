//! Operations over HTTP: Prometheus metrics (`/metrics`), liveness (`/livez`) and
//! readiness (`/readyz`), on `--metrics-listen`.
//!
//! | metric | what |
//! |---|---|
//! | `helpdesk_commands_total{command, code}` | commands answered, by outcome (`OK`, or the gRPC code) |
//! | `helpdesk_command_duration_seconds` | histogram of the time to carry out a command |
//! | `helpdesk_command_conflicts_total` | appends that lost a race and were decided again |
//! | `helpdesk_projector_events_folded_total{model, partition}` | log messages folded since start |
//! | `helpdesk_projector_position{model, partition}` | the last log position folded |
//! | `helpdesk_projector_lag{model, partition}` | log positions not yet folded |
//! | `helpdesk_projector_dead_letters{model, partition}` | unreadable messages set aside |
//! | `helpdesk_log_last_position` | the log's last position |
//! | `helpdesk_gateway_upstream_up{service, partition}` | the gateway: 1 when the server behind a route answers its health check |
//!
//! Liveness: the process answers. Readiness: the log answers, and every projector of the
//! process has folded the log as it stood when the process started (its first catch-up
//! is done), so its queries are not stale by a whole history. The gateway (no log, no
//! projector) is ready when every server behind its routes answers its health check.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use helpdesk_log::{EventLog, Position};
use helpdesk_projections::{ModelHandle, Partition};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

/// Upper bounds of the command duration histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// The process's command metrics (one per process: every service shares them).
pub static COMMANDS: LazyLock<CommandMetrics> = LazyLock::new(CommandMetrics::default);

#[derive(Default)]
pub struct CommandMetrics {
    by_outcome: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
    conflicts: AtomicU64,
}

impl CommandMetrics {
    /// One command answered with `code` (`OK` or a gRPC code name) after `took`.
    pub fn record(&self, command: &'static str, code: &'static str, took: Duration) {
        *self
            .by_outcome
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((command, code))
            .or_default() += 1;
        let seconds = took.as_secs_f64();
        for (bucket, bound) in self.buckets.iter().zip(BUCKETS) {
            if seconds <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    /// An append lost a race and is decided again.
    pub fn conflict(&self) {
        self.conflicts.fetch_add(1, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP helpdesk_commands_total Commands answered, by command and outcome."
        );
        let _ = writeln!(out, "# TYPE helpdesk_commands_total counter");
        for ((command, code), n) in self
            .by_outcome
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "helpdesk_commands_total{{command=\"{command}\",code=\"{code}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP helpdesk_command_duration_seconds Time to carry out a command."
        );
        let _ = writeln!(out, "# TYPE helpdesk_command_duration_seconds histogram");
        for (bucket, bound) in self.buckets.iter().zip(BUCKETS) {
            let _ = writeln!(
                out,
                "helpdesk_command_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "helpdesk_command_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "helpdesk_command_duration_seconds_sum {}",
            self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "helpdesk_command_duration_seconds_count {count}");
        let _ = writeln!(out, "# HELP helpdesk_command_conflicts_total Appends that lost a race and were decided again.");
        let _ = writeln!(out, "# TYPE helpdesk_command_conflicts_total counter");
        let _ = writeln!(
            out,
            "helpdesk_command_conflicts_total {}",
            self.conflicts.load(Ordering::Relaxed)
        );
    }
}

/// Where the operations endpoints listen.
#[derive(Debug, Clone, clap::Args)]
pub struct OpsArgs {
    /// Serve Prometheus metrics (`/metrics`), liveness (`/livez`) and readiness
    /// (`/readyz`) over HTTP on this address.
    #[arg(long, env = "HELPDESK_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
}

/// What `/metrics` and `/readyz` look at.
#[derive(Clone, Default)]
pub struct Watched {
    /// The event log (none in the gateway).
    pub log: Option<Arc<dyn EventLog>>,
    /// The projectors of this process, with the log position each must reach to be ready.
    pub projectors: Vec<(ModelHandle, Partition, Position)>,
    /// The servers behind the gateway's routes: service, partition, channel.
    pub upstreams: Vec<(&'static str, Partition, Channel)>,
}

/// How long a health check of a server behind the gateway may take.
const UPSTREAM_CHECK: Duration = Duration::from_secs(3);

/// Whether the server behind `channel` says it is serving.
async fn upstream_health(channel: Channel) -> Result<(), String> {
    let mut client = HealthClient::new(channel);
    let check = client.check(HealthCheckRequest {
        service: String::new(),
    });
    match tokio::time::timeout(UPSTREAM_CHECK, check).await {
        Err(_) => Err(format!("no answer within {UPSTREAM_CHECK:?}")),
        Ok(Err(status)) => Err(status.message().to_owned()),
        Ok(Ok(answer)) if answer.get_ref().status == ServingStatus::Serving as i32 => Ok(()),
        Ok(Ok(_)) => Err("not serving".into()),
    }
}

impl Watched {
    async fn render(&self) -> String {
        let mut out = String::new();
        if self.log.is_some() {
            COMMANDS.render(&mut out);
        }
        if !self.upstreams.is_empty() {
            let _ = writeln!(
                out,
                "# HELP helpdesk_gateway_upstream_up 1 when the server behind a route answers its health check."
            );
            let _ = writeln!(out, "# TYPE helpdesk_gateway_upstream_up gauge");
            let checks = self
                .upstreams
                .iter()
                .map(|(_, _, channel)| upstream_health(channel.clone()));
            let healths = futures::future::join_all(checks).await;
            for ((service, partition, _), health) in self.upstreams.iter().zip(healths) {
                let _ = writeln!(
                    out,
                    "helpdesk_gateway_upstream_up{{service=\"{service}\",partition=\"{partition}\"}} {}",
                    u8::from(health.is_ok())
                );
            }
        }
        let last = match &self.log {
            Some(log) => log.last_position().await.ok(),
            None => None,
        };
        if let Some(last) = last {
            let _ = writeln!(
                out,
                "# HELP helpdesk_log_last_position The event log's last position."
            );
            let _ = writeln!(out, "# TYPE helpdesk_log_last_position gauge");
            let _ = writeln!(out, "helpdesk_log_last_position {last}");
        }
        let metrics: [(&str, &str, &str); 4] = [
            (
                "helpdesk_projector_events_folded_total",
                "counter",
                "Log messages folded since start.",
            ),
            (
                "helpdesk_projector_position",
                "gauge",
                "The last log position folded.",
            ),
            (
                "helpdesk_projector_lag",
                "gauge",
                "Log positions not yet folded.",
            ),
            (
                "helpdesk_projector_dead_letters",
                "gauge",
                "Unreadable messages set aside.",
            ),
        ];
        for (name, kind, help) in metrics {
            if self.projectors.is_empty() {
                break;
            }
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for (handle, partition, _) in &self.projectors {
                let labels = format!("model=\"{}\",partition=\"{partition}\"", handle.name());
                let checkpoint = handle.checkpoint();
                let value = match name {
                    "helpdesk_projector_events_folded_total" => handle.folded(),
                    "helpdesk_projector_position" => checkpoint.position,
                    "helpdesk_projector_lag" => match last {
                        Some(last) => last.saturating_sub(checkpoint.position),
                        None => continue,
                    },
                    _ => checkpoint.dead_letters,
                };
                let _ = writeln!(out, "{name}{{{labels}}} {value}");
            }
        }
        out
    }

    /// Ready: the log answers and every projector did its first catch-up.
    async fn ready(&self) -> Result<(), String> {
        if let Some(log) = &self.log {
            log.last_position()
                .await
                .map_err(|err| format!("the event log does not answer: {err}"))?;
            // The embedded log on a full disk: not ready until it can write again.
            log.health()
                .await
                .map_err(|err| format!("the event log takes no appends: {err}"))?;
        }
        for (service, partition, channel) in &self.upstreams {
            upstream_health(channel.clone()).await.map_err(|why| {
                format!("the {service} server (partition {partition}) does not answer: {why}")
            })?;
        }
        for (handle, partition, start) in &self.projectors {
            let position = handle.position();
            if position < *start {
                return Err(format!(
                    "the {} projector (partition {partition}) is catching up: at {position} of {start}",
                    handle.name()
                ));
            }
        }
        Ok(())
    }
}

/// Serves `/metrics`, `/livez` and `/readyz` on `listener` until `shutdown`.
pub async fn serve(listener: TcpListener, watched: Watched, shutdown: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((mut stream, _)) = accepted else {
            continue;
        };
        let watched = watched.clone();
        tokio::spawn(async move {
            let mut request = [0u8; 1024];
            let read =
                tokio::time::timeout(Duration::from_secs(5), stream.read(&mut request)).await;
            let Ok(Ok(n)) = read else { return };
            let line = String::from_utf8_lossy(&request[..n]);
            let path = line.split_whitespace().nth(1).unwrap_or("/");
            let (status, body) = match path {
                "/metrics" => ("200 OK", watched.render().await),
                "/livez" => ("200 OK", "alive\n".to_owned()),
                "/readyz" => match watched.ready().await {
                    Ok(()) => ("200 OK", "ready\n".to_owned()),
                    Err(why) => ("503 Service Unavailable", format!("{why}\n")),
                },
                _ => (
                    "404 Not Found",
                    "try /metrics, /livez or /readyz\n".to_owned(),
                ),
            };
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}
