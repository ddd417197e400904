//! A generated history as the log would hold it: the [`Workload`]'s requests run through
//! the real domain deciders in memory, yielding one encoded envelope per accepted
//! command, with its aggregate's subject.
//!
//! This is what the command engine (`crates/server/src/command/engine.rs`) does, without the log
//! and without the network: parse the request as the API does for the Owner's token, end
//! a planned pause that is over before a command on that agent, check the time, load what
//! [`needs`] asks for, decide, and fold the events into the target aggregate. It makes a
//! replay benchmark's million events in seconds instead of the minutes the server would
//! take to accept them.

use std::collections::{HashMap, VecDeque};

use helpdesk_api::IntoCommand;
use helpdesk_domain::command::{Command, SetUpOrganization};
use helpdesk_domain::event::{AgentRegistered, Event};
use helpdesk_domain::{
    decide, effective_time, needs, planned_resume, Actor, AgentId, AggregateId, AggregateKind,
    ConfigState, Context, DomainError, Envelope, Permissions, Principal, Role, State, Timestamp,
};
use uuid::Uuid;

use helpdesk_workload::{Workload, WorkloadConfig, DAY, HOUR};

/// One message of the generated log.
#[derive(Debug, Clone)]
pub struct Message {
    /// `<kind>.<uuid>`, without a backend's prefix.
    pub subject: String,
    /// The encoded envelope.
    pub payload: Vec<u8>,
    /// The events in the envelope.
    pub events: usize,
}

/// The generated log, message by message; see the module docs.
pub struct History {
    workload: Workload,
    world: World,
    principal: Principal,
    owner: AgentId,
    out: VecDeque<Message>,
    refused: u64,
}

impl History {
    /// The history of `cfg`, after the organization's setup a day before it starts.
    pub fn new(cfg: WorkloadConfig) -> Self {
        let owner = AgentId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001));
        let setup_at = Timestamp::from_millis(cfg.start - DAY);
        let wall = Timestamp::from_millis(cfg.end() + HOUR);
        let mut world = World::new(wall);
        let mut out = VecDeque::new();
        // What the server's first start does: set the organization up, register the Owner.
        let setup = world
            .decide_and_append(
                &Principal::system(),
                Uuid::from_u128(1),
                Some(setup_at),
                SetUpOrganization {
                    seed: [7; 32],
                    time_zone: "UTC".into(),
                }
                .into(),
            )
            .expect("the setup is accepted");
        out.push_back(setup);
        let registered: Event = AgentRegistered {
            agent: owner,
            name: "Owner".into(),
            email: "owner@localhost".into(),
            role: Role::Owner,
        }
        .into();
        out.push_back(world.append(
            AggregateId::agent(owner),
            Envelope {
                command_id: Uuid::from_u128(2),
                actor: Actor::System,
                occurred_at: setup_at,
                recorded_at: None,
                events: vec![registered],
            },
        ));
        History {
            workload: Workload::new(cfg),
            world,
            principal: Principal {
                actor: Actor::Agent(owner),
                agent: Some(owner),
                role: Role::Owner,
                permissions: Permissions::all(),
            },
            owner,
            out,
            refused: 0,
        }
    }

    /// Requests the deciders refused so far (none, for a sound generator).
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// The workload behind the history (its agents, departments, time).
    pub fn workload(&self) -> &Workload {
        &self.workload
    }
}

impl Iterator for History {
    type Item = Message;

    fn next(&mut self) -> Option<Message> {
        loop {
            if let Some(message) = self.out.pop_front() {
                return Some(message);
            }
            let request = self.workload.next()?;
            let Ok(parsed) = request.into_command(Some(self.owner)) else {
                self.refused += 1;
                continue;
            };
            match self.world.execute(
                &self.principal,
                parsed.command_id,
                parsed.occurred_at,
                parsed.command,
            ) {
                Ok(messages) => self.out.extend(messages),
                Err(_) => self.refused += 1,
            }
        }
    }
}

/// Aggregates in memory, standing in for the log and the engine's cache.
struct World {
    aggregates: HashMap<AggregateId, (State, Option<Timestamp>)>,
    config: ConfigState,
    config_time: Option<Timestamp>,
    has_departments: bool,
    /// The server's clock: later than all of the simulated history.
    wall: Timestamp,
}

impl World {
    fn new(wall: Timestamp) -> Self {
        let State::Config(config) = State::new(AggregateKind::Config) else {
            unreachable!("a config aggregate starts as config state")
        };
        World {
            aggregates: HashMap::new(),
            config,
            config_time: None,
            has_departments: false,
            wall,
        }
    }

    fn state(&self, id: AggregateId) -> State {
        if id.kind == AggregateKind::Config {
            return State::Config(self.config.clone());
        }
        self.aggregates
            .get(&id)
            .map(|(s, _)| s.clone())
            .unwrap_or_else(|| State::new(id.kind))
    }

    fn append(&mut self, target: AggregateId, envelope: Envelope) -> Message {
        if target.kind == AggregateKind::Config {
            let mut state = State::Config(std::mem::take(&mut self.config));
            state.evolve(&envelope);
            let State::Config(config) = state else {
                unreachable!("config state stays config state")
            };
            self.config = config;
            self.config_time = Some(envelope.occurred_at);
        } else {
            let entry = self
                .aggregates
                .entry(target)
                .or_insert_with(|| (State::new(target.kind), None));
            entry.0.evolve(&envelope);
            entry.1 = Some(envelope.occurred_at);
        }
        if target.kind == AggregateKind::Department {
            self.has_departments = true;
        }
        Message {
            subject: target.subject(),
            payload: envelope.encode(),
            events: envelope.events.len(),
        }
    }

    /// Runs one command the way the engine does: first the end of a planned pause that
    /// is over, then the command.
    fn execute(
        &mut self,
        principal: &Principal,
        command_id: Uuid,
        occurred_at: Option<Timestamp>,
        command: Command,
    ) -> Result<Vec<Message>, DomainError> {
        command.validate()?;
        let target = command.target();
        let mut out = Vec::new();
        if target.kind == AggregateKind::Agent {
            let at = occurred_at.unwrap_or(self.wall).min(self.wall);
            if let Some((State::Agent(agent), _)) = self.aggregates.get(&target) {
                if let Some((id, end, resume)) =
                    planned_resume(agent, AgentId::from_uuid(target.id), at)
                {
                    out.push(self.decide_and_append(
                        &Principal::system(),
                        id,
                        Some(end),
                        resume,
                    )?);
                }
            }
        }
        out.push(self.decide_and_append(principal, command_id, occurred_at, command)?);
        Ok(out)
    }

    fn decide_and_append(
        &mut self,
        principal: &Principal,
        command_id: Uuid,
        occurred_at: Option<Timestamp>,
        command: Command,
    ) -> Result<Message, DomainError> {
        let target = command.target();
        let (state, last) = if target.kind == AggregateKind::Config {
            (State::Config(self.config.clone()), self.config_time)
        } else {
            self.aggregates
                .get(&target)
                .cloned()
                .unwrap_or_else(|| (State::new(target.kind), None))
        };
        let related: HashMap<_, _> = needs(&command, &state, &self.config)
            .into_iter()
            .filter(|id| *id != target)
            .map(|id| (id, self.state(id)))
            .collect();
        let now = effective_time(occurred_at, self.wall, last, principal)?;
        let events = {
            let ctx = Context {
                principal,
                now,
                config: &self.config,
                related: &related,
                org_has_departments: self.has_departments,
                check_condition: None,
            };
            decide(&state, &command, &ctx)?
        };
        Ok(self.append(
            target,
            Envelope {
                command_id,
                actor: principal.actor,
                occurred_at: now,
                recorded_at: None,
                events,
            },
        ))
    }
}
