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
//! Who offers the chats and rings for the calls follows the organization's setting
//! `system_routes` (docs/DISTRIBUTION.md), read before anything is sent:
//!
//! - off (the default): the history offers them itself (`OfferChat`, `RingCall`), as an
//!   integration that routes by hand does, and goes over one stream without waiting;
//! - on: the history only starts them; the system offers each to the agent its rules
//!   choose, and that agent plays the script. No query shows whom a conversation is
//!   offered to, so the generator follows the documented rules to know it
//!   (`helpdesk_workload` module `distribution`) and the server checks every pairing:
//!   only the offered agent may accept. After each request that lets the system offer
//!   (a start, an agent going online, resuming, taking or declining an offer), simulate
//!   waits, with read-your-writes on the request's log position plus the offers expected,
//!   until the system's offers are in the log, and only then sends the next one: the
//!   system chooses from exactly what the history says at that moment, so the same seed
//!   gives the same log. A refusal stops simulate (the history and the system disagree).

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{bail, Context as _};
use helpdesk_api::IntoCommand as _;
use helpdesk_api::{
    pb, AdminServiceClient, CommandServiceClient, ConfigServiceClient, RosterServiceClient,
};
use helpdesk_workload::{Workload, WorkloadConfig};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::watch;
use tokio_stream::wrappers::ReceiverStream;
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

    /// Let the system offer the chats and ring for the calls (docs/DISTRIBUTION.md): turns
    /// the organization setting `system_routes` on at the start of the simulated days,
    /// as the history's first command. Without it, the history follows the setting as it
    /// is (off: it offers them itself).
    #[arg(long)]
    system_routes: bool,

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
    let (routes, routing_seconds) =
        system_routes(channel.clone(), &bearer, args.system_routes).await?;
    if routes || args.system_routes {
        config.system_routes = Some(routing_seconds);
    }
    // The history differs when the system routes: count it as it will be sent.
    let total = match config.system_routes {
        Some(_) => Workload::new(config.clone()).count() as u64,
        None => total,
    };
    check_log_time(channel.clone(), &mut client, &bearer, &config).await?;
    if args.system_routes && !routes {
        let mut turn_on = tonic::Request::new(pb::SetOrganizationSettingsRequest {
            occurred_at: Some(helpdesk_api::convert::timestamp_from_millis(config.start)),
            system_routes: Some(true),
            ..Default::default()
        });
        turn_on
            .metadata_mut()
            .insert("authorization", bearer.clone());
        client
            .set_organization_settings(turn_on)
            .await
            .context("cannot turn the setting system_routes on")?;
    }
    eprintln!(
        "simulating {} agents over {} days (seed {}): {total} commands to {}{}",
        args.agents,
        args.days,
        args.seed,
        args.server,
        match config.system_routes {
            Some(_) => ", the system offering the chats and calls",
            None => "",
        }
    );

    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template(
            "{spinner} [{bar:40}] {pos}/{len} commands ({per_sec}, {eta} left) {msg}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    let started = Instant::now();
    if config.system_routes.is_some() {
        let summary = send_in_step_with_the_system(channel, client, bearer, config, &bar).await;
        bar.finish_and_clear();
        let summary = summary?;
        summary.print(started.elapsed().as_secs_f64());
        return Ok(());
    }
    let mut request = tonic::Request::new(tokio_stream::iter(Workload::new(config)));
    request.metadata_mut().insert("authorization", bearer);

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

/// Whether the organization lets the system route chats and calls, and its routing time.
/// Fails, before anything is sent, when the system is to route (already, or `turn_on`)
/// with auto-pause on: a simulated agent who declines an offer would be paused by the
/// system, which the history does not expect.
async fn system_routes(
    channel: tonic::transport::Channel,
    bearer: &MetadataValue<tonic::metadata::Ascii>,
    turn_on: bool,
) -> anyhow::Result<(bool, u32)> {
    let mut ask = tonic::Request::new(pb::GetOrganizationSettingsRequest { read: None });
    ask.metadata_mut().insert("authorization", bearer.clone());
    let settings = ConfigServiceClient::new(channel)
        .get_organization_settings(ask)
        .await
        .context("cannot ask the server for the organization's settings")?
        .into_inner();
    if (settings.system_routes || turn_on) && settings.auto_pause {
        bail!(
            "nothing was sent: this organization lets the system offer chats and calls \
             (system_routes, or --system-routes) with auto_pause on, and the simulated \
             agents, who decline some offers, do not expect to be paused for it. Set \
             auto_pause to false first, or simulate into a fresh data directory \
             (`helpdesk dev --data-dir <new dir>`)"
        );
    }
    Ok((settings.system_routes, settings.routing_seconds))
}

/// What the responses said so far, for the sender to wait on.
#[derive(Debug, Clone, Default)]
struct Answered {
    count: u64,
    /// The log position of the last answer.
    position: u64,
    /// The first refusal: request index, what was refused and why.
    refused: Option<String>,
    /// The stream ended (or broke off, with why).
    ended: Option<String>,
}

/// Sends the history when the system routes: one stream, but after each request the
/// system answers with offers, the next request waits until they are in the log (the
/// request's own answer gives its position; a read with `min_position` that position
/// plus the offers expected returns once they are folded). Stops at the first refusal.
async fn send_in_step_with_the_system(
    channel: tonic::transport::Channel,
    mut client: CommandServiceClient<tonic::transport::Channel>,
    bearer: MetadataValue<tonic::metadata::Ascii>,
    config: WorkloadConfig,
    bar: &ProgressBar,
) -> anyhow::Result<Summary> {
    let (requests, stream) = tokio::sync::mpsc::channel::<pb::ExecuteRequest>(1024);
    let mut request = tonic::Request::new(ReceiverStream::new(stream));
    request
        .metadata_mut()
        .insert("authorization", bearer.clone());
    let mut responses = client
        .execute(request)
        .await
        .context("the server refused the stream")?
        .into_inner();
    let (answered_tx, mut answered) = watch::channel(Answered::default());
    let reader_bar = bar.clone();
    let reader = tokio::spawn(async move {
        let mut summary = Summary::default();
        let ended = loop {
            match responses.message().await {
                Ok(Some(response)) => {
                    let refused = match &response.result {
                        Some(pb::execute_response::Result::Error(e)) => Some(format!(
                            "#{} was refused ({:?}): {}",
                            response.index,
                            tonic::Code::from_i32(e.code),
                            e.message
                        )),
                        _ => None,
                    };
                    summary.add(response);
                    reader_bar.set_position(summary.total());
                    answered_tx.send_modify(|a| {
                        a.count = summary.total();
                        a.position = summary.last_position;
                        a.refused = a.refused.take().or(refused);
                    });
                }
                Ok(None) => break "the stream ended".to_owned(),
                Err(status) => break format!("the stream broke off: {status}"),
            }
        };
        answered_tx.send_modify(|a| a.ended = Some(ended));
        summary
    });

    // The roster's read model follows the log's tail closely and answers a read with
    // `min_position` as soon as it has folded that far.
    let mut roster = RosterServiceClient::new(channel);
    let mut workload = Workload::new(config);
    let mut sent = 0u64;
    let (mut offers_made, mut waited) = (0u64, std::time::Duration::ZERO);
    while let Some((request, offers)) = workload.next_step() {
        if requests.send(request).await.is_err() {
            break; // The stream is over: the reader says why.
        }
        sent += 1;
        if offers == 0 {
            continue;
        }
        let waiting = Instant::now();
        let now = answered
            .wait_for(|a| a.count >= sent || a.refused.is_some() || a.ended.is_some())
            .await
            .context("the stream's reader stopped")?
            .clone();
        if let Some(refused) = now.refused.or(now.ended.filter(|_| now.count < sent)) {
            bail!(disagreement(&refused));
        }
        let mut wait = tonic::Request::new(pb::GetAgentRequest {
            agent_id: String::new(), // The caller: the Owner.
            read: Some(pb::ReadOptions {
                min_position: now.position + u64::from(offers),
                wait_ms: 20_000,
            }),
        });
        wait.metadata_mut().insert("authorization", bearer.clone());
        let offered = roster.get_agent(wait).await;
        offers_made += u64::from(offers);
        waited += waiting.elapsed();
        if let Err(status) = offered {
            bail!(
                "the system did not offer the {offers} conversation(s) the simulated history \
                 expects after request #{} (log position {}): {}. Simulate into a fresh \
                 organization (docs/DISTRIBUTION.md, Simulated history)",
                sent - 1,
                now.position,
                status.message()
            );
        }
    }
    drop(requests);
    let mut summary = reader.await.context("the stream's reader failed")?;
    summary.system_offers = Some((offers_made, waited.as_secs_f64()));
    if let Some(refused) = answered.borrow().refused.clone() {
        bail!(disagreement(&refused));
    }
    if summary.total() < sent {
        bail!(
            "the server answered {} of {sent} commands before the stream ended",
            summary.total()
        );
    }
    Ok(summary)
}

/// A refusal while the system routes: the system and the simulated history disagree.
fn disagreement(refused: &str) -> String {
    format!(
        "request {refused}. The simulated history follows the system's offers as \
         docs/DISTRIBUTION.md describes them; a refusal means the organization differs from \
         what it expects (agents, departments or routing rules of its own, a history sent \
         before): simulate into a fresh organization"
    )
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
    /// When the system routed: its offers, and the seconds spent waiting for them.
    system_offers: Option<(u64, f64)>,
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
        if let Some((offers, waited)) = self.system_offers {
            println!("  waited {waited:.1} s in all for the system's {offers} offers");
        }
        for (code, (count, first)) in &self.by_code {
            println!(
                "  {count} × {:?}, the first: {first}",
                tonic::Code::from_i32(*code)
            );
        }
    }
}
