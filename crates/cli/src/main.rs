//! `hdctl`: the help desk backend for people at a terminal.
//!
//! A thin gRPC client: it asks a running server (`helpdesk dev`, or the services of a
//! split deployment) and prints tables, or CSV for spreadsheets. Every request carries
//! `authorization: Bearer <token>` from `--token` or `HELPDESK_TOKEN`.

mod roster;

use std::collections::HashMap;
use std::io::Write as _;

use anyhow::{bail, Context as _};
use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand, ValueEnum};
use helpdesk_api::pb;
use helpdesk_api::{
    AdminServiceClient, BadgeServiceClient, ConfigServiceClient, LevelServiceClient,
    ReportServiceClient, StatsServiceClient, TicketServiceClient,
};
use indicatif::{ProgressBar, ProgressStyle};
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;

/// Reports, leaderboards, badges and ticket counts from a running help desk backend.
#[derive(Debug, Parser)]
#[command(name = "hdctl", version)]
struct Cli {
    /// The server to ask.
    #[arg(
        long,
        global = true,
        env = "HELPDESK_SERVER",
        default_value = "http://127.0.0.1:50051"
    )]
    server: String,

    /// Your token (the Owner's is the `owner token:` line of the server's first start).
    /// On the command line it is visible to other users (`ps`): prefer HELPDESK_TOKEN or
    /// --token-file.
    #[arg(long, global = true, env = "HELPDESK_TOKEN", hide_env_values = true)]
    token: Option<String>,

    /// A file holding your token (surrounding whitespace is ignored).
    #[arg(
        long,
        global = true,
        env = "HELPDESK_TOKEN_FILE",
        conflicts_with = "token",
        value_name = "FILE"
    )]
    token_file: Option<std::path::PathBuf>,

    /// For an `https://` server: a PEM file of the CA that signed its certificate.
    #[arg(long, global = true, env = "HELPDESK_TLS_CA", value_name = "PEM")]
    tls_ca: Option<std::path::PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A department report: the 24 columns by time bucket and group (needs
    /// reports.view; --csv needs reports.export).
    Report(ReportArgs),
    /// Agents by level, highest first.
    Leaderboard {
        /// How many rows.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Every badge and who holds it now.
    Badges,
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
    /// The routing rules in the order they run on a new ticket: when each matches and
    /// what it does (needs routing.manage or tickets.view_all).
    RoutingRules,
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

#[derive(Debug, clap::Args)]
struct ReportArgs {
    /// The first day, YYYY-MM-DD.
    #[arg(long)]
    from: String,
    /// The last day (included), YYYY-MM-DD.
    #[arg(long)]
    to: String,
    /// How to cut time (in the organization's time zone).
    #[arg(long, value_enum, default_value = "day")]
    bucket: BucketArg,
    /// How to group.
    #[arg(long, value_enum, default_value = "department")]
    group_by: GroupArg,
    /// Only this department (UUID).
    #[arg(long)]
    department: Option<String>,
    /// Only this agent (UUID).
    #[arg(long)]
    agent: Option<String>,
    /// Sort by this column (e.g. answers), highest first.
    #[arg(long)]
    sort_by: Option<String>,
    /// Write CSV (a header row, then one row per bucket and group) to stdout.
    #[arg(long)]
    csv: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BucketArg {
    Hour,
    Day,
    Week,
    Month,
    Year,
    Range,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum GroupArg {
    Department,
    Agent,
    Channel,
    Tag,
    None,
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
        Command::Report(args) => report(channel, &token, args).await,
        Command::Leaderboard { limit } => leaderboard(channel, &token, limit).await,
        Command::Badges => badges(channel, &token).await,
        Command::Tickets => tickets(channel, &token).await,
        Command::Recompute { what } => recompute(channel, &token, what).await,
        Command::Operations => operations(channel, &token).await,
        Command::Departments => departments(channel, &token).await,
        Command::Roles => roles(channel, &token).await,
        Command::RoutingRules => routing_rules(channel, &token).await,
        Command::Settings => settings(channel, &token).await,
        Command::Roster(args) => roster::roster(channel, &token, args).await,
    }
}

fn status(err: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{:?}: {}", err.code(), err.message())
}

async fn report(channel: Channel, token: &str, args: ReportArgs) -> anyhow::Result<()> {
    let request = pb::ReportRequest {
        from: args.from,
        to: args.to,
        bucket: match args.bucket {
            BucketArg::Hour => pb::ReportBucket::Hour,
            BucketArg::Day => pb::ReportBucket::Day,
            BucketArg::Week => pb::ReportBucket::Week,
            BucketArg::Month => pb::ReportBucket::Month,
            BucketArg::Year => pb::ReportBucket::Year,
            BucketArg::Range => pb::ReportBucket::Range,
        } as i32,
        group_by: match args.group_by {
            GroupArg::Department => pb::ReportGroup::Department,
            GroupArg::Agent => pb::ReportGroup::Agent,
            GroupArg::Channel => pb::ReportGroup::Channel,
            GroupArg::Tag => pb::ReportGroup::Tag,
            GroupArg::None => pb::ReportGroup::Unspecified,
        } as i32,
        department_id: args.department.unwrap_or_default(),
        agent_id: args.agent.unwrap_or_default(),
        sort_by: args.sort_by.unwrap_or_default(),
        ..Default::default()
    };
    let mut client = ReportServiceClient::new(channel);
    if args.csv {
        let mut chunks = client
            .export_report_csv(auth(token, request)?)
            .await
            .map_err(status)?
            .into_inner();
        let mut out = std::io::stdout().lock();
        while let Some(chunk) = chunks.message().await.map_err(status)? {
            out.write_all(&chunk.data)?;
        }
        return Ok(());
    }
    let report = client
        .get_report(auth(token, request)?)
        .await
        .map_err(status)?
        .into_inner();
    // For a terminal: the most asked-for columns; --csv has all 24.
    let shown = [
        "answers",
        "chats",
        "calls",
        "created_tickets",
        "resolved_tickets",
        "positive_percent",
        "mean_first_answer_seconds",
    ];
    let index: Vec<usize> = shown
        .iter()
        .map(|name| report.columns.iter().position(|c| c == name))
        .collect::<Option<_>>()
        .context("the server's columns are not the ones this hdctl knows")?;
    let mut rows = vec![{
        let mut header = vec!["bucket".to_owned(), "group".to_owned()];
        header.extend(shown.iter().map(|s| (*s).to_owned()));
        header
    }];
    for row in &report.rows {
        let mut cells = vec![row.bucket.clone(), row.group.clone()];
        cells.extend(index.iter().map(|i| format_number(row.values[*i])));
        rows.push(cells);
    }
    print_table(&rows);
    Ok(())
}

async fn leaderboard(channel: Channel, token: &str, limit: u32) -> anyhow::Result<()> {
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
    ]];
    for row in board.rows {
        let level = row.level.unwrap_or_default();
        rows.push(vec![
            row.place.to_string(),
            row.name,
            level.name,
            level.rank.to_string(),
        ]);
    }
    print_table(&rows);
    Ok(())
}

async fn badges(channel: Channel, token: &str) -> anyhow::Result<()> {
    let list = BadgeServiceClient::new(channel.clone())
        .list_badges(auth(token, pb::ListBadgesRequest { read: None })?)
        .await
        .map_err(status)?
        .into_inner();
    let names = agent_names(
        channel,
        token,
        list.badges
            .iter()
            .flat_map(|s| s.current.iter().flat_map(|e| &e.holders))
            .map(|h| &h.agent_id),
    )
    .await?;
    let mut rows = vec![vec![
        "badge".into(),
        "day".into(),
        "holders".into(),
        "value".into(),
        "runner-up".into(),
    ]];
    for standing in list.badges {
        let badge = standing.badge.unwrap_or_default();
        let (day, holders, value, runner_up) = match standing.current {
            Some(e) => (
                e.day,
                e.holders
                    .iter()
                    .map(|h| names.get(&h.agent_id).unwrap_or(&h.agent_id).as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                e.value.map(|v| v.to_string()).unwrap_or_default(),
                e.runner_up.map(|v| v.to_string()).unwrap_or_default(),
            ),
            None => Default::default(),
        };
        rows.push(vec![badge.name, day, holders, value, runner_up]);
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

/// Agents' names by id (an agent whose name cannot be looked up is left out: shown by id).
async fn agent_names<'a>(
    channel: Channel,
    token: &str,
    ids: impl Iterator<Item = &'a String>,
) -> anyhow::Result<HashMap<String, String>> {
    let mut names = HashMap::new();
    let mut stats = StatsServiceClient::new(channel);
    for id in ids {
        if names.contains_key(id) || id.is_empty() {
            continue;
        }
        let request = pb::GetAgentStatsRequest {
            agent_id: id.clone(),
            ..Default::default()
        };
        if let Ok(answer) = stats.get_agent_stats(auth(token, request)?).await {
            names.insert(id.clone(), answer.into_inner().name);
        }
    }
    Ok(names)
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

/// How a level recompute's agent is shown: by name, or by id when unknown.
fn name_or_id<'a>(names: &'a HashMap<String, String>, id: &'a String) -> &'a str {
    names.get(id).unwrap_or(id).as_str()
}

async fn print_levels_found(
    channel: Channel,
    token: &str,
    found: &pb::LevelRecomputeResponse,
) -> anyhow::Result<()> {
    let names = agent_names(
        channel,
        token,
        found.gained.iter().chain(&found.lost).map(|c| &c.agent_id),
    )
    .await?;
    let mut rows = vec![vec![
        "change".into(),
        "agent".into(),
        "level".into(),
        "reached at".into(),
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
                name_or_id(&names, &c.agent_id).to_owned(),
                level,
                c.reached_at.map(|t| t.to_string()).unwrap_or_default(),
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
    let names = agent_names(
        channel,
        token,
        found
            .changes
            .iter()
            .flat_map(|c| c.holders_before.iter().chain(&c.holders_after)),
    )
    .await?;
    let holders = |ids: &[String]| -> String {
        ids.iter()
            .map(|id| name_or_id(&names, id))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let value = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut rows = vec![vec![
        "badge".into(),
        "day".into(),
        "holders now".into(),
        "holders after".into(),
        "value now".into(),
        "value after".into(),
    ]];
    for c in &found.changes {
        rows.push(vec![
            c.badge_key.clone(),
            c.day.clone(),
            holders(&c.holders_before),
            holders(&c.holders_after),
            value(c.value_before),
            value(c.value_after),
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
        "started".into(),
        "finished".into(),
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
            o.started_at.map(|t| t.to_string()).unwrap_or_default(),
            o.finished_at.map(|t| t.to_string()).unwrap_or_default(),
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

/// `hdctl routing-rules`: the rules in the order they run, in words.
async fn routing_rules(channel: Channel, token: &str) -> anyhow::Result<()> {
    let list = ConfigServiceClient::new(channel)
        .list_routing_rules(auth(token, pb::ListRoutingRulesRequest { read: None })?)
        .await
        .map_err(status)?
        .into_inner();
    if list.rules.is_empty() {
        println!("no routing rules");
        return Ok(());
    }
    let mut rows = vec![vec![
        "#".into(),
        "rule".into(),
        "on".into(),
        "when".into(),
        "then".into(),
        "notes".into(),
    ]];
    for rule in &list.rules {
        let when: Vec<String> = rule
            .groups
            .iter()
            .map(|g| {
                let all: Vec<String> = g.conditions.iter().map(condition_words).collect();
                all.join(" and ")
            })
            .collect();
        let then: Vec<String> = rule
            .actions
            .iter()
            .map(|a| action_words(a, &list.agent_names, &list.department_names))
            .collect();
        rows.push(vec![
            (rule.position + 1).to_string(),
            rule.name.clone(),
            yes_no(rule.enabled).into(),
            when.join(", or "),
            then.join("; "),
            // One table row a rule: notes written on several lines are shown on one.
            rule.notes.split_whitespace().collect::<Vec<_>>().join(" "),
        ]);
    }
    print_table(&rows);
    Ok(())
}

/// A routing condition for people: `channel is email or chat`.
fn condition_words(condition: &pb::RoutingCondition) -> String {
    use pb::routing_condition::Condition as C;
    let quoted = |words: &pb::WordList| {
        let list: Vec<String> = words.words.iter().map(|w| format!("\"{w}\"")).collect();
        list.join(" or ")
    };
    match &condition.condition {
        Some(C::ChannelIn(set)) => {
            let names: Vec<String> = set.channels.iter().map(|c| channel_word(*c)).collect();
            format!("channel is {}", names.join(" or "))
        }
        Some(C::PriorityIn(set)) => {
            let names: Vec<String> = set.priorities.iter().map(|p| priority_word(*p)).collect();
            format!("priority is {}", names.join(" or "))
        }
        Some(C::SubjectContains(w)) => format!("subject has {}", quoted(w)),
        Some(C::BodyContains(w)) => format!("body has {}", quoted(w)),
        Some(C::SubjectOrBodyContains(w)) => format!("subject or body has {}", quoted(w)),
        None => "?".into(),
    }
}

/// A routing action for people, agents and departments by name (by id when the
/// server knows no name for it).
fn action_words(
    action: &pb::RoutingAction,
    agents: &HashMap<String, String>,
    departments: &HashMap<String, String>,
) -> String {
    use pb::routing_action::Action as A;
    let name = |names: &HashMap<String, String>, id: &String| -> String {
        names.get(id).cloned().unwrap_or_else(|| id.clone())
    };
    match &action.action {
        Some(A::TransferToDepartmentId(id)) => format!("transfer to {}", name(departments, id)),
        Some(A::AssignTo(list)) => {
            let names: Vec<String> = list.agent_ids.iter().map(|a| name(agents, a)).collect();
            format!("assign to the first free of {}", names.join(", "))
        }
        Some(A::LeaveUnassigned(_)) => "leave unassigned".into(),
        Some(A::SetPriority(p)) => format!("set priority {}", priority_word(*p)),
        Some(A::AddTags(tags)) => format!("tag {}", tags.tags.join(", ")),
        None => "?".into(),
    }
}

fn channel_word(value: i32) -> String {
    pb::Channel::try_from(value)
        .map(|c| {
            c.as_str_name()
                .trim_start_matches("CHANNEL_")
                .to_lowercase()
        })
        .unwrap_or_else(|_| value.to_string())
}

fn priority_word(value: i32) -> String {
    pb::Priority::try_from(value)
        .map(|p| {
            p.as_str_name()
                .trim_start_matches("PRIORITY_")
                .to_lowercase()
        })
        .unwrap_or_else(|_| value.to_string())
}

/// `hdctl settings`: every organization setting.
async fn settings(channel: Channel, token: &str) -> anyhow::Result<()> {
    let settings = ConfigServiceClient::new(channel)
        .get_organization_settings(auth(
            token,
            pb::GetOrganizationSettingsRequest { read: None },
        )?)
        .await
        .map_err(status)?
        .into_inner();
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
        format!("{odds} (about 1 in {})", format_number(one_in))
    }
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

fn format_number(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// Prints rows as aligned columns, the first row as the header.
fn print_table(rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| format!("{cell:<width$}", width = widths[c]))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
}
