//! Configuration decisions: the organization, tokens, levels, badges, routing rules and
//! roles.

use std::collections::HashSet;

use super::{may_grant, may_manage, role_exists, Context};
use crate::command::{ConfigCommand, RecomputeCommand};
use crate::defaults::is_builtin_badge;
use crate::error::DomainError;
use crate::event::*;
use crate::limits;
use crate::model::TokenSubject;
use crate::roles::{Permission, Role};
use crate::routing::{Action, RoutingRule};
use crate::state::ConfigState;

pub(super) fn decide(
    state: &ConfigState,
    cmd: ConfigCommand<'_>,
    ctx: &Context,
) -> Result<Vec<Event>, DomainError> {
    let p = ctx.principal;
    match cmd {
        ConfigCommand::SetUpOrganization(c) => {
            if !p.is_system() {
                return Err(DomainError::denied(
                    "only the system sets the organization up",
                ));
            }
            if state.is_set_up() {
                return Err(DomainError::failed("the organization is set up already"));
            }
            Ok(vec![OrganizationSetUp {
                seed: c.seed,
                time_zone: c.time_zone.clone(),
            }
            .into()])
        }
        ConfigCommand::SetOrganizationSettings(c) => {
            if !p.role.is_privileged() {
                return Err(DomainError::denied(
                    "organization settings are changed by an Owner or Administrator",
                ));
            }
            if c.seed.is_some() && p.role != Role::Owner {
                return Err(DomainError::denied(
                    "only an Owner sets the organization's seed",
                ));
            }
            // Each event only when it changes something: a log that never touched
            // distribution keeps the shape it had before it existed.
            let mut events = Vec::new();
            if c.time_zone.is_some()
                || c.auto_pause.is_some()
                || c.clover_odds.is_some()
                || c.seed.is_some()
                || c.max_custom_roles.is_some()
            {
                events.push(
                    OrganizationSettingsChanged {
                        time_zone: c.time_zone.clone(),
                        auto_pause: c.auto_pause,
                        clover_odds: c.clover_odds,
                        seed: c.seed,
                        max_custom_roles: c.max_custom_roles,
                    }
                    .into(),
                );
            }
            if c.system_routes.is_some() || c.routing_seconds.is_some() {
                events.push(
                    DistributionSettingsChanged {
                        system_routes: c.system_routes,
                        routing_seconds: c.routing_seconds,
                    }
                    .into(),
                );
            }
            Ok(events)
        }
        ConfigCommand::IssueToken(c) => {
            p.require(token_permission(&c.subject))?;
            let standing = match &c.subject {
                TokenSubject::Agent(a) => ctx.active_agent(*a)?.role().clone(),
                TokenSubject::Integration { role, .. } => {
                    role_exists(ctx.config, role)?;
                    role.clone()
                }
            };
            may_grant(p, &standing, ctx.config)?;
            if state.token(c.token_id).is_some() {
                return Err(DomainError::failed(format!(
                    "token {} already exists",
                    c.token_id
                )));
            }
            if state.token_by_hash(&c.hash).is_some() {
                return Err(DomainError::failed(
                    "a token with this secret exists already",
                ));
            }
            let mut events: Vec<Event> = vec![TokenIssued {
                token_id: c.token_id,
                hash: c.hash,
                subject: c.subject.clone(),
            }
            .into()];
            if let Some(expires_at) = c.expires_at {
                if expires_at <= ctx.now {
                    return Err(DomainError::invalid(
                        "expires_at",
                        format!("a time after now ({}), got {expires_at}", ctx.now),
                    ));
                }
                events.push(
                    TokenExpires {
                        token_id: c.token_id,
                        expires_at,
                    }
                    .into(),
                );
            }
            Ok(events)
        }
        ConfigCommand::RevokeToken(c) => {
            let token = state
                .token(c.token_id)
                .ok_or_else(|| DomainError::not_found("token", c.token_id))?;
            p.require(token_permission(&token.subject))?;
            // Whoever may change the token's holder may take their token away.
            match &token.subject {
                TokenSubject::Agent(a) => {
                    if let Some(agent) = ctx.agent(*a) {
                        may_manage(p, agent.role())?;
                    }
                }
                TokenSubject::Integration { role, .. } => may_manage(p, role)?,
            }
            if token.revoked {
                return Err(DomainError::failed(format!(
                    "token {} is revoked already",
                    c.token_id
                )));
            }
            Ok(vec![TokenRevoked {
                token_id: c.token_id,
            }
            .into()])
        }
        ConfigCommand::DefineLevel(c) => {
            p.require(Permission::GamificationManage)?;
            check_condition(ctx, "condition", &c.condition)?;
            if state.level(c.level_id).is_some() {
                return Err(DomainError::failed(format!(
                    "level {} already exists",
                    c.level_id
                )));
            }
            if state.levels.len() >= limits::LEVELS_MAX {
                return Err(DomainError::failed(format!(
                    "the organization has the maximum of {} levels",
                    limits::LEVELS_MAX
                )));
            }
            let top = state.levels.len() as u32 + 1;
            let rank = c.rank.unwrap_or(top);
            if rank > top {
                return Err(DomainError::invalid(
                    "rank",
                    format!("a rank from 1 to {top} (there are {} levels)", top - 1),
                ));
            }
            Ok(vec![LevelDefined {
                level_id: c.level_id,
                rank,
                name: c.name.clone(),
                description: c.description.clone(),
                condition: c.condition.clone(),
            }
            .into()])
        }
        ConfigCommand::UpdateLevel(c) => {
            p.require(Permission::GamificationManage)?;
            if let Some(condition) = &c.condition {
                check_condition(ctx, "condition", condition)?;
            }
            let (_, level) = state
                .level(c.level_id)
                .ok_or_else(|| DomainError::not_found("level", c.level_id))?;
            Ok(vec![LevelUpdated {
                level_id: c.level_id,
                name: c.name.clone().unwrap_or_else(|| level.name.clone()),
                description: c
                    .description
                    .clone()
                    .unwrap_or_else(|| level.description.clone()),
                condition: c
                    .condition
                    .clone()
                    .unwrap_or_else(|| level.condition.clone()),
            }
            .into()])
        }
        ConfigCommand::RemoveLevel(c) => {
            p.require(Permission::GamificationManage)?;
            let (rank, level) = state
                .level(c.level_id)
                .ok_or_else(|| DomainError::not_found("level", c.level_id))?;
            if rank == 1 {
                return Err(DomainError::failed(format!(
                    "level_id: level {} ({}) is rank 1, the level every agent has from \
                     the start, and an agent must always have a level; to retire it, \
                     give another level rank 1 first (ReorderLevels) and remove it then, \
                     or change it (UpdateLevel)",
                    c.level_id, level.name
                )));
            }
            Ok(vec![LevelRemoved {
                level_id: c.level_id,
            }
            .into()])
        }
        ConfigCommand::ReorderLevels(c) => {
            p.require(Permission::GamificationManage)?;
            let current: HashSet<_> = state.levels.iter().map(|l| l.level_id).collect();
            if let Some(unknown) = c.order.iter().find(|id| !current.contains(id)) {
                return Err(DomainError::not_found("level", unknown));
            }
            let given: HashSet<_> = c.order.iter().copied().collect();
            if given.len() != c.order.len() || given != current {
                return Err(DomainError::invalid(
                    "order",
                    format!(
                        "each of the {} current levels exactly once",
                        state.levels.len()
                    ),
                ));
            }
            Ok(vec![LevelsReordered {
                order: c.order.clone(),
            }
            .into()])
        }
        ConfigCommand::CustomizeBadge(c) => {
            p.require(Permission::GamificationManage)?;
            if !state.badge_exists(&c.key) {
                return Err(DomainError::not_found("badge", &c.key));
            }
            Ok(vec![BadgeCustomized {
                key: c.key.clone(),
                name: c.name.clone(),
                description: c.description.clone(),
                image_url: c.image_url.clone(),
                visibility: c.visibility,
                enabled: c.enabled,
            }
            .into()])
        }
        ConfigCommand::DefineBadge(c) => {
            p.require(Permission::GamificationManage)?;
            if is_builtin_badge(&c.key) {
                return Err(DomainError::failed(format!(
                    "badge {} already exists (a built-in badge)",
                    c.key
                )));
            }
            if state.custom_badges.contains_key(&c.key) {
                return Err(DomainError::failed(format!(
                    "badge {} already exists",
                    c.key
                )));
            }
            Ok(vec![BadgeDefined {
                key: c.key.clone(),
                name: c.name.clone(),
                description: c.description.clone(),
                statistic: c.statistic,
                window_days: c.window_days,
                best: c.best,
                minimum: c.minimum,
            }
            .into()])
        }
        ConfigCommand::RemoveBadge(c) => {
            p.require(Permission::GamificationManage)?;
            if is_builtin_badge(&c.key) {
                return Err(DomainError::failed(format!(
                    "badge {} is built in: it can be disabled (CustomizeBadge), not removed",
                    c.key
                )));
            }
            if !state.custom_badges.contains_key(&c.key) {
                return Err(DomainError::not_found("badge", &c.key));
            }
            Ok(vec![BadgeRemoved { key: c.key.clone() }.into()])
        }
        ConfigCommand::DefineRoutingRule(c) => {
            p.require(Permission::RoutingManage)?;
            for action in &c.actions {
                match action {
                    Action::TransferTo(d) if ctx.department(*d).is_none() => {
                        return Err(DomainError::not_found("department", d));
                    }
                    Action::AssignTo(agents) => {
                        for a in agents {
                            if ctx.agent(*a).is_none() {
                                return Err(DomainError::not_found("agent", a));
                            }
                        }
                    }
                    _ => {}
                }
            }
            if state.routing_rule(c.rule_id).is_some() {
                return Err(DomainError::failed(format!(
                    "routing rule {} already exists",
                    c.rule_id
                )));
            }
            if state.routing_rules.len() >= limits::RULES_MAX {
                return Err(DomainError::failed(format!(
                    "the organization has the maximum of {} routing rules",
                    limits::RULES_MAX
                )));
            }
            let len = state.routing_rules.len() as u32;
            let position = c.position.unwrap_or(len);
            if position > len {
                return Err(DomainError::invalid(
                    "position",
                    format!("a position from 0 to {len} (there are {len} rules)"),
                ));
            }
            Ok(vec![RoutingRuleDefined {
                rule: RoutingRule {
                    rule_id: c.rule_id,
                    name: c.name.clone(),
                    groups: c.groups.clone(),
                    actions: c.actions.clone(),
                },
                position,
            }
            .into()])
        }
        ConfigCommand::RemoveRoutingRule(c) => {
            p.require(Permission::RoutingManage)?;
            if state.routing_rule(c.rule_id).is_none() {
                return Err(DomainError::not_found("routing rule", c.rule_id));
            }
            Ok(vec![RoutingRuleRemoved { rule_id: c.rule_id }.into()])
        }
        ConfigCommand::UpdateRoutingRule(c) => {
            p.require(Permission::RoutingManage)?;
            if state.routing_rule(c.rule_id).is_none() {
                return Err(DomainError::not_found("routing rule", c.rule_id));
            }
            Ok(vec![RoutingRuleUpdated {
                rule_id: c.rule_id,
                name: c.name.clone(),
                notes: c.notes.clone(),
                enabled: c.enabled,
            }
            .into()])
        }
        ConfigCommand::DefineRole(c) => {
            p.require(Permission::RolesManage)?;
            if state.role(c.role_id).is_some() {
                return Err(DomainError::failed(format!(
                    "role {} already exists",
                    c.role_id
                )));
            }
            check_role_name(state, &c.name, None)?;
            let max = state.settings.max_custom_roles;
            if state.roles.len() as u32 >= max {
                return Err(DomainError::failed(format!(
                    "the organization has its maximum of {max} custom roles \
                     (setting max_custom_roles)"
                )));
            }
            Ok(vec![RoleDefined {
                role_id: c.role_id,
                name: c.name.clone(),
                permissions: c.permissions,
            }
            .into()])
        }
        ConfigCommand::UpdateRole(c) => {
            p.require(Permission::RolesManage)?;
            let role = state
                .role(c.role_id)
                .ok_or_else(|| DomainError::not_found("role", c.role_id))?;
            if let Some(name) = &c.name {
                check_role_name(state, name, Some(c.role_id))?;
            }
            Ok(vec![RoleUpdated {
                role_id: c.role_id,
                name: c.name.clone().unwrap_or_else(|| role.name.clone()),
                permissions: c.permissions.unwrap_or(role.permissions),
            }
            .into()])
        }
        ConfigCommand::RemoveRole(c) => {
            p.require(Permission::RolesManage)?;
            if state.role(c.role_id).is_none() {
                return Err(DomainError::not_found("role", c.role_id));
            }
            Ok(vec![RoleRemoved { role_id: c.role_id }.into()])
        }
    }
}

/// Recording what a recompute found (the server replayed the log to find it).
pub(super) fn decide_recompute(
    cmd: RecomputeCommand<'_>,
    ctx: &Context,
) -> Result<Vec<Event>, DomainError> {
    ctx.principal.require(Permission::GamificationManage)?;
    Ok(match cmd {
        RecomputeCommand::RecomputeLevels(c) => vec![LevelsRecomputed {
            mode: c.mode,
            granted: c.granted.clone(),
            revoked: c.revoked.clone(),
        }
        .into()],
        RecomputeCommand::RecomputeBadges(c) => vec![BadgesRecomputed {
            mode: c.mode,
            evaluations: c.evaluations.clone(),
        }
        .into()],
    })
}

/// The rules crate's check, when there is one (the length was checked by `validate`).
fn check_condition(ctx: &Context, field: &str, condition: &str) -> Result<(), DomainError> {
    match ctx.check_condition {
        Some(check) => check(condition).map_err(|err| match err {
            DomainError::InvalidArgument { message, .. } => DomainError::invalid(field, message),
            other => other,
        }),
        None => Ok(()),
    }
}

/// Role names are unique (case-insensitively) and not those of the built-in roles.
fn check_role_name(
    state: &ConfigState,
    name: &str,
    except: Option<crate::ids::RoleId>,
) -> Result<(), DomainError> {
    let lower = name.trim().to_lowercase();
    if ["owner", "administrator", "agent"].contains(&lower.as_str()) {
        return Err(DomainError::invalid(
            "name",
            "a name other than a built-in role's",
        ));
    }
    let taken = state
        .roles
        .values()
        .any(|r| Some(r.role_id) != except && r.name.trim().to_lowercase() == lower);
    if taken {
        return Err(DomainError::failed(format!(
            "a role named {name:?} already exists"
        )));
    }
    Ok(())
}

/// The permission that issues and revokes a token: `agents.manage` for an agent's (it is
/// part of onboarding and offboarding people), `roles.manage` for an integration's (it
/// hands out a role).
fn token_permission(subject: &TokenSubject) -> Permission {
    match subject {
        TokenSubject::Agent(_) => Permission::AgentsManage,
        TokenSubject::Integration { .. } => Permission::RolesManage,
    }
}
