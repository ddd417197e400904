use crate::time::Timestamp;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::event::Event;
use crate::ids::{AgentId, LevelId, RoleId, RuleId, TokenId};
use crate::limits;
use crate::model::{BadgeVisibility, Best, Statistic, TokenSubject};
use crate::roles::Permissions;
use crate::routing::RoutingRule;

/// The organization's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgSettings {
    /// IANA name; days, weeks and months are taken in this zone.
    pub time_zone: String,
    /// Pause agents who miss a chat or call (docs/TICKETS.md, Agents: presence and pauses).
    pub auto_pause: bool,
    /// The four-leaf clover odds (docs/STATISTICS.md, Badges).
    pub clover_odds: f64,
    pub max_custom_roles: u32,
    /// The system offers chats and rings calls (docs/DISTRIBUTION.md); off, integrations
    /// do it by hand (`OfferChat`, `RingCall`).
    pub system_routes: bool,
    /// How long an offer waits for its answer before it counts as missed, in seconds.
    pub routing_seconds: u32,
}

impl Default for OrgSettings {
    fn default() -> Self {
        OrgSettings {
            time_zone: crate::defaults::TIME_ZONE.to_owned(),
            auto_pause: false,
            clover_odds: limits::DEFAULT_CLOVER_ODDS,
            max_custom_roles: limits::DEFAULT_MAX_CUSTOM_ROLES,
            system_routes: false,
            routing_seconds: limits::DEFAULT_ROUTING_SECONDS,
        }
    }
}

/// One level; its rank is its place in the ladder ([`ConfigState::levels`]) plus one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Level {
    pub level_id: LevelId,
    pub name: String,
    pub description: String,
    pub condition: String,
}

/// What administrators changed of a badge (built-in defaults are not in the log).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BadgeSettings {
    pub name: Option<String>,
    pub description: Option<String>,
    pub image_url: Option<String>,
    pub visibility: Option<BadgeVisibility>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomBadge {
    pub name: String,
    pub description: String,
    pub statistic: Statistic,
    pub window_days: u32,
    pub best: Best,
    pub minimum: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomRole {
    pub role_id: RoleId,
    pub name: String,
    pub permissions: Permissions,
}

/// What the log keeps of a token: never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub token_id: TokenId,
    pub hash: [u8; 32],
    pub subject: TokenSubject,
    pub revoked: bool,
    /// When it stops authenticating; none: until revoked.
    pub expires_at: Option<Timestamp>,
}

/// The organization's configuration: one aggregate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigState {
    set_up: bool,
    pub seed: Option<[u8; 32]>,
    pub settings: OrgSettings,
    /// Lowest rank first.
    pub levels: Vec<Level>,
    /// Customizations, built-in and custom, by key.
    pub badge_settings: BTreeMap<String, BadgeSettings>,
    pub custom_badges: BTreeMap<String, CustomBadge>,
    /// In the order they run, switched off ones included (they keep their place).
    pub routing_rules: Vec<RoutingRule>,
    /// The notes of the rules that have any (RoutingRuleUpdated; RoutingRule is frozen in
    /// RoutingRuleDefined, so what came later is kept beside it).
    routing_rule_notes: BTreeMap<RuleId, String>,
    /// The rules switched off: skipped on a new ticket.
    routing_rules_off: BTreeSet<RuleId>,
    pub roles: BTreeMap<RoleId, CustomRole>,
    tokens: BTreeMap<TokenId, TokenRecord>,
    token_hashes: HashMap<[u8; 32], TokenId>,
}

impl ConfigState {
    pub fn is_set_up(&self) -> bool {
        self.set_up
    }

    pub fn role(&self, id: RoleId) -> Option<&CustomRole> {
        self.roles.get(&id)
    }

    pub fn level(&self, id: LevelId) -> Option<(u32, &Level)> {
        self.levels
            .iter()
            .enumerate()
            .find(|(_, l)| l.level_id == id)
            .map(|(i, l)| (i as u32 + 1, l))
    }

    pub fn routing_rule(&self, id: RuleId) -> Option<&RoutingRule> {
        self.routing_rules.iter().find(|r| r.rule_id == id)
    }

    /// A rule's notes; empty when it has none.
    pub fn routing_rule_notes(&self, id: RuleId) -> &str {
        self.routing_rule_notes.get(&id).map_or("", String::as_str)
    }

    /// Whether the rule is switched on (every rule is, until switched off).
    pub fn routing_rule_enabled(&self, id: RuleId) -> bool {
        !self.routing_rules_off.contains(&id)
    }

    /// The rules a new ticket runs through, in order: those switched on.
    pub fn enabled_routing_rules(&self) -> impl Iterator<Item = &RoutingRule> {
        self.routing_rules
            .iter()
            .filter(|r| self.routing_rule_enabled(r.rule_id))
    }

    /// A built-in key or a custom badge's.
    pub fn badge_exists(&self, key: &str) -> bool {
        crate::defaults::is_builtin_badge(key) || self.custom_badges.contains_key(key)
    }

    /// The live (not revoked) token with this hash.
    pub fn token_by_hash(&self, hash: &[u8; 32]) -> Option<&TokenRecord> {
        let id = self.token_hashes.get(hash)?;
        self.tokens.get(id).filter(|t| !t.revoked)
    }

    /// Any token, revoked or not.
    pub fn token(&self, id: TokenId) -> Option<&TokenRecord> {
        self.tokens.get(&id)
    }

    pub fn tokens(&self) -> impl Iterator<Item = &TokenRecord> {
        self.tokens.values()
    }

    /// Whether the agent has a token not revoked (expired or not).
    pub fn has_agent_token(&self, agent: AgentId) -> bool {
        self.tokens
            .values()
            .any(|t| !t.revoked && t.subject == TokenSubject::Agent(agent))
    }

    pub(crate) fn apply(&mut self, event: &Event) {
        match event {
            Event::OrganizationSetUp(e) => {
                self.set_up = true;
                self.seed = Some(e.seed);
                self.settings.time_zone.clone_from(&e.time_zone);
            }
            Event::OrganizationSettingsChanged(e) => {
                if let Some(tz) = &e.time_zone {
                    self.settings.time_zone.clone_from(tz);
                }
                if let Some(v) = e.auto_pause {
                    self.settings.auto_pause = v;
                }
                if let Some(v) = e.clover_odds {
                    self.settings.clover_odds = v;
                }
                if let Some(v) = e.seed {
                    self.seed = Some(v);
                }
                if let Some(v) = e.max_custom_roles {
                    self.settings.max_custom_roles = v;
                }
            }
            Event::DistributionSettingsChanged(e) => {
                if let Some(v) = e.system_routes {
                    self.settings.system_routes = v;
                }
                if let Some(v) = e.routing_seconds {
                    self.settings.routing_seconds = v;
                }
            }
            Event::TokenIssued(e) => {
                self.tokens.insert(
                    e.token_id,
                    TokenRecord {
                        token_id: e.token_id,
                        hash: e.hash,
                        subject: e.subject.clone(),
                        revoked: false,
                        expires_at: None,
                    },
                );
                self.token_hashes.insert(e.hash, e.token_id);
            }
            Event::TokenExpires(e) => {
                if let Some(t) = self.tokens.get_mut(&e.token_id) {
                    t.expires_at = Some(e.expires_at);
                }
            }
            Event::TokenRevoked(e) => {
                if let Some(t) = self.tokens.get_mut(&e.token_id) {
                    t.revoked = true;
                }
            }
            Event::LevelDefined(_)
            | Event::LevelUpdated(_)
            | Event::LevelRemoved(_)
            | Event::LevelsReordered(_) => {
                apply_level_event(&mut self.levels, event);
            }
            Event::BadgeCustomized(e) => {
                let s = self.badge_settings.entry(e.key.clone()).or_default();
                if let Some(v) = &e.name {
                    s.name = Some(v.clone());
                }
                if let Some(v) = &e.description {
                    s.description = Some(v.clone());
                }
                if let Some(v) = &e.image_url {
                    s.image_url = (!v.is_empty()).then(|| v.clone());
                }
                if let Some(v) = e.visibility {
                    s.visibility = Some(v);
                }
                if let Some(v) = e.enabled {
                    s.enabled = Some(v);
                }
            }
            Event::BadgeDefined(e) => {
                self.custom_badges.insert(
                    e.key.clone(),
                    CustomBadge {
                        name: e.name.clone(),
                        description: e.description.clone(),
                        statistic: e.statistic,
                        window_days: e.window_days,
                        best: e.best,
                        minimum: e.minimum,
                    },
                );
            }
            Event::BadgeRemoved(e) => {
                self.custom_badges.remove(&e.key);
                self.badge_settings.remove(&e.key);
            }
            Event::RoutingRuleDefined(e) => {
                self.routing_rules.retain(|r| r.rule_id != e.rule.rule_id);
                let at = (e.position as usize).min(self.routing_rules.len());
                self.routing_rules.insert(at, e.rule.clone());
            }
            Event::RoutingRuleRemoved(e) => {
                self.routing_rules.retain(|r| r.rule_id != e.rule_id);
                self.routing_rule_notes.remove(&e.rule_id);
                self.routing_rules_off.remove(&e.rule_id);
            }
            Event::RoutingRuleUpdated(e) => {
                let Some(rule) = self
                    .routing_rules
                    .iter_mut()
                    .find(|r| r.rule_id == e.rule_id)
                else {
                    return;
                };
                if let Some(name) = &e.name {
                    rule.name.clone_from(name);
                }
                match e.notes.as_deref() {
                    Some("") => {
                        self.routing_rule_notes.remove(&e.rule_id);
                    }
                    Some(notes) => {
                        self.routing_rule_notes.insert(e.rule_id, notes.to_owned());
                    }
                    None => {}
                }
                match e.enabled {
                    Some(true) => {
                        self.routing_rules_off.remove(&e.rule_id);
                    }
                    Some(false) => {
                        self.routing_rules_off.insert(e.rule_id);
                    }
                    None => {}
                }
            }
            Event::RoleDefined(e) => {
                self.roles.insert(
                    e.role_id,
                    CustomRole {
                        role_id: e.role_id,
                        name: e.name.clone(),
                        permissions: e.permissions,
                    },
                );
            }
            Event::RoleUpdated(e) => {
                if let Some(r) = self.roles.get_mut(&e.role_id) {
                    r.name.clone_from(&e.name);
                    r.permissions = e.permissions;
                }
            }
            Event::RoleRemoved(e) => {
                self.roles.remove(&e.role_id);
            }
            _ => {}
        }
    }
}

/// How a level event changes the ladder (lowest rank first). The command side and the
/// levels read model both fold definitions with this, so they agree on every rank.
pub fn apply_level_event(levels: &mut Vec<Level>, event: &Event) {
    match event {
        Event::LevelDefined(e) => {
            levels.retain(|l| l.level_id != e.level_id);
            let at = (e.rank.max(1) as usize - 1).min(levels.len());
            levels.insert(
                at,
                Level {
                    level_id: e.level_id,
                    name: e.name.clone(),
                    description: e.description.clone(),
                    condition: e.condition.clone(),
                },
            );
        }
        Event::LevelUpdated(e) => {
            if let Some(l) = levels.iter_mut().find(|l| l.level_id == e.level_id) {
                l.name.clone_from(&e.name);
                l.description.clone_from(&e.description);
                l.condition.clone_from(&e.condition);
            }
        }
        Event::LevelRemoved(e) => levels.retain(|l| l.level_id != e.level_id),
        Event::LevelsReordered(e) => {
            // Tolerant: listed levels first in the given order, any others after.
            let mut rest = std::mem::take(levels);
            for id in &e.order {
                if let Some(i) = rest.iter().position(|l| l.level_id == *id) {
                    levels.push(rest.remove(i));
                }
            }
            levels.append(&mut rest);
        }
        _ => {}
    }
}
