//! From the configuration's domain values to the messages of `ConfigService` (the way
//! back of what `commands.rs` reads from requests).

use helpdesk_domain::{Action, Condition, Role, RoutingRule};

use super::{channel_pb, priority_pb};
use crate::pb;

/// A role as the requests name it (`RegisterAgent`, `ChangeAgentRole`).
pub fn role_ref_pb(role: &Role) -> pb::RoleRef {
    use pb::role_ref::Role as R;
    let role = match role {
        Role::Owner => R::Builtin(pb::BuiltinRole::Owner as i32),
        Role::Administrator => R::Builtin(pb::BuiltinRole::Administrator as i32),
        Role::Agent => R::Builtin(pb::BuiltinRole::Agent as i32),
        Role::Custom(id) => R::CustomRoleId(id.to_string()),
    };
    pb::RoleRef { role: Some(role) }
}

/// A routing rule as `DefineRoutingRule` takes it, at its place among the rules, with
/// what `UpdateRoutingRule` keeps beside it (notes, switched on or off).
pub fn routing_rule_pb(
    rule: &RoutingRule,
    position: u32,
    notes: &str,
    enabled: bool,
) -> pb::RoutingRule {
    pb::RoutingRule {
        notes: notes.to_owned(),
        enabled,
        rule_id: rule.rule_id.to_string(),
        name: rule.name.clone(),
        position,
        groups: rule
            .groups
            .iter()
            .map(|group| pb::RoutingConditionGroup {
                conditions: group.iter().map(condition_pb).collect(),
            })
            .collect(),
        actions: rule.actions.iter().map(action_pb).collect(),
    }
}

fn condition_pb(condition: &Condition) -> pb::RoutingCondition {
    use pb::routing_condition::Condition as C;
    let words = |words: &[String]| pb::WordList {
        words: words.to_vec(),
    };
    let condition = match condition {
        Condition::ChannelIn(set) => C::ChannelIn(pb::ChannelSet {
            channels: set.iter().map(|c| channel_pb(*c) as i32).collect(),
        }),
        Condition::PriorityIn(set) => C::PriorityIn(pb::PrioritySet {
            priorities: set.iter().map(|p| priority_pb(*p) as i32).collect(),
        }),
        Condition::SubjectContains(w) => C::SubjectContains(words(w)),
        Condition::BodyContains(w) => C::BodyContains(words(w)),
        Condition::SubjectOrBodyContains(w) => C::SubjectOrBodyContains(words(w)),
    };
    pb::RoutingCondition {
        condition: Some(condition),
    }
}

fn action_pb(action: &Action) -> pb::RoutingAction {
    use pb::routing_action::Action as A;
    let action = match action {
        Action::TransferTo(department) => A::TransferToDepartmentId(department.to_string()),
        Action::AssignTo(agents) => A::AssignTo(pb::AgentList {
            agent_ids: agents.iter().map(ToString::to_string).collect(),
        }),
        Action::LeaveUnassigned => A::LeaveUnassigned(pb::LeaveUnassigned {}),
        Action::SetPriority(priority) => A::SetPriority(priority_pb(*priority) as i32),
        Action::AddTags(tags) => A::AddTags(pb::TagList { tags: tags.clone() }),
    };
    pb::RoutingAction {
        action: Some(action),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::IntoCommand;
    use helpdesk_domain::{AgentId, Channel, Command, DepartmentId, Priority, RuleId};

    /// A rule read back is the request that defined it: every condition and action
    /// kind survives the way there and back.
    #[test]
    fn a_routing_rule_reads_back_as_it_was_defined() {
        let rule = RoutingRule {
            rule_id: RuleId::new_v7(),
            name: "VIP".into(),
            groups: vec![
                vec![
                    Condition::ChannelIn(vec![Channel::Email, Channel::Whatsapp]),
                    Condition::SubjectContains(vec!["refund".into()]),
                ],
                vec![
                    Condition::PriorityIn(vec![Priority::Urgent]),
                    Condition::BodyContains(vec!["invoice".into()]),
                    Condition::SubjectOrBodyContains(vec!["credit card".into()]),
                ],
            ],
            actions: vec![
                Action::TransferTo(DepartmentId::new_v7()),
                Action::AssignTo(vec![AgentId::new_v7(), AgentId::new_v7()]),
                Action::LeaveUnassigned,
                Action::SetPriority(Priority::High),
                Action::AddTags(vec!["vip".into()]),
            ],
        };
        let read = routing_rule_pb(&rule, 2, "", true);
        assert_eq!(read.position, 2);
        let request = pb::DefineRoutingRuleRequest {
            rule_id: read.rule_id,
            name: read.name,
            groups: read.groups,
            actions: read.actions,
            ..Default::default()
        };
        let Command::DefineRoutingRule(defined) = request.into_command(None).unwrap().command
        else {
            panic!("not a DefineRoutingRule")
        };
        assert_eq!(defined.rule_id, rule.rule_id);
        assert_eq!(defined.name, rule.name);
        assert_eq!(defined.groups, rule.groups);
        assert_eq!(defined.actions, rule.actions);
    }
}
