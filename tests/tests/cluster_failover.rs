//! A NATS cluster failover end to end: `helpdesk commands` and every projector on a
//! 3-node JetStream cluster with an R3 stream; the stream's leader is killed while a
//! client sends a steady stream of commands, retrying each with the same command id until
//! it is accepted (as the API asks clients to). Then:
//!
//! - commands resumed after the election: the client finished, with acknowledgements
//!   after the kill;
//! - no acknowledged command was lost: sent again through a fresh command service (no
//!   cache), every one is a duplicate at the position first acknowledged;
//! - none was applied twice, and the projections that lived through the failover answer
//!   every query exactly as a clean rebuild of the log does.
//!
//! Needs the binary (`cargo build -p helpdesk-server`) and `nats-server` (`just test` sees
//! to both). The cluster takes about 10 s to form and the election 4–9 s.

use std::time::{Duration, Instant};

use async_nats::jetstream;
use helpdesk_api::{
    pb, BadgeServiceClient, CommandServiceClient, LevelServiceClient, ReportServiceClient,
    StatsServiceClient, TicketServiceClient,
};
use helpdesk_tests::compare::Pair;
use helpdesk_tests::{same, utc_date, with_token, Helpdesk, NatsCluster, HISTORY_START};
use helpdesk_workload::{Workload, WorkloadConfig};
use tonic::transport::Channel;
use tonic::{Code, Request};

const OWNER: &str = "failover-test-owner-token-0123456789";
const STREAM: &str = "HELPDESK";
/// Every read model in one process.
const PROJECT: [&str; 6] = ["project", "tickets", "stats", "levels", "badges", "reports"];
/// Commands sent in all, and how many are acknowledged before the leader is killed.
const COMMANDS: usize = 600;
const KILL_AFTER: usize = 150;

fn auth<T>(message: T) -> Request<T> {
    with_token(Request::new(message), OWNER)
}

/// Waits until the cluster answers JetStream requests (it has elected its meta leader):
/// the helpdesk gives up at start when NATS does not answer.
async fn wait_for_jetstream(cluster: &NatsCluster) -> anyhow::Result<jetstream::Context> {
    let client = async_nats::connect(cluster.url().split(',').collect::<Vec<_>>()).await?;
    let js = jetstream::new(client);
    let deadline = Instant::now() + Duration::from_secs(60);
    while js.query_account().await.is_err() {
        anyhow::ensure!(Instant::now() < deadline, "the cluster has no JetStream");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(js)
}

/// The name of the server leading the stream's Raft group.
async fn stream_leader(js: &jetstream::Context) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(mut stream) = js.get_stream(STREAM).await {
            if let Some(leader) = stream
                .info()
                .await
                .ok()
                .and_then(|info| info.cluster.as_ref().and_then(|c| c.leader.clone()))
            {
                return Ok(leader);
            }
        }
        anyhow::ensure!(Instant::now() < deadline, "the stream has no leader");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What a command's acknowledgement said.
#[derive(Debug, Clone)]
struct Ack {
    request: pb::ExecuteRequest,
    position: u64,
    at: Instant,
}

/// Sends `request` alone in an `Execute` stream until it is accepted, retrying with the
/// same command id while the log is unavailable. Returns the acknowledgement and how
/// many attempts failed.
async fn send_until_accepted(
    channel: &Channel,
    request: &pb::ExecuteRequest,
) -> anyhow::Result<(pb::CommandResponse, u32)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut failed = 0;
    loop {
        let mut client = CommandServiceClient::new(channel.clone());
        let mut call = auth(tokio_stream::iter([request.clone()]));
        call.set_timeout(Duration::from_secs(10));
        let answer = match client.execute(call).await {
            Ok(stream) => stream.into_inner().message().await,
            Err(status) => Err(status),
        };
        let retry = match answer {
            Ok(Some(pb::ExecuteResponse {
                result: Some(pb::execute_response::Result::Response(response)),
                ..
            })) => return Ok((response, failed)),
            Ok(Some(pb::ExecuteResponse {
                result: Some(pb::execute_response::Result::Error(error)),
                ..
            })) => {
                // Only "the log is unavailable" and "try again" may be retried; anything
                // else is a wrong answer to a consistent history.
                anyhow::ensure!(
                    error.code == Code::Unavailable as i32 || error.code == Code::Aborted as i32,
                    "command refused: {error:?}"
                );
                format!("{error:?}")
            }
            Ok(other) => anyhow::bail!("no answer to the command: {other:?}"),
            Err(status) => {
                // A call past this client's deadline ends CANCELLED ("Timeout expired") in
                // tonic: like DEADLINE_EXCEEDED, the command may or may not have been
                // carried out, and sending it again with its id tells which.
                anyhow::ensure!(
                    matches!(
                        status.code(),
                        Code::Unavailable | Code::DeadlineExceeded | Code::Aborted
                    ) || (status.code() == Code::Cancelled
                        && status.message().contains("Timeout expired")),
                    "command failed: {status:?}"
                );
                format!("{status:?}")
            }
        };
        failed += 1;
        anyhow::ensure!(
            Instant::now() < deadline,
            "still not accepted after a minute: {retry}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The log position once it stops moving (the policies may still act on the history).
async fn settled_position(channel: Channel, from: u64) -> anyhow::Result<u64> {
    let mut tickets = TicketServiceClient::new(channel);
    let mut settled = 0;
    for _ in 0..40 {
        let position = tickets
            .count_tickets(auth(pb::CountTicketsRequest {
                read: Some(pb::ReadOptions {
                    min_position: from.max(settled),
                    wait_ms: 30_000,
                }),
            }))
            .await?
            .into_inner()
            .position;
        if position == settled {
            return Ok(settled);
        }
        settled = position;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    anyhow::bail!("the log kept moving")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_stream_leader_loses_no_acknowledged_command() -> anyhow::Result<()> {
    let mut cluster = NatsCluster::start(3)?;
    let js = wait_for_jetstream(&cluster).await?;
    let url = cluster.url();
    let on_cluster = |words: &[&str]| {
        Helpdesk::builder()
            .nats_url(url.clone())
            .subcommand(words.iter().copied())
            .arg("--replicas")
            .arg("3")
    };
    let commands = on_cluster(&["commands"])
        .owner_token(OWNER)
        .arg("--tick-seconds")
        .arg("3600")
        .start()
        .await?;
    let survivor = on_cluster(&PROJECT).start().await?;

    // A steady load, one command after the other; the leader dies after KILL_AFTER.
    let days = 2;
    let config = WorkloadConfig::new(29, 8, days, HISTORY_START);
    let requests: Vec<pb::ExecuteRequest> = Workload::new(config.clone()).take(COMMANDS).collect();
    assert_eq!(requests.len(), COMMANDS, "the workload is long enough");
    let channel = commands.channel().await?;
    let leader = stream_leader(&js).await?;
    let mut acks = Vec::with_capacity(COMMANDS);
    let mut failed_attempts = 0;
    let mut killed_at = None;
    for request in &requests {
        if acks.len() == KILL_AFTER {
            cluster
                .server_mut(&leader)
                .expect("the leader is one of the cluster's servers")
                .kill();
            killed_at = Some(Instant::now());
        }
        let (response, failed) = send_until_accepted(&channel, request).await?;
        failed_attempts += failed;
        acks.push(Ack {
            request: request.clone(),
            position: response.position,
            at: Instant::now(),
        });
    }
    let killed_at = killed_at.expect("the leader was killed");
    let after = acks.iter().filter(|a| a.at > killed_at).count();
    let first_after = acks
        .iter()
        .find(|a| a.at > killed_at)
        .map(|a| a.at - killed_at);
    eprintln!(
        "killed stream leader {leader}; {after} commands acknowledged after it, the first \
         {first_after:?} after the kill; {failed_attempts} attempts retried"
    );
    assert_eq!(
        after,
        COMMANDS - KILL_AFTER,
        "commands resumed after the election"
    );
    let new_leader = stream_leader(&js).await?;
    assert_ne!(new_leader, leader, "another server leads the stream");

    // Every acknowledged command is in the log: a command service with nothing cached
    // finds each one there, and answers it as a duplicate at its first position.
    let fresh_commands = on_cluster(&["commands"])
        .owner_token(OWNER)
        .arg("--tick-seconds")
        .arg("3600")
        .start()
        .await?;
    let fresh_channel = fresh_commands.channel().await?;
    for ack in &acks {
        let (again, _) = send_until_accepted(&fresh_channel, &ack.request).await?;
        assert!(
            again.duplicate,
            "an acknowledged command was not in the log: {:?}",
            ack.request
        );
        assert_eq!(
            again.position, ack.position,
            "a command moved in the log: {:?}",
            ack.request
        );
    }

    // The projections that lived through the failover equal a clean rebuild.
    let last = acks.iter().map(|a| a.position).max().unwrap_or(0);
    let settled = settled_position(survivor.channel().await?, last).await?;
    let rebuilt = on_cluster(&PROJECT).start().await?;
    let read = Some(pb::ReadOptions {
        min_position: settled,
        wait_ms: 30_000,
    });
    let pair = Pair {
        left: survivor.channel().await?,
        right: rebuilt.channel().await?,
        names: [
            "the projections that lived through the failover",
            "a clean rebuild",
        ],
        token: OWNER.into(),
        read,
    };
    let workload = Workload::new(config.clone());
    let tickets = same!(
        pair,
        TicketServiceClient,
        list_tickets,
        pb::ListTicketsRequest {
            page_size: 1000,
            read,
            ..Default::default()
        }
    );
    let count = |kind: fn(&pb::execute_request::Command) -> bool| {
        acks.iter()
            .filter(|a| a.request.command.as_ref().is_some_and(kind))
            .count()
    };
    let created = count(|c| matches!(c, pb::execute_request::Command::CreateTicket(_)));
    let deleted = count(|c| matches!(c, pb::execute_request::Command::DeleteTicket(_)));
    assert!(created > 0, "the load created no ticket");
    assert_eq!(
        tickets.tickets.len(),
        created - deleted,
        "every ticket created once (and deleted ones gone), none twice"
    );
    same!(
        pair,
        TicketServiceClient,
        count_tickets,
        pb::CountTicketsRequest { read }
    );
    for agent in workload.agent_ids() {
        same!(
            pair,
            StatsServiceClient,
            get_agent_stats,
            pb::GetAgentStatsRequest {
                agent_id: agent.to_string(),
                window: None,
                read,
            }
        );
    }
    same!(
        pair,
        LevelServiceClient,
        get_leaderboard,
        pb::GetLeaderboardRequest { limit: 0, read }
    );
    same!(
        pair,
        BadgeServiceClient,
        list_badges,
        pb::ListBadgesRequest { read }
    );
    let from = utc_date(config.start);
    let to = utc_date(config.end());
    let report = same!(
        pair,
        ReportServiceClient,
        get_report,
        pb::ReportRequest {
            from,
            to,
            bucket: pb::ReportBucket::Day as i32,
            group_by: pb::ReportGroup::Department as i32,
            read,
            ..Default::default()
        }
    );
    assert!(!report.rows.is_empty(), "an empty report");
    Ok(())
}
