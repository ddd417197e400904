//! `hdctl roster`: the agents as a live board shows them, and with `--watch` their
//! presence changes as they happen.

use std::time::{SystemTime, UNIX_EPOCH};

use helpdesk_api::{pb, ConfigServiceClient, RosterServiceClient};
use tonic::transport::Channel;

use crate::{auth, print_table, status};

#[derive(Debug, clap::Args)]
pub struct RosterArgs {
    /// Only the members of this department (its name, or its id).
    #[arg(long)]
    department: Option<String>,
    /// Only agents who are online, paused or offline.
    #[arg(long, value_enum)]
    presence: Option<PresenceArg>,
    /// Deactivated agents too.
    #[arg(long)]
    all: bool,
    /// After the table, print each presence change as it happens (until Ctrl-C).
    #[arg(long)]
    watch: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum PresenceArg {
    Online,
    Paused,
    Offline,
}

pub async fn roster(channel: Channel, token: &str, args: RosterArgs) -> anyhow::Result<()> {
    let department_id = match args.department {
        Some(department) => department_id(channel.clone(), token, &department).await?,
        None => String::new(),
    };
    let mut client = RosterServiceClient::new(channel);
    let request = pb::ListAgentsRequest {
        department_id: department_id.clone(),
        presence: match args.presence {
            None => pb::Presence::Unspecified,
            Some(PresenceArg::Online) => pb::Presence::Online,
            Some(PresenceArg::Paused) => pb::Presence::Paused,
            Some(PresenceArg::Offline) => pb::Presence::Offline,
        } as i32,
        include_deactivated: args.all,
        ..Default::default()
    };
    let list = client
        .list_agents(auth(token, request)?)
        .await
        .map_err(status)?
        .into_inner();
    let mut rows = vec![vec![
        "agent".into(),
        "role".into(),
        "presence".into(),
        "level".into(),
        "open".into(),
        "departments".into(),
    ]];
    let now = now_millis();
    for agent in list.agents.iter() {
        let departments: Vec<&str> = agent.departments.iter().map(|d| d.name.as_str()).collect();
        rows.push(vec![
            if agent.deactivated {
                format!("{} (deactivated)", agent.name)
            } else {
                agent.name.clone()
            },
            agent.role_name.clone(),
            presence_words(
                agent.presence,
                agent.pause.as_ref(),
                agent.since.as_ref(),
                now,
            ),
            if agent.level_name.is_empty() {
                "-".into()
            } else {
                agent.level_name.clone()
            },
            open_words(agent.open_chat_ids.len(), agent.open_call_ids.len()),
            if departments.is_empty() {
                "-".into()
            } else {
                departments.join(", ")
            },
        ]);
    }
    if rows.len() == 1 {
        println!("no agents");
    } else {
        print_table(&rows);
    }
    if !args.watch {
        return Ok(());
    }
    let mut changes = client
        .watch_presence(auth(token, pb::WatchPresenceRequest { department_id })?)
        .await
        .map_err(status)?
        .into_inner();
    println!("watching presence changes (Ctrl-C ends)");
    while let Some(change) = changes.message().await.map_err(status)? {
        let at = change.since.as_ref().map(clock_time).unwrap_or_default();
        let presence = if change.deactivated {
            "deactivated".to_owned()
        } else {
            presence_words(change.presence, change.pause.as_ref(), None, 0)
        };
        println!("{at}  {}  {presence}", change.name);
    }
    Ok(())
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn millis(t: &prost_types::Timestamp) -> i64 {
    t.seconds * 1000 + i64::from(t.nanos) / 1_000_000
}

/// `HH:MM:SS` (UTC) of a time.
fn clock_time(t: &prost_types::Timestamp) -> String {
    let seconds = t.seconds.rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// `online for 2 h 5 min`, `paused (lunch) for 12 min`, `offline for 3 days`; without
/// `since`, only what and why.
fn presence_words(
    presence: i32,
    pause: Option<&pb::PauseInfo>,
    since: Option<&prost_types::Timestamp>,
    now: i64,
) -> String {
    let what = match pb::Presence::try_from(presence) {
        Ok(pb::Presence::Online) => "online".to_owned(),
        Ok(pb::Presence::Offline) => "offline".to_owned(),
        Ok(pb::Presence::Paused) => {
            use pb::pause_info::PauseReason as R;
            match pause.and_then(|p| p.pause_reason.as_ref()) {
                Some(R::Reason(text)) if !text.is_empty() => format!("paused ({text})"),
                Some(R::AutoMissed(c)) => {
                    let kind = match pb::ConversationKind::try_from(c.kind) {
                        Ok(pb::ConversationKind::Call) => "call",
                        Ok(pb::ConversationKind::Ticket) => "ticket",
                        _ => "chat",
                    };
                    format!("paused (missed {kind})")
                }
                _ => "paused".to_owned(),
            }
        }
        _ => "unknown".to_owned(),
    };
    match since {
        Some(since) => format!("{what} for {}", for_people(now - millis(since))),
        None => what,
    }
}

/// A length of time as people say it: `under a minute`, `12 min`, `2 h 5 min`, `3 days`.
fn for_people(millis: i64) -> String {
    let minutes = millis.max(0) / 60_000;
    match minutes {
        0 => "under a minute".into(),
        1..=59 => format!("{minutes} min"),
        60..=2879 => match minutes % 60 {
            0 => format!("{} h", minutes / 60),
            rest => format!("{} h {rest} min", minutes / 60),
        },
        _ => format!("{} days", minutes / 1440),
    }
}

/// `2 chats, 1 call`, or `-`.
fn open_words(chats: usize, calls: usize) -> String {
    let plural = |n: usize, one: &str| match n {
        1 => format!("1 {one}"),
        n => format!("{n} {one}s"),
    };
    let mut parts = Vec::new();
    if chats > 0 {
        parts.push(plural(chats, "chat"));
    }
    if calls > 0 {
        parts.push(plural(calls, "call"));
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

/// The id of the department `department` names (its name, or its id): the server
/// filters by id. A name no department has is an error that lists the names there are.
async fn department_id(channel: Channel, token: &str, department: &str) -> anyhow::Result<String> {
    if uuid::Uuid::parse_str(department).is_ok() {
        return Ok(department.to_owned());
    }
    let departments = ConfigServiceClient::new(channel)
        .list_departments(auth(token, pb::ListDepartmentsRequest::default())?)
        .await
        .map_err(status)?
        .into_inner()
        .departments;
    match departments.iter().find(|d| d.name == department) {
        Some(found) => Ok(found.department_id.clone()),
        None => {
            let names: Vec<&str> = departments.iter().map(|d| d.name.as_str()).collect();
            anyhow::bail!(
                "no department is named {department:?} (there are: {})",
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_read_as_people_say_them() {
        assert_eq!(for_people(30_000), "under a minute");
        assert_eq!(for_people(12 * 60_000), "12 min");
        assert_eq!(for_people(125 * 60_000), "2 h 5 min");
        assert_eq!(for_people(120 * 60_000), "2 h");
        assert_eq!(for_people(3 * 86_400_000), "3 days");
        assert_eq!(for_people(-5), "under a minute");
        assert_eq!(open_words(2, 1), "2 chats, 1 call");
        assert_eq!(open_words(0, 0), "-");
    }

    #[test]
    fn presence_reads_with_its_reason() {
        let lunch = pb::PauseInfo {
            pause_reason: Some(pb::pause_info::PauseReason::Reason("lunch".into())),
            planned_end: None,
        };
        let since = prost_types::Timestamp {
            seconds: 1_000,
            nanos: 0,
        };
        assert_eq!(
            presence_words(
                pb::Presence::Paused as i32,
                Some(&lunch),
                Some(&since),
                1_000_000 + 12 * 60_000
            ),
            "paused (lunch) for 12 min"
        );
        assert_eq!(
            presence_words(pb::Presence::Online as i32, None, None, 0),
            "online"
        );
    }
}
