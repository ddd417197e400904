//! The `helpdesk` binary as a child process: started on a free port, its ready line read,
//! its peak memory taken, killed on drop.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, Context as _};

/// Where the `helpdesk` binary is: `$HELPDESK_BIN`, else next to this program
/// (`target/release/helpdesk` when run with `cargo run --release`).
pub fn helpdesk_bin(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    let candidate = match explicit {
        Some(path) => path.to_owned(),
        None => std::env::current_exe()
            .context("finding this program")?
            .with_file_name("helpdesk"),
    };
    if !candidate.is_file() {
        bail!(
            "the helpdesk binary is not at {}: build it with `cargo build --release -p \
             helpdesk-server` (just bench does), or point --helpdesk-bin / HELPDESK_BIN at it",
            candidate.display()
        );
    }
    Ok(candidate)
}

/// A running `helpdesk` process.
pub struct Helpdesk {
    pub name: String,
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl Helpdesk {
    /// Runs `helpdesk <args>` and waits (at most `timeout`) for its ready line, which
    /// names the address (`… is ready on http://127.0.0.1:PORT …`).
    pub fn start(
        bin: &Path,
        name: &str,
        args: &[String],
        log_file: &Path,
        timeout: Duration,
    ) -> anyhow::Result<Helpdesk> {
        let log = std::fs::File::create(log_file)
            .with_context(|| format!("creating {}", log_file.display()))?;
        let mut child = Command::new(bin)
            .args(args)
            // HELPDESK_BENCH_LOG: the processes' log filter (RUST_LOG syntax), `warn` unless set.
            .env(
                "RUST_LOG",
                std::env::var("HELPDESK_BENCH_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split(" is ready on ").nth(1) {
                    let url = rest
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    let _ = tx.send(url);
                }
            }
        });
        let mut process = Helpdesk {
            name: name.to_owned(),
            child,
            url: String::new(),
        };
        match rx.recv_timeout(timeout) {
            Ok(url) => {
                process.url = url;
                Ok(process)
            }
            Err(_) => bail!(
                "helpdesk {name} did not get ready within {timeout:?}; see {}",
                log_file.display()
            ),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's peak resident memory so far, in bytes.
    pub fn peak_rss(&self) -> Option<u64> {
        crate::measure::peak_rss(self.pid())
    }
}

impl Drop for Helpdesk {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
