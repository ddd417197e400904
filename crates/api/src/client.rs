//! Connecting a client (`hdctl`, `helpdesk simulate`, tests) to a server.

use std::path::Path;

use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

/// Why a client could not connect.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{0:?} is not a server address like http://127.0.0.1:50051")]
    Address(String),
    #[error("an https:// server needs the CA that signed its certificate (--tls-ca)")]
    NoCa,
    #[error("cannot read the CA file {path}: {source}")]
    Ca {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot reach the server at {server}: {source}")]
    Unreachable {
        server: String,
        source: tonic::transport::Error,
    },
}

/// A channel to `server` (`http://…` or `https://…`); for https, trusting the CA in the
/// PEM file `ca` and checking the certificate against the server's host name.
pub async fn connect(server: &str, ca: Option<&Path>) -> Result<Channel, ConnectError> {
    endpoint(server, ca)?
        .connect()
        .await
        .map_err(|source| ConnectError::Unreachable {
            server: server.into(),
            source,
        })
}

/// The endpoint of `server`, configured as [`connect`] does, for a caller that connects
/// later (`connect_lazy`: a gateway starting before the servers behind it).
pub fn endpoint(server: &str, ca: Option<&Path>) -> Result<Endpoint, ConnectError> {
    let mut endpoint = Endpoint::from_shared(server.to_owned())
        .map_err(|_| ConnectError::Address(server.into()))?;
    if server.starts_with("https://") {
        let ca = ca.ok_or(ConnectError::NoCa)?;
        let pem = std::fs::read(ca).map_err(|source| ConnectError::Ca {
            path: ca.display().to_string(),
            source,
        })?;
        let host = endpoint.uri().host().unwrap_or("localhost").to_owned();
        endpoint = endpoint
            .tls_config(
                ClientTlsConfig::new()
                    .ca_certificate(Certificate::from_pem(pem))
                    .domain_name(host),
            )
            .map_err(|source| ConnectError::Unreachable {
                server: server.into(),
                source,
            })?;
    }
    Ok(endpoint)
}
