//! Ticket commands: creation and routing, assignment, transfer, answers, replies, tags,
//! resolution, reopening, deletion; the status machine, the pause rule, departments,
//! visibility, permissions and input limits (docs/TICKETS.md; docs/SECURITY.md, Roles and
//! permissions).

mod common;

use common::*;
use helpdesk_domain::command::*;
use helpdesk_domain::event::*;
use helpdesk_domain::state::TicketStatus;
use helpdesk_domain::*;

fn a1() -> AgentId {
    agent_id(1)
}
fn a2() -> AgentId {
    agent_id(2)
}
fn a3() -> AgentId {
    agent_id(3)
}
fn boss() -> AgentId {
    agent_id(9)
}
fn t1() -> TicketId {
    ticket_id(1)
}
fn d1() -> DepartmentId {
    department_id(1)
}
fn d2() -> DepartmentId {
    department_id(2)
}

// --- commands on t1 ------------------------------------------------------------------------

fn create(priority: Priority) -> CreateTicket {
    CreateTicket {
        ticket_id: t1(),
        channel: Channel::Email,
        priority,
        subject: "Where is my order?".into(),
        body: None,
        department: None,
    }
}

fn assign(agent: AgentId) -> AssignTicket {
    AssignTicket {
        ticket: t1(),
        agent,
        by: None,
    }
}

fn unassign() -> UnassignTicket {
    UnassignTicket {
        ticket: t1(),
        by: None,
    }
}

fn transfer(department: DepartmentId) -> TransferTicket {
    TransferTicket {
        ticket: t1(),
        department,
        agent: None,
    }
}

fn answer(chars: u32) -> AnswerTicket {
    AnswerTicket {
        ticket: t1(),
        agent: None,
        chars,
    }
}

fn reply() -> RecordCustomerReply {
    RecordCustomerReply { ticket: t1() }
}

fn tag(tag: &str) -> TagTicket {
    TagTicket {
        ticket: t1(),
        tag: tag.into(),
        agent: None,
    }
}

fn untag(tag: &str) -> UntagTicket {
    UntagTicket {
        ticket: t1(),
        tag: tag.into(),
        agent: None,
    }
}

fn resolve() -> ResolveTicket {
    ResolveTicket {
        ticket: t1(),
        agent: None,
    }
}

fn reopen() -> ReopenTicket {
    ReopenTicket {
        ticket: t1(),
        agent: None,
    }
}

fn delete() -> DeleteTicket {
    DeleteTicket {
        ticket: t1(),
        agent: None,
    }
}

/// Every command on an existing ticket except RecordCustomerReply, as `caller` would send
/// them for itself.
fn work_commands(caller: AgentId) -> Vec<Command> {
    vec![
        assign(caller).into(),
        unassign().into(),
        transfer(d2()).into(),
        answer(10).into(),
        tag("vip").into(),
        untag("vip").into(),
        resolve().into(),
        reopen().into(),
        delete().into(),
    ]
}

// --- histories -----------------------------------------------------------------------------

/// Ticket t1, unassigned, without department.
fn with_ticket(world: World, priority: Priority) -> World {
    world.ticket(t1(), priority, None)
}

fn assigned(world: World, agent: AgentId) -> World {
    world.given(
        AggregateId::ticket(t1()),
        evs![TicketAssigned {
            ticket: t1(),
            agent,
            by: Actor::Agent(agent)
        }],
    )
}

fn answered(world: World) -> World {
    world.given(
        AggregateId::ticket(t1()),
        evs![TicketAnswered {
            ticket: t1(),
            agent: a1(),
            chars: 100
        }],
    )
}

fn replied(world: World) -> World {
    world.given(
        AggregateId::ticket(t1()),
        evs![TicketCustomerReplied { ticket: t1() }],
    )
}

fn resolved(world: World) -> World {
    world.given(
        AggregateId::ticket(t1()),
        evs![TicketResolved {
            ticket: t1(),
            by: Actor::Agent(a1())
        }],
    )
}

fn deleted(world: World) -> World {
    world.given(
        AggregateId::ticket(t1()),
        evs![TicketDeleted {
            ticket: t1(),
            by: Actor::Agent(boss())
        }],
    )
}

fn tagged(world: World, tags: &[&str]) -> World {
    let events = tags
        .iter()
        .map(|t| {
            TicketTagged {
                ticket: t1(),
                tag: (*t).into(),
                by: Actor::Agent(a1()),
            }
            .into()
        })
        .collect();
    world.given(AggregateId::ticket(t1()), events)
}

fn paused(world: World, agent: AgentId, planned_end: Option<Timestamp>) -> World {
    world.given(
        AggregateId::agent(agent),
        evs![AgentPaused {
            agent,
            reason: PauseReason::Text("lunch".into()),
            planned_end
        }],
    )
}

fn deactivated(world: World, agent: AgentId) -> World {
    world.given(AggregateId::agent(agent), evs![AgentDeactivated { agent }])
}

/// The ticket's state as folded from the world's history.
fn ticket_state(world: &World) -> TicketState {
    let State::Ticket(t) = world.state(AggregateId::ticket(t1())) else {
        unreachable!()
    };
    t
}

fn status(world: &World) -> TicketStatus {
    ticket_state(world).status
}

/// a1 and a2 registered (Agent role), ticket t1 (normal priority, no department).
fn basic() -> World {
    with_ticket(World::new().agent(a1()).agent(a2()), Priority::Normal)
}

// --- routing rules ---------------------------------------------------------------------------

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn rule(n: u128, groups: Vec<Vec<Condition>>, actions: Vec<Action>) -> RoutingRule {
    RoutingRule {
        rule_id: rule_id(n),
        name: format!("rule {n}"),
        groups,
        actions,
    }
}

/// A rule that matches every e-mail ticket.
fn on_email(n: u128, actions: Vec<Action>) -> RoutingRule {
    rule(
        n,
        vec![vec![Condition::ChannelIn(vec![Channel::Email])]],
        actions,
    )
}

fn by_rule(n: u128) -> Actor {
    Actor::Rule(rule_id(n))
}

/// Defines the rules, in this order, after any already defined.
fn with_rules(world: World, rules: Vec<RoutingRule>) -> World {
    let existing = world.config().routing_rules.len() as u32;
    let events = rules
        .into_iter()
        .enumerate()
        .map(|(i, rule)| {
            RoutingRuleDefined {
                rule,
                position: existing + i as u32,
            }
            .into()
        })
        .collect();
    world.given(AggregateId::config(), events)
}

fn ticket_created(priority: Priority, department: Option<DepartmentId>) -> TicketCreated {
    TicketCreated {
        ticket: t1(),
        channel: Channel::Email,
        priority,
        subject: "Where is my order?".into(),
        body: None,
        department,
    }
}

// --- CreateTicket ----------------------------------------------------------------------------

#[test]
fn create_ticket() {
    World::new()
        .department(d1(), &[])
        .when(
            &integration(&[]),
            CreateTicket {
                ticket_id: t1(),
                channel: Channel::WebForm,
                priority: Priority::High,
                subject: "Refund".into(),
                body: Some("Please refund my order.".into()),
                department: Some(d1()),
            },
        )
        .then(evs![TicketCreated {
            ticket: t1(),
            channel: Channel::WebForm,
            priority: Priority::High,
            subject: "Refund".into(),
            body: Some("Please refund my order.".into()),
            department: Some(d1()),
        }]);
}

#[test]
fn create_ticket_without_body_or_department() {
    World::new()
        .when(&agent(a1()), create(Priority::Low))
        .then(evs![ticket_created(Priority::Low, None)]);
}

#[test]
fn a_new_ticket_is_new_unassigned_and_untagged() {
    let world = World::new().run(&integration(&[]), create(Priority::Urgent));
    let t = ticket_state(&world);
    assert!(t.exists());
    assert_eq!(t.status, TicketStatus::New);
    assert_eq!(t.priority, Priority::Urgent);
    assert_eq!(t.assignee, None);
    assert_eq!(t.department, None);
    assert!(t.tags.is_empty());
}

#[test]
fn create_ticket_twice_fails() {
    basic()
        .when(&integration(&[]), create(Priority::Normal))
        .rejects("FAILED_PRECONDITION", "already exists");
}

#[test]
fn create_ticket_in_unknown_department_is_not_found() {
    let mut c = create(Priority::Normal);
    c.department = Some(d2());
    World::new()
        .department(d1(), &[])
        .when(&integration(&[]), c)
        .rejects("NOT_FOUND", "department");
}

#[test]
fn create_ticket_input_limits() {
    let world = World::new();
    let who = integration(&[]);

    let mut c = create(Priority::Normal);
    c.subject = "s".repeat(1001);
    world.when(&who, c).rejects_field("subject");
    let mut c = create(Priority::Normal);
    c.subject = "é".repeat(1000); // 1,000 characters, 2,000 bytes: fine
    world.when(&who, c).ok();
    let mut c = create(Priority::Normal);
    c.subject = " \t ".into();
    world.when(&who, c).rejects_field("subject");

    let mut c = create(Priority::Normal);
    c.body = Some("b".repeat(64 * 1024 + 1));
    world.when(&who, c).rejects_field("body");
    let mut c = create(Priority::Normal);
    c.body = Some("b".repeat(64 * 1024));
    world.when(&who, c).ok();
    let mut c = create(Priority::Normal);
    c.body = Some("é".repeat(32 * 1024 + 1)); // 32,769 characters but 65,538 bytes
    world.when(&who, c).rejects_field("body");
}

// --- routing ---------------------------------------------------------------------------------

#[test]
fn a_rule_that_does_not_match_does_nothing() {
    let world = with_rules(
        World::new().department(d1(), &[]),
        vec![rule(
            1,
            vec![vec![Condition::ChannelIn(vec![
                Channel::Chat,
                Channel::Whatsapp,
            ])]],
            vec![Action::TransferTo(d1()), Action::AddTags(words(&["chat"]))],
        )],
    );
    world
        .when(&integration(&[]), create(Priority::Normal))
        .then(evs![ticket_created(Priority::Normal, None)]);
}

#[test]
fn a_rule_matches_when_any_group_has_all_its_conditions() {
    let world = with_rules(
        World::new(),
        vec![rule(
            1,
            vec![
                vec![
                    Condition::ChannelIn(vec![Channel::Email]),
                    Condition::SubjectContains(words(&["refund"])),
                ],
                vec![Condition::PriorityIn(vec![
                    Priority::High,
                    Priority::Urgent,
                ])],
            ],
            vec![Action::AddTags(words(&["matched"]))],
        )],
    );
    let matched = TicketTagged {
        ticket: t1(),
        tag: "matched".into(),
        by: by_rule(1),
    };
    let ticket = |channel, priority, subject: &str| CreateTicket {
        ticket_id: t1(),
        channel,
        priority,
        subject: subject.into(),
        body: None,
        department: None,
    };
    let created = |channel, priority, subject: &str| TicketCreated {
        ticket: t1(),
        channel,
        priority,
        subject: subject.into(),
        body: None,
        department: None,
    };
    let who = integration(&[]);

    // The first group: e-mail and "refund".
    world
        .when(&who, ticket(Channel::Email, Priority::Low, "Refund please"))
        .then(evs![
            created(Channel::Email, Priority::Low, "Refund please"),
            matched.clone()
        ]);
    // Half of the first group is not enough.
    world
        .when(&who, ticket(Channel::Chat, Priority::Low, "Refund please"))
        .then(evs![created(Channel::Chat, Priority::Low, "Refund please")]);
    world
        .when(&who, ticket(Channel::Email, Priority::Normal, "Hello"))
        .then(evs![created(Channel::Email, Priority::Normal, "Hello")]);
    // The second group alone.
    world
        .when(&who, ticket(Channel::Facebook, Priority::Urgent, "Hello"))
        .then(evs![
            created(Channel::Facebook, Priority::Urgent, "Hello"),
            matched
        ]);
}

#[test]
fn word_conditions_are_case_insensitive_and_on_whole_words() {
    let world = with_rules(
        World::new(),
        vec![
            rule(
                1,
                vec![vec![Condition::SubjectContains(words(&[
                    "invoice",
                    "credit card",
                ]))]],
                vec![Action::AddTags(words(&["subject"]))],
            ),
            rule(
                2,
                vec![vec![Condition::BodyContains(words(&["invoice"]))]],
                vec![Action::AddTags(words(&["body"]))],
            ),
            rule(
                3,
                vec![vec![Condition::SubjectOrBodyContains(words(&["invoice"]))]],
                vec![Action::AddTags(words(&["either"]))],
            ),
        ],
    );
    let who = integration(&[]);
    let tags_for = |subject: &str, body: Option<&str>| -> Vec<String> {
        let events = world
            .when(
                &who,
                CreateTicket {
                    ticket_id: t1(),
                    channel: Channel::Email,
                    priority: Priority::Normal,
                    subject: subject.into(),
                    body: body.map(Into::into),
                    department: None,
                },
            )
            .ok();
        assert!(matches!(events[0], Event::TicketCreated(_)), "{events:?}");
        events[1..]
            .iter()
            .map(|e| match e {
                Event::TicketTagged(t) => t.tag.clone(),
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    };

    assert_eq!(
        tags_for("Your INVOICE, please", None),
        ["subject", "either"]
    );
    assert_eq!(
        tags_for("Invoices", None),
        Vec::<String>::new(),
        "not a whole word"
    );
    assert_eq!(
        tags_for("reinvoice", Some("invoicing")),
        Vec::<String>::new()
    );
    assert_eq!(tags_for("Lost my Credit  Card!", None), ["subject"]);
    assert_eq!(tags_for("credit for a card", None), Vec::<String>::new());
    assert_eq!(
        tags_for("Hello", Some("About the invoice.")),
        ["body", "either"]
    );
    assert_eq!(
        tags_for("Invoice", Some("invoice")),
        ["subject", "body", "either"]
    );
}

#[test]
fn routing_transfers_without_assigning() {
    let world = with_rules(
        World::new().agent(a1()).department(d1(), &[a1()]),
        vec![on_email(1, vec![Action::TransferTo(d1())])],
    );
    world
        .when(&integration(&[]), create(Priority::Normal))
        .then(evs![
            ticket_created(Priority::Normal, None),
            TicketTransferred {
                ticket: t1(),
                from: None,
                to: d1(),
                by: by_rule(1)
            },
        ]);
}

#[test]
fn routing_transfer_to_the_tickets_own_department_changes_nothing() {
    let world = with_rules(
        World::new().department(d1(), &[]),
        vec![on_email(1, vec![Action::TransferTo(d1())])],
    );
    let mut c = create(Priority::Normal);
    c.department = Some(d1());
    world
        .when(&integration(&[]), c)
        .then(evs![ticket_created(Priority::Normal, Some(d1()))]);
}

#[test]
fn routing_transfers_from_the_department_given() {
    let world = with_rules(
        World::new().department(d1(), &[]).department(d2(), &[]),
        vec![on_email(1, vec![Action::TransferTo(d2())])],
    );
    let mut c = create(Priority::Normal);
    c.department = Some(d1());
    world.when(&integration(&[]), c).then(evs![
        ticket_created(Priority::Normal, Some(d1())),
        TicketTransferred {
            ticket: t1(),
            from: Some(d1()),
            to: d2(),
            by: by_rule(1)
        },
    ]);
}

#[test]
fn routing_skips_paused_and_offline_agents_for_every_priority() {
    // Paused means no new work (docs/TICKETS.md, Routing rules): a1 online but paused, a2
    // offline, a3 online.
    let world = paused(
        World::new()
            .online_agent(a1())
            .agent(a2())
            .online_agent(a3()),
        a1(),
        Some(T0.plus_minutes(30)),
    );
    let world = with_rules(
        world,
        vec![on_email(1, vec![Action::AssignTo(vec![a1(), a2(), a3()])])],
    );
    for priority in [
        Priority::Low,
        Priority::Normal,
        Priority::High,
        Priority::Urgent,
    ] {
        world.when(&integration(&[]), create(priority)).then(evs![
            ticket_created(priority, None),
            TicketAssigned {
                ticket: t1(),
                agent: a3(),
                by: by_rule(1)
            },
        ]);
    }
    // Once the planned end has come, a1 is not paused any more: the rule decides at the
    // command's time, never the wall clock's, so a replay gives the same result.
    world
        .at(T0.plus_minutes(30))
        .when(&integration(&[]), create(Priority::Normal))
        .then(evs![
            ticket_created(Priority::Normal, None),
            TicketAssigned {
                ticket: t1(),
                agent: a1(),
                by: by_rule(1)
            },
        ]);
}

#[test]
fn routing_leaves_a_ticket_unassigned_when_every_listed_agent_is_paused_or_offline() {
    let world = paused(World::new().online_agent(a1()).agent(a2()), a1(), None);
    let world = with_rules(
        world,
        vec![on_email(1, vec![Action::AssignTo(vec![a1(), a2()])])],
    );
    for priority in [Priority::Low, Priority::Normal] {
        world
            .when(&integration(&[]), create(priority))
            .then(evs![ticket_created(priority, None)]);
    }
}

#[test]
fn a_rule_switched_off_does_nothing_and_switched_on_again_applies() {
    let world = with_rules(
        World::new().online_agent(a1()).online_agent(a2()),
        vec![
            on_email(1, vec![Action::AssignTo(vec![a1()])]),
            on_email(2, vec![Action::AddTags(words(&["mail"]))]),
        ],
    );
    let switch = |world: World, enabled: bool| {
        world.given(
            AggregateId::config(),
            vec![RoutingRuleUpdated {
                rule_id: rule_id(1),
                name: None,
                notes: None,
                enabled: Some(enabled),
            }
            .into()],
        )
    };
    let off = switch(world, false);
    // Rule 1 is skipped; rule 2, after it, still runs.
    off.when(&integration(&[]), create(Priority::Normal))
        .then(evs![
            ticket_created(Priority::Normal, None),
            TicketTagged {
                ticket: t1(),
                tag: "mail".into(),
                by: by_rule(2)
            },
        ]);
    switch(off, true)
        .when(&integration(&[]), create(Priority::Normal))
        .then(evs![
            ticket_created(Priority::Normal, None),
            TicketAssigned {
                ticket: t1(),
                agent: a1(),
                by: by_rule(1)
            },
            TicketTagged {
                ticket: t1(),
                tag: "mail".into(),
                by: by_rule(2)
            },
        ]);
}

#[test]
fn routing_skips_unknown_deactivated_and_non_member_agents() {
    // a1 unknown, a2 deactivated, a3 not a member of d1, boss a member.
    let world = deactivated(World::new().online_agent(a2()), a2())
        .online_agent(a3())
        .online_agent(boss())
        .department(d1(), &[a2(), boss()]);
    let world = with_rules(
        world,
        vec![on_email(
            1,
            vec![Action::AssignTo(vec![a1(), a2(), a3(), boss()])],
        )],
    );
    let mut c = create(Priority::Normal);
    c.department = Some(d1());
    world.when(&integration(&[]), c).then(evs![
        ticket_created(Priority::Normal, Some(d1())),
        TicketAssigned {
            ticket: t1(),
            agent: boss(),
            by: by_rule(1)
        },
    ]);
}

#[test]
fn routing_leaves_the_ticket_as_it_is_when_no_agent_fits() {
    let world = paused(World::new().online_agent(a1()).agent(a2()), a1(), None);
    let world = with_rules(
        world,
        vec![on_email(
            1,
            vec![
                Action::AssignTo(vec![a1(), a2()]),
                Action::AddTags(words(&["x"])),
            ],
        )],
    );
    world
        .when(&integration(&[]), create(Priority::Urgent))
        .then(evs![
            ticket_created(Priority::Urgent, None),
            TicketTagged {
                ticket: t1(),
                tag: "x".into(),
                by: by_rule(1)
            },
        ]);
}

#[test]
fn routing_leave_unassigned_undoes_an_earlier_assignment() {
    let world = with_rules(
        World::new().online_agent(a1()),
        vec![
            on_email(1, vec![Action::AssignTo(vec![a1()])]),
            rule(
                2,
                vec![vec![Condition::SubjectContains(words(&["order"]))]],
                vec![Action::LeaveUnassigned],
            ),
        ],
    );
    world
        .when(&integration(&[]), create(Priority::Normal))
        .then(evs![
            ticket_created(Priority::Normal, None),
            TicketAssigned {
                ticket: t1(),
                agent: a1(),
                by: by_rule(1)
            },
            TicketUnassigned {
                ticket: t1(),
                agent: a1(),
                by: by_rule(2)
            },
        ]);
    // Leaving an unassigned ticket unassigned appends nothing.
    let world = with_rules(
        World::new(),
        vec![on_email(1, vec![Action::LeaveUnassigned])],
    );
    world
        .when(&integration(&[]), create(Priority::Normal))
        .then(evs![ticket_created(Priority::Normal, None)]);
}

#[test]
fn routing_sets_priority_and_later_rules_see_it() {
    let world = with_rules(
        World::new(),
        vec![
            rule(
                1,
                vec![vec![Condition::SubjectContains(words(&["order"]))]],
                vec![Action::SetPriority(Priority::Urgent)],
            ),
            rule(
                2,
                vec![vec![Condition::PriorityIn(vec![Priority::Urgent])]],
                vec![Action::AddTags(words(&["escalated"]))],
            ),
            // Setting the priority it already has changes nothing.
            on_email(3, vec![Action::SetPriority(Priority::Urgent)]),
        ],
    );
    world
        .when(&integration(&[]), create(Priority::Low))
        .then(evs![
            ticket_created(Priority::Low, None),
            TicketPriorityChanged {
                ticket: t1(),
                priority: Priority::Urgent,
                by: by_rule(1)
            },
            TicketTagged {
                ticket: t1(),
                tag: "escalated".into(),
                by: by_rule(2)
            },
        ]);
}

#[test]
fn rules_run_in_their_order() {
    // The same two rules in the other order give another result.
    let raise = rule(
        1,
        vec![vec![Condition::ChannelIn(vec![Channel::Email])]],
        vec![Action::SetPriority(Priority::High)],
    );
    let tag_high = rule(
        2,
        vec![vec![Condition::PriorityIn(vec![Priority::High])]],
        vec![Action::AddTags(words(&["high"]))],
    );
    with_rules(World::new(), vec![raise.clone(), tag_high.clone()])
        .when(&integration(&[]), create(Priority::Normal))
        .then(evs![
            ticket_created(Priority::Normal, None),
            TicketPriorityChanged {
                ticket: t1(),
                priority: Priority::High,
                by: by_rule(1)
            },
            TicketTagged {
                ticket: t1(),
                tag: "high".into(),
                by: by_rule(2)
            },
        ]);
    with_rules(World::new(), vec![tag_high, raise])
        .when(&integration(&[]), create(Priority::Normal))
        .then(evs![
            ticket_created(Priority::Normal, None),
            TicketPriorityChanged {
                ticket: t1(),
                priority: Priority::High,
                by: by_rule(1)
            },
        ]);
}

#[test]
fn routing_transfer_unassigns_a_non_member_and_a_later_rule_assigns_a_member() {
    let world = World::new()
        .online_agent(a1())
        .online_agent(a2())
        .department(d2(), &[a2()]);
    let world = with_rules(
        world,
        vec![
            on_email(1, vec![Action::AssignTo(vec![a1()])]),
            on_email(2, vec![Action::TransferTo(d2())]),
            on_email(3, vec![Action::AssignTo(vec![a1(), a2()])]),
        ],
    );
    world
        .when(&integration(&[]), create(Priority::Normal))
        .then(evs![
            ticket_created(Priority::Normal, None),
            TicketAssigned {
                ticket: t1(),
                agent: a1(),
                by: by_rule(1)
            },
            TicketTransferred {
                ticket: t1(),
                from: None,
                to: d2(),
                by: by_rule(2)
            },
            TicketUnassigned {
                ticket: t1(),
                agent: a1(),
                by: by_rule(2)
            },
            TicketAssigned {
                ticket: t1(),
                agent: a2(),
                by: by_rule(3)
            },
        ]);
}

#[test]
fn routing_transfer_unassigns_even_a_member() {
    let world = World::new().online_agent(a1()).department(d1(), &[a1()]);
    let world = with_rules(
        world,
        vec![on_email(
            1,
            vec![Action::AssignTo(vec![a1()]), Action::TransferTo(d1())],
        )],
    );
    world
        .when(&integration(&[]), create(Priority::Normal))
        .then(evs![
            ticket_created(Priority::Normal, None),
            TicketAssigned {
                ticket: t1(),
                agent: a1(),
                by: by_rule(1)
            },
            TicketTransferred {
                ticket: t1(),
                from: None,
                to: d1(),
                by: by_rule(1)
            },
            TicketUnassigned {
                ticket: t1(),
                agent: a1(),
                by: by_rule(1)
            },
        ]);
}

#[test]
fn routing_raising_the_priority_keeps_an_assignee_routing_chose() {
    // AssignTo chooses only an agent online and not paused, so raising the priority later
    // lets no one go. A paused a1 is not assigned in the first place.
    let world = paused(World::new().online_agent(a1()), a1(), None);
    let world = with_rules(
        world,
        vec![
            on_email(1, vec![Action::AssignTo(vec![a1()])]),
            on_email(2, vec![Action::SetPriority(Priority::Urgent)]),
        ],
    );
    world
        .when(&integration(&[]), create(Priority::Normal))
        .then(evs![
            ticket_created(Priority::Normal, None),
            TicketPriorityChanged {
                ticket: t1(),
                priority: Priority::Urgent,
                by: by_rule(2)
            },
        ]);
    let world = with_rules(
        World::new().online_agent(a1()),
        vec![on_email(
            1,
            vec![
                Action::AssignTo(vec![a1()]),
                Action::SetPriority(Priority::High),
            ],
        )],
    );
    world
        .when(&integration(&[]), create(Priority::Normal))
        .then(evs![
            ticket_created(Priority::Normal, None),
            TicketAssigned {
                ticket: t1(),
                agent: a1(),
                by: by_rule(1)
            },
            TicketPriorityChanged {
                ticket: t1(),
                priority: Priority::High,
                by: by_rule(1)
            },
        ]);
}

#[test]
fn routing_adds_tags_once_and_at_most_50() {
    let first: Vec<String> = (0..30).map(|i| format!("tag{i}")).collect();
    // tag20..tag59: ten already there, thirty new of which twenty fit.
    let second: Vec<String> = (20..60).map(|i| format!("tag{i}")).collect();
    let world = with_rules(
        World::new(),
        vec![
            on_email(1, vec![Action::AddTags(first)]),
            on_email(2, vec![Action::AddTags(second)]),
        ],
    );
    let mut expected = evs![ticket_created(Priority::Normal, None)];
    for i in 0..30 {
        expected.push(
            TicketTagged {
                ticket: t1(),
                tag: format!("tag{i}"),
                by: by_rule(1),
            }
            .into(),
        );
    }
    for i in 30..50 {
        expected.push(
            TicketTagged {
                ticket: t1(),
                tag: format!("tag{i}"),
                by: by_rule(2),
            }
            .into(),
        );
    }
    world
        .when(&integration(&[]), create(Priority::Normal))
        .then(expected);
}

#[test]
fn a_routed_ticket_is_in_the_state_routing_left_it() {
    let world = World::new().online_agent(a1()).department(d1(), &[a1()]);
    let world = with_rules(
        world,
        vec![on_email(
            1,
            vec![
                Action::TransferTo(d1()),
                Action::AssignTo(vec![a1()]),
                Action::SetPriority(Priority::High),
                Action::AddTags(words(&["routed"])),
            ],
        )],
    )
    .run(&integration(&[]), create(Priority::Normal));
    let t = ticket_state(&world);
    assert_eq!(t.department, Some(d1()));
    assert_eq!(t.assignee, Some(a1()));
    assert_eq!(t.priority, Priority::High);
    assert_eq!(t.tags, ["routed"]);
    assert_eq!(t.status, TicketStatus::New);
}

// --- AssignTicket ----------------------------------------------------------------------------

#[test]
fn assign_ticket_to_oneself() {
    basic()
        .when(&agent(a1()), assign(a1()))
        .then(evs![TicketAssigned {
            ticket: t1(),
            agent: a1(),
            by: Actor::Agent(a1())
        }]);
}

#[test]
fn assigning_to_another_agent_needs_tickets_assign() {
    let world = basic();
    world
        .when(&agent(a1()), assign(a2()))
        .rejects("PERMISSION_DENIED", "tickets.assign");
    world
        .when(&custom(boss(), &[Permission::TicketsAssign]), assign(a2()))
        .then(evs![TicketAssigned {
            ticket: t1(),
            agent: a2(),
            by: Actor::Agent(boss())
        }]);
    world
        .when(&integration(&[Permission::TicketsAssign]), assign(a2()))
        .then(evs![TicketAssigned {
            ticket: t1(),
            agent: a2(),
            by: Actor::Integration(token_id(1))
        }]);
    world
        .when(&integration(&[]), assign(a2()))
        .rejects("PERMISSION_DENIED", "tickets.assign");
}

#[test]
fn reassign_ticket_to_another_agent() {
    assigned(basic(), a1())
        .when(&admin(boss()), assign(a2()))
        .then(evs![TicketAssigned {
            ticket: t1(),
            agent: a2(),
            by: Actor::Agent(boss())
        }]);
}

#[test]
fn assign_unknown_ticket_is_not_found() {
    World::new()
        .agent(a1())
        .when(&agent(a1()), assign(a1()))
        .rejects("NOT_FOUND", "ticket");
}

#[test]
fn assign_to_unknown_agent_is_not_found() {
    basic()
        .when(&admin(boss()), assign(a3()))
        .rejects("NOT_FOUND", "agent");
}

#[test]
fn assign_to_deactivated_agent_fails() {
    deactivated(basic(), a2())
        .when(&admin(boss()), assign(a2()))
        .rejects("FAILED_PRECONDITION", "deactivated");
}

#[test]
fn assign_to_the_current_assignee_fails() {
    assigned(basic(), a1())
        .when(&agent(a1()), assign(a1()))
        .rejects("FAILED_PRECONDITION", "already assigned");
}

#[test]
fn no_high_priority_ticket_for_a_paused_agent() {
    for priority in [Priority::High, Priority::Urgent] {
        let world = paused(
            with_ticket(World::new().online_agent(a1()), priority),
            a1(),
            None,
        );
        world
            .when(&agent(a1()), assign(a1()))
            .rejects("FAILED_PRECONDITION", "paused");
        world
            .when(&admin(boss()), assign(a1()))
            .rejects("FAILED_PRECONDITION", "paused");
    }
    // Low and normal tickets may go to a paused agent.
    for priority in [Priority::Low, Priority::Normal] {
        paused(
            with_ticket(World::new().online_agent(a1()), priority),
            a1(),
            None,
        )
        .when(&admin(boss()), assign(a1()))
        .then(evs![TicketAssigned {
            ticket: t1(),
            agent: a1(),
            by: Actor::Agent(boss())
        }]);
    }
}

#[test]
fn a_pause_past_its_planned_end_does_not_block_assignment() {
    let world = || {
        paused(
            with_ticket(World::new().online_agent(a1()), Priority::Urgent),
            a1(),
            Some(T0.plus_minutes(15)),
        )
    };
    world()
        .at(T0.plus_minutes(15).plus_millis(-1))
        .when(&agent(a1()), assign(a1()))
        .rejects("FAILED_PRECONDITION", "paused");
    world()
        .at(T0.plus_minutes(15))
        .when(&agent(a1()), assign(a1()))
        .then(evs![TicketAssigned {
            ticket: t1(),
            agent: a1(),
            by: Actor::Agent(a1())
        }]);
}

#[test]
fn an_offline_agent_may_be_assigned_a_high_priority_ticket_by_hand() {
    // The pause rule is about pauses; only routing also skips offline agents.
    with_ticket(World::new().agent(a1()), Priority::Urgent)
        .when(&admin(boss()), assign(a1()))
        .then(evs![TicketAssigned {
            ticket: t1(),
            agent: a1(),
            by: Actor::Agent(boss())
        }]);
}

#[test]
fn a_ticket_in_a_department_goes_only_to_its_members() {
    let world = World::new()
        .agent(a1())
        .agent(a2())
        .department(d1(), &[a1()])
        .department(d2(), &[a2()])
        .ticket(t1(), Priority::Normal, Some(d1()));
    world
        .when(&admin(boss()), assign(a2()))
        .rejects("FAILED_PRECONDITION", "not a member of department");
    world
        .when(&admin(boss()), assign(a1()))
        .then(evs![TicketAssigned {
            ticket: t1(),
            agent: a1(),
            by: Actor::Agent(boss())
        }]);
}

#[test]
fn a_ticket_without_department_goes_to_anyone() {
    World::new()
        .agent(a2())
        .department(d1(), &[a1()])
        .ticket(t1(), Priority::Normal, None)
        .when(&admin(boss()), assign(a2()))
        .then(evs![TicketAssigned {
            ticket: t1(),
            agent: a2(),
            by: Actor::Agent(boss())
        }]);
}

#[test]
fn assign_deleted_ticket_fails() {
    deleted(basic())
        .when(&agent(a1()), assign(a1()))
        .rejects("FAILED_PRECONDITION", "deleted");
}

// --- UnassignTicket --------------------------------------------------------------------------

#[test]
fn unassign_own_ticket() {
    assigned(basic(), a1())
        .when(&agent(a1()), unassign())
        .then(evs![TicketUnassigned {
            ticket: t1(),
            agent: a1(),
            by: Actor::Agent(a1())
        }]);
}

#[test]
fn unassigning_someone_elses_ticket_needs_tickets_assign() {
    let world = assigned(basic(), a1());
    world
        .when(&agent(a2()), unassign())
        .rejects("PERMISSION_DENIED", "tickets.assign");
    world
        .when(&custom(a2(), &[Permission::TicketsAssign]), unassign())
        .then(evs![TicketUnassigned {
            ticket: t1(),
            agent: a1(),
            by: Actor::Agent(a2())
        }]);
}

#[test]
fn unassign_unassigned_ticket_fails() {
    basic()
        .when(&admin(boss()), unassign())
        .rejects("FAILED_PRECONDITION", "not assigned");
}

#[test]
fn unassign_unknown_ticket_is_not_found() {
    World::new()
        .when(&admin(boss()), unassign())
        .rejects("NOT_FOUND", "ticket");
}

#[test]
fn unassign_deleted_ticket_fails() {
    deleted(assigned(basic(), a1()))
        .when(&agent(a1()), unassign())
        .rejects("FAILED_PRECONDITION", "deleted");
}

// --- TransferTicket --------------------------------------------------------------------------

fn transferrer() -> Principal {
    custom(
        boss(),
        &[Permission::TicketsTransfer, Permission::TicketsViewAll],
    )
}

#[test]
fn transfer_ticket_into_a_department_does_not_assign_it() {
    World::new()
        .agent(a1())
        .department(d1(), &[a1()])
        .ticket(t1(), Priority::Normal, None)
        .when(&transferrer(), transfer(d1()))
        .then(evs![TicketTransferred {
            ticket: t1(),
            from: None,
            to: d1(),
            by: Actor::Agent(boss())
        }]);
}

/// A transferred ticket arrives unassigned in its new department's queue, also when its
/// agent is a member there: it does not skip that department's queue.
#[test]
fn transfer_unassigns_also_an_assignee_who_is_a_member() {
    let world = World::new()
        .agent(a1())
        .department(d1(), &[a1()])
        .department(d2(), &[a1()])
        .ticket(t1(), Priority::Normal, Some(d1()));
    assigned(world, a1())
        .when(&transferrer(), transfer(d2()))
        .then(evs![
            TicketTransferred {
                ticket: t1(),
                from: Some(d1()),
                to: d2(),
                by: Actor::Agent(boss()),
            },
            TicketUnassigned {
                ticket: t1(),
                agent: a1(),
                by: Actor::Agent(boss()),
            }
        ]);
}

#[test]
fn transfer_unassigns_an_assignee_who_is_not_a_member() {
    let world = World::new()
        .agent(a1())
        .department(d1(), &[a1()])
        .department(d2(), &[])
        .ticket(t1(), Priority::Normal, Some(d1()));
    assigned(world, a1())
        .when(&transferrer(), transfer(d2()))
        .then(evs![
            TicketTransferred {
                ticket: t1(),
                from: Some(d1()),
                to: d2(),
                by: Actor::Agent(boss())
            },
            TicketUnassigned {
                ticket: t1(),
                agent: a1(),
                by: Actor::Agent(boss())
            },
        ]);
}

#[test]
fn transfer_needs_tickets_transfer() {
    let world = World::new()
        .department(d1(), &[a1()])
        .department(d2(), &[])
        .ticket(t1(), Priority::Normal, Some(d1()));
    world
        .when(&agent(a1()), transfer(d2()))
        .rejects("PERMISSION_DENIED", "tickets.transfer");
    world
        .when(
            &custom(a1(), &[Permission::TicketsTransfer]),
            transfer(d2()),
        )
        .then(evs![TicketTransferred {
            ticket: t1(),
            from: Some(d1()),
            to: d2(),
            by: Actor::Agent(a1())
        }]);
    // The permission is checked before the ticket is looked up.
    World::new()
        .department(d2(), &[])
        .when(&agent(a1()), transfer(d2()))
        .rejects("PERMISSION_DENIED", "tickets.transfer");
}

#[test]
fn transfer_by_an_integration_is_by_the_integration() {
    World::new()
        .department(d1(), &[])
        .ticket(t1(), Priority::Normal, None)
        .when(
            &integration(&[Permission::TicketsTransfer, Permission::TicketsViewAll]),
            transfer(d1()),
        )
        .then(evs![TicketTransferred {
            ticket: t1(),
            from: None,
            to: d1(),
            by: Actor::Integration(token_id(1)),
        }]);
}

#[test]
fn transfer_to_unknown_department_is_not_found() {
    World::new()
        .department(d1(), &[])
        .ticket(t1(), Priority::Normal, None)
        .when(&transferrer(), transfer(d2()))
        .rejects("NOT_FOUND", "department");
}

#[test]
fn transfer_unknown_ticket_is_not_found() {
    World::new()
        .department(d1(), &[])
        .when(&transferrer(), transfer(d1()))
        .rejects("NOT_FOUND", "ticket");
}

#[test]
fn transfer_to_the_tickets_own_department_fails() {
    World::new()
        .department(d1(), &[])
        .ticket(t1(), Priority::Normal, Some(d1()))
        .when(&transferrer(), transfer(d1()))
        .rejects("FAILED_PRECONDITION", "already");
}

#[test]
fn transfer_deleted_ticket_fails() {
    deleted(
        World::new()
            .department(d1(), &[])
            .ticket(t1(), Priority::Normal, None),
    )
    .when(&transferrer(), transfer(d1()))
    .rejects("FAILED_PRECONDITION", "deleted");
}

// --- AnswerTicket ----------------------------------------------------------------------------

#[test]
fn answer_ticket() {
    basic()
        .when(&agent(a1()), answer(420))
        .then(evs![TicketAnswered {
            ticket: t1(),
            agent: a1(),
            chars: 420
        }]);
}

#[test]
fn answering_needs_no_assignment() {
    assigned(basic(), a2())
        .when(&agent(a1()), answer(5))
        .then(evs![TicketAnswered {
            ticket: t1(),
            agent: a1(),
            chars: 5
        }]);
}

#[test]
fn answering_as_another_agent_needs_system_import() {
    let world = basic();
    let as_a2 = AnswerTicket {
        ticket: t1(),
        agent: Some(a2()),
        chars: 7,
    };
    world
        .when(&agent(a1()), as_a2.clone())
        .rejects("PERMISSION_DENIED", "system.import");
    world
        .when(&admin(boss()), as_a2.clone())
        .then(evs![TicketAnswered {
            ticket: t1(),
            agent: a2(),
            chars: 7
        }]);
    world
        .when(&integration(&[Permission::SystemImport]), as_a2)
        .then(evs![TicketAnswered {
            ticket: t1(),
            agent: a2(),
            chars: 7
        }]);
    // Naming oneself is acting as oneself.
    world
        .when(
            &agent(a1()),
            AnswerTicket {
                ticket: t1(),
                agent: Some(a1()),
                chars: 7,
            },
        )
        .then(evs![TicketAnswered {
            ticket: t1(),
            agent: a1(),
            chars: 7
        }]);
}

#[test]
fn an_answer_is_always_by_an_agent() {
    basic()
        .when(&integration(&[Permission::SystemImport]), answer(7))
        .rejects_field("agent_id");
}

#[test]
fn answering_as_an_unknown_or_deactivated_agent_fails() {
    let importer = integration(&[Permission::SystemImport]);
    basic()
        .when(
            &importer,
            AnswerTicket {
                ticket: t1(),
                agent: Some(a3()),
                chars: 7,
            },
        )
        .rejects("NOT_FOUND", "agent");
    deactivated(basic(), a2())
        .when(
            &importer,
            AnswerTicket {
                ticket: t1(),
                agent: Some(a2()),
                chars: 7,
            },
        )
        .rejects("FAILED_PRECONDITION", "deactivated");
}

#[test]
fn answer_unknown_ticket_is_not_found() {
    World::new()
        .when(&agent(a1()), answer(1))
        .rejects("NOT_FOUND", "ticket");
}

#[test]
fn answer_deleted_ticket_fails() {
    deleted(answered(basic()))
        .when(&agent(a1()), answer(10))
        .rejects("FAILED_PRECONDITION", "deleted");
}

#[test]
fn answer_resolved_ticket_fails() {
    resolved(answered(basic()))
        .when(&agent(a1()), answer(10))
        .rejects("FAILED_PRECONDITION", "resolved");
}

#[test]
fn answer_length_limits() {
    let world = basic();
    world.when(&agent(a1()), answer(0)).rejects_field("chars");
    world
        .when(&agent(a1()), answer(64 * 1024 + 1))
        .rejects_field("chars");
    world.when(&agent(a1()), answer(64 * 1024)).ok();
    world.when(&agent(a1()), answer(1)).ok();
}

// --- RecordCustomerReply ---------------------------------------------------------------------

#[test]
fn customer_reply_to_an_answered_ticket() {
    answered(basic())
        .when(&integration(&[]), reply())
        .then(evs![TicketCustomerReplied { ticket: t1() }]);
}

#[test]
fn customer_reply_to_a_new_ticket() {
    basic()
        .when(&integration(&[]), reply())
        .then(evs![TicketCustomerReplied { ticket: t1() }]);
}

#[test]
fn customer_reply_reopens_a_resolved_ticket() {
    resolved(answered(basic()))
        .when(&integration(&[]), reply())
        .then(evs![
            TicketReopened {
                ticket: t1(),
                by: Actor::Integration(token_id(1))
            },
            TicketCustomerReplied { ticket: t1() },
        ]);
}

#[test]
fn customer_reply_to_unknown_ticket_is_not_found() {
    World::new()
        .when(&integration(&[]), reply())
        .rejects("NOT_FOUND", "ticket");
}

#[test]
fn customer_reply_to_deleted_ticket_fails() {
    deleted(answered(basic()))
        .when(&integration(&[]), reply())
        .rejects("FAILED_PRECONDITION", "deleted");
}

// --- the status machine ----------------------------------------------------------------------

#[test]
fn status_new_answered_open_resolved_open_deleted() {
    let world = basic();
    assert_eq!(status(&world), TicketStatus::New);

    // A customer reply before any answer leaves the ticket new.
    let world = world.run(&integration(&[]), reply());
    assert_eq!(status(&world), TicketStatus::New);

    let world = world.run(&agent(a1()), answer(10));
    assert_eq!(status(&world), TicketStatus::Answered);
    let world = world.run(&agent(a1()), answer(10));
    assert_eq!(status(&world), TicketStatus::Answered);

    let world = world.run(&integration(&[]), reply());
    assert_eq!(status(&world), TicketStatus::Open);
    let world = world.run(&integration(&[]), reply());
    assert_eq!(status(&world), TicketStatus::Open);

    let world = world.run(&agent(a1()), answer(10));
    assert_eq!(status(&world), TicketStatus::Answered);
    let world = world.run(&integration(&[]), reply());
    assert_eq!(status(&world), TicketStatus::Open);

    let world = world.run(&agent(a1()), resolve());
    assert_eq!(status(&world), TicketStatus::Resolved);

    let world = world.run(&agent(a1()), reopen());
    assert_eq!(status(&world), TicketStatus::Open);

    let world = world.run(&agent(a1()), resolve());
    let world = world.run(&integration(&[]), reply());
    assert_eq!(
        status(&world),
        TicketStatus::Open,
        "a customer reply reopens"
    );

    let world = world.run(&admin(boss()), delete());
    assert_eq!(status(&world), TicketStatus::Deleted);
}

#[test]
fn deleted_is_final() {
    let world = deleted(resolved(answered(basic())));
    let mut cmds = work_commands(a1());
    cmds.push(reply().into());
    for cmd in cmds {
        world
            .when(&owner(boss()), cmd)
            .rejects("FAILED_PRECONDITION", "deleted");
    }
}

// --- TagTicket / UntagTicket -----------------------------------------------------------------

#[test]
fn tag_ticket() {
    basic()
        .when(&agent(a1()), tag("billing"))
        .then(evs![TicketTagged {
            ticket: t1(),
            tag: "billing".into(),
            by: Actor::Agent(a1())
        }]);
}

#[test]
fn tag_by_an_integration_is_by_the_integration() {
    basic()
        .when(&integration(&[]), tag("billing"))
        .then(evs![TicketTagged {
            ticket: t1(),
            tag: "billing".into(),
            by: Actor::Integration(token_id(1)),
        }]);
}

#[test]
fn tag_resolved_ticket() {
    resolved(answered(basic()))
        .when(&agent(a1()), tag("billing"))
        .then(evs![TicketTagged {
            ticket: t1(),
            tag: "billing".into(),
            by: Actor::Agent(a1())
        }]);
}

#[test]
fn tag_twice_fails() {
    tagged(basic(), &["billing"])
        .when(&agent(a1()), tag("billing"))
        .rejects("FAILED_PRECONDITION", "already has the tag");
}

#[test]
fn tag_unknown_ticket_is_not_found() {
    World::new()
        .when(&agent(a1()), tag("x"))
        .rejects("NOT_FOUND", "ticket");
}

#[test]
fn tag_input_limits() {
    let world = basic();
    world
        .when(&agent(a1()), tag(&"t".repeat(65)))
        .rejects_field("tag");
    world.when(&agent(a1()), tag(&"ü".repeat(64))).ok();
    world.when(&agent(a1()), tag("  ")).rejects_field("tag");
    world
        .when(&agent(a1()), tag("two\nlines"))
        .rejects_field("tag");
}

#[test]
fn at_most_50_tags_per_ticket() {
    let names: Vec<String> = (0..49).map(|i| format!("tag{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let world = tagged(basic(), &names);
    world
        .when(&agent(a1()), tag("tag49"))
        .then(evs![TicketTagged {
            ticket: t1(),
            tag: "tag49".into(),
            by: Actor::Agent(a1())
        }]);
    let world = world.run(&agent(a1()), tag("tag49"));
    assert_eq!(ticket_state(&world).tags.len(), 50);
    world.when(&agent(a1()), tag("tag50")).rejects_field("tag");
    // Making room allows another.
    world
        .run(&agent(a1()), untag("tag0"))
        .when(&agent(a1()), tag("tag50"))
        .ok();
}

#[test]
fn untag_ticket() {
    tagged(basic(), &["billing", "vip"])
        .when(&agent(a1()), untag("vip"))
        .then(evs![TicketUntagged {
            ticket: t1(),
            tag: "vip".into(),
            by: Actor::Agent(a1())
        }]);
}

#[test]
fn untag_a_tag_the_ticket_does_not_have_fails() {
    tagged(basic(), &["billing"])
        .when(&agent(a1()), untag("vip"))
        .rejects("FAILED_PRECONDITION", "has no tag");
}

#[test]
fn untag_unknown_ticket_is_not_found() {
    World::new()
        .when(&agent(a1()), untag("x"))
        .rejects("NOT_FOUND", "ticket");
}

#[test]
fn untag_input_limits() {
    let world = basic();
    world
        .when(&agent(a1()), untag(&"t".repeat(65)))
        .rejects_field("tag");
    world.when(&agent(a1()), untag("")).rejects_field("tag");
}

#[test]
fn untag_deleted_ticket_fails() {
    deleted(tagged(basic(), &["vip"]))
        .when(&agent(a1()), untag("vip"))
        .rejects("FAILED_PRECONDITION", "deleted");
}

// --- ResolveTicket ---------------------------------------------------------------------------

#[test]
fn resolve_answered_ticket() {
    answered(basic())
        .when(&agent(a1()), resolve())
        .then(evs![TicketResolved {
            ticket: t1(),
            by: Actor::Agent(a1())
        }]);
}

#[test]
fn resolve_open_ticket() {
    replied(answered(basic()))
        .when(&agent(a1()), resolve())
        .then(evs![TicketResolved {
            ticket: t1(),
            by: Actor::Agent(a1())
        }]);
}

#[test]
fn resolve_new_ticket() {
    // Our reading: a ticket may be closed without an answer (spam, duplicates).
    basic()
        .when(&agent(a1()), resolve())
        .then(evs![TicketResolved {
            ticket: t1(),
            by: Actor::Agent(a1())
        }]);
}

#[test]
fn resolve_resolved_ticket_fails() {
    resolved(answered(basic()))
        .when(&agent(a1()), resolve())
        .rejects("FAILED_PRECONDITION", "resolved");
}

#[test]
fn resolve_unknown_ticket_is_not_found() {
    World::new()
        .when(&agent(a1()), resolve())
        .rejects("NOT_FOUND", "ticket");
}

#[test]
fn resolve_deleted_ticket_fails() {
    deleted(answered(basic()))
        .when(&agent(a1()), resolve())
        .rejects("FAILED_PRECONDITION", "deleted");
}

#[test]
fn resolve_by_an_integration_is_by_the_integration() {
    basic()
        .when(&integration(&[]), resolve())
        .then(evs![TicketResolved {
            ticket: t1(),
            by: Actor::Integration(token_id(1))
        }]);
}

// --- ReopenTicket ----------------------------------------------------------------------------

#[test]
fn reopen_resolved_ticket() {
    let world = resolved(answered(basic()));
    world
        .when(&agent(a1()), reopen())
        .then(evs![TicketReopened {
            ticket: t1(),
            by: Actor::Agent(a1())
        }]);
    assert_eq!(
        status(&world.run(&agent(a1()), reopen())),
        TicketStatus::Open
    );
}

#[test]
fn reopening_a_ticket_that_is_not_resolved_fails() {
    basic()
        .when(&agent(a1()), reopen())
        .rejects("FAILED_PRECONDITION", "is new, not resolved");
    answered(basic())
        .when(&agent(a1()), reopen())
        .rejects("FAILED_PRECONDITION", "is answered, not resolved");
    replied(answered(basic()))
        .when(&agent(a1()), reopen())
        .rejects("FAILED_PRECONDITION", "is open, not resolved");
}

#[test]
fn reopen_deleted_ticket_fails() {
    deleted(resolved(answered(basic())))
        .when(&agent(a1()), reopen())
        .rejects("FAILED_PRECONDITION", "deleted");
}

#[test]
fn reopen_unknown_ticket_is_not_found() {
    World::new()
        .when(&agent(a1()), reopen())
        .rejects("NOT_FOUND", "ticket");
}

// --- DeleteTicket ----------------------------------------------------------------------------

#[test]
fn delete_ticket() {
    basic()
        .when(&custom(boss(), &[Permission::TicketsDelete]), delete())
        .then(evs![TicketDeleted {
            ticket: t1(),
            by: Actor::Agent(boss())
        }]);
}

#[test]
fn delete_ticket_in_any_live_status() {
    for world in [
        answered(basic()),
        replied(answered(basic())),
        resolved(answered(basic())),
    ] {
        world
            .when(&admin(boss()), delete())
            .then(evs![TicketDeleted {
                ticket: t1(),
                by: Actor::Agent(boss())
            }]);
    }
}

#[test]
fn delete_needs_tickets_delete() {
    let world = basic();
    world
        .when(&agent(a1()), delete())
        .rejects("PERMISSION_DENIED", "tickets.delete");
    world
        .when(
            &custom(
                a1(),
                &[Permission::TicketsAssign, Permission::TicketsTransfer],
            ),
            delete(),
        )
        .rejects("PERMISSION_DENIED", "tickets.delete");
    // Checked before the ticket is looked up.
    World::new()
        .when(&agent(a1()), delete())
        .rejects("PERMISSION_DENIED", "tickets.delete");
}

#[test]
fn delete_unknown_ticket_is_not_found() {
    World::new()
        .when(&admin(boss()), delete())
        .rejects("NOT_FOUND", "ticket");
}

#[test]
fn delete_deleted_ticket_fails() {
    deleted(basic())
        .when(&admin(boss()), delete())
        .rejects("FAILED_PRECONDITION", "deleted");
}

#[test]
fn delete_by_an_integration_is_by_the_integration() {
    basic()
        .when(&integration(&[Permission::TicketsDelete]), delete())
        .then(evs![TicketDeleted {
            ticket: t1(),
            by: Actor::Integration(token_id(1))
        }]);
}

// --- acting as another agent -----------------------------------------------------------------

#[test]
fn acting_as_another_agent_needs_system_import() {
    // Everything the caller may do itself, but for a2.
    let world = tagged(answered(basic()), &["vip"]).department(d1(), &[]);
    let world = world.given(
        AggregateId::ticket(t1()),
        evs![TicketTransferred {
            ticket: t1(),
            from: None,
            to: d2(),
            by: Actor::System
        }],
    );
    let world = world.department(d2(), &[a1(), a2()]);
    let caller = custom(
        a1(),
        &[
            Permission::TicketsTransfer,
            Permission::TicketsDelete,
            Permission::TicketsViewAll,
        ],
    );
    let cmds: Vec<Command> = vec![
        TransferTicket {
            ticket: t1(),
            department: d1(),
            agent: Some(a2()),
        }
        .into(),
        AnswerTicket {
            ticket: t1(),
            agent: Some(a2()),
            chars: 3,
        }
        .into(),
        TagTicket {
            ticket: t1(),
            tag: "new".into(),
            agent: Some(a2()),
        }
        .into(),
        UntagTicket {
            ticket: t1(),
            tag: "vip".into(),
            agent: Some(a2()),
        }
        .into(),
        ResolveTicket {
            ticket: t1(),
            agent: Some(a2()),
        }
        .into(),
        DeleteTicket {
            ticket: t1(),
            agent: Some(a2()),
        }
        .into(),
    ];
    for cmd in cmds.clone() {
        world
            .when(&caller, cmd)
            .rejects("PERMISSION_DENIED", "system.import");
    }
    let importer = custom(
        a1(),
        &[
            Permission::TicketsTransfer,
            Permission::TicketsDelete,
            Permission::TicketsViewAll,
            Permission::SystemImport,
        ],
    );
    let by = Actor::Agent(a2());
    let expected: Vec<Vec<Event>> = vec![
        evs![TicketTransferred {
            ticket: t1(),
            from: Some(d2()),
            to: d1(),
            by
        }],
        evs![TicketAnswered {
            ticket: t1(),
            agent: a2(),
            chars: 3
        }],
        evs![TicketTagged {
            ticket: t1(),
            tag: "new".into(),
            by
        }],
        evs![TicketUntagged {
            ticket: t1(),
            tag: "vip".into(),
            by
        }],
        evs![TicketResolved { ticket: t1(), by }],
        evs![TicketDeleted { ticket: t1(), by }],
    ];
    for (cmd, events) in cmds.into_iter().zip(expected) {
        world.when(&importer, cmd).then(events);
    }
}

#[test]
fn reopening_as_another_agent_needs_system_import() {
    let world = resolved(answered(basic()));
    let cmd = ReopenTicket {
        ticket: t1(),
        agent: Some(a2()),
    };
    world
        .when(&agent(a1()), cmd.clone())
        .rejects("PERMISSION_DENIED", "system.import");
    world
        .when(&integration(&[Permission::SystemImport]), cmd)
        .then(evs![TicketReopened {
            ticket: t1(),
            by: Actor::Agent(a2())
        }]);
}

#[test]
fn acting_as_an_unknown_agent_is_not_found() {
    let importer = integration(&[Permission::SystemImport, Permission::TicketsDelete]);
    let world = resolved(answered(tagged(basic(), &["vip"])));
    let cmds: Vec<Command> = vec![
        TagTicket {
            ticket: t1(),
            tag: "new".into(),
            agent: Some(a3()),
        }
        .into(),
        UntagTicket {
            ticket: t1(),
            tag: "vip".into(),
            agent: Some(a3()),
        }
        .into(),
        ResolveTicket {
            ticket: t1(),
            agent: Some(a3()),
        }
        .into(),
        ReopenTicket {
            ticket: t1(),
            agent: Some(a3()),
        }
        .into(),
        DeleteTicket {
            ticket: t1(),
            agent: Some(a3()),
        }
        .into(),
    ];
    for cmd in cmds {
        world.when(&importer, cmd).rejects("NOT_FOUND", "agent");
    }
}

// --- department visibility -------------------------------------------------------------------

/// Every ticket permission except `tickets.view_all`.
fn worker(a: AgentId) -> Principal {
    custom(
        a,
        &[
            Permission::TicketsAssign,
            Permission::TicketsTransfer,
            Permission::TicketsDelete,
        ],
    )
}

/// t1 in d1 (members a2), d2 exists (members a1 and a2), tagged "vip", resolved.
fn departmental() -> World {
    let world = World::new()
        .agent(a1())
        .agent(a2())
        .department(d1(), &[a2()])
        .department(d2(), &[a1(), a2()])
        .ticket(t1(), Priority::Normal, Some(d1()));
    resolved(answered(tagged(world, &["vip"])))
}

#[test]
fn a_ticket_outside_ones_departments_is_not_visible() {
    let world = departmental();
    for cmd in work_commands(a1()) {
        let name = cmd.name();
        let err = world
            .when(&worker(a1()), cmd)
            .rejects("PERMISSION_DENIED", "tickets.view_all");
        assert!(
            err.to_string().contains("not in your departments"),
            "{name}: {err}"
        );
    }
}

#[test]
fn a_member_sees_the_ticket() {
    let world = departmental();
    world
        .when(&worker(a2()), reopen())
        .then(evs![TicketReopened {
            ticket: t1(),
            by: Actor::Agent(a2())
        }]);
    world
        .when(&worker(a2()), untag("vip"))
        .then(evs![TicketUntagged {
            ticket: t1(),
            tag: "vip".into(),
            by: Actor::Agent(a2())
        }]);
}

#[test]
fn the_assignee_sees_the_ticket_outside_their_departments() {
    let world = assigned(departmental(), a1());
    world
        .when(&worker(a1()), reopen())
        .then(evs![TicketReopened {
            ticket: t1(),
            by: Actor::Agent(a1())
        }]);
    world
        .when(&worker(a1()), unassign())
        .then(evs![TicketUnassigned {
            ticket: t1(),
            agent: a1(),
            by: Actor::Agent(a1())
        }]);
}

#[test]
fn tickets_view_all_sees_every_ticket() {
    let world = departmental();
    let permissions = [Permission::TicketsViewAll, Permission::TicketsTransfer];
    world
        .when(&custom(a1(), &permissions), reopen())
        .then(evs![TicketReopened {
            ticket: t1(),
            by: Actor::Agent(a1())
        }]);
    world
        .when(&custom(a1(), &permissions), transfer(d2()))
        .then(evs![TicketTransferred {
            ticket: t1(),
            from: Some(d1()),
            to: d2(),
            by: Actor::Agent(a1()),
        }]);
    // An integration without tickets.view_all is no member of anything.
    world
        .when(&integration(&[]), reopen())
        .rejects("PERMISSION_DENIED", "tickets.view_all");
}

#[test]
fn without_departments_everyone_sees_everything() {
    let world = resolved(answered(tagged(basic(), &["vip"])));
    world
        .when(&agent(a1()), reopen())
        .then(evs![TicketReopened {
            ticket: t1(),
            by: Actor::Agent(a1())
        }]);
    world
        .when(&integration(&[]), reopen())
        .then(evs![TicketReopened {
            ticket: t1(),
            by: Actor::Integration(token_id(1))
        }]);
}

#[test]
fn a_ticket_without_department_is_seen_by_its_assignee_only_once_there_are_departments() {
    let world = resolved(answered(basic())).department(d1(), &[a1(), a2()]);
    world
        .when(&agent(a1()), reopen())
        .rejects("PERMISSION_DENIED", "tickets.view_all");
    assigned(world, a1())
        .when(&agent(a1()), reopen())
        .then(evs![TicketReopened {
            ticket: t1(),
            by: Actor::Agent(a1())
        }]);
}

#[test]
fn an_unknown_ticket_is_not_found_even_for_those_who_could_not_see_it() {
    World::new()
        .department(d1(), &[a2()])
        .when(&agent(a1()), answer(3))
        .rejects("NOT_FOUND", "ticket");
}

#[test]
fn customer_replies_need_visibility_unless_an_integration_records_them() {
    departmental().when(&integration(&[]), reply()).then(evs![
        TicketReopened {
            ticket: t1(),
            by: Actor::Integration(token_id(1))
        },
        TicketCustomerReplied { ticket: t1() },
    ]);
    // It would reopen the ticket: an agent records it only for a ticket they see.
    departmental()
        .when(&agent(a1()), reply())
        .rejects("PERMISSION_DENIED", "tickets.view_all");
    departmental().when(&agent(a2()), reply()).ok();
}

/// An import says who assigned and unassigned a ticket, so that the importing account is
/// not credited with the work; acting for another agent needs `system.import`.
#[test]
fn an_import_names_who_assigns_and_unassigns() {
    let importer = integration(&[Permission::SystemImport]);
    let world = || {
        World::new()
            .agent(a1())
            .agent(a2())
            .ticket(t1(), Priority::Normal, None)
    };
    world()
        .when(
            &importer,
            AssignTicket {
                by: Some(a2()),
                ..assign(a1())
            },
        )
        .then(evs![TicketAssigned {
            ticket: t1(),
            agent: a1(),
            by: Actor::Agent(a2()),
        }]);
    assigned(world(), a1())
        .when(
            &importer,
            UnassignTicket {
                by: Some(a1()),
                ..unassign()
            },
        )
        .then(evs![TicketUnassigned {
            ticket: t1(),
            agent: a1(),
            by: Actor::Agent(a1()),
        }]);
    world()
        .when(
            &agent(a1()),
            AssignTicket {
                by: Some(a2()),
                ..assign(a1())
            },
        )
        .rejects("PERMISSION_DENIED", "system.import");
}
