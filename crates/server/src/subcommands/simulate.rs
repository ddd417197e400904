//! `helpdesk simulate`: feed a running system with seeded, realistic help desk days.
//!
//! The history comes from `helpdesk_workload::Workload` and goes to the server over one
//! `CommandService/Execute` stream, as the Owner (who has `system.import`, so every
//! command names the agent it is done as and the time it happened). The days end at
//! today's midnight (UTC), so weeks of history take seconds to minutes, not weeks.
//! The same seed gives the same history; sending it twice appends nothing the second
//! time (every command id is a duplicate).
//!
//! Feed a fresh organization: the server refuses an import older than the time its log
//! has already reached (history is never moved in time). Before it sends anything,
//! simulate asks the log's time (`AdminService/GetLogClock`) and, when the history would
//! be refused, says so in one line and stops. A history that was partly sent before (a
//! simulate or a server that was stopped midway) goes on where it stopped: its older
//! commands are duplicates, which are answered without a look at the time.
//!
//! The simulated agents are offered their chats and rung for their calls by the history
//! itself (`OfferChat`, `RingCall`), as an integration that routes by hand does. An
//! organization whose setting `system_routes` is on refuses those (docs/DISTRIBUTION.md),
//! so simulate checks the setting first and, when it is on, says so and stops.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{bail, Context as _};
use helpdesk_api::IntoCommand as _;
use helpdesk_api::{pb, AdminServiceClient, CommandServiceClient, ConfigServiceClient};
use helpdesk_workload::{Workload, WorkloadConfig};
use indicatif::{ProgressBar, ProgressStyle};
use tonic::metadata::MetadataValue;

use crate::command::engine::wall_clock;

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
    /// another token with `system.import` and `agents.manage`. On the command line it is
    /// visible to other users (`ps`): prefer HELPDESK_TOKEN or --token-file.
    #[arg(long, env = "HELPDESK_TOKEN", hide_env_values = true)]
    token: Option<String>,

    /// A file holding the token of --token (surrounding whitespace is ignored).
    #[arg(
        long,
        env = "HELPDESK_TOKEN_FILE",
        conflicts_with = "token",
        value_name = "FILE"
    )]
    token_file: Option<std::path::PathBuf>,

    /// Agents to simulate.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    agents: u32,

    /// Days of history, ending at today's midnight (UTC) unless --from says otherwise.
    #[arg(long, default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..=3_650))]
    days: u32,

    /// The first simulated day (UTC, YYYY-MM-DD), for a history that does not end today:
    /// the same seed and date give the same history on any day.
    #[arg(long, value_name = "DATE")]
    from: Option<jiff::civil::Date>,

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
    let token = crate::ops::security::secret(&args.token, &args.token_file, "--token-file")?
        .context(
            "give the Owner's token with HELPDESK_TOKEN or --token-file (the `owner token:` \
             line the server printed on its first start)",
        )?;
    if !(args.intensity > 0.0 && args.intensity <= 100.0) {
        bail!(
            "--intensity must be above 0 and at most 100, got {}",
            args.intensity
        );
    }
    let start = match args.from {
        Some(date) => date
            .to_zoned(jiff::tz::TimeZone::UTC)?
            .timestamp()
            .as_millisecond(),
        None => WorkloadConfig::start_days_before(wall_clock().millis(), args.days),
    };
    let mut config = WorkloadConfig::new(args.seed, args.agents, args.days, start);
    if config.end() > wall_clock().millis() {
        bail!(
            "--from {} with --days {} ends after today: a history must lie in the past",
            args.from.map(|d| d.to_string()).unwrap_or_default(),
            args.days
        );
    }
    config.departments = args.departments;
    config.intensity = args.intensity;
    // The organization's setup is recorded at the Unix epoch, so the routing rules can
    // be defined at the start of the simulated days, like everything else.
    config.config_at_wall_clock = false;

    let total = Workload::new(config.clone()).count() as u64;
    let channel = helpdesk_api::client::connect(&args.server, args.tls_ca.as_deref()).await?;
    let bearer: MetadataValue<_> = format!("Bearer {token}")
        .parse()
        .context("the token is not printable ASCII")?;
    let mut client = CommandServiceClient::new(channel.clone())
        .max_decoding_message_size(crate::ops::grpc::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(crate::ops::grpc::MAX_MESSAGE_BYTES);
    check_routes_by_hand(channel.clone(), &bearer).await?;
    check_log_time(channel, &mut client, &bearer, &config).await?;
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

/// Fails, in one line and before anything is sent, when the organization lets the
/// system route chats and calls: the history's own offers would be refused.
async fn check_routes_by_hand(
    channel: tonic::transport::Channel,
    bearer: &MetadataValue<tonic::metadata::Ascii>,
) -> anyhow::Result<()> {
    let mut ask = tonic::Request::new(pb::GetOrganizationSettingsRequest { read: None });
    ask.metadata_mut().insert("authorization", bearer.clone());
    let settings = ConfigServiceClient::new(channel)
        .get_organization_settings(ask)
        .await
        .context("cannot ask the server for the organization's settings")?
        .into_inner();
    if settings.system_routes {
        bail!(
            "nothing was sent: this organization lets the system offer chats and ring calls \
             (setting system_routes, docs/DISTRIBUTION.md), and the simulated history offers \
             them by hand, which is refused then. Simulate into an organization that routes \
             by hand (the default), e.g. a fresh data directory (`helpdesk dev --data-dir \
             <new dir>`), or set system_routes to false first"
        );
    }
    Ok(())
}

/// Fails, in one line and before anything is sent, when the server would refuse the
/// history because its log has already reached a later time. A history sent before in
/// part is let through: the last of its commands that is too old to be imported now is
/// sent first, alone, and comes back a duplicate.
async fn check_log_time(
    channel: tonic::transport::Channel,
    client: &mut CommandServiceClient<tonic::transport::Channel>,
    bearer: &MetadataValue<tonic::metadata::Ascii>,
    config: &WorkloadConfig,
) -> anyhow::Result<()> {
    let mut ask = tonic::Request::new(pb::GetLogClockRequest {});
    ask.metadata_mut().insert("authorization", bearer.clone());
    let clock = AdminServiceClient::new(channel)
        .get_log_clock(ask)
        .await
        .context("cannot ask the server for its log's time")?
        .into_inner();
    let Some(reached) = clock.time else {
        return Ok(()); // Nothing but the organization's setup: any history fits.
    };
    let reached = helpdesk_domain::Timestamp::from_millis(
        reached.seconds * 1000 + i64::from(reached.nanos) / 1_000_000,
    );
    let floor = reached.millis() - i64::from(clock.import_lag_max_seconds) * 1000;
    let time_of = |request: &pb::ExecuteRequest| {
        request
            .clone()
            .into_command(None)
            .ok()
            .and_then(|parsed| parsed.occurred_at)
            .map_or(i64::MAX, |t| t.millis())
    };
    let Some(too_old) = Workload::new(config.clone())
        .take_while(|request| time_of(request) < floor)
        .last()
    else {
        return Ok(());
    };
    let mut probe = tonic::Request::new(tokio_stream::iter([too_old]));
    probe.metadata_mut().insert("authorization", bearer.clone());
    let answer = client
        .execute(probe)
        .await
        .context("the server refused the stream")?
        .into_inner()
        .message()
        .await
        .context("the stream broke off")?;
    if let Some(pb::ExecuteResponse {
        result: Some(pb::execute_response::Result::Response(r)),
        ..
    }) = answer
    {
        if r.duplicate {
            return Ok(()); // Sent before: this run goes on from where that one stopped.
        }
    }
    let date = |millis: i64| helpdesk_domain::Timestamp::from_millis(millis).for_people();
    bail!(
        "nothing was sent: this server's event log has already reached {}, later than \
         the simulated history ({} to {}), and history is never moved in time. Simulate into \
         a fresh data directory: stop helpdesk, start it with `just run --data-dir data/demo` \
         (or `helpdesk dev --data-dir <new dir>`), and run simulate again",
        reached.for_people(),
        date(config.start),
        date(config.end())
    )
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
