//! Commands over gRPC: one client in sequence, many clients at once, a streaming
//! `Execute` import, and a steady load with the time until a query sees each command.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::{Buf, BufMut, Bytes};
use helpdesk_api::{pb, CommandServiceClient, TicketServiceClient};
use helpdesk_bench::measure::Latencies;
use helpdesk_workload::command_kind;
use prost::Message as _;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;
use tonic::{Request, Status};
use uuid::Uuid;

use crate::rate::at_rate;

/// Connects one channel (one HTTP/2 connection) to `url`.
pub async fn channel(url: &str) -> anyhow::Result<Channel> {
    Channel::from_shared(url.to_owned())?
        .connect()
        .await
        .with_context(|| format!("connecting to {url}"))
}

/// `message` with the bearer token.
pub fn authorized<T>(token: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    let bearer: MetadataValue<_> = format!("Bearer {token}").parse().expect("ASCII token");
    request.metadata_mut().insert("authorization", bearer);
    request
}

/// How a batch of commands went.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    pub accepted: u64,
    pub rejected: u64,
    pub seconds: f64,
    /// The highest log position answered.
    pub last_position: u64,
}

impl Outcome {
    pub fn rate(&self) -> f64 {
        (self.accepted + self.rejected) as f64 / self.seconds
    }
}

/// Sends each request as its own unary call (`CommandService/<Kind>`), the next only
/// after the answer: one client in sequence.
pub async fn sequential(
    url: &str,
    token: &str,
    requests: &[pb::ExecuteRequest],
) -> anyhow::Result<Outcome> {
    let mut grpc = tonic::client::Grpc::new(channel(url).await?);
    // Encoded before the clock starts: the client's work is not the server's.
    let calls: Vec<(PathAndQuery, Bytes)> = requests
        .iter()
        .map(|request| {
            let path = format!("/helpdesk.v1.CommandService/{}", command_kind(request));
            (
                PathAndQuery::try_from(path).expect("a valid path"),
                inner_message(request),
            )
        })
        .collect();
    let mut outcome = Outcome::default();
    let started = Instant::now();
    for (path, body) in calls {
        grpc.ready().await?;
        match grpc
            .unary::<Bytes, pb::CommandResponse, _>(authorized(token, body), path, RawCodec)
            .await
        {
            Ok(response) => {
                outcome.accepted += 1;
                outcome.last_position = outcome.last_position.max(response.get_ref().position);
            }
            Err(_) => outcome.rejected += 1,
        }
    }
    outcome.seconds = started.elapsed().as_secs_f64();
    Ok(outcome)
}

/// Sends the requests over one `CommandService/Execute` stream (a bulk import).
pub async fn import(
    url: &str,
    token: &str,
    requests: Vec<pb::ExecuteRequest>,
) -> anyhow::Result<Outcome> {
    let mut client = CommandServiceClient::new(channel(url).await?)
        .max_decoding_message_size(16 * 1024 * 1024)
        .max_encoding_message_size(16 * 1024 * 1024);
    let total = requests.len() as u64;
    let mut outcome = Outcome::default();
    let started = Instant::now();
    let mut responses = client
        .execute(authorized(token, tokio_stream::iter(requests)))
        .await?
        .into_inner();
    while let Some(response) = responses.message().await? {
        match response.result {
            Some(pb::execute_response::Result::Response(r)) => {
                outcome.accepted += 1;
                outcome.last_position = outcome.last_position.max(r.position);
            }
            _ => outcome.rejected += 1,
        }
    }
    outcome.seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        outcome.accepted + outcome.rejected == total,
        "the import stream ended after {} of {total} answers",
        outcome.accepted + outcome.rejected
    );
    Ok(outcome)
}

/// A new ticket, as a customer would open it (no time given: the server's clock).
pub fn new_ticket(i: usize, department: Option<&str>) -> pb::CreateTicketRequest {
    pb::CreateTicketRequest {
        command_id: Uuid::now_v7().to_string(),
        ticket_id: Uuid::now_v7().to_string(),
        channel: pb::Channel::Email as i32,
        priority: pb::Priority::Normal as i32,
        subject: format!("Benchmark ticket {i}"),
        department_id: department.unwrap_or_default().to_owned(),
        ..Default::default()
    }
}

/// `clients` clients, each on its own connection, each creating tickets one after
/// another until `n` tickets are created in all.
pub async fn concurrent(
    url: &str,
    token: &str,
    clients: usize,
    n: usize,
    departments: &[String],
) -> anyhow::Result<Outcome> {
    let mut connections = Vec::with_capacity(clients);
    for _ in 0..clients {
        connections.push(CommandServiceClient::new(channel(url).await?));
    }
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for mut client in connections {
        let (next, token, departments) = (next.clone(), token.to_owned(), departments.to_vec());
        tasks.spawn(async move {
            let mut outcome = Outcome::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= n {
                    return outcome;
                }
                let department = departments.get(i % departments.len().max(1));
                let request = authorized(&token, new_ticket(i, department.map(String::as_str)));
                match client.create_ticket(request).await {
                    Ok(response) => {
                        outcome.accepted += 1;
                        outcome.last_position =
                            outcome.last_position.max(response.get_ref().position);
                    }
                    Err(_) => outcome.rejected += 1,
                }
            }
        });
    }
    let mut total = Outcome::default();
    while let Some(outcome) = tasks.join_next().await {
        let outcome = outcome?;
        total.accepted += outcome.accepted;
        total.rejected += outcome.rejected;
        total.last_position = total.last_position.max(outcome.last_position);
    }
    total.seconds = started.elapsed().as_secs_f64();
    Ok(total)
}

/// Creates tickets at `rate` per second for `duration` (open loop, over `connections`
/// connections). Returns the commands' latencies and, for every `lag_every`-th command,
/// the time from its acknowledgement until a query on the projector process
/// (`TicketService/CountTickets` with `read.min_position` = the command's position)
/// answers: the projector's lag as a client sees it.
#[allow(clippy::too_many_arguments)]
pub async fn steady(
    commands_url: &str,
    queries_url: &str,
    token: &str,
    rate: f64,
    duration: Duration,
    connections: usize,
    lag_every: usize,
    departments: &[String],
) -> anyhow::Result<(Latencies, Latencies)> {
    let mut commands = Vec::new();
    let mut queries = Vec::new();
    for _ in 0..connections.max(1) {
        commands.push(CommandServiceClient::new(channel(commands_url).await?));
        queries.push(TicketServiceClient::new(channel(queries_url).await?));
    }
    let token = token.to_owned();
    let departments = departments.to_vec();
    let first_error = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
    let first = first_error.clone();
    let results = at_rate(rate, duration, move |i| {
        let first = first.clone();
        let mut command = commands[i % commands.len()].clone();
        let mut query = queries[i % queries.len()].clone();
        let department = departments.get(i % departments.len().max(1)).cloned();
        let token = token.clone();
        async move {
            let mut request = authorized(&token, new_ticket(i, department.as_deref()));
            // A phase never hangs: an answer later than this counts as a failure.
            request.set_timeout(Duration::from_secs(10));
            let sent = Instant::now();
            let position = match command.create_ticket(request).await {
                Ok(response) => response.into_inner().position,
                Err(status) => {
                    let mut first = first.lock().unwrap_or_else(|p| p.into_inner());
                    first.get_or_insert_with(|| format!("{status:?}"));
                    return (None, None);
                }
            };
            let acked = Instant::now();
            if i % lag_every != 0 {
                return (Some(acked - sent), None);
            }
            let wait = pb::CountTicketsRequest {
                read: Some(pb::ReadOptions {
                    min_position: position,
                    wait_ms: 10_000,
                }),
            };
            let mut wait = authorized(&token, wait);
            wait.set_timeout(Duration::from_secs(15));
            let visible = match query.count_tickets(wait).await {
                Ok(_) => Some(Ok(acked.elapsed())),
                Err(_) => Some(Err(())),
            };
            (Some(acked - sent), visible)
        }
    })
    .await;
    let mut latencies = Latencies::default();
    let mut lags = Latencies::default();
    for (latency, lag) in results {
        match latency {
            Some(latency) => latencies.record(latency),
            None => latencies.errors += 1,
        }
        match lag {
            Some(Ok(lag)) => lags.record(lag),
            Some(Err(())) => lags.errors += 1,
            None => {}
        }
    }
    if let Some(error) = first_error.lock().unwrap_or_else(|p| p.into_inner()).take() {
        eprintln!("  steady load: the first failed command: {error}");
    }
    Ok((latencies, lags))
}

/// The bytes of the one command message inside an `ExecuteRequest`: the request for
/// the unary method of the same name.
pub fn inner_message(request: &pb::ExecuteRequest) -> Bytes {
    let encoded = request.encode_to_vec();
    let mut buf = &encoded[..];
    let (_field, wire_type) =
        prost::encoding::decode_key(&mut buf).expect("an encoded request starts with a key");
    assert_eq!(
        wire_type,
        prost::encoding::WireType::LengthDelimited,
        "the command is a message"
    );
    let len = prost::encoding::decode_varint(&mut buf).expect("a length") as usize;
    Bytes::copy_from_slice(&buf[..len])
}

/// Sends bytes already encoded; decodes a `CommandResponse`.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = pb::CommandResponse;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }

    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = pb::CommandResponse;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Status> {
        let bytes = src.copy_to_bytes(src.remaining());
        pb::CommandResponse::decode(bytes)
            .map(Some)
            .map_err(|err| Status::internal(err.to_string()))
    }
}
