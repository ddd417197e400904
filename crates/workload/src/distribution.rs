//! The system's distribution, as the generator expects it, when the organization lets
//! the system route (`WorkloadConfig::system_routes`, docs/DISTRIBUTION.md). The history
//! offers nothing itself: after each request that can make an offer possible (a chat or
//! call starting, an agent going online, resuming, accepting, answering or missing), the
//! waiting conversations are paired with available agents by the documented rules, and
//! the sender waits for the system's offers before it goes on. The agent the system
//! chose then plays the script: takes it or declines it (`MissChat`, `MissCall`) after
//! the scripted delay, always within the routing time. Only the offered agent may accept,
//! so the server checks every pairing here: an accept it refuses means the system chose
//! someone else.
//!
//! The rules (the server's `policies` model): an agent is available when online, not
//! paused and without an offer waiting; a conversation goes to an available member of
//! its department (any agent when it has none) who has not missed it since they last
//! went online or resumed; among them the longest idle (the later of going online or
//! resuming and their last offer), then the fewest open conversations, then the smallest
//! id. Conversations are served oldest waiting first (a missed one waits again from the
//! miss), then by id. Every pairing happens at the moment it becomes possible, which is
//! the time of the request just made, so the offer is recorded at that time.

use crate::conversations::{Conv, Live, LiveSim};
use crate::generator::{Ev, Workload};
use crate::SECOND;

impl Workload {
    /// Whether the system routes chats and calls.
    pub(crate) fn system_routes(&self) -> bool {
        self.cfg.system_routes.is_some()
    }

    /// The agent went online or resumed: free for offers, a miss before now forgiven.
    pub(crate) fn became_available(&mut self, a: usize) {
        let agent = &mut self.agents[a];
        agent.idle_since = self.now;
        agent.available_since = self.now;
        self.distribute();
    }

    /// The offers the system makes now, if it routes: each waiting conversation, oldest
    /// first, to the available agent the rules choose.
    pub(crate) fn distribute(&mut self) {
        if !self.system_routes() {
            return;
        }
        let now = self.now;
        let mut waiting: Vec<_> = [Live::Chat, Live::Call]
            .into_iter()
            .flat_map(|live| {
                self.live(live)
                    .iter()
                    .filter(|(_, conversation)| conversation.state == Conv::Waiting)
                    .map(move |(&c, conversation)| {
                        (conversation.waiting_since, conversation.uuid, live, c)
                    })
            })
            .collect();
        waiting.sort_unstable();
        let mut free: Vec<usize> = (0..self.agents.len())
            .filter(|&a| {
                let agent = &self.agents[a];
                agent.online && !agent.is_paused(now) && !agent.pending
            })
            .collect();
        for (_, _, live, c) in waiting {
            let conversation = &self.live(live)[&c];
            let chosen = free
                .iter()
                .copied()
                .filter(|&a| self.may_take(conversation, a))
                .min_by_key(|&a| {
                    let agent = &self.agents[a];
                    (
                        agent.idle_since,
                        agent.active_chats + agent.calls,
                        agent.uuid,
                    )
                });
            if let Some(a) = chosen {
                free.retain(|&other| other != a);
                self.offered(live, c, a);
            }
        }
    }

    /// Whether agent `a` may be offered `conversation` (available is checked apart).
    fn may_take(&self, conversation: &LiveSim, a: usize) -> bool {
        let member = conversation
            .department
            .is_none_or(|d| self.departments[d].members.contains(&a));
        let missed_it = conversation
            .missed
            .iter()
            .any(|&(agent, when)| agent == a && self.agents[a].available_since <= when);
        member && !missed_it
    }

    /// The system offers conversation `c` to agent `a` now, right after the last request;
    /// the agent reacts after the scripted delay, within the routing time (a miss by the
    /// system would come when the log's time passes it, at no moment the sender could
    /// wait for).
    fn offered(&mut self, live: Live, c: u64, a: usize) {
        self.offer_follows();
        self.live_mut(live).get_mut(&c).expect("waiting").state = Conv::Offered(a);
        let agent = &mut self.agents[a];
        agent.pending = true;
        agent.idle_since = self.now;
        let reaction = live.timing().reaction;
        let routing = i64::from(self.cfg.system_routes.unwrap_or(u32::MAX));
        let delay = (self.between(reaction.0, reaction.1) * SECOND).min((routing - 1) * SECOND);
        self.schedule(self.now + delay, Ev::OfferOutcome(live, c));
    }
}
