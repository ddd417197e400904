//! The generated workload, fed through the real domain deciders: every command must be
//! accepted.
//!
//! A small in-memory world stands in for the log and the engine (as
//! `crates/server/src/command/engine.rs` runs a command): parse the request as the API does for the
//! Owner's token, end a planned pause that is over before a command on that agent
//! (`planned_resume`), check the time (`effective_time`), load what `needs` asks for, decide,
//! and fold the events into the target aggregate.

use std::collections::HashMap;

use helpdesk_api::pb;
use helpdesk_api::IntoCommand;
use helpdesk_domain::command::{Command, SetUpOrganization};
use helpdesk_domain::event::{AgentRegistered, Event};
use helpdesk_domain::{
    decide, effective_time, needs, planned_resume, Actor, AgentId, AggregateId, AggregateKind,
    ConfigState, Context, DomainError, Envelope, Permissions, Principal, Role, State, Timestamp,
};
use helpdesk_workload::{command_kind, Workload, WorkloadConfig};
use uuid::Uuid;

struct World {
    aggregates: HashMap<AggregateId, (State, Option<Timestamp>)>,
    has_departments: bool,
    /// The server's clock: later than all of the simulated history.
    wall: Timestamp,
    /// Envelopes appended by the system (planned pause ends).
    planned_ends: u64,
    events: u64,
}

impl World {
    fn new(owner: AgentId, setup_at: Timestamp, wall: Timestamp) -> Self {
        let mut world = World {
            aggregates: HashMap::new(),
            has_departments: false,
            wall,
            planned_ends: 0,
            events: 0,
        };
        // What the server's first start does: set the organization up, register the Owner.
        world
            .execute(
                &Principal::system(),
                Uuid::from_u128(1),
                Some(setup_at),
                SetUpOrganization {
                    seed: [7; 32],
                    time_zone: "UTC".into(),
                }
                .into(),
            )
            .expect("setup");
        let registered: Event = AgentRegistered {
            agent: owner,
            name: "Owner".into(),
            email: "owner@localhost".into(),
            role: Role::Owner,
        }
        .into();
        world.append(
            AggregateId::agent(owner),
            &Envelope {
                command_id: Uuid::from_u128(2),
                actor: Actor::System,
                occurred_at: setup_at,
                recorded_at: None,
                events: vec![registered],
            },
        );
        world
    }

    fn state(&self, id: AggregateId) -> State {
        self.aggregates
            .get(&id)
            .map(|(s, _)| s.clone())
            .unwrap_or_else(|| State::new(id.kind))
    }

    fn config(&self) -> ConfigState {
        match self.state(AggregateId::config()) {
            State::Config(c) => c,
            _ => unreachable!(),
        }
    }

    fn append(&mut self, target: AggregateId, envelope: &Envelope) {
        let entry = self
            .aggregates
            .entry(target)
            .or_insert_with(|| (State::new(target.kind), None));
        entry.0.evolve(envelope);
        entry.1 = Some(envelope.occurred_at);
        self.events += envelope.events.len() as u64;
        if target.kind == AggregateKind::Department {
            self.has_departments = true;
        }
    }

    /// Runs one command the way the engine does.
    fn execute(
        &mut self,
        principal: &Principal,
        command_id: Uuid,
        occurred_at: Option<Timestamp>,
        command: Command,
    ) -> Result<Vec<Event>, DomainError> {
        command.validate()?;
        let target = command.target();
        if target.kind == AggregateKind::Agent {
            let at = occurred_at.unwrap_or(self.wall).min(self.wall);
            if let State::Agent(agent) = self.state(target) {
                if let Some((id, end, resume)) =
                    planned_resume(&agent, AgentId::from_uuid(target.id), at)
                {
                    self.planned_ends += 1;
                    self.decide_and_append(&Principal::system(), id, Some(end), resume)
                        .map_err(|e| {
                            DomainError::failed(format!("the planned end was refused: {e}"))
                        })?;
                }
            }
        }
        self.decide_and_append(principal, command_id, occurred_at, command)
    }

    fn decide_and_append(
        &mut self,
        principal: &Principal,
        command_id: Uuid,
        occurred_at: Option<Timestamp>,
        command: Command,
    ) -> Result<Vec<Event>, DomainError> {
        let target = command.target();
        let (state, last) = self
            .aggregates
            .get(&target)
            .cloned()
            .unwrap_or_else(|| (State::new(target.kind), None));
        let config = self.config();
        let related: HashMap<_, _> = needs(&command, &state, &config)
            .into_iter()
            .map(|id| (id, self.state(id)))
            .collect();
        let now = effective_time(occurred_at, self.wall, last, principal)?;
        let events = {
            let ctx = Context {
                principal,
                now,
                config: &config,
                related: &related,
                org_has_departments: self.has_departments,
                check_condition: None,
            };
            decide(&state, &command, &ctx)?
        };
        self.append(
            target,
            &Envelope {
                command_id,
                actor: principal.actor,
                occurred_at: now,
                recorded_at: None,
                events: events.clone(),
            },
        );
        Ok(events)
    }
}

fn owner_principal(owner: AgentId) -> Principal {
    Principal {
        actor: Actor::Agent(owner),
        agent: Some(owner),
        role: Role::Owner,
        permissions: Permissions::all(),
    }
}

/// When the organization was set up, relative to the simulated history.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SetUp {
    /// A day before the history starts.
    Before,
    /// After the history ends (a server set up today, importing the past).
    After,
}

/// Runs a whole workload through the deciders; panics on the first refusal. Now and then,
/// and at the end, holds the generator's model of the tickets against the domain's state.
fn run(cfg: WorkloadConfig, set_up: SetUp) -> (u64, World) {
    let owner = AgentId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001));
    let principal = owner_principal(owner);
    let setup_at = match set_up {
        SetUp::Before => Timestamp::from_millis(cfg.start - 86_400_000),
        SetUp::After => Timestamp::from_millis(cfg.end() + 60_000),
    };
    let wall = Timestamp::from_millis(cfg.end() + 3_600_000);
    let mut world = World::new(owner, setup_at, wall);
    let mut count = 0u64;
    let mut workload = Workload::new(cfg);
    let mut index = 0usize;
    let mut next_comparison = 5_000;
    while let Some(request) = workload.next() {
        let kind = command_kind(&request);
        let shown = format!("{request:?}");
        let parsed = request
            .into_command(Some(owner))
            .unwrap_or_else(|e| panic!("request #{index} ({kind}) does not parse: {e:?}\n{shown}"));
        let command_id = parsed.command_id;
        if let Err(err) = world.execute(&principal, command_id, parsed.occurred_at, parsed.command)
        {
            panic!("request #{index} ({kind}) was refused: {err:?}\n{shown}");
        }
        count += 1;
        index += 1;
        // The model runs ahead of the world by the requests it has buffered.
        if index >= next_comparison && workload.buffered() == 0 {
            next_comparison += 5_000;
            compare_tickets(&workload, &world);
        }
    }
    compare_tickets(&workload, &world);
    (count, world)
}

/// Every ticket in the generator's model is as the domain has it.
fn compare_tickets(workload: &Workload, world: &World) {
    for model in workload.model_tickets() {
        let State::Ticket(ticket) = world.state(AggregateId::ticket(model.id.into())) else {
            unreachable!()
        };
        assert!(ticket.exists(), "ticket {} unknown to the domain", model.id);
        let actual = (
            ticket.department.map(|d| d.uuid()),
            ticket.assignee.map(|a| a.uuid()),
            ticket.priority,
            ticket.status.as_str(),
            &ticket.tags,
        );
        let expected = (
            model.department,
            model.assignee,
            model.priority,
            model.status,
            &model.tags,
        );
        assert_eq!(actual, expected, "ticket {} (domain, model)", model.id);
    }
}

#[test]
fn every_generated_command_is_accepted_8_agents_3_days() {
    let cfg = WorkloadConfig {
        seed: 7,
        agents: 8,
        days: 3,
        departments: 4,
        ..WorkloadConfig::default()
    };
    let (count, world) = run(cfg, SetUp::Before);
    assert!(count > 1_000, "only {count} requests");
    assert!(world.planned_ends > 0, "no planned pause ended by itself");
    assert!(world.events >= count);
}

#[test]
fn every_generated_command_is_accepted_across_seeds_and_shapes() {
    let shapes = [
        // (seed, agents, days, departments, intensity, weekday offset from a Monday)
        (1, 20, 2, 3, 1.0, 0),
        (2, 5, 7, 6, 0.5, 3), // a week with a weekend, more departments than agents
        (3, 12, 2, 1, 2.0, 5), // one department, a busy weekend
        (4, 3, 2, 8, 3.0, 0), // overloaded: chats and calls abandoned
        (5, 1, 2, 2, 1.0, 0), // a lone agent
        (6, 0, 1, 2, 1.0, 0), // nobody to answer
        (7, 30, 1, 5, 1.0, 2),
        (8, 50, 1, 4, 1.0, 0), // the reference day
    ];
    for (seed, agents, days, departments, intensity, offset) in shapes {
        let mut cfg = WorkloadConfig::new(seed, agents, days, 0);
        cfg.start = WorkloadConfig::default().start + offset * 86_400_000;
        cfg.departments = departments;
        cfg.intensity = intensity;
        let (count, _) = run(cfg, SetUp::Before);
        assert!(count > 0);
    }
}

#[test]
fn rules_without_times_fit_an_organization_set_up_after_the_history() {
    // `config_at_wall_clock`: the routing rules carry no time and the server stamps them,
    // so a server set up today accepts the imported past.
    let cfg = WorkloadConfig {
        seed: 3,
        agents: 6,
        days: 2,
        config_at_wall_clock: true,
        ..WorkloadConfig::default()
    };
    let requests: Vec<pb::ExecuteRequest> = Workload::new(cfg.clone()).collect();
    let untimed: Vec<&str> = requests
        .iter()
        .filter(|r| match &r.command {
            Some(pb::execute_request::Command::DefineRoutingRule(rule)) => {
                rule.occurred_at.is_none()
            }
            Some(_) => false,
            None => true,
        })
        .map(command_kind)
        .collect();
    assert_eq!(untimed, ["DefineRoutingRule"; 4]);
    let (count, _) = run(cfg, SetUp::After);
    assert_eq!(count as usize, requests.len());
}

#[test]
fn timed_rules_are_refused_by_an_organization_set_up_after_the_history() {
    // Why `config_at_wall_clock` exists: the configuration's last event is the setup.
    let cfg = WorkloadConfig {
        seed: 3,
        agents: 2,
        days: 1,
        ..WorkloadConfig::default()
    };
    let result = std::panic::catch_unwind(|| run(cfg, SetUp::After));
    let message = result
        .err()
        .and_then(|e| e.downcast::<String>().ok())
        .expect("a refusal");
    assert!(message.contains("DefineRoutingRule"), "{message}");
    assert!(message.contains("occurred_at"), "{message}");
}

/// Many seeds and shapes: `cargo test -p helpdesk-workload --release --test domain --
/// --ignored sweep`.
#[test]
#[ignore = "a long sweep"]
fn sweep() {
    for seed in 100..160u64 {
        let mut cfg = WorkloadConfig::new(seed, (seed % 37) as u32 + 1, (seed % 5) as u32 + 1, 0);
        cfg.start = WorkloadConfig::default().start + (seed as i64 % 7) * 86_400_000;
        cfg.departments = (seed % 9) as u32 + 1;
        cfg.intensity = [0.3, 1.0, 1.0, 2.0, 5.0][(seed % 5) as usize];
        eprintln!("sweep: {cfg:?}");
        run(cfg, SetUp::Before);
    }
    // Two weeks of the reference organization.
    let (count, world) = run(
        WorkloadConfig {
            days: 14,
            ..WorkloadConfig::default()
        },
        SetUp::Before,
    );
    eprintln!(
        "50 agents × 14 days: {count} commands, {} events, {} planned pause ends",
        world.events, world.planned_ends
    );
}
