//! Names for people, ids for the server: agents, departments and badges named on the
//! command line are resolved to their ids in one way (an unknown name is an error that
//! lists the names there are), and the ids in answers are shown by name; and the
//! organization's time zone, in which times are shown.

use std::collections::HashMap;

use anyhow::Context as _;
use helpdesk_api::{
    pb, BadgeServiceClient, ConfigServiceClient, RosterServiceClient, StatsServiceClient,
};
use tonic::transport::Channel;

use crate::{auth, status};

/// The one item of `items` (name, id) that `given` names: its id. `given` may be the id
/// itself, or a name (exactly, or else in any case when only one item has it). `what` is
/// the kind of item, for the error: `no department is named "Suport" (there are:
/// Billing, Support)`.
pub fn resolve<'a>(
    what: &str,
    given: &str,
    items: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
) -> anyhow::Result<String> {
    if let Some((_, id)) = items.clone().into_iter().find(|(_, id)| *id == given) {
        return Ok(id.to_owned());
    }
    let exactly: Vec<&str> = items
        .clone()
        .into_iter()
        .filter(|(name, _)| *name == given)
        .map(|(_, id)| id)
        .collect();
    let found = if exactly.is_empty() {
        items
            .clone()
            .into_iter()
            .filter(|(name, _)| name.to_lowercase() == given.to_lowercase())
            .map(|(_, id)| id)
            .collect()
    } else {
        exactly
    };
    match found[..] {
        [id] => Ok(id.to_owned()),
        [] => {
            let mut names: Vec<&str> = items.into_iter().map(|(name, _)| name).collect();
            names.dedup();
            anyhow::bail!(
                "no {what} is named {given:?} (there are: {})",
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            )
        }
        _ => anyhow::bail!(
            "{} {what}s are named {given:?}: give the id of the one you mean ({})",
            found.len(),
            found.join(", ")
        ),
    }
}

/// The id of the department `department` names (its name, or its id).
pub async fn department_id(
    channel: Channel,
    token: &str,
    department: &str,
) -> anyhow::Result<String> {
    if uuid::Uuid::parse_str(department).is_ok() {
        return Ok(department.to_owned());
    }
    let departments = ConfigServiceClient::new(channel)
        .list_departments(auth(token, pb::ListDepartmentsRequest::default())?)
        .await
        .map_err(status)?
        .into_inner()
        .departments;
    resolve(
        "department",
        department,
        departments
            .iter()
            .map(|d| (d.name.as_str(), d.department_id.as_str())),
    )
}

/// Every agent the caller sees on the roster, deactivated ones too, by name.
pub async fn roster(channel: Channel, token: &str) -> anyhow::Result<Vec<pb::RosterAgent>> {
    let request = pb::ListAgentsRequest {
        include_deactivated: true,
        ..Default::default()
    };
    Ok(RosterServiceClient::new(channel)
        .list_agents(auth(token, request)?)
        .await
        .map_err(status)?
        .into_inner()
        .agents)
}

/// The id of the agent `agent` names (their name, or their id), among those the caller
/// sees.
pub async fn agent_id(channel: Channel, token: &str, agent: &str) -> anyhow::Result<String> {
    if uuid::Uuid::parse_str(agent).is_ok() {
        return Ok(agent.to_owned());
    }
    let agents = roster(channel, token).await?;
    resolve(
        "agent",
        agent,
        agents
            .iter()
            .map(|a| (a.name.as_str(), a.agent_id.as_str())),
    )
}

/// Agents' names by id, for showing the ids in an answer: from the roster, and for an
/// agent the roster does not show the caller, from their statistics. An agent whose
/// name cannot be looked up either way is left out (and shown by id).
pub async fn agent_names<'a>(
    channel: Channel,
    token: &str,
    ids: impl Iterator<Item = &'a String>,
) -> anyhow::Result<HashMap<String, String>> {
    let mut names: HashMap<String, String> = roster(channel.clone(), token)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|a| (a.agent_id, a.name))
        .collect();
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

/// How an agent is shown: by name, or by id when no name is known.
pub fn name_or_id<'a>(names: &'a HashMap<String, String>, id: &'a str) -> &'a str {
    names.get(id).map_or(id, String::as_str)
}

/// Agents by name, `, ` between them.
pub fn agent_list(
    names: &HashMap<String, String>,
    ids: impl Iterator<Item = impl AsRef<str>>,
) -> String {
    ids.map(|id| name_or_id(names, id.as_ref()).to_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every badge, by key.
pub async fn badges(channel: Channel, token: &str) -> anyhow::Result<Vec<pb::BadgeStanding>> {
    Ok(BadgeServiceClient::new(channel)
        .list_badges(auth(token, pb::ListBadgesRequest { read: None })?)
        .await
        .map_err(status)?
        .into_inner()
        .badges)
}

/// The key of the badge `badge` names (its name, or its key).
pub fn badge_key(badges: &[pb::BadgeStanding], badge: &str) -> anyhow::Result<String> {
    let defined: Vec<&pb::Badge> = badges.iter().filter_map(|s| s.badge.as_ref()).collect();
    resolve(
        "badge",
        badge,
        defined.iter().map(|b| (b.name.as_str(), b.key.as_str())),
    )
}

/// The organization's time zone, in which hdctl shows times (UTC when the setting
/// names no zone this hdctl knows).
pub async fn time_zone(channel: Channel, token: &str) -> anyhow::Result<jiff::tz::TimeZone> {
    let settings = organization_settings(channel, token)
        .await
        .context("reading the organization's time zone")?;
    Ok(jiff::tz::TimeZone::get(&settings.time_zone).unwrap_or(jiff::tz::TimeZone::UTC))
}

/// The organization settings.
pub async fn organization_settings(
    channel: Channel,
    token: &str,
) -> anyhow::Result<pb::GetOrganizationSettingsResponse> {
    Ok(ConfigServiceClient::new(channel)
        .get_organization_settings(auth(
            token,
            pb::GetOrganizationSettingsRequest { read: None },
        )?)
        .await
        .map_err(status)?
        .into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_resolves_to_its_id_or_says_which_there_are() {
        let items = [
            ("Billing", "b-id"),
            ("Support", "s-id"),
            ("Twin", "t1"),
            ("Twin", "t2"),
        ];
        assert_eq!(resolve("department", "Billing", items).unwrap(), "b-id");
        assert_eq!(resolve("department", "support", items).unwrap(), "s-id");
        assert_eq!(resolve("department", "s-id", items).unwrap(), "s-id");
        assert_eq!(
            resolve("department", "Suport", items)
                .unwrap_err()
                .to_string(),
            r#"no department is named "Suport" (there are: Billing, Support, Twin)"#
        );
        assert!(resolve("department", "Twin", items)
            .unwrap_err()
            .to_string()
            .starts_with(r#"2 departments are named "Twin""#));
        assert_eq!(
            resolve("agent", "Ada", []).unwrap_err().to_string(),
            r#"no agent is named "Ada" (there are: none)"#
        );
    }
}
