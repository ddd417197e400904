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

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use helpdesk_log::{EventLog, Position};
use helpdesk_projections::{ModelHandle, Partition};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
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

pub struct CommandMetrics {
    outcomes: Family<CommandLabels, Counter>,
    durations: Histogram,
    conflicts: Counter,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabels {
    command: &'static str,
    code: &'static str,
}

impl Default for CommandMetrics {
    fn default() -> Self {
        CommandMetrics {
            outcomes: Family::default(),
            durations: Histogram::new(BUCKETS),
            conflicts: Counter::default(),
        }
    }
}

impl CommandMetrics {
    /// One command answered with `code` (`OK` or a gRPC code name) after `took`.
    pub fn record(&self, command: &'static str, code: &'static str, took: Duration) {
        self.outcomes
            .get_or_create(&CommandLabels { command, code })
            .inc();
        self.durations.observe(took.as_secs_f64());
    }

    /// An append lost a race and is decided again.
    pub fn conflict(&self) {
        self.conflicts.inc();
    }

    /// Adds the command metrics to `registry` (they stay shared with this process's).
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "helpdesk_commands",
            "Commands answered, by command and outcome",
            self.outcomes.clone(),
        );
        registry.register(
            "helpdesk_command_duration_seconds",
            "Time to carry out a command",
            self.durations.clone(),
        );
        registry.register(
            "helpdesk_command_conflicts",
            "Appends that lost a race and were decided again",
            self.conflicts.clone(),
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
    /// The metrics as they are now, in the Prometheus text format: a registry for this
    /// scrape. Counters are registered without their `_total` and help texts without
    /// their final period: the encoder adds both.
    async fn render(&self) -> String {
        let mut registry = Registry::default();
        if self.log.is_some() {
            COMMANDS.register(&mut registry);
        }
        if !self.upstreams.is_empty() {
            let checks = self
                .upstreams
                .iter()
                .map(|(_, _, channel)| upstream_health(channel.clone()));
            let healths = futures::future::join_all(checks).await;
            let up = Family::<UpstreamLabels, Gauge>::default();
            for ((service, partition, _), health) in self.upstreams.iter().zip(healths) {
                let labels = UpstreamLabels {
                    service,
                    partition: partition.to_string(),
                };
                up.get_or_create(&labels).set(i64::from(health.is_ok()));
            }
            registry.register(
                "helpdesk_gateway_upstream_up",
                "1 when the server behind a route answers its health check",
                up,
            );
        }
        let last = match &self.log {
            Some(log) => log.last_position().await.ok(),
            None => None,
        };
        if let Some(last) = last {
            let position = Gauge::<u64, AtomicU64>::default();
            position.set(last);
            registry.register(
                "helpdesk_log_last_position",
                "The event log's last position",
                position,
            );
        }
        if !self.projectors.is_empty() {
            let folded = Family::<ProjectorLabels, Counter>::default();
            let positions = ProjectorGauges::default();
            let lags = ProjectorGauges::default();
            let dead_letters = ProjectorGauges::default();
            for (handle, partition, _) in &self.projectors {
                let labels = ProjectorLabels {
                    model: handle.name(),
                    partition: partition.to_string(),
                };
                let checkpoint = handle.checkpoint();
                folded.get_or_create(&labels).inc_by(handle.folded());
                positions.get_or_create(&labels).set(checkpoint.position);
                if let Some(last) = last {
                    let lag = last.saturating_sub(checkpoint.position);
                    lags.get_or_create(&labels).set(lag);
                }
                dead_letters
                    .get_or_create(&labels)
                    .set(checkpoint.dead_letters);
            }
            registry.register(
                "helpdesk_projector_events_folded",
                "Log messages folded since start",
                folded,
            );
            registry.register(
                "helpdesk_projector_position",
                "The last log position folded",
                positions,
            );
            registry.register(
                "helpdesk_projector_lag",
                "Log positions not yet folded",
                lags,
            );
            registry.register(
                "helpdesk_projector_dead_letters",
                "Unreadable messages set aside",
                dead_letters,
            );
        }
        let mut out = String::new();
        prometheus_text::encode(&mut out, &registry).expect("text into a String");
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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    service: &'static str,
    partition: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProjectorLabels {
    model: &'static str,
    partition: String,
}

type ProjectorGauges = Family<ProjectorLabels, Gauge<u64, AtomicU64>>;

/// How long a client may take to send its request.
const REQUEST_READ: Duration = Duration::from_secs(5);

/// Serves `/metrics`, `/livez` and `/readyz` on `listener` until `shutdown`: HTTP/1, one
/// request a connection, any method; another path is 404.
pub async fn serve(listener: TcpListener, watched: Watched, shutdown: CancellationToken) {
    let routes = Router::new()
        .route("/metrics", any(metrics))
        .route(
            "/livez",
            any(|| async { text(StatusCode::OK, "alive\n".to_owned()) }),
        )
        .route("/readyz", any(readyz))
        .fallback(|| async {
            text(
                StatusCode::NOT_FOUND,
                "try /metrics, /livez or /readyz\n".to_owned(),
            )
        })
        .with_state(watched);
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else {
            continue;
        };
        let connection = hyper::server::conn::http1::Builder::new()
            .keep_alive(false)
            .timer(TokioTimer::new())
            .header_read_timeout(REQUEST_READ)
            .serve_connection(
                TokioIo::new(stream),
                TowerToHyperService::new(routes.clone()),
            );
        tokio::spawn(connection);
    }
}

async fn metrics(State(watched): State<Watched>) -> Response {
    text(StatusCode::OK, watched.render().await)
}

async fn readyz(State(watched): State<Watched>) -> Response {
    match watched.ready().await {
        Ok(()) => text(StatusCode::OK, "ready\n".to_owned()),
        Err(why) => text(StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")),
    }
}

/// Every answer is text in the Prometheus text format's content type.
fn text(status: StatusCode, body: String) -> Response {
    let content_type = [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)];
    (status, content_type, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_metrics_keep_their_names_and_help() {
        let commands = CommandMetrics::default();
        commands.record("CreateTicket", "OK", Duration::from_micros(700));
        commands.record("CreateTicket", "OK", Duration::from_secs(3));
        commands.record("CreateTicket", "INVALID_ARGUMENT", Duration::ZERO);
        commands.conflict();
        let mut registry = Registry::default();
        commands.register(&mut registry);
        let mut text = String::new();
        prometheus_text::encode(&mut text, &registry).unwrap();
        for line in [
            "# HELP helpdesk_commands_total Commands answered, by command and outcome.",
            "# TYPE helpdesk_commands_total counter",
            "helpdesk_commands_total{command=\"CreateTicket\",code=\"OK\"} 2",
            "helpdesk_commands_total{command=\"CreateTicket\",code=\"INVALID_ARGUMENT\"} 1",
            "# HELP helpdesk_command_duration_seconds Time to carry out a command.",
            "# TYPE helpdesk_command_duration_seconds histogram",
            "helpdesk_command_duration_seconds_bucket{le=\"0.0005\"} 1",
            "helpdesk_command_duration_seconds_bucket{le=\"0.001\"} 2",
            "helpdesk_command_duration_seconds_bucket{le=\"2.5\"} 2",
            "helpdesk_command_duration_seconds_bucket{le=\"+Inf\"} 3",
            "helpdesk_command_duration_seconds_sum 3.0007",
            "helpdesk_command_duration_seconds_count 3",
            "# HELP helpdesk_command_conflicts_total Appends that lost a race and were decided again.",
            "# TYPE helpdesk_command_conflicts_total counter",
            "helpdesk_command_conflicts_total 1",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
    }
}
