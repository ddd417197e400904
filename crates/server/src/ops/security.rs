//! Transport security and limits: TLS for gRPC, TLS and credentials for NATS, the flags of
//! the per-principal rate limit (`access::rate_limit` keeps it), and concurrency limits.

use std::path::PathBuf;

use anyhow::Context as _;
use helpdesk_log::NatsSecurity;

/// TLS for the gRPC server (rustls). Without it the server speaks plain HTTP/2: fine on
/// loopback or behind a TLS-terminating proxy, not on an open network.
#[derive(Debug, Clone, clap::Args)]
pub struct TlsArgs {
    /// A PEM certificate (chain) for gRPC over TLS; needs --tls-key.
    #[arg(
        long,
        env = "HELPDESK_TLS_CERT",
        requires = "tls_key",
        value_name = "PEM"
    )]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(
        long,
        env = "HELPDESK_TLS_KEY",
        requires = "tls_cert",
        value_name = "PEM"
    )]
    pub tls_key: Option<PathBuf>,
}

impl TlsArgs {
    /// The server's TLS configuration, if asked for.
    pub fn server_config(&self) -> anyhow::Result<Option<tonic::transport::ServerTlsConfig>> {
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            return Ok(None);
        };
        let cert_pem = std::fs::read(cert)
            .with_context(|| format!("cannot read the TLS certificate {}", cert.display()))?;
        let key_pem = std::fs::read(key)
            .with_context(|| format!("cannot read the TLS key {}", key.display()))?;
        Ok(Some(tonic::transport::ServerTlsConfig::new().identity(
            tonic::transport::Identity::from_pem(cert_pem, key_pem),
        )))
    }
}

/// TLS and credentials for the connection to NATS.
#[derive(Debug, Clone, clap::Args)]
pub struct NatsSecurityArgs {
    /// Refuse to talk to NATS without TLS.
    #[arg(long, env = "HELPDESK_NATS_REQUIRE_TLS", requires = "nats")]
    pub nats_require_tls: bool,
    /// A PEM file of the CA(s) that signed the NATS servers' certificates.
    #[arg(long, env = "HELPDESK_NATS_CA", requires = "nats", value_name = "PEM")]
    pub nats_ca: Option<PathBuf>,
    /// A PEM client certificate for mutual TLS with NATS (with --nats-key).
    #[arg(long, env = "HELPDESK_NATS_CERT", requires_all = ["nats", "nats_key"], value_name = "PEM")]
    pub nats_cert: Option<PathBuf>,
    /// The PEM key of --nats-cert.
    #[arg(
        long,
        env = "HELPDESK_NATS_KEY",
        requires = "nats_cert",
        value_name = "PEM"
    )]
    pub nats_key: Option<PathBuf>,
    /// A NATS credentials file (JWT and nkey seed, as `nsc` makes them).
    #[arg(
        long,
        env = "HELPDESK_NATS_CREDS",
        requires = "nats",
        value_name = "FILE"
    )]
    pub nats_creds: Option<PathBuf>,
    /// An nkey seed to authenticate with. On the command line it is visible to other
    /// users (`ps`): prefer HELPDESK_NATS_NKEY or --nats-nkey-file.
    #[arg(
        long,
        env = "HELPDESK_NATS_NKEY",
        requires = "nats",
        hide_env_values = true,
        value_name = "SEED"
    )]
    pub nats_nkey: Option<String>,
    /// A file holding the nkey seed (instead of --nats-nkey; surrounding whitespace is
    /// ignored).
    #[arg(
        long,
        env = "HELPDESK_NATS_NKEY_FILE",
        requires = "nats",
        conflicts_with = "nats_nkey",
        value_name = "FILE"
    )]
    pub nats_nkey_file: Option<PathBuf>,
    /// A NATS user (with --nats-password or --nats-password-file).
    #[arg(long, env = "HELPDESK_NATS_USER", requires = "nats")]
    pub nats_user: Option<String>,
    /// The password of --nats-user. On the command line it is visible to other users
    /// (`ps`): prefer HELPDESK_NATS_PASSWORD or --nats-password-file.
    #[arg(
        long,
        env = "HELPDESK_NATS_PASSWORD",
        requires = "nats_user",
        hide_env_values = true
    )]
    pub nats_password: Option<String>,
    /// A file holding the password of --nats-user (surrounding whitespace is ignored).
    #[arg(
        long,
        env = "HELPDESK_NATS_PASSWORD_FILE",
        requires = "nats_user",
        conflicts_with = "nats_password",
        value_name = "FILE"
    )]
    pub nats_password_file: Option<PathBuf>,
    /// A NATS token. On the command line it is visible to other users (`ps`): prefer
    /// HELPDESK_NATS_TOKEN or --nats-token-file.
    #[arg(
        long,
        env = "HELPDESK_NATS_TOKEN",
        requires = "nats",
        hide_env_values = true
    )]
    pub nats_token: Option<String>,
    /// A file holding the NATS token (surrounding whitespace is ignored).
    #[arg(
        long,
        env = "HELPDESK_NATS_TOKEN_FILE",
        requires = "nats",
        conflicts_with = "nats_token",
        value_name = "FILE"
    )]
    pub nats_token_file: Option<PathBuf>,
}

/// A secret read from `path` (given with `option`), without surrounding whitespace.
pub fn read_secret_file(path: &std::path::Path, option: &str) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {option} {}", path.display()))?;
    let secret = text.trim();
    if secret.is_empty() {
        anyhow::bail!("{option} {} is empty", path.display());
    }
    Ok(secret.to_owned())
}

/// The secret given literally (command line or environment) or in a file.
pub fn secret(
    literal: &Option<String>,
    file: &Option<PathBuf>,
    file_option: &str,
) -> anyhow::Result<Option<String>> {
    match file {
        Some(path) => read_secret_file(path, file_option).map(Some),
        None => Ok(literal.clone()),
    }
}

/// The options that take a secret: their clap id, flag, environment variable and file
/// option. Given on the command line, a secret is visible to every user of the machine
/// (`ps`, `/proc/<pid>/cmdline`).
const SECRET_OPTIONS: [(&str, &str, &str, &str); 5] = [
    (
        "owner_token",
        "--owner-token",
        "HELPDESK_OWNER_TOKEN",
        "--owner-token-file",
    ),
    (
        "nats_nkey",
        "--nats-nkey",
        "HELPDESK_NATS_NKEY",
        "--nats-nkey-file",
    ),
    (
        "nats_password",
        "--nats-password",
        "HELPDESK_NATS_PASSWORD",
        "--nats-password-file",
    ),
    (
        "nats_token",
        "--nats-token",
        "HELPDESK_NATS_TOKEN",
        "--nats-token-file",
    ),
    ("token", "--token", "HELPDESK_TOKEN", "--token-file"),
];

/// Warns once for each secret given literally on the command line of the subcommand in
/// `matches`.
pub fn warn_secrets_on_command_line(matches: &clap::ArgMatches) {
    let Some((_, sub)) = matches.subcommand() else {
        return;
    };
    for (id, flag, env, file) in SECRET_OPTIONS {
        if sub.ids().any(|given| given.as_str() == id)
            && sub.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
        {
            tracing::warn!(
                "{flag} on the command line is visible to other users of this machine (ps, \
                 /proc): set {env} or give {file} instead"
            );
        }
    }
}

impl NatsSecurityArgs {
    /// The credential options given (their names, never their values).
    pub fn credentials_given(&self) -> Vec<&'static str> {
        let mut given = Vec::new();
        if self.nats_creds.is_some() {
            given.push("--nats-creds");
        }
        if self.nats_nkey.is_some() || self.nats_nkey_file.is_some() {
            given.push("--nats-nkey");
        }
        if self.nats_user.is_some() {
            given.push("--nats-user/--nats-password");
        }
        if self.nats_token.is_some() || self.nats_token_file.is_some() {
            given.push("--nats-token");
        }
        given
    }

    /// The security asked for, with the secrets of the `…-file` options read.
    pub fn security(&self) -> anyhow::Result<NatsSecurity> {
        let password = secret(
            &self.nats_password,
            &self.nats_password_file,
            "--nats-password-file",
        )?;
        if self.nats_user.is_some() && password.is_none() {
            anyhow::bail!(
                "--nats-user needs a password: HELPDESK_NATS_PASSWORD or --nats-password-file"
            );
        }
        Ok(NatsSecurity {
            require_tls: self.nats_require_tls,
            ca_file: self.nats_ca.clone(),
            client_cert: self.nats_cert.clone().zip(self.nats_key.clone()),
            credentials_file: self.nats_creds.clone(),
            nkey_seed: secret(&self.nats_nkey, &self.nats_nkey_file, "--nats-nkey-file")?,
            user_password: self.nats_user.clone().zip(password),
            token: secret(&self.nats_token, &self.nats_token_file, "--nats-token-file")?,
        })
    }
}

/// Limits on what one process takes on.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitArgs {
    /// Requests per second one principal (a token's agent or integration) may make, over
    /// every connection together; beyond it: RESOURCE_EXHAUSTED. 0: no limit. Each
    /// command of an `Execute` stream counts as a request (the stream waits for its turn
    /// rather than failing), but for callers with system.import: an import counts once a
    /// batch.
    #[arg(long, env = "HELPDESK_RATE_LIMIT", default_value_t = 500)]
    pub rate_limit: u32,
    /// Streams one principal may hold open at once (`Execute`, `WatchLevelUps`,
    /// `WatchAwards`, `WatchOperation` together); one more: RESOURCE_EXHAUSTED.
    #[arg(long, env = "HELPDESK_MAX_STREAMS_PER_CALLER", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_streams_per_caller: u32,
    #[command(flatten)]
    pub address: AddressArgs,
    #[command(flatten)]
    pub concurrency: ConcurrencyArgs,
}

/// What one client address may ask before its tokens are known.
#[derive(Debug, Clone, clap::Args)]
pub struct AddressArgs {
    /// Requests per second one client address may make with tokens that have not
    /// authenticated in the last minute (bursts of twice that); beyond it:
    /// RESOURCE_EXHAUSTED. Keeps a client guessing tokens from making every request a
    /// read of the log. Behind a gateway every client has the gateway's address: raise it
    /// there, or 0 for no limit.
    #[arg(long, env = "HELPDESK_UNVERIFIED_PER_ADDRESS", default_value_t = 50)]
    pub unverified_per_address: u32,
}

/// How many requests one process serves at once.
#[derive(Debug, Clone, clap::Args)]
pub struct ConcurrencyArgs {
    /// Requests served at once by the whole process; more wait their turn.
    #[arg(long, env = "HELPDESK_MAX_CONCURRENT", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent: u32,
    /// Requests served at once on one connection.
    #[arg(long, env = "HELPDESK_MAX_CONCURRENT_PER_CONNECTION", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent_per_connection: u32,
}
