//! The engine of the simulation: the simulated clock, the queue of things that happen
//! (one [`Ev`] at a moment, run in time order), the one random number generator every
//! draw comes from, and how a request is made (`emit!`: a command id drawn from the
//! generator, the current time). The [`Workload`] iterator runs the queue until a request
//! comes out.
//!
//! What each event does lives with what it simulates (`shifts`, `tickets`,
//! `conversations`, `ratings`, `days`).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, VecDeque};

use helpdesk_api::convert::timestamp_from_millis;
use helpdesk_api::pb;
use helpdesk_api::pb::execute_request::Command as Cmd;
use helpdesk_domain::{Channel, Priority};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use crate::config::WorkloadConfig;
use crate::conversations::{Live, LiveSim};
use crate::kinds::{kind_of, WorkloadStats};
use crate::organization::{DepartmentSim, RuleSim};
use crate::ratings::{ConvKind, FollowUp};
use crate::shifts::{AgentSim, PauseKind};
use crate::tickets::TicketSim;

/// Something that happens at a moment of the simulation.
#[derive(Debug, Clone)]
pub(crate) enum Ev {
    DayStart(u32),
    ShiftStart(usize),
    ShiftEnd(usize, u32),
    Pause(usize, u32, PauseKind, u8),
    PauseEnd(usize, u64),
    TicketWork(usize, u32),
    TicketArrival(u32),
    /// A chat or a call arrives.
    LiveArrival(Live, u32),
    CustomerReply(u64, u32),
    Resolve(u64, u32),
    Reopen(u64, u32),
    Retire(u64, u32),
    /// A waiting chat or call looks for an agent.
    Dispatch(Live, u64),
    /// The agent a chat was offered to (a call rang) takes it or misses it.
    OfferOutcome(Live, u64),
    ChatStep(u64),
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

/// The generated requests, in order; see the crate docs.
pub struct Workload {
    pub(crate) cfg: WorkloadConfig,
    pub(crate) rng: ChaCha8Rng,
    /// The simulated time of the request being generated.
    pub(crate) now: i64,
    /// The first day's midnight.
    pub(crate) day0: i64,
    end: i64,
    pub(crate) seq: u64,
    heap: BinaryHeap<Item>,
    out: VecDeque<pb::ExecuteRequest>,
    /// For each request in `out`: how many offers the system makes at once after it
    /// (when the system routes).
    offers_after: VecDeque<u32>,
    pub(crate) stats: WorkloadStats,
    pub(crate) departments: Vec<DepartmentSim>,
    pub(crate) agents: Vec<AgentSim>,
    pub(crate) rules: Vec<RuleSim>,
    pub(crate) triage: VecDeque<u64>,
    pub(crate) tickets: HashMap<u64, TicketSim>,
    pub(crate) chats: HashMap<u64, LiveSim>,
    pub(crate) calls: HashMap<u64, LiveSim>,
    next_key: u64,
    last_emitted: i64,
}

/// Builds one request with a fresh command id and the current time, and queues it.
macro_rules! emit {
    ($self:ident, $variant:ident, $request:ident { $($field:ident : $value:expr),* $(,)? }) => {{
        let command_id = $self.new_uuid().to_string();
        let occurred_at = Some($self.timestamp());
        #[allow(clippy::needless_update)]
        let request = ::helpdesk_api::pb::$request {
            command_id,
            occurred_at,
            $($field: $value,)*
            ..Default::default()
        };
        $self.push(::helpdesk_api::pb::execute_request::Command::$variant(request));
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
            offers_after: VecDeque::new(),
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

    pub(crate) fn new_uuid(&mut self) -> Uuid {
        let mut bytes = [0u8; 10];
        self.rng.fill_bytes(&mut bytes);
        uuid::Builder::from_unix_timestamp_millis(self.now.max(0) as u64, &bytes).into_uuid()
    }

    pub(crate) fn timestamp(&self) -> prost_types::Timestamp {
        timestamp_from_millis(self.now)
    }

    pub(crate) fn push(&mut self, cmd: Cmd) {
        debug_assert!(self.now >= self.last_emitted, "time runs backwards");
        self.last_emitted = self.now;
        self.stats.requests += 1;
        *self.stats.by_kind.entry(kind_of(&cmd)).or_insert(0) += 1;
        self.out
            .push_back(pb::ExecuteRequest { command: Some(cmd) });
        self.offers_after.push_back(0);
    }

    /// The system offers a conversation (rings a call) right after the last request.
    pub(crate) fn offer_follows(&mut self) {
        *self
            .offers_after
            .back_mut()
            .expect("an offer follows the request that made it possible") += 1;
    }

    pub(crate) fn schedule(&mut self, at: i64, ev: Ev) {
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

    pub(crate) fn key(&mut self) -> u64 {
        self.next_key += 1;
        self.next_key
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.rng.random::<f64>() < p
    }

    pub(crate) fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            self.rng.random_range(lo..=hi)
        }
    }

    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.random_range(0..items.len())]
    }

    pub(crate) fn normal(&mut self) -> f64 {
        // Box–Muller.
        let u1: f64 = 1.0 - self.rng.random::<f64>();
        let u2: f64 = self.rng.random::<f64>();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Log-normal milliseconds around `median`, clamped to `[lo, hi]`.
    pub(crate) fn lognormal(&mut self, median: i64, sigma: f64, lo: i64, hi: i64) -> i64 {
        let value = median as f64 * (sigma * self.normal()).exp();
        (value as i64).clamp(lo, hi)
    }

    // -------------------------------------------------------------- the loop

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::DayStart(day) => self.day_start(day),
            Ev::ShiftStart(a) => self.shift_start(a),
            Ev::ShiftEnd(a, shift) => self.shift_end(a, shift),
            Ev::Pause(a, shift, kind, tries) => self.pause(a, shift, kind, tries),
            Ev::PauseEnd(a, serial) => self.pause_end(a, serial),
            Ev::TicketWork(a, shift) => self.ticket_work(a, shift),
            Ev::TicketArrival(day) => self.ticket_arrival(day),
            Ev::LiveArrival(live, day) => self.live_arrival(live, day),
            Ev::CustomerReply(t, generation) => self.customer_reply(t, generation),
            Ev::Resolve(t, generation) => self.resolve_answered(t, generation),
            Ev::Reopen(t, generation) => self.reopen(t, generation),
            Ev::Retire(t, generation) => self.retire(t, generation),
            Ev::Dispatch(live, c) => self.dispatch(live, c),
            Ev::OfferOutcome(live, c) => self.offer_outcome(live, c),
            Ev::ChatStep(c) => self.chat_step(c),
            Ev::CallEnd(c) => self.call_end(c),
            Ev::Rate(kind, id, positive, follow) => self.rate(kind, id, positive, follow),
            Ev::Retract(kind, id) => self.retract(kind, id),
        }
    }
}

impl Workload {
    /// The next request, and how many offers the system makes right after it (always 0
    /// unless [`WorkloadConfig::system_routes`] is set): a sender waits for them to be in
    /// the log before it sends the next request, so that the system chooses from what
    /// the history says at that moment, as the generator expects.
    pub fn next_step(&mut self) -> Option<(pb::ExecuteRequest, u32)> {
        loop {
            if let Some(request) = self.out.pop_front() {
                let offers = self.offers_after.pop_front().unwrap_or(0);
                return Some((request, offers));
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

impl Iterator for Workload {
    type Item = pb::ExecuteRequest;

    fn next(&mut self) -> Option<pb::ExecuteRequest> {
        self.next_step().map(|(request, _)| request)
    }
}

pub(crate) fn channel_pb(channel: Channel) -> i32 {
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

pub(crate) fn priority_pb(priority: Priority) -> i32 {
    (match priority {
        Priority::Low => pb::Priority::Low,
        Priority::Normal => pb::Priority::Normal,
        Priority::High => pb::Priority::High,
        Priority::Urgent => pb::Priority::Urgent,
    }) as i32
}
