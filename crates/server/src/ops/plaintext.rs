//! Plaintext off loopback: one warning line at start for each way this process would
//! send secrets or data in the clear over a network — gRPC served without TLS, gateway
//! routes over `http://` (callers' bearer tokens forwarded), NATS credentials without
//! TLS. Loopback (127.0.0.0/8, ::1, `localhost`) is quiet: nothing leaves the machine.
//! These warn rather than refuse: a TLS-terminating proxy, a service mesh or a private
//! link may protect the hop, which this process cannot see.

use std::net::{IpAddr, SocketAddr};

/// Whether `host` (a name, an IPv4 address, an IPv6 address with or without brackets)
/// is this machine's loopback.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The host of `url` (`scheme://user@host:port/path`; the scheme and user optional).
pub fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(bracketed) = host_port.strip_prefix('[') {
        return bracketed.split(']').next().unwrap_or_default();
    }
    host_port.split(':').next().unwrap_or_default()
}

/// gRPC served without TLS on an address other hosts can reach.
pub fn warn_if_plaintext_listen(listen: SocketAddr, tls: bool) {
    if !tls && !listen.ip().is_loopback() {
        tracing::warn!(
            "serving gRPC without TLS on {listen}, which is not loopback: bearer tokens and \
             every request and answer cross the network in the clear; give --tls-cert and \
             --tls-key (or listen on 127.0.0.1 behind a TLS-terminating proxy)"
        );
    }
}

/// The `http://` routes of a gateway to other hosts: the gateway forwards its callers'
/// bearer tokens to them in the clear.
pub fn warn_if_plaintext_routes<'a>(urls: impl IntoIterator<Item = &'a str>) {
    let plain: Vec<&str> = urls
        .into_iter()
        .filter(|url| url.starts_with("http://") && !is_loopback_host(url_host(url)))
        .collect();
    if !plain.is_empty() {
        tracing::warn!(
            "the gateway forwards callers' bearer tokens without TLS to {}, which is not \
             loopback: serve those upstreams with --tls-cert/--tls-key and route to https:// \
             URLs with --upstream-ca",
            plain.join(", ")
        );
    }
}

/// NATS credentials for `urls` (comma-separated) without TLS off loopback. `tls`: the
/// connection must be TLS (`--nats-require-tls`); `credentials`: the options given.
pub fn warn_if_plaintext_nats(urls: &str, tls: bool, credentials: &[&str]) {
    let urls: Vec<&str> = urls
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect();
    let in_url = urls.iter().any(|url| {
        let rest = url.split_once("://").map_or(*url, |(_, rest)| rest);
        rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())].contains('@')
    });
    let mut given: Vec<&str> = credentials.to_vec();
    if in_url {
        given.push("credentials in the URL");
    }
    let plain: Vec<String> = urls
        .iter()
        .filter(|url| !url.starts_with("tls://") && !is_loopback_host(url_host(url)))
        .map(|url| helpdesk_log::redact_url(url))
        .collect();
    if !tls && !given.is_empty() && !plain.is_empty() {
        tracing::warn!(
            "NATS credentials ({}) go to {} without TLS unless the server demands it, and \
             every event with them: use tls:// URLs or --nats-require-tls (with --nats-ca)",
            given.join(", "),
            plain.join(", ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in [
            "127.0.0.1",
            "127.8.9.10",
            "::1",
            "[::1]",
            "localhost",
            "LocalHost",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "0.0.0.0",
            "10.0.0.1",
            "::",
            "nats.example",
            "localhost.evil.com",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn hosts_of_urls() {
        assert_eq!(url_host("http://10.0.0.1:50051"), "10.0.0.1");
        assert_eq!(url_host("nats://u:p@nats.example:4222/x"), "nats.example");
        assert_eq!(url_host("tls://[::1]:4222"), "::1");
        assert_eq!(url_host("localhost:4222"), "localhost");
        assert_eq!(url_host("https://a.b"), "a.b");
    }
}
