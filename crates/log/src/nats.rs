//! The JetStream backend: one stream (file storage), subjects `<prefix>.<kind>.<id>`.
//!
//! - **Append** publishes with `Nats-Msg-Id` (the command id) and, always,
//!   `Nats-Expected-Last-Subject-Sequence` (also `0`: without it two creators could both
//!   win).
//! - **Duplicate before conflict.** The contract says a known message id returns the first
//!   result whatever the expected position. A *single* nats-server (2.15) checks the
//!   expected subject sequence **before** the message id, so a retried command whose first
//!   append went through would get `WrongLastSequence`. So on `WrongLastSequence` from a
//!   single server the backend asks whether the id is known (see
//!   `JetStreamLog::known_message_id`) and answers with the duplicate if it is. A clustered
//!   stream checks the id first (before proposing to Raft) and is never probed: the probe
//!   would break it. `tests/nats_semantics.rs` pins the single server's order of checks;
//!   `tests/conformance_nats_cluster.rs` runs the suite on a 3-node cluster.
//! - **Reads** (`read_subject`, and `read` while the reader is caught up) use *batched
//!   direct get* (ADR-31, nats-server ≥ 2.11): one request, up to [`DIRECT_BATCH`]
//!   messages streamed back, an end-of-batch marker. Unlike a consumer it leaves no server
//!   state behind, costs one round trip (≈ 0.15 ms here), and filters by subject on the
//!   server, so loading one aggregate reads only its messages. A `read` that finds a
//!   large backlog (a replay) continues on an ordered consumer that is kept for the next
//!   `read`, which is about twice as fast per message (see `Cursor`). On a replicated
//!   stream a direct get may be answered by a follower that is a little behind; that is
//!   safe here: an aggregate loaded stale fails its append with a
//!   conflict and is reloaded, and a projector simply reads the rest next time.
//!   `get` and the conflict look-up go to the stream leader (read-after-write).
//! - **Live tail** is an ordered pull consumer starting at the requested position.

use std::collections::HashSet;
use std::fmt::Display;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_nats::header::{
    HeaderMap, NATS_BATCH_COMMIT, NATS_BATCH_COMMIT_FINAL, NATS_BATCH_ID, NATS_BATCH_SEQUENCE,
    NATS_EXPECTED_LAST_MESSAGE_ID, NATS_EXPECTED_LAST_SEQUENCE,
    NATS_EXPECTED_LAST_SUBJECT_SEQUENCE, NATS_MESSAGE_ID,
};
use async_nats::jetstream::{
    self,
    consumer::{pull, DeliverPolicy},
    context::PublishErrorKind,
    message::StreamMessage,
    stream::{
        Config as StreamConfig, DirectGetErrorKind, LastRawMessageErrorKind, RawMessageBuilder,
        RetentionPolicy, StorageType,
    },
    ErrorCode,
};
use async_nats::ConnectErrorKind;
use async_trait::async_trait;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};

use crate::{
    validate_append, validate_batch, validate_subject, validate_subject_prefix, Append, Appended,
    EventLog, LogError, Position, Stored, StoredStream, DEFAULT_DUPLICATE_WINDOW,
    DEFAULT_MAX_MESSAGE_SIZE,
};

/// Messages asked for per batched direct get. Well below the client's subscription buffer
/// (65,536 messages), which the server fills without flow control.
pub const DIRECT_BATCH: usize = 10_000;

/// Room for our headers on top of the payload in the stream's `max_msg_size`.
const HEADER_ALLOWANCE: i32 = 1024;

/// A `read` starts with one direct get of at most this many messages; a bigger backlog
/// continues on a replay cursor.
const DIRECT_FIRST: usize = 100;

/// Replay cursors kept between reads, at most.
const MAX_CURSORS: usize = 8;

/// How long a parked replay cursor is kept (the server drops an idle ordered consumer
/// after 30 s).
const CURSOR_IDLE: Duration = Duration::from_secs(20);

/// An expected last message id no stored message can have: message ids never contain
/// spaces (`validate_message_id`).
const NEVER_A_MESSAGE_ID: &str = "helpdesk probe: not a message id";

/// How long one read request may take before the log counts as unavailable.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How often an append is retried when JetStream says "try again" (a cluster still
/// committing a previous write of the same message id or subject).
const BUSY_RETRIES: u32 = 20;

/// `JSStreamWrongLastSequenceConstantErr`: a cluster refused an expected-sequence check
/// because another write to the subject is still in flight.
const WRONG_LAST_SEQUENCE_IN_FLIGHT: ErrorCode = ErrorCode(10164);
/// `JSStreamDuplicateMessageConflict`: a cluster is still committing the first append of
/// this message id; asked again shortly, it answers with the duplicate ack.
const DUPLICATE_IN_FLIGHT: ErrorCode = ErrorCode(10158);
/// `JSStreamExpectedLastSeqPerSubjectNotReady`: transient, retry.
const EXPECTED_NOT_READY: ErrorCode = ErrorCode(10163);
/// `JSStreamMessageExceedsMaximum`.
const MESSAGE_TOO_BIG: ErrorCode = ErrorCode(10054);
/// `JSStreamNameExist`: someone else created the stream first.
const STREAM_NAME_EXISTS: ErrorCode = ErrorCode(10058);

/// Settings of the JetStream backend. `Debug` shows the URL without its credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct JetStreamConfig {
    /// Server URL(s), comma-separated. Default `nats://127.0.0.1:4222`.
    pub url: String,
    /// The stream's name. Default `HELPDESK`.
    pub stream: String,
    /// The first subject token(s); the stream holds `<prefix>.>`. Default `helpdesk`.
    pub subject_prefix: String,
    /// Copies of each message: 1 for one server, 3 (or 5) for a cluster. Default 1.
    pub replicas: usize,
    /// How long JetStream remembers a message id. Must outlast any client's retry
    /// horizon. Default 2 minutes.
    pub duplicate_window: Duration,
    /// The largest payload accepted. Default [`DEFAULT_MAX_MESSAGE_SIZE`] (1 MiB less
    /// 4 KiB), which fits a default nats-server; the server's `max_payload` must be at
    /// least this plus 1 KiB for headers, or connecting fails.
    pub max_message_size: i32,
    /// TLS and credentials for the connection. Default: none.
    pub security: NatsSecurity,
}

/// How the connection to NATS is secured: TLS (with the server's CA, and a client
/// certificate for mutual TLS) and credentials (a `.creds` file, an nkey seed, a user and
/// password, or a token). Secrets never show in `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct NatsSecurity {
    /// Refuse a connection that is not TLS.
    pub require_tls: bool,
    /// A PEM file of the CA(s) that signed the server's certificate.
    pub ca_file: Option<std::path::PathBuf>,
    /// A PEM certificate and key for mutual TLS.
    pub client_cert: Option<(std::path::PathBuf, std::path::PathBuf)>,
    /// A NATS credentials file (JWT and nkey seed), as `nsc` writes them.
    pub credentials_file: Option<std::path::PathBuf>,
    /// An nkey seed (`SU…`).
    pub nkey_seed: Option<String>,
    /// A user and password.
    pub user_password: Option<(String, String)>,
    /// A token.
    pub token: Option<String>,
}

impl std::fmt::Debug for NatsSecurity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsSecurity")
            .field("require_tls", &self.require_tls)
            .field("ca_file", &self.ca_file)
            .field("client_cert", &self.client_cert)
            .field("credentials_file", &self.credentials_file)
            .field("nkey_seed", &self.nkey_seed.as_ref().map(|_| "…"))
            .field(
                "user_password",
                &self.user_password.as_ref().map(|(user, _)| (user, "…")),
            )
            .field("token", &self.token.as_ref().map(|_| "…"))
            .finish()
    }
}

impl NatsSecurity {
    /// The connect options with this security applied.
    async fn apply(
        &self,
        mut options: async_nats::ConnectOptions,
    ) -> Result<async_nats::ConnectOptions, LogError> {
        if self.require_tls {
            options = options.require_tls(true);
        }
        if let Some(ca) = &self.ca_file {
            options = options.add_root_certificates(ca.clone());
        }
        if let Some((cert, key)) = &self.client_cert {
            options = options.add_client_certificate(cert.clone(), key.clone());
        }
        if let Some(path) = &self.credentials_file {
            options = options.credentials_file(path).await.map_err(|err| {
                LogError::Invalid(format!(
                    "cannot read the NATS credentials file {}: {err}",
                    path.display()
                ))
            })?;
        }
        if let Some(seed) = &self.nkey_seed {
            options = options.nkey(seed.clone());
        }
        if let Some((user, password)) = &self.user_password {
            options = options.user_and_password(user.clone(), password.clone());
        }
        if let Some(token) = &self.token {
            options = options.token(token.clone());
        }
        Ok(options)
    }
}

impl std::fmt::Debug for JetStreamConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JetStreamConfig")
            .field("url", &redact_url(&self.url))
            .field("stream", &self.stream)
            .field("subject_prefix", &self.subject_prefix)
            .field("replicas", &self.replicas)
            .field("duplicate_window", &self.duplicate_window)
            .field("max_message_size", &self.max_message_size)
            .field("security", &self.security)
            .finish()
    }
}

/// `urls` (one NATS URL or several, comma-separated) as it may be printed: the
/// credentials of a URL (`nats://user:password@host`, `nats://token@host`) replaced by
/// `***`. Every URL in an error or a log line goes through this.
pub fn redact_url(urls: &str) -> String {
    urls.split(',')
        .map(|url| {
            let (scheme, rest) = match url.find("://") {
                Some(at) => url.split_at(at + 3),
                None => ("", url),
            };
            // The last '@' ends the credentials, whatever they hold ('/' included: a
            // NATS URL has no path to mistake it for).
            match rest.rfind('@') {
                Some(at) => format!("{scheme}***{}", &rest[at..]),
                None => url.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

impl Default for JetStreamConfig {
    fn default() -> Self {
        JetStreamConfig {
            url: "nats://127.0.0.1:4222".into(),
            stream: "HELPDESK".into(),
            subject_prefix: "helpdesk".into(),
            replicas: 1,
            duplicate_window: DEFAULT_DUPLICATE_WINDOW,
            // 1 MiB fits an i32.
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE as i32,
            security: NatsSecurity::default(),
        }
    }
}

impl JetStreamConfig {
    fn validate(&self) -> Result<(), LogError> {
        let token_ok = |t: &str| {
            !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        if !self.subject_prefix.split('.').all(token_ok) {
            return Err(LogError::Invalid(format!(
                "subject prefix {:?} must be dot-separated tokens of A-Z, a-z, 0-9, _ and -",
                self.subject_prefix
            )));
        }
        if !token_ok(&self.stream) {
            return Err(LogError::Invalid(format!(
                "stream name {:?} must be A-Z, a-z, 0-9, _ and - only",
                self.stream
            )));
        }
        if self.urls().is_empty() {
            return Err(LogError::Invalid("no NATS server URL configured".into()));
        }
        if !(1..=5).contains(&self.replicas) {
            return Err(LogError::Invalid(format!(
                "replicas must be 1 to 5, not {}",
                self.replicas
            )));
        }
        if self.max_message_size <= 0 || self.max_message_size > i32::MAX - HEADER_ALLOWANCE {
            return Err(LogError::Invalid(format!(
                "max_message_size {} is out of range",
                self.max_message_size
            )));
        }
        Ok(())
    }

    /// The server URLs: `url` split at commas.
    fn urls(&self) -> Vec<&str> {
        self.url
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .collect()
    }

    /// The stream configuration this log creates, or asks of an existing stream.
    fn stream_config(&self) -> StreamConfig {
        StreamConfig {
            name: self.stream.clone(),
            subjects: vec![format!("{}.>", self.subject_prefix)],
            storage: StorageType::File,
            retention: RetentionPolicy::Limits,
            num_replicas: self.replicas,
            duplicate_window: self.duplicate_window,
            max_message_size: self.max_message_size + HEADER_ALLOWANCE,
            allow_direct: true,
            description: Some("helpdesk event log".into()),
            ..Default::default()
        }
    }
}

/// The event log on a NATS JetStream stream. See the module documentation.
pub struct JetStreamLog {
    client: async_nats::Client,
    js: jetstream::Context,
    stream: jetstream::stream::Stream,
    config: JetStreamConfig,
    /// `$JS.API.DIRECT.GET.<stream>`.
    direct_get: String,
    /// Replays in progress, each waiting for the `read` that continues it.
    cursors: Mutex<Vec<Cursor>>,
    /// Whether the server takes atomic batches (2.12 and later; the stream allows them).
    atomic: bool,
}

/// A replay in progress: an ordered consumer whose next message is at `next`.
///
/// Batched direct get costs the server about 9 µs a message (measured: ≈ 100–130k
/// messages/s, the server's CPU the limit), an ordered consumer far less (≈ 250k/s and
/// more). But a consumer per `read` would cost a consumer creation per call, which on a
/// cluster is a meta-leader proposal. So a `read` that finds a backlog keeps its consumer
/// here, and the next `read` from where it stopped (a projector's loop) continues on it;
/// once it catches up, the cursor is dropped and reads go back to direct get.
struct Cursor {
    next: Position,
    messages: pull::Ordered,
    parked: Instant,
}

impl JetStreamLog {
    /// Connects, then creates the stream or checks the existing one (its subjects,
    /// storage, retention and replicas must match; the duplicate window, the message size
    /// limit and direct get are updated to this configuration).
    pub async fn connect(config: JetStreamConfig) -> Result<Self, LogError> {
        config.validate()?;
        let options = async_nats::ConnectOptions::new()
            .name("helpdesk-log")
            .connection_timeout(Duration::from_secs(5))
            .request_timeout(Some(REQUEST_TIMEOUT));
        let client = config
            .security
            .apply(options)
            .await?
            .connect(config.urls())
            .await
            .map_err(|err| match err.kind() {
                ConnectErrorKind::ServerParse => {
                    LogError::Invalid(format!("bad NATS URL {:?}: {err}", redact_url(&config.url)))
                }
                ConnectErrorKind::Authentication | ConnectErrorKind::AuthorizationViolation => {
                    LogError::Unavailable(format!(
                        "NATS at {} refused the credentials: {err}; fix the connection's \
                         credentials or the server's authorization",
                        redact_url(&config.url)
                    ))
                }
                _ => LogError::Unavailable(format!(
                    "cannot connect to NATS at {}: {err}. Start nats-server with JetStream \
                     (`nats-server -js`) or point the log at a running one",
                    redact_url(&config.url)
                )),
            })?;
        let server = client.server_info();
        if !version_at_least(&server.version, 2, 11) {
            return Err(LogError::Invalid(format!(
                "nats-server {} at {} is too old: the log needs 2.11 or later (batched \
                 direct get)",
                server.version,
                redact_url(&config.url)
            )));
        }
        // The stream's max_msg_size is this too: the largest payload and its headers.
        let needed = (config.max_message_size + HEADER_ALLOWANCE) as usize;
        if server.max_payload < needed {
            return Err(LogError::Invalid(format!(
                "nats-server at {} takes messages of at most {} bytes (max_payload), but \
                 the log's largest message is {needed} bytes ({} bytes of payload and \
                 {HEADER_ALLOWANCE} of headers): raise max_payload in the server's \
                 configuration to at least {needed} (its default, 1 MiB, is enough)",
                redact_url(&config.url),
                server.max_payload,
                config.max_message_size
            )));
        }
        let js = jetstream::ContextBuilder::new()
            .timeout(REQUEST_TIMEOUT)
            .build(client.clone());
        let atomic = version_at_least(&server.version, 2, 12);
        let stream = ensure_stream(&js, &config, atomic).await?;
        Ok(JetStreamLog {
            atomic,
            direct_get: format!("$JS.API.DIRECT.GET.{}", config.stream),
            client,
            js,
            stream,
            config,
            cursors: Mutex::new(Vec::new()),
        })
    }

    /// The configuration the log was connected with.
    pub fn config(&self) -> &JetStreamConfig {
        &self.config
    }

    /// The underlying client, for core NATS use (notifications) by the same process.
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    fn full_subject(&self, subject: &str) -> String {
        format!("{}.{subject}", self.config.subject_prefix)
    }

    fn unavailable(&self, what: &str, err: impl Display) -> LogError {
        LogError::Unavailable(format!(
            "{what} on stream {} at {} failed: {err}; check that nats-server is running with \
             JetStream and that the stream has a leader, then retry",
            self.config.stream,
            redact_url(&self.config.url)
        ))
    }

    /// The last position of `subject` (full form), 0 when it has none, from the leader.
    async fn last_of_subject(&self, subject: &str) -> Result<Position, LogError> {
        Ok(self
            .leader_get(|stream| {
                stream
                    .raw_message_builder()
                    .last_by_subject(subject.to_owned())
            })
            .await?
            .map_or(0, |message| message.sequence))
    }

    /// The last position of `subject` (full form), 0 when it has none, by a direct get
    /// (any replica, like [`Self::direct_batch`]).
    async fn direct_last_of_subject(&self, subject: &str) -> Result<Position, LogError> {
        match self.stream.direct_get_last_for_subject(subject).await {
            Ok(message) => Ok(message.sequence),
            Err(err) if matches!(err.kind(), DirectGetErrorKind::NotFound) => Ok(0),
            Err(err) => Err(self.unavailable("a direct get", err)),
        }
    }

    /// A message get answered by the stream leader (read-after-write), `None` when there
    /// is no such message. Retries a cluster's transient "temporarily unavailable" (a
    /// follower answers that, faster than the leader, while it is unsure of the group's
    /// leader).
    async fn leader_get<F>(&self, request: F) -> Result<Option<StreamMessage>, LogError>
    where
        F: Fn(&jetstream::stream::Stream) -> RawMessageBuilder,
    {
        let mut attempt = 0;
        loop {
            let err = match request(&self.stream).send().await {
                Ok(message) => return Ok(Some(message)),
                Err(err) => err,
            };
            match err.kind() {
                LastRawMessageErrorKind::NoMessageFound => return Ok(None),
                LastRawMessageErrorKind::JetStream(api)
                    if api.error_code() == ErrorCode::NO_MESSAGE_FOUND =>
                {
                    return Ok(None)
                }
                LastRawMessageErrorKind::JetStream(api)
                    if api.code() == 503 && attempt < BUSY_RETRIES =>
                {
                    attempt += 1;
                    backoff(attempt).await;
                }
                _ => return Err(self.unavailable("reading a message", err)),
            }
        }
    }

    /// Whether the stream is replicated by Raft (the server runs clustered JetStream,
    /// whatever the stream's replica count). Asked afresh each time: it decides whether
    /// the message id probe is safe, and a server can be reconfigured under a client.
    async fn is_clustered(&self) -> Result<bool, LogError> {
        let info = self
            .stream
            .get_info()
            .await
            .map_err(|err| self.unavailable("reading the stream's state", err))?;
        Ok(info
            .cluster
            .and_then(|cluster| cluster.raft_group)
            .is_some_and(|group| !group.is_empty()))
    }

    /// Whether JetStream remembers `append`'s message id (inside the duplicate window), and
    /// where its first append went.
    ///
    /// JetStream has no "look up a message id" request, but it checks
    /// `Nats-Expected-Last-Msg-Id` *after* the message id (unlike the expected sequences,
    /// which a single server checks before): a publish with the id and an expected last
    /// message id that can never match is answered with the duplicate ack when the id is
    /// known, and refused (`WrongLastMessageId`) otherwise. Either way nothing is stored.
    /// `tests/nats_semantics.rs` pins both orders against the real server.
    ///
    /// **Single server only.** A cluster checks `Nats-Expected-Last-Msg-Id` only when it
    /// applies the Raft entry, not before proposing it; nats-server 2.15 then reports a
    /// "critical write error" and the stream stops answering. A cluster checks the message
    /// id before the expected sequence anyway, so it never needs the probe.
    async fn known_message_id(
        &self,
        subject: &str,
        append: &Append,
    ) -> Result<Option<Position>, LogError> {
        let mut headers = HeaderMap::new();
        headers.insert(NATS_MESSAGE_ID, append.message_id.as_str());
        headers.insert(NATS_EXPECTED_LAST_MESSAGE_ID, NEVER_A_MESSAGE_ID);
        let probe = match self
            .js
            .publish_with_headers(subject.to_owned(), headers, Bytes::new())
            .await
        {
            Ok(ack) => ack.await,
            Err(err) => Err(err),
        };
        match probe {
            Ok(ack) if ack.duplicate => Ok(Some(ack.sequence)),
            Ok(ack) => Err(LogError::Storage(format!(
                "a message id probe on {subject} was stored at {} (nats-server changed the order \
                 of its checks?); delete that empty message",
                ack.sequence
            ))),
            Err(err) if err.kind() == PublishErrorKind::WrongLastMessageId => Ok(None),
            Err(err) => Err(self.unavailable("checking a message id", err)),
        }
    }

    /// Up to `max` messages matching `filter` (full form) with a position of at least
    /// `from`, by batched direct get, as many requests as it takes.
    async fn direct_batch(
        &self,
        from: Position,
        filter: &str,
        max: usize,
    ) -> Result<Vec<Stored>, LogError> {
        let mut out = Vec::new();
        let mut next = from.max(1);
        while out.len() < max {
            let want = (max - out.len()).min(DIRECT_BATCH);
            let (batch, more) = self.direct_batch_once(next, filter, want).await?;
            let Some(last) = batch.last() else { break };
            next = last.position + 1;
            out.extend(batch);
            if !more {
                break;
            }
        }
        Ok(out)
    }

    /// One batched direct get of up to `want` (≤ [`DIRECT_BATCH`]) messages; also says
    /// whether more matching messages remain.
    async fn direct_batch_once(
        &self,
        from: Position,
        filter: &str,
        want: usize,
    ) -> Result<(Vec<Stored>, bool), LogError> {
        let inbox = self.client.new_inbox();
        let mut replies = self
            .client
            .subscribe(inbox.clone())
            .await
            .map_err(|err| self.unavailable("subscribing for a direct get", err))?;
        // Subjects and prefixes are validated: nothing in them needs JSON escaping.
        let request = format!(r#"{{"seq":{from},"batch":{want},"next_by_subj":"{filter}"}}"#);
        self.client
            .publish_with_reply(self.direct_get.clone(), inbox, request.into())
            .await
            .map_err(|err| self.unavailable("sending a direct get", err))?;
        let mut out = Vec::with_capacity(want.min(1024));
        let more = loop {
            let reply = tokio::time::timeout(REQUEST_TIMEOUT, replies.next())
                .await
                .map_err(|_| self.unavailable("a direct get", "timed out"))?
                .ok_or_else(|| self.unavailable("a direct get", "connection closed"))?;
            if let Some(status) = reply.status {
                match status.as_u16() {
                    // End of batch, with what still matches after it.
                    204 => break header_u64(&reply.headers, "Nats-Num-Pending") > Some(0),
                    404 => break false,
                    503 => {
                        return Err(self.unavailable(
                            "a direct get",
                            "no responders (is allow_direct set on the stream?)",
                        ))
                    }
                    code => {
                        let text = reply.description.unwrap_or_default();
                        return Err(self.unavailable("a direct get", format!("{code} {text}")));
                    }
                }
            }
            let stored = self.stored_from_direct(reply)?;
            // On a replicated stream more than one server may answer the same request
            // (seen on an R3 stream: a batch of 100 came back twice). Each answers in
            // order, so whatever is not past the last message taken is a repeat.
            if out
                .last()
                .is_none_or(|last: &Stored| stored.position > last.position)
            {
                out.push(stored);
            }
        };
        // Dropping the subscription unsubscribes too; this frees it now.
        replies.unsubscribe().await.ok();
        Ok((out, more))
    }

    /// Opens a replay cursor: an ordered consumer starting at `next`.
    async fn open_cursor(&self, next: Position) -> Result<Cursor, LogError> {
        let messages = self
            .stream
            .create_consumer(pull::OrderedConfig {
                filter_subject: format!("{}.>", self.config.subject_prefix),
                deliver_policy: DeliverPolicy::ByStartSequence {
                    start_sequence: next,
                },
                ..Default::default()
            })
            .await
            .map_err(|err| self.unavailable("creating a replay consumer", err))?
            .messages()
            .await
            .map_err(|err| self.unavailable("starting a replay consumer", err))?;
        Ok(Cursor {
            next,
            messages,
            parked: Instant::now(),
        })
    }

    /// Reads from `cursor` into `out` until `max` messages or the end of the backlog.
    /// Returns the cursor if the backlog goes on (to be parked for the next read).
    async fn read_cursor(
        &self,
        mut cursor: Cursor,
        out: &mut Vec<Stored>,
        max: usize,
    ) -> Result<Option<Cursor>, LogError> {
        while out.len() < max {
            let failure = match tokio::time::timeout(REQUEST_TIMEOUT, cursor.messages.next()).await
            {
                Ok(Some(Ok(message))) => {
                    let info = message.info().map_err(|err| {
                        LogError::Storage(format!("bad JetStream reply subject: {err}"))
                    })?;
                    let (position, pending) = (info.stream_sequence, info.pending);
                    if position < cursor.next {
                        // An ordered consumer that reset itself before its first message
                        // may start again from the stream's start: skip what was read.
                        continue;
                    }
                    out.push(Stored {
                        position,
                        subject: self.strip(message.subject.as_str())?,
                        payload: message.payload.clone(),
                    });
                    cursor.next = position + 1;
                    if pending == 0 {
                        // Caught up: a parked cursor would block the next read.
                        return Ok(None);
                    }
                    continue;
                }
                Ok(Some(Err(err))) => err.to_string(),
                Ok(None) => "the consumer ended".to_string(),
                Err(_) => "timed out".to_string(),
            };
            // What was read is valid; the next read starts afresh from there.
            return if out.is_empty() {
                Err(self.unavailable("a replay read", failure))
            } else {
                Ok(None)
            };
        }
        Ok(Some(cursor))
    }

    fn take_cursor(&self, next: Position) -> Option<Cursor> {
        let mut cursors = self.cursors.lock().unwrap_or_else(|p| p.into_inner());
        let index = cursors.iter().position(|c| c.next == next)?;
        Some(cursors.swap_remove(index))
    }

    fn park_cursor(&self, mut cursor: Cursor) {
        let mut cursors = self.cursors.lock().unwrap_or_else(|p| p.into_inner());
        // The server forgets an idle ordered consumer after 30 s; so do we, earlier.
        cursors.retain(|c| c.parked.elapsed() < CURSOR_IDLE);
        if cursors.len() >= MAX_CURSORS {
            cursors.remove(0);
        }
        cursor.parked = Instant::now();
        cursors.push(cursor);
    }

    fn stored_from_direct(&self, reply: async_nats::Message) -> Result<Stored, LogError> {
        let bad = |what: &str| {
            LogError::Storage(format!("direct get reply without a valid {what} header"))
        };
        let position =
            header_u64(&reply.headers, "Nats-Sequence").ok_or_else(|| bad("sequence"))?;
        let subject = reply
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Subject"))
            .map(|v| v.as_str().to_owned())
            .ok_or_else(|| bad("subject"))?;
        Ok(Stored {
            position,
            subject: self.strip(&subject)?,
            payload: reply.payload,
        })
    }

    /// `<prefix>.<kind>.<id>` → `<kind>.<id>`.
    fn strip(&self, subject: &str) -> Result<String, LogError> {
        strip_prefix(&self.config.subject_prefix, subject)
    }
}

fn strip_prefix(prefix: &str, subject: &str) -> Result<String, LogError> {
    subject
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('.'))
        .map(str::to_owned)
        .ok_or_else(|| {
            LogError::Storage(format!(
                "message on {subject:?}, outside the prefix {prefix:?}"
            ))
        })
}

fn header_u64(headers: &Option<HeaderMap>, name: &str) -> Option<u64> {
    headers.as_ref()?.get(name)?.as_str().parse().ok()
}

fn version_at_least(version: &str, major: u64, minor: u64) -> bool {
    let mut parts = version
        .trim_start_matches('v')
        .split(['.', '-'])
        .map(|p| p.parse::<u64>().unwrap_or(0));
    let (a, b) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (a, b) >= (major, minor)
}

/// Creates the stream, or checks and updates an existing one.
/// The server's answer to an atomic batch's commit.
#[derive(serde::Deserialize)]
struct BatchAnswer {
    seq: Option<u64>,
    error: Option<BatchError>,
}

#[derive(serde::Deserialize)]
struct BatchError {
    err_code: Option<u64>,
    description: Option<String>,
}

/// How long a newly created replicated stream may take to elect its leader.
const LEADER_ELECTION_WAIT: Duration = Duration::from_secs(10);

/// Returns `stream` once it has a leader. A replicated stream is created before its Raft
/// group has elected one, and an append until then finds no stream to answer it.
async fn wait_for_leader(
    mut stream: jetstream::stream::Stream,
    config: &JetStreamConfig,
) -> Result<jetstream::stream::Stream, LogError> {
    if config.replicas <= 1 {
        return Ok(stream);
    }
    let deadline = tokio::time::Instant::now() + LEADER_ELECTION_WAIT;
    loop {
        let led = stream
            .info()
            .await
            .ok()
            .and_then(|info| info.cluster.as_ref().and_then(|c| c.leader.clone()))
            .is_some();
        if led {
            return Ok(stream);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(LogError::Unavailable(format!(
                "stream {} at {} was created but elected no leader within {:?}: are enough \
                 of the cluster's servers up for {} replicas?",
                config.stream,
                redact_url(&config.url),
                LEADER_ELECTION_WAIT,
                config.replicas
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn ensure_stream(
    js: &jetstream::Context,
    config: &JetStreamConfig,
    atomic: bool,
) -> Result<jetstream::stream::Stream, LogError> {
    use jetstream::context::{CreateStreamErrorKind, GetStreamErrorKind};
    let mut wanted = config.stream_config();
    // Bulk imports append in atomic batches where the server has them.
    wanted.allow_atomic_publish = atomic;
    let unavailable = |what: &str, err: &dyn Display| {
        LogError::Unavailable(format!(
            "{what} stream {} at {} failed: {err}; is JetStream enabled (`nats-server -js`) and \
             does the account have a JetStream leader?",
            config.stream,
            redact_url(&config.url)
        ))
    };
    for _ in 0..3 {
        match js.get_stream(&config.stream).await {
            Ok(mut stream) => {
                let info = stream
                    .info()
                    .await
                    .map_err(|err| unavailable("reading", &err))?
                    .clone();
                let have = &info.config;
                let mut problems = Vec::new();
                if have.subjects != wanted.subjects {
                    problems.push(format!(
                        "subjects are {:?}, this log needs {:?} (use another stream name or \
                         subject prefix)",
                        have.subjects, wanted.subjects
                    ));
                }
                if have.storage != StorageType::File {
                    problems.push("storage is memory, the log needs file storage".to_string());
                }
                if have.retention != RetentionPolicy::Limits {
                    problems.push(format!(
                        "retention is {:?}, the log needs limits (events are never consumed away)",
                        have.retention
                    ));
                }
                if have.num_replicas != wanted.num_replicas {
                    problems.push(format!(
                        "it has {} replicas, the configuration asks for {} (change one of them, \
                         e.g. `nats stream edit {} --replicas {}`)",
                        have.num_replicas, wanted.num_replicas, config.stream, wanted.num_replicas
                    ));
                }
                if !problems.is_empty() {
                    return Err(LogError::Invalid(format!(
                        "stream {} at {} does not fit the event log: {}",
                        config.stream,
                        redact_url(&config.url),
                        problems.join("; ")
                    )));
                }
                if have.max_age != Duration::ZERO || have.max_messages > 0 || have.max_bytes > 0 {
                    tracing::warn!(
                        stream = %config.stream,
                        "the stream has limits (max_age, max_msgs or max_bytes): old events will be \
                         discarded and rebuilds from the log will be incomplete"
                    );
                }
                let mut update = have.clone();
                update.duplicate_window = wanted.duplicate_window;
                update.max_message_size = wanted.max_message_size;
                update.allow_direct = true;
                update.allow_atomic_publish |= atomic;
                if &update != have {
                    tracing::info!(stream = %config.stream, "updating the stream's duplicate window, message size, direct get or atomic batches");
                    js.update_stream(&update)
                        .await
                        .map_err(|err| unavailable("updating", &err))?;
                }
                return Ok(stream);
            }
            Err(err) => match err.kind() {
                GetStreamErrorKind::JetStream(js_err)
                    if js_err.error_code() == ErrorCode::STREAM_NOT_FOUND =>
                {
                    match js.create_stream(&wanted).await {
                        Ok(stream) => return wait_for_leader(stream, config).await,
                        // Another process created it meanwhile: check theirs.
                        Err(err)
                            if matches!(err.kind(), CreateStreamErrorKind::JetStream(e)
                                if e.error_code() == STREAM_NAME_EXISTS) =>
                        {
                            continue
                        }
                        Err(err) => return Err(unavailable("creating", &err)),
                    }
                }
                GetStreamErrorKind::JetStream(js_err)
                    if js_err.error_code() == ErrorCode::JETSTREAM_NOT_ENABLED
                        || js_err.error_code() == ErrorCode::JETSTREAM_NOT_ENABLED_FOR_ACCOUNT =>
                {
                    return Err(LogError::Unavailable(format!(
                        "JetStream is not enabled at {}: start nats-server with `-js` (or \
                         `jetstream {{}}` in its configuration)",
                        redact_url(&config.url)
                    )))
                }
                _ => return Err(unavailable("looking up", &err)),
            },
        }
    }
    Err(LogError::Unavailable(format!(
        "stream {} kept changing while it was being created; retry",
        config.stream
    )))
}

/// How one failed publish is handled.
enum PublishFailure {
    /// The expected last sequence did not match (or could not be checked yet on a
    /// cluster because another write to the subject is in flight).
    WrongLastSequence {
        in_flight: bool,
    },
    /// Transient "ask again" from a cluster.
    Busy,
    Invalid(String),
    Unavailable(String),
}

fn classify(err: &jetstream::context::PublishError) -> PublishFailure {
    let api_code = std::error::Error::source(err)
        .and_then(|source| source.downcast_ref::<jetstream::Error>())
        .map(|api| api.error_code());
    match (err.kind(), api_code) {
        (PublishErrorKind::WrongLastSequence, _) => {
            PublishFailure::WrongLastSequence { in_flight: false }
        }
        (_, Some(WRONG_LAST_SEQUENCE_IN_FLIGHT)) => {
            PublishFailure::WrongLastSequence { in_flight: true }
        }
        (_, Some(DUPLICATE_IN_FLIGHT | EXPECTED_NOT_READY)) => PublishFailure::Busy,
        (PublishErrorKind::MaxPayloadExceeded, _) | (_, Some(MESSAGE_TOO_BIG)) => {
            PublishFailure::Invalid(err.to_string())
        }
        (PublishErrorKind::StreamNotFound, _) => PublishFailure::Unavailable(format!(
            "{err}: no stream answered (JetStream down, the stream deleted, or no leader)"
        )),
        (PublishErrorKind::TimedOut, _) => PublishFailure::Unavailable(format!(
            "{err}: the append may or may not have been stored; retry with the same message id"
        )),
        _ => PublishFailure::Unavailable(err.to_string()),
    }
}

#[async_trait]
impl EventLog for JetStreamLog {
    async fn append(&self, append: Append) -> Result<Appended, LogError> {
        // max_message_size is validated positive.
        validate_append(&append, self.config.max_message_size as usize)?;
        let subject = self.full_subject(&append.subject);
        let mut attempt = 0;
        loop {
            let mut headers = HeaderMap::new();
            headers.insert(NATS_MESSAGE_ID, append.message_id.as_str());
            // Always sent, 0 included: "the subject must be empty".
            headers.insert(
                NATS_EXPECTED_LAST_SUBJECT_SEQUENCE,
                append.expected_last.to_string(),
            );
            let published = match self
                .js
                .publish_with_headers(subject.clone(), headers, append.payload.clone())
                .await
            {
                Ok(ack) => ack.await,
                Err(err) => Err(err),
            };
            let err = match published {
                Ok(ack) => {
                    return Ok(Appended {
                        position: ack.sequence,
                        duplicate: ack.duplicate,
                    })
                }
                Err(err) => err,
            };
            let retry = attempt < BUSY_RETRIES;
            attempt += 1;
            match classify(&err) {
                PublishFailure::WrongLastSequence { in_flight } => {
                    if in_flight && retry {
                        backoff(attempt).await;
                        continue;
                    }
                    // A single server checks the expected sequence before the message id:
                    // a retried command would get this conflict instead of its first
                    // result. Ask whether the id is known before calling it a conflict.
                    // (A cluster checks the id first, and must never see the probe.)
                    if !self.is_clustered().await? {
                        if let Some(position) = self.known_message_id(&subject, &append).await? {
                            return Ok(Appended {
                                position,
                                duplicate: true,
                            });
                        }
                    }
                    // The error carries the actual sequence only on a single server; ask
                    // the leader, which also works for the cluster's "in flight" refusal.
                    let actual = self.last_of_subject(&subject).await?;
                    return Err(LogError::Conflict {
                        subject: append.subject,
                        expected: append.expected_last,
                        actual,
                    });
                }
                PublishFailure::Busy if retry => backoff(attempt).await,
                PublishFailure::Busy => return Err(self.unavailable("an append", err)),
                PublishFailure::Invalid(message) => {
                    return Err(LogError::Invalid(format!(
                        "append to {} refused: {message}",
                        append.subject
                    )))
                }
                PublishFailure::Unavailable(message) => {
                    return Err(self.unavailable("an append", message))
                }
            }
        }
    }

    async fn append_batch(
        &self,
        appends: Vec<Append>,
        after: Position,
    ) -> Result<Vec<Position>, LogError> {
        validate_batch(&appends, after, self.config.max_message_size as usize)?;
        if appends.is_empty() {
            return Ok(Vec::new());
        }
        if !self.atomic {
            return Err(LogError::Invalid(format!(
                "nats-server {} takes no atomic batches (2.12 and later do)",
                self.client.server_info().version
            )));
        }
        // ADR-50: every message names the batch and its place in it, the last commits
        // it, and the server answers the commit with the batch's last sequence or why
        // it refused the whole batch. The first message expects the stream's last
        // sequence, which fixes every position; each subject's first message expects its
        // own last (its later ones in the batch cannot be checked by the server, and
        // need not be: the stream's last sequence held).
        let batch_id = uuid::Uuid::new_v4().simple().to_string();
        let inbox = self.client.new_inbox();
        let mut replies = self
            .client
            .subscribe(inbox.clone())
            .await
            .map_err(|err| self.unavailable("subscribing for a batch's answer", err))?;
        let count = appends.len();
        let mut first_of_subject = HashSet::new();
        for (i, append) in appends.iter().enumerate() {
            let mut headers = HeaderMap::new();
            headers.insert(NATS_BATCH_ID, batch_id.as_str());
            headers.insert(NATS_BATCH_SEQUENCE, (i + 1).to_string());
            headers.insert(NATS_MESSAGE_ID, append.message_id.as_str());
            if i == 0 {
                headers.insert(NATS_EXPECTED_LAST_SEQUENCE, after.to_string());
            }
            if first_of_subject.insert(append.subject.as_str()) {
                headers.insert(
                    NATS_EXPECTED_LAST_SUBJECT_SEQUENCE,
                    append.expected_last.to_string(),
                );
            }
            let subject = self.full_subject(&append.subject);
            let payload = append.payload.clone();
            let sent = if i + 1 == count {
                headers.insert(NATS_BATCH_COMMIT, NATS_BATCH_COMMIT_FINAL);
                self.client
                    .publish_with_reply_and_headers(subject, inbox.clone(), headers, payload)
                    .await
            } else if i == 0 {
                // The server answers a batch's first message when it has a reply subject:
                // an early refusal arrives there.
                self.client
                    .publish_with_reply_and_headers(subject, inbox.clone(), headers, payload)
                    .await
            } else {
                self.client
                    .publish_with_headers(subject, headers, payload)
                    .await
            };
            sent.map_err(|err| self.unavailable("sending a batch", err))?;
        }
        let answer = loop {
            let reply = tokio::time::timeout(REQUEST_TIMEOUT, replies.next())
                .await
                .map_err(|_| self.unavailable("a batch", "no answer in time"))?
                .ok_or_else(|| self.unavailable("a batch", "connection closed"))?;
            if reply.status.is_some_and(|s| s.as_u16() == 503) {
                return Err(self.unavailable("a batch", "no responders"));
            }
            // The first message's answer is empty unless it refuses the batch.
            if !reply.payload.is_empty() {
                break reply.payload;
            }
        };
        replies.unsubscribe().await.ok();
        match serde_json::from_slice::<BatchAnswer>(&answer) {
            Ok(BatchAnswer {
                error: None,
                seq: Some(last),
                ..
            }) if last == after + count as Position => Ok((after + 1..=last).collect()),
            Ok(BatchAnswer {
                error: Some(error), ..
            }) => Err(LogError::BatchRefused(format!(
                "{} (JetStream error {})",
                error.description.unwrap_or_default(),
                error.err_code.unwrap_or_default()
            ))),
            _ => Err(LogError::Storage(format!(
                "unexpected answer to an atomic batch of {count} after {after}: {}",
                String::from_utf8_lossy(&answer)
            ))),
        }
    }

    async fn read_subject(&self, subject: &str, after: Position) -> Result<Vec<Stored>, LogError> {
        validate_subject(subject)?;
        let from = match after.checked_add(1) {
            Some(from) => from,
            None => return Ok(Vec::new()),
        };
        let subject = self.full_subject(subject);
        // Most reads of a subject find nothing new (an aggregate caught up, a new id).
        // A batched get looking for the subject after `from` costs the server a scan of
        // the stream from there, which grows with the log (it saturated nats-server at
        // 1,000 commands/s over 50k messages); the subject's last position is one index
        // lookup, answered like the batched get (by any replica that allows direct gets).
        if self.direct_last_of_subject(&subject).await? < from {
            return Ok(Vec::new());
        }
        self.direct_batch(from, &subject, usize::MAX).await
    }

    async fn get(&self, position: Position) -> Result<Option<Stored>, LogError> {
        if position == 0 {
            return Ok(None);
        }
        let message = self
            .leader_get(|stream| stream.raw_message_builder().sequence(position))
            .await?;
        message
            .map(|message| {
                Ok(Stored {
                    position: message.sequence,
                    subject: self.strip(message.subject.as_str())?,
                    payload: message.payload,
                })
            })
            .transpose()
    }

    async fn read(&self, from: Position, max: usize) -> Result<Vec<Stored>, LogError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let from = from.max(1);
        let mut out = Vec::new();
        let cursor = match self.take_cursor(from) {
            // A replay going on: continue it.
            Some(cursor) => cursor,
            None => {
                // Mostly a reader is caught up and one small direct get answers. Only a
                // backlog bigger than that opens a consumer (see `Cursor`).
                let filter = format!("{}.>", self.config.subject_prefix);
                let (first, more) = self
                    .direct_batch_once(from, &filter, max.min(DIRECT_FIRST))
                    .await?;
                out = first;
                if !more || out.len() >= max {
                    return Ok(out);
                }
                let next = out.last().map_or(from, |s| s.position + 1);
                self.open_cursor(next).await?
            }
        };
        if let Some(cursor) = self.read_cursor(cursor, &mut out, max).await? {
            self.park_cursor(cursor);
        }
        Ok(out)
    }

    async fn last_position(&self) -> Result<Position, LogError> {
        let info = self
            .stream
            .get_info()
            .await
            .map_err(|err| self.unavailable("reading the stream's state", err))?;
        Ok(info.state.last_sequence)
    }

    async fn subjects(&self, prefix: &str) -> Result<Vec<String>, LogError> {
        validate_subject_prefix(prefix)?;
        let base = &self.config.subject_prefix;
        // NATS filters by whole tokens: `department.` is exactly `<base>.department.>`;
        // a partial token (`dep`, `ticket.01`) is filtered here after a wider server filter.
        let filter = match prefix.split_once('.') {
            Some((kind, "")) => format!("{base}.{kind}.>"),
            Some((kind, _)) => format!("{base}.{kind}.*"),
            None => format!("{base}.>"),
        };
        let found: Vec<(String, usize)> = self
            .stream
            .info_with_subjects(filter)
            .await
            .map_err(|err| self.unavailable("listing subjects", err))?
            .try_collect()
            .await
            .map_err(|err| self.unavailable("listing subjects", err))?;
        let mut out = Vec::with_capacity(found.len());
        for (subject, _count) in found {
            let subject = self.strip(&subject)?;
            if subject.starts_with(prefix) {
                out.push(subject);
            }
        }
        Ok(out)
    }

    async fn subscribe(&self, from: Position) -> Result<StoredStream, LogError> {
        let consumer = self
            .stream
            .create_consumer(pull::OrderedConfig {
                filter_subject: format!("{}.>", self.config.subject_prefix),
                deliver_policy: DeliverPolicy::ByStartSequence {
                    start_sequence: from.max(1),
                },
                ..Default::default()
            })
            .await
            .map_err(|err| self.unavailable("creating a consumer", err))?;
        let messages = consumer
            .messages()
            .await
            .map_err(|err| self.unavailable("starting a consumer", err))?;
        let prefix = self.config.subject_prefix.clone();
        let context = format!(
            "the live tail of stream {} at {}",
            self.config.stream,
            redact_url(&self.config.url)
        );
        let stream = messages
            .map(move |message| {
                let message = message.map_err(|err| {
                    LogError::Unavailable(format!("{context} failed: {err}; subscribe again"))
                })?;
                let position = message
                    .info()
                    .map_err(|err| {
                        LogError::Storage(format!("bad JetStream reply subject: {err}"))
                    })?
                    .stream_sequence;
                Ok(Stored {
                    position,
                    subject: strip_prefix(&prefix, message.subject.as_str())?,
                    payload: message.payload.clone(),
                })
            })
            // The contract: the stream ends after its first error, and yields each
            // position once, in order. An ordered consumer that reset itself before its
            // first message may start again from the stream's start: what comes before
            // the next position expected is skipped.
            .scan(
                (false, from.max(1)),
                |(failed, next), item: Result<Stored, LogError>| {
                    let out = match item {
                        _ if *failed => None,
                        Ok(stored) if stored.position < *next => Some(None),
                        Ok(stored) => {
                            *next = stored.position + 1;
                            Some(Some(Ok(stored)))
                        }
                        Err(err) => {
                            *failed = true;
                            Some(Some(Err(err)))
                        }
                    };
                    futures::future::ready(out)
                },
            )
            .filter_map(futures::future::ready);
        Ok(Box::pin(stream))
    }
}

async fn backoff(attempt: u32) {
    // 5, 10, 20, … ms, at most 100 ms: a cluster commit takes a few milliseconds.
    let ms = (5u64 << attempt.min(5)).min(100);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(version_at_least("2.15.1", 2, 11));
        assert!(version_at_least("2.11.0-RC.1", 2, 11));
        assert!(version_at_least("v3.0.0", 2, 11));
        assert!(!version_at_least("2.10.22", 2, 11));
        assert!(!version_at_least("", 2, 11));
    }

    #[test]
    fn prefixes_are_stripped() {
        assert_eq!(
            strip_prefix("helpdesk", "helpdesk.ticket.1").ok(),
            Some("ticket.1".into())
        );
        assert!(strip_prefix("helpdesk", "helpdeskx.ticket.1").is_err());
        assert!(strip_prefix("helpdesk", "other.ticket.1").is_err());
    }

    #[test]
    fn config_is_checked() {
        let bad = |f: fn(&mut JetStreamConfig)| {
            let mut config = JetStreamConfig::default();
            f(&mut config);
            config.validate().is_err()
        };
        assert!(JetStreamConfig::default().validate().is_ok());
        assert!(bad(|c| c.subject_prefix = "a.>".into()));
        assert!(bad(|c| c.subject_prefix = "".into()));
        assert!(bad(|c| c.stream = "A.B".into()));
        assert!(bad(|c| c.replicas = 0));
        assert!(bad(|c| c.max_message_size = 0));
    }

    #[test]
    fn printed_urls_carry_no_credentials() {
        assert_eq!(
            redact_url("nats://user:secret@10.0.0.1:4222"),
            "nats://***@10.0.0.1:4222"
        );
        assert_eq!(
            redact_url("tls://s3cr3t-token@nats.example:4222/x"),
            "tls://***@nats.example:4222/x"
        );
        assert_eq!(redact_url("user:secret@host:4222"), "***@host:4222");
        assert_eq!(
            redact_url("nats://a:p1@h1:4222,nats://h2:4222, nats://b:p@ss@h3"),
            "nats://***@h1:4222,nats://h2:4222, nats://***@h3"
        );
        assert_eq!(redact_url("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
        // A password may hold '/': everything up to the last '@' goes.
        assert_eq!(redact_url("nats://u:pa/ss@h:4222"), "nats://***@h:4222");
        let config = JetStreamConfig {
            url: "nats://user:secret@127.0.0.1:1".into(),
            ..JetStreamConfig::default()
        };
        assert!(!format!("{config:?}").contains("secret"));
    }
}
