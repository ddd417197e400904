//! The gRPC server every process builds alike: its services, health and reflection, the
//! limits and statuses in front of them, one listener. The same listener answers the
//! Connect protocol's JSON calls (`crate::ops::connect`, over HTTP/1.1 or HTTP/2) and
//! plain HTTP routes a process adds ([`Served::route_http`]).

use helpdesk_api::FILE_DESCRIPTOR_SET;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use tonic::codegen::http;

use crate::ops::security::{ConcurrencyArgs, TlsArgs};

/// The largest request or response message, in bytes. Ticket bodies are at most 64 KiB;
/// the rest is headroom for routing rules and bulk answers.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// The largest command, in bytes, as the command service decodes it. The largest valid
/// command is a routing rule at its limits (2,000 list entries of 64 characters, at most
/// 4 bytes each: about 0.6 MiB); a ticket is at most about 80 KiB. Anything larger is
/// refused before it is decoded, so an `Execute` stream holds at most
/// [`crate::command::service::READ_AHEAD_BYTES`] plus one of these.
pub const COMMAND_MAX_BYTES: usize = 1024 * 1024;

/// The receive window of each HTTP/2 stream, in bytes: what a client may send ahead of
/// what the service has read. A client writing an `Execute` stream faster than its
/// commands are carried out waits for it (flow control) instead of filling the server's
/// memory.
pub const STREAM_WINDOW: u32 = 64 * 1024;
/// The receive window of a whole HTTP/2 connection, in bytes. h2 closes a connection
/// (GOAWAY `ENHANCE_YOUR_CALM`, "too_many_data_frames") whose buffered small DATA frames
/// cost more than half of this window in framing overhead (up to 255 bytes a frame); at
/// 512 times the stream window, one stream's full window of frames as small as 1 byte
/// stays within it, so a client that does not read its answers is slowed down, never cut
/// off.
pub const CONNECTION_WINDOW: u32 = 512 * STREAM_WINDOW;
/// The largest HTTP/2 frame accepted (the protocol's default).
pub const MAX_FRAME_SIZE: u32 = 16 * 1024;

/// The one way this binary builds a gRPC server (every service, the split processes, the
/// gateway): HTTP/2 flow control with fixed windows ([`STREAM_WINDOW`],
/// [`CONNECTION_WINDOW`]; no adaptive window, which would grow the stream window towards
/// the connection's and let a stream buffer more small frames than h2 tolerates). HTTP/1.1
/// is accepted too, for JSON calls and plain HTTP (`curl` speaks HTTP/1.1 without TLS);
/// gRPC itself needs HTTP/2, whose settings stay as they are.
pub(crate) fn server_builder() -> tonic::transport::Server {
    tonic::transport::Server::builder()
        .accept_http1(true)
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .http2_adaptive_window(Some(false))
        .max_frame_size(MAX_FRAME_SIZE)
}

/// How the server takes requests: TLS, and how many at once.
pub struct Transport {
    pub tls: Option<tonic::transport::ServerTlsConfig>,
    pub max_concurrent: usize,
    pub max_concurrent_per_connection: usize,
}

impl Transport {
    /// The transport of a server listening on `listen`; warns when that is plaintext
    /// off loopback.
    pub fn from_args(
        tls: &TlsArgs,
        limits: &ConcurrencyArgs,
        listen: std::net::SocketAddr,
    ) -> anyhow::Result<Transport> {
        let tls = tls.server_config()?;
        crate::ops::plaintext::warn_if_plaintext_listen(listen, tls.is_some());
        Ok(Transport {
            tls,
            max_concurrent: limits.max_concurrent as usize,
            max_concurrent_per_connection: limits.max_concurrent_per_connection as usize,
        })
    }
}

/// A generated service server with this API's message size limits.
macro_rules! limited {
    ($server:expr) => {
        $server
            .max_decoding_message_size($crate::ops::grpc::MAX_MESSAGE_BYTES)
            .max_encoding_message_size($crate::ops::grpc::MAX_MESSAGE_BYTES)
    };
}
pub(crate) use limited;

/// The services one server answers, with `grpc.health.v1` saying each is serving and
/// reflection listing them: the servers of `helpdesk` and of the gateway are built alike.
pub struct Served {
    routes: tonic::service::RoutesBuilder,
    names: Vec<&'static str>,
    health: tonic_health::server::HealthReporter,
    /// Plain HTTP routes on the same port ([`Served::route_http`]).
    http: axum::Router,
}

impl Served {
    pub fn new() -> Self {
        let (health, health_service) = tonic_health::server::health_reporter();
        let mut routes = tonic::service::Routes::builder();
        routes.add_service(health_service);
        Served {
            routes,
            names: vec!["grpc.health.v1.Health"],
            health,
            http: axum::Router::new(),
        }
    }

    /// Serves `router`'s plain HTTP routes (a web page, its assets: `GET /`,
    /// `GET /assets/app.js`) on this server's port, beside gRPC and the JSON API. A request
    /// goes to gRPC when its `Content-Type` is `application/grpc…`, to the JSON API when it
    /// is a `POST` to a path shaped like a call (`/package.Service/Method`), and to the
    /// routes merged here otherwise (axum's 404 for what they do not route; do not give
    /// `router` a fallback of its own). The routes are not authenticated: what they serve
    /// is public, and the calls a page makes carry their token like any other.
    pub fn route_http(&mut self, router: axum::Router) {
        self.http = std::mem::take(&mut self.http).merge(router);
    }

    /// Adds `service`, serving.
    pub async fn add<S>(&mut self, service: S)
    where
        S: tower::Service<
                tonic::codegen::http::Request<tonic::body::Body>,
                Response = tonic::codegen::http::Response<tonic::body::Body>,
                Error = std::convert::Infallible,
            > + tonic::server::NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.health.set_serving::<S>().await;
        self.names.push(S::NAME);
        self.routes.add_service(service);
    }

    /// Serves the services added, health and reflection (v1 and v1alpha, so that grpcurl
    /// and older clients both find them) on `listener` until `shutdown` is cancelled;
    /// requests in flight are finished first. Every request passes the limits of
    /// `transport`, then `access` (the layer that authenticates the requests of this
    /// API; `tower::layer::util::Identity` for none). Clients' deadlines (`grpc-timeout`) are honoured: a request past its
    /// deadline is cancelled and answered DEADLINE_EXCEEDED. In front of it all, JSON calls
    /// become the gRPC calls they stand for and go the same way (`crate::ops::connect`);
    /// plain HTTP requests go to the routes of [`Served::route_http`].
    pub async fn serve<L>(
        mut self,
        transport: Transport,
        access: L,
        listener: TcpListener,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()>
    where
        L: tower::Layer<tonic::service::Routes> + Clone + Send + Sync + 'static,
        L::Service: tower::Service<
                http::Request<tonic::body::Body>,
                Response = http::Response<tonic::body::Body>,
                Error = std::convert::Infallible,
            > + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as tower::Service<http::Request<tonic::body::Body>>>::Future: Send + 'static,
    {
        self.routes.add_service(
            reflection(&self.names)
                .with_service_name("grpc.reflection.v1.ServerReflection")
                .build_v1()?,
        );
        self.routes.add_service(
            reflection(&self.names)
                .with_service_name("grpc.reflection.v1alpha.ServerReflection")
                .build_v1alpha()?,
        );
        let mut builder = server_builder();
        if let Some(tls) = transport.tls {
            builder = builder.tls_config(tls)?;
        }
        builder
            .concurrency_limit_per_connection(transport.max_concurrent_per_connection)
            .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
                transport.max_concurrent,
            ))
            // Inside the concurrency limit, so that reading a JSON body counts as the
            // request it is (once), and outside the rest, which its gRPC call then passes.
            .layer(crate::ops::connect::ConnectLayer::new(self.http))
            .layer(tower::util::MapResponseLayer::new(
                statuses_clients_can_act_on::<tonic::body::Body>,
            ))
            .layer(access)
            .add_routes(self.routes.routes())
            .serve_with_incoming_shutdown(incoming(listener), shutdown.cancelled())
            .await?;
        Ok(())
    }
}

/// Gives the statuses tonic's codec answers for a request it cannot read the codes a
/// client can act on. tonic answers a message that does not decode `INTERNAL` (as gRPC's
/// own table has it for a broken peer) and one over the size limit `OUT_OF_RANGE`; to a
/// client of this API the first is its own mistake, `INVALID_ARGUMENT`, and the second a
/// limit, `RESOURCE_EXHAUSTED` (tonic 0.14: `tonic_prost::codec::from_decode_error`,
/// `tonic::codec::decode`). Such an answer is "trailers only": the status is in the
/// response's headers. Nothing of ours answers `OUT_OF_RANGE`, or `INTERNAL` with
/// prost's words, so only tonic's answers change.
pub(crate) fn statuses_clients_can_act_on<B>(
    mut response: tonic::codegen::http::Response<B>,
) -> tonic::codegen::http::Response<B> {
    let Some(status) = tonic::Status::from_header_map(response.headers()) else {
        return response;
    };
    let Some(remapped) = codec_status_for_clients(&status) else {
        return response;
    };
    let headers = response.headers_mut();
    headers.remove("grpc-status");
    headers.remove("grpc-message");
    headers.remove("grpc-status-details-bin");
    if remapped.add_header(headers).is_err() {
        tracing::warn!("cannot rewrite the status {status}");
    }
    response
}

/// The status a client can act on for one of tonic's codec errors (see
/// [`statuses_clients_can_act_on`]), `None` for any other status. Also for a message
/// inside an `Execute` stream, whose error arrives at the handler.
pub(crate) fn codec_status_for_clients(status: &tonic::Status) -> Option<tonic::Status> {
    match status.code() {
        tonic::Code::Internal
            if status
                .message()
                .starts_with("failed to decode Protobuf message") =>
        {
            Some(tonic::Status::invalid_argument(format!(
                "the request is not a message of this method: {}",
                status.message()
            )))
        }
        tonic::Code::OutOfRange if status.message().contains("message length too large") => {
            Some(tonic::Status::resource_exhausted(format!(
                "the request is larger than this method accepts: {}",
                status.message()
            )))
        }
        _ => None,
    }
}

/// Reflection lists the services served (`names`) and knows our API, health, and
/// `google.rpc` (so that clients can decode the `BadRequest` details of an
/// `INVALID_ARGUMENT`).
pub(crate) fn reflection(names: &[&str]) -> tonic_reflection::server::Builder<'static> {
    let builder = names.iter().fold(
        tonic_reflection::server::Builder::configure(),
        |builder, name| builder.with_service_name(*name),
    );
    builder
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
}

/// The connections `listener` accepts, with Nagle's algorithm off. tonic sets
/// `TCP_NODELAY` only on the listeners it binds itself; with it on, an answer written in
/// two parts waits for the client's delayed acknowledgement (about 40 ms) before its
/// second part leaves.
pub(crate) fn incoming(
    listener: TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use tokio_stream::StreamExt as _;
    TcpListenerStream::new(listener).map(|accepted| {
        let stream = accepted?;
        if let Err(err) = stream.set_nodelay(true) {
            // Slower answers, not a reason to refuse the connection.
            tracing::debug!("cannot turn Nagle's algorithm off: {err}");
        }
        Ok(stream)
    })
}

#[cfg(test)]
mod tests {
    use helpdesk_api::pb;
    use http_body_util::BodyExt as _;
    use prost::Message as _;
    use tonic::codegen::http;

    /// Plain HTTP routes given to [`super::Served::route_http`] answer on the gRPC port,
    /// over HTTP/1.1, beside gRPC (health over HTTP/2) and JSON calls.
    #[tokio::test]
    async fn plain_http_routes_share_the_port_with_grpc_and_json() -> anyhow::Result<()> {
        let mut served = super::Served::new();
        served.route_http(
            axum::Router::new().route("/", axum::routing::get(|| async { "the dashboard" })),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let shutdown = tokio_util::sync::CancellationToken::new();
        let transport = super::Transport {
            tls: None,
            max_concurrent: 8,
            max_concurrent_per_connection: 8,
        };
        let server = tokio::spawn(served.serve(
            transport,
            tower::layer::util::Identity::new(),
            listener,
            shutdown.clone(),
        ));

        let http1 = |request: http::Request<http_body_util::Full<bytes::Bytes>>| async move {
            let stream = tokio::net::TcpStream::connect(address).await?;
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
            tokio::spawn(connection);
            let response = sender.send_request(request).await?;
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            anyhow::Ok((status, String::from_utf8(body.to_vec())?))
        };
        let page = http::Request::get("/")
            .header("host", "helpdesk")
            .body(Default::default())?;
        assert_eq!(
            http1(page).await?,
            (http::StatusCode::OK, "the dashboard".to_owned())
        );
        let missing = http::Request::get("/nothing-here")
            .header("host", "helpdesk")
            .body(Default::default())?;
        assert_eq!(http1(missing).await?.0, http::StatusCode::NOT_FOUND);
        let health = http::Request::post("/grpc.health.v1.Health/Check")
            .header("host", "helpdesk")
            .header("content-type", "application/json")
            .body("{}".into())?;
        assert_eq!(
            http1(health).await?,
            (http::StatusCode::OK, r#"{"status":"SERVING"}"#.to_owned())
        );

        let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))?
            .connect()
            .await?;
        let serving = tonic_health::pb::health_client::HealthClient::new(channel)
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await?
            .into_inner();
        assert_eq!(
            serving.status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32
        );

        shutdown.cancel();
        server.await??;
        Ok(())
    }

    /// The largest valid command: a routing rule with every list entry it may hold
    /// (2,000), each a word of 64 characters of 4 bytes, and a name of 200 such.
    #[test]
    fn the_largest_valid_command_fits_the_command_limit() {
        let wide = |chars: usize| "𝔸".repeat(chars);
        let group = pb::RoutingConditionGroup {
            conditions: vec![pb::RoutingCondition {
                condition: Some(pb::routing_condition::Condition::SubjectOrBodyContains(
                    pb::WordList {
                        words: vec![wide(helpdesk_domain::limits::RULE_WORD_MAX_CHARS); 100],
                    },
                )),
            }],
        };
        let groups = vec![group; helpdesk_domain::limits::RULE_ENTRIES_MAX / 100];
        let rule = pb::ExecuteRequest {
            command: Some(pb::execute_request::Command::DefineRoutingRule(
                pb::DefineRoutingRuleRequest {
                    command_id: uuid::Uuid::nil().to_string(),
                    rule_id: uuid::Uuid::nil().to_string(),
                    name: wide(helpdesk_domain::limits::NAME_MAX_CHARS),
                    groups,
                    ..Default::default()
                },
            )),
        };
        let size = rule.encoded_len();
        assert!(size > 500 * 1024, "{size}: not the largest");
        assert!(size < super::COMMAND_MAX_BYTES, "{size}");
    }
}
