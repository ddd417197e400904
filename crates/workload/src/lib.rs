//! The simulated help desk days: seeded, realistic days of a help desk as a stream of
//! `ExecuteRequest`s, ready for `CommandService/Execute` ([`Workload`], configured by
//! [`WorkloadConfig`]). `helpdesk simulate` sends them to a running system, the tests hold
//! the read models against them (and against the generator's own model of the tickets),
//! and the benchmarks load the system with them.
//!
//! # What it produces
//!
//! Every request is meant to be sent with the Owner's token (every permission, `system.import`
//! included): whatever an agent does names that agent (`agent_id`; customer-side commands
//! such as `CreateTicket` or `StartChat` name none), and every request carries a
//! `command_id` and an `occurred_at` (see [`WorkloadConfig::config_at_wall_clock`] for the
//! one exception). The sequence is a pure function of the [`WorkloadConfig`]: the same config
//! gives byte-for-byte the same requests, ids and command ids included (UUID v7 built from
//! the simulated time and a `ChaCha8Rng` seeded from `seed`). Re-sending a sequence is
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
//!
//! # When the system routes
//!
//! With [`WorkloadConfig::system_routes`] set (the organization's setting `system_routes`
//! on, docs/DISTRIBUTION.md), no `OfferChat` or `RingCall` is generated: chats and calls
//! are only started, and the system offers them. The generator follows the distribution's
//! documented rules to know whom (module `distribution`), and [`Workload::next_step`]
//! says after which request the system makes how many offers, so a sender waits for them
//! before it sends the next request; the server checks each pairing when the agent
//! accepts. What changes then: agents are chosen by the system (longest idle first, no
//! limit of two chats or one call), every offer is taken or declined within the routing
//! time (no misses by the system), a waiting conversation is offered as soon as someone
//! is free or ends when the customer's patience is over, lunches and meetings are paused
//! and resumed by hand, and an agent pauses at the end of their shift before they finish
//! and go offline. Auto-pause must be off.
//!
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
//!
//! # The modules, by what they simulate
//!
//! - [`config`]: what to simulate ([`WorkloadConfig`]).
//! - `generator`: the engine: simulated time, the event queue, the one random number
//!   generator, how a request is made; the [`Workload`] iterator.
//! - `organization`: the setup (departments, agents, memberships, routing rules) and what
//!   the rules do to a new ticket.
//! - `days`: who works on a day, and when tickets, chats and calls arrive.
//! - `shifts`: the agents' presence: shifts, pauses, going offline.
//! - `tickets`: tickets from arrival to resolution (queues, triage, answers, replies).
//! - `conversations`: chats and calls, offered or rung to an agent, talked through, ended.
//! - `distribution`: whom the system offers a conversation to, when it routes.
//! - `ratings`: customers rating tickets, chats and calls, re-rating and retracting.
//! - `model`: the generator's own account of its tickets ([`Workload::model_tickets`]),
//!   which tests hold against the read models.
//! - [`kinds`]: the command kinds generated and the counters ([`WorkloadStats`]).

pub mod config;
#[macro_use]
mod generator;
mod conversations;
mod days;
mod distribution;
pub mod kinds;
mod model;
mod organization;
mod ratings;
mod shifts;
mod tickets;

pub use config::WorkloadConfig;
pub use generator::Workload;
pub use kinds::{command_kind, WorkloadStats, GENERATED_KINDS};
pub use model::ModelTicket;

/// One second in milliseconds.
pub const SECOND: i64 = 1_000;
/// One minute in milliseconds.
pub const MINUTE: i64 = 60 * SECOND;
/// One hour in milliseconds.
pub const HOUR: i64 = 60 * MINUTE;
/// One day in milliseconds.
pub const DAY: i64 = 24 * HOUR;
