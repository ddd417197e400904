//! The Owner's token, which the organization's first start shows only once: a start that
//! fails changes nothing, an operator with the server's data can get a new token, and a
//! token the operator chooses must be long enough to be a secret.
//!
//! Needs the binary (`cargo build -p helpdesk-server`); `just test` sees to it.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use anyhow::Context as _;
use helpdesk_api::{pb, CommandServiceClient};
use helpdesk_tests::{helpdesk_bin, with_token, Helpdesk};
use tonic::{Code, Request};

const OWNER: &str = "owner-token-test-owner-token-0123456789";

/// Runs `helpdesk` to its end; one that is still running after a minute (a server that
/// started when it should have refused) fails the test.
async fn helpdesk(args: &[&str]) -> anyhow::Result<Output> {
    let run = tokio::process::Command::new(helpdesk_bin())
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("HELPDESK_OWNER_TOKEN")
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .with_context(|| format!("helpdesk {args:?} still runs after a minute"))?
        .context("running helpdesk")
}

/// Whether `token` may create a ticket on `server`, or the status it gets.
async fn create_ticket(server: &Helpdesk, token: &str) -> anyhow::Result<Result<(), Code>> {
    let answer = CommandServiceClient::new(server.channel().await?)
        .create_ticket(with_token(
            Request::new(pb::CreateTicketRequest {
                channel: pb::Channel::Email as i32,
                priority: pb::Priority::Normal as i32,
                subject: "Who am I?".into(),
                ..Default::default()
            }),
            token,
        ))
        .await;
    Ok(answer.map(|_| ()).map_err(|status| status.code()))
}

fn path(dir: &Path) -> &str {
    dir.to_str().expect("a UTF-8 temporary path")
}

#[tokio::test]
async fn a_start_that_cannot_listen_sets_nothing_up() -> anyhow::Result<()> {
    let taken = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = taken.local_addr()?.to_string();
    let data = tempfile::tempdir()?;
    let failed = helpdesk(&["dev", "--data-dir", path(data.path()), "--listen", &port]).await?;
    let stdout = String::from_utf8_lossy(&failed.stdout);
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        !failed.status.success(),
        "started on a taken port: {stdout}"
    );
    assert!(
        stderr.contains(&format!("cannot listen on {port}")),
        "{stderr}"
    );
    assert!(
        !stdout.contains("owner token"),
        "a token shown for nothing: {stdout}"
    );
    drop(taken);

    // The next start on that data is the organization's first: it shows the token.
    let started = Helpdesk::builder().data_dir(data.path()).start().await?;
    assert!(started.token().starts_with("hd_"));
    Ok(())
}

#[tokio::test]
async fn an_operator_with_the_data_gets_a_new_owner_token() -> anyhow::Result<()> {
    let mut server = Helpdesk::builder().owner_token(OWNER).start().await?;
    assert_eq!(create_ticket(&server, OWNER).await?, Ok(()));
    let data = path(server.data_dir()).to_owned();

    // The embedded log is locked while the server runs: stop it first, it says.
    let locked = helpdesk(&["owner-token", "--reset", "--data-dir", &data]).await?;
    assert!(!locked.status.success());
    server.stop().await?;

    let reset = helpdesk(&["owner-token", "--reset", "--data-dir", &data]).await?;
    let stdout = String::from_utf8_lossy(&reset.stdout);
    assert!(
        reset.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&reset.stderr)
    );
    let token = stdout
        .lines()
        .find_map(|line| line.strip_prefix("owner token: "))
        .with_context(|| format!("no token in {stdout:?}"))?
        .trim()
        .to_owned();
    assert_ne!(token, OWNER);

    server.start_again().await?;
    assert_eq!(create_ticket(&server, &token).await?, Ok(()));
    assert_eq!(
        create_ticket(&server, OWNER).await?,
        Err(Code::Unauthenticated),
        "the lost token is revoked"
    );
    Ok(())
}

#[tokio::test]
async fn an_owner_token_too_short_to_be_a_secret_is_refused() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let dir = data.path().join("never");
    let refused = helpdesk(&[
        "dev",
        "--data-dir",
        path(&dir),
        "--listen",
        "127.0.0.1:0",
        "--owner-token",
        "hunter2",
    ])
    .await?;
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("--owner-token") && stderr.contains("at least 32"),
        "{stderr}"
    );
    assert!(!dir.exists(), "nothing is written");
    Ok(())
}
