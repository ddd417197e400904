//! Agent commands: registration, roles, presence, pauses.

mod common;

use common::*;
use helpdesk_domain::command::*;
use helpdesk_domain::event::*;
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

fn register(role: Role) -> RegisterAgent {
    RegisterAgent {
        agent_id: a1(),
        name: "Ada".into(),
        email: "ada@example.com".into(),
        role,
    }
}

fn pause(agent: AgentId, minutes: Option<u32>) -> PauseAgent {
    PauseAgent {
        agent,
        reason: PauseReason::Text("lunch".into()),
        planned_minutes: minutes,
    }
}

fn resume(agent: AgentId, reason: Option<ResumeReason>) -> ResumeAgent {
    ResumeAgent { agent, reason }
}

// --- RegisterAgent -----------------------------------------------------------------------

#[test]
fn register_agent() {
    World::new()
        .when(&admin(boss()), register(Role::Agent))
        .then(evs![AgentRegistered {
            agent: a1(),
            name: "Ada".into(),
            email: "ada@example.com".into(),
            role: Role::Agent,
        }]);
}

#[test]
fn register_agent_twice_fails() {
    World::new()
        .agent(a1())
        .when(&admin(boss()), register(Role::Agent))
        .rejects("FAILED_PRECONDITION", "already exists");
}

#[test]
fn register_agent_needs_agents_manage() {
    World::new()
        .when(&agent(boss()), register(Role::Agent))
        .rejects("PERMISSION_DENIED", "agents.manage");
}

#[test]
fn only_an_owner_registers_administrators_and_owners() {
    World::new()
        .when(&admin(boss()), register(Role::Administrator))
        .rejects("PERMISSION_DENIED", "Owner");
    World::new()
        .when(
            &custom(boss(), &[Permission::AgentsManage]),
            register(Role::Owner),
        )
        .rejects("PERMISSION_DENIED", "Owner");
    World::new()
        .when(&owner(boss()), register(Role::Administrator))
        .ok();
    World::new().when(&system(), register(Role::Owner)).ok();
}

#[test]
fn register_agent_with_unknown_custom_role_is_not_found() {
    World::new()
        .when(&admin(boss()), register(Role::Custom(role_id(5))))
        .rejects("NOT_FOUND", "role");
}

#[test]
fn register_agent_input_limits() {
    let mut c = register(Role::Agent);
    c.name = "x".repeat(201);
    World::new().when(&admin(boss()), c).rejects_field("name");
    let mut c = register(Role::Agent);
    c.name = "  ".into();
    World::new().when(&admin(boss()), c).rejects_field("name");
    let mut c = register(Role::Agent);
    c.name = "é".repeat(200); // 200 characters, 400 bytes: fine
    World::new().when(&admin(boss()), c).ok();
    let mut c = register(Role::Agent);
    c.email = "not-an-address".into();
    World::new().when(&admin(boss()), c).rejects_field("email");
}

// --- ChangeAgentRole ---------------------------------------------------------------------

#[test]
fn change_agent_role() {
    World::new()
        .agent(a1())
        .when(
            &admin(boss()),
            ChangeAgentRole {
                agent: a1(),
                role: Role::Custom(role_id(1)),
            },
        )
        .rejects("NOT_FOUND", "role");
    World::new()
        .agent(a1())
        .given(
            AggregateId::config(),
            evs![RoleDefined {
                role_id: role_id(1),
                name: "Lead".into(),
                permissions: Permissions::empty()
            }],
        )
        .when(
            &admin(boss()),
            ChangeAgentRole {
                agent: a1(),
                role: Role::Custom(role_id(1)),
            },
        )
        .then(evs![AgentRoleChanged {
            agent: a1(),
            role: Role::Custom(role_id(1)),
            previous: Role::Agent
        }]);
}

#[test]
fn change_role_of_unknown_agent_is_not_found() {
    World::new()
        .when(
            &admin(boss()),
            ChangeAgentRole {
                agent: a1(),
                role: Role::Agent,
            },
        )
        .rejects("NOT_FOUND", "agent");
}

#[test]
fn change_role_to_the_same_role_fails() {
    World::new()
        .agent(a1())
        .when(
            &admin(boss()),
            ChangeAgentRole {
                agent: a1(),
                role: Role::Agent,
            },
        )
        .rejects("FAILED_PRECONDITION", "already has the role");
}

#[test]
fn change_role_needs_agents_manage() {
    World::new()
        .agent(a1())
        .when(
            &agent(boss()),
            ChangeAgentRole {
                agent: a1(),
                role: Role::Agent,
            },
        )
        .rejects("PERMISSION_DENIED", "agents.manage");
}

#[test]
fn an_administrator_cannot_change_an_owner() {
    World::new()
        .agent_with_role(a1(), Role::Owner)
        .when(
            &admin(boss()),
            ChangeAgentRole {
                agent: a1(),
                role: Role::Agent,
            },
        )
        .rejects("PERMISSION_DENIED", "only an Owner changes an Owner");
    World::new()
        .agent_with_role(a1(), Role::Owner)
        .when(
            &owner(boss()),
            ChangeAgentRole {
                agent: a1(),
                role: Role::Agent,
            },
        )
        .ok();
}

#[test]
fn a_custom_role_cannot_change_administrators() {
    World::new()
        .agent_with_role(a1(), Role::Administrator)
        .when(
            &custom(boss(), &[Permission::AgentsManage]),
            ChangeAgentRole {
                agent: a1(),
                role: Role::Agent,
            },
        )
        .rejects("PERMISSION_DENIED", "Administrator");
}

#[test]
fn only_an_owner_promotes_to_administrator() {
    World::new()
        .agent(a1())
        .when(
            &admin(boss()),
            ChangeAgentRole {
                agent: a1(),
                role: Role::Administrator,
            },
        )
        .rejects("PERMISSION_DENIED", "only an Owner");
}

// --- GoOnline / GoOffline ----------------------------------------------------------------

#[test]
fn go_online() {
    World::new()
        .agent(a1())
        .when(&agent(a1()), GoOnline { agent: a1() })
        .then(evs![AgentWentOnline { agent: a1() }]);
}

#[test]
fn go_online_twice_fails() {
    World::new()
        .online_agent(a1())
        .when(&agent(a1()), GoOnline { agent: a1() })
        .rejects("FAILED_PRECONDITION", "is online");
}

#[test]
fn going_online_for_another_agent_needs_system_import() {
    World::new()
        .agent(a1())
        .when(
            &custom(a2(), &[Permission::AgentsPauseOthers]),
            GoOnline { agent: a1() },
        )
        .rejects("PERMISSION_DENIED", "system.import");
    World::new()
        .agent(a1())
        .when(
            &integration(&[Permission::SystemImport]),
            GoOnline { agent: a1() },
        )
        .ok();
}

#[test]
fn go_online_unknown_agent_is_not_found() {
    World::new()
        .when(&agent(a1()), GoOnline { agent: a1() })
        .rejects("NOT_FOUND", "agent");
}

#[test]
fn go_offline() {
    World::new()
        .online_agent(a1())
        .when(&agent(a1()), GoOffline { agent: a1() })
        .then(evs![AgentWentOffline { agent: a1() }]);
}

#[test]
fn go_offline_when_offline_fails() {
    World::new()
        .agent(a1())
        .when(&agent(a1()), GoOffline { agent: a1() })
        .rejects("FAILED_PRECONDITION", "is offline");
}

#[test]
fn going_offline_closes_the_pause_first() {
    World::new()
        .online_agent(a1())
        .run(&agent(a1()), pause(a1(), None))
        .when(&agent(a1()), GoOffline { agent: a1() })
        .then(evs![
            AgentResumed {
                agent: a1(),
                reason: ResumeReason::WentOffline
            },
            AgentWentOffline { agent: a1() },
        ]);
}

// --- PauseAgent --------------------------------------------------------------------------

#[test]
fn pause_agent_with_a_planned_end() {
    World::new()
        .online_agent(a1())
        .when(&agent(a1()), pause(a1(), Some(15)))
        .then(evs![AgentPaused {
            agent: a1(),
            reason: PauseReason::Text("lunch".into()),
            planned_end: Some(T0.plus_minutes(15)),
        }]);
}

#[test]
fn pausing_an_offline_agent_fails() {
    World::new()
        .agent(a1())
        .when(&agent(a1()), pause(a1(), None))
        .rejects("FAILED_PRECONDITION", "offline");
}

#[test]
fn pausing_a_paused_agent_fails() {
    World::new()
        .online_agent(a1())
        .run(&agent(a1()), pause(a1(), Some(10)))
        .when(&agent(a1()), pause(a1(), None))
        .rejects("FAILED_PRECONDITION", "paused");
}

#[test]
fn a_pause_past_its_planned_end_is_over() {
    let world = World::new()
        .online_agent(a1())
        .run(&agent(a1()), pause(a1(), Some(10)))
        .at(T0.plus_minutes(10));
    let State::Agent(state) = world.state(AggregateId::agent(a1())) else {
        unreachable!()
    };
    assert!(state.is_paused(T0.plus_minutes(10).plus_millis(-1)));
    assert!(!state.is_paused(T0.plus_minutes(10)));
    world.when(&agent(a1()), pause(a1(), None)).ok();
}

#[test]
fn pausing_another_agent_needs_pause_others() {
    let world = World::new().online_agent(a1());
    world
        .when(&agent(a2()), pause(a1(), None))
        .rejects("PERMISSION_DENIED", "agents.pause_others");
    world
        .when(
            &custom(a2(), &[Permission::AgentsPauseOthers]),
            pause(a1(), None),
        )
        .ok();
}

#[test]
fn pause_input_limits() {
    let world = World::new().online_agent(a1());
    world
        .when(&agent(a1()), pause(a1(), Some(0)))
        .rejects_field("planned_minutes");
    world
        .when(&agent(a1()), pause(a1(), Some(1441)))
        .rejects_field("planned_minutes");
    world.when(&agent(a1()), pause(a1(), Some(1440))).ok();
    let long = PauseAgent {
        agent: a1(),
        reason: PauseReason::Text("z".repeat(201)),
        planned_minutes: None,
    };
    world.when(&agent(a1()), long).rejects_field("reason");
}

#[test]
fn auto_pause_after_a_miss() {
    let conversation = ConversationRef::chat(chat_id(1));
    World::new()
        .online_agent(a1())
        .when(
            &system(),
            PauseAgent {
                agent: a1(),
                reason: PauseReason::AutoMissed { conversation },
                planned_minutes: None,
            },
        )
        .then(evs![AgentPaused {
            agent: a1(),
            reason: PauseReason::AutoMissed { conversation },
            planned_end: None,
        }]);
}

// --- ResumeAgent -------------------------------------------------------------------------

fn paused_world() -> World {
    World::new()
        .online_agent(a1())
        .run(&agent(a1()), pause(a1(), Some(30)))
        .at(T0.plus_minutes(5))
}

#[test]
fn resume_agent_manually() {
    paused_world()
        .when(&agent(a1()), resume(a1(), None))
        .then(evs![AgentResumed {
            agent: a1(),
            reason: ResumeReason::Manual
        }]);
}

#[test]
fn resume_another_agent_is_by_admin() {
    paused_world()
        .when(
            &custom(a2(), &[Permission::AgentsPauseOthers]),
            resume(a1(), None),
        )
        .then(evs![AgentResumed {
            agent: a1(),
            reason: ResumeReason::ByAdmin
        }]);
}

#[test]
fn resuming_another_agent_needs_pause_others() {
    paused_world()
        .when(&agent(a2()), resume(a1(), None))
        .rejects("PERMISSION_DENIED", "agents.pause_others");
}

#[test]
fn resuming_an_agent_who_is_not_paused_fails() {
    World::new()
        .online_agent(a1())
        .when(&agent(a1()), resume(a1(), None))
        .rejects("FAILED_PRECONDITION", "not paused");
}

#[test]
fn planned_end_is_the_systems_and_only_when_due() {
    let world = paused_world();
    world
        .when(&agent(a1()), resume(a1(), Some(ResumeReason::PlannedEnd)))
        .rejects("PERMISSION_DENIED", "planned end");
    world
        .when(&system(), resume(a1(), Some(ResumeReason::PlannedEnd)))
        .rejects("FAILED_PRECONDITION", "not yet");
    world
        .at(T0.plus_minutes(30))
        .when(&system(), resume(a1(), Some(ResumeReason::PlannedEnd)))
        .then(evs![AgentResumed {
            agent: a1(),
            reason: ResumeReason::PlannedEnd
        }]);
}

#[test]
fn went_offline_is_not_a_reason_to_ask_for() {
    paused_world()
        .when(&agent(a1()), resume(a1(), Some(ResumeReason::WentOffline)))
        .rejects_field("reason");
}

#[test]
fn planned_resume_is_derived_from_the_pause() {
    let world = paused_world();
    let State::Agent(state) = world.state(AggregateId::agent(a1())) else {
        unreachable!()
    };
    assert_eq!(planned_resume(&state, a1(), T0.plus_minutes(29)), None);
    let (id, at, cmd) = planned_resume(&state, a1(), T0.plus_minutes(45)).unwrap();
    assert_eq!(at, T0.plus_minutes(30));
    let pause_id = state.pause.as_ref().unwrap().command_id;
    assert_eq!(id, uuid::Uuid::new_v5(&pause_id, b"planned_end"));
    assert_eq!(
        planned_resume(&state, a1(), T0.plus_minutes(50)).unwrap().0,
        id,
        "re-runs dedupe"
    );
    // The command it returns is accepted by the system at the planned end.
    world.at(at).when(&system(), cmd).ok();
}

#[test]
fn no_planned_resume_for_open_ended_pauses() {
    let world = World::new()
        .online_agent(a1())
        .run(&agent(a1()), pause(a1(), None));
    let State::Agent(state) = world.state(AggregateId::agent(a1())) else {
        unreachable!()
    };
    assert_eq!(planned_resume(&state, a1(), T0.plus_minutes(10_000)), None);
}

// --- DeactivateAgent ---------------------------------------------------------------------

#[test]
fn deactivate_agent_goes_offline_and_closes_the_pause() {
    World::new()
        .online_agent(a1())
        .run(&agent(a1()), pause(a1(), None))
        .when(&admin(boss()), DeactivateAgent { agent: a1() })
        .then(evs![
            AgentResumed {
                agent: a1(),
                reason: ResumeReason::WentOffline
            },
            AgentWentOffline { agent: a1() },
            AgentDeactivated { agent: a1() },
        ]);
}

#[test]
fn deactivate_needs_agents_manage_and_standing() {
    World::new()
        .agent(a1())
        .when(&agent(boss()), DeactivateAgent { agent: a1() })
        .rejects("PERMISSION_DENIED", "agents.manage");
    World::new()
        .agent_with_role(a1(), Role::Owner)
        .when(&admin(boss()), DeactivateAgent { agent: a1() })
        .rejects("PERMISSION_DENIED", "Owner");
}

#[test]
fn anything_on_a_deactivated_agent_fails() {
    let world = World::new()
        .online_agent(a1())
        .run(&admin(boss()), DeactivateAgent { agent: a1() });
    let cmds: Vec<Command> = vec![
        GoOnline { agent: a1() }.into(),
        GoOffline { agent: a1() }.into(),
        pause(a1(), None).into(),
        resume(a1(), None).into(),
        DeactivateAgent { agent: a1() }.into(),
        ChangeAgentRole {
            agent: a1(),
            role: Role::Administrator,
        }
        .into(),
    ];
    for cmd in cmds {
        world
            .when(&owner(boss()), cmd)
            .rejects("FAILED_PRECONDITION", "deactivated");
    }
}

// --- effective_time ----------------------------------------------------------------------

#[test]
fn effective_time_rules() {
    let importer = integration(&[Permission::SystemImport]);
    let now = T0;
    let last = Some(T0.plus_minutes(-10));
    assert_eq!(effective_time(None, now, last, &agent(a1())), Ok(now));
    assert_eq!(
        effective_time(None, now, Some(T0.plus_minutes(1)), &agent(a1())),
        Ok(T0.plus_minutes(1)),
        "never before the aggregate's last event"
    );
    let at = T0.plus_minutes(-5);
    assert_eq!(effective_time(Some(at), now, last, &importer), Ok(at));
    assert_eq!(effective_time(Some(now), now, last, &importer), Ok(now));
    let err = effective_time(Some(at), now, last, &agent(a1())).unwrap_err();
    assert_eq!(err.code(), "PERMISSION_DENIED");
    assert!(err.to_string().contains("system.import"));
    let err = effective_time(Some(T0.plus_minutes(-11)), now, last, &importer).unwrap_err();
    assert!(
        matches!(err, DomainError::InvalidArgument { ref field, .. } if field == "occurred_at")
    );
    let err = effective_time(Some(T0.plus_millis(1)), now, last, &importer).unwrap_err();
    assert!(
        matches!(err, DomainError::InvalidArgument { ref field, .. } if field == "occurred_at")
    );
}

#[test]
fn an_import_may_not_go_back_before_the_time_the_log_has_reached() {
    let reached = T0;
    let lag = limits::IMPORT_LAG_MAX_MILLIS;
    assert_eq!(check_import_time(T0.plus_minutes(1), reached), Ok(()));
    assert_eq!(check_import_time(T0, reached), Ok(()));
    assert_eq!(
        check_import_time(T0.plus_millis(-lag), reached),
        Ok(()),
        "importers running side by side may lag by the documented margin"
    );
    let err = check_import_time(T0.plus_millis(-lag - 1), reached).unwrap_err();
    assert_eq!(err.code(), "FAILED_PRECONDITION");
    let message = err.to_string();
    assert!(message.contains(&T0.for_people()), "{message}");
    assert!(
        message.contains(&T0.plus_millis(-lag - 1).for_people()),
        "{message}"
    );
    assert!(message.contains("new data directory"), "{message}");
}

// --- What a role may grant ---------------------------------------------------------------

/// A custom role that manages roles (and imports): more than `agents.manage` alone.
fn with_power_role() -> World {
    World::new().given(
        AggregateId::config(),
        vec![event::RoleDefined {
            role_id: role_id(7),
            name: "Power".into(),
            permissions: Permissions::empty()
                .with(Permission::RolesManage)
                .with(Permission::SystemImport),
        }
        .into()],
    )
}

#[test]
fn agents_manage_cannot_register_an_agent_into_a_more_powerful_role() {
    with_power_role()
        .agent(boss())
        .when(
            &custom(boss(), &[Permission::AgentsManage]),
            register(Role::Custom(role_id(7))),
        )
        .rejects("PERMISSION_DENIED", "roles.manage");
}

#[test]
fn agents_manage_cannot_move_an_agent_into_a_more_powerful_role() {
    with_power_role()
        .agent(a1())
        .agent(boss())
        .when(
            &custom(boss(), &[Permission::AgentsManage]),
            ChangeAgentRole {
                agent: a1(),
                role: Role::Custom(role_id(7)),
            },
        )
        .rejects("PERMISSION_DENIED", "only permissions the caller holds");
}

#[test]
fn nobody_changes_their_own_role() {
    with_power_role()
        .agent_with_role(boss(), Role::Owner)
        .when(
            &owner(boss()),
            ChangeAgentRole {
                agent: boss(),
                role: Role::Agent,
            },
        )
        .rejects("PERMISSION_DENIED", "own role");
}

#[test]
fn a_role_within_the_callers_permissions_may_be_granted() {
    with_power_role()
        .agent(a1())
        .when(
            &custom(
                boss(),
                &[
                    Permission::AgentsManage,
                    Permission::RolesManage,
                    Permission::SystemImport,
                ],
            ),
            ChangeAgentRole {
                agent: a1(),
                role: Role::Custom(role_id(7)),
            },
        )
        .ok();
}

// --- acting for another agent: standing --------------------------------------------------

/// The agent acted for in the tests below.
fn x() -> AgentId {
    agent_id(5)
}

/// Every way of acting for `x`, who holds `role`, each in a world where it fits: going
/// online and offline for them, pausing and resuming them, answering a ticket, accepting a
/// chat and recording a miss as them.
fn acting_for_x(role: Role) -> Vec<(World, Command)> {
    let registered = || World::new().agent_with_role(x(), role.clone());
    let online = || {
        registered().given(
            AggregateId::agent(x()),
            evs![AgentWentOnline { agent: x() }],
        )
    };
    let paused = || {
        online().given(
            AggregateId::agent(x()),
            evs![AgentPaused {
                agent: x(),
                reason: PauseReason::Text("lunch".into()),
                planned_end: None,
            }],
        )
    };
    let offered = || {
        online().given(
            AggregateId::chat(chat_id(1)),
            evs![
                ChatStarted {
                    chat: chat_id(1),
                    channel: Channel::Whatsapp,
                    department: None,
                },
                ChatOffered {
                    chat: chat_id(1),
                    agent: x(),
                }
            ],
        )
    };
    vec![
        (registered(), GoOnline { agent: x() }.into()),
        (online(), GoOffline { agent: x() }.into()),
        (online(), pause(x(), None).into()),
        (paused(), resume(x(), None).into()),
        (paused(), resume(x(), Some(ResumeReason::Manual)).into()),
        (
            online().ticket(ticket_id(1), Priority::Normal, None),
            AnswerTicket {
                ticket: ticket_id(1),
                agent: Some(x()),
                chars: 10,
            }
            .into(),
        ),
        (
            offered(),
            AcceptChat {
                chat: chat_id(1),
                agent: Some(x()),
            }
            .into(),
        ),
        (offered(), MissChat { chat: chat_id(1) }.into()),
    ]
}

#[test]
fn an_administrator_does_not_act_for_an_owner() {
    for (world, cmd) in acting_for_x(Role::Owner) {
        let name = cmd.name();
        let err = world
            .when(&admin(boss()), cmd)
            .rejects("PERMISSION_DENIED", "only an Owner acts for an Owner");
        assert!(err.to_string().contains("Owner"), "{name}: {err}");
    }
}

#[test]
fn a_custom_role_does_not_act_for_administrators_or_owners() {
    let importer = custom(
        boss(),
        &[Permission::SystemImport, Permission::AgentsPauseOthers],
    );
    for role in [Role::Administrator, Role::Owner] {
        for (world, cmd) in acting_for_x(role.clone()) {
            world
                .when(&importer, cmd)
                .rejects("PERMISSION_DENIED", &format!("acts for an {role}"));
        }
    }
    // An integration account's role counts the same way; but recording a miss is the
    // chat or telephone system's own job, for anyone.
    let integration = integration(&[Permission::SystemImport]);
    for (world, cmd) in acting_for_x(Role::Owner) {
        if matches!(cmd, Command::MissChat(_)) {
            world.when(&integration, cmd).ok();
        } else {
            world
                .when(&integration, cmd)
                .rejects("PERMISSION_DENIED", "only an Owner acts for an Owner");
        }
    }
}

#[test]
fn acting_for_those_one_could_manage_is_allowed() {
    let importer = custom(
        boss(),
        &[Permission::SystemImport, Permission::AgentsPauseOthers],
    );
    let allowed = [
        (owner(boss()), Role::Owner),
        (owner(boss()), Role::Administrator),
        (owner(boss()), Role::Agent),
        (admin(boss()), Role::Administrator),
        (admin(boss()), Role::Agent),
        (importer, Role::Agent),
        (system(), Role::Owner),
    ];
    for (caller, role) in allowed {
        for (world, cmd) in acting_for_x(role.clone()) {
            let name = cmd.name();
            let result = world.when(&caller, cmd).result;
            assert!(
                result.is_ok(),
                "{name} for an {role} by {:?}: {result:?}",
                caller.role
            );
        }
    }
}
