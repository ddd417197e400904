//! TLS end to end: a client speaks gRPC over TLS to `helpdesk dev`, which speaks to
//! `nats-server` over TLS, with certificates made for the test by a test CA. A client
//! without TLS, or one that does not trust the CA, gets nowhere.
//!
//! Needs the binary (`cargo build -p helpdesk-server`) and `nats-server` (`just test` sees to
//! both).

use std::error::Error as _;
use std::path::Path;
use std::time::Duration;

use helpdesk_api::{pb, CommandServiceClient, TicketServiceClient};
use helpdesk_tests::{with_token, Helpdesk, NatsServer};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::Request;

/// A CA, and a certificate it signed for `localhost` and 127.0.0.1: written as PEM files
/// `ca.pem`, `cert.pem`, `key.pem` in `dir`.
fn certificates(dir: &Path) -> anyhow::Result<()> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate()?;
    let ca = ca_params.self_signed(&ca_key)?;
    let leaf_params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    let leaf_key = KeyPair::generate()?;
    let leaf = leaf_params.signed_by(&leaf_key, &ca, &ca_key)?;
    std::fs::write(dir.join("ca.pem"), ca.pem())?;
    std::fs::write(dir.join("cert.pem"), leaf.pem())?;
    std::fs::write(dir.join("key.pem"), leaf_key.serialize_pem())?;
    Ok(())
}

async fn tls_channel(address: std::net::SocketAddr, ca_pem: &[u8]) -> anyhow::Result<Channel> {
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca_pem))
        .domain_name("localhost");
    Ok(Endpoint::from_shared(format!("https://{address}"))?
        .tls_config(tls)?
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await?)
}

/// Fails unless `answer` is a failure of the transport: the call never reached the
/// service (an answer of the service, even a refusal, would mean it did).
#[track_caller]
fn assert_transport_failure<T: std::fmt::Debug>(who: &str, answer: Result<T, tonic::Status>) {
    let status = match answer {
        Ok(answer) => panic!("{who} was served: {answer:?}"),
        Err(status) => status,
    };
    // tonic reports a connection it could not use as UNAVAILABLE (or UNKNOWN for a
    // connection closed mid-call), with no message from the service; when the client's
    // HTTP/2 layer reads the TLS alert as a broken frame it says INTERNAL, with the
    // transport's own error as the source.
    let from_transport = status
        .source()
        .is_some_and(|source| source.downcast_ref::<tonic::transport::Error>().is_some());
    assert!(
        matches!(
            status.code(),
            tonic::Code::Unavailable | tonic::Code::Unknown
        ) || (status.code() == tonic::Code::Internal && from_transport),
        "{who} got an answer from the service: {status:?}"
    );
    assert!(
        status.metadata().get("grpc-status").is_none(),
        "{who} got a gRPC status from the server: {status:?}"
    );
}

#[tokio::test]
async fn grpc_and_nats_over_tls() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    certificates(dir.path())?;
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();

    let nats = NatsServer::start_with_args(&[
        "--tls",
        "--tlscert",
        &path("cert.pem"),
        "--tlskey",
        &path("key.pem"),
    ])?;
    let mut helpdesk = Helpdesk::builder()
        .nats_url(nats.url().replace("nats://", "tls://"))
        .arg("--nats-ca")
        .arg(path("ca.pem"))
        .arg("--nats-require-tls")
        .arg("--tls-cert")
        .arg(path("cert.pem"))
        .arg("--tls-key")
        .arg(path("key.pem"))
        .start()
        .await?;
    assert!(
        helpdesk
            .stdout_of_last_run()
            .iter()
            .any(|line| line.contains("ready on https://")),
        "the ready line says https"
    );

    // One request, sent three ways. Over TLS, trusting the test CA, it is carried out (and
    // reaches NATS over TLS); a ticket is created each time it is.
    let request = |subject: &str| {
        with_token(
            Request::new(pb::CreateTicketRequest {
                channel: pb::Channel::Email as i32,
                priority: pb::Priority::Normal as i32,
                subject: subject.into(),
                ..Default::default()
            }),
            helpdesk.token(),
        )
    };
    let ca_pem = std::fs::read(dir.path().join("ca.pem"))?;
    let client_channel = tls_channel(helpdesk.address(), &ca_pem).await?;
    let mut client = CommandServiceClient::new(client_channel.clone());
    let created = client
        .create_ticket(request("Sent over TLS"))
        .await?
        .into_inner();
    assert_eq!(created.events, ["TicketCreated"]);

    // Without TLS: the same request gets no answer from the service, only a transport
    // failure (no connection, or one the server drops).
    let plain = Endpoint::from_shared(format!("http://{}", helpdesk.address()))?
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(5))
        .connect()
        .await;
    if let Ok(channel) = plain {
        let answer = CommandServiceClient::new(channel)
            .create_ticket(request("Sent in plaintext"))
            .await;
        assert_transport_failure("a plaintext client", answer);
    }

    // Trusting another CA: the handshake fails.
    let other = tempfile::tempdir()?;
    certificates(other.path())?;
    let stranger = tls_channel(
        helpdesk.address(),
        &std::fs::read(other.path().join("ca.pem"))?,
    )
    .await;
    if let Ok(channel) = stranger {
        let answer = CommandServiceClient::new(channel)
            .create_ticket(request("Sent trusting another CA"))
            .await;
        assert_transport_failure("a client that does not trust the CA", answer);
    }

    // Neither reached the service: over TLS, the tickets are the two sent over TLS.
    let next = client
        .create_ticket(request("Sent over TLS again"))
        .await?
        .into_inner();
    let tickets = TicketServiceClient::new(client_channel)
        .list_tickets(with_token(
            Request::new(pb::ListTicketsRequest {
                read: Some(pb::ReadOptions {
                    min_position: next.position,
                    wait_ms: 10_000,
                }),
                ..Default::default()
            }),
            helpdesk.token(),
        ))
        .await?
        .into_inner()
        .tickets;
    let mut subjects: Vec<&str> = tickets.iter().map(|t| t.subject.as_str()).collect();
    subjects.sort_unstable();
    assert_eq!(subjects, ["Sent over TLS", "Sent over TLS again"]);

    helpdesk.stop().await
}

/// A helpdesk that requires TLS to NATS refuses a NATS without it, and says so.
#[tokio::test]
async fn requiring_tls_refuses_a_plain_nats() -> anyhow::Result<()> {
    let nats = NatsServer::start()?;
    let started = Helpdesk::builder()
        .nats(&nats)
        .arg("--nats-require-tls")
        .start()
        .await;
    let err = started.expect_err("no TLS on that NATS");
    let message = format!("{err:#}");
    assert!(
        message.contains("cannot use NATS JetStream")
            || message.contains("TLS")
            || message.contains("tls"),
        "{message}"
    );
    Ok(())
}
