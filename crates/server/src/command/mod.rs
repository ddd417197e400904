//! The command side: a command is authenticated, decided by the domain against the
//! aggregates it reads, and appended; the clock and the policies append the system's own.

pub mod admin;
pub mod clock;
pub mod config;
pub mod engine;
pub mod errors;
pub mod follower;
pub mod operations;
pub mod policies;
pub mod recompute;
pub mod service;
pub mod setup;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use helpdesk_log::EventLog;
use helpdesk_projections::policies::{Policies, PoliciesView};
use helpdesk_projections::{ProjectorConfig, Projectors};

use crate::ops::process::Process;
use engine::Engine;
use setup::OwnerToken;

/// The command side: sets the organization up on its first start (printing the
/// Owner's token once), then runs the clock and the policies.
pub async fn start(
    process: &mut Process,
    engine: &Arc<Engine>,
    log: Arc<dyn EventLog>,
    data_dir: &Path,
    owner_token: Option<&str>,
    tick: Duration,
) -> anyhow::Result<()> {
    engine
        .follow(process.shutdown_token())
        .await
        .context("cannot follow the event log")?;
    let owner = setup::ensure(engine, owner_token)
        .await
        .context("cannot set the organization up")?;
    match owner {
        OwnerToken::Created(token) => {
            println!("owner token: {token}");
            println!(
                "  (shown only this once: keep it, and send it as `authorization: Bearer <token>`)"
            );
        }
        OwnerToken::Registered => println!("owner token: the one given with --owner-token"),
        OwnerToken::Existing => {}
    }
    let mut projector = Projectors::new(log, ProjectorConfig::new(data_dir));
    let policies = PoliciesView::new(projector.add(Policies)?);
    process.run_projectors(projector);
    let shutdown = process.shutdown_token();
    let runner = engine.clone();
    process.spawn(async move {
        policies::run(runner, policies, shutdown).await;
        Ok(())
    });
    let shutdown = process.shutdown_token();
    let clock = engine.clone();
    process.spawn(async move {
        clock::run(clock, tick, shutdown).await;
        Ok(())
    });
    Ok(())
}
