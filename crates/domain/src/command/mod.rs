//! Commands: what someone asks the system to do.
//!
//! One struct per command, grouped in a module per aggregate; [`Command`] collects them
//! for the API edge and the engine. A command knows its target aggregate and checks its own
//! input (lengths, ranges, shapes) without looking at any state: that is
//! [`Command::validate`], which the engine runs before it loads anything, and `decide` runs
//! again so no caller can skip it.
//!
//! Naming: the aggregate a command works on is named plainly (`ticket`, `agent`); a create
//! command carries the new aggregate's id as `<kind>_id` (the API edge makes a v7 id when
//! the client gave none); configuration items are always `<item>_id` (`level_id`,
//! `rule_id`). An optional `agent` on a work command is the agent the work is done as:
//! none means the caller's own agent (acting for another needs `system.import`).
//!
//! Commands are not stored, so unlike events they may change freely.

pub mod agent;
pub mod call;
pub mod chat;
pub mod clock;
pub mod config;
pub mod department;
pub mod rating;
pub mod ticket;

pub use agent::*;
pub use call::*;
pub use chat::*;
pub use clock::*;
pub use config::*;
pub use department::*;
pub use rating::*;
pub use ticket::*;

use serde::{Deserialize, Serialize};

use crate::aggregate::AggregateId;
use crate::error::DomainError;
use crate::limits;

/// What every command struct provides.
pub trait CommandBody {
    /// The aggregate whose subject the events go to.
    fn target(&self) -> AggregateId;
    /// Input limits and shape only; no state.
    fn validate(&self) -> Result<(), DomainError> {
        Ok(())
    }
}

/// Every command, listed once: in groups by the `decide` that handles them (one per
/// aggregate; the recomputes apart, as they read no state), in the order of
/// [`Command::NAMES`].
macro_rules! commands {
    ($($(#[$doc:meta])* $route:ident: $group:ident { $($name:ident,)* })*) => {
        /// Every command.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub enum Command {
            $($($name($name),)*)*
        }

        impl Command {
            /// All command names (the gRPC method names).
            pub const NAMES: &'static [&'static str] = &[$($(stringify!($name),)*)*];

            /// The command's name, e.g. `"CreateTicket"`.
            pub fn name(&self) -> &'static str {
                match self {
                    $($(Command::$name(_) => stringify!($name),)*)*
                }
            }

            /// The aggregate the command's events are appended to.
            pub fn target(&self) -> AggregateId {
                match self {
                    $($(Command::$name(c) => c.target(),)*)*
                }
            }

            /// Whether the command starts its target aggregate (which must not exist
            /// yet): a writer may assume the target empty without reading the log, since
            /// the log refuses the append if it is not.
            pub fn starts_aggregate(&self) -> bool {
                matches!(
                    self,
                    Command::RegisterAgent(_)
                        | Command::CreateDepartment(_)
                        | Command::CreateTicket(_)
                        | Command::StartChat(_)
                        | Command::IncomingCall(_)
                )
            }

            /// Input limits and shape (docs/TICKETS.md, Input limits), without state:
            /// `INVALID_ARGUMENT`.
            pub fn validate(&self) -> Result<(), DomainError> {
                match self {
                    $($(Command::$name(c) => c.validate(),)*)*
                }
            }

            /// The command as one of its group's: what its `decide` matches, exhaustively
            /// (a command its `decide` does not handle does not compile).
            pub fn routed(&self) -> Routed<'_> {
                match self {
                    $($(Command::$name(c) => Routed::$route($group::$name(c)),)*)*
                }
            }
        }

        /// A command as one of its group's (see [`Command::routed`]).
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub enum Routed<'a> {
            $($route($group<'a>),)*
        }

        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy, PartialEq)]
            pub enum $group<'a> {
                $($name(&'a $name),)*
            }

            impl $group<'_> {
                /// The aggregate the command's events are appended to.
                pub fn target(&self) -> AggregateId {
                    match self {
                        $($group::$name(c) => c.target(),)*
                    }
                }
            }
        )*

        $($(impl From<$name> for Command {
            fn from(c: $name) -> Self {
                Command::$name(c)
            }
        })*)*
    };
}

commands! {
    /// The commands on an agent.
    Agent: AgentCommand {
        RegisterAgent,
        ChangeAgentRole,
        GoOnline,
        GoOffline,
        PauseAgent,
        ResumeAgent,
        DeactivateAgent,
    }
    /// The commands on a department.
    Department: DepartmentCommand {
        CreateDepartment,
        UpdateDepartment,
        AddAgentToDepartment,
        RemoveAgentFromDepartment,
    }
    /// The commands on a ticket.
    Ticket: TicketCommand {
        CreateTicket,
        AssignTicket,
        UnassignTicket,
        TransferTicket,
        AnswerTicket,
        RecordCustomerReply,
        TagTicket,
        UntagTicket,
        ResolveTicket,
        ReopenTicket,
        DeleteTicket,
    }
    /// The commands on a chat.
    Chat: ChatCommand {
        StartChat,
        OfferChat,
        AcceptChat,
        MissChat,
        AnswerChat,
        RecordChatCustomerMessage,
        EndChat,
    }
    /// The commands on a call.
    Call: CallCommand {
        IncomingCall,
        RingCall,
        AnswerCall,
        MissCall,
        EndCall,
    }
    /// The commands on a conversation's rating.
    Rating: RatingCommand {
        RateConversation,
        RetractRating,
    }
    /// The commands on the configuration.
    Config: ConfigCommand {
        SetUpOrganization,
        SetOrganizationSettings,
        IssueToken,
        RevokeToken,
        DefineLevel,
        UpdateLevel,
        RemoveLevel,
        ReorderLevels,
        CustomizeBadge,
        DefineBadge,
        RemoveBadge,
        DefineRoutingRule,
        RemoveRoutingRule,
        UpdateRoutingRule,
        DefineRole,
        UpdateRole,
        RemoveRole,
    }
    /// The commands on the clock.
    Clock: ClockCommand {
        Tick,
    }
    /// The outcomes of a recompute (the server's replay found them), recorded on the
    /// configuration: they read none of its state.
    Recompute: RecomputeCommand {
        RecomputeLevels,
        RecomputeBadges,
    }
}

// --- input checks shared by the command modules ---------------------------------------

/// At most `max` characters.
pub(crate) fn check_len(field: &str, value: &str, max: usize) -> Result<(), DomainError> {
    let chars = value.chars().count();
    if chars > max {
        return Err(DomainError::invalid(
            field,
            format!("at most {max} characters, got {chars}"),
        ));
    }
    Ok(())
}

/// Not blank, at most `max` characters.
pub(crate) fn check_required(field: &str, value: &str, max: usize) -> Result<(), DomainError> {
    if value.trim().is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    check_len(field, value, max)
}

/// A name: not blank, at most 200 characters.
pub(crate) fn check_name(field: &str, value: &str) -> Result<(), DomainError> {
    check_required(field, value, limits::NAME_MAX_CHARS)
}

/// A tag: not blank, at most 64 characters, no line breaks.
pub(crate) fn check_tag(field: &str, value: &str) -> Result<(), DomainError> {
    check_required(field, value, limits::TAG_MAX_CHARS)?;
    if value.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

pub(crate) fn check_email(field: &str, value: &str) -> Result<(), DomainError> {
    check_required(field, value, limits::EMAIL_MAX_CHARS)?;
    let valid = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && !domain.is_empty() && !value.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if !valid {
        return Err(DomainError::invalid(
            field,
            "an e-mail address like name@example.com",
        ));
    }
    Ok(())
}

/// An IANA time zone that jiff's bundled database knows.
pub(crate) fn check_time_zone(field: &str, value: &str) -> Result<(), DomainError> {
    check_required(field, value, limits::TIME_ZONE_MAX_CHARS)?;
    if jiff::tz::db().get(value).is_err() {
        return Err(DomainError::invalid(
            field,
            format!("an IANA time zone name like Europe/Berlin or UTC, got {value:?}"),
        ));
    }
    Ok(())
}

/// A number in `min..=max`.
pub(crate) fn check_range(field: &str, value: u64, min: u64, max: u64) -> Result<(), DomainError> {
    if value < min || value > max {
        return Err(DomainError::invalid(
            field,
            format!("a number from {min} to {max}, got {value}"),
        ));
    }
    Ok(())
}

/// Refuses a command that would change nothing.
pub(crate) fn check_some(any: bool) -> Result<(), DomainError> {
    if any {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "*",
            "set at least one field to change",
        ))
    }
}
