//! TLS end to end: a client speaks gRPC over TLS to `helpdesk dev`, which speaks to
//! `nats-server` over TLS, with certificates made for the test by a test CA. A client
//! without TLS, or one that does not trust the CA, gets nowhere.
//!
//! Needs the binary (`cargo build -p helpdesk-server`) and `nats-server` (`just test` sees to
//! both).

use std::path::Path;
use std::time::Duration;

use helpdesk_api::{pb, CommandServiceClient};
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

    // Over TLS, trusting the test CA: commands work (and reach NATS over TLS).
    let ca_pem = std::fs::read(dir.path().join("ca.pem"))?;
    let channel = tls_channel(helpdesk.address(), &ca_pem).await?;
    let created = CommandServiceClient::new(channel)
        .create_ticket(with_token(
            Request::new(pb::CreateTicketRequest {
                channel: pb::Channel::Email as i32,
                priority: pb::Priority::Normal as i32,
                subject: "Sent over TLS".into(),
                ..Default::default()
            }),
            helpdesk.token(),
        ))
        .await?
        .into_inner();
    assert_eq!(created.events, ["TicketCreated"]);

    // Without TLS: no gRPC at all.
    let plain = Endpoint::from_shared(format!("http://{}", helpdesk.address()))?
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(5))
        .connect()
        .await;
    let refused = match plain {
        Err(_) => true,
        Ok(channel) => CommandServiceClient::new(channel)
            .create_ticket(with_token(
                Request::new(pb::CreateTicketRequest::default()),
                helpdesk.token(),
            ))
            .await
            .is_err(),
    };
    assert!(refused, "a plaintext client must not be served");

    // Trusting another CA: the handshake fails.
    let other = tempfile::tempdir()?;
    certificates(other.path())?;
    let stranger = tls_channel(
        helpdesk.address(),
        &std::fs::read(other.path().join("ca.pem"))?,
    )
    .await;
    let refused = match stranger {
        Err(_) => true,
        Ok(channel) => CommandServiceClient::new(channel)
            .create_ticket(Request::new(pb::CreateTicketRequest::default()))
            .await
            .is_err(),
    };
    assert!(
        refused,
        "a client that does not trust the CA must not get through"
    );

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
