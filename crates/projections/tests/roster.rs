//! The roster read model on a real embedded log (docs/ROSTER.md): presence and since
//! when, a planned pause over at its planned end before and after its end is recorded,
//! open chats and calls, custom role names, deactivated agents, and two partitions that
//! hold each agent once and see memberships everywhere.
//!
//! Expected values are worked out by hand from docs/ROSTER.md.

mod common;

use common::*;
use helpdesk_domain::event::{
    AgentAddedToDepartment, AgentDeactivated, AgentPaused, AgentRegistered, AgentResumed,
    AgentRoleChanged, AgentWentOnline, CallAnswered, CallEnded, ChatAccepted, ClockTicked,
    DepartmentCreated, RoleDefined,
};
use helpdesk_domain::roles::Permissions;
use helpdesk_domain::{
    AgentId, AggregateId, CallId, ChatId, DepartmentId, Event, PauseReason, ResumeReason, Role,
    RoleId, Timestamp,
};
use helpdesk_projections::roster::{Filter, Presence, PresenceKind, Roster, RosterView};
use helpdesk_projections::tickets::Viewer;
use helpdesk_projections::{Partition, Projector, ProjectorConfig};
use uuid::Uuid;

fn id(kind: u128, n: u128) -> Uuid {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | (kind << 32) | n)
}

fn agent(n: u128) -> AgentId {
    AgentId::from_uuid(id(2, n))
}

fn dept(n: u128) -> DepartmentId {
    DepartmentId::from_uuid(id(3, n))
}

fn at(minute: i64) -> Timestamp {
    T0.plus_minutes(minute)
}

fn registered(n: u128, name: &str, role: Role) -> Event {
    AgentRegistered {
        agent: agent(n),
        name: name.into(),
        email: format!("{}@example.com", name.to_lowercase()),
        role,
    }
    .into()
}

/// A history: two departments, a custom role, four agents.
async fn history(log: &mut TestLog) {
    let lead = RoleId::from_uuid(id(4, 1));
    log.append(
        AggregateId::config(),
        at(0),
        vec![RoleDefined {
            role_id: lead,
            name: "Team lead".into(),
            permissions: Permissions::empty(),
        }
        .into()],
    )
    .await;
    for (n, name) in [(1, "Billing"), (2, "Support")] {
        log.append(
            AggregateId::department(dept(n)),
            at(0),
            vec![DepartmentCreated {
                department: dept(n),
                name: name.into(),
                to_solve_enabled: true,
            }
            .into()],
        )
        .await;
    }
    for (n, name) in [(1, "Ada"), (2, "bob"), (3, "Cy"), (4, "Dee")] {
        log.append(
            AggregateId::agent(agent(n)),
            at(1),
            vec![registered(n, name, Role::Agent)],
        )
        .await;
    }
    for (a, d) in [(1, 1), (2, 2), (3, 1), (3, 2), (4, 2)] {
        log.append(
            AggregateId::department(dept(d)),
            at(2),
            vec![AgentAddedToDepartment {
                department: dept(d),
                agent: agent(a),
            }
            .into()],
        )
        .await;
    }
    let on_agent = |n: u128, event: Event| (AggregateId::agent(agent(n)), event);
    let steps: Vec<(i64, AggregateId, Event)> = vec![
        (10, on_agent(1, AgentWentOnline { agent: agent(1) }.into())),
        (
            20,
            on_agent(
                1,
                AgentPaused {
                    agent: agent(1),
                    reason: PauseReason::Text("lunch".into()),
                    planned_end: Some(at(50)),
                }
                .into(),
            ),
        ),
        (21, on_agent(2, AgentWentOnline { agent: agent(2) }.into())),
        (
            22,
            (
                AggregateId::chat(ChatId::from_uuid(id(5, 1))),
                ChatAccepted {
                    chat: ChatId::from_uuid(id(5, 1)),
                    agent: agent(2),
                }
                .into(),
            ),
        ),
        (
            23,
            (
                AggregateId::call(CallId::from_uuid(id(6, 1))),
                CallAnswered {
                    call: CallId::from_uuid(id(6, 1)),
                    agent: agent(2),
                }
                .into(),
            ),
        ),
        (
            24,
            (
                AggregateId::call(CallId::from_uuid(id(6, 1))),
                CallEnded {
                    call: CallId::from_uuid(id(6, 1)),
                    agent: Some(agent(2)),
                }
                .into(),
            ),
        ),
        (
            25,
            on_agent(
                3,
                AgentRoleChanged {
                    agent: agent(3),
                    role: Role::Custom(lead),
                    previous: Role::Agent,
                }
                .into(),
            ),
        ),
        (26, on_agent(4, AgentDeactivated { agent: agent(4) }.into())),
    ]
    .into_iter()
    .map(|(minute, (aggregate, event))| (minute, aggregate, event))
    .collect();
    for (minute, aggregate, event) in steps {
        log.append(aggregate, at(minute), vec![event]).await;
    }
}

fn view_of(p: &Projector<Roster>) -> RosterView {
    RosterView::new(p.handle())
}

#[tokio::test]
async fn the_roster_shows_presence_conversations_roles_and_visibility() {
    let mut log = TestLog::new();
    history(&mut log).await;
    let data = tempfile::tempdir().unwrap();
    let mut p = projector(Roster::new(), &log, data.path(), 3);
    caught_up(&mut p).await;
    let view = view_of(&p);

    let rows = view.list(&Filter::default(), Viewer::All).unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r.record.name.as_str()).collect();
    // By name, case-insensitively; Dee (deactivated) left out.
    assert_eq!(names, ["Ada", "bob", "Cy"]);
    let ada = &rows[0];
    assert_eq!(
        ada.presence,
        Presence::Paused {
            reason: PauseReason::Text("lunch".into()),
            planned_end: Some(at(50)),
        }
    );
    assert_eq!(ada.since, at(20));
    let bob = &rows[1];
    assert_eq!(
        (bob.presence.clone(), bob.since),
        (Presence::Online, at(21))
    );
    assert_eq!(bob.record.open_chats, [id(5, 1)]);
    assert!(bob.record.open_calls.is_empty());
    assert_eq!(bob.record.last_activity, Some(at(24)));
    let cy = &rows[2];
    assert_eq!(cy.role_name.as_deref(), Some("Team lead"));
    assert_eq!(cy.presence, Presence::Offline);
    assert_eq!(cy.since, at(1));
    let cy_departments: Vec<&str> = cy.departments.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(cy_departments, ["Billing", "Support"]);

    let with_dee = Filter {
        deactivated: true,
        ..Filter::default()
    };
    let all = view.list(&with_dee, Viewer::All).unwrap();
    assert_eq!(all.len(), 4);
    assert!(!all[3].record.active);

    // Ada (Billing) sees herself and Cy; Bob (Support) sees himself and Cy; an
    // integration nobody.
    let seen = |viewer| -> Vec<String> {
        view.list(&Filter::default(), viewer)
            .unwrap()
            .into_iter()
            .map(|r| r.record.name)
            .collect()
    };
    assert_eq!(seen(Viewer::Agent(agent(1).uuid())), ["Ada", "Cy"]);
    assert_eq!(seen(Viewer::Agent(agent(2).uuid())), ["bob", "Cy"]);
    assert!(seen(Viewer::Nobody).is_empty());
    assert!(view
        .get(agent(2).uuid(), Viewer::Agent(agent(1).uuid()))
        .unwrap()
        .is_none());

    let paused = Filter {
        presence: Some(PresenceKind::Paused),
        ..Filter::default()
    };
    assert_eq!(view.list(&paused, Viewer::All).unwrap().len(), 1);

    // A tick after the planned end: the pause is over since then, its end not yet
    // recorded; once recorded (late), still since the planned end.
    log.append(AggregateId::clock(), at(55), vec![ClockTicked {}.into()])
        .await;
    caught_up(&mut p).await;
    let ada = view_of(&p)
        .get(agent(1).uuid(), Viewer::All)
        .unwrap()
        .unwrap();
    assert_eq!((ada.presence, ada.since), (Presence::Online, at(50)));
    assert!(ada.record.pause.is_some(), "the end is not recorded yet");
    log.append(
        AggregateId::agent(agent(1)),
        at(56),
        vec![AgentResumed {
            agent: agent(1),
            reason: ResumeReason::PlannedEnd,
        }
        .into()],
    )
    .await;
    caught_up(&mut p).await;
    let ada = view_of(&p)
        .get(agent(1).uuid(), Viewer::All)
        .unwrap()
        .unwrap();
    assert_eq!((ada.presence, ada.since), (Presence::Online, at(50)));
    assert_eq!(ada.record.pause, None);
    // A planned end is the system's doing: her last is the pause she took.
    assert_eq!(ada.record.last_activity, Some(at(20)));

    // Two partitions: each agent in exactly one, memberships (and so visibility) in both,
    // the same rows between them as the whole.
    let mut parts = Vec::new();
    for index in 0..2 {
        let mut config = ProjectorConfig::new(data.path());
        config.partition = Partition { index, count: 2 };
        let mut part = Projector::open(Roster::new(), log.dyn_log(), config).unwrap();
        caught_up(&mut part).await;
        parts.push(part);
    }
    let mut merged = Vec::new();
    for part in &parts {
        let view = view_of(part);
        let rows = view.list(&with_dee, Viewer::All).unwrap();
        assert!(!rows.is_empty() && rows.len() < 4, "{} rows", rows.len());
        merged.extend(rows);
        assert_eq!(
            view.departments_of(agent(3).uuid()).unwrap().len(),
            2,
            "memberships are in every partition"
        );
    }
    helpdesk_projections::roster::sort_by_name(&mut merged, |r| (&r.record.name, r.agent));
    let whole = view_of(&p).list(&with_dee, Viewer::All).unwrap();
    // Every replica has folded the same log: the same model time, the same rows.
    assert_eq!(merged, whole);
}
