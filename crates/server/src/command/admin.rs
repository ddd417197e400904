//! `helpdesk.v1.AdminService`: tokens, the log's clock, and level and badge recomputes,
//! which run as operations (`operations.rs`): started and watched, or run to their end
//! by the unary RPCs.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use futures::future::BoxFuture;
use futures::StreamExt as _;
use helpdesk_api::convert::{command_id, role_ref_pb, timestamp_from_millis};
use helpdesk_api::{pb, AdminService, ApiError, IntoCommand, ParsedCommand};
use helpdesk_domain::command::{RecomputeBadges, RecomputeLevels};
use helpdesk_domain::{
    AgentId, BadgeAward, BadgeEvaluationRecord, LevelGrant, LevelId, LevelRevocation, Permission,
    RecomputeMode, TokenSubject,
};
use helpdesk_log::EventLog;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::access::tokens::{new_token, token_hash};
use crate::access::{caller, Access, Caller};
use crate::command::engine::{Engine, Freshness};
use crate::command::operations::{OperationStream, Operations, Outcome, Progress, Stop};
use crate::command::recompute::{self, Found, ReplayProgress};
use crate::command::service::{execute, response};

#[derive(Clone)]
pub struct AdminApi {
    engine: Arc<Engine>,
    recomputes: Arc<Recomputes>,
    operations: Arc<Operations>,
    /// Counts and rechecks `WatchOperation` streams.
    access: Arc<Access>,
    shutdown: CancellationToken,
}

/// What the recomputes share: the log they replay, where they keep their scratch stores,
/// and the turn with the last answers.
struct Recomputes {
    engine: Arc<Engine>,
    log: Arc<dyn EventLog>,
    /// Where recomputes keep their scratch stores.
    data_dir: PathBuf,
    last: Arc<tokio::sync::Mutex<LastFound>>,
}

/// A recompute replays the whole log: a process runs one at a time (the lock is
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
    pub fn new(
        engine: Arc<Engine>,
        log: Arc<dyn EventLog>,
        data_dir: PathBuf,
        access: Arc<Access>,
        shutdown: CancellationToken,
    ) -> Self {
        AdminApi {
            recomputes: Arc::new(Recomputes {
                engine: engine.clone(),
                log,
                data_dir,
                last: Arc::default(),
            }),
            engine,
            operations: Arc::new(Operations::new(shutdown.clone())),
            access,
            shutdown,
        }
    }

    /// Checks a recompute asked by the caller of `request` as the unary RPCs check it
    /// (permission, mode, command id), ready to run as an operation.
    fn prepare<T>(
        &self,
        request: &Request<T>,
        kind: &Kind,
        apply: bool,
    ) -> Result<Prepared, ApiError> {
        let principal = recompute_caller(request)?;
        let (command_id_text, mode_value) = match kind {
            Kind::Level(r) => (&r.command_id, r.mode),
            Kind::Badge(r) => (&r.command_id, r.mode),
        };
        let mode = recompute_mode(mode_value)?;
        let base = command_id(command_id_text)?;
        let applier = apply.then_some((principal, base));
        let recomputes = self.recomputes.clone();
        let (operation_kind, work): (pb::OperationKind, Work) = match kind {
            Kind::Level(_) => (
                pb::OperationKind::LevelRecompute,
                Box::new(move |progress| {
                    Box::pin(async move { recomputes.run_levels(mode, applier, progress).await })
                }),
            ),
            Kind::Badge(_) => (
                pb::OperationKind::BadgeRecompute,
                Box::new(move |progress| {
                    Box::pin(async move { recomputes.run_badges(mode, applier, progress).await })
                }),
            ),
        };
        Ok(Prepared {
            kind: operation_kind,
            apply,
            mode: mode_pb(mode),
            work,
        })
    }

    /// Runs a unary recompute: an operation, waited for.
    async fn run_unary<T>(
        &self,
        request: &Request<T>,
        kind: Kind,
        apply: bool,
    ) -> Result<pb::operation::Result, ApiError> {
        let prepared = self.prepare(request, &kind, apply)?;
        let operation = self
            .operations
            .run(prepared.kind, prepared.apply, prepared.mode, prepared.work)
            .await?;
        operation
            .result
            .ok_or_else(|| ApiError::internal("the recompute succeeded without a result"))
    }
}

/// Which recompute is asked.
type Kind = pb::start_recompute_request::Kind;

/// A recompute's work, as an operation runs it.
type Work = Box<dyn FnOnce(Progress) -> BoxFuture<'static, Result<Outcome, Stop>> + Send>;

/// A recompute checked and ready to run.
struct Prepared {
    kind: pb::OperationKind,
    apply: bool,
    mode: pb::RecomputeMode,
    work: Work,
}

/// The caller of a recompute or of an operation: `gamification.manage`, or
/// PERMISSION_DENIED.
fn recompute_caller<T>(request: &Request<T>) -> Result<helpdesk_domain::Principal, ApiError> {
    let principal = caller(request)?.principal;
    if !principal.has(Permission::GamificationManage) {
        return Err(ApiError::permission_denied(
            "a recompute and its operations need the permission gamification.manage",
        ));
    }
    Ok(principal)
}

/// Who applies a recompute, and the idempotency key its commands derive from.
type Applier = Option<(helpdesk_domain::Principal, Uuid)>;

impl Recomputes {
    /// The log's last position, to tell whether a recompute found is still what the log
    /// would give.
    async fn log_end(&self) -> Result<helpdesk_log::Position, ApiError> {
        self.log
            .last_position()
            .await
            .map_err(|err| ApiError::unavailable(format!("the event log did not answer: {err}")))
    }

    /// Waits for the turn, then replays the levels (or reuses the last answer while the
    /// log has not moved).
    async fn levels(
        &self,
        mode: RecomputeMode,
        progress: &ReplayProgress<'_>,
    ) -> Result<(Arc<Found>, Turn), ApiError> {
        let mut last = self.last.clone().lock_owned().await;
        let end = self.log_end().await?;
        if let Some((_, found)) = last
            .levels
            .as_ref()
            .filter(|(m, found)| *m == mode && found.replayed_to == end)
        {
            let found = found.clone();
            return Ok((found, last));
        }
        let found = recompute::find(
            &self.engine,
            self.log.clone(),
            &self.data_dir,
            mode,
            progress,
        )
        .await
        .map_err(|err| match err {
            recompute::RecomputeError::Exec(err) => ApiError::from(err),
            other => ApiError::unavailable(other.to_string()),
        })?;
        let found = Arc::new(found);
        last.levels = Some((mode, found.clone()));
        Ok((found, last))
    }

    /// As [`Recomputes::levels`], for badges.
    async fn badges(
        &self,
        mode: RecomputeMode,
        progress: &ReplayProgress<'_>,
    ) -> Result<(Arc<recompute::FoundBadges>, Turn), ApiError> {
        let mut last = self.last.clone().lock_owned().await;
        let end = self.log_end().await?;
        if let Some((_, found)) = last
            .badges
            .as_ref()
            .filter(|(m, found)| *m == mode && found.replayed_to == end)
        {
            let found = found.clone();
            return Ok((found, last));
        }
        let found = recompute::find_badges(self.log.clone(), &self.data_dir, mode, progress)
            .await
            .map_err(|err| ApiError::unavailable(err.to_string()))?;
        let found = Arc::new(found);
        last.badges = Some((mode, found.clone()));
        Ok((found, last))
    }
}

impl Recomputes {
    /// A level recompute as an operation runs it: waits for the turn, replays (or reuses
    /// the last answer), and for an apply appends what it found, holding the turn until
    /// appended.
    async fn run_levels(
        &self,
        mode: RecomputeMode,
        applier: Applier,
        progress: Progress,
    ) -> Result<Outcome, Stop> {
        let (found, _turn) = progress
            .unless_cancelled(self.levels(mode, &replay_progress(&progress)))
            .await?;
        progress.replays_done();
        let mut out = found_pb(&found);
        let Some((principal, base)) = applier else {
            return Ok(Outcome::Level(out));
        };
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
        let commands = chunks.into_iter().map(|chunk| ("recompute", chunk.into()));
        out.applied = self.append(&progress, &principal, base, commands).await?;
        tracing::info!(
            operation = %progress.id(),
            ?mode,
            gained = out.gained.len(),
            lost = out.lost.len(),
            "level recompute applied"
        );
        Ok(Outcome::Level(out))
    }

    /// A badge recompute as an operation runs it (see [`Recomputes::run_levels`]).
    async fn run_badges(
        &self,
        mode: RecomputeMode,
        applier: Applier,
        progress: Progress,
    ) -> Result<Outcome, Stop> {
        let (found, _turn) = progress
            .unless_cancelled(self.badges(mode, &replay_progress(&progress)))
            .await?;
        progress.replays_done();
        let mut out = badge_changes_pb(&found);
        let Some((principal, base)) = applier else {
            return Ok(Outcome::Badge(out));
        };
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
        let commands = records.chunks(max).map(|chunk| {
            let command = RecomputeBadges {
                mode,
                evaluations: chunk.to_vec(),
            };
            ("badges", command.into())
        });
        out.applied = self.append(&progress, &principal, base, commands).await?;
        tracing::info!(
            operation = %progress.id(),
            ?mode,
            changes = out.changes.len(),
            "badge recompute applied"
        );
        Ok(Outcome::Badge(out))
    }

    /// Appends an apply's commands as `principal`, the i-th with an id derived from
    /// `base`, `<prefix>-<i>` (so a retry with the same command id dedupes). Cancelled
    /// before it, it appends nothing; from here on a cancel waits for the append.
    async fn append(
        &self,
        progress: &Progress,
        principal: &helpdesk_domain::Principal,
        base: Uuid,
        commands: impl Iterator<Item = (&'static str, helpdesk_domain::command::Command)>,
    ) -> Result<Vec<pb::CommandResponse>, Stop> {
        progress.appending()?;
        let mut applied = Vec::new();
        for (i, (prefix, command)) in commands.enumerate() {
            let parsed = ParsedCommand {
                command_id: Uuid::new_v5(&base, format!("{prefix}-{i}").as_bytes()),
                occurred_at: None,
                command,
            };
            let outcome = execute(&self.engine, principal, parsed, Instant::now()).await?;
            applied.push(response(outcome));
        }
        Ok(applied)
    }
}

/// Tells `progress` what the replay reached.
fn replay_progress(progress: &Progress) -> impl Fn(u64, u64) + Sync + '_ {
    |position, end| progress.replayed(position, end)
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

fn mode_pb(mode: RecomputeMode) -> pb::RecomputeMode {
    match mode {
        RecomputeMode::AsItHappened => pb::RecomputeMode::AsItHappened,
        RecomputeMode::TodaysDefinitions => pb::RecomputeMode::TodaysDefinitions,
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
                        (String::new(), name.clone(), Some(role_ref_pb(role)))
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
        let kind = Kind::Level(request.get_ref().clone());
        match self.run_unary(&request, kind, false).await? {
            pb::operation::Result::Level(found) => Ok(Response::new(found)),
            pb::operation::Result::Badge(_) => Err(wrong_result().into()),
        }
    }

    async fn apply_level_recompute(
        &self,
        request: Request<pb::LevelRecomputeRequest>,
    ) -> Result<Response<pb::LevelRecomputeResponse>, Status> {
        let kind = Kind::Level(request.get_ref().clone());
        match self.run_unary(&request, kind, true).await? {
            pb::operation::Result::Level(found) => Ok(Response::new(found)),
            pb::operation::Result::Badge(_) => Err(wrong_result().into()),
        }
    }

    async fn preview_badge_recompute(
        &self,
        request: Request<pb::BadgeRecomputeRequest>,
    ) -> Result<Response<pb::BadgeRecomputeResponse>, Status> {
        let kind = Kind::Badge(request.get_ref().clone());
        match self.run_unary(&request, kind, false).await? {
            pb::operation::Result::Badge(found) => Ok(Response::new(found)),
            pb::operation::Result::Level(_) => Err(wrong_result().into()),
        }
    }

    async fn apply_badge_recompute(
        &self,
        request: Request<pb::BadgeRecomputeRequest>,
    ) -> Result<Response<pb::BadgeRecomputeResponse>, Status> {
        let kind = Kind::Badge(request.get_ref().clone());
        match self.run_unary(&request, kind, true).await? {
            pb::operation::Result::Badge(found) => Ok(Response::new(found)),
            pb::operation::Result::Level(_) => Err(wrong_result().into()),
        }
    }

    async fn start_recompute(
        &self,
        request: Request<pb::StartRecomputeRequest>,
    ) -> Result<Response<pb::Operation>, Status> {
        let asked = request.get_ref();
        let kind = asked
            .kind
            .clone()
            .ok_or_else(|| ApiError::missing_field("kind"))?;
        let parent = match kind {
            Kind::Level(_) => "level",
            Kind::Badge(_) => "badge",
        };
        let prepared = self
            .prepare(&request, &kind, asked.apply)
            .map_err(|err| err.in_field(parent))?;
        Ok(Response::new(self.operations.start(
            prepared.kind,
            prepared.apply,
            prepared.mode,
            prepared.work,
        )))
    }

    async fn get_operation(
        &self,
        request: Request<pb::GetOperationRequest>,
    ) -> Result<Response<pb::Operation>, Status> {
        recompute_caller(&request)?;
        Ok(Response::new(self.operations.get(&request.get_ref().id)?))
    }

    type WatchOperationStream = OperationStream;

    async fn watch_operation(
        &self,
        request: Request<pb::WatchOperationRequest>,
    ) -> Result<Response<OperationStream>, Status> {
        let principal = recompute_caller(&request)?;
        let stream = self.operations.watch(&request.get_ref().id)?;
        let slot = self.access.open_stream(&principal)?;
        let headers = request.metadata().clone().into_headers();
        // The process's shutdown ends it, so that a graceful stop does not wait for
        // watchers (the operation is cancelled then too).
        let stream = stream.take_until(self.shutdown.clone().cancelled_owned());
        let still_may = |now: &helpdesk_domain::Principal| {
            if now.has(Permission::GamificationManage) {
                Ok(())
            } else {
                Err(ApiError::permission_denied(
                    "the caller no longer has the permission gamification.manage this \
                     stream was opened with",
                ))
            }
        };
        let stream = self.access.while_allowed(slot, headers, still_may, stream);
        Ok(Response::new(Box::pin(stream)))
    }

    async fn cancel_operation(
        &self,
        request: Request<pb::CancelOperationRequest>,
    ) -> Result<Response<pb::Operation>, Status> {
        recompute_caller(&request)?;
        let id = &request.get_ref().id;
        let operation = self.operations.cancel(id).await?;
        tracing::info!(operation = %id, state = operation.state, "operation cancel asked");
        Ok(Response::new(operation))
    }

    async fn list_operations(
        &self,
        request: Request<pb::ListOperationsRequest>,
    ) -> Result<Response<pb::ListOperationsResponse>, Status> {
        recompute_caller(&request)?;
        Ok(Response::new(pb::ListOperationsResponse {
            operations: self.operations.list(),
        }))
    }
}

fn wrong_result() -> ApiError {
    ApiError::internal("the recompute's operation answered for another kind of recompute")
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
        let recomputes = Recomputes {
            engine,
            log,
            data_dir: dir.path().to_owned(),
            last: Arc::default(),
        };
        // Each drops its turn as it answers (a preview does).
        let recomputes = &recomputes;
        let ask = |mode| async move {
            recomputes
                .levels(mode, &|_, _| {})
                .await
                .map(|(found, _turn)| found)
        };
        let (a, b) = tokio::join!(
            ask(RecomputeMode::AsItHappened),
            ask(RecomputeMode::AsItHappened)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(Arc::ptr_eq(&a, &b), "the second replayed the log again");
        // Another mode is another question.
        let other = ask(RecomputeMode::TodaysDefinitions).await.unwrap();
        assert!(!Arc::ptr_eq(&a, &other));
    }
}
