//! Ratings: customers rate resolved tickets and finished chats and calls (80 % positive);
//! a few later replace their rating with the opposite one or retract it.

use helpdesk_api::pb;
use rand::Rng;

use crate::generator::{Ev, Workload};
use crate::{DAY, HOUR, MINUTE};

const P_RATING_POSITIVE: f64 = 0.8;
const P_RERATE: f64 = 0.03;
const P_RETRACT: f64 = 0.02;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FollowUp {
    None,
    Rerate,
    Retract,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConvKind {
    Ticket,
    Chat,
    Call,
}

impl Workload {
    pub(crate) fn schedule_rating(&mut self, at: i64, kind: ConvKind, id: String) {
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

    pub(crate) fn rate(&mut self, kind: ConvKind, id: String, positive: bool, follow: FollowUp) {
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

    pub(crate) fn retract(&mut self, kind: ConvKind, id: String) {
        emit!(
            self,
            RetractRating,
            RetractRatingRequest {
                conversation: Some(conversation_ref(kind, id)),
            }
        );
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
