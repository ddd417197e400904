//! Configuration commands: organization, tokens, levels, badges, routing rules, roles.
//! They all target the one `config` aggregate.

use serde::{Deserialize, Serialize};

use super::{
    check_len, check_name, check_range, check_required, check_some, check_tag, check_time_zone,
    CommandBody,
};
use crate::aggregate::AggregateId;
use crate::error::DomainError;
use crate::ids::{LevelId, RoleId, RuleId, TokenId};
use crate::limits;
use crate::model::{BadgeVisibility, Best, Statistic, TokenSubject};
use crate::roles::Permissions;
use crate::routing::{Action, Condition};

/// System only, once: the organization's seed (docs/STATISTICS.md, Badges) and time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetUpOrganization {
    pub seed: [u8; 32],
    pub time_zone: String,
}

impl CommandBody for SetUpOrganization {
    fn target(&self) -> AggregateId {
        AggregateId::config()
    }

    fn validate(&self) -> Result<(), DomainError> {
        check_time_zone("time_zone", &self.time_zone)
    }
}

/// Owner or Administrator; the seed only an Owner. Changes the fields that are set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetOrganizationSettings {
    pub time_zone: Option<String>,
    pub auto_pause: Option<bool>,
    /// The four-leaf clover odds, 0 to 1.
    pub clover_odds: Option<f64>,
    pub seed: Option<[u8; 32]>,
    pub max_custom_roles: Option<u32>,
    /// The system offers chats and rings calls (docs/DISTRIBUTION.md).
    pub system_routes: Option<bool>,
    /// How long an offer waits for its answer, in seconds.
    pub routing_seconds: Option<u32>,
}

impl CommandBody for SetOrganizationSettings {
    fn target(&self) -> AggregateId {
        AggregateId::config()
    }

    fn validate(&self) -> Result<(), DomainError> {
        check_some(
            self.time_zone.is_some()
                || self.auto_pause.is_some()
                || self.clover_odds.is_some()
                || self.seed.is_some()
                || self.max_custom_roles.is_some()
                || self.system_routes.is_some()
                || self.routing_seconds.is_some(),
        )?;
        if let Some(seconds) = self.routing_seconds {
            check_range(
                "routing_seconds",
                seconds.into(),
                limits::ROUTING_SECONDS_MIN.into(),
                limits::ROUTING_SECONDS_MAX.into(),
            )?;
        }
        if let Some(tz) = &self.time_zone {
            check_time_zone("time_zone", tz)?;
        }
        if let Some(odds) = self.clover_odds {
            if !(0.0..=1.0).contains(&odds) {
                return Err(DomainError::invalid(
                    "clover_odds",
                    format!("a probability from 0 to 1, got {odds}"),
                ));
            }
        }
        if let Some(max) = self.max_custom_roles {
            check_range(
                "max_custom_roles",
                max.into(),
                0,
                limits::CUSTOM_ROLES_MAX.into(),
            )?;
        }
        Ok(())
    }
}

/// System or `roles.manage`; a token with Owner or Administrator standing only by an
/// Owner. `hash` is SHA-256 of the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueToken {
    pub token_id: TokenId,
    pub hash: [u8; 32],
    pub subject: TokenSubject,
    /// When it stops authenticating; none: until revoked.
    pub expires_at: Option<crate::time::Timestamp>,
}

impl CommandBody for IssueToken {
    fn target(&self) -> AggregateId {
        AggregateId::config()
    }

    fn validate(&self) -> Result<(), DomainError> {
        if let TokenSubject::Integration { name, .. } = &self.subject {
            check_required("integration.name", name, limits::INTEGRATION_NAME_MAX_CHARS)?;
        }
        Ok(())
    }
}

/// System or `roles.manage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeToken {
    pub token_id: TokenId,
}

impl CommandBody for RevokeToken {
    fn target(&self) -> AggregateId {
        AggregateId::config()
    }
}

fn check_condition_len(field: &str, condition: &str) -> Result<(), DomainError> {
    check_required(field, condition, limits::CONDITION_MAX_CHARS)
}

fn check_description(field: &str, text: &str) -> Result<(), DomainError> {
    check_len(field, text, limits::DESCRIPTION_MAX_CHARS)
}

/// `gamification.manage`. `rank`: where it goes (1 = lowest; the levels from there move
/// up); none puts it on top.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefineLevel {
    pub level_id: LevelId,
    pub rank: Option<u32>,
    pub name: String,
    /// The message sent on reaching the level.
    pub description: String,
    pub condition: String,
}

impl CommandBody for DefineLevel {
    fn target(&self) -> AggregateId {
        AggregateId::config()
    }

    fn validate(&self) -> Result<(), DomainError> {
        if let Some(rank) = self.rank {
            check_range("rank", rank.into(), 1, limits::LEVELS_MAX as u64)?;
        }
        check_name("name", &self.name)?;
        check_description("description", &self.description)?;
        check_condition_len("condition", &self.condition)
    }
}

/// `gamification.manage`. Changes the fields that are set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateLevel {
    pub level_id: LevelId,
    pub name: Option<String>,
    pub description: Option<String>,
    pub condition: Option<String>,
}

impl CommandBody for UpdateLevel {
    fn target(&self) -> AggregateId {
        AggregateId::config()
    }

    fn validate(&self) -> Result<(), DomainError> {
        check_some(self.name.is_some() || self.description.is_some() || self.condition.is_some())?;
        if let Some(name) = &self.name {
            check_name("name", name)?;
        }
        if let Some(description) = &self.description {
            check_description("description", description)?;
        }
        if let Some(condition) = &self.condition {
            check_condition_len("condition", condition)?;
        }
        Ok(())
    }
}

/// `gamification.manage`. Levels already reached stay reached (docs/STATISTICS.md, Levels).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveLevel {
    pub level_id: LevelId,
}

impl CommandBody for RemoveLevel {
    fn target(&self) -> AggregateId {
        AggregateId::config()
    }
}

/// `gamification.manage`. `order`: every current level exactly once, lowest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReorderLevels {
    pub order: Vec<LevelId>,
}

impl CommandBody for ReorderLevels {
    fn target(&self) -> AggregateId {
        AggregateId::config()
    }

    fn validate(&self) -> Result<(), DomainError> {
        if self.order.len() > limits::LEVELS_MAX {
            return Err(DomainError::invalid(
                "order",
                format!("at most {} levels", limits::LEVELS_MAX),
            ));
        }
        Ok(())
    }
}

/// `gamification.manage`. Applies what a recompute of the levels found (the server
/// replays the log to find it; the command records the outcome, so that every later
/// replay gets the same levels).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecomputeLevels {
    pub mode: crate::model::RecomputeMode,
    pub granted: Vec<crate::model::LevelGrant>,
    pub revoked: Vec<crate::model::LevelRevocation>,
}

impl CommandBody for RecomputeLevels {
    fn target(&self) -> AggregateId {
        AggregateId::config()
    }

    fn validate(&self) -> Result<(), DomainError> {
        let changes = self.granted.len() + self.revoked.len();
        if changes > limits::RECOMPUTE_CHANGES_MAX {
            return Err(DomainError::invalid(
                "granted",
                format!(
                    "at most {} changes in one command (split them), got {changes}",
                    limits::RECOMPUTE_CHANGES_MAX
                ),
            ));
        }
        if let Some(i) = self.granted.iter().position(|g| g.values.len() > 64) {
            return Err(DomainError::invalid(
                format!("granted[{i}].values"),
                "at most 64 values",
            ));
        }
        Ok(())
    }
}

/// `gamification.manage`. Applies what a recompute of the badges found: evaluations that
/// replace the ones of the same badge and midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecomputeBadges {
    pub mode: crate::model::RecomputeMode,
    pub evaluations: Vec<crate::model::BadgeEvaluationRecord>,
}

impl CommandBody for RecomputeBadges {
    fn target(&self) -> AggregateId {
        AggregateId::config()
    }

    fn validate(&self) -> Result<(), DomainError> {
        if self.evaluations.len() > limits::RECOMPUTE_BADGE_EVALUATIONS_MAX {
            return Err(DomainError::invalid(
                "evaluations",
                format!(
                    "at most {} in one command (split them), got {}",
                    limits::RECOMPUTE_BADGE_EVALUATIONS_MAX,
                    self.evaluations.len()
                ),
            ));
        }
        for (i, e) in self.evaluations.iter().enumerate() {
            check_len(
                &format!("evaluations[{i}].key"),
                &e.key,
                limits::BADGE_KEY_MAX_CHARS,
            )?;
            if e.holders.len() > limits::RECOMPUTE_HOLDERS_MAX {
                return Err(DomainError::invalid(
                    format!("evaluations[{i}].holders"),
                    format!("at most {}", limits::RECOMPUTE_HOLDERS_MAX),
                ));
            }
        }
        Ok(())
    }
}

/// `gamification.manage`. Changes the fields that are set, on a built-in or custom badge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomizeBadge {
    pub key: String,
    pub name: Option<String>,
    pub description: Option<String>,
    /// An empty string clears the image.
    pub image_url: Option<String>,
    pub visibility: Option<BadgeVisibility>,
    pub enabled: Option<bool>,
}

impl CommandBody for CustomizeBadge {
    fn target(&self) -> AggregateId {
        AggregateId::config()
    }

    fn validate(&self) -> Result<(), DomainError> {
        check_badge_key(&self.key)?;
        check_some(
            self.name.is_some()
                || self.description.is_some()
                || self.image_url.is_some()
                || self.visibility.is_some()
                || self.enabled.is_some(),
        )?;
        if let Some(name) = &self.name {
            check_name("name", name)?;
        }
        if let Some(description) = &self.description {
            check_description("description", description)?;
        }
        if let Some(url) = &self.image_url {
            check_len("image_url", url, limits::URL_MAX_CHARS)?;
            if url.chars().any(char::is_whitespace) {
                return Err(DomainError::invalid("image_url", "a URL without spaces"));
            }
        }
        Ok(())
    }
}

/// `[a-z0-9_]`, 1 to 64 characters.
fn check_badge_key(key: &str) -> Result<(), DomainError> {
    let valid = !key.is_empty()
        && key.len() <= limits::BADGE_KEY_MAX_CHARS
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid {
        return Err(DomainError::invalid(
            "key",
            format!(
                "1 to {} characters of a-z, 0-9 and _",
                limits::BADGE_KEY_MAX_CHARS
            ),
        ));
    }
    Ok(())
}

/// `gamification.manage`. A custom badge from the badge statistics (docs/STATISTICS.md,
/// Badge statistics).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefineBadge {
    pub key: String,
    pub name: String,
    pub description: String,
    pub statistic: Statistic,
    /// 1 to 90 days.
    pub window_days: u32,
    pub best: Best,
    /// The minimum sample to compete (in the statistic's unit).
    pub minimum: u64,
}

impl CommandBody for DefineBadge {
    fn target(&self) -> AggregateId {
        AggregateId::config()
    }

    fn validate(&self) -> Result<(), DomainError> {
        check_badge_key(&self.key)?;
        check_name("name", &self.name)?;
        check_description("description", &self.description)?;
        check_range(
            "window_days",
            self.window_days.into(),
            1,
            limits::BADGE_WINDOW_DAYS_MAX.into(),
        )
    }
}

/// `gamification.manage`. Custom badges only; built-ins can be disabled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveBadge {
    pub key: String,
}

impl CommandBody for RemoveBadge {
    fn target(&self) -> AggregateId {
        AggregateId::config()
    }

    fn validate(&self) -> Result<(), DomainError> {
        check_badge_key(&self.key)
    }
}

/// `routing.manage`. `position`: 0-based place among the rules (none: last).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefineRoutingRule {
    pub rule_id: RuleId,
    pub name: String,
    pub groups: Vec<Vec<Condition>>,
    pub actions: Vec<Action>,
    pub position: Option<u32>,
}

fn check_list_len<T>(field: &str, list: &[T], max: usize) -> Result<(), DomainError> {
    if list.is_empty() {
        return Err(DomainError::invalid(field, "at least one entry"));
    }
    if list.len() > max {
        return Err(DomainError::invalid(
            field,
            format!("at most {max} entries, got {}", list.len()),
        ));
    }
    Ok(())
}

fn check_words(field: &str, words: &[String]) -> Result<(), DomainError> {
    check_list_len(field, words, limits::RULE_LIST_MAX)?;
    for (i, word) in words.iter().enumerate() {
        let field = format!("{field}[{i}]");
        check_required(&field, word, limits::RULE_WORD_MAX_CHARS)?;
        if !word.chars().any(char::is_alphanumeric) {
            return Err(DomainError::invalid(field, "a word with a letter or digit"));
        }
    }
    Ok(())
}

impl CommandBody for DefineRoutingRule {
    fn target(&self) -> AggregateId {
        AggregateId::config()
    }

    fn validate(&self) -> Result<(), DomainError> {
        check_name("name", &self.name)?;
        // Field paths are the request's (`groups[0].conditions[1].subject_contains.words`).
        check_list_len("groups", &self.groups, limits::RULE_GROUPS_MAX)?;
        for (g, group) in self.groups.iter().enumerate() {
            let conditions = format!("groups[{g}].conditions");
            check_list_len(&conditions, group, limits::RULE_CONDITIONS_MAX)?;
            for (c, condition) in group.iter().enumerate() {
                let field = format!("{conditions}[{c}]");
                match condition {
                    Condition::ChannelIn(set) => check_list_len(
                        &format!("{field}.channel_in.channels"),
                        set,
                        limits::RULE_LIST_MAX,
                    )?,
                    Condition::PriorityIn(set) => check_list_len(
                        &format!("{field}.priority_in.priorities"),
                        set,
                        limits::RULE_LIST_MAX,
                    )?,
                    Condition::SubjectContains(words) => {
                        check_words(&format!("{field}.subject_contains.words"), words)?
                    }
                    Condition::BodyContains(words) => {
                        check_words(&format!("{field}.body_contains.words"), words)?
                    }
                    Condition::SubjectOrBodyContains(words) => {
                        check_words(&format!("{field}.subject_or_body_contains.words"), words)?
                    }
                }
            }
        }
        let conditions = self
            .groups
            .iter()
            .flatten()
            .map(|condition| match condition {
                Condition::ChannelIn(set) => set.len(),
                Condition::PriorityIn(set) => set.len(),
                Condition::SubjectContains(words)
                | Condition::BodyContains(words)
                | Condition::SubjectOrBodyContains(words) => words.len(),
            });
        let actions = self.actions.iter().map(|action| match action {
            Action::AssignTo(agents) => agents.len(),
            Action::AddTags(tags) => tags.len(),
            Action::TransferTo(_) | Action::LeaveUnassigned | Action::SetPriority(_) => 0,
        });
        let entries: usize = conditions.chain(actions).sum();
        if entries > limits::RULE_ENTRIES_MAX {
            return Err(DomainError::invalid(
                "groups",
                format!(
                    "at most {} list entries in one rule (conditions and actions together), \
                     got {entries}: split it into several rules",
                    limits::RULE_ENTRIES_MAX
                ),
            ));
        }
        check_list_len("actions", &self.actions, limits::RULE_ACTIONS_MAX)?;
        for (a, action) in self.actions.iter().enumerate() {
            match action {
                Action::AssignTo(agents) => check_list_len(
                    &format!("actions[{a}].assign_to.agent_ids"),
                    agents,
                    limits::RULE_LIST_MAX,
                )?,
                Action::AddTags(tags) => {
                    let field = format!("actions[{a}].add_tags.tags");
                    check_list_len(&field, tags, limits::TAGS_PER_TICKET)?;
                    for (t, tag) in tags.iter().enumerate() {
                        check_tag(&format!("{field}[{t}]"), tag)?;
                    }
                }
                Action::TransferTo(_) | Action::LeaveUnassigned | Action::SetPriority(_) => {}
            }
        }
        Ok(())
    }
}

/// `routing.manage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveRoutingRule {
    pub rule_id: RuleId,
}

impl CommandBody for RemoveRoutingRule {
    fn target(&self) -> AggregateId {
        AggregateId::config()
    }
}

/// `routing.manage`. Renames a rule, sets its notes (empty: none) or switches it off or
/// on (a rule switched off keeps its place and is skipped); changes the fields that are
/// set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateRoutingRule {
    pub rule_id: RuleId,
    pub name: Option<String>,
    pub notes: Option<String>,
    pub enabled: Option<bool>,
}

impl CommandBody for UpdateRoutingRule {
    fn target(&self) -> AggregateId {
        AggregateId::config()
    }

    fn validate(&self) -> Result<(), DomainError> {
        check_some(self.name.is_some() || self.notes.is_some() || self.enabled.is_some())?;
        if let Some(name) = &self.name {
            check_name("name", name)?;
        }
        if let Some(notes) = &self.notes {
            check_len("notes", notes, limits::RULE_NOTES_MAX_CHARS)?;
        }
        Ok(())
    }
}

/// `roles.manage`. At most `max_custom_roles` (default 3) custom roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefineRole {
    pub role_id: RoleId,
    pub name: String,
    /// Granted on top of the Agent role's (which are none).
    pub permissions: Permissions,
}

impl CommandBody for DefineRole {
    fn target(&self) -> AggregateId {
        AggregateId::config()
    }

    fn validate(&self) -> Result<(), DomainError> {
        check_name("name", &self.name)
    }
}

/// `roles.manage`. Changes the fields that are set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateRole {
    pub role_id: RoleId,
    pub name: Option<String>,
    pub permissions: Option<Permissions>,
}

impl CommandBody for UpdateRole {
    fn target(&self) -> AggregateId {
        AggregateId::config()
    }

    fn validate(&self) -> Result<(), DomainError> {
        check_some(self.name.is_some() || self.permissions.is_some())?;
        if let Some(name) = &self.name {
            check_name("name", name)?;
        }
        Ok(())
    }
}

/// `roles.manage`. Allowed while agents hold the role: the domain cannot see every agent
/// at once, and they fall back to the Agent role's permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveRole {
    pub role_id: RoleId,
}

impl CommandBody for RemoveRole {
    fn target(&self) -> AggregateId {
        AggregateId::config()
    }
}
