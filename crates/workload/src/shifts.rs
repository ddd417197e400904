//! The agents' presence: shifts (`GoOnline`, `GoOffline` once the agent's chats and
//! calls are done, most unanswered tickets handed back first), and pauses: a planned lunch
//! and sometimes a planned team meeting (they end by themselves, so nothing is sent for
//! the agent while they run), coffee breaks and personal pauses ended by `ResumeAgent`.

use helpdesk_api::pb;
use rand::Rng;
use uuid::Uuid;

use crate::generator::{Ev, Workload};
use crate::{MINUTE, SECOND};

const P_HAND_BACK: f64 = 0.6;

#[derive(Debug)]
pub(crate) struct Pause {
    pub(crate) planned_end: Option<i64>,
    pub(crate) serial: u64,
}

#[derive(Debug)]
pub(crate) struct AgentSim {
    pub(crate) id: String,
    /// `id` parsed: the distribution's last tie-break is the smallest agent id.
    pub(crate) uuid: Uuid,
    pub(crate) departments: Vec<usize>,
    /// Minutes after midnight the agent usually starts.
    pub(crate) usual_start: i64,
    pub(crate) online: bool,
    /// The shift is over: no new work, offline once idle.
    pub(crate) leaving: bool,
    pub(crate) shift: u32,
    pub(crate) shift_end: i64,
    pub(crate) pause: Option<Pause>,
    pub(crate) active_chats: u32,
    /// Calls answered and not ended (one at most when the history routes by hand).
    pub(crate) calls: u32,
    /// A chat offered or a call ringing, awaiting the agent's reaction.
    pub(crate) pending: bool,
    /// When the system routes: since when the agent has gone without an offer (went
    /// online, resumed, or their last offer), the longest idle being offered first.
    pub(crate) idle_since: i64,
    /// When the system routes: when the agent last went online or resumed (a miss of a
    /// conversation before it is forgiven: it may be offered to them again).
    pub(crate) available_since: i64,
    /// Tickets assigned to the agent (checked when used).
    pub(crate) todo: Vec<u64>,
}

impl AgentSim {
    /// Paused at `t`, as the domain sees it: a planned pause is over at its planned end.
    pub(crate) fn is_paused(&self, t: i64) -> bool {
        self.pause
            .as_ref()
            .is_some_and(|p| p.planned_end.is_none_or(|end| t < end))
    }

    /// In a planned pause at `t`: nothing is sent for the agent then.
    pub(crate) fn planned_pause_end(&self, t: i64) -> Option<i64> {
        self.pause
            .as_ref()
            .and_then(|p| p.planned_end)
            .filter(|end| t < *end)
    }

    pub(crate) fn busy(&self) -> bool {
        self.active_chats > 0 || self.calls > 0 || self.pending
    }

    pub(crate) fn takes_work(&self, t: i64) -> bool {
        self.online && !self.leaving && !self.is_paused(t)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PauseKind {
    Lunch,
    Coffee,
    Meeting,
    Personal,
}

impl Workload {
    pub(crate) fn shift_start(&mut self, a: usize) {
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
        self.became_available(a);
    }

    /// The shift is over: the agent leaves once idle. When the system routes, they
    /// pause first ("end of shift"), or it would go on offering them conversations.
    pub(crate) fn shift_end(&mut self, a: usize, shift: u32) {
        if self.agents[a].shift == shift && self.agents[a].online {
            self.agents[a].leaving = true;
            if self.system_routes() && !self.agents[a].is_paused(self.now) {
                self.pause_by_hand(a, "end of shift", None);
            }
            self.try_offline(a);
        }
    }

    pub(crate) fn pause(&mut self, a: usize, shift: u32, kind: PauseKind, tries: u8) {
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
        if self.system_routes() {
            // A planned pause would end by the server's own command when the log's time
            // passes its end, at no moment the sender can wait for, and an offer could
            // follow it: the agent pauses and resumes by hand at the planned time.
            let length = match planned {
                Some(minutes) => i64::from(minutes) * MINUTE,
                None => self.manual_pause_length(kind),
            };
            let serial = self.pause_by_hand(a, reason, None);
            self.schedule(now + length, Ev::PauseEnd(a, serial));
            return;
        }
        let serial = self.pause_by_hand(a, reason, planned);
        if planned.is_none() {
            let length = self.manual_pause_length(kind);
            self.schedule(now + length, Ev::PauseEnd(a, serial));
        }
    }

    fn manual_pause_length(&mut self, kind: PauseKind) -> i64 {
        match kind {
            PauseKind::Coffee => self.between(3 * 60, 12 * 60) * SECOND,
            _ => self.between(5 * 60, 20 * 60) * SECOND,
        }
    }

    /// `PauseAgent` with a reason (and a planned length); the pause's serial.
    fn pause_by_hand(&mut self, a: usize, reason: &str, planned: Option<u32>) -> u64 {
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
            planned_end: planned.map(|m| self.now + i64::from(m) * MINUTE),
            serial,
        });
        serial
    }

    /// A manual pause is over (unless the agent left it some other way since).
    pub(crate) fn pause_end(&mut self, a: usize, serial: u64) {
        let agent = &self.agents[a];
        let matches = agent.online
            && agent
                .pause
                .as_ref()
                .is_some_and(|p| p.serial == serial && p.planned_end.is_none());
        if matches && self.system_routes() && agent.leaving {
            // Paused until they go (resuming would bring offers).
            self.try_offline(a);
        } else if matches {
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
            self.became_available(a);
            if self.agents[a].leaving {
                self.try_offline(a);
            }
        }
    }

    /// Goes offline if the shift is over and the agent is idle; otherwise tries again later.
    pub(crate) fn try_offline(&mut self, a: usize) {
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
}
