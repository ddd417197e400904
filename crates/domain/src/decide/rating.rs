//! Rating decisions. A rating goes to the agent who handled the conversation
//! (docs/TICKETS.md, Ratings): the last agent who answered the ticket, who accepted the
//! chat, who answered the call.

use super::{conversation_word, Context};
use crate::actor::Actor;
use crate::command::RatingCommand;
use crate::error::DomainError;
use crate::event::*;
use crate::model::ConversationKind;
use crate::roles::Permission;
use crate::state::{RatingState, State, TicketStatus};

pub(super) fn decide(
    state: &RatingState,
    cmd: RatingCommand<'_>,
    ctx: &Context,
) -> Result<Vec<Event>, DomainError> {
    match cmd {
        RatingCommand::RateConversation(c) => {
            let integration = matches!(ctx.principal.actor, Actor::Integration(_));
            if !integration && !ctx.principal.has(Permission::SystemImport) {
                return Err(DomainError::denied(
                    "customers rate through an integration account; anyone else needs the \
                     permission system.import",
                ));
            }
            let word = conversation_word(c.conversation.kind);
            let id = c.conversation.id;
            let conversation = ctx.related.get(&c.conversation.aggregate());
            let not_found = || DomainError::not_found(word, id);
            let handler = match (c.conversation.kind, conversation) {
                (ConversationKind::Ticket, Some(State::Ticket(t))) if t.exists() => {
                    if t.status == TicketStatus::Deleted {
                        return Err(DomainError::failed(format!("ticket {id} is deleted")));
                    }
                    t.last_answerer
                }
                (ConversationKind::Chat, Some(State::Chat(ch))) if ch.exists() => ch.accepted_by,
                (ConversationKind::Call, Some(State::Call(ca))) if ca.exists() => ca.answered_by,
                _ => return Err(not_found()),
            };
            let Some(agent) = handler else {
                let state = match c.conversation.kind {
                    ConversationKind::Ticket => "has no answer yet",
                    ConversationKind::Chat => "was not accepted yet",
                    ConversationKind::Call => "was not answered yet",
                };
                return Err(DomainError::failed(format!(
                    "{word} {id} {state}: no agent to attribute a rating to"
                )));
            };
            // The rating aggregate is keyed by the uuid alone: never let a conversation of
            // another kind with the same uuid take over (or replace) its rating.
            if let Some(rated) = state.conversation.filter(|r| *r != c.conversation) {
                return Err(DomainError::failed(format!(
                    "the rating with id {id} belongs to {rated}, not to this {word}"
                )));
            }
            Ok(vec![ConversationRated {
                conversation: c.conversation,
                agent,
                rating: c.rating,
                replaces: state.current.map(|s| s.rating),
                replaced_agent: state.current.map(|s| s.agent),
            }
            .into()])
        }
        RatingCommand::RetractRating(c) => {
            ctx.principal.require(Permission::GamificationManage)?;
            // docs/TICKETS.md, Errors: no standing rating is a state of the conversation's
            // rating (FAILED_PRECONDITION naming it), not an unknown entity.
            let other = state.conversation.filter(|r| *r != c.conversation);
            let Some(current) = state.current.filter(|_| other.is_none()) else {
                let why = match other {
                    Some(rated) => format!("the rating with this id is for {rated}"),
                    None if state.exists() => "its rating was retracted".into(),
                    None => "it was never rated".into(),
                };
                return Err(DomainError::failed(format!(
                    "{} {} has no standing rating: {why}",
                    conversation_word(c.conversation.kind),
                    c.conversation.id
                )));
            };
            Ok(vec![RatingRetracted {
                conversation: c.conversation,
                agent: current.agent,
                rating: current.rating,
            }
            .into()])
        }
    }
}
