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

/// A sample of a Prometheus text exposition: name, labels, value.
type Sample = (String, Vec<(String, String)>, f64);

/// The samples of a Prometheus text exposition.
struct Metrics(Vec<Sample>);

impl Metrics {
    /// Parses `name{label="value",…} number` lines; comments and blank lines are skipped.
    /// Panics on a line it cannot read: the format is part of what is tested.
    fn parse(text: &str) -> Metrics {
        let mut samples = Vec::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (series, value) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("no value: {line:?}"));
            let value: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("not a number: {line:?}"));
            let (name, labels) = match series.split_once('{') {
                None => (series, Vec::new()),
                Some((name, rest)) => {
                    let rest = rest
                        .strip_suffix('}')
                        .unwrap_or_else(|| panic!("unclosed labels: {line:?}"));
                    let labels = rest
                        .split(',')
                        .filter(|pair| !pair.is_empty())
                        .map(|pair| {
                            let (key, value) = pair
                                .split_once('=')
                                .unwrap_or_else(|| panic!("a label without =: {line:?}"));
                            let value = value
                                .strip_prefix('"')
                                .and_then(|v| v.strip_suffix('"'))
                                .unwrap_or_else(|| panic!("an unquoted label: {line:?}"));
                            (key.to_owned(), value.to_owned())
                        })
                        .collect();
                    (name, labels)
                }
            };
            samples.push((name.to_owned(), labels, value));
        }
        Metrics(samples)
    }

    /// The value of the one sample of `name` with exactly these labels.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> anyhow::Result<f64> {
        let mut found = self.0.iter().filter(|(n, l, _)| {
            n == name
                && l.len() == labels.len()
                && labels
                    .iter()
                    .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
        });
        match (found.next(), found.next()) {
            (Some((_, _, value)), None) => Ok(*value),
            (None, _) => anyhow::bail!("no {name}{labels:?}"),
            (Some(_), Some(_)) => anyhow::bail!("more than one {name}{labels:?}"),
        }
    }

    /// The values of every sample of `name`, in the order given.
    fn all(&self, name: &str) -> Vec<f64> {
        self.0
            .iter()
            .filter(|(n, _, _)| n == name)
            .map(|(_, _, v)| *v)
            .collect()
    }

    /// The sum of every sample of `name`.
    fn sum(&self, name: &str) -> f64 {
        self.all(name).iter().sum()
    }
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

    // Three tickets created, two requests refused: the counters say so, exactly.
    let mut commands = CommandServiceClient::new(helpdesk.channel().await?);
    let mut last_created = 0;
    for n in 1..=3 {
        let created = commands
            .create_ticket(with_token(
                Request::new(pb::CreateTicketRequest {
                    channel: pb::Channel::Email as i32,
                    priority: pb::Priority::Low as i32,
                    subject: format!("Metrics, please ({n})"),
                    ..Default::default()
                }),
                helpdesk.token(),
            ))
            .await?
            .into_inner();
        last_created = created.position;
    }
    for _ in 0..2 {
        let refused = commands
            .create_ticket(with_token(
                Request::new(pb::CreateTicketRequest::default()),
                helpdesk.token(),
            ))
            .await
            .expect_err("a ticket without a subject");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{refused:?}");
    }

    // Once every projector has folded the log (lag 0, waited for with a deadline).
    let models = [
        "tickets", "stats", "levels", "badges", "reports", "policies",
    ];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let metrics = loop {
        let (status, text) = get(port, "/metrics").await?;
        assert_eq!(status, 200);
        let metrics = Metrics::parse(&text);
        let lags: Vec<f64> = models
            .iter()
            .map(|model| {
                metrics.value(
                    "helpdesk_projector_lag",
                    &[("model", model), ("partition", "0/1")],
                )
            })
            .collect::<anyhow::Result<_>>()?;
        if lags.iter().all(|lag| *lag == 0.0) {
            break metrics;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the projectors still lag after 20 s: {lags:?}\n{text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let create = |code: &str| {
        metrics.value(
            "helpdesk_commands_total",
            &[("command", "CreateTicket"), ("code", code)],
        )
    };
    assert_eq!(create("OK")?, 3.0, "three tickets created");
    assert_eq!(
        create("INVALID_ARGUMENT")?,
        2.0,
        "two refused, by their code"
    );
    assert_eq!(
        metrics.sum("helpdesk_commands_total"),
        5.0,
        "no other command answered"
    );
    // Every answered command is timed, refusals included.
    assert_eq!(
        metrics.value("helpdesk_command_duration_seconds_count", &[])?,
        5.0
    );
    assert_eq!(
        metrics.value(
            "helpdesk_command_duration_seconds_bucket",
            &[("le", "+Inf")]
        )?,
        5.0
    );
    let buckets = metrics.all("helpdesk_command_duration_seconds_bucket");
    assert!(
        buckets.windows(2).all(|w| w[0] <= w[1]),
        "cumulative buckets never decrease: {buckets:?}"
    );
    assert!(metrics.value("helpdesk_command_duration_seconds_sum", &[])? > 0.0);
    // The log's last position is at least the last ticket's, and every model has read up
    // to it.
    let last = metrics.value("helpdesk_log_last_position", &[])?;
    assert!(
        last >= last_created as f64,
        "the log's last position {last} is before the last ticket's {last_created}"
    );
    for model in models {
        let labels = [("model", model), ("partition", "0/1")];
        assert_eq!(
            metrics.value("helpdesk_projector_position", &labels)?,
            last,
            "{model} has read the whole log"
        );
        assert_eq!(
            metrics.value("helpdesk_projector_dead_letters", &labels)?,
            0.0,
            "{model}"
        );
    }
    assert!(
        metrics.value(
            "helpdesk_projector_events_folded_total",
            &[("model", "tickets"), ("partition", "0/1")]
        )? >= 3.0,
        "the tickets model folded at least the three tickets"
    );
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
    let metrics = Metrics::parse(&metrics);
    for service in ["commands", "tickets"] {
        let up = metrics.value(
            "helpdesk_gateway_upstream_up",
            &[("service", service), ("partition", "0/1")],
        )?;
        assert_eq!(up, 1.0, "{service} is up");
    }

    server.stop().await?;
    let (status, why) = readyz_until(port, 503).await?;
    assert_eq!(status, 503, "{why}");
    assert!(why.contains("does not answer"), "{why}");
    assert_eq!(get(port, "/livez").await?.0, 200, "still alive");
    let (_, metrics) = get(port, "/metrics").await?;
    let metrics = Metrics::parse(&metrics);
    for service in ["commands", "tickets"] {
        let up = metrics.value(
            "helpdesk_gateway_upstream_up",
            &[("service", service), ("partition", "0/1")],
        )?;
        assert_eq!(up, 0.0, "{service} is down");
    }
    Ok(())
}
