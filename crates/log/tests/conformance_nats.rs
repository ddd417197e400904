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
