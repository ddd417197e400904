//! Who is calling, for every service of a process: one layer in front of them reads the
//! request's bearer token, finds its principal in the log, takes one request from the
//! principal's rate limit and puts the [`Caller`] in the request. A handler takes it
//! with [`caller`]; it never sees a request that was not let in.
//!
//! Commands and administration are authorized by what the log says when the request
//! arrives (a revocation counts at once); queries by what it said within the last
//! [`tokens::QUERY_AUTH_TTL`] (docs/SECURITY.md).

pub mod address;
pub mod rate_limit;
pub mod tokens;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt as _};
use helpdesk_api::ApiError;
use helpdesk_domain::{Actor, Permission, Principal};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::codegen::http;

use crate::command::engine::Engine;
use crate::ops::security::LimitArgs;
use address::{client_address, AddressLimit};
use rate_limit::RateLimiter;
use tokens::{AuthError, RecentPrincipals};

/// The authenticated caller of a request, and when the request arrived.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    /// Commands are decided on the log as of this instant.
    pub arrived: Instant,
}

/// The caller [`AccessLayer`] put in `request`.
pub fn caller<T>(request: &tonic::Request<T>) -> Result<Caller, ApiError> {
    request
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| {
            // A service served without the layer: a mistake of this program's, not the caller's.
            ApiError::internal("the request did not pass authentication")
        })
}

/// The caller of `request` if they hold `permission`; `PERMISSION_DENIED` naming it
/// otherwise.
pub fn permitted<T>(
    request: &tonic::Request<T>,
    permission: Permission,
) -> Result<Principal, ApiError> {
    let principal = caller(request)?.principal;
    if !principal.has(permission) {
        return Err(ApiError::permission_denied(format!(
            "this needs the permission {}",
            permission.as_str()
        )));
    }
    Ok(principal)
}

/// For [`Access::while_allowed`]: whoever the caller is now must hold every permission
/// `opened` held when the stream opened (what the stream shows was chosen by them).
pub fn keeps_permissions_of(opened: &Principal) -> impl Fn(&Principal) -> Result<(), ApiError> {
    let opened = opened.permissions;
    move |now: &Principal| match opened.iter().find(|p| !now.permissions.contains(*p)) {
        None => Ok(()),
        Some(lost) => Err(ApiError::permission_denied(format!(
            "the caller no longer has the permission {} this stream was opened with: open \
             it again",
            lost.as_str()
        ))),
    }
}

/// Authentication and rate limits, shared by every service of a process.
pub struct Access {
    /// Reads tokens, agents and roles from the log (through its cache of aggregates).
    engine: Arc<Engine>,
    limiter: RateLimiter,
    /// Before authentication: requests per client address with tokens not seen lately.
    address: AddressLimit,
    recent: RecentPrincipals,
    /// Streams (`Execute`, watches) each principal has open, at most `max_streams`.
    streams: std::sync::Mutex<std::collections::HashMap<Actor, u32>>,
    max_streams: u32,
}

/// One open stream of a principal, counted until it is dropped.
pub struct StreamSlot {
    access: Arc<Access>,
    actor: Actor,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut streams = self.access.streams.lock().expect("streams lock");
        if let Some(open) = streams.get_mut(&self.actor) {
            *open -= 1;
            if *open == 0 {
                streams.remove(&self.actor);
            }
        }
    }
}

/// How often an open watch stream checks that its caller may still watch: a revocation,
/// an expiry, a deactivation or a role change ends it within this (docs/SECURITY.md).
pub const STREAM_RECHECK: Duration = Duration::from_secs(5);

/// How fresh a caller's authorization must be.
#[derive(Debug, Clone, Copy)]
pub enum Reading {
    /// As the log is when the request arrived: commands, administration.
    AsOf(Instant),
    /// As the log was within the last second: queries.
    Recent,
}

impl Access {
    /// Authenticates on `engine`'s view of the log, within `limits` (requests and
    /// streams per principal, requests with new tokens per address).
    pub fn new(engine: Arc<Engine>, limits: &LimitArgs) -> Self {
        Access {
            engine,
            limiter: RateLimiter::new(limits.rate_limit),
            address: AddressLimit::new(limits.address.unverified_per_address),
            recent: RecentPrincipals::default(),
            streams: Default::default(),
            max_streams: limits.max_streams_per_caller,
        }
    }

    /// Counts a stream `principal` opens; `RESOURCE_EXHAUSTED` when they already hold
    /// as many as a principal may. The stream is counted until the slot is dropped.
    pub fn open_stream(self: &Arc<Self>, principal: &Principal) -> Result<StreamSlot, ApiError> {
        let mut streams = self.streams.lock().expect("streams lock");
        let open = streams.entry(principal.actor).or_default();
        if *open >= self.max_streams {
            return Err(ApiError::resource_exhausted(format!(
                "this caller already has {} streams open, the most one may have: close one \
                 (or finish it) before opening another",
                self.max_streams
            )));
        }
        *open += 1;
        Ok(StreamSlot {
            access: self.clone(),
            actor: principal.actor,
        })
    }

    /// Takes one command of an `Execute` stream from `principal`'s rate limit, waiting
    /// while it is spent: a stream slows down to the rate instead of failing.
    pub async fn admit_streamed(&self, principal: &Principal) {
        self.limiter.until_allowed(principal.actor).await;
    }

    /// The principal behind `headers`, read as fresh as `reading` says.
    pub async fn authenticate(
        &self,
        headers: &http::HeaderMap,
        reading: Reading,
    ) -> Result<Principal, AuthError> {
        let principal = match reading {
            Reading::AsOf(arrived) => tokens::principal_as_of(&self.engine, headers, arrived).await,
            Reading::Recent => self.recent.principal(&self.engine, headers).await,
        };
        if let Err(err) = &principal {
            if !matches!(err, AuthError::Exec(_)) {
                // The caller hears one message; the log says which token and why.
                tracing::warn!(
                    token = %tokens::token_label(headers),
                    reason = ?err,
                    "authentication failed"
                );
            }
        }
        principal
    }

    /// Takes one request of `principal` from their rate limit.
    pub fn admit(&self, principal: &Principal) -> Result<(), AuthError> {
        if self.limiter.allow(principal.actor) {
            Ok(())
        } else {
            Err(AuthError::RateLimited)
        }
    }

    /// The principal behind `headers`, read as fresh as `reading` says, within their rate
    /// limit (each call takes one request from it).
    pub async fn principal(
        &self,
        headers: &http::HeaderMap,
        reading: Reading,
    ) -> Result<Principal, AuthError> {
        let principal = self.authenticate(headers, reading).await?;
        self.admit(&principal)?;
        Ok(principal)
    }

    /// `stream`, ended with the status of why once its caller may no longer have it,
    /// counted in `slot` among its caller's open streams until it ends.
    /// Every [`STREAM_RECHECK`] the caller's token is read again (revoked, expired, its
    /// agent deactivated: `UNAUTHENTICATED`) and `still_may` is asked of whom it stands
    /// for now (a role without the permission: `PERMISSION_DENIED`).
    pub fn while_allowed<T: Send + 'static>(
        self: &Arc<Self>,
        slot: StreamSlot,
        headers: http::HeaderMap,
        still_may: impl Fn(&Principal) -> Result<(), ApiError> + Send + 'static,
        stream: impl Stream<Item = Result<T, tonic::Status>> + Send + 'static,
    ) -> ReceiverStream<Result<T, tonic::Status>> {
        let access = self.clone();
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(async move {
            // Counted among the caller's open streams until this task ends.
            let _slot = slot;
            let mut stream = std::pin::pin!(stream);
            let mut recheck = tokio::time::interval(STREAM_RECHECK);
            recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // The first tick is now, and the layer has just let the caller in.
            recheck.tick().await;
            loop {
                tokio::select! {
                    _ = tx.closed() => return,
                    _ = recheck.tick() => {
                        let allowed = match access.authenticate(&headers, Reading::Recent).await {
                            Ok(principal) => still_may(&principal),
                            Err(err) => Err(ApiError::from(err)),
                        };
                        if let Err(err) = allowed {
                            let _ = tx.send(Err(err.into())).await;
                            return;
                        }
                    }
                    item = stream.next() => match item {
                        Some(item) => {
                            if tx.send(item).await.is_err() {
                                return;
                            }
                        }
                        None => return,
                    },
                }
            }
        });
        ReceiverStream::new(rx)
    }

    /// The layer that authenticates every request of this API before its service.
    pub fn layer(self: &Arc<Self>) -> AccessLayer {
        AccessLayer {
            access: self.clone(),
        }
    }
}

/// How a request to `path` (`/package.Service/Method`) is authorized: `None` for the
/// services anyone may ask (health, reflection).
fn reading_for(path: &str, arrived: Instant) -> Option<Reading> {
    let service = path.trim_start_matches('/').split('/').next().unwrap_or("");
    match service {
        // The configuration reads answer as the log is when they arrive: so is who asks.
        "helpdesk.v1.CommandService" | "helpdesk.v1.AdminService" | "helpdesk.v1.ConfigService" => {
            Some(Reading::AsOf(arrived))
        }
        service if service.starts_with("helpdesk.") => Some(Reading::Recent),
        _ => None,
    }
}

/// Puts the [`Caller`] in each request of this API (see the module docs), or answers it
/// with the status of why not.
#[derive(Clone)]
pub struct AccessLayer {
    access: Arc<Access>,
}

impl<S> tower::Layer<S> for AccessLayer {
    type Service = AccessService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AccessService {
            inner,
            access: self.access.clone(),
        }
    }
}

/// [`AccessLayer`] around a service.
#[derive(Clone)]
pub struct AccessService<S> {
    inner: S,
    access: Arc<Access>,
}

impl<S, B> tower::Service<http::Request<B>> for AccessService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let arrived = Instant::now();
        // The service polled ready is the one that takes the request; a clone of it
        // stays for the next one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let Some(reading) = reading_for(request.uri().path(), arrived) else {
            return Box::pin(inner.call(request));
        };
        let access = self.access.clone();
        Box::pin(async move {
            if let Err(err) = access
                .address
                .admit(client_address(&request), request.headers())
            {
                return Ok(tonic::Status::from(ApiError::from(err)).into_http());
            }
            match access.principal(request.headers(), reading).await {
                Ok(principal) => {
                    access.address.verified(request.headers());
                    request
                        .extensions_mut()
                        .insert(Caller { principal, arrived });
                    inner.call(request).await
                }
                Err(err) => Ok(tonic::Status::from(ApiError::from(err)).into_http()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_and_reflection_need_no_token() {
        let now = Instant::now();
        assert!(reading_for("/grpc.health.v1.Health/Check", now).is_none());
        assert!(reading_for(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            now
        )
        .is_none());
        assert!(matches!(
            reading_for("/helpdesk.v1.CommandService/CreateTicket", now),
            Some(Reading::AsOf(_))
        ));
        assert!(matches!(
            reading_for("/helpdesk.v1.AdminService/ListTokens", now),
            Some(Reading::AsOf(_))
        ));
        assert!(matches!(
            reading_for("/helpdesk.v1.ConfigService/ListRoles", now),
            Some(Reading::AsOf(_))
        ));
        assert!(matches!(
            reading_for("/helpdesk.v1.LevelService/GetLeaderboard", now),
            Some(Reading::Recent)
        ));
    }
}
