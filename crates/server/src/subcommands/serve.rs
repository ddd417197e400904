//! The gRPC services one `helpdesk` process serves: the command side's, the query
//! services of the models it runs, all behind the access layer.

use std::path::PathBuf;
use std::sync::Arc;

use helpdesk_api::{
    AdminServiceServer, BadgeServiceServer, CommandServiceServer, ConfigServiceServer,
    LevelServiceServer, ReportServiceServer, RosterServiceServer, StatsServiceServer,
    TicketServiceServer,
};
use helpdesk_log::EventLog;
use helpdesk_projections::badges::BadgesView;
use helpdesk_projections::levels::LevelsView;
use helpdesk_projections::reports::ReportsView;
use helpdesk_projections::roster::RosterView;
use helpdesk_projections::stats::StatsView;
use helpdesk_projections::tickets::TicketsView;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::access::Access;
use crate::command::admin::AdminApi;
use crate::command::config::ConfigApi;
use crate::command::engine::Engine;
use crate::command::service::CommandApi;
use crate::ops::grpc::{limited, Served, Transport};
use crate::query::badges::BadgeApi;
use crate::query::levels::LevelApi;
use crate::query::reports::ReportApi;
use crate::query::roster::RosterApi;
use crate::query::stats::StatsApi;
use crate::query::tickets::TicketApi;

/// The services one process serves.
pub struct Services {
    /// Who may call, for every service.
    pub access: Arc<Access>,
    /// The event log (recomputes replay it).
    pub log: Arc<dyn EventLog>,
    /// The process's data directory (recomputes keep scratch stores in it).
    pub data_dir: PathBuf,
    /// `CommandService`, `AdminService` and `ConfigService`, over this engine.
    pub commands: Option<Arc<Engine>>,
    /// `TicketService`.
    pub tickets: Option<TicketsView>,
    /// `StatsService`.
    pub stats: Option<StatsView>,
    /// `LevelService`.
    pub levels: Option<LevelsView>,
    /// `BadgeService`.
    pub badges: Option<BadgesView>,
    /// `ReportService`.
    pub reports: Option<ReportsView>,
    /// `RosterService`.
    pub roster: Option<RosterView>,
    /// Web pages served beside the API on the same port (`helpdesk dev`: the dashboard).
    pub pages: Option<axum::Router>,
}

/// Serves `services` on `listener` until `shutdown` is cancelled (see [`Served::serve`]).
pub async fn serve(
    services: Services,
    transport: Transport,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut served = Served::new();
    if let Some(engine) = &services.commands {
        served
            .add(
                limited!(CommandServiceServer::new(CommandApi::new(
                    engine.clone(),
                    services.access.clone(),
                    shutdown.clone()
                )))
                .max_decoding_message_size(crate::ops::grpc::COMMAND_MAX_BYTES),
            )
            .await;
        served
            .add(limited!(AdminServiceServer::new(AdminApi::new(
                engine.clone(),
                services.log.clone(),
                services.data_dir.clone(),
                services.access.clone(),
                shutdown.clone(),
            ))))
            .await;
        served
            .add(limited!(ConfigServiceServer::new(ConfigApi::new(
                engine.clone()
            ))))
            .await;
    }
    if let Some(view) = services.tickets {
        served
            .add(limited!(TicketServiceServer::new(TicketApi::new(view))))
            .await;
    }
    if let Some(view) = services.stats {
        served
            .add(limited!(StatsServiceServer::new(StatsApi::new(view))))
            .await;
    }
    if let Some(view) = services.levels {
        served
            .add(limited!(LevelServiceServer::new(LevelApi::new(
                view,
                services.access.clone(),
                shutdown.clone()
            ))))
            .await;
    }
    if let Some(view) = services.badges {
        served
            .add(limited!(BadgeServiceServer::new(BadgeApi::new(
                view,
                services.access.clone(),
                shutdown.clone()
            ))))
            .await;
    }
    if let Some(view) = services.reports {
        served
            .add(limited!(ReportServiceServer::new(ReportApi::new(view))))
            .await;
    }
    if let Some(view) = services.roster {
        served
            .add(limited!(RosterServiceServer::new(RosterApi::new(
                view,
                services.access.clone(),
                shutdown.clone()
            ))))
            .await;
    }
    if let Some(pages) = services.pages {
        served.route_http(pages);
    }
    let access = services.access.layer();
    served.serve(transport, access, listener, shutdown).await
}
