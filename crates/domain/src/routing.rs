//! Routing rules (docs/TICKETS.md, Routing rules): what happens to a ticket the moment it
//! is created.
//!
//! A rule is a disjunction of conjunctions (any group matches when all its conditions
//! hold), followed by actions. The conditions are evaluated here, as plain functions over the
//! ticket as it stands after the rules before (a rule that raises the priority is seen by
//! the next rule); the actions become events in [`crate::decide`], where the state of the
//! agents and departments they name is at hand.
//!
//! Word matching is case-insensitive and on whole words: the text is split at every
//! character that is not alphanumeric, and a condition word (itself possibly several words,
//! "credit card") matches a run of consecutive text words.

use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, DepartmentId, RuleId};
use crate::model::{Channel, Priority};

/// One condition. Stored in events: variants are append-only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Condition {
    ChannelIn(Vec<Channel>),
    PriorityIn(Vec<Priority>),
    SubjectContains(Vec<String>),
    BodyContains(Vec<String>),
    SubjectOrBodyContains(Vec<String>),
}

/// One action. Stored in events: variants are append-only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    /// Transfer to the department (does not assign; unassigns a non-member).
    TransferTo(DepartmentId),
    /// Assign to the first of these agents who exists, is active, is online and not
    /// paused (whatever the ticket's priority: paused means no new work) and is a member
    /// of the ticket's department (when it has one). None fits: the ticket stays as it
    /// is, unassigned unless an earlier rule assigned it.
    AssignTo(Vec<AgentId>),
    /// Leave the ticket unassigned (undoes an assignment by an earlier rule).
    LeaveUnassigned,
    /// Set the priority.
    SetPriority(Priority),
    AddTags(Vec<String>),
}

/// A routing rule as the configuration holds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoutingRule {
    pub rule_id: RuleId,
    pub name: String,
    pub groups: Vec<Vec<Condition>>,
    pub actions: Vec<Action>,
}

/// What the conditions look at. The texts come split into words, once per ticket
/// however many rules and conditions look at them (a body is up to 64 KiB).
#[derive(Debug, Clone, Copy)]
pub struct TicketFacts<'a> {
    pub channel: Channel,
    pub priority: Priority,
    pub subject: &'a Words,
    pub body: &'a Words,
}

/// A text's words, lower-cased: the text split at every character that is not
/// alphanumeric.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Words(Vec<String>);

impl Words {
    pub fn of(text: &str) -> Words {
        Words(
            text.split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase)
                .collect(),
        )
    }

    /// Whether any of `needles` occurs among these words, as a run of whole words.
    pub fn contain_any(&self, needles: &[String]) -> bool {
        needles.iter().any(|needle| {
            let needle = Words::of(needle).0;
            !needle.is_empty()
                && self
                    .0
                    .windows(needle.len())
                    .any(|window| window == needle.as_slice())
        })
    }
}

impl RoutingRule {
    /// Whether the rule matches: any group whose conditions all hold. A rule without groups
    /// never matches (validation refuses one).
    pub fn matches(&self, facts: &TicketFacts<'_>) -> bool {
        self.groups
            .iter()
            .any(|group| group.iter().all(|c| c.holds(facts)))
    }

    /// The agents and departments the rule's actions name.
    pub fn references(&self) -> (Vec<AgentId>, Vec<DepartmentId>) {
        let mut agents = Vec::new();
        let mut departments = Vec::new();
        for action in &self.actions {
            match action {
                Action::TransferTo(d) => departments.push(*d),
                Action::AssignTo(list) => agents.extend(list.iter().copied()),
                _ => {}
            }
        }
        (agents, departments)
    }
}

impl Condition {
    pub fn holds(&self, facts: &TicketFacts<'_>) -> bool {
        match self {
            Condition::ChannelIn(set) => set.contains(&facts.channel),
            Condition::PriorityIn(set) => set.contains(&facts.priority),
            Condition::SubjectContains(words) => facts.subject.contain_any(words),
            Condition::BodyContains(words) => facts.body.contain_any(words),
            Condition::SubjectOrBodyContains(words) => {
                facts.subject.contain_any(words) || facts.body.contain_any(words)
            }
        }
    }
}

/// Whether `text` contains any of `needles` as whole words (case-insensitive).
pub fn contains_any_word(text: &str, needles: &[String]) -> bool {
    Words::of(text).contain_any(needles)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn whole_words_case_insensitive() {
        assert!(contains_any_word("My INVOICE is wrong", &w(&["invoice"])));
        assert!(contains_any_word("invoice.", &w(&["Invoice"])));
        assert!(!contains_any_word("invoices", &w(&["invoice"])));
        assert!(!contains_any_word("reinvoice", &w(&["invoice"])));
        assert!(contains_any_word(
            "lost my credit  card!",
            &w(&["credit card"])
        ));
        assert!(!contains_any_word("credit for card", &w(&["credit card"])));
        assert!(contains_any_word("Größe falsch", &w(&["größe"])));
        assert!(!contains_any_word("anything", &w(&["", "  "])));
    }

    #[test]
    fn any_group_all_conditions() {
        let rule = RoutingRule {
            rule_id: RuleId::new_v7(),
            name: "r".into(),
            groups: vec![
                vec![
                    Condition::ChannelIn(vec![Channel::Email]),
                    Condition::SubjectContains(w(&["refund"])),
                ],
                vec![Condition::PriorityIn(vec![Priority::Urgent])],
            ],
            actions: vec![Action::LeaveUnassigned],
        };
        let (refund, hello, empty) = (
            Words::of("Refund please"),
            Words::of("hello"),
            Words::default(),
        );
        let facts = |channel, priority, subject| TicketFacts {
            channel,
            priority,
            subject,
            body: &empty,
        };
        assert!(rule.matches(&facts(Channel::Email, Priority::Low, &refund)));
        assert!(!rule.matches(&facts(Channel::Chat, Priority::Low, &refund)));
        assert!(rule.matches(&facts(Channel::Chat, Priority::Urgent, &hello)));
        assert!(!rule.matches(&facts(Channel::Email, Priority::Low, &hello)));
    }
}
