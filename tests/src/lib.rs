//! End-to-end test harness: the real `helpdesk` binary, on the embedded log or on a real
//! `nats-server`.
//!
//! ```ignore
//! let nats = NatsServer::start()?;
//! let mut helpdesk = Helpdesk::start_on_nats(&nats).await?;
//! let channel = helpdesk.channel().await?;
//! let request = helpdesk.auth(GoOnlineRequest::default());
//! // … call it …
//! helpdesk.restart().await?; // same data dir, same NATS, same port
//! helpdesk.stop().await?;    // SIGTERM; fails unless it exits with 0
//! ```
//!
//! [`Helpdesk`] runs `helpdesk dev --listen 127.0.0.1:0` (the first time; a restart reuses
//! the port it got) with its own temporary data directory, waits for the `ready on
//! http(s)://…` line, and remembers the Owner's token from the `owner token: …` line (or the
//! one it passed with [`Builder::owner_token`]). Everything the process prints is
//! forwarded to the test's stderr, prefixed with `[helpdesk <pid>]`, and kept for error
//! messages ([`Helpdesk::output`]). The process is killed when the [`Helpdesk`] is dropped.
//!
//! The binary is not built by the tests: `cargo build -p helpdesk-server` first (`just
//! test` does), or point `HELPDESK_BIN` at one.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::{Channel, Endpoint};

pub use helpdesk_testkit::{free_port, NatsCluster, NatsServer};

/// How long the server may take from spawn to its ready line.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the server may take to exit after SIGTERM.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// What the ready line contains, followed by the bound address.
const READY_MARKER: &str = "ready on ";
/// How the line with the Owner's token starts.
const TOKEN_PREFIX: &str = "owner token:";
/// The full name of the command service.
pub const COMMAND_SERVICE: &str = "helpdesk.v1.CommandService";

/// Where the tests' simulated histories start: Monday 2025-03-03, 00:00 UTC. A fixed
/// date, so that a test gives the same result whatever day it runs on (a history drawn
/// from "the days before today" has more weekdays on some dates than on others).
pub const HISTORY_START: i64 = 1_740_960_000_000;

/// The UTC date (`YYYY-MM-DD`) of a time in milliseconds.
pub fn utc_date(millis: i64) -> String {
    jiff::Timestamp::from_millisecond(millis)
        .expect("a time within jiff's range")
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string()
}

// ------------------------------------------------------------------------------ binaries

/// The `helpdesk` binary: `$HELPDESK_BIN`, else `target/<profile>/helpdesk` next to the
/// running test. Panics, saying how to build it, when it is missing.
pub fn helpdesk_bin() -> PathBuf {
    binary("helpdesk", "HELPDESK_BIN", "helpdesk-server")
}

/// The `hdctl` binary: `$HDCTL_BIN`, else `target/<profile>/hdctl` next to the running
/// test. Panics, saying how to build it, when it is missing.
pub fn hdctl_bin() -> PathBuf {
    binary("hdctl", "HDCTL_BIN", "helpdesk-cli")
}

fn binary(name: &str, env: &str, package: &str) -> PathBuf {
    if let Some(bin) = std::env::var_os(env).filter(|v| !v.is_empty()) {
        let bin = PathBuf::from(bin);
        assert!(
            bin.is_file(),
            "{env}={} is not a file; unset it or build it first: cargo build -p {package}",
            bin.display()
        );
        return bin;
    }
    let bin = target_profile_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} not found; build it first: cargo build -p {package} (or set {env})",
        bin.display()
    );
    bin
}

/// `target/<profile>`: integration tests run from `target/<profile>/deps/<test>-<hash>`.
fn target_profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the path of the running test executable");
    let mut dir = exe
        .parent()
        .expect("the test executable lives in a directory")
        .to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir
}

// ------------------------------------------------------------------------------- builder

/// How to start a [`Helpdesk`]; see [`Helpdesk::builder`].
#[derive(Debug, Default)]
pub struct Builder {
    data_dir: Option<PathBuf>,
    nats_url: Option<String>,
    owner_token: Option<String>,
    listen: Option<SocketAddr>,
    subcommand: Vec<OsString>,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
}

impl Builder {
    /// Run `helpdesk <words…>` instead of `helpdesk dev`, e.g. `["commands"]` or
    /// `["project", "tickets"]` (these run on NATS: give [`Builder::nats`]).
    pub fn subcommand<I, S>(mut self, words: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.subcommand = words.into_iter().map(Into::into).collect();
        self
    }

    /// Use this data directory (kept after the test) instead of a fresh temporary one.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Run on this NATS server (`--nats`) instead of the embedded log.
    pub fn nats(self, nats: &NatsServer) -> Self {
        self.nats_url(nats.url())
    }

    /// Run on NATS at this URL (`--nats`; comma-separated for a cluster).
    pub fn nats_url(mut self, url: impl Into<String>) -> Self {
        self.nats_url = Some(url.into());
        self
    }

    /// Give the Owner this token (`HELPDESK_OWNER_TOKEN`) instead of a generated one.
    pub fn owner_token(mut self, token: impl Into<String>) -> Self {
        self.owner_token = Some(token.into());
        self
    }

    /// Listen on this address (`--listen`) instead of `127.0.0.1:0`, e.g. `0.0.0.0:0`.
    pub fn listen(mut self, address: SocketAddr) -> Self {
        self.listen = Some(address);
        self
    }

    /// One more argument after `dev` and the harness's own ones (e.g. `--tick-seconds`).
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// One more environment variable. The harness removes every inherited `HELPDESK_*`
    /// variable, so only these (and the arguments) configure the server.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// Spawns the server and waits until it is ready.
    pub async fn start(self) -> anyhow::Result<Helpdesk> {
        let bin = helpdesk_bin();
        let data_dir = match self.data_dir {
            Some(dir) => DataDir::Given(dir),
            None => DataDir::Temp(
                tempfile::Builder::new()
                    .prefix("helpdesk-data-")
                    .tempdir()
                    .context("creating a temporary data directory")?,
            ),
        };
        let mut helpdesk = Helpdesk {
            bin,
            data_dir,
            nats_url: self.nats_url,
            owner_token: self.owner_token.clone(),
            subcommand: if self.subcommand.is_empty() {
                vec!["dev".into()]
            } else {
                self.subcommand
            },
            args: self.args,
            envs: self.envs,
            token: self.owner_token,
            address: self.listen,
            child: None,
            readers: Vec::new(),
            output: Arc::new(Mutex::new(Vec::new())),
            runs: 0,
        };
        helpdesk.spawn().await?;
        Ok(helpdesk)
    }
}

#[derive(Debug)]
enum DataDir {
    Temp(tempfile::TempDir),
    Given(PathBuf),
}

impl DataDir {
    fn path(&self) -> &Path {
        match self {
            DataDir::Temp(dir) => dir.path(),
            DataDir::Given(dir) => dir,
        }
    }
}

// ------------------------------------------------------------------------------ helpdesk

/// Which pipe a captured line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// One line the server printed.
#[derive(Debug, Clone)]
pub struct Line {
    /// Which start of the server printed it: 1 for the first, 2 after one restart, ….
    pub run: usize,
    pub stream: Stream,
    pub text: String,
}

/// A running `helpdesk dev` process. Killed (SIGKILL) on drop; use [`Helpdesk::stop`] for a
/// graceful stop that checks the exit code.
#[derive(Debug)]
pub struct Helpdesk {
    bin: PathBuf,
    data_dir: DataDir,
    nats_url: Option<String>,
    /// The token passed (`HELPDESK_OWNER_TOKEN`), if any.
    owner_token: Option<String>,
    /// `dev`, or the words given with [`Builder::subcommand`].
    subcommand: Vec<OsString>,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    /// The Owner's token: the one passed, or the one the first start printed.
    token: Option<String>,
    /// The address of the ready line; a restart listens on it again.
    address: Option<SocketAddr>,
    child: Option<Child>,
    readers: Vec<JoinHandle<()>>,
    output: Arc<Mutex<Vec<Line>>>,
    runs: usize,
}

impl Helpdesk {
    /// How to start one with a given data directory, owner token, NATS, arguments.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// `helpdesk dev` on the embedded event log in a fresh temporary data directory.
    pub async fn start_embedded() -> anyhow::Result<Helpdesk> {
        Builder::default().start().await
    }

    /// `helpdesk dev --nats <nats>` with a fresh temporary data directory.
    pub async fn start_on_nats(nats: &NatsServer) -> anyhow::Result<Helpdesk> {
        Builder::default().nats(nats).start().await
    }

    /// `http://127.0.0.1:<port>`, the address of the ready line.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address())
    }

    /// The address the server listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
            .expect("the server has been ready at least once")
    }

    /// The Owner's token. Panics when the server printed none and none was given (a data
    /// directory that was set up before: pass its token with [`Builder::owner_token`]).
    pub fn token(&self) -> &str {
        self.token.as_deref().expect(
            "no owner token: the server printed none (was the data directory set up before?) \
             and none was given with Builder::owner_token",
        )
    }

    /// The data directory (`--data-dir`).
    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// The NATS URL (`--nats`), when it runs on NATS.
    pub fn nats_url(&self) -> Option<&str> {
        self.nats_url.as_deref()
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// A connected channel to the server.
    pub async fn channel(&self) -> anyhow::Result<Channel> {
        Endpoint::from_shared(self.endpoint())?
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .connect()
            .await
            .with_context(|| format!("connecting to {}", self.endpoint()))
    }

    /// `authorization: Bearer <owner token>`.
    pub fn bearer(&self) -> MetadataValue<Ascii> {
        bearer(self.token())
    }

    /// Registers an agent with the built-in Agent role and issues them a token, as the
    /// Owner: (their agent id, their token, the log position of the token).
    pub async fn new_agent(&self, name: &str) -> anyhow::Result<(String, String, u64)> {
        use helpdesk_api::{pb, AdminServiceClient, CommandServiceClient};
        let channel = self.channel().await?;
        let agent = CommandServiceClient::new(channel.clone())
            .register_agent(self.auth(pb::RegisterAgentRequest {
                name: name.into(),
                email: format!("{}@example.com", name.to_lowercase()),
                role: Some(pb::RoleRef {
                    role: Some(pb::role_ref::Role::Builtin(pb::BuiltinRole::Agent as i32)),
                }),
                ..Default::default()
            }))
            .await?
            .into_inner()
            .aggregate_id;
        let issued = AdminServiceClient::new(channel)
            .issue_token(self.auth(pb::IssueTokenRequest {
                subject: Some(pb::issue_token_request::Subject::AgentId(agent.clone())),
                ..Default::default()
            }))
            .await?
            .into_inner();
        let position = issued.result.map_or(0, |r| r.position);
        Ok((agent, issued.token, position))
    }

    /// A request carrying the Owner's token.
    pub fn auth<T>(&self, message: T) -> tonic::Request<T> {
        with_token(tonic::Request::new(message), self.token())
    }

    /// Every line the server printed so far, over all runs.
    pub fn lines(&self) -> Vec<Line> {
        lock(&self.output).clone()
    }

    /// What the last (or current) run printed to stdout.
    pub fn stdout_of_last_run(&self) -> Vec<String> {
        lock(&self.output)
            .iter()
            .filter(|line| line.run == self.runs && line.stream == Stream::Stdout)
            .map(|line| line.text.clone())
            .collect()
    }

    /// Everything the server printed so far, one line each, for error messages.
    pub fn output(&self) -> String {
        format_output(&self.output)
    }

    /// Stops the server gracefully (SIGTERM) and fails unless it exits with code 0 within
    /// [`STOP_TIMEOUT`]. Does nothing when it is not running.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        if let Some(pid) = child.id() {
            // std and tokio can only SIGKILL; `kill` sends SIGTERM without a libc binding.
            let sent = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .stdin(Stdio::null())
                .status()
                .await
                .context("running `kill -TERM`")?;
            if !sent.success() && matches!(child.try_wait(), Ok(None)) {
                bail!("`kill -TERM {pid}` failed ({sent})");
            }
        }
        let status = match tokio::time::timeout(STOP_TIMEOUT, child.wait()).await {
            Ok(status) => status.context("waiting for helpdesk to exit")?,
            Err(_) => {
                child.kill().await.ok();
                self.drain_readers().await;
                bail!(
                    "helpdesk did not exit within {}s of SIGTERM (killed it); its output:\n{}",
                    STOP_TIMEOUT.as_secs(),
                    self.output()
                );
            }
        };
        self.drain_readers().await;
        if !status.success() {
            bail!(
                "helpdesk exited with {status} after SIGTERM (expected 0); its output:\n{}",
                self.output()
            );
        }
        Ok(())
    }

    /// Kills the server at once (SIGKILL), like a crash; returns how it ended.
    pub async fn kill(&mut self) -> anyhow::Result<Option<ExitStatus>> {
        let Some(mut child) = self.child.take() else {
            return Ok(None);
        };
        child.start_kill().ok();
        let status = child.wait().await.context("waiting for helpdesk to die")?;
        self.drain_readers().await;
        Ok(Some(status))
    }

    /// [`Helpdesk::stop`], then starts it again with the same data directory, NATS, token
    /// and arguments, on the same port.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.stop().await?;
        self.start_again().await
    }

    /// Starts a stopped or killed server again (same data, NATS, token, arguments, port).
    pub async fn start_again(&mut self) -> anyhow::Result<()> {
        if self.child.is_some() {
            bail!("helpdesk (pid {:?}) is already running", self.pid());
        }
        self.spawn().await
    }

    async fn spawn(&mut self) -> anyhow::Result<()> {
        self.runs += 1;
        let run = self.runs;
        let listen = match self.address {
            Some(address) => address.to_string(),
            None => "127.0.0.1:0".to_owned(),
        };
        let mut command = Command::new(&self.bin);
        command.args(&self.subcommand);
        // The gateway holds no data and reads no log: it has neither option.
        let gateway = self.subcommand.first().and_then(|w| w.to_str()) == Some("gateway");
        if !gateway {
            command.arg("--data-dir").arg(self.data_dir.path());
        }
        command.arg("--listen").arg(&listen);
        if let Some(url) = self.nats_url.as_ref().filter(|_| !gateway) {
            command.arg("--nats").arg(url);
        }
        let sets_up = matches!(
            self.subcommand.first().and_then(|w| w.to_str()),
            Some("dev" | "commands")
        );
        command.args(&self.args);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("HELPDESK_") {
                command.env_remove(key);
            }
        }
        // From the environment, as it should be: on the command line, a secret is
        // visible to other users (`ps`), and the server warns.
        if let Some(token) = self.owner_token.as_ref().filter(|_| sets_up) {
            command.env("HELPDESK_OWNER_TOKEN", token);
        }
        command
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .with_context(|| format!("running {}", self.bin.display()))?;
        let pid = child.id().unwrap_or_default();
        let (lines_tx, mut lines_rx) = mpsc::unbounded_channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        self.readers = vec![
            tokio::spawn(forward(
                stdout,
                Stream::Stdout,
                run,
                pid,
                self.output.clone(),
                Some(lines_tx),
            )),
            tokio::spawn(forward(
                stderr,
                Stream::Stderr,
                run,
                pid,
                self.output.clone(),
                None,
            )),
        ];
        self.child = Some(child);

        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        loop {
            match tokio::time::timeout_at(deadline, lines_rx.recv()).await {
                Ok(Some(line)) => {
                    if let Some(token) = line.trim_start().strip_prefix(TOKEN_PREFIX) {
                        // With --owner-token the line only says so (or masks it): keep ours.
                        if self.owner_token.is_none() {
                            if let Some(token) = token.split_whitespace().next() {
                                self.token = Some(token.to_owned());
                            }
                        }
                    }
                    if let Some(at) = line.find(READY_MARKER) {
                        let rest = &line[at + READY_MARKER.len()..];
                        let rest = rest
                            .strip_prefix("https://")
                            .or_else(|| rest.strip_prefix("http://"))
                            .unwrap_or(rest);
                        let address = rest
                            .split(|c: char| c.is_whitespace() || c == '/' || c == ')')
                            .next()
                            .unwrap_or_default();
                        let address: SocketAddr = address.parse().map_err(|err| {
                            anyhow!("cannot read the address in the ready line {line:?}: {err}")
                        })?;
                        self.address = Some(address);
                        return Ok(());
                    }
                }
                Ok(None) => {
                    // stdout closed: the process is exiting (or closed it, which is as bad).
                    let mut child = self.child.take().expect("spawned above");
                    let status =
                        match tokio::time::timeout(Duration::from_secs(5), child.wait()).await {
                            Ok(Ok(status)) => status.to_string(),
                            Ok(Err(err)) => format!("cannot wait for it: {err}"),
                            Err(_) => {
                                child.kill().await.ok();
                                "closed its stdout, killed".to_owned()
                            }
                        };
                    self.drain_readers().await;
                    bail!(
                        "helpdesk exited before it was ready ({status}); its output:\n{}",
                        self.output()
                    );
                }
                Err(_) => {
                    if let Some(mut child) = self.child.take() {
                        child.kill().await.ok();
                    }
                    self.drain_readers().await;
                    bail!(
                        "helpdesk printed no `{READY_MARKER}…` line within {}s (killed it); its \
                         output:\n{}",
                        READY_TIMEOUT.as_secs(),
                        self.output()
                    );
                }
            }
        }
    }

    /// Waits (briefly) until the output readers have seen the end of the pipes.
    async fn drain_readers(&mut self) {
        for reader in self.readers.drain(..) {
            let abort = reader.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), reader)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

/// `Bearer <token>` as a metadata value.
pub fn bearer(token: &str) -> MetadataValue<Ascii> {
    format!("Bearer {token}")
        .parse()
        .expect("a token is printable ASCII")
}

/// The request with `authorization: Bearer <token>`.
pub fn with_token<T>(mut request: tonic::Request<T>, token: &str) -> tonic::Request<T> {
    request
        .metadata_mut()
        .insert("authorization", bearer(token));
    request
}

/// Copies a pipe line by line to the test's stderr and to `output` (and to `lines`, while
/// someone listens).
async fn forward(
    pipe: impl AsyncRead + Unpin,
    stream: Stream,
    run: usize,
    pid: u32,
    output: Arc<Mutex<Vec<Line>>>,
    lines: Option<mpsc::UnboundedSender<String>>,
) {
    let mut reader = BufReader::new(pipe);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&buf)
            .trim_end_matches(['\r', '\n'])
            .to_owned();
        eprintln!("[helpdesk {pid}] {text}");
        lock(&output).push(Line {
            run,
            stream,
            text: text.clone(),
        });
        if let Some(lines) = &lines {
            // Nobody listens after the ready line: that is fine.
            let _ = lines.send(text);
        }
    }
}

fn format_output(output: &Mutex<Vec<Line>>) -> String {
    let lines = lock(output);
    if lines.is_empty() {
        return "    (nothing)".to_owned();
    }
    let mut text = String::new();
    for line in lines.iter() {
        let stream = match line.stream {
            Stream::Stdout => "out",
            Stream::Stderr => "err",
        };
        let _ = writeln!(text, "    [run {} {stream}] {}", line.run, line.text);
    }
    text
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ------------------------------------------------------------------------- gRPC helpers

/// gRPC calls that need no generated code of the API: health, reflection, and unary
/// calls with hand-written prost messages.
pub mod grpc {
    use std::time::Duration;

    use anyhow::{bail, Context as _};
    use tonic::codegen::http::uri::PathAndQuery;
    use tonic::transport::Channel;
    use tonic::{Request, Response, Status};
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;

    /// The status `grpc.health.v1.Health/Check` reports for `service` ("" = the server).
    pub async fn health(channel: Channel, service: &str) -> Result<ServingStatus, Status> {
        let response = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await?;
        Ok(response.into_inner().status())
    }

    /// Waits (up to 10 s) until `service` reports SERVING.
    pub async fn wait_serving(channel: Channel, service: &str) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let status = health(channel.clone(), service).await;
            if matches!(status, Ok(ServingStatus::Serving)) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                bail!("health of {service:?} is not SERVING after 10 s: {status:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The services listed by server reflection `grpc.reflection.v1`.
    pub async fn reflection_services_v1(channel: Channel) -> anyhow::Result<Vec<String>> {
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        use tonic_reflection::pb::v1::ServerReflectionRequest;

        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut responses = ServerReflectionClient::new(channel)
            .server_reflection_info(tokio_stream::iter([request]))
            .await
            .context("grpc.reflection.v1 ServerReflectionInfo")?
            .into_inner();
        let response = responses
            .message()
            .await?
            .context("grpc.reflection.v1 sent no response")?;
        match response.message_response {
            Some(MessageResponse::ListServicesResponse(list)) => {
                Ok(list.service.into_iter().map(|s| s.name).collect())
            }
            other => bail!("grpc.reflection.v1 answered ListServices with {other:?}"),
        }
    }

    /// The services listed by server reflection `grpc.reflection.v1alpha`.
    pub async fn reflection_services_v1alpha(channel: Channel) -> anyhow::Result<Vec<String>> {
        use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
        use tonic_reflection::pb::v1alpha::ServerReflectionRequest;

        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut responses = ServerReflectionClient::new(channel)
            .server_reflection_info(tokio_stream::iter([request]))
            .await
            .context("grpc.reflection.v1alpha ServerReflectionInfo")?
            .into_inner();
        let response = responses
            .message()
            .await?
            .context("grpc.reflection.v1alpha sent no response")?;
        match response.message_response {
            Some(MessageResponse::ListServicesResponse(list)) => {
                Ok(list.service.into_iter().map(|s| s.name).collect())
            }
            other => bail!("grpc.reflection.v1alpha answered ListServices with {other:?}"),
        }
    }

    /// A unary call to `path` (`/package.Service/Method`) with any prost messages: the
    /// wire contract, independent of the generated Rust API.
    pub async fn unary<Req, Resp>(
        channel: Channel,
        path: &'static str,
        request: Request<Req>,
    ) -> Result<Response<Resp>, Status>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        let mut client = tonic::client::Grpc::new(channel);
        client
            .ready()
            .await
            .map_err(|err| Status::unavailable(format!("channel not ready: {err}")))?;
        client
            .unary(
                request,
                PathAndQuery::from_static(path),
                tonic_prost::ProstCodec::<Req, Resp>::default(),
            )
            .await
    }
}

// ------------------------------------------------------------------------------ workloads

/// Feeding generated help desk days to a server, and reading read-model stores.
pub mod workload {
    use anyhow::{bail, Context as _};
    use helpdesk_api::{pb, CommandServiceClient};
    use helpdesk_workload::{Workload, WorkloadConfig};
    use tonic::transport::Channel;

    /// Streams the whole workload through `CommandService/Execute` with `token`; fails on
    /// any rejected command. Returns the highest log position written.
    pub async fn feed(
        channel: Channel,
        token: &str,
        config: WorkloadConfig,
    ) -> anyhow::Result<u64> {
        let total = Workload::new(config.clone()).count();
        let request = super::with_token(
            tonic::Request::new(tokio_stream::iter(Workload::new(config))),
            token,
        );
        let mut responses = CommandServiceClient::new(channel)
            .execute(request)
            .await
            .context("Execute")?
            .into_inner();
        let mut answered = 0;
        let mut last = 0;
        while let Some(response) = responses.message().await? {
            answered += 1;
            match response.result {
                Some(pb::execute_response::Result::Response(r)) => last = last.max(r.position),
                other => bail!("command #{} was refused: {other:?}", response.index),
            }
        }
        if answered != total {
            bail!("{answered} answers to {total} commands");
        }
        Ok(last)
    }

    /// Fails unless `a` and `b` (the records of one model, as `what_a` and `what_b` built
    /// it) are equal, showing the first record that differs.
    pub fn assert_same_records(
        a: &helpdesk_projections::runtime::Records,
        what_a: &str,
        b: &helpdesk_projections::runtime::Records,
        what_b: &str,
    ) {
        let first_difference = a
            .iter()
            .zip(b)
            .find(|(x, y)| x != y)
            .map(|(x, y)| format!("{what_a:>12} {x:02x?}\n{what_b:>12} {y:02x?}"));
        assert!(
            a == b,
            "the models differ: {} records {what_a}, {} {what_b}; first:\n{}",
            a.len(),
            b.len(),
            first_difference.unwrap_or_default()
        );
    }

    /// The log position a read model's store (`<data_dir>/models/<model>`) has folded and
    /// flushed: where its projector starts again (0: nothing yet). The store must not be
    /// open elsewhere.
    pub fn model_checkpoint(data_dir: &std::path::Path, model: &str) -> anyhow::Result<u64> {
        let path = data_dir.join("models").join(model);
        let db = sled::Config::new()
            .path(&path)
            .open()
            .with_context(|| format!("opening {}", path.display()))?;
        let tree = db.open_tree("model")?;
        Ok(helpdesk_projections::runtime::stored_checkpoint(&tree)?
            .map_or(0, |checkpoint| checkpoint.position))
    }

    /// The records of a read model's store (`<data_dir>/models/<model>`), without the
    /// runtime's own (checkpoint, dead letters). The store must not be open elsewhere.
    pub fn model_records(
        data_dir: &std::path::Path,
        model: &str,
    ) -> anyhow::Result<helpdesk_projections::runtime::Records> {
        let path = data_dir.join("models").join(model);
        let db = sled::Config::new()
            .path(&path)
            .open()
            .with_context(|| format!("opening {}", path.display()))?;
        let tree = db.open_tree("model")?;
        Ok(helpdesk_projections::runtime::dump(&tree)?)
    }
}

// ------------------------------------------------------------------- comparing answers

/// Asking two servers the same queries and requiring the same answers (one replica and
/// the partitions behind a gateway; a projector that lived through a failover and a
/// clean rebuild): see [`same!`](crate::same).
pub mod compare {
    use std::fmt::Debug;

    use helpdesk_api::pb;
    use tonic::transport::Channel;

    /// The two servers, what they are called in a failure, the token both are asked
    /// with, and how far both must have read.
    pub struct Pair {
        pub left: Channel,
        pub right: Channel,
        pub names: [&'static str; 2],
        pub token: String,
        pub read: Option<pb::ReadOptions>,
    }

    impl Pair {
        /// `message` with the pair's token.
        pub fn request<T>(&self, message: T) -> tonic::Request<T> {
            super::with_token(tonic::Request::new(message), &self.token)
        }
    }

    /// An answer's `position`: how far the server had read, which may differ.
    pub trait Positioned {
        fn position(&mut self) -> &mut u64;
    }

    macro_rules! positioned {
        ($($t:ty),*) => {$(
            impl Positioned for $t {
                fn position(&mut self) -> &mut u64 {
                    &mut self.position
                }
            }
        )*};
    }

    positioned!(
        pb::ListTicketsResponse,
        pb::CountTicketsResponse,
        pb::GetAgentStatsResponse,
        pb::BenchmarkResponse,
        pb::ListLevelsResponse,
        pb::GetAgentLevelResponse,
        pb::GetLevelProgressResponse,
        pb::GetLeaderboardResponse,
        pb::DryRunConditionResponse,
        pb::ListBadgesResponse,
        pb::GetAgentBadgesResponse,
        pb::GetBadgeHistoryResponse,
        pb::ReportResponse,
        pb::ChartResponse
    );

    /// Panics, showing both answers, unless they are equal.
    #[track_caller]
    pub fn assert_same<M: Debug, T: Debug + PartialEq>(
        pair: &Pair,
        what: &str,
        message: &M,
        left: &T,
        right: &T,
    ) {
        if left != right {
            let [l, r] = pair.names;
            panic!(
                "{what} differs between {l} and {r}\nrequest: {message:?}\n{l}: {left:#?}\n{r}: {right:#?}"
            );
        }
    }
}

/// Asks both servers of a [`compare::Pair`] `$client::$method($message)`; their answers
/// must be equal but for `position`, and the right one must have read as far as the
/// pair's `read` asks. Returns the left answer.
#[macro_export]
macro_rules! same {
    ($pair:expr, $client:ident, $method:ident, $message:expr) => {{
        use $crate::compare::Positioned as _;
        let pair: &$crate::compare::Pair = &$pair;
        let message = $message;
        let mut left = $client::new(pair.left.clone())
            .$method(pair.request(message.clone()))
            .await?
            .into_inner();
        let mut right = $client::new(pair.right.clone())
            .$method(pair.request(message.clone()))
            .await?
            .into_inner();
        let min = pair.read.map_or(0, |r| r.min_position);
        assert!(
            *right.position() >= min,
            "{} answered before {min}",
            pair.names[1]
        );
        *left.position() = 0;
        *right.position() = 0;
        $crate::compare::assert_same(pair, stringify!($method), &message, &left, &right);
        left
    }};
}
