//! Call commands: incoming, ring, answer, miss, end.

mod common;

use common::*;
use helpdesk_domain::command::*;
use helpdesk_domain::event::*;
use helpdesk_domain::state::CallStatus;
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
fn k1() -> CallId {
    call_id(1)
}
fn d1() -> DepartmentId {
    department_id(1)
}
fn call() -> AggregateId {
    AggregateId::call(k1())
}

fn incoming(department: Option<DepartmentId>) -> IncomingCall {
    IncomingCall {
        call_id: k1(),
        department,
    }
}

fn ring(agent: AgentId) -> RingCall {
    RingCall { call: k1(), agent }
}

fn answer(agent: Option<AgentId>) -> AnswerCall {
    AnswerCall { call: k1(), agent }
}

fn miss() -> MissCall {
    MissCall { call: k1() }
}

fn end() -> EndCall {
    EndCall { call: k1() }
}

fn pause(agent: AgentId, minutes: Option<u32>) -> PauseAgent {
    PauseAgent {
        agent,
        reason: PauseReason::Text("training".into()),
        planned_minutes: minutes,
    }
}

// --- histories -------------------------------------------------------------------------

/// a1 and a2 online, call k1 incoming (no department).
fn incoming_call() -> World {
    World::new().online_agent(a1()).online_agent(a2()).given(
        call(),
        evs![CallIncoming {
            call: k1(),
            department: None
        }],
    )
}

/// k1 ringing a1.
fn ringing() -> World {
    incoming_call().given(
        call(),
        evs![CallRinging {
            call: k1(),
            agent: a1()
        }],
    )
}

/// k1 answered by a1.
fn answered() -> World {
    ringing().given(
        call(),
        evs![CallAnswered {
            call: k1(),
            agent: a1()
        }],
    )
}

/// k1 answered by a1 and ended.
fn ended() -> World {
    answered().given(
        call(),
        evs![CallEnded {
            call: k1(),
            agent: Some(a1())
        }],
    )
}

/// Department d1 (members: `members`), a1 and a2 online, k1 incoming for d1.
fn incoming_in_department(members: &[AgentId]) -> World {
    World::new()
        .online_agent(a1())
        .online_agent(a2())
        .department(d1(), members)
        .given(
            call(),
            evs![CallIncoming {
                call: k1(),
                department: Some(d1())
            }],
        )
}

// --- IncomingCall ------------------------------------------------------------------------

#[test]
fn incoming_call_is_recorded() {
    World::new()
        .when(&integration(&[]), incoming(None))
        .then(evs![CallIncoming {
            call: k1(),
            department: None,
        }]);
}

#[test]
fn incoming_call_for_a_department() {
    World::new()
        .department(d1(), &[])
        .when(&integration(&[]), incoming(Some(d1())))
        .then(evs![CallIncoming {
            call: k1(),
            department: Some(d1()),
        }]);
}

#[test]
fn incoming_call_is_open_to_any_actor() {
    World::new().when(&agent(a1()), incoming(None)).ok();
    World::new().when(&system(), incoming(None)).ok();
}

#[test]
fn incoming_call_twice_fails() {
    incoming_call()
        .when(&integration(&[]), incoming(None))
        .rejects("FAILED_PRECONDITION", "already exists");
}

#[test]
fn incoming_call_for_unknown_department_is_not_found() {
    World::new()
        .when(&integration(&[]), incoming(Some(d1())))
        .rejects("NOT_FOUND", "department");
}

// --- RingCall ----------------------------------------------------------------------------

#[test]
fn ring_oneself() {
    incoming_call()
        .when(&agent(a1()), ring(a1()))
        .then(evs![CallRinging {
            call: k1(),
            agent: a1(),
        }]);
}

#[test]
fn ringing_someone_else_needs_tickets_assign() {
    let world = incoming_call();
    world
        .when(&agent(a2()), ring(a1()))
        .rejects("PERMISSION_DENIED", "tickets.assign");
    world
        .when(&custom(a2(), &[Permission::AgentsPauseOthers]), ring(a1()))
        .rejects("PERMISSION_DENIED", "tickets.assign");
    world
        .when(&custom(a2(), &[Permission::TicketsAssign]), ring(a1()))
        .then(evs![CallRinging {
            call: k1(),
            agent: a1(),
        }]);
    world
        .when(&integration(&[Permission::TicketsAssign]), ring(a1()))
        .ok();
    world.when(&admin(boss()), ring(a1())).ok();
}

#[test]
fn ring_unknown_call_is_not_found() {
    World::new()
        .online_agent(a1())
        .when(&agent(a1()), ring(a1()))
        .rejects("NOT_FOUND", "call");
}

#[test]
fn ring_unknown_agent_is_not_found() {
    incoming_call()
        .when(&admin(boss()), ring(agent_id(5)))
        .rejects("NOT_FOUND", "agent");
}

#[test]
fn an_offline_agent_is_rung_for_no_call() {
    World::new()
        .agent(a1())
        .given(
            call(),
            evs![CallIncoming {
                call: k1(),
                department: None
            }],
        )
        .when(&agent(a1()), ring(a1()))
        .rejects("FAILED_PRECONDITION", "offline");
    incoming_call()
        .given(
            AggregateId::agent(a1()),
            evs![AgentWentOffline { agent: a1() }],
        )
        .when(&admin(boss()), ring(a1()))
        .rejects("FAILED_PRECONDITION", "offline");
}

#[test]
fn a_paused_agent_is_rung_for_no_call() {
    let world = incoming_call().run(&agent(a1()), pause(a1(), None));
    world
        .when(&agent(a1()), ring(a1()))
        .rejects("FAILED_PRECONDITION", "paused");
    world
        .when(&admin(boss()), ring(a1()))
        .rejects("FAILED_PRECONDITION", "paused");
    world.when(&admin(boss()), ring(a2())).ok();
}

#[test]
fn a_planned_pause_stops_rings_until_its_planned_end() {
    let paused = || incoming_call().run(&agent(a1()), pause(a1(), Some(5)));
    paused()
        .at(T0.plus_minutes(5).plus_millis(-1))
        .when(&admin(boss()), ring(a1()))
        .rejects("FAILED_PRECONDITION", "paused");
    paused()
        .at(T0.plus_minutes(5))
        .when(&admin(boss()), ring(a1()))
        .then(evs![CallRinging {
            call: k1(),
            agent: a1(),
        }]);
}

#[test]
fn a_deactivated_agent_is_rung_for_no_call() {
    incoming_call()
        .run(&admin(boss()), DeactivateAgent { agent: a1() })
        .when(&admin(boss()), ring(a1()))
        .rejects("FAILED_PRECONDITION", "deactivated");
}

#[test]
fn ringing_a_call_that_is_not_incoming_fails() {
    ringing()
        .when(&admin(boss()), ring(a2()))
        .rejects("FAILED_PRECONDITION", &format!("ringing agent {}", a1()));
    answered().when(&admin(boss()), ring(a2())).rejects(
        "FAILED_PRECONDITION",
        &format!("answered by agent {}", a1()),
    );
    ended()
        .when(&admin(boss()), ring(a2()))
        .rejects("FAILED_PRECONDITION", "ended");
}

#[test]
fn a_call_of_a_department_rings_only_its_members() {
    let world = incoming_in_department(&[a1()]);
    world
        .when(&admin(boss()), ring(a2()))
        .rejects("FAILED_PRECONDITION", "not a member of department");
    world
        .when(&agent(a2()), ring(a2()))
        .rejects("FAILED_PRECONDITION", "not a member of department");
    world
        .when(&admin(boss()), ring(a1()))
        .then(evs![CallRinging {
            call: k1(),
            agent: a1(),
        }]);
}

#[test]
fn an_agent_removed_from_the_department_is_rung_for_no_call() {
    incoming_in_department(&[a1()])
        .given(
            AggregateId::department(d1()),
            evs![AgentRemovedFromDepartment {
                department: d1(),
                agent: a1()
            }],
        )
        .when(&admin(boss()), ring(a1()))
        .rejects("FAILED_PRECONDITION", "not a member of department");
}

#[test]
fn a_call_without_a_department_rings_anyone_available() {
    incoming_call()
        .department(d1(), &[a1()])
        .when(&admin(boss()), ring(a2()))
        .then(evs![CallRinging {
            call: k1(),
            agent: a2(),
        }]);
}

#[test]
fn a_paused_member_is_rung_for_no_call() {
    incoming_in_department(&[a1()])
        .run(&agent(a1()), pause(a1(), None))
        .when(&admin(boss()), ring(a1()))
        .rejects("FAILED_PRECONDITION", "paused");
}

// --- AnswerCall --------------------------------------------------------------------------

#[test]
fn answer_call() {
    ringing()
        .when(&agent(a1()), answer(None))
        .then(evs![CallAnswered {
            call: k1(),
            agent: a1(),
        }]);
    ringing()
        .when(&agent(a1()), answer(Some(a1())))
        .then(evs![CallAnswered {
            call: k1(),
            agent: a1(),
        }]);
}

#[test]
fn answering_a_call_ringing_someone_else_fails() {
    ringing()
        .when(&agent(a2()), answer(None))
        .rejects("FAILED_PRECONDITION", &format!("ringing agent {}", a1()));
    ringing()
        .when(&admin(boss()), answer(None))
        .rejects("FAILED_PRECONDITION", "ringing agent");
}

#[test]
fn answering_a_call_that_is_not_ringing_fails() {
    incoming_call()
        .when(&agent(a1()), answer(None))
        .rejects("FAILED_PRECONDITION", "incoming");
    answered().when(&agent(a1()), answer(None)).rejects(
        "FAILED_PRECONDITION",
        &format!("answered by agent {}", a1()),
    );
    ended()
        .when(&agent(a1()), answer(None))
        .rejects("FAILED_PRECONDITION", "ended");
}

#[test]
fn answer_unknown_call_is_not_found() {
    World::new()
        .online_agent(a1())
        .when(&agent(a1()), answer(None))
        .rejects("NOT_FOUND", "call");
}

#[test]
fn answering_as_another_agent_needs_system_import() {
    ringing()
        .when(&agent(a2()), answer(Some(a1())))
        .rejects("PERMISSION_DENIED", "system.import");
    ringing()
        .when(
            &custom(a2(), &[Permission::TicketsAssign]),
            answer(Some(a1())),
        )
        .rejects("PERMISSION_DENIED", "system.import");
    ringing()
        .when(
            &integration(&[Permission::SystemImport]),
            answer(Some(a1())),
        )
        .then(evs![CallAnswered {
            call: k1(),
            agent: a1(),
        }]);
}

#[test]
fn answering_as_an_unknown_agent_is_not_found() {
    ringing()
        .when(
            &integration(&[Permission::SystemImport]),
            answer(Some(agent_id(5))),
        )
        .rejects("NOT_FOUND", "agent");
}

#[test]
fn answering_needs_an_agent_to_answer_as() {
    ringing()
        .when(&integration(&[Permission::SystemImport]), answer(None))
        .rejects_field("agent_id");
}

// --- MissCall ----------------------------------------------------------------------------

#[test]
fn miss_call() {
    let missed = evs![CallMissed {
        call: k1(),
        agent: a1(),
    }];
    ringing().when(&agent(a1()), miss()).then(missed.clone());
    ringing()
        .when(&integration(&[]), miss())
        .then(missed.clone());
    ringing().when(&system(), miss()).then(missed);
}

#[test]
fn another_agent_recording_a_missed_call_needs_system_import() {
    ringing()
        .when(&agent(a2()), miss())
        .rejects("PERMISSION_DENIED", "system.import");
    ringing()
        .when(&custom(a2(), &[Permission::SystemImport]), miss())
        .then(evs![CallMissed {
            call: k1(),
            agent: a1(),
        }]);
}

#[test]
fn missing_a_call_that_is_not_ringing_fails() {
    incoming_call()
        .when(&system(), miss())
        .rejects("FAILED_PRECONDITION", "incoming");
    answered().when(&system(), miss()).rejects(
        "FAILED_PRECONDITION",
        &format!("answered by agent {}", a1()),
    );
    ended()
        .when(&system(), miss())
        .rejects("FAILED_PRECONDITION", "ended");
}

#[test]
fn miss_unknown_call_is_not_found() {
    World::new()
        .when(&system(), miss())
        .rejects("NOT_FOUND", "call");
}

#[test]
fn a_missed_call_is_incoming_again() {
    let world = ringing().run(&agent(a1()), miss());
    world
        .when(&agent(a1()), answer(None))
        .rejects("FAILED_PRECONDITION", "incoming");
    let world = world.run(&admin(boss()), ring(a2()));
    world
        .when(&agent(a2()), answer(None))
        .then(evs![CallAnswered {
            call: k1(),
            agent: a2(),
        }]);
}

#[test]
fn an_agent_auto_paused_after_a_missed_call_is_rung_for_no_call() {
    ringing()
        .run(&system(), miss())
        .run(
            &system(),
            PauseAgent {
                agent: a1(),
                reason: PauseReason::AutoMissed {
                    conversation: ConversationRef::call(k1()),
                },
                planned_minutes: None,
            },
        )
        .when(&admin(boss()), ring(a1()))
        .rejects("FAILED_PRECONDITION", "paused");
}

// --- EndCall -----------------------------------------------------------------------------

#[test]
fn end_an_answered_call_names_who_answered_it() {
    answered()
        .when(&integration(&[]), end())
        .then(evs![CallEnded {
            call: k1(),
            agent: Some(a1()),
        }]);
    answered().when(&agent(a2()), end()).then(evs![CallEnded {
        call: k1(),
        agent: Some(a1()),
    }]);
}

#[test]
fn end_a_call_nobody_answered() {
    let unanswered = evs![CallEnded {
        call: k1(),
        agent: None,
    }];
    incoming_call()
        .when(&integration(&[]), end())
        .then(unanswered.clone());
    ringing()
        .when(&integration(&[]), end())
        .then(unanswered.clone());
    ringing()
        .run(&system(), miss())
        .when(&integration(&[]), end())
        .then(unanswered);
}

#[test]
fn ending_a_call_twice_fails() {
    ended()
        .when(&integration(&[]), end())
        .rejects("FAILED_PRECONDITION", "ended");
    answered()
        .run(&integration(&[]), end())
        .when(&agent(a1()), end())
        .rejects("FAILED_PRECONDITION", "has ended already");
}

#[test]
fn end_unknown_call_is_not_found() {
    World::new()
        .when(&integration(&[]), end())
        .rejects("NOT_FOUND", "call");
}

#[test]
fn a_whole_call() {
    let world = incoming_in_department(&[a1(), a2()])
        .run(&admin(boss()), ring(a1()))
        .run(&system(), miss())
        .run(&agent(a2()), ring(a2()))
        .run(&agent(a2()), answer(None))
        .at(T0.plus_minutes(4))
        .run(&integration(&[]), end());
    let State::Call(state) = world.state(call()) else {
        unreachable!()
    };
    assert_eq!(state.status, CallStatus::Ended);
    assert_eq!(state.answered_by, Some(a2()));
    assert_eq!(state.department, Some(d1()));
}

// --- Distribution (docs/DISTRIBUTION.md) --------------------------------------------------

#[test]
fn ringing_by_hand_is_refused_while_the_system_routes() {
    let world = incoming_call().given(
        AggregateId::config(),
        evs![DistributionSettingsChanged {
            system_routes: Some(true),
            routing_seconds: None,
        }],
    );
    world
        .when(&admin(boss()), ring(a1()))
        .rejects("FAILED_PRECONDITION", "system_routes");
    world.when(&system(), ring(a1())).ok();
}
