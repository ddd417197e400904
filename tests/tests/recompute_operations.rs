//! Recomputes as long operations, end to end: a level preview started, watched to its end
//! and compared with the unary preview; a badge apply run as an operation; a recompute on
//! a long history cancelled while it runs (nothing appended, its scratch stores gone)
//! while queries are answered meanwhile; NOT_FOUND for an id that names no operation and
//! PERMISSION_DENIED for a caller without gamification.manage.
//!
//! Needs the binary (`cargo build -p helpdesk-server`).

use std::time::{Duration, Instant};

use helpdesk_api::{pb, AdminServiceClient, CommandServiceClient, LevelServiceClient};
use helpdesk_tests::workload::feed;
use helpdesk_tests::{with_token, Helpdesk, HISTORY_START};
use helpdesk_workload::WorkloadConfig;
use tonic::transport::Channel;
use tonic::{Code, Request};

fn auth<T>(token: &str, message: T) -> Request<T> {
    with_token(Request::new(message), token)
}

fn state(operation: &pb::Operation) -> pb::OperationState {
    pb::OperationState::try_from(operation.state).expect("a known state")
}

/// A server with a fed history (no clock ticks, no rate limit), and the log position the
/// history reached.
async fn with_history(agents: u32, days: u32) -> anyhow::Result<(Helpdesk, u64)> {
    let helpdesk = Helpdesk::builder()
        .arg("--tick-seconds")
        .arg("3600")
        .arg("--rate-limit")
        .arg("0")
        .start()
        .await?;
    let started = Instant::now();
    let last = feed(
        helpdesk.channel().await?,
        helpdesk.token(),
        WorkloadConfig::new(7, agents, days, HISTORY_START),
    )
    .await?;
    eprintln!(
        "fed {last} positions in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok((helpdesk, last))
}

/// Makes the top level easy to reach, so that a recompute with today's definitions
/// grants it to whoever answered anything.
async fn easy_top_level(channel: Channel, token: &str) -> anyhow::Result<()> {
    let ladder = LevelServiceClient::new(channel.clone())
        .list_levels(auth(token, pb::ListLevelsRequest::default()))
        .await?
        .into_inner()
        .levels;
    let top = ladder.iter().max_by_key(|l| l.rank).unwrap();
    CommandServiceClient::new(channel)
        .update_level(auth(
            token,
            pb::UpdateLevelRequest {
                level_id: top.level_id.clone(),
                condition: Some("$answers + $chats >= 1".into()),
                ..Default::default()
            },
        ))
        .await?;
    Ok(())
}

fn level_recompute(apply: bool) -> pb::StartRecomputeRequest {
    pb::StartRecomputeRequest {
        kind: Some(pb::start_recompute_request::Kind::Level(
            pb::LevelRecomputeRequest {
                mode: pb::RecomputeMode::TodaysDefinitions as i32,
                command_id: String::new(),
            },
        )),
        apply,
    }
}

/// Every message of `WatchOperation` for `id`, up to the end of the stream.
async fn watch_to_the_end(
    admin: &mut AdminServiceClient<Channel>,
    token: &str,
    id: &str,
) -> anyhow::Result<Vec<pb::Operation>> {
    let mut stream = admin
        .watch_operation(auth(token, pb::WatchOperationRequest { id: id.into() }))
        .await?
        .into_inner();
    let mut seen = Vec::new();
    while let Some(operation) =
        tokio::time::timeout(Duration::from_secs(60), stream.message()).await??
    {
        seen.push(operation);
    }
    Ok(seen)
}

#[tokio::test]
async fn a_recompute_runs_as_an_operation_that_is_watched_to_its_result() -> anyhow::Result<()> {
    let (helpdesk, _) = with_history(12, 3).await?;
    let token = helpdesk.token().to_owned();
    let channel = helpdesk.channel().await?;
    let mut admin = AdminServiceClient::new(channel.clone());
    easy_top_level(channel.clone(), &token).await?;

    // A level preview: started, watched to its end.
    let started = admin
        .start_recompute(auth(&token, level_recompute(false)))
        .await?
        .into_inner();
    assert_eq!(state(&started), pb::OperationState::Running);
    assert_eq!(started.kind, pb::OperationKind::LevelRecompute as i32);
    assert!(!started.apply);
    assert_eq!(uuid::Uuid::parse_str(&started.id)?.get_version_num(), 7);
    let seen = watch_to_the_end(&mut admin, &token, &started.id).await?;
    let last = seen.last().expect("at least the final state");
    assert_eq!(state(last), pb::OperationState::Succeeded, "{last:?}");
    assert!(
        seen[..seen.len() - 1]
            .iter()
            .all(|o| state(o) == pb::OperationState::Running),
        "only the last message is final: {seen:?}"
    );
    assert!(
        seen.windows(2).all(|w| w[0].position <= w[1].position),
        "the position never goes back"
    );
    assert!(last.end > 0 && last.position == last.end, "{last:?}");
    assert!(last.finished_at.is_some() && last.started_at.is_some());
    let Some(pb::operation::Result::Level(found)) = last.result.clone() else {
        panic!("a level result: {last:?}");
    };
    assert!(
        !found.gained.is_empty(),
        "the easy top level is gained: {} lost, replayed to {}",
        found.lost.len(),
        found.replayed_to
    );
    assert!(found.applied.is_empty(), "a preview applies nothing");
    // The unary preview finds the same (the log has not moved).
    let unary = admin
        .preview_level_recompute(auth(
            &token,
            pb::LevelRecomputeRequest {
                mode: pb::RecomputeMode::TodaysDefinitions as i32,
                command_id: String::new(),
            },
        ))
        .await?
        .into_inner();
    assert_eq!(unary, found);
    // Read again, and watched once finished: the final state at once, then the end.
    let again = admin
        .get_operation(auth(
            &token,
            pb::GetOperationRequest {
                id: started.id.clone(),
            },
        ))
        .await?
        .into_inner();
    assert_eq!(&again, last);
    let after = watch_to_the_end(&mut admin, &token, &started.id).await?;
    assert_eq!(after, vec![last.clone()]);
    let level_preview = started.id.clone();

    // A badge apply: "recognized" no longer awarded, so today's definitions take its
    // awards back.
    CommandServiceClient::new(channel.clone())
        .customize_badge(auth(
            &token,
            pb::CustomizeBadgeRequest {
                key: "recognized".into(),
                enabled: Some(false),
                ..Default::default()
            },
        ))
        .await?;
    let badge = pb::BadgeRecomputeRequest {
        mode: pb::RecomputeMode::TodaysDefinitions as i32,
        command_id: String::new(),
    };
    let started = admin
        .start_recompute(auth(
            &token,
            pb::StartRecomputeRequest {
                kind: Some(pb::start_recompute_request::Kind::Badge(badge.clone())),
                apply: true,
            },
        ))
        .await?
        .into_inner();
    assert_eq!(started.kind, pb::OperationKind::BadgeRecompute as i32);
    assert!(started.apply);
    let seen = watch_to_the_end(&mut admin, &token, &started.id).await?;
    let last = seen.last().unwrap();
    assert_eq!(state(last), pb::OperationState::Succeeded, "{last:?}");
    let Some(pb::operation::Result::Badge(applied)) = last.result.clone() else {
        panic!("a badge result: {last:?}");
    };
    assert!(
        applied.changes.iter().any(|c| c.badge_key == "recognized"),
        "{applied:?}"
    );
    assert!(!applied.applied.is_empty(), "the apply appended");
    assert!(applied
        .applied
        .iter()
        .all(|a| a.events.iter().all(|e| e == "BadgesRecomputed")));
    // Applied: a preview now finds nothing left to change.
    let preview = admin
        .preview_badge_recompute(auth(&token, badge))
        .await?
        .into_inner();
    assert!(preview.changes.is_empty(), "{preview:?}");

    // The operations are listed, newest first: the unary recomputes ran as operations
    // too.
    let listed: Vec<_> = admin
        .list_operations(auth(&token, pb::ListOperationsRequest {}))
        .await?
        .into_inner()
        .operations
        .into_iter()
        .map(|o| (o.id, o.kind, o.apply))
        .collect();
    let badge_kind = pb::OperationKind::BadgeRecompute as i32;
    let level_kind = pb::OperationKind::LevelRecompute as i32;
    assert_eq!(listed.len(), 4, "{listed:?}");
    assert_eq!(
        listed[0].1, badge_kind,
        "the unary badge preview: {listed:?}"
    );
    assert_eq!(listed[1], (started.id.clone(), badge_kind, true));
    assert_eq!(
        listed[2].1, level_kind,
        "the unary level preview: {listed:?}"
    );
    assert_eq!(listed[3], (level_preview, level_kind, false));

    // An id that names no operation.
    let unknown = uuid::Uuid::now_v7().to_string();
    let get = admin
        .get_operation(auth(
            &token,
            pb::GetOperationRequest {
                id: unknown.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(get.code(), Code::NotFound);
    assert!(get.message().contains(&unknown), "{get:?}");
    let cancel = admin
        .cancel_operation(auth(
            &token,
            pb::CancelOperationRequest {
                id: unknown.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(cancel.code(), Code::NotFound);
    let watch = admin
        .watch_operation(auth(
            &token,
            pb::WatchOperationRequest {
                id: unknown.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(watch.code(), Code::NotFound);
    assert!(watch.message().contains(&unknown), "{watch:?}");
    // A request checked as the unary one is.
    let bad = admin
        .start_recompute(auth(
            &token,
            pb::StartRecomputeRequest {
                kind: Some(pb::start_recompute_request::Kind::Level(
                    pb::LevelRecomputeRequest::default(),
                )),
                apply: false,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument, "{bad:?}");
    assert!(bad.message().contains("level.mode"), "{bad:?}");

    // An agent without gamification.manage may neither start nor read operations.
    let (_, agent_token, _) = helpdesk.new_agent("Grace").await?;
    let denied = [
        admin
            .start_recompute(auth(&agent_token, level_recompute(false)))
            .await
            .map(|_| ()),
        admin
            .get_operation(auth(
                &agent_token,
                pb::GetOperationRequest {
                    id: started.id.clone(),
                },
            ))
            .await
            .map(|_| ()),
        admin
            .watch_operation(auth(
                &agent_token,
                pb::WatchOperationRequest {
                    id: started.id.clone(),
                },
            ))
            .await
            .map(|_| ()),
        admin
            .cancel_operation(auth(
                &agent_token,
                pb::CancelOperationRequest {
                    id: started.id.clone(),
                },
            ))
            .await
            .map(|_| ()),
        admin
            .list_operations(auth(&agent_token, pb::ListOperationsRequest {}))
            .await
            .map(|_| ()),
    ];
    for (i, answer) in denied.into_iter().enumerate() {
        let err = answer.expect_err("denied");
        assert_eq!(err.code(), Code::PermissionDenied, "call {i}: {err:?}");
    }
    Ok(())
}

#[tokio::test]
async fn a_running_recompute_is_cancelled_and_queries_are_answered_meanwhile() -> anyhow::Result<()>
{
    let (helpdesk, _) = with_history(50, 2).await?;
    let token = helpdesk.token().to_owned();
    let channel = helpdesk.channel().await?;
    let mut admin = AdminServiceClient::new(channel.clone());
    easy_top_level(channel.clone(), &token).await?;
    let clock = |admin: &mut AdminServiceClient<Channel>| {
        let request = auth(&token, pb::GetLogClockRequest {});
        let mut admin = admin.clone();
        async move { anyhow::Ok(admin.get_log_clock(request).await?.into_inner().position) }
    };
    let before = clock(&mut admin).await?;

    // An apply that would grant the top level, started on the long history.
    let started = admin
        .start_recompute(auth(&token, level_recompute(true)))
        .await?
        .into_inner();
    let get = |admin: &mut AdminServiceClient<Channel>| {
        let request = auth(
            &token,
            pb::GetOperationRequest {
                id: started.id.clone(),
            },
        );
        let mut admin = admin.clone();
        async move { anyhow::Ok(admin.get_operation(request).await?.into_inner()) }
    };
    // Under way: replaying.
    let deadline = Instant::now() + Duration::from_secs(30);
    let running = loop {
        let now = get(&mut admin).await?;
        assert_eq!(state(&now), pb::OperationState::Running, "{now:?}");
        if now.position > 0 {
            break now;
        }
        assert!(Instant::now() < deadline, "no progress: {now:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(running.end >= running.position, "{running:?}");

    // Queries are answered while it runs.
    let asked = Instant::now();
    let board = LevelServiceClient::new(channel.clone())
        .get_leaderboard(auth(
            &token,
            pb::GetLeaderboardRequest {
                limit: 10,
                read: None,
            },
        ))
        .await?
        .into_inner();
    assert!(!board.rows.is_empty());
    eprintln!(
        "leaderboard answered in {:.3} s",
        asked.elapsed().as_secs_f64()
    );
    let still = get(&mut admin).await?;
    assert_eq!(
        state(&still),
        pb::OperationState::Running,
        "the leaderboard was answered while the recompute ran: {still:?}"
    );

    // Cancelled: it stops, and appends nothing.
    let cancelled = admin
        .cancel_operation(auth(
            &token,
            pb::CancelOperationRequest {
                id: started.id.clone(),
            },
        ))
        .await?
        .into_inner();
    assert_eq!(
        state(&cancelled),
        pb::OperationState::Cancelled,
        "{cancelled:?}"
    );
    assert!(cancelled.result.is_none() && cancelled.finished_at.is_some());
    assert_eq!(get(&mut admin).await?, cancelled);
    // Its watchers get the final state and the end.
    let seen = watch_to_the_end(&mut admin, &token, &started.id).await?;
    assert_eq!(seen, vec![cancelled.clone()]);
    assert_eq!(clock(&mut admin).await?, before, "nothing was appended");
    // The scratch stores are gone.
    let scratch = helpdesk.data_dir().join("recompute");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left: Vec<_> = std::fs::read_dir(&scratch)
            .map(|dir| dir.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "scratch stores left: {left:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The top level is still to be granted: the cancelled apply changed nothing.
    let preview = admin
        .preview_level_recompute(auth(
            &token,
            pb::LevelRecomputeRequest {
                mode: pb::RecomputeMode::TodaysDefinitions as i32,
                command_id: String::new(),
            },
        ))
        .await?
        .into_inner();
    assert!(!preview.gained.is_empty(), "{preview:?}");
    assert_eq!(
        clock(&mut admin).await?,
        before,
        "a preview appends nothing"
    );
    let listed = admin
        .list_operations(auth(&token, pb::ListOperationsRequest {}))
        .await?
        .into_inner()
        .operations;
    assert!(
        listed
            .iter()
            .any(|o| o.id == started.id && state(o) == pb::OperationState::Cancelled),
        "{listed:?}"
    );
    Ok(())
}
