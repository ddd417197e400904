//! A bulk import as a real gRPC client sends it: one `CommandService/Execute` stream
//! written as fast as the server lets it, one small HTTP/2 DATA frame per command, and
//! no answer read until every command is written (what Python's grpcio does with a
//! request generator). The server must slow the writer down (flow control), never cut
//! the connection (h2 answers a flood of small DATA frames it has to buffer with GOAWAY
//! `ENHANCE_YOUR_CALM`, "too_many_data_frames").
//!
//! The client is a raw HTTP/2 client (`h2`), with gRPC's framing done by hand, so that no
//! client library coalesces frames or paces the writes.
//!
//! Needs the binary (`cargo build -p helpdesk-server`).

use std::time::{Duration, Instant};

use bytes::{Buf as _, BufMut as _, Bytes, BytesMut};
use helpdesk_api::pb;
use helpdesk_tests::Helpdesk;
use prost::Message as _;

/// Commands in the stream.
const COMMANDS: usize = 100_000;
/// How long the whole stream may take (debug build, two cores).
const DEADLINE: Duration = Duration::from_secs(150);

/// One command as gRPC frames it: a 5-byte prefix (not compressed, length) and the
/// message.
fn grpc_frame(message: &impl prost::Message) -> Bytes {
    let len = message.encoded_len();
    let mut buf = BytesMut::with_capacity(5 + len);
    buf.put_u8(0);
    buf.put_u32(len as u32);
    message.encode(&mut buf).expect("room for the message");
    buf.freeze()
}

fn create_ticket(i: usize) -> pb::ExecuteRequest {
    pb::ExecuteRequest {
        command: Some(pb::execute_request::Command::CreateTicket(
            pb::CreateTicketRequest {
                channel: pb::Channel::Email as i32,
                priority: pb::Priority::Normal as i32,
                subject: format!("bulk {i}"),
                ..Default::default()
            },
        )),
    }
}

/// Writes `data` on `stream` as the flow control windows allow: waits for capacity, and
/// sends what fits, in DATA frames of at most `frame` bytes.
async fn write(
    stream: &mut h2::SendStream<Bytes>,
    mut data: Bytes,
    frame: usize,
) -> anyhow::Result<()> {
    while !data.is_empty() {
        stream.reserve_capacity(data.len());
        let mut capacity = stream.capacity();
        while capacity == 0 {
            match std::future::poll_fn(|cx| stream.poll_capacity(cx)).await {
                Some(granted) => capacity = granted?,
                None => anyhow::bail!("the stream closed while the client was writing"),
            }
        }
        let chunk = data.split_to(capacity.min(data.len()).min(frame));
        stream.send_data(chunk, false)?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_writes_everything_before_reading_is_served_to_the_end() {
    let helpdesk = without_rate_limit().await;
    // One DATA frame per command, as grpcio sends them.
    stream_without_reading(&helpdesk, COMMANDS, usize::MAX).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_of_one_byte_are_slowed_down_too() {
    // The worst case of h2's budget for small frames: a stream window full of 1-byte DATA
    // frames, 255 bytes of overhead each.
    let helpdesk = without_rate_limit().await;
    stream_without_reading(&helpdesk, 5_000, 1).await;
}

/// A server whose only brake is flow control: live commands of a stream count on the
/// caller's rate limit (500 a second by default), which would pace this test instead.
async fn without_rate_limit() -> Helpdesk {
    Helpdesk::builder()
        .arg("--rate-limit")
        .arg("0")
        .start()
        .await
        .expect("helpdesk starts")
}

/// Writes `commands` CreateTickets on one Execute stream in DATA frames of at most `frame`
/// bytes, reads no answer until all are written, then checks every answer.
async fn stream_without_reading(helpdesk: &Helpdesk, commands: usize, frame: usize) {
    let tcp = tokio::net::TcpStream::connect(helpdesk.address())
        .await
        .expect("connects");
    tcp.set_nodelay(true).expect("nodelay");
    // The client takes every answer into its own buffers without the test reading them
    // (as grpcio's transport does): its receive windows are as large as HTTP/2 allows.
    let (client, connection) = h2::client::Builder::new()
        .initial_window_size(i32::MAX as u32)
        .initial_connection_window_size(i32::MAX as u32)
        .handshake::<_, Bytes>(tcp)
        .await
        .expect("HTTP/2 handshake");
    let connection = tokio::spawn(connection);
    let mut client = client.ready().await.expect("client ready");

    let request = http::Request::builder()
        .method("POST")
        .uri(format!(
            "http://{}/helpdesk.v1.CommandService/Execute",
            helpdesk.address()
        ))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("authorization", format!("Bearer {}", helpdesk.token()))
        .body(())
        .expect("a request");
    let (response, mut stream) = client.send_request(request, false).expect("stream opens");

    let started = Instant::now();
    let sending = async {
        for i in 0..commands {
            write(&mut stream, grpc_frame(&create_ticket(i)), frame)
                .await
                .map_err(|err| anyhow::anyhow!("writing command {i}: {err:#}"))?;
        }
        stream.send_data(Bytes::new(), true)?;
        anyhow::Ok(())
    };
    let sent = tokio::time::timeout(DEADLINE, sending)
        .await
        .expect("all commands written in time");
    if let Err(err) = sent {
        // The connection's end says why (e.g. GOAWAY ENHANCE_YOUR_CALM).
        let why = tokio::time::timeout(Duration::from_secs(5), connection).await;
        panic!("the server cut the stream off: {err:#}; the connection ended with {why:?}");
    }
    let written = started.elapsed();

    let reading = async {
        let response = response.await?;
        assert_eq!(response.status(), 200, "{response:?}");
        let mut body = response.into_body();
        let mut buffer = BytesMut::new();
        let mut answered = 0usize;
        while let Some(chunk) = body.data().await {
            let chunk = chunk?;
            body.flow_control().release_capacity(chunk.len())?;
            buffer.extend_from_slice(&chunk);
            while buffer.len() >= 5 {
                let len = u32::from_be_bytes(buffer[1..5].try_into().expect("4 bytes")) as usize;
                if buffer.len() < 5 + len {
                    break;
                }
                buffer.advance(5);
                let answer = pb::ExecuteResponse::decode(buffer.split_to(len))?;
                assert_eq!(answer.index, answered as u64, "answers come in order");
                match answer.result {
                    Some(pb::execute_response::Result::Response(_)) => {}
                    other => panic!("command {answered} was not accepted: {other:?}"),
                }
                answered += 1;
            }
        }
        let trailers = body.trailers().await?.unwrap_or_default();
        anyhow::Ok((answered, trailers))
    };
    let (answered, trailers) = tokio::time::timeout(DEADLINE, reading)
        .await
        .expect("all answers read in time")
        .unwrap_or_else(|err| panic!("the server cut the stream off: {err:#}"));
    eprintln!(
        "{commands} commands written in {written:?}, all answered after {:?}",
        started.elapsed()
    );
    assert_eq!(
        trailers.get("grpc-status").map(|v| v.as_bytes()),
        Some(&b"0"[..]),
        "{trailers:?}"
    );
    assert_eq!(answered, commands);
    drop(client);
    connection.abort();
}
