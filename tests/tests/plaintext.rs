//! Secrets and plaintext: what `helpdesk` says when it is run in a way that exposes a
//! secret (a credential in a printed NATS URL, plaintext off loopback, a secret on the
//! command line), and that loopback stays quiet.
//!
//! Needs the binary (`cargo build -p helpdesk-server`); `just test` sees to it.

use std::process::Output;
use std::time::Duration;

use anyhow::Context as _;
use helpdesk_tests::{hdctl_bin, helpdesk_bin, Helpdesk};

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

/// Waits (a few seconds at most) until `server` has printed a line containing `what`.
async fn printed_by(server: &Helpdesk, what: &str) -> bool {
    for _ in 0..50 {
        if server.output().contains(what) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn grpc_without_tls_off_loopback_is_warned_about() -> anyhow::Result<()> {
    let mut open = Helpdesk::builder()
        .listen("0.0.0.0:0".parse()?)
        .start()
        .await?;
    assert!(
        printed_by(&open, "serving gRPC without TLS on 0.0.0.0").await,
        "{}",
        open.output()
    );
    assert!(open.output().contains("--tls-cert"), "{}", open.output());
    open.stop().await?;

    let mut local = Helpdesk::start_embedded().await?;
    local.stop().await?;
    assert!(!local.output().contains("WARN"), "{}", local.output());
    Ok(())
}

#[tokio::test]
async fn a_gateway_routing_over_http_off_loopback_is_warned_about() -> anyhow::Result<()> {
    let mut gateway = Helpdesk::builder()
        .subcommand(["gateway"])
        .arg("--route")
        .arg("commands=http://192.0.2.1:50051")
        .arg("--route")
        .arg("tickets=http://localhost:50052,http://[::1]:50052")
        .start()
        .await?;
    assert!(
        printed_by(
            &gateway,
            "bearer tokens without TLS to http://192.0.2.1:50051"
        )
        .await,
        "{}",
        gateway.output()
    );
    let output = gateway.output();
    assert!(!output.contains("localhost:50052"), "{output}");
    gateway.stop().await?;
    Ok(())
}

#[tokio::test]
async fn nats_credentials_without_tls_off_loopback_are_warned_about() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let data = data.path().to_string_lossy().into_owned();
    let start = |url: &'static str, extra: &'static [&'static str]| {
        let data = data.clone();
        async move {
            let mut args = vec!["dev", "--data-dir", &data, "--listen", "127.0.0.1:0"];
            args.extend(["--nats", url]);
            args.extend(extra);
            helpdesk(&args, &[("HELPDESK_NATS_TOKEN", "tok-4242")])
                .await
                .map(|output| printed(&output))
        }
    };
    // Nothing listens on these; the warning comes before the connection fails.
    let remote = start("nats://192.0.2.1:4222", &[]).await?;
    assert!(
        remote.contains("NATS credentials (--nats-token) go to nats://192.0.2.1:4222 without TLS"),
        "{remote}"
    );
    let in_url = start("nats://user:pw-4242@192.0.2.1:4222", &[]).await?;
    assert!(in_url.contains("credentials in the URL"), "{in_url}");
    assert!(!in_url.contains("pw-4242"), "{in_url}");
    for quiet in [
        start("nats://127.0.0.1:1", &[]).await?,
        start("tls://192.0.2.1:4222", &[]).await?,
        start("nats://192.0.2.1:4222", &["--nats-require-tls"]).await?,
    ] {
        assert!(!quiet.contains("without TLS"), "{quiet}");
    }
    Ok(())
}

const OWNER: &str = "plaintext-test-owner-token-0123456789";
const PS_WARNING: &str = "on the command line is visible to other users";

/// Whether `hdctl <token_args…> tickets` was let in by `server` (on a new server it says
/// "no tickets yet"), and what it printed to stderr.
async fn hdctl(server: &Helpdesk, token_args: &[&str]) -> anyhow::Result<(bool, String)> {
    let mut command = tokio::process::Command::new(hdctl_bin());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("HELPDESK_") {
            command.env_remove(key);
        }
    }
    let output = command
        .arg("--server")
        .arg(server.endpoint())
        .args(token_args)
        .arg("tickets")
        .output()
        .await?;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    Ok((
        output.status.success() || stderr.contains("no tickets yet"),
        stderr,
    ))
}

#[tokio::test]
async fn a_secret_on_the_command_line_is_warned_about_and_a_file_does_instead() -> anyhow::Result<()>
{
    // The environment (the harness's way): quiet.
    let mut server = Helpdesk::builder().owner_token(OWNER).start().await?;
    server.stop().await?;
    assert!(!server.output().contains(PS_WARNING), "{}", server.output());

    // The command line: a warning naming the alternatives.
    let mut server = Helpdesk::builder()
        .arg("--owner-token")
        .arg(OWNER)
        .start()
        .await?;
    assert!(
        printed_by(
            &server,
            "--owner-token on the command line is visible to other users"
        )
        .await,
        "{}",
        server.output()
    );
    let output = server.output();
    assert!(
        output.contains("HELPDESK_OWNER_TOKEN") && output.contains("--owner-token-file"),
        "{output}"
    );
    server.stop().await?;

    // A file (whitespace around it ignored): quiet, and the token is the Owner's.
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("owner-token");
    std::fs::write(&file, format!("  {OWNER}\n"))?;
    let file = file.to_string_lossy().into_owned();
    let mut server = Helpdesk::builder()
        .arg("--owner-token-file")
        .arg(&file)
        .start()
        .await?;
    assert!(!server.output().contains(PS_WARNING), "{}", server.output());

    // hdctl alike: --token warns, --token-file and HELPDESK_TOKEN do not.
    let (ok, stderr) = hdctl(&server, &["--token", OWNER]).await?;
    assert!(
        ok && stderr.contains("--token on the command line is visible"),
        "{stderr}"
    );
    assert!(stderr.contains("--token-file"), "{stderr}");
    let (ok, stderr) = hdctl(&server, &["--token-file", &file]).await?;
    assert!(
        ok && !stderr.contains(PS_WARNING),
        "the file's token is the Owner's: {stderr}"
    );
    server.stop().await?;

    // And the NATS secrets: each literal one is named.
    let data = tempfile::tempdir()?;
    let data = data.path().to_string_lossy().into_owned();
    let refused = helpdesk(
        &[
            "dev",
            "--data-dir",
            &data,
            "--listen",
            "127.0.0.1:0",
            "--nats",
            "nats://127.0.0.1:1",
            "--nats-user",
            "u",
            "--nats-password",
            "pw-4242",
        ],
        &[],
    )
    .await?;
    let text = printed(&refused);
    assert!(
        text.contains("--nats-password on the command line is visible")
            && text.contains("HELPDESK_NATS_PASSWORD"),
        "{text}"
    );
    Ok(())
}
