//! Secrets and plaintext: what `helpdesk` says when it is run in a way that exposes a
//! secret (a credential in a printed NATS URL, plaintext off loopback, a secret on the
//! command line), and that loopback stays quiet.
//!
//! Needs the binary (`cargo build -p helpdesk-server`); `just test` sees to it.

use std::process::Output;
use std::time::Duration;

use anyhow::Context as _;
use helpdesk_tests::helpdesk_bin;

/// Runs `helpdesk` to its end with `envs` (and no inherited `HELPDESK_*` variable).
async fn helpdesk(args: &[&str], envs: &[(&str, &str)]) -> anyhow::Result<Output> {
    let mut command = tokio::process::Command::new(helpdesk_bin());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("HELPDESK_") {
            command.env_remove(key);
        }
    }
    let run = command
        .args(args)
        .envs(envs.iter().copied())
        .env("NO_COLOR", "1")
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .with_context(|| format!("helpdesk {args:?} still runs after a minute"))?
        .context("running helpdesk")
}

fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn nats_credentials_in_a_url_are_never_printed() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let data = data.path().to_string_lossy().into_owned();
    let failed = helpdesk(
        &[
            "dev",
            "--data-dir",
            &data,
            "--listen",
            "127.0.0.1:0",
            "--nats",
            "nats://user:pw-4242@127.0.0.1:1",
        ],
        &[],
    )
    .await?;
    let text = printed(&failed);
    assert!(!failed.status.success(), "{text}");
    assert!(
        text.contains("127.0.0.1:1"),
        "the error names the server: {text}"
    );
    assert!(!text.contains("pw-4242"), "the password is printed: {text}");

    // Nor does `--help` show it from the environment.
    let help = helpdesk(
        &["dev", "--help"],
        &[("HELPDESK_NATS", "nats://user:pw-4242@127.0.0.1:1")],
    )
    .await?;
    let text = printed(&help);
    assert!(help.status.success(), "{text}");
    assert!(
        !text.contains("pw-4242"),
        "--help shows the password: {text}"
    );
    Ok(())
}
