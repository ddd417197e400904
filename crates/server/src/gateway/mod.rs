//! `helpdesk gateway`: one address for clients in front of a split deployment.
//!
//! It holds no data and no log connection. The command and admin services are passed
//! through as they are. Queries go to the partition that owns their key (a ticket, an
//! agent), or to every partition, and the answers are merged: ticket lists newest first
//! across partitions, per-department counts added, benchmarks and the level leaderboard
//! re-ranked, badge evaluations merged (the best value of all, every agent tied at it,
//! the best of the rest as runner-up), reports added up from their sums. Every upstream
//! authenticates and authorizes the caller itself: the gateway passes the
//! `authorization` metadata on.
//!
//! The partition map is configuration: `--route <model>=<url>[,<url>…]`, the URLs in
//! partition order (the replica started with `--partition i/N` is the i-th of N).

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use anyhow::{bail, Context as _};
use futures::future::try_join_all;
use futures::Stream;
use helpdesk_api::pb;
use helpdesk_api::{
    BadgeService, BadgeServiceClient, BadgeServiceServer, LevelService, LevelServiceClient,
    LevelServiceServer, ReportService, ReportServiceClient, ReportServiceServer, StatsService,
    StatsServiceClient, StatsServiceServer, TicketService, TicketServiceClient,
    TicketServiceServer,
};
use helpdesk_projections::reports::{Columns, COLUMNS};
use helpdesk_projections::tickets::Cursor;
use helpdesk_projections::Partition;
use tonic::codegen::http;
use tonic::metadata::MetadataMap;
use tonic::server::NamedService;
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status};
use uuid::Uuid;

use crate::ops::grpc::MAX_MESSAGE_BYTES;
use crate::ops::metrics::OpsArgs;
use crate::ops::process::{self, Process};
use crate::query::reports::{chart, column_index, csv_chunks, csv_stream, sort_rows, too_many, CsvStream};
use crate::ops::security::{ConcurrencyArgs, TlsArgs};

#[derive(Debug, clap::Args)]
pub struct GatewayArgs {
    /// The address clients connect to.
    #[arg(long, env = "HELPDESK_LISTEN", default_value = "127.0.0.1:50051")]
    listen: SocketAddr,

    /// Where a service's replicas are: `commands=<url>` for the command side, and for
    /// the read models `tickets=`, `stats=`, `levels=`, `badges=`, `reports=` followed by
    /// the URLs of the partitions in order (`…=http://a:50052,http://b:50052` for 0/2 and
    /// 1/2). Repeat the option once per service.
    #[arg(long = "route", value_name = "SERVICE=URL[,URL…]", required = true, value_parser = parse_route)]
    routes: Vec<(String, Vec<String>)>,

    /// The PEM file of the CA that signed the certificates of the `https://` routes.
    #[arg(long, env = "HELPDESK_UPSTREAM_CA", value_name = "PEM")]
    upstream_ca: Option<std::path::PathBuf>,

    #[command(flatten)]
    tls: TlsArgs,

    // No rate limit per principal here: the servers behind the gateway keep it, they know
    // who calls.
    #[command(flatten)]
    limits: ConcurrencyArgs,

    #[command(flatten)]
    ops: OpsArgs,
}

const SERVICES: [&str; 6] = [
    "commands", "tickets", "stats", "levels", "badges", "reports",
];

fn parse_route(value: &str) -> Result<(String, Vec<String>), String> {
    let (service, urls) = value
        .split_once('=')
        .ok_or_else(|| format!("a route is SERVICE=URL[,URL…], got {value:?}"))?;
    if !SERVICES.contains(&service) {
        return Err(format!(
            "unknown service {service:?}: one of {}",
            SERVICES.join(", ")
        ));
    }
    let urls: Vec<String> = urls.split(',').map(str::trim).map(str::to_owned).collect();
    if urls
        .iter()
        .any(|u| !u.starts_with("http://") && !u.starts_with("https://"))
    {
        return Err(format!(
            "{service}: URLs start with http:// or https://, got {urls:?}"
        ));
    }
    if service == "commands" && urls.len() != 1 {
        return Err("commands: one URL (the command services share nothing to split)".into());
    }
    Ok((service.to_owned(), urls))
}

/// The replicas of one read model, in partition order.
#[derive(Clone)]
struct Upstream {
    channels: Vec<Channel>,
}

impl Upstream {
    fn count(&self) -> u32 {
        self.channels.len() as u32
    }

    /// The replica that owns `key`.
    fn owner(&self, key: Uuid) -> Channel {
        let count = self.count();
        (0..count)
            .find(|index| {
                Partition {
                    index: *index,
                    count,
                }
                .owns(key)
            })
            .map(|index| self.channels[index as usize].clone())
            .unwrap_or_else(|| self.channels[0].clone())
    }

    fn first(&self) -> Channel {
        self.channels[0].clone()
    }
}

/// `message` with the caller's credentials (and deadline) passed on.
fn pass<T>(metadata: &MetadataMap, message: T) -> Request<T> {
    let mut request = Request::new(message);
    for key in ["authorization", "grpc-timeout"] {
        if let Some(value) = metadata.get(key) {
            request.metadata_mut().insert(key, value.clone());
        }
    }
    request
}

/// A closure asking one replica `$method` with `$message` and the caller's metadata.
macro_rules! ask {
    ($client:ident, $method:ident, $metadata:expr, $message:expr) => {
        |channel| {
            let request = pass($metadata, $message);
            async move { $client::new(channel).$method(request).await }
        }
    };
}

/// Asks every replica; the first error stops it.
async fn every<T, F, Fut>(upstream: &Upstream, ask: F) -> Result<Vec<T>, Status>
where
    F: Fn(Channel) -> Fut,
    Fut: Future<Output = Result<Response<T>, Status>>,
{
    let answers = try_join_all(upstream.channels.iter().cloned().map(ask)).await?;
    Ok(answers.into_iter().map(Response::into_inner).collect())
}

/// How far a merged answer has read: as far as the least advanced replica it merges.
fn read_as_far<T>(answers: &[T], position: impl Fn(&T) -> u64) -> u64 {
    answers.iter().map(position).min().unwrap_or(0)
}

/// For a query about the caller's own agent (whose partition the gateway cannot know):
/// the answer of the replica that knows the agent.
async fn whoever_knows<T, F, Fut>(upstream: &Upstream, ask: F) -> Result<Response<T>, Status>
where
    F: Fn(Channel) -> Fut,
    Fut: Future<Output = Result<Response<T>, Status>>,
{
    let answers = futures::future::join_all(upstream.channels.iter().cloned().map(ask)).await;
    let mut not_found = None;
    for answer in answers {
        match answer {
            Ok(response) => return Ok(response),
            Err(status) if status.code() == Code::NotFound => not_found = Some(status),
            Err(status) => return Err(status),
        }
    }
    Err(not_found.unwrap_or_else(|| Status::not_found("agent not found")))
}

/// The replica for a query about `agent_id` (empty: the caller's own agent).
async fn about_agent<T, F, Fut>(
    upstream: &Upstream,
    agent_id: &str,
    ask: F,
) -> Result<Response<T>, Status>
where
    F: Fn(Channel) -> Fut,
    Fut: Future<Output = Result<Response<T>, Status>>,
{
    match Uuid::parse_str(agent_id) {
        Ok(agent) => ask(upstream.owner(agent)).await,
        // Empty (the caller) or malformed (the replica names the field).
        Err(_) if agent_id.is_empty() => whoever_knows(upstream, ask).await,
        Err(_) => ask(upstream.first()).await,
    }
}

// ------------------------------------------------------------------------------ tickets

struct TicketGateway(Upstream);

#[tonic::async_trait]
impl TicketService for TicketGateway {
    async fn get_ticket(
        &self,
        request: Request<pb::GetTicketRequest>,
    ) -> Result<Response<pb::GetTicketResponse>, Status> {
        let channel = match Uuid::parse_str(&request.get_ref().ticket_id) {
            Ok(id) => self.0.owner(id),
            Err(_) => self.0.first(),
        };
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
        let metadata = request.metadata();
        let pages = every(
            &self.0,
            ask!(TicketServiceClient, list_tickets, metadata, message.clone()),
        )
        .await?;
        let page_size = if message.page_size == 0 {
            100
        } else {
            message.page_size as usize
        };
        let more = pages.iter().any(|p| !p.next_page_token.is_empty());
        let position = read_as_far(&pages, |p| p.position);
        let key = |t: &pb::Ticket| {
            let millis = t
                .created_at
                .map_or(0, |c| c.seconds * 1000 + i64::from(c.nanos) / 1_000_000);
            (millis, Uuid::parse_str(&t.ticket_id).unwrap_or_default())
        };
        let mut tickets: Vec<pb::Ticket> = pages.into_iter().flat_map(|p| p.tickets).collect();
        // Newest first, as every partition lists them.
        tickets.sort_by_key(|t| std::cmp::Reverse(key(t)));
        let cut = tickets.len() > page_size;
        tickets.truncate(page_size);
        let next_page_token = match tickets.last() {
            Some(last) if cut || more => {
                let (millis, id) = key(last);
                Cursor {
                    created_at: helpdesk_domain::Timestamp::from_millis(millis),
                    id,
                }
                .encode()
            }
            _ => String::new(),
        };
        Ok(Response::new(pb::ListTicketsResponse {
            tickets,
            next_page_token,
            position,
        }))
    }

    async fn count_tickets(
        &self,
        request: Request<pb::CountTicketsRequest>,
    ) -> Result<Response<pb::CountTicketsResponse>, Status> {
        let message = *request.get_ref();
        let metadata = request.metadata();
        let answers = every(
            &self.0,
            ask!(TicketServiceClient, count_tickets, metadata, message),
        )
        .await?;
        let position = read_as_far(&answers, |a| a.position);
        let mut sums: BTreeMap<String, pb::DepartmentTicketCounts> = BTreeMap::new();
        for department in answers.into_iter().flat_map(|a| a.departments) {
            let sum = sums
                .entry(department.department_id.clone())
                .or_insert_with(|| pb::DepartmentTicketCounts {
                    department_id: department.department_id.clone(),
                    name: department.name.clone(),
                    ..Default::default()
                });
            sum.new += department.new;
            sum.open += department.open;
            sum.resolved += department.resolved;
            sum.awaiting_customer += department.awaiting_customer;
        }
        Ok(Response::new(pb::CountTicketsResponse {
            departments: sums.into_values().collect(),
            position,
        }))
    }
}

// -------------------------------------------------------------------------------- stats

struct StatsGateway(Upstream);

#[tonic::async_trait]
impl StatsService for StatsGateway {
    async fn get_agent_stats(
        &self,
        request: Request<pb::GetAgentStatsRequest>,
    ) -> Result<Response<pb::GetAgentStatsResponse>, Status> {
        let message = request.get_ref().clone();
        let metadata = request.metadata();
        about_agent(
            &self.0,
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
        let metadata = request.metadata();
        let answers = every(
            &self.0,
            ask!(StatsServiceClient, benchmark, metadata, message.clone()),
        )
        .await?;
        let limit = if message.limit == 0 {
            100
        } else {
            message.limit as usize
        };
        let position = read_as_far(&answers, |a| a.position);
        let (from, to) = answers
            .first()
            .map(|a| (a.from.clone(), a.to.clone()))
            .unwrap_or_default();
        let mut rows: Vec<pb::BenchmarkRow> = answers.into_iter().flat_map(|a| a.rows).collect();
        rows.sort_by(|a, b| {
            let order = a.value.total_cmp(&b.value);
            let order = if message.ascending {
                order
            } else {
                order.reverse()
            };
            order
                .then(a.name.cmp(&b.name))
                .then(a.agent_id.cmp(&b.agent_id))
        });
        rows.truncate(limit);
        // Ties share the place of the first of them, as in one replica's answer.
        let mut place = 0;
        let mut previous = None;
        for (i, row) in rows.iter_mut().enumerate() {
            if previous != Some(row.value) {
                place = i as u32 + 1;
                previous = Some(row.value);
            }
            row.place = place;
        }
        Ok(Response::new(pb::BenchmarkResponse {
            rows,
            from,
            to,
            position,
        }))
    }
}

// ------------------------------------------------------------------------------- levels

struct LevelGateway(Upstream);

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
        about_agent(
            &self.0,
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
        about_agent(
            &self.0,
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
        let metadata = request.metadata();
        let answers = every(
            &self.0,
            ask!(LevelServiceClient, get_leaderboard, metadata, message),
        )
        .await?;
        let limit = if message.limit == 0 {
            100
        } else {
            message.limit as usize
        };
        let position = read_as_far(&answers, |a| a.position);
        let mut rows: Vec<pb::LeaderboardRow> = answers.into_iter().flat_map(|a| a.rows).collect();
        let rank = |r: &pb::LeaderboardRow| r.level.as_ref().map_or(0, |l| l.rank);
        let when = |r: &pb::LeaderboardRow| r.reached_at.map(|t| (t.seconds, t.nanos));
        rows.sort_by(|a, b| {
            rank(b)
                .cmp(&rank(a))
                .then(when(a).cmp(&when(b)))
                .then(a.agent_id.cmp(&b.agent_id))
        });
        rows.truncate(limit);
        for (i, row) in rows.iter_mut().enumerate() {
            row.place = i as u32 + 1;
        }
        Ok(Response::new(pb::GetLeaderboardResponse { rows, position }))
    }

    async fn dry_run_condition(
        &self,
        request: Request<pb::DryRunConditionRequest>,
    ) -> Result<Response<pb::DryRunConditionResponse>, Status> {
        let message = request.get_ref().clone();
        let metadata = request.metadata();
        let answers = every(
            &self.0,
            ask!(
                LevelServiceClient,
                dry_run_condition,
                metadata,
                message.clone()
            ),
        )
        .await?;
        let position = read_as_far(&answers, |a| a.position);
        let condition = answers
            .first()
            .map(|a| a.condition.clone())
            .unwrap_or_default();
        let qualifying = answers.iter().map(|a| a.qualifying).sum();
        let mut rows: Vec<pb::DryRunRow> = answers.into_iter().flat_map(|a| a.rows).collect();
        rows.sort_by(|a, b| b.qualifies.cmp(&a.qualifies).then(a.name.cmp(&b.name)));
        Ok(Response::new(pb::DryRunConditionResponse {
            condition,
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
        let message = request.get_ref().clone();
        let metadata = request.metadata();
        // Every agent's level-ups come from their own replica: the streams together are
        // every level-up.
        let streams = every(
            &self.0,
            ask!(
                LevelServiceClient,
                watch_level_ups,
                metadata,
                message.clone()
            ),
        )
        .await?;
        Ok(Response::new(Box::pin(futures::stream::select_all(
            streams,
        ))))
    }
}

// ------------------------------------------------------------------------------- badges

struct BadgeGateway(Upstream);

/// One evaluation from the evaluations of every replica at the same midnight: the best
/// value of all, every agent tied at it, the best of the rest as runner-up.
fn merge_evaluations(best: i32, parts: Vec<pb::BadgeEvaluation>) -> Option<pb::BadgeEvaluation> {
    let min = best == pb::BadgeBest::Min as i32;
    let better = |a: u64, b: u64| if min { a < b } else { a > b };
    let pick = |values: &mut dyn Iterator<Item = u64>| {
        values.reduce(|a, b| if better(b, a) { b } else { a })
    };
    let mut first = parts.first()?.clone();
    let value = pick(&mut parts.iter().filter_map(|p| p.value));
    first.holders = match value {
        // A statistic badge: the replicas' holders tied at the best value.
        Some(value) => parts
            .iter()
            .filter(|p| p.value == Some(value))
            .flat_map(|p| p.holders.clone())
            .collect(),
        // The clover (no values): every replica's lucky agents.
        None => parts.iter().flat_map(|p| p.holders.clone()).collect(),
    };
    first.holders.sort_by(|a, b| a.agent_id.cmp(&b.agent_id));
    first.runner_up = pick(
        &mut parts
            .iter()
            .flat_map(|p| [p.runner_up, p.value.filter(|v| Some(*v) != value)])
            .flatten(),
    );
    first.value = value;
    first.competitors = parts.iter().map(|p| p.competitors).sum();
    Some(first)
}

impl BadgeGateway {
    /// Every badge with its merged current evaluation (the latest midnight every replica
    /// has evaluated).
    async fn standings(
        &self,
        metadata: &MetadataMap,
        read: Option<pb::ReadOptions>,
    ) -> Result<(Vec<pb::BadgeStanding>, u64), Status> {
        let answers = every(
            &self.0,
            ask!(
                BadgeServiceClient,
                list_badges,
                metadata,
                pb::ListBadgesRequest { read }
            ),
        )
        .await?;
        let position = read_as_far(&answers, |a| a.position);
        let mut by_key: BTreeMap<String, (pb::Badge, Vec<pb::BadgeEvaluation>)> = BTreeMap::new();
        for standing in answers.into_iter().flat_map(|a| a.badges) {
            let badge = standing.badge.unwrap_or_default();
            let entry = by_key
                .entry(badge.key.clone())
                .or_insert_with(|| (badge.clone(), Vec::new()));
            entry.1.extend(standing.current);
        }
        let standings = by_key
            .into_values()
            .map(|(badge, evaluations)| {
                let day = evaluations
                    .iter()
                    .map(|e| e.day.clone())
                    .min()
                    .unwrap_or_default();
                let same_day: Vec<_> = evaluations.into_iter().filter(|e| e.day == day).collect();
                pb::BadgeStanding {
                    current: merge_evaluations(badge.best, same_day),
                    badge: Some(badge),
                }
            })
            .collect();
        Ok((standings, position))
    }

    /// A badge's merged history, newest first.
    async fn history(
        &self,
        metadata: &MetadataMap,
        message: pb::GetBadgeHistoryRequest,
    ) -> Result<pb::GetBadgeHistoryResponse, Status> {
        let answers = every(
            &self.0,
            ask!(
                BadgeServiceClient,
                get_badge_history,
                metadata,
                message.clone()
            ),
        )
        .await?;
        let position = read_as_far(&answers, |a| a.position);
        let badge = answers.first().and_then(|a| a.badge.clone());
        let best = badge.as_ref().map_or(0, |b| b.best);
        let mut by_day: BTreeMap<String, Vec<pb::BadgeEvaluation>> = BTreeMap::new();
        for evaluation in answers.into_iter().flat_map(|a| a.evaluations) {
            by_day
                .entry(evaluation.day.clone())
                .or_default()
                .push(evaluation);
        }
        let limit = if message.limit == 0 {
            100
        } else {
            message.limit as usize
        };
        let evaluations = by_day
            .into_values()
            .rev()
            .filter_map(|parts| merge_evaluations(best, parts))
            .take(limit)
            .collect();
        Ok(pb::GetBadgeHistoryResponse {
            badge,
            evaluations,
            position,
        })
    }
}

type AwardStream = Pin<Box<dyn Stream<Item = Result<pb::AwardEvent, Status>> + Send>>;

#[tonic::async_trait]
impl BadgeService for BadgeGateway {
    async fn list_badges(
        &self,
        request: Request<pb::ListBadgesRequest>,
    ) -> Result<Response<pb::ListBadgesResponse>, Status> {
        let (badges, position) = self
            .standings(request.metadata(), request.get_ref().read)
            .await?;
        Ok(Response::new(pb::ListBadgesResponse { badges, position }))
    }

    async fn get_agent_badges(
        &self,
        request: Request<pb::GetAgentBadgesRequest>,
    ) -> Result<Response<pb::GetAgentBadgesResponse>, Status> {
        let message = request.get_ref().clone();
        let metadata = request.metadata();
        // Who the agent is (and whether the caller may ask): the replica that knows them.
        let own = about_agent(
            &self.0,
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
        let agent = own.agent_id.clone();
        let (standings, position) = self.standings(metadata, message.read).await?;
        let holds = |e: &pb::BadgeEvaluation| e.holders.iter().any(|h| h.agent_id == agent);
        let holding = standings
            .iter()
            .filter(|s| s.badge.as_ref().is_some_and(|b| b.enabled))
            .filter(|s| s.current.as_ref().is_some_and(holds))
            .cloned()
            .collect();
        let limit = if message.limit == 0 {
            100
        } else {
            message.limit as usize
        };
        let mut history = Vec::new();
        for standing in &standings {
            let Some(badge) = &standing.badge else {
                continue;
            };
            let merged = self
                .history(
                    metadata,
                    pb::GetBadgeHistoryRequest {
                        badge_key: badge.key.clone(),
                        limit: 10_000,
                        read: None,
                    },
                )
                .await?;
            history.extend(merged.evaluations.into_iter().filter(|e| holds(e)));
        }
        history.sort_by(|a, b| {
            b.day
                .cmp(&a.day)
                .then_with(|| a.badge_key.cmp(&b.badge_key))
        });
        history.truncate(limit);
        Ok(Response::new(pb::GetAgentBadgesResponse {
            agent_id: agent,
            holding,
            history,
            position: position.min(own.position),
        }))
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
            return Err(Status::failed_precondition(
                "the award stream needs the badges read model in one replica; with several, \
                 read the day's holders with ListBadges after midnight",
            ));
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

struct ReportGateway(Upstream);

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
        let answers = every(
            &self.0,
            ask!(ReportServiceClient, get_report, metadata, message.clone()),
        )
        .await?;
        let position = read_as_far(&answers, |a| a.position);
        let mut sums: BTreeMap<(Option<i64>, String, String), (pb::ReportRow, Columns)> =
            BTreeMap::new();
        for row in answers.into_iter().flat_map(|a| a.rows) {
            let key = (
                row.bucket_start.map(|t| t.seconds),
                row.bucket.clone(),
                row.group_id.clone(),
            );
            let entry = sums
                .entry(key)
                .or_insert_with(|| (row.clone(), Columns::default()));
            entry.1.add(&Columns::from_sums(&row.sums));
        }
        let mut rows: Vec<pb::ReportRow> = sums
            .into_values()
            .map(|(mut row, columns)| {
                row.values = columns.report().to_vec();
                row.sums = columns.to_sums();
                row
            })
            .collect();
        if rows.len() > crate::query::reports::MAX_ROWS {
            return Err(too_many(rows.len()).into());
        }
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
        // a request it refuses after checking the permission (an empty range).
        let probe = ReportServiceClient::new(self.0.first())
            .export_report_csv(pass(request.metadata(), pb::ReportRequest::default()))
            .await;
        if let Err(status) = probe {
            if matches!(
                status.code(),
                Code::PermissionDenied | Code::Unauthenticated
            ) {
                return Err(status);
            }
        }
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
            .ok_or_else(|| Status::invalid_argument("field `report`: is required"))?;
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

// ------------------------------------------------------------------- passed-through services

macro_rules! pass_through {
    ($($name:ident => $service:literal,)*) => {$(
        /// Passes every call of the service to the command side as it is.
        #[derive(Clone)]
        struct $name(Channel);

        impl NamedService for $name {
            const NAME: &'static str = $service;
        }

        impl tower::Service<http::Request<tonic::body::Body>> for $name {
            type Response = http::Response<tonic::body::Body>;
            type Error = Infallible;
            type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

            fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
                Poll::Ready(Ok(()))
            }

            fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
                let channel = self.0.clone();
                Box::pin(async move {
                    match tower::ServiceExt::oneshot(channel, request).await {
                        Ok(response) => Ok(response),
                        Err(err) => Ok(Status::unavailable(format!(
                            "the command service does not answer: {err}; retry with the same command_id"
                        ))
                        .into_http()),
                    }
                })
            }
        }
    )*};
}

pass_through! {
    CommandPassThrough => "helpdesk.v1.CommandService",
    AdminPassThrough => "helpdesk.v1.AdminService",
}

// -------------------------------------------------------------------------------- serving

pub async fn run(args: GatewayArgs) -> anyhow::Result<()> {
    let mut routes: HashMap<String, Upstream> = HashMap::new();
    for (service, urls) in &args.routes {
        let channels = urls
            .iter()
            .map(|url| {
                let endpoint =
                    match helpdesk_api::client::endpoint(url, args.upstream_ca.as_deref()) {
                        Err(helpdesk_api::client::ConnectError::NoCa) => bail!(
                        "{service}: {url} is https://: give the CA that signed its certificate \
                         with --upstream-ca"
                    ),
                        endpoint => endpoint.with_context(|| format!("--route {service}"))?,
                    };
                Ok(endpoint.connect_lazy())
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        if routes
            .insert(service.clone(), Upstream { channels })
            .is_some()
        {
            bail!("--route {service}=… is given twice");
        }
    }
    let transport = crate::ops::grpc::Transport::from_args(&args.tls, &args.limits)?;
    let (health_reporter, health) = tonic_health::server::health_reporter();
    let mut names = vec!["grpc.health.v1.Health"];
    let mut router_names = Vec::new();
    macro_rules! serve_if {
        ($key:literal, $server:ident, $gateway:ident, $name:literal) => {
            match routes.get($key) {
                Some(upstream) => {
                    health_reporter.set_serving::<$server<$gateway>>().await;
                    names.push($name);
                    router_names.push(format!("{}={}", $key, upstream.count()));
                    Some(
                        $server::new($gateway(upstream.clone()))
                            .max_decoding_message_size(MAX_MESSAGE_BYTES)
                            .max_encoding_message_size(MAX_MESSAGE_BYTES),
                    )
                }
                None => None,
            }
        };
    }
    let tickets = serve_if!(
        "tickets",
        TicketServiceServer,
        TicketGateway,
        "helpdesk.v1.TicketService"
    );
    let stats = serve_if!(
        "stats",
        StatsServiceServer,
        StatsGateway,
        "helpdesk.v1.StatsService"
    );
    let levels = serve_if!(
        "levels",
        LevelServiceServer,
        LevelGateway,
        "helpdesk.v1.LevelService"
    );
    let badges = serve_if!(
        "badges",
        BadgeServiceServer,
        BadgeGateway,
        "helpdesk.v1.BadgeService"
    );
    let reports = serve_if!(
        "reports",
        ReportServiceServer,
        ReportGateway,
        "helpdesk.v1.ReportService"
    );
    let (commands, admin) = match routes.get("commands") {
        Some(upstream) => {
            names.extend(["helpdesk.v1.CommandService", "helpdesk.v1.AdminService"]);
            router_names.push("commands=1".into());
            (
                Some(CommandPassThrough(upstream.first())),
                Some(AdminPassThrough(upstream.first())),
            )
        }
        None => (None, None),
    };

    // Metrics first: the ready line promises every address.
    let mut process = Process::new();
    let mut upstreams = Vec::new();
    for service in SERVICES {
        let Some(upstream) = routes.get(service) else {
            continue;
        };
        for (index, channel) in upstream.channels.iter().enumerate() {
            let partition = Partition {
                index: index as u32,
                count: upstream.count(),
            };
            upstreams.push((service, partition, channel.clone()));
        }
    }
    let watched = crate::ops::metrics::Watched {
        upstreams,
        ..Default::default()
    };
    process.watch(&args.ops, watched).await?;
    let listener = process::bind(args.listen).await?;
    let address = listener.local_addr()?;
    let scheme = if transport.tls.is_some() {
        "https"
    } else {
        "http"
    };
    println!(
        "helpdesk gateway is ready on {scheme}://{address} (routes: {})",
        router_names.join(", ")
    );
    let shutdown = process.shutdown_token();
    let mut builder = crate::ops::grpc::server_builder();
    if let Some(tls) = transport.tls {
        builder = builder.tls_config(tls)?;
    }
    builder
        .concurrency_limit_per_connection(transport.max_concurrent_per_connection)
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            transport.max_concurrent,
        ))
        .layer(tower::util::MapResponseLayer::new(
            crate::ops::grpc::statuses_clients_can_act_on::<tonic::body::Body>,
        ))
        .add_service(health)
        .add_service(
            crate::ops::grpc::reflection(&names)
                .with_service_name("grpc.reflection.v1.ServerReflection")
                .build_v1()?,
        )
        .add_service(
            crate::ops::grpc::reflection(&names)
                .with_service_name("grpc.reflection.v1alpha.ServerReflection")
                .build_v1alpha()?,
        )
        .add_optional_service(commands)
        .add_optional_service(admin)
        .add_optional_service(tickets)
        .add_optional_service(stats)
        .add_optional_service(levels)
        .add_optional_service(badges)
        .add_optional_service(reports)
        .serve_with_incoming_shutdown(crate::ops::grpc::incoming(listener), shutdown.cancelled())
        .await?;
    tracing::info!("stopped");
    Ok(())
}
