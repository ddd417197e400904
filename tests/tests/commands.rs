//! The command side end to end: the real `helpdesk` binary, driven by a tonic client, on
//! the embedded log and on a real `nats-server`. Every scenario runs on both backends.
//!
//! Needs the binary (`cargo build -p helpdesk-server`) and `nats-server` (`just test` sees to
//! both).

use std::collections::BTreeSet;
use std::time::Duration;

use helpdesk_api::pb;
use helpdesk_api::{AdminServiceClient, CommandServiceClient};
use helpdesk_tests::{with_token, Helpdesk, NatsServer};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;

type Client = CommandServiceClient<Channel>;

/// A client with a token.
#[derive(Clone)]
struct Caller {
    client: Client,
    token: String,
}

impl Caller {
    fn req<T>(&self, message: T) -> Request<T> {
        with_token(Request::new(message), &self.token)
    }
}

fn role(builtin: pb::BuiltinRole) -> Option<pb::RoleRef> {
    Some(pb::RoleRef {
        role: Some(pb::role_ref::Role::Builtin(builtin as i32)),
    })
}

#[track_caller]
fn expect_code<T: std::fmt::Debug>(result: Result<T, Status>, code: Code, needle: &str) -> Status {
    let status = match result {
        Ok(value) => panic!("expected {code:?} ({needle}), got {value:?}"),
        Err(status) => status,
    };
    assert_eq!(status.code(), code, "{status:?}");
    assert!(
        status.message().contains(needle),
        "the message {:?} should mention {needle:?}",
        status.message()
    );
    status
}

/// `INVALID_ARGUMENT` naming `field` in the message and in `google.rpc.BadRequest`.
#[track_caller]
fn expect_field<T: std::fmt::Debug>(result: Result<T, Status>, field: &str) {
    let status = expect_code(result, Code::InvalidArgument, field);
    let bad = status
        .get_details_bad_request()
        .unwrap_or_else(|| panic!("no BadRequest details in {status:?}"));
    assert_eq!(bad.field_violations.len(), 1, "{bad:?}");
    assert_eq!(bad.field_violations[0].field, field);
}

async fn owner(helpdesk: &Helpdesk) -> anyhow::Result<Caller> {
    Ok(Caller {
        client: CommandServiceClient::new(helpdesk.channel().await?),
        token: helpdesk.token().to_owned(),
    })
}

/// Registers an agent and issues their token.
async fn agent(
    helpdesk: &Helpdesk,
    owner: &Caller,
    name: &str,
) -> anyhow::Result<(String, Caller)> {
    let registered = owner
        .client
        .clone()
        .register_agent(owner.req(pb::RegisterAgentRequest {
            name: name.into(),
            email: format!("{}@example.com", name.to_lowercase()),
            role: role(pb::BuiltinRole::Agent),
            ..Default::default()
        }))
        .await?
        .into_inner();
    assert_eq!(registered.events, ["AgentRegistered"]);
    let id = registered.aggregate_id;
    let issued = AdminServiceClient::new(helpdesk.channel().await?)
        .issue_token(owner.req(pb::IssueTokenRequest {
            subject: Some(pb::issue_token_request::Subject::AgentId(id.clone())),
            ..Default::default()
        }))
        .await?
        .into_inner();
    assert!(issued.token.starts_with("hd_"), "{issued:?}");
    Ok((
        id,
        Caller {
            client: owner.client.clone(),
            token: issued.token,
        },
    ))
}

async fn create_ticket(
    caller: &Caller,
    priority: pb::Priority,
    department_id: &str,
) -> Result<String, Status> {
    let created = caller
        .client
        .clone()
        .create_ticket(caller.req(pb::CreateTicketRequest {
            channel: pb::Channel::Email as i32,
            priority: priority as i32,
            subject: "The printer is on fire".into(),
            department_id: department_id.into(),
            ..Default::default()
        }))
        .await?
        .into_inner();
    assert_eq!(created.events[0], "TicketCreated");
    Ok(created.aggregate_id)
}

// ------------------------------------------------------------------------------ scenarios

/// A day at the help desk: departments restrict who may take and see a ticket, a pause
/// keeps high priority work and chats away, chats and tickets follow their state machines,
/// and each refusal comes back with its status.
async fn a_day_at_the_desk(helpdesk: &Helpdesk) -> anyhow::Result<()> {
    let boss = owner(helpdesk).await?;
    let (ada_id, ada) = agent(helpdesk, &boss, "Ada").await?;
    let (bob_id, bob) = agent(helpdesk, &boss, "Bob").await?;
    let mut c = boss.client.clone();

    // Departments: Billing has Ada only.
    let billing = c
        .create_department(boss.req(pb::CreateDepartmentRequest {
            name: "Billing".into(),
            ..Default::default()
        }))
        .await?
        .into_inner()
        .aggregate_id;
    c.add_agent_to_department(boss.req(pb::AddAgentToDepartmentRequest {
        department_id: billing.clone(),
        agent_id: ada_id.clone(),
        ..Default::default()
    }))
    .await?;
    let ticket = create_ticket(&boss, pb::Priority::High, &billing).await?;

    // Bob is not in Billing: he may not be assigned, and he does not see the ticket.
    expect_code(
        c.assign_ticket(boss.req(pb::AssignTicketRequest {
            ticket_id: ticket.clone(),
            agent_id: bob_id.clone(),
            ..Default::default()
        }))
        .await,
        Code::FailedPrecondition,
        "not a member",
    );
    expect_code(
        bob.client
            .clone()
            .answer_ticket(bob.req(pb::AnswerTicketRequest {
                ticket_id: ticket.clone(),
                chars: 10,
                ..Default::default()
            }))
            .await,
        Code::PermissionDenied,
        "",
    );
    // An agent acts as themself: Bob may not answer as Ada.
    expect_code(
        bob.client
            .clone()
            .go_online(bob.req(pb::GoOnlineRequest {
                agent_id: ada_id.clone(),
                ..Default::default()
            }))
            .await,
        Code::PermissionDenied,
        "system.import",
    );
    // Nor set the time of what he does.
    expect_code(
        bob.client
            .clone()
            .go_online(bob.req(pb::GoOnlineRequest {
                occurred_at: Some(prost_types::Timestamp {
                    seconds: 1_700_000_000,
                    nanos: 0,
                }),
                ..Default::default()
            }))
            .await,
        Code::PermissionDenied,
        "system.import",
    );

    // Ada pauses: no high priority ticket, no chat for her.
    let mut a = ada.client.clone();
    expect_code(
        a.pause_agent(ada.req(pb::PauseAgentRequest {
            pause_reason: Some(pb::pause_agent_request::PauseReason::Reason("lunch".into())),
            ..Default::default()
        }))
        .await,
        Code::FailedPrecondition,
        "offline",
    );
    a.go_online(ada.req(pb::GoOnlineRequest::default())).await?;
    a.pause_agent(ada.req(pb::PauseAgentRequest {
        pause_reason: Some(pb::pause_agent_request::PauseReason::Reason("lunch".into())),
        planned_minutes: Some(30),
        ..Default::default()
    }))
    .await?;
    expect_code(
        c.assign_ticket(boss.req(pb::AssignTicketRequest {
            ticket_id: ticket.clone(),
            agent_id: ada_id.clone(),
            ..Default::default()
        }))
        .await,
        Code::FailedPrecondition,
        "paused",
    );
    let chat = c
        .start_chat(boss.req(pb::StartChatRequest {
            channel: pb::Channel::Chat as i32,
            ..Default::default()
        }))
        .await?
        .into_inner()
        .aggregate_id;
    let offer_to_ada = pb::OfferChatRequest {
        chat_id: chat.clone(),
        agent_id: ada_id.clone(),
        ..Default::default()
    };
    expect_code(
        c.offer_chat(boss.req(offer_to_ada.clone())).await,
        Code::FailedPrecondition,
        "paused",
    );

    // Back from the pause, Ada takes the ticket and the chat.
    a.resume_agent(ada.req(pb::ResumeAgentRequest::default()))
        .await?;
    expect_code(
        a.resume_agent(ada.req(pb::ResumeAgentRequest::default()))
            .await,
        Code::FailedPrecondition,
        "not paused",
    );
    c.assign_ticket(boss.req(pb::AssignTicketRequest {
        ticket_id: ticket.clone(),
        agent_id: ada_id.clone(),
        ..Default::default()
    }))
    .await?;
    let answered = a
        .answer_ticket(ada.req(pb::AnswerTicketRequest {
            ticket_id: ticket.clone(),
            chars: 240,
            ..Default::default()
        }))
        .await?
        .into_inner();
    assert_eq!(answered.events, ["TicketAnswered"]);

    c.offer_chat(boss.req(offer_to_ada)).await?;
    expect_code(
        bob.client
            .clone()
            .accept_chat(bob.req(pb::AcceptChatRequest {
                chat_id: chat.clone(),
                ..Default::default()
            }))
            .await,
        Code::FailedPrecondition,
        "",
    );
    a.accept_chat(ada.req(pb::AcceptChatRequest {
        chat_id: chat.clone(),
        ..Default::default()
    }))
    .await?;
    a.answer_chat(ada.req(pb::AnswerChatRequest {
        chat_id: chat.clone(),
        chars: 42,
        ..Default::default()
    }))
    .await?;
    let end = pb::EndChatRequest {
        chat_id: chat.clone(),
        ..Default::default()
    };
    a.end_chat(ada.req(end.clone())).await?;
    expect_code(
        a.end_chat(ada.req(end)).await,
        Code::FailedPrecondition,
        "ended",
    );

    // The customer rates the chat; it is Ada's.
    let rated = c
        .rate_conversation(boss.req(pb::RateConversationRequest {
            conversation: Some(pb::ConversationRef {
                kind: pb::ConversationKind::Chat as i32,
                id: chat.clone(),
            }),
            rating: pb::Rating::Positive as i32,
            ..Default::default()
        }))
        .await?
        .into_inner();
    assert_eq!(rated.events, ["ConversationRated"]);

    // A deleted ticket is final.
    c.delete_ticket(boss.req(pb::DeleteTicketRequest {
        ticket_id: ticket.clone(),
        ..Default::default()
    }))
    .await?;
    expect_code(
        a.answer_ticket(ada.req(pb::AnswerTicketRequest {
            ticket_id: ticket.clone(),
            chars: 5,
            ..Default::default()
        }))
        .await,
        Code::FailedPrecondition,
        "deleted",
    );

    // Unknown ids, malformed input.
    expect_code(
        c.answer_ticket(boss.req(pb::AnswerTicketRequest {
            ticket_id: uuid::Uuid::now_v7().to_string(),
            chars: 5,
            ..Default::default()
        }))
        .await,
        Code::NotFound,
        "ticket",
    );
    let waiting = c
        .start_chat(boss.req(pb::StartChatRequest {
            channel: pb::Channel::Chat as i32,
            ..Default::default()
        }))
        .await?
        .into_inner()
        .aggregate_id;
    expect_code(
        c.offer_chat(boss.req(pb::OfferChatRequest {
            chat_id: waiting,
            agent_id: uuid::Uuid::now_v7().to_string(),
            ..Default::default()
        }))
        .await,
        Code::NotFound,
        "agent",
    );
    expect_field(
        c.create_ticket(boss.req(pb::CreateTicketRequest {
            channel: pb::Channel::Email as i32,
            priority: pb::Priority::Low as i32,
            subject: "x".repeat(1_001),
            ..Default::default()
        }))
        .await,
        "subject",
    );
    expect_field(
        c.create_ticket(boss.req(pb::CreateTicketRequest {
            priority: pb::Priority::Low as i32,
            subject: "No channel".into(),
            ..Default::default()
        }))
        .await,
        "channel",
    );
    expect_field(
        c.tag_ticket(boss.req(pb::TagTicketRequest {
            ticket_id: "not-a-uuid".into(),
            tag: "x".into(),
            ..Default::default()
        }))
        .await,
        "ticket_id",
    );

    // Ada is an Agent: she may not manage departments, nor register anyone.
    expect_code(
        a.create_department(ada.req(pb::CreateDepartmentRequest {
            name: "Ada's own".into(),
            ..Default::default()
        }))
        .await,
        Code::PermissionDenied,
        "departments.manage",
    );
    expect_code(
        a.register_agent(ada.req(pb::RegisterAgentRequest {
            name: "Eve".into(),
            email: "eve@example.com".into(),
            role: role(pb::BuiltinRole::Agent),
            ..Default::default()
        }))
        .await,
        Code::PermissionDenied,
        "agents.manage",
    );

    // A level's condition is checked when it is defined: the column and what was expected.
    let bad_level = c
        .define_level(boss.req(pb::DefineLevelRequest {
            name: "Speedster".into(),
            description: "Fast.".into(),
            condition: "$answer >= 10".into(),
            ..Default::default()
        }))
        .await;
    let status = expect_code(bad_level, Code::InvalidArgument, "did you mean $answers");
    assert!(status.message().contains("column 1"), "{status:?}");
    expect_field(
        c.define_level(boss.req(pb::DefineLevelRequest {
            name: "Speedster".into(),
            description: "Fast.".into(),
            condition: "$answers >=".into(),
            ..Default::default()
        }))
        .await,
        "condition",
    );
    c.define_level(boss.req(pb::DefineLevelRequest {
        name: "Speedster".into(),
        description: "Fast.".into(),
        condition: "$answers >= 10 && $chats_ph > 2".into(),
        ..Default::default()
    }))
    .await?;

    // A revoked token stops working at once.
    let revoked_id = {
        let issued = AdminServiceClient::new(helpdesk.channel().await?)
            .issue_token(boss.req(pb::IssueTokenRequest {
                subject: Some(pb::issue_token_request::Subject::AgentId(bob_id.clone())),
                ..Default::default()
            }))
            .await?
            .into_inner();
        let second = Caller {
            client: c.clone(),
            token: issued.token,
        };
        second
            .client
            .clone()
            .go_online(second.req(pb::GoOnlineRequest::default()))
            .await?;
        AdminServiceClient::new(helpdesk.channel().await?)
            .revoke_token(boss.req(pb::RevokeTokenRequest {
                token_id: issued.token_id.clone(),
                ..Default::default()
            }))
            .await?;
        expect_code(
            second
                .client
                .clone()
                .go_offline(second.req(pb::GoOfflineRequest::default()))
                .await,
            Code::Unauthenticated,
            "",
        );
        issued.token_id
    };
    assert!(!revoked_id.is_empty());
    Ok(())
}

/// A command id accepted once is never applied twice: the first result comes back.
async fn retries_are_idempotent(helpdesk: &Helpdesk) -> anyhow::Result<()> {
    let boss = owner(helpdesk).await?;
    let mut c = boss.client.clone();
    let command_id = uuid::Uuid::now_v7().to_string();
    let request = pb::CreateTicketRequest {
        command_id: command_id.clone(),
        channel: pb::Channel::WebForm as i32,
        priority: pb::Priority::Normal as i32,
        subject: "Where is my parcel?".into(),
        ..Default::default()
    };
    let first = c
        .create_ticket(boss.req(request.clone()))
        .await?
        .into_inner();
    let again = c.create_ticket(boss.req(request)).await?.into_inner();
    assert!(!first.duplicate && again.duplicate, "{first:?} {again:?}");
    assert_eq!(
        (
            &again.command_id,
            &again.events,
            again.position,
            &again.aggregate_id
        ),
        (
            &first.command_id,
            &first.events,
            first.position,
            &first.aggregate_id
        ),
        "a duplicate returns the first result (the same ticket, not a second one)"
    );
    Ok(())
}

/// Commands racing on one aggregate: every tag is kept (losers are retried on fresh
/// state), and of many resolves exactly one wins; the rest see the resolved ticket.
async fn races_resolve_on_fresh_state(helpdesk: &Helpdesk) -> anyhow::Result<()> {
    let boss = owner(helpdesk).await?;
    let ticket = create_ticket(&boss, pb::Priority::Normal, "").await?;

    let mut tags = Vec::new();
    for i in 0..12 {
        let caller = boss.clone();
        let ticket = ticket.clone();
        tags.push(tokio::spawn(async move {
            caller
                .client
                .clone()
                .tag_ticket(caller.req(pb::TagTicketRequest {
                    ticket_id: ticket,
                    tag: format!("tag-{i}"),
                    ..Default::default()
                }))
                .await
        }));
    }
    let mut positions = BTreeSet::new();
    for tag in tags {
        let response = tag.await??.into_inner();
        assert_eq!(response.events, ["TicketTagged"]);
        positions.insert(response.position);
    }
    assert_eq!(
        positions.len(),
        12,
        "each tag was appended once: {positions:?}"
    );
    // Tagging again with a tag the ticket has is refused: all 12 are on the ticket.
    for i in 0..12 {
        expect_code(
            boss.client
                .clone()
                .tag_ticket(boss.req(pb::TagTicketRequest {
                    ticket_id: ticket.clone(),
                    tag: format!("tag-{i}"),
                    ..Default::default()
                }))
                .await,
            Code::FailedPrecondition,
            "already",
        );
    }

    let mut resolves = Vec::new();
    for _ in 0..8 {
        let caller = boss.clone();
        let ticket = ticket.clone();
        resolves.push(tokio::spawn(async move {
            caller
                .client
                .clone()
                .resolve_ticket(caller.req(pb::ResolveTicketRequest {
                    ticket_id: ticket,
                    ..Default::default()
                }))
                .await
        }));
    }
    let mut won = 0;
    for resolve in resolves {
        match resolve.await? {
            Ok(_) => won += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
                assert!(status.message().contains("resolved"), "{status:?}");
            }
        }
    }
    assert_eq!(won, 1, "exactly one resolve wins");
    Ok(())
}

/// `Execute`: one response per request, in order, with its index; a refused command does
/// not end the stream; a later command sees what an earlier one did.
async fn execute_streams_commands(helpdesk: &Helpdesk) -> anyhow::Result<()> {
    use pb::execute_request::Command as C;
    let boss = owner(helpdesk).await?;
    let ticket_id = uuid::Uuid::now_v7().to_string();
    let requests = vec![
        C::CreateTicket(pb::CreateTicketRequest {
            ticket_id: ticket_id.clone(),
            channel: pb::Channel::Api as i32,
            priority: pb::Priority::Low as i32,
            subject: "Imported".into(),
            ..Default::default()
        }),
        C::TagTicket(pb::TagTicketRequest {
            ticket_id: ticket_id.clone(),
            tag: "x".repeat(65),
            ..Default::default()
        }),
        C::ResolveTicket(pb::ResolveTicketRequest {
            ticket_id: ticket_id.clone(),
            ..Default::default()
        }),
        C::ResolveTicket(pb::ResolveTicketRequest {
            ticket_id: ticket_id.clone(),
            ..Default::default()
        }),
    ];
    let mut stream = requests
        .into_iter()
        .map(|command| pb::ExecuteRequest {
            command: Some(command),
        })
        .collect::<Vec<_>>();
    stream.push(pb::ExecuteRequest { command: None });
    let mut responses = boss
        .client
        .clone()
        .execute(boss.req(tokio_stream::iter(stream)))
        .await?
        .into_inner();
    let mut got = Vec::new();
    while let Some(response) = responses.message().await? {
        got.push(response);
    }
    assert_eq!(got.len(), 5, "{got:#?}");
    for (i, response) in got.iter().enumerate() {
        assert_eq!(response.index, i as u64);
    }
    use pb::execute_response::Result as R;
    let ok = |r: &pb::ExecuteResponse| match &r.result {
        Some(R::Response(response)) => response.events.clone(),
        other => panic!("expected success, got {other:?}"),
    };
    let err = |r: &pb::ExecuteResponse| match &r.result {
        Some(R::Error(error)) => error.clone(),
        other => panic!("expected an error, got {other:?}"),
    };
    assert_eq!(ok(&got[0]), ["TicketCreated"]);
    let tag = err(&got[1]);
    assert_eq!(
        (tag.code, tag.field.as_str()),
        (Code::InvalidArgument as i32, "tag")
    );
    assert_eq!(ok(&got[2]), ["TicketResolved"]);
    assert_eq!(err(&got[3]).code, Code::FailedPrecondition as i32);
    let none = err(&got[4]);
    assert_eq!(
        (none.code, none.field.as_str()),
        (Code::InvalidArgument as i32, "command")
    );
    Ok(())
}

// ------------------------------------------------------------------------------- backends

#[tokio::test]
async fn embedded_a_day_at_the_desk() -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::start_embedded().await?;
    a_day_at_the_desk(&helpdesk).await?;
    helpdesk.stop().await
}

#[tokio::test]
async fn nats_a_day_at_the_desk() -> anyhow::Result<()> {
    let nats = NatsServer::start()?;
    let mut helpdesk = Helpdesk::start_on_nats(&nats).await?;
    a_day_at_the_desk(&helpdesk).await?;
    helpdesk.stop().await
}

#[tokio::test]
async fn embedded_retries_races_and_streams() -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::start_embedded().await?;
    retries_are_idempotent(&helpdesk).await?;
    races_resolve_on_fresh_state(&helpdesk).await?;
    execute_streams_commands(&helpdesk).await?;
    helpdesk.stop().await
}

#[tokio::test]
async fn nats_retries_races_and_streams() -> anyhow::Result<()> {
    let nats = NatsServer::start()?;
    let mut helpdesk = Helpdesk::start_on_nats(&nats).await?;
    retries_are_idempotent(&helpdesk).await?;
    races_resolve_on_fresh_state(&helpdesk).await?;
    execute_streams_commands(&helpdesk).await?;
    helpdesk.stop().await
}

/// With NATS down a command is `UNAVAILABLE` (retry with the same command id); once NATS
/// is back the same command goes through, exactly once.
#[tokio::test]
async fn nats_down_is_unavailable_then_retry_succeeds() -> anyhow::Result<()> {
    let mut nats = NatsServer::start()?;
    let mut helpdesk = Helpdesk::start_on_nats(&nats).await?;
    let boss = owner(&helpdesk).await?;
    let request = pb::StartChatRequest {
        command_id: uuid::Uuid::now_v7().to_string(),
        channel: pb::Channel::Chat as i32,
        ..Default::default()
    };

    nats.stop()?;
    let down = boss
        .client
        .clone()
        .start_chat(boss.req(request.clone()))
        .await;
    expect_code(down, Code::Unavailable, "retry");

    nats.start_again()?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let first = loop {
        match boss
            .client
            .clone()
            .start_chat(boss.req(request.clone()))
            .await
        {
            Ok(response) => break response.into_inner(),
            Err(status) if status.code() == Code::Unavailable => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "still unavailable 30 s after NATS came back: {status:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(status) => panic!("unexpected {status:?}"),
        }
    };
    assert_eq!(first.events, ["ChatStarted"]);
    let again = boss
        .client
        .clone()
        .start_chat(boss.req(request))
        .await?
        .into_inner();
    assert!(
        again.duplicate && again.position == first.position,
        "{again:?}"
    );
    helpdesk.stop().await
}

/// A client that knows only reflection finds the whole command catalogue.
#[tokio::test]
async fn reflection_shows_the_whole_catalogue() -> anyhow::Result<()> {
    use prost::Message as _;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;

    let mut helpdesk = Helpdesk::start_embedded().await?;
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::FileContainingSymbol(
            "helpdesk.v1.CommandService".into(),
        )),
    };
    let mut responses = ServerReflectionClient::new(helpdesk.channel().await?)
        .server_reflection_info(tokio_stream::iter([request]))
        .await?
        .into_inner();
    let Some(MessageResponse::FileDescriptorResponse(files)) =
        responses.message().await?.and_then(|r| r.message_response)
    else {
        panic!("no file descriptor for helpdesk.v1.CommandService");
    };
    let methods: BTreeSet<String> = files
        .file_descriptor_proto
        .iter()
        .map(|bytes| prost_types::FileDescriptorProto::decode(bytes.as_slice()))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flat_map(|file| file.service)
        .filter(|service| service.name() == "CommandService")
        .flat_map(|service| service.method)
        .map(|method| method.name().to_owned())
        .collect();
    // One RPC per command, plus Execute.
    let catalogue = [
        "RegisterAgent",
        "ChangeAgentRole",
        "GoOnline",
        "GoOffline",
        "PauseAgent",
        "ResumeAgent",
        "DeactivateAgent",
        "CreateDepartment",
        "UpdateDepartment",
        "AddAgentToDepartment",
        "RemoveAgentFromDepartment",
        "CreateTicket",
        "AssignTicket",
        "UnassignTicket",
        "TransferTicket",
        "AnswerTicket",
        "RecordCustomerReply",
        "TagTicket",
        "UntagTicket",
        "ResolveTicket",
        "ReopenTicket",
        "DeleteTicket",
        "StartChat",
        "OfferChat",
        "AcceptChat",
        "MissChat",
        "AnswerChat",
        "RecordChatCustomerMessage",
        "EndChat",
        "IncomingCall",
        "RingCall",
        "AnswerCall",
        "MissCall",
        "EndCall",
        "RateConversation",
        "RetractRating",
        "DefineLevel",
        "UpdateLevel",
        "RemoveLevel",
        "ReorderLevels",
        "CustomizeBadge",
        "DefineBadge",
        "RemoveBadge",
        "DefineRoutingRule",
        "RemoveRoutingRule",
        "UpdateRoutingRule",
        "DefineRole",
        "UpdateRole",
        "RemoveRole",
        "SetOrganizationSettings",
        "Execute",
    ];
    let missing: Vec<_> = catalogue
        .iter()
        .filter(|m| !methods.contains(**m))
        .collect();
    assert!(
        missing.is_empty(),
        "reflection lacks {missing:?}; it has {methods:?}"
    );
    helpdesk.stop().await
}
