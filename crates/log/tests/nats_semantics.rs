//! Facts about nats-server that the JetStream backend relies on, pinned against the real
//! server so an upgrade that changes them fails here, by name, rather than somewhere
//! subtle. Raw async-nats, no backend code.

use async_nats::header::HeaderMap;
use async_nats::jetstream::{self, context::PublishErrorKind, publish::PublishAck};
use helpdesk_testkit::NatsServer;

struct Raw {
    _server: NatsServer,
    js: jetstream::Context,
}

impl Raw {
    async fn new() -> Raw {
        let server = NatsServer::start().unwrap_or_else(|err| panic!("{err:#}"));
        let client = async_nats::connect(server.url()).await.expect("connect");
        let js = jetstream::new(client);
        js.create_stream(jetstream::stream::Config {
            name: "S".into(),
            subjects: vec!["s.>".into()],
            ..Default::default()
        })
        .await
        .expect("create stream");
        Raw {
            _server: server,
            js,
        }
    }

    async fn publish(&self, headers: &[(&str, &str)]) -> Result<PublishAck, PublishErrorKind> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, *value);
        }
        let ack = self
            .js
            .publish_with_headers("s.agg", map, "x".into())
            .await
            .expect("send");
        ack.await.map_err(|err| err.kind())
    }

    async fn last_sequence(&self) -> u64 {
        let mut stream = self.js.get_stream("S").await.expect("stream");
        stream.info().await.expect("info").state.last_sequence
    }
}

const ID: &str = "Nats-Msg-Id";
const EXPECTED_SUBJECT_SEQ: &str = "Nats-Expected-Last-Subject-Sequence";
const EXPECTED_LAST_MSG_ID: &str = "Nats-Expected-Last-Msg-Id";

/// A single server checks `Nats-Expected-Last-Subject-Sequence` before `Nats-Msg-Id`: a
/// known id with a stale expected sequence is refused, not deduplicated. This is why the
/// backend probes for the id after a `WrongLastSequence` (the conformance case
/// `duplicate_with_stale_expected_last` checks the backend's answer). If this test starts
/// failing because the server now deduplicates first, the probe becomes unnecessary but
/// stays harmless.
#[tokio::test]
async fn single_server_checks_the_expected_sequence_before_the_message_id() {
    let raw = Raw::new().await;
    let first = raw
        .publish(&[(ID, "A"), (EXPECTED_SUBJECT_SEQ, "0")])
        .await
        .expect("first");
    raw.publish(&[
        (ID, "B"),
        (EXPECTED_SUBJECT_SEQ, &first.sequence.to_string()),
    ])
    .await
    .expect("second");
    let retry = raw.publish(&[(ID, "A"), (EXPECTED_SUBJECT_SEQ, "0")]).await;
    assert_eq!(
        retry.map(|a| a.sequence),
        Err(PublishErrorKind::WrongLastSequence)
    );
    // With an expected sequence that still matches, the id is deduplicated.
    let retry = raw
        .publish(&[(ID, "A"), (EXPECTED_SUBJECT_SEQ, "2")])
        .await
        .expect("dup");
    assert!(retry.duplicate && retry.sequence == first.sequence);
    assert_eq!(raw.last_sequence().await, 2);
}

/// `Nats-Expected-Last-Msg-Id` is checked after `Nats-Msg-Id`: with an expected last id
/// that never matches, a publish answers "duplicate" for a known id and
/// `WrongLastMessageId` for an unknown one, and stores nothing either way. The backend's
/// `known_message_id` probe is built on exactly this.
#[tokio::test]
async fn the_expected_last_message_id_is_checked_after_the_message_id() {
    let raw = Raw::new().await;
    let first = raw.publish(&[(ID, "A")]).await.expect("first");
    raw.publish(&[(ID, "B")]).await.expect("second");
    let never = "helpdesk probe: not a message id";
    let known = raw
        .publish(&[(ID, "A"), (EXPECTED_LAST_MSG_ID, never)])
        .await;
    assert_eq!(
        known.map(|a| (a.sequence, a.duplicate)),
        Ok((first.sequence, true))
    );
    let unknown = raw
        .publish(&[(ID, "C"), (EXPECTED_LAST_MSG_ID, never)])
        .await;
    assert_eq!(
        unknown.map(|a| a.sequence),
        Err(PublishErrorKind::WrongLastMessageId)
    );
    assert_eq!(raw.last_sequence().await, 2, "probes store nothing");
    // And the unknown id stays unknown: it appends normally afterwards.
    let c = raw.publish(&[(ID, "C")]).await.expect("C");
    assert!(!c.duplicate && c.sequence == 3);
}
