//! The one conformance suite every [`EventLog`] backend must pass.
//!
//! Each case is a public async function taking a **fresh, empty** log (positions are
//! asserted exactly), and panics with a message naming the broken guarantee. A backend's
//! test file runs every case as its own `#[tokio::test]`, so a failure names the case:
//! see `tests/conformance_embedded.rs` and `tests/conformance_nats.rs`.
//!
//! Two cases need more than a log: [`reopen_keeps_everything`] takes a closure that drops
//! the log and opens it again (restarting whatever a restart means for the backend), and
//! [`duplicate_window_expires`] takes a log opened with a short duplicate window.

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;

use crate::{Append, Appended, EventLog, LogError, Position, Stored, StoredStream};

/// A shared log, as the suite uses it.
pub type SharedLog = Arc<dyn EventLog>;

/// How long the suite waits for a live tail to deliver before it fails.
const TAIL_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds an [`Append`].
pub fn append(subject: &str, expected_last: Position, message_id: &str, payload: &str) -> Append {
    Append {
        subject: subject.to_owned(),
        expected_last,
        message_id: message_id.to_owned(),
        payload: Bytes::from(payload.to_owned()),
    }
}

#[track_caller]
fn ok(result: Result<Appended, LogError>, what: &str) -> Appended {
    match result {
        Ok(appended) => appended,
        Err(err) => panic!("{what}: expected success, got {err:?}"),
    }
}

async fn new_message(log: &SharedLog, a: Append) -> Position {
    let what = format!(
        "append {} (expected {}, id {})",
        a.subject, a.expected_last, a.message_id
    );
    let appended = ok(log.append(a).await, &what);
    assert!(
        !appended.duplicate,
        "{what}: a new message id must not be a duplicate"
    );
    appended.position
}

async fn conflict(log: &SharedLog, a: Append) -> (Position, Position) {
    let what = format!(
        "append {} (expected {}, id {})",
        a.subject, a.expected_last, a.message_id
    );
    match log.append(a).await {
        Err(LogError::Conflict {
            expected, actual, ..
        }) => (expected, actual),
        other => panic!("{what}: expected a conflict, got {other:?}"),
    }
}

async fn last(log: &SharedLog) -> Position {
    log.last_position().await.expect("last_position")
}

async fn all(log: &SharedLog) -> Vec<Stored> {
    log.read(1, usize::MAX).await.expect("read everything")
}

fn positions(stored: &[Stored]) -> Vec<Position> {
    stored.iter().map(|s| s.position).collect()
}

async fn next_of(tail: &mut StoredStream, what: &str) -> Stored {
    match tokio::time::timeout(TAIL_TIMEOUT, tail.next()).await {
        Ok(Some(Ok(stored))) => stored,
        Ok(Some(Err(err))) => panic!("{what}: the live tail failed: {err:?}"),
        Ok(None) => panic!("{what}: the live tail ended"),
        Err(_) => panic!("{what}: nothing arrived within {TAIL_TIMEOUT:?}"),
    }
}

/// Positions start at 1, grow with every append across subjects, and `read` returns
/// messages in that order with their subject and payload.
pub async fn global_order(log: SharedLog) {
    assert_eq!(last(&log).await, 0, "an empty log's last position is 0");
    assert!(all(&log).await.is_empty(), "an empty log reads nothing");
    let p1 = new_message(&log, append("ticket.a", 0, "c1", "one")).await;
    let p2 = new_message(&log, append("agent.b", 0, "c2", "two")).await;
    let p3 = new_message(&log, append("ticket.a", p1, "c3", "three")).await;
    assert_eq!(
        (p1, p2, p3),
        (1, 2, 3),
        "positions of a fresh log are 1, 2, 3"
    );
    let stored = all(&log).await;
    let seen: Vec<_> = stored
        .iter()
        .map(|s| (s.position, s.subject.as_str(), s.payload.as_ref()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (1, "ticket.a", b"one".as_ref()),
            (2, "agent.b", b"two".as_ref()),
            (3, "ticket.a", b"three".as_ref())
        ],
        "read returns every message in global order"
    );
    assert_eq!(last(&log).await, 3);
}

/// `read_subject` returns one subject's messages after a position, in order.
pub async fn read_subject(log: SharedLog) {
    let a1 = new_message(&log, append("ticket.a", 0, "c1", "a1")).await;
    let b1 = new_message(&log, append("ticket.ab", 0, "c2", "b1")).await;
    let a2 = new_message(&log, append("ticket.a", a1, "c3", "a2")).await;
    let _b2 = new_message(&log, append("ticket.ab", b1, "c4", "b2")).await;
    let a3 = new_message(&log, append("ticket.a", a2, "c5", "a3")).await;

    let read = |after| {
        let log = log.clone();
        async move {
            log.read_subject("ticket.a", after)
                .await
                .expect("read_subject")
        }
    };
    let whole = read(0).await;
    assert_eq!(
        positions(&whole),
        vec![a1, a2, a3],
        "all of ticket.a, not ticket.ab"
    );
    assert!(whole.iter().all(|s| s.subject == "ticket.a"));
    assert_eq!(whole[1].payload, Bytes::from("a2"));
    assert_eq!(
        positions(&read(a1).await),
        vec![a2, a3],
        "after excludes its position"
    );
    assert_eq!(
        positions(&read(a1 + 1).await),
        vec![a2, a3],
        "after may be any position"
    );
    assert!(read(a3).await.is_empty(), "nothing after the last message");
    assert!(read(Position::MAX).await.is_empty());
    assert!(log
        .read_subject("ticket.none", 0)
        .await
        .expect("unknown subject")
        .is_empty());
    for bad in ["ticket.>", "ticket.*", "ticket", "a.b.c"] {
        match log.read_subject(bad, 0).await {
            Err(LogError::Invalid(message)) => assert!(message.contains(bad), "{message}"),
            other => panic!("read_subject({bad:?}): expected Invalid, got {other:?}"),
        }
    }
}

/// `expected_last` is checked per subject: 0 means "must be empty", a mismatch is a
/// conflict naming the actual last position, and a conflict appends nothing.
pub async fn expected_last_conflicts(log: SharedLog) {
    assert_eq!(
        conflict(&log, append("ticket.a", 5, "c0", "x")).await,
        (5, 0),
        "a new subject's actual last position is 0"
    );
    let p1 = new_message(&log, append("ticket.a", 0, "c1", "x")).await;
    assert_eq!(
        conflict(&log, append("ticket.a", 0, "c2", "x")).await,
        (0, p1),
        "0 on an existing subject"
    );
    let other = new_message(&log, append("ticket.b", 0, "c3", "x")).await;
    // Another subject's appends do not move this one's last position.
    let p2 = new_message(&log, append("ticket.a", p1, "c4", "x")).await;
    assert!(p2 > other);
    assert_eq!(
        conflict(&log, append("ticket.a", p1, "c5", "x")).await,
        (p1, p2),
        "stale"
    );
    assert_eq!(
        conflict(&log, append("ticket.a", other, "c6", "x")).await,
        (other, p2),
        "another subject's position"
    );
    assert_eq!(last(&log).await, p2, "conflicts append nothing");
    // A message id refused by a conflict was not used: it may append now.
    let p3 = new_message(&log, append("ticket.a", p2, "c5", "x")).await;
    assert_eq!(p3, p2 + 1);
}

/// Many writers create the same subject at once (expected 0): exactly one wins, every
/// other one gets a conflict naming the winner.
pub async fn racing_creators(log: SharedLog) {
    const WRITERS: usize = 8;
    let mut tasks = Vec::new();
    for i in 0..WRITERS {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            log.append(append(
                "ticket.contested",
                0,
                &format!("creator-{i}"),
                "create",
            ))
            .await
        }));
    }
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    for task in tasks {
        match task.await.expect("task") {
            Ok(appended) => winners.push(appended),
            Err(LogError::Conflict {
                actual,
                expected: 0,
                ..
            }) => losers.push(actual),
            Err(err) => panic!("a racing creator failed with {err:?}"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one creator wins, got {winners:?}"
    );
    let winner = winners[0].position;
    assert!(
        losers.iter().all(|&actual| actual == winner),
        "losers see the winner: {losers:?} vs {winner}"
    );
    let stored = log
        .read_subject("ticket.contested", 0)
        .await
        .expect("read_subject");
    assert_eq!(
        positions(&stored),
        vec![winner],
        "only the winner's message exists"
    );
}

/// A known message id is a no-op returning the first position with `duplicate: true`:
/// on the same subject, on another subject, and with `expected_last` 0.
pub async fn duplicate_message_ids(log: SharedLog) {
    let first = new_message(&log, append("ticket.a", 0, "cmd-1", "first")).await;
    let again = ok(
        log.append(append("ticket.a", 0, "cmd-1", "again")).await,
        "same append again",
    );
    assert_eq!(
        again,
        Appended {
            position: first,
            duplicate: true
        },
        "same subject"
    );
    let elsewhere = ok(
        log.append(append("ticket.b", 0, "cmd-1", "elsewhere"))
            .await,
        "other subject",
    );
    assert_eq!(
        elsewhere,
        Appended {
            position: first,
            duplicate: true
        },
        "other subject"
    );
    assert!(
        log.read_subject("ticket.b", 0)
            .await
            .expect("read_subject")
            .is_empty(),
        "nothing on ticket.b"
    );
    assert_eq!(last(&log).await, first, "duplicates append nothing");
    let stored = log
        .get(first)
        .await
        .expect("get")
        .expect("the first message");
    assert_eq!(
        stored.payload,
        Bytes::from("first"),
        "the first payload stays"
    );
}

/// A retried command whose first append succeeded carries a now stale `expected_last`:
/// it must get the duplicate answer, not a conflict (the id is checked first).
pub async fn duplicate_with_stale_expected_last(log: SharedLog) {
    let first = new_message(&log, append("ticket.a", 0, "cmd-1", "first")).await;
    let later = new_message(&log, append("ticket.a", first, "cmd-2", "later")).await;
    // The retry of cmd-1 still says "the subject must be empty" (0)…
    let retried = ok(
        log.append(append("ticket.a", 0, "cmd-1", "first")).await,
        "retry with 0",
    );
    assert_eq!(
        retried,
        Appended {
            position: first,
            duplicate: true
        }
    );
    // …or names a position that is no longer last, or one that never was.
    let retried = ok(
        log.append(append("ticket.a", first, "cmd-1", "first"))
            .await,
        "retry with stale",
    );
    assert_eq!(
        retried,
        Appended {
            position: first,
            duplicate: true
        }
    );
    let retried = ok(
        log.append(append("ticket.a", 999, "cmd-2", "later")).await,
        "retry with bogus",
    );
    assert_eq!(
        retried,
        Appended {
            position: later,
            duplicate: true
        }
    );
    assert_eq!(last(&log).await, later, "duplicates append nothing");
}

/// `get` returns the message at exactly a position, `None` elsewhere.
pub async fn get_by_position(log: SharedLog) {
    assert_eq!(log.get(1).await.expect("get"), None, "empty log");
    let p1 = new_message(&log, append("ticket.a", 0, "c1", "one")).await;
    let p2 = new_message(&log, append("agent.b", 0, "c2", "two")).await;
    let stored = log.get(p2).await.expect("get").expect("message at p2");
    assert_eq!(
        stored,
        Stored {
            position: p2,
            subject: "agent.b".into(),
            payload: Bytes::from("two")
        }
    );
    assert_eq!(
        log.get(p1).await.expect("get").map(|s| s.subject),
        Some("ticket.a".into())
    );
    assert_eq!(
        log.get(0).await.expect("get(0)"),
        None,
        "position 0 is before everything"
    );
    assert_eq!(log.get(p2 + 1).await.expect("get past the end"), None);
    assert_eq!(log.get(Position::MAX).await.expect("get(MAX)"), None);
}

/// `read(from, max)` returns at most `max` messages from `from` on.
pub async fn read_from_position(log: SharedLog) {
    let mut lasts = BTreeMap::new();
    for i in 1..=10 {
        let subject = format!("ticket.t{}", i % 3);
        let expected = lasts.get(&subject).copied().unwrap_or(0);
        let position = new_message(&log, append(&subject, expected, &format!("c{i}"), "x")).await;
        assert_eq!(position, i, "positions of a fresh log");
        lasts.insert(subject, position);
    }
    let read = |from, max| {
        let log = log.clone();
        async move { positions(&log.read(from, max).await.expect("read")) }
    };
    assert_eq!(read(1, 3).await, vec![1, 2, 3]);
    assert_eq!(read(4, 3).await, vec![4, 5, 6]);
    assert_eq!(
        read(9, 100).await,
        vec![9, 10],
        "fewer than max near the end"
    );
    assert_eq!(read(0, 2).await, vec![1, 2], "from 0 reads from the start");
    assert!(read(11, 5).await.is_empty(), "nothing after the end");
    assert!(read(1, 0).await.is_empty(), "max 0 reads nothing");
    assert!(read(Position::MAX, 1).await.is_empty());
}

/// A long backlog read in a loop of `read(next, max)`, as a projector replays: every
/// message once, in order, including those appended between reads; and a read from any
/// position in the middle. (Backends may switch strategies for long reads: the JetStream
/// one moves from direct get to a consumer after 100 messages.)
pub async fn read_long_backlog(log: SharedLog) {
    const TASKS: usize = 8;
    const PER_TASK: usize = 150;
    let fill_round = |round: usize| fill(log.clone(), round, TASKS, PER_TASK);
    fill_round(0).await;
    let total = (TASKS * PER_TASK) as Position;
    let mut next = 1;
    let mut seen = Vec::new();
    let mut rounds = 0;
    loop {
        let batch = log.read(next, 170).await.expect("read");
        assert!(batch.len() <= 170, "read returns at most max");
        let Some(end) = batch.last() else { break };
        next = end.position + 1;
        seen.extend(positions(&batch));
        rounds += 1;
        if rounds == 3 {
            // New messages while the replay runs are read too.
            fill_round(1).await;
        }
    }
    assert_eq!(
        seen,
        (1..=2 * total).collect::<Vec<_>>(),
        "every message once, in order"
    );
    let middle = log
        .read(total - 10, 600)
        .await
        .expect("read from the middle");
    assert_eq!(
        positions(&middle),
        (total - 10..total + 590).collect::<Vec<_>>()
    );
    let again = log.read(total + 590, 5).await.expect("read on");
    assert_eq!(
        positions(&again),
        (total + 590..total + 595).collect::<Vec<_>>()
    );
}

/// `tasks` writers append `per_task` messages each, each writer to its own subject
/// (`agent.r<round>x<task>`), all at once.
async fn fill(log: SharedLog, round: usize, tasks: usize, per_task: usize) {
    let mut handles = Vec::new();
    for t in 0..tasks {
        let log = log.clone();
        handles.push(tokio::spawn(async move {
            let subject = format!("agent.r{round}x{t}");
            let mut last = 0;
            for i in 0..per_task {
                let a = append(&subject, last, &format!("r{round}-{t}-{i}"), "x");
                last = log.append(a).await.expect("append").position;
            }
        }));
    }
    for handle in handles {
        handle.await.expect("writer task");
    }
}

/// A live tail over a backlog longer than one read step of any backend (the embedded
/// one reads 1,024 at a time), while writers keep appending: every message exactly once
/// and in order, through the switch from the backlog to new messages.
pub async fn live_tail_long_backlog(log: SharedLog) {
    const TASKS: usize = 4;
    const PER_TASK: usize = 300;
    let total = (TASKS * PER_TASK) as Position;
    fill(log.clone(), 0, TASKS, PER_TASK).await;
    let mut tail = log.subscribe(1).await.expect("subscribe");
    let writers = tokio::spawn(fill(log.clone(), 1, TASKS, PER_TASK));
    let mut seen = Vec::with_capacity(2 * total as usize);
    for _ in 0..2 * total {
        seen.push(next_of(&mut tail, "the long tail").await.position);
    }
    writers.await.expect("writers");
    assert_eq!(
        seen,
        (1..=2 * total).collect::<Vec<_>>(),
        "every message once, in order"
    );
}

/// `last_position` follows appends and ignores conflicts and duplicates.
pub async fn last_position(log: SharedLog) {
    assert_eq!(last(&log).await, 0);
    let p1 = new_message(&log, append("ticket.a", 0, "c1", "x")).await;
    assert_eq!(last(&log).await, p1);
    let _ = conflict(&log, append("ticket.a", 0, "c2", "x")).await;
    let _ = log.append(append("ticket.b", 0, "c1", "x")).await;
    assert_eq!(last(&log).await, p1);
    let p2 = new_message(&log, append("ticket.b", 0, "c3", "x")).await;
    assert_eq!(last(&log).await, p2);
}

/// `subjects(prefix)` lists the subjects starting with a prefix, whole or partial tokens.
pub async fn subjects_by_prefix(log: SharedLog) {
    for (i, subject) in [
        "department.x",
        "department.y",
        "departments.z",
        "ticket.a",
        "ticket.ab",
    ]
    .into_iter()
    .enumerate()
    {
        new_message(&log, append(subject, 0, &format!("c{i}"), "x")).await;
    }
    // A second message on a subject lists it once.
    new_message(&log, append("department.x", 1, "c9", "x")).await;
    let subjects = |prefix: &'static str| {
        let log = log.clone();
        async move {
            let mut found = log.subjects(prefix).await.expect("subjects");
            found.sort();
            found
        }
    };
    assert_eq!(
        subjects("department.").await,
        vec!["department.x", "department.y"]
    );
    assert_eq!(
        subjects("department").await,
        vec!["department.x", "department.y", "departments.z"],
        "a partial kind matches by prefix"
    );
    assert_eq!(
        subjects("ticket.a").await,
        vec!["ticket.a", "ticket.ab"],
        "a partial id"
    );
    assert_eq!(
        subjects("").await.len(),
        5,
        "the empty prefix lists every subject"
    );
    assert!(subjects("nothing.").await.is_empty());
    assert!(matches!(
        log.subjects("ticket.>").await,
        Err(LogError::Invalid(_))
    ));
}

/// A live tail from 1 yields the old messages, then new ones as they are appended.
pub async fn live_tail_from_start(log: SharedLog) {
    for i in 1..=3 {
        new_message(
            &log,
            append(&format!("ticket.t{i}"), 0, &format!("c{i}"), "old"),
        )
        .await;
    }
    let mut tail = log.subscribe(1).await.expect("subscribe");
    for expected in 1..=3 {
        let stored = next_of(&mut tail, "old messages").await;
        assert_eq!(stored.position, expected, "old messages in order");
        assert_eq!(stored.subject, format!("ticket.t{expected}"));
    }
    let p4 = new_message(&log, append("ticket.t4", 0, "c4", "new")).await;
    let p5 = new_message(&log, append("ticket.t4", p4, "c5", "newer")).await;
    let stored = next_of(&mut tail, "a new message").await;
    assert_eq!((stored.position, stored.payload), (p4, Bytes::from("new")));
    assert_eq!(
        next_of(&mut tail, "a second new message").await.position,
        p5
    );
}

/// A live tail from the middle starts there; one from past the end waits for new
/// messages; one from 0 starts at the beginning.
pub async fn live_tail_from_middle(log: SharedLog) {
    for i in 1..=5 {
        new_message(
            &log,
            append(&format!("ticket.t{i}"), 0, &format!("c{i}"), "x"),
        )
        .await;
    }
    let mut middle = log.subscribe(3).await.expect("subscribe(3)");
    let mut future = log.subscribe(6).await.expect("subscribe(6)");
    let mut zero = log.subscribe(0).await.expect("subscribe(0)");
    for expected in 3..=5 {
        assert_eq!(
            next_of(&mut middle, "from the middle").await.position,
            expected
        );
    }
    assert_eq!(next_of(&mut zero, "from 0").await.position, 1);
    let p6 = new_message(&log, append("ticket.t6", 0, "c6", "x")).await;
    assert_eq!(
        next_of(&mut middle, "new, from the middle").await.position,
        p6
    );
    assert_eq!(
        next_of(&mut future, "new, from past the end")
            .await
            .position,
        p6
    );
}

/// Many tasks appending at once: every append succeeds exactly once, positions are
/// unique and totally ordered, and each subject keeps its own order.
pub async fn concurrent_appends(log: SharedLog) {
    const TASKS: usize = 16;
    const PER_TASK: usize = 40;
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let subject = format!("agent.a{t}");
            let mut last = 0;
            let mut mine = Vec::new();
            for i in 0..PER_TASK {
                let a = append(&subject, last, &format!("t{t}-{i}"), &format!("{t}/{i}"));
                let appended = log
                    .append(a)
                    .await
                    .unwrap_or_else(|err| panic!("task {t} append {i}: {err:?}"));
                assert!(!appended.duplicate);
                last = appended.position;
                mine.push(last);
            }
            (subject, mine)
        }));
    }
    let mut per_subject = BTreeMap::new();
    for task in tasks {
        let (subject, mine) = task.await.expect("task");
        assert!(
            mine.windows(2).all(|w| w[0] < w[1]),
            "{subject}: positions grow: {mine:?}"
        );
        per_subject.insert(subject, mine);
    }
    let stored = all(&log).await;
    assert_eq!(stored.len(), TASKS * PER_TASK, "no append lost or doubled");
    assert!(
        positions(&stored).windows(2).all(|w| w[0] < w[1]),
        "one total order"
    );
    let unique: HashSet<_> = stored.iter().map(|s| s.payload.clone()).collect();
    assert_eq!(unique.len(), TASKS * PER_TASK, "every payload exactly once");
    for (subject, mine) in per_subject {
        let read = log.read_subject(&subject, 0).await.expect("read_subject");
        assert_eq!(
            positions(&read),
            mine,
            "{subject} reads back in its own order"
        );
    }
}

/// A batch is appended all or none: at consecutive positions after the log's last one
/// when everything fits, not at all when the log moved on, an expected position is wrong
/// or a message id is known; a refused batch leaves its ids unused; a live tail sees a
/// batch's messages in order.
pub async fn batches_all_or_nothing(log: SharedLog) {
    let first = new_message(&log, append("agent.a", 0, "one", "a1")).await;
    assert_eq!(first, 1);
    let mut tail = log.subscribe(1).await.expect("subscribe");
    let placed = log
        .append_batch(
            vec![
                append("ticket.b", 0, "b-1", "b1"),
                append("agent.a", 1, "a-2", "a2"),
                append("ticket.b", 2, "b-2", "b2"),
            ],
            1,
        )
        .await
        .expect("a batch that fits");
    assert_eq!(
        placed,
        vec![2, 3, 4],
        "consecutive positions after the last"
    );
    let stored = all(&log).await;
    let payloads: Vec<_> = stored.iter().map(|s| s.payload.clone()).collect();
    assert_eq!(
        payloads,
        ["a1", "b1", "a2", "b2"].map(Bytes::from),
        "in batch order"
    );
    let b = log.read_subject("ticket.b", 0).await.expect("read_subject");
    assert_eq!(
        positions(&b),
        vec![2, 4],
        "a subject's messages in the batch"
    );
    for expected in 1..=4 {
        let delivered = next_of(&mut tail, "the tail after a batch").await;
        assert_eq!(
            delivered.position, expected,
            "the tail delivers the batch in order"
        );
    }

    let refused = [
        (
            "the log moved on",
            vec![append("ticket.c", 0, "c-1", "c1")],
            3,
        ),
        (
            "a wrong expected position",
            vec![
                append("ticket.c", 0, "c-1", "c1"),
                append("agent.a", 1, "a-3", "a3"),
            ],
            4,
        ),
        (
            "a known message id",
            vec![
                append("ticket.c", 0, "c-1", "c1"),
                append("ticket.d", 0, "one", "d1"),
            ],
            4,
        ),
        (
            "a message id twice",
            vec![
                append("ticket.c", 0, "c-1", "c1"),
                append("ticket.d", 0, "c-1", "d1"),
            ],
            4,
        ),
        (
            "a subject's second message expecting the wrong position",
            vec![
                append("ticket.c", 0, "c-1", "c1"),
                append("ticket.c", 4, "c-2", "c2"),
            ],
            4,
        ),
    ];
    for (why, appends, after) in refused {
        match log.append_batch(appends, after).await {
            Err(LogError::BatchRefused(_)) => {}
            other => panic!("a batch with {why}: expected BatchRefused, got {other:?}"),
        }
        assert_eq!(last(&log).await, 4, "a batch with {why} appends nothing");
    }
    assert!(
        log.read_subject("ticket.c", 0)
            .await
            .expect("read_subject")
            .is_empty(),
        "nothing of the refused batches is stored"
    );
    // The refused batches' ids were never used.
    let placed = log
        .append_batch(
            vec![
                append("ticket.c", 0, "c-1", "c1"),
                append("ticket.c", 5, "c-2", "c2"),
            ],
            4,
        )
        .await
        .expect("the refused batches' ids are free");
    assert_eq!(placed, vec![5, 6]);
    assert_eq!(
        log.append_batch(Vec::new(), 6)
            .await
            .expect("an empty batch"),
        Vec::<Position>::new()
    );
    let too_many: Vec<_> = (0..crate::MAX_BATCH + 1)
        .map(|i| append("ticket.e", 0, &format!("e-{i}"), "e"))
        .collect();
    assert!(
        matches!(
            log.append_batch(too_many, 6).await,
            Err(LogError::Invalid(_))
        ),
        "a batch over MAX_BATCH is invalid"
    );
    assert_eq!(last(&log).await, 6);
}

/// Bad input is refused with [`LogError::Invalid`] and appends nothing.
pub async fn invalid_requests(log: SharedLog, max_message_size: usize) {
    let refused = |a: Append| {
        let log = log.clone();
        async move {
            let what = format!("{:?}/{:?}", a.subject, a.message_id);
            match log.append(a).await {
                Err(LogError::Invalid(message)) => message,
                other => panic!("append {what}: expected Invalid, got {other:?}"),
            }
        }
    };
    for bad in [
        "",
        "ticket",
        "ticket.a.b",
        "Ticket.a",
        "ticket.a b",
        "ticket.>",
        "ticket.*",
        "ticket.",
    ] {
        let message = refused(append(bad, 0, "c1", "x")).await;
        assert!(
            message.contains(&format!("{bad:?}")),
            "the error names the subject: {message}"
        );
    }
    refused(append("ticket.a", 0, "", "x")).await;
    refused(append("ticket.a", 0, "has space", "x")).await;
    let mut big = append("ticket.a", 0, "c2", "");
    big.payload = Bytes::from(vec![b'x'; max_message_size + 1]);
    refused(big).await;
    assert_eq!(last(&log).await, 0, "refused appends write nothing");
    // A payload well inside the limit passes (the limit is about size, not content).
    let mut fine = append("ticket.a", 0, "c3", "");
    fine.payload = Bytes::from(vec![0u8; max_message_size / 2]);
    assert_eq!(new_message(&log, fine).await, 1);
}

/// Everything survives a restart: messages, positions, subjects, per-subject last
/// positions, and message ids inside the duplicate window. `reopen` must drop the log it
/// is given, restart whatever the backend runs on, and open the log again.
pub async fn reopen_keeps_everything<F, Fut>(log: SharedLog, reopen: F)
where
    F: FnOnce(SharedLog) -> Fut,
    Fut: Future<Output = SharedLog>,
{
    let a1 = new_message(&log, append("ticket.a", 0, "c1", "a1")).await;
    let b1 = new_message(&log, append("ticket.b", 0, "c2", "b1")).await;
    let a2 = new_message(&log, append("ticket.a", a1, "c3", "a2")).await;
    let before = all(&log).await;
    let mut subjects_before = log.subjects("").await.expect("subjects");
    subjects_before.sort();

    let log = reopen(log).await;

    assert_eq!(
        all(&log).await,
        before,
        "the same messages at the same positions"
    );
    assert_eq!(last(&log).await, a2);
    let mut subjects_after = log.subjects("").await.expect("subjects");
    subjects_after.sort();
    assert_eq!(subjects_after, subjects_before);
    assert_eq!(
        positions(&log.read_subject("ticket.a", 0).await.expect("read_subject")),
        vec![a1, a2]
    );
    assert_eq!(
        ok(
            log.append(append("ticket.a", 0, "c1", "a1")).await,
            "duplicate after reopen"
        ),
        Appended {
            position: a1,
            duplicate: true
        },
        "message ids are remembered across a restart"
    );
    assert_eq!(
        conflict(&log, append("ticket.b", 0, "c4", "x")).await,
        (0, b1),
        "last positions survive"
    );
    let b2 = new_message(&log, append("ticket.b", b1, "c5", "b2")).await;
    assert_eq!(b2, a2 + 1, "positions continue after the restart");
    let mut tail = log.subscribe(1).await.expect("subscribe");
    assert_eq!(next_of(&mut tail, "tail after reopen").await.position, a1);
}

/// After the duplicate window has passed, a message id is forgotten and appends anew.
/// `log` must have been opened with `window` (short: a few seconds at most).
pub async fn duplicate_window_expires(log: SharedLog, window: Duration) {
    let first = new_message(&log, append("ticket.a", 0, "c1", "x")).await;
    let dup = ok(
        log.append(append("ticket.a", first, "c1", "x")).await,
        "inside the window",
    );
    assert!(dup.duplicate, "inside the window");
    // JetStream forgets ids on a timer, up to about one more window later.
    tokio::time::sleep(window * 2 + Duration::from_millis(500)).await;
    let again = ok(
        log.append(append("ticket.a", first, "c1", "x")).await,
        "after the window",
    );
    assert_eq!(
        again,
        Appended {
            position: first + 1,
            duplicate: false
        },
        "a forgotten id appends anew"
    );
}
