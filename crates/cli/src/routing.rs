//! `hdctl routing-rules`: the routing rules in the order they run, in words, and
//! changing one (its name, notes, or whether it is on) by its name.

use std::collections::HashMap;

use helpdesk_api::{pb, CommandServiceClient, ConfigServiceClient};
use tonic::transport::Channel;

use crate::format::{print_table, yes_no};
use crate::{auth, names, status};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RoutingRulesArgs {
    #[command(subcommand)]
    change: Option<Change>,
}

#[derive(Debug, clap::Subcommand)]
enum Change {
    /// Renames a rule, sets its notes, or switches it off or on again (needs
    /// routing.manage). A rule switched off stays in its place and is skipped on new
    /// tickets. Conditions, actions and order are changed through the API
    /// (DefineRoutingRule, RemoveRoutingRule).
    #[command(after_help = "Examples:
  hdctl routing-rules update Refunds --disable
  hdctl routing-rules update Refunds --rename \"Refunds (EU)\" --notes \"Billing asked for it.\"
  hdctl routing-rules update \"Refunds (EU)\" --enable --notes \"\"      (empty notes: none)")]
    Update(UpdateArgs),
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).multiple(true)
    .args(["rename", "notes", "enable", "disable"])))]
struct UpdateArgs {
    /// The rule: its name as `hdctl routing-rules` shows it (in any case), or its id.
    rule: String,
    /// Its new name (at most 200 characters).
    #[arg(long, value_name = "NEW_NAME")]
    rename: Option<String>,
    /// Its notes, for the people who keep the rules (at most 2,000 characters; "" removes
    /// them). Routing does not read them.
    #[arg(long, value_name = "TEXT")]
    notes: Option<String>,
    /// Switch it on again.
    #[arg(long, conflicts_with = "disable")]
    enable: bool,
    /// Switch it off: skipped on new tickets, kept in its place.
    #[arg(long)]
    disable: bool,
}

pub async fn routing_rules(
    channel: Channel,
    token: &str,
    args: RoutingRulesArgs,
) -> anyhow::Result<()> {
    let list = ConfigServiceClient::new(channel.clone())
        .list_routing_rules(auth(token, pb::ListRoutingRulesRequest { read: None })?)
        .await
        .map_err(status)?
        .into_inner();
    match args.change {
        None => {
            print_rules(&list);
            Ok(())
        }
        Some(Change::Update(update)) => {
            let rule_id = names::resolve(
                "routing rule",
                &update.rule,
                list.rules
                    .iter()
                    .map(|r| (r.name.as_str(), r.rule_id.as_str())),
            )?;
            let enabled = match (update.enable, update.disable) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            let request = pb::UpdateRoutingRuleRequest {
                rule_id,
                name: update.rename.clone(),
                notes: update.notes.clone(),
                enabled,
                ..Default::default()
            };
            CommandServiceClient::new(channel)
                .update_routing_rule(auth(token, request)?)
                .await
                .map_err(status)?;
            let mut done = Vec::new();
            if let Some(name) = &update.rename {
                done.push(format!("renamed to {name:?}"));
            }
            match update.notes.as_deref() {
                Some("") => done.push("notes removed".into()),
                Some(_) => done.push("notes set".into()),
                None => {}
            }
            match enabled {
                Some(true) => done.push("switched on".into()),
                Some(false) => done.push("switched off".into()),
                None => {}
            }
            println!("routing rule {:?}: {}", update.rule, done.join(", "));
            Ok(())
        }
    }
}

/// The rules in the order they run, in words.
fn print_rules(list: &pb::ListRoutingRulesResponse) {
    if list.rules.is_empty() {
        println!("no routing rules");
        return;
    }
    let mut rows = vec![vec![
        "#".into(),
        "rule".into(),
        "on".into(),
        "when".into(),
        "then".into(),
        "notes".into(),
    ]];
    for rule in &list.rules {
        let when: Vec<String> = rule
            .groups
            .iter()
            .map(|g| {
                let all: Vec<String> = g.conditions.iter().map(condition_words).collect();
                all.join(" and ")
            })
            .collect();
        let then: Vec<String> = rule
            .actions
            .iter()
            .map(|a| action_words(a, &list.agent_names, &list.department_names))
            .collect();
        rows.push(vec![
            (rule.position + 1).to_string(),
            rule.name.clone(),
            yes_no(rule.enabled).into(),
            when.join(", or "),
            then.join("; "),
            // One table row a rule: notes written on several lines are shown on one.
            rule.notes.split_whitespace().collect::<Vec<_>>().join(" "),
        ]);
    }
    print_table(&rows);
}

/// A routing condition for people: `channel is email or chat`.
fn condition_words(condition: &pb::RoutingCondition) -> String {
    use pb::routing_condition::Condition as C;
    let quoted = |words: &pb::WordList| {
        let list: Vec<String> = words.words.iter().map(|w| format!("\"{w}\"")).collect();
        list.join(" or ")
    };
    match &condition.condition {
        Some(C::ChannelIn(set)) => {
            let names: Vec<String> = set.channels.iter().map(|c| channel_word(*c)).collect();
            format!("channel is {}", names.join(" or "))
        }
        Some(C::PriorityIn(set)) => {
            let names: Vec<String> = set.priorities.iter().map(|p| priority_word(*p)).collect();
            format!("priority is {}", names.join(" or "))
        }
        Some(C::SubjectContains(w)) => format!("subject has {}", quoted(w)),
        Some(C::BodyContains(w)) => format!("body has {}", quoted(w)),
        Some(C::SubjectOrBodyContains(w)) => format!("subject or body has {}", quoted(w)),
        None => "?".into(),
    }
}

/// A routing action for people, agents and departments by name (by id when the
/// server knows no name for it).
fn action_words(
    action: &pb::RoutingAction,
    agents: &HashMap<String, String>,
    departments: &HashMap<String, String>,
) -> String {
    use pb::routing_action::Action as A;
    let name = |names: &HashMap<String, String>, id: &String| -> String {
        names.get(id).cloned().unwrap_or_else(|| id.clone())
    };
    match &action.action {
        Some(A::TransferToDepartmentId(id)) => format!("transfer to {}", name(departments, id)),
        Some(A::AssignTo(list)) => {
            let names: Vec<String> = list.agent_ids.iter().map(|a| name(agents, a)).collect();
            format!("assign to the first free of {}", names.join(", "))
        }
        Some(A::LeaveUnassigned(_)) => "leave unassigned".into(),
        Some(A::SetPriority(p)) => format!("set priority {}", priority_word(*p)),
        Some(A::AddTags(tags)) => format!("tag {}", tags.tags.join(", ")),
        None => "?".into(),
    }
}

fn channel_word(value: i32) -> String {
    pb::Channel::try_from(value)
        .map(|c| {
            c.as_str_name()
                .trim_start_matches("CHANNEL_")
                .to_lowercase()
        })
        .unwrap_or_else(|_| value.to_string())
}

fn priority_word(value: i32) -> String {
    pb::Priority::try_from(value)
        .map(|p| {
            p.as_str_name()
                .trim_start_matches("PRIORITY_")
                .to_lowercase()
        })
        .unwrap_or_else(|_| value.to_string())
}
