//! The query services of the gateway: each asks the replica that owns the key, the one
//! that knows the caller, or every replica, and answers with the merge of what they said
//! (`merge`). Limits are checked here as one replica checks them.

use std::pin::Pin;

use futures::Stream;
use helpdesk_api::pb;
use helpdesk_api::{
    ApiError, BadgeService, BadgeServiceClient, LevelService, LevelServiceClient, ReportService,
    ReportServiceClient, RosterService, RosterServiceClient, StatsService, StatsServiceClient,
    TicketService, TicketServiceClient,
};
use helpdesk_projections::reports::COLUMNS;
use tonic::metadata::MetadataMap;
use tonic::{Code, Request, Response, Status};

use super::merge;
use super::upstream::{ask, pass, Upstream};
use crate::query::ranking::{page_size, row_limit};
use crate::query::reports::{chart, column_index, csv_chunks, csv_stream, sort_rows, CsvStream};

// ------------------------------------------------------------------------------ tickets

pub struct TicketGateway(pub Upstream);

#[tonic::async_trait]
impl TicketService for TicketGateway {
    async fn get_ticket(
        &self,
        request: Request<pb::GetTicketRequest>,
    ) -> Result<Response<pb::GetTicketResponse>, Status> {
        let channel = self.0.owner_of(&request.get_ref().ticket_id);
        let message = request.get_ref().clone();
        TicketServiceClient::new(channel)
            .get_ticket(pass(request.metadata(), message))
            .await
    }

    async fn list_tickets(
        &self,
        request: Request<pb::ListTicketsRequest>,
    ) -> Result<Response<pb::ListTicketsResponse>, Status> {
        let message = request.get_ref().clone();
        let page_size = page_size(message.page_size)?;
        let metadata = request.metadata();
        let pages = self
            .0
            .every(ask!(
                TicketServiceClient,
                list_tickets,
                metadata,
                message.clone()
            ))
            .await?;
        Ok(Response::new(merge::ticket_page(pages, page_size)))
    }

    async fn count_tickets(
        &self,
        request: Request<pb::CountTicketsRequest>,
    ) -> Result<Response<pb::CountTicketsResponse>, Status> {
        let message = *request.get_ref();
        let metadata = request.metadata();
        let answers = self
            .0
            .every(ask!(TicketServiceClient, count_tickets, metadata, message))
            .await?;
        Ok(Response::new(merge::ticket_counts(answers)))
    }
}

// -------------------------------------------------------------------------------- stats

pub struct StatsGateway(pub Upstream);

#[tonic::async_trait]
impl StatsService for StatsGateway {
    async fn get_agent_stats(
        &self,
        request: Request<pb::GetAgentStatsRequest>,
    ) -> Result<Response<pb::GetAgentStatsResponse>, Status> {
        let message = request.get_ref().clone();
        let metadata = request.metadata();
        self.0
            .about_agent(
                &message.agent_id,
                ask!(
                    StatsServiceClient,
                    get_agent_stats,
                    metadata,
                    message.clone()
                ),
            )
            .await
    }

    async fn benchmark(
        &self,
        request: Request<pb::BenchmarkRequest>,
    ) -> Result<Response<pb::BenchmarkResponse>, Status> {
        let message = request.get_ref().clone();
        let limit = row_limit(message.limit)?;
        let metadata = request.metadata();
        let answers = self
            .0
            .every(ask!(
                StatsServiceClient,
                benchmark,
                metadata,
                message.clone()
            ))
            .await?;
        Ok(Response::new(merge::benchmark(
            answers,
            message.ascending,
            limit,
        )))
    }
}

// ------------------------------------------------------------------------------- levels

pub struct LevelGateway(pub Upstream);

/// The level-ups of every replica.
type LevelUpStream = Pin<Box<dyn Stream<Item = Result<pb::LevelUpEvent, Status>> + Send>>;

#[tonic::async_trait]
impl LevelService for LevelGateway {
    async fn list_levels(
        &self,
        request: Request<pb::ListLevelsRequest>,
    ) -> Result<Response<pb::ListLevelsResponse>, Status> {
        let message = *request.get_ref();
        LevelServiceClient::new(self.0.first())
            .list_levels(pass(request.metadata(), message))
            .await
    }

    async fn get_agent_level(
        &self,
        request: Request<pb::GetAgentLevelRequest>,
    ) -> Result<Response<pb::GetAgentLevelResponse>, Status> {
        let message = request.get_ref().clone();
        let metadata = request.metadata();
        self.0
            .about_agent(
                &message.agent_id,
                ask!(
                    LevelServiceClient,
                    get_agent_level,
                    metadata,
                    message.clone()
                ),
            )
            .await
    }

    async fn get_level_progress(
        &self,
        request: Request<pb::GetLevelProgressRequest>,
    ) -> Result<Response<pb::GetLevelProgressResponse>, Status> {
        let message = request.get_ref().clone();
        let metadata = request.metadata();
        self.0
            .about_agent(
                &message.agent_id,
                ask!(
                    LevelServiceClient,
                    get_level_progress,
                    metadata,
                    message.clone()
                ),
            )
            .await
    }

    async fn get_leaderboard(
        &self,
        request: Request<pb::GetLeaderboardRequest>,
    ) -> Result<Response<pb::GetLeaderboardResponse>, Status> {
        let message = *request.get_ref();
        let limit = row_limit(message.limit)?;
        let metadata = request.metadata();
        let answers = self
            .0
            .every(ask!(LevelServiceClient, get_leaderboard, metadata, message))
            .await?;
        Ok(Response::new(merge::leaderboard(answers, limit)))
    }

    async fn dry_run_condition(
        &self,
        request: Request<pb::DryRunConditionRequest>,
    ) -> Result<Response<pb::DryRunConditionResponse>, Status> {
        let message = request.get_ref().clone();
        let metadata = request.metadata();
        let answers = self
            .0
            .every(ask!(
                LevelServiceClient,
                dry_run_condition,
                metadata,
                message.clone()
            ))
            .await?;
        Ok(Response::new(merge::dry_run(answers)))
    }

    type WatchLevelUpsStream = LevelUpStream;

    async fn watch_level_ups(
        &self,
        request: Request<pb::WatchLevelUpsRequest>,
    ) -> Result<Response<LevelUpStream>, Status> {
        let message = request.get_ref().clone();
        let metadata = request.metadata();
        // Every agent's level-ups come from their own replica: the streams together are
        // every level-up.
        let streams = self
            .0
            .every(ask!(
                LevelServiceClient,
                watch_level_ups,
                metadata,
                message.clone()
            ))
            .await?;
        Ok(Response::new(Box::pin(futures::stream::select_all(
            streams,
        ))))
    }
}

// ------------------------------------------------------------------------------- badges

pub struct BadgeGateway(pub Upstream);

impl BadgeGateway {
    async fn standings(
        &self,
        metadata: &MetadataMap,
        read: Option<pb::ReadOptions>,
    ) -> Result<pb::ListBadgesResponse, Status> {
        let message = pb::ListBadgesRequest { read };
        let answers = self
            .0
            .every(ask!(BadgeServiceClient, list_badges, metadata, message))
            .await?;
        Ok(merge::badge_standings(answers))
    }

    async fn history(
        &self,
        metadata: &MetadataMap,
        message: pb::GetBadgeHistoryRequest,
    ) -> Result<pb::GetBadgeHistoryResponse, Status> {
        let limit = row_limit(message.limit)?;
        let answers = self
            .0
            .every(ask!(
                BadgeServiceClient,
                get_badge_history,
                metadata,
                message.clone()
            ))
            .await?;
        Ok(merge::badge_history(answers, limit))
    }
}

type AwardStream = Pin<Box<dyn Stream<Item = Result<pb::AwardEvent, Status>> + Send>>;

#[tonic::async_trait]
impl BadgeService for BadgeGateway {
    async fn list_badges(
        &self,
        request: Request<pb::ListBadgesRequest>,
    ) -> Result<Response<pb::ListBadgesResponse>, Status> {
        let standings = self
            .standings(request.metadata(), request.get_ref().read)
            .await?;
        Ok(Response::new(standings))
    }

    async fn get_agent_badges(
        &self,
        request: Request<pb::GetAgentBadgesRequest>,
    ) -> Result<Response<pb::GetAgentBadgesResponse>, Status> {
        let message = request.get_ref().clone();
        let limit = row_limit(message.limit)?;
        let metadata = request.metadata();
        // Who the agent is (and whether the caller may ask): the replica that knows them.
        let own = self
            .0
            .about_agent(
                &message.agent_id,
                ask!(
                    BadgeServiceClient,
                    get_agent_badges,
                    metadata,
                    message.clone()
                ),
            )
            .await?
            .into_inner();
        let standings = self.standings(metadata, message.read).await?;
        let mut histories = Vec::with_capacity(standings.badges.len());
        for badge in standings.badges.iter().filter_map(|s| s.badge.as_ref()) {
            let whole = pb::GetBadgeHistoryRequest {
                badge_key: badge.key.clone(),
                limit: crate::query::ranking::MAX_ROWS,
                read: None,
            };
            histories.push(self.history(metadata, whole).await?);
        }
        Ok(Response::new(merge::agent_badges(
            own.agent_id,
            standings.position.min(own.position),
            &standings.badges,
            histories,
            limit,
        )))
    }

    async fn get_badge_history(
        &self,
        request: Request<pb::GetBadgeHistoryRequest>,
    ) -> Result<Response<pb::GetBadgeHistoryResponse>, Status> {
        let message = request.get_ref().clone();
        Ok(Response::new(
            self.history(request.metadata(), message).await?,
        ))
    }

    type WatchAwardsStream = AwardStream;

    async fn watch_awards(
        &self,
        request: Request<pb::WatchAwardsRequest>,
    ) -> Result<Response<AwardStream>, Status> {
        if self.0.count() > 1 {
            // A replica awards among its own agents; who won among all is known only once
            // every replica has evaluated, which a stream cannot wait for.
            return Err(ApiError::failed_precondition(
                "the award stream needs the badges read model in one replica; with several, \
                 read the day's holders with ListBadges after midnight",
            )
            .into());
        }
        let message = request.get_ref().clone();
        let stream = BadgeServiceClient::new(self.0.first())
            .watch_awards(pass(request.metadata(), message))
            .await?
            .into_inner();
        Ok(Response::new(Box::pin(stream)))
    }
}

// ------------------------------------------------------------------------------ reports

pub struct ReportGateway(pub Upstream);

impl ReportGateway {
    /// Every replica's rows, added up by bucket and group, sorted as asked.
    async fn rows(
        &self,
        metadata: &MetadataMap,
        mut message: pb::ReportRequest,
    ) -> Result<(Vec<pb::ReportRow>, u64), Status> {
        let sort = crate::query::reports::sort_column(&message)?;
        let ascending = message.ascending;
        message.sort_by.clear();
        let answers = self
            .0
            .every(ask!(
                ReportServiceClient,
                get_report,
                metadata,
                message.clone()
            ))
            .await?;
        let (mut rows, position) = merge::report_rows(answers)?;
        sort_rows(&mut rows, sort, ascending);
        Ok((rows, position))
    }
}

#[tonic::async_trait]
impl ReportService for ReportGateway {
    async fn get_report(
        &self,
        request: Request<pb::ReportRequest>,
    ) -> Result<Response<pb::ReportResponse>, Status> {
        let message = request.get_ref().clone();
        let (rows, position) = self.rows(request.metadata(), message).await?;
        Ok(Response::new(pb::ReportResponse {
            columns: COLUMNS.iter().map(|c| (*c).to_owned()).collect(),
            rows,
            position,
        }))
    }

    type ExportReportCsvStream = CsvStream;

    async fn export_report_csv(
        &self,
        request: Request<pb::ReportRequest>,
    ) -> Result<Response<CsvStream>, Status> {
        // Exporting needs reports.export, which only the replicas can check: ask one with
        // a request it refuses after checking the permission (an empty range). Only that
        // refusal (INVALID_ARGUMENT) lets the export go on: any other answer, a failure to
        // ask included, refuses it (fail closed).
        let probe = ReportServiceClient::new(self.0.first())
            .export_report_csv(pass(request.metadata(), pb::ReportRequest::default()))
            .await;
        may_export(probe.map(|_| ()))?;
        let message = request.get_ref().clone();
        let (rows, _) = self.rows(request.metadata(), message).await?;
        Ok(Response::new(csv_stream(csv_chunks(&rows))))
    }

    async fn get_chart_series(
        &self,
        request: Request<pb::ChartRequest>,
    ) -> Result<Response<pb::ChartResponse>, Status> {
        let chart_request = request.get_ref().clone();
        let report = chart_request
            .report
            .ok_or_else(|| ApiError::missing_field("report"))?;
        let column = column_index("column", &chart_request.column)?;
        let (rows, position) = self.rows(request.metadata(), report).await?;
        Ok(Response::new(chart(
            &rows,
            column,
            chart_request.column,
            position,
        )))
    }
}

// ------------------------------------------------------------------------------- roster

pub struct RosterGateway(pub Upstream);

/// The presence changes of every replica.
type PresenceStream = Pin<Box<dyn Stream<Item = Result<pb::PresenceChange, Status>> + Send>>;

#[tonic::async_trait]
impl RosterService for RosterGateway {
    async fn list_agents(
        &self,
        request: Request<pb::ListAgentsRequest>,
    ) -> Result<Response<pb::ListAgentsResponse>, Status> {
        let message = request.get_ref().clone();
        let metadata = request.metadata();
        let answers = self
            .0
            .every(ask!(
                RosterServiceClient,
                list_agents,
                metadata,
                message.clone()
            ))
            .await?;
        Ok(Response::new(merge::roster(answers)))
    }

    async fn get_agent(
        &self,
        request: Request<pb::GetAgentRequest>,
    ) -> Result<Response<pb::GetAgentResponse>, Status> {
        let message = request.get_ref().clone();
        let metadata = request.metadata();
        self.0
            .about_agent(
                &message.agent_id,
                ask!(RosterServiceClient, get_agent, metadata, message.clone()),
            )
            .await
    }

    type WatchPresenceStream = PresenceStream;

    async fn watch_presence(
        &self,
        request: Request<pb::WatchPresenceRequest>,
    ) -> Result<Response<PresenceStream>, Status> {
        let message = request.get_ref().clone();
        let metadata = request.metadata();
        // Every agent's changes come from their own replica: the streams together are
        // every change.
        let streams = self
            .0
            .every(ask!(
                RosterServiceClient,
                watch_presence,
                metadata,
                message.clone()
            ))
            .await?;
        Ok(Response::new(Box::pin(futures::stream::select_all(
            streams,
        ))))
    }
}

/// Whether the answer to the export probe (a CSV export of no dates) lets the export go
/// on: only its refusal for the missing dates (INVALID_ARGUMENT), which comes after the
/// permission check. Anything else refuses the export (fail closed).
fn may_export(probe: Result<(), Status>) -> Result<(), Status> {
    match probe {
        Err(status) if status.code() == Code::InvalidArgument => Ok(()),
        Err(status) => Err(status),
        Ok(()) => Err(ApiError::internal(
            "a replica exported a report of no dates: is it a helpdesk of this version?",
        )
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_export_probe_fails_closed() {
        assert!(may_export(Err(Status::invalid_argument("from: missing"))).is_ok());
        for code in [
            Code::PermissionDenied,
            Code::Unauthenticated,
            Code::Unavailable,
            Code::ResourceExhausted,
            Code::DeadlineExceeded,
            Code::Internal,
        ] {
            let refused = may_export(Err(Status::new(code, "no"))).expect_err("refused");
            assert_eq!(refused.code(), code);
        }
        assert!(may_export(Ok(())).is_err());
    }
}
