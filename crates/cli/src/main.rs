//! `hdctl`: the help desk backend for people at a terminal.
//!
//! A thin gRPC client: it asks a running server (`helpdesk dev`, or the services of a
//! split deployment) and prints tables, or CSV for spreadsheets. Every request carries
//! `authorization: Bearer <token>` from `--token` or `HELPDESK_TOKEN`.

mod agent;
mod badges;
mod format;
mod names;
mod report;
mod roster;
mod routing;

use anyhow::{bail, Context as _};
use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use helpdesk_api::pb;
use helpdesk_api::{
    AdminServiceClient, ConfigServiceClient, LevelServiceClient, TicketServiceClient,
};
use indicatif::{ProgressBar, ProgressStyle};
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;

use crate::format::{number, print_table, time_or_blank, yes_no, zoned_header};

/// Reports, leaderboards, badges, agents and ticket counts from a running help desk
/// backend, for people: names instead of ids, lengths of time as `1h 23m`, times in the
/// organization's time zone.
#[derive(Debug, Parser)]
#[command(
    name = "hdctl",
    version,
    after_help = "Examples:
  export HELPDESK_TOKEN=…        (the Owner's is the `owner token:` line of the first start)
  hdctl agent \"Ada Lovelace\"     one agent: level, progress, statistics, badges
  hdctl leaderboard              agents by level, with when they reached it
  hdctl badges --history         who was awarded which badge, and why
  hdctl report --from 2026-11-01 --to 2026-11-30 --group-by agent --sort answers

`hdctl <command> --help` explains each command."
)]
struct Cli {
    /// The server to ask.
    #[arg(
        long,
        global = true,
        help_heading = "Connection",
        env = "HELPDESK_SERVER",
        default_value = "http://127.0.0.1:50051"
    )]
    server: String,

    /// Your token (the Owner's is the `owner token:` line of the server's first start).
    /// On the command line it is visible to other users (`ps`): prefer HELPDESK_TOKEN or
    /// --token-file.
    #[arg(
        long,
        global = true,
        help_heading = "Connection",
        env = "HELPDESK_TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,

    /// A file holding your token (surrounding whitespace is ignored).
    #[arg(
        long,
        global = true,
        help_heading = "Connection",
        env = "HELPDESK_TOKEN_FILE",
        conflicts_with = "token",
        value_name = "FILE"
    )]
    token_file: Option<std::path::PathBuf>,

    /// For an `https://` server: a PEM file of the CA that signed its certificate.
    #[arg(
        long,
        global = true,
        help_heading = "Connection",
        env = "HELPDESK_TLS_CA",
        value_name = "PEM"
    )]
    tls_ca: Option<std::path::PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A department report: the main columns by time bucket and group, lengths of time
    /// as `1h 23m` and blanks where there is no data, optionally sorted within each
    /// bucket (needs reports.view; --csv, all 24 columns, needs reports.export).
    Report(report::ReportArgs),
    /// Agents by level, highest first (then who reached it first), with when each
    /// reached their level (in the organization's time zone).
    Leaderboard {
        /// How many rows.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Every badge and who holds it now, with the value that won it and the runner-up's;
    /// --history lists the awards (everyone's, an agent's or a badge's), newest first.
    Badges(badges::BadgesArgs),
    /// One agent's page: role, departments and presence; their level and what each part
    /// of the next level's condition still misses; their statistics; the badges they
    /// hold with the value, window and runner-up that explain them (another agent's
    /// needs reports.view).
    Agent(agent::AgentArgs),
    /// Tickets new, open and resolved now, per department.
    Tickets,
    /// Replays the history to find which levels or badges would change, and with
    /// --apply changes them (needs gamification.manage). Shows a progress bar while the
    /// server replays; Ctrl-C cancels the recompute (an apply that has started
    /// appending finishes).
    Recompute {
        #[command(subcommand)]
        what: RecomputeWhat,
    },
    /// The recomputes the server runs, and those it finished within the last hour
    /// (needs gamification.manage).
    Operations,
    /// Every department and its members by name.
    Departments,
    /// The roles, built-in and custom, with their permissions.
    Roles,
    /// The routing rules in the order they run on a new ticket: when each matches, what
    /// it does, whether it is on, its notes (needs routing.manage or tickets.view_all);
    /// `routing-rules update NAME …` renames one, sets its notes, or switches it off or
    /// on (needs routing.manage).
    RoutingRules(routing::RoutingRulesArgs),
    /// The organization settings.
    Settings,
    /// Every agent you see: role, presence (with the pause's reason, and for how
    /// long), level, open chats and calls, departments; --watch then prints presence
    /// changes as they happen.
    Roster(roster::RosterArgs),
}

#[derive(Debug, Subcommand)]
enum RecomputeWhat {
    /// Who would gain or lose which level.
    Levels(RecomputeArgs),
    /// Which past badge evaluations would change.
    Badges(RecomputeArgs),
}

#[derive(Debug, clap::Args)]
struct RecomputeArgs {
    /// Apply what the replay finds (appends LevelsRecomputed / BadgesRecomputed);
    /// without it nothing changes.
    #[arg(long)]
    apply: bool,
    /// Replay all of the history with today's definitions (default: with the
    /// definitions in force at each moment, which undoes earlier recomputes).
    #[arg(long)]
    todays_definitions: bool,
}

/// `request` with the caller's token.
fn auth<T>(token: &str, message: T) -> anyhow::Result<tonic::Request<T>> {
    let mut request = tonic::Request::new(message);
    let value: MetadataValue<_> = format!("Bearer {token}")
        .parse()
        .context("the token is not printable ASCII")?;
    request.metadata_mut().insert("authorization", value);
    Ok(request)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    quiet_on_broken_pipe();
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|err| err.exit());
    if matches.value_source("token") == Some(clap::parser::ValueSource::CommandLine) {
        eprintln!(
            "warning: --token on the command line is visible to other users of this machine \
             (ps, /proc): set HELPDESK_TOKEN or give --token-file instead"
        );
    }
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", helpdesk_api::client::error_chain(err.as_ref()));
            std::process::ExitCode::FAILURE
        }
    }
}

/// `hdctl … | head`: when the reader goes away, hdctl ends quietly, like any filter,
/// instead of panicking on the failed write. Rust ignores SIGPIPE, so a write to a closed
/// pipe fails (and `println!` panics, exit code 101); the default action ends the process
/// silently, as the shell expects.
fn quiet_on_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: restores a signal's default disposition; no handler runs Rust code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let token = match &cli.token_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read --token-file {}", path.display()))?;
            Some(text.trim().to_owned()).filter(|token| !token.is_empty())
        }
        None => cli.token.clone(),
    }
    .context(
        "give a token with HELPDESK_TOKEN or --token-file (the Owner's is the `owner token:` \
         line the server printed on its first start)",
    )?;
    let channel = helpdesk_api::client::connect(&cli.server, cli.tls_ca.as_deref()).await?;
    match cli.command {
        Command::Report(args) => report::report(channel, &token, args).await,
        Command::Leaderboard { limit } => leaderboard(channel, &token, limit).await,
        Command::Badges(args) => badges::badges(channel, &token, args).await,
        Command::Agent(args) => agent::agent(channel, &token, args).await,
        Command::Tickets => tickets(channel, &token).await,
        Command::Recompute { what } => recompute(channel, &token, what).await,
        Command::Operations => operations(channel, &token).await,
        Command::Departments => departments(channel, &token).await,
        Command::Roles => roles(channel, &token).await,
        Command::RoutingRules(args) => routing::routing_rules(channel, &token, args).await,
        Command::Settings => settings(channel, &token).await,
        Command::Roster(args) => roster::roster(channel, &token, args).await,
    }
}

fn status(err: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{:?}: {}", err.code(), err.message())
}

/// `hdctl leaderboard`: agents by level, and when each reached it.
async fn leaderboard(channel: Channel, token: &str, limit: u32) -> anyhow::Result<()> {
    let zone = names::time_zone(channel.clone(), token).await?;
    let board = LevelServiceClient::new(channel)
        .get_leaderboard(auth(
            token,
            pb::GetLeaderboardRequest { limit, read: None },
        )?)
        .await
        .map_err(status)?
        .into_inner();
    let mut rows = vec![vec![
        "place".into(),
        "agent".into(),
        "level".into(),
        "rank".into(),
        zoned_header("reached", &zone),
    ]];
    for row in board.rows {
        let level = row.level.unwrap_or_default();
        rows.push(vec![
            row.place.to_string(),
            row.name,
            level.name,
            level.rank.to_string(),
            time_or_blank(row.reached_at.as_ref(), &zone),
        ]);
    }
    print_table(&rows);
    Ok(())
}

async fn tickets(channel: Channel, token: &str) -> anyhow::Result<()> {
    let counts = TicketServiceClient::new(channel)
        .count_tickets(auth(token, pb::CountTicketsRequest { read: None })?)
        .await
        .map_err(status)?
        .into_inner();
    let mut rows = vec![vec![
        "department".into(),
        "new".into(),
        "open".into(),
        "resolved".into(),
    ]];
    for d in counts.departments {
        let name = if d.department_id.is_empty() {
            "(none)".to_owned()
        } else {
            d.name
        };
        rows.push(vec![
            name,
            d.new.to_string(),
            d.open.to_string(),
            d.resolved.to_string(),
        ]);
    }
    if rows.len() == 1 {
        bail!("no tickets yet");
    }
    print_table(&rows);
    Ok(())
}

/// `hdctl recompute levels|badges`: starts the recompute as an operation, shows its
/// progress until it ends (Ctrl-C cancels it), and prints what it found.
async fn recompute(channel: Channel, token: &str, what: RecomputeWhat) -> anyhow::Result<()> {
    let (args, levels) = match &what {
        RecomputeWhat::Levels(args) => (args, true),
        RecomputeWhat::Badges(args) => (args, false),
    };
    let mode = if args.todays_definitions {
        pb::RecomputeMode::TodaysDefinitions
    } else {
        pb::RecomputeMode::AsItHappened
    } as i32;
    let kind = if levels {
        pb::start_recompute_request::Kind::Level(pb::LevelRecomputeRequest {
            mode,
            command_id: String::new(),
        })
    } else {
        pb::start_recompute_request::Kind::Badge(pb::BadgeRecomputeRequest {
            mode,
            command_id: String::new(),
        })
    };
    let mut admin = AdminServiceClient::new(channel.clone());
    let started = admin
        .start_recompute(auth(
            token,
            pb::StartRecomputeRequest {
                kind: Some(kind),
                apply: args.apply,
            },
        )?)
        .await
        .map_err(status)?
        .into_inner();
    let id = started.id.clone();
    let operation = watch_operation(&mut admin, token, started).await?;
    match pb::OperationState::try_from(operation.state) {
        Ok(pb::OperationState::Succeeded) => {}
        Ok(pb::OperationState::Cancelled) => bail!("the recompute (operation {id}) was cancelled"),
        Ok(pb::OperationState::Failed) => bail!(
            "the recompute (operation {id}) failed: {:?}: {}",
            tonic::Code::from_i32(operation.error_code),
            operation.error
        ),
        _ => bail!("the recompute (operation {id}) is still running"),
    }
    match operation.result {
        Some(pb::operation::Result::Level(found)) => {
            print_levels_found(channel, token, &found).await
        }
        Some(pb::operation::Result::Badge(found)) => {
            print_badges_found(channel, token, &found).await
        }
        None => bail!("the server answered operation {id} without a result"),
    }
}

/// Shows `operation`'s progress until it ends, and returns it then. Ctrl-C cancels it
/// (and waits for the server to say it stopped).
async fn watch_operation(
    admin: &mut AdminServiceClient<Channel>,
    token: &str,
    started: pb::Operation,
) -> anyhow::Result<pb::Operation> {
    let id = started.id.clone();
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{spinner} [{bar:40}] {pos}/{len} messages {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let mut watch = admin
        .watch_operation(auth(token, pb::WatchOperationRequest { id: id.clone() })?)
        .await
        .map_err(status)?
        .into_inner();
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    let mut last = started;
    loop {
        tokio::select! {
            _ = &mut ctrl_c => {
                bar.set_message("cancelling…");
                let cancelled = admin
                    .cancel_operation(auth(token, pb::CancelOperationRequest { id: id.clone() })?)
                    .await
                    .map_err(status)?
                    .into_inner();
                bar.finish_and_clear();
                if cancelled.state == pb::OperationState::Succeeded as i32 {
                    eprintln!("the recompute had started appending: it finished");
                }
                return Ok(cancelled);
            }
            message = watch.message() => match message.map_err(status)? {
                Some(operation) => {
                    show_progress(&bar, &operation);
                    let running = operation.state == pb::OperationState::Running as i32;
                    last = operation;
                    if !running {
                        bar.finish_and_clear();
                        return Ok(last);
                    }
                }
                // The stream ended before the operation did (the server is stopping):
                // ask how it stands.
                None => {
                    bar.finish_and_clear();
                    let now = admin
                        .get_operation(auth(token, pb::GetOperationRequest { id: id.clone() })?)
                        .await
                        .map_err(status);
                    return now.map(tonic::Response::into_inner).or(Ok(last));
                }
            },
        }
    }
}

fn show_progress(bar: &ProgressBar, operation: &pb::Operation) {
    bar.set_length(operation.end);
    bar.set_position(operation.position);
    let rate = operation.messages_per_second;
    let eta = if rate > 0.0 && operation.end > operation.position {
        let seconds = ((operation.end - operation.position) as f64 / rate).ceil() as u64;
        format!(", {}:{:02} left", seconds / 60, seconds % 60)
    } else {
        String::new()
    };
    bar.set_message(format!("({rate:.0}/s{eta}) {}", operation.phase));
}

async fn print_levels_found(
    channel: Channel,
    token: &str,
    found: &pb::LevelRecomputeResponse,
) -> anyhow::Result<()> {
    let zone = names::time_zone(channel.clone(), token).await?;
    let names = names::agent_names(
        channel,
        token,
        found.gained.iter().chain(&found.lost).map(|c| &c.agent_id),
    )
    .await?;
    let mut rows = vec![vec![
        "change".into(),
        "agent".into(),
        "level".into(),
        zoned_header("reached", &zone),
    ]];
    for (change, list) in [("gained", &found.gained), ("lost", &found.lost)] {
        for c in list {
            let level = if c.level_name.is_empty() {
                c.level_id.clone()
            } else {
                c.level_name.clone()
            };
            rows.push(vec![
                change.into(),
                names::name_or_id(&names, &c.agent_id).to_owned(),
                level,
                time_or_blank(c.reached_at.as_ref(), &zone),
            ]);
        }
    }
    if rows.len() > 1 {
        print_table(&rows);
    }
    println!(
        "replayed to position {}: {} gained, {} lost{}",
        found.replayed_to,
        found.gained.len(),
        found.lost.len(),
        applied_note(&found.applied)
    );
    Ok(())
}

async fn print_badges_found(
    channel: Channel,
    token: &str,
    found: &pb::BadgeRecomputeResponse,
) -> anyhow::Result<()> {
    let badges = names::badges(channel.clone(), token).await?;
    let names = names::agent_names(
        channel,
        token,
        found
            .changes
            .iter()
            .flat_map(|c| c.holders_before.iter().chain(&c.holders_after)),
    )
    .await?;
    let holders = |ids: &[String]| names::agent_list(&names, ids.iter());
    let badge = |key: &str| {
        badges
            .iter()
            .filter_map(|s| s.badge.as_ref())
            .find(|b| b.key == key)
    };
    let mut rows = vec![vec![
        "badge".into(),
        "day".into(),
        "holders now".into(),
        "holders after".into(),
        "value now".into(),
        "value after".into(),
    ]];
    for c in &found.changes {
        let badge = badge(&c.badge_key);
        rows.push(vec![
            badge.map_or_else(|| c.badge_key.clone(), |b| b.name.clone()),
            c.day.clone(),
            holders(&c.holders_before),
            holders(&c.holders_after),
            format::badge_value(badge, c.value_before),
            format::badge_value(badge, c.value_after),
        ]);
    }
    if rows.len() > 1 {
        print_table(&rows);
    }
    println!(
        "replayed to position {}: {} evaluations change{}",
        found.replayed_to,
        found.changes.len(),
        applied_note(&found.applied)
    );
    Ok(())
}

/// What an apply appended, or that a preview changed nothing.
fn applied_note(applied: &[pb::CommandResponse]) -> String {
    match applied.iter().map(|a| a.position).max() {
        Some(last) => format!(
            "; applied in {} command(s), up to log position {last}",
            applied.len()
        ),
        None => String::new(),
    }
}

/// `hdctl operations`: the recomputes the server keeps.
async fn operations(channel: Channel, token: &str) -> anyhow::Result<()> {
    let zone = names::time_zone(channel.clone(), token).await?;
    let list = AdminServiceClient::new(channel)
        .list_operations(auth(token, pb::ListOperationsRequest {})?)
        .await
        .map_err(status)?
        .into_inner();
    let mut rows = vec![vec![
        "id".into(),
        "recompute".into(),
        "state".into(),
        "progress".into(),
        zoned_header("started", &zone),
        zoned_header("finished", &zone),
    ]];
    for o in list.operations {
        let what = match pb::OperationKind::try_from(o.kind) {
            Ok(pb::OperationKind::LevelRecompute) => "levels",
            Ok(pb::OperationKind::BadgeRecompute) => "badges",
            _ => "?",
        };
        let state = pb::OperationState::try_from(o.state)
            .map(|s| {
                s.as_str_name()
                    .trim_start_matches("OPERATION_STATE_")
                    .to_lowercase()
            })
            .unwrap_or_else(|_| o.state.to_string());
        rows.push(vec![
            o.id,
            format!("{what} {}", if o.apply { "apply" } else { "preview" }),
            state,
            format!("{}/{}", o.position, o.end),
            time_or_blank(o.started_at.as_ref(), &zone),
            time_or_blank(o.finished_at.as_ref(), &zone),
        ]);
    }
    if rows.len() == 1 {
        println!("no operations (kept for an hour after they finish, and not across a restart)");
        return Ok(());
    }
    print_table(&rows);
    Ok(())
}

/// `hdctl departments`: each department and its members.
async fn departments(channel: Channel, token: &str) -> anyhow::Result<()> {
    let list = ConfigServiceClient::new(channel)
        .list_departments(auth(token, pb::ListDepartmentsRequest { read: None })?)
        .await
        .map_err(status)?
        .into_inner();
    if list.departments.is_empty() {
        println!("no departments");
        return Ok(());
    }
    let mut rows = vec![vec!["department".into(), "members".into()]];
    for d in list.departments {
        let members: Vec<String> = d
            .members
            .iter()
            .map(|m| {
                if m.deactivated {
                    format!("{} (deactivated)", m.name)
                } else {
                    m.name.clone()
                }
            })
            .collect();
        rows.push(vec![
            d.name,
            if members.is_empty() {
                "(none)".into()
            } else {
                members.join(", ")
            },
        ]);
    }
    print_table(&rows);
    Ok(())
}

/// `hdctl roles`: built-in and custom roles with their permissions.
async fn roles(channel: Channel, token: &str) -> anyhow::Result<()> {
    let list = ConfigServiceClient::new(channel)
        .list_roles(auth(token, pb::ListRolesRequest { read: None })?)
        .await
        .map_err(status)?
        .into_inner();
    let mut rows = vec![vec!["role".into(), "kind".into(), "permissions".into()]];
    for role in list.roles {
        rows.push(vec![
            role.name,
            if role.builtin { "built-in" } else { "custom" }.into(),
            if role.permissions.is_empty() {
                "(none: works on conversations as themself)".into()
            } else {
                role.permissions.join(", ")
            },
        ]);
    }
    print_table(&rows);
    Ok(())
}

/// `hdctl settings`: every organization setting.
async fn settings(channel: Channel, token: &str) -> anyhow::Result<()> {
    let settings = names::organization_settings(channel, token).await?;
    let rows = vec![
        vec!["setting".into(), "value".into()],
        vec!["time zone".into(), settings.time_zone],
        vec![
            "pause agents who miss a chat or call".into(),
            yes_no(settings.auto_pause).into(),
        ],
        vec![
            "four-leaf clover odds".into(),
            odds_words(settings.clover_odds),
        ],
        vec![
            "custom roles at most".into(),
            settings.max_custom_roles.to_string(),
        ],
        vec![
            "the system offers chats and rings calls".into(),
            yes_no(settings.system_routes).into(),
        ],
        vec![
            "an offer is missed after".into(),
            format::duration_s(f64::from(settings.routing_seconds)),
        ],
    ];
    print_table(&rows);
    Ok(())
}

/// Odds as people say them: `1 in 1000` (and the fraction when that is not whole).
fn odds_words(odds: f64) -> String {
    if odds <= 0.0 {
        return "never".into();
    }
    let one_in = 1.0 / odds;
    if (one_in - one_in.round()).abs() < 1e-9 {
        format!("1 in {}", one_in.round())
    } else {
        format!("{odds} (about 1 in {})", number(one_in))
    }
}
