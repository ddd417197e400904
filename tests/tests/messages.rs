//! What the binaries say and answer: a fatal start error printed once, connection errors
//! that do not repeat themselves, `hdctl … | head` ending quietly, and configuration
//! commands answering the id of the item they created or changed.
//!
//! Needs the binaries (`cargo build -p helpdesk-server -p helpdesk-cli`).

use std::process::Stdio;
use std::time::Duration;

use helpdesk_api::pb;
use helpdesk_api::CommandServiceClient;
use helpdesk_tests::{free_port, hdctl_bin, helpdesk_bin, with_token, Helpdesk};
use tokio::process::Command;
use tonic::{Code, Request};

/// How long a binary may take to fail or finish.
const DEADLINE: Duration = Duration::from_secs(60);

/// Runs `command` to its end; its exit status and everything it printed (stdout, then
/// stderr).
async fn output(mut command: Command) -> (std::process::ExitStatus, String) {
    command.kill_on_drop(true);
    let output = tokio::time::timeout(DEADLINE, command.output())
        .await
        .expect("the binary ends in time")
        .expect("the binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status, text)
}

#[tokio::test]
async fn a_fatal_start_error_is_printed_once() {
    let data = tempfile::tempdir().expect("a temporary directory");
    let port = free_port(); // nothing listens there
    let mut command = Command::new(helpdesk_bin());
    command
        .args(["dev", "--listen", "127.0.0.1:0", "--nats"])
        .arg(format!("nats://127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(data.path());
    let (status, printed) = output(command).await;
    assert_eq!(status.code(), Some(1), "{printed}");
    assert_eq!(
        printed.matches("cannot connect to NATS").count(),
        1,
        "the error once:\n{printed}"
    );
    assert!(printed.contains("error: "), "{printed}");
}

#[tokio::test]
async fn a_connection_error_does_not_repeat_itself() {
    let port = free_port(); // nothing listens there
    let mut command = Command::new(hdctl_bin());
    command
        .arg("--server")
        .arg(format!("http://127.0.0.1:{port}"))
        .env("HELPDESK_TOKEN", "hd_nothing")
        .arg("tickets");
    let (status, printed) = output(command).await;
    assert_eq!(status.code(), Some(1), "{printed}");
    assert!(printed.contains("cannot reach the server"), "{printed}");
    for part in ["transport error", "tcp connect error"] {
        assert!(
            printed.matches(part).count() <= 1,
            "{part:?} at most once:\n{printed}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hdctl_ends_quietly_when_its_reader_goes_away() {
    use std::os::unix::process::ExitStatusExt as _;

    let mut helpdesk = Helpdesk::start_embedded().await.expect("helpdesk starts");
    let mut child = Command::new(hdctl_bin())
        .arg("--server")
        .arg(helpdesk.endpoint())
        .arg("badges")
        .env("HELPDESK_TOKEN", helpdesk.token())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("hdctl runs");
    // `hdctl badges | head -0`: the reader is gone before hdctl writes its table.
    drop(child.stdout.take());
    let output = tokio::time::timeout(DEADLINE, child.wait_with_output())
        .await
        .expect("hdctl ends in time")
        .expect("hdctl's output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        output.status.success() || output.status.signal() == Some(libc_sigpipe()),
        "hdctl ended with {:?}: {stderr}",
        output.status
    );
    helpdesk.stop().await.expect("helpdesk stops");
}

/// SIGPIPE's number (13 on Linux and the BSDs).
fn libc_sigpipe() -> i32 {
    13
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_commands_answer_the_item_they_created_or_changed() {
    let mut helpdesk = Helpdesk::start_embedded().await.expect("helpdesk starts");
    let channel = helpdesk.channel().await.expect("a channel");
    let mut commands = CommandServiceClient::new(channel);

    // A level whose id the server generates: the answer names it, and it is a level.
    let define = pb::DefineLevelRequest {
        command_id: uuid::Uuid::new_v4().to_string(),
        name: "Expert".into(),
        description: "Five thousand answers.".into(),
        condition: "$answers >= 5000".into(),
        ..Default::default()
    };
    let defined = commands
        .define_level(helpdesk.auth(define.clone()))
        .await
        .expect("DefineLevel")
        .into_inner();
    let level_id = defined.aggregate_id.clone();
    assert!(uuid::Uuid::parse_str(&level_id).is_ok(), "{defined:?}");
    let updated = commands
        .update_level(helpdesk.auth(pb::UpdateLevelRequest {
            level_id: level_id.clone(),
            name: Some("Master".into()),
            ..Default::default()
        }))
        .await
        .expect("UpdateLevel on the id DefineLevel answered")
        .into_inner();
    assert_eq!(updated.aggregate_id, level_id);
    // The same command again: a duplicate, with the first answer.
    let again = commands
        .define_level(helpdesk.auth(define))
        .await
        .expect("DefineLevel again")
        .into_inner();
    assert!(again.duplicate, "{again:?}");
    assert_eq!(again.aggregate_id, level_id);

    // A badge answers its key; in an Execute stream as in a single call.
    let badge = pb::DefineBadgeRequest {
        key: "marathon".into(),
        name: "Marathon".into(),
        description: "Most transfers in a week.".into(),
        statistic: pb::BadgeStatistic::Transfers as i32,
        window_days: 7,
        best: pb::BadgeBest::Max as i32,
        minimum: 1,
        ..Default::default()
    };
    let level_in_stream = uuid::Uuid::new_v4().to_string();
    let requests = vec![
        pb::ExecuteRequest {
            command: Some(pb::execute_request::Command::DefineBadge(badge)),
        },
        pb::ExecuteRequest {
            command: Some(pb::execute_request::Command::DefineLevel(
                pb::DefineLevelRequest {
                    level_id: level_in_stream.clone(),
                    name: "Legend".into(),
                    condition: "$answers >= 10000".into(),
                    ..Default::default()
                },
            )),
        },
    ];
    let mut answers = commands
        .execute(helpdesk.auth(tokio_stream::iter(requests)))
        .await
        .expect("Execute")
        .into_inner();
    let mut ids = Vec::new();
    while let Some(answer) = answers.message().await.expect("an answer") {
        match answer.result {
            Some(pb::execute_response::Result::Response(r)) => ids.push(r.aggregate_id),
            other => panic!("refused: {other:?}"),
        }
    }
    assert_eq!(ids, vec!["marathon".to_owned(), level_in_stream]);

    // The answered level id is one RemoveLevel knows.
    let removed = commands
        .remove_level(helpdesk.auth(pb::RemoveLevelRequest {
            level_id: level_id.clone(),
            ..Default::default()
        }))
        .await
        .expect("RemoveLevel on the id DefineLevel answered")
        .into_inner();
    assert_eq!(removed.aggregate_id, level_id);
    helpdesk.stop().await.expect("helpdesk stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_level_cannot_be_removed() {
    let mut helpdesk = Helpdesk::start_embedded().await.expect("helpdesk starts");
    let token = helpdesk.token().to_owned();
    let channel = helpdesk.channel().await.expect("a channel");
    let mut levels = helpdesk_api::LevelServiceClient::new(channel.clone());
    // The default ladder, once the levels model has it.
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let first = loop {
        let ladder = levels
            .list_levels(with_token(
                Request::new(pb::ListLevelsRequest::default()),
                &token,
            ))
            .await
            .expect("ListLevels")
            .into_inner();
        if let Some(first) = ladder.levels.first() {
            break first.clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "no levels in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(first.rank, 1);
    let status = CommandServiceClient::new(channel)
        .remove_level(with_token(
            Request::new(pb::RemoveLevelRequest {
                level_id: first.level_id.clone(),
                ..Default::default()
            }),
            &token,
        ))
        .await
        .expect_err("the first level stays");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains("level_id"), "{status:?}");
    assert!(status.message().contains("ReorderLevels"), "{status:?}");
    helpdesk.stop().await.expect("helpdesk stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_default_nats_server_starts_without_a_warning_about_max_payload() {
    let nats = helpdesk_tests::NatsServer::start().expect("nats-server starts");
    let mut helpdesk = Helpdesk::start_on_nats(&nats)
        .await
        .expect("helpdesk starts");
    helpdesk.stop().await.expect("helpdesk stops");
    let printed = helpdesk.output();
    assert!(!printed.contains("max_payload"), "{printed}");
}
