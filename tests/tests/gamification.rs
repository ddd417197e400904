//! Badges and reports end to end, on both backends: the same seeded history gives the
//! same Four-leaf Clovers on the embedded log and on NATS, every clover holder won the
//! keyed draw, badges are awarded day by day, and the department report agrees with the
//! history that was fed (and is exported as CSV only with the permission).
//!
//! Needs the binary (`cargo build -p helpdesk-server`) and `nats-server` (`just test` sees to
//! both).

use std::collections::{BTreeMap, BTreeSet};

use helpdesk_api::pb::execute_request::Command as Cmd;
use helpdesk_api::{
    pb, AdminServiceClient, BadgeServiceClient, CommandServiceClient, ReportServiceClient,
};
use helpdesk_tests::workload::feed;
use helpdesk_tests::{with_token, Builder, Helpdesk, NatsServer, HISTORY_START};
use helpdesk_workload::{command_kind, Workload, WorkloadConfig};
use tonic::{Code, Request};
use uuid::Uuid;

const SEED: [u8; 32] = [42; 32];
const ODDS: f64 = 0.3;

fn auth<T>(token: &str, message: T) -> Request<T> {
    with_token(Request::new(message), token)
}

fn date(millis: i64) -> String {
    jiff::Timestamp::from_millisecond(millis)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string()
}

/// Day → clover holders, as the server reports them.
type Clovers = BTreeMap<String, Vec<String>>;

async fn run(builder: Builder, config: &WorkloadConfig) -> anyhow::Result<Clovers> {
    let mut helpdesk = builder.arg("--tick-seconds").arg("3600").start().await?;
    let token = helpdesk.token().to_owned();
    let channel = helpdesk.channel().await?;

    // The clover's seed and odds, recorded before the history (an import's time).
    CommandServiceClient::new(channel.clone())
        .set_organization_settings(auth(
            &token,
            pb::SetOrganizationSettingsRequest {
                occurred_at: Some(prost_types::Timestamp {
                    seconds: (config.start - 60_000) / 1000,
                    nanos: 0,
                }),
                seed: Some(SEED.to_vec()),
                clover_odds: Some(ODDS),
                ..Default::default()
            },
        ))
        .await?;
    // Who won "recognized" is for the holder and managers only (docs/SECURITY.md).
    CommandServiceClient::new(channel.clone())
        .customize_badge(auth(
            &token,
            pb::CustomizeBadgeRequest {
                occurred_at: Some(prost_types::Timestamp {
                    seconds: (config.start - 60_000) / 1000,
                    nanos: 0,
                }),
                key: "recognized".into(),
                visibility: Some(pb::BadgeVisibility::SelfAndManagers as i32),
                ..Default::default()
            },
        ))
        .await?;
    let last = feed(channel.clone(), &token, config.clone()).await?;
    let read = Some(pb::ReadOptions {
        min_position: last,
        wait_ms: 60_000,
    });

    // Badges, day by day: each midnight after the first active day, up to the last event
    // (today's midnight waits for an event of today: a tick).
    let mut badges = BadgeServiceClient::new(channel.clone());
    let listed = badges
        .list_badges(auth(&token, pb::ListBadgesRequest { read }))
        .await?
        .into_inner();
    assert_eq!(listed.badges.len(), 15);
    let history = badges
        .get_badge_history(auth(
            &token,
            pb::GetBadgeHistoryRequest {
                badge_key: "recognized".into(),
                limit: 100,
                read,
            },
        ))
        .await?
        .into_inner();
    let days: Vec<_> = history.evaluations.iter().map(|e| e.day.clone()).collect();
    assert_eq!(
        days.len() as u32,
        config.days - 1,
        "one evaluation per midnight passed: {days:?}"
    );
    assert!(
        history.evaluations.iter().any(|e| !e.holders.is_empty()),
        "somebody was recognized"
    );

    let clovers = badges
        .get_badge_history(auth(
            &token,
            pb::GetBadgeHistoryRequest {
                badge_key: "four_leaf_clover".into(),
                limit: 100,
                read,
            },
        ))
        .await?
        .into_inner();
    let mut by_day = Clovers::new();
    for evaluation in clovers.evaluations {
        let mut holders: Vec<String> = evaluation
            .holders
            .iter()
            .map(|h| h.agent_id.clone())
            .collect();
        holders.sort();
        // Each holder won the keyed draw for the previous day (docs/STATISTICS.md, Badges).
        for holder in &holders {
            let agent: Uuid = holder.parse()?;
            assert!(
                helpdesk_rules_clover(&evaluation.window_to, agent),
                "{holder} holds the clover of {} without winning the draw",
                evaluation.day
            );
        }
        by_day.insert(evaluation.day, holders);
    }

    // The department report: created tickets add up to the CreateTicket commands fed.
    let expected_created = Workload::new(config.clone())
        .filter(|r| command_kind(r) == "CreateTicket")
        .count() as f64;
    let from = date(config.start);
    let to = date(config.end() - 1);
    let mut reports = ReportServiceClient::new(channel.clone());
    let report = reports
        .get_report(auth(
            &token,
            pb::ReportRequest {
                from: from.clone(),
                to: to.clone(),
                bucket: pb::ReportBucket::Range as i32,
                group_by: pb::ReportGroup::Department as i32,
                read,
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    let created = report
        .columns
        .iter()
        .position(|c| c == "created_tickets")
        .unwrap();
    let total: f64 = report.rows.iter().map(|r| r.values[created]).sum();
    assert_eq!(total, expected_created);

    // CSV: the header names the documented columns, one row per group.
    let mut csv = String::new();
    let mut chunks = reports
        .export_report_csv(auth(
            &token,
            pb::ReportRequest {
                from: from.clone(),
                to: to.clone(),
                bucket: pb::ReportBucket::Range as i32,
                group_by: pb::ReportGroup::Department as i32,
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    while let Some(chunk) = chunks.message().await? {
        csv.push_str(std::str::from_utf8(&chunk.data)?);
    }
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("bucket,bucket_start,group_id,group,answers,mean_first_answer_seconds")
    );
    assert!(header.ends_with("created_tickets,resolved_tickets"));
    assert_eq!(lines.count(), report.rows.len());

    // An agent without reports.export gets no CSV.
    let agent = CommandServiceClient::new(channel.clone())
        .register_agent(auth(
            &token,
            pb::RegisterAgentRequest {
                name: "Eve".into(),
                email: "eve@example.com".into(),
                role: Some(pb::RoleRef {
                    role: Some(pb::role_ref::Role::Builtin(pb::BuiltinRole::Agent as i32)),
                }),
                ..Default::default()
            },
        ))
        .await?
        .into_inner()
        .aggregate_id;
    let eve = AdminServiceClient::new(channel.clone())
        .issue_token(auth(
            &token,
            pb::IssueTokenRequest {
                subject: Some(pb::issue_token_request::Subject::AgentId(agent)),
                ..Default::default()
            },
        ))
        .await?
        .into_inner()
        .token;
    // Eve, who holds no "recognized", learns nothing of who won it: no holder, no
    // winning value, no runner-up, no count; the Owner (reports.view) sees them all.
    let hidden = badges
        .get_badge_history(auth(
            &eve,
            pb::GetBadgeHistoryRequest {
                badge_key: "recognized".into(),
                limit: 100,
                read,
            },
        ))
        .await?
        .into_inner();
    assert_eq!(hidden.evaluations.len(), history.evaluations.len());
    for evaluation in &hidden.evaluations {
        assert!(evaluation.holders.is_empty(), "{evaluation:?}");
        assert_eq!(evaluation.value, None, "{evaluation:?}");
        assert_eq!(evaluation.runner_up, None, "{evaluation:?}");
        assert_eq!(evaluation.competitors, 0, "{evaluation:?}");
    }
    assert!(history.evaluations.iter().any(|e| e.competitors > 0));
    let denied = reports
        .export_report_csv(auth(
            &eve,
            pb::ReportRequest {
                from,
                to,
                ..Default::default()
            },
        ))
        .await
        .map(|_| ())
        .expect_err("an agent without reports.export");
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(denied.message().contains("reports.export"));

    helpdesk.stop().await?;
    Ok(by_day)
}

/// The Four-leaf Clover's draw (docs/STATISTICS.md, Badges), computed here: the first 8
/// bytes of SHA-256(seed ‖ date ‖ agent) as a big-endian u64, below odds × 2^64.
fn helpdesk_rules_clover(date: &str, agent: Uuid) -> bool {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(SEED);
    hash.update(date.as_bytes());
    hash.update(agent.as_bytes());
    let digest = hash.finalize();
    let draw = u64::from_be_bytes(digest[..8].try_into().unwrap());
    (draw as f64) < ODDS * 18_446_744_073_709_551_616.0
}

#[tokio::test]
async fn the_same_history_gives_the_same_clovers_and_reports_on_both_backends() -> anyhow::Result<()>
{
    let days = 4;
    let config = WorkloadConfig::new(31, 6, days, HISTORY_START);
    let embedded = run(Helpdesk::builder(), &config).await?;
    // The holders checked against the rule (docs/STATISTICS.md): agents active on the
    // previous day who win the draw. Whoever went online that day was active (the least
    // the holders include); nobody else than the history's agents can be (the most).
    let agents = Workload::new(config.clone()).agent_ids();
    let mut online: BTreeMap<String, BTreeSet<Uuid>> = BTreeMap::new();
    for request in Workload::new(config.clone()) {
        if let Some(Cmd::GoOnline(go)) = request.command {
            let at = go.occurred_at.expect("generated requests are dated");
            online
                .entry(date(at.seconds * 1000))
                .or_default()
                .insert(go.agent_id.parse()?);
        }
    }
    let evaluated: Vec<&String> = embedded.keys().collect();
    let mut sure = 0;
    for day in 1..days {
        let today = date(config.start + i64::from(day) * 86_400_000);
        let yesterday = date(config.start + i64::from(day - 1) * 86_400_000);
        let lucky = |agent: &&Uuid| helpdesk_rules_clover(&yesterday, **agent);
        let least: BTreeSet<String> = online
            .get(&yesterday)
            .into_iter()
            .flatten()
            .filter(lucky)
            .map(Uuid::to_string)
            .collect();
        let most: BTreeSet<String> = agents.iter().filter(lucky).map(Uuid::to_string).collect();
        let holders: BTreeSet<String> = embedded
            .get(&today)
            .unwrap_or_else(|| panic!("no clover evaluation of {today}: {evaluated:?}"))
            .iter()
            .cloned()
            .collect();
        assert!(
            least.is_subset(&holders) && holders.is_subset(&most),
            "the clovers of {today} are {holders:?}: the rule gives at least {least:?}, at \
             most {most:?}"
        );
        sure += least.len();
    }
    assert_eq!(embedded.len() as u32, days - 1, "one evaluation a midnight");
    assert!(
        sure > 0,
        "this history gives clovers for sure: {embedded:?}"
    );

    let nats = NatsServer::start()?;
    let on_nats = run(Helpdesk::builder().nats(&nats), &config).await?;
    assert_eq!(embedded, on_nats, "the clovers differ between the backends");
    Ok(())
}
