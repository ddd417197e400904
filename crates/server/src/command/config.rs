//! `helpdesk.v1.ConfigService`: the organization's configuration read back (departments,
//! roles, routing rules, settings), from the aggregates the engine decides commands on,
//! loaded as the log holds them when the request is answered.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use helpdesk_api::convert::{role_ref_pb, routing_rule_pb};
use helpdesk_api::{pb, ApiError, ConfigService};
use helpdesk_domain::{
    permissions_for, Action, AgentId, AggregateId, Permission, Permissions, Role, State,
};
use helpdesk_log::Position;
use tonic::{Request, Response, Status};

use crate::access::caller;
use crate::command::engine::{Engine, Freshness, LoadedConfig};
use crate::query::preamble;

/// How often a read that waits for a position looks at the log's end again.
const POLL: Duration = Duration::from_millis(20);

#[derive(Clone)]
pub struct ConfigApi {
    engine: Arc<Engine>,
}

impl ConfigApi {
    pub fn new(engine: Arc<Engine>) -> Self {
        ConfigApi { engine }
    }

    /// Waits until the log holds the position `read` asks for (read-your-writes), and
    /// returns the log's last position with the freshness to load at: everything up to
    /// that position was acknowledged before the instant, so what is loaded reflects at
    /// least it. A position the log does not reach in time is `DEADLINE_EXCEEDED`, as
    /// for the read models.
    async fn reached(
        &self,
        read: Option<&pb::ReadOptions>,
    ) -> Result<(Position, Freshness), ApiError> {
        let wanted = preamble::wanted(read)?;
        let started = tokio::time::Instant::now();
        loop {
            let last = self.engine.last_position().await?;
            match wanted {
                Some((position, wait)) if last < position => {
                    if started.elapsed() >= wait {
                        return Err(ApiError::deadline_exceeded(format!(
                            "the event log reached position {last}, not yet {position}; \
                             retry, or wait longer"
                        )));
                    }
                    tokio::time::sleep(POLL).await;
                }
                _ => return Ok((last, Freshness::now())),
            }
        }
    }

    /// The configuration as the log holds it once `read` is reached (see
    /// [`ConfigApi::reached`]), with that position and freshness.
    async fn config(
        &self,
        read: Option<&pb::ReadOptions>,
    ) -> Result<(Position, Freshness, LoadedConfig), ApiError> {
        let (position, freshness) = self.reached(read).await?;
        let config = self.engine.load_config(freshness).await?;
        Ok((position, freshness, config))
    }

    /// An agent's name, `None` for an id no agent has.
    async fn agent_name(
        &self,
        agent: AgentId,
        freshness: Freshness,
    ) -> Result<Option<(String, bool)>, ApiError> {
        let loaded = self.engine.load_agent(agent, freshness).await?;
        Ok(loaded
            .exists()
            .then(|| (loaded.name.clone(), loaded.is_deactivated())))
    }
}

fn permission_names(permissions: Permissions) -> Vec<String> {
    permissions.iter().map(|p| p.as_str().to_owned()).collect()
}

#[tonic::async_trait]
impl ConfigService for ConfigApi {
    async fn list_departments(
        &self,
        request: Request<pb::ListDepartmentsRequest>,
    ) -> Result<Response<pb::ListDepartmentsResponse>, Status> {
        caller(&request)?;
        let (position, freshness) = self.reached(request.get_ref().read.as_ref()).await?;
        let mut departments = Vec::new();
        for (id, department) in self
            .engine
            .departments(freshness)
            .await
            .map_err(ApiError::from)?
        {
            let mut members = Vec::with_capacity(department.members.len());
            for agent in &department.members {
                // A member is always a registered agent (the domain refuses others); an
                // unknown one would show with its id and no name.
                let (name, deactivated) = self
                    .agent_name(*agent, freshness)
                    .await?
                    .unwrap_or_default();
                members.push(pb::DepartmentMember {
                    agent_id: agent.to_string(),
                    name,
                    deactivated,
                });
            }
            members.sort_by(|a, b| (&a.name, &a.agent_id).cmp(&(&b.name, &b.agent_id)));
            departments.push(pb::Department {
                department_id: id.to_string(),
                name: department.name,
                members,
            });
        }
        departments.sort_by(|a, b| (&a.name, &a.department_id).cmp(&(&b.name, &b.department_id)));
        Ok(Response::new(pb::ListDepartmentsResponse {
            departments,
            position,
        }))
    }

    async fn list_roles(
        &self,
        request: Request<pb::ListRolesRequest>,
    ) -> Result<Response<pb::ListRolesResponse>, Status> {
        caller(&request)?;
        let (position, _, config) = self.config(request.get_ref().read.as_ref()).await?;
        let mut roles: Vec<pb::Role> = [Role::Owner, Role::Administrator, Role::Agent]
            .iter()
            .map(|role| pb::Role {
                role: Some(role_ref_pb(role)),
                name: role.to_string(),
                builtin: true,
                permissions: permission_names(permissions_for(role, &config)),
            })
            .collect();
        let mut custom: Vec<pb::Role> = config
            .roles
            .values()
            .map(|role| pb::Role {
                role: Some(role_ref_pb(&Role::Custom(role.role_id))),
                name: role.name.clone(),
                builtin: false,
                permissions: permission_names(role.permissions),
            })
            .collect();
        custom.sort_by(|a, b| a.name.cmp(&b.name));
        roles.extend(custom);
        Ok(Response::new(pb::ListRolesResponse {
            roles,
            position,
            max_custom_roles: config.settings.max_custom_roles,
        }))
    }

    async fn list_routing_rules(
        &self,
        request: Request<pb::ListRoutingRulesRequest>,
    ) -> Result<Response<pb::ListRoutingRulesResponse>, Status> {
        let principal = caller(&request)?.principal;
        // Who directs tickets (defines the rules, or oversees every ticket) may see how
        // they are routed; an agent sees where tickets land, not the rules' keywords and
        // assignee lists.
        if !principal.has(Permission::RoutingManage) && !principal.has(Permission::TicketsViewAll) {
            return Err(ApiError::permission_denied(
                "listing routing rules needs the permission routing.manage or tickets.view_all",
            )
            .into());
        }
        let (position, freshness, config) = self.config(request.get_ref().read.as_ref()).await?;
        let mut agent_names = HashMap::new();
        let mut department_names = HashMap::new();
        for rule in &config.routing_rules {
            for action in &rule.actions {
                match action {
                    Action::AssignTo(agents) => {
                        for agent in agents {
                            if let Some((name, _)) = self.agent_name(*agent, freshness).await? {
                                agent_names.insert(agent.to_string(), name);
                            }
                        }
                    }
                    Action::TransferTo(department) => {
                        let loaded = self
                            .engine
                            .load(AggregateId::department(*department), freshness)
                            .await
                            .map_err(ApiError::from)?;
                        if let State::Department(d) = &loaded.state {
                            if d.exists() {
                                department_names.insert(department.to_string(), d.name.clone());
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        let rules = config
            .routing_rules
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                routing_rule_pb(
                    rule,
                    i as u32,
                    config.routing_rule_notes(rule.rule_id),
                    config.routing_rule_enabled(rule.rule_id),
                )
            })
            .collect();
        Ok(Response::new(pb::ListRoutingRulesResponse {
            rules,
            position,
            agent_names,
            department_names,
        }))
    }

    async fn get_organization_settings(
        &self,
        request: Request<pb::GetOrganizationSettingsRequest>,
    ) -> Result<Response<pb::GetOrganizationSettingsResponse>, Status> {
        caller(&request)?;
        let (position, _, config) = self.config(request.get_ref().read.as_ref()).await?;
        let settings = &config.settings;
        Ok(Response::new(pb::GetOrganizationSettingsResponse {
            time_zone: settings.time_zone.clone(),
            auto_pause: settings.auto_pause,
            clover_odds: settings.clover_odds,
            max_custom_roles: settings.max_custom_roles,
            position,
            system_routes: settings.system_routes,
            routing_seconds: settings.routing_seconds,
        }))
    }
}
