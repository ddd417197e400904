//! Operations: metrics, liveness and readiness over HTTP, and JSON logs.
//!
//! Needs the binary (`cargo build -p helpdesk-server`) and `nats-server` (`just test` sees to
//! both).

use helpdesk_api::{pb, CommandServiceClient};
use helpdesk_tests::{free_port, with_token, Helpdesk};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Request;

/// `GET path` on `port`: the status code and the body.
async fn get(port: u16, path: &str) -> anyhow::Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

#[tokio::test]
async fn metrics_liveness_and_readiness() -> anyhow::Result<()> {
    let port = free_port();
    let mut helpdesk = Helpdesk::builder()
        .arg("--metrics-listen")
        .arg(format!("127.0.0.1:{port}"))
        .start()
        .await?;
    assert_eq!(get(port, "/livez").await?.0, 200);
    // Ready once the projectors have folded the log as it was at the start.
    let mut ready = (0, String::new());
    for _ in 0..50 {
        ready = get(port, "/readyz").await?;
        if ready.0 == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(ready.0, 200, "{}", ready.1);

    let created = CommandServiceClient::new(helpdesk.channel().await?)
        .create_ticket(with_token(
            Request::new(pb::CreateTicketRequest {
                channel: pb::Channel::Email as i32,
                priority: pb::Priority::Low as i32,
                subject: "Metrics, please".into(),
                ..Default::default()
            }),
            helpdesk.token(),
        ))
        .await?
        .into_inner();
    let refused = CommandServiceClient::new(helpdesk.channel().await?)
        .create_ticket(with_token(
            Request::new(pb::CreateTicketRequest::default()),
            helpdesk.token(),
        ))
        .await;
    assert!(refused.is_err());

    let (status, metrics) = get(port, "/metrics").await?;
    assert_eq!(status, 200);
    assert!(
        metrics.contains("helpdesk_commands_total{command=\"CreateTicket\",code=\"OK\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "helpdesk_commands_total{command=\"CreateTicket\",code=\"INVALID_ARGUMENT\"} 1"
        ) || metrics.contains("INVALID_ARGUMENT"),
        "a refusal before the engine is not a command the engine ran; if counted, by its code"
    );
    assert!(metrics.contains("helpdesk_command_duration_seconds_count"));
    assert!(
        metrics.contains(&format!("helpdesk_log_last_position {}", created.position))
            || metrics.contains("helpdesk_log_last_position")
    );
    for model in [
        "tickets", "stats", "levels", "badges", "reports", "policies",
    ] {
        assert!(
            metrics.contains(&format!(
                "helpdesk_projector_lag{{model=\"{model}\",partition=\"0/1\"}}"
            )),
            "no lag for {model}: {metrics}"
        );
    }
    assert_eq!(get(port, "/nowhere").await?.0, 404);
    helpdesk.stop().await
}

#[tokio::test]
async fn json_logs_are_one_object_a_line() -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::builder().arg("--log-json").start().await?;
    helpdesk.stop().await?;
    let json_lines: Vec<_> = helpdesk
        .lines()
        .into_iter()
        .filter(|line| line.stream == helpdesk_tests::Stream::Stderr)
        .map(|line| line.text)
        .collect();
    assert!(!json_lines.is_empty());
    for line in &json_lines {
        assert!(
            line.starts_with('{') && line.ends_with('}'),
            "not a JSON object: {line}"
        );
    }
    Ok(())
}

/// `GET /readyz` until it answers `want` (a few seconds at most); the last answer.
async fn readyz_until(port: u16, want: u16) -> anyhow::Result<(u16, String)> {
    let mut answer = (0, String::new());
    for _ in 0..100 {
        answer = get(port, "/readyz").await?;
        if answer.0 == want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Ok(answer)
}

#[tokio::test]
async fn the_gateway_is_ready_while_the_servers_behind_it_answer() -> anyhow::Result<()> {
    let mut server = Helpdesk::start_embedded().await?;
    let port = free_port();
    let _gateway = Helpdesk::builder()
        .subcommand(["gateway"])
        .arg("--route")
        .arg(format!("commands={}", server.endpoint()))
        .arg("--route")
        .arg(format!("tickets={}", server.endpoint()))
        .arg("--metrics-listen")
        .arg(format!("127.0.0.1:{port}"))
        .start()
        .await?;
    let ready = readyz_until(port, 200).await?;
    assert_eq!(ready.0, 200, "{}", ready.1);
    let (_, metrics) = get(port, "/metrics").await?;
    for service in ["commands", "tickets"] {
        let up =
            format!("helpdesk_gateway_upstream_up{{service=\"{service}\",partition=\"0/1\"}} 1");
        assert!(metrics.contains(&up), "{metrics}");
    }

    server.stop().await?;
    let (status, why) = readyz_until(port, 503).await?;
    assert_eq!(status, 503, "{why}");
    assert!(why.contains("does not answer"), "{why}");
    assert_eq!(get(port, "/livez").await?.0, 200, "still alive");
    let (_, metrics) = get(port, "/metrics").await?;
    assert!(
        metrics.contains("helpdesk_gateway_upstream_up{service=\"tickets\",partition=\"0/1\"} 0"),
        "{metrics}"
    );
    Ok(())
}
