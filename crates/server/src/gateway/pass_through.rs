//! The command, admin and configuration services, passed through to the command side as they are: every
//! RPC of theirs, streams included (`Execute`, `WatchOperation`), without the gateway
//! knowing its methods. All go to the first command-side address, so the long operations
//! of `AdminService` (recomputes) are asked of the process that runs them.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use helpdesk_api::ApiError;
use tonic::codegen::http;
use tonic::server::NamedService;
use tonic::transport::Channel;

macro_rules! pass_through {
    ($($name:ident => $service:literal,)*) => {$(
        /// Passes every call of the service to the command side as it is.
        #[derive(Clone)]
        pub struct $name(pub Channel);

        impl NamedService for $name {
            const NAME: &'static str = $service;
        }

        impl tower::Service<http::Request<tonic::body::Body>> for $name {
            type Response = http::Response<tonic::body::Body>;
            type Error = Infallible;
            type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

            fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
                Poll::Ready(Ok(()))
            }

            fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
                let channel = self.0.clone();
                Box::pin(async move {
                    match tower::ServiceExt::oneshot(channel, request).await {
                        Ok(response) => Ok(response),
                        Err(err) => Ok(tonic::Status::from(ApiError::unavailable(format!(
                            "the command service does not answer: {err}; retry with the same command_id"
                        )))
                        .into_http()),
                    }
                })
            }
        }
    )*};
}

pass_through! {
    CommandPassThrough => "helpdesk.v1.CommandService",
    AdminPassThrough => "helpdesk.v1.AdminService",
    ConfigPassThrough => "helpdesk.v1.ConfigService",
}
