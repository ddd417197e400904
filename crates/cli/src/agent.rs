//! `hdctl agent NAME`: one agent's page: who they are and where, their level and what
//! each part of the next level's condition still misses, their statistics, and the
//! badges they hold with the value, window and runner-up that explain them.

use std::collections::HashMap;

use helpdesk_api::{
    pb, BadgeServiceClient, LevelServiceClient, RosterServiceClient, StatsServiceClient,
};
use tonic::transport::Channel;

use crate::format::{
    badge_value, duration_s, list_or_dash, number, print_table, time, time_or_blank, window,
    yes_no, zoned_header,
};
use crate::{auth, names, roster, status};

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  hdctl agent \"Ada Lovelace\"
  hdctl agent                 (yourself: the agent your token belongs to)")]
pub struct AgentArgs {
    /// The agent: their name as `hdctl roster` shows it (in any case), or their id.
    /// Without it: yourself.
    name: Option<String>,
}

/// The level variables in the order the page lists them (any others follow by name).
const VARIABLES: [&str; 20] = [
    "worktime",
    "answers",
    "chats",
    "chat_answers",
    "calls",
    "call_seconds",
    "missed_chats",
    "missed_calls",
    "rewards",
    "punishments",
    "not_ranked",
    "rewards_p",
    "punishments_p",
    "not_ranked_p",
    "answers_ph",
    "chats_ph",
    "chat_answers_ph",
    "calls_ph",
    "call_seconds_ph",
    "handled",
];

pub async fn agent(channel: Channel, token: &str, args: AgentArgs) -> anyhow::Result<()> {
    // No name: the caller (every query takes an empty id so).
    let agent_id = match &args.name {
        Some(name) => names::agent_id(channel.clone(), token, name).await?,
        None => String::new(),
    };
    // The page's five answers, asked at once.
    let id = || agent_id.clone();
    let mut levels = LevelServiceClient::new(channel.clone());
    let mut progress_levels = levels.clone();
    let (zone, who, level, progress, stats, badges) = tokio::try_join!(
        names::time_zone(channel.clone(), token),
        async {
            let request = pb::GetAgentRequest {
                agent_id: id(),
                read: None,
            };
            let answer = RosterServiceClient::new(channel.clone())
                .get_agent(auth(token, request)?)
                .await
                .map_err(status)?;
            Ok(answer.into_inner().agent.unwrap_or_default())
        },
        async {
            let request = pb::GetAgentLevelRequest {
                agent_id: id(),
                read: None,
            };
            let answer = levels.get_agent_level(auth(token, request)?).await;
            Ok::<_, anyhow::Error>(answer.map_err(status)?.into_inner())
        },
        async {
            let request = pb::GetLevelProgressRequest {
                agent_id: id(),
                read: None,
            };
            let answer = progress_levels
                .get_level_progress(auth(token, request)?)
                .await;
            Ok::<_, anyhow::Error>(answer.map_err(status)?.into_inner())
        },
        async {
            let request = pb::GetAgentStatsRequest {
                agent_id: id(),
                ..Default::default()
            };
            let answer = StatsServiceClient::new(channel.clone())
                .get_agent_stats(auth(token, request)?)
                .await;
            Ok::<_, anyhow::Error>(answer.map_err(status)?.into_inner())
        },
        async {
            // Only the badges held now (each with its evaluation): no past awards.
            let request = pb::GetAgentBadgesRequest {
                agent_id: id(),
                limit: 1,
                read: None,
            };
            let answer = BadgeServiceClient::new(channel.clone())
                .get_agent_badges(auth(token, request)?)
                .await;
            Ok::<_, anyhow::Error>(answer.map_err(status)?.into_inner())
        },
    )?;

    print_who(&level.name, &who, &stats);
    println!();
    print_level(&level, &progress, &zone);
    println!();
    print_statistics(&stats);
    println!();
    print_badges(&badges, &zone);
    Ok(())
}

/// The agent's name, then their role, departments, presence and whether active.
fn print_who(name: &str, who: &pb::RosterAgent, stats: &pb::GetAgentStatsResponse) {
    let departments: Vec<&str> = who.departments.iter().map(|d| d.name.as_str()).collect();
    println!("{name}");
    print_table(&[
        vec!["role".into(), who.role_name.clone()],
        vec!["departments".into(), list_or_dash(&departments)],
        vec!["presence".into(), roster::presence_now(who)],
        vec![
            "active".into(),
            yes_no(!who.deactivated && stats.active).into(),
        ],
    ]);
}

/// Their level, the next level's condition part by part (what each still misses), and
/// every level reached.
fn print_level(
    level: &pb::GetAgentLevelResponse,
    progress: &pb::GetLevelProgressResponse,
    zone: &jiff::tz::TimeZone,
) {
    match &level.level {
        Some(reached) => {
            let at = time_or_blank(reached.reached_at.as_ref(), zone);
            let name = reached.level.as_ref().map_or("", |l| l.name.as_str());
            println!("level: {name} (reached {at})");
        }
        None => println!("level: none yet"),
    }
    match &progress.next {
        Some(next) => {
            println!("next level: {} when {}", next.name, next.condition);
            let mut rows = vec![vec![
                "part".into(),
                "holds".into(),
                "now".into(),
                "needed".into(),
                "missing".into(),
            ]];
            for part in &progress.parts {
                let unit = Unit::of_part(part);
                let missing = match part.missing {
                    Some(m) if !part.holds => unit.text(m),
                    _ => String::new(),
                };
                rows.push(vec![
                    part.condition.clone(),
                    yes_no(part.holds).into(),
                    part.current.map(|v| unit.text(v)).unwrap_or_else(|| {
                        // Not a comparison with a number: the values it reads.
                        let mut values: Vec<String> = part
                            .values
                            .iter()
                            .map(|(k, v)| format!("{k} {}", Unit::of(k).text(*v)))
                            .collect();
                        values.sort();
                        values.join(", ")
                    }),
                    part.target.map(|v| unit.text(v)).unwrap_or_default(),
                    missing,
                ]);
            }
            print_table(&rows);
        }
        None => println!("next level: none (the top of the ladder)"),
    }
    if !level.reached.is_empty() {
        println!();
        let mut rows = vec![vec![
            "levels reached".into(),
            "rank".into(),
            zoned_header("reached", zone),
        ]];
        for reached in &level.reached {
            let l = reached.level.clone().unwrap_or_default();
            rows.push(vec![
                l.name,
                l.rank.to_string(),
                time_or_blank(reached.reached_at.as_ref(), zone),
            ]);
        }
        print_table(&rows);
    }
}

/// Their level variables over all time, each in its unit.
fn print_statistics(stats: &pb::GetAgentStatsResponse) {
    let mut rows = vec![vec!["statistic (all time)".into(), "value".into()]];
    for (name, value) in ordered(&stats.variables) {
        rows.push(vec![name.to_owned(), Unit::of(name).text(value)]);
    }
    print_table(&rows);
}

/// The badges they hold, each with the evaluation that explains it.
fn print_badges(badges: &pb::GetAgentBadgesResponse, zone: &jiff::tz::TimeZone) {
    if badges.holding.is_empty() {
        println!("badges held: none");
        return;
    }
    let mut rows = vec![vec![
        "badge held".into(),
        "day".into(),
        "value".into(),
        "window".into(),
        "runner-up".into(),
        "competitors".into(),
        zoned_header("evaluated", zone),
    ]];
    for standing in &badges.holding {
        let badge = standing.badge.as_ref();
        let e = standing.current.clone().unwrap_or_default();
        rows.push(vec![
            badge.map(|b| b.name.clone()).unwrap_or_default(),
            e.day.clone(),
            badge_value(badge, e.value),
            window(&e),
            badge_value(badge, e.runner_up),
            e.competitors.to_string(),
            e.evaluated_at
                .as_ref()
                .map(|t| time(t, zone))
                .unwrap_or_default(),
        ]);
    }
    print_table(&rows);
}

/// The variables in the page's order, then any others by name.
fn ordered(variables: &HashMap<String, f64>) -> Vec<(&str, f64)> {
    let mut known: Vec<(&str, f64)> = VARIABLES
        .iter()
        .filter_map(|name| variables.get(*name).map(|v| (*name, *v)))
        .collect();
    let mut rest: Vec<(&str, f64)> = variables
        .iter()
        .filter(|(name, _)| !VARIABLES.contains(&name.as_str()))
        .map(|(name, v)| (name.as_str(), *v))
        .collect();
    rest.sort_by(|a, b| a.0.cmp(b.0));
    known.extend(rest);
    known
}

/// What a level variable counts, for showing its values.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Hours,
    Seconds,
    Percent,
    Count,
}

impl Unit {
    /// `$worktime` is in hours, `$call_seconds` in seconds, the `_p` variables are
    /// percentages; the rest are counts (and counts per hour).
    fn of(variable: &str) -> Unit {
        let variable = variable.trim_start_matches('$');
        match variable {
            "worktime" => Unit::Hours,
            "call_seconds" => Unit::Seconds,
            v if v.ends_with("_p") => Unit::Percent,
            _ => Unit::Count,
        }
    }

    /// The unit of a condition part: its variable's, when it reads exactly one.
    fn of_part(part: &pb::ConditionPart) -> Unit {
        let mut variables = part.values.keys();
        match (variables.next(), variables.next()) {
            (Some(only), None) => Unit::of(only),
            _ => Unit::Count,
        }
    }

    fn text(self, value: f64) -> String {
        match self {
            Unit::Hours => duration_s(value * 3600.0),
            Unit::Seconds => duration_s(value),
            Unit::Percent => format!("{}%", number(value)),
            Unit::Count => number(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_read_in_their_units() {
        assert_eq!(Unit::of("worktime").text(1.5), "1h 30m");
        assert_eq!(Unit::of("$call_seconds").text(83.0), "1m 23s");
        assert_eq!(Unit::of("rewards_p").text(42.5), "42.5%");
        assert_eq!(Unit::of("answers_ph").text(3.5), "3.5");
        let part = pb::ConditionPart {
            values: [("worktime".to_owned(), 2.0)].into(),
            ..Default::default()
        };
        assert_eq!(Unit::of_part(&part), Unit::Hours);
    }
}
