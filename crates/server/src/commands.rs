//! `helpdesk.v1.CommandService`: every command of the domain as an RPC, and `Execute`.
//!
//! A handler does three things: authenticate the caller, turn the request into a domain
//! command (the api crate names the field at fault), and hand it to the [`Engine`]. Errors
//! become statuses in one place ([`crate::status`]); nothing here builds a `Status`.

use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures::future::{ready, FutureExt};
use futures::stream::{FuturesOrdered, StreamExt};
use futures::Stream;
use helpdesk_api::{pb, ApiError, CommandService, IntoCommand, ParsedCommand};
use helpdesk_domain::Principal;
use tokio::sync::{mpsc, Notify};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use crate::auth;
use crate::engine::{self, Engine, Footprint, Outcome};

/// How many `Execute` responses may wait for a slow client before commands pause.
const EXECUTE_BUFFER: usize = 256;

/// The command service over one [`Engine`].
#[derive(Clone)]
pub struct CommandApi {
    engine: Arc<Engine>,
}

impl CommandApi {
    pub fn new(engine: Arc<Engine>) -> Self {
        CommandApi { engine }
    }

    async fn principal(
        &self,
        metadata: &tonic::metadata::MetadataMap,
    ) -> Result<Principal, ApiError> {
        Ok(auth::authenticate(&self.engine, metadata).await?)
    }

    /// One unary command: authenticate, parse, execute.
    async fn unary<R: IntoCommand>(
        &self,
        request: Request<R>,
    ) -> Result<Response<pb::CommandResponse>, Status> {
        let principal = self.principal(request.metadata()).await?;
        let parsed = request.into_inner().into_command(principal.agent)?;
        let outcome = execute(&self.engine, &principal, parsed).await?;
        Ok(Response::new(response(outcome)))
    }
}

/// Runs one parsed command for `principal`.
pub(crate) async fn execute(
    engine: &Engine,
    principal: &Principal,
    parsed: ParsedCommand,
) -> Result<Outcome, ApiError> {
    let request = engine::Request {
        command_id: Some(parsed.command_id),
        occurred_at: parsed.occurred_at,
        command: parsed.command,
    };
    Ok(engine.execute(principal, request).await?)
}

pub(crate) fn response(outcome: Outcome) -> pb::CommandResponse {
    pb::CommandResponse {
        command_id: outcome.command_id.to_string(),
        events: outcome.events.iter().map(|e| (*e).to_owned()).collect(),
        position: outcome.position,
        duplicate: outcome.duplicate,
        aggregate_id: outcome.aggregate.id.to_string(),
    }
}

/// The responses of `Execute`, one per request, in request order.
pub type ExecuteStream = Pin<Box<dyn Stream<Item = Result<pb::ExecuteResponse, Status>> + Send>>;

macro_rules! command_service {
    ($($method:ident($request:ident),)*) => {
        #[tonic::async_trait]
        impl CommandService for CommandApi {
            $(
                async fn $method(
                    &self,
                    request: Request<pb::$request>,
                ) -> Result<Response<pb::CommandResponse>, Status> {
                    self.unary(request).await
                }
            )*

            type ExecuteStream = ExecuteStream;

            /// Responses come in request order, and a command sees what the commands
            /// before it in the stream did; commands that touch none of the same
            /// aggregates run side by side (see `run_stream`). The caller is
            /// authenticated once, when the stream opens.
            async fn execute(
                &self,
                request: Request<Streaming<pb::ExecuteRequest>>,
            ) -> Result<Response<ExecuteStream>, Status> {
                let principal = self.principal(request.metadata()).await?;
                let requests = request.into_inner();
                let (tx, rx) = mpsc::channel(EXECUTE_BUFFER);
                tokio::spawn(run_stream(self.engine.clone(), principal, requests, tx));
                Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
            }
        }
    };
}

/// Commands of one `Execute` stream in flight at most.
const MAX_IN_FLIGHT: usize = 256;

/// Runs the commands of one stream: each is started once no unfinished command before
/// it touches an aggregate it touches ([`Footprint::conflicts`]), so independent
/// commands share the log's writes (one fsync, one round of acks) while dependent ones
/// keep their order. Responses are sent in request order.
async fn run_stream(
    engine: Arc<Engine>,
    principal: Principal,
    mut requests: Streaming<pb::ExecuteRequest>,
    tx: mpsc::Sender<Result<pb::ExecuteResponse, Status>>,
) {
    let active: Arc<Mutex<Vec<(u64, Footprint)>>> = Arc::default();
    let finished = Arc::new(Notify::new());
    let mut running = FuturesOrdered::new();
    let mut reading = true;
    let mut index = 0u64;
    while reading || !running.is_empty() {
        tokio::select! {
            // The client went away: stop taking its commands.
            _ = tx.closed() => return,
            Some(reply) = running.next(), if !running.is_empty() => {
                if tx.send(Ok(reply)).await.is_err() {
                    return;
                }
            }
            next = requests.message(), if reading && running.len() < MAX_IN_FLIGHT => {
                let message = match next {
                    Ok(Some(message)) => message,
                    Ok(None) => {
                        reading = false;
                        continue;
                    }
                    Err(status) => {
                        tracing::debug!("Execute stream ended with {status}");
                        reading = false;
                        continue;
                    }
                };
                let this = index;
                index += 1;
                let parsed = match message.into_command(principal.agent) {
                    Ok(parsed) => parsed,
                    Err(err) => {
                        running.push_back(ready(err.to_execute_response(this)).boxed());
                        continue;
                    }
                };
                let footprint = match engine.footprint(&parsed.command).await {
                    Ok(footprint) => footprint,
                    Err(err) => {
                        let err = ApiError::from(err);
                        running.push_back(ready(err.to_execute_response(this)).boxed());
                        continue;
                    }
                };
                wait_for_turn(&active, &finished, &footprint).await;
                active.lock().expect("active lock").push((this, footprint));
                let (engine, principal) = (engine.clone(), principal.clone());
                let (active, finished) = (active.clone(), finished.clone());
                let task = tokio::spawn(async move {
                    let result = execute(&engine, &principal, parsed).await;
                    active.lock().expect("active lock").retain(|(i, _)| *i != this);
                    finished.notify_waiters();
                    reply(this, result)
                });
                running.push_back(
                    async move {
                        task.await.unwrap_or_else(|err| {
                            ApiError::internal(format!("the command failed: {err}"))
                                .to_execute_response(this)
                        })
                    }
                    .boxed(),
                );
            }
        }
    }
}

/// Waits until no unfinished command conflicts with `footprint`.
async fn wait_for_turn(
    active: &Mutex<Vec<(u64, Footprint)>>,
    finished: &Notify,
    footprint: &Footprint,
) {
    loop {
        let notified = finished.notified();
        tokio::pin!(notified);
        // Registered before looking, so a finish between the look and the wait counts.
        notified.as_mut().enable();
        let clear = !active
            .lock()
            .expect("active lock")
            .iter()
            .any(|(_, other)| other.conflicts(footprint));
        if clear {
            return;
        }
        notified.await;
    }
}

fn reply(index: u64, result: Result<Outcome, ApiError>) -> pb::ExecuteResponse {
    match result {
        Ok(outcome) => pb::ExecuteResponse {
            index,
            result: Some(pb::execute_response::Result::Response(response(outcome))),
        },
        Err(err) => err.to_execute_response(index),
    }
}

command_service! {
    register_agent(RegisterAgentRequest),
    change_agent_role(ChangeAgentRoleRequest),
    go_online(GoOnlineRequest),
    go_offline(GoOfflineRequest),
    pause_agent(PauseAgentRequest),
    resume_agent(ResumeAgentRequest),
    deactivate_agent(DeactivateAgentRequest),
    create_department(CreateDepartmentRequest),
    update_department(UpdateDepartmentRequest),
    add_agent_to_department(AddAgentToDepartmentRequest),
    remove_agent_from_department(RemoveAgentFromDepartmentRequest),
    create_ticket(CreateTicketRequest),
    assign_ticket(AssignTicketRequest),
    unassign_ticket(UnassignTicketRequest),
    transfer_ticket(TransferTicketRequest),
    answer_ticket(AnswerTicketRequest),
    record_customer_reply(RecordCustomerReplyRequest),
    tag_ticket(TagTicketRequest),
    untag_ticket(UntagTicketRequest),
    resolve_ticket(ResolveTicketRequest),
    reopen_ticket(ReopenTicketRequest),
    delete_ticket(DeleteTicketRequest),
    start_chat(StartChatRequest),
    offer_chat(OfferChatRequest),
    accept_chat(AcceptChatRequest),
    miss_chat(MissChatRequest),
    answer_chat(AnswerChatRequest),
    record_chat_customer_message(RecordChatCustomerMessageRequest),
    end_chat(EndChatRequest),
    incoming_call(IncomingCallRequest),
    ring_call(RingCallRequest),
    answer_call(AnswerCallRequest),
    miss_call(MissCallRequest),
    end_call(EndCallRequest),
    rate_conversation(RateConversationRequest),
    retract_rating(RetractRatingRequest),
    define_level(DefineLevelRequest),
    update_level(UpdateLevelRequest),
    remove_level(RemoveLevelRequest),
    reorder_levels(ReorderLevelsRequest),
    customize_badge(CustomizeBadgeRequest),
    define_badge(DefineBadgeRequest),
    remove_badge(RemoveBadgeRequest),
    define_routing_rule(DefineRoutingRuleRequest),
    remove_routing_rule(RemoveRoutingRuleRequest),
    define_role(DefineRoleRequest),
    update_role(UpdateRoleRequest),
    remove_role(RemoveRoleRequest),
    set_organization_settings(SetOrganizationSettingsRequest),
}
