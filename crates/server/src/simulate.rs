//! `helpdesk simulate`: feed a running system with seeded, realistic help desk days.
//!
//! The history comes from `helpdesk_bench::Workload` and goes to the server over one
//! `CommandService/Execute` stream, as the Owner (who has `system.import`, so every
//! command names the agent it is done as and the time it happened). The days end at
//! today's midnight (UTC), so weeks of history take seconds to minutes, not weeks.
//! The same seed gives the same history; sending it twice appends nothing the second
//! time (every command id is a duplicate). Feed a fresh organization: history imported
//! after work at today's time would be stamped with that time in the read models (time
//! never runs backwards there, SPEC §1), and the configuration (routing rules) cannot
//! be changed at a time earlier than its last change.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{bail, Context as _};
use helpdesk_api::{pb, CommandServiceClient};
use helpdesk_bench::{Workload, WorkloadConfig};
use indicatif::{ProgressBar, ProgressStyle};
use tonic::metadata::MetadataValue;

use crate::engine::wall_clock;

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// The server to feed (its CommandService).
    #[arg(
        long,
        env = "HELPDESK_SERVER",
        default_value = "http://127.0.0.1:50051"
    )]
    server: String,

    /// The Owner's token (the `owner token:` line of the server's first start), or
    /// another token with `system.import` and `agents.manage`.
    #[arg(long, env = "HELPDESK_TOKEN", hide_env_values = true)]
    token: Option<String>,

    /// Agents to simulate.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    agents: u32,

    /// Days of history, ending at today's midnight (UTC).
    #[arg(long, default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..=3_650))]
    days: u32,

    /// The seed: the same seed gives the same history.
    #[arg(long, default_value_t = 7)]
    seed: u64,

    /// Departments to create.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=100))]
    departments: u32,

    /// How busy the days are (1.0: about 500 commands per agent and working day).
    #[arg(long, default_value_t = 1.0)]
    intensity: f64,

    /// For an `https://` server: a PEM file of the CA that signed its certificate.
    #[arg(long, env = "HELPDESK_TLS_CA", value_name = "PEM")]
    tls_ca: Option<std::path::PathBuf>,
}

pub async fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let token = args.token.clone().context(
        "give the Owner's token with --token or HELPDESK_TOKEN (the `owner token:` line \
         the server printed on its first start)",
    )?;
    if !(args.intensity > 0.0 && args.intensity <= 100.0) {
        bail!(
            "--intensity must be above 0 and at most 100, got {}",
            args.intensity
        );
    }
    let mut config = WorkloadConfig::new(
        args.seed,
        args.agents,
        args.days,
        WorkloadConfig::start_days_before(wall_clock().millis(), args.days),
    );
    config.departments = args.departments;
    config.intensity = args.intensity;
    // The organization's setup is recorded at the Unix epoch, so the routing rules can
    // be defined at the start of the simulated days, like everything else.
    config.config_at_wall_clock = false;

    let total = Workload::new(config.clone()).count() as u64;
    let channel = helpdesk_api::client::connect(&args.server, args.tls_ca.as_deref()).await?;
    let mut client = CommandServiceClient::new(channel)
        .max_decoding_message_size(crate::grpc::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(crate::grpc::MAX_MESSAGE_BYTES);
    eprintln!(
        "simulating {} agents over {} days (seed {}): {total} commands to {}",
        args.agents, args.days, args.seed, args.server
    );

    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template(
            "{spinner} [{bar:40}] {pos}/{len} commands ({per_sec}, {eta} left) {msg}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    let mut request = tonic::Request::new(tokio_stream::iter(Workload::new(config)));
    let bearer: MetadataValue<_> = format!("Bearer {token}")
        .parse()
        .context("the token is not printable ASCII")?;
    request.metadata_mut().insert("authorization", bearer);

    let started = Instant::now();
    let mut responses = client
        .execute(request)
        .await
        .context("the server refused the stream")?
        .into_inner();
    let mut summary = Summary::default();
    while let Some(response) = responses.message().await.context("the stream broke off")? {
        summary.add(response);
        bar.set_position(summary.total());
        if summary.rejected > 0 {
            bar.set_message(format!("{} rejected", summary.rejected));
        }
    }
    bar.finish_and_clear();
    summary.print(started.elapsed().as_secs_f64());
    if summary.total() < total {
        bail!(
            "the server answered {} of {total} commands before the stream ended",
            summary.total()
        );
    }
    Ok(())
}

/// What the server answered.
#[derive(Default)]
struct Summary {
    accepted: u64,
    duplicates: u64,
    rejected: u64,
    /// Rejections by status code, with the first message of each.
    by_code: BTreeMap<i32, (u64, String)>,
    last_position: u64,
}

impl Summary {
    fn total(&self) -> u64 {
        self.accepted + self.duplicates + self.rejected
    }

    fn add(&mut self, response: pb::ExecuteResponse) {
        match response.result {
            Some(pb::execute_response::Result::Response(r)) => {
                if r.duplicate {
                    self.duplicates += 1;
                } else {
                    self.accepted += 1;
                }
                self.last_position = self.last_position.max(r.position);
            }
            Some(pb::execute_response::Result::Error(e)) => {
                self.rejected += 1;
                let entry = self
                    .by_code
                    .entry(e.code)
                    .or_insert_with(|| (0, format!("#{}: {}", response.index, e.message)));
                entry.0 += 1;
            }
            None => self.rejected += 1,
        }
    }

    fn print(&self, seconds: f64) {
        println!(
            "{} commands in {seconds:.1} s ({:.0}/s): {} accepted, {} duplicates, {} rejected; \
             log position {}",
            self.total(),
            self.total() as f64 / seconds.max(1e-9),
            self.accepted,
            self.duplicates,
            self.rejected,
            self.last_position
        );
        for (code, (count, first)) in &self.by_code {
            println!(
                "  {count} × {:?}, the first: {first}",
                tonic::Code::from_i32(*code)
            );
        }
    }
}
