//! The conformance suite on JetStream, one test per case, each against its own
//! `nats-server` (started by `helpdesk-testkit` on a free port with its own store).

use std::sync::Arc;
use std::time::Duration;

use helpdesk_log::conformance::{self, SharedLog};
use helpdesk_log::{JetStreamConfig, JetStreamLog};
use helpdesk_testkit::NatsServer;

fn server() -> NatsServer {
    NatsServer::start().unwrap_or_else(|err| panic!("{err:#}"))
}

fn config(server: &NatsServer) -> JetStreamConfig {
    JetStreamConfig {
        url: server.url(),
        ..Default::default()
    }
}

async fn connect(config: JetStreamConfig) -> SharedLog {
    Arc::new(
        JetStreamLog::connect(config)
            .await
            .expect("connect to JetStream"),
    )
}

macro_rules! cases {
    ($($case:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $case() {
            let server = server();
            conformance::$case(connect(config(&server)).await).await;
        }
    )*};
}

cases!(
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
    live_tail_long_backlog,
    concurrent_appends,
    batches_all_or_nothing,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_requests() {
    let server = server();
    let config = config(&server);
    let max = config.max_message_size as usize;
    conformance::invalid_requests(connect(config).await, max).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopen_keeps_everything() {
    let mut server = server();
    let config = config(&server);
    let log = connect(config.clone()).await;
    conformance::reopen_keeps_everything(log, |log| {
        let server = &mut server;
        async move {
            // Drop the client, restart the server on the same port and store, reconnect.
            drop(log);
            server.restart().unwrap_or_else(|err| panic!("{err:#}"));
            connect(config).await
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_window_expires() {
    let window = Duration::from_secs(1);
    let server = server();
    let log = connect(JetStreamConfig {
        duplicate_window: window,
        ..config(&server)
    })
    .await;
    conformance::duplicate_window_expires(log, window).await;
}

/// A default nats-server (max_payload 1 MiB) takes the default largest payload, headers
/// and all: no warning at start, no refused append at the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_limit_fits_a_default_server() {
    use helpdesk_log::{Append, DEFAULT_MAX_MESSAGE_SIZE};

    let server = server();
    let config = config(&server);
    assert_eq!(config.max_message_size as usize, DEFAULT_MAX_MESSAGE_SIZE);
    let log = connect(config).await;
    let appended = log
        .append(Append {
            subject: "ticket.big".into(),
            expected_last: 0,
            message_id: "big-1".into(),
            payload: bytes::Bytes::from(vec![b'x'; DEFAULT_MAX_MESSAGE_SIZE]),
        })
        .await
        .expect("a payload at the limit fits a default nats-server");
    assert!(!appended.duplicate);
}

/// A server whose max_payload cannot take the largest payload is refused at connect, with
/// what to change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_a_too_small_max_payload_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let conf = dir.path().join("small.conf");
    std::fs::write(&conf, "max_payload: 65536\n").expect("the configuration is written");
    let server = NatsServer::start_with_args(&["-c", conf.to_str().expect("a UTF-8 path")])
        .unwrap_or_else(|err| panic!("{err:#}"));
    let err = match JetStreamLog::connect(config(&server)).await {
        Ok(_) => panic!("connected to a server with max_payload 65536"),
        Err(err) => err.to_string(),
    };
    assert!(err.contains("max_payload"), "{err}");
    assert!(err.contains("65536"), "{err}");
    assert!(err.contains("raise max_payload"), "{err}");
}
