//! `helpdesk.v1.LevelService` over the levels read model.

use std::pin::Pin;
use std::sync::Arc;

use futures::{Stream, StreamExt};
use helpdesk_api::convert::{parse_optional_id, timestamp_from_millis};
use helpdesk_api::{pb, ApiError, LevelService};
use helpdesk_domain::state::Level;
use helpdesk_domain::Permission;
use helpdesk_projections::levels::{LevelUp, LevelsView, Reached};
use helpdesk_rules::condition::{Values, Variable};
use tokio_stream::wrappers::BroadcastStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::access::{caller, keeps_permissions_of, Access};
use crate::query::answer_cache::Answers;
use crate::query::preamble::{agent_or_caller, may_see_agent, reached, read};
use crate::query::ranking::{order_dry_run, rank_leaderboard, row_limit};

pub struct LevelApi {
    view: LevelsView,
    /// Ends a level-up stream whose caller may no longer watch.
    access: Arc<Access>,
    /// Ends the level-up streams when the process stops.
    shutdown: CancellationToken,
    /// The whole leaderboard, kept while the model has not moved.
    leaderboards: Answers<Vec<pb::LeaderboardRow>>,
}

impl LevelApi {
    pub fn new(view: LevelsView, access: Arc<Access>, shutdown: CancellationToken) -> Self {
        LevelApi {
            view,
            access,
            shutdown,
            leaderboards: Answers::default(),
        }
    }
}

fn level_pb(rank: u32, level: &Level) -> pb::Level {
    pb::Level {
        level_id: level.level_id.to_string(),
        rank,
        name: level.name.clone(),
        description: level.description.clone(),
        condition: level.condition.clone(),
    }
}

fn values_map(values: &Values) -> std::collections::HashMap<String, f64> {
    values
        .iter()
        .map(|(variable, value)| (variable.name().to_owned(), value))
        .collect()
}

fn reached_pb(rank: u32, level: &Level, reached: &Reached) -> pb::ReachedLevel {
    let mut values = Values::new();
    for (variable, value) in Variable::ALL.iter().zip(&reached.values) {
        values.set(*variable, *value);
    }
    pb::ReachedLevel {
        level: Some(level_pb(rank, level)),
        reached_at: Some(timestamp_from_millis(reached.at.millis())),
        values: values_map(&values),
    }
}

/// The level-ups of `WatchLevelUps`.
pub type LevelUpStream = Pin<Box<dyn Stream<Item = Result<pb::LevelUpEvent, Status>> + Send>>;

#[tonic::async_trait]
impl LevelService for LevelApi {
    async fn list_levels(
        &self,
        request: Request<pb::ListLevelsRequest>,
    ) -> Result<Response<pb::ListLevelsResponse>, Status> {
        caller(&request)?;
        let position = reached(self.view.handle(), request.get_ref().read.as_ref()).await?;
        let levels = read(&self.view, |view| view.ladder())
            .await?
            .iter()
            .enumerate()
            .map(|(i, l)| level_pb(i as u32 + 1, l))
            .collect();
        Ok(Response::new(pb::ListLevelsResponse { levels, position }))
    }

    async fn get_agent_level(
        &self,
        request: Request<pb::GetAgentLevelRequest>,
    ) -> Result<Response<pb::GetAgentLevelResponse>, Status> {
        let principal = caller(&request)?.principal;
        let request = request.into_inner();
        let agent = agent_or_caller(&principal, &request.agent_id)?;
        may_see_agent(&principal, agent)?;
        let position = reached(self.view.handle(), request.read.as_ref()).await?;
        let standing = read(&self.view, move |view| view.agent(agent))
            .await?
            .ok_or_else(|| ApiError::not_found(format!("agent {agent} not found")))?;
        Ok(Response::new(pb::GetAgentLevelResponse {
            agent_id: agent.to_string(),
            name: standing.name,
            level: standing
                .level
                .as_ref()
                .map(|(rank, level, r)| reached_pb(*rank, level, r)),
            reached: standing
                .reached
                .iter()
                .map(|(rank, level, r)| reached_pb(*rank, level, r))
                .collect(),
            position,
        }))
    }

    async fn get_level_progress(
        &self,
        request: Request<pb::GetLevelProgressRequest>,
    ) -> Result<Response<pb::GetLevelProgressResponse>, Status> {
        let principal = caller(&request)?.principal;
        let request = request.into_inner();
        let agent = agent_or_caller(&principal, &request.agent_id)?;
        may_see_agent(&principal, agent)?;
        let position = reached(self.view.handle(), request.read.as_ref()).await?;
        let progress = read(&self.view, move |view| view.progress(agent))
            .await?
            .ok_or_else(|| ApiError::not_found(format!("agent {agent} not found")))?;
        Ok(Response::new(pb::GetLevelProgressResponse {
            agent_id: agent.to_string(),
            next: progress.next.as_ref().map(|(rank, l)| level_pb(*rank, l)),
            parts: progress
                .parts
                .into_iter()
                .map(|p| pb::ConditionPart {
                    condition: p.condition,
                    holds: p.holds,
                    values: p
                        .values
                        .into_iter()
                        .map(|(v, x)| (v.name().to_owned(), x))
                        .collect(),
                    current: p.current,
                    target: p.target,
                    missing: p.missing,
                })
                .collect(),
            position,
        }))
    }

    async fn get_leaderboard(
        &self,
        request: Request<pb::GetLeaderboardRequest>,
    ) -> Result<Response<pb::GetLeaderboardResponse>, Status> {
        caller(&request)?;
        let request = request.into_inner();
        let limit = row_limit(request.limit)?;
        let position = reached(self.view.handle(), request.read.as_ref()).await?;
        let leaderboard = self
            .leaderboards
            .get_or_compute(position, Vec::new(), || {
                read(&self.view, |view| {
                    let mut rows: Vec<pb::LeaderboardRow> = view
                        .leaderboard()?
                        .into_iter()
                        .map(|row| pb::LeaderboardRow {
                            place: 0,
                            agent_id: row.agent.to_string(),
                            name: row.name,
                            level: Some(level_pb(row.rank, &row.level)),
                            reached_at: Some(timestamp_from_millis(row.reached_at.millis())),
                        })
                        .collect();
                    rank_leaderboard(&mut rows, usize::MAX);
                    Ok::<_, ApiError>(rows)
                })
            })
            .await?;
        let rows = leaderboard.iter().take(limit).cloned().collect();
        Ok(Response::new(pb::GetLeaderboardResponse { rows, position }))
    }

    async fn dry_run_condition(
        &self,
        request: Request<pb::DryRunConditionRequest>,
    ) -> Result<Response<pb::DryRunConditionResponse>, Status> {
        let principal = caller(&request)?.principal;
        if !principal.has(Permission::GamificationManage) {
            return Err(ApiError::permission_denied(
                "a dry run of a level condition needs the permission gamification.manage",
            )
            .into());
        }
        let request = request.into_inner();
        if request.condition.chars().count() > helpdesk_domain::limits::CONDITION_MAX_CHARS {
            return Err(ApiError::invalid_argument(
                "condition",
                format!(
                    "at most {} characters",
                    helpdesk_domain::limits::CONDITION_MAX_CHARS
                ),
            )
            .into());
        }
        let condition = helpdesk_rules::condition::compile(&request.condition)
            .map_err(|err| ApiError::invalid_argument("condition", err.to_string()))?;
        let position = reached(self.view.handle(), request.read.as_ref()).await?;
        let mut rows: Vec<pb::DryRunRow> = read(&self.view, |view| view.all_values())
            .await?
            .into_iter()
            .map(|(agent, name, values)| pb::DryRunRow {
                agent_id: agent.to_string(),
                name,
                qualifies: condition.holds(&values),
                value: condition.eval(&values),
            })
            .collect();
        order_dry_run(&mut rows);
        let qualifying = rows.iter().filter(|r| r.qualifies).count() as u32;
        Ok(Response::new(pb::DryRunConditionResponse {
            condition: condition.to_string(),
            rows,
            qualifying,
            position,
        }))
    }

    type WatchLevelUpsStream = LevelUpStream;

    async fn watch_level_ups(
        &self,
        request: Request<pb::WatchLevelUpsRequest>,
    ) -> Result<Response<LevelUpStream>, Status> {
        let principal = caller(&request)?.principal;
        let headers = request.metadata().clone().into_headers();
        let named: Option<Uuid> = parse_optional_id("agent_id", &request.get_ref().agent_id)?;
        // Everyone's needs reports.view; an agent without it hears about themself.
        let only: Option<Uuid> = match named {
            Some(agent) => {
                may_see_agent(&principal, agent)?;
                Some(agent)
            }
            None if principal.has(Permission::ReportsView) => None,
            None => Some(agent_or_caller(&principal, "")?),
        };
        let slot = self.access.open_stream(&principal)?;
        let notes = BroadcastStream::new(self.view.handle().notes());
        let stream = notes.filter_map(move |note| {
            let event = match note {
                Ok(note) => note.downcast::<LevelUp>().ok().and_then(|up| {
                    (only.is_none_or(|a| a == up.agent.uuid())).then(|| pb::LevelUpEvent {
                        agent_id: up.agent.to_string(),
                        level: Some(pb::Level {
                            level_id: up.level.to_string(),
                            rank: up.rank,
                            name: up.name.clone(),
                            description: up.message.clone(),
                            condition: String::new(),
                        }),
                        message: up.message.clone(),
                        reached_at: Some(timestamp_from_millis(up.at.millis())),
                        values: values_map(&up.values),
                        position: up.position,
                    })
                }),
                Err(lagged) => {
                    tracing::warn!("a level-up watcher fell behind: {lagged}");
                    None
                }
            };
            futures::future::ready(event.map(Ok))
        });
        // A stream never ends by itself: the process's shutdown ends it, so that a
        // graceful stop does not wait for watchers.
        let stream = stream.take_until(self.shutdown.clone().cancelled_owned());
        let stream =
            self.access
                .while_allowed(slot, headers, keeps_permissions_of(&principal), stream);
        Ok(Response::new(Box::pin(stream)))
    }
}
