//! `helpdesk gateway`: one address for clients in front of a split deployment.
//!
//! It holds no data and no log connection. The command, admin and configuration services
//! are passed through as they are. Queries go to the partition that owns their key (a ticket, an
//! agent), or to every partition, and the answers are merged: ticket lists newest first
//! across partitions, per-department counts added, benchmarks and the level leaderboard
//! re-ranked, badge evaluations merged (the best value of all, every agent tied at it,
//! the best of the rest as runner-up), reports added up from their sums, roster lists
//! concatenated by name. Every upstream
//! authenticates and authorizes the caller itself: the gateway passes the
//! `authorization` metadata on.
//!
//! The partition map is configuration: `--route <model>=<url>[,<url>…]`, the URLs in
//! partition order (the replica started with `--partition i/N` is the i-th of N).

mod merge;
mod pass_through;
mod services;
mod upstream;

use std::collections::HashMap;
use std::net::SocketAddr;

use anyhow::{bail, Context as _};
use helpdesk_api::{
    BadgeServiceServer, LevelServiceServer, ReportServiceServer, RosterServiceServer,
    StatsServiceServer, TicketServiceServer,
};
use helpdesk_projections::Partition;

use crate::access::address::AddressLayer;
use crate::ops::grpc::{limited, Served};
use crate::ops::metrics::OpsArgs;
use crate::ops::process::{self, Process};
use crate::ops::security::{AddressArgs, ConcurrencyArgs, TlsArgs};
use pass_through::{AdminPassThrough, CommandPassThrough, ConfigPassThrough};
use services::{
    BadgeGateway, LevelGateway, ReportGateway, RosterGateway, StatsGateway, TicketGateway,
};
use upstream::Upstream;

#[derive(Debug, clap::Args)]
pub struct GatewayArgs {
    /// The address clients connect to.
    #[arg(long, env = "HELPDESK_LISTEN", default_value = "127.0.0.1:50051")]
    listen: SocketAddr,

    /// Where a service's replicas are: `commands=<url>` for the command side, and for
    /// the read models `tickets=`, `stats=`, `levels=`, `badges=`, `reports=`, `roster=` followed by
    /// the URLs of the partitions in order (`…=http://a:50052,http://b:50052` for 0/2 and
    /// 1/2). Repeat the option once per service.
    #[arg(long = "route", value_name = "SERVICE=URL[,URL…]", required = true, value_parser = parse_route)]
    routes: Vec<(String, Vec<String>)>,

    /// The PEM file of the CA that signed the certificates of the `https://` routes.
    #[arg(long, env = "HELPDESK_UPSTREAM_CA", value_name = "PEM")]
    upstream_ca: Option<std::path::PathBuf>,

    #[command(flatten)]
    tls: TlsArgs,

    // No rate limit per principal here: the servers behind the gateway keep it, they know
    // who calls. A limit per client address on tokens not seen lately, though: behind the
    // gateway every client has its address.
    #[command(flatten)]
    limits: ConcurrencyArgs,

    #[command(flatten)]
    address: AddressArgs,

    #[command(flatten)]
    ops: OpsArgs,
}

const SERVICES: [&str; 7] = [
    "commands", "tickets", "stats", "levels", "badges", "reports", "roster",
];

fn parse_route(value: &str) -> Result<(String, Vec<String>), String> {
    let (service, urls) = value
        .split_once('=')
        .ok_or_else(|| format!("a route is SERVICE=URL[,URL…], got {value:?}"))?;
    if !SERVICES.contains(&service) {
        return Err(format!(
            "unknown service {service:?}: one of {}",
            SERVICES.join(", ")
        ));
    }
    let urls: Vec<String> = urls.split(',').map(str::trim).map(str::to_owned).collect();
    if urls
        .iter()
        .any(|u| !u.starts_with("http://") && !u.starts_with("https://"))
    {
        return Err(format!(
            "{service}: URLs start with http:// or https://, got {urls:?}"
        ));
    }
    if service == "commands" && urls.len() != 1 {
        return Err("commands: one URL (the command services share nothing to split)".into());
    }
    Ok((service.to_owned(), urls))
}

/// `helpdesk gateway`: serves the routed services until stopped.
pub async fn run(args: GatewayArgs) -> anyhow::Result<()> {
    let mut routes: HashMap<String, Upstream> = HashMap::new();
    for (service, urls) in &args.routes {
        let channels = urls
            .iter()
            .map(|url| {
                let endpoint =
                    match helpdesk_api::client::endpoint(url, args.upstream_ca.as_deref()) {
                        Err(helpdesk_api::client::ConnectError::NoCa) => bail!(
                        "{service}: {url} is https://: give the CA that signed its certificate \
                         with --upstream-ca"
                    ),
                        endpoint => endpoint.with_context(|| format!("--route {service}"))?,
                    };
                Ok(endpoint.connect_lazy())
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        if routes
            .insert(service.clone(), Upstream { channels })
            .is_some()
        {
            bail!("--route {service}=… is given twice");
        }
    }
    let transport = crate::ops::grpc::Transport::from_args(&args.tls, &args.limits, args.listen)?;
    crate::ops::plaintext::warn_if_plaintext_routes(
        args.routes
            .iter()
            .flat_map(|(_, urls)| urls.iter().map(String::as_str)),
    );
    let mut served = Served::new();
    let mut router_names = Vec::new();
    for (service, upstream) in SERVICES.iter().filter_map(|s| Some((*s, routes.get(*s)?))) {
        router_names.push(format!("{service}={}", upstream.count()));
        let upstream = upstream.clone();
        match service {
            "commands" => {
                served.add(CommandPassThrough(upstream.first())).await;
                served.add(AdminPassThrough(upstream.first())).await;
                served.add(ConfigPassThrough(upstream.first())).await;
            }
            "tickets" => {
                served
                    .add(limited!(TicketServiceServer::new(TicketGateway(upstream))))
                    .await
            }
            "stats" => {
                served
                    .add(limited!(StatsServiceServer::new(StatsGateway(upstream))))
                    .await
            }
            "levels" => {
                served
                    .add(limited!(LevelServiceServer::new(LevelGateway(upstream))))
                    .await
            }
            "badges" => {
                served
                    .add(limited!(BadgeServiceServer::new(BadgeGateway(upstream))))
                    .await
            }
            "reports" => {
                served
                    .add(limited!(ReportServiceServer::new(ReportGateway(upstream))))
                    .await
            }
            "roster" => {
                served
                    .add(limited!(RosterServiceServer::new(RosterGateway(upstream))))
                    .await
            }
            other => bail!("--route {other}=…: not a service of the gateway"),
        }
    }

    // The dashboard calls the API through this gateway like any other client: in a split
    // deployment the gateway is the one address a team lead opens.
    served.route_http(crate::dashboard::router());

    // Metrics first: the ready line promises every address.
    let mut process = Process::new();
    let mut upstreams = Vec::new();
    for service in SERVICES {
        let Some(upstream) = routes.get(service) else {
            continue;
        };
        for (index, channel) in upstream.channels.iter().enumerate() {
            let partition = Partition {
                index: index as u32,
                count: upstream.count(),
            };
            upstreams.push((service, partition, channel.clone()));
        }
    }
    let watched = crate::ops::metrics::Watched {
        upstreams,
        ..Default::default()
    };
    process.watch(&args.ops, watched).await?;
    let listener = process::bind(args.listen).await?;
    let address = listener.local_addr()?;
    let scheme = if transport.tls.is_some() {
        "https"
    } else {
        "http"
    };
    println!(
        "helpdesk gateway is ready on {scheme}://{address} (routes: {})",
        router_names.join(", ")
    );
    println!(
        "dashboard: {} (sign in with a token of the command service's organization)",
        crate::dashboard::url(scheme, address)
    );
    let shutdown = process.shutdown_token();
    // The servers behind the gateway authenticate every request; the gateway only holds
    // back an address that keeps sending tokens they refuse.
    let address_limit = AddressLayer::new(args.address.unverified_per_address);
    served
        .serve(transport, address_limit, listener, shutdown)
        .await?;
    tracing::info!("stopped");
    Ok(())
}
