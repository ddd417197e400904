//! Aggregate state: what a decision needs to know, folded from the aggregate's envelopes.
//!
//! Each state keeps only what some rule of docs/TICKETS.md looks at (a ticket does not keep its
//! body). `evolve` is infallible and tolerant: an event that does not fit (another kind's,
//! or one that a newer writer produced and this build would have refused) is applied as
//! well as it can be or ignored, never a panic, because the log is the truth and a reader
//! must always be able to catch up.

mod agent;
mod config;
mod conversation;
mod department;

pub use agent::{AgentState, OpenPause};
pub use config::{
    apply_level_event, BadgeSettings, ConfigState, CustomBadge, CustomRole, Level, OrgSettings,
    TokenRecord,
};
pub use conversation::{
    CallState, CallStatus, ChatState, ChatStatus, RatingState, StandingRating, TicketState,
    TicketStatus,
};
pub use department::DepartmentState;

use crate::aggregate::AggregateKind;
use crate::envelope::Envelope;

/// The state of one aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Agent(AgentState),
    Department(DepartmentState),
    Ticket(TicketState),
    Chat(ChatState),
    Call(CallState),
    Rating(RatingState),
    Config(ConfigState),
    Clock,
}

impl State {
    /// The state of an aggregate of this kind that does not exist yet.
    pub fn new(kind: AggregateKind) -> Self {
        match kind {
            AggregateKind::Agent => State::Agent(AgentState::default()),
            AggregateKind::Department => State::Department(DepartmentState::default()),
            AggregateKind::Ticket => State::Ticket(TicketState::default()),
            AggregateKind::Chat => State::Chat(ChatState::default()),
            AggregateKind::Call => State::Call(CallState::default()),
            AggregateKind::Rating => State::Rating(RatingState::default()),
            AggregateKind::Config => State::Config(ConfigState::default()),
            AggregateKind::Clock => State::Clock,
        }
    }

    pub fn kind(&self) -> AggregateKind {
        match self {
            State::Agent(_) => AggregateKind::Agent,
            State::Department(_) => AggregateKind::Department,
            State::Ticket(_) => AggregateKind::Ticket,
            State::Chat(_) => AggregateKind::Chat,
            State::Call(_) => AggregateKind::Call,
            State::Rating(_) => AggregateKind::Rating,
            State::Config(_) => AggregateKind::Config,
            State::Clock => AggregateKind::Clock,
        }
    }

    /// Whether the aggregate has been created. The configuration exists once the
    /// organization is set up; a rating once the conversation was first rated; the clock
    /// always.
    pub fn exists(&self) -> bool {
        match self {
            State::Agent(s) => s.exists(),
            State::Department(s) => s.exists(),
            State::Ticket(s) => s.exists(),
            State::Chat(s) => s.exists(),
            State::Call(s) => s.exists(),
            State::Rating(s) => s.exists(),
            State::Config(s) => s.is_set_up(),
            State::Clock => true,
        }
    }

    /// Applies every event of the envelope.
    pub fn evolve(&mut self, envelope: &Envelope) {
        for event in &envelope.events {
            match self {
                State::Agent(s) => s.apply(event, envelope),
                State::Department(s) => s.apply(event),
                State::Ticket(s) => s.apply(event, envelope),
                State::Chat(s) => s.apply(event),
                State::Call(s) => s.apply(event),
                State::Rating(s) => s.apply(event),
                State::Config(s) => s.apply(event),
                State::Clock => {}
            }
        }
    }
}
