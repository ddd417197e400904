//! `helpdesk.v1.StatsService` over the statistics read model.

use helpdesk_api::convert::parse_optional_id;
use helpdesk_api::{pb, ApiError, StatsService};
use helpdesk_projections::calendar::{days_from_civil, format_day, Day};
use helpdesk_projections::stats::{Metric, StatsView, Window};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::access::caller;
use crate::query::preamble::{agent_or_caller, may_see_agent, reached, read};
use crate::query::ranking::{rank_benchmark, row_limit};

pub struct StatsApi {
    view: StatsView,
}

impl StatsApi {
    pub fn new(view: StatsView) -> Self {
        StatsApi { view }
    }

    /// The window a request asks for, as days (and the days for the response).
    async fn window(
        &self,
        window: Option<&pb::StatsWindow>,
    ) -> Result<(Window, String, String), ApiError> {
        let Some(window) = window else {
            return Ok((Window::AllTime, String::new(), String::new()));
        };
        let kind = pb::WindowKind::try_from(window.kind).map_err(|_| {
            ApiError::invalid_argument("window.kind", format!("unknown value {}", window.kind))
        })?;
        let (_, today) = read(&self.view, |view| view.today()).await?;
        let days =
            |from: Day, to: Day| Ok((Window::Days { from, to }, format_day(from), format_day(to)));
        match kind {
            pb::WindowKind::Unspecified | pb::WindowKind::AllTime => {
                Ok((Window::AllTime, String::new(), String::new()))
            }
            pb::WindowKind::Today => days(today, today),
            pb::WindowKind::Last7Days => days(today - 6, today),
            pb::WindowKind::Last30Days => days(today - 29, today),
            pb::WindowKind::Range => {
                let from = parse_day("window.from", &window.from)?;
                let to = parse_day("window.to", &window.to)?;
                if to < from {
                    return Err(ApiError::invalid_argument(
                        "window.to",
                        "not before window.from",
                    ));
                }
                days(from, to)
            }
        }
    }
}

fn parse_day(field: &str, value: &str) -> Result<Day, ApiError> {
    let date: jiff::civil::Date = value.parse().map_err(|_| {
        ApiError::invalid_argument(field, format!("a date like 2024-05-01, got {value:?}"))
    })?;
    Ok(days_from_civil(
        i32::from(date.year()),
        date.month() as u32,
        date.day() as u32,
    ))
}

#[tonic::async_trait]
impl StatsService for StatsApi {
    async fn get_agent_stats(
        &self,
        request: Request<pb::GetAgentStatsRequest>,
    ) -> Result<Response<pb::GetAgentStatsResponse>, Status> {
        let principal = caller(&request)?.principal;
        let request = request.into_inner();
        let agent = agent_or_caller(&principal, &request.agent_id)?;
        may_see_agent(&principal, agent)?;
        let position = reached(self.view.handle(), request.read.as_ref()).await?;
        let (window, from, to) = self.window(request.window.as_ref()).await?;
        let stats = read(&self.view, move |view| view.agent(agent, window))
            .await?
            .ok_or_else(|| ApiError::not_found(format!("agent {agent} not found")))?;
        let values = stats.counters.values();
        Ok(Response::new(pb::GetAgentStatsResponse {
            agent_id: agent.to_string(),
            name: stats.name,
            active: stats.active,
            variables: values
                .iter()
                .map(|(variable, value)| (variable.name().to_owned(), value))
                .collect(),
            counters: stats
                .counters
                .named()
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
            from,
            to,
            position,
        }))
    }

    async fn benchmark(
        &self,
        request: Request<pb::BenchmarkRequest>,
    ) -> Result<Response<pb::BenchmarkResponse>, Status> {
        caller(&request)?;
        let request = request.into_inner();
        let metric = Metric::parse(&request.statistic).ok_or_else(|| {
            ApiError::invalid_argument(
                "statistic",
                format!(
                    "one of {}; got {:?}",
                    Metric::names().join(", "),
                    request.statistic
                ),
            )
        })?;
        let department: Option<Uuid> = parse_optional_id("department_id", &request.department_id)?;
        let limit = row_limit(request.limit)?;
        let position = reached(self.view.handle(), request.read.as_ref()).await?;
        let (window, from, to) = self.window(request.window.as_ref()).await?;
        let mut rows: Vec<pb::BenchmarkRow> =
            read(&self.view, move |view| view.agents(window, department))
                .await?
                .into_iter()
                // Agents who work, not a setup or import account nor someone yet to start.
                .filter(|a| a.active && a.worked)
                .filter_map(|a| {
                    let (value, sample) = metric.of(&a.counters);
                    value.map(|value| pb::BenchmarkRow {
                        place: 0,
                        agent_id: a.agent.to_string(),
                        name: a.name,
                        value,
                        sample,
                    })
                })
                .collect();
        rank_benchmark(&mut rows, request.ascending, limit);
        Ok(Response::new(pb::BenchmarkResponse {
            rows,
            from,
            to,
            position,
        }))
    }
}
