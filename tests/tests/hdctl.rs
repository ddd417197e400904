//! `hdctl`, the real binary, against a running server: what a user sees (names, not ids;
//! figures the test works out from the commands it sent) and its exit codes on errors.
//!
//! Needs the binaries (`cargo build -p helpdesk-server -p helpdesk-cli`).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;

use helpdesk_api::pb::execute_request::Command as Cmd;
use helpdesk_api::{
    pb, BadgeServiceClient, LevelServiceClient, ReportServiceClient, RosterServiceClient,
    StatsServiceClient, TicketServiceClient,
};
use helpdesk_tests::workload::feed;
use helpdesk_tests::{free_port, hdctl_bin, utc_date, with_token, Helpdesk, HISTORY_START};
use helpdesk_workload::{Workload, WorkloadConfig};
use tonic::Request;

/// Runs `hdctl <args…>` against `server` with `token` (none: no token at all), with no
/// `HELPDESK_*` variable of the test's environment.
async fn hdctl(server: &str, token: Option<&str>, args: &[&str]) -> anyhow::Result<Output> {
    let mut command = tokio::process::Command::new(hdctl_bin());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("HELPDESK_") {
            command.env_remove(key);
        }
    }
    command.arg("--server").arg(server);
    if let Some(token) = token {
        // From the environment: on the command line it would be visible in `ps` (hdctl
        // warns).
        command.env("HELPDESK_TOKEN", token);
    }
    Ok(command.args(args).output().await?)
}

/// The rows of a table hdctl printed (cells are separated by two spaces or more), the
/// header first. Fails unless it exited with 0.
fn table(output: &Output) -> Vec<Vec<String>> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "hdctl failed ({}): {}{}",
        output.status,
        stdout,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .map(|line| {
            line.split("  ")
                .map(str::trim)
                .filter(|cell| !cell.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

/// The rows of the table that starts at the line `header_starts` of `text`, by column
/// name, up to the first blank line: cells are cut where the header's columns start (a
/// blank cell stays in its column).
fn records(text: &str, header_starts: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = text
        .lines()
        .skip_while(|line| !line.starts_with(header_starts));
    let header = lines
        .next()
        .unwrap_or_else(|| panic!("no table starting {header_starts:?} in:\n{text}"));
    // A column starts after two spaces or more (names hold single spaces).
    let mut starts = vec![0];
    let chars: Vec<char> = header.chars().collect();
    for i in 2..chars.len() {
        if chars[i] != ' ' && chars[i - 1] == ' ' && chars[i - 2] == ' ' {
            starts.push(i);
        }
    }
    let names: Vec<String> = starts
        .iter()
        .enumerate()
        .map(|(n, &start)| {
            let end = starts.get(n + 1).copied().unwrap_or(chars.len());
            chars[start..end]
                .iter()
                .collect::<String>()
                .trim()
                .to_owned()
        })
        .collect();
    lines
        .take_while(|line| !line.trim().is_empty())
        .map(|line| {
            let chars: Vec<char> = line.chars().collect();
            names
                .iter()
                .enumerate()
                .map(|(n, name)| {
                    let start = starts[n].min(chars.len());
                    let end = starts
                        .get(n + 1)
                        .copied()
                        .unwrap_or(chars.len())
                        .min(chars.len());
                    let cell: String = chars[start..end].iter().collect();
                    (name.clone(), cell.trim().to_owned())
                })
                .collect()
        })
        .collect()
}

/// The standard output of an hdctl that succeeded.
fn stdout_of(output: &Output) -> String {
    assert!(
        output.status.success(),
        "hdctl failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A length of time as hdctl writes it (`45s`, `12m 5s`, `1h 23m`, `2d 3h`): its seconds
/// and the size of its smallest unit (how far from the exact value it may be rounded).
fn parse_duration(text: &str) -> Option<(f64, f64)> {
    if text == "<1s" {
        return Some((0.5, 1.0));
    }
    let mut total = 0.0;
    let mut smallest = f64::MAX;
    let parts: Vec<&str> = text.split(' ').collect();
    if parts.is_empty() || parts.len() > 2 {
        return None;
    }
    for part in parts {
        let (number, unit) = part.split_at(part.len().checked_sub(1)?);
        let size = match unit {
            "d" => 86_400.0,
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            _ => return None,
        };
        total += number.parse::<u64>().ok()? as f64 * size;
        smallest = smallest.min(size);
    }
    Some((total, smallest))
}

/// Whether `text` shows an id: a UUID, or the 8 hex digits it starts with.
fn shows_an_id(text: &str) -> bool {
    text.split(|c: char| !c.is_ascii_hexdigit() && c != '-')
        .any(|word| {
            word.len() >= 8
                && word.chars().filter(char::is_ascii_hexdigit).count() >= 8
                && word.chars().any(|c| c.is_ascii_digit())
                && word.chars().any(|c| c.is_ascii_alphabetic())
        })
}

/// What the generated history holds, worked out from its requests and its own model.
struct Expected {
    departments: BTreeMap<String, String>,
    agents: BTreeSet<String>,
    /// Per department name ("(none)" for none): new, open, resolved at the end.
    tickets: BTreeMap<String, (u64, u64, u64)>,
    /// Tickets created per UTC day.
    created_per_day: BTreeMap<String, u64>,
}

fn expected(config: &WorkloadConfig) -> Expected {
    let mut departments = BTreeMap::new();
    let mut agents = BTreeSet::new();
    let mut created_per_day: BTreeMap<String, u64> = BTreeMap::new();
    let mut workload = Workload::new(config.clone());
    for request in workload.by_ref() {
        match request.command {
            Some(Cmd::CreateDepartment(d)) => {
                departments.insert(d.department_id, d.name);
            }
            Some(Cmd::RegisterAgent(a)) => {
                agents.insert(a.name);
            }
            Some(Cmd::CreateTicket(t)) => {
                let at = t.occurred_at.expect("generated requests are dated");
                let millis = at.seconds * 1000 + i64::from(at.nanos) / 1_000_000;
                *created_per_day.entry(utc_date(millis)).or_default() += 1;
            }
            _ => {}
        }
    }
    let mut tickets: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    for ticket in workload.model_tickets() {
        let name = match ticket.department {
            Some(id) => departments[&id.to_string()].clone(),
            None => "(none)".to_owned(),
        };
        let entry = tickets.entry(name).or_default();
        match ticket.status {
            "new" => entry.0 += 1,
            "answered" | "open" => entry.1 += 1,
            "resolved" => entry.2 += 1,
            _ => {}
        }
    }
    tickets.retain(|_, counts| *counts != (0, 0, 0));
    Expected {
        departments,
        agents,
        tickets,
        created_per_day,
    }
}

/// A server fed two generated weekdays from the fixed Monday (the history is the same
/// whatever the date), once every model has read them; what the history holds.
async fn with_history() -> anyhow::Result<(Helpdesk, Expected)> {
    let helpdesk = Helpdesk::builder()
        .arg("--tick-seconds")
        .arg("3600")
        .start()
        .await?;
    let token = helpdesk.token().to_owned();
    let config = WorkloadConfig::new(5, 5, 2, HISTORY_START);
    let expected = expected(&config);
    let last = feed(helpdesk.channel().await?, &token, config).await?;
    // hdctl reads without waiting: wait until the models have read the history.
    let read = || {
        Some(pb::ReadOptions {
            min_position: last,
            wait_ms: 60_000,
        })
    };
    let channel = helpdesk.channel().await?;
    TicketServiceClient::new(channel.clone())
        .count_tickets(with_token(
            Request::new(pb::CountTicketsRequest { read: read() }),
            &token,
        ))
        .await?;
    LevelServiceClient::new(channel.clone())
        .get_leaderboard(with_token(
            Request::new(pb::GetLeaderboardRequest {
                limit: 1,
                read: read(),
            }),
            &token,
        ))
        .await?;
    BadgeServiceClient::new(channel.clone())
        .list_badges(with_token(
            Request::new(pb::ListBadgesRequest { read: read() }),
            &token,
        ))
        .await?;
    RosterServiceClient::new(channel.clone())
        .list_agents(with_token(
            Request::new(pb::ListAgentsRequest {
                read: read(),
                ..Default::default()
            }),
            &token,
        ))
        .await?;
    StatsServiceClient::new(channel.clone())
        .get_agent_stats(with_token(
            Request::new(pb::GetAgentStatsRequest {
                read: read(),
                ..Default::default()
            }),
            &token,
        ))
        .await?;
    ReportServiceClient::new(channel)
        .get_report(with_token(
            Request::new(pb::ReportRequest {
                from: utc_date(HISTORY_START),
                to: utc_date(HISTORY_START),
                read: read(),
                ..Default::default()
            }),
            &token,
        ))
        .await?;
    Ok((helpdesk, expected))
}

#[tokio::test]
async fn hdctl_shows_what_happened_by_name() -> anyhow::Result<()> {
    let (mut helpdesk, expected) = with_history().await?;
    let token = helpdesk.token().to_owned();
    let server = helpdesk.endpoint();

    // tickets: per department by name, the generator's counts.
    let rows = table(&hdctl(&server, Some(&token), &["tickets"]).await?);
    assert_eq!(rows[0], ["department", "new", "open", "resolved"]);
    let mut shown = BTreeMap::new();
    for row in &rows[1..] {
        let [name, new, open, resolved] = &row[..] else {
            panic!("a row of tickets: {row:?}");
        };
        let counts: (u64, u64, u64) = (new.parse()?, open.parse()?, resolved.parse()?);
        if counts != (0, 0, 0) {
            shown.insert(name.clone(), counts);
        }
    }
    assert_eq!(shown, expected.tickets, "hdctl tickets");
    assert!(
        !expected.tickets.is_empty() && expected.tickets.keys().any(|k| k != "(none)"),
        "a history with tickets in departments"
    );

    // leaderboard: places from 1, the agents by their names.
    let rows = table(&hdctl(&server, Some(&token), &["leaderboard", "--limit", "3"]).await?);
    assert_eq!(
        rows[0],
        ["place", "agent", "level", "rank", "reached (UTC)"]
    );
    assert!(
        (2..=4).contains(&rows.len()),
        "one to three agents: {rows:?}"
    );
    for (i, row) in rows[1..].iter().enumerate() {
        assert_eq!(row[0], (i + 1).to_string(), "{rows:?}");
        assert!(
            expected.agents.contains(&row[1]),
            "{:?} is none of the agents' names {:?}",
            row[1],
            expected.agents
        );
    }

    // report: per day and department by name; the tickets created each day are those
    // sent that day.
    let from = utc_date(HISTORY_START);
    let to = utc_date(HISTORY_START + 86_400_000);
    let rows = table(
        &hdctl(
            &server,
            Some(&token),
            &["report", "--from", &from, "--to", &to],
        )
        .await?,
    );
    assert_eq!(rows[0][..3], ["bucket", "group", "answers"]);
    let created_column = rows[0]
        .iter()
        .position(|c| c == "created_tickets")
        .expect("a created_tickets column");
    let names: BTreeSet<&String> = expected.departments.values().collect();
    let mut created: BTreeMap<String, u64> = BTreeMap::new();
    for row in &rows[1..] {
        let group = row[1].as_str();
        assert!(
            group == "(none)" || names.contains(&group.to_owned()),
            "the group {group:?} is no department's name: {row:?}"
        );
        *created.entry(row[0].clone()).or_default() += row[created_column].parse::<u64>()?;
    }
    assert_eq!(created, expected.created_per_day, "tickets created per day");

    // badges: every badge by its name.
    let output = hdctl(&server, Some(&token), &["badges"]).await?;
    let rows = table(&output);
    assert_eq!(rows[0][..3], ["badge", "day", "holders"]);
    let badges: BTreeSet<&str> = rows[1..].iter().map(|row| row[0].as_str()).collect();
    assert_eq!(badges.len(), 15, "the 15 built-in badges: {badges:?}");
    // Holders by name: the third cell, when there is one, names agents.
    let mut holders = 0;
    for row in &rows[1..] {
        if let Some(cell) = row.get(2) {
            for name in cell.split(", ") {
                assert!(
                    expected.agents.contains(name),
                    "the holder {name:?} of {} is no agent's name",
                    row[0]
                );
                holders += 1;
            }
        }
    }
    assert!(holders > 0, "two days give badges holders: {rows:?}");

    // recompute: run as an operation to its end, what it found by name (nothing, on a
    // history replayed as it happened), and listed by `operations`.
    for what in ["levels", "badges"] {
        let rows = table(&hdctl(&server, Some(&token), &["recompute", what]).await?);
        let summary = rows.last().and_then(|row| row.first());
        assert!(
            summary.is_some_and(|s| s.starts_with("replayed to position ")),
            "hdctl recompute {what}: {rows:?}"
        );
    }
    let rows = table(&hdctl(&server, Some(&token), &["operations"]).await?);
    assert_eq!(
        rows[0],
        [
            "id",
            "recompute",
            "state",
            "progress",
            "started (UTC)",
            "finished (UTC)"
        ]
    );
    let listed: Vec<(&str, &str)> = rows[1..]
        .iter()
        .map(|row| (row[1].as_str(), row[2].as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            ("badges preview", "succeeded"),
            ("levels preview", "succeeded")
        ],
        "newest first: {rows:?}"
    );

    for args in [
        &["tickets"][..],
        &["leaderboard"],
        &["badges"],
        &["report", "--from", &from, "--to", &to],
        &["recompute", "levels"],
        &["recompute", "badges", "--todays-definitions"],
    ] {
        let output = hdctl(&server, Some(&token), args).await?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(!shows_an_id(&stdout), "hdctl {args:?} shows ids:\n{stdout}");
    }
    helpdesk.stop().await
}

#[tokio::test]
async fn hdctl_fails_with_a_message_and_exit_code() -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::start_embedded().await?;
    let token = helpdesk.token().to_owned();
    let server = helpdesk.endpoint();
    let failure = |output: &Output, code: i32, says: &str| {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{stderr}");
        assert!(stderr.contains(says), "{says:?} not in {stderr:?}");
    };

    // No token.
    failure(&hdctl(&server, None, &["tickets"]).await?, 1, "--token");
    // A token the server does not know.
    failure(
        &hdctl(&server, Some("not-a-token"), &["tickets"]).await?,
        1,
        "Unauthenticated",
    );
    // No tickets yet.
    failure(
        &hdctl(&server, Some(&token), &["tickets"]).await?,
        1,
        "no tickets yet",
    );
    // A date that is none.
    failure(
        &hdctl(
            &server,
            Some(&token),
            &["report", "--from", "2025-02-30", "--to", "2025-03-01"],
        )
        .await?,
        1,
        "InvalidArgument",
    );
    // No server there.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let output = hdctl(&nowhere, Some(&token), &["tickets"]).await?;
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("error: "));
    // Usage errors: clap's exit code 2.
    failure(
        &hdctl(&server, Some(&token), &["nonsense"]).await?,
        2,
        "nonsense",
    );
    failure(
        &hdctl(&server, Some(&token), &["report"]).await?,
        2,
        "--from",
    );
    helpdesk.stop().await
}

/// `hdctl departments`, `roles`, `routing-rules` and `settings` show the configuration
/// written through the API by name, never by id; the routing rules only to whom may
/// read them.
#[tokio::test]
async fn hdctl_shows_the_configuration_by_name() -> anyhow::Result<()> {
    use helpdesk_api::CommandServiceClient;
    use pb::routing_action::Action as A;
    use pb::routing_condition::Condition as Cond;

    let mut helpdesk = Helpdesk::start_embedded().await?;
    let token = helpdesk.token().to_owned();
    let server = helpdesk.endpoint();
    let mut commands = CommandServiceClient::new(helpdesk.channel().await?);
    let (ada, ada_token, _) = helpdesk.new_agent("Ada").await?;
    let billing = commands
        .create_department(with_token(
            Request::new(pb::CreateDepartmentRequest {
                name: "Billing".into(),
                ..Default::default()
            }),
            &token,
        ))
        .await?
        .into_inner()
        .aggregate_id;
    commands
        .add_agent_to_department(with_token(
            Request::new(pb::AddAgentToDepartmentRequest {
                department_id: billing.clone(),
                agent_id: ada.clone(),
                ..Default::default()
            }),
            &token,
        ))
        .await?;
    commands
        .define_role(with_token(
            Request::new(pb::DefineRoleRequest {
                name: "Team lead".into(),
                permissions: vec!["tickets.view_all".into(), "reports.view".into()],
                ..Default::default()
            }),
            &token,
        ))
        .await?;
    let refunds = commands
        .define_routing_rule(with_token(
            Request::new(pb::DefineRoutingRuleRequest {
                name: "Refunds".into(),
                groups: vec![pb::RoutingConditionGroup {
                    conditions: vec![
                        pb::RoutingCondition {
                            condition: Some(Cond::ChannelIn(pb::ChannelSet {
                                channels: vec![pb::Channel::Email as i32],
                            })),
                        },
                        pb::RoutingCondition {
                            condition: Some(Cond::SubjectContains(pb::WordList {
                                words: vec!["refund".into()],
                            })),
                        },
                    ],
                }],
                actions: vec![
                    pb::RoutingAction {
                        action: Some(A::TransferToDepartmentId(billing.clone())),
                    },
                    pb::RoutingAction {
                        action: Some(A::AssignTo(pb::AgentList {
                            agent_ids: vec![ada.clone()],
                        })),
                    },
                ],
                ..Default::default()
            }),
            &token,
        ))
        .await?
        .into_inner()
        .aggregate_id;
    // Notes on two lines, and switched off: shown on one line, and "no".
    commands
        .update_routing_rule(with_token(
            Request::new(pb::UpdateRoutingRuleRequest {
                rule_id: refunds,
                notes: Some("Billing asked for it.\nUntil March.".into()),
                enabled: Some(false),
                ..Default::default()
            }),
            &token,
        ))
        .await?;
    commands
        .set_organization_settings(with_token(
            Request::new(pb::SetOrganizationSettingsRequest {
                time_zone: Some("Europe/Ljubljana".into()),
                clover_odds: Some(0.002),
                system_routes: Some(true),
                routing_seconds: Some(90),
                ..Default::default()
            }),
            &token,
        ))
        .await?;

    let departments = table(&hdctl(&server, Some(&token), &["departments"]).await?);
    assert_eq!(
        departments,
        vec![vec!["department", "members"], vec!["Billing", "Ada"],]
    );
    let roles = table(&hdctl(&server, Some(&token), &["roles"]).await?);
    let names: Vec<&str> = roles.iter().skip(1).map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["Owner", "Administrator", "Agent", "Team lead"]);
    assert_eq!(
        roles[4][1..],
        [
            "custom".to_owned(),
            "tickets.view_all, reports.view".to_owned()
        ]
    );
    let rules = table(&hdctl(&server, Some(&token), &["routing-rules"]).await?);
    assert_eq!(
        rules,
        vec![
            vec!["#", "rule", "on", "when", "then", "notes"],
            vec![
                "1",
                "Refunds",
                "no",
                "channel is email and subject has \"refund\"",
                "transfer to Billing; assign to the first free of Ada",
                "Billing asked for it. Until March."
            ],
        ]
    );
    // Changing a rule by its name (in any case): renamed, notes removed, on again.
    let changed = hdctl(
        &server,
        Some(&token),
        &[
            "routing-rules",
            "update",
            "refunds",
            "--rename",
            "Refunds (EU)",
            "--notes",
            "",
            "--enable",
        ],
    )
    .await?;
    assert_eq!(
        table(&changed),
        vec![vec![
            r#"routing rule "refunds": renamed to "Refunds (EU)", notes removed, switched on"#
        ]]
    );
    let rules = table(&hdctl(&server, Some(&token), &["routing-rules"]).await?);
    assert_eq!(rules[1][..3], ["1", "Refunds (EU)", "yes"], "{rules:?}");
    assert_eq!(rules[1].len(), 5, "no notes: {rules:?}");
    // A name no rule has, and nothing to change: errors, and the rule as it was.
    let unknown = hdctl(
        &server,
        Some(&token),
        &["routing-rules", "update", "Refunds", "--disable"],
    )
    .await?;
    assert_eq!(unknown.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains(r#"no routing rule is named "Refunds" (there are: Refunds (EU))"#),
        "{stderr}"
    );
    let nothing = hdctl(
        &server,
        Some(&token),
        &["routing-rules", "update", "Refunds (EU)"],
    )
    .await?;
    assert_eq!(nothing.status.code(), Some(2), "a usage error");
    let help = hdctl(&server, None, &["routing-rules", "update", "--help"]).await?;
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--disable") && help.contains("Examples:"),
        "{help}"
    );
    assert_eq!(
        table(&hdctl(&server, Some(&token), &["routing-rules"]).await?),
        rules
    );
    let settings = table(&hdctl(&server, Some(&token), &["settings"]).await?);
    assert_eq!(
        settings,
        vec![
            vec!["setting", "value"],
            vec!["time zone", "Europe/Ljubljana"],
            vec!["pause agents who miss a chat or call", "no"],
            vec!["four-leaf clover odds", "1 in 500"],
            vec!["custom roles at most", "3"],
            vec!["the system offers chats and rings calls", "yes"],
            vec!["an offer is missed after", "1m 30s"],
        ]
    );
    for shown in [&departments, &roles, &rules, &settings] {
        for row in shown.iter() {
            for cell in row {
                assert!(!shows_an_id(cell), "{cell:?} shows an id");
            }
        }
    }
    // `hdctl agent` without a name: one's own page.
    let own = table(&hdctl(&server, Some(&ada_token), &["agent"]).await?);
    assert_eq!(own[0], ["Ada"], "{own:?}");
    assert!(
        own.contains(&vec!["departments".to_owned(), "Billing".to_owned()]),
        "{own:?}"
    );
    assert!(
        own.contains(&vec!["badges held: none".to_owned()]),
        "{own:?}"
    );
    // An agent sees the departments, not the routing rules.
    table(&hdctl(&server, Some(&ada_token), &["departments"]).await?);
    let denied = hdctl(&server, Some(&ada_token), &["routing-rules"]).await?;
    assert_eq!(denied.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&denied.stderr);
    assert!(
        stderr.contains("PermissionDenied") && stderr.contains("routing.manage"),
        "{stderr}"
    );
    helpdesk.stop().await
}

/// What a person checks about agents and badges: `hdctl agent NAME` (level, what the next
/// level still misses, statistics, the badges held with the value that won them), the
/// badge history by name, lengths of time as `1h 23m` that match the server's figures,
/// reports sorted within each bucket, times in the organization's time zone, and an
/// unknown name that says which names there are.
#[tokio::test]
async fn hdctl_shows_agents_badges_and_times_for_people() -> anyhow::Result<()> {
    let (mut helpdesk, expected) = with_history().await?;
    let token = helpdesk.token().to_owned();
    let server = helpdesk.endpoint();
    let run = |args: &'static [&'static str]| hdctl(&server, Some(&token), args);

    // The badges held now: by name, with the winning value.
    let now = stdout_of(&run(&["badges"]).await?);
    let held: Vec<_> = records(&now, "badge")
        .into_iter()
        .filter(|row| !row["holders"].is_empty())
        .collect();
    assert!(!held.is_empty(), "two days give badges holders:\n{now}");
    // A badge won with a length of time shows it as one.
    let timed = held
        .iter()
        .find(|row| parse_duration(&row["value"]).is_some())
        .unwrap_or_else(|| panic!("no badge held with a length of time:\n{now}"));
    // …the server's milliseconds, rounded.
    let standings = BadgeServiceClient::new(helpdesk.channel().await?)
        .list_badges(with_token(
            Request::new(pb::ListBadgesRequest { read: None }),
            &token,
        ))
        .await?
        .into_inner()
        .badges;
    let millis = standings
        .iter()
        .find(|s| s.badge.as_ref().is_some_and(|b| b.name == timed["badge"]))
        .and_then(|s| s.current.as_ref()?.value)
        .expect("the badge's value");
    let (seconds, unit) = parse_duration(&timed["value"]).unwrap();
    assert!(
        (seconds - millis as f64 / 1000.0).abs() <= unit / 2.0 + 0.5,
        "{millis} ms shown as {:?}",
        timed["value"]
    );
    let holder = timed["holders"].split(", ").next().unwrap().to_owned();
    assert!(expected.agents.contains(&holder), "{holder:?}");

    // Everyone's badge history: the awards newest first, holders by name, and today's
    // holders among them with the same value.
    let history = stdout_of(&run(&["badges", "--history"]).await?);
    let awards = records(&history, "day");
    assert_eq!(
        awards[0].keys().cloned().collect::<BTreeSet<_>>(),
        [
            "badge",
            "competitors",
            "day",
            "holders",
            "runner-up",
            "value",
            "window"
        ]
        .map(String::from)
        .into(),
    );
    let days: Vec<&String> = awards.iter().map(|row| &row["day"]).collect();
    assert!(
        days.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {days:?}"
    );
    for row in &awards {
        for name in row["holders"].split(", ") {
            assert!(expected.agents.contains(name), "{name:?} in\n{history}");
        }
    }
    for row in &held {
        assert!(
            awards.iter().any(|award| award["badge"] == row["badge"]
                && award["day"] == row["day"]
                && award["holders"] == row["holders"]
                && award["value"] == row["value"]),
            "{row:?} is not in the history:\n{history}"
        );
    }

    // One agent's history: only their awards, the badge above among them.
    let output = hdctl(
        &server,
        Some(&token),
        &["badges", "--history", "--agent", &holder],
    )
    .await?;
    let theirs = stdout_of(&output);
    let their_awards = records(&theirs, "day");
    assert!(
        their_awards
            .iter()
            .all(|row| row["holders"].split(", ").any(|name| name == holder)),
        "{theirs}"
    );
    assert!(
        their_awards
            .iter()
            .any(|row| row["badge"] == timed["badge"] && row["day"] == timed["day"]),
        "{theirs}"
    );

    // The agent page, by name.
    let page = stdout_of(&hdctl(&server, Some(&token), &["agent", &holder]).await?);
    assert_eq!(page.lines().next(), Some(holder.as_str()), "{page}");
    assert!(
        page.lines().any(|l| l.starts_with("level: ")),
        "the level:\n{page}"
    );
    assert!(
        page.lines().any(|l| l.starts_with("next level: ")),
        "the next level:\n{page}"
    );
    let statistics = records(&page, "statistic (all time)");
    let worktime = statistics
        .iter()
        .find(|row| row["statistic (all time)"] == "worktime")
        .unwrap_or_else(|| panic!("worktime:\n{page}"));
    assert!(parse_duration(&worktime["value"]).is_some(), "{page}");
    let badges_held = records(&page, "badge held");
    let row = badges_held
        .iter()
        .find(|row| row["badge held"] == timed["badge"])
        .unwrap_or_else(|| panic!("{} held:\n{page}", timed["badge"]));
    assert_eq!(row["value"], timed["value"], "{page}");
    assert_eq!(row["runner-up"], timed["runner-up"], "{page}");
    assert!(!row["window"].is_empty(), "{page}");

    // Lengths of time in a report: `1h 23m`, the server's figure rounded, blank (not 0,
    // not NaN) where there is none.
    let from = utc_date(HISTORY_START);
    let to = utc_date(HISTORY_START + 86_400_000);
    let report = ReportServiceClient::new(helpdesk.channel().await?)
        .get_report(with_token(
            Request::new(pb::ReportRequest {
                from: from.clone(),
                to: to.clone(),
                bucket: pb::ReportBucket::Range as i32,
                group_by: pb::ReportGroup::Agent as i32,
                ..Default::default()
            }),
            &token,
        ))
        .await?
        .into_inner();
    let column = report
        .columns
        .iter()
        .position(|c| c == "mean_first_answer_seconds")
        .unwrap();
    let output = hdctl(
        &server,
        Some(&token),
        &[
            "report",
            "--from",
            &from,
            "--to",
            &to,
            "--bucket",
            "range",
            "--group-by",
            "agent",
        ],
    )
    .await?;
    let shown = stdout_of(&output);
    assert!(!shown.contains("NaN"), "{shown}");
    let rows = records(&shown, "bucket");
    let mut timed_rows = 0;
    for row in &report.rows {
        let cell = &rows
            .iter()
            .find(|r| r["group"] == row.group)
            .unwrap_or_else(|| panic!("{} in\n{shown}", row.group))["mean_first_answer_seconds"];
        let seconds = row.values[column];
        if seconds == 0.0 {
            assert_eq!(cell, "", "no first answers: blank\n{shown}");
            continue;
        }
        let (shown_seconds, unit) =
            parse_duration(cell).unwrap_or_else(|| panic!("{cell:?} in\n{shown}"));
        assert!(
            (shown_seconds - seconds).abs() <= unit / 2.0 + 0.5,
            "{seconds} s shown as {cell:?}"
        );
        timed_rows += 1;
    }
    assert!(timed_rows > 0, "{shown}");

    // Sorted within each bucket: the days stay in order, the agents by answers.
    for (order, descending) in [("desc", true), ("asc", false)] {
        let output = hdctl(
            &server,
            Some(&token),
            &[
                "report",
                "--from",
                &from,
                "--to",
                &to,
                "--group-by",
                "agent",
                "--sort",
                "answers",
                "--order",
                order,
            ],
        )
        .await?;
        let text = stdout_of(&output);
        let rows = records(&text, "bucket");
        let buckets: Vec<&String> = rows.iter().map(|r| &r["bucket"]).collect();
        assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{text}");
        assert!(buckets.first() != buckets.last(), "two days: {text}");
        for pair in rows.windows(2) {
            if pair[0]["bucket"] != pair[1]["bucket"] {
                continue;
            }
            let (a, b): (f64, f64) = (pair[0]["answers"].parse()?, pair[1]["answers"].parse()?);
            assert!(if descending { a >= b } else { a <= b }, "{order}:\n{text}");
        }
    }

    // Unknown names: an error that lists the names there are, nothing shown.
    let failure = |output: &Output, says: &str| {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(output.stdout.is_empty(), "{stderr}");
        assert!(stderr.contains(says), "{says:?} not in {stderr:?}");
    };
    let output = run(&["agent", "Nobody Atall"]).await?;
    failure(&output, r#"no agent is named "Nobody Atall" (there are: "#);
    let stderr = String::from_utf8_lossy(&output.stderr);
    for name in &expected.agents {
        assert!(stderr.contains(name.as_str()), "{name} in {stderr}");
    }
    failure(
        &run(&[
            "report",
            "--from",
            "2025-03-03",
            "--to",
            "2025-03-04",
            "--department",
            "Nowhere",
        ])
        .await?,
        r#"no department is named "Nowhere" (there are: "#,
    );
    failure(
        &run(&["badges", "--history", "--badge", "Gold Star"]).await?,
        r#"no badge is named "Gold Star" (there are: "#,
    );
    failure(
        &run(&[
            "report",
            "--from",
            "2025-03-03",
            "--to",
            "2025-03-04",
            "--sort",
            "speed",
        ])
        .await?,
        r#"no column is named "speed" (there are: answers, "#,
    );

    // No ids anywhere.
    for text in [&now, &history, &theirs, &page, &shown] {
        assert!(!shows_an_id(text), "an id in:\n{text}");
    }

    // `… | head -1`: the reader gone, hdctl ends quietly (no panic, no error).
    for args in [
        &["badges", "--history"][..],
        &["agent", holder.as_str()],
        &["report", "--from", &from, "--to", &to],
    ] {
        let mut child = tokio::process::Command::new(hdctl_bin())
            .arg("--server")
            .arg(&server)
            .args(args)
            .env("HELPDESK_TOKEN", &token)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        drop(child.stdout.take());
        let output =
            tokio::time::timeout(std::time::Duration::from_secs(30), child.wait_with_output())
                .await??;
        let stderr = String::from_utf8_lossy(&output.stderr);
        use std::os::unix::process::ExitStatusExt as _;
        assert!(
            output.status.success() || output.status.signal() == Some(13),
            "hdctl {args:?} | head -1 ended with {:?}: {stderr}",
            output.status
        );
        assert!(stderr.is_empty(), "hdctl {args:?} | head -1: {stderr}");
    }

    // Times in the organization's time zone: the leaderboard's, once it is Tokyo's
    // (UTC+9, no summer time).
    let board = LevelServiceClient::new(helpdesk.channel().await?)
        .get_leaderboard(with_token(
            Request::new(pb::GetLeaderboardRequest {
                limit: 20,
                read: None,
            }),
            &token,
        ))
        .await?
        .into_inner();
    let set = helpdesk_api::CommandServiceClient::new(helpdesk.channel().await?)
        .set_organization_settings(with_token(
            Request::new(pb::SetOrganizationSettingsRequest {
                time_zone: Some("Asia/Tokyo".into()),
                ..Default::default()
            }),
            &token,
        ))
        .await?
        .into_inner();
    assert!(set.position > 0);
    let text = stdout_of(&run(&["leaderboard"]).await?);
    let rows = records(&text, "place");
    assert_eq!(rows.len(), board.rows.len(), "{text}");
    for (row, api) in rows.iter().zip(&board.rows) {
        let at = api.reached_at.expect("a level reached has its time");
        let tokyo = jiff::Timestamp::new(at.seconds, at.nanos)?
            .to_zoned(jiff::tz::TimeZone::get("Asia/Tokyo")?)
            .strftime("%Y-%m-%d %H:%M")
            .to_string();
        assert_eq!(row["agent"], api.name, "{text}");
        assert_eq!(row["reached (Asia/Tokyo)"], tokyo, "{text}");
    }
    helpdesk.stop().await
}
