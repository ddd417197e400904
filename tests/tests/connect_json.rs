//! The JSON API (the Connect protocol, docs/JSON-API.md) on the gRPC port of real
//! `helpdesk dev` and `helpdesk gateway` processes, spoken by a plain HTTP/1.1 client as
//! `curl` would: commands and queries with a token, the statuses and JSON errors of a
//! missing or refused token, bad input naming the field, an unknown method, the size
//! limits, a server stream (presence) delivering a change, and gRPC on the same port.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Buf as _, BufMut as _, Bytes, BytesMut};
use helpdesk_api::{pb, LevelServiceClient};
use helpdesk_tests::Helpdesk;
use http::{header, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

/// A connection to `address` in HTTP/1.1, as `curl http://…` opens one.
async fn connect(
    address: SocketAddr,
) -> anyhow::Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(address).await?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// `POST path` with `content_type`, `token` as a bearer token when given, and `body`.
async fn post(
    address: SocketAddr,
    path: &str,
    content_type: &str,
    token: Option<&str>,
    body: impl Into<Bytes>,
) -> anyhow::Result<hyper::Response<Incoming>> {
    let mut request = Request::post(path)
        .header(header::HOST, address.to_string())
        .header(header::CONTENT_TYPE, content_type);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = request.body(Full::new(body.into()))?;
    Ok(connect(address).await?.send_request(request).await?)
}

/// A unary JSON call: its HTTP status and JSON answer.
/// `GET /` answers the dashboard's page.
async fn assert_dashboard_page(address: SocketAddr) -> anyhow::Result<()> {
    let request = Request::get("/")
        .header(header::HOST, address.to_string())
        .body(Full::new(Bytes::new()))?;
    let response = connect(address).await?.send_request(request).await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    Ok(())
}

async fn call(
    address: SocketAddr,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> anyhow::Result<(StatusCode, Value)> {
    let response = post(address, path, "application/json", token, body.to_string()).await?;
    let status = response.status();
    let content_type = response.headers()[header::CONTENT_TYPE]
        .to_str()?
        .to_owned();
    assert_eq!(content_type, "application/json", "{path}");
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, serde_json::from_slice(&body)?))
}

/// A Connect envelope: flags, the length (big-endian), the JSON.
fn envelope(flags: u8, json: &Value) -> Bytes {
    let json = json.to_string();
    let mut framed = BytesMut::new();
    framed.put_u8(flags);
    framed.put_u32(json.len() as u32);
    framed.put_slice(json.as_bytes());
    framed.freeze()
}

/// The envelopes of a Connect stream, read as they arrive.
struct Envelopes {
    body: Incoming,
    buffer: BytesMut,
}

impl Envelopes {
    fn new(response: hyper::Response<Incoming>) -> Self {
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/connect+json"
        );
        Envelopes {
            body: response.into_body(),
            buffer: BytesMut::new(),
        }
    }

    /// The next envelope (its flags and JSON), within 20 s.
    async fn next(&mut self) -> anyhow::Result<(u8, Value)> {
        tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                if self.buffer.len() >= 5 {
                    let length = u32::from_be_bytes(self.buffer[1..5].try_into()?) as usize;
                    if self.buffer.len() >= 5 + length {
                        let flags = self.buffer.get_u8();
                        self.buffer.advance(4);
                        let json = self.buffer.split_to(length);
                        return Ok((flags, serde_json::from_slice(&json)?));
                    }
                }
                let frame = self
                    .body
                    .frame()
                    .await
                    .ok_or_else(|| anyhow::anyhow!("the stream ended inside an envelope"))??;
                if let Ok(data) = frame.into_data() {
                    self.buffer.extend_from_slice(&data);
                }
            }
        })
        .await?
    }
}

const REGISTER: &str = "/helpdesk.v1.CommandService/RegisterAgent";
const GO_ONLINE: &str = "/helpdesk.v1.CommandService/GoOnline";
const GET_AGENT: &str = "/helpdesk.v1.RosterService/GetAgent";
const LEADERBOARD: &str = "/helpdesk.v1.LevelService/GetLeaderboard";
const WATCH_PRESENCE: &str = "/helpdesk.v1.RosterService/WatchPresence";

/// `GetAgent` of `agent` once the roster has `position` (read-your-writes), answered OK.
async fn agent_at(
    address: SocketAddr,
    token: &str,
    agent: &str,
    position: &str,
) -> anyhow::Result<Value> {
    let (status, got) = call(
        address,
        GET_AGENT,
        Some(token),
        json!({"agentId": agent, "read": {"minPosition": position}}),
    )
    .await?;
    assert_eq!(status, StatusCode::OK, "{got}");
    Ok(got)
}

/// Agent Ada's registration, in lowerCamelCase, at a fixed time.
fn ada() -> Value {
    json!({
        "occurredAt": "2025-03-03T09:00:00Z",
        "name": "Ada",
        "email": "ada@example.com",
        "role": {"builtin": "BUILTIN_ROLE_AGENT"},
    })
}

#[tokio::test]
async fn json_calls_on_the_grpc_port() -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::start_embedded().await?;
    let address = helpdesk.address();
    let owner = helpdesk.token().to_owned();

    // A presence stream, opened first: it shows the change the commands below make.
    let watch = post(
        address,
        WATCH_PRESENCE,
        "application/connect+json",
        Some(&owner),
        envelope(0, &json!({})),
    )
    .await?;
    let mut presence = Envelopes::new(watch);

    // A command: the answer in lowerCamelCase.
    let (status, registered) = call(address, REGISTER, Some(&owner), ada()).await?;
    assert_eq!(status, StatusCode::OK, "{registered}");
    assert_eq!(registered["events"], json!(["AgentRegistered"]));
    let agent = registered["aggregateId"]
        .as_str()
        .expect("an id")
        .to_owned();
    assert!(!agent.is_empty());

    // Field names as in the proto are accepted too.
    let (status, online) = call(
        address,
        GO_ONLINE,
        Some(&owner),
        json!({"agent_id": agent, "occurred_at": "2025-03-03T09:01:00Z"}),
    )
    .await?;
    assert_eq!(status, StatusCode::OK, "{online}");
    // 64-bit integers are strings in proto3 JSON.
    let position = online["position"].as_str().expect("a position").to_owned();

    // A query, read after the command (read-your-writes).
    let got = agent_at(address, &owner, &agent, &position).await?;
    assert_eq!(got["agent"]["name"], "Ada");
    assert_eq!(got["agent"]["email"], "ada@example.com");
    assert_eq!(
        got["agent"]["role"],
        json!({"builtin": "BUILTIN_ROLE_AGENT"})
    );

    // The stream delivered Ada going online.
    let (flags, change) = presence.next().await?;
    assert_eq!(flags, 0, "{change}");
    assert_eq!(change["agentId"], agent.as_str(), "{change}");
    assert_eq!(change["name"], "Ada", "{change}");

    // gRPC on the same port, over HTTP/2, still answers.
    let leaderboard = LevelServiceClient::new(helpdesk.channel().await?)
        .get_leaderboard(helpdesk.auth(pb::GetLeaderboardRequest::default()))
        .await?
        .into_inner();
    let (status, json) = call(address, LEADERBOARD, Some(&owner), json!({})).await?;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(
        json["rows"].as_array().map(Vec::len),
        Some(leaderboard.rows.len()),
        "{json}"
    );

    // No token, a token nobody was given: 401, Connect's `unauthenticated`.
    for token in [None, Some("hd_not-a-token")] {
        let (status, error) = call(address, LEADERBOARD, token, json!({})).await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{error}");
        assert_eq!(error["code"], "unauthenticated", "{error}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }

    // A stream without a token: 200 and an end of stream with the error (Connect's way).
    let refused = post(
        address,
        WATCH_PRESENCE,
        "application/connect+json",
        None,
        envelope(0, &json!({})),
    )
    .await?;
    let (flags, end) = Envelopes::new(refused).next().await?;
    assert_eq!(flags, 2, "{end}");
    assert_eq!(end["error"]["code"], "unauthenticated", "{end}");

    // Bad input: 400, `invalid_argument`, the field in the google.rpc.BadRequest detail.
    let mut bad = ada();
    bad["email"] = json!("ada.example.com");
    let (status, error) = call(address, REGISTER, Some(&owner), bad).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["code"], "invalid_argument", "{error}");
    let detail = &error["details"][0];
    assert_eq!(detail["type"], "google.rpc.BadRequest", "{error}");
    assert!(detail["value"].as_str().is_some_and(|v| !v.is_empty()));
    assert_eq!(
        detail["debug"]["fieldViolations"][0]["field"], "email",
        "{error}"
    );

    // JSON that is not the request: the field it does not know is named.
    let (status, error) = call(address, REGISTER, Some(&owner), json!({"nmae": "Ada"})).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["code"], "invalid_argument");
    assert!(
        error["message"].as_str().unwrap().contains("nmae"),
        "{error}"
    );

    // A value of the wrong kind: the field as the body spells it, in the detail too.
    let mut bad = ada();
    bad["role"] = json!({"builtin": "BUILTIN_ROLE_KING"});
    let (status, error) = call(address, REGISTER, Some(&owner), bad).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("field `role.builtin`: "),
        "{error}"
    );
    assert_eq!(
        error["details"][0]["debug"]["fieldViolations"][0]["field"], "role.builtin",
        "{error}"
    );

    // A method the API does not have: 404, `unimplemented`.
    let (status, error) = call(
        address,
        "/helpdesk.v1.LevelService/GetEverything",
        Some(&owner),
        json!({}),
    )
    .await?;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
    assert_eq!(error["code"], "unimplemented", "{error}");

    // Not JSON: 415, naming the content type to send.
    let response = post(address, LEADERBOARD, "text/plain", Some(&owner), "{}").await?;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Over the limits: a body over 4 MiB is refused before it is read as JSON, and a
    // command over the command limit (1 MiB) as gRPC refuses it: 429, `resource_exhausted`.
    let huge = format!("{{\"name\": \"{}\"}}", "a".repeat(5 * 1024 * 1024));
    let response = post(address, REGISTER, "application/json", Some(&owner), huge).await?;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let error: Value = serde_json::from_slice(&response.into_body().collect().await?.to_bytes())?;
    assert_eq!(error["code"], "resource_exhausted", "{error}");
    let mut large = ada();
    large["name"] = json!("a".repeat(2 * 1024 * 1024));
    let (status, error) = call(address, REGISTER, Some(&owner), large).await?;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        error["message"]
    );
    assert_eq!(error["code"], "resource_exhausted");

    // Nothing of the refused calls was written: Ada is the only agent registered here
    // besides the Owner.
    let (_, agents) = call(
        address,
        "/helpdesk.v1.RosterService/ListAgents",
        Some(&owner),
        json!({"read": {"minPosition": position}}),
    )
    .await?;
    let names: Vec<&str> = agents["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert!(names.contains(&"Ada"), "{agents}");
    assert!(!names.iter().any(|n| n.starts_with("aaa")), "{agents}");
    assert_eq!(names.len(), 2, "{agents}");

    // Anything else is plain HTTP: the dashboard's page at `/`, 404 for what nothing serves.
    assert_dashboard_page(address).await?;
    let request = Request::get("/nothing-here")
        .header(header::HOST, address.to_string())
        .body(Full::new(Bytes::new()))?;
    let response = connect(address).await?.send_request(request).await?;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    helpdesk.stop().await
}

/// The gateway is built like every server: it answers JSON, the servers behind it
/// authenticate, a service it has no route for is named, and it serves the dashboard.
#[tokio::test]
async fn the_gateway_answers_json_too() -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::start_embedded().await?;
    let mut gateway = Helpdesk::builder()
        .subcommand(["gateway"])
        .arg("--route")
        .arg(format!("commands={}", helpdesk.endpoint()))
        .arg("--route")
        .arg(format!("roster={}", helpdesk.endpoint()))
        .start()
        .await?;
    let address = gateway.address();
    let owner = helpdesk.token().to_owned();

    let (status, registered) = call(address, REGISTER, Some(&owner), ada()).await?;
    assert_eq!(status, StatusCode::OK, "{registered}");
    let agent = registered["aggregateId"].as_str().unwrap().to_owned();
    let position = registered["position"].as_str().unwrap().to_owned();
    let got = agent_at(address, &owner, &agent, &position).await?;
    assert_eq!(got["agent"]["name"], "Ada");

    let (status, error) = call(address, GET_AGENT, None, json!({"agentId": agent})).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{error}");
    assert_eq!(error["code"], "unauthenticated");

    // A service the gateway has no route for: 501, `unimplemented`, naming it.
    let (status, error) = call(address, LEADERBOARD, Some(&owner), json!({})).await?;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED, "{error}");
    assert_eq!(error["code"], "unimplemented");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("helpdesk.v1.LevelService"),
        "{error}"
    );

    // The dashboard's page is at the gateway's `/` too: in a split deployment it is the
    // address to open, and the page's calls go through it.
    assert_dashboard_page(address).await?;

    gateway.stop().await?;
    helpdesk.stop().await
}

/// A stream counts among its caller's open streams until the caller closes it, even when
/// nothing happens on it: a closed JSON stream gives its place back.
#[tokio::test]
async fn a_json_stream_closed_by_its_caller_gives_its_place_back() -> anyhow::Result<()> {
    const WATCH_LEVEL_UPS: &str = "/helpdesk.v1.LevelService/WatchLevelUps";
    let mut helpdesk = Helpdesk::builder()
        .arg("--max-streams-per-caller")
        .arg("1")
        .start()
        .await?;
    let address = helpdesk.address();
    let owner = helpdesk.token().to_owned();
    let open = || {
        post(
            address,
            WATCH_LEVEL_UPS,
            "application/connect+json",
            Some(&owner),
            envelope(0, &json!({})),
        )
    };
    // Open: no envelope comes (no level-up happens). Refused: the end of the stream at once.
    let refused = |mut envelopes: Envelopes| async move {
        match tokio::time::timeout(Duration::from_secs(1), envelopes.next()).await {
            Err(_) => Ok::<_, anyhow::Error>(None),
            Ok(envelope) => Ok(Some(envelope?)),
        }
    };

    let first = open().await?;
    let (flags, end) = refused(Envelopes::new(open().await?))
        .await?
        .expect("a second stream is refused");
    assert_eq!(flags, 2, "{end}");
    assert_eq!(end["error"]["code"], "resource_exhausted", "{end}");

    drop(first);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match refused(Envelopes::new(open().await?)).await? {
            None => break,
            Some((_, end)) if tokio::time::Instant::now() > deadline => {
                panic!("the closed stream still holds its place: {end}")
            }
            Some(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    helpdesk.stop().await
}
