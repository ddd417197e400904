//! JSON over HTTP on the gRPC port, in the Connect protocol
//! (<https://connectrpc.com/docs/protocol>), for `curl`, scripts and browsers:
//!
//! - unary: `POST /helpdesk.v1.LevelService/GetLeaderboard` with
//!   `Content-Type: application/json`, the request message in proto3 JSON as the body,
//!   the answer in proto3 JSON, errors as Connect's JSON error with its HTTP status;
//! - streams: `Content-Type: application/connect+json`, each message in an envelope
//!   (1 flag byte, a 4-byte big-endian length, the JSON); the answer's last envelope
//!   (flag `0x02`) is `{}` or `{"error": {...}}`.
//!
//! Nothing here knows an RPC: the method, its request and answer types come from the API's
//! descriptors ([`helpdesk_api::FILE_DESCRIPTOR_SET`]), and each call is carried out as the
//! gRPC call it stands for — the JSON turned into protobuf in a gRPC frame, the caller's
//! headers (`authorization`) and connection passed on — by the same service stack gRPC
//! requests go through. Tokens, permissions, rate and concurrency limits, message size
//! limits and errors are therefore exactly gRPC's (docs/JSON-API.md).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine as _;
use bytes::{Buf as _, BufMut as _, Bytes, BytesMut};
use http_body_util::{BodyExt as _, Full, Limited, StreamBody};
use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, MethodDescriptor};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt as _;
use tonic::body::Body;
use tonic::codegen::http::{self, header, HeaderMap, HeaderValue, Request, Response, StatusCode};
use tower::ServiceExt as _;

use crate::ops::grpc::MAX_MESSAGE_BYTES;

/// The largest JSON request body, in bytes (for a stream, all its envelopes together): the
/// gRPC message limit. The protobuf a JSON body becomes is smaller than the JSON; the
/// method's own limit (1 MiB for commands) then applies to it as to any gRPC request.
pub const MAX_JSON_BODY_BYTES: usize = MAX_MESSAGE_BYTES;

/// The media type of unary calls.
const UNARY_JSON: &str = "application/json";
/// The media type of streaming calls (enveloped JSON).
const STREAM_JSON: &str = "application/connect+json";
/// An envelope's flag for the end of a response stream.
const END_STREAM: u8 = 0x02;

/// Every service and message a call or an error detail may name: the API, health, and
/// `google.rpc` (the `BadRequest` details of `INVALID_ARGUMENT`).
static DESCRIPTORS: LazyLock<DescriptorPool> = LazyLock::new(|| {
    let mut pool = DescriptorPool::new();
    for set in [
        helpdesk_api::FILE_DESCRIPTOR_SET,
        tonic_health::pb::FILE_DESCRIPTOR_SET,
        tonic_types::pb::FILE_DESCRIPTOR_SET,
    ] {
        // Files already added (google/protobuf/*.proto) are skipped.
        pool.decode_file_descriptor_set(set)
            .expect("the descriptors built into this binary decode");
    }
    pool
});

/// In front of a process's gRPC stack (every server of [`crate::ops::grpc`] has it right
/// inside its concurrency limits, before statuses and authentication): gRPC requests (`Content-Type: application/grpc…`) go through
/// untouched; `POST /package.Service/Method` is a Connect call, carried out through the
/// stack; anything else goes to `http` (plain HTTP routes on the same port, such as the
/// dashboard's pages).
#[derive(Clone)]
pub struct ConnectLayer {
    http: axum::Router,
}

impl ConnectLayer {
    /// Plain HTTP requests (neither gRPC nor Connect calls) go to `http`; its own fallback
    /// (axum's: 404) answers what it does not route.
    pub fn new(http: axum::Router) -> Self {
        ConnectLayer { http }
    }
}

impl<S> tower::Layer<S> for ConnectLayer {
    type Service = ConnectService<S>;

    fn layer(&self, grpc: S) -> Self::Service {
        ConnectService {
            grpc,
            http: self.http.clone(),
        }
    }
}

/// [`ConnectLayer`] in front of the gRPC stack `grpc`.
#[derive(Clone)]
pub struct ConnectService<S> {
    grpc: S,
    http: axum::Router,
}

impl<S> tower::Service<Request<Body>> for ConnectService<S>
where
    S: tower::Service<Request<Body>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Each request waits for the stack's readiness (its concurrency limits) itself:
        // `oneshot` below, as hyper's own adapter does.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        if is_grpc(request.headers()) {
            return Box::pin(self.grpc.clone().oneshot(request));
        }
        if request.method() == http::Method::POST && procedure(request.uri().path()).is_some() {
            let grpc = self.grpc.clone();
            return Box::pin(async move { Ok(call(grpc, request).await) });
        }
        let http = self.http.clone();
        Box::pin(async move {
            let response = http.oneshot(request).await?;
            Ok(response.map(Body::new))
        })
    }
}

/// Whether `headers` are a gRPC request's.
fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/grpc"))
}

/// The service and method of a path shaped like a call, `/package.Service/Method`.
fn procedure(path: &str) -> Option<(&str, &str)> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    let looks_like = service.contains('.') && !method.is_empty() && !method.contains('/');
    looks_like.then_some((service, method))
}

/// The method `path` names, if the API (or health) has it.
fn method_of(path: &str) -> Option<MethodDescriptor> {
    let (service, method) = procedure(path)?;
    DESCRIPTORS
        .get_service_by_name(service)?
        .methods()
        .find(|candidate| candidate.name() == method)
}

/// Carries out the Connect call `request` through `grpc`, and answers it in Connect.
async fn call<S>(grpc: S, request: Request<Body>) -> Response<Body>
where
    S: tower::Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
{
    let Some(method) = method_of(request.uri().path()) else {
        // Connect's answer for a procedure the server does not know.
        let error = ConnectError::new(
            tonic::Code::Unimplemented,
            format!(
                "{} is not a method of this API: the path is /<package.Service>/<Method>, \
                 e.g. /helpdesk.v1.LevelService/GetLeaderboard (docs/JSON-API.md)",
                request.uri().path()
            ),
        );
        return error.unary_response_with(StatusCode::NOT_FOUND);
    };
    let streaming = method.is_client_streaming() || method.is_server_streaming();
    let expected = if streaming { STREAM_JSON } else { UNARY_JSON };
    if media_type(request.headers()).as_deref() != Some(expected) {
        return ConnectError::unsupported_media_type(&method, expected);
    }
    let deadline = timeout(request.headers());
    let (parts, body) = request.into_parts();
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(error) => return error.respond(streaming),
    };
    let frames = if streaming {
        envelopes_to_frames(&body, &method.input())
    } else {
        json_to_message(&body, &method.input()).map(|message| grpc_frame(&message))
    };
    let frames = match frames {
        Ok(frames) => frames,
        Err(error) => return error.respond(streaming),
    };
    let request = grpc_request(parts, frames);
    if streaming {
        let response = grpc
            .oneshot(request)
            .await
            .unwrap_or_else(|never| match never {});
        return stream_response(response, method);
    }
    let answer = async {
        let response = grpc
            .oneshot(request)
            .await
            .unwrap_or_else(|never| match never {});
        unary_answer(response, &method.output()).await
    };
    let answer = match deadline {
        None => answer.await,
        Some(deadline) => tokio::time::timeout(deadline, answer)
            .await
            .unwrap_or_else(|_| {
                Err(ConnectError::new(
                    tonic::Code::DeadlineExceeded,
                    format!(
                        "no answer within the {} ms of Connect-Timeout-Ms",
                        deadline.as_millis()
                    ),
                ))
            }),
    };
    match answer {
        Ok(json) => Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, UNARY_JSON)
            .body(Body::new(Full::new(json)))
            .expect("a valid response"),
        Err(error) => error.not_served(&method).respond(false),
    }
}

/// The media type of a request (`Content-Type` without parameters such as `charset`),
/// in lower case.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next()?.trim().to_ascii_lowercase())
}

/// The caller's deadline, `Connect-Timeout-Ms`.
fn timeout(headers: &HeaderMap) -> Option<Duration> {
    let millis = headers
        .get("connect-timeout-ms")?
        .to_str()
        .ok()?
        .parse()
        .ok()?;
    Some(Duration::from_millis(millis))
}

/// The request body, at most [`MAX_JSON_BODY_BYTES`].
async fn read_body(body: Body) -> Result<Bytes, ConnectError> {
    match Limited::new(body, MAX_JSON_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => Err(ConnectError::new(
            tonic::Code::ResourceExhausted,
            format!(
                "the request body is larger than {MAX_JSON_BODY_BYTES} bytes, the most a call \
                 takes: send less in one call"
            ),
        )),
        Err(err) => Err(ConnectError::new(
            tonic::Code::Cancelled,
            format!("the request body could not be read: {err}"),
        )),
    }
}

/// `json`, a message of type `input` in proto3 JSON (field names in lowerCamelCase or as
/// in the proto; an empty body is the empty message), encoded in protobuf. JSON that is
/// not such a message is `INVALID_ARGUMENT` naming the field at fault as the body spells
/// it (`read.minPosition`), like the server's own checks.
fn json_to_message(json: &[u8], input: &MessageDescriptor) -> Result<Vec<u8>, ConnectError> {
    let json = if json.trim_ascii().is_empty() {
        b"{}".as_slice()
    } else {
        json
    };
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let mut track = serde_path_to_error::Track::new();
    let message = DynamicMessage::deserialize(
        input.clone(),
        serde_path_to_error::Deserializer::new(&mut deserializer, &mut track),
    )
    .and_then(|message| deserializer.end().map(|()| message));
    match message {
        Ok(message) => Ok(message.encode_to_vec()),
        Err(err) => {
            let field = track.path().to_string();
            let expected = format!(
                "the body must be a {} in JSON: docs/JSON-API.md",
                input.full_name()
            );
            if field.is_empty() || field == "." || field == "?" {
                return Err(ConnectError::new(
                    tonic::Code::InvalidArgument,
                    format!("{err} ({expected})"),
                ));
            }
            Err(ConnectError::bad_field(&field, err.to_string(), &expected))
        }
    }
}

/// `message` (protobuf of type `output`) in proto3 JSON: field names in lowerCamelCase,
/// every field, also those at their default (0, "", false, []), so that a reader sees
/// each field the API documents.
fn message_to_json(message: &[u8], output: &MessageDescriptor) -> Result<Bytes, ConnectError> {
    let message = DynamicMessage::decode(output.clone(), message).map_err(|err| {
        ConnectError::new(
            tonic::Code::Internal,
            format!("the answer is not a {}: {err}", output.full_name()),
        )
    })?;
    let mut serializer = serde_json::Serializer::new(Vec::new());
    let options = prost_reflect::SerializeOptions::new().skip_default_fields(false);
    message
        .serialize_with_options(&mut serializer, &options)
        .map_err(|err| {
            ConnectError::new(
                tonic::Code::Internal,
                format!("the answer cannot be written in JSON: {err}"),
            )
        })?;
    Ok(serializer.into_inner().into())
}

/// A gRPC frame: not compressed, the length (big-endian), the message.
fn grpc_frame(message: &[u8]) -> Bytes {
    envelope(0, message)
}

/// A Connect envelope (the same shape as a gRPC frame): a flag byte, the length
/// (big-endian), the message.
fn envelope(flags: u8, message: &[u8]) -> Bytes {
    let mut framed = BytesMut::with_capacity(5 + message.len());
    framed.put_u8(flags);
    framed.put_u32(message.len() as u32);
    framed.put_slice(message);
    framed.freeze()
}

/// The first whole frame or envelope at the start of `buffer`, taken from it: its flags
/// and message. `None` while it is incomplete.
fn take_frame(buffer: &mut BytesMut) -> Option<(u8, Bytes)> {
    if buffer.len() < 5 {
        return None;
    }
    let length = u32::from_be_bytes(buffer[1..5].try_into().expect("4 bytes")) as usize;
    if buffer.len() < 5 + length {
        return None;
    }
    let flags = buffer.get_u8();
    buffer.advance(4);
    Some((flags, buffer.split_to(length).freeze()))
}

/// The enveloped JSON messages of a streaming request, as gRPC frames of `input`.
fn envelopes_to_frames(body: &Bytes, input: &MessageDescriptor) -> Result<Bytes, ConnectError> {
    let mut buffer = BytesMut::from(body.as_ref());
    let mut frames = BytesMut::new();
    while !buffer.is_empty() {
        let Some((flags, json)) = take_frame(&mut buffer) else {
            return Err(ConnectError::new(
                tonic::Code::InvalidArgument,
                "the body ends inside an envelope: each message is 1 flag byte (0), its length \
                 in 4 bytes (big-endian), then that many bytes of JSON",
            ));
        };
        if flags != 0 {
            return Err(ConnectError::new(
                tonic::Code::InvalidArgument,
                format!(
                    "an envelope has the flags {flags:#04x}: requests are sent uncompressed, \
                     with the flags 0"
                ),
            ));
        }
        frames.put(grpc_frame(&json_to_message(&json, input)?));
    }
    Ok(frames.freeze())
}

/// The gRPC request a Connect call stands for: its path, its headers but for what
/// describes the Connect body (`authorization` and the rest pass on), its connection (the
/// client's address, TLS), and `frames` as the body.
fn grpc_request(parts: http::request::Parts, frames: Bytes) -> Request<Body> {
    let mut request = Request::new(Body::new(Full::new(frames)));
    *request.method_mut() = http::Method::POST;
    *request.uri_mut() = parts.uri;
    *request.version_mut() = http::Version::HTTP_2;
    *request.extensions_mut() = parts.extensions;
    let headers = request.headers_mut();
    for (name, value) in &parts.headers {
        let connect_only = name == header::CONTENT_TYPE
            || name == header::CONTENT_LENGTH
            || name == header::CONTENT_ENCODING
            || name == header::ACCEPT_ENCODING
            || name == header::CONNECTION
            || name == header::TRANSFER_ENCODING
            || name == header::HOST
            || name.as_str().starts_with("connect-");
        if !connect_only {
            headers.append(name, value.clone());
        }
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    headers.insert(header::TE, HeaderValue::from_static("trailers"));
    request
}

/// How a gRPC answer ended, by the status in `headers` (the answer's headers or its
/// trailers): `None` when they carry none.
fn grpc_outcome(headers: &HeaderMap) -> Option<Result<(), ConnectError>> {
    let status = tonic::Status::from_header_map(headers)?;
    Some(ConnectError::unless_ok(&status).map_or(Ok(()), Err))
}

/// The JSON answer of a unary gRPC answer, or its error.
async fn unary_answer(
    response: Response<Body>,
    output: &MessageDescriptor,
) -> Result<Bytes, ConnectError> {
    let (parts, body) = response.into_parts();
    // Refused before any message ("trailers only"): the status is in the headers.
    if let Some(Err(error)) = grpc_outcome(&parts.headers) {
        return Err(error);
    }
    let collected = body.collect().await.map_err(|err| {
        ConnectError::new(
            tonic::Code::Unavailable,
            format!("the answer broke off: {err}"),
        )
    })?;
    if let Some(Err(error)) = collected.trailers().and_then(grpc_outcome) {
        return Err(error);
    }
    let mut data = BytesMut::from(collected.to_bytes().as_ref());
    let Some((_, message)) = take_frame(&mut data) else {
        return Err(ConnectError::new(
            tonic::Code::Internal,
            "the service answered no message",
        ));
    };
    message_to_json(&message, output)
}

/// How many envelopes of a stream may wait for a slow reader before the stream waits.
const STREAM_BUFFER: usize = 16;

/// A streaming gRPC answer as a Connect stream: each message in an envelope as it comes,
/// then the end of the stream with the gRPC status. A caller who goes away drops the gRPC
/// stream with it (and the stream's place among the caller's open streams).
fn stream_response(response: Response<Body>, method: MethodDescriptor) -> Response<Body> {
    let (sender, receiver) = tokio::sync::mpsc::channel::<Bytes>(STREAM_BUFFER);
    tokio::spawn(async move {
        let end = match relay(response, &method.output(), &sender).await {
            Ok(()) => envelope(END_STREAM, b"{}"),
            Err(error) => error.not_served(&method).end_of_stream(),
        };
        // Fails only when the caller has gone, which leaves no one to tell.
        let _ = sender.send(end).await;
    });
    let body = StreamBody::new(
        ReceiverStream::new(receiver)
            .map(|bytes| Ok::<_, Infallible>(http_body::Frame::data(bytes))),
    );
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, STREAM_JSON)
        .body(Body::new(body))
        .expect("a valid response")
}

/// Sends each message of the gRPC stream `response` (of type `output`) to `sender` in an
/// envelope, until the stream ends (its status: `Ok` or the error) or the caller goes
/// away (`Ok`, with no one left to tell).
async fn relay(
    response: Response<Body>,
    output: &MessageDescriptor,
    sender: &tokio::sync::mpsc::Sender<Bytes>,
) -> Result<(), ConnectError> {
    let (parts, mut body) = response.into_parts();
    if let Some(outcome) = grpc_outcome(&parts.headers) {
        // Refused before any message ("trailers only"): the status is in the headers.
        return outcome;
    }
    let mut buffer = BytesMut::new();
    loop {
        let frame = tokio::select! {
            frame = body.frame() => frame,
            // The caller went away: the gRPC stream ends with this task, not at its next
            // message (a quiet stream may have none for hours).
            () = sender.closed() => return Ok(()),
        };
        let frame = match frame {
            Some(frame) => frame.map_err(|err| {
                ConnectError::new(
                    tonic::Code::Unavailable,
                    format!("the stream broke off: {err}"),
                )
            })?,
            None => break,
        };
        let data = match frame.into_data() {
            Ok(data) => data,
            Err(frame) => match frame.trailers_ref().and_then(grpc_outcome) {
                Some(outcome) => return outcome,
                None => break,
            },
        };
        buffer.extend_from_slice(&data);
        while let Some((_, message)) = take_frame(&mut buffer) {
            let json = message_to_json(&message, output)?;
            if sender.send(envelope(0, &json)).await.is_err() {
                return Ok(());
            }
        }
    }
    Err(ConnectError::new(
        tonic::Code::Internal,
        "the stream ended without a status",
    ))
}

/// A Connect error: its code, message and details (`google.rpc.BadRequest` naming the
/// fields at fault, for one).
#[derive(Debug)]
struct ConnectError {
    code: tonic::Code,
    message: String,
    details: Vec<serde_json::Value>,
}

impl ConnectError {
    fn new(code: tonic::Code, message: impl Into<String>) -> Self {
        ConnectError {
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// `INVALID_ARGUMENT` for `field`, with the `google.rpc.BadRequest` detail naming it as
    /// the server's own checks do: "field `read.minPosition`: what is wrong (a hint)".
    fn bad_field(field: &str, description: String, hint: &str) -> Self {
        let message = format!("field `{field}`: {description} ({hint})");
        let bad_request = tonic_types::pb::BadRequest {
            field_violations: vec![tonic_types::pb::bad_request::FieldViolation {
                field: field.to_owned(),
                description,
                ..Default::default()
            }],
        };
        let any = prost_types::Any {
            type_url: "type.googleapis.com/google.rpc.BadRequest".to_owned(),
            value: bad_request.encode_to_vec(),
        };
        ConnectError {
            code: tonic::Code::InvalidArgument,
            message,
            details: vec![detail_json(&any)],
        }
    }

    /// An `UNIMPLEMENTED` without a word (tonic's, for a service this process does not
    /// serve) says which and why.
    fn not_served(mut self, method: &MethodDescriptor) -> Self {
        if self.code == tonic::Code::Unimplemented && self.message.is_empty() {
            self.message = format!(
                "this server does not serve {}: a process serves only the services of its \
                 part (a gateway, those it has a --route for); call the one that does",
                method.parent_service().full_name()
            );
        }
        self
    }

    /// The error of a gRPC status that is not `OK`.
    fn unless_ok(status: &tonic::Status) -> Option<Self> {
        (status.code() != tonic::Code::Ok).then(|| Self::from_status(status))
    }

    /// The error a gRPC status says, with its details (`grpc-status-details-bin`) each as
    /// Connect has them: the type, the protobuf in base64, and the detail in JSON as
    /// `debug`.
    fn from_status(status: &tonic::Status) -> Self {
        let details = tonic_types::pb::Status::decode(status.details())
            .map(|rpc_status| rpc_status.details.iter().map(detail_json).collect())
            .unwrap_or_default();
        ConnectError {
            code: status.code(),
            message: status.message().to_owned(),
            details,
        }
    }

    fn unsupported_media_type(method: &MethodDescriptor, expected: &str) -> Response<Body> {
        let error = ConnectError::new(
            tonic::Code::InvalidArgument,
            format!(
                "{} takes Content-Type: {expected}{}",
                method.full_name(),
                if expected == STREAM_JSON {
                    " (a stream: each message in an envelope, docs/JSON-API.md)"
                } else {
                    ""
                }
            ),
        );
        error.unary_response_with(StatusCode::UNSUPPORTED_MEDIA_TYPE)
    }

    /// The error as the answer to a unary call (`streaming` false) or a stream.
    fn respond(self, streaming: bool) -> Response<Body> {
        if streaming {
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, STREAM_JSON)
                .body(Body::new(Full::new(self.end_of_stream())))
                .expect("a valid response")
        } else {
            let status = http_status(self.code);
            self.unary_response_with(status)
        }
    }

    /// The error as a unary answer with the HTTP status `status`.
    fn unary_response_with(self, status: StatusCode) -> Response<Body> {
        let body = serde_json::to_vec(&self.json()).expect("JSON values serialize");
        Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, UNARY_JSON)
            .body(Body::new(Full::new(Bytes::from(body))))
            .expect("a valid response")
    }

    /// The last envelope of a stream that ends with this error.
    fn end_of_stream(self) -> Bytes {
        let end = serde_json::json!({ "error": self.json() });
        envelope(
            END_STREAM,
            &serde_json::to_vec(&end).expect("JSON values serialize"),
        )
    }

    fn json(&self) -> serde_json::Value {
        let mut error = serde_json::json!({
            "code": code_name(self.code),
            "message": self.message,
        });
        if !self.details.is_empty() {
            error["details"] = serde_json::Value::Array(self.details.clone());
        }
        error
    }
}

/// A `google.protobuf.Any` of an error as a Connect error detail.
fn detail_json(any: &prost_types::Any) -> serde_json::Value {
    let type_name = any.type_url.rsplit('/').next().unwrap_or_default();
    let mut detail = serde_json::json!({
        "type": type_name,
        "value": base64::engine::general_purpose::STANDARD_NO_PAD.encode(&any.value),
    });
    let debug = DESCRIPTORS
        .get_message_by_name(type_name)
        .and_then(|descriptor| message_to_json(&any.value, &descriptor).ok())
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok());
    if let Some(debug) = debug {
        detail["debug"] = debug;
    }
    detail
}

/// Connect's name of a code.
fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "ok",
        Cancelled => "canceled",
        Unknown => "unknown",
        InvalidArgument => "invalid_argument",
        DeadlineExceeded => "deadline_exceeded",
        NotFound => "not_found",
        AlreadyExists => "already_exists",
        PermissionDenied => "permission_denied",
        ResourceExhausted => "resource_exhausted",
        FailedPrecondition => "failed_precondition",
        Aborted => "aborted",
        OutOfRange => "out_of_range",
        Unimplemented => "unimplemented",
        Internal => "internal",
        Unavailable => "unavailable",
        DataLoss => "data_loss",
        Unauthenticated => "unauthenticated",
    }
}

/// The HTTP status Connect gives a unary call's error of `code`.
fn http_status(code: tonic::Code) -> StatusCode {
    use tonic::Code::*;
    let status = match code {
        Ok => 200,
        Cancelled => 499,
        Unknown | Internal | DataLoss => 500,
        InvalidArgument | FailedPrecondition | OutOfRange => 400,
        DeadlineExceeded => 504,
        NotFound => 404,
        AlreadyExists | Aborted => 409,
        PermissionDenied => 403,
        ResourceExhausted => 429,
        Unimplemented => 501,
        Unavailable => 503,
        Unauthenticated => 401,
    };
    StatusCode::from_u16(status).expect("a valid HTTP status")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_of_the_api_is_known() {
        for service in helpdesk_api::SERVICE_NAMES {
            assert!(
                DESCRIPTORS.get_service_by_name(service).is_some(),
                "{service}"
            );
        }
        assert!(method_of("/helpdesk.v1.LevelService/GetLeaderboard").is_some());
        assert!(method_of("/grpc.health.v1.Health/Check").is_some());
        assert!(method_of("/helpdesk.v1.LevelService/Nope").is_none());
        assert!(DESCRIPTORS
            .get_message_by_name("google.rpc.BadRequest")
            .is_some());
    }

    #[test]
    fn paths_shaped_like_calls() {
        assert_eq!(
            procedure("/helpdesk.v1.LevelService/GetLeaderboard"),
            Some(("helpdesk.v1.LevelService", "GetLeaderboard"))
        );
        assert_eq!(procedure("/"), None);
        assert_eq!(procedure("/index.html"), None);
        assert_eq!(procedure("/assets/app.js"), None);
        assert_eq!(procedure("/a.b/c/d"), None);
    }

    #[test]
    fn json_in_either_field_naming_becomes_the_same_protobuf() {
        let input = method_of("/helpdesk.v1.RosterService/GetAgent")
            .unwrap()
            .input();
        let camel = json_to_message(br#"{"agentId": "a", "read": {"minPosition": "7"}}"#, &input);
        let snake = json_to_message(br#"{"agent_id": "a", "read": {"min_position": 7}}"#, &input);
        assert!(!camel.as_ref().unwrap().is_empty());
        assert_eq!(camel.unwrap(), snake.unwrap());
        assert_eq!(json_to_message(b"", &input).unwrap(), Vec::<u8>::new());
        let err = json_to_message(b"{\"noSuchField\": 1}", &input).unwrap_err();
        assert_eq!(err.code, tonic::Code::InvalidArgument);
        assert!(err.message.contains("noSuchField"), "{}", err.message);
        let err = json_to_message(br#"{"read": {"minPosition": true}}"#, &input).unwrap_err();
        assert!(
            err.message.starts_with("field `read.minPosition`: "),
            "{}",
            err.message
        );
        assert_eq!(
            err.details[0]["debug"]["fieldViolations"][0]["field"],
            "read.minPosition"
        );
    }

    #[test]
    fn envelopes_round_trip() {
        let mut buffer = BytesMut::new();
        buffer.put(envelope(0, b"{}"));
        buffer.put(envelope(END_STREAM, b"{\"a\":1}"));
        buffer.put_u8(0);
        assert_eq!(
            take_frame(&mut buffer),
            Some((0, Bytes::from_static(b"{}")))
        );
        assert_eq!(
            take_frame(&mut buffer),
            Some((END_STREAM, Bytes::from_static(b"{\"a\":1}")))
        );
        assert_eq!(take_frame(&mut buffer), None);
    }

    #[test]
    fn codes_map_to_connect_names_and_statuses() {
        assert_eq!(code_name(tonic::Code::Cancelled), "canceled");
        assert_eq!(
            http_status(tonic::Code::Unauthenticated),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            http_status(tonic::Code::ResourceExhausted),
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(
            http_status(tonic::Code::FailedPrecondition),
            StatusCode::BAD_REQUEST
        );
    }
}
