//! Rough throughput of both backends, for the numbers in the crate's report. Ignored by
//! default (slow, and only meaningful in release):
//!
//! ```text
//! cargo test --release -p helpdesk-log --test throughput -- --ignored --nocapture --test-threads 1
//! ```

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures::StreamExt;
use helpdesk_log::conformance::SharedLog;
use helpdesk_log::{Append, EmbeddedConfig, EmbeddedLog, JetStreamConfig, JetStreamLog};
use helpdesk_testkit::NatsServer;

const PAYLOAD: usize = 200;
const SEQUENTIAL: usize = 2_000;
const TASKS: usize = 64;
const PER_TASK: usize = 500;
const WIDE_TASKS: usize = 512;
const WIDE_PER_TASK: usize = 100;

fn rate(what: &str, count: usize, start: Instant) {
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{what:<40} {count:>7} in {secs:>6.2}s = {:>9.0}/s",
        count as f64 / secs
    );
}

async fn concurrent(name: &str, log: &SharedLog, payload: &Bytes, tasks: usize, per_task: usize) {
    let start = Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (log, payload) = (log.clone(), payload.clone());
        handles.push(tokio::spawn(async move {
            let mut last = 0;
            for i in 0..per_task {
                let a = Append {
                    subject: format!("agent.w{tasks}-{t}"),
                    expected_last: last,
                    message_id: format!("c{tasks}-{t}-{i}"),
                    payload: payload.clone(),
                };
                last = log.append(a).await.expect("append").position;
            }
        }));
    }
    for handle in handles {
        handle.await.expect("task");
    }
    rate(
        &format!("{name}: concurrent appends ({tasks} tasks)"),
        tasks * per_task,
        start,
    );
}

async fn measure(name: &str, log: SharedLog) {
    let payload = Bytes::from(vec![b'x'; PAYLOAD]);
    let start = Instant::now();
    let mut last = 0;
    for i in 0..SEQUENTIAL {
        let a = Append {
            subject: "agent.sequential".into(),
            expected_last: last,
            message_id: format!("s{i}"),
            payload: payload.clone(),
        };
        last = log.append(a).await.expect("append").position;
    }
    rate(&format!("{name}: sequential appends"), SEQUENTIAL, start);

    concurrent(name, &log, &payload, TASKS, PER_TASK).await;
    concurrent(name, &log, &payload, WIDE_TASKS, WIDE_PER_TASK).await;

    let total = log.last_position().await.expect("last") as usize;
    let start = Instant::now();
    let (mut from, mut read) = (1, 0);
    loop {
        let batch = log.read(from, 10_000).await.expect("read");
        let Some(end) = batch.last() else { break };
        from = end.position + 1;
        read += batch.len();
    }
    assert_eq!(read, total);
    rate(&format!("{name}: read(from, 10000)"), read, start);

    let start = Instant::now();
    let (mut from, mut read) = (1, 0);
    loop {
        let batch = log.read(from, 1_000).await.expect("read");
        let Some(end) = batch.last() else { break };
        from = end.position + 1;
        read += batch.len();
    }
    assert_eq!(read, total);
    rate(&format!("{name}: read(from, 1000)"), read, start);

    let start = Instant::now();
    let stored = log
        .read_subject(&format!("agent.w{TASKS}-7"), 0)
        .await
        .expect("read_subject");
    assert_eq!(stored.len(), PER_TASK);
    rate(
        &format!("{name}: read_subject (1 of {TASKS})"),
        PER_TASK,
        start,
    );

    let start = Instant::now();
    let mut tail = log.subscribe(1).await.expect("subscribe");
    for _ in 0..total {
        tail.next().await.expect("tail").expect("message");
    }
    rate(&format!("{name}: subscribe(1) catch-up"), total, start);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
async fn embedded() {
    let dir = tempfile::tempdir().expect("dir");
    let log: SharedLog =
        Arc::new(EmbeddedLog::open(dir.path(), EmbeddedConfig::default()).expect("open"));
    measure("embedded", log).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
async fn jetstream() {
    let server = NatsServer::start().expect("nats-server");
    let config = JetStreamConfig {
        url: server.url(),
        ..Default::default()
    };
    let log: SharedLog = Arc::new(JetStreamLog::connect(config).await.expect("connect"));
    measure("jetstream", log).await;
}
