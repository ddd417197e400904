//! Secrets and plaintext: what `helpdesk` says when it is run in a way that exposes a
//! secret (a credential in a printed NATS URL, plaintext off loopback, a secret on the
//! command line), and that loopback stays quiet.
//!
//! Needs the binary (`cargo build -p helpdesk-server`); `just test` sees to it.

use std::process::Output;
use std::time::Duration;

use anyhow::Context as _;
use helpdesk_tests::{helpdesk_bin, Helpdesk};

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
