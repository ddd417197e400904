//! One merge per answer: the answers of every replica of a read model made into the
//! answer one replica holding everything would give. Each has read as far as the least
//! advanced replica it merges. Cutting, ordering and ranking are the single replica's own
//! (`query::ranking`).

use std::collections::BTreeMap;

use helpdesk_api::{pb, ApiError};
use helpdesk_projections::reports::Columns;
use helpdesk_projections::tickets::Cursor;
use uuid::Uuid;

use crate::query::ranking::{order_dry_run, rank_benchmark, rank_leaderboard};

/// How far a merged answer has read: as far as the least advanced replica it merges.
fn read_as_far<T>(answers: &[T], position: impl Fn(&T) -> u64) -> u64 {
    answers.iter().map(position).min().unwrap_or(0)
}

/// One page of tickets, newest first across partitions (as each lists them), with a page
/// token after the last one when any partition has more.
pub fn ticket_page(
    pages: Vec<pb::ListTicketsResponse>,
    page_size: usize,
) -> pb::ListTicketsResponse {
    let more = pages.iter().any(|p| !p.next_page_token.is_empty());
    let position = read_as_far(&pages, |p| p.position);
    let key = |t: &pb::Ticket| {
        let millis = t
            .created_at
            .map_or(0, |c| c.seconds * 1000 + i64::from(c.nanos) / 1_000_000);
        (millis, Uuid::parse_str(&t.ticket_id).unwrap_or_default())
    };
    let mut tickets: Vec<pb::Ticket> = pages.into_iter().flat_map(|p| p.tickets).collect();
    tickets.sort_by_key(|t| std::cmp::Reverse(key(t)));
    let cut = tickets.len() > page_size;
    tickets.truncate(page_size);
    let next_page_token = match tickets.last() {
        Some(last) if cut || more => {
            let (millis, id) = key(last);
            Cursor {
                created_at: helpdesk_domain::Timestamp::from_millis(millis),
                id,
            }
            .encode()
        }
        _ => String::new(),
    };
    pb::ListTicketsResponse {
        tickets,
        next_page_token,
        position,
    }
}

/// The roster of every replica's agents, by name as one replica orders them.
pub fn roster(answers: Vec<pb::ListAgentsResponse>) -> pb::ListAgentsResponse {
    let position = read_as_far(&answers, |a| a.position);
    let mut agents: Vec<pb::RosterAgent> = answers.into_iter().flat_map(|a| a.agents).collect();
    helpdesk_projections::roster::sort_by_name(&mut agents, |a| {
        (&a.name, Uuid::parse_str(&a.agent_id).unwrap_or_default())
    });
    pb::ListAgentsResponse { agents, position }
}

/// Per-department ticket counts, added up.
pub fn ticket_counts(answers: Vec<pb::CountTicketsResponse>) -> pb::CountTicketsResponse {
    let position = read_as_far(&answers, |a| a.position);
    let mut sums: BTreeMap<String, pb::DepartmentTicketCounts> = BTreeMap::new();
    for department in answers.into_iter().flat_map(|a| a.departments) {
        let sum = sums
            .entry(department.department_id.clone())
            .or_insert_with(|| pb::DepartmentTicketCounts {
                department_id: department.department_id.clone(),
                name: department.name.clone(),
                ..Default::default()
            });
        sum.new += department.new;
        sum.open += department.open;
        sum.resolved += department.resolved;
        sum.awaiting_customer += department.awaiting_customer;
    }
    pb::CountTicketsResponse {
        departments: sums.into_values().collect(),
        position,
    }
}

/// A benchmark over every replica's agents, ranked again.
pub fn benchmark(
    answers: Vec<pb::BenchmarkResponse>,
    ascending: bool,
    limit: usize,
) -> pb::BenchmarkResponse {
    let position = read_as_far(&answers, |a| a.position);
    let (from, to) = answers
        .first()
        .map(|a| (a.from.clone(), a.to.clone()))
        .unwrap_or_default();
    let mut rows: Vec<pb::BenchmarkRow> = answers.into_iter().flat_map(|a| a.rows).collect();
    rank_benchmark(&mut rows, ascending, limit);
    pb::BenchmarkResponse {
        rows,
        from,
        to,
        position,
    }
}

/// The level leaderboard over every replica's agents, ranked again.
pub fn leaderboard(
    answers: Vec<pb::GetLeaderboardResponse>,
    limit: usize,
) -> pb::GetLeaderboardResponse {
    let position = read_as_far(&answers, |a| a.position);
    let mut rows: Vec<pb::LeaderboardRow> = answers.into_iter().flat_map(|a| a.rows).collect();
    rank_leaderboard(&mut rows, limit);
    pb::GetLeaderboardResponse { rows, position }
}

/// A level condition tried on every replica's agents.
pub fn dry_run(answers: Vec<pb::DryRunConditionResponse>) -> pb::DryRunConditionResponse {
    let position = read_as_far(&answers, |a| a.position);
    let condition = answers
        .first()
        .map(|a| a.condition.clone())
        .unwrap_or_default();
    let qualifying = answers.iter().map(|a| a.qualifying).sum();
    let mut rows: Vec<pb::DryRunRow> = answers.into_iter().flat_map(|a| a.rows).collect();
    order_dry_run(&mut rows);
    pb::DryRunConditionResponse {
        condition,
        rows,
        qualifying,
        position,
    }
}

/// One evaluation from the evaluations of every replica at the same midnight: the best
/// value of all, every agent tied at it, the best of the rest as runner-up.
pub fn evaluations(best: i32, parts: Vec<pb::BadgeEvaluation>) -> Option<pb::BadgeEvaluation> {
    let min = best == pb::BadgeBest::Min as i32;
    let better = |a: u64, b: u64| if min { a < b } else { a > b };
    let pick = |values: &mut dyn Iterator<Item = u64>| {
        values.reduce(|a, b| if better(b, a) { b } else { a })
    };
    let mut first = parts.first()?.clone();
    let value = pick(&mut parts.iter().filter_map(|p| p.value));
    first.holders = match value {
        // A statistic badge: the replicas' holders tied at the best value.
        Some(value) => parts
            .iter()
            .filter(|p| p.value == Some(value))
            .flat_map(|p| p.holders.clone())
            .collect(),
        // The clover (no values): every replica's lucky agents.
        None => parts.iter().flat_map(|p| p.holders.clone()).collect(),
    };
    first.holders.sort_by(|a, b| a.agent_id.cmp(&b.agent_id));
    first.runner_up = pick(
        &mut parts
            .iter()
            .flat_map(|p| [p.runner_up, p.value.filter(|v| Some(*v) != value)])
            .flatten(),
    );
    first.value = value;
    first.competitors = parts.iter().map(|p| p.competitors).sum();
    Some(first)
}

/// Every badge with its merged current evaluation (the latest midnight every replica has
/// evaluated).
pub fn badge_standings(answers: Vec<pb::ListBadgesResponse>) -> pb::ListBadgesResponse {
    let position = read_as_far(&answers, |a| a.position);
    let mut by_key: BTreeMap<String, (pb::Badge, Vec<pb::BadgeEvaluation>)> = BTreeMap::new();
    for standing in answers.into_iter().flat_map(|a| a.badges) {
        let badge = standing.badge.unwrap_or_default();
        let entry = by_key
            .entry(badge.key.clone())
            .or_insert_with(|| (badge.clone(), Vec::new()));
        entry.1.extend(standing.current);
    }
    let badges = by_key
        .into_values()
        .map(|(badge, evaluations)| {
            let day = evaluations
                .iter()
                .map(|e| e.day.clone())
                .min()
                .unwrap_or_default();
            let same_day: Vec<_> = evaluations.into_iter().filter(|e| e.day == day).collect();
            pb::BadgeStanding {
                current: self::evaluations(badge.best, same_day),
                badge: Some(badge),
            }
        })
        .collect();
    pb::ListBadgesResponse { badges, position }
}

/// A badge's history, merged day by day, newest first.
pub fn badge_history(
    answers: Vec<pb::GetBadgeHistoryResponse>,
    limit: usize,
) -> pb::GetBadgeHistoryResponse {
    let position = read_as_far(&answers, |a| a.position);
    let badge = answers.first().and_then(|a| a.badge.clone());
    let best = badge.as_ref().map_or(0, |b| b.best);
    let mut by_day: BTreeMap<String, Vec<pb::BadgeEvaluation>> = BTreeMap::new();
    for evaluation in answers.into_iter().flat_map(|a| a.evaluations) {
        by_day
            .entry(evaluation.day.clone())
            .or_default()
            .push(evaluation);
    }
    let evaluations = by_day
        .into_values()
        .rev()
        .filter_map(|parts| evaluations(best, parts))
        .take(limit)
        .collect();
    pb::GetBadgeHistoryResponse {
        badge,
        evaluations,
        position,
    }
}

/// An agent's badges from the merged standings and histories: what they hold now, and
/// the days they held each badge, newest first.
pub fn agent_badges(
    agent_id: String,
    position: u64,
    standings: &[pb::BadgeStanding],
    histories: Vec<pb::GetBadgeHistoryResponse>,
    limit: usize,
) -> pb::GetAgentBadgesResponse {
    let holds = |e: &pb::BadgeEvaluation| e.holders.iter().any(|h| h.agent_id == agent_id);
    let holding = standings
        .iter()
        .filter(|s| s.badge.as_ref().is_some_and(|b| b.enabled))
        .filter(|s| s.current.as_ref().is_some_and(holds))
        .cloned()
        .collect();
    let position = position.min(read_as_far(&histories, |h| h.position));
    let mut history: Vec<pb::BadgeEvaluation> = histories
        .into_iter()
        .flat_map(|h| h.evaluations)
        .filter(|e| holds(e))
        .collect();
    history.sort_by(|a, b| {
        b.day
            .cmp(&a.day)
            .then_with(|| a.badge_key.cmp(&b.badge_key))
    });
    history.truncate(limit);
    pb::GetAgentBadgesResponse {
        agent_id,
        holding,
        history,
        position,
    }
}

/// A report's rows, added up by bucket and group from their sums (unsorted), refused
/// past the row cap as a single replica refuses it.
pub fn report_rows(
    answers: Vec<pb::ReportResponse>,
) -> Result<(Vec<pb::ReportRow>, u64), ApiError> {
    let position = read_as_far(&answers, |a| a.position);
    let mut sums: BTreeMap<(Option<i64>, String, String), (pb::ReportRow, Columns)> =
        BTreeMap::new();
    for row in answers.into_iter().flat_map(|a| a.rows) {
        let key = (
            row.bucket_start.map(|t| t.seconds),
            row.bucket.clone(),
            row.group_id.clone(),
        );
        let entry = sums
            .entry(key)
            .or_insert_with(|| (row.clone(), Columns::default()));
        entry.1.add(&Columns::from_sums(&row.sums));
    }
    if sums.len() > crate::query::reports::MAX_ROWS {
        return Err(crate::query::reports::too_many());
    }
    let rows = sums
        .into_values()
        .map(|(mut row, columns)| {
            row.values = columns.report().to_vec();
            row.sums = columns.to_sums();
            row
        })
        .collect();
    Ok((rows, position))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board(position: u64, rows: &[(&str, u32, i64)]) -> pb::GetLeaderboardResponse {
        pb::GetLeaderboardResponse {
            rows: rows
                .iter()
                .map(|(agent, rank, at)| pb::LeaderboardRow {
                    agent_id: (*agent).into(),
                    level: Some(pb::Level {
                        rank: *rank,
                        ..Default::default()
                    }),
                    reached_at: Some(prost_types::Timestamp {
                        seconds: *at,
                        nanos: 0,
                    }),
                    ..Default::default()
                })
                .collect(),
            position,
        }
    }

    #[test]
    fn leaderboards_merge_as_one_replica_ranks() {
        let merged = leaderboard(
            vec![
                board(9, &[("a", 2, 50), ("c", 1, 10)]),
                board(7, &[("b", 2, 40)]),
            ],
            10,
        );
        let order: Vec<_> = merged
            .rows
            .iter()
            .map(|r| (r.agent_id.as_str(), r.place))
            .collect();
        assert_eq!(order, [("b", 1), ("a", 2), ("c", 3)]);
        assert_eq!(merged.position, 7, "as far as the least advanced replica");
    }

    #[test]
    fn counts_add_up_by_department() {
        let counts = |new| pb::CountTicketsResponse {
            departments: vec![pb::DepartmentTicketCounts {
                department_id: "d".into(),
                name: "Billing".into(),
                new,
                ..Default::default()
            }],
            position: 3,
        };
        let merged = ticket_counts(vec![counts(2), counts(5)]);
        assert_eq!(merged.departments.len(), 1);
        assert_eq!(merged.departments[0].new, 7);
    }
}
