//! `helpdesk.v1.CommandService`: every command of the domain as an RPC, and `Execute`.
//!
//! A handler does three things: authenticate the caller, turn the request into a domain
//! command (the api crate names the field at fault), and hand it to the [`Engine`]. Errors
//! become statuses in one place ([`crate::command::errors`]); nothing here builds a `Status`.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use futures::Stream;
use helpdesk_api::{pb, ApiError, CommandService, IntoCommand, ParsedCommand};
use helpdesk_domain::{Permission, Principal};
use prost::Message as _;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

use crate::access::{caller, Access, Caller, Reading, StreamSlot};
use crate::command::engine::{self, Engine, Outcome};

/// How many `Execute` responses may wait for a slow client before commands pause, and
/// how many requests are read ahead of the commands carried out.
const EXECUTE_BUFFER: usize = 1024;
/// How many bytes of requests an `Execute` stream reads ahead of the commands carried
/// out (as encoded; besides the one being decoded, at most
/// [`crate::ops::grpc::COMMAND_MAX_BYTES`]). A client that does not read its answers
/// holds no more than this on the server (docs/SECURITY.md, "Limits of a stream").
pub const READ_AHEAD_BYTES: usize = 8 * 1024 * 1024;
/// The most commands of an `Execute` stream appended as one atomic batch.
const EXECUTE_BATCH: usize = 500;

/// The command service over one [`Engine`].
#[derive(Clone)]
pub struct CommandApi {
    engine: Arc<Engine>,
    /// Checks the caller of an open `Execute` stream again before each batch.
    access: Arc<Access>,
    /// Stops taking commands from open `Execute` streams when the process stops.
    shutdown: CancellationToken,
}

impl CommandApi {
    pub fn new(engine: Arc<Engine>, access: Arc<Access>, shutdown: CancellationToken) -> Self {
        CommandApi {
            engine,
            access,
            shutdown,
        }
    }

    /// One unary command: parse and execute for the caller the access layer let in.
    async fn unary<R: IntoCommand>(
        &self,
        name: &'static str,
        request: Request<R>,
    ) -> Result<Response<pb::CommandResponse>, Status> {
        let Caller { principal, arrived } = caller(&request)?;
        let result = match request.into_inner().into_command(principal.agent) {
            Ok(parsed) => execute(&self.engine, &principal, parsed, arrived).await,
            Err(err) => Err(err),
        };
        record(name, &result, arrived);
        Ok(Response::new(response(result?)))
    }
}

/// Runs one parsed command for `principal`, received at `received`.
pub(crate) async fn execute(
    engine: &Engine,
    principal: &Principal,
    parsed: ParsedCommand,
    received: Instant,
) -> Result<Outcome, ApiError> {
    let request = engine::Request {
        command_id: Some(parsed.command_id),
        occurred_at: parsed.occurred_at,
        command: parsed.command,
        received,
    };
    Ok(engine.execute(principal, request).await?)
}

/// Counts a command's outcome (refusals of malformed requests included) and its time.
fn record(name: &'static str, result: &Result<Outcome, ApiError>, started: Instant) {
    let code = match result {
        Ok(_) => "OK",
        Err(err) => err.code().as_str(),
    };
    crate::ops::metrics::COMMANDS.record(name, code, started.elapsed());
}

pub(crate) fn response(outcome: Outcome) -> pb::CommandResponse {
    pb::CommandResponse {
        command_id: outcome.command_id.to_string(),
        events: outcome.events.iter().map(|e| (*e).to_owned()).collect(),
        position: outcome.position,
        duplicate: outcome.duplicate,
        aggregate_id: outcome.answer_id,
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
                    self.unary(stringify!($request).trim_end_matches("Request"), request).await
                }
            )*

            type ExecuteStream = ExecuteStream;

            /// Commands are carried out in the order they arrive: a command sees what
            /// the commands before it did, and the log holds them in stream order
            /// (which the read models' event time depends on, docs/STATISTICS.md, Time).
            /// What has arrived by the time the previous commands are done is appended as
            /// one atomic batch (`Engine::execute_batch`). The caller is authenticated
            /// when the stream opens and again before each batch, as the log is then:
            /// a revoked or expired token or a deactivated agent ends the stream
            /// `UNAUTHENTICATED`, a changed role applies to the next batch.
            async fn execute(
                &self,
                request: Request<Streaming<pb::ExecuteRequest>>,
            ) -> Result<Response<ExecuteStream>, Status> {
                let principal = caller(&request)?.principal;
                let slot = self.access.open_stream(&principal)?;
                let caller = StreamCaller {
                    _slot: slot,
                    access: self.access.clone(),
                    headers: request.metadata().clone().into_headers(),
                    principal,
                };
                let requests = request.into_inner();
                let (tx, rx) = mpsc::channel(EXECUTE_BUFFER);
                tokio::spawn(run_stream(
                    self.engine.clone(),
                    caller,
                    requests,
                    tx,
                    self.shutdown.clone(),
                ));
                Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
            }
        }
    };
}

/// Who sends the commands of an `Execute` stream, and how to check them again.
struct StreamCaller {
    /// Counted among the caller's open streams while the stream runs.
    _slot: StreamSlot,
    access: Arc<Access>,
    headers: tonic::codegen::http::HeaderMap,
    principal: Principal,
}

/// Runs the commands of one `Execute` stream and answers each, in order.
async fn run_stream(
    engine: Arc<Engine>,
    mut caller: StreamCaller,
    requests: Streaming<pb::ExecuteRequest>,
    tx: mpsc::Sender<Result<pb::ExecuteResponse, Status>>,
    shutdown: CancellationToken,
) {
    let (reader, mut arrived, broken) = read_ahead(requests);
    let _stop_reading = reader.drop_guard();
    let mut index = 0u64;
    loop {
        let next = tokio::select! {
            // The client went away: stop taking its commands.
            _ = tx.closed() => return,
            // The process stops: the commands answered so far stand; the client sees
            // the stream end and can send the rest again (same command ids) elsewhere.
            _ = shutdown.cancelled() => return,
            next = arrived.recv() => next,
        };
        let Some(first) = next else {
            // Every command that arrived is answered; a stream that broke off on a
            // message it could not read says so last, instead of ending as if complete.
            let broken = broken.lock().expect("stream lock").take();
            if let Some(status) = broken {
                let _ = tx.send(Err(status)).await;
            }
            return;
        };
        // What has arrived by now goes as one batch (an import's burst); a client that
        // waits for each answer sends batches of one.
        let mut arrivals = vec![first];
        while arrivals.len() < EXECUTE_BATCH {
            match arrived.try_recv() {
                Ok(arrival) => arrivals.push(arrival),
                Err(_) => break,
            }
        }
        let started = Instant::now();
        // The caller as the log says now: what was revoked, expired or deactivated while
        // the stream was open ends it; a new role applies from this batch on.
        match caller
            .access
            .authenticate(&caller.headers, Reading::AsOf(started))
            .await
        {
            Ok(principal) => caller.principal = principal,
            Err(err) => {
                let _ = tx.send(Err(ApiError::from(err).into())).await;
                return;
            }
        }
        let principal = &caller.principal;
        let mut answers: Vec<(&'static str, Option<Result<Outcome, ApiError>>)> =
            Vec::with_capacity(arrivals.len());
        let mut batch = Vec::with_capacity(arrivals.len());
        // The requests' share of the read-ahead budget is given back once the batch is
        // answered, not before: what is decided stays counted.
        let mut _read_ahead = Vec::with_capacity(arrivals.len());
        // Every command counts against the caller's rate limit (the stream waits while it
        // is spent), but an import's: a command with its own time from a caller with
        // system.import (who may act as anyone already; imports run at thousands a
        // second). A batch counts once at least.
        let mut counted = 0usize;
        for Arrival {
            received,
            message,
            bytes,
        } in arrivals
        {
            _read_ahead.push(bytes);
            match message.into_command(principal.agent) {
                Ok(parsed) => {
                    let import =
                        parsed.occurred_at.is_some() && principal.has(Permission::SystemImport);
                    counted += usize::from(!import);
                    answers.push((parsed.command.name(), None));
                    batch.push(engine::Request {
                        command_id: Some(parsed.command_id),
                        occurred_at: parsed.occurred_at,
                        command: parsed.command,
                        received,
                    });
                }
                Err(err) => {
                    counted += 1;
                    answers.push(("Execute", Some(Err(err))));
                }
            }
        }
        for _ in 0..counted.max(1) {
            tokio::select! {
                _ = tx.closed() => return,
                _ = shutdown.cancelled() => return,
                _ = caller.access.admit_streamed(principal) => {}
            }
        }
        let mut outcomes = engine.execute_batch(principal, batch).await.into_iter();
        for (name, answer) in answers {
            let result = answer.unwrap_or_else(|| {
                outcomes
                    .next()
                    .expect("one outcome per command")
                    .map_err(ApiError::from)
            });
            record(name, &result, started);
            let reply = match result {
                Ok(outcome) => pb::ExecuteResponse {
                    index,
                    result: Some(pb::execute_response::Result::Response(response(outcome))),
                },
                Err(err) => err.to_execute_response(index),
            };
            if tx.send(Ok(reply)).await.is_err() {
                return;
            }
            index += 1;
        }
    }
}

/// The status an `Execute` stream broke off with, for its last answer.
type BrokenOff = Arc<std::sync::Mutex<Option<Status>>>;

/// A request read ahead: when it arrived, and its share of [`READ_AHEAD_BYTES`], given
/// back when it is dropped.
struct Arrival {
    received: Instant,
    message: pb::ExecuteRequest,
    bytes: OwnedSemaphorePermit,
}

/// Reads an `Execute` stream's requests as they arrive, up to [`EXECUTE_BUFFER`] requests
/// and [`READ_AHEAD_BYTES`] ahead of the commands carried out, each with the instant it
/// arrived. A command sees what the log acknowledged before it arrived
/// (`engine::Request::received`), so the commands of a burst share one look at the log's
/// end instead of each asking for its own.
fn read_ahead(
    mut requests: Streaming<pb::ExecuteRequest>,
) -> (CancellationToken, mpsc::Receiver<Arrival>, BrokenOff) {
    let (ahead, arrived) = mpsc::channel(EXECUTE_BUFFER);
    let budget = Arc::new(Semaphore::new(READ_AHEAD_BYTES));
    let stop = CancellationToken::new();
    let stopped = stop.clone();
    let broken = Arc::new(std::sync::Mutex::new(None));
    let broke = broken.clone();
    tokio::spawn(async move {
        loop {
            let next = tokio::select! {
                _ = stopped.cancelled() => return,
                next = requests.message() => next,
            };
            match next {
                Ok(Some(message)) => {
                    let received = Instant::now();
                    // Nothing more is read from the client (HTTP/2 flow control holds
                    // it back) until the commands before have made room.
                    let size = message.encoded_len().clamp(1, READ_AHEAD_BYTES) as u32;
                    let bytes = tokio::select! {
                        _ = stopped.cancelled() => return,
                        bytes = budget.clone().acquire_many_owned(size) => {
                            bytes.expect("the budget is never closed")
                        }
                    };
                    let arrival = Arrival {
                        received,
                        message,
                        bytes,
                    };
                    if ahead.send(arrival).await.is_err() {
                        return;
                    }
                }
                Ok(None) => return,
                Err(status) => {
                    tracing::debug!("Execute stream ended with {status}");
                    // A message that does not decode or is too large: the client's to
                    // fix. A stream cut off by the client's side ends as it is.
                    if let Some(status) = crate::ops::grpc::codec_status_for_clients(&status) {
                        *broke.lock().expect("stream lock") = Some(status);
                    }
                    return;
                }
            }
        }
    });
    (stop, arrived, broken)
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
    update_routing_rule(UpdateRoutingRuleRequest),
    define_role(DefineRoleRequest),
    update_role(UpdateRoleRequest),
    remove_role(RemoveRoleRequest),
    set_organization_settings(SetOrganizationSettingsRequest),
}
