//! The workload generator: seeded, realistic help desk days as a stream of
//! [`pb::ExecuteRequest`]s, ready for `CommandService/Execute`.
//!
//! # What it produces
//!
//! Every request is meant to be sent with the Owner's token (every permission, `system.import`
//! included): whatever an agent does names that agent (`agent_id`; customer-side commands
//! such as `CreateTicket` or `StartChat` name none), and every request carries a
//! `command_id` and an `occurred_at` (see [`WorkloadConfig::config_at_wall_clock`] for the
//! one exception). The sequence is a pure function of the [`WorkloadConfig`]: the same config
//! gives byte-for-byte the same requests, ids and command ids included (UUID v7 built from
//! the simulated time and a [`ChaCha8Rng`] seeded from `seed`). Re-sending a sequence is
//! therefore idempotent on the server (every command id is a duplicate).
//!
//! Time never runs backwards across the sequence. It starts at `start` with the setup:
//!
//! 1. `CreateDepartment` for each department (Billing, Technical, Sales, Shipping,
//!    Accounts, Onboarding, Enterprise, Partners, then "Department 9", …).
//! 2. `RegisterAgent` (role Agent) for each agent; every seventh one has a nickname and a
//!    plus-address on another domain.
//! 3. `AddAgentToDepartment`: every agent joins one department (round robin), about 40 %
//!    join a second one, and every department gets at least one member.
//! 4. Four routing rules (`DefineRoutingRule`): *billing words* (subject or body contains
//!    refund / invoice / billing / "charged twice" → transfer to Billing); *outages*
//!    (subject contains outage / down → priority urgent, tag `outage`); *urgent* (priority
//!    urgent → tag `urgent`); *social* (channel Facebook / Twitter / Instagram → tag
//!    `social`). The generator mirrors their effects on every ticket it creates.
//!
//! Then, day by day (generated lazily; only the open conversations and the ticket backlog
//! are kept in memory):
//!
//! - **Shifts.** On a weekday about 92 % of the agents work, on Saturday and Sunday about
//!   30 %. Shifts start staggered between 06:00 and 10:00 UTC (about one agent in seven
//!   works a late shift from 12:00–14:00), last 7.5–8.5 h and end with `GoOffline` once the
//!   agent's chats and calls are done.
//! - **Pauses.** A lunch (`planned_minutes` 30/45/60) about four hours in; 0–3 coffee
//!   breaks (manual, 3–12 min, ended by `ResumeAgent{manual}`); sometimes a planned team
//!   meeting (15/30 min) or a manual personal pause. Pauses start only when the agent has
//!   no chat, call or pending offer. Nothing at all is sent for an agent while a planned
//!   pause runs: it ends by itself (the server appends `AgentResumed{planned_end}` at its
//!   planned end), so no command on the agent can race that append (a shift that ends
//!   during one goes offline at its planned end, and planned pauses are never resumed
//!   early).
//! - **Tickets** arrive through the day (hourly profile peaking 10:00–16:00, a trickle at
//!   night) on email, web form, social and messaging channels, API, chat and call, with
//!   priorities low 20 % / normal 58 % / high 16 % / urgent 6 %. About 70 % name their
//!   topic's department, 10 % a wrong one, 20 % none (these are triaged: an agent
//!   transfers them). Subjects and bodies sometimes trigger the routing rules. High and
//!   urgent tickets are assigned at once to an available member of their department;
//!   the rest wait in the department's queue until a member picks one (`AssignTicket` to
//!   themself). Agents answer (`chars`), sometimes tag (15 %) or untag (5 %), transfer to
//!   another department (4 %) or delete spam (2 % of new tickets). After an answer the
//!   customer replies (45 % after the first answer, 25 % later) or the agent resolves the
//!   ticket (at once or within hours). Resolved tickets are rated (30 %), and sometimes
//!   reopened by a customer reply (4 %) or by an agent (1 %). At the end of a shift agents
//!   hand back most of their unanswered tickets (`UnassignTicket`).
//! - **Chats** (`StartChat`, often with a first customer message) are offered to an
//!   available member of their department (online, not paused, fewer than two chats, not
//!   on a call, no pending offer); 7 % of offers are missed and go to someone else. An
//!   accepted chat has 2–8 agent messages alternating with customer messages, 15–90 s
//!   apart, then `EndChat`; 35 % are rated. A chat nobody takes within 2–8 minutes is
//!   ended unanswered.
//! - **Calls** (`IncomingCall`) ring an available member (preferably one without chats);
//!   8 % are missed and ring someone else; answered calls last 30 s to 25 min (median
//!   4 min); 25 % are rated. A call nobody answers within 1–4 minutes ends.
//! - **Ratings** are 80 % positive; 3 % are later replaced by the opposite rating, 2 %
//!   retracted (`RetractRating`).
//!
//! Volumes at `intensity = 1.0`: per registered agent and weekday 30 tickets, 25 chats and
//! 10 calls arrive (a weekend day has 35 % of that traffic and 30 % of the staff).
//! Measured with seed 42 from Monday 2024-01-01 (requests; generation time on one core):
//!
//! | agents × days | requests | release | debug |
//! |---|---|---|---|
//! | 50 × 1 | 25,680 | 14 ms | 160 ms |
//! | 50 × 14 | 313,591 | 175 ms | 2.3 s |
//! | 200 × 7 | 633,891 | 420 ms | 4.7 s |
//!
//! A normal day of 50 agents is about 1,460 tickets (1,800 answers, 1,100 resolutions),
//! 1,190 chats (5,560 agent and 5,080 customer messages), 490 calls, 830 ratings and
//! 123 pauses; chat traffic is about 60 % of all requests. `intensity` scales every
//! arrival rate (not the staff: at 3.0 and more, chats and calls start to go unanswered
//! and the ticket backlog grows). Memory holds the open conversations and the tickets
//! of the last four days, whatever the length of the run.

//! # Validity
//!
//! The generator keeps its own model of the state and emits only commands the domain
//! accepts (`tests/domain.rs` runs whole sequences through the real deciders): the ticket
//! status machine, department membership for assignment, offers and rings; no offer, ring
//! or high priority assignment to a paused or offline agent; only the offered agent
//! accepts; only handled conversations are rated; tags ≤ 64 characters and far fewer than
//! 50 per ticket; the routing rules' effects. Auto-pause is never turned on.
//!
//! Against a real server:
//!
//! - Pick `start` so that the whole history lies in the past
//!   ([`WorkloadConfig::start_days_before`]); the server refuses future times.
//! - If the organization was set up after `start` (a server started today), set
//!   [`WorkloadConfig::config_at_wall_clock`]: the routing rules live on the configuration
//!   aggregate, and a time earlier than its last event is refused.
//! - Send to an organization without routing rules of its own (other rules would change
//!   tickets behind the model's back) and without auto-pause.
//! - Re-sending the same sequence is harmless (every command id is a duplicate); a
//!   different seed creates new departments, agents and rules next to the old ones, and
//!   the old rules then act on the new tickets too.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};

use helpdesk_api::convert::timestamp_from_millis;
use helpdesk_api::pb;
use helpdesk_api::pb::execute_request::Command as Cmd;
use helpdesk_domain::routing::{Action, Condition, RoutingRule, TicketFacts};
use helpdesk_domain::{Channel, DepartmentId, Priority, RuleId};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

/// One second in milliseconds.
pub const SECOND: i64 = 1_000;
/// One minute in milliseconds.
pub const MINUTE: i64 = 60 * SECOND;
/// One hour in milliseconds.
pub const HOUR: i64 = 60 * MINUTE;
/// One day in milliseconds.
pub const DAY: i64 = 24 * HOUR;

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

// ------------------------------------------------------------------ the rates

/// Tickets per agent and weekday at intensity 1.
const TICKETS_PER_AGENT_DAY: f64 = 30.0;
/// Chats per agent and weekday at intensity 1.
const CHATS_PER_AGENT_DAY: f64 = 25.0;
/// Calls per agent and weekday at intensity 1.
const CALLS_PER_AGENT_DAY: f64 = 10.0;
/// Saturday and Sunday traffic, relative to a weekday.
const WEEKEND_TRAFFIC: f64 = 0.35;
/// Arrivals by hour of the day (UTC), relative weights.
const HOURLY_PROFILE: [f64; 24] = [
    0.2, 0.15, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 3.4, 3.2, 2.6, 2.8, 3.1, 3.0, 2.6, 2.0, 1.5,
    1.2, 1.0, 0.8, 0.5, 0.3,
];
/// The share of agents working on a weekday, and on a weekend day.
const WORKING_WEEKDAY: f64 = 0.92;
const WORKING_WEEKEND: f64 = 0.30;
/// Chats an agent handles at once.
const MAX_CHATS: u32 = 2;
/// Probabilities of the less common turns.
const P_CHAT_MISS: f64 = 0.07;
const P_CALL_MISS: f64 = 0.08;
const P_TICKET_DELETE: f64 = 0.02;
const P_TICKET_TRANSFER: f64 = 0.04;
const P_TICKET_TAG: f64 = 0.15;
const P_TICKET_UNTAG: f64 = 0.05;
const P_REPLY_FIRST: f64 = 0.45;
const P_REPLY_LATER: f64 = 0.25;
const P_RESOLVE_AT_ONCE: f64 = 0.25;
const P_RATE_TICKET: f64 = 0.30;
const P_RATE_CHAT: f64 = 0.35;
const P_RATE_CALL: f64 = 0.25;
const P_RATING_POSITIVE: f64 = 0.8;
const P_RERATE: f64 = 0.03;
const P_RETRACT: f64 = 0.02;
const P_REOPEN_BY_REPLY: f64 = 0.04;
const P_REOPEN_BY_AGENT: f64 = 0.01;
const P_HAND_BACK: f64 = 0.6;

// ------------------------------------------------------------------ the config

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadConfig {
    /// Seeds the one random number generator everything is drawn from.
    pub seed: u64,
    /// Agents to register (role Agent).
    pub agents: u32,
    /// Days to simulate after the setup.
    pub days: u32,
    /// The first day's UTC midnight, in milliseconds since the Unix epoch. The whole history
    /// lies in `[start, start + days × 24 h)`; the caller picks it in the past (see
    /// [`WorkloadConfig::start_days_before`]). Another time of day works too, but the
    /// days (shifts, the hourly traffic profile) then run from that time.
    pub start: i64,
    /// Departments to create (at least 1).
    pub departments: u32,
    /// Traffic relative to a normal day (1.0); scales every arrival rate.
    pub intensity: f64,
    /// When set, `DefineRoutingRule` requests carry no `occurred_at`, so the server stamps
    /// them with its clock. Needed when the organization was set up after `start`: the
    /// rules live on the configuration aggregate, whose last event (the setup) would be
    /// later than the simulated time, and the server refuses a time earlier than that.
    /// Every other request always carries its time. Default: false.
    pub config_at_wall_clock: bool,
}

impl Default for WorkloadConfig {
    /// 50 agents in 4 departments for one normal day, Monday 2024-01-01.
    fn default() -> Self {
        WorkloadConfig {
            seed: 42,
            agents: 50,
            days: 1,
            start: 1_704_067_200_000, // 2024-01-01T00:00:00Z, a Monday
            departments: 4,
            intensity: 1.0,
            config_at_wall_clock: false,
        }
    }
}

impl WorkloadConfig {
    /// A config with these essentials and the defaults for the rest.
    pub fn new(seed: u64, agents: u32, days: u32, start: i64) -> Self {
        WorkloadConfig {
            seed,
            agents,
            days,
            start,
            ..WorkloadConfig::default()
        }
    }

    /// The UTC midnight `days` days before the last midnight at or before `now_millis`:
    /// a history starting there ends by today's midnight, in the past.
    pub fn start_days_before(now_millis: i64, days: u32) -> i64 {
        now_millis.div_euclid(DAY) * DAY - i64::from(days) * DAY
    }

    /// The end of the simulated history (exclusive).
    pub fn end(&self) -> i64 {
        self.start + i64::from(self.days) * DAY
    }
}

/// The generator's view of one ticket, for tests that hold it against the domain's.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelTicket {
    pub id: Uuid,
    pub department: Option<Uuid>,
    pub assignee: Option<Uuid>,
    pub priority: Priority,
    /// `new`, `answered`, `open`, `resolved` (deleted tickets leave the model).
    pub status: &'static str,
    pub tags: Vec<String>,
}

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

fn kind_of(cmd: &Cmd) -> &'static str {
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
        Cmd::DefineRole(_) => "DefineRole",
        Cmd::UpdateRole(_) => "UpdateRole",
        Cmd::RemoveRole(_) => "RemoveRole",
        Cmd::SetOrganizationSettings(_) => "SetOrganizationSettings",
    }
}

// ------------------------------------------------------------------ static content

const DEPARTMENT_NAMES: &[&str] = &[
    "Billing",
    "Technical",
    "Sales",
    "Shipping",
    "Accounts",
    "Onboarding",
    "Enterprise",
    "Partners",
];

/// First names: (display, e-mail form).
const FIRST_NAMES: &[(&str, &str)] = &[
    ("Ana", "ana"),
    ("Luka", "luka"),
    ("Maja", "maja"),
    ("Jan", "jan"),
    ("Nina", "nina"),
    ("Marko", "marko"),
    ("Eva", "eva"),
    ("Tomaž", "tomaz"),
    ("Sara", "sara"),
    ("David", "david"),
    ("Zoë", "zoe"),
    ("Liam", "liam"),
    ("Olivia", "olivia"),
    ("Noah", "noah"),
    ("Emma", "emma"),
    ("Mateo", "mateo"),
    ("Sofía", "sofia"),
    ("Lucas", "lucas"),
    ("Mia", "mia"),
    ("Hiroshi", "hiroshi"),
    ("Aiko", "aiko"),
    ("Priya", "priya"),
    ("Arjun", "arjun"),
    ("Fatima", "fatima"),
    ("Omar", "omar"),
    ("Ingrid", "ingrid"),
    ("Björn", "bjorn"),
    ("Chloé", "chloe"),
    ("Élodie", "elodie"),
    ("Kwame", "kwame"),
    ("Amara", "amara"),
    ("Žiga", "ziga"),
];

const LAST_NAMES: &[(&str, &str)] = &[
    ("Novak", "novak"),
    ("Horvat", "horvat"),
    ("Kovačič", "kovacic"),
    ("Krajnc", "krajnc"),
    ("Smith", "smith"),
    ("Johnson", "johnson"),
    ("García", "garcia"),
    ("Müller", "muller"),
    ("Rossi", "rossi"),
    ("Dubois", "dubois"),
    ("Tanaka", "tanaka"),
    ("Sato", "sato"),
    ("Patel", "patel"),
    ("Okafor", "okafor"),
    ("Nakamura", "nakamura"),
    ("Larsen", "larsen"),
    ("O'Brien", "obrien"),
    ("Nowak", "nowak"),
    ("Silva", "silva"),
    ("Haddad", "haddad"),
    ("Mensah", "mensah"),
    ("Lindqvist", "lindqvist"),
];

const NICKNAMES: &[&str] = &["Ace", "Doc", "Sunny", "Pixel", "Captain", "Ziggy", "Bee"];

struct Topic {
    /// Index into [`DEPARTMENT_NAMES`] (modulo the departments there are).
    department: usize,
    weight: u32,
    subjects: &'static [&'static str],
}

const TOPICS: &[Topic] = &[
    Topic {
        department: 0,
        weight: 22,
        subjects: &[
            "Refund for order #{n}",
            "Invoice {n} shows the wrong amount",
            "I was charged twice",
            "How do I update my credit card?",
            "Question about my billing period",
            "VAT number missing on invoice {n}",
            "Payment failed but money was taken",
        ],
    },
    Topic {
        department: 1,
        weight: 30,
        subjects: &[
            "App crashes on login",
            "Cannot reset my password",
            "Error 500 when saving a report",
            "Sync stopped working after the update",
            "Outage: the dashboard is down",
            "Export to CSV is empty",
            "Pages load slowly since yesterday",
            "API returns 401 for token {n}",
        ],
    },
    Topic {
        department: 2,
        weight: 18,
        subjects: &[
            "Pricing for {n} seats",
            "Upgrade to the Business plan",
            "Can I get a demo?",
            "Discount for nonprofits",
            "Annual or monthly plan?",
        ],
    },
    Topic {
        department: 3,
        weight: 18,
        subjects: &[
            "Where is my order #{n}?",
            "Package arrived damaged",
            "Return label needed for order #{n}",
            "Change the delivery address",
            "Wrong size delivered",
        ],
    },
    Topic {
        department: 4,
        weight: 12,
        subjects: &[
            "Change the account owner",
            "Please close my account",
            "Two-factor codes do not arrive",
            "Add a user to our account",
        ],
    },
];

const BODIES: &[&str] = &[
    "Hi, could you please look into this? Order {n}.",
    "This is the second time I am writing about this.",
    "If this cannot be fixed I would like a refund.",
    "Our whole team is blocked by this, please hurry.",
    "Thanks in advance for your help!",
    "I attached a screenshot. Reference {n}.",
    "Hello,\n\nI tried everything in your FAQ but nothing works.\n\nBest regards",
    "Can someone call me back? My number is in my profile.",
];

/// Tags agents put on tickets (the rules add `urgent`, `outage` and `social`).
const AGENT_TAGS: &[&str] = &[
    "vip",
    "bug",
    "feature-request",
    "follow-up",
    "billing-question",
    "shipping",
    "needs-info",
    "escalated",
    "duplicate",
    "how-to",
    "feedback",
    "security",
    "mobile",
    "web",
    "integration",
    "waiting-on-engineering",
];

// ------------------------------------------------------------------ the model

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    New,
    Answered,
    Open,
    Resolved,
    Deleted,
}

#[derive(Debug)]
struct Pause {
    planned_end: Option<i64>,
    serial: u64,
}

#[derive(Debug)]
struct AgentSim {
    id: String,
    departments: Vec<usize>,
    /// Minutes after midnight the agent usually starts.
    usual_start: i64,
    online: bool,
    /// The shift is over: no new work, offline once idle.
    leaving: bool,
    shift: u32,
    shift_end: i64,
    pause: Option<Pause>,
    active_chats: u32,
    on_call: bool,
    /// A chat offered or a call ringing, awaiting the agent's reaction.
    pending: bool,
    /// Tickets assigned to the agent (checked when used).
    todo: Vec<u64>,
}

impl AgentSim {
    /// Paused at `t`, as the domain sees it: a planned pause is over at its planned end.
    fn is_paused(&self, t: i64) -> bool {
        self.pause
            .as_ref()
            .is_some_and(|p| p.planned_end.is_none_or(|end| t < end))
    }

    /// In a planned pause at `t`: nothing is sent for the agent then.
    fn planned_pause_end(&self, t: i64) -> Option<i64> {
        self.pause
            .as_ref()
            .and_then(|p| p.planned_end)
            .filter(|end| t < *end)
    }

    fn busy(&self) -> bool {
        self.active_chats > 0 || self.on_call || self.pending
    }

    fn takes_work(&self, t: i64) -> bool {
        self.online && !self.leaving && !self.is_paused(t)
    }
}

struct DepartmentSim {
    id: String,
    uuid: Uuid,
    members: Vec<usize>,
    high: VecDeque<u64>,
    normal: VecDeque<u64>,
}

struct RuleSim {
    rule: RoutingRule,
}

/// A routing rule to define: name, condition groups, actions.
type RuleSpec = (&'static str, Vec<Vec<Condition>>, Vec<Action>);

#[derive(Debug)]
struct TicketSim {
    id: String,
    department: Option<usize>,
    /// Where the customer's question really belongs.
    home: usize,
    priority: Priority,
    status: Status,
    assignee: Option<usize>,
    tags: Vec<String>,
    last_answerer: Option<usize>,
    answers: u32,
    /// Bumped on every status change: scheduled follow-ups of an older state are dropped.
    generation: u32,
}

impl TicketSim {
    fn needs_answer(&self) -> bool {
        matches!(self.status, Status::New | Status::Open)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conv {
    Waiting,
    Offered(usize),
    Accepted(usize),
}

struct ChatSim {
    id: String,
    department: Option<usize>,
    give_up_at: i64,
    state: Conv,
    missed_by: Vec<usize>,
    /// Messages still to come (agent and customer alternate, the agent first).
    steps_left: u32,
    agent_turn: bool,
}

struct CallSim {
    id: String,
    department: Option<usize>,
    give_up_at: i64,
    state: Conv,
    missed_by: Vec<usize>,
}

/// What a piece of ticket work came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Work {
    /// A ticket was taken from a queue; it is answered at the next piece of work.
    Picked,
    Done,
    Idle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PauseKind {
    Lunch,
    Coffee,
    Meeting,
    Personal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FollowUp {
    None,
    Rerate,
    Retract,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConvKind {
    Ticket,
    Chat,
    Call,
}

/// Something that happens at a moment of the simulation.
#[derive(Debug, Clone)]
enum Ev {
    DayStart(u32),
    ShiftStart(usize),
    ShiftEnd(usize, u32),
    Pause(usize, u32, PauseKind, u8),
    PauseEnd(usize, u64),
    TicketWork(usize, u32),
    TicketArrival(u32),
    ChatArrival(u32),
    CallArrival(u32),
    CustomerReply(u64, u32),
    Resolve(u64, u32),
    Reopen(u64, u32),
    Retire(u64, u32),
    ChatDispatch(u64),
    ChatOfferOutcome(u64),
    ChatStep(u64),
    CallDispatch(u64),
    CallRingOutcome(u64),
    CallEnd(u64),
    Rate(ConvKind, String, bool, FollowUp),
    Retract(ConvKind, String),
}

struct Item {
    at: i64,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Item {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Item {
    /// Reversed: the heap pops the earliest (then the first scheduled) item.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

// ------------------------------------------------------------------ the generator

/// The generated requests, in order; see the module docs.
pub struct Workload {
    cfg: WorkloadConfig,
    rng: ChaCha8Rng,
    /// The simulated time of the request being generated.
    now: i64,
    /// The first day's midnight.
    day0: i64,
    end: i64,
    seq: u64,
    heap: BinaryHeap<Item>,
    out: VecDeque<pb::ExecuteRequest>,
    stats: WorkloadStats,
    departments: Vec<DepartmentSim>,
    agents: Vec<AgentSim>,
    rules: Vec<RuleSim>,
    triage: VecDeque<u64>,
    tickets: HashMap<u64, TicketSim>,
    chats: HashMap<u64, ChatSim>,
    calls: HashMap<u64, CallSim>,
    next_key: u64,
    last_emitted: i64,
}

/// Builds one request with a fresh command id and the current time, and queues it.
macro_rules! emit {
    ($self:ident, $variant:ident, $request:ident { $($field:ident : $value:expr),* $(,)? }) => {{
        let command_id = $self.new_uuid().to_string();
        let occurred_at = Some($self.timestamp());
        #[allow(clippy::needless_update)]
        let request = pb::$request {
            command_id,
            occurred_at,
            $($field: $value,)*
            ..Default::default()
        };
        $self.push(Cmd::$variant(request));
    }};
}

impl Workload {
    /// The generator for `cfg`. The setup requests are made at once; the days as they are
    /// iterated.
    pub fn new(cfg: WorkloadConfig) -> Self {
        let day0 = cfg.start;
        let end = cfg.end();
        let mut w = Workload {
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
            now: day0,
            day0,
            end,
            seq: 0,
            heap: BinaryHeap::new(),
            out: VecDeque::new(),
            stats: WorkloadStats::default(),
            departments: Vec::new(),
            agents: Vec::new(),
            rules: Vec::new(),
            triage: VecDeque::new(),
            tickets: HashMap::new(),
            chats: HashMap::new(),
            calls: HashMap::new(),
            next_key: 0,
            last_emitted: i64::MIN,
            cfg,
        };
        if w.cfg.days > 0 {
            w.setup();
            w.schedule(w.now, Ev::DayStart(0));
        }
        w
    }

    /// The config this workload was made from.
    pub fn config(&self) -> &WorkloadConfig {
        &self.cfg
    }

    /// What was generated so far.
    pub fn stats(&self) -> WorkloadStats {
        let mut stats = self.stats.clone();
        stats.open_tickets = self.tickets.len();
        stats.open_chats = self.chats.len();
        stats.open_calls = self.calls.len();
        stats
    }

    /// The registered agents' ids, in registration order.
    pub fn agent_ids(&self) -> Vec<Uuid> {
        self.agents
            .iter()
            .map(|a| a.id.parse().expect("generated ids are UUIDs"))
            .collect()
    }

    /// The departments' ids, in creation order (Billing first).
    pub fn department_ids(&self) -> Vec<Uuid> {
        self.departments.iter().map(|d| d.uuid).collect()
    }

    /// The tickets the generator keeps in its model (open ones and those resolved in the
    /// last days), sorted by id.
    #[doc(hidden)]
    pub fn model_tickets(&self) -> Vec<ModelTicket> {
        let parse = |s: &str| s.parse::<Uuid>().expect("generated ids are UUIDs");
        let mut tickets: Vec<ModelTicket> = self
            .tickets
            .values()
            .map(|t| ModelTicket {
                id: parse(&t.id),
                department: t.department.map(|d| self.departments[d].uuid),
                assignee: t.assignee.map(|a| parse(&self.agents[a].id)),
                priority: t.priority,
                status: match t.status {
                    Status::New => "new",
                    Status::Answered => "answered",
                    Status::Open => "open",
                    Status::Resolved => "resolved",
                    Status::Deleted => "deleted",
                },
                tags: t.tags.clone(),
            })
            .collect();
        tickets.sort_by_key(|t| t.id);
        tickets
    }

    /// Requests generated (and reflected in the model) but not yet returned by `next`.
    #[doc(hidden)]
    pub fn buffered(&self) -> usize {
        self.out.len()
    }

    /// The simulated time reached so far (milliseconds since the Unix epoch).
    pub fn now(&self) -> i64 {
        self.now
    }

    // -------------------------------------------------------------- plumbing

    fn new_uuid(&mut self) -> Uuid {
        let mut bytes = [0u8; 10];
        self.rng.fill_bytes(&mut bytes);
        uuid::Builder::from_unix_timestamp_millis(self.now.max(0) as u64, &bytes).into_uuid()
    }

    fn timestamp(&self) -> prost_types::Timestamp {
        timestamp_from_millis(self.now)
    }

    fn push(&mut self, cmd: Cmd) {
        debug_assert!(self.now >= self.last_emitted, "time runs backwards");
        self.last_emitted = self.now;
        self.stats.requests += 1;
        *self.stats.by_kind.entry(kind_of(&cmd)).or_insert(0) += 1;
        self.out
            .push_back(pb::ExecuteRequest { command: Some(cmd) });
    }

    fn schedule(&mut self, at: i64, ev: Ev) {
        let at = at.max(self.now);
        if at >= self.end {
            return;
        }
        self.seq += 1;
        self.heap.push(Item {
            at,
            seq: self.seq,
            ev,
        });
    }

    fn key(&mut self) -> u64 {
        self.next_key += 1;
        self.next_key
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random::<f64>() < p
    }

    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            self.rng.random_range(lo..=hi)
        }
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.random_range(0..items.len())]
    }

    fn normal(&mut self) -> f64 {
        // Box–Muller.
        let u1: f64 = 1.0 - self.rng.random::<f64>();
        let u2: f64 = self.rng.random::<f64>();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Log-normal milliseconds around `median`, clamped to `[lo, hi]`.
    fn lognormal(&mut self, median: i64, sigma: f64, lo: i64, hi: i64) -> i64 {
        let value = median as f64 * (sigma * self.normal()).exp();
        (value as i64).clamp(lo, hi)
    }

    fn weekday(&self, day: u32) -> u32 {
        // 1970-01-01 was a Thursday; 0 = Monday.
        ((self.day0.div_euclid(DAY) + i64::from(day) + 3).rem_euclid(7)) as u32
    }

    fn department_index(&self, topic_department: usize) -> usize {
        topic_department % self.departments.len()
    }

    // -------------------------------------------------------------- setup

    fn setup(&mut self) {
        let departments = self.cfg.departments.max(1) as usize;
        let step = 10; // ms between setup commands
        for d in 0..departments {
            let name = DEPARTMENT_NAMES
                .get(d)
                .map_or_else(|| format!("Department {}", d + 1), |n| (*n).to_owned());
            let uuid = self.new_uuid();
            let id = uuid.to_string();
            emit!(
                self,
                CreateDepartment,
                CreateDepartmentRequest {
                    department_id: id.clone(),
                    name: name,
                    to_solve_enabled: d % 3 != 2,
                }
            );
            self.departments.push(DepartmentSim {
                id,
                uuid,
                members: Vec::new(),
                high: VecDeque::new(),
                normal: VecDeque::new(),
            });
            self.now += step;
        }

        let mut emails = HashSet::new();
        for i in 0..self.cfg.agents as usize {
            let (first, first_mail) = self.pick(FIRST_NAMES);
            let (last, last_mail) = self.pick(LAST_NAMES);
            let custom = i % 7 == 3;
            let (name, mut email) = if custom {
                let nick = self.pick(NICKNAMES);
                (
                    format!("{first} “{nick}” {last}"),
                    format!("{first_mail}+support@customer-care.example"),
                )
            } else {
                (
                    format!("{first} {last}"),
                    format!("{first_mail}.{last_mail}@helpdesk.example"),
                )
            };
            if !emails.insert(email.clone()) {
                let (local, domain) = email.split_once('@').expect("an address");
                email = format!("{local}.{}@{domain}", i + 1);
                emails.insert(email.clone());
            }
            let uuid = self.new_uuid();
            let id = uuid.to_string();
            emit!(
                self,
                RegisterAgent,
                RegisterAgentRequest {
                    agent_id: id.clone(),
                    name: name,
                    email: email,
                    role: Some(pb::RoleRef {
                        role: Some(pb::role_ref::Role::Builtin(pb::BuiltinRole::Agent as i32)),
                    }),
                }
            );
            // Staggered starts: 06:00–10:00 in half hours, one in seven late (12:00–14:00).
            let usual_start = if i % 7 == 5 {
                12 * 60 + (i as i64 % 5) * 30
            } else {
                6 * 60 + ((i as i64 * 37) % 9) * 30
            };
            self.agents.push(AgentSim {
                id,
                departments: Vec::new(),
                usual_start,
                online: false,
                leaving: false,
                shift: 0,
                shift_end: 0,
                pause: None,
                active_chats: 0,
                on_call: false,
                pending: false,
                todo: Vec::new(),
            });
            self.now += step;
        }

        // Memberships: a home department each, a second one for some, and nobody's
        // department left empty.
        let agents = self.agents.len();
        let mut memberships: Vec<(usize, usize)> = Vec::new();
        for a in 0..agents {
            let home = a % departments;
            memberships.push((a, home));
            if departments > 1 && self.chance(0.4) {
                let other = (home + 1 + self.rng.random_range(0..departments - 1)) % departments;
                memberships.push((a, other));
            }
        }
        if agents > 0 {
            for d in agents.min(departments)..departments {
                memberships.push((d % agents, d));
            }
        }
        for (a, d) in memberships {
            if self.agents[a].departments.contains(&d) {
                continue;
            }
            let department_id = self.departments[d].id.clone();
            let agent_id = self.agents[a].id.clone();
            emit!(
                self,
                AddAgentToDepartment,
                AddAgentToDepartmentRequest {
                    department_id: department_id,
                    agent_id: agent_id,
                }
            );
            self.agents[a].departments.push(d);
            self.departments[d].members.push(a);
            self.now += step;
        }

        self.define_rules();
        for rule in 0..self.rules.len() {
            let request = self.rule_request(rule);
            self.push(Cmd::DefineRoutingRule(request));
            self.now += step;
        }
    }

    fn define_rules(&mut self) {
        let words = |list: &[&str]| list.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
        let billing = DepartmentId::from_uuid(self.departments[0].uuid);
        let specs: Vec<RuleSpec> = vec![
            (
                "Billing words go to Billing",
                vec![vec![Condition::SubjectOrBodyContains(words(&[
                    "refund",
                    "invoice",
                    "billing",
                    "charged twice",
                ]))]],
                vec![Action::TransferTo(billing)],
            ),
            (
                "Outages are urgent",
                vec![vec![Condition::SubjectContains(words(&["outage", "down"]))]],
                vec![
                    Action::SetPriority(Priority::Urgent),
                    Action::AddTags(words(&["outage"])),
                ],
            ),
            (
                "Tag urgent tickets",
                vec![vec![Condition::PriorityIn(vec![Priority::Urgent])]],
                vec![Action::AddTags(words(&["urgent"]))],
            ),
            (
                "Tag social media",
                vec![vec![Condition::ChannelIn(vec![
                    Channel::Facebook,
                    Channel::Twitter,
                    Channel::Instagram,
                ])]],
                vec![Action::AddTags(words(&["social"]))],
            ),
        ];
        for (name, groups, actions) in specs {
            let rule_id = RuleId::from_uuid(self.new_uuid());
            self.rules.push(RuleSim {
                rule: RoutingRule {
                    rule_id,
                    name: name.to_owned(),
                    groups,
                    actions,
                },
            });
        }
    }

    fn rule_request(&mut self, index: usize) -> pb::DefineRoutingRuleRequest {
        let rule = self.rules[index].rule.clone();
        let groups = rule
            .groups
            .iter()
            .map(|group| pb::RoutingConditionGroup {
                conditions: group
                    .iter()
                    .map(|c| {
                        use pb::routing_condition::Condition as C;
                        let condition = match c {
                            Condition::ChannelIn(set) => C::ChannelIn(pb::ChannelSet {
                                channels: set.iter().map(|c| channel_pb(*c)).collect(),
                            }),
                            Condition::PriorityIn(set) => C::PriorityIn(pb::PrioritySet {
                                priorities: set.iter().map(|p| priority_pb(*p)).collect(),
                            }),
                            Condition::SubjectContains(words) => C::SubjectContains(pb::WordList {
                                words: words.clone(),
                            }),
                            Condition::BodyContains(words) => C::BodyContains(pb::WordList {
                                words: words.clone(),
                            }),
                            Condition::SubjectOrBodyContains(words) => {
                                C::SubjectOrBodyContains(pb::WordList {
                                    words: words.clone(),
                                })
                            }
                        };
                        pb::RoutingCondition {
                            condition: Some(condition),
                        }
                    })
                    .collect(),
            })
            .collect();
        let actions = rule
            .actions
            .iter()
            .map(|a| {
                use pb::routing_action::Action as A;
                let action = match a {
                    Action::TransferTo(d) => A::TransferToDepartmentId(d.to_string()),
                    Action::AssignTo(list) => A::AssignTo(pb::AgentList {
                        agent_ids: list.iter().map(ToString::to_string).collect(),
                    }),
                    Action::LeaveUnassigned => A::LeaveUnassigned(pb::LeaveUnassigned {}),
                    Action::SetPriority(p) => A::SetPriority(priority_pb(*p)),
                    Action::AddTags(tags) => A::AddTags(pb::TagList { tags: tags.clone() }),
                };
                pb::RoutingAction {
                    action: Some(action),
                }
            })
            .collect();
        let command_id = self.new_uuid().to_string();
        pb::DefineRoutingRuleRequest {
            command_id,
            occurred_at: if self.cfg.config_at_wall_clock {
                None
            } else {
                Some(self.timestamp())
            },
            rule_id: rule.rule_id.to_string(),
            name: rule.name,
            groups,
            actions,
            position: None,
        }
    }

    /// What the routing rules do to a new ticket: its department, priority and tags.
    fn route(
        &self,
        channel: Channel,
        priority: Priority,
        subject: &str,
        body: &str,
        department: Option<usize>,
    ) -> (Option<usize>, Priority, Vec<String>) {
        let mut department = department;
        let mut priority = priority;
        let mut tags: Vec<String> = Vec::new();
        for RuleSim { rule } in &self.rules {
            let facts = TicketFacts {
                channel,
                priority,
                subject,
                body,
            };
            if !rule.matches(&facts) {
                continue;
            }
            for action in &rule.actions {
                match action {
                    Action::TransferTo(to) => {
                        let to = self
                            .departments
                            .iter()
                            .position(|d| d.uuid == to.uuid())
                            .expect("rules name our departments");
                        department = Some(to);
                    }
                    Action::SetPriority(p) => priority = *p,
                    Action::AddTags(list) => {
                        for tag in list {
                            if !tags.contains(tag) && tags.len() < 50 {
                                tags.push(tag.clone());
                            }
                        }
                    }
                    Action::AssignTo(_) | Action::LeaveUnassigned => {
                        unreachable!("the generator defines no assigning rules")
                    }
                }
            }
        }
        (department, priority, tags)
    }

    // -------------------------------------------------------------- the loop

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::DayStart(day) => self.day_start(day),
            Ev::ShiftStart(a) => self.shift_start(a),
            Ev::ShiftEnd(a, shift) => {
                if self.agents[a].shift == shift && self.agents[a].online {
                    self.agents[a].leaving = true;
                    self.try_offline(a);
                }
            }
            Ev::Pause(a, shift, kind, tries) => self.pause(a, shift, kind, tries),
            Ev::PauseEnd(a, serial) => {
                let agent = &self.agents[a];
                let matches = agent.online
                    && agent
                        .pause
                        .as_ref()
                        .is_some_and(|p| p.serial == serial && p.planned_end.is_none());
                if matches {
                    let agent_id = agent.id.clone();
                    emit!(
                        self,
                        ResumeAgent,
                        ResumeAgentRequest {
                            agent_id: agent_id,
                            reason: pb::ResumeReason::Manual as i32,
                        }
                    );
                    self.agents[a].pause = None;
                    if self.agents[a].leaving {
                        self.try_offline(a);
                    }
                }
            }
            Ev::TicketWork(a, shift) => self.ticket_work(a, shift),
            Ev::TicketArrival(day) => self.ticket_arrival(day),
            Ev::ChatArrival(day) => self.chat_arrival(day),
            Ev::CallArrival(day) => self.call_arrival(day),
            Ev::CustomerReply(t, generation) => self.customer_reply(t, generation),
            Ev::Resolve(t, generation) => {
                let Some(ticket) = self.tickets.get(&t) else {
                    return;
                };
                if ticket.generation == generation && ticket.status == Status::Answered {
                    let by = ticket.last_answerer.expect("answered");
                    self.resolve(t, by);
                }
            }
            Ev::Reopen(t, generation) => {
                let Some(ticket) = self.tickets.get(&t) else {
                    return;
                };
                if ticket.generation == generation && ticket.status == Status::Resolved {
                    let by = ticket
                        .last_answerer
                        .expect("resolved tickets were answered");
                    let ticket_id = ticket.id.clone();
                    let agent_id = self.agents[by].id.clone();
                    emit!(
                        self,
                        ReopenTicket,
                        ReopenTicketRequest {
                            ticket_id: ticket_id,
                            agent_id: agent_id,
                        }
                    );
                    self.set_status(t, Status::Open);
                    self.enqueue(t);
                }
            }
            Ev::Retire(t, generation) => {
                if self
                    .tickets
                    .get(&t)
                    .is_some_and(|ticket| ticket.generation == generation)
                {
                    self.tickets.remove(&t);
                }
            }
            Ev::ChatDispatch(c) => self.chat_dispatch(c),
            Ev::ChatOfferOutcome(c) => self.chat_offer_outcome(c),
            Ev::ChatStep(c) => self.chat_step(c),
            Ev::CallDispatch(c) => self.call_dispatch(c),
            Ev::CallRingOutcome(c) => self.call_ring_outcome(c),
            Ev::CallEnd(c) => self.call_end(c),
            Ev::Rate(kind, id, positive, follow) => self.rate(kind, id, positive, follow),
            Ev::Retract(kind, id) => {
                emit!(
                    self,
                    RetractRating,
                    RetractRatingRequest {
                        conversation: Some(conversation_ref(kind, id)),
                    }
                );
            }
        }
    }

    fn day_start(&mut self, day: u32) {
        self.stats.days_begun = day + 1;
        let midnight = self.day0 + i64::from(day) * DAY;
        let weekend = self.weekday(day) >= 5;
        let working = if weekend {
            WORKING_WEEKEND
        } else {
            WORKING_WEEKDAY
        };
        for a in 0..self.agents.len() {
            if !self.chance(working) {
                continue;
            }
            let start =
                midnight + self.agents[a].usual_start * MINUTE + self.between(-20, 20) * MINUTE;
            self.schedule(start, Ev::ShiftStart(a));
        }
        let from = self.now;
        for ev in [
            Ev::TicketArrival(day),
            Ev::ChatArrival(day),
            Ev::CallArrival(day),
        ] {
            if let Some(at) = self.next_arrival(&ev, from, day) {
                self.schedule(at, ev);
            }
        }
        if day + 1 < self.cfg.days {
            self.schedule(midnight + DAY, Ev::DayStart(day + 1));
        }
    }

    /// The next arrival of this kind after `from` on `day`, if the day has one.
    fn next_arrival(&mut self, ev: &Ev, from: i64, day: u32) -> Option<i64> {
        let per_agent = match ev {
            Ev::TicketArrival(_) => TICKETS_PER_AGENT_DAY,
            Ev::ChatArrival(_) => CHATS_PER_AGENT_DAY,
            _ => CALLS_PER_AGENT_DAY,
        };
        let weekend = if self.weekday(day) >= 5 {
            WEEKEND_TRAFFIC
        } else {
            1.0
        };
        let per_day =
            per_agent * f64::from(self.cfg.agents.max(1)) * self.cfg.intensity.max(0.0) * weekend;
        if per_day <= 0.0 {
            return None;
        }
        let total: f64 = HOURLY_PROFILE.iter().sum();
        let midnight = self.day0 + i64::from(day) * DAY;
        let mut t = from.max(midnight);
        loop {
            let hour = (t - midnight) / HOUR;
            if hour >= 24 {
                return None;
            }
            let hour_end = midnight + (hour + 1) * HOUR;
            let per_ms = per_day * HOURLY_PROFILE[hour as usize] / total / HOUR as f64;
            // Exponential gaps; restarting at the hour's end is exact (no memory).
            let u: f64 = 1.0 - self.rng.random::<f64>();
            let gap = (-u.ln() / per_ms).max(1.0);
            if (t as f64 + gap) < hour_end as f64 {
                return Some(t + gap as i64);
            }
            t = hour_end;
        }
    }

    // -------------------------------------------------------------- agents

    fn shift_start(&mut self, a: usize) {
        if self.agents[a].online {
            // Still finishing yesterday's shift (cannot happen with the shift times used,
            // but never send GoOnline twice).
            return;
        }
        let agent_id = self.agents[a].id.clone();
        emit!(self, GoOnline, GoOnlineRequest { agent_id: agent_id });
        let length = self.between(450, 510) * MINUTE;
        let shift_end = self.now + length;
        let agent = &mut self.agents[a];
        agent.shift += 1;
        agent.online = true;
        agent.leaving = false;
        agent.shift_end = shift_end;
        agent.pause = None;
        let shift = agent.shift;
        let start = self.now;
        self.schedule(shift_end, Ev::ShiftEnd(a, shift));
        let lunch = start + self.between(210, 270) * MINUTE;
        self.schedule(lunch, Ev::Pause(a, shift, PauseKind::Lunch, 0));
        let coffees = self.rng.random_range(0..=3);
        for _ in 0..coffees {
            let at = start + self.between(30, 450) * MINUTE;
            self.schedule(at, Ev::Pause(a, shift, PauseKind::Coffee, 0));
        }
        if self.chance(0.15) {
            let at = start + self.between(60, 400) * MINUTE;
            self.schedule(at, Ev::Pause(a, shift, PauseKind::Meeting, 0));
        }
        if self.chance(0.10) {
            let at = start + self.between(60, 400) * MINUTE;
            self.schedule(at, Ev::Pause(a, shift, PauseKind::Personal, 0));
        }
        let first_work = start + self.between(1, 10) * MINUTE;
        self.schedule(first_work, Ev::TicketWork(a, shift));
    }

    fn pause(&mut self, a: usize, shift: u32, kind: PauseKind, tries: u8) {
        let now = self.now;
        let agent = &self.agents[a];
        if agent.shift != shift || !agent.online || agent.leaving {
            return;
        }
        if agent.is_paused(now) || agent.busy() {
            if tries < 6 {
                let wait = match agent.planned_pause_end(now) {
                    Some(end) => end - now + MINUTE,
                    None => 4 * MINUTE,
                };
                let at = now + wait + self.between(0, 4) * MINUTE;
                self.schedule(at, Ev::Pause(a, shift, kind, tries + 1));
            }
            return;
        }
        let (reason, planned) = match kind {
            PauseKind::Lunch => ("lunch", Some(self.pick(&[30u32, 45, 60]))),
            PauseKind::Meeting => ("team meeting", Some(if self.chance(0.5) { 15 } else { 30 })),
            PauseKind::Coffee => ("coffee", None),
            PauseKind::Personal => ("personal", None),
        };
        if let Some(minutes) = planned {
            // A planned pause ends well inside the shift (nothing is sent during it).
            if now + i64::from(minutes) * MINUTE > self.agents[a].shift_end - 10 * MINUTE {
                return;
            }
        }
        let agent_id = self.agents[a].id.clone();
        emit!(
            self,
            PauseAgent,
            PauseAgentRequest {
                agent_id: agent_id,
                pause_reason: Some(pb::pause_agent_request::PauseReason::Reason(
                    reason.to_owned()
                )),
                planned_minutes: planned,
            }
        );
        self.seq += 1;
        let serial = self.seq;
        self.agents[a].pause = Some(Pause {
            planned_end: planned.map(|m| now + i64::from(m) * MINUTE),
            serial,
        });
        if planned.is_none() {
            let length = match kind {
                PauseKind::Coffee => self.between(3 * 60, 12 * 60) * SECOND,
                _ => self.between(5 * 60, 20 * 60) * SECOND,
            };
            self.schedule(now + length, Ev::PauseEnd(a, serial));
        }
    }

    /// Goes offline if the shift is over and the agent is idle; otherwise tries again later.
    fn try_offline(&mut self, a: usize) {
        let now = self.now;
        let agent = &self.agents[a];
        if !agent.online || !agent.leaving {
            return;
        }
        let shift = agent.shift;
        if let Some(end) = agent.planned_pause_end(now) {
            // Nothing is sent for an agent during a planned pause: offline at its end.
            self.schedule(end, Ev::ShiftEnd(a, shift));
            return;
        }
        if agent.busy() {
            // The end of the chat or call tries again; this is a backstop.
            self.schedule(now + 5 * MINUTE, Ev::ShiftEnd(a, shift));
            return;
        }
        // Hand most unanswered tickets back to the queues.
        let todo = std::mem::take(&mut self.agents[a].todo);
        let mut keep = Vec::new();
        for t in todo {
            let valid = self
                .tickets
                .get(&t)
                .is_some_and(|ticket| ticket.assignee == Some(a) && ticket.needs_answer());
            if !valid || keep.contains(&t) {
                continue;
            }
            if self.chance(P_HAND_BACK) {
                let ticket_id = self.tickets[&t].id.clone();
                emit!(
                    self,
                    UnassignTicket,
                    UnassignTicketRequest {
                        ticket_id: ticket_id,
                        by_agent_id: self.agents[a].id.clone(),
                    }
                );
                self.tickets.get_mut(&t).expect("valid").assignee = None;
                self.enqueue(t);
            } else {
                keep.push(t);
            }
        }
        self.agents[a].todo = keep;
        let agent_id = self.agents[a].id.clone();
        emit!(self, GoOffline, GoOfflineRequest { agent_id: agent_id });
        let agent = &mut self.agents[a];
        agent.online = false;
        agent.leaving = false;
        agent.pause = None;
    }

    // -------------------------------------------------------------- tickets

    fn set_status(&mut self, t: u64, status: Status) {
        let ticket = self.tickets.get_mut(&t).expect("a ticket in the model");
        ticket.status = status;
        ticket.generation += 1;
    }

    /// Puts a ticket that needs an answer where someone will find it.
    fn enqueue(&mut self, t: u64) {
        let ticket = &self.tickets[&t];
        if !ticket.needs_answer() {
            return;
        }
        match (ticket.assignee, ticket.department) {
            (Some(a), _) => {
                if !self.agents[a].todo.contains(&t) {
                    self.agents[a].todo.push(t);
                }
            }
            (None, Some(d)) => {
                if ticket.priority.is_high() {
                    self.departments[d].high.push_back(t);
                } else {
                    self.departments[d].normal.push_back(t);
                }
            }
            (None, None) => self.triage.push_back(t),
        }
    }

    fn ticket_arrival(&mut self, day: u32) {
        let topic = {
            let total: u32 = TOPICS.iter().map(|t| t.weight).sum();
            let mut roll = self.rng.random_range(0..total);
            let mut chosen = &TOPICS[0];
            for topic in TOPICS {
                if roll < topic.weight {
                    chosen = topic;
                    break;
                }
                roll -= topic.weight;
            }
            chosen
        };
        let home = self.department_index(topic.department);
        let number = self.between(10_000, 99_999);
        let subject = self
            .pick(topic.subjects)
            .replace("{n}", &number.to_string());
        let body = if self.chance(0.6) {
            Some(self.pick(BODIES).replace("{n}", &number.to_string()))
        } else {
            None
        };
        let channel = {
            let roll = self.rng.random_range(0..100);
            match roll {
                0..45 => Channel::Email,
                45..65 => Channel::WebForm,
                65..70 => Channel::Api,
                70..74 => Channel::Facebook,
                74..77 => Channel::Twitter,
                77..80 => Channel::Instagram,
                80..86 => Channel::Whatsapp,
                86..90 => Channel::Viber,
                90..95 => Channel::Chat,
                _ => Channel::Call,
            }
        };
        let priority = match self.rng.random_range(0..100) {
            0..20 => Priority::Low,
            20..78 => Priority::Normal,
            78..94 => Priority::High,
            _ => Priority::Urgent,
        };
        let departments = self.departments.len();
        let chosen = match self.rng.random_range(0..10) {
            0..7 => Some(home),
            7 if departments > 1 => {
                Some((home + self.rng.random_range(1..departments)) % departments)
            }
            7 => Some(home),
            _ => None,
        };
        let uuid = self.new_uuid();
        let id = uuid.to_string();
        let department_id = chosen.map_or_else(String::new, |d| self.departments[d].id.clone());
        emit!(
            self,
            CreateTicket,
            CreateTicketRequest {
                ticket_id: id.clone(),
                channel: channel_pb(channel),
                priority: priority_pb(priority),
                subject: subject.clone(),
                body: body.clone(),
                department_id: department_id,
            }
        );
        let (department, priority, tags) = self.route(
            channel,
            priority,
            &subject,
            body.as_deref().unwrap_or(""),
            chosen,
        );
        let t = self.key();
        self.tickets.insert(
            t,
            TicketSim {
                id,
                department,
                home,
                priority,
                status: Status::New,
                assignee: None,
                tags,
                last_answerer: None,
                answers: 0,
                generation: 0,
            },
        );
        if priority.is_high() {
            self.dispatch_urgent(t);
        }
        self.enqueue(t);
        if let Some(at) = self.next_arrival(&Ev::TicketArrival(day), self.now, day) {
            self.schedule(at, Ev::TicketArrival(day));
        }
    }

    /// Assigns a high priority ticket at once to the least loaded available member.
    fn dispatch_urgent(&mut self, t: u64) {
        let Some(d) = self.tickets[&t].department else {
            return;
        };
        let now = self.now;
        let candidates: Vec<usize> = self.departments[d]
            .members
            .iter()
            .copied()
            .filter(|&a| self.agents[a].takes_work(now))
            .collect();
        let Some(least) = candidates.iter().map(|&a| self.agents[a].todo.len()).min() else {
            return;
        };
        let best: Vec<usize> = candidates
            .into_iter()
            .filter(|&a| self.agents[a].todo.len() == least)
            .collect();
        let a = self.pick(&best);
        self.assign(t, a);
    }

    fn assign(&mut self, t: u64, a: usize) {
        let ticket_id = self.tickets[&t].id.clone();
        let agent_id = self.agents[a].id.clone();
        emit!(
            self,
            AssignTicket,
            AssignTicketRequest {
                ticket_id: ticket_id,
                agent_id: agent_id.clone(),
                // Taken by the assignee (from the queue, or at once when urgent): the
                // importing account is not credited with it.
                by_agent_id: agent_id,
            }
        );
        self.tickets.get_mut(&t).expect("a ticket").assignee = Some(a);
        if !self.agents[a].todo.contains(&t) {
            self.agents[a].todo.push(t);
        }
    }

    fn ticket_work(&mut self, a: usize, shift: u32) {
        let now = self.now;
        let agent = &self.agents[a];
        if agent.shift != shift || !agent.online || agent.leaving {
            return;
        }
        let next = if agent.is_paused(now) || agent.on_call {
            self.between(2 * 60, 5 * 60) * SECOND
        } else {
            match self.do_ticket_work(a) {
                Work::Picked => self.between(60, 3 * 60) * SECOND,
                Work::Done => self.between(2 * 60, 6 * 60) * SECOND,
                Work::Idle => self.between(2 * 60, 5 * 60) * SECOND,
            }
        };
        self.schedule(now + next, Ev::TicketWork(a, shift));
    }

    /// One piece of ticket work.
    fn do_ticket_work(&mut self, a: usize) -> Work {
        // 1. The agent's own tickets, high priority first.
        let todo = std::mem::take(&mut self.agents[a].todo);
        let mut valid: Vec<u64> = Vec::with_capacity(todo.len());
        for t in todo {
            let ok = self
                .tickets
                .get(&t)
                .is_some_and(|ticket| ticket.assignee == Some(a) && ticket.needs_answer());
            if ok && !valid.contains(&t) {
                valid.push(t);
            }
        }
        let chosen = valid
            .iter()
            .copied()
            .find(|t| self.tickets[t].priority.is_high())
            .or_else(|| valid.first().copied());
        self.agents[a].todo = valid;
        if let Some(t) = chosen {
            self.work_on(t, a);
            return Work::Done;
        }

        // 2. Now and then, triage a ticket that came without a department.
        if !self.triage.is_empty() && self.chance(0.3) {
            while let Some(t) = self.triage.pop_front() {
                let ok = self.tickets.get(&t).is_some_and(|ticket| {
                    ticket.department.is_none()
                        && ticket.assignee.is_none()
                        && ticket.needs_answer()
                });
                if !ok {
                    continue;
                }
                let to = self.tickets[&t].home;
                self.transfer(t, to, a);
                if self.agents[a].departments.contains(&to) {
                    self.assign(t, a);
                    return Work::Picked;
                }
                self.enqueue(t);
                return Work::Done;
            }
        }

        // 3. The next ticket from the queues of the agent's departments.
        let mut departments = self.agents[a].departments.clone();
        if departments.len() > 1 && self.chance(0.5) {
            departments.reverse();
        }
        for d in departments {
            for high in [true, false] {
                loop {
                    let queue = if high {
                        &mut self.departments[d].high
                    } else {
                        &mut self.departments[d].normal
                    };
                    let Some(t) = queue.pop_front() else {
                        break;
                    };
                    let ok = self.tickets.get(&t).is_some_and(|ticket| {
                        ticket.department == Some(d)
                            && ticket.assignee.is_none()
                            && ticket.needs_answer()
                    });
                    if ok {
                        // Picked now, answered at the next piece of work.
                        self.assign(t, a);
                        return Work::Picked;
                    }
                }
            }
        }
        Work::Idle
    }

    fn transfer(&mut self, t: u64, to: usize, by: usize) {
        let ticket_id = self.tickets[&t].id.clone();
        let department_id = self.departments[to].id.clone();
        let agent_id = self.agents[by].id.clone();
        emit!(
            self,
            TransferTicket,
            TransferTicketRequest {
                ticket_id: ticket_id,
                department_id: department_id,
                agent_id: agent_id,
            }
        );
        let ticket = self.tickets.get_mut(&t).expect("a ticket");
        ticket.department = Some(to);
        // It arrives unassigned in the new department's queue, whoever had it (the
        // caller queues it).
        if let Some(assignee) = ticket.assignee.take() {
            self.agents[assignee].todo.retain(|&other| other != t);
        }
    }

    fn work_on(&mut self, t: u64, a: usize) {
        let ticket = &self.tickets[&t];
        let agent_id = self.agents[a].id.clone();
        let ticket_id = ticket.id.clone();

        // Spam: deleted unanswered.
        if ticket.status == Status::New && ticket.answers == 0 && self.chance(P_TICKET_DELETE) {
            emit!(
                self,
                DeleteTicket,
                DeleteTicketRequest {
                    ticket_id: ticket_id,
                    agent_id: agent_id,
                }
            );
            self.set_status(t, Status::Deleted);
            self.tickets.remove(&t);
            return;
        }

        // Misrouted: off to another department.
        let departments = self.departments.len();
        if departments > 1 && self.chance(P_TICKET_TRANSFER) {
            let ticket = &self.tickets[&t];
            let to = if ticket.department != Some(ticket.home) {
                ticket.home
            } else {
                (ticket.home + self.rng.random_range(1..departments)) % departments
            };
            self.transfer(t, to, a);
            self.enqueue(t);
            return;
        }

        if self.chance(P_TICKET_TAG) {
            let ticket = &self.tickets[&t];
            let free: Vec<&str> = AGENT_TAGS
                .iter()
                .copied()
                .filter(|tag| !ticket.tags.iter().any(|have| have == tag))
                .collect();
            if !free.is_empty() && ticket.tags.len() < 50 {
                let tag = self.pick(&free).to_owned();
                emit!(
                    self,
                    TagTicket,
                    TagTicketRequest {
                        ticket_id: ticket_id.clone(),
                        tag: tag.clone(),
                        agent_id: agent_id.clone(),
                    }
                );
                self.tickets.get_mut(&t).expect("a ticket").tags.push(tag);
            }
        }
        if !self.tickets[&t].tags.is_empty() && self.chance(P_TICKET_UNTAG) {
            let index = self.rng.random_range(0..self.tickets[&t].tags.len());
            let tag = self
                .tickets
                .get_mut(&t)
                .expect("a ticket")
                .tags
                .remove(index);
            emit!(
                self,
                UntagTicket,
                UntagTicketRequest {
                    ticket_id: ticket_id.clone(),
                    tag: tag,
                    agent_id: agent_id.clone(),
                }
            );
        }

        let chars = self.lognormal(450, 0.8, 20, 20_000) as u32;
        emit!(
            self,
            AnswerTicket,
            AnswerTicketRequest {
                ticket_id: ticket_id,
                agent_id: agent_id,
                chars: chars,
            }
        );
        {
            let ticket = self.tickets.get_mut(&t).expect("a ticket");
            ticket.last_answerer = Some(a);
            ticket.answers += 1;
        }
        self.set_status(t, Status::Answered);
        let ticket = &self.tickets[&t];
        let generation = ticket.generation;
        let p_reply = if ticket.answers == 1 {
            P_REPLY_FIRST
        } else {
            P_REPLY_LATER
        };
        if self.chance(p_reply) {
            let wait = self.lognormal(90 * MINUTE, 1.0, 5 * MINUTE, 2 * DAY);
            self.schedule(self.now + wait, Ev::CustomerReply(t, generation));
        } else if self.chance(P_RESOLVE_AT_ONCE) {
            self.resolve(t, a);
        } else {
            let wait = self.lognormal(45 * MINUTE, 0.9, 5 * MINUTE, 6 * HOUR);
            self.schedule(self.now + wait, Ev::Resolve(t, generation));
        }
    }

    fn resolve(&mut self, t: u64, by: usize) {
        let ticket_id = self.tickets[&t].id.clone();
        let agent_id = self.agents[by].id.clone();
        emit!(
            self,
            ResolveTicket,
            ResolveTicketRequest {
                ticket_id: ticket_id.clone(),
                agent_id: agent_id,
            }
        );
        self.set_status(t, Status::Resolved);
        let generation = self.tickets[&t].generation;
        let now = self.now;
        if self.chance(P_RATE_TICKET) {
            let wait = self.lognormal(40 * MINUTE, 1.2, MINUTE, DAY);
            self.schedule_rating(now + wait, ConvKind::Ticket, ticket_id);
        }
        if self.chance(P_REOPEN_BY_REPLY) {
            let wait = self.lognormal(6 * HOUR, 1.0, 30 * MINUTE, 3 * DAY);
            self.schedule(now + wait, Ev::CustomerReply(t, generation));
        } else if self.chance(P_REOPEN_BY_AGENT) {
            let wait = self.lognormal(3 * HOUR, 1.0, 10 * MINUTE, DAY);
            self.schedule(now + wait, Ev::Reopen(t, generation));
        }
        self.schedule(now + 4 * DAY, Ev::Retire(t, generation));
    }

    fn customer_reply(&mut self, t: u64, generation: u32) {
        let Some(ticket) = self.tickets.get(&t) else {
            return;
        };
        if ticket.generation != generation
            || !matches!(ticket.status, Status::Answered | Status::Resolved)
        {
            return;
        }
        let ticket_id = ticket.id.clone();
        emit!(
            self,
            RecordCustomerReply,
            RecordCustomerReplyRequest {
                ticket_id: ticket_id
            }
        );
        // A reply to a resolved ticket reopens it; either way it is open now.
        self.set_status(t, Status::Open);
        self.enqueue(t);
    }

    // -------------------------------------------------------------- chats and calls

    /// Agents who may be offered a conversation of `department` now, preferring those who
    /// did not just miss it, then the least busy.
    fn pick_agent(&mut self, department: Option<usize>, missed: &[usize]) -> Option<usize> {
        let now = self.now;
        let pool: Vec<usize> = match department {
            Some(d) => self.departments[d].members.clone(),
            None => (0..self.agents.len()).collect(),
        };
        let free: Vec<usize> = pool
            .into_iter()
            .filter(|&a| {
                let agent = &self.agents[a];
                agent.takes_work(now)
                    && !agent.on_call
                    && !agent.pending
                    && agent.active_chats < MAX_CHATS
            })
            .collect();
        let fresh: Vec<usize> = free
            .iter()
            .copied()
            .filter(|a| !missed.contains(a))
            .collect();
        let pool = if fresh.is_empty() { free } else { fresh };
        let load = |a: usize| self.agents[a].active_chats;
        let least = pool.iter().map(|&a| load(a)).min()?;
        let best: Vec<usize> = pool.into_iter().filter(|&a| load(a) == least).collect();
        Some(self.pick(&best))
    }

    fn conversation_department(&mut self) -> Option<usize> {
        if self.chance(0.1) {
            None
        } else {
            // Technical and Sales take most live conversations.
            let departments = self.departments.len();
            let weights: Vec<u32> = (0..departments)
                .map(|d| match d {
                    1 => 5,
                    2 => 3,
                    _ => 2,
                })
                .collect();
            let total: u32 = weights.iter().sum();
            let mut roll = self.rng.random_range(0..total);
            for (d, w) in weights.iter().enumerate() {
                if roll < *w {
                    return Some(d);
                }
                roll -= w;
            }
            Some(0)
        }
    }

    fn chat_arrival(&mut self, day: u32) {
        let department = self.conversation_department();
        let channel = match self.rng.random_range(0..100) {
            0..70 => Channel::Chat,
            70..80 => Channel::Whatsapp,
            80..85 => Channel::Viber,
            85..95 => Channel::Facebook,
            _ => Channel::Instagram,
        };
        let id = self.new_uuid().to_string();
        let department_id = department.map_or_else(String::new, |d| self.departments[d].id.clone());
        emit!(
            self,
            StartChat,
            StartChatRequest {
                chat_id: id.clone(),
                channel: channel_pb(channel),
                department_id: department_id,
            }
        );
        if self.chance(0.5) {
            emit!(
                self,
                RecordChatCustomerMessage,
                RecordChatCustomerMessageRequest {
                    chat_id: id.clone(),
                }
            );
        }
        let patience = self.between(2 * 60, 8 * 60) * SECOND;
        let c = self.key();
        self.chats.insert(
            c,
            ChatSim {
                id,
                department,
                give_up_at: self.now + patience,
                state: Conv::Waiting,
                missed_by: Vec::new(),
                steps_left: 0,
                agent_turn: true,
            },
        );
        let at = self.now + self.between(1, 5) * SECOND;
        self.schedule(at, Ev::ChatDispatch(c));
        if let Some(at) = self.next_arrival(&Ev::ChatArrival(day), self.now, day) {
            self.schedule(at, Ev::ChatArrival(day));
        }
    }

    fn chat_dispatch(&mut self, c: u64) {
        let Some(chat) = self.chats.get(&c) else {
            return;
        };
        if chat.state != Conv::Waiting {
            return;
        }
        let (department, missed, give_up_at) =
            (chat.department, chat.missed_by.clone(), chat.give_up_at);
        match self.pick_agent(department, &missed) {
            Some(a) => {
                let chat_id = self.chats[&c].id.clone();
                let agent_id = self.agents[a].id.clone();
                emit!(
                    self,
                    OfferChat,
                    OfferChatRequest {
                        chat_id: chat_id,
                        agent_id: agent_id,
                    }
                );
                self.chats.get_mut(&c).expect("a chat").state = Conv::Offered(a);
                self.agents[a].pending = true;
                let at = self.now + self.between(3, 30) * SECOND;
                self.schedule(at, Ev::ChatOfferOutcome(c));
            }
            None if self.now >= give_up_at => {
                let chat = self.chats.remove(&c).expect("a chat");
                emit!(self, EndChat, EndChatRequest { chat_id: chat.id });
            }
            None => {
                let at = self.now + self.between(15, 40) * SECOND;
                self.schedule(at, Ev::ChatDispatch(c));
            }
        }
    }

    fn chat_offer_outcome(&mut self, c: u64) {
        let Some(chat) = self.chats.get(&c) else {
            return;
        };
        let Conv::Offered(a) = chat.state else {
            return;
        };
        let chat_id = chat.id.clone();
        self.agents[a].pending = false;
        if self.chance(P_CHAT_MISS) {
            emit!(self, MissChat, MissChatRequest { chat_id: chat_id });
            let chat = self.chats.get_mut(&c).expect("a chat");
            chat.state = Conv::Waiting;
            chat.missed_by.push(a);
            let at = self.now + self.between(1, 3) * SECOND;
            self.schedule(at, Ev::ChatDispatch(c));
            if self.agents[a].leaving {
                self.try_offline(a);
            }
            return;
        }
        let agent_id = self.agents[a].id.clone();
        emit!(
            self,
            AcceptChat,
            AcceptChatRequest {
                chat_id: chat_id,
                agent_id: agent_id,
            }
        );
        let steps = 2 * self.rng.random_range(2..=8);
        let chat = self.chats.get_mut(&c).expect("a chat");
        chat.state = Conv::Accepted(a);
        chat.steps_left = steps - 1; // agent and customer alternate; the agent has the last word
        chat.agent_turn = true;
        self.agents[a].active_chats += 1;
        let at = self.now + self.between(5, 30) * SECOND;
        self.schedule(at, Ev::ChatStep(c));
    }

    fn chat_step(&mut self, c: u64) {
        let Some(chat) = self.chats.get(&c) else {
            return;
        };
        let Conv::Accepted(a) = chat.state else {
            return;
        };
        let chat_id = chat.id.clone();
        if chat.steps_left == 0 {
            emit!(
                self,
                EndChat,
                EndChatRequest {
                    chat_id: chat_id.clone()
                }
            );
            self.chats.remove(&c);
            self.agents[a].active_chats -= 1;
            if self.chance(P_RATE_CHAT) {
                let at = self.now + self.between(0, 5 * 60) * SECOND;
                self.schedule_rating(at, ConvKind::Chat, chat_id);
            }
            if self.agents[a].leaving {
                self.try_offline(a);
            }
            return;
        }
        if chat.agent_turn {
            let agent_id = self.agents[a].id.clone();
            let chars = self.lognormal(120, 0.8, 2, 2_000) as u32;
            emit!(
                self,
                AnswerChat,
                AnswerChatRequest {
                    chat_id: chat_id,
                    agent_id: agent_id,
                    chars: chars,
                }
            );
        } else {
            emit!(
                self,
                RecordChatCustomerMessage,
                RecordChatCustomerMessageRequest { chat_id: chat_id }
            );
        }
        let chat = self.chats.get_mut(&c).expect("a chat");
        chat.steps_left -= 1;
        chat.agent_turn = !chat.agent_turn;
        let at = self.now + self.between(15, 90) * SECOND;
        self.schedule(at, Ev::ChatStep(c));
    }

    fn call_arrival(&mut self, day: u32) {
        let department = self.conversation_department();
        let id = self.new_uuid().to_string();
        let department_id = department.map_or_else(String::new, |d| self.departments[d].id.clone());
        emit!(
            self,
            IncomingCall,
            IncomingCallRequest {
                call_id: id.clone(),
                department_id: department_id,
            }
        );
        let patience = self.between(60, 240) * SECOND;
        let c = self.key();
        self.calls.insert(
            c,
            CallSim {
                id,
                department,
                give_up_at: self.now + patience,
                state: Conv::Waiting,
                missed_by: Vec::new(),
            },
        );
        let at = self.now + self.between(1, 3) * SECOND;
        self.schedule(at, Ev::CallDispatch(c));
        if let Some(at) = self.next_arrival(&Ev::CallArrival(day), self.now, day) {
            self.schedule(at, Ev::CallArrival(day));
        }
    }

    fn call_dispatch(&mut self, c: u64) {
        let Some(call) = self.calls.get(&c) else {
            return;
        };
        if call.state != Conv::Waiting {
            return;
        }
        let (department, missed, give_up_at) =
            (call.department, call.missed_by.clone(), call.give_up_at);
        match self.pick_agent(department, &missed) {
            Some(a) => {
                let call_id = self.calls[&c].id.clone();
                let agent_id = self.agents[a].id.clone();
                emit!(
                    self,
                    RingCall,
                    RingCallRequest {
                        call_id: call_id,
                        agent_id: agent_id,
                    }
                );
                self.calls.get_mut(&c).expect("a call").state = Conv::Offered(a);
                self.agents[a].pending = true;
                let at = self.now + self.between(4, 25) * SECOND;
                self.schedule(at, Ev::CallRingOutcome(c));
            }
            None if self.now >= give_up_at => {
                let call = self.calls.remove(&c).expect("a call");
                emit!(self, EndCall, EndCallRequest { call_id: call.id });
            }
            None => {
                let at = self.now + self.between(10, 25) * SECOND;
                self.schedule(at, Ev::CallDispatch(c));
            }
        }
    }

    fn call_ring_outcome(&mut self, c: u64) {
        let Some(call) = self.calls.get(&c) else {
            return;
        };
        let Conv::Offered(a) = call.state else {
            return;
        };
        let call_id = call.id.clone();
        self.agents[a].pending = false;
        if self.chance(P_CALL_MISS) {
            emit!(self, MissCall, MissCallRequest { call_id: call_id });
            let call = self.calls.get_mut(&c).expect("a call");
            call.state = Conv::Waiting;
            call.missed_by.push(a);
            let at = self.now + self.between(1, 3) * SECOND;
            self.schedule(at, Ev::CallDispatch(c));
            if self.agents[a].leaving {
                self.try_offline(a);
            }
            return;
        }
        let agent_id = self.agents[a].id.clone();
        emit!(
            self,
            AnswerCall,
            AnswerCallRequest {
                call_id: call_id,
                agent_id: agent_id,
            }
        );
        self.calls.get_mut(&c).expect("a call").state = Conv::Accepted(a);
        self.agents[a].on_call = true;
        let length = self.lognormal(4 * MINUTE, 0.8, 30 * SECOND, 25 * MINUTE);
        self.schedule(self.now + length, Ev::CallEnd(c));
    }

    fn call_end(&mut self, c: u64) {
        let Some(call) = self.calls.remove(&c) else {
            return;
        };
        let Conv::Accepted(a) = call.state else {
            unreachable!("only answered calls are scheduled to end");
        };
        emit!(
            self,
            EndCall,
            EndCallRequest {
                call_id: call.id.clone()
            }
        );
        self.agents[a].on_call = false;
        if self.chance(P_RATE_CALL) {
            let at = self.now + self.between(0, 10 * 60) * SECOND;
            self.schedule_rating(at, ConvKind::Call, call.id);
        }
        if self.agents[a].leaving {
            self.try_offline(a);
        }
    }

    // -------------------------------------------------------------- ratings

    fn schedule_rating(&mut self, at: i64, kind: ConvKind, id: String) {
        let positive = self.chance(P_RATING_POSITIVE);
        let roll: f64 = self.rng.random();
        let follow = if roll < P_RERATE {
            FollowUp::Rerate
        } else if roll < P_RERATE + P_RETRACT {
            FollowUp::Retract
        } else {
            FollowUp::None
        };
        self.schedule(at, Ev::Rate(kind, id, positive, follow));
    }

    fn rate(&mut self, kind: ConvKind, id: String, positive: bool, follow: FollowUp) {
        let rating = if positive {
            pb::Rating::Positive
        } else {
            pb::Rating::Negative
        };
        emit!(
            self,
            RateConversation,
            RateConversationRequest {
                conversation: Some(conversation_ref(kind, id.clone())),
                rating: rating as i32,
            }
        );
        match follow {
            FollowUp::None => {}
            FollowUp::Rerate => {
                let at = self.now + self.lognormal(2 * HOUR, 1.0, 5 * MINUTE, DAY);
                self.schedule(at, Ev::Rate(kind, id, !positive, FollowUp::None));
            }
            FollowUp::Retract => {
                let at = self.now + self.lognormal(6 * HOUR, 1.0, 10 * MINUTE, 2 * DAY);
                self.schedule(at, Ev::Retract(kind, id));
            }
        }
    }
}

impl Iterator for Workload {
    type Item = pb::ExecuteRequest;

    fn next(&mut self) -> Option<pb::ExecuteRequest> {
        loop {
            if let Some(request) = self.out.pop_front() {
                return Some(request);
            }
            let item = self.heap.pop()?;
            if item.at >= self.end {
                self.heap.clear();
                return None;
            }
            debug_assert!(item.at >= self.now, "events run in time order");
            self.now = item.at;
            self.handle(item.ev);
        }
    }
}

fn conversation_ref(kind: ConvKind, id: String) -> pb::ConversationRef {
    let kind = match kind {
        ConvKind::Ticket => pb::ConversationKind::Ticket,
        ConvKind::Chat => pb::ConversationKind::Chat,
        ConvKind::Call => pb::ConversationKind::Call,
    };
    pb::ConversationRef {
        kind: kind as i32,
        id,
    }
}

fn channel_pb(channel: Channel) -> i32 {
    (match channel {
        Channel::Email => pb::Channel::Email,
        Channel::Chat => pb::Channel::Chat,
        Channel::Call => pb::Channel::Call,
        Channel::WebForm => pb::Channel::WebForm,
        Channel::Facebook => pb::Channel::Facebook,
        Channel::Twitter => pb::Channel::Twitter,
        Channel::Instagram => pb::Channel::Instagram,
        Channel::Viber => pb::Channel::Viber,
        Channel::Whatsapp => pb::Channel::Whatsapp,
        Channel::Api => pb::Channel::Api,
    }) as i32
}

fn priority_pb(priority: Priority) -> i32 {
    (match priority {
        Priority::Low => pb::Priority::Low,
        Priority::Normal => pb::Priority::Normal,
        Priority::High => pb::Priority::High,
        Priority::Urgent => pb::Priority::Urgent,
    }) as i32
}
