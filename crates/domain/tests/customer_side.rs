//! The customer's side of a conversation (RecordCustomerReply, RecordChatCustomerMessage,
//! EndChat, EndCall) is recorded by an integration account for any conversation, and by an
//! agent only for one they see: of their departments, offered to or accepted by them
//! (assigned to them, for a ticket), or with `tickets.view_all` or `system.import`
//! (docs/SECURITY.md, Roles and permissions; docs/TICKETS.md, Chats and calls).

mod common;

use common::*;
use helpdesk_domain::command::*;
use helpdesk_domain::event::*;
use helpdesk_domain::*;

/// Member of d1.
fn member() -> AgentId {
    agent_id(1)
}
/// Member of d2 only.
fn outsider() -> AgentId {
    agent_id(2)
}
/// In no department.
fn loner() -> AgentId {
    agent_id(3)
}
fn d1() -> DepartmentId {
    department_id(1)
}
fn d2() -> DepartmentId {
    department_id(2)
}
fn c1() -> ChatId {
    chat_id(1)
}
fn k1() -> CallId {
    call_id(1)
}
fn t1() -> TicketId {
    ticket_id(1)
}

/// Three online agents, d1 (member) and d2 (outsider).
fn org() -> World {
    World::new()
        .online_agent(member())
        .online_agent(outsider())
        .online_agent(loner())
        .department(d1(), &[member()])
        .department(d2(), &[outsider()])
}

fn chat_in(world: World, department: Option<DepartmentId>) -> World {
    world.given(
        AggregateId::chat(c1()),
        evs![ChatStarted {
            chat: c1(),
            channel: Channel::Whatsapp,
            department,
        }],
    )
}

fn call_in(world: World, department: Option<DepartmentId>) -> World {
    world.given(
        AggregateId::call(k1()),
        evs![CallIncoming {
            call: k1(),
            department,
        }],
    )
}

/// t1 in `department`, answered and resolved.
fn resolved_ticket_in(world: World, department: Option<DepartmentId>) -> World {
    world.ticket(t1(), Priority::Normal, department).given(
        AggregateId::ticket(t1()),
        evs![
            TicketAnswered {
                ticket: t1(),
                agent: member(),
                chars: 10
            },
            TicketResolved {
                ticket: t1(),
                by: Actor::Agent(member())
            }
        ],
    )
}

fn customer_side_commands() -> Vec<Command> {
    vec![
        RecordChatCustomerMessage { chat: c1() }.into(),
        EndChat { chat: c1() }.into(),
        EndCall { call: k1() }.into(),
        RecordCustomerReply { ticket: t1() }.into(),
    ]
}

/// A chat, a call and a resolved ticket, all in `department`.
fn conversations_in(department: Option<DepartmentId>) -> World {
    resolved_ticket_in(call_in(chat_in(org(), department), department), department)
}

#[test]
fn an_agent_outside_the_department_records_no_customer_side() {
    let world = conversations_in(Some(d1()));
    // A plain agent of another department, or of none, and one who may assign (a
    // dispatcher) but not see every conversation.
    let dispatcher = custom(outsider(), &[Permission::TicketsAssign]);
    for caller in [agent(outsider()), agent(loner()), dispatcher] {
        for cmd in customer_side_commands() {
            let name = cmd.name();
            let err = world
                .when(&caller, cmd)
                .rejects("PERMISSION_DENIED", "tickets.view_all");
            assert!(
                err.to_string().contains("not in your departments"),
                "{name}: {err}"
            );
        }
    }
}

#[test]
fn a_member_of_the_department_records_the_customer_side() {
    let world = conversations_in(Some(d1()));
    world
        .when(&agent(member()), RecordChatCustomerMessage { chat: c1() })
        .then(evs![ChatCustomerMessage { chat: c1() }]);
    world
        .when(&agent(member()), EndChat { chat: c1() })
        .then(evs![ChatEnded {
            chat: c1(),
            agent: None
        }]);
    world
        .when(&agent(member()), EndCall { call: k1() })
        .then(evs![CallEnded {
            call: k1(),
            agent: None
        }]);
    world
        .when(&agent(member()), RecordCustomerReply { ticket: t1() })
        .then(evs![
            TicketReopened {
                ticket: t1(),
                by: Actor::Agent(member())
            },
            TicketCustomerReplied { ticket: t1() },
        ]);
}

#[test]
fn integrations_view_all_and_importers_record_any_customer_side() {
    let world = conversations_in(Some(d1()));
    let callers = [
        integration(&[]),
        system(),
        custom(outsider(), &[Permission::TicketsViewAll]),
        custom(outsider(), &[Permission::SystemImport]),
        admin(loner()),
    ];
    for caller in callers {
        for cmd in customer_side_commands() {
            world.when(&caller, cmd).ok();
        }
    }
}

#[test]
fn the_agent_a_chat_is_offered_to_or_who_accepted_it_ends_it() {
    // Without a department, once the organization has departments, only the agent it is
    // offered to or who accepted it (and tickets.view_all) sees it.
    let offered = chat_in(org(), None).run(
        &admin(agent_id(9)),
        OfferChat {
            chat: c1(),
            agent: loner(),
        },
    );
    offered
        .when(&agent(member()), EndChat { chat: c1() })
        .rejects("PERMISSION_DENIED", "offered to nor accepted by");
    offered
        .when(&agent(loner()), RecordChatCustomerMessage { chat: c1() })
        .ok();
    let accepted = offered.run(
        &agent(loner()),
        AcceptChat {
            chat: c1(),
            agent: None,
        },
    );
    accepted
        .when(&agent(member()), EndChat { chat: c1() })
        .rejects("PERMISSION_DENIED", "tickets.view_all");
    accepted
        .when(&agent(loner()), EndChat { chat: c1() })
        .then(evs![ChatEnded {
            chat: c1(),
            agent: Some(loner())
        }]);
    // A miss takes it back: the agent who missed it no longer sees it.
    chat_in(org(), None)
        .run(
            &admin(agent_id(9)),
            OfferChat {
                chat: c1(),
                agent: loner(),
            },
        )
        .run(&agent(loner()), MissChat { chat: c1() })
        .when(&agent(loner()), EndChat { chat: c1() })
        .rejects("PERMISSION_DENIED", "tickets.view_all");
}

#[test]
fn the_agent_a_call_rings_for_or_who_answered_it_ends_it() {
    let ringing = call_in(org(), None).run(
        &admin(agent_id(9)),
        RingCall {
            call: k1(),
            agent: loner(),
        },
    );
    ringing
        .when(&agent(member()), EndCall { call: k1() })
        .rejects("PERMISSION_DENIED", "ringing for nor answered by");
    ringing.when(&agent(loner()), EndCall { call: k1() }).ok();
    ringing
        .run(
            &agent(loner()),
            AnswerCall {
                call: k1(),
                agent: None,
            },
        )
        .when(&agent(loner()), EndCall { call: k1() })
        .then(evs![CallEnded {
            call: k1(),
            agent: Some(loner())
        }]);
}

#[test]
fn the_assignee_records_a_customer_reply_outside_their_departments() {
    let world = resolved_ticket_in(org(), Some(d1())).given(
        AggregateId::ticket(t1()),
        evs![TicketAssigned {
            ticket: t1(),
            agent: loner(),
            by: Actor::Agent(loner())
        }],
    );
    world
        .when(&agent(loner()), RecordCustomerReply { ticket: t1() })
        .ok();
    world
        .when(&agent(outsider()), RecordCustomerReply { ticket: t1() })
        .rejects("PERMISSION_DENIED", "assigned to you");
}

#[test]
fn without_departments_anyone_records_the_customer_side() {
    let world = resolved_ticket_in(
        call_in(chat_in(World::new().online_agent(outsider()), None), None),
        None,
    );
    for cmd in customer_side_commands() {
        world.when(&agent(outsider()), cmd).ok();
    }
}

#[test]
fn an_unknown_conversation_is_not_found_before_anything_else() {
    let world = org();
    for cmd in customer_side_commands() {
        world.when(&agent(outsider()), cmd).rejects("NOT_FOUND", "");
    }
}
