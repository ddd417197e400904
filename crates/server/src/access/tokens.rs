//! Tokens: how they are made and stored, and `authorization: Bearer <token>` to a
//! [`Principal`] as the log says.
//!
//! Tokens are random secrets; the log keeps only their SHA-256, so a copy of the log
//! grants no access. A token names an agent (who acts with their role's permissions) or
//! an integration account with a role of its own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use helpdesk_domain::{self as domain, Actor, Principal, Timestamp, TokenSubject};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tonic::codegen::http::HeaderMap;

use crate::command::engine::{Engine, ExecError, Freshness};

/// Every token starts with this, so a leaked one is easy to find in a repository scan.
const TOKEN_PREFIX: &str = "hd_";

/// A new random token: `hd_` and 40 characters of base 62 (238 bits).
pub fn new_token() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rng();
    let mut token = String::from(TOKEN_PREFIX);
    while token.len() < TOKEN_PREFIX.len() + 40 {
        let byte = (rng.next_u32() & 0xff) as u8;
        // 248 = 4 × 62: rejecting the rest keeps every character equally likely.
        if byte < 248 {
            token.push(ALPHABET[(byte % 62) as usize] as char);
        }
    }
    token
}

/// What the log stores of a token.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// What a caller whose token is unknown, revoked, expired, or whose agent is
/// deactivated, is told.
const NOT_LET_IN: &str =
    "the token is unknown, revoked or expired, or its agent is deactivated: ask for a new one";

/// The first 8 hex digits of the token's hash in `headers`, to name a token in logs
/// without its secret; `-` without one.
pub fn token_label(headers: &HeaderMap) -> String {
    match bearer_token(headers) {
        Ok(token) => token_hash(token)[..4]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect(),
        Err(_) => "-".into(),
    }
}

/// Why a request is not authenticated.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no credentials: send the metadata `authorization: Bearer <token>`")]
    Missing,
    #[error("the authorization metadata must be `Bearer <token>`")]
    Malformed,
    // One answer for a token that does not let its caller in, whatever the reason: a
    // caller with a stolen or guessed token learns nothing of it (the log says which).
    #[error("{}", NOT_LET_IN)]
    Unknown,
    #[error("{}", NOT_LET_IN)]
    Deactivated,
    #[error("{}", NOT_LET_IN)]
    Expired(helpdesk_domain::Timestamp),
    #[error("too many requests from this caller: slow down and retry")]
    RateLimited,
    #[error(
        "too many requests with tokens not seen lately from this address: slow down and retry \
         (are the tokens right?)"
    )]
    UnverifiedFlood,
    #[error(transparent)]
    Exec(#[from] ExecError),
}

/// How long a query may be authorized by what the log said of its token earlier: a
/// revocation, a deactivation or a role change reaches queries within this, commands at
/// once (docs/SECURITY.md).
pub const QUERY_AUTH_TTL: Duration = Duration::from_secs(1);
/// How many tokens the query cache remembers; beyond it, it starts again empty.
const QUERY_CACHE_TOKENS: usize = 10_000;

/// Principals of recent queries by token hash, with the token's expiry and when the log
/// was read. Without it every query reads the configuration and the caller's agent from
/// the log: two NATS requests a query, which is what limits query rates (docs/PERFORMANCE.md).
#[derive(Debug, Default)]
pub struct RecentPrincipals {
    known: Mutex<HashMap<[u8; 32], Remembered>>,
}

/// What the log said of a token (a principal and its token's expiry, or why it lets
/// nobody in), and when the log was read.
type Remembered = (Result<(Principal, Option<Timestamp>), Refusal>, Instant);

/// Why a token lets nobody in, remembered like a principal: a flood of queries with the
/// same bad token reads the log once a [`QUERY_AUTH_TTL`].
#[derive(Debug, Clone, Copy)]
enum Refusal {
    Unknown,
    Deactivated,
    Expired(Timestamp),
}

impl From<Refusal> for AuthError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Unknown => AuthError::Unknown,
            Refusal::Deactivated => AuthError::Deactivated,
            Refusal::Expired(at) => AuthError::Expired(at),
        }
    }
}

/// The principal behind `headers` as the log said when the request arrived (everything
/// acknowledged before `arrived` counts): for commands and administration, whose
/// decisions then read the log as of the same instant.
pub async fn principal_as_of(
    engine: &Engine,
    headers: &HeaderMap,
    arrived: Instant,
) -> Result<Principal, AuthError> {
    Ok(principal_of(engine, headers, Freshness::AsOf(arrived))
        .await?
        .0)
}

impl RecentPrincipals {
    /// The principal behind `headers` from what the log said of the token within
    /// [`QUERY_AUTH_TTL`]: for queries. An expiry is still checked against the clock
    /// every time.
    pub async fn principal(
        &self,
        engine: &Engine,
        headers: &HeaderMap,
    ) -> Result<Principal, AuthError> {
        let hash = token_hash(bearer_token(headers)?);
        let remembered = self
            .known
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&hash)
            .filter(|(_, read_at)| read_at.elapsed() < QUERY_AUTH_TTL)
            .cloned();
        let said = match remembered {
            Some((said, _)) => said,
            None => {
                let said = match principal_of(engine, headers, Freshness::now()).await {
                    Ok(found) => Ok(found),
                    Err(AuthError::Unknown) => Err(Refusal::Unknown),
                    Err(AuthError::Deactivated) => Err(Refusal::Deactivated),
                    Err(AuthError::Expired(at)) => Err(Refusal::Expired(at)),
                    // Not the token's fault (the log did not answer): not remembered.
                    Err(err) => return Err(err),
                };
                let mut known = self
                    .known
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                if known.len() >= QUERY_CACHE_TOKENS {
                    known.clear();
                }
                known.insert(hash, (said.clone(), Instant::now()));
                said
            }
        };
        let (principal, expires_at) = said?;
        check_expiry(expires_at)?;
        Ok(principal)
    }
}

/// The hash of the token in `headers`, if there is one.
pub fn bearer_hash(headers: &HeaderMap) -> Option<[u8; 32]> {
    bearer_token(headers).ok().map(token_hash)
}

/// The token of `authorization: Bearer <token>`.
fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let value = headers.get("authorization").ok_or(AuthError::Missing)?;
    let value = value.to_str().map_err(|_| AuthError::Malformed)?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::Malformed)
}

fn check_expiry(expires_at: Option<Timestamp>) -> Result<(), AuthError> {
    match expires_at {
        Some(expires_at) if expires_at <= crate::command::engine::wall_clock() => {
            Err(AuthError::Expired(expires_at))
        }
        _ => Ok(()),
    }
}

/// The principal behind `headers`, as fresh as asked, and when the token expires.
async fn principal_of(
    engine: &Engine,
    headers: &HeaderMap,
    freshness: Freshness,
) -> Result<(Principal, Option<Timestamp>), AuthError> {
    let token = bearer_token(headers)?;
    let config = engine.load_config(freshness).await?;
    let token = config
        .token_by_hash(&token_hash(token))
        .ok_or(AuthError::Unknown)?;
    check_expiry(token.expires_at)?;
    let principal = match &token.subject {
        TokenSubject::Agent(agent_id) => {
            let agent = engine.load_agent(*agent_id, freshness).await?;
            if !agent.exists() {
                return Err(AuthError::Unknown);
            }
            if agent.is_deactivated() {
                return Err(AuthError::Deactivated);
            }
            let role = agent.role().clone();
            Principal {
                actor: Actor::Agent(*agent_id),
                agent: Some(*agent_id),
                permissions: domain::permissions_for(&role, &config),
                role,
            }
        }
        TokenSubject::Integration { role, .. } => Principal {
            actor: Actor::Integration(token.token_id),
            agent: None,
            permissions: domain::permissions_for(role, &config),
            role: role.clone(),
        },
    };
    Ok((principal, token.expires_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hashed() {
        let a = new_token();
        let b = new_token();
        assert!(a.starts_with("hd_") && a.len() == 43, "{a}");
        assert!(a[3..].bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
