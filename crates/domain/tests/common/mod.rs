//! Given / when / then for deciders.
//!
//! A [`World`] stands in for the log and the engine: `given` appends envelopes to
//! aggregates (folding them with `State::evolve`, as the engine does), `when` runs one
//! command the way the engine runs it (validate, `needs`, `decide` with a `Context` built
//! from the world), and the returned [`Then`] asserts on the outcome.
#![allow(dead_code)]

use std::collections::HashMap;

use helpdesk_domain::event::*;
use helpdesk_domain::*;
use uuid::Uuid;

pub const T0: Timestamp = Timestamp::from_millis(1_714_564_800_000); // 2024-05-01T12:00:00Z
pub const MINUTE: i64 = 60_000;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n)
}

pub fn agent_id(n: u128) -> AgentId {
    AgentId::from_uuid(id(0x100 + n))
}
pub fn department_id(n: u128) -> DepartmentId {
    DepartmentId::from_uuid(id(0x200 + n))
}
pub fn ticket_id(n: u128) -> TicketId {
    TicketId::from_uuid(id(0x300 + n))
}
pub fn chat_id(n: u128) -> ChatId {
    ChatId::from_uuid(id(0x400 + n))
}
pub fn call_id(n: u128) -> CallId {
    CallId::from_uuid(id(0x500 + n))
}
pub fn level_id(n: u128) -> LevelId {
    LevelId::from_uuid(id(0x600 + n))
}
pub fn rule_id(n: u128) -> RuleId {
    RuleId::from_uuid(id(0x700 + n))
}
pub fn role_id(n: u128) -> RoleId {
    RoleId::from_uuid(id(0x800 + n))
}
pub fn token_id(n: u128) -> TokenId {
    TokenId::from_uuid(id(0x900 + n))
}

/// `evs![a, b]`: a `Vec<Event>` from event structs.
#[macro_export]
macro_rules! evs {
    ($($e:expr),* $(,)?) => { vec![$(helpdesk_domain::Event::from($e)),*] };
}

// --- principals -------------------------------------------------------------------------

pub fn system() -> Principal {
    Principal::system()
}

pub fn owner(agent: AgentId) -> Principal {
    with_role(agent, Role::Owner, Permissions::all())
}

pub fn admin(agent: AgentId) -> Principal {
    with_role(
        agent,
        Role::Administrator,
        Permissions::all().without(Permission::RolesManage),
    )
}

/// A plain agent (no permissions).
pub fn agent(agent: AgentId) -> Principal {
    with_role(agent, Role::Agent, Permissions::empty())
}

/// An agent of a custom role with these permissions.
pub fn custom(agent: AgentId, permissions: &[Permission]) -> Principal {
    with_role(
        agent,
        Role::Custom(role_id(99)),
        permissions.iter().copied().collect(),
    )
}

fn with_role(agent: AgentId, role: Role, permissions: Permissions) -> Principal {
    Principal {
        actor: Actor::Agent(agent),
        agent: Some(agent),
        role,
        permissions,
    }
}

/// An integration account with these permissions (role Agent, or a custom one).
pub fn integration(permissions: &[Permission]) -> Principal {
    Principal {
        actor: Actor::Integration(token_id(1)),
        agent: None,
        role: if permissions.is_empty() {
            Role::Agent
        } else {
            Role::Custom(role_id(98))
        },
        permissions: permissions.iter().copied().collect(),
    }
}

// --- the world ---------------------------------------------------------------------------

pub type Check = Box<dyn Fn(&str) -> Result<(), DomainError>>;

pub struct World {
    aggregates: HashMap<AggregateId, (State, Option<Timestamp>)>,
    pub now: Timestamp,
    check_condition: Option<Check>,
    seq: u128,
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    pub fn new() -> Self {
        World {
            aggregates: HashMap::new(),
            now: T0,
            check_condition: None,
            seq: 0,
        }
    }

    /// Appends one envelope of `events` to `target`, at the world's current time.
    pub fn given(self, target: AggregateId, events: Vec<Event>) -> Self {
        let at = self.now;
        self.given_at(target, at, events)
    }

    pub fn given_at(mut self, target: AggregateId, at: Timestamp, events: Vec<Event>) -> Self {
        self.seq += 1;
        let envelope = Envelope {
            command_id: Uuid::from_u128(0xC0 << 64 | self.seq),
            actor: Actor::System,
            occurred_at: at,
            recorded_at: None,
            events,
        };
        self.append(target, &envelope);
        self
    }

    pub fn append(&mut self, target: AggregateId, envelope: &Envelope) {
        let entry = self
            .aggregates
            .entry(target)
            .or_insert_with(|| (State::new(target.kind), None));
        entry.0.evolve(envelope);
        entry.1 = Some(envelope.occurred_at);
    }

    /// The time commands are decided at from now on.
    pub fn at(mut self, now: Timestamp) -> Self {
        self.now = now;
        self
    }

    pub fn with_condition_check(mut self, check: Check) -> Self {
        self.check_condition = Some(check);
        self
    }

    pub fn state(&self, id: AggregateId) -> State {
        self.aggregates
            .get(&id)
            .map(|(s, _)| s.clone())
            .unwrap_or_else(|| State::new(id.kind))
    }

    pub fn config(&self) -> ConfigState {
        match self.state(AggregateId::config()) {
            State::Config(c) => c,
            _ => unreachable!(),
        }
    }

    fn org_has_departments(&self) -> bool {
        self.aggregates
            .iter()
            .any(|(id, (s, _))| id.kind == AggregateKind::Department && s.exists())
    }

    /// Runs `cmd` for `principal`, as the engine would.
    pub fn when(&self, principal: &Principal, cmd: impl Into<Command>) -> Then {
        let cmd = cmd.into();
        let target = self.state(cmd.target());
        let config = self.config();
        let related: HashMap<_, _> = needs(&cmd, &target, &config)
            .into_iter()
            .map(|id| (id, self.state(id)))
            .collect();
        let ctx = Context {
            principal,
            now: self.now,
            config: &config,
            related: &related,
            org_has_departments: self.org_has_departments(),
            check_condition: self.check_condition.as_deref(),
        };
        let result = decide(&target, &cmd, &ctx);
        if let Ok(events) = &result {
            // Whatever decide produced must fold without trouble.
            let mut state = target.clone();
            state.evolve(&Envelope {
                command_id: Uuid::nil(),
                actor: principal.actor,
                occurred_at: self.now,
                recorded_at: None,
                events: events.clone(),
            });
        }
        Then { result, cmd }
    }

    /// Runs `cmd` and, when it succeeds, appends its events (for multi-step scenarios).
    #[track_caller]
    pub fn run(mut self, principal: &Principal, cmd: impl Into<Command>) -> Self {
        let cmd = cmd.into();
        let target = cmd.target();
        let events = self.when(principal, cmd).ok();
        self.seq += 1;
        let envelope = Envelope {
            command_id: Uuid::from_u128(0xC0 << 64 | self.seq),
            actor: principal.actor,
            occurred_at: self.now,
            recorded_at: None,
            events,
        };
        self.append(target, &envelope);
        self
    }
}

pub struct Then {
    pub result: Result<Vec<Event>, DomainError>,
    cmd: Command,
}

impl Then {
    /// The command succeeds with exactly these events.
    #[track_caller]
    pub fn then(self, expected: Vec<Event>) {
        match self.result {
            Ok(events) => assert_eq!(events, expected, "events of {:?}", self.cmd),
            Err(err) => panic!("{} was refused: {err:?}", self.cmd.name()),
        }
    }

    /// The command succeeds; its events.
    #[track_caller]
    pub fn ok(self) -> Vec<Event> {
        match self.result {
            Ok(events) => events,
            Err(err) => panic!("{} was refused: {err:?}", self.cmd.name()),
        }
    }

    /// The command is refused with this code (NOT_FOUND, FAILED_PRECONDITION, …) and a
    /// message (or field, for INVALID_ARGUMENT) containing `needle`.
    #[track_caller]
    pub fn rejects(self, code: &str, needle: &str) -> DomainError {
        match self.result {
            Ok(events) => panic!(
                "{} succeeded with {:?}, expected {code}",
                self.cmd.name(),
                events.iter().map(Event::name).collect::<Vec<_>>()
            ),
            Err(err) => {
                assert_eq!(err.code(), code, "{err:?}");
                let text = match &err {
                    DomainError::InvalidArgument { field, message } => {
                        format!("{field}: {message}")
                    }
                    other => other.to_string(),
                };
                assert!(
                    text.contains(needle),
                    "{text:?} does not mention {needle:?}"
                );
                err
            }
        }
    }

    /// INVALID_ARGUMENT on exactly this field.
    #[track_caller]
    pub fn rejects_field(self, field: &str) -> DomainError {
        let err = self.rejects("INVALID_ARGUMENT", "");
        match &err {
            DomainError::InvalidArgument { field: f, .. } => assert_eq!(f, field, "{err:?}"),
            _ => unreachable!(),
        }
        err
    }
}

// --- common histories ---------------------------------------------------------------------

pub fn registered(agent: AgentId, role: Role) -> AgentRegistered {
    AgentRegistered {
        agent,
        name: format!("Agent {agent}"),
        email: "agent@example.com".into(),
        role,
    }
}

impl World {
    /// A registered agent with the Agent role.
    pub fn agent(self, a: AgentId) -> Self {
        self.given(AggregateId::agent(a), evs![registered(a, Role::Agent)])
    }

    pub fn agent_with_role(self, a: AgentId, role: Role) -> Self {
        self.given(AggregateId::agent(a), evs![registered(a, role)])
    }

    /// A registered agent who is online.
    pub fn online_agent(self, a: AgentId) -> Self {
        self.agent(a)
            .given(AggregateId::agent(a), evs![AgentWentOnline { agent: a }])
    }

    pub fn department(self, d: DepartmentId, members: &[AgentId]) -> Self {
        let mut events = evs![DepartmentCreated {
            department: d,
            name: "Support".into(),
            to_solve_enabled: false
        }];
        for m in members {
            events.push(
                AgentAddedToDepartment {
                    department: d,
                    agent: *m,
                }
                .into(),
            );
        }
        self.given(AggregateId::department(d), events)
    }

    pub fn ticket(self, t: TicketId, priority: Priority, department: Option<DepartmentId>) -> Self {
        self.given(
            AggregateId::ticket(t),
            evs![created(t, priority, department)],
        )
    }

    pub fn set_up(self) -> Self {
        self.given(
            AggregateId::config(),
            evs![OrganizationSetUp {
                seed: [1; 32],
                time_zone: "UTC".into()
            }],
        )
    }
}

pub fn created(t: TicketId, priority: Priority, department: Option<DepartmentId>) -> TicketCreated {
    TicketCreated {
        ticket: t,
        channel: Channel::Email,
        priority,
        subject: "Where is my order?".into(),
        body: None,
        department,
    }
}
