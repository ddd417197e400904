//! `helpdesk-bench` (`just bench`): the help desk's figures, each beside a baseline
//! measured in the same run on the same machine, as a table of ratios.
//!
//! See `docs/PERFORMANCE.md` for what each row measures and the last run.

mod ingest;
mod queries;
mod rate;
mod raw;
mod replay;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{Parser, ValueEnum};
use helpdesk_bench::measure::peak_rss;
use helpdesk_bench::procs::{helpdesk_bin, Helpdesk};
use helpdesk_bench::table::{render, Row, Target, Unit};
use helpdesk_log::{EventLog, JetStreamConfig, JetStreamLog};
use helpdesk_testkit::NatsServer;
use helpdesk_workload::{Workload, WorkloadConfig};

const LONG_ABOUT: &str = "\
Benchmarks of the help desk backend. Every figure is printed beside a baseline measured in \
the same run on the same machine (raw JetStream publish and consume with async-nats, a \
trivial RPC on the same gRPC stack, the same condition as compiled Rust), with their ratio \
and the target.

Groups (--only):
  ingest   commands over gRPC to a `helpdesk commands` process: one client in sequence \
(unary calls), many clients at once, a streaming Execute import; then a steady load at \
--command-rate with the time until a `helpdesk project` process answers a query that \
waits for each command (projector lag); peak memory of each process
  queries  an agent's stats, the top-100 leaderboard and a month's department report at \
--query-rate, beside grpc.health.v1.Health/Check at the same rate (needs ingest: it \
queries the data ingest wrote; selecting it selects ingest)
  replay   a generated history of --events messages on JetStream and on the embedded \
log; on each, every read model replayed alone into a fresh store, all five in one pass, a \
level and a badge recompute preview, and a partition 0/4 of the five catching up, beside \
a raw read of the same log, with peak memory
  micro    condition evaluation beside the same condition written in Rust (the criterion \
micro-benchmarks are `just bench-micro`)

It starts its own nats-server (NATS_SERVER_BIN or PATH) on a free port and the helpdesk \
binary (--helpdesk-bin, HELPDESK_BIN, or next to this program: `cargo build --release -p \
helpdesk-server`). The default run takes about 6 to 8 minutes on 2 cores; --quick scales \
every size down for a check in about a minute.";

#[derive(Debug, Parser)]
#[command(name = "helpdesk-bench", about = "Benchmarks as ratios to baselines of the same run", long_about = LONG_ABOUT)]
struct Args {
    /// Scale everything down (100k events, short phases): a quick check, not the targets'
    /// run. Explicit sizes still win.
    #[arg(long)]
    quick: bool,

    /// Groups to run, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "micro,ingest,queries,replay"
    )]
    only: Vec<Group>,

    /// Only write the generated history (--events messages, --agents) as the embedded
    /// log of a helpdesk data directory, and stop: for timing a full rebuild in a process
    /// of its own (`/usr/bin/time -v helpdesk replay tickets stats levels badges reports
    /// --data-dir DIR`, docs/PERFORMANCE.md).
    #[arg(long, value_name = "DIR")]
    history_into: Option<PathBuf>,

    /// Messages in the generated stream the replays read [default: 1000000, quick 100000].
    #[arg(long)]
    events: Option<u64>,

    /// Agents in the generated replay history.
    #[arg(long, default_value_t = 100)]
    agents: u32,

    /// Commands sent one at a time by one client [default: 2000, quick 300].
    #[arg(long)]
    sequential: Option<usize>,

    /// Commands in the streaming Execute import [default: 30000, quick 5000].
    #[arg(long)]
    import: Option<usize>,

    /// Concurrent clients (one connection each).
    #[arg(long, default_value_t = 16)]
    clients: usize,

    /// Commands the concurrent clients send in all [default: 20000, quick 3000].
    #[arg(long)]
    concurrent: Option<usize>,

    /// Commands per second of the steady load.
    #[arg(long, default_value_t = 1000.0)]
    command_rate: f64,

    /// Seconds of steady load [default: 10, quick 4].
    #[arg(long)]
    steady_seconds: Option<u64>,

    /// Queries per second of each query measurement.
    #[arg(long, default_value_t = 10_000.0)]
    query_rate: f64,

    /// Seconds of each query measurement [default: 5, quick 2].
    #[arg(long)]
    query_seconds: Option<u64>,

    /// The helpdesk binary.
    #[arg(long, env = "HELPDESK_BIN")]
    helpdesk_bin: Option<PathBuf>,

    /// Also write the table, with the machine and the notes, as Markdown to this file.
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Group {
    Micro,
    Ingest,
    Queries,
    Replay,
}

/// The sizes of this run.
struct Sizes {
    events: u64,
    sequential: usize,
    import: usize,
    concurrent: usize,
    steady: Duration,
    query: Duration,
}

impl Sizes {
    fn of(args: &Args) -> Sizes {
        let q = args.quick;
        Sizes {
            events: args.events.unwrap_or(if q { 100_000 } else { 1_000_000 }),
            sequential: args.sequential.unwrap_or(if q { 300 } else { 2_000 }),
            import: args.import.unwrap_or(if q { 5_000 } else { 30_000 }),
            concurrent: args.concurrent.unwrap_or(if q { 3_000 } else { 20_000 }),
            steady: Duration::from_secs(args.steady_seconds.unwrap_or(if q { 4 } else { 10 })),
            query: Duration::from_secs(args.query_seconds.unwrap_or(if q { 2 } else { 5 })),
        }
    }
}

/// What a run found: the rows and what to know about them.
#[derive(Default)]
struct Report {
    rows: Vec<Row>,
    notes: Vec<String>,
}

impl Report {
    fn row(&mut self, row: Row) {
        eprintln!(
            "  {}: {:.3} (baseline {}: {:.3})",
            row.figure, row.value, row.baseline_name, row.baseline
        );
        self.rows.push(row);
    }

    fn note(&mut self, note: String) {
        eprintln!("  note: {note}");
        self.notes.push(note);
    }
}

/// The allocator of the `helpdesk` binary, so that in-process replays measure the same.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read by jemalloc when it starts (`_RJEM_MALLOC_CONF` in the
/// environment still overrides them). Pages a replay frees go back to the system within
/// a second, from a thread of jemalloc's own, instead of the default ten seconds: a
/// rebuild frees as fast as it allocates, and with the default the freed pages alone
/// held about 400 MiB at the peak of a 4-million-message rebuild of the tickets, with no
/// change in speed (docs/PERFORMANCE.md, "The seventh round").
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8] = b"background_thread:true,dirty_decay_ms:1000\0";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let sizes = Sizes::of(&args);
    if let Some(dir) = &args.history_into {
        let log_dir = dir.join("log");
        anyhow::ensure!(
            !log_dir.exists(),
            "{} holds a log already: give a fresh data directory",
            log_dir.display()
        );
        let (_, generated) = replay::generate_embedded(&log_dir, sizes.events, args.agents).await?;
        println!(
            "{} messages ({} events, {:.0} MB of envelopes) over {:.0} days written to {} in \
             {:.0} s",
            generated.messages,
            generated.events,
            generated.bytes as f64 / 1e6,
            generated.days,
            log_dir.display(),
            generated.seconds
        );
        return Ok(());
    }
    let mut groups = args.only.clone();
    if groups.contains(&Group::Queries) && !groups.contains(&Group::Ingest) {
        groups.push(Group::Ingest);
    }
    let started = Instant::now();
    let mut report = Report::default();
    let nats = NatsServer::start().context("starting nats-server")?;
    let url = nats.url();
    eprintln!("nats-server at {url}");
    let raw = raw::Raw::connect(&url).await?;
    let temp = tempfile::Builder::new()
        .prefix("helpdesk-bench-")
        .tempdir()?;
    // HELPDESK_BENCH_KEEP=1 keeps the processes' logs and stores for a look afterwards.
    let (_temp, work) = if std::env::var_os("HELPDESK_BENCH_KEEP").is_some() {
        let kept = temp.keep();
        eprintln!("keeping the logs and stores in {}", kept.display());
        (None, kept)
    } else {
        let path = temp.path().to_owned();
        (Some(temp), path)
    };

    if groups.contains(&Group::Micro) {
        eprintln!("== micro: condition evaluation");
        micro(&mut report);
    }
    if groups.contains(&Group::Ingest) {
        let bin = helpdesk_bin(args.helpdesk_bin.as_deref())?;
        ingest_and_queries(
            &args,
            &sizes,
            &groups,
            &bin,
            &nats,
            &raw,
            &work,
            &mut report,
        )
        .await?;
    }
    if groups.contains(&Group::Replay) {
        replay_group(&args, &sizes, &nats, &raw, &work, &mut report).await?;
    }

    let table = render(&report.rows);
    let took = started.elapsed().as_secs_f64();
    println!();
    println!("{table}");
    for note in &report.notes {
        println!("- {note}");
    }
    let missed: Vec<&str> = report
        .rows
        .iter()
        .filter(|r| r.met() == Some(false))
        .map(|r| r.figure.as_str())
        .collect();
    println!(
        "\n{} rows, {} with targets, {} missed; {took:.0} s in all.",
        report.rows.len(),
        report.rows.iter().filter(|r| r.met().is_some()).count(),
        missed.len()
    );
    if let Some(path) = &args.markdown {
        std::fs::write(path, markdown(&args, &report, &table, took)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("written to {}", path.display());
    }
    Ok(())
}

fn mib(bytes: Option<u64>) -> f64 {
    bytes.map_or(f64::NAN, |b| b as f64 / (1024.0 * 1024.0))
}

fn ms(d: Option<Duration>) -> f64 {
    d.map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
}

/// Condition evaluation: the King level's condition (the longest default one) compiled
/// by the rules crate, beside the same expression written in Rust.
fn micro(report: &mut Report) {
    use helpdesk_rules::condition::{compile, Values, Variable};
    use helpdesk_rules::defaults::LEVELS;
    use std::hint::black_box;

    let king = LEVELS[11].condition;
    let condition = compile(king).expect("the default conditions compile");
    let mut inputs = Vec::new();
    for i in 0..1024u32 {
        let v = f64::from(i);
        inputs.push(
            Values::new()
                .with(Variable::Answers, v * 40.0)
                .with(Variable::Chats, v * 13.0)
                .with(Variable::Calls, v * 7.0)
                .with(Variable::Worktime, v * 5.0)
                .with(Variable::RewardsP, f64::from(i % 100)),
        );
    }
    let native = |v: &Values| {
        v.get(Variable::Answers) + v.get(Variable::Chats) + v.get(Variable::Calls) >= 50_000.0
            && v.get(Variable::Worktime) >= 5_000.0
            && v.get(Variable::RewardsP) >= 60.0
    };
    // Both must agree, or the comparison means nothing.
    for v in &inputs {
        assert_eq!(condition.holds(v), native(v), "{king}");
    }
    let rounds = 4_000;
    let time = |f: &dyn Fn(&Values) -> bool| {
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            let started = Instant::now();
            let mut count = 0u32;
            for _ in 0..rounds {
                for v in &inputs {
                    count += u32::from(f(black_box(v)));
                }
            }
            black_box(count);
            best = best.min(started.elapsed().as_secs_f64() * 1e9 / (rounds * inputs.len()) as f64);
        }
        best
    };
    let compiled_ns = time(&|v| condition.holds(v));
    let native_ns = time(&native);
    report.row(
        Row::info(
            "condition evaluation (King level), ns per call",
            compiled_ns,
            "same condition as compiled Rust",
            native_ns,
            Unit::Nanos,
        )
        .with_target(Target::AtMost(100.0)),
    );
}

/// The average payload size of the log's messages in `(from, to]`.
async fn average_payload(log: &JetStreamLog, from: u64, to: u64) -> anyhow::Result<usize> {
    let (mut next, mut count, mut bytes) = (from + 1, 0usize, 0usize);
    while next <= to {
        let batch = log.read(next, 10_000).await?;
        let Some(last) = batch.last() else { break };
        next = last.position + 1;
        for stored in batch.iter().filter(|s| s.position <= to) {
            count += 1;
            bytes += stored.payload.len();
        }
    }
    Ok(bytes.checked_div(count).unwrap_or(0))
}

#[allow(clippy::too_many_arguments)]
async fn ingest_and_queries(
    args: &Args,
    sizes: &Sizes,
    groups: &[Group],
    bin: &std::path::Path,
    nats: &NatsServer,
    raw: &raw::Raw,
    work: &std::path::Path,
    report: &mut Report,
) -> anyhow::Result<()> {
    let url = nats.url();
    let token = format!("hd_{}", "b".repeat(40));
    let common = |data: &str| -> Vec<String> {
        vec![
            "--nats".into(),
            url.clone(),
            "--data-dir".into(),
            work.join(data).display().to_string(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--rate-limit".into(),
            "0".into(),
        ]
    };
    eprintln!("== ingest: starting `helpdesk commands`");
    let mut command_args = vec!["commands".to_string()];
    command_args.extend(common("commands"));
    command_args.extend(["--owner-token".into(), token.clone()]);
    let commands = Helpdesk::start(
        bin,
        "commands",
        &command_args,
        &work.join("commands.log"),
        Duration::from_secs(60),
    )?;
    let log = JetStreamLog::connect(JetStreamConfig {
        url: url.clone(),
        ..JetStreamConfig::default()
    })
    .await?;

    // The history: 20 agents' days from a fixed Monday (2025-03-03), so that every run
    // measures the same weekdays and weekends whatever its date.
    let days = 14;
    let mut cfg = WorkloadConfig::new(7, 20, days, 1_740_960_000_000);
    cfg.config_at_wall_clock = false;
    let mut workload = Workload::new(cfg.clone());
    let sequential: Vec<_> = workload.by_ref().take(sizes.sequential).collect();
    let import: Vec<_> = workload.by_ref().take(sizes.import).collect();
    let agents: Vec<String> = workload.agent_ids().iter().map(|a| a.to_string()).collect();
    let departments: Vec<String> = workload
        .department_ids()
        .iter()
        .map(|d| d.to_string())
        .collect();

    let p0 = log.last_position().await?;
    let in0 = nats.messages_in()?;
    eprintln!("== ingest: {} commands in sequence", sequential.len());
    let seq = ingest::sequential(&commands.url, &token, &sequential).await?;
    let p1 = log.last_position().await?;
    let in1 = nats.messages_in()?;
    eprintln!("== ingest: streaming import of {} commands", import.len());
    let imported = ingest::import(&commands.url, &token, import).await?;
    let p2 = log.last_position().await?;
    let in2 = nats.messages_in()?;
    eprintln!(
        "== ingest: {} clients, {} commands",
        args.clients, sizes.concurrent
    );
    let conc = ingest::concurrent(
        &commands.url,
        &token,
        args.clients,
        sizes.concurrent,
        &departments,
    )
    .await?;
    let p3 = log.last_position().await?;
    let in3 = nats.messages_in()?;
    let seq_size = average_payload(&log, p0, p1).await?;
    let import_size = average_payload(&log, p1, p2).await?;
    let conc_size = average_payload(&log, p2, p3).await?;

    eprintln!("== ingest: raw JetStream baselines");
    raw.fresh_stream("RAW", "raw").await?;
    let raw_in0 = nats.messages_in()?;
    let raw_sync = raw
        .publish_sync("raw", (p1 - p0) as usize, seq_size)
        .await?;
    let raw_requests = (nats.messages_in()? - raw_in0) as f64 / (p1 - p0) as f64;
    let raw_async_import = raw
        .publish_async("raw", (p2 - p1) as usize, import_size)
        .await?;
    let raw_async_conc = raw
        .publish_async("raw", (p3 - p2) as usize, conc_size)
        .await?;
    report.row(Row::info(
        "ingest: 1 client in sequence (unary), commands/s",
        seq.rate(),
        format!("raw sync publish, {} × {seq_size} B", p1 - p0),
        raw_sync,
        Unit::PerSecond,
    ));
    report.row(Row::info(
        format!(
            "ingest: {} concurrent clients (CreateTicket), commands/s",
            args.clients
        ),
        conc.rate(),
        format!("raw async publish, {} × {conc_size} B", p3 - p2),
        raw_async_conc,
        Unit::PerSecond,
    ));
    report.row(
        Row::info(
            "ingest: streaming Execute import, commands/s",
            imported.rate(),
            format!("raw async publish, {} × {import_size} B", p2 - p1),
            raw_async_import,
            Unit::PerSecond,
        )
        .with_target(Target::RatioAtLeast(0.5)),
    );
    report.row(Row::info(
        "ingest: streaming Execute import, commands/s",
        imported.rate(),
        "raw sync publish (above)",
        raw_sync,
        Unit::PerSecond,
    ));
    // What each command costs nats-server: the messages clients sent it per command
    // (the command service's requests and publishes, and the flow control of its tail).
    for (how, commands, messages_in) in [
        (
            "1 client in sequence",
            seq.accepted + seq.rejected,
            in1 - in0,
        ),
        (
            "streaming Execute import",
            imported.accepted + imported.rejected,
            in2 - in1,
        ),
        (
            "concurrent clients",
            conc.accepted + conc.rejected,
            in3 - in2,
        ),
    ] {
        report.row(Row::info(
            format!("NATS requests per command: {how}"),
            messages_in as f64 / commands.max(1) as f64,
            "raw sync publish: per message",
            raw_requests,
            Unit::Each,
        ));
    }
    report.note(format!(
        "ingest: in sequence {} accepted, {} refused; import {} accepted, {} refused \
         ({} log messages); concurrent {} accepted, {} refused",
        seq.accepted,
        seq.rejected,
        imported.accepted,
        imported.rejected,
        p2 - p1,
        conc.accepted,
        conc.rejected
    ));

    eprintln!("== lag: starting `helpdesk project` with the five models");
    let mut project_args = vec![
        "project".to_string(),
        "tickets".into(),
        "stats".into(),
        "levels".into(),
        "badges".into(),
        "reports".into(),
    ];
    project_args.extend(common("projectors"));
    let projectors = Helpdesk::start(
        bin,
        "project",
        &project_args,
        &work.join("project.log"),
        Duration::from_secs(60),
    )?;
    // Caught up with everything so far before the clock starts.
    let caught_up = Instant::now();
    let end = log.last_position().await?;
    wait_caught_up(&projectors.url, &token, end).await?;
    report.note(format!(
        "the projector process folded the {end} messages of ingest in {:.1} s before the \
         steady load",
        caught_up.elapsed().as_secs_f64()
    ));

    eprintln!(
        "== lag: {} commands/s for {} s",
        args.command_rate,
        sizes.steady.as_secs()
    );
    let (latencies, lags) = ingest::steady(
        &commands.url,
        &projectors.url,
        &token,
        args.command_rate,
        sizes.steady,
        4,
        2,
        &departments,
    )
    .await?;
    raw.fresh_stream("RAW", "raw").await?;
    let (raw_acks, raw_lags) = raw
        .publish_at_rate("RAW", "raw", args.command_rate, sizes.steady, conc_size)
        .await?;
    let rate = args.command_rate;
    for p in [50.0, 99.0] {
        let mut row = Row::info(
            format!("command p{p} at {rate}/s (CreateTicket), ms"),
            ms(latencies.percentile(p)),
            format!("raw publish ack p{p} at {rate}/s"),
            ms(raw_acks.percentile(p)),
            Unit::Millis,
        );
        if p == 99.0 {
            row = row.with_target(Target::AtMost(2.0));
        }
        report.row(row);
    }
    for p in [50.0, 99.0] {
        let mut row = Row::info(
            format!("lag p{p} at {rate}/s: ack → visible in a query, ms"),
            ms(lags.percentile(p)),
            format!("raw ack → ordered consumer p{p}"),
            ms(raw_lags.percentile(p)),
            Unit::Millis,
        );
        if p == 99.0 {
            row = row.with_target(Target::AtMost(50.0));
        }
        report.row(row);
    }
    report.note(format!(
        "steady load: {} commands answered, {} failed; {} lag samples (every 2nd command), \
         {} failed; raw: {} acks, {} deliveries missing",
        latencies.len(),
        latencies.errors,
        lags.len(),
        lags.errors,
        raw_acks.len(),
        raw_lags.errors
    ));

    if groups.contains(&Group::Queries) {
        let end = log.last_position().await?;
        wait_caught_up(&projectors.url, &token, end).await?;
        let qrate = args.query_rate;
        eprintln!("== queries: {qrate}/s for {} s each", sizes.query.as_secs());
        let to = cfg.end();
        let month = queries::Query::MonthReport {
            from: queries::date(to - 30 * helpdesk_workload::DAY),
            to: queries::date(to),
        };
        let mut measured = Vec::new();
        let mut alone_p50 = Vec::new();
        for (name, query) in [
            ("trivial RPC (Health/Check)", queries::Query::Health),
            (
                "agent stats (last 7 days)",
                queries::Query::AgentStats(agents.clone()),
            ),
            ("top-100 leaderboard", queries::Query::Leaderboard),
            ("month's report by department", month),
        ] {
            let alone =
                queries::closed_loop(&projectors.url, &token, &query, Duration::from_secs(1))
                    .await?;
            let (latencies, error) =
                queries::at_fixed_rate(&projectors.url, &token, query, qrate, sizes.query, 4)
                    .await?;
            eprintln!(
                "  {name}: {} answered, {} failed",
                latencies.len(),
                latencies.errors
            );
            if let Some(error) = error {
                report.note(format!(
                    "queries: {name} at {qrate}/s: {} failed, the first with {:?}: {}",
                    latencies.errors,
                    error.code(),
                    error.message()
                ));
            }
            alone_p50.push((name, ms(alone.percentile(50.0))));
            measured.push((name, latencies));
        }
        let (_, health_alone) = alone_p50[0];
        for (name, p50) in alone_p50.iter().skip(1) {
            report.row(Row::info(
                format!("query p50 one at a time (1 client): {name}, ms"),
                *p50,
                "Health/Check p50 one at a time",
                health_alone,
                Unit::Millis,
            ));
        }
        let (_, health) = measured.remove(0);
        for (name, latencies) in measured {
            for p in [50.0, 99.0] {
                let mut row = Row::info(
                    format!("query p{p} at {qrate}/s: {name}, ms"),
                    ms(latencies.percentile(p)),
                    format!("Health/Check p{p} at {qrate}/s"),
                    ms(health.percentile(p)),
                    Unit::Millis,
                );
                if p == 99.0 {
                    row = row.with_target(Target::AtMost(2.0));
                }
                report.row(row);
            }
        }
    }

    let nats_peak = mib(nats.pid().and_then(peak_rss));
    for process in [&commands, &projectors] {
        report.row(Row::info(
            format!("peak memory: helpdesk {}, MiB", process.name),
            mib(process.peak_rss()),
            "nats-server (same run, so far)",
            nats_peak,
            Unit::MiB,
        ));
    }
    drop(projectors);
    drop(commands);
    let _ = raw.js.delete_stream("RAW").await;
    Ok(())
}

/// Waits until the projector process's tickets, stats, levels and reports models have
/// reached `position`.
async fn wait_caught_up(url: &str, token: &str, position: u64) -> anyhow::Result<()> {
    use helpdesk_api::{
        pb, LevelServiceClient, ReportServiceClient, StatsServiceClient, TicketServiceClient,
    };
    let channel = ingest::channel(url).await?;
    let read = || {
        Some(pb::ReadOptions {
            min_position: position,
            wait_ms: 60_000,
        })
    };
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let tickets = TicketServiceClient::new(channel.clone())
            .count_tickets(ingest::authorized(
                token,
                pb::CountTicketsRequest { read: read() },
            ))
            .await;
        let levels = LevelServiceClient::new(channel.clone())
            .get_leaderboard(ingest::authorized(
                token,
                pb::GetLeaderboardRequest {
                    limit: 1,
                    read: read(),
                },
            ))
            .await;
        let stats = StatsServiceClient::new(channel.clone())
            .benchmark(ingest::authorized(
                token,
                pb::BenchmarkRequest {
                    statistic: "answers".into(),
                    read: read(),
                    ..Default::default()
                },
            ))
            .await;
        let reports = ReportServiceClient::new(channel.clone())
            .get_report(ingest::authorized(
                token,
                pb::ReportRequest {
                    from: "2020-01-01".into(),
                    to: "2020-01-01".into(),
                    read: read(),
                    ..Default::default()
                },
            ))
            .await;
        if tickets.is_ok() && levels.is_ok() && stats.is_ok() && reports.is_ok() {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the projector process did not reach position {position}: {:?} {:?} {:?} {:?}",
            tickets.err(),
            levels.err(),
            stats.err(),
            reports.err()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn replay_group(
    args: &Args,
    sizes: &Sizes,
    nats: &NatsServer,
    raw: &raw::Raw,
    work: &std::path::Path,
    report: &mut Report,
) -> anyhow::Result<()> {
    let url = nats.url();
    eprintln!(
        "== replay: generating and publishing {} messages",
        sizes.events
    );
    let generated = replay::generate(raw, &url, sizes.events, args.agents).await?;
    report.note(format!(
        "replay stream: {} messages holding {} events ({:.0} MB of envelopes, {:.0} B each) \
         from {} agents over {:.1} days, generated and published in {:.1} s",
        generated.messages,
        generated.events,
        generated.bytes as f64 / 1e6,
        generated.bytes as f64 / generated.messages as f64,
        generated.agents,
        generated.days,
        generated.seconds
    ));
    eprintln!("== replay on NATS: raw consume");
    let (ordered, pull) = replay::raw_consume(raw, generated.messages).await?;
    let best = if pull.rate >= ordered.rate {
        &pull
    } else {
        &ordered
    };
    report.row(Row::info(
        "raw ordered consume (what the log's replay uses), msg/s",
        ordered.rate,
        "raw pull consume, no acks",
        pull.rate,
        Unit::PerSecond,
    ));
    let log = replay::nats_log(&url).await?;
    let read = replay::read_log(&log, generated.messages).await?;
    eprintln!("== replay on NATS: each model, all five in one pass, recomputes, a partition");
    let replayed = replay::replay_all(log, &work.join("replay-nats"), generated.messages).await?;
    replay_rows(
        report,
        "on NATS",
        best,
        &read,
        &replayed,
        generated.messages,
    );
    report.row(Row::info(
        "peak memory: nats-server, MiB",
        mib(nats.pid().and_then(peak_rss)),
        "bench process during raw consume",
        mib(ordered.peak),
        Unit::MiB,
    ));

    eprintln!(
        "== replay on the embedded log: generating and appending {} messages",
        sizes.events
    );
    let (log, embedded) =
        replay::generate_embedded(&work.join("embedded-log"), sizes.events, args.agents).await?;
    report.note(format!(
        "embedded log: the same history, {} messages appended in batches of 1,000 in {:.1} s",
        embedded.messages, embedded.seconds
    ));
    let scan = replay::read_log(&log, embedded.messages).await?;
    let scan = replay::Replayed {
        name: "raw scan of the embedded log".into(),
        ..scan
    };
    eprintln!("== replay on the embedded log: each model, all five, recomputes, a partition");
    let replayed =
        replay::replay_all(log, &work.join("replay-embedded"), embedded.messages).await?;
    replay_rows(
        report,
        "on the embedded log",
        &scan,
        &scan,
        &replayed,
        embedded.messages,
    );
    Ok(())
}

/// The rows of one backend's replays: rates beside `baseline` (the targets: each model
/// alone ≥ 0.7×, all five in one pass ≥ 0.5×), the badge recompute preview's time (under
/// 10 s a million messages), and peak memory beside the log read alone.
fn replay_rows(
    report: &mut Report,
    backend: &str,
    baseline: &replay::Replayed,
    read: &replay::Replayed,
    replayed: &[replay::Replayed],
    messages: u64,
) {
    if !std::ptr::eq(baseline, read) {
        report.row(Row::info(
            format!("replay {backend}: the log read, nothing folded, msg/s"),
            read.rate,
            baseline.name.clone(),
            baseline.rate,
            Unit::PerSecond,
        ));
    }
    for (index, r) in replayed.iter().enumerate() {
        let target = match index {
            0..=4 => Target::RatioAtLeast(0.7),
            5 => Target::RatioAtLeast(0.5),
            _ => Target::None,
        };
        report.row(
            Row::info(
                format!("replay {backend}: {}, msg/s", r.name),
                r.rate,
                baseline.name.clone(),
                baseline.rate,
                Unit::PerSecond,
            )
            .with_target(target),
        );
    }
    if let Some(badges) = replayed.iter().find(|r| r.name.contains("badge recompute")) {
        report.row(
            Row::info(
                format!("replay {backend}: a badge recompute preview, s"),
                badges.seconds,
                format!("{} at the same rate", baseline.name),
                messages as f64 / baseline.rate,
                Unit::Seconds,
            )
            .with_target(Target::AtMost(10.0 * messages as f64 / 1_000_000.0)),
        );
    }
    for r in replayed {
        report.row(Row::info(
            format!(
                "peak memory: replay {backend}: {} (bench process), MiB",
                r.name
            ),
            mib(r.peak),
            format!("{} (same process)", read.name),
            mib(read.peak),
            Unit::MiB,
        ));
    }
}

fn markdown(args: &Args, report: &Report, table: &str, took: f64) -> anyhow::Result<String> {
    let mut out = String::new();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let nats = std::process::Command::new(helpdesk_testkit::nats_server_bin()?)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "Run of `helpdesk-bench {}` on {cores} cores ({cpu}), {nats}; {took:.0} s.\n",
        std::env::args().skip(1).collect::<Vec<_>>().join(" ")
    );
    let _ = args;
    out.push_str(table);
    out.push('\n');
    for note in &report.notes {
        let _ = writeln!(out, "- {note}");
    }
    Ok(out)
}
