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

/// An error and its causes on one line, `outer: cause: root cause`, like anyhow's `{:#}`,
/// but without repeating itself: a cause whose text the message before it already says
/// (tonic's "transport error" around hyper's "transport error", "tcp connect error"
/// around "tcp connect error", or a message that quotes its source) is left out.
///
/// For an `anyhow::Error`: `error_chain(err.as_ref())`.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut line = err.to_string();
    let mut previous = line.clone();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.is_empty() && !previous.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        previous = text;
        source = cause.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::error_chain;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    fn chain(texts: &[&'static str]) -> Layer {
        let mut texts = texts.iter().rev();
        let mut err = Layer(texts.next().unwrap(), None);
        for text in texts {
            err = Layer(text, Some(Box::new(err)));
        }
        err
    }

    #[test]
    fn causes_said_already_are_left_out() {
        let err = chain(&[
            "cannot reach the server at http://127.0.0.1:1: transport error",
            "transport error",
            "tcp connect error",
            "tcp connect error",
            "Connection refused (os error 111)",
        ]);
        assert_eq!(
            error_chain(&err),
            "cannot reach the server at http://127.0.0.1:1: transport error: tcp connect \
             error: Connection refused (os error 111)"
        );
    }

    #[test]
    fn distinct_causes_are_all_kept() {
        let err = chain(&[
            "cannot read the CA file ca.pem",
            "No such file or directory",
        ]);
        assert_eq!(
            error_chain(&err),
            "cannot read the CA file ca.pem: No such file or directory"
        );
    }
}
