//! Partitions end to end: every read model folded by two replicas (`--partition 0/2` and
//! `1/2`) behind `helpdesk gateway` answers every query exactly as one unpartitioned
//! replica of the same log does: ticket pages, counts, statistics and benchmarks, levels
//! and the leaderboard, badges and their histories, reports, CSV and charts.
//!
//! Needs the binary (`cargo build -p helpdesk-server`) and `nats-server` (`just test` sees to
//! both).

use std::collections::BTreeMap;
use std::time::Duration;

use helpdesk_api::{
    pb, AdminServiceClient, BadgeServiceClient, LevelServiceClient, ReportServiceClient,
    StatsServiceClient, TicketServiceClient,
};
use helpdesk_projections::stats::Metric;
use helpdesk_tests::compare::{assert_same, Pair};
use helpdesk_tests::workload::feed;
use helpdesk_tests::{same, utc_date, with_token, Helpdesk, NatsServer, HISTORY_START};
use helpdesk_workload::{Workload, WorkloadConfig};
use tonic::transport::Channel;
use tonic::{Code, Request};

const OWNER: &str = "partitions-test-owner-token-0123456789";
const MODELS: [&str; 5] = ["tickets", "stats", "levels", "badges", "reports"];

fn auth<T>(message: T) -> Request<T> {
    with_token(Request::new(message), OWNER)
}

/// `helpdesk project <every model> --partition <partition>` on `nats`.
async fn replica(nats: &NatsServer, partition: &str) -> anyhow::Result<Helpdesk> {
    Helpdesk::builder()
        .nats(nats)
        .subcommand(["project"].into_iter().chain(MODELS))
        .arg("--partition")
        .arg(partition)
        .start()
        .await
}

/// Every ticket `request` lists, page after page.
async fn every_ticket(
    channel: &Channel,
    mut request: pb::ListTicketsRequest,
) -> anyhow::Result<Vec<pb::Ticket>> {
    let mut tickets = Vec::new();
    loop {
        let page = TicketServiceClient::new(channel.clone())
            .list_tickets(auth(request.clone()))
            .await?
            .into_inner();
        assert!(page.tickets.len() <= request.page_size as usize);
        tickets.extend(page.tickets);
        if page.next_page_token.is_empty() {
            return Ok(tickets);
        }
        request.page_token = page.next_page_token;
    }
}

/// new / open (answered or open) / resolved per department, as the generator's own model
/// of its tickets has them at the end (as in read_side.rs).
fn expected_counts(config: &WorkloadConfig) -> BTreeMap<String, (u64, u64, u64)> {
    let mut workload = Workload::new(config.clone());
    for _ in workload.by_ref() {}
    let mut counts: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    for ticket in workload.model_tickets() {
        let department = ticket.department.map(|d| d.to_string()).unwrap_or_default();
        let entry = counts.entry(department).or_default();
        match ticket.status {
            "new" => entry.0 += 1,
            "answered" | "open" => entry.1 += 1,
            "resolved" => entry.2 += 1,
            "deleted" => {}
            other => panic!("the generator names an unknown status {other:?}"),
        }
    }
    counts.retain(|_, c| *c != (0, 0, 0));
    counts
}

#[tokio::test]
async fn two_partitions_behind_the_gateway_answer_as_one_replica() -> anyhow::Result<()> {
    let nats = NatsServer::start()?;
    let commands = Helpdesk::builder()
        .nats(&nats)
        .subcommand(["commands"])
        .owner_token(OWNER)
        .arg("--tick-seconds")
        .arg("3600")
        .start()
        .await?;
    let whole = replica(&nats, "0/1").await?;
    let parts = [replica(&nats, "0/2").await?, replica(&nats, "1/2").await?];
    let mut gateway = Helpdesk::builder().subcommand(["gateway"]);
    gateway = gateway
        .arg("--route")
        .arg(format!("commands={}", commands.endpoint()));
    for model in MODELS {
        gateway = gateway.arg("--route").arg(format!(
            "{model}={},{}",
            parts[0].endpoint(),
            parts[1].endpoint()
        ));
    }
    let gateway = gateway.start().await?;

    // The history goes in through the gateway (Execute passed through as a stream).
    let days = 4;
    let config = WorkloadConfig::new(17, 12, days, HISTORY_START);
    let last = feed(gateway.channel().await?, OWNER, config.clone()).await?;

    // Wait until the log is still (the policies may still act on the history's end).
    let mut tickets = TicketServiceClient::new(whole.channel().await?);
    let mut settled = 0;
    for _ in 0..40 {
        let position = tickets
            .count_tickets(auth(pb::CountTicketsRequest {
                read: Some(pb::ReadOptions {
                    min_position: last.max(settled),
                    wait_ms: 30_000,
                }),
            }))
            .await?
            .into_inner()
            .position;
        if position == settled {
            break;
        }
        settled = position;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let read = Some(pb::ReadOptions {
        min_position: settled,
        wait_ms: 30_000,
    });
    let both = Pair {
        left: whole.channel().await?,
        right: gateway.channel().await?,
        names: ["one replica", "the partitions behind the gateway"],
        token: OWNER.into(),
        read,
    };
    let workload = Workload::new(config.clone());
    let agents: Vec<String> = workload.agent_ids().iter().map(|a| a.to_string()).collect();
    let departments: Vec<String> = workload
        .department_ids()
        .iter()
        .map(|d| d.to_string())
        .collect();

    // Tickets: every page of 7 through the gateway is the whole list of one replica, and
    // each partition holds some of them.
    let every = pb::ListTicketsRequest {
        page_size: 1000,
        read,
        ..Default::default()
    };
    let first_page = same!(both, TicketServiceClient, list_tickets, every.clone());
    assert!(
        first_page.tickets.len() > 20,
        "{} tickets",
        first_page.tickets.len()
    );
    let all = every_ticket(&both.left, every.clone()).await?;
    for department in [None, departments.first()] {
        let request = pb::ListTicketsRequest {
            department_id: department.cloned().unwrap_or_default(),
            ..every.clone()
        };
        let expected = every_ticket(&both.left, request.clone()).await?;
        let paged = every_ticket(
            &both.right,
            pb::ListTicketsRequest {
                page_size: 7,
                ..request.clone()
            },
        )
        .await?;
        assert_same(
            &both,
            "ListTickets in pages of 7",
            &request,
            &expected,
            &paged,
        );
    }
    let mut held = 0;
    for part in &parts {
        let own = every_ticket(&part.channel().await?, every.clone())
            .await?
            .len();
        assert!(
            own > 0 && own < all.len(),
            "a partition holds {own} of {}",
            all.len()
        );
        held += own;
    }
    assert_eq!(held, all.len(), "the partitions hold every ticket once");
    for ticket in all.iter().step_by(5) {
        let request = pb::GetTicketRequest {
            ticket_id: ticket.ticket_id.clone(),
            read,
        };
        let whole = TicketServiceClient::new(both.left.clone())
            .get_ticket(auth(request.clone()))
            .await?
            .into_inner();
        let merged = TicketServiceClient::new(both.right.clone())
            .get_ticket(auth(request.clone()))
            .await?
            .into_inner();
        assert_same(&both, "GetTicket", &request, &whole, &merged);
    }
    let counts = same!(
        both,
        TicketServiceClient,
        count_tickets,
        pb::CountTicketsRequest { read }
    );
    // Not only the same as one replica: what the generator's own account of its tickets
    // says (new / open / resolved per department).
    let counted: BTreeMap<String, (u64, u64, u64)> = counts
        .departments
        .iter()
        .filter(|d| d.new + d.open + d.resolved > 0)
        .map(|d| (d.department_id.clone(), (d.new, d.open, d.resolved)))
        .collect();
    assert_eq!(
        counted,
        expected_counts(&config),
        "the partitions' ticket counts are not the generator's"
    );

    // Statistics: every agent, and the benchmark of every statistic both ways.
    for agent in &agents {
        same!(
            both,
            StatsServiceClient,
            get_agent_stats,
            pb::GetAgentStatsRequest {
                agent_id: agent.clone(),
                window: None,
                read,
            }
        );
    }
    for statistic in Metric::names() {
        for (ascending, limit) in [(false, 0), (true, 3)] {
            same!(
                both,
                StatsServiceClient,
                benchmark,
                pb::BenchmarkRequest {
                    statistic: statistic.to_owned(),
                    ascending,
                    limit,
                    read,
                    ..Default::default()
                }
            );
        }
    }

    // Levels.
    same!(
        both,
        LevelServiceClient,
        list_levels,
        pb::ListLevelsRequest { read }
    );
    let board = same!(
        both,
        LevelServiceClient,
        get_leaderboard,
        pb::GetLeaderboardRequest { limit: 0, read }
    );
    assert!(!board.rows.is_empty(), "nobody reached a level");
    for agent in &agents {
        same!(
            both,
            LevelServiceClient,
            get_agent_level,
            pb::GetAgentLevelRequest {
                agent_id: agent.clone(),
                read,
            }
        );
        same!(
            both,
            LevelServiceClient,
            get_level_progress,
            pb::GetLevelProgressRequest {
                agent_id: agent.clone(),
                read,
            }
        );
    }
    same!(
        both,
        LevelServiceClient,
        dry_run_condition,
        pb::DryRunConditionRequest {
            condition: "$answers >= 5 && $worktime > 1".into(),
            read,
        }
    );

    // Badges: the standings, every badge's history, every agent's badges.
    let listed = same!(
        both,
        BadgeServiceClient,
        list_badges,
        pb::ListBadgesRequest { read }
    );
    assert!(
        listed
            .badges
            .iter()
            .any(|s| s.current.as_ref().is_some_and(|e| !e.holders.is_empty())),
        "nobody holds a badge"
    );
    for standing in &listed.badges {
        let badge_key = standing
            .badge
            .as_ref()
            .map(|b| b.key.clone())
            .unwrap_or_default();
        same!(
            both,
            BadgeServiceClient,
            get_badge_history,
            pb::GetBadgeHistoryRequest {
                badge_key,
                limit: 0,
                read,
            }
        );
    }
    for agent in &agents {
        same!(
            both,
            BadgeServiceClient,
            get_agent_badges,
            pb::GetAgentBadgesRequest {
                agent_id: agent.clone(),
                limit: 0,
                read,
            }
        );
    }
    // Who won among all agents is known only after every replica evaluated: the live
    // award stream needs one replica, and says so.
    let awards = BadgeServiceClient::new(both.right.clone())
        .watch_awards(auth(pb::WatchAwardsRequest::default()))
        .await
        .err()
        .map(|status| status.code());
    assert_eq!(awards, Some(Code::FailedPrecondition));

    // Reports: every grouping, by day and over the range, sorted or not; CSV and charts.
    let from = utc_date(config.start);
    let to = utc_date(config.end());
    for group_by in [
        pb::ReportGroup::Unspecified,
        pb::ReportGroup::Department,
        pb::ReportGroup::Agent,
        pb::ReportGroup::Channel,
        pb::ReportGroup::Tag,
    ] {
        for (bucket, sort_by) in [
            (pb::ReportBucket::Day, ""),
            (pb::ReportBucket::Range, "answers"),
        ] {
            let report = pb::ReportRequest {
                from: from.clone(),
                to: to.clone(),
                bucket: bucket as i32,
                group_by: group_by as i32,
                sort_by: sort_by.into(),
                read,
                ..Default::default()
            };
            let answered = same!(both, ReportServiceClient, get_report, report.clone());
            assert!(!answered.rows.is_empty(), "an empty report: {report:?}");
            same!(
                both,
                ReportServiceClient,
                get_chart_series,
                pb::ChartRequest {
                    report: Some(report.clone()),
                    column: "created_tickets".into(),
                }
            );
            let mut csv = Vec::new();
            for channel in [&both.left, &both.right] {
                let mut stream = ReportServiceClient::new(channel.clone())
                    .export_report_csv(auth(report.clone()))
                    .await?
                    .into_inner();
                let mut text = Vec::new();
                while let Some(chunk) = stream.message().await? {
                    text.extend(chunk.data);
                }
                csv.push(String::from_utf8(text)?);
            }
            assert_same(&both, "ExportReportCsv", &report, &csv[0], &csv[1]);
        }
    }

    // The admin service passes through; refusals come back as the replica gave them.
    let tokens = |channel: Channel| async move {
        AdminServiceClient::new(channel)
            .list_tokens(auth(pb::ListTokensRequest::default()))
            .await
            .map(|r| r.into_inner())
    };
    assert_eq!(
        tokens(commands.channel().await?).await?,
        tokens(both.right.clone()).await?
    );
    let refused = StatsServiceClient::new(both.right.clone())
        .get_agent_stats(auth(pb::GetAgentStatsRequest {
            agent_id: "not-a-uuid".into(),
            ..Default::default()
        }))
        .await
        .expect_err("a malformed agent id is refused");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("agent_id"), "{refused:?}");
    let anonymous = LevelServiceClient::new(both.right.clone())
        .get_leaderboard(pb::GetLeaderboardRequest::default())
        .await
        .expect_err("a call without a token is refused");
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    Ok(())
}
