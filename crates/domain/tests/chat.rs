//! Chat commands: start, offer, accept, miss, answer, customer messages, end.

mod common;

use common::*;
use helpdesk_domain::command::*;
use helpdesk_domain::event::*;
use helpdesk_domain::state::ChatStatus;
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
fn c1() -> ChatId {
    chat_id(1)
}
fn d1() -> DepartmentId {
    department_id(1)
}
fn chat() -> AggregateId {
    AggregateId::chat(c1())
}

fn start(department: Option<DepartmentId>) -> StartChat {
    StartChat {
        chat_id: c1(),
        channel: Channel::Whatsapp,
        department,
    }
}

fn offer(agent: AgentId) -> OfferChat {
    OfferChat { chat: c1(), agent }
}

fn accept(agent: Option<AgentId>) -> AcceptChat {
    AcceptChat { chat: c1(), agent }
}

fn answer(agent: Option<AgentId>, chars: u32) -> AnswerChat {
    AnswerChat {
        chat: c1(),
        agent,
        chars,
    }
}

fn miss() -> MissChat {
    MissChat { chat: c1() }
}

fn customer_message() -> RecordChatCustomerMessage {
    RecordChatCustomerMessage { chat: c1() }
}

fn end() -> EndChat {
    EndChat { chat: c1() }
}

fn pause(agent: AgentId, minutes: Option<u32>) -> PauseAgent {
    PauseAgent {
        agent,
        reason: PauseReason::Text("coffee".into()),
        planned_minutes: minutes,
    }
}

// --- histories -------------------------------------------------------------------------

/// a1 and a2 online, chat c1 waiting (no department).
fn waiting() -> World {
    World::new().online_agent(a1()).online_agent(a2()).given(
        chat(),
        evs![ChatStarted {
            chat: c1(),
            channel: Channel::Whatsapp,
            department: None
        }],
    )
}

/// c1 offered to a1.
fn offered() -> World {
    waiting().given(
        chat(),
        evs![ChatOffered {
            chat: c1(),
            agent: a1()
        }],
    )
}

/// c1 accepted by a1.
fn accepted() -> World {
    offered().given(
        chat(),
        evs![ChatAccepted {
            chat: c1(),
            agent: a1()
        }],
    )
}

/// c1 accepted by a1 and ended.
fn ended() -> World {
    accepted().given(
        chat(),
        evs![ChatEnded {
            chat: c1(),
            agent: Some(a1())
        }],
    )
}

/// An organization with department d1 (members: `members`), a1 and a2 online, and c1
/// waiting in d1.
fn waiting_in_department(members: &[AgentId]) -> World {
    World::new()
        .online_agent(a1())
        .online_agent(a2())
        .department(d1(), members)
        .given(
            chat(),
            evs![ChatStarted {
                chat: c1(),
                channel: Channel::Chat,
                department: Some(d1())
            }],
        )
}

// --- StartChat ---------------------------------------------------------------------------

#[test]
fn start_chat() {
    World::new()
        .when(&integration(&[]), start(None))
        .then(evs![ChatStarted {
            chat: c1(),
            channel: Channel::Whatsapp,
            department: None,
        }]);
}

#[test]
fn start_chat_in_a_department() {
    World::new()
        .department(d1(), &[])
        .when(&integration(&[]), start(Some(d1())))
        .then(evs![ChatStarted {
            chat: c1(),
            channel: Channel::Whatsapp,
            department: Some(d1()),
        }]);
}

#[test]
fn start_chat_is_open_to_any_actor() {
    World::new().when(&agent(a1()), start(None)).ok();
    World::new().when(&system(), start(None)).ok();
}

#[test]
fn start_chat_twice_fails() {
    waiting()
        .when(&integration(&[]), start(None))
        .rejects("FAILED_PRECONDITION", "already exists");
}

#[test]
fn start_chat_in_unknown_department_is_not_found() {
    World::new()
        .when(&integration(&[]), start(Some(d1())))
        .rejects("NOT_FOUND", "department");
}

// --- OfferChat ---------------------------------------------------------------------------

#[test]
fn offer_chat_to_oneself() {
    waiting()
        .when(&agent(a1()), offer(a1()))
        .then(evs![ChatOffered {
            chat: c1(),
            agent: a1(),
        }]);
}

#[test]
fn offering_a_chat_to_someone_else_needs_tickets_assign_or_system_import() {
    let world = waiting();
    world
        .when(&agent(a2()), offer(a1()))
        .rejects("PERMISSION_DENIED", "tickets.assign");
    // An importer acts for anyone (docs/SECURITY.md, Roles and permissions).
    world
        .when(&custom(a2(), &[Permission::SystemImport]), offer(a1()))
        .ok();
    world
        .when(&custom(a2(), &[Permission::TicketsAssign]), offer(a1()))
        .then(evs![ChatOffered {
            chat: c1(),
            agent: a1(),
        }]);
    world
        .when(&integration(&[Permission::TicketsAssign]), offer(a1()))
        .ok();
    world.when(&admin(boss()), offer(a1())).ok();
}

#[test]
fn offer_unknown_chat_is_not_found() {
    World::new()
        .online_agent(a1())
        .when(&agent(a1()), offer(a1()))
        .rejects("NOT_FOUND", "chat");
}

#[test]
fn offer_chat_to_unknown_agent_is_not_found() {
    waiting()
        .when(&admin(boss()), offer(agent_id(5)))
        .rejects("NOT_FOUND", "agent");
}

#[test]
fn an_offline_agent_is_offered_no_chat() {
    World::new()
        .agent(a1())
        .given(
            chat(),
            evs![ChatStarted {
                chat: c1(),
                channel: Channel::Chat,
                department: None
            }],
        )
        .when(&agent(a1()), offer(a1()))
        .rejects("FAILED_PRECONDITION", "offline");
    // Gone offline again.
    waiting()
        .given(
            AggregateId::agent(a1()),
            evs![AgentWentOffline { agent: a1() }],
        )
        .when(&admin(boss()), offer(a1()))
        .rejects("FAILED_PRECONDITION", "offline");
}

#[test]
fn a_paused_agent_is_offered_no_chat() {
    let world = waiting().run(&agent(a1()), pause(a1(), None));
    world
        .when(&agent(a1()), offer(a1()))
        .rejects("FAILED_PRECONDITION", "paused");
    world
        .when(&admin(boss()), offer(a1()))
        .rejects("FAILED_PRECONDITION", "paused");
    // The others still are.
    world.when(&admin(boss()), offer(a2())).ok();
}

#[test]
fn a_planned_pause_stops_offers_until_its_planned_end() {
    let paused = || waiting().run(&agent(a1()), pause(a1(), Some(15)));
    paused()
        .at(T0.plus_minutes(15).plus_millis(-1))
        .when(&admin(boss()), offer(a1()))
        .rejects("FAILED_PRECONDITION", "paused");
    // At the planned end the pause is over, even before AgentResumed is appended.
    paused()
        .at(T0.plus_minutes(15))
        .when(&admin(boss()), offer(a1()))
        .then(evs![ChatOffered {
            chat: c1(),
            agent: a1(),
        }]);
}

#[test]
fn a_resumed_agent_is_offered_chats_again() {
    waiting()
        .run(&agent(a1()), pause(a1(), None))
        .at(T0.plus_minutes(3))
        .run(
            &agent(a1()),
            ResumeAgent {
                agent: a1(),
                reason: None,
            },
        )
        .when(&agent(a1()), offer(a1()))
        .then(evs![ChatOffered {
            chat: c1(),
            agent: a1(),
        }]);
}

#[test]
fn a_deactivated_agent_is_offered_no_chat() {
    waiting()
        .run(&admin(boss()), DeactivateAgent { agent: a1() })
        .when(&admin(boss()), offer(a1()))
        .rejects("FAILED_PRECONDITION", "deactivated");
}

#[test]
fn offering_a_chat_that_is_not_waiting_fails() {
    offered()
        .when(&admin(boss()), offer(a2()))
        .rejects("FAILED_PRECONDITION", &format!("offered to agent {}", a1()));
    offered()
        .when(&agent(a1()), offer(a1()))
        .rejects("FAILED_PRECONDITION", "offered to agent");
    accepted().when(&admin(boss()), offer(a2())).rejects(
        "FAILED_PRECONDITION",
        &format!("accepted by agent {}", a1()),
    );
    ended()
        .when(&admin(boss()), offer(a2()))
        .rejects("FAILED_PRECONDITION", "ended");
}

#[test]
fn a_chat_of_a_department_is_offered_only_to_its_members() {
    let world = waiting_in_department(&[a1()]);
    world
        .when(&admin(boss()), offer(a2()))
        .rejects("FAILED_PRECONDITION", "not a member of department");
    world
        .when(&agent(a2()), offer(a2()))
        .rejects("FAILED_PRECONDITION", "not a member of department");
    world
        .when(&admin(boss()), offer(a1()))
        .then(evs![ChatOffered {
            chat: c1(),
            agent: a1(),
        }]);
}

#[test]
fn an_agent_removed_from_the_department_is_offered_no_chat() {
    waiting_in_department(&[a1()])
        .given(
            AggregateId::department(d1()),
            evs![AgentRemovedFromDepartment {
                department: d1(),
                agent: a1()
            }],
        )
        .when(&admin(boss()), offer(a1()))
        .rejects("FAILED_PRECONDITION", "not a member of department");
}

#[test]
fn a_chat_without_a_department_goes_to_anyone_available() {
    // The organization has departments, but this chat is in none.
    waiting()
        .department(d1(), &[a1()])
        .when(&admin(boss()), offer(a2()))
        .then(evs![ChatOffered {
            chat: c1(),
            agent: a2(),
        }]);
}

#[test]
fn a_paused_member_is_offered_no_chat() {
    waiting_in_department(&[a1()])
        .run(&agent(a1()), pause(a1(), None))
        .when(&admin(boss()), offer(a1()))
        .rejects("FAILED_PRECONDITION", "paused");
}

// --- AcceptChat --------------------------------------------------------------------------

#[test]
fn accept_chat() {
    offered()
        .when(&agent(a1()), accept(None))
        .then(evs![ChatAccepted {
            chat: c1(),
            agent: a1(),
        }]);
    offered()
        .when(&agent(a1()), accept(Some(a1())))
        .then(evs![ChatAccepted {
            chat: c1(),
            agent: a1(),
        }]);
}

#[test]
fn accepting_a_chat_offered_to_someone_else_fails() {
    offered()
        .when(&agent(a2()), accept(None))
        .rejects("FAILED_PRECONDITION", &format!("offered to agent {}", a1()));
    // Even for an administrator acting as themself.
    offered()
        .when(&admin(boss()), accept(None))
        .rejects("FAILED_PRECONDITION", "offered to agent");
}

#[test]
fn accepting_a_chat_that_is_not_offered_fails() {
    waiting()
        .when(&agent(a1()), accept(None))
        .rejects("FAILED_PRECONDITION", "waiting");
    accepted().when(&agent(a1()), accept(None)).rejects(
        "FAILED_PRECONDITION",
        &format!("accepted by agent {}", a1()),
    );
    ended()
        .when(&agent(a1()), accept(None))
        .rejects("FAILED_PRECONDITION", "ended");
}

#[test]
fn accept_unknown_chat_is_not_found() {
    World::new()
        .online_agent(a1())
        .when(&agent(a1()), accept(None))
        .rejects("NOT_FOUND", "chat");
}

#[test]
fn accepting_as_another_agent_needs_system_import() {
    offered()
        .when(&agent(a2()), accept(Some(a1())))
        .rejects("PERMISSION_DENIED", "system.import");
    offered()
        .when(
            &custom(a2(), &[Permission::TicketsAssign]),
            accept(Some(a1())),
        )
        .rejects("PERMISSION_DENIED", "system.import");
    offered()
        .when(
            &integration(&[Permission::SystemImport]),
            accept(Some(a1())),
        )
        .then(evs![ChatAccepted {
            chat: c1(),
            agent: a1(),
        }]);
}

#[test]
fn accepting_as_an_unknown_agent_is_not_found() {
    offered()
        .when(
            &integration(&[Permission::SystemImport]),
            accept(Some(agent_id(5))),
        )
        .rejects("NOT_FOUND", "agent");
}

#[test]
fn accepting_needs_an_agent_to_accept_as() {
    offered()
        .when(&integration(&[Permission::SystemImport]), accept(None))
        .rejects_field("agent_id");
}

// --- MissChat ----------------------------------------------------------------------------

#[test]
fn miss_chat() {
    let missed = evs![ChatMissed {
        chat: c1(),
        agent: a1(),
    }];
    offered().when(&agent(a1()), miss()).then(missed.clone());
    offered()
        .when(&integration(&[]), miss())
        .then(missed.clone());
    offered().when(&system(), miss()).then(missed);
}

#[test]
fn another_agent_recording_a_miss_needs_system_import() {
    offered()
        .when(&agent(a2()), miss())
        .rejects("PERMISSION_DENIED", "system.import");
    offered()
        .when(&custom(a2(), &[Permission::TicketsAssign]), miss())
        .rejects("PERMISSION_DENIED", "system.import");
    offered()
        .when(&custom(a2(), &[Permission::SystemImport]), miss())
        .then(evs![ChatMissed {
            chat: c1(),
            agent: a1(),
        }]);
}

#[test]
fn missing_a_chat_that_is_not_offered_fails() {
    waiting()
        .when(&system(), miss())
        .rejects("FAILED_PRECONDITION", "waiting");
    accepted().when(&system(), miss()).rejects(
        "FAILED_PRECONDITION",
        &format!("accepted by agent {}", a1()),
    );
    ended()
        .when(&system(), miss())
        .rejects("FAILED_PRECONDITION", "ended");
}

#[test]
fn miss_unknown_chat_is_not_found() {
    World::new()
        .when(&system(), miss())
        .rejects("NOT_FOUND", "chat");
}

#[test]
fn a_missed_chat_waits_again() {
    let world = offered().run(&agent(a1()), miss());
    world
        .when(&agent(a1()), accept(None))
        .rejects("FAILED_PRECONDITION", "waiting");
    world
        .when(&system(), miss())
        .rejects("FAILED_PRECONDITION", "waiting");
    let world = world.run(&agent(a2()), offer(a2()));
    world
        .when(&agent(a2()), accept(None))
        .then(evs![ChatAccepted {
            chat: c1(),
            agent: a2(),
        }]);
}

#[test]
fn an_agent_auto_paused_after_a_miss_is_offered_no_chat() {
    // The auto-pause policy (docs/TICKETS.md, Agents: presence and pauses) reacts to
    // ChatMissed with a system PauseAgent.
    offered()
        .run(&agent(a1()), miss())
        .run(
            &system(),
            PauseAgent {
                agent: a1(),
                reason: PauseReason::AutoMissed {
                    conversation: ConversationRef::chat(c1()),
                },
                planned_minutes: None,
            },
        )
        .when(&admin(boss()), offer(a1()))
        .rejects("FAILED_PRECONDITION", "paused");
}

// --- AnswerChat --------------------------------------------------------------------------

#[test]
fn answer_chat() {
    accepted()
        .when(&agent(a1()), answer(None, 120))
        .then(evs![ChatMessageSent {
            chat: c1(),
            agent: a1(),
            chars: 120,
        }]);
}

#[test]
fn answering_a_chat_not_accepted_fails() {
    waiting()
        .when(&agent(a1()), answer(None, 10))
        .rejects("FAILED_PRECONDITION", "waiting");
    offered()
        .when(&agent(a1()), answer(None, 10))
        .rejects("FAILED_PRECONDITION", &format!("offered to agent {}", a1()));
    ended()
        .when(&agent(a1()), answer(None, 10))
        .rejects("FAILED_PRECONDITION", "ended");
}

#[test]
fn answering_a_chat_accepted_by_someone_else_fails() {
    accepted().when(&agent(a2()), answer(None, 10)).rejects(
        "FAILED_PRECONDITION",
        &format!("accepted by agent {}", a1()),
    );
}

#[test]
fn answer_unknown_chat_is_not_found() {
    World::new()
        .online_agent(a1())
        .when(&agent(a1()), answer(None, 10))
        .rejects("NOT_FOUND", "chat");
}

#[test]
fn answering_as_another_agent_needs_system_import() {
    accepted()
        .when(&agent(a2()), answer(Some(a1()), 10))
        .rejects("PERMISSION_DENIED", "system.import");
    accepted()
        .when(
            &integration(&[Permission::SystemImport]),
            answer(Some(a1()), 10),
        )
        .then(evs![ChatMessageSent {
            chat: c1(),
            agent: a1(),
            chars: 10,
        }]);
    accepted()
        .when(
            &integration(&[Permission::SystemImport]),
            answer(Some(agent_id(5)), 10),
        )
        .rejects("NOT_FOUND", "agent");
    accepted()
        .when(&integration(&[Permission::SystemImport]), answer(None, 10))
        .rejects_field("agent_id");
}

#[test]
fn answer_chat_input_limits() {
    let world = accepted();
    world
        .when(&agent(a1()), answer(None, 0))
        .rejects_field("chars");
    world
        .when(&agent(a1()), answer(None, 65_537))
        .rejects_field("chars");
    world.when(&agent(a1()), answer(None, 1)).ok();
    world
        .when(&agent(a1()), answer(None, 65_536))
        .then(evs![ChatMessageSent {
            chat: c1(),
            agent: a1(),
            chars: 65_536,
        }]);
    // Input is checked before anything else.
    World::new()
        .when(&agent(a1()), answer(None, 0))
        .rejects_field("chars");
}

// --- RecordChatCustomerMessage -----------------------------------------------------------

#[test]
fn record_chat_customer_message() {
    for world in [waiting(), offered(), accepted()] {
        world
            .when(&integration(&[]), customer_message())
            .then(evs![ChatCustomerMessage { chat: c1() }]);
    }
}

#[test]
fn a_customer_message_after_the_end_fails() {
    ended()
        .when(&integration(&[]), customer_message())
        .rejects("FAILED_PRECONDITION", "ended");
}

#[test]
fn customer_message_to_unknown_chat_is_not_found() {
    World::new()
        .when(&integration(&[]), customer_message())
        .rejects("NOT_FOUND", "chat");
}

// --- EndChat -----------------------------------------------------------------------------

#[test]
fn end_an_accepted_chat_names_who_accepted_it() {
    accepted()
        .when(&integration(&[]), end())
        .then(evs![ChatEnded {
            chat: c1(),
            agent: Some(a1()),
        }]);
    // Whoever ends it.
    accepted().when(&agent(a2()), end()).then(evs![ChatEnded {
        chat: c1(),
        agent: Some(a1()),
    }]);
}

#[test]
fn end_a_chat_nobody_accepted() {
    let unaccepted = evs![ChatEnded {
        chat: c1(),
        agent: None,
    }];
    waiting()
        .when(&integration(&[]), end())
        .then(unaccepted.clone());
    offered()
        .when(&integration(&[]), end())
        .then(unaccepted.clone());
    offered()
        .run(&agent(a1()), miss())
        .when(&integration(&[]), end())
        .then(unaccepted);
}

#[test]
fn ending_a_chat_twice_fails() {
    ended()
        .when(&integration(&[]), end())
        .rejects("FAILED_PRECONDITION", "ended");
    accepted()
        .run(&agent(a1()), end())
        .when(&agent(a1()), end())
        .rejects("FAILED_PRECONDITION", "ended");
}

#[test]
fn end_unknown_chat_is_not_found() {
    World::new()
        .when(&integration(&[]), end())
        .rejects("NOT_FOUND", "chat");
}

#[test]
fn a_whole_chat() {
    let world = waiting()
        .run(&agent(a1()), offer(a1()))
        .run(&agent(a1()), miss())
        .run(&admin(boss()), offer(a2()))
        .run(&agent(a2()), accept(None))
        .run(&integration(&[]), customer_message())
        .run(&agent(a2()), answer(None, 42))
        .run(&integration(&[]), end());
    let State::Chat(state) = world.state(chat()) else {
        unreachable!()
    };
    assert_eq!(state.status, ChatStatus::Ended);
    assert_eq!(state.accepted_by, Some(a2()));
    assert_eq!(state.department, None);
    assert_eq!(state.channel, Channel::Whatsapp);
}

// --- Distribution (docs/DISTRIBUTION.md) --------------------------------------------------

fn system_routes() -> Event {
    DistributionSettingsChanged {
        system_routes: Some(true),
        routing_seconds: None,
    }
    .into()
}

#[test]
fn offering_by_hand_is_refused_while_the_system_routes() {
    let world = waiting().given(AggregateId::config(), vec![system_routes()]);
    world
        .when(&admin(boss()), offer(a1()))
        .rejects("FAILED_PRECONDITION", "system_routes");
    world
        .when(&agent(a1()), offer(a1()))
        .rejects("FAILED_PRECONDITION", "system_routes");
    // The system's own offer (the distribution) goes through.
    world.when(&system(), offer(a1())).then(evs![ChatOffered {
        chat: c1(),
        agent: a1()
    }]);
}
