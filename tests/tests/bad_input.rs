//! Bad input across the whole API, table-driven: well over a hundred malformed, out-of-range
//! or dangling requests to every service, each refused with the right status (mostly
//! `INVALID_ARGUMENT` naming the field in `google.rpc.BadRequest`, `NOT_FOUND` for an id
//! that names nothing), and none of them appending anything to the log.
//!
//! "Nothing appended" is checked at the source: the last sequence of the JetStream stream
//! `HELPDESK`, read with a NATS client of our own before and after every request. The
//! server runs with `--tick-seconds 3600`, so the clock does not append while the table
//! runs, and with `--rate-limit 0`. Every CommandService case is sent twice: as its unary
//! RPC and as the only command of an `Execute` stream, which must refuse it with the same
//! code and field.
//!
//! Needs the binary (`cargo build -p helpdesk-server`) and `nats-server` (`just test` sees to
//! both).

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_nats::jetstream;
use helpdesk_api::pb;
use helpdesk_api::{
    AdminServiceClient, BadgeServiceClient, CommandServiceClient, ConfigServiceClient,
    LevelServiceClient, ReportServiceClient, RosterServiceClient, StatsServiceClient,
    TicketServiceClient,
};
use helpdesk_tests::{with_token, Helpdesk, NatsServer};
use pb::execute_request::Command as C;
use pb::routing_action::Action as A;
use pb::routing_condition::Condition as Cond;
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status};
use tonic_types::StatusExt;
use uuid::Uuid;

// ------------------------------------------------------------------ the log, read directly

/// The JetStream stream of the event log, read with a NATS connection of our own.
struct Log {
    stream: jetstream::stream::Stream,
}

impl Log {
    async fn connect(url: &str) -> anyhow::Result<Log> {
        let client = async_nats::connect(url).await?;
        let stream = jetstream::new(client).get_stream("HELPDESK").await?;
        Ok(Log { stream })
    }

    /// The stream's last sequence (the log position of the last write).
    async fn last(&self) -> anyhow::Result<u64> {
        Ok(self.stream.get_info().await?.state.last_sequence)
    }

    /// Waits until nothing has been appended for `quiet` (the clock ticks once right after
    /// the first command from outside), and returns the last sequence then.
    async fn settle(&self, quiet: Duration) -> anyhow::Result<u64> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let mut last = self.last().await?;
        loop {
            tokio::time::sleep(quiet).await;
            let now = self.last().await?;
            if now == last {
                return Ok(now);
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "the log keeps growing ({last} → {now}) with nobody sending commands"
            );
            last = now;
        }
    }
}

// ------------------------------------------------------------------------------ outcomes

/// What a request got back.
#[derive(Debug)]
enum Outcome {
    /// It was accepted (and should not have been). Read through `Debug`.
    #[allow(dead_code)]
    Accepted(String),
    /// It was refused: the code, the message, and the fields of `google.rpc.BadRequest`
    /// (for `Execute`, the `CommandError.field`, when not empty).
    Refused {
        code: Code,
        message: String,
        fields: Vec<String>,
    },
    /// Something that is neither (an `Execute` stream that did not answer once). Read
    /// through `Debug`.
    #[allow(dead_code)]
    Broken(String),
}

fn refused(status: Status) -> Outcome {
    let fields = status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default();
    Outcome::Refused {
        code: status.code(),
        message: status.message().to_owned(),
        fields,
    }
}

fn unary<T: Debug>(result: Result<Response<T>, Status>) -> Outcome {
    match result {
        Ok(response) => Outcome::Accepted(clip(&format!("{:?}", response.into_inner()))),
        Err(status) => refused(status),
    }
}

fn streaming<T>(result: Result<Response<T>, Status>) -> Outcome {
    match result {
        Ok(_) => Outcome::Accepted("the stream was opened".into()),
        Err(status) => refused(status),
    }
}

/// At most a few hundred characters of `text` (requests carry 64 KiB bodies).
fn clip(text: &str) -> String {
    match text.char_indices().nth(300) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

// ------------------------------------------------------------------------------ expected

/// The status a case must get.
#[derive(Debug, Clone, Copy)]
struct Expect {
    code: Code,
    field: Field,
    /// Something the message must contain (e.g. the column of a bad condition).
    mentions: Option<&'static str>,
}

/// What a case expects of `google.rpc.BadRequest`.
#[derive(Debug, Clone, Copy)]
enum Field {
    /// One field violation naming exactly this field (also named in the message).
    Named(&'static str),
    /// No field violation: a refusal of the request as a whole, or a code other than
    /// `INVALID_ARGUMENT`.
    None,
}

/// `INVALID_ARGUMENT` naming `field`.
fn invalid(field: &'static str) -> Expect {
    Expect {
        code: Code::InvalidArgument,
        field: Field::Named(field),
        mentions: None,
    }
}

/// `INVALID_ARGUMENT` about the request as a whole ("set at least one field to change").
fn whole_request() -> Expect {
    status(Code::InvalidArgument)
}

/// `NOT_FOUND`: an id names nothing.
fn not_found() -> Expect {
    status(Code::NotFound)
}

/// This code, without field violations.
fn status(code: Code) -> Expect {
    Expect {
        code,
        field: Field::None,
        mentions: None,
    }
}

impl Expect {
    fn mentioning(mut self, needle: &'static str) -> Self {
        self.mentions = Some(needle);
        self
    }

    /// What is wrong with `got`, if anything.
    fn check(&self, got: &Outcome) -> Result<(), String> {
        let want = match self.field {
            Field::Named(field) => format!("{:?} naming `{field}`", self.code),
            Field::None => format!("{:?}", self.code),
        };
        let (code, message, fields) = match got {
            Outcome::Refused {
                code,
                message,
                fields,
            } => (*code, message, fields),
            other => return Err(format!("expected {want}, got {other:?}")),
        };
        if code != self.code {
            return Err(format!(
                "expected {want}, got {code:?}: {message:?} (fields {fields:?})"
            ));
        }
        match self.field {
            Field::Named(field) => {
                if fields.len() != 1 || fields[0] != field {
                    return Err(format!(
                        "expected the one field violation `{field}`, got {fields:?} ({message:?})"
                    ));
                }
                if !message.contains(&format!("`{field}`")) {
                    return Err(format!("the message {message:?} does not name `{field}`"));
                }
            }
            Field::None if !fields.is_empty() => {
                return Err(format!(
                    "expected no field violation, got {fields:?} ({message:?})"
                ));
            }
            Field::None => {}
        }
        if let Some(needle) = self.mentions {
            if !message.contains(needle) {
                return Err(format!(
                    "the message {message:?} does not mention {needle:?}"
                ));
            }
        }
        Ok(())
    }
}

// --------------------------------------------------------------------------------- calls

/// One request to one RPC.
#[derive(Debug, Clone)]
enum Call {
    /// A command of CommandService: sent as its unary RPC and inside an `Execute` stream.
    Command(C),
    /// One request of an `Execute` stream, as it is.
    Execute(pb::ExecuteRequest),
    IssueToken(pb::IssueTokenRequest),
    RevokeToken(pb::RevokeTokenRequest),
    PreviewLevelRecompute(pb::LevelRecomputeRequest),
    ApplyLevelRecompute(pb::LevelRecomputeRequest),
    PreviewBadgeRecompute(pb::BadgeRecomputeRequest),
    ApplyBadgeRecompute(pb::BadgeRecomputeRequest),
    GetTicket(pb::GetTicketRequest),
    ListTickets(pb::ListTicketsRequest),
    CountTickets(pb::CountTicketsRequest),
    GetAgentStats(pb::GetAgentStatsRequest),
    Benchmark(pb::BenchmarkRequest),
    ListLevels(pb::ListLevelsRequest),
    GetAgentLevel(pb::GetAgentLevelRequest),
    GetLevelProgress(pb::GetLevelProgressRequest),
    GetLeaderboard(pb::GetLeaderboardRequest),
    DryRunCondition(pb::DryRunConditionRequest),
    WatchLevelUps(pb::WatchLevelUpsRequest),
    ListBadges(pb::ListBadgesRequest),
    GetAgentBadges(pb::GetAgentBadgesRequest),
    GetBadgeHistory(pb::GetBadgeHistoryRequest),
    WatchAwards(pb::WatchAwardsRequest),
    GetReport(pb::ReportRequest),
    ExportReportCsv(pb::ReportRequest),
    GetChartSeries(pb::ChartRequest),
    ListDepartments(pb::ListDepartmentsRequest),
    ListRoles(pb::ListRolesRequest),
    ListRoutingRules(pb::ListRoutingRulesRequest),
    GetOrganizationSettings(pb::GetOrganizationSettingsRequest),
    ListAgents(pb::ListAgentsRequest),
    GetAgent(pb::GetAgentRequest),
    WatchPresence(pb::WatchPresenceRequest),
}

impl From<C> for Call {
    fn from(command: C) -> Self {
        Call::Command(command)
    }
}

/// How a call is sent.
#[derive(Debug, Clone, Copy)]
enum Via {
    Unary,
    Execute,
}

/// The unary RPC of every command, and its name.
macro_rules! commands {
    ($($variant:ident => $method:ident,)*) => {
        fn command_name(command: &C) -> &'static str {
            match command {
                $(C::$variant(_) => stringify!($variant),)*
            }
        }

        async fn send_command(channel: Channel, token: &str, command: C) -> Outcome {
            let mut client = CommandServiceClient::new(channel);
            match command {
                $(C::$variant(r) => unary(client.$method(auth(token, r)).await),)*
            }
        }
    };
}

commands! {
    RegisterAgent => register_agent,
    ChangeAgentRole => change_agent_role,
    GoOnline => go_online,
    GoOffline => go_offline,
    PauseAgent => pause_agent,
    ResumeAgent => resume_agent,
    DeactivateAgent => deactivate_agent,
    CreateDepartment => create_department,
    UpdateDepartment => update_department,
    AddAgentToDepartment => add_agent_to_department,
    RemoveAgentFromDepartment => remove_agent_from_department,
    CreateTicket => create_ticket,
    AssignTicket => assign_ticket,
    UnassignTicket => unassign_ticket,
    TransferTicket => transfer_ticket,
    AnswerTicket => answer_ticket,
    RecordCustomerReply => record_customer_reply,
    TagTicket => tag_ticket,
    UntagTicket => untag_ticket,
    ResolveTicket => resolve_ticket,
    ReopenTicket => reopen_ticket,
    DeleteTicket => delete_ticket,
    StartChat => start_chat,
    OfferChat => offer_chat,
    AcceptChat => accept_chat,
    MissChat => miss_chat,
    AnswerChat => answer_chat,
    RecordChatCustomerMessage => record_chat_customer_message,
    EndChat => end_chat,
    IncomingCall => incoming_call,
    RingCall => ring_call,
    AnswerCall => answer_call,
    MissCall => miss_call,
    EndCall => end_call,
    RateConversation => rate_conversation,
    RetractRating => retract_rating,
    DefineLevel => define_level,
    UpdateLevel => update_level,
    RemoveLevel => remove_level,
    ReorderLevels => reorder_levels,
    CustomizeBadge => customize_badge,
    DefineBadge => define_badge,
    RemoveBadge => remove_badge,
    DefineRoutingRule => define_routing_rule,
    RemoveRoutingRule => remove_routing_rule,
    UpdateRoutingRule => update_routing_rule,
    DefineRole => define_role,
    UpdateRole => update_role,
    RemoveRole => remove_role,
    SetOrganizationSettings => set_organization_settings,
}

fn auth<T>(token: &str, message: T) -> Request<T> {
    with_token(Request::new(message), token)
}

/// Sends one request as the only one of an `Execute` stream; its one answer as an outcome.
async fn execute_one(channel: Channel, token: &str, request: pb::ExecuteRequest) -> Outcome {
    use pb::execute_response::Result as R;
    let mut client = CommandServiceClient::new(channel);
    let mut responses = match client
        .execute(auth(token, tokio_stream::iter(vec![request])))
        .await
    {
        Ok(response) => response.into_inner(),
        Err(status) => return refused(status),
    };
    let mut answers = Vec::new();
    loop {
        match responses.message().await {
            Ok(Some(answer)) => answers.push(answer),
            Ok(None) => break,
            // A message the stream cannot read (too large to decode) ends it with the
            // status it would have got alone.
            Err(status) if answers.is_empty() => return refused(status),
            Err(status) => return Outcome::Broken(format!("the stream failed: {status:?}")),
        }
    }
    match answers.as_slice() {
        [pb::ExecuteResponse {
            index: 0,
            result: Some(R::Error(error)),
        }] => Outcome::Refused {
            code: Code::from(error.code),
            message: error.message.clone(),
            fields: if error.field.is_empty() {
                Vec::new()
            } else {
                vec![error.field.clone()]
            },
        },
        [pb::ExecuteResponse {
            index: 0,
            result: Some(R::Response(response)),
        }] => Outcome::Accepted(format!("{response:?}")),
        other => Outcome::Broken(format!("expected one answer with index 0, got {other:?}")),
    }
}

impl Call {
    /// The service and the RPC.
    fn rpc(&self) -> (&'static str, &'static str) {
        match self {
            Call::Command(c) => ("CommandService", command_name(c)),
            Call::Execute(_) => ("CommandService", "Execute"),
            Call::IssueToken(_) => ("AdminService", "IssueToken"),
            Call::RevokeToken(_) => ("AdminService", "RevokeToken"),
            Call::PreviewLevelRecompute(_) => ("AdminService", "PreviewLevelRecompute"),
            Call::ApplyLevelRecompute(_) => ("AdminService", "ApplyLevelRecompute"),
            Call::PreviewBadgeRecompute(_) => ("AdminService", "PreviewBadgeRecompute"),
            Call::ApplyBadgeRecompute(_) => ("AdminService", "ApplyBadgeRecompute"),
            Call::GetTicket(_) => ("TicketService", "GetTicket"),
            Call::ListTickets(_) => ("TicketService", "ListTickets"),
            Call::CountTickets(_) => ("TicketService", "CountTickets"),
            Call::GetAgentStats(_) => ("StatsService", "GetAgentStats"),
            Call::Benchmark(_) => ("StatsService", "Benchmark"),
            Call::ListLevels(_) => ("LevelService", "ListLevels"),
            Call::GetAgentLevel(_) => ("LevelService", "GetAgentLevel"),
            Call::GetLevelProgress(_) => ("LevelService", "GetLevelProgress"),
            Call::GetLeaderboard(_) => ("LevelService", "GetLeaderboard"),
            Call::DryRunCondition(_) => ("LevelService", "DryRunCondition"),
            Call::WatchLevelUps(_) => ("LevelService", "WatchLevelUps"),
            Call::ListBadges(_) => ("BadgeService", "ListBadges"),
            Call::GetAgentBadges(_) => ("BadgeService", "GetAgentBadges"),
            Call::GetBadgeHistory(_) => ("BadgeService", "GetBadgeHistory"),
            Call::WatchAwards(_) => ("BadgeService", "WatchAwards"),
            Call::GetReport(_) => ("ReportService", "GetReport"),
            Call::ExportReportCsv(_) => ("ReportService", "ExportReportCsv"),
            Call::GetChartSeries(_) => ("ReportService", "GetChartSeries"),
            Call::ListDepartments(_) => ("ConfigService", "ListDepartments"),
            Call::ListRoles(_) => ("ConfigService", "ListRoles"),
            Call::ListRoutingRules(_) => ("ConfigService", "ListRoutingRules"),
            Call::GetOrganizationSettings(_) => ("ConfigService", "GetOrganizationSettings"),
            Call::ListAgents(_) => ("RosterService", "ListAgents"),
            Call::GetAgent(_) => ("RosterService", "GetAgent"),
            Call::WatchPresence(_) => ("RosterService", "WatchPresence"),
        }
    }

    /// The ways this call is sent: commands also through `Execute`.
    fn vias(&self) -> &'static [Via] {
        match self {
            Call::Command(_) => &[Via::Unary, Via::Execute],
            Call::Execute(_) => &[Via::Execute],
            _ => &[Via::Unary],
        }
    }

    async fn send(&self, channel: Channel, token: &str, via: Via) -> Outcome {
        let call = self.clone();
        match (via, call) {
            (Via::Execute, Call::Command(c)) => {
                execute_one(channel, token, pb::ExecuteRequest { command: Some(c) }).await
            }
            (Via::Execute, Call::Execute(r)) => execute_one(channel, token, r).await,
            (Via::Execute, other) => {
                Outcome::Broken(format!("{:?} cannot go through Execute", other.rpc()))
            }
            (Via::Unary, Call::Command(c)) => send_command(channel, token, c).await,
            (Via::Unary, Call::Execute(r)) => execute_one(channel, token, r).await,
            (Via::Unary, Call::IssueToken(r)) => unary(
                AdminServiceClient::new(channel)
                    .issue_token(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::RevokeToken(r)) => unary(
                AdminServiceClient::new(channel)
                    .revoke_token(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::PreviewLevelRecompute(r)) => unary(
                AdminServiceClient::new(channel)
                    .preview_level_recompute(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::ApplyLevelRecompute(r)) => unary(
                AdminServiceClient::new(channel)
                    .apply_level_recompute(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::PreviewBadgeRecompute(r)) => unary(
                AdminServiceClient::new(channel)
                    .preview_badge_recompute(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::ApplyBadgeRecompute(r)) => unary(
                AdminServiceClient::new(channel)
                    .apply_badge_recompute(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::GetTicket(r)) => unary(
                TicketServiceClient::new(channel)
                    .get_ticket(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::ListTickets(r)) => unary(
                TicketServiceClient::new(channel)
                    .list_tickets(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::CountTickets(r)) => unary(
                TicketServiceClient::new(channel)
                    .count_tickets(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::GetAgentStats(r)) => unary(
                StatsServiceClient::new(channel)
                    .get_agent_stats(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::Benchmark(r)) => unary(
                StatsServiceClient::new(channel)
                    .benchmark(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::ListLevels(r)) => unary(
                LevelServiceClient::new(channel)
                    .list_levels(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::GetAgentLevel(r)) => unary(
                LevelServiceClient::new(channel)
                    .get_agent_level(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::GetLevelProgress(r)) => unary(
                LevelServiceClient::new(channel)
                    .get_level_progress(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::GetLeaderboard(r)) => unary(
                LevelServiceClient::new(channel)
                    .get_leaderboard(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::DryRunCondition(r)) => unary(
                LevelServiceClient::new(channel)
                    .dry_run_condition(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::WatchLevelUps(r)) => streaming(
                LevelServiceClient::new(channel)
                    .watch_level_ups(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::ListBadges(r)) => unary(
                BadgeServiceClient::new(channel)
                    .list_badges(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::GetAgentBadges(r)) => unary(
                BadgeServiceClient::new(channel)
                    .get_agent_badges(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::GetBadgeHistory(r)) => unary(
                BadgeServiceClient::new(channel)
                    .get_badge_history(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::WatchAwards(r)) => streaming(
                BadgeServiceClient::new(channel)
                    .watch_awards(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::GetReport(r)) => unary(
                ReportServiceClient::new(channel)
                    .get_report(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::ExportReportCsv(r)) => streaming(
                ReportServiceClient::new(channel)
                    .export_report_csv(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::GetChartSeries(r)) => unary(
                ReportServiceClient::new(channel)
                    .get_chart_series(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::ListDepartments(r)) => unary(
                ConfigServiceClient::new(channel)
                    .list_departments(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::ListRoles(r)) => unary(
                ConfigServiceClient::new(channel)
                    .list_roles(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::ListRoutingRules(r)) => unary(
                ConfigServiceClient::new(channel)
                    .list_routing_rules(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::GetOrganizationSettings(r)) => unary(
                ConfigServiceClient::new(channel)
                    .get_organization_settings(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::ListAgents(r)) => unary(
                RosterServiceClient::new(channel)
                    .list_agents(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::GetAgent(r)) => unary(
                RosterServiceClient::new(channel)
                    .get_agent(auth(token, r))
                    .await,
            ),
            (Via::Unary, Call::WatchPresence(r)) => streaming(
                RosterServiceClient::new(channel)
                    .watch_presence(auth(token, r))
                    .await,
            ),
        }
    }
}

// --------------------------------------------------------------------------------- cases

/// Whose token a case is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// The Owner (an agent with every permission).
    Owner,
    /// An integration account with the Agent role (no agent of its own).
    Integration,
}

/// One bad request and what it must get.
struct Case {
    name: String,
    call: Call,
    expect: Expect,
    who: Who,
}

fn case(name: impl Into<String>, call: impl Into<Call>, expect: Expect) -> Case {
    Case {
        name: name.into(),
        call: call.into(),
        expect,
        who: Who::Owner,
    }
}

impl Case {
    fn by(mut self, who: Who) -> Self {
        self.who = who;
        self
    }
}

/// What the cases refer to, set up with valid commands before the table runs.
struct Fixture {
    ada: String,
    billing: String,
    ticket: String,
    /// A ticket with the most tags a ticket may have.
    full_ticket: String,
    chat: String,
    call: String,
    /// The ladder's level ids, lowest first.
    levels: Vec<String>,
    /// A token of an integration account with the Agent role.
    integration: String,
}

fn id() -> String {
    Uuid::now_v7().to_string()
}

fn text(chars: usize) -> String {
    "x".repeat(chars)
}

fn builtin(role: i32) -> Option<pb::RoleRef> {
    Some(pb::RoleRef {
        role: Some(pb::role_ref::Role::Builtin(role)),
    })
}

fn agent_role() -> Option<pb::RoleRef> {
    builtin(pb::BuiltinRole::Agent as i32)
}

fn conversation(kind: i32, id: &str) -> Option<pb::ConversationRef> {
    Some(pb::ConversationRef {
        kind,
        id: id.to_owned(),
    })
}

/// A timestamp `seconds` from now (negative: in the past). Only for what the server
/// refuses as "in the future", which is relative to its own clock: an offset in seconds
/// since the epoch, so the cases answer the same on any date (weekends, month ends and
/// daylight-saving nights included). No case asserts anything of a date.
fn from_now(seconds: i64) -> Option<prost_types::Timestamp> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64;
    Some(prost_types::Timestamp {
        seconds: now + seconds,
        nanos: 0,
    })
}

/// Waiting for a position (1: some position) for `wait_ms`.
fn read(wait_ms: u32) -> Option<pb::ReadOptions> {
    Some(pb::ReadOptions {
        min_position: 1,
        wait_ms,
    })
}

fn range(from: &str, to: &str) -> Option<pb::StatsWindow> {
    Some(pb::StatsWindow {
        kind: pb::WindowKind::Range as i32,
        from: from.into(),
        to: to.into(),
    })
}

fn report(from: &str, to: &str) -> pb::ReportRequest {
    pb::ReportRequest {
        from: from.into(),
        to: to.into(),
        ..Default::default()
    }
}

fn register(name: String, email: &str, role: Option<pb::RoleRef>) -> C {
    C::RegisterAgent(pb::RegisterAgentRequest {
        name,
        email: email.into(),
        role,
        ..Default::default()
    })
}

fn ticket(subject: String) -> pb::CreateTicketRequest {
    pb::CreateTicketRequest {
        channel: pb::Channel::Email as i32,
        priority: pb::Priority::Normal as i32,
        subject,
        ..Default::default()
    }
}

fn level(name: String, condition: &str) -> pb::DefineLevelRequest {
    pb::DefineLevelRequest {
        name,
        description: "Well done.".into(),
        condition: condition.into(),
        ..Default::default()
    }
}

fn badge(key: &str) -> pb::DefineBadgeRequest {
    pb::DefineBadgeRequest {
        key: key.into(),
        name: "Night owl".into(),
        description: "Online the longest.".into(),
        statistic: pb::BadgeStatistic::OnlineSeconds as i32,
        window_days: 7,
        best: pb::BadgeBest::Max as i32,
        minimum: 60,
        ..Default::default()
    }
}

fn condition(condition: Cond) -> pb::RoutingCondition {
    pb::RoutingCondition {
        condition: Some(condition),
    }
}

fn channels(channels: &[i32]) -> pb::RoutingCondition {
    condition(Cond::ChannelIn(pb::ChannelSet {
        channels: channels.to_vec(),
    }))
}

fn words(words: &[&str]) -> pb::WordList {
    pb::WordList {
        words: words.iter().map(|w| (*w).to_owned()).collect(),
    }
}

fn group(conditions: Vec<pb::RoutingCondition>) -> pb::RoutingConditionGroup {
    pb::RoutingConditionGroup { conditions }
}

fn action(action: A) -> pb::RoutingAction {
    pb::RoutingAction {
        action: Some(action),
    }
}

/// A routing rule with these groups and actions.
fn rule(groups: Vec<pb::RoutingConditionGroup>, actions: Vec<pb::RoutingAction>) -> C {
    C::DefineRoutingRule(pb::DefineRoutingRuleRequest {
        name: "VIP".into(),
        groups,
        actions,
        ..Default::default()
    })
}

/// A valid group (e-mail tickets) and a valid action (leave unassigned).
fn any_group() -> Vec<pb::RoutingConditionGroup> {
    vec![group(vec![channels(&[pb::Channel::Email as i32])])]
}

fn any_action() -> Vec<pb::RoutingAction> {
    vec![action(A::LeaveUnassigned(pb::LeaveUnassigned {}))]
}

/// 20 groups of 20 conditions of 100 words of 64 characters: every list within its limit,
/// 2.6 MB in all.
fn big_groups() -> Vec<pb::RoutingConditionGroup> {
    (0..20)
        .map(|g| {
            group(
                (0..20)
                    .map(|c| {
                        let words = (0..100).map(|w| format!("{:x>64}", format!("w{g}_{c}_{w}")));
                        condition(Cond::SubjectContains(pb::WordList {
                            words: words.collect(),
                        }))
                    })
                    .collect(),
            )
        })
        .collect()
}

fn settings() -> pb::SetOrganizationSettingsRequest {
    pb::SetOrganizationSettingsRequest::default()
}

/// The table.
fn table(fx: &Fixture) -> Vec<Case> {
    let ada = fx.ada.as_str();
    let billing = fx.billing.as_str();
    let tk = fx.ticket.as_str();
    let chat = fx.chat.as_str();
    let call = fx.call.as_str();
    let l0 = fx.levels[0].clone();
    let l1 = fx.levels[1].clone();
    let all_levels = fx.levels.clone();
    let email = "eve@example.com";
    let (ticket_kind, chat_kind) = (
        pb::ConversationKind::Ticket as i32,
        pb::ConversationKind::Chat as i32,
    );

    Vec::from([
        // ------------------------------------------------------------------ agents
        case(
            "register: empty name",
            register(String::new(), email, agent_role()),
            invalid("name"),
        ),
        case(
            "register: blank name",
            register("   ".into(), email, agent_role()),
            invalid("name"),
        ),
        case(
            "register: name of 201 characters",
            register(text(201), email, agent_role()),
            invalid("name"),
        ),
        case(
            "register: e-mail without @",
            register("Eve".into(), "eve.example.com", agent_role()),
            invalid("email"),
        ),
        case(
            "register: e-mail with a space",
            register("Eve".into(), "eve @example.com", agent_role()),
            invalid("email"),
        ),
        case(
            "register: empty e-mail",
            register("Eve".into(), "", agent_role()),
            invalid("email"),
        ),
        case(
            "register: e-mail without domain",
            register("Eve".into(), "eve@", agent_role()),
            invalid("email"),
        ),
        case(
            "register: e-mail of 255 characters",
            register(
                "Eve".into(),
                &format!("{}@example.com", text(243)),
                agent_role(),
            ),
            invalid("email"),
        ),
        case(
            "register: no role",
            register("Eve".into(), email, None),
            invalid("role"),
        ),
        case(
            "register: role with neither builtin nor custom",
            register("Eve".into(), email, Some(pb::RoleRef { role: None })),
            invalid("role"),
        ),
        case(
            "register: builtin role UNSPECIFIED",
            register("Eve".into(), email, builtin(0)),
            invalid("role.builtin"),
        ),
        case(
            "register: unknown builtin role 99",
            register("Eve".into(), email, builtin(99)),
            invalid("role.builtin"),
        ),
        case(
            "register: custom_role_id not a UUID",
            register(
                "Eve".into(),
                email,
                Some(pb::RoleRef {
                    role: Some(pb::role_ref::Role::CustomRoleId("boss".into())),
                }),
            ),
            invalid("role.custom_role_id"),
        ),
        case(
            "register: unknown custom role",
            register(
                "Eve".into(),
                email,
                Some(pb::RoleRef {
                    role: Some(pb::role_ref::Role::CustomRoleId(id())),
                }),
            ),
            not_found(),
        ),
        case(
            "register: agent_id not a UUID",
            C::RegisterAgent(pb::RegisterAgentRequest {
                agent_id: "eve".into(),
                name: "Eve".into(),
                email: email.into(),
                role: agent_role(),
                ..Default::default()
            }),
            invalid("agent_id"),
        ),
        case(
            "register: command_id not a UUID",
            C::RegisterAgent(pb::RegisterAgentRequest {
                command_id: "retry-1".into(),
                name: "Eve".into(),
                email: email.into(),
                role: agent_role(),
                ..Default::default()
            }),
            invalid("command_id"),
        ),
        case(
            "register: occurred_at tomorrow",
            C::RegisterAgent(pb::RegisterAgentRequest {
                occurred_at: from_now(86_400),
                name: "Eve".into(),
                email: email.into(),
                role: agent_role(),
                ..Default::default()
            }),
            invalid("occurred_at"),
        ),
        case(
            "register: occurred_at with negative nanos",
            C::RegisterAgent(pb::RegisterAgentRequest {
                occurred_at: Some(prost_types::Timestamp {
                    seconds: 1_700_000_000,
                    nanos: -1,
                }),
                name: "Eve".into(),
                email: email.into(),
                role: agent_role(),
                ..Default::default()
            }),
            invalid("occurred_at"),
        ),
        case(
            "register: occurred_at out of range",
            C::RegisterAgent(pb::RegisterAgentRequest {
                occurred_at: Some(prost_types::Timestamp {
                    seconds: i64::MAX,
                    nanos: 0,
                }),
                name: "Eve".into(),
                email: email.into(),
                role: agent_role(),
                ..Default::default()
            }),
            invalid("occurred_at"),
        ),
        case(
            "change role: agent_id not a UUID",
            C::ChangeAgentRole(pb::ChangeAgentRoleRequest {
                agent_id: "ada".into(),
                role: agent_role(),
                ..Default::default()
            }),
            invalid("agent_id"),
        ),
        case(
            "change role: no role",
            C::ChangeAgentRole(pb::ChangeAgentRoleRequest {
                agent_id: ada.into(),
                role: None,
                ..Default::default()
            }),
            invalid("role"),
        ),
        case(
            "change role: unknown agent",
            C::ChangeAgentRole(pb::ChangeAgentRoleRequest {
                agent_id: id(),
                role: agent_role(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "go online: agent_id not a UUID",
            C::GoOnline(pb::GoOnlineRequest {
                agent_id: "12345".into(),
                ..Default::default()
            }),
            invalid("agent_id"),
        ),
        case(
            "go online: unknown agent",
            C::GoOnline(pb::GoOnlineRequest {
                agent_id: id(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "go online: an integration names no agent",
            C::GoOnline(pb::GoOnlineRequest::default()),
            invalid("agent_id"),
        )
        .by(Who::Integration),
        case(
            "go offline: agent_id not a UUID",
            C::GoOffline(pb::GoOfflineRequest {
                agent_id: "{ada}".into(),
                ..Default::default()
            }),
            invalid("agent_id"),
        ),
        case(
            "go offline: unknown agent",
            C::GoOffline(pb::GoOfflineRequest {
                agent_id: id(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "pause: reason of 201 characters",
            C::PauseAgent(pb::PauseAgentRequest {
                agent_id: ada.into(),
                pause_reason: Some(pb::pause_agent_request::PauseReason::Reason(text(201))),
                ..Default::default()
            }),
            invalid("reason"),
        ),
        case(
            "pause: planned_minutes 0",
            C::PauseAgent(pb::PauseAgentRequest {
                agent_id: ada.into(),
                planned_minutes: Some(0),
                ..Default::default()
            }),
            invalid("planned_minutes"),
        ),
        case(
            "pause: planned_minutes 1441",
            C::PauseAgent(pb::PauseAgentRequest {
                agent_id: ada.into(),
                planned_minutes: Some(1_441),
                ..Default::default()
            }),
            invalid("planned_minutes"),
        ),
        case(
            "pause: auto_missed without kind",
            C::PauseAgent(pb::PauseAgentRequest {
                agent_id: ada.into(),
                pause_reason: Some(pb::pause_agent_request::PauseReason::AutoMissed(
                    pb::ConversationRef {
                        kind: 0,
                        id: chat.into(),
                    },
                )),
                ..Default::default()
            }),
            invalid("auto_missed.kind"),
        ),
        case(
            "pause: auto_missed id not a UUID",
            C::PauseAgent(pb::PauseAgentRequest {
                agent_id: ada.into(),
                pause_reason: Some(pb::pause_agent_request::PauseReason::AutoMissed(
                    pb::ConversationRef {
                        kind: chat_kind,
                        id: "chat-1".into(),
                    },
                )),
                ..Default::default()
            }),
            invalid("auto_missed.id"),
        ),
        case(
            "pause: unknown agent",
            C::PauseAgent(pb::PauseAgentRequest {
                agent_id: id(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "resume: unknown reason 99",
            C::ResumeAgent(pb::ResumeAgentRequest {
                agent_id: ada.into(),
                reason: 99,
                ..Default::default()
            }),
            invalid("reason"),
        ),
        case(
            "resume: reason WENT_OFFLINE",
            C::ResumeAgent(pb::ResumeAgentRequest {
                agent_id: ada.into(),
                reason: pb::ResumeReason::WentOffline as i32,
                ..Default::default()
            }),
            invalid("reason"),
        ),
        case(
            "resume: agent_id not a UUID",
            C::ResumeAgent(pb::ResumeAgentRequest {
                agent_id: "x".into(),
                ..Default::default()
            }),
            invalid("agent_id"),
        ),
        case(
            "deactivate: agent_id not a UUID",
            C::DeactivateAgent(pb::DeactivateAgentRequest {
                agent_id: "ada@example.com".into(),
                ..Default::default()
            }),
            invalid("agent_id"),
        ),
        case(
            "deactivate: unknown agent",
            C::DeactivateAgent(pb::DeactivateAgentRequest {
                agent_id: id(),
                ..Default::default()
            }),
            not_found(),
        ),
        // ------------------------------------------------------------- departments
        case(
            "create department: empty name",
            C::CreateDepartment(pb::CreateDepartmentRequest::default()),
            invalid("name"),
        ),
        case(
            "create department: blank name",
            C::CreateDepartment(pb::CreateDepartmentRequest {
                name: "\t \n".into(),
                ..Default::default()
            }),
            invalid("name"),
        ),
        case(
            "create department: name of 201 characters",
            C::CreateDepartment(pb::CreateDepartmentRequest {
                name: text(201),
                ..Default::default()
            }),
            invalid("name"),
        ),
        case(
            "create department: name of 201 non-ASCII characters",
            C::CreateDepartment(pb::CreateDepartmentRequest {
                name: "č".repeat(201),
                ..Default::default()
            }),
            invalid("name"),
        ),
        case(
            "create department: department_id not a UUID",
            C::CreateDepartment(pb::CreateDepartmentRequest {
                department_id: "billing".into(),
                name: "Billing".into(),
                ..Default::default()
            }),
            invalid("department_id"),
        ),
        case(
            "update department: no department_id",
            C::UpdateDepartment(pb::UpdateDepartmentRequest {
                name: Some("Sales".into()),
                ..Default::default()
            }),
            invalid("department_id"),
        ),
        case(
            "update department: name of 201 characters",
            C::UpdateDepartment(pb::UpdateDepartmentRequest {
                department_id: billing.into(),
                name: Some(text(201)),
                ..Default::default()
            }),
            invalid("name"),
        ),
        case(
            "update department: empty name",
            C::UpdateDepartment(pb::UpdateDepartmentRequest {
                department_id: billing.into(),
                name: Some(String::new()),
                ..Default::default()
            }),
            invalid("name"),
        ),
        case(
            "update department: nothing to change",
            C::UpdateDepartment(pb::UpdateDepartmentRequest {
                department_id: billing.into(),
                ..Default::default()
            }),
            whole_request(),
        ),
        case(
            "update department: unknown department",
            C::UpdateDepartment(pb::UpdateDepartmentRequest {
                department_id: id(),
                name: Some("Sales".into()),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "add to department: department_id not a UUID",
            C::AddAgentToDepartment(pb::AddAgentToDepartmentRequest {
                department_id: "billing".into(),
                agent_id: ada.into(),
                ..Default::default()
            }),
            invalid("department_id"),
        ),
        case(
            "add to department: agent_id not a UUID",
            C::AddAgentToDepartment(pb::AddAgentToDepartmentRequest {
                department_id: billing.into(),
                agent_id: "ada".into(),
                ..Default::default()
            }),
            invalid("agent_id"),
        ),
        case(
            "add to department: unknown department",
            C::AddAgentToDepartment(pb::AddAgentToDepartmentRequest {
                department_id: id(),
                agent_id: ada.into(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "add to department: unknown agent",
            C::AddAgentToDepartment(pb::AddAgentToDepartmentRequest {
                department_id: billing.into(),
                agent_id: id(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "remove from department: no department_id",
            C::RemoveAgentFromDepartment(pb::RemoveAgentFromDepartmentRequest {
                agent_id: ada.into(),
                ..Default::default()
            }),
            invalid("department_id"),
        ),
        case(
            "remove from department: agent_id not a UUID",
            C::RemoveAgentFromDepartment(pb::RemoveAgentFromDepartmentRequest {
                department_id: billing.into(),
                agent_id: "-".into(),
                ..Default::default()
            }),
            invalid("agent_id"),
        ),
        // ----------------------------------------------------------------- tickets
        case(
            "create ticket: subject of 1001 characters",
            C::CreateTicket(ticket(text(1_001))),
            invalid("subject"),
        ),
        case(
            "create ticket: empty subject",
            C::CreateTicket(ticket(String::new())),
            invalid("subject"),
        ),
        case(
            "create ticket: blank subject",
            C::CreateTicket(ticket(" \t ".into())),
            invalid("subject"),
        ),
        case(
            "create ticket: body over 64 KiB",
            C::CreateTicket(pb::CreateTicketRequest {
                body: Some("y".repeat(64 * 1024 + 1)),
                ..ticket("Big".into())
            }),
            invalid("body"),
        ),
        case(
            "create ticket: body over 64 KiB in multi-byte characters",
            C::CreateTicket(pb::CreateTicketRequest {
                body: Some("€".repeat(21_846)),
                ..ticket("Big".into())
            }),
            invalid("body"),
        ),
        case(
            "create ticket: channel UNSPECIFIED",
            C::CreateTicket(pb::CreateTicketRequest {
                channel: 0,
                ..ticket("Hi".into())
            }),
            invalid("channel"),
        ),
        case(
            "create ticket: unknown channel 99",
            C::CreateTicket(pb::CreateTicketRequest {
                channel: 99,
                ..ticket("Hi".into())
            }),
            invalid("channel"),
        ),
        case(
            "create ticket: priority UNSPECIFIED",
            C::CreateTicket(pb::CreateTicketRequest {
                priority: 0,
                ..ticket("Hi".into())
            }),
            invalid("priority"),
        ),
        case(
            "create ticket: unknown priority -1",
            C::CreateTicket(pb::CreateTicketRequest {
                priority: -1,
                ..ticket("Hi".into())
            }),
            invalid("priority"),
        ),
        case(
            "create ticket: department_id not a UUID",
            C::CreateTicket(pb::CreateTicketRequest {
                department_id: "billing".into(),
                ..ticket("Hi".into())
            }),
            invalid("department_id"),
        ),
        case(
            "create ticket: ticket_id not a UUID",
            C::CreateTicket(pb::CreateTicketRequest {
                ticket_id: "T-1".into(),
                ..ticket("Hi".into())
            }),
            invalid("ticket_id"),
        ),
        case(
            "create ticket: unknown department",
            C::CreateTicket(pb::CreateTicketRequest {
                department_id: id(),
                ..ticket("Hi".into())
            }),
            not_found(),
        ),
        case(
            "create ticket: occurred_at in an hour",
            C::CreateTicket(pb::CreateTicketRequest {
                occurred_at: from_now(3_600),
                ..ticket("Hi".into())
            }),
            invalid("occurred_at"),
        ),
        case(
            "assign: no ticket_id",
            C::AssignTicket(pb::AssignTicketRequest {
                agent_id: ada.into(),
                ..Default::default()
            }),
            invalid("ticket_id"),
        ),
        case(
            "assign: agent_id not a UUID",
            C::AssignTicket(pb::AssignTicketRequest {
                ticket_id: tk.into(),
                agent_id: "ada".into(),
                ..Default::default()
            }),
            invalid("agent_id"),
        ),
        case(
            "assign: unknown ticket",
            C::AssignTicket(pb::AssignTicketRequest {
                ticket_id: id(),
                agent_id: ada.into(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "assign: unknown agent",
            C::AssignTicket(pb::AssignTicketRequest {
                ticket_id: tk.into(),
                agent_id: id(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "unassign: ticket_id not a UUID",
            C::UnassignTicket(pb::UnassignTicketRequest {
                ticket_id: "#42".into(),
                ..Default::default()
            }),
            invalid("ticket_id"),
        ),
        case(
            "unassign: unknown ticket",
            C::UnassignTicket(pb::UnassignTicketRequest {
                ticket_id: id(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "transfer: no department_id",
            C::TransferTicket(pb::TransferTicketRequest {
                ticket_id: tk.into(),
                ..Default::default()
            }),
            invalid("department_id"),
        ),
        case(
            "transfer: unknown department",
            C::TransferTicket(pb::TransferTicketRequest {
                ticket_id: tk.into(),
                department_id: id(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "transfer: agent_id not a UUID",
            C::TransferTicket(pb::TransferTicketRequest {
                ticket_id: tk.into(),
                department_id: billing.into(),
                agent_id: "me".into(),
                ..Default::default()
            }),
            invalid("agent_id"),
        ),
        case(
            "answer ticket: 0 chars",
            C::AnswerTicket(pb::AnswerTicketRequest {
                ticket_id: tk.into(),
                chars: 0,
                ..Default::default()
            }),
            invalid("chars"),
        ),
        case(
            "answer ticket: 65537 chars",
            C::AnswerTicket(pb::AnswerTicketRequest {
                ticket_id: tk.into(),
                chars: 65_537,
                ..Default::default()
            }),
            invalid("chars"),
        ),
        case(
            "answer ticket: occurred_at before the ticket's last event",
            C::AnswerTicket(pb::AnswerTicketRequest {
                ticket_id: tk.into(),
                chars: 10,
                occurred_at: Some(prost_types::Timestamp {
                    seconds: 1_000_000,
                    nanos: 0,
                }),
                ..Default::default()
            }),
            invalid("occurred_at"),
        ),
        case(
            "answer ticket: unknown ticket",
            C::AnswerTicket(pb::AnswerTicketRequest {
                ticket_id: id(),
                chars: 10,
                ..Default::default()
            }),
            not_found(),
        ),
        // An integration has no agent of its own: the agent the answer is written as
        // must be named, and the field to name is the request's `agent_id`.
        case(
            "answer ticket: an integration names no agent",
            C::AnswerTicket(pb::AnswerTicketRequest {
                ticket_id: tk.into(),
                chars: 10,
                ..Default::default()
            }),
            invalid("agent_id"),
        )
        .by(Who::Integration),
        case(
            "customer reply: ticket_id not a UUID",
            C::RecordCustomerReply(pb::RecordCustomerReplyRequest {
                ticket_id: "ticket".into(),
                ..Default::default()
            }),
            invalid("ticket_id"),
        ),
        case(
            "customer reply: unknown ticket",
            C::RecordCustomerReply(pb::RecordCustomerReplyRequest {
                ticket_id: id(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "tag: tag of 65 characters",
            C::TagTicket(pb::TagTicketRequest {
                ticket_id: tk.into(),
                tag: text(65),
                ..Default::default()
            }),
            invalid("tag"),
        ),
        case(
            "tag: empty tag",
            C::TagTicket(pb::TagTicketRequest {
                ticket_id: tk.into(),
                ..Default::default()
            }),
            invalid("tag"),
        ),
        case(
            "tag: tag with a line break",
            C::TagTicket(pb::TagTicketRequest {
                ticket_id: tk.into(),
                tag: "vip\nurgent".into(),
                ..Default::default()
            }),
            invalid("tag"),
        ),
        case(
            "tag: unknown ticket",
            C::TagTicket(pb::TagTicketRequest {
                ticket_id: id(),
                tag: "vip".into(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "tag: a 51st tag",
            C::TagTicket(pb::TagTicketRequest {
                ticket_id: fx.full_ticket.clone(),
                tag: "one-more".into(),
                ..Default::default()
            }),
            invalid("tag"),
        ),
        case(
            "untag: tag of 65 characters",
            C::UntagTicket(pb::UntagTicketRequest {
                ticket_id: tk.into(),
                tag: text(65),
                ..Default::default()
            }),
            invalid("tag"),
        ),
        case(
            "untag: ticket_id not a UUID",
            C::UntagTicket(pb::UntagTicketRequest {
                ticket_id: "?".into(),
                tag: "vip".into(),
                ..Default::default()
            }),
            invalid("ticket_id"),
        ),
        case(
            "resolve: ticket_id not a UUID",
            C::ResolveTicket(pb::ResolveTicketRequest {
                ticket_id: "00000000-0000-0000-0000-00000000000g".into(),
                ..Default::default()
            }),
            invalid("ticket_id"),
        ),
        case(
            "resolve: unknown ticket",
            C::ResolveTicket(pb::ResolveTicketRequest {
                ticket_id: id(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "reopen: no ticket_id",
            C::ReopenTicket(pb::ReopenTicketRequest::default()),
            invalid("ticket_id"),
        ),
        case(
            "delete: agent_id not a UUID",
            C::DeleteTicket(pb::DeleteTicketRequest {
                ticket_id: tk.into(),
                agent_id: "boss".into(),
                ..Default::default()
            }),
            invalid("agent_id"),
        ),
        case(
            "delete: unknown ticket",
            C::DeleteTicket(pb::DeleteTicketRequest {
                ticket_id: id(),
                ..Default::default()
            }),
            not_found(),
        ),
        // ------------------------------------------------------------------- chats
        case(
            "start chat: channel UNSPECIFIED",
            C::StartChat(pb::StartChatRequest::default()),
            invalid("channel"),
        ),
        case(
            "start chat: chat_id not a UUID",
            C::StartChat(pb::StartChatRequest {
                chat_id: "chat".into(),
                channel: pb::Channel::Chat as i32,
                ..Default::default()
            }),
            invalid("chat_id"),
        ),
        case(
            "start chat: unknown department",
            C::StartChat(pb::StartChatRequest {
                channel: pb::Channel::Chat as i32,
                department_id: id(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "offer chat: no chat_id",
            C::OfferChat(pb::OfferChatRequest {
                agent_id: ada.into(),
                ..Default::default()
            }),
            invalid("chat_id"),
        ),
        case(
            "offer chat: unknown chat",
            C::OfferChat(pb::OfferChatRequest {
                chat_id: id(),
                agent_id: ada.into(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "accept chat: chat_id not a UUID",
            C::AcceptChat(pb::AcceptChatRequest {
                chat_id: "abc".into(),
                ..Default::default()
            }),
            invalid("chat_id"),
        ),
        case(
            "miss chat: chat_id not a UUID",
            C::MissChat(pb::MissChatRequest {
                chat_id: "abc".into(),
                ..Default::default()
            }),
            invalid("chat_id"),
        ),
        case(
            "answer chat: 0 chars",
            C::AnswerChat(pb::AnswerChatRequest {
                chat_id: chat.into(),
                chars: 0,
                ..Default::default()
            }),
            invalid("chars"),
        ),
        case(
            "answer chat: 70000 chars",
            C::AnswerChat(pb::AnswerChatRequest {
                chat_id: chat.into(),
                chars: 70_000,
                ..Default::default()
            }),
            invalid("chars"),
        ),
        case(
            "answer chat: an integration names no agent",
            C::AnswerChat(pb::AnswerChatRequest {
                chat_id: chat.into(),
                chars: 10,
                ..Default::default()
            }),
            invalid("agent_id"),
        )
        .by(Who::Integration),
        case(
            "accept chat: an integration names no agent",
            C::AcceptChat(pb::AcceptChatRequest {
                chat_id: chat.into(),
                ..Default::default()
            }),
            invalid("agent_id"),
        )
        .by(Who::Integration),
        case(
            "chat customer message: unknown chat",
            C::RecordChatCustomerMessage(pb::RecordChatCustomerMessageRequest {
                chat_id: id(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "end chat: chat_id not a UUID",
            C::EndChat(pb::EndChatRequest {
                chat_id: " ".into(),
                ..Default::default()
            }),
            invalid("chat_id"),
        ),
        // ------------------------------------------------------------------- calls
        case(
            "incoming call: call_id not a UUID",
            C::IncomingCall(pb::IncomingCallRequest {
                call_id: "+386 1 234".into(),
                ..Default::default()
            }),
            invalid("call_id"),
        ),
        case(
            "incoming call: department_id not a UUID",
            C::IncomingCall(pb::IncomingCallRequest {
                department_id: "sales".into(),
                ..Default::default()
            }),
            invalid("department_id"),
        ),
        case(
            "ring call: no call_id",
            C::RingCall(pb::RingCallRequest {
                agent_id: ada.into(),
                ..Default::default()
            }),
            invalid("call_id"),
        ),
        case(
            "ring call: unknown call",
            C::RingCall(pb::RingCallRequest {
                call_id: id(),
                agent_id: ada.into(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "answer call: call_id not a UUID",
            C::AnswerCall(pb::AnswerCallRequest {
                call_id: "x".into(),
                ..Default::default()
            }),
            invalid("call_id"),
        ),
        case(
            "answer call: agent_id not a UUID",
            C::AnswerCall(pb::AnswerCallRequest {
                call_id: call.into(),
                agent_id: "x".into(),
                ..Default::default()
            }),
            invalid("agent_id"),
        ),
        case(
            "answer call: an integration names no agent",
            C::AnswerCall(pb::AnswerCallRequest {
                call_id: call.into(),
                ..Default::default()
            }),
            invalid("agent_id"),
        )
        .by(Who::Integration),
        case(
            "miss call: unknown call",
            C::MissCall(pb::MissCallRequest {
                call_id: id(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "end call: call_id not a UUID",
            C::EndCall(pb::EndCallRequest {
                call_id: "call".into(),
                ..Default::default()
            }),
            invalid("call_id"),
        ),
        // ----------------------------------------------------------------- ratings
        case(
            "rate: no conversation",
            C::RateConversation(pb::RateConversationRequest {
                rating: 1,
                ..Default::default()
            }),
            invalid("conversation"),
        ),
        case(
            "rate: conversation kind UNSPECIFIED",
            C::RateConversation(pb::RateConversationRequest {
                conversation: conversation(0, tk),
                rating: 1,
                ..Default::default()
            }),
            invalid("conversation.kind"),
        ),
        case(
            "rate: unknown conversation kind 9",
            C::RateConversation(pb::RateConversationRequest {
                conversation: conversation(9, tk),
                rating: 1,
                ..Default::default()
            }),
            invalid("conversation.kind"),
        ),
        case(
            "rate: conversation.id not a UUID",
            C::RateConversation(pb::RateConversationRequest {
                conversation: conversation(ticket_kind, "T-1"),
                rating: 1,
                ..Default::default()
            }),
            invalid("conversation.id"),
        ),
        case(
            "rate: no conversation.id",
            C::RateConversation(pb::RateConversationRequest {
                conversation: conversation(ticket_kind, ""),
                rating: 1,
                ..Default::default()
            }),
            invalid("conversation.id"),
        ),
        case(
            "rate: rating UNSPECIFIED",
            C::RateConversation(pb::RateConversationRequest {
                conversation: conversation(ticket_kind, tk),
                rating: 0,
                ..Default::default()
            }),
            invalid("rating"),
        ),
        case(
            "rate: unknown rating 5",
            C::RateConversation(pb::RateConversationRequest {
                conversation: conversation(ticket_kind, tk),
                rating: 5,
                ..Default::default()
            }),
            invalid("rating"),
        ),
        case(
            "rate: unknown ticket",
            C::RateConversation(pb::RateConversationRequest {
                conversation: conversation(ticket_kind, &id()),
                rating: 1,
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "rate: unknown chat",
            C::RateConversation(pb::RateConversationRequest {
                conversation: conversation(chat_kind, &id()),
                rating: 2,
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "retract: conversation.id not a UUID",
            C::RetractRating(pb::RetractRatingRequest {
                conversation: conversation(chat_kind, "chat"),
                ..Default::default()
            }),
            invalid("conversation.id"),
        ),
        case(
            "retract: no conversation",
            C::RetractRating(pb::RetractRatingRequest::default()),
            invalid("conversation"),
        ),
        // ------------------------------------------------------------------ levels
        case(
            "define level: empty name",
            C::DefineLevel(level(String::new(), "$answers >= 1")),
            invalid("name"),
        ),
        case(
            "define level: name of 201 characters",
            C::DefineLevel(level(text(201), "$answers >= 1")),
            invalid("name"),
        ),
        case(
            "define level: description of 2001 characters",
            C::DefineLevel(pb::DefineLevelRequest {
                description: text(2_001),
                ..level("Pro".into(), "$answers >= 1")
            }),
            invalid("description"),
        ),
        case(
            "define level: empty condition",
            C::DefineLevel(level("Pro".into(), "")),
            invalid("condition"),
        ),
        case(
            "define level: condition of 2001 characters",
            C::DefineLevel(level(
                "Pro".into(),
                &format!("$answers >= {}", "1".repeat(1_989)),
            )),
            invalid("condition"),
        ),
        case(
            "define level: condition ends early",
            C::DefineLevel(level("Pro".into(), "$answers >=")),
            invalid("condition").mentioning("column 12"),
        ),
        case(
            "define level: unknown variable",
            C::DefineLevel(level("Pro".into(), "$answer >= 10")),
            invalid("condition").mentioning("column 1:"),
        ),
        case(
            "define level: unknown variable after &&",
            C::DefineLevel(level("Pro".into(), "$answers >= 10 && $chat > 1")),
            invalid("condition").mentioning("column 19"),
        ),
        case(
            "define level: = instead of ==",
            C::DefineLevel(level("Pro".into(), "$answers = 10")),
            invalid("condition").mentioning("column 10"),
        ),
        case(
            "define level: unclosed parenthesis",
            C::DefineLevel(level("Pro".into(), "($answers + 1")),
            invalid("condition").mentioning("column 14"),
        ),
        case(
            "define level: rank 0",
            C::DefineLevel(pb::DefineLevelRequest {
                rank: Some(0),
                ..level("Pro".into(), "$answers >= 1")
            }),
            invalid("rank"),
        ),
        case(
            "define level: rank above the top",
            C::DefineLevel(pb::DefineLevelRequest {
                rank: Some(400),
                ..level("Pro".into(), "$answers >= 1")
            }),
            invalid("rank"),
        ),
        case(
            "define level: level_id not a UUID",
            C::DefineLevel(pb::DefineLevelRequest {
                level_id: "pro".into(),
                ..level("Pro".into(), "$answers >= 1")
            }),
            invalid("level_id"),
        ),
        case(
            "update level: no level_id",
            C::UpdateLevel(pb::UpdateLevelRequest {
                name: Some("Pro".into()),
                ..Default::default()
            }),
            invalid("level_id"),
        ),
        case(
            "update level: nothing to change",
            C::UpdateLevel(pb::UpdateLevelRequest {
                level_id: l0.clone(),
                ..Default::default()
            }),
            whole_request(),
        ),
        case(
            "update level: bad condition",
            C::UpdateLevel(pb::UpdateLevelRequest {
                level_id: l0.clone(),
                condition: Some("1 + @".into()),
                ..Default::default()
            }),
            invalid("condition").mentioning("column 5"),
        ),
        case(
            "update level: condition of 2001 characters",
            C::UpdateLevel(pb::UpdateLevelRequest {
                level_id: l0.clone(),
                condition: Some(text(2_001)),
                ..Default::default()
            }),
            invalid("condition"),
        ),
        case(
            "update level: name of 201 characters",
            C::UpdateLevel(pb::UpdateLevelRequest {
                level_id: l0.clone(),
                name: Some(text(201)),
                ..Default::default()
            }),
            invalid("name"),
        ),
        case(
            "update level: description of 2001 characters",
            C::UpdateLevel(pb::UpdateLevelRequest {
                level_id: l0.clone(),
                description: Some(text(2_001)),
                ..Default::default()
            }),
            invalid("description"),
        ),
        case(
            "update level: unknown level",
            C::UpdateLevel(pb::UpdateLevelRequest {
                level_id: id(),
                name: Some("Pro".into()),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "remove level: level_id not a UUID",
            C::RemoveLevel(pb::RemoveLevelRequest {
                level_id: "novice".into(),
                ..Default::default()
            }),
            invalid("level_id"),
        ),
        case(
            "remove level: unknown level",
            C::RemoveLevel(pb::RemoveLevelRequest {
                level_id: id(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "reorder levels: order[1] not a UUID",
            C::ReorderLevels(pb::ReorderLevelsRequest {
                order: vec![l0.clone(), "second".into()],
                ..Default::default()
            }),
            invalid("order[1]"),
        ),
        case(
            "reorder levels: an unknown level",
            C::ReorderLevels(pb::ReorderLevelsRequest {
                order: [all_levels.clone(), vec![id()]].concat(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "reorder levels: levels missing",
            C::ReorderLevels(pb::ReorderLevelsRequest {
                order: vec![l1.clone(), l0.clone()],
                ..Default::default()
            }),
            invalid("order"),
        ),
        case(
            "reorder levels: a level twice",
            C::ReorderLevels(pb::ReorderLevelsRequest {
                order: [all_levels.clone(), vec![l0.clone()]].concat(),
                ..Default::default()
            }),
            invalid("order"),
        ),
        case(
            "reorder levels: empty order",
            C::ReorderLevels(pb::ReorderLevelsRequest::default()),
            invalid("order"),
        ),
        case(
            "reorder levels: 501 entries",
            C::ReorderLevels(pb::ReorderLevelsRequest {
                order: (0..501).map(|_| id()).collect(),
                ..Default::default()
            }),
            invalid("order"),
        ),
        // ------------------------------------------------------------------ badges
        case(
            "customize badge: key with capitals and a space",
            C::CustomizeBadge(pb::CustomizeBadgeRequest {
                key: "Speedy Gonzales".into(),
                enabled: Some(false),
                ..Default::default()
            }),
            invalid("key"),
        ),
        case(
            "customize badge: nothing to change",
            C::CustomizeBadge(pb::CustomizeBadgeRequest {
                key: "siesta".into(),
                ..Default::default()
            }),
            whole_request(),
        ),
        case(
            "customize badge: visibility UNSPECIFIED",
            C::CustomizeBadge(pb::CustomizeBadgeRequest {
                key: "siesta".into(),
                visibility: Some(0),
                ..Default::default()
            }),
            invalid("visibility"),
        ),
        case(
            "customize badge: unknown visibility 9",
            C::CustomizeBadge(pb::CustomizeBadgeRequest {
                key: "siesta".into(),
                visibility: Some(9),
                ..Default::default()
            }),
            invalid("visibility"),
        ),
        case(
            "customize badge: name of 201 characters",
            C::CustomizeBadge(pb::CustomizeBadgeRequest {
                key: "siesta".into(),
                name: Some(text(201)),
                ..Default::default()
            }),
            invalid("name"),
        ),
        case(
            "customize badge: image_url with a space",
            C::CustomizeBadge(pb::CustomizeBadgeRequest {
                key: "siesta".into(),
                image_url: Some("https://example.com/a b.png".into()),
                ..Default::default()
            }),
            invalid("image_url"),
        ),
        case(
            "customize badge: image_url of 2001 characters",
            C::CustomizeBadge(pb::CustomizeBadgeRequest {
                key: "siesta".into(),
                image_url: Some(format!("https://example.com/{}", text(1_981))),
                ..Default::default()
            }),
            invalid("image_url"),
        ),
        case(
            "customize badge: description of 2001 characters",
            C::CustomizeBadge(pb::CustomizeBadgeRequest {
                key: "siesta".into(),
                description: Some(text(2_001)),
                ..Default::default()
            }),
            invalid("description"),
        ),
        case(
            "customize badge: unknown badge",
            C::CustomizeBadge(pb::CustomizeBadgeRequest {
                key: "no_such_badge".into(),
                enabled: Some(false),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "define badge: window of 0 days",
            C::DefineBadge(pb::DefineBadgeRequest {
                window_days: 0,
                ..badge("night_owl")
            }),
            invalid("window_days"),
        ),
        case(
            "define badge: window of 91 days",
            C::DefineBadge(pb::DefineBadgeRequest {
                window_days: 91,
                ..badge("night_owl")
            }),
            invalid("window_days"),
        ),
        case(
            "define badge: statistic UNSPECIFIED",
            C::DefineBadge(pb::DefineBadgeRequest {
                statistic: 0,
                ..badge("night_owl")
            }),
            invalid("statistic"),
        ),
        case(
            "define badge: unknown statistic 99",
            C::DefineBadge(pb::DefineBadgeRequest {
                statistic: 99,
                ..badge("night_owl")
            }),
            invalid("statistic"),
        ),
        case(
            "define badge: best UNSPECIFIED",
            C::DefineBadge(pb::DefineBadgeRequest {
                best: 0,
                ..badge("night_owl")
            }),
            invalid("best"),
        ),
        case(
            "define badge: unknown best 3",
            C::DefineBadge(pb::DefineBadgeRequest {
                best: 3,
                ..badge("night_owl")
            }),
            invalid("best"),
        ),
        case(
            "define badge: key in capitals",
            C::DefineBadge(badge("NIGHT_OWL")),
            invalid("key"),
        ),
        case(
            "define badge: key of 65 characters",
            C::DefineBadge(badge(&"k".repeat(65))),
            invalid("key"),
        ),
        case(
            "define badge: empty key",
            C::DefineBadge(badge("")),
            invalid("key"),
        ),
        case(
            "define badge: empty name",
            C::DefineBadge(pb::DefineBadgeRequest {
                name: String::new(),
                ..badge("night_owl")
            }),
            invalid("name"),
        ),
        case(
            "remove badge: empty key",
            C::RemoveBadge(pb::RemoveBadgeRequest::default()),
            invalid("key"),
        ),
        case(
            "remove badge: unknown badge",
            C::RemoveBadge(pb::RemoveBadgeRequest {
                key: "no_such_badge".into(),
                ..Default::default()
            }),
            not_found(),
        ),
        // ----------------------------------------------------------- routing rules
        case(
            "routing rule: empty name",
            C::DefineRoutingRule(pb::DefineRoutingRuleRequest {
                name: String::new(),
                groups: any_group(),
                actions: any_action(),
                ..Default::default()
            }),
            invalid("name"),
        ),
        case(
            "routing rule: name of 201 characters",
            C::DefineRoutingRule(pb::DefineRoutingRuleRequest {
                name: text(201),
                groups: any_group(),
                actions: any_action(),
                ..Default::default()
            }),
            invalid("name"),
        ),
        case(
            "routing rule: rule_id not a UUID",
            C::DefineRoutingRule(pb::DefineRoutingRuleRequest {
                rule_id: "vip".into(),
                name: "VIP".into(),
                groups: any_group(),
                actions: any_action(),
                ..Default::default()
            }),
            invalid("rule_id"),
        ),
        case(
            "routing rule: no groups",
            rule(vec![], any_action()),
            invalid("groups"),
        ),
        case(
            "routing rule: 21 groups",
            rule(
                (0..21).map(|_| any_group().remove(0)).collect(),
                any_action(),
            ),
            invalid("groups"),
        ),
        case(
            "routing rule: a condition with nothing set",
            rule(
                vec![group(vec![pb::RoutingCondition { condition: None }])],
                any_action(),
            ),
            invalid("groups[0].conditions[0]"),
        ),
        case(
            "routing rule: channel UNSPECIFIED in channel_in",
            rule(vec![group(vec![channels(&[0])])], any_action()),
            invalid("groups[0].conditions[0].channel_in.channels[0]"),
        ),
        case(
            "routing rule: unknown channel in the second group",
            rule(
                [any_group(), vec![group(vec![channels(&[1, 42])])]].concat(),
                any_action(),
            ),
            invalid("groups[1].conditions[0].channel_in.channels[1]"),
        ),
        case(
            "routing rule: unknown priority in priority_in",
            rule(
                vec![group(vec![
                    channels(&[1]),
                    condition(Cond::PriorityIn(pb::PrioritySet {
                        priorities: vec![9],
                    })),
                ])],
                any_action(),
            ),
            invalid("groups[0].conditions[1].priority_in.priorities[0]"),
        ),
        case(
            "routing rule: a group without conditions",
            rule(vec![group(vec![])], any_action()),
            invalid("groups[0].conditions"),
        ),
        case(
            "routing rule: an empty channel_in",
            rule(vec![group(vec![channels(&[])])], any_action()),
            invalid("groups[0].conditions[0].channel_in.channels"),
        ),
        case(
            "routing rule: an empty word in subject_contains",
            rule(
                vec![group(vec![condition(Cond::SubjectContains(words(&[""])))])],
                any_action(),
            ),
            invalid("groups[0].conditions[0].subject_contains.words[0]"),
        ),
        case(
            "routing rule: a word without letters in body_contains",
            rule(
                vec![group(vec![condition(Cond::BodyContains(words(&[
                    "refund", "--",
                ])))])],
                any_action(),
            ),
            invalid("groups[0].conditions[0].body_contains.words[1]"),
        ),
        case(
            "routing rule: a word of 65 characters",
            rule(
                vec![group(vec![condition(Cond::SubjectOrBodyContains(
                    pb::WordList {
                        words: vec![text(65)],
                    },
                ))])],
                any_action(),
            ),
            invalid("groups[0].conditions[0].subject_or_body_contains.words[0]"),
        ),
        case(
            "routing rule: no actions",
            rule(any_group(), vec![]),
            invalid("actions"),
        ),
        case(
            "routing rule: 21 actions",
            rule(
                any_group(),
                (0..21).map(|_| any_action().remove(0)).collect(),
            ),
            invalid("actions"),
        ),
        case(
            "routing rule: an action with nothing set",
            rule(any_group(), vec![pb::RoutingAction { action: None }]),
            invalid("actions[0]"),
        ),
        case(
            "routing rule: transfer_to_department_id not a UUID",
            rule(
                any_group(),
                vec![action(A::TransferToDepartmentId("billing".into()))],
            ),
            invalid("actions[0].transfer_to_department_id"),
        ),
        case(
            "routing rule: an agent id not a UUID in assign_to",
            rule(
                any_group(),
                vec![action(A::AssignTo(pb::AgentList {
                    agent_ids: vec![ada.into(), "?".into()],
                }))],
            ),
            invalid("actions[0].assign_to.agent_ids[1]"),
        ),
        case(
            "routing rule: set_priority UNSPECIFIED",
            rule(any_group(), vec![action(A::SetPriority(0))]),
            invalid("actions[0].set_priority"),
        ),
        case(
            "routing rule: unknown set_priority 12 in the second action",
            rule(
                any_group(),
                [any_action(), vec![action(A::SetPriority(12))]].concat(),
            ),
            invalid("actions[1].set_priority"),
        ),
        case(
            "routing rule: an empty assign_to",
            rule(
                any_group(),
                vec![action(A::AssignTo(pb::AgentList { agent_ids: vec![] }))],
            ),
            invalid("actions[0].assign_to.agent_ids"),
        ),
        case(
            "routing rule: a tag of 65 characters in add_tags",
            rule(
                any_group(),
                vec![action(A::AddTags(pb::TagList {
                    tags: vec![text(65)],
                }))],
            ),
            invalid("actions[0].add_tags.tags[0]"),
        ),
        case(
            "routing rule: 51 tags in add_tags",
            rule(
                any_group(),
                vec![action(A::AddTags(pb::TagList {
                    tags: (0..51).map(|i| format!("t{i}")).collect(),
                }))],
            ),
            invalid("actions[0].add_tags.tags"),
        ),
        // Every list within its limit, but 2.6 MB in all: more than a command may be
        // (1 MiB), refused before it is decoded.
        case(
            "routing rule: larger than a command may be",
            rule(big_groups(), any_action()),
            status(Code::ResourceExhausted).mentioning("larger than this method accepts"),
        ),
        // Every list within its limit, 2,001 entries in all: one more than a rule holds.
        case(
            "routing rule: too many list entries",
            rule(
                big_groups()[..20]
                    .iter()
                    .map(|g| group(g.conditions[..1].to_vec()))
                    .collect(),
                vec![action(A::AddTags(pb::TagList {
                    tags: vec!["vip".into()],
                }))],
            ),
            invalid("groups").mentioning("at most 2000 list entries"),
        ),
        case(
            "routing rule: transfer to an unknown department",
            rule(any_group(), vec![action(A::TransferToDepartmentId(id()))]),
            not_found(),
        ),
        case(
            "routing rule: assign to an unknown agent",
            rule(
                any_group(),
                vec![action(A::AssignTo(pb::AgentList {
                    agent_ids: vec![id()],
                }))],
            ),
            not_found(),
        ),
        case(
            "routing rule: position beyond the end",
            C::DefineRoutingRule(pb::DefineRoutingRuleRequest {
                name: "VIP".into(),
                groups: any_group(),
                actions: any_action(),
                position: Some(999),
                ..Default::default()
            }),
            invalid("position"),
        ),
        case(
            "remove routing rule: rule_id not a UUID",
            C::RemoveRoutingRule(pb::RemoveRoutingRuleRequest {
                rule_id: "vip".into(),
                ..Default::default()
            }),
            invalid("rule_id"),
        ),
        case(
            "remove routing rule: unknown rule",
            C::RemoveRoutingRule(pb::RemoveRoutingRuleRequest {
                rule_id: id(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "update routing rule: rule_id not a UUID",
            C::UpdateRoutingRule(pb::UpdateRoutingRuleRequest {
                rule_id: "vip".into(),
                enabled: Some(false),
                ..Default::default()
            }),
            invalid("rule_id"),
        ),
        case(
            "update routing rule: nothing to change",
            C::UpdateRoutingRule(pb::UpdateRoutingRuleRequest {
                rule_id: id(),
                ..Default::default()
            }),
            whole_request(),
        ),
        case(
            "update routing rule: empty name",
            C::UpdateRoutingRule(pb::UpdateRoutingRuleRequest {
                rule_id: id(),
                name: Some("  ".into()),
                ..Default::default()
            }),
            invalid("name"),
        ),
        case(
            "update routing rule: name of 201 characters",
            C::UpdateRoutingRule(pb::UpdateRoutingRuleRequest {
                rule_id: id(),
                name: Some(text(201)),
                ..Default::default()
            }),
            invalid("name"),
        ),
        case(
            "update routing rule: notes of 2001 characters",
            C::UpdateRoutingRule(pb::UpdateRoutingRuleRequest {
                rule_id: id(),
                notes: Some(text(2_001)),
                ..Default::default()
            }),
            invalid("notes"),
        ),
        case(
            "update routing rule: unknown rule",
            C::UpdateRoutingRule(pb::UpdateRoutingRuleRequest {
                rule_id: id(),
                enabled: Some(false),
                ..Default::default()
            }),
            not_found(),
        ),
        // ------------------------------------------------------------------- roles
        case(
            "define role: empty name",
            C::DefineRole(pb::DefineRoleRequest::default()),
            invalid("name"),
        ),
        case(
            "define role: name of 201 characters",
            C::DefineRole(pb::DefineRoleRequest {
                name: text(201),
                ..Default::default()
            }),
            invalid("name"),
        ),
        case(
            "define role: an unknown permission",
            C::DefineRole(pb::DefineRoleRequest {
                name: "Lead".into(),
                permissions: vec!["tickets.view_all".into(), "root".into()],
                ..Default::default()
            }),
            invalid("permissions[1]"),
        ),
        case(
            "define role: a built-in role's name",
            C::DefineRole(pb::DefineRoleRequest {
                name: "Owner".into(),
                ..Default::default()
            }),
            invalid("name"),
        ),
        case(
            "define role: role_id not a UUID",
            C::DefineRole(pb::DefineRoleRequest {
                role_id: "lead".into(),
                name: "Lead".into(),
                ..Default::default()
            }),
            invalid("role_id"),
        ),
        case(
            "update role: no role_id",
            C::UpdateRole(pb::UpdateRoleRequest {
                name: Some("Lead".into()),
                ..Default::default()
            }),
            invalid("role_id"),
        ),
        case(
            "update role: an unknown permission",
            C::UpdateRole(pb::UpdateRoleRequest {
                role_id: id(),
                permissions: Some(pb::PermissionSet {
                    permissions: vec!["everything".into()],
                }),
                ..Default::default()
            }),
            invalid("permissions.permissions[0]"),
        ),
        case(
            "update role: nothing to change",
            C::UpdateRole(pb::UpdateRoleRequest {
                role_id: id(),
                ..Default::default()
            }),
            whole_request(),
        ),
        case(
            "update role: unknown role",
            C::UpdateRole(pb::UpdateRoleRequest {
                role_id: id(),
                name: Some("Lead".into()),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "remove role: role_id not a UUID",
            C::RemoveRole(pb::RemoveRoleRequest {
                role_id: "lead".into(),
                ..Default::default()
            }),
            invalid("role_id"),
        ),
        case(
            "remove role: unknown role",
            C::RemoveRole(pb::RemoveRoleRequest {
                role_id: id(),
                ..Default::default()
            }),
            not_found(),
        ),
        // ---------------------------------------------------------------- settings
        case(
            "settings: unknown time zone",
            C::SetOrganizationSettings(pb::SetOrganizationSettingsRequest {
                time_zone: Some("Mars/Olympus_Mons".into()),
                ..settings()
            }),
            invalid("time_zone"),
        ),
        case(
            "settings: empty time zone",
            C::SetOrganizationSettings(pb::SetOrganizationSettingsRequest {
                time_zone: Some(String::new()),
                ..settings()
            }),
            invalid("time_zone"),
        ),
        case(
            "settings: time zone of 65 characters",
            C::SetOrganizationSettings(pb::SetOrganizationSettingsRequest {
                time_zone: Some(format!("Europe/{}", text(58))),
                ..settings()
            }),
            invalid("time_zone"),
        ),
        case(
            "settings: clover odds 1.5",
            C::SetOrganizationSettings(pb::SetOrganizationSettingsRequest {
                clover_odds: Some(1.5),
                ..settings()
            }),
            invalid("clover_odds"),
        ),
        case(
            "settings: clover odds -0.1",
            C::SetOrganizationSettings(pb::SetOrganizationSettingsRequest {
                clover_odds: Some(-0.1),
                ..settings()
            }),
            invalid("clover_odds"),
        ),
        case(
            "settings: clover odds NaN",
            C::SetOrganizationSettings(pb::SetOrganizationSettingsRequest {
                clover_odds: Some(f64::NAN),
                ..settings()
            }),
            invalid("clover_odds"),
        ),
        case(
            "settings: clover odds infinite",
            C::SetOrganizationSettings(pb::SetOrganizationSettingsRequest {
                clover_odds: Some(f64::INFINITY),
                ..settings()
            }),
            invalid("clover_odds"),
        ),
        case(
            "settings: seed of 31 bytes",
            C::SetOrganizationSettings(pb::SetOrganizationSettingsRequest {
                seed: Some(vec![7; 31]),
                ..settings()
            }),
            invalid("seed"),
        ),
        case(
            "settings: seed of 33 bytes",
            C::SetOrganizationSettings(pb::SetOrganizationSettingsRequest {
                seed: Some(vec![7; 33]),
                ..settings()
            }),
            invalid("seed"),
        ),
        case(
            "settings: max_custom_roles 101",
            C::SetOrganizationSettings(pb::SetOrganizationSettingsRequest {
                max_custom_roles: Some(101),
                ..settings()
            }),
            invalid("max_custom_roles"),
        ),
        case(
            "settings: nothing to change",
            C::SetOrganizationSettings(settings()),
            whole_request(),
        ),
        // ----------------------------------------------------------------- Execute
        case(
            "execute: a request without a command",
            Call::Execute(pb::ExecuteRequest { command: None }),
            invalid("command"),
        ),
        // ------------------------------------------------------------ AdminService
        case(
            "issue token: no subject",
            Call::IssueToken(pb::IssueTokenRequest::default()),
            invalid("subject"),
        ),
        case(
            "issue token: agent_id not a UUID",
            Call::IssueToken(pb::IssueTokenRequest {
                subject: Some(pb::issue_token_request::Subject::AgentId("ada".into())),
                ..Default::default()
            }),
            invalid("agent_id"),
        ),
        case(
            "issue token: unknown agent",
            Call::IssueToken(pb::IssueTokenRequest {
                subject: Some(pb::issue_token_request::Subject::AgentId(id())),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "issue token: integration without a name",
            Call::IssueToken(pb::IssueTokenRequest {
                subject: Some(pb::issue_token_request::Subject::Integration(
                    pb::IntegrationAccount {
                        name: String::new(),
                        role: agent_role(),
                    },
                )),
                ..Default::default()
            }),
            invalid("integration.name"),
        ),
        case(
            "issue token: integration name of 201 characters",
            Call::IssueToken(pb::IssueTokenRequest {
                subject: Some(pb::issue_token_request::Subject::Integration(
                    pb::IntegrationAccount {
                        name: text(201),
                        role: agent_role(),
                    },
                )),
                ..Default::default()
            }),
            invalid("integration.name"),
        ),
        case(
            "issue token: integration without a role",
            Call::IssueToken(pb::IssueTokenRequest {
                subject: Some(pb::issue_token_request::Subject::Integration(
                    pb::IntegrationAccount {
                        name: "Shop".into(),
                        role: None,
                    },
                )),
                ..Default::default()
            }),
            invalid("integration.role"),
        ),
        case(
            "issue token: integration with builtin role UNSPECIFIED",
            Call::IssueToken(pb::IssueTokenRequest {
                subject: Some(pb::issue_token_request::Subject::Integration(
                    pb::IntegrationAccount {
                        name: "Shop".into(),
                        role: builtin(0),
                    },
                )),
                ..Default::default()
            }),
            invalid("integration.role.builtin"),
        ),
        case(
            "issue token: integration with an unknown custom role",
            Call::IssueToken(pb::IssueTokenRequest {
                subject: Some(pb::issue_token_request::Subject::Integration(
                    pb::IntegrationAccount {
                        name: "Shop".into(),
                        role: Some(pb::RoleRef {
                            role: Some(pb::role_ref::Role::CustomRoleId(id())),
                        }),
                    },
                )),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "issue token: token_id not a UUID",
            Call::IssueToken(pb::IssueTokenRequest {
                token_id: "t1".into(),
                subject: Some(pb::issue_token_request::Subject::AgentId(ada.into())),
                ..Default::default()
            }),
            invalid("token_id"),
        ),
        case(
            "issue token: command_id not a UUID",
            Call::IssueToken(pb::IssueTokenRequest {
                command_id: "c1".into(),
                subject: Some(pb::issue_token_request::Subject::AgentId(ada.into())),
                ..Default::default()
            }),
            invalid("command_id"),
        ),
        case(
            "revoke token: no token_id",
            Call::RevokeToken(pb::RevokeTokenRequest::default()),
            invalid("token_id"),
        ),
        case(
            "revoke token: token_id not a UUID",
            Call::RevokeToken(pb::RevokeTokenRequest {
                token_id: "hd_secret".into(),
                ..Default::default()
            }),
            invalid("token_id"),
        ),
        case(
            "revoke token: unknown token",
            Call::RevokeToken(pb::RevokeTokenRequest {
                token_id: id(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "preview level recompute: mode UNSPECIFIED",
            Call::PreviewLevelRecompute(pb::LevelRecomputeRequest::default()),
            invalid("mode"),
        ),
        case(
            "preview level recompute: unknown mode 7",
            Call::PreviewLevelRecompute(pb::LevelRecomputeRequest {
                mode: 7,
                ..Default::default()
            }),
            invalid("mode"),
        ),
        case(
            "apply level recompute: mode UNSPECIFIED",
            Call::ApplyLevelRecompute(pb::LevelRecomputeRequest::default()),
            invalid("mode"),
        ),
        case(
            "apply level recompute: command_id not a UUID",
            Call::ApplyLevelRecompute(pb::LevelRecomputeRequest {
                mode: 1,
                command_id: "again".into(),
            }),
            invalid("command_id"),
        ),
        case(
            "preview badge recompute: mode UNSPECIFIED",
            Call::PreviewBadgeRecompute(pb::BadgeRecomputeRequest::default()),
            invalid("mode"),
        ),
        case(
            "preview badge recompute: unknown mode -3",
            Call::PreviewBadgeRecompute(pb::BadgeRecomputeRequest {
                mode: -3,
                ..Default::default()
            }),
            invalid("mode"),
        ),
        case(
            "apply badge recompute: unknown mode 9",
            Call::ApplyBadgeRecompute(pb::BadgeRecomputeRequest {
                mode: 9,
                ..Default::default()
            }),
            invalid("mode"),
        ),
        case(
            "apply badge recompute: command_id not a UUID",
            Call::ApplyBadgeRecompute(pb::BadgeRecomputeRequest {
                mode: 2,
                command_id: "again".into(),
            }),
            invalid("command_id"),
        ),
        // ----------------------------------------------------------- TicketService
        case(
            "get ticket: no ticket_id",
            Call::GetTicket(pb::GetTicketRequest::default()),
            invalid("ticket_id"),
        ),
        case(
            "get ticket: ticket_id not a UUID",
            Call::GetTicket(pb::GetTicketRequest {
                ticket_id: "42".into(),
                read: None,
            }),
            invalid("ticket_id"),
        ),
        case(
            "get ticket: unknown ticket",
            Call::GetTicket(pb::GetTicketRequest {
                ticket_id: id(),
                read: None,
            }),
            not_found(),
        ),
        case(
            "get ticket: read.wait_ms 60001",
            Call::GetTicket(pb::GetTicketRequest {
                ticket_id: tk.into(),
                read: read(60_001),
            }),
            invalid("read.wait_ms"),
        ),
        case(
            "get ticket: a position the log never reaches",
            Call::GetTicket(pb::GetTicketRequest {
                ticket_id: tk.into(),
                read: Some(pb::ReadOptions {
                    min_position: u64::MAX,
                    wait_ms: 10,
                }),
            }),
            status(Code::DeadlineExceeded),
        ),
        case(
            "list tickets: page_size 1001",
            Call::ListTickets(pb::ListTicketsRequest {
                page_size: 1_001,
                ..Default::default()
            }),
            invalid("page_size"),
        ),
        case(
            "list tickets: page_size u32::MAX",
            Call::ListTickets(pb::ListTicketsRequest {
                page_size: u32::MAX,
                ..Default::default()
            }),
            invalid("page_size"),
        ),
        case(
            "list tickets: a page token never given",
            Call::ListTickets(pb::ListTicketsRequest {
                page_token: "garbage".into(),
                ..Default::default()
            }),
            invalid("page_token"),
        ),
        case(
            "list tickets: a page token with a bad id",
            Call::ListTickets(pb::ListTicketsRequest {
                page_token: "1700000000000.not-a-uuid".into(),
                ..Default::default()
            }),
            invalid("page_token"),
        ),
        case(
            "list tickets: a page token with a bad time",
            Call::ListTickets(pb::ListTicketsRequest {
                page_token: format!("yesterday.{tk}"),
                ..Default::default()
            }),
            invalid("page_token"),
        ),
        case(
            "list tickets: unknown status 9",
            Call::ListTickets(pb::ListTicketsRequest {
                status: 9,
                ..Default::default()
            }),
            invalid("status"),
        ),
        case(
            "list tickets: department_id not a UUID",
            Call::ListTickets(pb::ListTicketsRequest {
                department_id: "billing".into(),
                ..Default::default()
            }),
            invalid("department_id"),
        ),
        case(
            "list tickets: assignee_id not a UUID",
            Call::ListTickets(pb::ListTicketsRequest {
                assignee_id: "ada".into(),
                ..Default::default()
            }),
            invalid("assignee_id"),
        ),
        case(
            "list tickets: no_department with department_id",
            Call::ListTickets(pb::ListTicketsRequest {
                no_department: true,
                department_id: billing.into(),
                ..Default::default()
            }),
            invalid("no_department"),
        ),
        case(
            "list tickets: read.wait_ms 60001",
            Call::ListTickets(pb::ListTicketsRequest {
                read: read(60_001),
                ..Default::default()
            }),
            invalid("read.wait_ms"),
        ),
        case(
            "count tickets: read.wait_ms 100000",
            Call::CountTickets(pb::CountTicketsRequest {
                read: read(100_000),
            }),
            invalid("read.wait_ms"),
        ),
        // ------------------------------------------------------------ StatsService
        case(
            "agent stats: agent_id not a UUID",
            Call::GetAgentStats(pb::GetAgentStatsRequest {
                agent_id: "ada".into(),
                ..Default::default()
            }),
            invalid("agent_id"),
        ),
        case(
            "agent stats: unknown agent",
            Call::GetAgentStats(pb::GetAgentStatsRequest {
                agent_id: id(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "agent stats: an integration names no agent",
            Call::GetAgentStats(pb::GetAgentStatsRequest::default()),
            invalid("agent_id"),
        )
        .by(Who::Integration),
        case(
            "agent stats: unknown window kind 9",
            Call::GetAgentStats(pb::GetAgentStatsRequest {
                agent_id: ada.into(),
                window: Some(pb::StatsWindow {
                    kind: 9,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            invalid("window.kind"),
        ),
        case(
            "agent stats: month 13 in window.from",
            Call::GetAgentStats(pb::GetAgentStatsRequest {
                agent_id: ada.into(),
                window: range("2024-13-01", "2024-12-31"),
                ..Default::default()
            }),
            invalid("window.from"),
        ),
        case(
            "agent stats: no window.from",
            Call::GetAgentStats(pb::GetAgentStatsRequest {
                agent_id: ada.into(),
                window: range("", "2024-12-31"),
                ..Default::default()
            }),
            invalid("window.from"),
        ),
        case(
            "agent stats: window.to not a date",
            Call::GetAgentStats(pb::GetAgentStatsRequest {
                agent_id: ada.into(),
                window: range("2024-01-01", "yesterday"),
                ..Default::default()
            }),
            invalid("window.to"),
        ),
        case(
            "agent stats: window.to before window.from",
            Call::GetAgentStats(pb::GetAgentStatsRequest {
                agent_id: ada.into(),
                window: range("2024-05-02", "2024-05-01"),
                ..Default::default()
            }),
            invalid("window.to"),
        ),
        case(
            "agent stats: read.wait_ms 60001",
            Call::GetAgentStats(pb::GetAgentStatsRequest {
                agent_id: ada.into(),
                read: read(60_001),
                ..Default::default()
            }),
            invalid("read.wait_ms"),
        ),
        case(
            "benchmark: no statistic",
            Call::Benchmark(pb::BenchmarkRequest::default()),
            invalid("statistic"),
        ),
        case(
            "benchmark: unknown statistic",
            Call::Benchmark(pb::BenchmarkRequest {
                statistic: "happiness".into(),
                ..Default::default()
            }),
            invalid("statistic"),
        ),
        case(
            "benchmark: a bare $ for a statistic",
            Call::Benchmark(pb::BenchmarkRequest {
                statistic: "$".into(),
                ..Default::default()
            }),
            invalid("statistic"),
        ),
        case(
            "benchmark: statistic in capitals",
            Call::Benchmark(pb::BenchmarkRequest {
                statistic: "ANSWERS".into(),
                ..Default::default()
            }),
            invalid("statistic"),
        ),
        case(
            "benchmark: limit 10001",
            Call::Benchmark(pb::BenchmarkRequest {
                statistic: "answers".into(),
                limit: 10_001,
                ..Default::default()
            }),
            invalid("limit"),
        ),
        case(
            "benchmark: department_id not a UUID",
            Call::Benchmark(pb::BenchmarkRequest {
                statistic: "answers".into(),
                department_id: "billing".into(),
                ..Default::default()
            }),
            invalid("department_id"),
        ),
        case(
            "benchmark: February 30 in window.from",
            Call::Benchmark(pb::BenchmarkRequest {
                statistic: "answers".into(),
                window: range("2024-02-30", "2024-03-01"),
                ..Default::default()
            }),
            invalid("window.from"),
        ),
        case(
            "benchmark: window.to before window.from",
            Call::Benchmark(pb::BenchmarkRequest {
                statistic: "answers".into(),
                window: range("2024-03-01", "2024-02-29"),
                ..Default::default()
            }),
            invalid("window.to"),
        ),
        case(
            "benchmark: unknown window kind -1",
            Call::Benchmark(pb::BenchmarkRequest {
                statistic: "answers".into(),
                window: Some(pb::StatsWindow {
                    kind: -1,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            invalid("window.kind"),
        ),
        // ------------------------------------------------------------ LevelService
        case(
            "list levels: read.wait_ms 60001",
            Call::ListLevels(pb::ListLevelsRequest { read: read(60_001) }),
            invalid("read.wait_ms"),
        ),
        case(
            "agent level: agent_id not a UUID",
            Call::GetAgentLevel(pb::GetAgentLevelRequest {
                agent_id: "ada".into(),
                read: None,
            }),
            invalid("agent_id"),
        ),
        case(
            "agent level: unknown agent",
            Call::GetAgentLevel(pb::GetAgentLevelRequest {
                agent_id: id(),
                read: None,
            }),
            not_found(),
        ),
        case(
            "agent level: an integration names no agent",
            Call::GetAgentLevel(pb::GetAgentLevelRequest::default()),
            invalid("agent_id"),
        )
        .by(Who::Integration),
        case(
            "level progress: agent_id not a UUID",
            Call::GetLevelProgress(pb::GetLevelProgressRequest {
                agent_id: "ada".into(),
                read: None,
            }),
            invalid("agent_id"),
        ),
        case(
            "level progress: unknown agent",
            Call::GetLevelProgress(pb::GetLevelProgressRequest {
                agent_id: id(),
                read: None,
            }),
            not_found(),
        ),
        case(
            "level progress: read.wait_ms 60001",
            Call::GetLevelProgress(pb::GetLevelProgressRequest {
                agent_id: ada.into(),
                read: read(60_001),
            }),
            invalid("read.wait_ms"),
        ),
        case(
            "leaderboard: limit 10001",
            Call::GetLeaderboard(pb::GetLeaderboardRequest {
                limit: 10_001,
                read: None,
            }),
            invalid("limit"),
        ),
        case(
            "leaderboard: limit u32::MAX",
            Call::GetLeaderboard(pb::GetLeaderboardRequest {
                limit: u32::MAX,
                read: None,
            }),
            invalid("limit"),
        ),
        case(
            "dry run: empty condition",
            Call::DryRunCondition(pb::DryRunConditionRequest::default()),
            invalid("condition").mentioning("column 1:"),
        ),
        case(
            "dry run: condition of 2001 characters",
            Call::DryRunCondition(pb::DryRunConditionRequest {
                condition: format!("$answers >= {}", "1".repeat(1_989)),
                read: None,
            }),
            invalid("condition"),
        ),
        case(
            "dry run: condition ends early",
            Call::DryRunCondition(pb::DryRunConditionRequest {
                condition: "$answers >=".into(),
                read: None,
            }),
            invalid("condition").mentioning("column 12"),
        ),
        case(
            "dry run: unknown variable",
            Call::DryRunCondition(pb::DryRunConditionRequest {
                condition: "$answers + $chat >= 10".into(),
                read: None,
            }),
            invalid("condition").mentioning("column 12"),
        ),
        case(
            "dry run: AND instead of &&",
            Call::DryRunCondition(pb::DryRunConditionRequest {
                condition: "1 AND 2".into(),
                read: None,
            }),
            invalid("condition").mentioning("column 3"),
        ),
        case(
            "watch level-ups: agent_id not a UUID",
            Call::WatchLevelUps(pb::WatchLevelUpsRequest {
                agent_id: "ada".into(),
            }),
            invalid("agent_id"),
        ),
        // ----------------------------------------------------------- RosterService
        case(
            "roster: department_id not a UUID",
            Call::ListAgents(pb::ListAgentsRequest {
                department_id: "billing".into(),
                ..Default::default()
            }),
            invalid("department_id"),
        ),
        case(
            "roster: unknown presence",
            Call::ListAgents(pb::ListAgentsRequest {
                presence: 99,
                ..Default::default()
            }),
            invalid("presence"),
        ),
        case(
            "roster: a role with neither part set",
            Call::ListAgents(pb::ListAgentsRequest {
                role: Some(pb::RoleRef { role: None }),
                ..Default::default()
            }),
            invalid("role"),
        ),
        case(
            "roster: role.builtin unspecified",
            Call::ListAgents(pb::ListAgentsRequest {
                role: builtin(0),
                ..Default::default()
            }),
            invalid("role.builtin"),
        ),
        case(
            "roster: role.builtin unknown",
            Call::ListAgents(pb::ListAgentsRequest {
                role: builtin(42),
                ..Default::default()
            }),
            invalid("role.builtin"),
        ),
        case(
            "roster: role.custom_role_id not a UUID",
            Call::ListAgents(pb::ListAgentsRequest {
                role: Some(pb::RoleRef {
                    role: Some(pb::role_ref::Role::CustomRoleId("lead".into())),
                }),
                ..Default::default()
            }),
            invalid("role.custom_role_id"),
        ),
        case(
            "roster: read.wait_ms 60001",
            Call::ListAgents(pb::ListAgentsRequest {
                read: read(60_001),
                ..Default::default()
            }),
            invalid("read.wait_ms"),
        ),
        case(
            "roster agent: agent_id not a UUID",
            Call::GetAgent(pb::GetAgentRequest {
                agent_id: "ada".into(),
                read: None,
            }),
            invalid("agent_id"),
        ),
        case(
            "roster agent: unknown agent",
            Call::GetAgent(pb::GetAgentRequest {
                agent_id: id(),
                read: None,
            }),
            not_found(),
        ),
        case(
            "roster agent: an integration names no agent",
            Call::GetAgent(pb::GetAgentRequest::default()),
            invalid("agent_id"),
        )
        .by(Who::Integration),
        case(
            "watch presence: department_id not a UUID",
            Call::WatchPresence(pb::WatchPresenceRequest {
                department_id: "billing".into(),
            }),
            invalid("department_id"),
        ),
        // ----------------------------------------------------------- ConfigService
        case(
            "list departments: read.wait_ms 60001",
            Call::ListDepartments(pb::ListDepartmentsRequest { read: read(60_001) }),
            invalid("read.wait_ms"),
        ),
        case(
            "list roles: read.wait_ms 60001",
            Call::ListRoles(pb::ListRolesRequest { read: read(60_001) }),
            invalid("read.wait_ms"),
        ),
        case(
            "list routing rules: read.wait_ms 60001",
            Call::ListRoutingRules(pb::ListRoutingRulesRequest { read: read(60_001) }),
            invalid("read.wait_ms"),
        ),
        case(
            "list routing rules: an integration with the Agent role",
            Call::ListRoutingRules(pb::ListRoutingRulesRequest { read: None }),
            status(Code::PermissionDenied).mentioning("routing.manage"),
        )
        .by(Who::Integration),
        case(
            "organization settings: read.wait_ms 60001",
            Call::GetOrganizationSettings(pb::GetOrganizationSettingsRequest {
                read: read(60_001),
            }),
            invalid("read.wait_ms"),
        ),
        // ------------------------------------------------------------ BadgeService
        case(
            "list badges: read.wait_ms 60001",
            Call::ListBadges(pb::ListBadgesRequest { read: read(60_001) }),
            invalid("read.wait_ms"),
        ),
        case(
            "agent badges: agent_id not a UUID",
            Call::GetAgentBadges(pb::GetAgentBadgesRequest {
                agent_id: "ada".into(),
                ..Default::default()
            }),
            invalid("agent_id"),
        ),
        case(
            "agent badges: limit 10001",
            Call::GetAgentBadges(pb::GetAgentBadgesRequest {
                agent_id: ada.into(),
                limit: 10_001,
                ..Default::default()
            }),
            invalid("limit"),
        ),
        case(
            "agent badges: unknown agent",
            Call::GetAgentBadges(pb::GetAgentBadgesRequest {
                agent_id: id(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "badge history: unknown badge",
            Call::GetBadgeHistory(pb::GetBadgeHistoryRequest {
                badge_key: "no_such_badge".into(),
                ..Default::default()
            }),
            not_found(),
        ),
        case(
            "badge history: limit 10001",
            Call::GetBadgeHistory(pb::GetBadgeHistoryRequest {
                badge_key: "siesta".into(),
                limit: 10_001,
                ..Default::default()
            }),
            invalid("limit"),
        ),
        case(
            "badge history: no badge_key",
            Call::GetBadgeHistory(pb::GetBadgeHistoryRequest::default()),
            invalid("badge_key"),
        ),
        case(
            "watch awards: agent_id not a UUID",
            Call::WatchAwards(pb::WatchAwardsRequest {
                agent_id: "ada".into(),
            }),
            invalid("agent_id"),
        ),
        // ----------------------------------------------------------- ReportService
        case(
            "report: no from",
            Call::GetReport(report("", "2024-05-31")),
            invalid("from"),
        ),
        case(
            "report: no to",
            Call::GetReport(report("2024-05-01", "")),
            invalid("to"),
        ),
        case(
            "report: February 30",
            Call::GetReport(report("2024-02-30", "2024-03-31")),
            invalid("from"),
        ),
        case(
            "report: to with slashes",
            Call::GetReport(report("2024-05-01", "2024/05/31")),
            invalid("to"),
        ),
        case(
            "report: a timestamp for a day",
            Call::GetReport(report("2024-05-01T00:00:00Z", "2024-05-31")),
            invalid("from"),
        ),
        case(
            "report: to before from",
            Call::GetReport(report("2024-05-31", "2024-05-01")),
            invalid("to"),
        ),
        case(
            "report: more than 3660 days",
            Call::GetReport(report("2000-01-01", "2024-01-01")),
            invalid("to"),
        ),
        case(
            "report: unknown bucket 42",
            Call::GetReport(pb::ReportRequest {
                bucket: 42,
                ..report("2024-05-01", "2024-05-31")
            }),
            invalid("bucket"),
        ),
        case(
            "report: unknown group_by 17",
            Call::GetReport(pb::ReportRequest {
                group_by: 17,
                ..report("2024-05-01", "2024-05-31")
            }),
            invalid("group_by"),
        ),
        case(
            "report: unknown channel 99",
            Call::GetReport(pb::ReportRequest {
                channel: 99,
                ..report("2024-05-01", "2024-05-31")
            }),
            invalid("channel"),
        ),
        case(
            "report: unknown sort column",
            Call::GetReport(pb::ReportRequest {
                sort_by: "happiness".into(),
                ..report("2024-05-01", "2024-05-31")
            }),
            invalid("sort_by"),
        ),
        case(
            "report: sort column in capitals",
            Call::GetReport(pb::ReportRequest {
                sort_by: "Answers".into(),
                ..report("2024-05-01", "2024-05-31")
            }),
            invalid("sort_by"),
        ),
        case(
            "report: department_id not a UUID",
            Call::GetReport(pb::ReportRequest {
                department_id: "billing".into(),
                ..report("2024-05-01", "2024-05-31")
            }),
            invalid("department_id"),
        ),
        case(
            "report: agent_id not a UUID",
            Call::GetReport(pb::ReportRequest {
                agent_id: "ada".into(),
                ..report("2024-05-01", "2024-05-31")
            }),
            invalid("agent_id"),
        ),
        case(
            "report: read.wait_ms 60001",
            Call::GetReport(pb::ReportRequest {
                read: read(60_001),
                ..report("2024-05-01", "2024-05-31")
            }),
            invalid("read.wait_ms"),
        ),
        case(
            "csv export: from not a date",
            Call::ExportReportCsv(report("May 1st", "2024-05-31")),
            invalid("from"),
        ),
        case(
            "csv export: unknown sort column",
            Call::ExportReportCsv(pb::ReportRequest {
                sort_by: "total".into(),
                ..report("2024-05-01", "2024-05-31")
            }),
            invalid("sort_by"),
        ),
        case(
            "csv export: unknown bucket 7",
            Call::ExportReportCsv(pb::ReportRequest {
                bucket: 7,
                ..report("2024-05-01", "2024-05-31")
            }),
            invalid("bucket"),
        ),
        case(
            "chart: no report",
            Call::GetChartSeries(pb::ChartRequest {
                report: None,
                column: "answers".into(),
            }),
            invalid("report"),
        ),
        case(
            "chart: no column",
            Call::GetChartSeries(pb::ChartRequest {
                report: Some(report("2024-05-01", "2024-05-31")),
                column: String::new(),
            }),
            invalid("column"),
        ),
        case(
            "chart: unknown column",
            Call::GetChartSeries(pb::ChartRequest {
                report: Some(report("2024-05-01", "2024-05-31")),
                column: "happiness".into(),
            }),
            invalid("column"),
        ),
        case(
            "chart: report.from not a date",
            Call::GetChartSeries(pb::ChartRequest {
                report: Some(report("01.05.2024", "2024-05-31")),
                column: "answers".into(),
            }),
            invalid("report.from"),
        ),
        case(
            "chart: report.to before report.from",
            Call::GetChartSeries(pb::ChartRequest {
                report: Some(report("2024-05-31", "2024-05-01")),
                column: "answers".into(),
            }),
            invalid("report.to"),
        ),
        case(
            "chart: unknown report.group_by",
            Call::GetChartSeries(pb::ChartRequest {
                report: Some(pb::ReportRequest {
                    group_by: 5,
                    ..report("2024-05-01", "2024-05-31")
                }),
                column: "chats".into(),
            }),
            invalid("report.group_by"),
        ),
        case(
            "chart: report.agent_id not a UUID",
            Call::GetChartSeries(pb::ChartRequest {
                report: Some(pb::ReportRequest {
                    agent_id: "?".into(),
                    ..report("2024-05-01", "2024-05-31")
                }),
                column: "chats".into(),
            }),
            invalid("report.agent_id"),
        ),
        case(
            "chart: report.read.wait_ms 60001",
            Call::GetChartSeries(pb::ChartRequest {
                report: Some(pb::ReportRequest {
                    read: read(60_001),
                    ..report("2024-05-01", "2024-05-31")
                }),
                column: "chats".into(),
            }),
            invalid("report.read.wait_ms"),
        ),
        // ------------------------------------------------------------------ nil ids
        // The read models use the nil UUID for "none": it is no id.
        case(
            "create department: the nil UUID as department_id",
            C::CreateDepartment(pb::CreateDepartmentRequest {
                department_id: Uuid::nil().to_string(),
                name: "Nobody's".into(),
                ..Default::default()
            }),
            invalid("department_id"),
        ),
        case(
            "register: the nil UUID as agent_id",
            C::RegisterAgent(pb::RegisterAgentRequest {
                agent_id: Uuid::nil().to_string(),
                name: "Nil".into(),
                email: email.into(),
                role: agent_role(),
                ..Default::default()
            }),
            invalid("agent_id"),
        ),
    ])
}

// ----------------------------------------------------------------------------- the setup

async fn setup(helpdesk: &Helpdesk, channel: Channel) -> anyhow::Result<Fixture> {
    let token = helpdesk.token();
    let mut commands = CommandServiceClient::new(channel.clone());
    let ada = commands
        .register_agent(auth(
            token,
            pb::RegisterAgentRequest {
                name: "Ada".into(),
                email: "ada@example.com".into(),
                role: agent_role(),
                ..Default::default()
            },
        ))
        .await?
        .into_inner()
        .aggregate_id;
    let billing = commands
        .create_department(auth(
            token,
            pb::CreateDepartmentRequest {
                name: "Billing".into(),
                ..Default::default()
            },
        ))
        .await?
        .into_inner()
        .aggregate_id;
    let ticket = commands
        .create_ticket(auth(token, ticket("The printer is on fire".into())))
        .await?
        .into_inner()
        .aggregate_id;
    // A ticket with 50 tags (the most a ticket may have), tagged in one Execute stream.
    let full_ticket = Uuid::now_v7().to_string();
    let mut tagging = vec![C::CreateTicket(pb::CreateTicketRequest {
        ticket_id: full_ticket.clone(),
        ..self::ticket("Tagged all over".into())
    })];
    tagging.extend((0..50).map(|i| {
        C::TagTicket(pb::TagTicketRequest {
            ticket_id: full_ticket.clone(),
            tag: format!("tag-{i}"),
            ..Default::default()
        })
    }));
    let requests: Vec<pb::ExecuteRequest> = tagging
        .into_iter()
        .map(|command| pb::ExecuteRequest {
            command: Some(command),
        })
        .collect();
    let count = requests.len();
    let mut answers = commands
        .execute(auth(token, tokio_stream::iter(requests)))
        .await?
        .into_inner();
    let mut answered = 0;
    while let Some(answer) = answers.message().await? {
        use pb::execute_response::Result as R;
        assert!(matches!(answer.result, Some(R::Response(_))), "{answer:?}");
        answered += 1;
    }
    assert_eq!(answered, count);
    let chat = commands
        .start_chat(auth(
            token,
            pb::StartChatRequest {
                channel: pb::Channel::Chat as i32,
                ..Default::default()
            },
        ))
        .await?
        .into_inner()
        .aggregate_id;
    let call = commands
        .incoming_call(auth(token, pb::IncomingCallRequest::default()))
        .await?
        .into_inner()
        .aggregate_id;
    let issued = AdminServiceClient::new(channel.clone())
        .issue_token(auth(
            token,
            pb::IssueTokenRequest {
                subject: Some(pb::issue_token_request::Subject::Integration(
                    pb::IntegrationAccount {
                        name: "Shop".into(),
                        role: agent_role(),
                    },
                )),
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    let last = issued.result.as_ref().map_or(0, |r| r.position);
    let levels: Vec<String> = LevelServiceClient::new(channel)
        .list_levels(auth(
            token,
            pb::ListLevelsRequest {
                read: Some(pb::ReadOptions {
                    min_position: last,
                    wait_ms: 20_000,
                }),
            },
        ))
        .await?
        .into_inner()
        .levels
        .into_iter()
        .map(|l| l.level_id)
        .collect();
    assert!(
        levels.len() >= 3,
        "the default ladder has levels: {levels:?}"
    );
    Ok(Fixture {
        ada,
        billing,
        ticket,
        full_ticket,
        chat,
        call,
        levels,
        integration: issued.token,
    })
}

// -------------------------------------------------------------------------------- the test

#[tokio::test]
async fn bad_requests_are_refused_naming_the_field_and_append_nothing() -> anyhow::Result<()> {
    let nats = NatsServer::start()?;
    // No clock ticks while the table runs; no rate limit (hundreds of requests in a row
    // are what this test is, not what it is about).
    let mut helpdesk = Helpdesk::builder()
        .nats(&nats)
        .arg("--tick-seconds")
        .arg("3600")
        .arg("--rate-limit")
        .arg("0")
        .start()
        .await?;
    let channel = helpdesk.channel().await?;
    let log = Log::connect(&nats.url()).await?;
    let fixture = setup(&helpdesk, channel.clone()).await?;

    let table = table(&fixture);
    let names: BTreeSet<&str> = table.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), table.len(), "every case has a name of its own");
    let rpcs: BTreeSet<(&str, &str)> = table.iter().map(|c| c.call.rpc()).collect();
    let services: BTreeSet<&str> = rpcs.iter().map(|(service, _)| *service).collect();
    let expected_services: BTreeSet<&str> = helpdesk_api::SERVICE_NAMES
        .iter()
        .map(|s| s.trim_start_matches("helpdesk.v1."))
        .collect();
    assert_eq!(
        services, expected_services,
        "the table covers every service"
    );
    assert!(table.len() >= 100, "{} cases", table.len());

    // The clock ticks once right after the first command from outside; then it is quiet
    // for an hour.
    let start = log.settle(Duration::from_millis(1_500)).await?;
    let mut failures = Vec::new();
    for case in &table {
        let token = match case.who {
            Who::Owner => helpdesk.token(),
            Who::Integration => fixture.integration.as_str(),
        };
        let (service, rpc) = case.call.rpc();
        let mut problems = Vec::new();
        for &via in case.call.vias() {
            let before = log.last().await?;
            let got = case.call.send(channel.clone(), token, via).await;
            let after = log.last().await?;
            if after != before {
                problems.push(format!(
                    "{via:?}: the log grew from {before} to {after} (got {got:?})"
                ));
            }
            if let Err(problem) = case.expect.check(&got) {
                problems.push(format!("{via:?}: {problem}"));
            }
        }
        let label = format!("case {:?} ({service}/{rpc})", case.name);
        if !problems.is_empty() {
            failures.push(format!(
                "{label}: {}\n    request: {}",
                problems.join("\n    "),
                clip(&format!("{:?}", case.call))
            ));
        }
    }
    eprintln!(
        "{} bad requests to {} RPCs of {} services",
        table.len(),
        rpcs.len(),
        services.len(),
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        table.len(),
        failures.join("\n")
    );

    // Nothing at all was appended while the table ran …
    let end = start;
    assert_eq!(log.last().await?, end, "the log grew during the table");
    // … and the probe does see an append: one valid command is one message more.
    let created = CommandServiceClient::new(channel)
        .create_ticket(auth(helpdesk.token(), ticket("Still working?".into())))
        .await?
        .into_inner();
    assert_eq!(created.position, end + 1, "{created:?}");
    assert_eq!(log.last().await?, end + 1);

    assert!(
        !helpdesk.output().contains("panicked"),
        "the server panicked:\n{}",
        helpdesk.output()
    );
    helpdesk.stop().await
}
