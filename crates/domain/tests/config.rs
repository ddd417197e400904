//! Configuration commands: organization, tokens, levels, badges, routing rules, roles, and
//! the clock.

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
fn d1() -> DepartmentId {
    department_id(1)
}

fn cfg() -> AggregateId {
    AggregateId::config()
}

/// Principals that hold `permission`: a custom role with only it, an integration with only
/// it, the system.
fn holders(permission: Permission) -> Vec<Principal> {
    vec![
        custom(boss(), &[permission]),
        integration(&[permission]),
        system(),
    ]
}

/// Principals that do not: a plain agent, a custom role and an integration with every
/// other permission.
fn lacking(permission: Permission) -> Vec<Principal> {
    let others: Vec<Permission> = Permission::ALL
        .into_iter()
        .filter(|p| *p != permission)
        .collect();
    vec![agent(boss()), custom(boss(), &others), integration(&others)]
}

/// An integration account with the standing of a built-in role.
fn integration_as(role: Role) -> Principal {
    Principal {
        actor: Actor::Integration(token_id(50)),
        agent: None,
        permissions: match role {
            Role::Owner => Permissions::all(),
            Role::Administrator => Permissions::all().without(Permission::RolesManage),
            _ => Permissions::empty(),
        },
        role,
    }
}

// --- SetUpOrganization -------------------------------------------------------------------

fn set_up(time_zone: &str) -> SetUpOrganization {
    SetUpOrganization {
        seed: [42; 32],
        time_zone: time_zone.into(),
    }
}

#[test]
fn set_up_organization() {
    World::new()
        .when(&system(), set_up("Europe/Ljubljana"))
        .then(evs![OrganizationSetUp {
            seed: [42; 32],
            time_zone: "Europe/Ljubljana".into(),
        }]);
}

#[test]
fn set_up_organization_folds_into_state() {
    let world = World::new().run(&system(), set_up("America/New_York"));
    let config = world.config();
    assert!(config.is_set_up());
    assert_eq!(config.seed, Some([42; 32]));
    assert_eq!(config.settings.time_zone, "America/New_York");
    // The rest keeps its defaults: auto-pause off, clover odds 1/1000, 3 custom roles.
    assert!(!config.settings.auto_pause);
    assert_eq!(config.settings.clover_odds, 0.001);
    assert_eq!(config.settings.max_custom_roles, 3);
}

#[test]
fn a_new_organization_is_in_utc() {
    let config = World::new().config();
    assert!(!config.is_set_up());
    assert_eq!(config.settings.time_zone, "UTC");
}

#[test]
fn setting_up_twice_fails() {
    World::new()
        .set_up()
        .when(&system(), set_up("UTC"))
        .rejects("FAILED_PRECONDITION", "set up already");
}

#[test]
fn only_the_system_sets_the_organization_up() {
    for p in [
        owner(boss()),
        admin(boss()),
        integration_as(Role::Owner),
        integration(&Permission::ALL),
    ] {
        World::new()
            .when(&p, set_up("UTC"))
            .rejects("PERMISSION_DENIED", "system");
    }
}

#[test]
fn set_up_needs_an_iana_time_zone() {
    for tz in ["Mars/Olympus_Mons", "", "  ", "Europe/Berlin ", "GMT+25"] {
        World::new()
            .when(&system(), set_up(tz))
            .rejects_field("time_zone");
    }
    World::new()
        .when(&system(), set_up(&format!("Europe/{}", "x".repeat(60))))
        .rejects_field("time_zone");
    for tz in [
        "UTC",
        "Europe/Berlin",
        "Asia/Kolkata",
        "America/Argentina/Buenos_Aires",
    ] {
        World::new().when(&system(), set_up(tz)).ok();
    }
}

// --- SetOrganizationSettings -------------------------------------------------------------

fn settings() -> SetOrganizationSettings {
    SetOrganizationSettings {
        time_zone: None,
        auto_pause: None,
        clover_odds: None,
        seed: None,
        max_custom_roles: None,
        system_routes: None,
        routing_seconds: None,
    }
}

#[test]
fn set_organization_settings() {
    World::new()
        .set_up()
        .when(
            &admin(boss()),
            SetOrganizationSettings {
                time_zone: Some("Europe/Berlin".into()),
                auto_pause: Some(true),
                clover_odds: Some(0.25),
                ..settings()
            },
        )
        .then(evs![OrganizationSettingsChanged {
            time_zone: Some("Europe/Berlin".into()),
            auto_pause: Some(true),
            clover_odds: Some(0.25),
            seed: None,
            max_custom_roles: None,
        }]);
}

#[test]
fn settings_change_only_what_is_set() {
    let world = World::new()
        .set_up()
        .run(
            &admin(boss()),
            SetOrganizationSettings {
                time_zone: Some("Asia/Tokyo".into()),
                auto_pause: Some(true),
                ..settings()
            },
        )
        .run(
            &admin(boss()),
            SetOrganizationSettings {
                clover_odds: Some(0.5),
                max_custom_roles: Some(5),
                ..settings()
            },
        );
    let s = world.config().settings;
    assert_eq!(s.time_zone, "Asia/Tokyo");
    assert!(s.auto_pause);
    assert_eq!(s.clover_odds, 0.5);
    assert_eq!(s.max_custom_roles, 5);
    assert_eq!(world.config().seed, Some([1; 32]), "the seed is untouched");
}

#[test]
fn settings_are_for_owners_and_administrators() {
    let world = World::new().set_up();
    let change = || SetOrganizationSettings {
        auto_pause: Some(true),
        ..settings()
    };
    for p in [
        owner(boss()),
        admin(boss()),
        integration_as(Role::Administrator),
        system(),
    ] {
        world.when(&p, change()).ok();
    }
    for p in [
        agent(boss()),
        custom(boss(), &Permission::ALL),
        integration(&Permission::ALL),
    ] {
        world
            .when(&p, change())
            .rejects("PERMISSION_DENIED", "Owner or Administrator");
    }
}

#[test]
fn only_an_owner_sets_the_seed() {
    let world = World::new().set_up();
    let reseed = || SetOrganizationSettings {
        seed: Some([9; 32]),
        ..settings()
    };
    world
        .when(&admin(boss()), reseed())
        .rejects("PERMISSION_DENIED", "Owner");
    world
        .when(&integration_as(Role::Administrator), reseed())
        .rejects("PERMISSION_DENIED", "Owner");
    world
        .when(&owner(boss()), reseed())
        .then(evs![OrganizationSettingsChanged {
            time_zone: None,
            auto_pause: None,
            clover_odds: None,
            seed: Some([9; 32]),
            max_custom_roles: None,
        }]);
    let world = world.run(&owner(boss()), reseed());
    assert_eq!(world.config().seed, Some([9; 32]));
}

#[test]
fn settings_change_something() {
    World::new()
        .set_up()
        .when(&owner(boss()), settings())
        .rejects_field("*");
}

#[test]
fn settings_time_zone_must_be_iana() {
    let world = World::new().set_up();
    for tz in ["Europe/Atlantis", "", "CEST+2"] {
        world
            .when(
                &admin(boss()),
                SetOrganizationSettings {
                    time_zone: Some(tz.into()),
                    ..settings()
                },
            )
            .rejects_field("time_zone");
    }
    world
        .when(
            &admin(boss()),
            SetOrganizationSettings {
                time_zone: Some("Australia/Lord_Howe".into()),
                ..settings()
            },
        )
        .ok();
}

#[test]
fn clover_odds_are_a_probability() {
    let world = World::new().set_up();
    let odds = |o: f64| SetOrganizationSettings {
        clover_odds: Some(o),
        ..settings()
    };
    for bad in [
        -0.001,
        1.000_001,
        2.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ] {
        world
            .when(&admin(boss()), odds(bad))
            .rejects_field("clover_odds");
    }
    for good in [0.0, 0.001, 1.0] {
        world.when(&admin(boss()), odds(good)).ok();
    }
}

#[test]
fn max_custom_roles_has_a_ceiling() {
    let world = World::new().set_up();
    let max = |n: u32| SetOrganizationSettings {
        max_custom_roles: Some(n),
        ..settings()
    };
    world
        .when(&owner(boss()), max(101))
        .rejects_field("max_custom_roles");
    world
        .when(&owner(boss()), max(u32::MAX))
        .rejects_field("max_custom_roles");
    world.when(&owner(boss()), max(0)).ok();
    world.when(&owner(boss()), max(100)).ok();
}

#[test]
fn invalid_settings_are_refused_before_permissions() {
    World::new()
        .set_up()
        .when(
            &agent(boss()),
            SetOrganizationSettings {
                clover_odds: Some(7.0),
                ..settings()
            },
        )
        .rejects_field("clover_odds");
}

// --- IssueToken / RevokeToken ------------------------------------------------------------

fn revoke(n: u128) -> RevokeToken {
    RevokeToken {
        token_id: token_id(n),
    }
}

fn token_for(n: u128, agent: AgentId) -> IssueToken {
    IssueToken {
        token_id: token_id(n),
        hash: [n as u8; 32],
        subject: TokenSubject::Agent(agent),
        expires_at: None,
    }
}

fn integration_token(n: u128, role: Role) -> IssueToken {
    IssueToken {
        token_id: token_id(n),
        hash: [n as u8; 32],
        subject: TokenSubject::Integration {
            name: "Web shop".into(),
            role,
        },
        expires_at: None,
    }
}

#[test]
fn issue_a_token_for_an_agent() {
    World::new()
        .agent(a1())
        .when(&system(), token_for(10, a1()))
        .then(evs![TokenIssued {
            token_id: token_id(10),
            hash: [10; 32],
            subject: TokenSubject::Agent(a1()),
        }]);
}

#[test]
fn issue_a_token_for_an_integration() {
    World::new()
        .given(
            cfg(),
            evs![RoleDefined {
                role_id: role_id(1),
                name: "Importer".into(),
                permissions: Permissions::empty().with(Permission::SystemImport),
            }],
        )
        .when(
            &owner(boss()),
            integration_token(11, Role::Custom(role_id(1))),
        )
        .then(evs![TokenIssued {
            token_id: token_id(11),
            hash: [11; 32],
            subject: TokenSubject::Integration {
                name: "Web shop".into(),
                role: Role::Custom(role_id(1)),
            },
        }]);
}

#[test]
fn issued_and_revoked_tokens_fold_into_state() {
    let world = World::new()
        .agent(a1())
        .run(&system(), token_for(10, a1()))
        .run(&system(), integration_token(11, Role::Agent));
    let config = world.config();
    assert_eq!(config.tokens().count(), 2);
    assert_eq!(
        config.token_by_hash(&[10; 32]).map(|t| t.token_id),
        Some(token_id(10))
    );
    assert!(config.has_agent_token(a1()));
    let world = world.run(&system(), revoke(10));
    let config = world.config();
    assert!(config.token(token_id(10)).unwrap().revoked);
    assert!(
        config.token_by_hash(&[10; 32]).is_none(),
        "a revoked token no longer authenticates"
    );
    assert!(!config.has_agent_token(a1()));
    assert!(config.token_by_hash(&[11; 32]).is_some());
}

#[test]
fn agent_tokens_are_issued_with_agents_manage() {
    let world = World::new().agent(a1());
    for p in holders(Permission::AgentsManage)
        .into_iter()
        .chain([owner(boss()), admin(boss())])
    {
        world.when(&p, token_for(10, a1())).ok();
    }
    for p in lacking(Permission::AgentsManage) {
        world
            .when(&p, token_for(10, a1()))
            .rejects("PERMISSION_DENIED", "agents.manage");
    }
}

#[test]
fn integration_tokens_are_issued_with_roles_manage() {
    let world = World::new();
    for p in holders(Permission::RolesManage)
        .into_iter()
        .chain([owner(boss())])
    {
        world.when(&p, integration_token(11, Role::Agent)).ok();
    }
    for p in lacking(Permission::RolesManage)
        .into_iter()
        .chain([admin(boss())])
    {
        world
            .when(&p, integration_token(11, Role::Agent))
            .rejects("PERMISSION_DENIED", "roles.manage");
    }
}

#[test]
fn only_an_owner_issues_tokens_with_owner_or_administrator_standing() {
    let lead = custom(boss(), &[Permission::RolesManage, Permission::AgentsManage]);
    let world = World::new()
        .agent_with_role(a1(), Role::Owner)
        .agent_with_role(a2(), Role::Administrator);
    world
        .when(&lead, token_for(10, a1()))
        .rejects("PERMISSION_DENIED", "only an Owner");
    world
        .when(&lead, token_for(10, a2()))
        .rejects("PERMISSION_DENIED", "only an Owner");
    world
        .when(&admin(boss()), token_for(10, a2()))
        .rejects("PERMISSION_DENIED", "only an Owner");
    world
        .when(&lead, integration_token(11, Role::Owner))
        .rejects("PERMISSION_DENIED", "only an Owner");
    world
        .when(&lead, integration_token(11, Role::Administrator))
        .rejects("PERMISSION_DENIED", "only an Owner");
    world.when(&lead, integration_token(11, Role::Agent)).ok();
    world.when(&owner(boss()), token_for(10, a1())).ok();
    world.when(&owner(boss()), token_for(10, a2())).ok();
    world
        .when(&owner(boss()), integration_token(11, Role::Administrator))
        .ok();
    world
        .when(&system(), integration_token(11, Role::Owner))
        .ok();
}

#[test]
fn token_for_unknown_agent_or_role_is_not_found() {
    World::new()
        .when(&system(), token_for(10, a1()))
        .rejects("NOT_FOUND", "agent");
    World::new()
        .when(&system(), integration_token(11, Role::Custom(role_id(1))))
        .rejects("NOT_FOUND", "role");
}

#[test]
fn token_for_a_deactivated_agent_fails() {
    World::new()
        .agent(a1())
        .given(
            AggregateId::agent(a1()),
            evs![AgentDeactivated { agent: a1() }],
        )
        .when(&system(), token_for(10, a1()))
        .rejects("FAILED_PRECONDITION", "deactivated");
}

#[test]
fn issuing_an_existing_token_fails() {
    let world = World::new().agent(a1()).run(&system(), token_for(10, a1()));
    world
        .when(&system(), token_for(10, a1()))
        .rejects("FAILED_PRECONDITION", "already exists");
    // The same secret under a new id.
    let mut again = token_for(12, a1());
    again.hash = [10; 32];
    world
        .when(&system(), again)
        .rejects("FAILED_PRECONDITION", "secret");
    // A revoked token's id is not reused either.
    world
        .run(&system(), revoke(10))
        .when(&system(), token_for(10, a1()))
        .rejects("FAILED_PRECONDITION", "already exists");
}

#[test]
fn integration_token_names_are_limited() {
    let named = |name: String| IssueToken {
        token_id: token_id(11),
        hash: [11; 32],
        subject: TokenSubject::Integration {
            name,
            role: Role::Agent,
        },
        expires_at: None,
    };
    World::new()
        .when(&system(), named("x".repeat(201)))
        .rejects_field("integration.name");
    World::new()
        .when(&system(), named(" ".into()))
        .rejects_field("integration.name");
    World::new().when(&system(), named("x".repeat(200))).ok();
}

#[test]
fn revoke_token() {
    World::new()
        .agent(a1())
        .run(&system(), token_for(10, a1()))
        .when(&owner(boss()), revoke(10))
        .then(evs![TokenRevoked {
            token_id: token_id(10)
        }]);
}

#[test]
fn revoke_unknown_token_is_not_found() {
    World::new()
        .when(&system(), revoke(10))
        .rejects("NOT_FOUND", &format!("token {} not found", token_id(10)));
}

#[test]
fn revoking_twice_fails() {
    World::new()
        .agent(a1())
        .run(&system(), token_for(10, a1()))
        .run(&system(), revoke(10))
        .when(&system(), revoke(10))
        .rejects("FAILED_PRECONDITION", "revoked already");
}

#[test]
fn revoking_an_agent_token_needs_agents_manage() {
    let world = World::new().agent(a1()).run(&system(), token_for(10, a1()));
    for p in lacking(Permission::AgentsManage) {
        world
            .when(&p, revoke(10))
            .rejects("PERMISSION_DENIED", "agents.manage");
    }
    for p in holders(Permission::AgentsManage)
        .into_iter()
        .chain([admin(boss())])
    {
        world.when(&p, revoke(10)).ok();
    }
}

#[test]
fn revoking_an_integration_token_needs_roles_manage() {
    let world = World::new().run(&system(), integration_token(11, Role::Agent));
    for p in lacking(Permission::RolesManage)
        .into_iter()
        .chain([admin(boss())])
    {
        world
            .when(&p, revoke(11))
            .rejects("PERMISSION_DENIED", "roles.manage");
    }
    for p in holders(Permission::RolesManage) {
        world.when(&p, revoke(11)).ok();
    }
}

#[test]
fn an_owners_token_is_revoked_only_by_an_owner() {
    let world = World::new()
        .agent_with_role(a1(), Role::Owner)
        .run(&system(), token_for(10, a1()));
    world
        .when(&admin(boss()), revoke(10))
        .rejects("PERMISSION_DENIED", "only an Owner");
    world.when(&owner(boss()), revoke(10)).ok();
}

// --- Levels ------------------------------------------------------------------------------

/// The first shipped levels (docs/STATISTICS.md, Levels): (name, message, condition).
const LADDER: [(&str, &str, &str); 3] = [
    (
        "Novice",
        "You are new to the system and ready to take your first steps.",
        "1",
    ),
    (
        "Apprentice",
        "You have answered a couple of questions, but your training has only just begun.",
        "$answers + $chats >= 10",
    ),
    (
        "Intern",
        "You are learning well. Keep up the good work and one day you will be great.",
        "$answers >= 50 || $chats >= 50",
    ),
];

/// The first `n` default levels, `level_id(1)` lowest.
fn with_levels(world: World, n: usize) -> World {
    let events = LADDER[..n]
        .iter()
        .enumerate()
        .map(|(i, (name, description, condition))| {
            LevelDefined {
                level_id: level_id(i as u128 + 1),
                rank: i as u32 + 1,
                name: (*name).into(),
                description: (*description).into(),
                condition: (*condition).into(),
            }
            .into()
        })
        .collect();
    world.given(cfg(), events)
}

fn ladder() -> World {
    with_levels(World::new(), 3)
}

fn level_order(world: &World) -> Vec<LevelId> {
    world.config().levels.iter().map(|l| l.level_id).collect()
}

fn beginner(rank: Option<u32>) -> DefineLevel {
    DefineLevel {
        level_id: level_id(4),
        rank,
        name: "Beginner".into(),
        description:
            "You have finished the learning phase. Now it is time to show what you can do.".into(),
        condition: "$answers >= 100 || $chats >= 100".into(),
    }
}

fn update_level(
    name: Option<&str>,
    description: Option<&str>,
    condition: Option<&str>,
) -> UpdateLevel {
    UpdateLevel {
        level_id: level_id(2),
        name: name.map(Into::into),
        description: description.map(Into::into),
        condition: condition.map(Into::into),
    }
}

/// Stands in for the rules crate's parser: knows a few variables and refuses a dangling
/// comparison.
fn condition_check() -> Check {
    Box::new(|condition: &str| {
        if let Some(at) = condition.find("$answrs") {
            return Err(DomainError::invalid(
                "",
                format!(
                    "column {}: unknown variable $answrs (did you mean $answers?)",
                    at + 1
                ),
            ));
        }
        if condition.trim_end().ends_with(">=") {
            return Err(DomainError::invalid(
                "",
                format!(
                    "column {}: expected a number, a variable or (",
                    condition.len() + 1
                ),
            ));
        }
        Ok(())
    })
}

#[test]
fn define_level_on_top() {
    ladder()
        .when(&admin(boss()), beginner(None))
        .then(evs![LevelDefined {
            level_id: level_id(4),
            rank: 4,
            name: "Beginner".into(),
            description:
                "You have finished the learning phase. Now it is time to show what you can do."
                    .into(),
            condition: "$answers >= 100 || $chats >= 100".into(),
        }]);
}

#[test]
fn the_first_level_has_rank_one() {
    let c = DefineLevel {
        level_id: level_id(1),
        rank: None,
        name: "Novice".into(),
        description: "Welcome.".into(),
        condition: "1".into(),
    };
    World::new()
        .when(&admin(boss()), c)
        .then(evs![LevelDefined {
            level_id: level_id(1),
            rank: 1,
            name: "Novice".into(),
            description: "Welcome.".into(),
            condition: "1".into(),
        }]);
}

#[test]
fn define_level_at_a_rank_moves_the_others_up() {
    let events = ladder().when(&admin(boss()), beginner(Some(2))).ok();
    assert!(matches!(&events[..], [Event::LevelDefined(e)] if e.rank == 2));
    let world = ladder().run(&admin(boss()), beginner(Some(2)));
    assert_eq!(
        level_order(&world),
        vec![level_id(1), level_id(4), level_id(2), level_id(3)]
    );
    assert_eq!(
        world.config().level(level_id(3)).map(|(rank, _)| rank),
        Some(4)
    );
    let world = ladder().run(&admin(boss()), beginner(Some(1)));
    assert_eq!(
        level_order(&world),
        vec![level_id(4), level_id(1), level_id(2), level_id(3)]
    );
    let world = ladder().run(&admin(boss()), beginner(Some(4)));
    assert_eq!(
        level_order(&world),
        vec![level_id(1), level_id(2), level_id(3), level_id(4)]
    );
}

#[test]
fn define_level_rank_must_be_within_the_ladder() {
    ladder()
        .when(&admin(boss()), beginner(Some(5)))
        .rejects_field("rank");
    ladder()
        .when(&admin(boss()), beginner(Some(0)))
        .rejects_field("rank");
    World::new()
        .when(&admin(boss()), beginner(Some(2)))
        .rejects_field("rank");
}

#[test]
fn defining_an_existing_level_fails() {
    let mut c = beginner(None);
    c.level_id = level_id(2);
    ladder()
        .when(&admin(boss()), c)
        .rejects("FAILED_PRECONDITION", "already exists");
}

#[test]
fn an_organization_has_at_most_500_levels() {
    let events: Vec<Event> = (0..500u32)
        .map(|i| {
            LevelDefined {
                level_id: level_id(1000 + i as u128),
                rank: i + 1,
                name: format!("Level {}", i + 1),
                description: String::new(),
                condition: "1".into(),
            }
            .into()
        })
        .collect();
    let world = World::new().given(cfg(), events);
    assert_eq!(world.config().levels.len(), 500);
    world
        .when(&admin(boss()), beginner(None))
        .rejects("FAILED_PRECONDITION", "maximum of 500 levels");
    world
        .run(&admin(boss()), remove_level(1001))
        .when(&admin(boss()), beginner(None))
        .ok();
}

#[test]
fn define_level_needs_gamification_manage() {
    for p in lacking(Permission::GamificationManage) {
        ladder()
            .when(&p, beginner(None))
            .rejects("PERMISSION_DENIED", "gamification.manage");
    }
    for p in holders(Permission::GamificationManage)
        .into_iter()
        .chain([admin(boss()), owner(boss())])
    {
        ladder().when(&p, beginner(None)).ok();
    }
}

#[test]
fn define_level_input_limits() {
    let world = ladder();
    let mut c = beginner(None);
    c.name = "x".repeat(201);
    world.when(&admin(boss()), c).rejects_field("name");
    let mut c = beginner(None);
    c.name = String::new();
    world.when(&admin(boss()), c).rejects_field("name");
    let mut c = beginner(None);
    c.name = "ü".repeat(200);
    world.when(&admin(boss()), c).ok();
    let mut c = beginner(None);
    c.description = "x".repeat(2001);
    world.when(&admin(boss()), c).rejects_field("description");
    let mut c = beginner(None);
    c.condition = format!("$answers >= {}", "1".repeat(2000 - 12 + 1));
    assert_eq!(c.condition.chars().count(), 2001);
    world.when(&admin(boss()), c).rejects_field("condition");
    let mut c = beginner(None);
    c.condition = format!("$answers >= {}", "1".repeat(2000 - 12));
    world.when(&admin(boss()), c).ok();
    let mut c = beginner(None);
    c.condition = "   ".into();
    world.when(&admin(boss()), c).rejects_field("condition");
}

#[test]
fn define_level_checks_the_condition() {
    let world = ladder().with_condition_check(condition_check());
    let mut c = beginner(None);
    c.condition = "$answrs >= 100".into();
    let err = world.when(&admin(boss()), c).rejects_field("condition");
    assert!(err.to_string().contains("column 1"), "{err}");
    assert!(err.to_string().contains("$answers"), "{err}");
    let mut c = beginner(None);
    c.condition = "$answers >=".into();
    let err = world.when(&admin(boss()), c).rejects_field("condition");
    assert!(err.to_string().contains("column 12"), "{err}");
    world.when(&admin(boss()), beginner(None)).ok();
}

#[test]
fn update_level_keeps_what_is_not_set() {
    ladder()
        .when(&admin(boss()), update_level(Some("Trainee"), None, None))
        .then(evs![LevelUpdated {
            level_id: level_id(2),
            name: "Trainee".into(),
            description:
                "You have answered a couple of questions, but your training has only just begun."
                    .into(),
            condition: "$answers + $chats >= 10".into(),
        }]);
    ladder()
        .when(
            &admin(boss()),
            update_level(None, Some("Ten down."), Some("$answers + $chats >= 20")),
        )
        .then(evs![LevelUpdated {
            level_id: level_id(2),
            name: "Apprentice".into(),
            description: "Ten down.".into(),
            condition: "$answers + $chats >= 20".into(),
        }]);
}

#[test]
fn updated_level_folds_into_state_in_place() {
    let world = ladder().run(
        &admin(boss()),
        update_level(Some("Trainee"), None, Some("$answers >= 5")),
    );
    let config = world.config();
    let (rank, level) = config.level(level_id(2)).unwrap();
    assert_eq!(rank, 2);
    assert_eq!(level.name, "Trainee");
    assert_eq!(level.condition, "$answers >= 5");
    assert_eq!(
        level_order(&world),
        vec![level_id(1), level_id(2), level_id(3)]
    );
}

#[test]
fn update_unknown_level_is_not_found() {
    World::new()
        .when(&admin(boss()), update_level(Some("Trainee"), None, None))
        .rejects("NOT_FOUND", "level");
}

#[test]
fn update_level_needs_gamification_manage() {
    for p in lacking(Permission::GamificationManage) {
        ladder()
            .when(&p, update_level(Some("Trainee"), None, None))
            .rejects("PERMISSION_DENIED", "gamification.manage");
    }
    for p in holders(Permission::GamificationManage) {
        ladder()
            .when(&p, update_level(Some("Trainee"), None, None))
            .ok();
    }
}

#[test]
fn update_level_input_limits() {
    let world = ladder().with_condition_check(condition_check());
    world
        .when(&admin(boss()), update_level(None, None, None))
        .rejects_field("*");
    world
        .when(
            &admin(boss()),
            update_level(Some(&"x".repeat(201)), None, None),
        )
        .rejects_field("name");
    world
        .when(
            &admin(boss()),
            update_level(None, Some(&"x".repeat(2001)), None),
        )
        .rejects_field("description");
    world
        .when(
            &admin(boss()),
            update_level(None, None, Some(&"1".repeat(2001))),
        )
        .rejects_field("condition");
    world
        .when(
            &admin(boss()),
            update_level(None, None, Some("$answrs > 1")),
        )
        .rejects_field("condition");
    world
        .when(
            &admin(boss()),
            update_level(None, None, Some(&"1".repeat(2000))),
        )
        .ok();
}

#[test]
fn remove_a_level() {
    ladder()
        .when(&admin(boss()), remove_level(2))
        .then(evs![LevelRemoved {
            level_id: level_id(2)
        }]);
    let world = ladder().run(&admin(boss()), remove_level(2));
    assert_eq!(level_order(&world), vec![level_id(1), level_id(3)]);
    world
        .when(&admin(boss()), remove_level(2))
        .rejects("NOT_FOUND", "level");
}

#[test]
fn remove_unknown_level_is_not_found() {
    ladder()
        .when(&admin(boss()), remove_level(7))
        .rejects("NOT_FOUND", &format!("level {} not found", level_id(7)));
}

#[test]
fn remove_level_needs_gamification_manage() {
    for p in lacking(Permission::GamificationManage) {
        ladder()
            .when(&p, remove_level(2))
            .rejects("PERMISSION_DENIED", "gamification.manage");
    }
    for p in holders(Permission::GamificationManage) {
        ladder().when(&p, remove_level(2)).ok();
    }
}

#[test]
fn the_level_of_rank_one_is_never_removed() {
    // Every agent has the first level from the start: without it, agents would have none.
    ladder()
        .when(&admin(boss()), remove_level(1))
        .rejects("FAILED_PRECONDITION", "level_id");
    ladder()
        .when(&admin(boss()), remove_level(1))
        .rejects("FAILED_PRECONDITION", "is rank 1");
    // Once another level is first, the former first may go.
    ladder()
        .run(&admin(boss()), reorder(&[2, 1, 3]))
        .when(&admin(boss()), remove_level(1))
        .ok();
    ladder().when(&admin(boss()), remove_level(2)).ok();
}

fn remove_level(n: u128) -> RemoveLevel {
    RemoveLevel {
        level_id: level_id(n),
    }
}

fn reorder(ns: &[u128]) -> ReorderLevels {
    ReorderLevels {
        order: ns.iter().map(|n| level_id(*n)).collect(),
    }
}

#[test]
fn reorder_levels() {
    ladder()
        .when(&admin(boss()), reorder(&[3, 1, 2]))
        .then(evs![LevelsReordered {
            order: vec![level_id(3), level_id(1), level_id(2)],
        }]);
    let world = ladder().run(&admin(boss()), reorder(&[3, 1, 2]));
    assert_eq!(
        level_order(&world),
        vec![level_id(3), level_id(1), level_id(2)]
    );
    assert_eq!(world.config().level(level_id(2)).map(|(r, _)| r), Some(3));
}

#[test]
fn reorder_must_name_every_level_once() {
    let world = ladder();
    world
        .when(&admin(boss()), reorder(&[3, 1]))
        .rejects_field("order");
    world
        .when(&admin(boss()), reorder(&[3, 1, 2, 2]))
        .rejects_field("order");
    world
        .when(&admin(boss()), reorder(&[3, 3, 1]))
        .rejects_field("order");
    world
        .when(&admin(boss()), reorder(&[]))
        .rejects_field("order");
}

#[test]
fn reorder_with_an_unknown_level_is_not_found() {
    ladder()
        .when(&admin(boss()), reorder(&[3, 1, 7]))
        .rejects("NOT_FOUND", &format!("level {} not found", level_id(7)));
    ladder()
        .when(&admin(boss()), reorder(&[3, 1, 2, 7]))
        .rejects("NOT_FOUND", "level");
}

#[test]
fn reorder_levels_needs_gamification_manage() {
    for p in lacking(Permission::GamificationManage) {
        ladder()
            .when(&p, reorder(&[2, 1, 3]))
            .rejects("PERMISSION_DENIED", "gamification.manage");
    }
    for p in holders(Permission::GamificationManage) {
        ladder().when(&p, reorder(&[2, 1, 3])).ok();
    }
}

#[test]
fn reorder_levels_input_limit() {
    World::new()
        .when(
            &admin(boss()),
            ReorderLevels {
                order: (0..501).map(level_id).collect(),
            },
        )
        .rejects_field("order");
}

// --- Badges ------------------------------------------------------------------------------

fn night_owl() -> DefineBadge {
    DefineBadge {
        key: "night_owl".into(),
        name: "Night Owl".into(),
        description: "Had the longest chat of the month".into(),
        statistic: Statistic::LongestChat,
        window_days: 30,
        best: Best::Max,
        minimum: 1,
    }
}

fn with_night_owl() -> World {
    World::new().given(
        cfg(),
        evs![BadgeDefined {
            key: "night_owl".into(),
            name: "Night Owl".into(),
            description: "Had the longest chat of the month".into(),
            statistic: Statistic::LongestChat,
            window_days: 30,
            best: Best::Max,
            minimum: 1,
        }],
    )
}

fn remove_badge(key: &str) -> RemoveBadge {
    RemoveBadge { key: key.into() }
}

fn customize(key: &str) -> CustomizeBadge {
    CustomizeBadge {
        key: key.into(),
        name: None,
        description: None,
        image_url: None,
        visibility: None,
        enabled: None,
    }
}

#[test]
fn customize_a_built_in_badge() {
    World::new()
        .when(
            &admin(boss()),
            CustomizeBadge {
                name: Some("Nap Champion".into()),
                image_url: Some("https://example.com/nap.png".into()),
                visibility: Some(BadgeVisibility::SelfAndManagers),
                ..customize("siesta")
            },
        )
        .then(evs![BadgeCustomized {
            key: "siesta".into(),
            name: Some("Nap Champion".into()),
            description: None,
            image_url: Some("https://example.com/nap.png".into()),
            visibility: Some(BadgeVisibility::SelfAndManagers),
            enabled: None,
        }]);
}

#[test]
fn every_built_in_badge_can_be_disabled() {
    for key in [
        "traffic_controller",
        "siesta",
        "unruly_rebel",
        "inspector",
        "speedy_gonzales",
        "recognized",
        "coffee_lover",
        "novelist",
        "tag_hanger",
        "four_leaf_clover",
        "express",
        "diligent",
        "chatterbox",
        "cleaner",
        "spokesman",
    ] {
        World::new()
            .when(
                &admin(boss()),
                CustomizeBadge {
                    enabled: Some(false),
                    ..customize(key)
                },
            )
            .then(evs![BadgeCustomized {
                key: key.into(),
                name: None,
                description: None,
                image_url: None,
                visibility: None,
                enabled: Some(false),
            }]);
    }
}

#[test]
fn customizations_accumulate_and_an_empty_url_clears_the_image() {
    let world = World::new()
        .run(
            &admin(boss()),
            CustomizeBadge {
                name: Some("Nap Champion".into()),
                image_url: Some("https://example.com/nap.png".into()),
                ..customize("siesta")
            },
        )
        .run(
            &admin(boss()),
            CustomizeBadge {
                enabled: Some(false),
                ..customize("siesta")
            },
        );
    let s = world.config().badge_settings["siesta"].clone();
    assert_eq!(s.name.as_deref(), Some("Nap Champion"));
    assert_eq!(s.image_url.as_deref(), Some("https://example.com/nap.png"));
    assert_eq!(s.enabled, Some(false));
    let world = world.run(
        &admin(boss()),
        CustomizeBadge {
            image_url: Some(String::new()),
            enabled: Some(true),
            ..customize("siesta")
        },
    );
    let s = world.config().badge_settings["siesta"].clone();
    assert_eq!(s.image_url, None);
    assert_eq!(s.enabled, Some(true));
    assert_eq!(s.name.as_deref(), Some("Nap Champion"));
}

#[test]
fn customize_a_custom_badge() {
    with_night_owl()
        .when(
            &admin(boss()),
            CustomizeBadge {
                description: Some("Longest chat".into()),
                visibility: Some(BadgeVisibility::Public),
                ..customize("night_owl")
            },
        )
        .then(evs![BadgeCustomized {
            key: "night_owl".into(),
            name: None,
            description: Some("Longest chat".into()),
            image_url: None,
            visibility: Some(BadgeVisibility::Public),
            enabled: None,
        }]);
}

#[test]
fn customize_unknown_badge_is_not_found() {
    World::new()
        .when(
            &admin(boss()),
            CustomizeBadge {
                enabled: Some(false),
                ..customize("night_owl")
            },
        )
        .rejects("NOT_FOUND", "badge");
    with_night_owl()
        .run(&admin(boss()), remove_badge("night_owl"))
        .when(
            &admin(boss()),
            CustomizeBadge {
                enabled: Some(false),
                ..customize("night_owl")
            },
        )
        .rejects("NOT_FOUND", "badge");
}

#[test]
fn customize_badge_needs_gamification_manage() {
    let c = || CustomizeBadge {
        enabled: Some(false),
        ..customize("novelist")
    };
    for p in lacking(Permission::GamificationManage) {
        World::new()
            .when(&p, c())
            .rejects("PERMISSION_DENIED", "gamification.manage");
    }
    for p in holders(Permission::GamificationManage) {
        World::new().when(&p, c()).ok();
    }
}

#[test]
fn customize_badge_input_limits() {
    let world = World::new();
    let p = admin(boss());
    world.when(&p, customize("siesta")).rejects_field("*");
    for key in ["", "Siesta", "sies ta", "siesta!", &"x".repeat(65)] {
        world
            .when(
                &p,
                CustomizeBadge {
                    enabled: Some(true),
                    ..customize(key)
                },
            )
            .rejects_field("key");
    }
    world
        .when(
            &p,
            CustomizeBadge {
                name: Some("x".repeat(201)),
                ..customize("siesta")
            },
        )
        .rejects_field("name");
    world
        .when(
            &p,
            CustomizeBadge {
                name: Some(" ".into()),
                ..customize("siesta")
            },
        )
        .rejects_field("name");
    world
        .when(
            &p,
            CustomizeBadge {
                name: Some("x".repeat(200)),
                ..customize("siesta")
            },
        )
        .ok();
    world
        .when(
            &p,
            CustomizeBadge {
                description: Some("x".repeat(2001)),
                ..customize("siesta")
            },
        )
        .rejects_field("description");
    world
        .when(
            &p,
            CustomizeBadge {
                image_url: Some("https://example.com/my nap.png".into()),
                ..customize("siesta")
            },
        )
        .rejects_field("image_url");
    world
        .when(
            &p,
            CustomizeBadge {
                image_url: Some(format!("https://example.com/{}", "x".repeat(2000))),
                ..customize("siesta")
            },
        )
        .rejects_field("image_url");
}

#[test]
fn define_badge() {
    World::new()
        .when(&admin(boss()), night_owl())
        .then(evs![BadgeDefined {
            key: "night_owl".into(),
            name: "Night Owl".into(),
            description: "Had the longest chat of the month".into(),
            statistic: Statistic::LongestChat,
            window_days: 30,
            best: Best::Max,
            minimum: 1,
        }]);
}

#[test]
fn define_badge_from_every_building_block() {
    for statistic in Statistic::ALL {
        for best in [Best::Max, Best::Min] {
            let c = DefineBadge {
                statistic: *statistic,
                best,
                minimum: 3,
                ..night_owl()
            };
            let events = World::new().when(&admin(boss()), c).ok();
            assert!(
                matches!(&events[..], [Event::BadgeDefined(e)]
                    if e.statistic == *statistic && e.best == best && e.minimum == 3),
                "{events:?}"
            );
        }
    }
}

#[test]
fn a_defined_badge_folds_into_state() {
    let config = World::new().run(&admin(boss()), night_owl()).config();
    let badge = &config.custom_badges["night_owl"];
    assert_eq!(badge.name, "Night Owl");
    assert_eq!(badge.statistic, Statistic::LongestChat);
    assert_eq!(badge.window_days, 30);
    assert_eq!(badge.best, Best::Max);
    assert!(config.badge_exists("night_owl"));
    assert!(config.badge_exists("siesta"));
    assert!(!config.badge_exists("early_bird"));
}

#[test]
fn badge_window_is_1_to_90_days() {
    for days in [0, 91, 365, u32::MAX] {
        World::new()
            .when(
                &admin(boss()),
                DefineBadge {
                    window_days: days,
                    ..night_owl()
                },
            )
            .rejects_field("window_days");
    }
    for days in [1, 7, 90] {
        World::new()
            .when(
                &admin(boss()),
                DefineBadge {
                    window_days: days,
                    ..night_owl()
                },
            )
            .ok();
    }
}

#[test]
fn define_badge_input_limits() {
    let p = admin(boss());
    for key in ["", "Night_Owl", "night-owl", "nöght", &"x".repeat(65)] {
        World::new()
            .when(
                &p,
                DefineBadge {
                    key: key.into(),
                    ..night_owl()
                },
            )
            .rejects_field("key");
    }
    World::new()
        .when(
            &p,
            DefineBadge {
                key: "x".repeat(64),
                ..night_owl()
            },
        )
        .ok();
    World::new()
        .when(
            &p,
            DefineBadge {
                name: "x".repeat(201),
                ..night_owl()
            },
        )
        .rejects_field("name");
    World::new()
        .when(
            &p,
            DefineBadge {
                name: String::new(),
                ..night_owl()
            },
        )
        .rejects_field("name");
    World::new()
        .when(
            &p,
            DefineBadge {
                description: "x".repeat(2001),
                ..night_owl()
            },
        )
        .rejects_field("description");
}

#[test]
fn defining_an_existing_badge_fails() {
    with_night_owl()
        .when(&admin(boss()), night_owl())
        .rejects("FAILED_PRECONDITION", "already exists");
    World::new()
        .when(
            &admin(boss()),
            DefineBadge {
                key: "siesta".into(),
                ..night_owl()
            },
        )
        .rejects("FAILED_PRECONDITION", "already exists");
}

#[test]
fn define_badge_needs_gamification_manage() {
    for p in lacking(Permission::GamificationManage) {
        World::new()
            .when(&p, night_owl())
            .rejects("PERMISSION_DENIED", "gamification.manage");
    }
    for p in holders(Permission::GamificationManage) {
        World::new().when(&p, night_owl()).ok();
    }
}

#[test]
fn remove_a_badge() {
    with_night_owl()
        .when(&admin(boss()), remove_badge("night_owl"))
        .then(evs![BadgeRemoved {
            key: "night_owl".into()
        }]);
}

#[test]
fn a_removed_badge_is_gone_with_its_customizations() {
    let world = with_night_owl()
        .run(
            &admin(boss()),
            CustomizeBadge {
                enabled: Some(false),
                ..customize("night_owl")
            },
        )
        .run(&admin(boss()), remove_badge("night_owl"));
    let config = world.config();
    assert!(!config.badge_exists("night_owl"));
    assert!(!config.badge_settings.contains_key("night_owl"));
    // Its key may be used again.
    world.when(&admin(boss()), night_owl()).ok();
}

#[test]
fn built_in_badges_cannot_be_removed() {
    World::new()
        .when(&admin(boss()), remove_badge("siesta"))
        .rejects("FAILED_PRECONDITION", "built in");
}

#[test]
fn remove_unknown_badge_is_not_found() {
    World::new()
        .when(&admin(boss()), remove_badge("night_owl"))
        .rejects("NOT_FOUND", "badge night_owl not found");
    World::new()
        .when(&admin(boss()), remove_badge("Night Owl"))
        .rejects_field("key");
}

#[test]
fn remove_badge_needs_gamification_manage() {
    let world = with_night_owl();
    for p in lacking(Permission::GamificationManage) {
        world
            .when(&p, remove_badge("night_owl"))
            .rejects("PERMISSION_DENIED", "gamification.manage");
    }
    for p in holders(Permission::GamificationManage) {
        world.when(&p, remove_badge("night_owl")).ok();
    }
}

// --- Routing rules -----------------------------------------------------------------------

fn refunds() -> DefineRoutingRule {
    DefineRoutingRule {
        rule_id: rule_id(1),
        name: "Refunds".into(),
        groups: vec![
            vec![
                Condition::ChannelIn(vec![Channel::Email, Channel::WebForm]),
                Condition::SubjectContains(vec!["refund".into(), "money back".into()]),
            ],
            vec![Condition::PriorityIn(vec![Priority::Urgent])],
        ],
        actions: vec![
            Action::TransferTo(d1()),
            Action::AssignTo(vec![a1(), a2()]),
            Action::AddTags(vec!["refund".into()]),
        ],
        position: None,
    }
}

/// A rule that only tags, numbered `n`.
fn tagging(n: u128, position: Option<u32>) -> DefineRoutingRule {
    DefineRoutingRule {
        rule_id: rule_id(n),
        name: format!("Tag {n}"),
        groups: vec![vec![Condition::BodyContains(vec!["invoice".into()])]],
        actions: vec![Action::AddTags(vec![format!("t{n}")])],
        position,
    }
}

fn remove_rule(n: u128) -> RemoveRoutingRule {
    RemoveRoutingRule {
        rule_id: rule_id(n),
    }
}

fn rule_order(world: &World) -> Vec<RuleId> {
    world
        .config()
        .routing_rules
        .iter()
        .map(|r| r.rule_id)
        .collect()
}

fn routing_world() -> World {
    World::new()
        .agent(a1())
        .agent(a2())
        .department(d1(), &[a1()])
}

#[test]
fn define_routing_rule() {
    routing_world()
        .when(&admin(boss()), refunds())
        .then(evs![RoutingRuleDefined {
            rule: RoutingRule {
                rule_id: rule_id(1),
                name: "Refunds".into(),
                groups: vec![
                    vec![
                        Condition::ChannelIn(vec![Channel::Email, Channel::WebForm]),
                        Condition::SubjectContains(vec!["refund".into(), "money back".into()]),
                    ],
                    vec![Condition::PriorityIn(vec![Priority::Urgent])],
                ],
                actions: vec![
                    Action::TransferTo(d1()),
                    Action::AssignTo(vec![a1(), a2()]),
                    Action::AddTags(vec!["refund".into()]),
                ],
            },
            position: 0,
        }]);
}

#[test]
fn a_routing_rule_holds_at_most_2000_list_entries() {
    // 20 groups of one condition of 100 words: 2,000 entries, the most there may be.
    let words = |g: usize| (0..100).map(|w| format!("w{g}x{w}")).collect::<Vec<_>>();
    let rule = |groups: Vec<Vec<Condition>>| DefineRoutingRule {
        groups,
        ..tagging(1, None)
    };
    let at_most: Vec<_> = (0..20)
        .map(|g| vec![Condition::BodyContains(words(g))])
        .collect();
    // The tag of `tagging` is one more entry.
    let mut most = at_most.clone();
    most[0] = vec![Condition::BodyContains(words(0)[1..].to_vec())];
    routing_world().when(&admin(boss()), rule(most)).ok();
    routing_world()
        .when(&admin(boss()), rule(at_most))
        .rejects("INVALID_ARGUMENT", "at most 2000 list entries");
}

#[test]
fn routing_rules_go_last_or_where_asked() {
    let world = World::new()
        .run(&admin(boss()), tagging(1, None))
        .run(&admin(boss()), tagging(2, None));
    let events = world.when(&admin(boss()), tagging(3, None)).ok();
    assert!(matches!(&events[..], [Event::RoutingRuleDefined(e)] if e.position == 2));
    let events = world.when(&admin(boss()), tagging(3, Some(0))).ok();
    assert!(matches!(&events[..], [Event::RoutingRuleDefined(e)] if e.position == 0));
    assert_eq!(
        rule_order(&world.run(&admin(boss()), tagging(3, Some(1)))),
        vec![rule_id(1), rule_id(3), rule_id(2)]
    );
}

#[test]
fn routing_rule_position_must_be_within_the_rules() {
    World::new()
        .run(&admin(boss()), tagging(1, None))
        .when(&admin(boss()), tagging(2, Some(2)))
        .rejects_field("position");
    World::new()
        .when(&admin(boss()), tagging(1, Some(1)))
        .rejects_field("position");
}

#[test]
fn routing_rule_with_unknown_department_or_agent_is_not_found() {
    World::new()
        .agent(a1())
        .agent(a2())
        .when(&admin(boss()), refunds())
        .rejects("NOT_FOUND", "department");
    World::new()
        .agent(a1())
        .department(d1(), &[a1()])
        .when(&admin(boss()), refunds())
        .rejects("NOT_FOUND", "agent");
}

#[test]
fn defining_an_existing_rule_fails() {
    routing_world()
        .run(&admin(boss()), refunds())
        .when(&admin(boss()), refunds())
        .rejects("FAILED_PRECONDITION", "already exists");
}

#[test]
fn an_organization_has_at_most_500_routing_rules() {
    let events: Vec<Event> = (0..500u32)
        .map(|i| {
            let c = tagging(1000 + i as u128, None);
            RoutingRuleDefined {
                rule: RoutingRule {
                    rule_id: c.rule_id,
                    name: c.name,
                    groups: c.groups,
                    actions: c.actions,
                },
                position: i,
            }
            .into()
        })
        .collect();
    let world = World::new().given(cfg(), events);
    assert_eq!(world.config().routing_rules.len(), 500);
    world
        .when(&admin(boss()), tagging(1, None))
        .rejects("FAILED_PRECONDITION", "maximum of 500 routing rules");
}

#[test]
fn define_routing_rule_needs_routing_manage() {
    let world = routing_world();
    for p in lacking(Permission::RoutingManage) {
        world
            .when(&p, refunds())
            .rejects("PERMISSION_DENIED", "routing.manage");
    }
    for p in holders(Permission::RoutingManage)
        .into_iter()
        .chain([admin(boss())])
    {
        world.when(&p, refunds()).ok();
    }
}

#[test]
fn define_routing_rule_input_limits() {
    let world = routing_world();
    let p = admin(boss());
    let mut c = refunds();
    c.name = "x".repeat(201);
    world.when(&p, c).rejects_field("name");
    let mut c = refunds();
    c.name = "x".repeat(200);
    world.when(&p, c).ok();
    let mut c = refunds();
    c.groups = vec![];
    world.when(&p, c).rejects_field("groups");
    let mut c = refunds();
    c.groups = vec![vec![]];
    world.when(&p, c).rejects_field("groups[0].conditions");
    let mut c = refunds();
    c.groups[1] = vec![Condition::PriorityIn(vec![])];
    world
        .when(&p, c)
        .rejects_field("groups[1].conditions[0].priority_in.priorities");
    let mut c = refunds();
    c.groups[0][1] = Condition::SubjectContains(vec!["refund".into(), "  ".into()]);
    world
        .when(&p, c)
        .rejects_field("groups[0].conditions[1].subject_contains.words[1]");
    let mut c = refunds();
    c.groups[0][1] = Condition::SubjectOrBodyContains(vec!["?!".into()]);
    world
        .when(&p, c)
        .rejects_field("groups[0].conditions[1].subject_or_body_contains.words[0]");
    let mut c = refunds();
    c.actions = vec![];
    world.when(&p, c).rejects_field("actions");
    let mut c = refunds();
    c.actions[1] = Action::AssignTo(vec![]);
    world
        .when(&p, c)
        .rejects_field("actions[1].assign_to.agent_ids");
    let mut c = refunds();
    c.actions[2] = Action::AddTags(vec!["ok".into(), "x".repeat(65)]);
    world
        .when(&p, c)
        .rejects_field("actions[2].add_tags.tags[1]");
    let mut c = refunds();
    c.actions[2] = Action::AddTags((0..51).map(|i| format!("t{i}")).collect());
    world.when(&p, c).rejects_field("actions[2].add_tags.tags");
}

#[test]
fn remove_routing_rule() {
    let world = World::new()
        .run(&admin(boss()), tagging(1, None))
        .run(&admin(boss()), tagging(2, None));
    world
        .when(&admin(boss()), remove_rule(1))
        .then(evs![RoutingRuleRemoved {
            rule_id: rule_id(1)
        }]);
    let world = world.run(&admin(boss()), remove_rule(1));
    assert_eq!(rule_order(&world), vec![rule_id(2)]);
    world
        .when(&admin(boss()), remove_rule(1))
        .rejects("NOT_FOUND", "rule");
}

#[test]
fn remove_unknown_routing_rule_is_not_found() {
    World::new().when(&admin(boss()), remove_rule(1)).rejects(
        "NOT_FOUND",
        &format!("routing rule {} not found", rule_id(1)),
    );
}

#[test]
fn remove_routing_rule_needs_routing_manage() {
    let world = World::new().run(&admin(boss()), tagging(1, None));
    for p in lacking(Permission::RoutingManage) {
        world
            .when(&p, remove_rule(1))
            .rejects("PERMISSION_DENIED", "routing.manage");
    }
    for p in holders(Permission::RoutingManage) {
        world.when(&p, remove_rule(1)).ok();
    }
}

fn update_rule(n: u128) -> UpdateRoutingRule {
    UpdateRoutingRule {
        rule_id: rule_id(n),
        name: None,
        notes: None,
        enabled: None,
    }
}

#[test]
fn update_routing_rule_renames_notes_and_switches() {
    let world = World::new()
        .run(&admin(boss()), tagging(1, None))
        .run(&admin(boss()), tagging(2, None));
    let c = UpdateRoutingRule {
        name: Some("Invoices".into()),
        notes: Some("From the billing team, March.".into()),
        enabled: Some(false),
        ..update_rule(1)
    };
    world
        .when(&admin(boss()), c.clone())
        .then(evs![RoutingRuleUpdated {
            rule_id: rule_id(1),
            name: Some("Invoices".into()),
            notes: Some("From the billing team, March.".into()),
            enabled: Some(false),
        }]);
    let world = world.run(&admin(boss()), c);
    let config = world.config();
    // Switched off, it keeps its place.
    assert_eq!(rule_order(&world), vec![rule_id(1), rule_id(2)]);
    assert_eq!(config.routing_rule(rule_id(1)).unwrap().name, "Invoices");
    assert_eq!(
        config.routing_rule_notes(rule_id(1)),
        "From the billing team, March."
    );
    assert!(!config.routing_rule_enabled(rule_id(1)));
    // A rule defined before has no notes and is on.
    assert_eq!(config.routing_rule_notes(rule_id(2)), "");
    assert!(config.routing_rule_enabled(rule_id(2)));
    // Only what is set changes; empty notes are none.
    let world = world.run(
        &admin(boss()),
        UpdateRoutingRule {
            enabled: Some(true),
            ..update_rule(1)
        },
    );
    assert!(world.config().routing_rule_enabled(rule_id(1)));
    assert_eq!(
        world.config().routing_rule(rule_id(1)).unwrap().name,
        "Invoices"
    );
    let world = world.run(
        &admin(boss()),
        UpdateRoutingRule {
            notes: Some(String::new()),
            ..update_rule(1)
        },
    );
    assert_eq!(world.config().routing_rule_notes(rule_id(1)), "");
    // Removed and defined again, it starts afresh.
    let world = world
        .run(
            &admin(boss()),
            UpdateRoutingRule {
                notes: Some("n".into()),
                enabled: Some(false),
                ..update_rule(2)
            },
        )
        .run(&admin(boss()), remove_rule(2))
        .run(&admin(boss()), tagging(2, None));
    assert_eq!(world.config().routing_rule_notes(rule_id(2)), "");
    assert!(world.config().routing_rule_enabled(rule_id(2)));
}

#[test]
fn update_routing_rule_input_limits() {
    let world = World::new().run(&admin(boss()), tagging(1, None));
    let p = admin(boss());
    world
        .when(&p, update_rule(1))
        .rejects("INVALID_ARGUMENT", "set at least one field");
    for name in ["", "  ", &"x".repeat(201)] {
        world
            .when(
                &p,
                UpdateRoutingRule {
                    name: Some(name.to_owned()),
                    ..update_rule(1)
                },
            )
            .rejects_field("name");
    }
    let notes = |n: usize| UpdateRoutingRule {
        notes: Some("é".repeat(n)),
        ..update_rule(1)
    };
    world
        .when(&p, notes(2_001))
        .rejects("INVALID_ARGUMENT", "at most 2000 characters");
    world.when(&p, notes(2_001)).rejects_field("notes");
    world.when(&p, notes(2_000)).ok();
    world
        .when(
            &p,
            UpdateRoutingRule {
                name: Some("x".repeat(200)),
                ..update_rule(1)
            },
        )
        .ok();
}

#[test]
fn update_unknown_routing_rule_is_not_found() {
    World::new()
        .when(
            &admin(boss()),
            UpdateRoutingRule {
                enabled: Some(false),
                ..update_rule(1)
            },
        )
        .rejects(
            "NOT_FOUND",
            &format!("routing rule {} not found", rule_id(1)),
        );
}

#[test]
fn update_routing_rule_needs_routing_manage() {
    let world = World::new().run(&admin(boss()), tagging(1, None));
    let c = UpdateRoutingRule {
        enabled: Some(false),
        ..update_rule(1)
    };
    for p in lacking(Permission::RoutingManage) {
        world
            .when(&p, c.clone())
            .rejects("PERMISSION_DENIED", "routing.manage");
    }
    for p in holders(Permission::RoutingManage) {
        world.when(&p, c.clone()).ok();
    }
}

// --- Roles -------------------------------------------------------------------------------

fn lead_permissions() -> Permissions {
    Permissions::empty()
        .with(Permission::TicketsAssign)
        .with(Permission::ReportsView)
}

fn define_role(n: u128, name: &str) -> DefineRole {
    DefineRole {
        role_id: role_id(n),
        name: name.into(),
        permissions: lead_permissions(),
    }
}

fn remove_role(n: u128) -> RemoveRole {
    RemoveRole {
        role_id: role_id(n),
    }
}

fn update_role(name: Option<&str>, permissions: Option<Permissions>) -> UpdateRole {
    UpdateRole {
        role_id: role_id(1),
        name: name.map(Into::into),
        permissions,
    }
}

/// Custom roles 1..=n, named "Role n".
fn with_roles(n: u128) -> World {
    let events = (1..=n)
        .map(|i| {
            RoleDefined {
                role_id: role_id(i),
                name: format!("Role {i}"),
                permissions: lead_permissions(),
            }
            .into()
        })
        .collect();
    World::new().given(cfg(), events)
}

#[test]
fn define_a_role() {
    World::new()
        .when(&owner(boss()), define_role(1, "Team lead"))
        .then(evs![RoleDefined {
            role_id: role_id(1),
            name: "Team lead".into(),
            permissions: Permissions::empty()
                .with(Permission::TicketsAssign)
                .with(Permission::ReportsView),
        }]);
}

#[test]
fn a_defined_role_grants_its_permissions() {
    let config = World::new()
        .run(&owner(boss()), define_role(1, "Team lead"))
        .config();
    assert_eq!(config.role(role_id(1)).unwrap().name, "Team lead");
    assert_eq!(
        permissions_for(&Role::Custom(role_id(1)), &config),
        lead_permissions()
    );
}

#[test]
fn define_role_needs_roles_manage() {
    for p in lacking(Permission::RolesManage)
        .into_iter()
        .chain([admin(boss()), integration_as(Role::Administrator)])
    {
        World::new()
            .when(&p, define_role(1, "Team lead"))
            .rejects("PERMISSION_DENIED", "roles.manage");
    }
    for p in holders(Permission::RolesManage)
        .into_iter()
        .chain([owner(boss())])
    {
        World::new().when(&p, define_role(1, "Team lead")).ok();
    }
}

#[test]
fn defining_an_existing_role_fails() {
    with_roles(1)
        .when(&owner(boss()), define_role(1, "Team lead"))
        .rejects("FAILED_PRECONDITION", "already exists");
}

#[test]
fn role_names_are_unique() {
    with_roles(1)
        .when(&owner(boss()), define_role(2, "role 1"))
        .rejects("FAILED_PRECONDITION", "already exists");
    with_roles(1)
        .when(&owner(boss()), define_role(2, " Role 1 "))
        .rejects("FAILED_PRECONDITION", "already exists");
    for builtin in ["Owner", "administrator", "AGENT"] {
        World::new()
            .when(&owner(boss()), define_role(1, builtin))
            .rejects_field("name");
    }
}

#[test]
fn at_most_three_custom_roles_by_default() {
    with_roles(2)
        .when(&owner(boss()), define_role(3, "Role 3"))
        .ok();
    with_roles(3)
        .when(&owner(boss()), define_role(4, "Role 4"))
        .rejects("FAILED_PRECONDITION", "maximum of 3 custom roles");
}

#[test]
fn the_custom_role_limit_is_an_organization_setting() {
    let raise = SetOrganizationSettings {
        max_custom_roles: Some(4),
        ..settings()
    };
    let world = with_roles(3).run(&owner(boss()), raise);
    let world = world.run(&owner(boss()), define_role(4, "Role 4"));
    world
        .when(&owner(boss()), define_role(5, "Role 5"))
        .rejects("FAILED_PRECONDITION", "maximum of 4 custom roles");
    let none = SetOrganizationSettings {
        max_custom_roles: Some(0),
        ..settings()
    };
    World::new()
        .run(&owner(boss()), none)
        .when(&owner(boss()), define_role(1, "Role 1"))
        .rejects("FAILED_PRECONDITION", "max_custom_roles");
}

#[test]
fn removing_a_role_frees_its_place() {
    with_roles(3)
        .run(&owner(boss()), remove_role(2))
        .when(&owner(boss()), define_role(4, "Role 2"))
        .ok();
}

#[test]
fn define_role_input_limits() {
    let mut c = define_role(1, "x");
    c.name = "x".repeat(201);
    World::new().when(&owner(boss()), c).rejects_field("name");
    let mut c = define_role(1, "x");
    c.name = "  ".into();
    World::new().when(&owner(boss()), c).rejects_field("name");
    let mut c = define_role(1, "x");
    c.name = "x".repeat(200);
    World::new().when(&owner(boss()), c).ok();
}

#[test]
fn update_role_keeps_what_is_not_set() {
    with_roles(1)
        .when(&owner(boss()), update_role(Some("Team lead"), None))
        .then(evs![RoleUpdated {
            role_id: role_id(1),
            name: "Team lead".into(),
            permissions: lead_permissions(),
        }]);
    let more = lead_permissions().with(Permission::AgentsPauseOthers);
    with_roles(1)
        .when(&owner(boss()), update_role(None, Some(more)))
        .then(evs![RoleUpdated {
            role_id: role_id(1),
            name: "Role 1".into(),
            permissions: more,
        }]);
}

#[test]
fn an_updated_role_grants_its_new_permissions() {
    let config = with_roles(1)
        .run(
            &owner(boss()),
            update_role(
                None,
                Some(Permissions::empty().with(Permission::ReportsExport)),
            ),
        )
        .config();
    assert_eq!(
        permissions_for(&Role::Custom(role_id(1)), &config),
        Permissions::empty().with(Permission::ReportsExport)
    );
}

#[test]
fn update_unknown_role_is_not_found() {
    World::new()
        .when(&owner(boss()), update_role(Some("Team lead"), None))
        .rejects("NOT_FOUND", "role");
}

#[test]
fn update_role_names_stay_unique() {
    let world = with_roles(2);
    world
        .when(&owner(boss()), update_role(Some("ROLE 2"), None))
        .rejects("FAILED_PRECONDITION", "already exists");
    world
        .when(&owner(boss()), update_role(Some("Administrator"), None))
        .rejects_field("name");
    // Its own name, differently cased, is fine.
    world
        .when(&owner(boss()), update_role(Some("ROLE 1"), None))
        .ok();
}

#[test]
fn update_role_needs_roles_manage() {
    let world = with_roles(1);
    for p in lacking(Permission::RolesManage)
        .into_iter()
        .chain([admin(boss())])
    {
        world
            .when(&p, update_role(Some("Team lead"), None))
            .rejects("PERMISSION_DENIED", "roles.manage");
    }
    for p in holders(Permission::RolesManage) {
        world.when(&p, update_role(Some("Team lead"), None)).ok();
    }
}

#[test]
fn update_role_input_limits() {
    let world = with_roles(1);
    world
        .when(&owner(boss()), update_role(None, None))
        .rejects_field("*");
    world
        .when(&owner(boss()), update_role(Some(&"x".repeat(201)), None))
        .rejects_field("name");
    world
        .when(&owner(boss()), update_role(Some(""), None))
        .rejects_field("name");
}

#[test]
fn remove_a_role() {
    with_roles(2)
        .when(&owner(boss()), remove_role(1))
        .then(evs![RoleRemoved {
            role_id: role_id(1)
        }]);
}

#[test]
fn holders_of_a_removed_role_fall_back_to_the_agent_role() {
    let world = with_roles(1)
        .agent_with_role(a1(), Role::Custom(role_id(1)))
        .run(&owner(boss()), remove_role(1));
    let config = world.config();
    assert!(config.role(role_id(1)).is_none());
    assert_eq!(
        permissions_for(&Role::Custom(role_id(1)), &config),
        permissions_for(&Role::Agent, &config)
    );
    world
        .when(&owner(boss()), remove_role(1))
        .rejects("NOT_FOUND", "role");
}

#[test]
fn remove_unknown_role_is_not_found() {
    with_roles(1)
        .when(&owner(boss()), remove_role(7))
        .rejects("NOT_FOUND", &format!("role {} not found", role_id(7)));
}

#[test]
fn remove_role_needs_roles_manage() {
    let world = with_roles(1);
    for p in lacking(Permission::RolesManage)
        .into_iter()
        .chain([admin(boss())])
    {
        world
            .when(&p, remove_role(1))
            .rejects("PERMISSION_DENIED", "roles.manage");
    }
    for p in holders(Permission::RolesManage) {
        world.when(&p, remove_role(1)).ok();
    }
}

// --- Tick --------------------------------------------------------------------------------

#[test]
fn tick() {
    World::new()
        .when(&system(), Tick {})
        .then(evs![ClockTicked {}]);
    // Again and again: the clock has no state to refuse on.
    World::new()
        .run(&system(), Tick {})
        .when(&system(), Tick {})
        .then(evs![ClockTicked {}]);
}

#[test]
fn only_the_system_ticks() {
    for p in [
        owner(boss()),
        admin(boss()),
        agent(boss()),
        integration(&Permission::ALL),
        integration_as(Role::Owner),
    ] {
        World::new()
            .when(&p, Tick {})
            .rejects("PERMISSION_DENIED", "system");
    }
}

// --- RecomputeLevels ---------------------------------------------------------------------

fn recompute() -> RecomputeLevels {
    RecomputeLevels {
        mode: RecomputeMode::TodaysDefinitions,
        granted: vec![LevelGrant {
            agent: a1(),
            level: level_id(1),
            reached_at: T0,
            values: vec![2.0, 12.0],
        }],
        revoked: vec![LevelRevocation {
            agent: a2(),
            level: level_id(2),
        }],
    }
}

#[test]
fn a_recompute_is_recorded_as_it_was_found() {
    World::new()
        .when(&admin(boss()), recompute())
        .then(evs![LevelsRecomputed {
            mode: RecomputeMode::TodaysDefinitions,
            granted: vec![LevelGrant {
                agent: a1(),
                level: level_id(1),
                reached_at: T0,
                values: vec![2.0, 12.0],
            }],
            revoked: vec![LevelRevocation {
                agent: a2(),
                level: level_id(2),
            }],
        }]);
}

#[test]
fn a_recompute_needs_gamification_manage_and_has_a_size_limit() {
    for p in lacking(Permission::GamificationManage) {
        World::new()
            .when(&p, recompute())
            .rejects("PERMISSION_DENIED", "gamification.manage");
    }
    let mut huge = recompute();
    huge.revoked = vec![
        LevelRevocation {
            agent: a2(),
            level: level_id(2),
        };
        2_001
    ];
    World::new()
        .when(&admin(boss()), huge)
        .rejects_field("granted");
}

// --- RecomputeBadges ---------------------------------------------------------------------

fn badge_recompute() -> RecomputeBadges {
    RecomputeBadges {
        mode: RecomputeMode::AsItHappened,
        evaluations: vec![BadgeEvaluationRecord {
            key: "siesta".into(),
            day: 19_844,
            from: 19_837,
            to: 19_843,
            holders: vec![BadgeAward {
                agent: a1(),
                value: Some(60_000),
            }],
            value: Some(60_000),
            runner_up: None,
            competitors: 1,
        }],
    }
}

#[test]
fn a_badge_recompute_is_recorded_as_it_was_found() {
    World::new()
        .when(&admin(boss()), badge_recompute())
        .then(evs![BadgesRecomputed {
            mode: RecomputeMode::AsItHappened,
            evaluations: vec![BadgeEvaluationRecord {
                key: "siesta".into(),
                day: 19_844,
                from: 19_837,
                to: 19_843,
                holders: vec![BadgeAward {
                    agent: a1(),
                    value: Some(60_000),
                }],
                value: Some(60_000),
                runner_up: None,
                competitors: 1,
            }],
        }]);
}

#[test]
fn a_badge_recompute_needs_gamification_manage_and_has_limits() {
    for p in lacking(Permission::GamificationManage) {
        World::new()
            .when(&p, badge_recompute())
            .rejects("PERMISSION_DENIED", "gamification.manage");
    }
    let mut huge = badge_recompute();
    huge.evaluations = vec![huge.evaluations[0].clone(); 1_001];
    World::new()
        .when(&admin(boss()), huge)
        .rejects_field("evaluations");
    let mut long_key = badge_recompute();
    long_key.evaluations[0].key = "k".repeat(65);
    World::new()
        .when(&admin(boss()), long_key)
        .rejects_field("evaluations[0].key");
}

#[test]
fn a_token_may_expire_but_not_in_the_past() {
    let mut expiring = token_for(10, a1());
    expiring.expires_at = Some(T0.plus_minutes(60));
    World::new()
        .agent(a1())
        .at(T0)
        .when(&system(), expiring.clone())
        .then(evs![
            TokenIssued {
                token_id: token_id(10),
                hash: [10; 32],
                subject: TokenSubject::Agent(a1()),
            },
            TokenExpires {
                token_id: token_id(10),
                expires_at: T0.plus_minutes(60),
            }
        ]);
    let config = World::new()
        .agent(a1())
        .at(T0)
        .run(&system(), expiring)
        .config();
    assert_eq!(
        config.token(token_id(10)).unwrap().expires_at,
        Some(T0.plus_minutes(60))
    );
    let mut past = token_for(11, a1());
    past.expires_at = Some(T0);
    World::new()
        .agent(a1())
        .at(T0)
        .when(&system(), past)
        .rejects_field("expires_at");
}

#[test]
fn a_token_grants_only_permissions_its_issuer_holds() {
    let power = || {
        World::new().given(
            cfg(),
            evs![RoleDefined {
                role_id: role_id(1),
                name: "Importer".into(),
                permissions: Permissions::empty().with(Permission::SystemImport),
            }],
        )
    };
    // An integration with system.import, from someone who manages roles but cannot import.
    power()
        .when(
            &custom(boss(), &[Permission::RolesManage]),
            integration_token(11, Role::Custom(role_id(1))),
        )
        .rejects("PERMISSION_DENIED", "system.import");
    // A token for an agent who holds that role, from someone who only manages agents.
    power()
        .agent_with_role(a1(), Role::Custom(role_id(1)))
        .when(
            &custom(boss(), &[Permission::AgentsManage]),
            token_for(12, a1()),
        )
        .rejects("PERMISSION_DENIED", "system.import");
}

// --- Distribution settings (docs/DISTRIBUTION.md) -----------------------------------------

#[test]
fn distribution_settings_are_an_event_of_their_own() {
    let world = World::new().set_up();
    assert!(
        !world.config().settings.system_routes,
        "integrations route by default"
    );
    assert_eq!(world.config().settings.routing_seconds, 30);
    world
        .when(
            &admin(boss()),
            SetOrganizationSettings {
                system_routes: Some(true),
                routing_seconds: Some(45),
                ..settings()
            },
        )
        .then(evs![DistributionSettingsChanged {
            system_routes: Some(true),
            routing_seconds: Some(45),
        }]);
    let world = world.run(
        &admin(boss()),
        SetOrganizationSettings {
            routing_seconds: Some(20),
            ..settings()
        },
    );
    assert!(
        !world.config().settings.system_routes,
        "only what is set changes"
    );
    assert_eq!(world.config().settings.routing_seconds, 20);
}

#[test]
fn the_routing_time_is_5_to_600_seconds() {
    let world = World::new().set_up();
    for bad in [0, 4, 601] {
        world
            .when(
                &admin(boss()),
                SetOrganizationSettings {
                    routing_seconds: Some(bad),
                    ..settings()
                },
            )
            .rejects_field("routing_seconds");
    }
}
