//! Configuration reads end to end (`helpdesk.v1.ConfigService`): departments with their
//! members by name, roles with their permissions, routing rules in the order they run
//! and organization settings read back what the commands wrote, each answering with a log
//! position at least that of the write it names (read-your-writes: every read here is
//! sent right after its write, with the write's position). On the embedded log, on NATS,
//! and through the gateway; who may read what, and bad input.
//!
//! Needs the binary (`cargo build -p helpdesk-server`) and `nats-server` (`just test` sees to
//! both).

use std::collections::HashMap;

use helpdesk_api::{pb, CommandServiceClient, ConfigServiceClient};
use helpdesk_tests::{with_token, Helpdesk, NatsServer};
use pb::routing_action::Action as A;
use pb::routing_condition::Condition as Cond;
use tonic::transport::Channel;
use tonic::{Code, Request};

fn auth<T>(token: &str, message: T) -> Request<T> {
    with_token(Request::new(message), token)
}

/// Read-your-writes: answer once the log holds `position`.
fn after(position: u64) -> Option<pb::ReadOptions> {
    Some(pb::ReadOptions {
        min_position: position,
        wait_ms: 10_000,
    })
}

fn builtin(role: pb::BuiltinRole) -> Option<pb::RoleRef> {
    Some(pb::RoleRef {
        role: Some(pb::role_ref::Role::Builtin(role as i32)),
    })
}

fn custom(role_id: &str) -> Option<pb::RoleRef> {
    Some(pb::RoleRef {
        role: Some(pb::role_ref::Role::CustomRoleId(role_id.to_owned())),
    })
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// The departments as (name, members' names).
fn departments(list: &pb::ListDepartmentsResponse) -> Vec<(String, Vec<String>)> {
    list.departments
        .iter()
        .map(|d| {
            (
                d.name.clone(),
                d.members.iter().map(|m| m.name.clone()).collect(),
            )
        })
        .collect()
}

/// The whole scenario, written and read through `channel` (a server, or a gateway in
/// front of one) with the Owner's `token`.
async fn run(channel: Channel, token: &str) -> anyhow::Result<()> {
    let mut commands = CommandServiceClient::new(channel.clone());
    let mut config = ConfigServiceClient::new(channel.clone());
    let mut issue = helpdesk_api::AdminServiceClient::new(channel.clone());

    // Two agents, each with a token of their own.
    let mut agents = HashMap::new();
    for name in ["Ada", "Bob"] {
        let id = commands
            .register_agent(auth(
                token,
                pb::RegisterAgentRequest {
                    name: name.into(),
                    email: format!("{}@example.com", name.to_lowercase()),
                    role: builtin(pb::BuiltinRole::Agent),
                    ..Default::default()
                },
            ))
            .await?
            .into_inner()
            .aggregate_id;
        let issued = issue
            .issue_token(auth(
                token,
                pb::IssueTokenRequest {
                    subject: Some(pb::issue_token_request::Subject::AgentId(id.clone())),
                    ..Default::default()
                },
            ))
            .await?
            .into_inner();
        agents.insert(name, (id, issued.token));
    }
    let (ada, ada_token) = agents["Ada"].clone();
    let (bob, _) = agents["Bob"].clone();

    // ------------------------------------------------------------------ departments
    let empty = config
        .list_departments(auth(token, pb::ListDepartmentsRequest { read: None }))
        .await?
        .into_inner();
    assert!(empty.departments.is_empty(), "{empty:?}");
    assert!(empty.position > 0, "the organization's setup is in the log");

    let department = |name: &str| pb::CreateDepartmentRequest {
        name: name.into(),
        ..Default::default()
    };
    let billing = commands
        .create_department(auth(token, department("Billing")))
        .await?
        .into_inner()
        .aggregate_id;
    let support = commands
        .create_department(auth(token, department("Support")))
        .await?
        .into_inner()
        .aggregate_id;
    let mut last = 0;
    for (department, agent) in [(&billing, &bob), (&billing, &ada), (&support, &ada)] {
        last = commands
            .add_agent_to_department(auth(
                token,
                pb::AddAgentToDepartmentRequest {
                    department_id: department.clone(),
                    agent_id: agent.clone(),
                    ..Default::default()
                },
            ))
            .await?
            .into_inner()
            .position;
    }
    let listed = config
        .list_departments(auth(
            token,
            pb::ListDepartmentsRequest { read: after(last) },
        ))
        .await?
        .into_inner();
    assert!(listed.position >= last, "{} < {last}", listed.position);
    assert_eq!(
        departments(&listed),
        vec![
            ("Billing".into(), strings(&["Ada", "Bob"])),
            ("Support".into(), strings(&["Ada"])),
        ]
    );
    let billing_listed = &listed.departments[0];
    assert_eq!(billing_listed.department_id, billing);
    assert_eq!(
        billing_listed
            .members
            .iter()
            .map(|m| (m.agent_id.clone(), m.deactivated))
            .collect::<Vec<_>>(),
        vec![(ada.clone(), false), (bob.clone(), false)]
    );

    // A change is read back at once with its position.
    let renamed = commands
        .update_department(auth(
            token,
            pb::UpdateDepartmentRequest {
                department_id: support.clone(),
                name: Some("Customer care".into()),
                ..Default::default()
            },
        ))
        .await?
        .into_inner()
        .position;
    let removed = commands
        .remove_agent_from_department(auth(
            token,
            pb::RemoveAgentFromDepartmentRequest {
                department_id: billing.clone(),
                agent_id: bob.clone(),
                ..Default::default()
            },
        ))
        .await?
        .into_inner()
        .position;
    assert!(removed > renamed);
    let listed = config
        .list_departments(auth(
            token,
            pb::ListDepartmentsRequest {
                read: after(removed),
            },
        ))
        .await?
        .into_inner();
    assert!(listed.position >= removed);
    assert_eq!(
        departments(&listed),
        vec![
            ("Billing".into(), strings(&["Ada"])),
            ("Customer care".into(), strings(&["Ada"])),
        ]
    );

    // ------------------------------------------------------------------------ roles
    let defined = commands
        .define_role(auth(
            token,
            pb::DefineRoleRequest {
                name: "Team lead".into(),
                permissions: strings(&["tickets.assign", "tickets.view_all"]),
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    let team_lead = defined.aggregate_id;
    let roles = config
        .list_roles(auth(
            token,
            pb::ListRolesRequest {
                read: after(defined.position),
            },
        ))
        .await?
        .into_inner();
    assert!(roles.position >= defined.position);
    assert_eq!(roles.max_custom_roles, 3, "the default");
    let summary: Vec<(String, bool, usize)> = roles
        .roles
        .iter()
        .map(|r| (r.name.clone(), r.builtin, r.permissions.len()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("Owner".into(), true, 14),
            ("Administrator".into(), true, 13),
            ("Agent".into(), true, 0),
            ("Team lead".into(), false, 2),
        ]
    );
    assert!(!roles.roles[1]
        .permissions
        .contains(&"roles.manage".to_owned()));
    assert_eq!(roles.roles[0].role, builtin(pb::BuiltinRole::Owner));
    assert_eq!(roles.roles[3].role, custom(&team_lead));
    assert_eq!(
        roles.roles[3].permissions,
        strings(&["tickets.view_all", "tickets.assign"]),
        "in the order of the permission table"
    );

    let updated = commands
        .update_role(auth(
            token,
            pb::UpdateRoleRequest {
                role_id: team_lead.clone(),
                permissions: Some(pb::PermissionSet {
                    permissions: strings(&["tickets.view_all", "reports.view"]),
                }),
                ..Default::default()
            },
        ))
        .await?
        .into_inner()
        .position;
    let roles = config
        .list_roles(auth(
            token,
            pb::ListRolesRequest {
                read: after(updated),
            },
        ))
        .await?
        .into_inner();
    assert_eq!(
        roles.roles[3].permissions,
        strings(&["tickets.view_all", "reports.view"])
    );

    // ---------------------------------------------------------------- routing rules
    let words = |w: &[&str]| pb::WordList { words: strings(w) };
    let vip = pb::DefineRoutingRuleRequest {
        name: "VIP refunds".into(),
        groups: vec![pb::RoutingConditionGroup {
            conditions: vec![
                pb::RoutingCondition {
                    condition: Some(Cond::ChannelIn(pb::ChannelSet {
                        channels: vec![pb::Channel::Email as i32, pb::Channel::Chat as i32],
                    })),
                },
                pb::RoutingCondition {
                    condition: Some(Cond::SubjectContains(words(&["refund", "money back"]))),
                },
            ],
        }],
        actions: vec![
            pb::RoutingAction {
                action: Some(A::TransferToDepartmentId(billing.clone())),
            },
            pb::RoutingAction {
                action: Some(A::AssignTo(pb::AgentList {
                    agent_ids: vec![ada.clone(), bob.clone()],
                })),
            },
            pb::RoutingAction {
                action: Some(A::SetPriority(pb::Priority::High as i32)),
            },
            pb::RoutingAction {
                action: Some(A::AddTags(pb::TagList {
                    tags: strings(&["vip"]),
                })),
            },
        ],
        ..Default::default()
    };
    let urgent = pb::DefineRoutingRuleRequest {
        name: "Urgent stays open".into(),
        groups: vec![pb::RoutingConditionGroup {
            conditions: vec![pb::RoutingCondition {
                condition: Some(Cond::PriorityIn(pb::PrioritySet {
                    priorities: vec![pb::Priority::Urgent as i32],
                })),
            }],
        }],
        actions: vec![pb::RoutingAction {
            action: Some(A::LeaveUnassigned(pb::LeaveUnassigned {})),
        }],
        // Runs first.
        position: Some(0),
        ..Default::default()
    };
    let spam = pb::DefineRoutingRuleRequest {
        name: "Spam".into(),
        groups: vec![pb::RoutingConditionGroup {
            conditions: vec![pb::RoutingCondition {
                condition: Some(Cond::BodyContains(words(&["lottery"]))),
            }],
        }],
        actions: vec![pb::RoutingAction {
            action: Some(A::SetPriority(pb::Priority::Low as i32)),
        }],
        ..Default::default()
    };
    let mut ids = Vec::new();
    let mut last = 0;
    for rule in [vip.clone(), urgent.clone(), spam] {
        let done = commands
            .define_routing_rule(auth(token, rule))
            .await?
            .into_inner();
        ids.push(done.aggregate_id);
        last = done.position;
    }
    let (vip_id, urgent_id, spam_id) = (ids[0].clone(), ids[1].clone(), ids[2].clone());
    let removed = commands
        .remove_routing_rule(auth(
            token,
            pb::RemoveRoutingRuleRequest {
                rule_id: spam_id,
                ..Default::default()
            },
        ))
        .await?
        .into_inner()
        .position;
    assert!(removed > last);
    let rules = config
        .list_routing_rules(auth(
            token,
            pb::ListRoutingRulesRequest {
                read: after(removed),
            },
        ))
        .await?
        .into_inner();
    assert!(rules.position >= removed);
    assert_eq!(
        rules.rules,
        vec![
            pb::RoutingRule {
                rule_id: urgent_id,
                name: urgent.name,
                position: 0,
                groups: urgent.groups,
                actions: urgent.actions,
                notes: String::new(),
                enabled: true,
            },
            pb::RoutingRule {
                rule_id: vip_id,
                name: vip.name,
                position: 1,
                groups: vip.groups,
                actions: vip.actions,
                notes: String::new(),
                enabled: true,
            },
        ]
    );
    assert_eq!(
        rules.agent_names,
        HashMap::from([(ada.clone(), "Ada".into()), (bob.clone(), "Bob".into())])
    );
    assert_eq!(
        rules.department_names,
        HashMap::from([(billing.clone(), "Billing".into())])
    );

    // --------------------------------------------------------------------- settings
    let settings = config
        .get_organization_settings(auth(
            token,
            pb::GetOrganizationSettingsRequest { read: None },
        ))
        .await?
        .into_inner();
    assert_eq!(
        (
            settings.time_zone.as_str(),
            settings.auto_pause,
            settings.clover_odds,
            settings.max_custom_roles
        ),
        ("UTC", false, 0.001, 3),
        "the defaults"
    );
    let set = commands
        .set_organization_settings(auth(
            token,
            pb::SetOrganizationSettingsRequest {
                time_zone: Some("Europe/Ljubljana".into()),
                auto_pause: Some(true),
                clover_odds: Some(0.25),
                max_custom_roles: Some(5),
                ..Default::default()
            },
        ))
        .await?
        .into_inner()
        .position;
    let settings = config
        .get_organization_settings(auth(
            token,
            pb::GetOrganizationSettingsRequest { read: after(set) },
        ))
        .await?
        .into_inner();
    assert!(settings.position >= set);
    assert_eq!(
        (
            settings.time_zone.as_str(),
            settings.auto_pause,
            settings.clover_odds,
            settings.max_custom_roles
        ),
        ("Europe/Ljubljana", true, 0.25, 5)
    );

    // ------------------------------------------------------------ who may read what
    // An agent reads departments, roles and settings, not the routing rules.
    config
        .list_departments(auth(&ada_token, pb::ListDepartmentsRequest { read: None }))
        .await?;
    config
        .list_roles(auth(&ada_token, pb::ListRolesRequest { read: None }))
        .await?;
    config
        .get_organization_settings(auth(
            &ada_token,
            pb::GetOrganizationSettingsRequest { read: None },
        ))
        .await?;
    let denied = config
        .list_routing_rules(auth(&ada_token, pb::ListRoutingRulesRequest { read: None }))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    assert!(
        denied.message().contains("routing.manage"),
        "names the permission: {}",
        denied.message()
    );
    // As team lead (tickets.view_all) she may, from the very next request on.
    commands
        .change_agent_role(auth(
            token,
            pb::ChangeAgentRoleRequest {
                agent_id: ada.clone(),
                role: custom(&team_lead),
                ..Default::default()
            },
        ))
        .await?;
    let seen = config
        .list_routing_rules(auth(&ada_token, pb::ListRoutingRulesRequest { read: None }))
        .await?
        .into_inner();
    assert_eq!(seen.rules.len(), 2);
    // Nobody without a token.
    let anonymous = config
        .list_roles(Request::new(pb::ListRolesRequest { read: None }))
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated, "{anonymous:?}");

    // ------------------------------------------------------------------- bad input
    let too_long = config
        .list_departments(auth(
            token,
            pb::ListDepartmentsRequest {
                read: Some(pb::ReadOptions {
                    min_position: 1,
                    wait_ms: 60_001,
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(too_long.code(), Code::InvalidArgument, "{too_long:?}");
    assert!(
        too_long.message().contains("read.wait_ms"),
        "{}",
        too_long.message()
    );
    // A position the log has not reached (nobody wrote it) is waited for, then refused.
    let future = settings.position + 1_000_000;
    let not_yet = config
        .get_organization_settings(auth(
            token,
            pb::GetOrganizationSettingsRequest {
                read: Some(pb::ReadOptions {
                    min_position: future,
                    wait_ms: 300,
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(not_yet.code(), Code::DeadlineExceeded, "{not_yet:?}");
    assert!(
        not_yet.message().contains(&future.to_string()),
        "{}",
        not_yet.message()
    );
    Ok(())
}

#[tokio::test]
async fn config_reads_on_the_embedded_log() -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::start_embedded().await?;
    run(helpdesk.channel().await?, helpdesk.token()).await?;
    helpdesk.stop().await
}

#[tokio::test]
async fn config_reads_on_nats() -> anyhow::Result<()> {
    let nats = NatsServer::start()?;
    let mut helpdesk = Helpdesk::start_on_nats(&nats).await?;
    run(helpdesk.channel().await?, helpdesk.token()).await?;
    helpdesk.stop().await
}

/// The gateway passes ConfigService through to the command side, as it does commands.
#[tokio::test]
async fn config_reads_through_the_gateway() -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::start_embedded().await?;
    let mut gateway = Helpdesk::builder()
        .subcommand(["gateway"])
        .arg("--route")
        .arg(format!("commands={}", helpdesk.endpoint()))
        .start()
        .await?;
    run(gateway.channel().await?, helpdesk.token()).await?;
    gateway.stop().await?;
    helpdesk.stop().await
}

/// Read-your-writes across processes: a write taken by one command service is read back
/// at once, with its position, from another on the same NATS stream (whose cached
/// configuration has not seen it yet).
#[tokio::test]
async fn a_write_on_one_command_service_is_read_back_on_another() -> anyhow::Result<()> {
    const OWNER: &str = "config-reads-test-owner-token-0123456789";
    let nats = NatsServer::start()?;
    let mut writer = Helpdesk::builder()
        .nats(&nats)
        .owner_token(OWNER)
        .start()
        .await?;
    let mut reader = Helpdesk::builder()
        .nats(&nats)
        .subcommand(["commands"])
        .owner_token(OWNER)
        .start()
        .await?;
    let mut commands = CommandServiceClient::new(writer.channel().await?);
    let mut config = ConfigServiceClient::new(reader.channel().await?);
    // The reader caches the configuration before the writes.
    let before = config
        .get_organization_settings(auth(
            OWNER,
            pb::GetOrganizationSettingsRequest { read: None },
        ))
        .await?
        .into_inner();
    assert_eq!(before.time_zone, "UTC");
    for round in 0..5 {
        let zone = ["Europe/Ljubljana", "America/New_York", "Asia/Tokyo"][round % 3];
        let set = commands
            .set_organization_settings(auth(
                OWNER,
                pb::SetOrganizationSettingsRequest {
                    time_zone: Some(zone.into()),
                    ..Default::default()
                },
            ))
            .await?
            .into_inner()
            .position;
        let settings = config
            .get_organization_settings(auth(
                OWNER,
                pb::GetOrganizationSettingsRequest { read: after(set) },
            ))
            .await?
            .into_inner();
        assert!(settings.position >= set);
        assert_eq!(settings.time_zone, zone, "round {round}");

        let name = format!("Department {round}");
        let created = commands
            .create_department(auth(
                OWNER,
                pb::CreateDepartmentRequest {
                    name: name.clone(),
                    ..Default::default()
                },
            ))
            .await?
            .into_inner()
            .position;
        let listed = config
            .list_departments(auth(
                OWNER,
                pb::ListDepartmentsRequest {
                    read: after(created),
                },
            ))
            .await?
            .into_inner();
        assert!(listed.position >= created);
        assert!(
            listed.departments.iter().any(|d| d.name == name),
            "round {round}: {listed:?}"
        );
    }
    reader.stop().await?;
    writer.stop().await
}
