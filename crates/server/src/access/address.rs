//! Before authentication: a limit per client address on requests whose token has not
//! proved good lately. Authenticating a token the process has not seen reads the log;
//! without this, a client sending made-up tokens (each one new) makes the process read
//! the log for every request, and through a gateway, once per replica.
//!
//! A token that authenticated within [`VERIFIED_FOR`] passes without counting, so that
//! the people and integrations behind one address (a gateway, an office's NAT) are not
//! held back by a neighbour guessing tokens; every request is still authenticated in
//! full after this.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use helpdesk_api::ApiError;
use tonic::codegen::http;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};

use super::rate_limit::RateLimiter;
use super::tokens::{bearer_hash, AuthError};

/// How long a token that authenticated passes the address limit without counting.
pub const VERIFIED_FOR: Duration = Duration::from_secs(60);
/// Tokens remembered as verified before the list starts again.
const VERIFIED_KEPT: usize = 100_000;

/// The limit per address, and the tokens that proved good lately.
#[derive(Debug)]
pub struct AddressLimit {
    unverified: RateLimiter<IpAddr>,
    verified: Mutex<HashMap<[u8; 32], Instant>>,
}

impl AddressLimit {
    /// `per_second` requests with a token not verified lately per address (bursts of
    /// twice that); 0: no limit.
    pub fn new(per_second: u32) -> Self {
        AddressLimit {
            unverified: RateLimiter::new(per_second),
            verified: Mutex::default(),
        }
    }

    /// Whether a request from `address` carrying `headers` may go on to authentication:
    /// yes when its token proved good lately, otherwise when the address has requests
    /// left.
    pub fn admit(
        &self,
        address: Option<IpAddr>,
        headers: &http::HeaderMap,
    ) -> Result<(), AuthError> {
        let Some(address) = address else {
            return Ok(());
        };
        if let Some(hash) = bearer_hash(headers) {
            let verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
            if verified
                .get(&hash)
                .is_some_and(|at| at.elapsed() < VERIFIED_FOR)
            {
                return Ok(());
            }
        }
        if self.unverified.allow(address) {
            Ok(())
        } else {
            Err(AuthError::UnverifiedFlood)
        }
    }

    /// Remembers that the token in `headers` authenticated.
    pub fn verified(&self, headers: &http::HeaderMap) {
        let Some(hash) = bearer_hash(headers) else {
            return;
        };
        let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if verified.len() >= VERIFIED_KEPT {
            verified.clear();
        }
        verified.insert(hash, Instant::now());
    }
}

/// The address of the client that sent `request`, as tonic's server records it (over
/// TLS or not); for IPv6, its /64.
pub fn client_address<B>(request: &http::Request<B>) -> Option<IpAddr> {
    let extensions = request.extensions();
    extensions
        .get::<TcpConnectInfo>()
        .or_else(|| {
            extensions
                .get::<TlsConnectInfo<TcpConnectInfo>>()
                .map(TlsConnectInfo::get_ref)
        })
        .and_then(TcpConnectInfo::remote_addr)
        .map(|address| match address.ip() {
            // One IPv6 host holds a whole /64: it counts as one address.
            IpAddr::V6(v6) => {
                let mut octets = v6.octets();
                octets[8..].fill(0);
                IpAddr::from(octets)
            }
            v4 => v4,
        })
}

/// The gateway's layer: the gateway does not authenticate (the servers behind it do),
/// so a token counts as verified when a request with it was answered (not refused).
#[derive(Clone)]
pub struct AddressLayer {
    limit: Arc<AddressLimit>,
}

impl AddressLayer {
    pub fn new(per_second: u32) -> Self {
        AddressLayer {
            limit: Arc::new(AddressLimit::new(per_second)),
        }
    }
}

impl<S> tower::Layer<S> for AddressLayer {
    type Service = AddressService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AddressService {
            inner,
            limit: self.limit.clone(),
        }
    }
}

/// [`AddressLayer`] around a service.
#[derive(Clone)]
pub struct AddressService<S> {
    inner: S,
    limit: Arc<AddressLimit>,
}

impl<S, B> tower::Service<http::Request<B>> for AddressService<S>
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

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        if !request.uri().path().starts_with("/helpdesk.") {
            // Health and reflection: no token.
            return Box::pin(inner.call(request));
        }
        let limit = self.limit.clone();
        Box::pin(async move {
            if let Err(err) = limit.admit(client_address(&request), request.headers()) {
                return Ok(tonic::Status::from(ApiError::from(err)).into_http());
            }
            let headers = request.headers().clone();
            let response = inner.call(request).await?;
            // An error comes in the headers (a trailers-only response), whoever made it
            // (the gateway itself refuses some requests without asking a server): only
            // an answer that started without one, or with OK, got past a server's
            // authentication.
            let answered = response
                .headers()
                .get("grpc-status")
                .is_none_or(|code| code.as_bytes() == b"0");
            if answered {
                limit.verified(&headers);
            }
            Ok(response)
        })
    }
}
