//! The gRPC server: the services of this process (commands, administration), health and reflection, one listener.

use std::sync::Arc;

use helpdesk_api::{AdminServiceServer, CommandServiceServer, FILE_DESCRIPTOR_SET};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;

use crate::admin::AdminApi;
use crate::commands::CommandApi;
use crate::engine::Engine;

/// The largest request or response message, in bytes. Ticket bodies are at most 64 KiB;
/// the rest is headroom for routing rules and bulk answers.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Serves the command service, `grpc.health.v1` and reflection (v1 and v1alpha, so that
/// grpcurl and older clients both find it) on `listener` until `shutdown` is cancelled;
/// requests in flight are finished first.
pub async fn serve(
    engine: Arc<Engine>,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let commands = CommandServiceServer::new(CommandApi::new(engine.clone()))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let admin = AdminServiceServer::new(AdminApi::new(engine))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);

    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<CommandServiceServer<CommandApi>>()
        .await;
    health_reporter
        .set_serving::<AdminServiceServer<AdminApi>>()
        .await;

    let reflection_v1 = reflection().build_v1()?;
    let reflection_v1alpha = reflection().build_v1alpha()?;

    tonic::transport::Server::builder()
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(commands)
        .add_service(admin)
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown.cancelled())
        .await?;
    Ok(())
}

/// Reflection knows our API, health, and `google.rpc` (so that clients can decode the
/// `BadRequest` details of an `INVALID_ARGUMENT`).
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
}
