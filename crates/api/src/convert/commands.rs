//! Command requests → domain [`Command`]s.
//!
//! Each `*Request` implements [`IntoCommand`]: ids are parsed (a bad one is
//! `INVALID_ARGUMENT` naming the field), required fields and enums are checked,
//! creations without an id get a new UUID v7, and an empty `agent_id` means the
//! caller. Limits and shapes (lengths, ranges) are the domain's
//! [`Command::validate`], which the engine runs; its field names are the
//! request's field names.

use helpdesk_domain::command::{self as cmd, Command};
use helpdesk_domain::ids::{
    AgentId, CallId, ChatId, DepartmentId, LevelId, RoleId, RuleId, TicketId, TokenId,
};
use helpdesk_domain::model::{
    BadgeVisibility, Best, Channel, ConversationKind, ConversationRef, PauseReason, Priority,
    Rating, ResumeReason, Statistic, TokenSubject,
};
use helpdesk_domain::roles::{Permission, Permissions, Role};
use helpdesk_domain::routing::{Action, Condition};
use helpdesk_domain::time::Timestamp;
use uuid::Uuid;

use super::{
    command_id, new_or_given_id, occurred_at_millis, optional_enum, parse_id, parse_ids,
    parse_optional_id, required, required_enum,
};
use crate::error::ApiError;

/// Refuses an `occurred_at` before [`helpdesk_domain::limits::OCCURRED_AT_MIN_MILLIS`]
/// (1990-01-01, docs/TICKETS.md, Input limits).
fn occurred_at_not_too_early(millis: i64) -> Result<i64, ApiError> {
    if millis < helpdesk_domain::limits::OCCURRED_AT_MIN_MILLIS {
        return Err(ApiError::invalid_argument(
            "occurred_at",
            "is before 1990-01-01T00:00:00Z, the earliest time a command may carry",
        ));
    }
    Ok(millis)
}
use crate::pb;

/// A command request, checked and turned into domain terms.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedCommand {
    /// The idempotency key: the one sent, or a new UUID v7.
    pub command_id: Uuid,
    /// The caller-supplied event time (needs `system.import`; the engine checks).
    pub occurred_at: Option<Timestamp>,
    /// The command.
    pub command: Command,
}

/// A request message that carries one command.
pub trait IntoCommand {
    /// The command, for a caller whose own agent is `caller` (`None` for an
    /// integration account or the system). An empty `agent_id` names the
    /// caller; where the command needs an agent and the caller is none, it is
    /// `INVALID_ARGUMENT` naming `agent_id`.
    fn into_command(self, caller: Option<AgentId>) -> Result<ParsedCommand, ApiError>;
}

// ------------------------------------------------------------------ helpers

/// A required agent: the one named, else the caller.
fn agent_or_caller(field: &str, value: &str, caller: Option<AgentId>) -> Result<AgentId, ApiError> {
    match parse_optional_id(field, value)? {
        Some(agent) => Ok(agent),
        None => caller.ok_or_else(|| {
            ApiError::invalid_argument(field, "is required when the caller is not an agent")
        }),
    }
}

/// An optional agent: empty leaves it to the domain (the caller).
fn optional_agent(field: &str, value: &str) -> Result<Option<AgentId>, ApiError> {
    parse_optional_id(field, value)
}

fn channel(field: &str, value: i32) -> Result<Channel, ApiError> {
    Ok(match required_enum::<pb::Channel>(field, value)? {
        pb::Channel::Unspecified => return Err(ApiError::missing_field(field)),
        pb::Channel::Email => Channel::Email,
        pb::Channel::Chat => Channel::Chat,
        pb::Channel::Call => Channel::Call,
        pb::Channel::WebForm => Channel::WebForm,
        pb::Channel::Facebook => Channel::Facebook,
        pb::Channel::Twitter => Channel::Twitter,
        pb::Channel::Instagram => Channel::Instagram,
        pb::Channel::Viber => Channel::Viber,
        pb::Channel::Whatsapp => Channel::Whatsapp,
        pb::Channel::Api => Channel::Api,
    })
}

fn priority(field: &str, value: i32) -> Result<Priority, ApiError> {
    Ok(match required_enum::<pb::Priority>(field, value)? {
        pb::Priority::Unspecified => return Err(ApiError::missing_field(field)),
        pb::Priority::Low => Priority::Low,
        pb::Priority::Normal => Priority::Normal,
        pb::Priority::High => Priority::High,
        pb::Priority::Urgent => Priority::Urgent,
    })
}

fn role(field: &str, value: Option<pb::RoleRef>) -> Result<Role, ApiError> {
    let role = required(field, value.and_then(|r| r.role))?;
    Ok(match role {
        pb::role_ref::Role::Builtin(builtin) => {
            let field = format!("{field}.builtin");
            match required_enum::<pb::BuiltinRole>(&field, builtin)? {
                pb::BuiltinRole::Unspecified => return Err(ApiError::missing_field(field)),
                pb::BuiltinRole::Owner => Role::Owner,
                pb::BuiltinRole::Administrator => Role::Administrator,
                pb::BuiltinRole::Agent => Role::Agent,
            }
        }
        pb::role_ref::Role::CustomRoleId(id) => {
            Role::Custom(parse_id(&format!("{field}.custom_role_id"), &id)?)
        }
    })
}

fn conversation(
    field: &str,
    value: Option<pb::ConversationRef>,
) -> Result<ConversationRef, ApiError> {
    let value = required(field, value)?;
    let kind_field = format!("{field}.kind");
    let kind = match required_enum::<pb::ConversationKind>(&kind_field, value.kind)? {
        pb::ConversationKind::Unspecified => return Err(ApiError::missing_field(kind_field)),
        pb::ConversationKind::Ticket => ConversationKind::Ticket,
        pb::ConversationKind::Chat => ConversationKind::Chat,
        pb::ConversationKind::Call => ConversationKind::Call,
    };
    let id = parse_id(&format!("{field}.id"), &value.id)?;
    Ok(ConversationRef { kind, id })
}

fn rating(field: &str, value: i32) -> Result<Rating, ApiError> {
    Ok(match required_enum::<pb::Rating>(field, value)? {
        pb::Rating::Unspecified => return Err(ApiError::missing_field(field)),
        pb::Rating::Positive => Rating::Positive,
        pb::Rating::Negative => Rating::Negative,
    })
}

fn resume_reason(field: &str, value: i32) -> Result<Option<ResumeReason>, ApiError> {
    Ok(
        optional_enum::<pb::ResumeReason>(field, value)?.and_then(|r| match r {
            pb::ResumeReason::Unspecified => None,
            pb::ResumeReason::Manual => Some(ResumeReason::Manual),
            pb::ResumeReason::PlannedEnd => Some(ResumeReason::PlannedEnd),
            pb::ResumeReason::ByAdmin => Some(ResumeReason::ByAdmin),
            pb::ResumeReason::WentOffline => Some(ResumeReason::WentOffline),
        }),
    )
}

fn visibility(field: &str, value: Option<i32>) -> Result<Option<BadgeVisibility>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    Ok(Some(
        match required_enum::<pb::BadgeVisibility>(field, value)? {
            pb::BadgeVisibility::Unspecified => return Err(ApiError::missing_field(field)),
            pb::BadgeVisibility::Public => BadgeVisibility::Public,
            pb::BadgeVisibility::SelfAndManagers => BadgeVisibility::SelfAndManagers,
        },
    ))
}

fn statistic(field: &str, value: i32) -> Result<Statistic, ApiError> {
    use pb::BadgeStatistic as S;
    Ok(match required_enum::<S>(field, value)? {
        S::Unspecified => return Err(ApiError::missing_field(field)),
        S::Transfers => Statistic::Transfers,
        S::PausedSeconds => Statistic::PausedSeconds,
        S::NegativeRatings => Statistic::NegativeRatings,
        S::MeanAnswerWait => Statistic::MeanAnswerWait,
        S::MeanChatPickup => Statistic::MeanChatPickup,
        S::PositiveRatings => Statistic::PositiveRatings,
        S::PausesStarted => Statistic::PausesStarted,
        S::LongestAnswer => Statistic::LongestAnswer,
        S::TicketsTagged => Statistic::TicketsTagged,
        S::MeanResolution => Statistic::MeanResolution,
        S::OnlineSeconds => Statistic::OnlineSeconds,
        S::LongestChat => Statistic::LongestChat,
        S::ResolutionsAndDeletions => Statistic::ResolutionsAndDeletions,
        S::LongestCall => Statistic::LongestCall,
    })
}

fn best(field: &str, value: i32) -> Result<Best, ApiError> {
    Ok(match required_enum::<pb::BadgeBest>(field, value)? {
        pb::BadgeBest::Unspecified => return Err(ApiError::missing_field(field)),
        pb::BadgeBest::Max => Best::Max,
        pb::BadgeBest::Min => Best::Min,
    })
}

fn permissions(field: &str, names: &[String]) -> Result<Permissions, ApiError> {
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            name.parse::<Permission>().map_err(|_| {
                let known: Vec<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
                ApiError::invalid_argument(
                    format!("{field}[{i}]"),
                    format!(
                        "unknown permission {:?}; one of {}",
                        super::clip(name),
                        known.join(", ")
                    ),
                )
            })
        })
        .collect()
}

fn seed(field: &str, bytes: Vec<u8>) -> Result<[u8; 32], ApiError> {
    let len = bytes.len();
    bytes
        .try_into()
        .map_err(|_| ApiError::invalid_argument(field, format!("exactly 32 bytes, got {len}")))
}

fn enum_list<T>(
    field: &str,
    values: &[i32],
    one: impl Fn(&str, i32) -> Result<T, ApiError>,
) -> Result<Vec<T>, ApiError> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| one(&format!("{field}[{i}]"), *v))
        .collect()
}

fn condition(field: &str, value: pb::RoutingCondition) -> Result<Condition, ApiError> {
    use pb::routing_condition::Condition as C;
    Ok(match required(field, value.condition)? {
        C::ChannelIn(set) => Condition::ChannelIn(enum_list(
            &format!("{field}.channel_in.channels"),
            &set.channels,
            channel,
        )?),
        C::PriorityIn(set) => Condition::PriorityIn(enum_list(
            &format!("{field}.priority_in.priorities"),
            &set.priorities,
            priority,
        )?),
        C::SubjectContains(words) => Condition::SubjectContains(words.words),
        C::BodyContains(words) => Condition::BodyContains(words.words),
        C::SubjectOrBodyContains(words) => Condition::SubjectOrBodyContains(words.words),
    })
}

fn action(field: &str, value: pb::RoutingAction) -> Result<Action, ApiError> {
    use pb::routing_action::Action as A;
    Ok(match required(field, value.action)? {
        A::TransferToDepartmentId(id) => Action::TransferTo(parse_id(
            &format!("{field}.transfer_to_department_id"),
            &id,
        )?),
        A::AssignTo(list) => Action::AssignTo(parse_ids(
            &format!("{field}.assign_to.agent_ids"),
            &list.agent_ids,
        )?),
        A::LeaveUnassigned(pb::LeaveUnassigned {}) => Action::LeaveUnassigned,
        A::SetPriority(p) => Action::SetPriority(priority(&format!("{field}.set_priority"), p)?),
        A::AddTags(list) => Action::AddTags(list.tags),
    })
}

// ------------------------------------------------------------ the requests

/// Implements [`IntoCommand`] for a request: `|request, caller| -> Result<domain struct>`.
macro_rules! into_command {
    ($($request:ident => |$r:ident, $caller:ident| $body:block)*) => {$(
        impl IntoCommand for pb::$request {
            #[allow(unused_variables)]
            fn into_command(self, $caller: Option<AgentId>) -> Result<ParsedCommand, ApiError> {
                let command_id = command_id(&self.command_id)?;
                let occurred_at = occurred_at_millis(self.occurred_at.as_ref())?
                    .map(occurred_at_not_too_early)
                    .transpose()?
                    .map(Timestamp::from_millis);
                let $r = self;
                let command: Command = {
                    let value: Result<_, ApiError> = $body;
                    value?
                }
                .into();
                Ok(ParsedCommand { command_id, occurred_at, command })
            }
        }
    )*};
}

into_command! {
    // agents
    RegisterAgentRequest => |r, caller| {
        Ok(cmd::RegisterAgent {
            agent_id: new_or_given_id::<AgentId>("agent_id", &r.agent_id)?,
            name: r.name,
            email: r.email,
            role: role("role", r.role)?,
        })
    }
    ChangeAgentRoleRequest => |r, caller| {
        Ok(cmd::ChangeAgentRole {
            agent: agent_or_caller("agent_id", &r.agent_id, caller)?,
            role: role("role", r.role)?,
        })
    }
    GoOnlineRequest => |r, caller| {
        Ok(cmd::GoOnline { agent: agent_or_caller("agent_id", &r.agent_id, caller)? })
    }
    GoOfflineRequest => |r, caller| {
        Ok(cmd::GoOffline { agent: agent_or_caller("agent_id", &r.agent_id, caller)? })
    }
    PauseAgentRequest => |r, caller| {
        use pb::pause_agent_request::PauseReason as R;
        let reason = match r.pause_reason {
            None => PauseReason::Text(String::new()),
            Some(R::Reason(text)) => PauseReason::Text(text),
            Some(R::AutoMissed(c)) => PauseReason::AutoMissed {
                conversation: conversation("auto_missed", Some(c))?,
            },
        };
        Ok(cmd::PauseAgent {
            agent: agent_or_caller("agent_id", &r.agent_id, caller)?,
            reason,
            planned_minutes: r.planned_minutes,
        })
    }
    ResumeAgentRequest => |r, caller| {
        Ok(cmd::ResumeAgent {
            agent: agent_or_caller("agent_id", &r.agent_id, caller)?,
            reason: resume_reason("reason", r.reason)?,
        })
    }
    DeactivateAgentRequest => |r, caller| {
        Ok(cmd::DeactivateAgent { agent: agent_or_caller("agent_id", &r.agent_id, caller)? })
    }

    // departments
    CreateDepartmentRequest => |r, caller| {
        Ok(cmd::CreateDepartment {
            department_id: new_or_given_id::<DepartmentId>("department_id", &r.department_id)?,
            name: r.name,
        })
    }
    UpdateDepartmentRequest => |r, caller| {
        Ok(cmd::UpdateDepartment {
            department: parse_id("department_id", &r.department_id)?,
            name: r.name,
        })
    }
    AddAgentToDepartmentRequest => |r, caller| {
        Ok(cmd::AddAgentToDepartment {
            department: parse_id("department_id", &r.department_id)?,
            agent: agent_or_caller("agent_id", &r.agent_id, caller)?,
        })
    }
    RemoveAgentFromDepartmentRequest => |r, caller| {
        Ok(cmd::RemoveAgentFromDepartment {
            department: parse_id("department_id", &r.department_id)?,
            agent: agent_or_caller("agent_id", &r.agent_id, caller)?,
        })
    }

    // tickets
    CreateTicketRequest => |r, caller| {
        Ok(cmd::CreateTicket {
            ticket_id: new_or_given_id::<TicketId>("ticket_id", &r.ticket_id)?,
            channel: channel("channel", r.channel)?,
            priority: priority("priority", r.priority)?,
            subject: r.subject,
            body: r.body,
            department: parse_optional_id("department_id", &r.department_id)?,
        })
    }
    AssignTicketRequest => |r, caller| {
        Ok(cmd::AssignTicket {
            ticket: parse_id("ticket_id", &r.ticket_id)?,
            agent: agent_or_caller("agent_id", &r.agent_id, caller)?,
            by: optional_agent("by_agent_id", &r.by_agent_id)?,
        })
    }
    UnassignTicketRequest => |r, caller| {
        Ok(cmd::UnassignTicket {
            ticket: parse_id("ticket_id", &r.ticket_id)?,
            by: optional_agent("by_agent_id", &r.by_agent_id)?,
        })
    }
    TransferTicketRequest => |r, caller| {
        Ok(cmd::TransferTicket {
            ticket: parse_id("ticket_id", &r.ticket_id)?,
            department: parse_id("department_id", &r.department_id)?,
            agent: optional_agent("agent_id", &r.agent_id)?,
        })
    }
    AnswerTicketRequest => |r, caller| {
        Ok(cmd::AnswerTicket {
            ticket: parse_id("ticket_id", &r.ticket_id)?,
            agent: optional_agent("agent_id", &r.agent_id)?,
            chars: r.chars,
        })
    }
    RecordCustomerReplyRequest => |r, caller| {
        Ok(cmd::RecordCustomerReply { ticket: parse_id("ticket_id", &r.ticket_id)? })
    }
    TagTicketRequest => |r, caller| {
        Ok(cmd::TagTicket {
            ticket: parse_id("ticket_id", &r.ticket_id)?,
            tag: r.tag,
            agent: optional_agent("agent_id", &r.agent_id)?,
        })
    }
    UntagTicketRequest => |r, caller| {
        Ok(cmd::UntagTicket {
            ticket: parse_id("ticket_id", &r.ticket_id)?,
            tag: r.tag,
            agent: optional_agent("agent_id", &r.agent_id)?,
        })
    }
    ResolveTicketRequest => |r, caller| {
        Ok(cmd::ResolveTicket {
            ticket: parse_id("ticket_id", &r.ticket_id)?,
            agent: optional_agent("agent_id", &r.agent_id)?,
        })
    }
    ReopenTicketRequest => |r, caller| {
        Ok(cmd::ReopenTicket {
            ticket: parse_id("ticket_id", &r.ticket_id)?,
            agent: optional_agent("agent_id", &r.agent_id)?,
        })
    }
    DeleteTicketRequest => |r, caller| {
        Ok(cmd::DeleteTicket {
            ticket: parse_id("ticket_id", &r.ticket_id)?,
            agent: optional_agent("agent_id", &r.agent_id)?,
        })
    }

    // chats
    StartChatRequest => |r, caller| {
        Ok(cmd::StartChat {
            chat_id: new_or_given_id::<ChatId>("chat_id", &r.chat_id)?,
            channel: channel("channel", r.channel)?,
            department: parse_optional_id("department_id", &r.department_id)?,
        })
    }
    OfferChatRequest => |r, caller| {
        Ok(cmd::OfferChat {
            chat: parse_id("chat_id", &r.chat_id)?,
            agent: agent_or_caller("agent_id", &r.agent_id, caller)?,
        })
    }
    AcceptChatRequest => |r, caller| {
        Ok(cmd::AcceptChat {
            chat: parse_id("chat_id", &r.chat_id)?,
            agent: optional_agent("agent_id", &r.agent_id)?,
        })
    }
    MissChatRequest => |r, caller| {
        Ok(cmd::MissChat { chat: parse_id("chat_id", &r.chat_id)? })
    }
    AnswerChatRequest => |r, caller| {
        Ok(cmd::AnswerChat {
            chat: parse_id("chat_id", &r.chat_id)?,
            agent: optional_agent("agent_id", &r.agent_id)?,
            chars: r.chars,
        })
    }
    RecordChatCustomerMessageRequest => |r, caller| {
        Ok(cmd::RecordChatCustomerMessage { chat: parse_id("chat_id", &r.chat_id)? })
    }
    EndChatRequest => |r, caller| {
        Ok(cmd::EndChat { chat: parse_id("chat_id", &r.chat_id)? })
    }

    // calls
    IncomingCallRequest => |r, caller| {
        Ok(cmd::IncomingCall {
            call_id: new_or_given_id::<CallId>("call_id", &r.call_id)?,
            department: parse_optional_id("department_id", &r.department_id)?,
        })
    }
    RingCallRequest => |r, caller| {
        Ok(cmd::RingCall {
            call: parse_id("call_id", &r.call_id)?,
            agent: agent_or_caller("agent_id", &r.agent_id, caller)?,
        })
    }
    AnswerCallRequest => |r, caller| {
        Ok(cmd::AnswerCall {
            call: parse_id("call_id", &r.call_id)?,
            agent: optional_agent("agent_id", &r.agent_id)?,
        })
    }
    MissCallRequest => |r, caller| {
        Ok(cmd::MissCall { call: parse_id("call_id", &r.call_id)? })
    }
    EndCallRequest => |r, caller| {
        Ok(cmd::EndCall { call: parse_id("call_id", &r.call_id)? })
    }

    // ratings
    RateConversationRequest => |r, caller| {
        Ok(cmd::RateConversation {
            conversation: conversation("conversation", r.conversation)?,
            rating: rating("rating", r.rating)?,
        })
    }
    RetractRatingRequest => |r, caller| {
        Ok(cmd::RetractRating { conversation: conversation("conversation", r.conversation)? })
    }

    // configuration
    DefineLevelRequest => |r, caller| {
        Ok(cmd::DefineLevel {
            level_id: new_or_given_id::<LevelId>("level_id", &r.level_id)?,
            rank: r.rank,
            name: r.name,
            description: r.description,
            condition: r.condition,
        })
    }
    UpdateLevelRequest => |r, caller| {
        Ok(cmd::UpdateLevel {
            level_id: parse_id("level_id", &r.level_id)?,
            name: r.name,
            description: r.description,
            condition: r.condition,
        })
    }
    RemoveLevelRequest => |r, caller| {
        Ok(cmd::RemoveLevel { level_id: parse_id("level_id", &r.level_id)? })
    }
    ReorderLevelsRequest => |r, caller| {
        Ok(cmd::ReorderLevels { order: parse_ids::<LevelId>("order", &r.order)? })
    }
    CustomizeBadgeRequest => |r, caller| {
        Ok(cmd::CustomizeBadge {
            key: r.key,
            name: r.name,
            description: r.description,
            image_url: r.image_url,
            visibility: visibility("visibility", r.visibility)?,
            enabled: r.enabled,
        })
    }
    DefineBadgeRequest => |r, caller| {
        Ok(cmd::DefineBadge {
            key: r.key,
            name: r.name,
            description: r.description,
            statistic: statistic("statistic", r.statistic)?,
            window_days: r.window_days,
            best: best("best", r.best)?,
            minimum: r.minimum,
        })
    }
    RemoveBadgeRequest => |r, caller| {
        Ok(cmd::RemoveBadge { key: r.key })
    }
    DefineRoutingRuleRequest => |r, caller| {
        let groups = r
            .groups
            .into_iter()
            .enumerate()
            .map(|(g, group)| {
                group
                    .conditions
                    .into_iter()
                    .enumerate()
                    .map(|(c, value)| condition(&format!("groups[{g}].conditions[{c}]"), value))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let actions = r
            .actions
            .into_iter()
            .enumerate()
            .map(|(a, value)| action(&format!("actions[{a}]"), value))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(cmd::DefineRoutingRule {
            rule_id: new_or_given_id::<RuleId>("rule_id", &r.rule_id)?,
            name: r.name,
            groups,
            actions,
            position: r.position,
        })
    }
    RemoveRoutingRuleRequest => |r, caller| {
        Ok(cmd::RemoveRoutingRule { rule_id: parse_id("rule_id", &r.rule_id)? })
    }
    UpdateRoutingRuleRequest => |r, caller| {
        Ok(cmd::UpdateRoutingRule {
            rule_id: parse_id("rule_id", &r.rule_id)?,
            name: r.name,
            notes: r.notes,
            enabled: r.enabled,
        })
    }
    DefineRoleRequest => |r, caller| {
        Ok(cmd::DefineRole {
            role_id: new_or_given_id::<RoleId>("role_id", &r.role_id)?,
            name: r.name,
            permissions: permissions("permissions", &r.permissions)?,
        })
    }
    UpdateRoleRequest => |r, caller| {
        Ok(cmd::UpdateRole {
            role_id: parse_id("role_id", &r.role_id)?,
            name: r.name,
            permissions: r
                .permissions
                .map(|set| permissions("permissions.permissions", &set.permissions))
                .transpose()?,
        })
    }
    RemoveRoleRequest => |r, caller| {
        Ok(cmd::RemoveRole { role_id: parse_id("role_id", &r.role_id)? })
    }
    SetOrganizationSettingsRequest => |r, caller| {
        Ok(cmd::SetOrganizationSettings {
            time_zone: r.time_zone,
            auto_pause: r.auto_pause,
            clover_odds: r.clover_odds,
            seed: r.seed.map(|bytes| seed("seed", bytes)).transpose()?,
            max_custom_roles: r.max_custom_roles,
            system_routes: r.system_routes,
            routing_seconds: r.routing_seconds,
        })
    }
}

// ------------------------------------------------------------ AdminService

/// `IssueToken` for a token whose secret hashes to `hash`: the server makes the secret,
/// so this request is not an [`IntoCommand`].
/// The command, and the id of the token it issues (given, or a new one).
pub fn issue_token(
    request: pb::IssueTokenRequest,
    hash: [u8; 32],
) -> Result<(ParsedCommand, TokenId), ApiError> {
    let command_id = command_id(&request.command_id)?;
    let token_id = new_or_given_id::<TokenId>("token_id", &request.token_id)?;
    let subject = match required("subject", request.subject)? {
        pb::issue_token_request::Subject::AgentId(id) => {
            TokenSubject::Agent(parse_id("agent_id", &id)?)
        }
        pb::issue_token_request::Subject::Integration(account) => TokenSubject::Integration {
            name: account.name,
            role: role("integration.role", account.role)?,
        },
    };
    let parsed = ParsedCommand {
        command_id,
        occurred_at: None,
        command: cmd::IssueToken {
            token_id,
            hash,
            subject,
            expires_at: occurred_at_millis(request.expires_at.as_ref())
                .map_err(|e| e.with_field("expires_at"))?
                .map(Timestamp::from_millis),
        }
        .into(),
    };
    Ok((parsed, token_id))
}

impl IntoCommand for pb::RevokeTokenRequest {
    fn into_command(self, _caller: Option<AgentId>) -> Result<ParsedCommand, ApiError> {
        Ok(ParsedCommand {
            command_id: command_id(&self.command_id)?,
            occurred_at: None,
            command: cmd::RevokeToken {
                token_id: parse_id("token_id", &self.token_id)?,
            }
            .into(),
        })
    }
}

impl IntoCommand for pb::execute_request::Command {
    fn into_command(self, caller: Option<AgentId>) -> Result<ParsedCommand, ApiError> {
        use pb::execute_request::Command as C;
        match self {
            C::RegisterAgent(r) => r.into_command(caller),
            C::ChangeAgentRole(r) => r.into_command(caller),
            C::GoOnline(r) => r.into_command(caller),
            C::GoOffline(r) => r.into_command(caller),
            C::PauseAgent(r) => r.into_command(caller),
            C::ResumeAgent(r) => r.into_command(caller),
            C::DeactivateAgent(r) => r.into_command(caller),
            C::CreateDepartment(r) => r.into_command(caller),
            C::UpdateDepartment(r) => r.into_command(caller),
            C::AddAgentToDepartment(r) => r.into_command(caller),
            C::RemoveAgentFromDepartment(r) => r.into_command(caller),
            C::CreateTicket(r) => r.into_command(caller),
            C::AssignTicket(r) => r.into_command(caller),
            C::UnassignTicket(r) => r.into_command(caller),
            C::TransferTicket(r) => r.into_command(caller),
            C::AnswerTicket(r) => r.into_command(caller),
            C::RecordCustomerReply(r) => r.into_command(caller),
            C::TagTicket(r) => r.into_command(caller),
            C::UntagTicket(r) => r.into_command(caller),
            C::ResolveTicket(r) => r.into_command(caller),
            C::ReopenTicket(r) => r.into_command(caller),
            C::DeleteTicket(r) => r.into_command(caller),
            C::StartChat(r) => r.into_command(caller),
            C::OfferChat(r) => r.into_command(caller),
            C::AcceptChat(r) => r.into_command(caller),
            C::MissChat(r) => r.into_command(caller),
            C::AnswerChat(r) => r.into_command(caller),
            C::RecordChatCustomerMessage(r) => r.into_command(caller),
            C::EndChat(r) => r.into_command(caller),
            C::IncomingCall(r) => r.into_command(caller),
            C::RingCall(r) => r.into_command(caller),
            C::AnswerCall(r) => r.into_command(caller),
            C::MissCall(r) => r.into_command(caller),
            C::EndCall(r) => r.into_command(caller),
            C::RateConversation(r) => r.into_command(caller),
            C::RetractRating(r) => r.into_command(caller),
            C::DefineLevel(r) => r.into_command(caller),
            C::UpdateLevel(r) => r.into_command(caller),
            C::RemoveLevel(r) => r.into_command(caller),
            C::ReorderLevels(r) => r.into_command(caller),
            C::CustomizeBadge(r) => r.into_command(caller),
            C::DefineBadge(r) => r.into_command(caller),
            C::RemoveBadge(r) => r.into_command(caller),
            C::DefineRoutingRule(r) => r.into_command(caller),
            C::RemoveRoutingRule(r) => r.into_command(caller),
            C::DefineRole(r) => r.into_command(caller),
            C::UpdateRole(r) => r.into_command(caller),
            C::RemoveRole(r) => r.into_command(caller),
            C::SetOrganizationSettings(r) => r.into_command(caller),
            C::UpdateRoutingRule(r) => r.into_command(caller),
        }
    }
}

/// An `Execute` stream entry. Field names in errors are those of the command's
/// own request message (`subject`, not `create_ticket.subject`): the response's
/// index says which request it was. No command set is `INVALID_ARGUMENT`
/// naming `command`.
impl IntoCommand for pb::ExecuteRequest {
    fn into_command(self, caller: Option<AgentId>) -> Result<ParsedCommand, ApiError> {
        required("command", self.command)?.into_command(caller)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn caller() -> AgentId {
        AgentId::new_v7()
    }

    #[track_caller]
    fn ok(request: impl IntoCommand, caller: Option<AgentId>) -> ParsedCommand {
        request.into_command(caller).expect("converts")
    }

    #[track_caller]
    fn invalid(request: impl IntoCommand, field: &str) -> ApiError {
        let err = request.into_command(Some(caller())).expect_err("refused");
        assert_eq!(err.code(), ErrorCode::InvalidArgument, "{err}");
        assert_eq!(err.field(), Some(field), "{err}");
        err
    }

    #[test]
    fn create_ticket_generates_v7_ids_and_keeps_given_ones() {
        let department = DepartmentId::new_v7();
        let parsed = ok(
            pb::CreateTicketRequest {
                channel: pb::Channel::Email as i32,
                priority: pb::Priority::High as i32,
                subject: "Printer on fire".into(),
                body: Some("help".into()),
                department_id: department.to_string(),
                ..Default::default()
            },
            None,
        );
        assert_eq!(parsed.command_id.get_version_num(), 7);
        assert_eq!(parsed.occurred_at, None);
        let Command::CreateTicket(c) = parsed.command else {
            panic!("{parsed:?}")
        };
        assert_eq!(c.ticket_id.uuid().get_version_num(), 7);
        assert_eq!(c.channel, Channel::Email);
        assert_eq!(c.priority, Priority::High);
        assert_eq!(c.subject, "Printer on fire");
        assert_eq!(c.body.as_deref(), Some("help"));
        assert_eq!(c.department, Some(department));

        let ticket = TicketId::new_v7();
        let command_id = Uuid::new_v4();
        let parsed = ok(
            pb::CreateTicketRequest {
                command_id: command_id.to_string(),
                occurred_at: Some(prost_types::Timestamp {
                    seconds: 1_700_000_000,
                    nanos: 5_000_000,
                }),
                ticket_id: ticket.to_string(),
                channel: pb::Channel::Api as i32,
                priority: pb::Priority::Low as i32,
                subject: "s".into(),
                ..Default::default()
            },
            None,
        );
        assert_eq!(parsed.command_id, command_id);
        assert_eq!(
            parsed.occurred_at,
            Some(Timestamp::from_millis(1_700_000_000_005))
        );
        let Command::CreateTicket(c) = parsed.command else {
            panic!()
        };
        assert_eq!(c.ticket_id, ticket);
        assert_eq!(c.department, None);
        assert_eq!(c.body, None);
    }

    #[test]
    fn bad_ids_and_enums_name_the_field() {
        let err = invalid(
            pb::CreateTicketRequest {
                ticket_id: "not-a-uuid".into(),
                channel: 1,
                priority: 1,
                ..Default::default()
            },
            "ticket_id",
        );
        assert!(err
            .status_message()
            .starts_with("field `ticket_id`: not a UUID"));
        invalid(
            pb::CreateTicketRequest {
                priority: 1,
                ..Default::default()
            },
            "channel",
        );
        invalid(
            pb::CreateTicketRequest {
                channel: 1,
                priority: 77,
                ..Default::default()
            },
            "priority",
        );
        invalid(pb::AssignTicketRequest::default(), "ticket_id");
        invalid(
            pb::GoOnlineRequest {
                command_id: "x".into(),
                ..Default::default()
            },
            "command_id",
        );
        // Year 0001, and a millisecond before 1990 (docs/TICKETS.md, Input limits).
        for seconds in [-62_135_596_800, 631_151_999] {
            invalid(
                pb::GoOnlineRequest {
                    occurred_at: Some(prost_types::Timestamp {
                        seconds,
                        nanos: 999_000_000,
                    }),
                    ..Default::default()
                },
                "occurred_at",
            );
        }
        invalid(
            pb::GoOnlineRequest {
                occurred_at: Some(prost_types::Timestamp {
                    seconds: 0,
                    nanos: 2_000_000_000,
                }),
                ..Default::default()
            },
            "occurred_at",
        );
    }

    #[test]
    fn empty_agent_id_is_the_caller() {
        let me = caller();
        let Command::GoOnline(c) = ok(pb::GoOnlineRequest::default(), Some(me)).command else {
            panic!()
        };
        assert_eq!(c.agent, me);
        let other = AgentId::new_v7();
        let Command::AssignTicket(c) = ok(
            pb::AssignTicketRequest {
                ticket_id: TicketId::new_v7().to_string(),
                agent_id: other.to_string(),
                ..Default::default()
            },
            Some(me),
        )
        .command
        else {
            panic!()
        };
        assert_eq!(c.agent, other);
        // An integration has no agent of its own.
        let err = pb::GoOnlineRequest::default()
            .into_command(None)
            .unwrap_err();
        assert_eq!(err.field(), Some("agent_id"));
        // Work commands leave "the caller" to the domain.
        let Command::AnswerTicket(c) = ok(
            pb::AnswerTicketRequest {
                ticket_id: TicketId::new_v7().to_string(),
                chars: 12,
                ..Default::default()
            },
            None,
        )
        .command
        else {
            panic!()
        };
        assert_eq!((c.agent, c.chars), (None, 12));
    }

    #[test]
    fn pause_reasons_and_resume_reasons() {
        let me = caller();
        let Command::PauseAgent(c) = ok(pb::PauseAgentRequest::default(), Some(me)).command else {
            panic!()
        };
        assert_eq!(
            (c.reason, c.planned_minutes),
            (PauseReason::Text(String::new()), None)
        );
        let chat = ChatId::new_v7();
        let Command::PauseAgent(c) = ok(
            pb::PauseAgentRequest {
                pause_reason: Some(pb::pause_agent_request::PauseReason::AutoMissed(
                    pb::ConversationRef {
                        kind: pb::ConversationKind::Chat as i32,
                        id: chat.to_string(),
                    },
                )),
                planned_minutes: Some(15),
                ..Default::default()
            },
            Some(me),
        )
        .command
        else {
            panic!()
        };
        assert_eq!(
            c.reason,
            PauseReason::AutoMissed {
                conversation: ConversationRef::chat(chat)
            }
        );
        assert_eq!(c.planned_minutes, Some(15));
        invalid(
            pb::PauseAgentRequest {
                pause_reason: Some(pb::pause_agent_request::PauseReason::AutoMissed(
                    pb::ConversationRef {
                        kind: 2,
                        id: String::new(),
                    },
                )),
                ..Default::default()
            },
            "auto_missed.id",
        );
        let Command::ResumeAgent(c) = ok(pb::ResumeAgentRequest::default(), Some(me)).command
        else {
            panic!()
        };
        assert_eq!(c.reason, None);
        let Command::ResumeAgent(c) = ok(
            pb::ResumeAgentRequest {
                reason: pb::ResumeReason::ByAdmin as i32,
                ..Default::default()
            },
            Some(me),
        )
        .command
        else {
            panic!()
        };
        assert_eq!(c.reason, Some(ResumeReason::ByAdmin));
    }

    #[test]
    fn roles() {
        let builtin = |b: pb::BuiltinRole| pb::RoleRef {
            role: Some(pb::role_ref::Role::Builtin(b as i32)),
        };
        let Command::RegisterAgent(c) = ok(
            pb::RegisterAgentRequest {
                name: "Ana".into(),
                email: "ana@example.com".into(),
                role: Some(builtin(pb::BuiltinRole::Administrator)),
                ..Default::default()
            },
            None,
        )
        .command
        else {
            panic!()
        };
        assert_eq!(c.role, Role::Administrator);
        assert_eq!(c.agent_id.uuid().get_version_num(), 7);
        let custom = RoleId::new_v7();
        let Command::ChangeAgentRole(c) = ok(
            pb::ChangeAgentRoleRequest {
                agent_id: AgentId::new_v7().to_string(),
                role: Some(pb::RoleRef {
                    role: Some(pb::role_ref::Role::CustomRoleId(custom.to_string())),
                }),
                ..Default::default()
            },
            None,
        )
        .command
        else {
            panic!()
        };
        assert_eq!(c.role, Role::Custom(custom));
        invalid(pb::RegisterAgentRequest::default(), "role");
        invalid(
            pb::RegisterAgentRequest {
                role: Some(pb::RoleRef { role: None }),
                ..Default::default()
            },
            "role",
        );
        invalid(
            pb::RegisterAgentRequest {
                role: Some(builtin(pb::BuiltinRole::Unspecified)),
                ..Default::default()
            },
            "role.builtin",
        );
    }

    #[test]
    fn ratings_name_nested_fields() {
        let call = CallId::new_v7();
        let Command::RateConversation(c) = ok(
            pb::RateConversationRequest {
                conversation: Some(pb::ConversationRef {
                    kind: 3,
                    id: call.to_string(),
                }),
                rating: pb::Rating::Negative as i32,
                ..Default::default()
            },
            None,
        )
        .command
        else {
            panic!()
        };
        assert_eq!(
            (c.conversation, c.rating),
            (ConversationRef::call(call), Rating::Negative)
        );
        invalid(pb::RetractRatingRequest::default(), "conversation");
        invalid(
            pb::RetractRatingRequest {
                conversation: Some(pb::ConversationRef {
                    kind: 0,
                    id: call.to_string(),
                }),
                ..Default::default()
            },
            "conversation.kind",
        );
        invalid(
            pb::RateConversationRequest {
                conversation: Some(pb::ConversationRef {
                    kind: 1,
                    id: call.to_string(),
                }),
                ..Default::default()
            },
            "rating",
        );
    }

    #[test]
    fn routing_rules() {
        use pb::routing_action::Action as A;
        use pb::routing_condition::Condition as C;
        let department = DepartmentId::new_v7();
        let agent = AgentId::new_v7();
        let words = |w: &[&str]| pb::WordList {
            words: w.iter().map(|s| s.to_string()).collect(),
        };
        let request = pb::DefineRoutingRuleRequest {
            name: "VIP".into(),
            groups: vec![
                pb::RoutingConditionGroup {
                    conditions: vec![
                        pb::RoutingCondition {
                            condition: Some(C::ChannelIn(pb::ChannelSet {
                                channels: vec![1, 9],
                            })),
                        },
                        pb::RoutingCondition {
                            condition: Some(C::SubjectContains(words(&["refund"]))),
                        },
                    ],
                },
                pb::RoutingConditionGroup {
                    conditions: vec![pb::RoutingCondition {
                        condition: Some(C::PriorityIn(pb::PrioritySet {
                            priorities: vec![4],
                        })),
                    }],
                },
            ],
            actions: vec![
                pb::RoutingAction {
                    action: Some(A::TransferToDepartmentId(department.to_string())),
                },
                pb::RoutingAction {
                    action: Some(A::AssignTo(pb::AgentList {
                        agent_ids: vec![agent.to_string()],
                    })),
                },
                pb::RoutingAction {
                    action: Some(A::LeaveUnassigned(pb::LeaveUnassigned {})),
                },
                pb::RoutingAction {
                    action: Some(A::SetPriority(3)),
                },
                pb::RoutingAction {
                    action: Some(A::AddTags(pb::TagList {
                        tags: vec!["vip".into()],
                    })),
                },
            ],
            position: Some(0),
            ..Default::default()
        };
        let Command::DefineRoutingRule(c) = ok(request.clone(), None).command else {
            panic!()
        };
        assert_eq!(
            c.groups,
            vec![
                vec![
                    Condition::ChannelIn(vec![Channel::Email, Channel::Whatsapp]),
                    Condition::SubjectContains(vec!["refund".into()]),
                ],
                vec![Condition::PriorityIn(vec![Priority::Urgent])],
            ]
        );
        assert_eq!(
            c.actions,
            vec![
                Action::TransferTo(department),
                Action::AssignTo(vec![agent]),
                Action::LeaveUnassigned,
                Action::SetPriority(Priority::High),
                Action::AddTags(vec!["vip".into()]),
            ]
        );
        assert_eq!(c.position, Some(0));

        let mut bad = request.clone();
        bad.groups[1].conditions[0].condition = Some(C::ChannelIn(pb::ChannelSet {
            channels: vec![1, 0],
        }));
        invalid(bad, "groups[1].conditions[0].channel_in.channels[1]");
        let mut bad = request.clone();
        bad.groups[0].conditions[1].condition = None;
        invalid(bad, "groups[0].conditions[1]");
        let mut bad = request;
        bad.actions[1] = pb::RoutingAction {
            action: Some(A::AssignTo(pb::AgentList {
                agent_ids: vec!["?".into()],
            })),
        };
        invalid(bad, "actions[1].assign_to.agent_ids[0]");
    }

    #[test]
    fn configuration() {
        let Command::DefineRole(c) = ok(
            pb::DefineRoleRequest {
                name: "Lead".into(),
                permissions: vec!["tickets.view_all".into(), "reports.view".into()],
                ..Default::default()
            },
            None,
        )
        .command
        else {
            panic!()
        };
        assert_eq!(
            c.permissions,
            [Permission::TicketsViewAll, Permission::ReportsView]
                .into_iter()
                .collect::<Permissions>()
        );
        let err = invalid(
            pb::DefineRoleRequest {
                permissions: vec!["tickets.view_all".into(), "root".into()],
                ..Default::default()
            },
            "permissions[1]",
        );
        assert!(err.message().contains("tickets.view_all"), "{err}");
        let Command::UpdateRole(c) = ok(
            pb::UpdateRoleRequest {
                role_id: RoleId::new_v7().to_string(),
                ..Default::default()
            },
            None,
        )
        .command
        else {
            panic!()
        };
        assert_eq!(c.permissions, None);

        let Command::SetOrganizationSettings(c) = ok(
            pb::SetOrganizationSettingsRequest {
                seed: Some(vec![7; 32]),
                clover_odds: Some(0.5),
                ..Default::default()
            },
            None,
        )
        .command
        else {
            panic!()
        };
        assert_eq!(
            (c.seed, c.clover_odds, c.time_zone),
            (Some([7; 32]), Some(0.5), None)
        );
        let err = invalid(
            pb::SetOrganizationSettingsRequest {
                seed: Some(vec![1; 31]),
                ..Default::default()
            },
            "seed",
        );
        assert_eq!(err.message(), "exactly 32 bytes, got 31");

        let levels = [LevelId::new_v7(), LevelId::new_v7()];
        let Command::ReorderLevels(c) = ok(
            pb::ReorderLevelsRequest {
                order: levels.iter().map(|l| l.to_string()).collect(),
                ..Default::default()
            },
            None,
        )
        .command
        else {
            panic!()
        };
        assert_eq!(c.order, levels);

        let Command::DefineBadge(c) = ok(
            pb::DefineBadgeRequest {
                key: "night_owl".into(),
                statistic: pb::BadgeStatistic::OnlineSeconds as i32,
                best: pb::BadgeBest::Max as i32,
                window_days: 7,
                minimum: 60,
                ..Default::default()
            },
            None,
        )
        .command
        else {
            panic!()
        };
        assert_eq!(
            (c.statistic, c.best, c.window_days, c.minimum),
            (Statistic::OnlineSeconds, Best::Max, 7, 60)
        );
        invalid(
            pb::DefineBadgeRequest {
                best: 1,
                ..Default::default()
            },
            "statistic",
        );
        let Command::CustomizeBadge(c) = ok(
            pb::CustomizeBadgeRequest {
                key: "siesta".into(),
                visibility: Some(pb::BadgeVisibility::SelfAndManagers as i32),
                ..Default::default()
            },
            None,
        )
        .command
        else {
            panic!()
        };
        assert_eq!(c.visibility, Some(BadgeVisibility::SelfAndManagers));
        invalid(
            pb::CustomizeBadgeRequest {
                visibility: Some(0),
                ..Default::default()
            },
            "visibility",
        );
    }

    #[test]
    fn execute_requests_dispatch_and_require_a_command() {
        let parsed = ok(
            pb::ExecuteRequest {
                command: Some(pb::execute_request::Command::EndCall(pb::EndCallRequest {
                    call_id: CallId::new_v7().to_string(),
                    ..Default::default()
                })),
            },
            None,
        );
        assert_eq!(parsed.command.name(), "EndCall");
        invalid(pb::ExecuteRequest { command: None }, "command");
    }

    #[test]
    fn every_rpc_is_a_domain_command() {
        use prost::Message;
        let fds = prost_types::FileDescriptorSet::decode(crate::FILE_DESCRIPTOR_SET).unwrap();
        let rpcs: Vec<String> = fds
            .file
            .iter()
            .flat_map(|f| &f.service)
            .filter(|s| s.name() == "CommandService")
            .flat_map(|s| &s.method)
            .map(|m| m.name().to_owned())
            .filter(|name| name != "Execute")
            .collect();
        for rpc in &rpcs {
            assert!(
                Command::NAMES.contains(&rpc.as_str()),
                "rpc {rpc} is no domain command"
            );
        }
        // The domain commands that are not client RPCs: the system's own, and
        // the AdminService's tokens and recomputes.
        let not_rpcs: Vec<&str> = Command::NAMES
            .iter()
            .copied()
            .filter(|name| !rpcs.iter().any(|rpc| rpc == name))
            .collect();
        assert_eq!(
            not_rpcs,
            [
                "SetUpOrganization",
                "IssueToken",
                "RevokeToken",
                "Tick",
                "RecomputeLevels",
                "RecomputeBadges"
            ]
        );
    }
}
