//! `helpdesk.v1.AdminService`: tokens (definitions, recompute and settings join it as
//! their issues land).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use helpdesk_api::convert::{command_id, timestamp_from_millis};
use helpdesk_api::{pb, AdminService, ApiError, IntoCommand, ParsedCommand};
use helpdesk_domain::command::{RecomputeBadges, RecomputeLevels};
use helpdesk_domain::{
    AgentId, BadgeAward, BadgeEvaluationRecord, LevelGrant, LevelId, LevelRevocation, Permission,
    RecomputeMode, TokenSubject,
};
use helpdesk_log::EventLog;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::access::tokens::{new_token, token_hash};
use crate::access::{caller, Caller};
use crate::command::engine::{Engine, Freshness};
use crate::command::recompute::{self, Found};
use crate::command::service::{execute, response};

#[derive(Clone)]
pub struct AdminApi {
    engine: Arc<Engine>,
    log: Arc<dyn EventLog>,
    /// Where recomputes keep their scratch stores.
    data_dir: PathBuf,
    recomputes: Arc<tokio::sync::Mutex<LastFound>>,
}

/// A recompute replays the whole log twice: a process runs one at a time (the lock is
/// held while it runs, and by an apply until its changes are appended), and one asked
/// again while the log has not moved gets what the last one found (a preview, then its
/// apply; several team leads asking at once). An apply after another finds the log moved
/// by it, and replays.
/// A recompute's turn: held, no other recompute runs.
type Turn = tokio::sync::OwnedMutexGuard<LastFound>;

#[derive(Default)]
struct LastFound {
    levels: Option<(RecomputeMode, Arc<Found>)>,
    badges: Option<(RecomputeMode, Arc<recompute::FoundBadges>)>,
}

impl AdminApi {
    pub fn new(engine: Arc<Engine>, log: Arc<dyn EventLog>, data_dir: PathBuf) -> Self {
        AdminApi {
            engine,
            log,
            data_dir,
            recomputes: Arc::default(),
        }
    }

    /// The log's last position, to tell whether a recompute found is still what the log
    /// would give.
    async fn log_end(&self) -> Result<helpdesk_log::Position, ApiError> {
        self.log
            .last_position()
            .await
            .map_err(|err| ApiError::unavailable(format!("the event log did not answer: {err}")))
    }

    /// Authenticates, checks `gamification.manage`, reads the mode, replays.
    async fn recompute(
        &self,
        request: &Request<pb::LevelRecomputeRequest>,
    ) -> Result<(helpdesk_domain::Principal, RecomputeMode, Arc<Found>, Turn), ApiError> {
        let principal = caller(request)?.principal;
        if !principal.has(Permission::GamificationManage) {
            return Err(ApiError::permission_denied(
                "a recompute needs the permission gamification.manage",
            ));
        }
        let mode = recompute_mode(request.get_ref().mode)?;
        let mut last = self.recomputes.clone().lock_owned().await;
        let end = self.log_end().await?;
        if let Some((_, found)) = last
            .levels
            .as_ref()
            .filter(|(m, found)| *m == mode && found.replayed_to == end)
        {
            let found = found.clone();
            return Ok((principal, mode, found, last));
        }
        let found = recompute::find(&self.engine, self.log.clone(), &self.data_dir, mode)
            .await
            .map_err(|err| match err {
                recompute::RecomputeError::Exec(err) => ApiError::from(err),
                other => ApiError::unavailable(other.to_string()),
            })?;
        let found = Arc::new(found);
        last.levels = Some((mode, found.clone()));
        Ok((principal, mode, found, last))
    }
}

impl AdminApi {
    /// Authenticates, checks `gamification.manage`, reads the mode, replays the badges.
    async fn badge_recompute(
        &self,
        request: &Request<pb::BadgeRecomputeRequest>,
    ) -> Result<
        (
            helpdesk_domain::Principal,
            RecomputeMode,
            Arc<recompute::FoundBadges>,
            Turn,
        ),
        ApiError,
    > {
        let principal = caller(request)?.principal;
        if !principal.has(Permission::GamificationManage) {
            return Err(ApiError::permission_denied(
                "a recompute needs the permission gamification.manage",
            ));
        }
        let mode = recompute_mode(request.get_ref().mode)?;
        let mut last = self.recomputes.clone().lock_owned().await;
        let end = self.log_end().await?;
        if let Some((_, found)) = last
            .badges
            .as_ref()
            .filter(|(m, found)| *m == mode && found.replayed_to == end)
        {
            let found = found.clone();
            return Ok((principal, mode, found, last));
        }
        let found = recompute::find_badges(self.log.clone(), &self.data_dir, mode)
            .await
            .map_err(|err| ApiError::unavailable(err.to_string()))?;
        let found = Arc::new(found);
        last.badges = Some((mode, found.clone()));
        Ok((principal, mode, found, last))
    }
}

fn role_pb(role: &helpdesk_domain::Role) -> pb::RoleRef {
    use helpdesk_domain::Role;
    let role = match role {
        Role::Owner => pb::role_ref::Role::Builtin(pb::BuiltinRole::Owner as i32),
        Role::Administrator => pb::role_ref::Role::Builtin(pb::BuiltinRole::Administrator as i32),
        Role::Agent => pb::role_ref::Role::Builtin(pb::BuiltinRole::Agent as i32),
        Role::Custom(id) => pb::role_ref::Role::CustomRoleId(id.to_string()),
    };
    pb::RoleRef { role: Some(role) }
}

fn recompute_mode(value: i32) -> Result<RecomputeMode, ApiError> {
    match pb::RecomputeMode::try_from(value) {
        Ok(pb::RecomputeMode::AsItHappened) => Ok(RecomputeMode::AsItHappened),
        Ok(pb::RecomputeMode::TodaysDefinitions) => Ok(RecomputeMode::TodaysDefinitions),
        Ok(pb::RecomputeMode::Unspecified) => Err(ApiError::missing_field("mode")),
        Err(_) => Err(ApiError::invalid_argument(
            "mode",
            format!("unknown value {value}"),
        )),
    }
}

fn badge_changes_pb(found: &recompute::FoundBadges) -> pb::BadgeRecomputeResponse {
    let holders = |e: &Option<helpdesk_projections::badges::Evaluation>| -> Vec<String> {
        e.as_ref()
            .map(|e| e.holders.iter().map(|h| h.agent.to_string()).collect())
            .unwrap_or_default()
    };
    pb::BadgeRecomputeResponse {
        changes: found
            .changes
            .iter()
            .map(|c| pb::BadgeChange {
                badge_key: c.key.clone(),
                day: helpdesk_projections::calendar::format_day(c.day),
                holders_before: holders(&c.before),
                holders_after: holders(&c.after),
                value_before: c.before.as_ref().and_then(|e| e.value),
                value_after: c.after.as_ref().and_then(|e| e.value),
            })
            .collect(),
        replayed_to: found.replayed_to,
        applied: Vec::new(),
    }
}

/// The response for what a recompute found.
fn found_pb(found: &Found) -> pb::LevelRecomputeResponse {
    let name = |level: &Uuid| found.names.get(level).cloned().unwrap_or_default();
    pb::LevelRecomputeResponse {
        gained: found
            .diff
            .gained
            .iter()
            .map(|(agent, level, reached)| pb::LevelChange {
                agent_id: agent.to_string(),
                level_id: level.to_string(),
                level_name: name(level),
                reached_at: Some(timestamp_from_millis(reached.at.millis())),
            })
            .collect(),
        lost: found
            .diff
            .lost
            .iter()
            .map(|(agent, level)| pb::LevelChange {
                agent_id: agent.to_string(),
                level_id: level.to_string(),
                level_name: name(level),
                reached_at: None,
            })
            .collect(),
        replayed_to: found.replayed_to,
        applied: Vec::new(),
    }
}

#[tonic::async_trait]
impl AdminService for AdminApi {
    async fn issue_token(
        &self,
        request: Request<pb::IssueTokenRequest>,
    ) -> Result<Response<pb::IssueTokenResponse>, Status> {
        let Caller { principal, arrived } = caller(&request)?;
        let secret = new_token();
        let (parsed, token_id) =
            helpdesk_api::convert::issue_token(request.into_inner(), token_hash(&secret))?;
        let token_id = token_id.to_string();
        let outcome = execute(&self.engine, &principal, parsed, arrived).await?;
        // A duplicate did not store this secret: handing it out would hand out nothing.
        let token = if outcome.duplicate {
            String::new()
        } else {
            secret
        };
        tracing::info!(token_id, duplicate = outcome.duplicate, "token issued");
        Ok(Response::new(pb::IssueTokenResponse {
            result: Some(response(outcome)),
            token_id,
            token,
        }))
    }

    async fn revoke_token(
        &self,
        request: Request<pb::RevokeTokenRequest>,
    ) -> Result<Response<pb::CommandResponse>, Status> {
        let Caller { principal, arrived } = caller(&request)?;
        let parsed = request.into_inner().into_command(principal.agent)?;
        let outcome = execute(&self.engine, &principal, parsed, arrived).await?;
        Ok(Response::new(response(outcome)))
    }

    async fn get_log_clock(
        &self,
        request: Request<pb::GetLogClockRequest>,
    ) -> Result<Response<pb::GetLogClockResponse>, Status> {
        let arrived = caller(&request)?.arrived;
        let time = self
            .engine
            .log_time(arrived)
            .await
            .map_err(ApiError::from)?
            .filter(|t| *t > helpdesk_domain::Timestamp::EPOCH);
        let position = self.engine.last_position().await.map_err(ApiError::from)?;
        Ok(Response::new(pb::GetLogClockResponse {
            time: time.map(|t| helpdesk_api::convert::timestamp_from_millis(t.millis())),
            position,
            import_running: self
                .engine
                .import_running(crate::command::clock::IMPORT_HOLD_OFF),
            import_lag_max_seconds: (helpdesk_domain::limits::IMPORT_LAG_MAX_MILLIS / 1000) as u32,
        }))
    }

    async fn list_tokens(
        &self,
        request: Request<pb::ListTokensRequest>,
    ) -> Result<Response<pb::ListTokensResponse>, Status> {
        let principal = caller(&request)?.principal;
        if !principal.has(Permission::AgentsManage) && !principal.has(Permission::RolesManage) {
            return Err(ApiError::permission_denied(
                "listing tokens needs the permission agents.manage or roles.manage",
            )
            .into());
        }
        let config = self
            .engine
            .load_config(Freshness::now())
            .await
            .map_err(ApiError::from)?;
        let mut tokens: Vec<pb::TokenInfo> = config
            .tokens()
            .map(|t| {
                let (agent_id, integration_name, role) = match &t.subject {
                    TokenSubject::Agent(a) => (a.to_string(), String::new(), None),
                    TokenSubject::Integration { name, role } => {
                        (String::new(), name.clone(), Some(role_pb(role)))
                    }
                };
                pb::TokenInfo {
                    token_id: t.token_id.to_string(),
                    agent_id,
                    integration_name,
                    role,
                    revoked: t.revoked,
                    expires_at: t.expires_at.map(|e| timestamp_from_millis(e.millis())),
                }
            })
            .collect();
        tokens.sort_by(|a, b| a.token_id.cmp(&b.token_id));
        Ok(Response::new(pb::ListTokensResponse { tokens }))
    }

    async fn preview_level_recompute(
        &self,
        request: Request<pb::LevelRecomputeRequest>,
    ) -> Result<Response<pb::LevelRecomputeResponse>, Status> {
        let (_, _, found, _turn) = self.recompute(&request).await?;
        Ok(Response::new(found_pb(&found)))
    }

    async fn apply_level_recompute(
        &self,
        request: Request<pb::LevelRecomputeRequest>,
    ) -> Result<Response<pb::LevelRecomputeResponse>, Status> {
        let base = command_id(&request.get_ref().command_id)?;
        let (principal, mode, found, _turn) = self.recompute(&request).await?;
        let mut out = found_pb(&found);
        let granted: Vec<LevelGrant> = found
            .diff
            .gained
            .iter()
            .map(|(agent, level, reached)| LevelGrant {
                agent: AgentId::from_uuid(*agent),
                level: LevelId::from_uuid(*level),
                reached_at: reached.at,
                values: reached.values.clone(),
            })
            .collect();
        let revoked: Vec<LevelRevocation> = found
            .diff
            .lost
            .iter()
            .map(|(agent, level)| LevelRevocation {
                agent: AgentId::from_uuid(*agent),
                level: LevelId::from_uuid(*level),
            })
            .collect();
        // One command per chunk, ids derived from the request's, so a retry dedupes.
        let max = helpdesk_domain::limits::RECOMPUTE_CHANGES_MAX;
        let mut chunks: Vec<RecomputeLevels> = granted
            .chunks(max)
            .map(|g| RecomputeLevels {
                mode,
                granted: g.to_vec(),
                revoked: Vec::new(),
            })
            .collect();
        chunks.extend(revoked.chunks(max).map(|r| RecomputeLevels {
            mode,
            granted: Vec::new(),
            revoked: r.to_vec(),
        }));
        for (i, chunk) in chunks.into_iter().enumerate() {
            let parsed = ParsedCommand {
                command_id: Uuid::new_v5(&base, format!("recompute-{i}").as_bytes()),
                occurred_at: None,
                command: chunk.into(),
            };
            let outcome = execute(&self.engine, &principal, parsed, Instant::now()).await?;
            out.applied.push(response(outcome));
        }
        tracing::info!(
            ?mode,
            gained = out.gained.len(),
            lost = out.lost.len(),
            "level recompute applied"
        );
        Ok(Response::new(out))
    }

    async fn preview_badge_recompute(
        &self,
        request: Request<pb::BadgeRecomputeRequest>,
    ) -> Result<Response<pb::BadgeRecomputeResponse>, Status> {
        let (_, _, found, _turn) = self.badge_recompute(&request).await?;
        Ok(Response::new(badge_changes_pb(&found)))
    }

    async fn apply_badge_recompute(
        &self,
        request: Request<pb::BadgeRecomputeRequest>,
    ) -> Result<Response<pb::BadgeRecomputeResponse>, Status> {
        let base = command_id(&request.get_ref().command_id)?;
        let (principal, mode, found, _turn) = self.badge_recompute(&request).await?;
        let mut out = badge_changes_pb(&found);
        let records: Vec<BadgeEvaluationRecord> = found
            .changes
            .iter()
            .map(|c| match &c.after {
                Some(e) => BadgeEvaluationRecord {
                    key: c.key.clone(),
                    day: e.day,
                    from: e.from,
                    to: e.to,
                    holders: e
                        .holders
                        .iter()
                        .map(|h| BadgeAward {
                            agent: AgentId::from_uuid(h.agent),
                            value: h.value,
                        })
                        .collect(),
                    value: e.value,
                    runner_up: e.runner_up,
                    competitors: e.competitors,
                },
                // Not evaluated with these definitions: nobody holds it that day.
                None => {
                    let before = c.before.as_ref();
                    BadgeEvaluationRecord {
                        key: c.key.clone(),
                        day: c.day,
                        from: before.map_or(c.day, |e| e.from),
                        to: before.map_or(c.day, |e| e.to),
                        holders: Vec::new(),
                        value: None,
                        runner_up: None,
                        competitors: 0,
                    }
                }
            })
            .collect();
        let max = helpdesk_domain::limits::RECOMPUTE_BADGE_EVALUATIONS_MAX;
        for (i, chunk) in records.chunks(max).enumerate() {
            let parsed = ParsedCommand {
                command_id: Uuid::new_v5(&base, format!("badges-{i}").as_bytes()),
                occurred_at: None,
                command: RecomputeBadges {
                    mode,
                    evaluations: chunk.to_vec(),
                }
                .into(),
            };
            let outcome = execute(&self.engine, &principal, parsed, Instant::now()).await?;
            out.applied.push(response(outcome));
        }
        tracing::info!(
            ?mode,
            changes = out.changes.len(),
            "badge recompute applied"
        );
        Ok(Response::new(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use helpdesk_log::{EmbeddedConfig, EmbeddedLog};

    /// Level and badge previews asked at once run one after the other, and the second,
    /// finding the log where the first left it, gets the first's answer without
    /// replaying the log again.
    #[tokio::test]
    async fn recomputes_asked_at_once_replay_the_log_once() {
        let dir = tempfile::tempdir().unwrap();
        let log: Arc<dyn EventLog> = Arc::new(
            EmbeddedLog::open(&dir.path().join("log"), EmbeddedConfig::default()).unwrap(),
        );
        let engine = Arc::new(Engine::new(log.clone()));
        crate::command::setup::ensure(&engine, Some("test-owner"))
            .await
            .unwrap();
        let admin = AdminApi::new(engine, log, dir.path().to_owned());
        let request = |mode: pb::RecomputeMode| {
            let mut request = Request::new(pb::LevelRecomputeRequest {
                mode: mode as i32,
                ..Default::default()
            });
            request.extensions_mut().insert(crate::access::Caller {
                principal: helpdesk_domain::Principal::system(),
                arrived: Instant::now(),
            });
            request
        };
        let first = request(pb::RecomputeMode::AsItHappened);
        let second = request(pb::RecomputeMode::AsItHappened);
        // Each drops its turn as it answers (a preview does).
        let admin = &admin;
        let ask = |request| async move { admin.recompute(request).await.map(|answer| answer.2) };
        let (a, b) = tokio::join!(ask(&first), ask(&second));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(Arc::ptr_eq(&a, &b), "the second replayed the log again");
        // Another mode is another question.
        let other = ask(&request(pb::RecomputeMode::TodaysDefinitions))
            .await
            .unwrap();
        assert!(!Arc::ptr_eq(&a, &other));
    }
}
