//! The conformance cases that concern replication, on a 3-node JetStream cluster with an
//! R3 stream: a cluster checks message ids and expected sequences in another code path
//! (before proposing to Raft) than a single server, and answers "in flight" to
//! concurrent writes of one subject or one message id.
//!
//! A cluster takes seconds to form, so one test runs every case in turn, each on its own
//! stream; the output names the case that failed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use helpdesk_log::conformance::{self, SharedLog};
use helpdesk_log::{JetStreamConfig, JetStreamLog, LogError};
use helpdesk_testkit::{free_port, NatsServer};

/// Three servers routed to each other; dropped (killed) together.
struct Cluster {
    servers: Vec<NatsServer>,
}

impl Cluster {
    fn start() -> Cluster {
        let cluster_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let routes = cluster_ports
            .iter()
            .map(|port| format!("nats://127.0.0.1:{port}"))
            .collect::<Vec<_>>()
            .join(",");
        let servers = cluster_ports
            .iter()
            .enumerate()
            .map(|(i, port)| {
                let name = format!("n{i}");
                let listen = format!("nats://127.0.0.1:{port}");
                NatsServer::start_with_args(&[
                    "--server_name",
                    &name,
                    "--cluster_name",
                    "helpdesk",
                    "--cluster",
                    &listen,
                    "--routes",
                    &routes,
                ])
                .unwrap_or_else(|err| panic!("{err:#}"))
            })
            .collect();
        Cluster { servers }
    }

    fn url(&self) -> String {
        self.servers
            .iter()
            .map(NatsServer::url)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Connects once the cluster has elected a JetStream meta leader; each `name` is its
    /// own fresh stream (and subject prefix), so cases share the cluster, not the log.
    async fn log(&self, name: &str) -> SharedLog {
        let config = JetStreamConfig {
            url: self.url(),
            stream: name.to_uppercase(),
            subject_prefix: name.to_owned(),
            replicas: 3,
            ..Default::default()
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match JetStreamLog::connect(config.clone()).await {
                Ok(log) => return Arc::new(log),
                Err(LogError::Unavailable(_)) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(err) => panic!("connect to the cluster: {err}"),
            }
        }
    }
}

macro_rules! run {
    ($cluster:expr, $($case:ident),* $(,)?) => {$(
        println!("case {} on an R3 stream", stringify!($case));
        conformance::$case($cluster.log(stringify!($case)).await).await;
    )*};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suite_on_an_r3_stream() {
    let cluster = Cluster::start();
    run!(
        cluster,
        global_order,
        read_subject,
        expected_last_conflicts,
        racing_creators,
        duplicate_message_ids,
        duplicate_with_stale_expected_last,
        get_by_position,
        read_from_position,
        read_long_backlog,
        last_position,
        subjects_by_prefix,
        live_tail_from_start,
        live_tail_from_middle,
        concurrent_appends,
    );
}
