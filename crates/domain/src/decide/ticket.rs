//! Ticket decisions, routing included.
//!
//! Visibility (docs/TICKETS.md, Assignment, departments and the queue): when the
//! organization has departments, a caller without `tickets.view_all` sees a ticket only
//! when it is assigned to them or belongs to one of their departments. A ticket without a
//! department is then visible only to its assignee and to those with `tickets.view_all`.
//! Every command on a ticket the caller may not see is `PERMISSION_DENIED`; the
//! customer-side RecordCustomerReply only for an agent (an integration records it for any
//! ticket).

use super::{found, Context};
use crate::actor::Actor;
use crate::command::{CreateTicket, TicketCommand};
use crate::error::DomainError;
use crate::event::*;
use crate::ids::{AgentId, DepartmentId, TicketId};
use crate::limits;
use crate::model::Priority;
use crate::roles::Permission;
use crate::routing::{Action, TicketFacts, Words};
use crate::state::{TicketState, TicketStatus};

pub(super) fn decide(
    state: &TicketState,
    cmd: TicketCommand<'_>,
    ctx: &Context,
) -> Result<Vec<Event>, DomainError> {
    let ticket = TicketId::from_uuid(cmd.target().id);
    // Each command checks, in order: the permissions that do not depend on the ticket's
    // state and who it is done by, then that the ticket is live (exists, is visible to
    // the caller, is not deleted), then its state.
    let live = || check_live(state, ticket, ctx, true);

    match cmd {
        TicketCommand::CreateTicket(c) => create(state, c, ctx),
        TicketCommand::AssignTicket(c) => {
            ctx.self_or(c.agent, Permission::TicketsAssign, "assigning a ticket")?;
            let by = ctx.by(ctx.acting_agent(c.by)?);
            live()?;
            let agent = ctx.active_agent(c.agent)?;
            if ctx.org_has_departments {
                if let Some(d) = state.department {
                    if !ctx.is_member(d, c.agent) {
                        return Err(DomainError::failed(format!(
                            "agent {} is not a member of department {d}, the ticket's",
                            c.agent
                        )));
                    }
                }
            }
            if state.priority.is_high() && agent.is_paused(ctx.now) {
                return Err(DomainError::failed(format!(
                    "agent {} is paused and cannot take a {} priority ticket",
                    c.agent, state.priority
                )));
            }
            if state.assignee == Some(c.agent) {
                return Err(DomainError::failed(format!(
                    "ticket {ticket} is already assigned to agent {}",
                    c.agent
                )));
            }
            Ok(vec![TicketAssigned {
                ticket,
                agent: c.agent,
                by,
            }
            .into()])
        }
        TicketCommand::UnassignTicket(c) => {
            let by = ctx.by(ctx.acting_agent(c.by)?);
            live()?;
            let Some(assignee) = state.assignee else {
                return Err(DomainError::failed(format!(
                    "ticket {ticket} is not assigned"
                )));
            };
            ctx.self_or(assignee, Permission::TicketsAssign, "unassigning a ticket")?;
            Ok(vec![TicketUnassigned {
                ticket,
                agent: assignee,
                by,
            }
            .into()])
        }
        TicketCommand::TransferTicket(c) => {
            ctx.principal.require(Permission::TicketsTransfer)?;
            let by = ctx.by(ctx.acting_agent(c.agent)?);
            live()?;
            if ctx.department(c.department).is_none() {
                return Err(DomainError::not_found("department", c.department));
            }
            if state.department == Some(c.department) {
                return Err(DomainError::failed(format!(
                    "ticket {ticket} is in department {} already",
                    c.department
                )));
            }
            let mut events = vec![TicketTransferred {
                ticket,
                from: state.department,
                to: c.department,
                by,
            }
            .into()];
            // It arrives in the new department's queue, whoever had it: a member of the
            // new department too picks it from there.
            if let Some(assignee) = state.assignee {
                events.push(
                    TicketUnassigned {
                        ticket,
                        agent: assignee,
                        by,
                    }
                    .into(),
                );
            }
            Ok(events)
        }
        TicketCommand::AnswerTicket(c) => {
            let agent = ctx.required_agent(c.agent)?;
            live()?;
            if state.status == TicketStatus::Resolved {
                return Err(DomainError::failed(format!(
                    "ticket {ticket} is resolved; reopen it to answer"
                )));
            }
            Ok(vec![TicketAnswered {
                ticket,
                agent,
                chars: c.chars,
            }
            .into()])
        }
        TicketCommand::RecordCustomerReply(_) => {
            // The customer's side: an integration records it for any ticket, an agent for
            // one they see (it may reopen the ticket).
            let by = ctx.principal.actor;
            found(state.exists(), "ticket", ticket)?;
            ctx.customer_side(
                visible(state, ctx),
                &format!("ticket {ticket}"),
                "assigned to",
            )?;
            check_live(state, ticket, ctx, false)?;
            let mut events = Vec::new();
            if state.status == TicketStatus::Resolved {
                events.push(TicketReopened { ticket, by }.into());
            }
            events.push(TicketCustomerReplied { ticket }.into());
            Ok(events)
        }
        TicketCommand::TagTicket(c) => {
            let by = ctx.by(ctx.acting_agent(c.agent)?);
            live()?;
            if state.has_tag(&c.tag) {
                return Err(DomainError::failed(format!(
                    "ticket {ticket} already has the tag {:?}",
                    c.tag
                )));
            }
            if state.tags.len() >= limits::TAGS_PER_TICKET {
                return Err(DomainError::invalid(
                    "tag",
                    format!(
                        "a ticket has at most {} tags; this one has them",
                        limits::TAGS_PER_TICKET
                    ),
                ));
            }
            Ok(vec![TicketTagged {
                ticket,
                tag: c.tag.clone(),
                by,
            }
            .into()])
        }
        TicketCommand::UntagTicket(c) => {
            let by = ctx.by(ctx.acting_agent(c.agent)?);
            live()?;
            if !state.has_tag(&c.tag) {
                return Err(DomainError::failed(format!(
                    "ticket {ticket} has no tag {:?}",
                    c.tag
                )));
            }
            Ok(vec![TicketUntagged {
                ticket,
                tag: c.tag.clone(),
                by,
            }
            .into()])
        }
        TicketCommand::ResolveTicket(c) => {
            let by = ctx.by(ctx.acting_agent(c.agent)?);
            live()?;
            if state.status == TicketStatus::Resolved {
                return Err(DomainError::failed(format!(
                    "ticket {ticket} is resolved already"
                )));
            }
            Ok(vec![TicketResolved { ticket, by }.into()])
        }
        TicketCommand::ReopenTicket(c) => {
            let by = ctx.by(ctx.acting_agent(c.agent)?);
            live()?;
            if state.status != TicketStatus::Resolved {
                return Err(DomainError::failed(format!(
                    "ticket {ticket} is {}, not resolved",
                    state.status
                )));
            }
            Ok(vec![TicketReopened { ticket, by }.into()])
        }
        TicketCommand::DeleteTicket(c) => {
            ctx.principal.require(Permission::TicketsDelete)?;
            let by = ctx.by(ctx.acting_agent(c.agent)?);
            live()?;
            Ok(vec![TicketDeleted { ticket, by }.into()])
        }
    }
}

/// That the ticket exists, that the caller may see it (when `visibility` applies) and
/// that it is not deleted.
fn check_live(
    state: &TicketState,
    ticket: TicketId,
    ctx: &Context,
    visibility: bool,
) -> Result<(), DomainError> {
    found(state.exists(), "ticket", ticket)?;
    if visibility && !visible(state, ctx) {
        return Err(DomainError::denied(format!(
            "ticket {ticket} is not in your departments nor assigned to you; seeing it needs \
             the permission tickets.view_all"
        )));
    }
    if state.status == TicketStatus::Deleted {
        return Err(DomainError::failed(format!("ticket {ticket} is deleted")));
    }
    Ok(())
}

/// Department visibility for the caller (docs/TICKETS.md, Assignment, departments and the
/// queue). An importer (`system.import`) replays what every agent did, so it sees every
/// ticket.
fn visible(state: &TicketState, ctx: &Context) -> bool {
    let assignee: Vec<AgentId> = state.assignee.into_iter().collect();
    ctx.sees(state.department, &assignee)
}

/// TicketCreated, then what the routing rules do, in order.
fn create(state: &TicketState, c: &CreateTicket, ctx: &Context) -> Result<Vec<Event>, DomainError> {
    if state.exists() {
        return Err(DomainError::failed(format!(
            "ticket {} already exists",
            c.ticket_id
        )));
    }
    if let Some(d) = c.department {
        if ctx.department(d).is_none() {
            return Err(DomainError::not_found("department", d));
        }
    }
    let ticket = c.ticket_id;
    let mut events: Vec<Event> = vec![TicketCreated {
        ticket,
        channel: c.channel,
        priority: c.priority,
        subject: c.subject.clone(),
        body: c.body.clone(),
        department: c.department,
    }
    .into()];

    let mut sim = Routed {
        priority: c.priority,
        department: c.department,
        assignee: None,
        tags: Vec::new(),
    };
    // Split once, whatever the number of rules and conditions.
    let subject = Words::of(&c.subject);
    let body = Words::of(c.body.as_deref().unwrap_or(""));
    // A rule switched off keeps its place among the rules but does nothing.
    for rule in ctx.config.enabled_routing_rules() {
        let facts = TicketFacts {
            channel: c.channel,
            priority: sim.priority,
            subject: &subject,
            body: &body,
        };
        if !rule.matches(&facts) {
            continue;
        }
        let by = Actor::Rule(rule.rule_id);
        for action in &rule.actions {
            sim.apply(action, ticket, by, ctx, &mut events);
        }
    }
    Ok(events)
}

/// The ticket as routing has shaped it so far.
struct Routed {
    priority: Priority,
    department: Option<DepartmentId>,
    assignee: Option<AgentId>,
    tags: Vec<String>,
}

impl Routed {
    fn apply(
        &mut self,
        action: &Action,
        ticket: TicketId,
        by: Actor,
        ctx: &Context,
        events: &mut Vec<Event>,
    ) {
        match action {
            Action::TransferTo(to) => {
                // A department removed since the rule was defined is skipped.
                if ctx.department(*to).is_none() || self.department == Some(*to) {
                    return;
                }
                events.push(
                    TicketTransferred {
                        ticket,
                        from: self.department,
                        to: *to,
                        by,
                    }
                    .into(),
                );
                self.department = Some(*to);
                // As with TransferTicket: a transferred ticket arrives unassigned in its
                // new department's queue, whoever had it (a later rule may assign it).
                if let Some(a) = self.assignee.take() {
                    events.push(
                        TicketUnassigned {
                            ticket,
                            agent: a,
                            by,
                        }
                        .into(),
                    );
                }
            }
            Action::AssignTo(candidates) => {
                let fits = |a: &AgentId| {
                    // Paused means no new work, whatever the priority (docs/TICKETS.md,
                    // Routing rules): only an agent who exists, is active, online and not
                    // paused takes the ticket. `ctx.now` is the command's time, so a
                    // replay decides alike.
                    let available = ctx.agent(*a).is_some_and(|s| s.is_available(ctx.now));
                    let member = match self.department {
                        Some(d) => ctx.is_member(d, *a),
                        None => true,
                    };
                    available && member
                };
                if let Some(agent) = candidates.iter().copied().find(fits) {
                    if self.assignee != Some(agent) {
                        events.push(TicketAssigned { ticket, agent, by }.into());
                        self.assignee = Some(agent);
                    }
                }
            }
            Action::LeaveUnassigned => {
                if let Some(a) = self.assignee.take() {
                    events.push(
                        TicketUnassigned {
                            ticket,
                            agent: a,
                            by,
                        }
                        .into(),
                    );
                }
            }
            Action::SetPriority(p) => {
                if self.priority != *p {
                    events.push(
                        TicketPriorityChanged {
                            ticket,
                            priority: *p,
                            by,
                        }
                        .into(),
                    );
                    // No assignee needs letting go now: AssignTo chose only an agent
                    // online and not paused, and that does not change within one command.
                    self.priority = *p;
                }
            }
            Action::AddTags(tags) => {
                for tag in tags {
                    if self.tags.contains(tag) || self.tags.len() >= limits::TAGS_PER_TICKET {
                        continue;
                    }
                    self.tags.push(tag.clone());
                    events.push(
                        TicketTagged {
                            ticket,
                            tag: tag.clone(),
                            by,
                        }
                        .into(),
                    );
                }
            }
        }
    }
}
