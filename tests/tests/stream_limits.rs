//! What one caller's streams may cost the server (docs/SECURITY.md, "Limits of a
//! stream"): an `Execute` stream reads a bounded number of bytes ahead of the commands
//! carried out, each of its commands counts against the caller's rate limit, and a
//! caller holds a bounded number of streams open.
//!
//! Needs the binary (`cargo build -p helpdesk-server`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use helpdesk_api::{pb, BadgeServiceClient, CommandServiceClient};
use helpdesk_tests::{with_token, Helpdesk};
use tokio_stream::StreamExt as _;
use tonic::{Code, Request};

fn auth<T>(token: &str, message: T) -> Request<T> {
    with_token(Request::new(message), token)
}

/// The resident memory of process `pid`, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("a Linux process");
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .expect("VmRSS");
    let kib: u64 = line[6..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a number of kB");
    kib * 1024
}

const MIB: u64 = 1024 * 1024;

#[tokio::test]
async fn a_stream_of_large_messages_holds_a_bounded_amount_of_memory() -> anyhow::Result<()> {
    // One command a second: the commands fall behind at once, as they would on a busy
    // server, while the client goes on writing.
    let mut helpdesk = Helpdesk::builder()
        .arg("--rate-limit")
        .arg("1")
        .start()
        .await?;
    // A plain agent: without system.import, each streamed command counts.
    let (_, token, _) = helpdesk.new_agent("Mallory").await?;
    let pid = helpdesk.pid().expect("running");
    let before = rss(pid);

    // Messages of 900 KiB (a ticket body 14 times its limit: refused, but only once it
    // is carried out), 200 of them: 180 MiB if the server read them all ahead.
    let message = pb::ExecuteRequest {
        command: Some(pb::execute_request::Command::CreateTicket(
            pb::CreateTicketRequest {
                channel: pb::Channel::Email as i32,
                priority: pb::Priority::Normal as i32,
                subject: "large".into(),
                body: Some("x".repeat(900 * 1024)),
                ..Default::default()
            },
        )),
    };
    let written = Arc::new(AtomicUsize::new(0));
    let counter = written.clone();
    let requests = tokio_stream::iter(0..200).map(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        message.clone()
    });
    let mut commands = CommandServiceClient::new(helpdesk.channel().await?);
    let answers = commands.execute(auth(&token, requests)).await?;

    // The client writes until the server stops reading: wait until nothing more is
    // taken for two seconds.
    let mut last = 0;
    let mut still_since = Instant::now();
    while still_since.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = written.load(Ordering::SeqCst);
        if now != last {
            last = now;
            still_since = Instant::now();
        }
    }
    let grown = rss(pid).saturating_sub(before);
    assert!(
        last < 200,
        "the server read all {last} messages ahead of a command a second"
    );
    // The documented bound: 8 MiB read ahead, one message of at most 1 MiB being
    // decoded, the HTTP/2 windows; the rest is room for the allocator.
    assert!(
        grown < 48 * MIB,
        "the server grew by {} MiB holding one stream's messages ({last} written)",
        grown / MIB
    );
    drop(answers);
    helpdesk.stop().await
}

#[tokio::test]
async fn each_command_of_a_stream_counts_against_the_rate_limit() -> anyhow::Result<()> {
    // 20 a second with bursts of 40: 100 commands take at least 3 seconds.
    let mut helpdesk = Helpdesk::builder()
        .arg("--rate-limit")
        .arg("20")
        .start()
        .await?;
    // A plain agent: without system.import, each streamed command counts.
    let (_, token, _) = helpdesk.new_agent("Mallory").await?;
    let online = pb::ExecuteRequest {
        command: Some(pb::execute_request::Command::GoOnline(
            pb::GoOnlineRequest::default(),
        )),
    };
    let started = Instant::now();
    let mut answers = CommandServiceClient::new(helpdesk.channel().await?)
        .execute(auth(&token, tokio_stream::iter(vec![online; 100])))
        .await?
        .into_inner();
    let mut answered = 0;
    while let Some(answer) = answers.message().await? {
        // Slowed down, never refused.
        assert!(
            !matches!(
                answer.result,
                Some(pb::execute_response::Result::Error(ref e)) if e.code == Code::ResourceExhausted as i32
            ),
            "{answer:?}"
        );
        answered += 1;
    }
    assert_eq!(answered, 100);
    assert!(
        started.elapsed() >= Duration::from_millis(2_900),
        "100 commands at 20/s (bursts of 40) took {:?}",
        started.elapsed()
    );
    helpdesk.stop().await
}

#[tokio::test]
async fn a_caller_holds_a_bounded_number_of_streams_open() -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::builder()
        .arg("--max-streams-per-caller")
        .arg("2")
        .start()
        .await?;
    // A plain agent: without system.import, each streamed command counts.
    let (_, token, _) = helpdesk.new_agent("Mallory").await?;
    let channel = helpdesk.channel().await?;
    // Two streams that stay open: an Execute whose client sends nothing yet, a watch.
    let (hold, idle) = tokio::sync::mpsc::channel::<pb::ExecuteRequest>(1);
    let execute = CommandServiceClient::new(channel.clone())
        .execute(auth(
            &token,
            tokio_stream::wrappers::ReceiverStream::new(idle),
        ))
        .await?;
    let watch = BadgeServiceClient::new(channel.clone())
        .watch_awards(auth(&token, pb::WatchAwardsRequest::default()))
        .await?;
    // A third, of either kind, is refused.
    let refused = BadgeServiceClient::new(channel.clone())
        .watch_awards(auth(&token, pb::WatchAwardsRequest::default()))
        .await
        .expect_err("a third stream");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message().contains("streams open"), "{refused:?}");
    // The Owner is another caller, with streams of their own.
    BadgeServiceClient::new(channel.clone())
        .watch_awards(helpdesk.auth(pb::WatchAwardsRequest::default()))
        .await?;
    // Once one ends, another may open.
    drop(hold);
    drop(execute);
    drop(watch);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match BadgeServiceClient::new(channel.clone())
            .watch_awards(auth(&token, pb::WatchAwardsRequest::default()))
            .await
        {
            Ok(_) => break,
            Err(status) if status.code() == Code::ResourceExhausted => {
                assert!(Instant::now() < deadline, "the closed streams still count");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(status) => panic!("unexpected {status:?}"),
        }
    }
    helpdesk.stop().await
}
