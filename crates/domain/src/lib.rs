//! The help desk's domain: what can happen, who may make it happen, and when it may.
//!
//! This crate is pure: no I/O, no clock, no async. The command service loads state, calls
//! [`decide`], and appends the events it returns; projections fold the same events. Keeping
//! the rules here, and only here, means the server, the tests and a replay all agree on them.
//!
//! # The pieces
//!
//! - [`Command`]: one struct per command (in [`command`], a module per aggregate), each
//!   knowing its target aggregate and checking its own input ([`Command::validate`]).
//! - [`Event`]: one frozen struct per event kind; an [`Envelope`] holds the events of one
//!   command and is the unit the log stores (postcard, versioned; see [`event`] for the
//!   schema-evolution rules and `tests/golden/`).
//! - [`State`]: an aggregate folded from its envelopes ([`State::evolve`]).
//! - [`decide`] with a [`Context`], [`needs`], [`effective_time`] and [`planned_resume`]:
//!   the functions the engine calls.
//!
//! # Aggregates and subjects
//!
//! One aggregate per subject, `<kind>.<uuid>` ([`AggregateId::subject`]): agent,
//! department, ticket, chat, call, rating (keyed by the rated conversation's uuid, so one
//! rating per conversation is enforced by the log's per-subject concurrency), `config` (one
//! aggregate with the nil uuid holding levels, badges, routing rules, roles, organization
//! settings and tokens) and `clock` (nil uuid, `ClockTicked`). Create commands carry the new
//! id (the API edge fills in a v7 id when the client gave none); creating something that
//! exists is `FAILED_PRECONDITION "… already exists"`.
//!
//! Department membership lives on the department aggregate. Decisions that need another
//! aggregate (an assignee's pause, a department's members, the conversation a rating is
//! for) name it in [`needs`]; the engine loads it into [`Context::related`].
//!
//! # Permissions (for users: docs/SECURITY.md, Roles and permissions)
//!
//! - Agents act as themselves. A work command may name another agent to act as (`agent`
//!   fields on commands); that needs `system.import`, except pausing and resuming, which
//!   `agents.pause_others` also allows (a resume by someone else is recorded as `by_admin`).
//!   Either way only for an agent the caller could manage (`may_act_for`: an Administrator
//!   not for an Owner, a custom role not for Administrators or Owners).
//!   Events record the agent acted for (`agent`, `by`); the envelope records who asked.
//! - Assigning a ticket to oneself is free; to someone else needs `tickets.assign` (or
//!   `system.import`), and so does unassigning someone else's ticket and offering a chat
//!   or ringing a call for someone else. TransferTicket needs `tickets.transfer`, DeleteTicket `tickets.delete`.
//! - RegisterAgent, ChangeAgentRole and DeactivateAgent need `agents.manage`. Only an
//!   Owner makes or changes Owners and makes Administrators; an Administrator cannot change
//!   an Owner; a custom role cannot change Administrators or Owners.
//! - Departments need `departments.manage`, routing rules `routing.manage`, levels, badges
//!   and RetractRating `gamification.manage`, custom roles `roles.manage`. An agent's
//!   token is issued and revoked with `agents.manage` (onboarding and offboarding people),
//!   an integration's with `roles.manage` (it hands out a role); a token carrying Owner or
//!   Administrator standing is issued only by an Owner, and a token is revoked only by
//!   someone who may change its holder. SetOrganizationSettings needs the Owner or
//!   Administrator role (the seed: Owner); SetUpOrganization and Tick are the system's.
//! - RateConversation needs an integration actor (customers rate through integrations) or
//!   `system.import`.
//! - Starting a conversation (CreateTicket, StartChat, IncomingCall) and reporting a
//!   missed chat or call (by the offered agent, an integration or the system) are open to
//!   any authenticated actor. The rest of the customer's side (RecordCustomerReply,
//!   RecordChatCustomerMessage, EndChat, EndCall): an integration or the system for any
//!   conversation, an agent only for one they see (`Context::sees`: department visibility,
//!   the ticket's assignee, the chat's or call's offered and accepting agent).
//! - Department visibility (docs/TICKETS.md, Assignment, departments and the queue): when
//!   the organization has departments, a command on a ticket the caller cannot see (not in
//!   their departments, not assigned to them, no `tickets.view_all`, not an importer with
//!   `system.import`) is `PERMISSION_DENIED`. A ticket without a department is then seen
//!   only by its assignee and by `tickets.view_all`.
//!
//! # Rules worth knowing
//!
//! - A paused agent is paused until resumed or until the planned end
//!   ([`AgentState::is_paused`]); chats are offered and calls rung only to agents online,
//!   not paused, active and members of the conversation's department (when it has one and
//!   the organization has departments); a high or urgent ticket is not assigned to a paused
//!   agent.
//! - Transferring a ticket does not assign it: TransferTicket, and a routing rule's
//!   transfer, unassign whoever had it, so it arrives in the new department's queue
//!   (docs/TICKETS.md, Assignment, departments and the queue, and Routing rules).
//! - Routing rules run in order on CreateTicket, each seeing the effects of those before;
//!   their events follow TicketCreated in the same envelope with `by: Actor::Rule(id)`.
//!   `AssignTo` takes the first candidate who exists, is active, is online and not paused
//!   (for every priority) and is a member of the ticket's department (if it has one);
//!   when none fits the ticket stays as it is. A disabled rule is skipped.
//! - A custom role in use may be removed (the domain cannot see every agent at once); its
//!   holders then have the Agent role's permissions.
//! - Level conditions are checked for length here; their syntax by the rules crate through
//!   [`Context::check_condition`].

pub mod actor;
pub mod aggregate;
pub mod command;
pub mod decide;
pub mod defaults;
pub mod envelope;
pub mod error;
pub mod event;
pub mod ids;
pub mod limits;
pub mod model;
pub mod roles;
pub mod routing;
pub mod state;
pub mod time;

pub use actor::Actor;
pub use aggregate::{AggregateId, AggregateKind};
pub use command::Command;
pub use decide::{check_import_time, decide, effective_time, needs, planned_resume, Context};
pub use envelope::{DecodeError, Envelope};
pub use error::DomainError;
pub use event::Event;
pub use ids::{AgentId, CallId, ChatId, DepartmentId, LevelId, RoleId, RuleId, TicketId, TokenId};
pub use model::{
    BadgeAward, BadgeEvaluationRecord, BadgeVisibility, Best, Channel, ConversationKind,
    ConversationRef, LevelGrant, LevelRevocation, PauseReason, Priority, Rating, RecomputeMode,
    ResumeReason, Statistic, TokenSubject,
};
pub use roles::{permissions_for, Permission, Permissions, Principal, Role};
pub use routing::{Action, Condition, RoutingRule};
pub use state::{
    AgentState, CallState, ChatState, ConfigState, DepartmentState, RatingState, State, TicketState,
};
pub use time::Timestamp;
