//! `helpdesk.v1.BadgeService` over the badges read model.

use std::pin::Pin;
use std::sync::Arc;

use futures::{Stream, StreamExt};
use helpdesk_api::convert::{
    best_pb, parse_optional_id, statistic_pb, timestamp_from_millis, visibility_pb,
};
use helpdesk_api::{pb, ApiError, BadgeService};
use helpdesk_domain::{BadgeVisibility, Permission, Principal};
use helpdesk_projections::badges::{Award, BadgeDef, BadgesView, Evaluation};
use helpdesk_projections::calendar::{day_start, format_day};
use helpdesk_projections::stats::StatsView;
use tokio_stream::wrappers::BroadcastStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::access::{caller, keeps_permissions_of, Access};
use crate::query::preamble::{agent_or_caller, may_see_agent, reached, read};
use crate::query::ranking::row_limit;

pub struct BadgeApi {
    view: BadgesView,
    /// Ends an award stream whose caller may no longer watch.
    access: Arc<Access>,
    /// Ends the award streams when the process stops.
    shutdown: CancellationToken,
}

impl BadgeApi {
    pub fn new(view: BadgesView, access: Arc<Access>, shutdown: CancellationToken) -> Self {
        BadgeApi {
            view,
            access,
            shutdown,
        }
    }

    /// The organization's zone, to say when a midnight was (the badges model keeps the
    /// statistics' records, the zone among them).
    async fn zone(&self) -> jiff::tz::TimeZone {
        read(&self.view, |view| {
            StatsView::new(view.handle().clone()).today()
        })
        .await
        .map(|(zone, _)| zone)
        .unwrap_or(jiff::tz::TimeZone::UTC)
    }
}

fn badge_pb(def: &BadgeDef) -> pb::Badge {
    pb::Badge {
        key: def.key.clone(),
        name: def.name.clone(),
        description: def.description.clone(),
        image_url: def.image_url.clone().unwrap_or_default(),
        visibility: visibility_pb(def.visibility) as i32,
        enabled: def.enabled,
        builtin: def.builtin,
        statistic: def.statistic.map_or(0, |s| statistic_pb(s) as i32),
        best: best_pb(def.best) as i32,
        minimum: def.minimum,
        window_days: def.window_days,
    }
}

/// Whether `principal` sees who holds `def` other than themself.
fn sees_all_holders(principal: &Principal, def: &BadgeDef) -> bool {
    def.visibility == BadgeVisibility::Public || principal.has(Permission::ReportsView)
}

fn evaluation_pb(
    key: &str,
    evaluation: &Evaluation,
    zone: &jiff::tz::TimeZone,
    viewer: &Principal,
    def: &BadgeDef,
) -> pb::BadgeEvaluation {
    let me = viewer.agent.map(|a| a.uuid());
    let all = sees_all_holders(viewer, def);
    // A hidden badge tells a viewer who may not see its holders nothing of the others
    // either: the winning value only to a holder (it is their own), no runner-up, no count.
    let holds = evaluation.holders.iter().any(|h| Some(h.agent) == me);
    pb::BadgeEvaluation {
        badge_key: key.to_owned(),
        day: format_day(evaluation.day),
        evaluated_at: Some(timestamp_from_millis(
            day_start(evaluation.day, zone).millis(),
        )),
        window_from: format_day(evaluation.from),
        window_to: format_day(evaluation.to),
        holders: evaluation
            .holders
            .iter()
            .filter(|h| all || Some(h.agent) == me)
            .map(|h| pb::BadgeHolder {
                agent_id: h.agent.to_string(),
                value: h.value,
            })
            .collect(),
        value: evaluation.value.filter(|_| all || holds),
        runner_up: evaluation.runner_up.filter(|_| all),
        competitors: if all { evaluation.competitors } else { 0 },
    }
}

/// The awards of `WatchAwards`.
pub type AwardStream = Pin<Box<dyn Stream<Item = Result<pb::AwardEvent, Status>> + Send>>;

#[tonic::async_trait]
impl BadgeService for BadgeApi {
    async fn list_badges(
        &self,
        request: Request<pb::ListBadgesRequest>,
    ) -> Result<Response<pb::ListBadgesResponse>, Status> {
        let principal = caller(&request)?.principal;
        let position = reached(self.view.handle(), request.get_ref().read.as_ref()).await?;
        let zone = self.zone().await;
        let standings = read(&self.view, |view| {
            let mut standings = Vec::new();
            for (key, def) in view.definitions()? {
                let current = if def.enabled {
                    view.current(&key)?
                } else {
                    None
                };
                standings.push((key, def, current));
            }
            Ok::<_, ApiError>(standings)
        })
        .await?;
        let mut badges = Vec::new();
        for (key, def, current) in standings {
            badges.push(pb::BadgeStanding {
                badge: Some(badge_pb(&def)),
                current: current
                    .as_ref()
                    .map(|e| evaluation_pb(&key, e, &zone, &principal, &def)),
            });
        }
        Ok(Response::new(pb::ListBadgesResponse { badges, position }))
    }

    async fn get_agent_badges(
        &self,
        request: Request<pb::GetAgentBadgesRequest>,
    ) -> Result<Response<pb::GetAgentBadgesResponse>, Status> {
        let principal = caller(&request)?.principal;
        let request = request.into_inner();
        let agent = agent_or_caller(&principal, &request.agent_id)?;
        let limit = row_limit(request.limit)?;
        let position = reached(self.view.handle(), request.read.as_ref()).await?;
        let (known, definitions, held, history) = read(&self.view, move |view| {
            let known = StatsView::new(view.handle().clone())
                .agent(agent, helpdesk_projections::stats::Window::AllTime)?
                .is_some();
            Ok::<_, ApiError>((
                known,
                view.definitions()?,
                view.held_now(agent)?,
                view.agent_history(agent, limit)?,
            ))
        })
        .await?;
        if !known {
            return Err(ApiError::not_found(format!("agent {agent} not found")).into());
        }
        let zone = self.zone().await;
        // Someone else's `self_and_managers` badges need reports.view.
        let visible = |def: &BadgeDef| {
            principal.agent.is_some_and(|a| a.uuid() == agent) || sees_all_holders(&principal, def)
        };
        let holding = held
            .into_iter()
            .filter(|(def, _)| def.enabled && visible(def))
            .map(|(def, evaluation)| pb::BadgeStanding {
                current: Some(evaluation_pb(
                    &def.key,
                    &evaluation,
                    &zone,
                    &principal,
                    &def,
                )),
                badge: Some(badge_pb(&def)),
            })
            .collect();
        let history = history
            .into_iter()
            .filter_map(|(key, evaluation)| {
                let def = definitions.get(&key)?;
                visible(def).then(|| evaluation_pb(&key, &evaluation, &zone, &principal, def))
            })
            .collect();
        Ok(Response::new(pb::GetAgentBadgesResponse {
            agent_id: agent.to_string(),
            holding,
            history,
            position,
        }))
    }

    async fn get_badge_history(
        &self,
        request: Request<pb::GetBadgeHistoryRequest>,
    ) -> Result<Response<pb::GetBadgeHistoryResponse>, Status> {
        let principal = caller(&request)?.principal;
        let request = request.into_inner();
        if request.badge_key.is_empty() {
            return Err(ApiError::missing_field("badge_key").into());
        }
        let limit = row_limit(request.limit)?;
        let position = reached(self.view.handle(), request.read.as_ref()).await?;
        let key = request.badge_key.clone();
        let (definitions, history) = read(&self.view, move |view| {
            Ok::<_, ApiError>((view.definitions()?, view.history(&key, limit)?))
        })
        .await?;
        let def = definitions.get(&request.badge_key).ok_or_else(|| {
            ApiError::not_found(format!("badge {:?} not found", request.badge_key))
        })?;
        let zone = self.zone().await;
        let evaluations = history
            .iter()
            .map(|e| evaluation_pb(&request.badge_key, e, &zone, &principal, def))
            .collect();
        Ok(Response::new(pb::GetBadgeHistoryResponse {
            badge: Some(badge_pb(def)),
            evaluations,
            position,
        }))
    }

    type WatchAwardsStream = AwardStream;

    async fn watch_awards(
        &self,
        request: Request<pb::WatchAwardsRequest>,
    ) -> Result<Response<AwardStream>, Status> {
        let principal = caller(&request)?.principal;
        let headers = request.metadata().clone().into_headers();
        let still_may = keeps_permissions_of(&principal);
        let only: Option<Uuid> = parse_optional_id("agent_id", &request.get_ref().agent_id)?;
        if let Some(agent) = only {
            may_see_agent(&principal, agent)?;
        }
        let slot = self.access.open_stream(&principal)?;
        let zone = self.zone().await;
        let notes = BroadcastStream::new(self.view.handle().notes());
        let stream = notes.filter_map(move |note| {
            let event = match note {
                Ok(note) => note.downcast::<Award>().ok().and_then(|award| {
                    let me = principal.agent.map(|a| a.uuid());
                    let mine = me == Some(award.agent);
                    let wanted = only.is_none_or(|a| a == award.agent);
                    let visible = mine || sees_all_holders(&principal, &award.badge);
                    (wanted && visible).then(|| pb::AwardEvent {
                        agent_id: award.agent.to_string(),
                        badge: Some(badge_pb(&award.badge)),
                        evaluation: Some(evaluation_pb(
                            &award.badge.key,
                            &award.evaluation,
                            &zone,
                            &principal,
                            &award.badge,
                        )),
                    })
                }),
                Err(lagged) => {
                    tracing::warn!("an award watcher fell behind: {lagged}");
                    None
                }
            };
            futures::future::ready(event.map(Ok))
        });
        let stream = stream.take_until(self.shutdown.clone().cancelled_owned());
        let stream = self.access.while_allowed(slot, headers, still_may, stream);
        Ok(Response::new(Box::pin(stream)))
    }
}
