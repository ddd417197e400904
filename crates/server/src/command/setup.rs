//! The first start of an organization: its seed, its default levels and its Owner.
//!
//! Every step is an ordinary system command with a fixed command id, so a setup that
//! was interrupted (or raced by a second process) finishes on the next start without
//! doubling anything.
//!
//! The setup is recorded at the Unix epoch, before any history: time in a read model
//! never runs backwards (docs/STATISTICS.md, Time), so a setup stamped "now" would pull
//! every event of a history imported afterwards (`helpdesk simulate`, a backfill) up to the
//! setup's time. The default levels are thereby in force from the beginning, as defaults
//! should be.

use std::time::Instant;

use helpdesk_domain::{
    command::{DefineLevel, IssueToken, RegisterAgent, RevokeToken, SetUpOrganization},
    AgentId, Command, LevelId, Role, Timestamp, TokenId, TokenSubject,
};
use rand::RngCore;
use uuid::Uuid;

use crate::access::tokens::{new_token, token_hash};
use crate::command::engine::{Engine, ExecError, Freshness, Request};

/// The namespace of the setup's derived ids (a v4 uuid fixed forever).
const SETUP: Uuid = Uuid::from_u128(0x6d1f_7c52_8a4e_4c1b_9a07_3f0e_52d4_b7a1);

/// What the start-up should tell the operator.
#[derive(Debug)]
pub enum OwnerToken {
    /// A token was made for the Owner now; it is shown this once.
    Created(String),
    /// The operator's token (`--owner-token`) was registered for the Owner.
    Registered,
    /// The organization already had its Owner token.
    Existing,
}

/// Sets the organization up if it is not yet, and makes sure its Owner has a token.
pub async fn ensure(engine: &Engine, owner_token: Option<&str>) -> Result<OwnerToken, ExecError> {
    let config = engine.load_config(Freshness::now()).await?;
    if !config.is_set_up() {
        let mut seed = [0u8; 32];
        rand::rng().fill_bytes(&mut seed);
        run(
            engine,
            "organization",
            Command::SetUpOrganization(SetUpOrganization {
                seed,
                time_zone: "UTC".into(),
            }),
        )
        .await?;
        for level in helpdesk_rules::defaults::LEVELS {
            let key = format!("level-{}", level.rank);
            run(
                engine,
                &key,
                Command::DefineLevel(DefineLevel {
                    level_id: LevelId::from_uuid(Uuid::new_v5(&SETUP, key.as_bytes())),
                    rank: Some(level.rank),
                    name: level.name.into(),
                    description: level.message.into(),
                    condition: level.condition.into(),
                }),
            )
            .await?;
        }
        tracing::info!("organization set up with the default levels");
    }

    let config = engine.load_config(Freshness::now()).await?;
    let owner = AgentId::from_uuid(Uuid::new_v5(&SETUP, b"owner"));
    if config.has_agent_token(owner) {
        if owner_token.is_some() {
            tracing::warn!(
                "--owner-token / HELPDESK_OWNER_TOKEN is ignored: the Owner already has a token"
            );
        }
        return Ok(OwnerToken::Existing);
    }
    run(
        engine,
        "owner",
        Command::RegisterAgent(RegisterAgent {
            agent_id: owner,
            name: "Owner".into(),
            email: "owner@localhost".into(),
            role: Role::Owner,
        }),
    )
    .await?;
    let (token, outcome) = match owner_token {
        Some(token) => (token.to_owned(), OwnerToken::Registered),
        None => {
            let token = new_token();
            (token.clone(), OwnerToken::Created(token))
        }
    };
    // The token's command id depends on its hash: a second process racing this one with
    // another token cannot overwrite it, and a rerun with the same token is a duplicate.
    let hash = token_hash(&token);
    engine
        .execute_as_system(Request {
            command_id: Some(Uuid::new_v5(&SETUP, &hash)),
            occurred_at: Some(Timestamp::EPOCH),
            command: Command::IssueToken(IssueToken {
                token_id: TokenId::from_uuid(Uuid::new_v5(&SETUP, b"owner-token")),
                hash,
                subject: TokenSubject::Agent(owner),
                expires_at: None,
            }),
            received: Instant::now(),
        })
        .await?;
    tracing::info!(agent = %owner, "the Owner has a token");
    Ok(outcome)
}

/// The shortest token an operator may choose for the Owner: a shorter one could be
/// guessed (generated tokens carry about 238 random bits).
pub const OWNER_TOKEN_MIN_CHARS: usize = 32;

/// Checks an operator's `--owner-token`: long enough to be a secret, and sendable as
/// `authorization: Bearer <token>`.
pub fn parse_owner_token(token: &str) -> Result<String, String> {
    let chars = token.chars().count();
    if chars < OWNER_TOKEN_MIN_CHARS {
        return Err(format!(
            "{chars} characters are too few for a secret: give at least \
             {OWNER_TOKEN_MIN_CHARS} (e.g. `hd_$(openssl rand -hex 24)`), or leave the option \
             out to have one generated"
        ));
    }
    if chars > 256 || !token.chars().all(|c| c.is_ascii_graphic()) {
        return Err("a token is at most 256 printable ASCII characters, without spaces".to_owned());
    }
    Ok(token.to_owned())
}

/// Revokes every token of the Owner and issues a new one, returned to be shown once:
/// the way back for an operator who lost the Owner's token. It needs the server's data
/// (its event log), not a token. Recorded at the time the log has reached, so that it
/// moves no time forward (a history may still be imported into a new organization).
pub async fn reset_owner_token(engine: &Engine) -> Result<String, ExecError> {
    let config = engine.load_config(Freshness::now()).await?;
    if !config.is_set_up() {
        return Err(ExecError::Domain(helpdesk_domain::DomainError::failed(
            "the organization is not set up yet: its first start makes the Owner's token",
        )));
    }
    let owner = AgentId::from_uuid(Uuid::new_v5(&SETUP, b"owner"));
    let at = engine
        .log_time(Instant::now())
        .await?
        .unwrap_or(Timestamp::EPOCH);
    let system = |command| Request {
        command_id: Some(Uuid::now_v7()),
        occurred_at: Some(at),
        command,
        received: Instant::now(),
    };
    let owned: Vec<TokenId> = config
        .tokens()
        .filter(|t| !t.revoked && t.subject == TokenSubject::Agent(owner))
        .map(|t| t.token_id)
        .collect();
    for token_id in owned {
        engine
            .execute_as_system(system(Command::RevokeToken(RevokeToken { token_id })))
            .await?;
    }
    let token = new_token();
    engine
        .execute_as_system(system(Command::IssueToken(IssueToken {
            token_id: TokenId::new_v7(),
            hash: token_hash(&token),
            subject: TokenSubject::Agent(owner),
            expires_at: None,
        })))
        .await?;
    tracing::info!(agent = %owner, "the Owner's tokens were revoked and a new one issued");
    Ok(token)
}

async fn run(engine: &Engine, key: &str, command: Command) -> Result<(), ExecError> {
    engine
        .execute_as_system(Request {
            command_id: Some(Uuid::new_v5(&SETUP, key.as_bytes())),
            occurred_at: Some(Timestamp::EPOCH),
            command,
            received: Instant::now(),
        })
        .await?;
    Ok(())
}
