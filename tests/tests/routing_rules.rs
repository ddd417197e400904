//! Routing rules end to end, with the real binary (docs/TICKETS.md, Routing rules, and
//! Agents: presence and pauses): paused means no new work, so a rule assigns the first
//! agent of its list who is online and not paused, and leaves the ticket unassigned when
//! there is none; a rule switched off does nothing and, switched on again, applies; a
//! rule's new name and notes read back through `ConfigService/ListRoutingRules`; by hand,
//! a high priority ticket is refused for a paused agent and a normal one is not.
//!
//! Every command is dated (an import, by the Owner), from a fixed day on: no result
//! depends on the day or the time the test runs (and the clock holds off while an import
//! runs, so no tick at today's time lands among them).
//!
//! Needs the binary (`cargo build -p helpdesk-server`).

use helpdesk_api::{pb, CommandServiceClient, ConfigServiceClient, TicketServiceClient};
use helpdesk_tests::{with_token, Helpdesk, HISTORY_START};
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

/// The test's commands are dated one minute apart from the fixed start on.
struct Dates(i64);

impl Dates {
    fn next(&mut self) -> Option<prost_types::Timestamp> {
        self.0 += 60_000;
        Some(prost_types::Timestamp {
            seconds: self.0 / 1000,
            nanos: 0,
        })
    }
}

/// A rule with one condition, "the subject has `word`", and these actions.
fn rule(name: &str, word: &str, actions: Vec<A>) -> pb::DefineRoutingRuleRequest {
    pb::DefineRoutingRuleRequest {
        name: name.into(),
        groups: vec![pb::RoutingConditionGroup {
            conditions: vec![pb::RoutingCondition {
                condition: Some(Cond::SubjectContains(pb::WordList {
                    words: vec![word.into()],
                })),
            }],
        }],
        actions: actions
            .into_iter()
            .map(|action| pb::RoutingAction {
                action: Some(action),
            })
            .collect(),
        ..Default::default()
    }
}

fn assign_to(agents: &[&str]) -> A {
    A::AssignTo(pb::AgentList {
        agent_ids: agents.iter().map(|a| (*a).to_owned()).collect(),
    })
}

struct Desk {
    channel: Channel,
    token: String,
    dates: Dates,
}

impl Desk {
    fn commands(&self) -> CommandServiceClient<Channel> {
        CommandServiceClient::new(self.channel.clone())
    }

    async fn agent(&mut self, name: &str) -> anyhow::Result<String> {
        Ok(self
            .commands()
            .register_agent(auth(
                &self.token,
                pb::RegisterAgentRequest {
                    occurred_at: self.dates.next(),
                    name: name.into(),
                    email: format!("{}@example.com", name.to_lowercase()),
                    role: Some(pb::RoleRef {
                        role: Some(pb::role_ref::Role::Builtin(pb::BuiltinRole::Agent as i32)),
                    }),
                    ..Default::default()
                },
            ))
            .await?
            .into_inner()
            .aggregate_id)
    }

    async fn go_online(&mut self, agent: &str) -> anyhow::Result<()> {
        self.commands()
            .go_online(auth(
                &self.token,
                pb::GoOnlineRequest {
                    occurred_at: self.dates.next(),
                    agent_id: agent.into(),
                    ..Default::default()
                },
            ))
            .await?;
        Ok(())
    }

    /// A pause without a planned end: it lasts whatever the time.
    async fn pause(&mut self, agent: &str) -> anyhow::Result<()> {
        self.commands()
            .pause_agent(auth(
                &self.token,
                pb::PauseAgentRequest {
                    occurred_at: self.dates.next(),
                    agent_id: agent.into(),
                    pause_reason: Some(pb::pause_agent_request::PauseReason::Reason(
                        "lunch".into(),
                    )),
                    ..Default::default()
                },
            ))
            .await?;
        Ok(())
    }

    async fn define(
        &mut self,
        mut request: pb::DefineRoutingRuleRequest,
    ) -> anyhow::Result<String> {
        request.occurred_at = self.dates.next();
        Ok(self
            .commands()
            .define_routing_rule(auth(&self.token, request))
            .await?
            .into_inner()
            .aggregate_id)
    }

    async fn update(
        &mut self,
        mut request: pb::UpdateRoutingRuleRequest,
    ) -> Result<pb::CommandResponse, tonic::Status> {
        request.occurred_at = self.dates.next();
        self.commands()
            .update_routing_rule(auth(&self.token, request))
            .await
            .map(|r| r.into_inner())
    }

    /// Creates a ticket: (its id, the events appended, the write's position).
    async fn ticket(
        &mut self,
        subject: &str,
        priority: pb::Priority,
    ) -> anyhow::Result<(String, Vec<String>, u64)> {
        let done = self
            .commands()
            .create_ticket(auth(
                &self.token,
                pb::CreateTicketRequest {
                    occurred_at: self.dates.next(),
                    channel: pb::Channel::Email as i32,
                    priority: priority as i32,
                    subject: subject.into(),
                    ..Default::default()
                },
            ))
            .await?
            .into_inner();
        Ok((done.aggregate_id, done.events, done.position))
    }

    /// The ticket's assignee as the tickets read model has it once it holds `position`
    /// (empty: none).
    async fn assignee(&self, ticket: &str, position: u64) -> anyhow::Result<String> {
        let got = TicketServiceClient::new(self.channel.clone())
            .get_ticket(auth(
                &self.token,
                pb::GetTicketRequest {
                    ticket_id: ticket.into(),
                    read: after(position),
                },
            ))
            .await?
            .into_inner();
        Ok(got.ticket.expect("a ticket").assignee_id)
    }

    async fn assign(
        &mut self,
        ticket: &str,
        agent: &str,
    ) -> Result<pb::CommandResponse, tonic::Status> {
        let request = pb::AssignTicketRequest {
            occurred_at: self.dates.next(),
            ticket_id: ticket.into(),
            agent_id: agent.into(),
            ..Default::default()
        };
        self.commands()
            .assign_ticket(auth(&self.token, request))
            .await
            .map(|r| r.into_inner())
    }

    async fn rules(&self, position: u64) -> anyhow::Result<Vec<pb::RoutingRule>> {
        Ok(ConfigServiceClient::new(self.channel.clone())
            .list_routing_rules(auth(
                &self.token,
                pb::ListRoutingRulesRequest {
                    read: after(position),
                },
            ))
            .await?
            .into_inner()
            .rules)
    }
}

fn names(events: &[String]) -> Vec<&str> {
    events.iter().map(String::as_str).collect()
}

#[tokio::test]
async fn routing_rules_skip_paused_and_offline_agents_and_can_be_renamed_noted_and_switched(
) -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::builder()
        .arg("--tick-seconds")
        .arg("3600")
        .start()
        .await?;
    let mut desk = Desk {
        channel: helpdesk.channel().await?,
        token: helpdesk.token().to_owned(),
        dates: Dates(HISTORY_START),
    };

    // Ada online and paused, Bob online, Cy offline.
    let ada = desk.agent("Ada").await?;
    let bob = desk.agent("Bob").await?;
    let cy = desk.agent("Cy").await?;
    desk.go_online(&ada).await?;
    desk.go_online(&bob).await?;
    desk.pause(&ada).await?;

    // ----------------------------------------- paused and offline agents are skipped
    let printers = desk
        .define(rule("Printers", "printer", vec![assign_to(&[&ada, &bob])]))
        .await?;
    let scanners = desk
        .define(rule("Scanners", "scanner", vec![assign_to(&[&ada, &cy])]))
        .await?;
    for priority in [
        pb::Priority::Low,
        pb::Priority::Normal,
        pb::Priority::Urgent,
    ] {
        let (ticket, events, position) = desk.ticket("The printer jams", priority).await?;
        assert_eq!(names(&events), ["TicketCreated", "TicketAssigned"]);
        assert_eq!(
            desk.assignee(&ticket, position).await?,
            bob,
            "{priority:?}: Ada is paused, Bob is free"
        );
    }
    // Everyone listed is paused or offline: the ticket stays unassigned.
    for priority in [pb::Priority::Normal, pb::Priority::High] {
        let (ticket, events, position) = desk.ticket("The scanner is slow", priority).await?;
        assert_eq!(names(&events), ["TicketCreated"], "{priority:?}");
        assert_eq!(desk.assignee(&ticket, position).await?, "");
    }

    // ------------------------------------------- switched off, then on again
    let fax = desk
        .define(rule(
            "Fax",
            "fax",
            vec![
                A::AddTags(pb::TagList {
                    tags: vec!["fax".into()],
                }),
                assign_to(&[&bob]),
            ],
        ))
        .await?;
    let off = desk
        .update(pb::UpdateRoutingRuleRequest {
            rule_id: fax.clone(),
            enabled: Some(false),
            ..Default::default()
        })
        .await?;
    assert_eq!(off.events, ["RoutingRuleUpdated"]);
    assert_eq!(off.aggregate_id, fax);
    let (ticket, events, position) = desk.ticket("Fax broken", pb::Priority::Normal).await?;
    assert_eq!(
        names(&events),
        ["TicketCreated"],
        "a rule switched off does nothing"
    );
    assert_eq!(desk.assignee(&ticket, position).await?, "");
    let listed = desk.rules(position).await?;
    let places: Vec<(&str, u32, bool)> = listed
        .iter()
        .map(|r| (r.name.as_str(), r.position, r.enabled))
        .collect();
    assert_eq!(
        places,
        [
            ("Printers", 0, true),
            ("Scanners", 1, true),
            ("Fax", 2, false)
        ],
        "switched off, it keeps its place"
    );
    desk.update(pb::UpdateRoutingRuleRequest {
        rule_id: fax.clone(),
        enabled: Some(true),
        ..Default::default()
    })
    .await?;
    let (ticket, events, position) = desk
        .ticket("Fax broken again", pb::Priority::Normal)
        .await?;
    assert_eq!(
        names(&events),
        ["TicketCreated", "TicketTagged", "TicketAssigned"]
    );
    assert_eq!(desk.assignee(&ticket, position).await?, bob);

    // --------------------------------------------------------- renamed, with notes
    let renamed = desk
        .update(pb::UpdateRoutingRuleRequest {
            rule_id: printers.clone(),
            name: Some("Printers to Bob".into()),
            notes: Some("Ada is on a course until May.\nAsk Bob first.".into()),
            ..Default::default()
        })
        .await?;
    // Bad input is refused naming the field, and changes nothing.
    let empty_name = desk
        .update(pb::UpdateRoutingRuleRequest {
            rule_id: printers.clone(),
            name: Some(" ".into()),
            notes: Some("lost".into()),
            ..Default::default()
        })
        .await
        .expect_err("an empty name");
    assert_eq!(empty_name.code(), Code::InvalidArgument);
    assert!(
        empty_name.message().contains("name"),
        "{}",
        empty_name.message()
    );
    let long_notes = desk
        .update(pb::UpdateRoutingRuleRequest {
            rule_id: scanners.clone(),
            notes: Some("n".repeat(2_001)),
            ..Default::default()
        })
        .await
        .expect_err("notes too long");
    assert_eq!(long_notes.code(), Code::InvalidArgument);
    assert!(
        long_notes.message().contains("notes"),
        "{}",
        long_notes.message()
    );
    let unknown = desk
        .update(pb::UpdateRoutingRuleRequest {
            rule_id: ticket.clone(),
            enabled: Some(false),
            ..Default::default()
        })
        .await
        .expect_err("no such rule");
    assert_eq!(unknown.code(), Code::NotFound);

    let listed = desk.rules(renamed.position).await?;
    let read: Vec<(&str, &str, &str, bool)> = listed
        .iter()
        .map(|r| {
            (
                r.rule_id.as_str(),
                r.name.as_str(),
                r.notes.as_str(),
                r.enabled,
            )
        })
        .collect();
    assert_eq!(
        read,
        [
            (
                printers.as_str(),
                "Printers to Bob",
                "Ada is on a course until May.\nAsk Bob first.",
                true
            ),
            (scanners.as_str(), "Scanners", "", true),
            (fax.as_str(), "Fax", "", true),
        ]
    );
    // Renaming changes nothing of what the rule does.
    let (ticket, _, position) = desk
        .ticket("Printer out of ink", pb::Priority::Normal)
        .await?;
    assert_eq!(desk.assignee(&ticket, position).await?, bob);

    // ------------------------------------------------------- by hand, a person decides
    let (high, events, _) = desk.ticket("Server down", pb::Priority::High).await?;
    assert_eq!(names(&events), ["TicketCreated"]);
    let refused = desk
        .assign(&high, &ada)
        .await
        .expect_err("a high priority ticket for a paused agent");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("is paused") && refused.message().contains("high"),
        "{}",
        refused.message()
    );
    let (normal, _, _) = desk.ticket("Password reset", pb::Priority::Normal).await?;
    let assigned = desk.assign(&normal, &ada).await?;
    assert_eq!(assigned.events, ["TicketAssigned"]);
    assert_eq!(desk.assignee(&normal, assigned.position).await?, ada);
    // The high one was left as it was.
    assert_eq!(desk.assignee(&high, assigned.position).await?, "");

    helpdesk.stop().await
}
