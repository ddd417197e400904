//! `hdctl roster`: the agents as a live board shows them, and with `--watch` their
//! presence changes as they happen.

use std::time::{SystemTime, UNIX_EPOCH};

use helpdesk_api::{pb, RosterServiceClient};
use tonic::transport::Channel;

use crate::format::{clock, duration_ms, list_or_dash, print_table};
use crate::{auth, names, status};

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
        Some(department) => names::department_id(channel.clone(), token, &department).await?,
        None => String::new(),
    };
    let zone = if args.watch {
        names::time_zone(channel.clone(), token).await?
    } else {
        jiff::tz::TimeZone::UTC
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
    for agent in list.agents.iter() {
        let departments: Vec<&str> = agent.departments.iter().map(|d| d.name.as_str()).collect();
        rows.push(vec![
            if agent.deactivated {
                format!("{} (deactivated)", agent.name)
            } else {
                agent.name.clone()
            },
            agent.role_name.clone(),
            presence_now(agent),
            if agent.level_name.is_empty() {
                "-".into()
            } else {
                agent.level_name.clone()
            },
            open_words(agent.open_chat_ids.len(), agent.open_call_ids.len()),
            list_or_dash(&departments),
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
    println!(
        "watching presence changes, times in {} (Ctrl-C ends)",
        zone.iana_name().unwrap_or("UTC")
    );
    while let Some(change) = changes.message().await.map_err(status)? {
        let at = change
            .since
            .as_ref()
            .map(|since| clock(since, &zone))
            .unwrap_or_default();
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

/// Where `agent` is now and for how long: `online for 2h 5m`.
pub fn presence_now(agent: &pb::RosterAgent) -> String {
    presence_words(
        agent.presence,
        agent.pause.as_ref(),
        agent.since.as_ref(),
        now_millis(),
    )
}

/// `online for 2h 5m`, `paused (lunch) for 12m`, `offline for 3d 4h`; without
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
        Some(since) => format!("{what} for {}", duration_ms((now - millis(since)) as f64)),
        None => what,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_conversations_read_as_people_say_them() {
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
            "paused (lunch) for 12m"
        );
        assert_eq!(
            presence_words(pb::Presence::Online as i32, None, None, 0),
            "online"
        );
    }
}
