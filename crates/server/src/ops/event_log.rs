//! Which event log a process uses: the embedded one in its data directory, or NATS
//! JetStream. Every subcommand that reads or writes the log takes these options.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use helpdesk_log::{EmbeddedConfig, EmbeddedLog, EventLog, JetStreamConfig, JetStreamLog};

#[derive(Debug, Clone, clap::Args)]
pub struct LogArgs {
    /// Run on NATS JetStream at this URL (comma-separate several servers of a cluster)
    /// instead of the embedded log in the data directory. Credentials in the URL
    /// (`nats://user:password@host`) are never printed; the value of HELPDESK_NATS is not
    /// shown here.
    #[arg(
        long,
        env = "HELPDESK_NATS",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub nats: Option<String>,

    /// The JetStream stream holding the events (created when missing).
    #[arg(
        long,
        env = "HELPDESK_STREAM",
        default_value = "HELPDESK",
        requires = "nats"
    )]
    pub stream: String,

    /// The first subject token(s) of the events: subjects are `<prefix>.<kind>.<id>`.
    #[arg(
        long,
        env = "HELPDESK_SUBJECT_PREFIX",
        default_value = "helpdesk",
        requires = "nats"
    )]
    pub subject_prefix: String,

    /// Copies of each event in a NATS cluster (1, 3 or 5).
    #[arg(
        long,
        env = "HELPDESK_REPLICAS",
        default_value_t = 1,
        requires = "nats"
    )]
    pub replicas: usize,

    /// How long a command id is remembered by the log itself, in seconds. Beyond it, a
    /// retried command is still recognized by its aggregate.
    #[arg(long, env = "HELPDESK_DUPLICATE_WINDOW", default_value_t = 120)]
    pub duplicate_window_secs: u64,

    #[command(flatten)]
    pub security: crate::ops::security::NatsSecurityArgs,
}

impl LogArgs {
    /// Opens the log; returns it and a description for the ready line.
    pub async fn open(&self, data_dir: &Path) -> anyhow::Result<(Arc<dyn EventLog>, String)> {
        let duplicate_window = Duration::from_secs(self.duplicate_window_secs);
        match &self.nats {
            Some(url) => {
                crate::ops::plaintext::warn_if_plaintext_nats(
                    url,
                    self.security.nats_require_tls,
                    &self.security.credentials_given(),
                );
                let config = JetStreamConfig {
                    url: url.clone(),
                    stream: self.stream.clone(),
                    subject_prefix: self.subject_prefix.clone(),
                    replicas: self.replicas,
                    duplicate_window,
                    security: self.security.security()?,
                    ..JetStreamConfig::default()
                };
                // Printed URLs never carry credentials (`nats://user:password@…`).
                let shown = helpdesk_log::redact_url(url);
                let log = JetStreamLog::connect(config)
                    .await
                    .with_context(|| format!("cannot use NATS JetStream at {shown}"))?;
                Ok((
                    Arc::new(log),
                    format!("NATS JetStream at {shown}, stream {}", self.stream),
                ))
            }
            None => {
                let dir = data_dir.join("log");
                std::fs::create_dir_all(&dir).with_context(|| {
                    format!("cannot create the data directory {}", dir.display())
                })?;
                let config = EmbeddedConfig {
                    duplicate_window,
                    ..EmbeddedConfig::default()
                };
                // The error says why: the disk is full, another helpdesk holds the log
                // (only then), or what sled reported.
                let log = EmbeddedLog::open(&dir, config).with_context(|| {
                    format!("cannot open the embedded event log in {}", dir.display())
                })?;
                Ok((Arc::new(log), format!("embedded at {}", data_dir.display())))
            }
        }
    }

    /// Separate processes share one log: only NATS can be shared.
    pub fn require_nats(&self, what: &str) -> anyhow::Result<()> {
        if self.nats.is_none() {
            anyhow::bail!(
                "{what} runs as a separate process against NATS JetStream: give --nats <URL> \
                 (or run everything in one process with `helpdesk dev`)"
            );
        }
        Ok(())
    }
}
