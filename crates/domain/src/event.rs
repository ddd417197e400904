//! Events: what happened, as stored in the log for ever.
//!
//! postcard is not self-describing: it writes a struct as its fields in order and an enum
//! variant as its index. So a stored shape can never change. The rules:
//!
//! - every event kind is one struct, frozen once released: no field is added, removed,
//!   reordered or retyped;
//! - a new shape is a new variant appended at the end of [`Event`] (say
//!   `TicketCreatedV2`), and readers map the old one onto the new one (upcasting) where they
//!   need to;
//! - the values inside events ([`crate::model`], [`crate::routing`], [`Role`], [`Actor`])
//!   obey the same rules.
//!
//! `tests/golden/<EventName>.bin` holds one encoded envelope per event kind, built from
//! [`samples`]; the golden test proves that every committed file still decodes to the same
//! value and that the value still encodes to the same bytes.
//!
//! Events name the agent the work was done for (`agent`, `by`), so that projections can
//! attribute them without knowing who sent the request (that is the envelope's actor).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::actor::Actor;
use crate::ids::{
    AgentId, CallId, ChatId, DepartmentId, LevelId, RoleId, RuleId, TicketId, TokenId,
};
use crate::model::{
    BadgeAward, BadgeEvaluationRecord, BadgeVisibility, Best, Channel, ConversationRef, LevelGrant,
    LevelRevocation, PauseReason, Priority, Rating, RecomputeMode, ResumeReason, Statistic,
    TokenSubject,
};
use crate::roles::{Permissions, Role};
use crate::routing::RoutingRule;
use crate::time::Timestamp;

macro_rules! events {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// Every event kind. Append-only: new variants go at the end.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub enum Event {
            $($(#[$doc])* $name($name),)*
        }

        impl Event {
            /// The names of all event kinds, in declaration (= encoding) order.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($name),)*];

            /// The event kind's name, e.g. `"TicketCreated"`.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Event::$name(_) => stringify!($name),)*
                }
            }
        }

        $(impl From<$name> for Event {
            fn from(e: $name) -> Self {
                Event::$name(e)
            }
        })*
    };
}

events! {
    AgentRegistered,
    AgentRoleChanged,
    AgentWentOnline,
    AgentWentOffline,
    AgentPaused,
    AgentResumed,
    AgentDeactivated,
    DepartmentCreated,
    DepartmentUpdated,
    AgentAddedToDepartment,
    AgentRemovedFromDepartment,
    TicketCreated,
    TicketAssigned,
    TicketUnassigned,
    TicketTransferred,
    TicketAnswered,
    TicketCustomerReplied,
    TicketTagged,
    TicketUntagged,
    TicketResolved,
    TicketReopened,
    TicketDeleted,
    TicketPriorityChanged,
    ChatStarted,
    ChatOffered,
    ChatAccepted,
    ChatMissed,
    ChatMessageSent,
    ChatCustomerMessage,
    ChatEnded,
    CallIncoming,
    CallRinging,
    CallAnswered,
    CallMissed,
    CallEnded,
    ConversationRated,
    RatingRetracted,
    OrganizationSetUp,
    OrganizationSettingsChanged,
    TokenIssued,
    TokenRevoked,
    LevelDefined,
    LevelUpdated,
    LevelRemoved,
    LevelsReordered,
    BadgeCustomized,
    BadgeDefined,
    BadgeRemoved,
    RoutingRuleDefined,
    RoutingRuleRemoved,
    RoleDefined,
    RoleUpdated,
    RoleRemoved,
    ClockTicked,
    LevelsRecomputed,
    BadgesRecomputed,
    TokenExpires,
    RoutingRuleUpdated,
    DistributionSettingsChanged,
}

macro_rules! event_structs {
    ($($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident : $ty:ty),* $(,)? })*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub struct $name { $($(#[$fdoc])* pub $field: $ty,)* }
    )*};
}

event_structs! {
    // --- agent -------------------------------------------------------------------------
    AgentRegistered { agent: AgentId, name: String, email: String, role: Role }
    AgentRoleChanged { agent: AgentId, role: Role, previous: Role }
    AgentWentOnline { agent: AgentId }
    AgentWentOffline { agent: AgentId }
    /// `planned_end`: when the pause ends by itself (docs/TICKETS.md, Agents: presence and
    /// pauses), none for an open-ended pause.
    AgentPaused { agent: AgentId, reason: PauseReason, planned_end: Option<Timestamp> }
    AgentResumed { agent: AgentId, reason: ResumeReason }
    AgentDeactivated { agent: AgentId }

    // --- department ----------------------------------------------------------------------
    /// `to_solve_enabled`: a setting removed since; read by nothing (written as false).
    DepartmentCreated { department: DepartmentId, name: String, to_solve_enabled: bool }
    /// The department's values after the update (all of them).
    DepartmentUpdated { department: DepartmentId, name: String, to_solve_enabled: bool }
    AgentAddedToDepartment { department: DepartmentId, agent: AgentId }
    AgentRemovedFromDepartment { department: DepartmentId, agent: AgentId }

    // --- ticket --------------------------------------------------------------------------
    TicketCreated {
        ticket: TicketId,
        channel: Channel,
        priority: Priority,
        subject: String,
        body: Option<String>,
        department: Option<DepartmentId>,
    }
    /// `by`: the agent who assigned (or the actor, when no agent did; a rule for routing).
    TicketAssigned { ticket: TicketId, agent: AgentId, by: Actor }
    /// `agent`: who was assigned until now.
    TicketUnassigned { ticket: TicketId, agent: AgentId, by: Actor }
    TicketTransferred { ticket: TicketId, from: Option<DepartmentId>, to: DepartmentId, by: Actor }
    /// `chars`: the answer's length in characters.
    TicketAnswered { ticket: TicketId, agent: AgentId, chars: u32 }
    TicketCustomerReplied { ticket: TicketId }
    TicketTagged { ticket: TicketId, tag: String, by: Actor }
    TicketUntagged { ticket: TicketId, tag: String, by: Actor }
    TicketResolved { ticket: TicketId, by: Actor }
    TicketReopened { ticket: TicketId, by: Actor }
    TicketDeleted { ticket: TicketId, by: Actor }
    /// Appended by routing rules (SetPriority).
    TicketPriorityChanged { ticket: TicketId, priority: Priority, by: Actor }

    // --- chat ----------------------------------------------------------------------------
    ChatStarted { chat: ChatId, channel: Channel, department: Option<DepartmentId> }
    ChatOffered { chat: ChatId, agent: AgentId }
    ChatAccepted { chat: ChatId, agent: AgentId }
    ChatMissed { chat: ChatId, agent: AgentId }
    ChatMessageSent { chat: ChatId, agent: AgentId, chars: u32 }
    ChatCustomerMessage { chat: ChatId }
    /// `agent`: who accepted the chat (none when it ended unaccepted).
    ChatEnded { chat: ChatId, agent: Option<AgentId> }

    // --- call ----------------------------------------------------------------------------
    CallIncoming { call: CallId, department: Option<DepartmentId> }
    CallRinging { call: CallId, agent: AgentId }
    CallAnswered { call: CallId, agent: AgentId }
    CallMissed { call: CallId, agent: AgentId }
    /// `agent`: who answered the call (none when it ended unanswered).
    CallEnded { call: CallId, agent: Option<AgentId> }

    // --- rating --------------------------------------------------------------------------
    /// `agent`: who handled the conversation. `replaces`/`replaced_agent`: the rating this
    /// one replaces and the agent it was attributed to.
    ConversationRated {
        conversation: ConversationRef,
        agent: AgentId,
        rating: Rating,
        replaces: Option<Rating>,
        replaced_agent: Option<AgentId>,
    }
    /// The retracted rating and the agent it was attributed to.
    RatingRetracted { conversation: ConversationRef, agent: AgentId, rating: Rating }

    // --- configuration -------------------------------------------------------------------
    OrganizationSetUp { seed: [u8; 32], time_zone: String }
    /// Only the settings that changed are set.
    OrganizationSettingsChanged {
        time_zone: Option<String>,
        auto_pause: Option<bool>,
        clover_odds: Option<f64>,
        seed: Option<[u8; 32]>,
        max_custom_roles: Option<u32>,
    }
    /// `hash`: SHA-256 of the secret; the secret itself is never stored.
    TokenIssued { token_id: TokenId, hash: [u8; 32], subject: TokenSubject }
    TokenRevoked { token_id: TokenId }
    /// `rank`: 1-based; the levels at and above it move up one.
    LevelDefined { level_id: LevelId, rank: u32, name: String, description: String, condition: String }
    /// The level's values after the update (all of them).
    LevelUpdated { level_id: LevelId, name: String, description: String, condition: String }
    LevelRemoved { level_id: LevelId }
    /// Every level, lowest rank first.
    LevelsReordered { order: Vec<LevelId> }
    /// Only the fields that changed are set (built-in badges' defaults live outside the log).
    BadgeCustomized {
        key: String,
        name: Option<String>,
        description: Option<String>,
        image_url: Option<String>,
        visibility: Option<BadgeVisibility>,
        enabled: Option<bool>,
    }
    BadgeDefined {
        key: String,
        name: String,
        description: String,
        statistic: Statistic,
        window_days: u32,
        best: Best,
        minimum: u64,
    }
    BadgeRemoved { key: String }
    /// `position`: 0-based place among the rules.
    RoutingRuleDefined { rule: RoutingRule, position: u32 }
    RoutingRuleRemoved { rule_id: RuleId }
    RoleDefined { role_id: RoleId, name: String, permissions: Permissions }
    /// The role's values after the update (all of them).
    RoleUpdated { role_id: RoleId, name: String, permissions: Permissions }
    RoleRemoved { role_id: RoleId }

    // --- clock ---------------------------------------------------------------------------
    ClockTicked {}

    // --- configuration (later additions) -----------------------------------------------
    /// An administrator applied a recompute of the levels: these levels count as reached
    /// (at the time the replay reached them) and these no longer do. Everything else
    /// reached stays.
    LevelsRecomputed { mode: RecomputeMode, granted: Vec<LevelGrant>, revoked: Vec<LevelRevocation> }
    /// An administrator applied a recompute of the badges: these evaluations replace the
    /// ones of the same badge and midnight (an evaluation without holders takes a badge
    /// away). Everything else stays.
    BadgesRecomputed { mode: RecomputeMode, evaluations: Vec<BadgeEvaluationRecord> }
    /// The token stops authenticating at `expires_at` (appended with its TokenIssued).
    TokenExpires { token_id: TokenId, expires_at: Timestamp }
    /// A routing rule renamed, given notes (empty: none) or switched off or on; only the
    /// fields that are set change. A new event rather than new fields in
    /// RoutingRuleDefined, which is frozen: a rule defined before has no notes and is on.
    RoutingRuleUpdated { rule_id: RuleId, name: Option<String>, notes: Option<String>, enabled: Option<bool> }
    /// Who offers chats and rings calls, and for how long an offer waits for its answer
    /// (docs/DISTRIBUTION.md); only the settings that changed are set. A new event rather
    /// than new fields in OrganizationSettingsChanged, which is frozen: an organization
    /// that never set them routes by hand, with a routing time of 30 s.
    DistributionSettingsChanged { system_routes: Option<bool>, routing_seconds: Option<u32> }
}

impl Event {
    /// The configuration item this event creates, changes or removes: a level's, routing
    /// rule's, role's or token's id, or a badge's key. `None` for every other event
    /// (and for configuration events about no one item, like `LevelsReordered`).
    pub fn config_item(&self) -> Option<String> {
        match self {
            Event::TokenIssued(e) => Some(e.token_id.to_string()),
            Event::TokenRevoked(e) => Some(e.token_id.to_string()),
            Event::TokenExpires(e) => Some(e.token_id.to_string()),
            Event::LevelDefined(e) => Some(e.level_id.to_string()),
            Event::LevelUpdated(e) => Some(e.level_id.to_string()),
            Event::LevelRemoved(e) => Some(e.level_id.to_string()),
            Event::BadgeCustomized(e) => Some(e.key.clone()),
            Event::BadgeDefined(e) => Some(e.key.clone()),
            Event::BadgeRemoved(e) => Some(e.key.clone()),
            Event::RoutingRuleDefined(e) => Some(e.rule.rule_id.to_string()),
            Event::RoutingRuleRemoved(e) => Some(e.rule_id.to_string()),
            Event::RoutingRuleUpdated(e) => Some(e.rule_id.to_string()),
            Event::RoleDefined(e) => Some(e.role_id.to_string()),
            Event::RoleUpdated(e) => Some(e.role_id.to_string()),
            Event::RoleRemoved(e) => Some(e.role_id.to_string()),
            _ => None,
        }
    }
}

/// What a command's answer names as the thing it acted on: the configuration item of its
/// first event that names one (a configuration command answers the level, badge, rule,
/// role or token it created or changed, not the configuration's own id), else the
/// aggregate's id.
pub fn answer_id(aggregate: &impl ToString, events: &[Event]) -> String {
    events
        .iter()
        .find_map(Event::config_item)
        .unwrap_or_else(|| aggregate.to_string())
}

/// One sample of every event kind, in [`Event::NAMES`] order, with fixed values: the
/// golden files are these, encoded. Change a sample only together with a new variant.
pub fn samples() -> Vec<Event> {
    use crate::model::ConversationKind;
    use crate::routing::{Action, Condition};

    let u = |n: u128| Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n);
    let agent = AgentId::from_uuid(u(1));
    let other = AgentId::from_uuid(u(2));
    let department = DepartmentId::from_uuid(u(3));
    let department2 = DepartmentId::from_uuid(u(4));
    let ticket = TicketId::from_uuid(u(5));
    let chat = ChatId::from_uuid(u(6));
    let call = CallId::from_uuid(u(7));
    let level = LevelId::from_uuid(u(8));
    let level2 = LevelId::from_uuid(u(9));
    let rule = RuleId::from_uuid(u(10));
    let role = RoleId::from_uuid(u(11));
    let token = TokenId::from_uuid(u(12));
    let by = Actor::Agent(agent);
    let conversation = ConversationRef {
        kind: ConversationKind::Ticket,
        id: ticket.uuid(),
    };
    let t = Timestamp::from_millis(1_714_564_800_000);
    let permissions = Permissions::empty()
        .with(crate::roles::Permission::TicketsAssign)
        .with(crate::roles::Permission::ReportsView);

    vec![
        AgentRegistered {
            agent,
            name: "Ada Lovelace".into(),
            email: "ada@example.com".into(),
            role: Role::Custom(role),
        }
        .into(),
        AgentRoleChanged {
            agent,
            role: Role::Administrator,
            previous: Role::Agent,
        }
        .into(),
        AgentWentOnline { agent }.into(),
        AgentWentOffline { agent }.into(),
        AgentPaused {
            agent,
            reason: PauseReason::AutoMissed {
                conversation: ConversationRef::chat(chat),
            },
            planned_end: Some(t),
        }
        .into(),
        AgentResumed {
            agent,
            reason: ResumeReason::PlannedEnd,
        }
        .into(),
        AgentDeactivated { agent }.into(),
        DepartmentCreated {
            department,
            name: "Billing".into(),
            to_solve_enabled: true,
        }
        .into(),
        DepartmentUpdated {
            department,
            name: "Billing & Refunds".into(),
            to_solve_enabled: false,
        }
        .into(),
        AgentAddedToDepartment { department, agent }.into(),
        AgentRemovedFromDepartment { department, agent }.into(),
        TicketCreated {
            ticket,
            channel: Channel::WebForm,
            priority: Priority::High,
            subject: "Refund for order 42".into(),
            body: Some("Hello, I was charged twice.".into()),
            department: Some(department),
        }
        .into(),
        TicketAssigned {
            ticket,
            agent,
            by: Actor::Rule(rule),
        }
        .into(),
        TicketUnassigned { ticket, agent, by }.into(),
        TicketTransferred {
            ticket,
            from: Some(department),
            to: department2,
            by,
        }
        .into(),
        TicketAnswered {
            ticket,
            agent,
            chars: 321,
        }
        .into(),
        TicketCustomerReplied { ticket }.into(),
        TicketTagged {
            ticket,
            tag: "refund".into(),
            by: Actor::Integration(token),
        }
        .into(),
        TicketUntagged {
            ticket,
            tag: "refund".into(),
            by,
        }
        .into(),
        TicketResolved { ticket, by }.into(),
        TicketReopened {
            ticket,
            by: Actor::System,
        }
        .into(),
        TicketDeleted { ticket, by }.into(),
        TicketPriorityChanged {
            ticket,
            priority: Priority::Urgent,
            by: Actor::Rule(rule),
        }
        .into(),
        ChatStarted {
            chat,
            channel: Channel::Chat,
            department: None,
        }
        .into(),
        ChatOffered { chat, agent }.into(),
        ChatAccepted { chat, agent }.into(),
        ChatMissed { chat, agent: other }.into(),
        ChatMessageSent {
            chat,
            agent,
            chars: 42,
        }
        .into(),
        ChatCustomerMessage { chat }.into(),
        ChatEnded {
            chat,
            agent: Some(agent),
        }
        .into(),
        CallIncoming {
            call,
            department: Some(department),
        }
        .into(),
        CallRinging { call, agent }.into(),
        CallAnswered { call, agent }.into(),
        CallMissed { call, agent: other }.into(),
        CallEnded { call, agent: None }.into(),
        ConversationRated {
            conversation,
            agent,
            rating: Rating::Positive,
            replaces: Some(Rating::Negative),
            replaced_agent: Some(other),
        }
        .into(),
        RatingRetracted {
            conversation,
            agent,
            rating: Rating::Positive,
        }
        .into(),
        OrganizationSetUp {
            seed: [7; 32],
            time_zone: "Europe/Ljubljana".into(),
        }
        .into(),
        OrganizationSettingsChanged {
            time_zone: Some("America/New_York".into()),
            auto_pause: Some(true),
            clover_odds: Some(0.25),
            seed: None,
            max_custom_roles: Some(5),
        }
        .into(),
        TokenIssued {
            token_id: token,
            hash: [9; 32],
            subject: TokenSubject::Integration {
                name: "Shop".into(),
                role: Role::Agent,
            },
        }
        .into(),
        TokenRevoked { token_id: token }.into(),
        LevelDefined {
            level_id: level,
            rank: 1,
            name: "Novice".into(),
            description: "Welcome.".into(),
            condition: "1".into(),
        }
        .into(),
        LevelUpdated {
            level_id: level,
            name: "Rookie".into(),
            description: "Hi.".into(),
            condition: "$answers >= 1".into(),
        }
        .into(),
        LevelRemoved { level_id: level }.into(),
        LevelsReordered {
            order: vec![level2, level],
        }
        .into(),
        BadgeCustomized {
            key: "siesta".into(),
            name: Some("Nap Champion".into()),
            description: None,
            image_url: Some("https://example.com/nap.png".into()),
            visibility: Some(BadgeVisibility::SelfAndManagers),
            enabled: Some(false),
        }
        .into(),
        BadgeDefined {
            key: "night_owl".into(),
            name: "Night Owl".into(),
            description: "Most chats".into(),
            statistic: Statistic::LongestChat,
            window_days: 30,
            best: Best::Min,
            minimum: 3,
        }
        .into(),
        BadgeRemoved {
            key: "night_owl".into(),
        }
        .into(),
        RoutingRuleDefined {
            rule: RoutingRule {
                rule_id: rule,
                name: "Refunds".into(),
                groups: vec![
                    vec![
                        Condition::ChannelIn(vec![Channel::Email, Channel::WebForm]),
                        Condition::SubjectContains(vec!["refund".into()]),
                    ],
                    vec![
                        Condition::PriorityIn(vec![Priority::Urgent]),
                        Condition::BodyContains(vec!["chargeback".into()]),
                        Condition::SubjectOrBodyContains(vec!["money back".into()]),
                    ],
                ],
                actions: vec![
                    Action::TransferTo(department),
                    Action::AssignTo(vec![agent, other]),
                    Action::LeaveUnassigned,
                    Action::SetPriority(Priority::High),
                    Action::AddTags(vec!["refund".into()]),
                ],
            },
            position: 0,
        }
        .into(),
        RoutingRuleRemoved { rule_id: rule }.into(),
        RoleDefined {
            role_id: role,
            name: "Team lead".into(),
            permissions,
        }
        .into(),
        RoleUpdated {
            role_id: role,
            name: "Lead".into(),
            permissions: permissions.with(crate::roles::Permission::SystemReplay),
        }
        .into(),
        RoleRemoved { role_id: role }.into(),
        ClockTicked {}.into(),
        LevelsRecomputed {
            mode: RecomputeMode::TodaysDefinitions,
            granted: vec![LevelGrant {
                agent,
                level,
                reached_at: t,
                values: vec![1.5, 10.0, 0.0],
            }],
            revoked: vec![LevelRevocation {
                agent: other,
                level: level2,
            }],
        }
        .into(),
        BadgesRecomputed {
            mode: RecomputeMode::AsItHappened,
            evaluations: vec![BadgeEvaluationRecord {
                key: "siesta".into(),
                day: 19_844,
                from: 19_837,
                to: 19_843,
                holders: vec![BadgeAward {
                    agent,
                    value: Some(5_400_000),
                }],
                value: Some(5_400_000),
                runner_up: Some(1_800_000),
                competitors: 3,
            }],
        }
        .into(),
        TokenExpires {
            token_id: token,
            expires_at: t.plus_minutes(60 * 24 * 90),
        }
        .into(),
        RoutingRuleUpdated {
            rule_id: rule,
            name: Some("Refunds to Billing".into()),
            notes: Some("Asked for by the billing team.".into()),
            enabled: Some(false),
        }
        .into(),
        DistributionSettingsChanged {
            system_routes: Some(true),
            routing_seconds: Some(45),
        }
        .into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_cover_every_event_kind_in_order() {
        let names: Vec<&str> = samples().iter().map(Event::name).collect();
        assert_eq!(names, Event::NAMES);
    }
}
