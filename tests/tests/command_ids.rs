//! A command id belongs to the caller who used it first: another caller who sends it
//! learns nothing of that command (docs/SECURITY.md, "Command ids").
//!
//! Needs the binary (`cargo build -p helpdesk-server`) and `nats-server` (`just test` sees to
//! both).

use helpdesk_api::{pb, CommandServiceClient};
use helpdesk_tests::{with_token, Helpdesk};
use tonic::{Code, Request};

fn auth<T>(token: &str, message: T) -> Request<T> {
    with_token(Request::new(message), token)
}

fn ticket(command_id: &str, subject: &str) -> pb::CreateTicketRequest {
    pb::CreateTicketRequest {
        command_id: command_id.into(),
        channel: pb::Channel::Email as i32,
        priority: pb::Priority::Normal as i32,
        subject: subject.into(),
        body: Some("Hello".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_command_id_used_by_another_caller_tells_nothing() -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::start_embedded().await?;
    let ada = helpdesk.new_agent("Ada").await?.1;
    let bob = helpdesk.new_agent("Bob").await?.1;
    let mut commands = CommandServiceClient::new(helpdesk.channel().await?);
    let id = "0195594d-6800-7000-8000-00000000c0de";

    let first = commands
        .create_ticket(auth(&ada, ticket(id, "Ada's printer")))
        .await?
        .into_inner();
    assert!(!first.duplicate);

    // Bob sends the same id: refused, without Ada's ticket, events or position.
    let foreign = commands
        .create_ticket(auth(&bob, ticket(id, "Bob's guess")))
        .await
        .expect_err("another caller's command id");
    assert_eq!(foreign.code(), Code::FailedPrecondition, "{foreign:?}");
    assert!(foreign.message().contains("new command_id"), "{foreign:?}");
    assert!(
        !foreign.message().contains(&first.aggregate_id)
            && !foreign.message().contains("TicketCreated")
            && !foreign.message().contains(&first.position.to_string()),
        "the refusal tells of Ada's command: {foreign:?}"
    );

    // Ada sending it again gets her first result; so does an importer (the Owner has
    // system.import), who may resend anyone's history.
    for (who, token) in [("Ada", ada.as_str()), ("the Owner", helpdesk.token())] {
        let again = commands
            .create_ticket(auth(token, ticket(id, "Ada's printer")))
            .await?
            .into_inner();
        assert!(again.duplicate, "{who}: {again:?}");
        assert_eq!(again.aggregate_id, first.aggregate_id, "{who}");
        assert_eq!(again.position, first.position, "{who}");
    }
    helpdesk.stop().await
}
