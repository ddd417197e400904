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
    live_tail_long_backlog,
    concurrent_appends,
    batches_all_or_nothing,
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

// Beyond the suite: what only a log that lives inside the process can get wrong.

/// A live tail nobody drops must not keep sled's files (and their lock) open: the log
/// reopens while the old tail still exists, and that tail ends with `Unavailable`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopen_while_a_tail_is_still_open() {
    use futures::StreamExt;
    use helpdesk_log::conformance::append;
    use helpdesk_log::LogError;

    let dir = tempfile::tempdir().expect("temporary directory");
    let log = open(&dir, EmbeddedConfig::default());
    let first = log
        .append(append("ticket.a", 0, "c1", "x"))
        .await
        .expect("append");
    let mut tail = log.subscribe(1).await.expect("subscribe");
    assert_eq!(
        tail.next().await.expect("item").expect("message").position,
        first.position
    );
    drop(log);
    let log = open(&dir, EmbeddedConfig::default());
    match tokio::time::timeout(Duration::from_secs(10), tail.next()).await {
        Ok(Some(Err(LogError::Unavailable(_)))) => {}
        other => panic!("the old tail must end with Unavailable, got {other:?}"),
    }
    assert!(tail.next().await.is_none(), "and then end");
    let appended = log
        .append(append("ticket.a", first.position, "c2", "y"))
        .await
        .expect("append after reopen");
    assert_eq!(appended.position, first.position + 1);
}

/// The duplicate window is rebuilt from the log on open: an id inside the window is
/// still a duplicate after a restart, and one whose window has passed (while the log was
/// closed) is forgotten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_window_across_restarts() {
    use helpdesk_log::conformance::append;
    use helpdesk_log::Appended;

    let window = Duration::from_millis(400);
    let config = EmbeddedConfig {
        duplicate_window: window,
        ..Default::default()
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let log = open(&dir, config.clone());
    let old = log
        .append(append("ticket.a", 0, "old", "x"))
        .await
        .expect("append");
    tokio::time::sleep(window + Duration::from_millis(100)).await;
    let recent = log
        .append(append("ticket.a", old.position, "recent", "y"))
        .await
        .expect("append");
    drop(log);

    let log = open(&dir, config);
    assert_eq!(
        log.append(append("ticket.b", 0, "recent", "z"))
            .await
            .expect("recent again"),
        Appended {
            position: recent.position,
            duplicate: true
        },
        "an id inside the window is remembered across the restart"
    );
    assert_eq!(
        log.append(append("ticket.a", recent.position, "old", "x"))
            .await
            .expect("old again"),
        Appended {
            position: recent.position + 1,
            duplicate: false
        },
        "an id past the window is forgotten"
    );
}
