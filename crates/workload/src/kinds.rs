//! What was generated: the command kinds the generator emits, the kind of a request, and
//! the counters of a run ([`WorkloadStats`]).

use std::collections::BTreeMap;

use helpdesk_api::pb;
use helpdesk_api::pb::execute_request::Command as Cmd;

/// The command kinds the generator emits (named like the RPCs).
pub const GENERATED_KINDS: &[&str] = &[
    "RegisterAgent",
    "CreateDepartment",
    "AddAgentToDepartment",
    "DefineRoutingRule",
    "GoOnline",
    "GoOffline",
    "PauseAgent",
    "ResumeAgent",
    "CreateTicket",
    "AssignTicket",
    "UnassignTicket",
    "TransferTicket",
    "AnswerTicket",
    "RecordCustomerReply",
    "TagTicket",
    "UntagTicket",
    "ResolveTicket",
    "ReopenTicket",
    "DeleteTicket",
    "StartChat",
    "OfferChat",
    "AcceptChat",
    "MissChat",
    "AnswerChat",
    "RecordChatCustomerMessage",
    "EndChat",
    "IncomingCall",
    "RingCall",
    "AnswerCall",
    "MissCall",
    "EndCall",
    "RateConversation",
    "RetractRating",
];

/// Counters of what was generated so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkloadStats {
    /// Requests generated.
    pub requests: u64,
    /// Requests by command kind (`"CreateTicket"`, …).
    pub by_kind: BTreeMap<&'static str, u64>,
    /// Days begun (the setup is day 0's beginning).
    pub days_begun: u32,
    /// Tickets, chats and calls in the model right now (open or recently finished).
    pub open_tickets: usize,
    pub open_chats: usize,
    pub open_calls: usize,
}

impl WorkloadStats {
    /// Requests of one kind.
    pub fn count(&self, kind: &str) -> u64 {
        self.by_kind.get(kind).copied().unwrap_or(0)
    }
}

/// The command kind of a request, named like its RPC (`"CreateTicket"`); `"None"` when the
/// request holds no command.
pub fn command_kind(request: &pb::ExecuteRequest) -> &'static str {
    request.command.as_ref().map_or("None", kind_of)
}

pub(crate) fn kind_of(cmd: &Cmd) -> &'static str {
    match cmd {
        Cmd::RegisterAgent(_) => "RegisterAgent",
        Cmd::ChangeAgentRole(_) => "ChangeAgentRole",
        Cmd::GoOnline(_) => "GoOnline",
        Cmd::GoOffline(_) => "GoOffline",
        Cmd::PauseAgent(_) => "PauseAgent",
        Cmd::ResumeAgent(_) => "ResumeAgent",
        Cmd::DeactivateAgent(_) => "DeactivateAgent",
        Cmd::CreateDepartment(_) => "CreateDepartment",
        Cmd::UpdateDepartment(_) => "UpdateDepartment",
        Cmd::AddAgentToDepartment(_) => "AddAgentToDepartment",
        Cmd::RemoveAgentFromDepartment(_) => "RemoveAgentFromDepartment",
        Cmd::CreateTicket(_) => "CreateTicket",
        Cmd::AssignTicket(_) => "AssignTicket",
        Cmd::UnassignTicket(_) => "UnassignTicket",
        Cmd::TransferTicket(_) => "TransferTicket",
        Cmd::AnswerTicket(_) => "AnswerTicket",
        Cmd::RecordCustomerReply(_) => "RecordCustomerReply",
        Cmd::TagTicket(_) => "TagTicket",
        Cmd::UntagTicket(_) => "UntagTicket",
        Cmd::ResolveTicket(_) => "ResolveTicket",
        Cmd::ReopenTicket(_) => "ReopenTicket",
        Cmd::DeleteTicket(_) => "DeleteTicket",
        Cmd::StartChat(_) => "StartChat",
        Cmd::OfferChat(_) => "OfferChat",
        Cmd::AcceptChat(_) => "AcceptChat",
        Cmd::MissChat(_) => "MissChat",
        Cmd::AnswerChat(_) => "AnswerChat",
        Cmd::RecordChatCustomerMessage(_) => "RecordChatCustomerMessage",
        Cmd::EndChat(_) => "EndChat",
        Cmd::IncomingCall(_) => "IncomingCall",
        Cmd::RingCall(_) => "RingCall",
        Cmd::AnswerCall(_) => "AnswerCall",
        Cmd::MissCall(_) => "MissCall",
        Cmd::EndCall(_) => "EndCall",
        Cmd::RateConversation(_) => "RateConversation",
        Cmd::RetractRating(_) => "RetractRating",
        Cmd::DefineLevel(_) => "DefineLevel",
        Cmd::UpdateLevel(_) => "UpdateLevel",
        Cmd::RemoveLevel(_) => "RemoveLevel",
        Cmd::ReorderLevels(_) => "ReorderLevels",
        Cmd::CustomizeBadge(_) => "CustomizeBadge",
        Cmd::DefineBadge(_) => "DefineBadge",
        Cmd::RemoveBadge(_) => "RemoveBadge",
        Cmd::DefineRoutingRule(_) => "DefineRoutingRule",
        Cmd::RemoveRoutingRule(_) => "RemoveRoutingRule",
        Cmd::UpdateRoutingRule(_) => "UpdateRoutingRule",
        Cmd::DefineRole(_) => "DefineRole",
        Cmd::UpdateRole(_) => "UpdateRole",
        Cmd::RemoveRole(_) => "RemoveRole",
        Cmd::SetOrganizationSettings(_) => "SetOrganizationSettings",
    }
}
