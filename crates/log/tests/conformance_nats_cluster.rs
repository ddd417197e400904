//! The conformance cases that concern replication, on a 3-node JetStream cluster with an
//! R3 stream: a cluster checks message ids and expected sequences in another code path
//! (before proposing to Raft) than a single server, and answers "in flight" to
//! concurrent writes of one subject or one message id.
//!
//! A cluster takes seconds to form (about 10 s here, most of it electing the JetStream
//! meta leader), so one test runs every case in turn, each on its own stream, and ends
//! with a failover: the stream leader is killed while a writer keeps appending, retrying
//! each append with its message id until it succeeds, and no message may be lost or
//! doubled. The output names the step that failed. It takes about 20 s in all.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use helpdesk_log::conformance::{self, append, SharedLog};
use helpdesk_log::{JetStreamConfig, JetStreamLog, LogError};
use helpdesk_testkit::{NatsCluster, NatsServer};

/// A 3-node cluster and its streams.
struct Cluster(NatsCluster);

impl Cluster {
    fn start() -> Cluster {
        Cluster(NatsCluster::start(3).unwrap_or_else(|err| panic!("{err:#}")))
    }

    fn url(&self) -> String {
        self.0.url()
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

/// The name of the server (`n<i>`) leading stream `name`'s Raft group, once it has one.
async fn stream_leader(cluster: &Cluster, name: &str) -> String {
    let urls: Vec<String> = cluster.0.servers().iter().map(NatsServer::url).collect();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    let client = async_nats::connect(urls).await.expect("connect");
    let js = jetstream::new(client);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let leader = match js.get_stream(name).await {
            Ok(mut stream) => stream
                .info()
                .await
                .ok()
                .and_then(|info| info.cluster.as_ref().and_then(|c| c.leader.clone())),
            Err(_) => None,
        };
        if let Some(leader) = leader {
            return leader;
        }
        assert!(Instant::now() < deadline, "stream {name} has no leader");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Kills the leader of an R3 stream while a writer appends; the writer retries every
/// failed append with the same message id (as the command side does), so each message
/// must end up in the log exactly once, in order.
async fn failover(cluster: &mut Cluster) {
    const MESSAGES: usize = 60;
    const KILL_AFTER: u64 = 20;
    let log = cluster.log("failover").await;
    let leader = stream_leader(cluster, "FAILOVER").await;
    let writer = tokio::spawn({
        let log = log.clone();
        async move {
            let (mut last, mut retries) = (0, 0);
            for i in 0..MESSAGES {
                let id = format!("f{i}");
                loop {
                    match log.append(append("agent.f", last, &id, &id)).await {
                        Ok(appended) => {
                            last = appended.position;
                            break;
                        }
                        Err(err) if err.is_transient() => {
                            retries += 1;
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        Err(err) => panic!("append {id} during the failover: {err:?}"),
                    }
                }
            }
            retries
        }
    });
    while log.last_position().await.expect("last position") < KILL_AFTER {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    cluster
        .0
        .server_mut(&leader)
        .unwrap_or_else(|| panic!("unexpected server name {leader}"))
        .kill();
    let retries = tokio::time::timeout(Duration::from_secs(60), writer)
        .await
        .expect("the writer finishes within a minute of the failover")
        .expect("writer");
    println!("failover: {retries} retried appends");
    let stored = log.read_subject("agent.f", 0).await.expect("read_subject");
    let payloads: Vec<_> = stored
        .iter()
        .map(|s| String::from_utf8_lossy(&s.payload).into_owned())
        .collect();
    let expected: Vec<_> = (0..MESSAGES).map(|i| format!("f{i}")).collect();
    assert_eq!(payloads, expected, "every message once, in order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suite_on_an_r3_stream_then_failover() {
    let mut cluster = Cluster::start();
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
        batches_all_or_nothing,
    );
    println!("failover of an R3 stream's leader");
    failover(&mut cluster).await;
}
