//! Live conversations: chats and calls. Both arrive, wait for an available agent of their
//! department, are offered (a chat) or ring (a call) and are taken or missed (then
//! offered to someone else), and end, unanswered when nobody takes them in time. The
//! waiting, the offer and its outcome and the end are one shape for both ([`Live`] names
//! the kind, [`Timing`] its numbers); what differs is what happens once the agent has
//! it: a chat is talked through in messages, a call lasts a while.

use std::collections::HashMap;

use helpdesk_domain::Channel;
use rand::Rng;
use uuid::Uuid;

use crate::days::{CALLS_PER_AGENT_DAY, CHATS_PER_AGENT_DAY};
use crate::generator::{channel_pb, Ev, Workload};
use crate::ratings::ConvKind;
use crate::{MINUTE, SECOND};

/// Chats an agent handles at once.
const MAX_CHATS: u32 = 2;

/// A live conversation's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Live {
    Chat,
    Call,
}

/// How a kind of live conversation goes: times in seconds (`from..=to`), probabilities.
pub(crate) struct Timing {
    /// How long the customer waits for an agent before giving up.
    patience: (i64, i64),
    /// From the arrival to the first look for an agent.
    first_look: (i64, i64),
    /// From the offer (the ring) to the agent's answer or miss.
    pub(crate) reaction: (i64, i64),
    /// From finding nobody to looking again.
    look_again: (i64, i64),
    /// That the agent misses the offer (the ring).
    p_miss: f64,
    /// That the customer rates the conversation, within `rated_within` of its end.
    p_rate: f64,
    rated_within: i64,
}

const CHAT: Timing = Timing {
    patience: (2 * 60, 8 * 60),
    first_look: (1, 5),
    reaction: (3, 30),
    look_again: (15, 40),
    p_miss: 0.07,
    p_rate: 0.35,
    rated_within: 5 * 60,
};

const CALL: Timing = Timing {
    patience: (60, 240),
    first_look: (1, 3),
    reaction: (4, 25),
    look_again: (10, 25),
    p_miss: 0.08,
    p_rate: 0.25,
    rated_within: 10 * 60,
};

impl Live {
    pub(crate) fn timing(self) -> &'static Timing {
        match self {
            Live::Chat => &CHAT,
            Live::Call => &CALL,
        }
    }

    fn rated_as(self) -> ConvKind {
        match self {
            Live::Chat => ConvKind::Chat,
            Live::Call => ConvKind::Call,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conv {
    Waiting,
    Offered(usize),
    Accepted(usize),
}

/// A chat or a call in the model (from its arrival to its end).
pub(crate) struct LiveSim {
    pub(crate) id: String,
    /// `id` parsed: the distribution serves conversations waiting as long by id.
    pub(crate) uuid: Uuid,
    pub(crate) department: Option<usize>,
    give_up_at: i64,
    pub(crate) state: Conv,
    /// Since when it has waited for an agent (its arrival, or its last miss).
    pub(crate) waiting_since: i64,
    /// Who missed it, and when.
    pub(crate) missed: Vec<(usize, i64)>,
    /// A chat's messages still to come (agent and customer alternate, the agent first).
    steps_left: u32,
    agent_turn: bool,
}

impl Workload {
    pub(crate) fn live(&self, live: Live) -> &HashMap<u64, LiveSim> {
        match live {
            Live::Chat => &self.chats,
            Live::Call => &self.calls,
        }
    }

    pub(crate) fn live_mut(&mut self, live: Live) -> &mut HashMap<u64, LiveSim> {
        match live {
            Live::Chat => &mut self.chats,
            Live::Call => &mut self.calls,
        }
    }

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
                    && agent.calls == 0
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

    /// A chat or a call arrives and waits for an agent.
    pub(crate) fn live_arrival(&mut self, live: Live, day: u32) {
        let department = self.conversation_department();
        let id = match live {
            Live::Chat => self.start_chat(department),
            Live::Call => self.incoming_call(department),
        };
        let routed = self.system_routes();
        if live == Live::Chat && !routed {
            self.first_customer_message(&id);
        }
        let timing = live.timing();
        let patience = self.between(timing.patience.0, timing.patience.1) * SECOND;
        let c = self.key();
        let waiting = LiveSim {
            uuid: id.parse().expect("generated ids are UUIDs"),
            id: id.clone(),
            department,
            give_up_at: self.now + patience,
            state: Conv::Waiting,
            waiting_since: self.now,
            missed: Vec::new(),
            steps_left: 0,
            agent_turn: true,
        };
        self.live_mut(live).insert(c, waiting);
        if routed {
            // The system offers it at once if it can (right after the start, before the
            // customer's first message), else when someone becomes free; the customer
            // gives up when their patience is over.
            self.distribute();
            if live == Live::Chat {
                self.first_customer_message(&id);
            }
            self.schedule(self.now + patience, Ev::Dispatch(live, c));
        } else {
            let at = self.now + self.between(timing.first_look.0, timing.first_look.1) * SECOND;
            self.schedule(at, Ev::Dispatch(live, c));
        }
        let per_agent = match live {
            Live::Chat => CHATS_PER_AGENT_DAY,
            Live::Call => CALLS_PER_AGENT_DAY,
        };
        if let Some(at) = self.next_arrival(per_agent, self.now, day) {
            self.schedule(at, Ev::LiveArrival(live, day));
        }
    }

    /// `StartChat`; the chat's id.
    fn start_chat(&mut self, department: Option<usize>) -> String {
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
        id
    }

    /// Half the customers write before an agent takes the chat.
    fn first_customer_message(&mut self, id: &str) {
        if self.chance(0.5) {
            emit!(
                self,
                RecordChatCustomerMessage,
                RecordChatCustomerMessageRequest {
                    chat_id: id.to_owned(),
                }
            );
        }
    }

    /// `IncomingCall`; the call's id.
    fn incoming_call(&mut self, department: Option<usize>) -> String {
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
        id
    }

    /// A waiting chat or call looks for an agent: offered (rung) to one, ended when the
    /// customer's patience is over, or another look later.
    pub(crate) fn dispatch(&mut self, live: Live, c: u64) {
        let Some(conversation) = self.live(live).get(&c) else {
            return;
        };
        if conversation.state != Conv::Waiting {
            return;
        }
        let (department, missed, give_up_at) = (
            conversation.department,
            conversation
                .missed
                .iter()
                .map(|&(a, _)| a)
                .collect::<Vec<_>>(),
            conversation.give_up_at,
        );
        if self.system_routes() {
            // The system looks for an agent: the customer only gives up, at the end of
            // their patience (the one time this is scheduled).
            let conversation = self.live_mut(live).remove(&c).expect("waiting");
            self.emit_end(live, conversation.id);
            return;
        }
        let timing = live.timing();
        match self.pick_agent(department, &missed) {
            Some(a) => {
                let id = self.live(live)[&c].id.clone();
                let agent_id = self.agents[a].id.clone();
                match live {
                    Live::Chat => emit!(
                        self,
                        OfferChat,
                        OfferChatRequest {
                            chat_id: id,
                            agent_id: agent_id,
                        }
                    ),
                    Live::Call => emit!(
                        self,
                        RingCall,
                        RingCallRequest {
                            call_id: id,
                            agent_id: agent_id,
                        }
                    ),
                }
                self.live_mut(live).get_mut(&c).expect("waiting").state = Conv::Offered(a);
                self.agents[a].pending = true;
                let at = self.now + self.between(timing.reaction.0, timing.reaction.1) * SECOND;
                self.schedule(at, Ev::OfferOutcome(live, c));
            }
            None if self.now >= give_up_at => {
                let conversation = self.live_mut(live).remove(&c).expect("waiting");
                self.emit_end(live, conversation.id);
            }
            None => {
                let at = self.now + self.between(timing.look_again.0, timing.look_again.1) * SECOND;
                self.schedule(at, Ev::Dispatch(live, c));
            }
        }
    }

    /// The agent a chat was offered to (a call rang) misses it (it waits for someone
    /// else) or takes it.
    pub(crate) fn offer_outcome(&mut self, live: Live, c: u64) {
        let Some(conversation) = self.live(live).get(&c) else {
            return;
        };
        let Conv::Offered(a) = conversation.state else {
            return;
        };
        let id = conversation.id.clone();
        self.agents[a].pending = false;
        if self.chance(live.timing().p_miss) {
            match live {
                Live::Chat => emit!(self, MissChat, MissChatRequest { chat_id: id }),
                Live::Call => emit!(self, MissCall, MissCallRequest { call_id: id }),
            }
            let now = self.now;
            let conversation = self.live_mut(live).get_mut(&c).expect("offered");
            conversation.state = Conv::Waiting;
            conversation.waiting_since = now;
            conversation.missed.push((a, now));
            if self.system_routes() {
                self.distribute();
            } else {
                let at = self.now + self.between(1, 3) * SECOND;
                self.schedule(at, Ev::Dispatch(live, c));
            }
            if self.agents[a].leaving {
                self.try_offline(a);
            }
            return;
        }
        let agent_id = self.agents[a].id.clone();
        match live {
            Live::Chat => emit!(
                self,
                AcceptChat,
                AcceptChatRequest {
                    chat_id: id,
                    agent_id: agent_id,
                }
            ),
            Live::Call => emit!(
                self,
                AnswerCall,
                AnswerCallRequest {
                    call_id: id,
                    agent_id: agent_id,
                }
            ),
        }
        self.live_mut(live).get_mut(&c).expect("offered").state = Conv::Accepted(a);
        match live {
            Live::Chat => {
                let steps = 2 * self.rng.random_range(2..=8);
                let chat = self.chats.get_mut(&c).expect("a chat");
                // Agent and customer alternate; the agent has the last word.
                chat.steps_left = steps - 1;
                chat.agent_turn = true;
                self.agents[a].active_chats += 1;
                let at = self.now + self.between(5, 30) * SECOND;
                self.schedule(at, Ev::ChatStep(c));
            }
            Live::Call => {
                self.agents[a].calls += 1;
                let length = self.lognormal(4 * MINUTE, 0.8, 30 * SECOND, 25 * MINUTE);
                self.schedule(self.now + length, Ev::CallEnd(c));
            }
        }
        // The agent is free for the next offer.
        self.distribute();
    }

    /// The next message of an accepted chat (the agent's or the customer's), or its end.
    pub(crate) fn chat_step(&mut self, c: u64) {
        let Some(chat) = self.chats.get(&c) else {
            return;
        };
        let Conv::Accepted(a) = chat.state else {
            return;
        };
        if chat.steps_left == 0 {
            self.finish(Live::Chat, c, a);
            return;
        }
        let chat_id = chat.id.clone();
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

    /// An answered call is over.
    pub(crate) fn call_end(&mut self, c: u64) {
        let Some(call) = self.calls.get(&c) else {
            return;
        };
        let Conv::Accepted(a) = call.state else {
            unreachable!("only answered calls are scheduled to end");
        };
        self.finish(Live::Call, c, a);
    }

    /// Ends a chat or call agent `a` had: the agent is free again (and leaves if the
    /// shift is over), the customer may rate it.
    fn finish(&mut self, live: Live, c: u64, a: usize) {
        let conversation = self.live_mut(live).remove(&c).expect("accepted");
        self.emit_end(live, conversation.id.clone());
        match live {
            Live::Chat => self.agents[a].active_chats -= 1,
            Live::Call => self.agents[a].calls -= 1,
        }
        let timing = live.timing();
        if self.chance(timing.p_rate) {
            let at = self.now + self.between(0, timing.rated_within) * SECOND;
            self.schedule_rating(at, live.rated_as(), conversation.id);
        }
        if self.agents[a].leaving {
            self.try_offline(a);
        }
    }

    fn emit_end(&mut self, live: Live, id: String) {
        match live {
            Live::Chat => emit!(self, EndChat, EndChatRequest { chat_id: id }),
            Live::Call => emit!(self, EndCall, EndCallRequest { call_id: id }),
        }
    }
}
