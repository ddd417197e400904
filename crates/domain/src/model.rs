//! The values that events and commands are made of.
//!
//! Everything here is stored in the log inside events, so the same freeze applies as to
//! events: variants are only ever added at the end, never reordered or changed (postcard
//! writes a variant as its index).

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::AggregateId;
use crate::ids::{AgentId, CallId, ChatId, TicketId};
use crate::roles::Role;

macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name { $($(#[$vdoc])* $variant,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_enum! {
    /// Where a conversation came in (docs/TICKETS.md, Channels and priorities).
    Channel {
        Email = "email",
        Chat = "chat",
        Call = "call",
        WebForm = "web_form",
        Facebook = "facebook",
        Twitter = "twitter",
        Instagram = "instagram",
        Viber = "viber",
        Whatsapp = "whatsapp",
        Api = "api",
    }
}

named_enum! {
    /// A ticket's priority (docs/TICKETS.md, Channels and priorities).
    Priority {
        Low = "low",
        Normal = "normal",
        High = "high",
        Urgent = "urgent",
    }
}

impl Priority {
    /// "High priority" in the spec: high or urgent.
    pub const fn is_high(self) -> bool {
        matches!(self, Priority::High | Priority::Urgent)
    }
}

named_enum! {
    /// What kind of conversation a [`ConversationRef`] names.
    ConversationKind {
        Ticket = "ticket",
        Chat = "chat",
        Call = "call",
    }
}

named_enum! {
    /// A customer's rating.
    Rating {
        Positive = "positive",
        Negative = "negative",
    }
}

named_enum! {
    /// Why a pause ended.
    ResumeReason {
        /// The agent resumed themself.
        Manual = "manual",
        /// The planned length ran out (appended by the system at exactly the planned end).
        PlannedEnd = "planned_end",
        /// Someone with `agents.pause_others` resumed the agent.
        ByAdmin = "by_admin",
        /// The agent went offline (or was deactivated) while paused.
        WentOffline = "went_offline",
    }
}

named_enum! {
    /// Who may see a badge.
    BadgeVisibility {
        Public = "public",
        SelfAndManagers = "self_and_managers",
    }
}

named_enum! {
    /// Whether the highest or the lowest value wins a badge.
    Best {
        Max = "max",
        Min = "min",
    }
}

named_enum! {
    /// The building blocks of badges (docs/STATISTICS.md, Badge statistics): what a badge
    /// ranks agents by, over its window.
    Statistic {
        /// Tickets transferred.
        Transfers = "transfers",
        /// Seconds paused.
        PausedSeconds = "paused_seconds",
        /// Negative ratings standing at the evaluation.
        NegativeRatings = "negative_ratings",
        /// Mean time from a ticket entering new/open to the agent's answer.
        MeanAnswerWait = "mean_answer_wait",
        /// Mean time from a chat offer to its acceptance.
        MeanChatPickup = "mean_chat_pickup",
        /// Positive ratings standing at the evaluation.
        PositiveRatings = "positive_ratings",
        /// Pauses started.
        PausesStarted = "pauses_started",
        /// The longest ticket answer, in characters.
        LongestAnswer = "longest_answer",
        /// Distinct tickets tagged.
        TicketsTagged = "tickets_tagged",
        /// Mean time from ticket creation to resolution.
        MeanResolution = "mean_resolution",
        /// Seconds online and not paused.
        OnlineSeconds = "online_seconds",
        /// The longest chat, accepted to end.
        LongestChat = "longest_chat",
        /// Tickets resolved plus tickets deleted.
        ResolutionsAndDeletions = "resolutions_and_deletions",
        /// The longest call, answered to end.
        LongestCall = "longest_call",
    }
}

named_enum! {
    /// How a recompute replays the history (docs/STATISTICS.md, Levels and Badges).
    RecomputeMode {
        /// With the definitions in force at each moment.
        AsItHappened = "as_it_happened",
        /// With today's definitions over all of it.
        TodaysDefinitions = "todays_definitions",
    }
}

/// A level a recompute grants: to whom, when it was reached in the replay, and the level
/// variables then ([`crate::defaults`] order of the rules crate's `VARIABLES`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelGrant {
    pub agent: AgentId,
    pub level: crate::ids::LevelId,
    pub reached_at: crate::time::Timestamp,
    pub values: Vec<f64>,
}

/// A level a recompute takes away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelRevocation {
    pub agent: AgentId,
    pub level: crate::ids::LevelId,
}

/// One holder of a recomputed badge evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadgeAward {
    pub agent: AgentId,
    /// Their value (none for the Four-leaf Clover).
    pub value: Option<u64>,
}

/// A badge evaluation as a recompute found it: it replaces the one of the same badge and
/// midnight. Days are civil days since 1970-01-01 in the organization's zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadgeEvaluationRecord {
    pub key: String,
    /// The midnight evaluated (the day it starts).
    pub day: i32,
    /// The window's first and last day (included).
    pub from: i32,
    pub to: i32,
    pub holders: Vec<BadgeAward>,
    pub value: Option<u64>,
    pub runner_up: Option<u64>,
    pub competitors: u32,
}

/// Names one conversation: a ticket, a chat or a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ConversationRef {
    pub kind: ConversationKind,
    pub id: Uuid,
}

impl ConversationRef {
    pub const fn ticket(id: TicketId) -> Self {
        ConversationRef {
            kind: ConversationKind::Ticket,
            id: id.uuid(),
        }
    }

    pub const fn chat(id: ChatId) -> Self {
        ConversationRef {
            kind: ConversationKind::Chat,
            id: id.uuid(),
        }
    }

    pub const fn call(id: CallId) -> Self {
        ConversationRef {
            kind: ConversationKind::Call,
            id: id.uuid(),
        }
    }

    /// The conversation's own aggregate.
    pub fn aggregate(&self) -> AggregateId {
        match self.kind {
            ConversationKind::Ticket => AggregateId::ticket(TicketId::from_uuid(self.id)),
            ConversationKind::Chat => AggregateId::chat(ChatId::from_uuid(self.id)),
            ConversationKind::Call => AggregateId::call(CallId::from_uuid(self.id)),
        }
    }

    /// The aggregate holding the conversation's rating.
    pub fn rating_aggregate(&self) -> AggregateId {
        AggregateId::rating(self.id)
    }
}

impl fmt::Display for ConversationRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.id.hyphenated())
    }
}

/// Why an agent paused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PauseReason {
    /// The agent's own words (at most 200 characters; may be empty).
    Text(String),
    /// Auto-pause after a missed chat or call (docs/TICKETS.md, Agents: presence and pauses).
    AutoMissed { conversation: ConversationRef },
}

/// Whom a token authenticates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TokenSubject {
    /// An agent, who acts with their role's permissions.
    Agent(AgentId),
    /// An integration account with a role of its own.
    Integration { name: String, role: Role },
}
