//! The organization the days happen in, set up at `start`: the departments, the agents
//! (names, e-mail addresses), who belongs to which department, and the four routing
//! rules; and the generator's mirror of what those rules do to a new ticket.

use std::collections::{HashSet, VecDeque};

use helpdesk_api::pb;
use helpdesk_api::pb::execute_request::Command as Cmd;
use helpdesk_domain::routing::{Action, Condition, RoutingRule, TicketFacts, Words};
use helpdesk_domain::{Channel, DepartmentId, Priority, RuleId};
use rand::Rng;
use uuid::Uuid;

use crate::generator::{channel_pb, priority_pb, Workload};
use crate::shifts::AgentSim;

const DEPARTMENT_NAMES: &[&str] = &[
    "Billing",
    "Technical",
    "Sales",
    "Shipping",
    "Accounts",
    "Onboarding",
    "Enterprise",
    "Partners",
];

/// First names: (display, e-mail form).
const FIRST_NAMES: &[(&str, &str)] = &[
    ("Ana", "ana"),
    ("Luka", "luka"),
    ("Maja", "maja"),
    ("Jan", "jan"),
    ("Nina", "nina"),
    ("Marko", "marko"),
    ("Eva", "eva"),
    ("Tomaž", "tomaz"),
    ("Sara", "sara"),
    ("David", "david"),
    ("Zoë", "zoe"),
    ("Liam", "liam"),
    ("Olivia", "olivia"),
    ("Noah", "noah"),
    ("Emma", "emma"),
    ("Mateo", "mateo"),
    ("Sofía", "sofia"),
    ("Lucas", "lucas"),
    ("Mia", "mia"),
    ("Hiroshi", "hiroshi"),
    ("Aiko", "aiko"),
    ("Priya", "priya"),
    ("Arjun", "arjun"),
    ("Fatima", "fatima"),
    ("Omar", "omar"),
    ("Ingrid", "ingrid"),
    ("Björn", "bjorn"),
    ("Chloé", "chloe"),
    ("Élodie", "elodie"),
    ("Kwame", "kwame"),
    ("Amara", "amara"),
    ("Žiga", "ziga"),
];

const LAST_NAMES: &[(&str, &str)] = &[
    ("Novak", "novak"),
    ("Horvat", "horvat"),
    ("Kovačič", "kovacic"),
    ("Krajnc", "krajnc"),
    ("Smith", "smith"),
    ("Johnson", "johnson"),
    ("García", "garcia"),
    ("Müller", "muller"),
    ("Rossi", "rossi"),
    ("Dubois", "dubois"),
    ("Tanaka", "tanaka"),
    ("Sato", "sato"),
    ("Patel", "patel"),
    ("Okafor", "okafor"),
    ("Nakamura", "nakamura"),
    ("Larsen", "larsen"),
    ("O'Brien", "obrien"),
    ("Nowak", "nowak"),
    ("Silva", "silva"),
    ("Haddad", "haddad"),
    ("Mensah", "mensah"),
    ("Lindqvist", "lindqvist"),
];

const NICKNAMES: &[&str] = &["Ace", "Doc", "Sunny", "Pixel", "Captain", "Ziggy", "Bee"];

pub(crate) struct DepartmentSim {
    pub(crate) id: String,
    pub(crate) uuid: Uuid,
    pub(crate) members: Vec<usize>,
    /// The queues of unassigned tickets that need an answer.
    pub(crate) high: VecDeque<u64>,
    pub(crate) normal: VecDeque<u64>,
}

pub(crate) struct RuleSim {
    rule: RoutingRule,
}

/// A routing rule to define: name, condition groups, actions.
type RuleSpec = (&'static str, Vec<Vec<Condition>>, Vec<Action>);

impl Workload {
    pub(crate) fn department_index(&self, topic_department: usize) -> usize {
        topic_department % self.departments.len()
    }

    pub(crate) fn setup(&mut self) {
        let departments = self.cfg.departments.max(1) as usize;
        let step = 10; // ms between setup commands
        for d in 0..departments {
            let name = DEPARTMENT_NAMES
                .get(d)
                .map_or_else(|| format!("Department {}", d + 1), |n| (*n).to_owned());
            let uuid = self.new_uuid();
            let id = uuid.to_string();
            emit!(
                self,
                CreateDepartment,
                CreateDepartmentRequest {
                    department_id: id.clone(),
                    name: name,
                }
            );
            self.departments.push(DepartmentSim {
                id,
                uuid,
                members: Vec::new(),
                high: VecDeque::new(),
                normal: VecDeque::new(),
            });
            self.now += step;
        }

        let mut emails = HashSet::new();
        for i in 0..self.cfg.agents as usize {
            let (first, first_mail) = self.pick(FIRST_NAMES);
            let (last, last_mail) = self.pick(LAST_NAMES);
            let custom = i % 7 == 3;
            let (name, mut email) = if custom {
                let nick = self.pick(NICKNAMES);
                (
                    format!("{first} “{nick}” {last}"),
                    format!("{first_mail}+support@customer-care.example"),
                )
            } else {
                (
                    format!("{first} {last}"),
                    format!("{first_mail}.{last_mail}@helpdesk.example"),
                )
            };
            if !emails.insert(email.clone()) {
                let (local, domain) = email.split_once('@').expect("an address");
                email = format!("{local}.{}@{domain}", i + 1);
                emails.insert(email.clone());
            }
            let uuid = self.new_uuid();
            let id = uuid.to_string();
            emit!(
                self,
                RegisterAgent,
                RegisterAgentRequest {
                    agent_id: id.clone(),
                    name: name,
                    email: email,
                    role: Some(pb::RoleRef {
                        role: Some(pb::role_ref::Role::Builtin(pb::BuiltinRole::Agent as i32)),
                    }),
                }
            );
            // Staggered starts: 06:00–10:00 in half hours, one in seven late (12:00–14:00).
            let usual_start = if i % 7 == 5 {
                12 * 60 + (i as i64 % 5) * 30
            } else {
                6 * 60 + ((i as i64 * 37) % 9) * 30
            };
            self.agents.push(AgentSim {
                uuid,
                id,
                departments: Vec::new(),
                usual_start,
                online: false,
                leaving: false,
                shift: 0,
                shift_end: 0,
                pause: None,
                active_chats: 0,
                calls: 0,
                pending: false,
                idle_since: self.now,
                available_since: self.now,
                todo: Vec::new(),
            });
            self.now += step;
        }

        // Memberships: a home department each, a second one for some, and nobody's
        // department left empty.
        let agents = self.agents.len();
        let mut memberships: Vec<(usize, usize)> = Vec::new();
        for a in 0..agents {
            let home = a % departments;
            memberships.push((a, home));
            if departments > 1 && self.chance(0.4) {
                let other = (home + 1 + self.rng.random_range(0..departments - 1)) % departments;
                memberships.push((a, other));
            }
        }
        if agents > 0 {
            for d in agents.min(departments)..departments {
                memberships.push((d % agents, d));
            }
        }
        for (a, d) in memberships {
            if self.agents[a].departments.contains(&d) {
                continue;
            }
            let department_id = self.departments[d].id.clone();
            let agent_id = self.agents[a].id.clone();
            emit!(
                self,
                AddAgentToDepartment,
                AddAgentToDepartmentRequest {
                    department_id: department_id,
                    agent_id: agent_id,
                }
            );
            self.agents[a].departments.push(d);
            self.departments[d].members.push(a);
            self.now += step;
        }

        self.define_rules();
        for rule in 0..self.rules.len() {
            let request = self.rule_request(rule);
            self.push(Cmd::DefineRoutingRule(request));
            self.now += step;
        }
    }

    fn define_rules(&mut self) {
        let words = |list: &[&str]| list.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
        let billing = DepartmentId::from_uuid(self.departments[0].uuid);
        let specs: Vec<RuleSpec> = vec![
            (
                "Billing words go to Billing",
                vec![vec![Condition::SubjectOrBodyContains(words(&[
                    "refund",
                    "invoice",
                    "billing",
                    "charged twice",
                ]))]],
                vec![Action::TransferTo(billing)],
            ),
            (
                "Outages are urgent",
                vec![vec![Condition::SubjectContains(words(&["outage", "down"]))]],
                vec![
                    Action::SetPriority(Priority::Urgent),
                    Action::AddTags(words(&["outage"])),
                ],
            ),
            (
                "Tag urgent tickets",
                vec![vec![Condition::PriorityIn(vec![Priority::Urgent])]],
                vec![Action::AddTags(words(&["urgent"]))],
            ),
            (
                "Tag social media",
                vec![vec![Condition::ChannelIn(vec![
                    Channel::Facebook,
                    Channel::Twitter,
                    Channel::Instagram,
                ])]],
                vec![Action::AddTags(words(&["social"]))],
            ),
        ];
        for (name, groups, actions) in specs {
            let rule_id = RuleId::from_uuid(self.new_uuid());
            self.rules.push(RuleSim {
                rule: RoutingRule {
                    rule_id,
                    name: name.to_owned(),
                    groups,
                    actions,
                },
            });
        }
    }

    fn rule_request(&mut self, index: usize) -> pb::DefineRoutingRuleRequest {
        let rule = self.rules[index].rule.clone();
        let groups = rule
            .groups
            .iter()
            .map(|group| pb::RoutingConditionGroup {
                conditions: group
                    .iter()
                    .map(|c| {
                        use pb::routing_condition::Condition as C;
                        let condition = match c {
                            Condition::ChannelIn(set) => C::ChannelIn(pb::ChannelSet {
                                channels: set.iter().map(|c| channel_pb(*c)).collect(),
                            }),
                            Condition::PriorityIn(set) => C::PriorityIn(pb::PrioritySet {
                                priorities: set.iter().map(|p| priority_pb(*p)).collect(),
                            }),
                            Condition::SubjectContains(words) => C::SubjectContains(pb::WordList {
                                words: words.clone(),
                            }),
                            Condition::BodyContains(words) => C::BodyContains(pb::WordList {
                                words: words.clone(),
                            }),
                            Condition::SubjectOrBodyContains(words) => {
                                C::SubjectOrBodyContains(pb::WordList {
                                    words: words.clone(),
                                })
                            }
                        };
                        pb::RoutingCondition {
                            condition: Some(condition),
                        }
                    })
                    .collect(),
            })
            .collect();
        let actions = rule
            .actions
            .iter()
            .map(|a| {
                use pb::routing_action::Action as A;
                let action = match a {
                    Action::TransferTo(d) => A::TransferToDepartmentId(d.to_string()),
                    Action::AssignTo(list) => A::AssignTo(pb::AgentList {
                        agent_ids: list.iter().map(ToString::to_string).collect(),
                    }),
                    Action::LeaveUnassigned => A::LeaveUnassigned(pb::LeaveUnassigned {}),
                    Action::SetPriority(p) => A::SetPriority(priority_pb(*p)),
                    Action::AddTags(tags) => A::AddTags(pb::TagList { tags: tags.clone() }),
                };
                pb::RoutingAction {
                    action: Some(action),
                }
            })
            .collect();
        let command_id = self.new_uuid().to_string();
        pb::DefineRoutingRuleRequest {
            command_id,
            occurred_at: if self.cfg.config_at_wall_clock {
                None
            } else {
                Some(self.timestamp())
            },
            rule_id: rule.rule_id.to_string(),
            name: rule.name,
            groups,
            actions,
            position: None,
        }
    }

    /// What the routing rules do to a new ticket: its department, priority and tags.
    pub(crate) fn route(
        &self,
        channel: Channel,
        priority: Priority,
        subject: &str,
        body: &str,
        department: Option<usize>,
    ) -> (Option<usize>, Priority, Vec<String>) {
        let mut department = department;
        let mut priority = priority;
        let mut tags: Vec<String> = Vec::new();
        let (subject, body) = (Words::of(subject), Words::of(body));
        for RuleSim { rule } in &self.rules {
            let facts = TicketFacts {
                channel,
                priority,
                subject: &subject,
                body: &body,
            };
            if !rule.matches(&facts) {
                continue;
            }
            for action in &rule.actions {
                match action {
                    Action::TransferTo(to) => {
                        let to = self
                            .departments
                            .iter()
                            .position(|d| d.uuid == to.uuid())
                            .expect("rules name our departments");
                        department = Some(to);
                    }
                    Action::SetPriority(p) => priority = *p,
                    Action::AddTags(list) => {
                        for tag in list {
                            if !tags.contains(tag) && tags.len() < 50 {
                                tags.push(tag.clone());
                            }
                        }
                    }
                    Action::AssignTo(_) | Action::LeaveUnassigned => {
                        unreachable!("the generator defines no assigning rules")
                    }
                }
            }
        }
        (department, priority, tags)
    }
}
