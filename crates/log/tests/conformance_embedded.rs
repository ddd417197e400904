//! The conformance suite on the embedded sled backend, one test per case, each on a
//! fresh temporary directory.

use std::sync::Arc;
use std::time::Duration;

use helpdesk_log::conformance::{self, SharedLog};
use helpdesk_log::{EmbeddedConfig, EmbeddedLog};
use tempfile::TempDir;

fn open(dir: &TempDir, config: EmbeddedConfig) -> SharedLog {
    Arc::new(EmbeddedLog::open(dir.path(), config).expect("open the embedded log"))
}

fn fresh() -> (TempDir, SharedLog) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let log = open(&dir, EmbeddedConfig::default());
    (dir, log)
}

macro_rules! cases {
    ($($case:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $case() {
            let (_dir, log) = fresh();
            conformance::$case(log).await;
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
    concurrent_appends,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_requests() {
    let (_dir, log) = fresh();
    conformance::invalid_requests(log, EmbeddedConfig::default().max_message_size).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopen_keeps_everything() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let log = open(&dir, EmbeddedConfig::default());
    conformance::reopen_keeps_everything(log, |log| async {
        // The suite holds no other clone: this drops the log, which stops its writer
        // and releases the database, like a process exit.
        assert_eq!(
            Arc::strong_count(&log),
            1,
            "the suite must give up its handles"
        );
        drop(log);
        open(&dir, EmbeddedConfig::default())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_window_expires() {
    let window = Duration::from_millis(500);
    let dir = tempfile::tempdir().expect("temporary directory");
    let log = open(
        &dir,
        EmbeddedConfig {
            duplicate_window: window,
            ..Default::default()
        },
    );
    conformance::duplicate_window_expires(log, window).await;
}
