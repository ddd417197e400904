//! `helpdesk owner-token --reset`: the way back for an operator who lost the Owner's
//! token (it is shown only once, on the organization's first start).
//!
//! It needs what only an operator has, the server's data: the embedded log in the data
//! directory (stop the server that uses it first: the log is locked while it runs), or
//! the NATS stream with its credentials. Every token of the Owner is revoked and a new
//! one issued, shown this once.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::command::engine::Engine;
use crate::ops::event_log::LogArgs;

#[derive(Debug, clap::Args)]
pub struct OwnerTokenArgs {
    /// Revoke the Owner's tokens and issue a new one, shown once.
    #[arg(long, required = true)]
    reset: bool,

    /// The data directory of the server (its embedded log, without --nats).
    #[arg(long, env = "HELPDESK_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,

    #[command(flatten)]
    log: LogArgs,
}

pub async fn run(args: OwnerTokenArgs) -> anyhow::Result<()> {
    debug_assert!(args.reset, "clap requires --reset");
    let (log, where_) = args.log.open(&args.data_dir).await?;
    let engine = Engine::new(log);
    let token = crate::command::setup::reset_owner_token(&engine)
        .await
        .with_context(|| format!("cannot reset the Owner's token (event log: {where_})"))?;
    println!("owner token: {token}");
    println!(
        "  (the Owner's earlier tokens are revoked; this one is shown only this once: keep it)"
    );
    Ok(())
}
