//! The dashboard: one web page and its script and style sheet, embedded in the binary and
//! served on the gRPC port at `/` (docs/DASHBOARD.md). It loads nothing from elsewhere (no
//! CDN, no web fonts: it works offline) and reads everything through the API's Connect
//! JSON surface on the same port, with the token the user signs in with.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

const INDEX_HTML: &str = include_str!("assets/index.html");
const DASHBOARD_JS: &str = include_str!("assets/dashboard.js");
const DASHBOARD_CSS: &str = include_str!("assets/dashboard.css");

/// What the browser may load and call: this server and nothing else. The charts are
/// inline SVG built by the script; no inline script runs.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// The page at `/` and its two assets.
pub fn router() -> Router {
    Router::new()
        .route("/", get(|| asset("text/html; charset=utf-8", INDEX_HTML)))
        .route(
            "/dashboard.js",
            get(|| asset("text/javascript; charset=utf-8", DASHBOARD_JS)),
        )
        .route(
            "/dashboard.css",
            get(|| asset("text/css; charset=utf-8", DASHBOARD_CSS)),
        )
}

/// One embedded file. `no-cache`: a browser asks again (cheaply) after an upgrade of the
/// server instead of running yesterday's script against today's API.
async fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        ],
        body,
    )
}

/// The dashboard's address for people, from the address the server listens on: a
/// server listening on every interface is opened on loopback.
pub fn url(scheme: &str, address: std::net::SocketAddr) -> String {
    let host = match address.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_string(),
        ip if ip.is_unspecified() => "[::1]".to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("{scheme}://{host}:{}/", address.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        for (name, text) in [
            ("index.html", INDEX_HTML),
            ("dashboard.js", DASHBOARD_JS),
            ("dashboard.css", DASHBOARD_CSS),
        ] {
            for remote in ["http://", "https://", "//cdn", "@import", "fonts.g"] {
                let offending: Vec<&str> = text
                    .lines()
                    .filter(|line| line.contains(remote) && !line.contains("www.w3.org/2000/svg"))
                    .collect();
                assert!(
                    offending.is_empty(),
                    "{name} refers to {remote}: {offending:?}"
                );
            }
        }
    }

    #[tokio::test]
    async fn each_file_is_served_with_its_type_and_the_policy() {
        use tower::ServiceExt as _;
        for (path, content_type, body) in [
            ("/", "text/html; charset=utf-8", INDEX_HTML),
            (
                "/dashboard.js",
                "text/javascript; charset=utf-8",
                DASHBOARD_JS,
            ),
            ("/dashboard.css", "text/css; charset=utf-8", DASHBOARD_CSS),
        ] {
            let request = axum::http::Request::get(path)
                .body(axum::body::Body::empty())
                .unwrap();
            let response = router().oneshot(request).await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            let headers = response.headers();
            assert_eq!(headers[header::CONTENT_TYPE], content_type, "{path}");
            assert_eq!(
                headers[header::CONTENT_SECURITY_POLICY],
                CONTENT_SECURITY_POLICY
            );
            let served = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            assert_eq!(served, body.as_bytes(), "{path}");
        }
    }

    #[test]
    fn the_url_names_an_address_a_browser_can_open() {
        let url = |s: &str| super::url("http", s.parse().unwrap());
        assert_eq!(url("127.0.0.1:50051"), "http://127.0.0.1:50051/");
        assert_eq!(url("0.0.0.0:8080"), "http://127.0.0.1:8080/");
        assert_eq!(url("[::]:8080"), "http://[::1]:8080/");
        assert_eq!(url("[::1]:8080"), "http://[::1]:8080/");
    }
}
