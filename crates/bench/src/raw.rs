//! The baselines: raw JetStream publish and consume with async-nats, nothing of ours in
//! between, on the same nats-server as the figures they stand beside.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use async_nats::jetstream::{self, consumer, stream};
use bytes::Bytes;
use futures::StreamExt;
use helpdesk_bench::measure::Latencies;

use crate::rate::at_rate;

/// A plain async-nats connection and JetStream context.
pub struct Raw {
    pub js: jetstream::Context,
}

impl Raw {
    pub async fn connect(url: &str) -> anyhow::Result<Raw> {
        let client = async_nats::connect(url)
            .await
            .with_context(|| format!("connecting to {url}"))?;
        let js = jetstream::new(client);
        Ok(Raw { js })
    }

    /// A fresh, empty stream `name` on `<prefix>.>` (file storage, one replica: like the
    /// event log's).
    pub async fn fresh_stream(&self, name: &str, prefix: &str) -> anyhow::Result<stream::Stream> {
        let _ = self.js.delete_stream(name).await;
        self.js
            .create_stream(stream::Config {
                name: name.to_owned(),
                subjects: vec![format!("{prefix}.>")],
                storage: stream::StorageType::File,
                max_message_size: 2 * 1024 * 1024,
                ..Default::default()
            })
            .await
            .with_context(|| format!("creating stream {name}"))
    }

    /// Publishes `n` messages of `size` bytes one at a time, each acknowledged before the
    /// next: messages per second.
    pub async fn publish_sync(&self, prefix: &str, n: usize, size: usize) -> anyhow::Result<f64> {
        let payload = Bytes::from(vec![0x5a; size]);
        let started = Instant::now();
        for i in 0..n {
            self.js
                .publish(subject(prefix, i), payload.clone())
                .await?
                .await?;
        }
        Ok(n as f64 / started.elapsed().as_secs_f64())
    }

    /// Publishes `n` messages of `size` bytes without waiting for each acknowledgement
    /// (async-nats keeps up to 5,000 in flight), then waits for all: messages per second.
    pub async fn publish_async(&self, prefix: &str, n: usize, size: usize) -> anyhow::Result<f64> {
        let payload = Bytes::from(vec![0x5a; size]);
        let started = Instant::now();
        self.publish_all((0..n).map(|i| (subject(prefix, i), payload.clone())))
            .await?;
        Ok(n as f64 / started.elapsed().as_secs_f64())
    }

    /// Publishes the messages, pipelined, and waits for every acknowledgement.
    pub async fn publish_all(
        &self,
        messages: impl Iterator<Item = (String, Bytes)>,
    ) -> anyhow::Result<u64> {
        let mut pending = std::collections::VecDeque::with_capacity(4096);
        let mut count = 0u64;
        for (subject, payload) in messages {
            pending.push_back(self.js.publish(subject, payload).await?);
            if pending.len() >= 4096 {
                pending.pop_front().expect("not empty").await?;
            }
            count += 1;
        }
        for ack in pending {
            ack.await?;
        }
        Ok(count)
    }

    /// Reads the whole stream with an ordered consumer (what the event log's replay
    /// uses): messages per second.
    pub async fn consume_ordered(&self, stream: &str, expected: u64) -> anyhow::Result<f64> {
        let stream = self.js.get_stream(stream).await?;
        let started = Instant::now();
        let mut messages = stream
            .create_consumer(consumer::pull::OrderedConfig {
                deliver_policy: consumer::DeliverPolicy::All,
                ..Default::default()
            })
            .await?
            .messages()
            .await?;
        let (mut count, mut bytes) = (0u64, 0usize);
        while count < expected {
            let message = messages.next().await.context("the consumer ended")??;
            bytes += message.payload.len();
            count += 1;
        }
        std::hint::black_box(bytes);
        Ok(count as f64 / started.elapsed().as_secs_f64())
    }

    /// Reads the whole stream with a plain pull consumer without acknowledgements:
    /// messages per second.
    pub async fn consume_pull(&self, stream: &str, expected: u64) -> anyhow::Result<f64> {
        let stream = self.js.get_stream(stream).await?;
        let started = Instant::now();
        let consumer = stream
            .create_consumer(consumer::pull::Config {
                deliver_policy: consumer::DeliverPolicy::All,
                ack_policy: consumer::AckPolicy::None,
                ..Default::default()
            })
            .await?;
        let mut messages = consumer
            .stream()
            .max_messages_per_batch(1000)
            .messages()
            .await?;
        let (mut count, mut bytes) = (0u64, 0usize);
        while count < expected {
            let message = messages.next().await.context("the consumer ended")??;
            bytes += message.payload.len();
            count += 1;
        }
        std::hint::black_box(bytes);
        Ok(count as f64 / started.elapsed().as_secs_f64())
    }

    /// Publishes `size`-byte messages at `rate` per second for `duration`, each awaiting
    /// its acknowledgement, while an ordered consumer reads them live. Returns the
    /// acknowledgement latencies and the delays from acknowledgement to delivery.
    pub async fn publish_at_rate(
        &self,
        stream: &str,
        prefix: &str,
        rate: f64,
        duration: Duration,
        size: usize,
    ) -> anyhow::Result<(Latencies, Latencies)> {
        let stream = self.js.get_stream(stream).await?;
        let mut messages = stream
            .create_consumer(consumer::pull::OrderedConfig {
                deliver_policy: consumer::DeliverPolicy::New,
                ..Default::default()
            })
            .await?
            .messages()
            .await?;
        let delivered: Arc<Mutex<HashMap<u64, Instant>>> = Arc::default();
        let reader = {
            let delivered = delivered.clone();
            tokio::spawn(async move {
                while let Some(Ok(message)) = messages.next().await {
                    let at = Instant::now();
                    if let Ok(info) = message.info() {
                        delivered
                            .lock()
                            .expect("lock")
                            .insert(info.stream_sequence, at);
                    }
                }
            })
        };
        let payload = Bytes::from(vec![0x5a; size]);
        let js = self.js.clone();
        let prefix = prefix.to_owned();
        let results = at_rate(rate, duration, move |i| {
            let (js, payload, subject) = (js.clone(), payload.clone(), subject(&prefix, i));
            async move {
                let sent = Instant::now();
                let ack = js.publish(subject, payload).await.ok()?.await.ok()?;
                let acked = Instant::now();
                Some((ack.sequence, sent, acked))
            }
        })
        .await;
        // Let the reader see the last messages.
        tokio::time::sleep(Duration::from_millis(200)).await;
        reader.abort();
        let delivered = delivered.lock().expect("lock");
        let mut acks = Latencies::default();
        let mut lags = Latencies::default();
        for result in results {
            match result {
                Some((sequence, sent, acked)) => {
                    acks.record(acked - sent);
                    match delivered.get(&sequence) {
                        Some(at) => lags.record(at.saturating_duration_since(acked)),
                        None => lags.errors += 1,
                    }
                }
                None => acks.errors += 1,
            }
        }
        Ok((acks, lags))
    }
}

fn subject(prefix: &str, i: usize) -> String {
    format!("{prefix}.bench.{}", i % 10_000)
}
