//! Queries at a fixed rate against a projector process, beside a trivial RPC
//! (`grpc.health.v1.Health/Check`) on the same server stack at the same rate.

use std::time::{Duration, Instant};

use helpdesk_api::{pb, LevelServiceClient, ReportServiceClient, StatsServiceClient};
use helpdesk_bench::measure::Latencies;
use tonic::transport::Channel;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use crate::ingest::{authorized, channel};
use crate::rate::at_rate;

/// What to ask.
#[derive(Debug, Clone)]
pub enum Query {
    /// The trivial RPC: the baseline.
    Health,
    /// `StatsService/GetAgentStats` of one of these agents (in turn), last 7 days.
    AgentStats(Vec<String>),
    /// `LevelService/GetLeaderboard`, the top 100.
    Leaderboard,
    /// `ReportService/GetReport` of these days (YYYY-MM-DD, included), one bucket,
    /// per department.
    MonthReport { from: String, to: String },
}

/// Asks `query` at `rate` per second for `duration` over `connections` connections.
pub async fn at_fixed_rate(
    url: &str,
    token: &str,
    query: Query,
    rate: f64,
    duration: Duration,
    connections: usize,
) -> anyhow::Result<(Latencies, Option<tonic::Status>)> {
    let mut channels: Vec<Channel> = Vec::new();
    for _ in 0..connections.max(1) {
        channels.push(channel(url).await?);
    }
    let token = token.to_owned();
    let results = at_rate(rate, duration, move |i| {
        let channel = channels[i % channels.len()].clone();
        let (token, query) = (token.clone(), query.clone());
        async move {
            let started = Instant::now();
            let answer =
                tokio::time::timeout(Duration::from_secs(10), ask(channel, &token, &query, i));
            answer
                .await
                .unwrap_or_else(|_| Err(tonic::Status::deadline_exceeded("no answer within 10 s")))
                .map(|()| started.elapsed())
        }
    })
    .await;
    let mut latencies = Latencies::default();
    let mut first_error = None;
    for result in results {
        match result {
            Ok(latency) => latencies.record(latency),
            Err(status) => {
                latencies.errors += 1;
                first_error.get_or_insert(status);
            }
        }
    }
    Ok((latencies, first_error))
}

/// Asks `query` one at a time over one connection for `duration`: the latencies (whose
/// inverse is what one client gets, and roughly the server's cost of one query).
pub async fn closed_loop(
    url: &str,
    token: &str,
    query: &Query,
    duration: Duration,
) -> anyhow::Result<Latencies> {
    let channel = channel(url).await?;
    let mut latencies = Latencies::default();
    let until = Instant::now() + duration;
    let mut i = 0;
    while Instant::now() < until {
        let started = Instant::now();
        match ask(channel.clone(), token, query, i).await {
            Ok(()) => latencies.record(started.elapsed()),
            Err(_) => latencies.errors += 1,
        }
        i += 1;
    }
    Ok(latencies)
}

/// One query.
pub async fn ask(
    channel: Channel,
    token: &str,
    query: &Query,
    i: usize,
) -> Result<(), tonic::Status> {
    match query {
        Query::Health => HealthClient::new(channel)
            .check(authorized(
                token,
                HealthCheckRequest {
                    service: String::new(),
                },
            ))
            .await
            .map(drop),
        Query::AgentStats(agents) => StatsServiceClient::new(channel)
            .get_agent_stats(authorized(
                token,
                pb::GetAgentStatsRequest {
                    agent_id: agents[i % agents.len()].clone(),
                    window: Some(pb::StatsWindow {
                        kind: pb::WindowKind::Last7Days as i32,
                        ..Default::default()
                    }),
                    read: None,
                },
            ))
            .await
            .map(drop),
        Query::Leaderboard => LevelServiceClient::new(channel)
            .get_leaderboard(authorized(
                token,
                pb::GetLeaderboardRequest {
                    limit: 100,
                    read: None,
                },
            ))
            .await
            .map(drop),
        Query::MonthReport { from, to } => ReportServiceClient::new(channel)
            .get_report(authorized(
                token,
                pb::ReportRequest {
                    from: from.clone(),
                    to: to.clone(),
                    bucket: pb::ReportBucket::Month as i32,
                    group_by: pb::ReportGroup::Department as i32,
                    ..Default::default()
                },
            ))
            .await
            .map(drop),
    }
}

/// The calendar date (YYYY-MM-DD, UTC) of `millis` since the Unix epoch.
pub fn date(millis: i64) -> String {
    // Howard Hinnant's civil_from_days.
    let z = millis.div_euclid(86_400_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert_eq!(super::date(0), "1970-01-01");
        assert_eq!(super::date(1_704_067_200_000), "2024-01-01");
        assert_eq!(super::date(1_709_164_800_000), "2024-02-29");
        assert_eq!(super::date(-1), "1969-12-31");
    }
}
