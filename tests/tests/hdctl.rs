//! `hdctl`, the real binary, against a running server: what a user sees (names, not ids;
//! figures the test works out from the commands it sent) and its exit codes on errors.
//!
//! Needs the binaries (`cargo build -p helpdesk-server -p helpdesk-cli`).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;

use helpdesk_api::pb::execute_request::Command as Cmd;
use helpdesk_api::{pb, TicketServiceClient};
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

#[tokio::test]
async fn hdctl_shows_what_happened_by_name() -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::builder()
        .arg("--tick-seconds")
        .arg("3600")
        .start()
        .await?;
    let token = helpdesk.token().to_owned();
    let server = helpdesk.endpoint();
    // Two weekdays from the fixed Monday: the history is the same whatever the date.
    let config = WorkloadConfig::new(5, 5, 2, HISTORY_START);
    let expected = expected(&config);
    let last = feed(helpdesk.channel().await?, &token, config).await?;
    // hdctl reads without waiting: wait until the models have read the history.
    TicketServiceClient::new(helpdesk.channel().await?)
        .count_tickets(with_token(
            Request::new(pb::CountTicketsRequest {
                read: Some(pb::ReadOptions {
                    min_position: last,
                    wait_ms: 60_000,
                }),
            }),
            &token,
        ))
        .await?;

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
    assert_eq!(rows[0], ["place", "agent", "level", "rank"]);
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
            "started",
            "finished"
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
    let settings = table(&hdctl(&server, Some(&token), &["settings"]).await?);
    assert_eq!(
        settings,
        vec![
            vec!["setting", "value"],
            vec!["time zone", "Europe/Ljubljana"],
            vec!["pause agents who miss a chat or call", "no"],
            vec!["four-leaf clover odds", "1 in 500"],
            vec!["custom roles at most", "3"],
        ]
    );
    for shown in [&departments, &roles, &rules, &settings] {
        for row in shown.iter() {
            for cell in row {
                assert!(!shows_an_id(cell), "{cell:?} shows an id");
            }
        }
    }
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
