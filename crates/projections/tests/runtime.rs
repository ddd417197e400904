//! The projector runtime on a real embedded log: batches, checkpoints, rebuilds,
//! partitions, dead letters and event time.

mod common;

use common::*;
use helpdesk_domain::event::{AgentWentOnline, ChatStarted, ClockTicked};
use helpdesk_domain::{AgentId, AggregateId, Channel, ChatId, Event, Timestamp};
use helpdesk_log::EventLog as _;
use helpdesk_projections::runtime::{dump, At, Model, ModelError, Txn};
use helpdesk_projections::Partition;
use uuid::Uuid;

/// Per aggregate: how many events, and the model time of the last one.
struct Counter;

impl Model for Counter {
    const NAME: &'static str = "counter";
    const VERSION: u32 = 1;

    fn partition_key(&self, event: &Event) -> Option<Uuid> {
        match event {
            Event::AgentWentOnline(e) => Some(e.agent.uuid()),
            _ => None,
        }
    }

    fn fold(&self, txn: &mut Txn<'_>, at: &At<'_>, _event: &Event) -> Result<(), ModelError> {
        let mut key = vec![b'n'];
        key.extend_from_slice(at.aggregate.id.as_bytes());
        let (count, _): (u64, i64) = txn.get(&key)?.unwrap_or((0, 0));
        txn.put(key, &(count + 1, at.time.millis()));
        Ok(())
    }
}

/// The same layout, another version.
struct CounterV2;

impl Model for CounterV2 {
    const NAME: &'static str = "counter";
    const VERSION: u32 = 2;

    fn fold(&self, txn: &mut Txn<'_>, at: &At<'_>, event: &Event) -> Result<(), ModelError> {
        Counter.fold(txn, at, event)
    }
}

fn agent(n: u128) -> AgentId {
    AgentId::from_uuid(Uuid::from_u128(
        0x0190_0000_0000_7000_8000_0000_0000_0000 | n,
    ))
}

fn online(n: u128) -> Vec<Event> {
    vec![AgentWentOnline { agent: agent(n) }.into()]
}

/// 60 envelopes over 12 agents, a minute apart.
async fn history(log: &mut TestLog, rounds: std::ops::Range<i64>) {
    for i in rounds {
        let n = (i % 12) as u128;
        log.append(AggregateId::agent(agent(n)), T0.plus_minutes(i), online(n))
            .await;
    }
}

fn count_of(records: &[(Vec<u8>, Vec<u8>)], agent_id: AgentId) -> Option<(u64, i64)> {
    let mut key = vec![b'n'];
    key.extend_from_slice(agent_id.uuid().as_bytes());
    records
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| postcard::from_bytes(v).unwrap())
}

#[tokio::test]
async fn a_rebuild_equals_the_incrementally_built_model() {
    let mut log = TestLog::new();
    let data = tempfile::tempdir().unwrap();
    // Built in small batches, with a restart (a crash between batches) after each round.
    for round in 0..5 {
        history(&mut log, round * 12..round * 12 + 12).await;
        let mut p = projector(Counter, &log, data.path(), 7);
        caught_up(&mut p).await;
    }
    let mut incremental = projector(Counter, &log, data.path(), 7);
    let incremental_records = caught_up(&mut incremental).await;
    assert_eq!(incremental.checkpoint().position, 60);
    assert_eq!(count_of(&incremental_records, agent(3)).unwrap().0, 5);

    // A clean build elsewhere, in one go.
    let other = tempfile::tempdir().unwrap();
    let mut clean = projector(Counter, &log, other.path(), 1_000);
    assert_eq!(caught_up(&mut clean).await, incremental_records);

    // And a rebuild of the first store.
    incremental.rebuild().unwrap();
    assert_eq!(incremental.checkpoint().position, 0);
    assert!(dump(&incremental.handle().tree()).unwrap().is_empty());
    assert_eq!(caught_up(&mut incremental).await, incremental_records);
}

#[tokio::test]
async fn event_time_never_runs_backwards() {
    let mut log = TestLog::new();
    log.append(AggregateId::agent(agent(1)), T0.plus_minutes(10), online(1))
        .await;
    // An import stamped earlier than what the log already holds.
    log.append(AggregateId::agent(agent(2)), T0, online(2))
        .await;
    let data = tempfile::tempdir().unwrap();
    let mut p = projector(Counter, &log, data.path(), 10);
    let records = caught_up(&mut p).await;
    assert_eq!(
        count_of(&records, agent(2)),
        Some((1, T0.plus_minutes(10).millis())),
        "the later event takes the time of the one before it"
    );
    assert_eq!(p.checkpoint().time, T0.plus_minutes(10));
}

#[tokio::test]
async fn a_checkpoint_beyond_the_log_is_answered_with_a_rebuild() {
    let data = tempfile::tempdir().unwrap();
    let mut long = TestLog::new();
    history(&mut long, 0..30).await;
    let mut p = projector(Counter, &long, data.path(), 100);
    caught_up(&mut p).await;
    drop(p);

    // The same store, now against a shorter log (a stream that was recreated).
    let mut short = TestLog::new();
    history(&mut short, 0..5).await;
    let mut p = projector(Counter, &short, data.path(), 100);
    let records = caught_up(&mut p).await;
    let fresh_dir = tempfile::tempdir().unwrap();
    let mut fresh = projector(Counter, &short, fresh_dir.path(), 100);
    assert_eq!(records, caught_up(&mut fresh).await);
    assert_eq!(p.checkpoint().position, 5);
}

#[tokio::test]
async fn a_restart_on_the_same_log_folds_nothing_again() {
    let data = tempfile::tempdir().unwrap();
    let mut log = TestLog::new();
    history(&mut log, 0..30).await;
    let mut p = projector(Counter, &log, data.path(), 7);
    let records = caught_up(&mut p).await;
    drop(p);

    let mut again = projector(Counter, &log, data.path(), 7);
    assert_eq!(caught_up(&mut again).await, records);
    assert_eq!(
        again.handle().folded(),
        0,
        "the store was folded from this log: nothing to rebuild"
    );
    history(&mut log, 30..35).await;
    caught_up(&mut again).await;
    assert_eq!(again.handle().folded(), 5, "only what is new is folded");
}

#[tokio::test]
async fn a_store_folded_from_another_log_is_rebuilt_even_when_that_log_is_longer() {
    // The log a store was built from, 30 messages, and a backup of it taken at 10.
    let data = tempfile::tempdir().unwrap();
    let mut original = TestLog::new();
    history(&mut original, 0..30).await;
    let mut p = projector(Counter, &original, data.path(), 7);
    caught_up(&mut p).await;
    drop(p);

    // The backup restored, and clients sending their lost work again: the log grows past
    // the store's checkpoint with other messages than the ones folded at 11 to 30.
    let mut restored = TestLog::new();
    for stored in original.log.read(1, 10).await.unwrap() {
        let aggregate = AggregateId::from_subject(&stored.subject).unwrap();
        restored
            .append_raw(aggregate, stored.payload.to_vec())
            .await;
    }
    history(&mut restored, 100..135).await;

    let mut p = projector(Counter, &restored, data.path(), 7);
    let records = caught_up(&mut p).await;
    let fresh_dir = tempfile::tempdir().unwrap();
    let mut fresh = projector(Counter, &restored, fresh_dir.path(), 7);
    assert_eq!(
        records,
        caught_up(&mut fresh).await,
        "the store equals a clean build of the log it now follows"
    );
    assert_eq!(p.checkpoint().position, 45);
}

#[tokio::test]
async fn a_store_that_does_not_open_is_rebuilt() {
    let mut log = TestLog::new();
    history(&mut log, 0..20).await;
    let data = tempfile::tempdir().unwrap();
    let mut p = projector(Counter, &log, data.path(), 100);
    let good = caught_up(&mut p).await;
    let path = p.path().to_owned();
    drop(p);

    // Scribble over every file of the store.
    for entry in walk(&path) {
        std::fs::write(&entry, b"this is not a sled file").unwrap();
    }
    let mut p = projector(Counter, &log, data.path(), 100);
    assert_eq!(caught_up(&mut p).await, good);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[tokio::test]
async fn a_store_of_another_version_is_rebuilt() {
    let mut log = TestLog::new();
    history(&mut log, 0..10).await;
    let data = tempfile::tempdir().unwrap();
    let mut v1 = projector(Counter, &log, data.path(), 100);
    let v1_records = caught_up(&mut v1).await;
    drop(v1);
    let v2 = projector(CounterV2, &log, data.path(), 100);
    assert_eq!(v2.checkpoint().position, 0, "the old store was set aside");
    let mut v2 = v2;
    assert_eq!(caught_up(&mut v2).await, v1_records);
}

#[tokio::test]
async fn an_unreadable_event_is_set_aside_and_the_projector_goes_on() {
    let mut log = TestLog::new();
    history(&mut log, 0..3).await;
    log.append_raw(AggregateId::agent(agent(50)), b"garbage".to_vec())
        .await;
    history(&mut log, 3..6).await;
    let data = tempfile::tempdir().unwrap();
    let mut p = projector(Counter, &log, data.path(), 100);
    let records = caught_up(&mut p).await;
    assert_eq!(p.checkpoint().position, 7);
    assert_eq!(p.checkpoint().dead_letters, 1);
    assert_eq!(count_of(&records, agent(50)), None);
    assert_eq!(count_of(&records, agent(5)).unwrap().0, 1);
}

#[tokio::test]
async fn partitions_split_the_keys_and_agree_with_one_replica() {
    let mut log = TestLog::new();
    history(&mut log, 0..48).await;
    // Events without a partition key go to every partition.
    log.append(
        AggregateId::chat(ChatId::from_uuid(Uuid::from_u128(7))),
        T0.plus_minutes(100),
        vec![ChatStarted {
            chat: ChatId::from_uuid(Uuid::from_u128(7)),
            channel: Channel::Chat,
            department: None,
        }
        .into()],
    )
    .await;
    log.append(
        AggregateId::clock(),
        T0.plus_minutes(101),
        vec![ClockTicked {}.into()],
    )
    .await;

    let data = tempfile::tempdir().unwrap();
    let mut whole = projector(Counter, &log, data.path(), 100);
    let all = caught_up(&mut whole).await;

    let mut parts = Vec::new();
    for index in 0..3 {
        let mut config = helpdesk_projections::ProjectorConfig::new(data.path());
        config.partition = Partition { index, count: 3 };
        let mut p = helpdesk_projections::Projector::open(Counter, log.dyn_log(), config).unwrap();
        parts.push(caught_up(&mut p).await);
        assert!(p.path().ends_with(format!("counter-{index}of3")));
    }
    for n in 0..12 {
        let owners: Vec<_> = parts
            .iter()
            .filter_map(|records| count_of(records, agent(n)))
            .collect();
        assert_eq!(
            owners.len(),
            1,
            "agent {n} is folded by exactly one partition"
        );
        assert_eq!(Some(owners[0]), count_of(&all, agent(n)));
    }
    let chat_key = {
        let mut key = vec![b'n'];
        key.extend_from_slice(Uuid::from_u128(7).as_bytes());
        key
    };
    for records in &parts {
        assert!(
            records.iter().any(|(k, _)| *k == chat_key),
            "shared events reach every partition"
        );
    }
}

#[tokio::test]
async fn queries_wait_for_a_position() {
    let mut log = TestLog::new();
    history(&mut log, 0..3).await;
    let data = tempfile::tempdir().unwrap();
    let p = projector(Counter, &log, data.path(), 100);
    let handle = p.handle();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(p.run(shutdown.clone()));

    let reached = handle
        .wait_for(3, std::time::Duration::from_secs(10))
        .await
        .unwrap();
    assert!(reached >= 3);
    let not_yet = handle
        .wait_for(4, std::time::Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(not_yet.to_string().contains("not yet 4"), "{not_yet}");

    // A write lands while someone waits for it.
    let waiter = {
        let handle = handle.clone();
        tokio::spawn(async move { handle.wait_for(4, std::time::Duration::from_secs(10)).await })
    };
    history(&mut log, 3..4).await;
    assert_eq!(waiter.await.unwrap().unwrap(), 4);
    shutdown.cancel();
    running.await.unwrap().unwrap();
    let _ = Timestamp::EPOCH;
}

#[tokio::test]
async fn a_store_in_use_is_refused_and_left_alone() {
    let mut log = TestLog::new();
    history(&mut log, 0..5).await;
    let data = tempfile::tempdir().unwrap();
    let mut first = projector(Counter, &log, data.path(), 100);
    let records = caught_up(&mut first).await;

    let config = helpdesk_projections::ProjectorConfig::new(data.path());
    let second = helpdesk_projections::Projector::open(Counter, log.dyn_log(), config);
    let err = second.err().expect("a second opener is refused");
    assert!(
        err.to_string().contains("in use by another process"),
        "{err}"
    );
    assert_eq!(
        dump(&first.handle().tree()).unwrap(),
        records,
        "the store was left alone"
    );
}
