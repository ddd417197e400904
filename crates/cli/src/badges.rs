//! `hdctl badges`: every badge and who holds it now, or with `--history` the
//! evaluations that awarded them (everyone's, an agent's or one badge's), each with the
//! value, the window and the runner-up that explain it.

use std::collections::HashMap;

use helpdesk_api::{pb, BadgeServiceClient};
use tonic::transport::Channel;

use crate::format::{badge_value, print_table, window};
use crate::{auth, names, status};

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  hdctl badges                                   who holds each badge now
  hdctl badges --history                         every award, newest first
  hdctl badges --history --agent \"Ada Lovelace\"  the badges Ada was awarded
  hdctl badges --history --badge Siesta --limit 10")]
pub struct BadgesArgs {
    /// The evaluations that awarded badges, newest first, instead of today's holders.
    #[arg(long)]
    history: bool,
    /// With --history: only the badges this agent was awarded (their name, or their id).
    #[arg(long, value_name = "NAME", requires = "history")]
    agent: Option<String>,
    /// With --history: only this badge's evaluations (its name, or its key), those that
    /// awarded nobody too.
    #[arg(
        long,
        value_name = "NAME",
        requires = "history",
        conflicts_with = "agent"
    )]
    badge: Option<String>,
    /// With --history: at most this many evaluations (of each badge, for everyone's).
    #[arg(long, default_value_t = 100, requires = "history")]
    limit: u32,
}

pub async fn badges(channel: Channel, token: &str, args: BadgesArgs) -> anyhow::Result<()> {
    let standings = names::badges(channel.clone(), token).await?;
    let defined: HashMap<&str, &pb::Badge> = standings
        .iter()
        .filter_map(|s| s.badge.as_ref())
        .map(|b| (b.key.as_str(), b))
        .collect();
    if !args.history {
        let current: Vec<&pb::BadgeEvaluation> = standings
            .iter()
            .filter_map(|s| s.current.as_ref())
            .collect();
        let names = holder_names(channel, token, &current).await?;
        let mut rows = vec![header(&["badge", "day", "holders", "value", "runner-up"])];
        for standing in &standings {
            let badge = standing.badge.as_ref();
            let name = badge.map(|b| b.name.clone()).unwrap_or_default();
            let mut row = vec![name];
            match &standing.current {
                Some(e) => row.extend([
                    e.day.clone(),
                    holders(&names, e),
                    badge_value(badge, e.value),
                    badge_value(badge, e.runner_up),
                ]),
                None => row.extend([String::new(), String::new(), String::new(), String::new()]),
            }
            rows.push(row);
        }
        print_table(&rows);
        return Ok(());
    }
    let mut client = BadgeServiceClient::new(channel.clone());
    let mut evaluations: Vec<pb::BadgeEvaluation> = if let Some(agent) = &args.agent {
        let agent_id = names::agent_id(channel.clone(), token, agent).await?;
        let request = pb::GetAgentBadgesRequest {
            agent_id,
            limit: args.limit,
            read: None,
        };
        client
            .get_agent_badges(auth(token, request)?)
            .await
            .map_err(status)?
            .into_inner()
            .history
    } else {
        let keys = match &args.badge {
            Some(badge) => vec![names::badge_key(&standings, badge)?],
            None => defined.keys().map(|k| (*k).to_owned()).collect(),
        };
        let mut all = Vec::new();
        for badge_key in keys {
            let request = pb::GetBadgeHistoryRequest {
                badge_key,
                limit: args.limit,
                read: None,
            };
            let history = client
                .get_badge_history(auth(token, request)?)
                .await
                .map_err(status)?
                .into_inner();
            // Everyone's history is the awards; one badge's shows the days nobody won.
            all.extend(
                history
                    .evaluations
                    .into_iter()
                    .filter(|e| args.badge.is_some() || !e.holders.is_empty()),
            );
        }
        all
    };
    // Newest first; a day's by badge name.
    let badge_name = |key: &str| defined.get(key).map_or(key.to_owned(), |b| b.name.clone());
    evaluations.sort_by(|a, b| {
        b.day
            .cmp(&a.day)
            .then_with(|| badge_name(&a.badge_key).cmp(&badge_name(&b.badge_key)))
    });
    if evaluations.is_empty() {
        println!("no badges awarded yet");
        return Ok(());
    }
    let refs: Vec<&pb::BadgeEvaluation> = evaluations.iter().collect();
    let names = holder_names(channel, token, &refs).await?;
    let mut rows = vec![header(&[
        "day",
        "badge",
        "holders",
        "value",
        "window",
        "runner-up",
        "competitors",
    ])];
    for e in &evaluations {
        let badge = defined.get(e.badge_key.as_str()).copied();
        rows.push(vec![
            e.day.clone(),
            badge_name(&e.badge_key),
            holders(&names, e),
            badge_value(badge, e.value),
            window(e),
            badge_value(badge, e.runner_up),
            e.competitors.to_string(),
        ]);
    }
    print_table(&rows);
    Ok(())
}

fn header(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// The names of the holders of `evaluations`.
async fn holder_names(
    channel: Channel,
    token: &str,
    evaluations: &[&pb::BadgeEvaluation],
) -> anyhow::Result<HashMap<String, String>> {
    names::agent_names(
        channel,
        token,
        evaluations
            .iter()
            .flat_map(|e| &e.holders)
            .map(|h| &h.agent_id),
    )
    .await
}

/// An evaluation's holders by name.
fn holders(names: &HashMap<String, String>, evaluation: &pb::BadgeEvaluation) -> String {
    names::agent_list(names, evaluation.holders.iter().map(|h| &h.agent_id))
}
