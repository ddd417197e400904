//! Tickets, from arrival to resolution: they arrive through the day on many channels,
//! the routing rules act on them, high priority ones are assigned at once and the rest
//! wait in their department's queue (or for triage when they name no department); agents
//! pick, answer, tag, transfer or delete them; customers reply; agents resolve and
//! sometimes reopen them. A ticket leaves the model four days after it was resolved.

use helpdesk_domain::{Channel, Priority};
use rand::Rng;

use crate::days::TICKETS_PER_AGENT_DAY;
use crate::generator::{channel_pb, priority_pb, Ev, Workload};
use crate::ratings::ConvKind;
use crate::{DAY, HOUR, MINUTE, SECOND};

/// Probabilities of the less common turns.
const P_TICKET_DELETE: f64 = 0.02;
const P_TICKET_TRANSFER: f64 = 0.04;
const P_TICKET_TAG: f64 = 0.15;
const P_TICKET_UNTAG: f64 = 0.05;
const P_REPLY_FIRST: f64 = 0.45;
const P_REPLY_LATER: f64 = 0.25;
const P_RESOLVE_AT_ONCE: f64 = 0.25;
const P_RATE_TICKET: f64 = 0.30;
const P_REOPEN_BY_REPLY: f64 = 0.04;
const P_REOPEN_BY_AGENT: f64 = 0.01;

struct Topic {
    /// Index into `DEPARTMENT_NAMES` (modulo the departments there are).
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    New,
    Answered,
    Open,
    Resolved,
    Deleted,
}

#[derive(Debug)]
pub(crate) struct TicketSim {
    pub(crate) id: String,
    pub(crate) department: Option<usize>,
    /// Where the customer's question really belongs.
    pub(crate) home: usize,
    pub(crate) priority: Priority,
    pub(crate) status: Status,
    pub(crate) assignee: Option<usize>,
    pub(crate) tags: Vec<String>,
    pub(crate) last_answerer: Option<usize>,
    pub(crate) answers: u32,
    /// Bumped on every status change: scheduled follow-ups of an older state are dropped.
    pub(crate) generation: u32,
}

impl TicketSim {
    pub(crate) fn needs_answer(&self) -> bool {
        matches!(self.status, Status::New | Status::Open)
    }
}

/// What a piece of ticket work came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Work {
    /// A ticket was taken from a queue; it is answered at the next piece of work.
    Picked,
    Done,
    Idle,
}

impl Workload {
    fn set_status(&mut self, t: u64, status: Status) {
        let ticket = self.tickets.get_mut(&t).expect("a ticket in the model");
        ticket.status = status;
        ticket.generation += 1;
    }

    /// Puts a ticket that needs an answer where someone will find it.
    pub(crate) fn enqueue(&mut self, t: u64) {
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

    pub(crate) fn ticket_arrival(&mut self, day: u32) {
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
        if let Some(at) = self.next_arrival(TICKETS_PER_AGENT_DAY, self.now, day) {
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

    pub(crate) fn ticket_work(&mut self, a: usize, shift: u32) {
        let now = self.now;
        let agent = &self.agents[a];
        if agent.shift != shift || !agent.online || agent.leaving {
            return;
        }
        let next = if agent.is_paused(now) || agent.calls > 0 {
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

    pub(crate) fn customer_reply(&mut self, t: u64, generation: u32) {
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

    /// An answered ticket the customer did not reply to is resolved by its last answerer.
    pub(crate) fn resolve_answered(&mut self, t: u64, generation: u32) {
        let Some(ticket) = self.tickets.get(&t) else {
            return;
        };
        if ticket.generation == generation && ticket.status == Status::Answered {
            let by = ticket.last_answerer.expect("answered");
            self.resolve(t, by);
        }
    }

    /// A resolved ticket is reopened by its last answerer.
    pub(crate) fn reopen(&mut self, t: u64, generation: u32) {
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

    /// A ticket resolved days ago (and not touched since) leaves the model.
    pub(crate) fn retire(&mut self, t: u64, generation: u32) {
        if self
            .tickets
            .get(&t)
            .is_some_and(|ticket| ticket.generation == generation)
        {
            self.tickets.remove(&t);
        }
    }
}
