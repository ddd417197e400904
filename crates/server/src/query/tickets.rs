//! `helpdesk.v1.TicketService` over the tickets read model.

use helpdesk_api::convert::{
    channel_pb, parse_id, parse_optional_id, priority_pb, timestamp_from_millis,
};
use helpdesk_api::{pb, ApiError, TicketService};
use helpdesk_domain::Timestamp;
use helpdesk_projections::tickets::{Cursor, Filter, Status, Ticket, TicketsView};
use tonic::{Request, Response, Status as GrpcStatus};
use uuid::Uuid;

use crate::access::caller;
use crate::query::preamble::{reached, read, viewer};
use crate::query::ranking::page_size;

pub struct TicketApi {
    view: TicketsView,
}

impl TicketApi {
    pub fn new(view: TicketsView) -> Self {
        TicketApi { view }
    }
}

#[tonic::async_trait]
impl TicketService for TicketApi {
    async fn get_ticket(
        &self,
        request: Request<pb::GetTicketRequest>,
    ) -> Result<Response<pb::GetTicketResponse>, GrpcStatus> {
        let principal = caller(&request)?.principal;
        let request = request.into_inner();
        let id: Uuid = parse_id("ticket_id", &request.ticket_id)?;
        let position = reached(self.view.handle(), request.read.as_ref()).await?;
        let viewer = viewer(&principal);
        let ticket = read(&self.view, move |view| view.get(id, viewer))
            .await?
            .ok_or_else(|| ApiError::not_found(format!("ticket {id} not found")))?;
        Ok(Response::new(pb::GetTicketResponse {
            ticket: Some(ticket_pb(ticket)),
            position,
        }))
    }

    async fn list_tickets(
        &self,
        request: Request<pb::ListTicketsRequest>,
    ) -> Result<Response<pb::ListTicketsResponse>, GrpcStatus> {
        let principal = caller(&request)?.principal;
        let request = request.into_inner();
        let department: Option<Uuid> = parse_optional_id("department_id", &request.department_id)?;
        if request.no_department && department.is_some() {
            return Err(ApiError::invalid_argument(
                "no_department",
                "not together with department_id",
            )
            .into());
        }
        let filter = Filter {
            status: status_filter(request.status)?,
            department: if request.no_department {
                Some(Uuid::nil())
            } else {
                department
            },
            assignee: parse_optional_id("assignee_id", &request.assignee_id)?,
            tag: Some(request.tag).filter(|t| !t.is_empty()),
        };
        let page_size = page_size(request.page_size)?;
        let after = match request.page_token.as_str() {
            "" => None,
            token => Some(Cursor::decode(token).ok_or_else(|| {
                ApiError::invalid_argument("page_token", "not a page token this service gave")
            })?),
        };
        let position = reached(self.view.handle(), request.read.as_ref()).await?;
        let viewer = viewer(&principal);
        let page = read(&self.view, move |view| {
            view.list(&filter, viewer, after, page_size)
        })
        .await?;
        Ok(Response::new(pb::ListTicketsResponse {
            tickets: page.tickets.into_iter().map(ticket_pb).collect(),
            next_page_token: page.next.map(|c| c.encode()).unwrap_or_default(),
            position,
        }))
    }

    async fn count_tickets(
        &self,
        request: Request<pb::CountTicketsRequest>,
    ) -> Result<Response<pb::CountTicketsResponse>, GrpcStatus> {
        let principal = caller(&request)?.principal;
        let request = request.into_inner();
        let position = reached(self.view.handle(), request.read.as_ref()).await?;
        let viewer = viewer(&principal);
        let departments = read(&self.view, move |view| view.counts(viewer))
            .await?
            .into_iter()
            .map(|d| pb::DepartmentTicketCounts {
                department_id: if d.department.is_nil() {
                    String::new()
                } else {
                    d.department.to_string()
                },
                name: d.name.unwrap_or_default(),
                new: d.counts.new,
                open: d.counts.answered + d.counts.open,
                resolved: d.counts.resolved,
                awaiting_customer: d.counts.answered,
            })
            .collect();
        Ok(Response::new(pb::CountTicketsResponse {
            departments,
            position,
        }))
    }
}

fn status_filter(value: i32) -> Result<Option<Status>, ApiError> {
    let status = match pb::TicketStatus::try_from(value) {
        Ok(pb::TicketStatus::Unspecified) => return Ok(None),
        Ok(pb::TicketStatus::New) => Status::New,
        Ok(pb::TicketStatus::Answered) => Status::Answered,
        Ok(pb::TicketStatus::Open) => Status::Open,
        Ok(pb::TicketStatus::Resolved) => Status::Resolved,
        Ok(pb::TicketStatus::Deleted) => Status::Deleted,
        Err(_) => {
            return Err(ApiError::invalid_argument(
                "status",
                format!("unknown value {value}"),
            ))
        }
    };
    Ok(Some(status))
}

fn ticket_pb(t: Ticket) -> pb::Ticket {
    let time = |t: Timestamp| Some(timestamp_from_millis(t.millis()));
    let id = |u: Option<Uuid>| u.map(|u| u.to_string()).unwrap_or_default();
    pb::Ticket {
        ticket_id: t.id.to_string(),
        channel: channel_pb(t.channel) as i32,
        priority: priority_pb(t.priority) as i32,
        subject: t.subject,
        status: match t.status {
            Status::New => pb::TicketStatus::New,
            Status::Answered => pb::TicketStatus::Answered,
            Status::Open => pb::TicketStatus::Open,
            Status::Resolved => pb::TicketStatus::Resolved,
            Status::Deleted => pb::TicketStatus::Deleted,
        } as i32,
        department_id: id(t.department),
        assignee_id: id(t.assignee),
        tags: t.tags,
        created_at: time(t.created_at),
        updated_at: time(t.updated_at),
        first_answer_at: t.first_answer_at.and_then(time),
        resolved_at: t.resolved_at.and_then(time),
        answers: t.answers,
        last_answer_by: id(t.last_answer_by),
    }
}
