//! How answers with rows are cut, ordered and ranked: one function per answer, called by
//! the service of a single replica and by the gateway merging several replicas' rows, so
//! that both answer alike.

use helpdesk_api::{pb, ApiError};

/// The rows an answer has when the request does not say (`limit: 0`).
pub const DEFAULT_ROWS: u32 = 100;
/// The most rows a request may ask for.
pub const MAX_ROWS: u32 = 10_000;

/// A request's `limit`: 0 is [`DEFAULT_ROWS`], above [`MAX_ROWS`] is refused.
pub fn row_limit(value: u32) -> Result<usize, ApiError> {
    match value {
        0 => Ok(DEFAULT_ROWS as usize),
        n if n <= MAX_ROWS => Ok(n as usize),
        n => Err(ApiError::invalid_argument(
            "limit",
            format!("1 to {MAX_ROWS}, got {n}"),
        )),
    }
}

/// A ticket list's page when the request does not say (`page_size: 0`).
pub const DEFAULT_PAGE: u32 = 100;
/// The largest page of tickets.
pub const MAX_PAGE: u32 = 1_000;

/// A request's `page_size`: 0 is [`DEFAULT_PAGE`], above [`MAX_PAGE`] is refused.
pub fn page_size(value: u32) -> Result<usize, ApiError> {
    match value {
        0 => Ok(DEFAULT_PAGE as usize),
        n if n <= MAX_PAGE => Ok(n as usize),
        n => Err(ApiError::invalid_argument(
            "page_size",
            format!("1 to {MAX_PAGE}, got {n}"),
        )),
    }
}

/// A benchmark: best value first (lowest first when `ascending`), then by name and
/// agent; the first `limit`; ties share the place of the first of them (1, 2, 2, 4).
pub fn rank_benchmark(rows: &mut Vec<pb::BenchmarkRow>, ascending: bool, limit: usize) {
    rows.sort_by(|a, b| {
        let order = a.value.total_cmp(&b.value);
        let order = if ascending { order } else { order.reverse() };
        order
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.agent_id.cmp(&b.agent_id))
    });
    rows.truncate(limit);
    let mut place = 0;
    let mut previous = None;
    for (i, row) in rows.iter_mut().enumerate() {
        if previous != Some(row.value) {
            place = i as u32 + 1;
            previous = Some(row.value);
        }
        row.place = place;
    }
}

/// The level leaderboard: highest level first, then who reached it first, then by
/// agent; the first `limit`, placed 1, 2, 3 (the time breaks every tie).
pub fn rank_leaderboard(rows: &mut Vec<pb::LeaderboardRow>, limit: usize) {
    let rank = |r: &pb::LeaderboardRow| r.level.as_ref().map_or(0, |l| l.rank);
    let when = |r: &pb::LeaderboardRow| r.reached_at.map(|t| (t.seconds, t.nanos));
    rows.sort_by(|a, b| {
        rank(b)
            .cmp(&rank(a))
            .then_with(|| when(a).cmp(&when(b)))
            .then_with(|| a.agent_id.cmp(&b.agent_id))
    });
    rows.truncate(limit);
    for (i, row) in rows.iter_mut().enumerate() {
        row.place = i as u32 + 1;
    }
}

/// A dry run of a level condition: who qualifies first, then by name.
pub fn order_dry_run(rows: &mut [pb::DryRunRow]) {
    rows.sort_by(|a, b| {
        b.qualifies
            .cmp(&a.qualifies)
            .then_with(|| a.name.cmp(&b.name))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(agent: &str, name: &str, value: f64) -> pb::BenchmarkRow {
        pb::BenchmarkRow {
            agent_id: agent.into(),
            name: name.into(),
            value,
            ..Default::default()
        }
    }

    #[test]
    fn ties_share_a_place() {
        let mut rows = vec![
            row("c", "Cy", 3.0),
            row("a", "Al", 5.0),
            row("b", "Bo", 5.0),
        ];
        rank_benchmark(&mut rows, false, 10);
        let places: Vec<_> = rows.iter().map(|r| (r.name.as_str(), r.place)).collect();
        assert_eq!(places, [("Al", 1), ("Bo", 1), ("Cy", 3)]);
        rank_benchmark(&mut rows, true, 2);
        let places: Vec<_> = rows.iter().map(|r| (r.name.as_str(), r.place)).collect();
        assert_eq!(places, [("Cy", 1), ("Al", 2)]);
    }

    #[test]
    fn limits() {
        assert_eq!(row_limit(0).unwrap(), 100);
        assert_eq!(row_limit(10_000).unwrap(), 10_000);
        assert!(row_limit(10_001).is_err());
    }
}
