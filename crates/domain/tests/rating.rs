//! Rating commands: rate a ticket, chat or call; retract a rating.

mod common;

use common::*;
use helpdesk_domain::command::*;
use helpdesk_domain::event::*;
use helpdesk_domain::state::StandingRating;
use helpdesk_domain::*;

fn a1() -> AgentId {
    agent_id(1)
}
fn a2() -> AgentId {
    agent_id(2)
}
fn boss() -> AgentId {
    agent_id(9)
}
fn t1() -> TicketId {
    ticket_id(1)
}
fn c1() -> ChatId {
    chat_id(1)
}
fn k1() -> CallId {
    call_id(1)
}

fn ticket() -> ConversationRef {
    ConversationRef::ticket(t1())
}
fn chat() -> ConversationRef {
    ConversationRef::chat(c1())
}
fn call() -> ConversationRef {
    ConversationRef::call(k1())
}

/// Customers rate through an integration.
fn customer() -> Principal {
    integration(&[])
}

fn rate(conversation: ConversationRef, rating: Rating) -> RateConversation {
    RateConversation {
        conversation,
        rating,
    }
}

fn retract(conversation: ConversationRef) -> RetractRating {
    RetractRating { conversation }
}

fn rated(
    conversation: ConversationRef,
    agent: AgentId,
    rating: Rating,
    replaces: Option<(Rating, AgentId)>,
) -> ConversationRated {
    ConversationRated {
        conversation,
        agent,
        rating,
        replaces: replaces.map(|(r, _)| r),
        replaced_agent: replaces.map(|(_, a)| a),
    }
}

fn answered(t: TicketId, agent: AgentId) -> TicketAnswered {
    TicketAnswered {
        ticket: t,
        agent,
        chars: 80,
    }
}

// --- histories -------------------------------------------------------------------------

/// Ticket t1 answered by a1, then by a2 (a2 answered last).
fn ticket_answered_by_a1_then_a2() -> World {
    World::new()
        .agent(a1())
        .agent(a2())
        .ticket(t1(), Priority::Normal, None)
        .given(AggregateId::ticket(t1()), evs![answered(t1(), a1())])
        .given(
            AggregateId::ticket(t1()),
            evs![TicketCustomerReplied { ticket: t1() }],
        )
        .given(AggregateId::ticket(t1()), evs![answered(t1(), a2())])
}

/// Chat c1 offered to a2 (missed), then offered to and accepted by a1, and ended.
fn chat_accepted_by_a1() -> World {
    World::new().agent(a1()).agent(a2()).given(
        AggregateId::chat(c1()),
        evs![
            ChatStarted {
                chat: c1(),
                channel: Channel::Chat,
                department: None
            },
            ChatOffered {
                chat: c1(),
                agent: a2()
            },
            ChatMissed {
                chat: c1(),
                agent: a2()
            },
            ChatOffered {
                chat: c1(),
                agent: a1()
            },
            ChatAccepted {
                chat: c1(),
                agent: a1()
            },
            ChatEnded {
                chat: c1(),
                agent: Some(a1())
            },
        ],
    )
}

/// Call k1 rung at a1 (missed), then rung at and answered by a2, and ended.
fn call_answered_by_a2() -> World {
    World::new().agent(a1()).agent(a2()).given(
        AggregateId::call(k1()),
        evs![
            CallIncoming {
                call: k1(),
                department: None
            },
            CallRinging {
                call: k1(),
                agent: a1()
            },
            CallMissed {
                call: k1(),
                agent: a1()
            },
            CallRinging {
                call: k1(),
                agent: a2()
            },
            CallAnswered {
                call: k1(),
                agent: a2()
            },
            CallEnded {
                call: k1(),
                agent: Some(a2())
            },
        ],
    )
}

/// The chat of [`chat_accepted_by_a1`], rated positive.
fn chat_rated_positive() -> World {
    chat_accepted_by_a1().given(
        chat().rating_aggregate(),
        evs![rated(chat(), a1(), Rating::Positive, None)],
    )
}

fn standing(world: &World, conversation: ConversationRef) -> Option<StandingRating> {
    let State::Rating(state) = world.state(conversation.rating_aggregate()) else {
        unreachable!()
    };
    state.current
}

// --- RateConversation: attribution -------------------------------------------------------

#[test]
fn a_ticket_rating_goes_to_the_last_agent_who_answered() {
    ticket_answered_by_a1_then_a2()
        .when(&customer(), rate(ticket(), Rating::Positive))
        .then(evs![rated(ticket(), a2(), Rating::Positive, None)]);
}

#[test]
fn a_chat_rating_goes_to_the_agent_who_accepted_it() {
    chat_accepted_by_a1()
        .when(&customer(), rate(chat(), Rating::Negative))
        .then(evs![rated(chat(), a1(), Rating::Negative, None)]);
}

#[test]
fn a_call_rating_goes_to_the_agent_who_answered_it() {
    call_answered_by_a2()
        .when(&customer(), rate(call(), Rating::Positive))
        .then(evs![rated(call(), a2(), Rating::Positive, None)]);
}

#[test]
fn a_conversation_in_progress_may_be_rated() {
    // A chat accepted but not ended, a call answered but not ended, a ticket not resolved.
    World::new()
        .given(
            AggregateId::chat(c1()),
            evs![
                ChatStarted {
                    chat: c1(),
                    channel: Channel::Chat,
                    department: None
                },
                ChatOffered {
                    chat: c1(),
                    agent: a1()
                },
                ChatAccepted {
                    chat: c1(),
                    agent: a1()
                },
            ],
        )
        .when(&customer(), rate(chat(), Rating::Positive))
        .then(evs![rated(chat(), a1(), Rating::Positive, None)]);
    World::new()
        .given(
            AggregateId::call(k1()),
            evs![
                CallIncoming {
                    call: k1(),
                    department: None
                },
                CallRinging {
                    call: k1(),
                    agent: a2()
                },
                CallAnswered {
                    call: k1(),
                    agent: a2()
                },
            ],
        )
        .when(&customer(), rate(call(), Rating::Negative))
        .then(evs![rated(call(), a2(), Rating::Negative, None)]);
}

#[test]
fn a_resolved_ticket_is_rated_for_its_last_answerer() {
    ticket_answered_by_a1_then_a2()
        .given(
            AggregateId::ticket(t1()),
            evs![TicketResolved {
                ticket: t1(),
                by: Actor::Agent(a1())
            }],
        )
        .when(&customer(), rate(ticket(), Rating::Positive))
        .then(evs![rated(ticket(), a2(), Rating::Positive, None)]);
}

// --- RateConversation: one rating per conversation ----------------------------------------

#[test]
fn a_new_rating_replaces_the_old_one() {
    chat_rated_positive()
        .when(&customer(), rate(chat(), Rating::Negative))
        .then(evs![rated(
            chat(),
            a1(),
            Rating::Negative,
            Some((Rating::Positive, a1()))
        )]);
    // The same rating again still replaces (and names) the standing one.
    chat_rated_positive()
        .when(&customer(), rate(chat(), Rating::Positive))
        .then(evs![rated(
            chat(),
            a1(),
            Rating::Positive,
            Some((Rating::Positive, a1()))
        )]);
}

#[test]
fn a_replacing_rating_goes_to_whoever_answered_last_now() {
    let world = ticket_answered_by_a1_then_a2().run(&customer(), rate(ticket(), Rating::Negative));
    assert_eq!(
        standing(&world, ticket()),
        Some(StandingRating {
            agent: a2(),
            rating: Rating::Negative
        })
    );
    // a1 answers again and the customer changes their mind.
    world
        .given(AggregateId::ticket(t1()), evs![answered(t1(), a1())])
        .when(&customer(), rate(ticket(), Rating::Positive))
        .then(evs![rated(
            ticket(),
            a1(),
            Rating::Positive,
            Some((Rating::Negative, a2()))
        )]);
}

#[test]
fn one_rating_aggregate_per_conversation() {
    let to_chat: Command = rate(chat(), Rating::Positive).into();
    let again: Command = rate(chat(), Rating::Negative).into();
    let retraction: Command = retract(chat()).into();
    assert_eq!(to_chat.target(), AggregateId::rating(c1().uuid()));
    assert_eq!(again.target(), to_chat.target());
    assert_eq!(retraction.target(), to_chat.target());
    let to_call: Command = rate(call(), Rating::Positive).into();
    assert_ne!(to_call.target(), to_chat.target());
}

#[test]
fn only_the_latest_rating_stands() {
    let world = chat_accepted_by_a1()
        .run(&customer(), rate(chat(), Rating::Positive))
        .run(&customer(), rate(chat(), Rating::Negative));
    assert_eq!(
        standing(&world, chat()),
        Some(StandingRating {
            agent: a1(),
            rating: Rating::Negative
        })
    );
}

#[test]
fn a_rating_after_a_retraction_replaces_nothing() {
    chat_rated_positive()
        .run(&admin(boss()), retract(chat()))
        .when(&customer(), rate(chat(), Rating::Negative))
        .then(evs![rated(chat(), a1(), Rating::Negative, None)]);
}

// --- RateConversation: permissions --------------------------------------------------------

#[test]
fn rating_needs_an_integration_or_system_import() {
    let world = chat_accepted_by_a1();
    world
        .when(&agent(a1()), rate(chat(), Rating::Positive))
        .rejects("PERMISSION_DENIED", "system.import");
    world
        .when(&agent(a2()), rate(chat(), Rating::Positive))
        .rejects("PERMISSION_DENIED", "integration");
    world
        .when(
            &custom(a2(), &[Permission::GamificationManage]),
            rate(chat(), Rating::Positive),
        )
        .rejects("PERMISSION_DENIED", "system.import");
    world
        .when(
            &custom(a2(), &[Permission::SystemImport]),
            rate(chat(), Rating::Positive),
        )
        .then(evs![rated(chat(), a1(), Rating::Positive, None)]);
    world
        .when(&admin(boss()), rate(chat(), Rating::Positive))
        .ok();
    world
        .when(&integration(&[]), rate(chat(), Rating::Positive))
        .ok();
    world
        .when(
            &integration(&[Permission::ReportsView]),
            rate(chat(), Rating::Positive),
        )
        .ok();
}

// --- RateConversation: not found ---------------------------------------------------------

#[test]
fn rating_an_unknown_conversation_is_not_found() {
    World::new()
        .when(&customer(), rate(ticket(), Rating::Positive))
        .rejects("NOT_FOUND", "ticket");
    World::new()
        .when(&customer(), rate(chat(), Rating::Positive))
        .rejects("NOT_FOUND", "chat");
    World::new()
        .when(&customer(), rate(call(), Rating::Positive))
        .rejects("NOT_FOUND", "call");
}

#[test]
fn rating_a_conversation_of_the_wrong_kind_is_not_found() {
    // The chat's id named as a call.
    let as_call = ConversationRef::call(CallId::from_uuid(c1().uuid()));
    chat_accepted_by_a1()
        .when(&customer(), rate(as_call, Rating::Positive))
        .rejects("NOT_FOUND", "call");
}

#[test]
fn a_rated_conversations_id_named_as_another_kind() {
    let as_call = ConversationRef::call(CallId::from_uuid(c1().uuid()));
    // No such call.
    chat_rated_positive()
        .when(&customer(), rate(as_call, Rating::Negative))
        .rejects("NOT_FOUND", "call");
    // A call that happens to share the uuid does not take over the chat's rating.
    chat_rated_positive()
        .given(
            AggregateId::call(CallId::from_uuid(c1().uuid())),
            evs![
                CallIncoming {
                    call: CallId::from_uuid(c1().uuid()),
                    department: None
                },
                CallRinging {
                    call: CallId::from_uuid(c1().uuid()),
                    agent: a2()
                },
                CallAnswered {
                    call: CallId::from_uuid(c1().uuid()),
                    agent: a2()
                },
            ],
        )
        .when(&customer(), rate(as_call, Rating::Negative))
        .rejects("FAILED_PRECONDITION", "belongs to chat");
}

#[test]
fn permission_is_checked_before_existence() {
    World::new()
        .when(&agent(a1()), rate(chat(), Rating::Positive))
        .rejects("PERMISSION_DENIED", "system.import");
}

// --- RateConversation: nobody handled it -------------------------------------------------

#[test]
fn rating_a_ticket_nobody_answered_fails() {
    World::new()
        .ticket(t1(), Priority::Normal, None)
        .when(&customer(), rate(ticket(), Rating::Positive))
        .rejects("FAILED_PRECONDITION", "has no answer yet");
    // Assigned is not answered.
    World::new()
        .agent(a1())
        .ticket(t1(), Priority::Normal, None)
        .given(
            AggregateId::ticket(t1()),
            evs![TicketAssigned {
                ticket: t1(),
                agent: a1(),
                by: Actor::Agent(a1())
            }],
        )
        .when(&customer(), rate(ticket(), Rating::Negative))
        .rejects("FAILED_PRECONDITION", "no agent to attribute");
}

#[test]
fn rating_a_deleted_ticket_fails() {
    ticket_answered_by_a1_then_a2()
        .given(
            AggregateId::ticket(t1()),
            evs![TicketDeleted {
                ticket: t1(),
                by: Actor::Agent(a1())
            }],
        )
        .when(&customer(), rate(ticket(), Rating::Positive))
        .rejects("FAILED_PRECONDITION", "deleted");
}

#[test]
fn rating_a_chat_nobody_accepted_fails() {
    let started = evs![ChatStarted {
        chat: c1(),
        channel: Channel::Chat,
        department: None
    }];
    let offered = ChatOffered {
        chat: c1(),
        agent: a1(),
    };
    // Waiting.
    World::new()
        .given(AggregateId::chat(c1()), started.clone())
        .when(&customer(), rate(chat(), Rating::Positive))
        .rejects("FAILED_PRECONDITION", "was not accepted");
    // Offered.
    World::new()
        .given(AggregateId::chat(c1()), started.clone())
        .given(AggregateId::chat(c1()), evs![offered.clone()])
        .when(&customer(), rate(chat(), Rating::Positive))
        .rejects("FAILED_PRECONDITION", "was not accepted");
    // Missed and ended: the agent who missed it did not handle it.
    World::new()
        .given(AggregateId::chat(c1()), started)
        .given(
            AggregateId::chat(c1()),
            evs![
                offered,
                ChatMissed {
                    chat: c1(),
                    agent: a1()
                },
                ChatEnded {
                    chat: c1(),
                    agent: None
                },
            ],
        )
        .when(&customer(), rate(chat(), Rating::Negative))
        .rejects("FAILED_PRECONDITION", "was not accepted");
}

#[test]
fn rating_a_call_nobody_answered_fails() {
    let incoming = evs![CallIncoming {
        call: k1(),
        department: None
    }];
    World::new()
        .given(AggregateId::call(k1()), incoming.clone())
        .when(&customer(), rate(call(), Rating::Positive))
        .rejects("FAILED_PRECONDITION", "was not answered");
    World::new()
        .given(AggregateId::call(k1()), incoming)
        .given(
            AggregateId::call(k1()),
            evs![
                CallRinging {
                    call: k1(),
                    agent: a1()
                },
                CallMissed {
                    call: k1(),
                    agent: a1()
                },
                CallEnded {
                    call: k1(),
                    agent: None
                },
            ],
        )
        .when(&customer(), rate(call(), Rating::Negative))
        .rejects("FAILED_PRECONDITION", "was not answered");
}

// --- RetractRating -----------------------------------------------------------------------

#[test]
fn retract_rating() {
    chat_rated_positive()
        .when(&admin(boss()), retract(chat()))
        .then(evs![RatingRetracted {
            conversation: chat(),
            agent: a1(),
            rating: Rating::Positive,
        }]);
}

#[test]
fn retracting_removes_the_standing_rating() {
    let world = chat_rated_positive().run(&admin(boss()), retract(chat()));
    assert_eq!(standing(&world, chat()), None);
}

#[test]
fn retracting_takes_back_the_rating_that_stands() {
    // Rated negative for a2, then replaced by a positive one for a1 (after a1 answered).
    ticket_answered_by_a1_then_a2()
        .run(&customer(), rate(ticket(), Rating::Negative))
        .given(AggregateId::ticket(t1()), evs![answered(t1(), a1())])
        .run(&customer(), rate(ticket(), Rating::Positive))
        .when(
            &custom(boss(), &[Permission::GamificationManage]),
            retract(ticket()),
        )
        .then(evs![RatingRetracted {
            conversation: ticket(),
            agent: a1(),
            rating: Rating::Positive,
        }]);
}

#[test]
fn retracting_a_call_rating() {
    call_answered_by_a2()
        .run(&customer(), rate(call(), Rating::Negative))
        .when(&owner(boss()), retract(call()))
        .then(evs![RatingRetracted {
            conversation: call(),
            agent: a2(),
            rating: Rating::Negative,
        }]);
}

#[test]
fn retracting_needs_gamification_manage() {
    let world = chat_rated_positive();
    world
        .when(&agent(a1()), retract(chat()))
        .rejects("PERMISSION_DENIED", "gamification.manage");
    world
        .when(&integration(&[]), retract(chat()))
        .rejects("PERMISSION_DENIED", "gamification.manage");
    world
        .when(
            &custom(
                boss(),
                &[Permission::SystemImport, Permission::TicketsAssign],
            ),
            retract(chat()),
        )
        .rejects("PERMISSION_DENIED", "gamification.manage");
    world
        .when(
            &custom(boss(), &[Permission::GamificationManage]),
            retract(chat()),
        )
        .ok();
    world
        .when(
            &integration(&[Permission::GamificationManage]),
            retract(chat()),
        )
        .ok();
}

#[test]
fn retracting_when_no_rating_stands_fails() {
    // Never rated.
    chat_accepted_by_a1()
        .when(&admin(boss()), retract(chat()))
        .rejects("FAILED_PRECONDITION", "no standing rating");
    // Retracted already.
    chat_rated_positive()
        .run(&admin(boss()), retract(chat()))
        .when(&admin(boss()), retract(chat()))
        .rejects("FAILED_PRECONDITION", "retracted");
}

#[test]
fn retract_permission_is_checked_first() {
    chat_accepted_by_a1()
        .when(&agent(a1()), retract(chat()))
        .rejects("PERMISSION_DENIED", "gamification.manage");
}

#[test]
fn retracting_names_the_conversation_of_the_rating() {
    // The rated chat's id, named as a call: the call has no rating to retract, and the
    // chat's rating stays.
    let as_call = ConversationRef::call(CallId::from_uuid(c1().uuid()));
    chat_rated_positive()
        .when(&admin(boss()), retract(as_call))
        .rejects("FAILED_PRECONDITION", "no standing rating");
}
