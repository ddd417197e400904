//! Nothing acknowledged is lost when the process dies: a child process appends and
//! reports each acknowledged position, the parent kills it with SIGKILL mid-stream,
//! reopens the log and finds every acknowledged message (and its message id still known).
//!
//! The child is this very test binary, re-run with `--exact child_appends_until_killed`
//! and the directory in an environment variable.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use helpdesk_log::conformance::{append, SharedLog};
use helpdesk_log::{Appended, EmbeddedConfig, EmbeddedLog};

const DIR_VAR: &str = "HELPDESK_LOG_CRASH_DIR";
const ACKS_BEFORE_KILL: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_appends_survive_a_kill() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "child_appends_until_killed",
            "--ignored",
            "--nocapture",
        ])
        .env(DIR_VAR, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the child");
    let stdout = child.stdout.take().expect("child stdout");
    let mut acked = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read the child's output");
        if let Some(ack) = line.strip_prefix("acked ") {
            let (id, position) = ack.split_once(' ').expect("acked <id> <position>");
            acked.push((id.to_owned(), position.parse::<u64>().expect("position")));
            if acked.len() == ACKS_BEFORE_KILL {
                break;
            }
        }
    }
    child.kill().expect("SIGKILL the child");
    child.wait().expect("reap the child");
    assert_eq!(acked.len(), ACKS_BEFORE_KILL, "the child stopped early");

    let log: SharedLog =
        Arc::new(EmbeddedLog::open(dir.path(), EmbeddedConfig::default()).expect("reopen"));
    for (id, position) in &acked {
        let stored = log.get(*position).await.expect("get").unwrap_or_else(|| {
            panic!("acknowledged position {position} ({id}) is gone after the kill")
        });
        assert_eq!(
            stored.payload,
            id.as_bytes(),
            "position {position} holds {id}"
        );
        let again = log.append(append("agent.writer", 0, id, "retry")).await;
        assert_eq!(
            again.expect("retry"),
            Appended {
                position: *position,
                duplicate: true
            },
            "{id} is still a known message id"
        );
    }
    // The log goes on after whatever the child had in flight.
    let last = log.last_position().await.expect("last");
    assert!(last >= acked.last().map_or(0, |(_, p)| *p));
}

/// The child: appends as 8 concurrent writers until killed, printing each ack.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by acknowledged_appends_survive_a_kill"]
async fn child_appends_until_killed() {
    let Some(dir) = std::env::var_os(DIR_VAR) else {
        return;
    };
    let log: SharedLog = Arc::new(
        EmbeddedLog::open(std::path::Path::new(&dir), EmbeddedConfig::default()).expect("open"),
    );
    let mut writers = Vec::new();
    for w in 0..8 {
        let log = log.clone();
        writers.push(tokio::spawn(async move {
            let subject = format!("agent.w{w}");
            let mut last = 0;
            for i in 0.. {
                let id = format!("w{w}-{i}");
                let appended = log
                    .append(append(&subject, last, &id, &id))
                    .await
                    .expect("append");
                last = appended.position;
                // One line per ack, written at once: the parent counts these.
                println!("acked {id} {last}");
            }
        }));
    }
    for writer in writers {
        writer.await.expect("writer");
    }
}
