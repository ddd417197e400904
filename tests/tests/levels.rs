//! Levels and statistics end to end: an agent climbs the default ladder through the real
//! binary, the level-up arrives on the stream with its values, progress says what is
//! missing, a dry run and a stricter definition behave, and a recompute takes a level
//! away only when an administrator applies it.
//!
//! Needs the binary (`cargo build -p helpdesk-server`) and `nats-server` (`just test` sees to
//! both).

use std::time::Duration;

use helpdesk_api::{
    pb, AdminServiceClient, CommandServiceClient, LevelServiceClient, StatsServiceClient,
};
use helpdesk_tests::{with_token, Helpdesk};
use tonic::{Code, Request};

fn auth<T>(token: &str, message: T) -> Request<T> {
    with_token(Request::new(message), token)
}

async fn run(helpdesk: &Helpdesk) -> anyhow::Result<()> {
    let token = helpdesk.token().to_owned();
    let channel = helpdesk.channel().await?;
    let mut commands = CommandServiceClient::new(channel.clone());
    let mut levels = LevelServiceClient::new(channel.clone());
    let mut stats = StatsServiceClient::new(channel.clone());
    let mut admin = AdminServiceClient::new(channel.clone());

    // The Owner watches level-ups from now on.
    let mut watch = levels
        .watch_level_ups(auth(&token, pb::WatchLevelUpsRequest::default()))
        .await?
        .into_inner();

    let ada = commands
        .register_agent(auth(
            &token,
            pb::RegisterAgentRequest {
                name: "Ada".into(),
                email: "ada@example.com".into(),
                role: Some(pb::RoleRef {
                    role: Some(pb::role_ref::Role::Builtin(pb::BuiltinRole::Agent as i32)),
                }),
                ..Default::default()
            },
        ))
        .await?
        .into_inner()
        .aggregate_id;
    // Ten answers: Apprentice ($answers + $chats >= 10).
    let ticket = commands
        .create_ticket(auth(
            &token,
            pb::CreateTicketRequest {
                channel: pb::Channel::Email as i32,
                priority: pb::Priority::Normal as i32,
                subject: "Help".into(),
                ..Default::default()
            },
        ))
        .await?
        .into_inner()
        .aggregate_id;
    let mut last = 0;
    for _ in 0..10 {
        last = commands
            .answer_ticket(auth(
                &token,
                pb::AnswerTicketRequest {
                    ticket_id: ticket.clone(),
                    agent_id: ada.clone(),
                    chars: 120,
                    ..Default::default()
                },
            ))
            .await?
            .into_inner()
            .position;
    }

    // Novice at registration, then Apprentice: in that order, on the stream.
    let mut ups = Vec::new();
    while ups.len() < 2 {
        let up = tokio::time::timeout(Duration::from_secs(20), watch.message())
            .await?
            .map_err(anyhow::Error::from)?
            .expect("the stream stays open");
        if up.agent_id == ada {
            ups.push(up);
        }
    }
    let names: Vec<_> = ups
        .iter()
        .map(|u| u.level.as_ref().unwrap().name.clone())
        .collect();
    assert_eq!(names, ["Novice", "Apprentice"]);
    assert_eq!(ups[1].values["answers"], 10.0, "{:?}", ups[1].values);
    assert!(ups[1].message.contains("training has only just begun"));

    let read = Some(pb::ReadOptions {
        min_position: last,
        wait_ms: 20_000,
    });
    let standing = levels
        .get_agent_level(auth(
            &token,
            pb::GetAgentLevelRequest {
                agent_id: ada.clone(),
                read,
            },
        ))
        .await?
        .into_inner();
    let level = standing.level.unwrap();
    assert_eq!(level.level.as_ref().unwrap().rank, 2);
    assert_eq!(standing.reached.len(), 2);

    let progress = levels
        .get_level_progress(auth(
            &token,
            pb::GetLevelProgressRequest {
                agent_id: ada.clone(),
                read,
            },
        ))
        .await?
        .into_inner();
    assert_eq!(progress.next.unwrap().name, "Intern");
    // `$answers >= 50 || $chats >= 50` is one part: it compares no single number.
    assert_eq!(progress.parts.len(), 1);
    assert!(!progress.parts[0].holds);

    let mine = stats
        .get_agent_stats(auth(
            &token,
            pb::GetAgentStatsRequest {
                agent_id: ada.clone(),
                read,
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    assert_eq!(mine.variables["answers"], 10.0);
    assert_eq!(
        mine.counters["handled"], 1,
        "one ticket, answered ten times"
    );
    assert_eq!(mine.variables["not_ranked_p"], 100.0);

    let board = levels
        .get_leaderboard(auth(&token, pb::GetLeaderboardRequest { limit: 10, read }))
        .await?
        .into_inner();
    assert_eq!(
        board.rows[0].agent_id, ada,
        "Apprentice beats the Owner's Novice"
    );

    // A draft condition: checked, then evaluated for everyone.
    let bad = levels
        .dry_run_condition(auth(
            &token,
            pb::DryRunConditionRequest {
                condition: "$answers >=".into(),
                read: None,
            },
        ))
        .await
        .expect_err("an incomplete condition");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("column 12"), "{bad:?}");
    let dry = levels
        .dry_run_condition(auth(
            &token,
            pb::DryRunConditionRequest {
                condition: "$answers >= 10".into(),
                read: None,
            },
        ))
        .await?
        .into_inner();
    assert_eq!(dry.qualifying, 1);
    assert_eq!(dry.rows[0].agent_id, ada);

    // A stricter Apprentice: Ada keeps her level (levels are permanent) …
    let ladder = levels
        .list_levels(auth(&token, pb::ListLevelsRequest::default()))
        .await?
        .into_inner()
        .levels;
    let apprentice = ladder.iter().find(|l| l.name == "Apprentice").unwrap();
    commands
        .update_level(auth(
            &token,
            pb::UpdateLevelRequest {
                level_id: apprentice.level_id.clone(),
                condition: Some("$answers + $chats >= 1000".into()),
                ..Default::default()
            },
        ))
        .await?;
    // … until a recompute with today's definitions is previewed and applied.
    let recompute = pb::LevelRecomputeRequest {
        mode: pb::RecomputeMode::TodaysDefinitions as i32,
        command_id: String::new(),
    };
    let preview = admin
        .preview_level_recompute(auth(&token, recompute.clone()))
        .await?
        .into_inner();
    assert!(preview.gained.is_empty(), "{preview:?}");
    assert_eq!(preview.lost.len(), 1, "{preview:?}");
    assert_eq!(preview.lost[0].agent_id, ada);
    assert_eq!(preview.lost[0].level_name, "Apprentice");
    let still = levels
        .get_agent_level(auth(
            &token,
            pb::GetAgentLevelRequest {
                agent_id: ada.clone(),
                read: None,
            },
        ))
        .await?
        .into_inner();
    assert_eq!(still.reached.len(), 2, "a preview changes nothing");

    let applied = admin
        .apply_level_recompute(auth(&token, recompute))
        .await?
        .into_inner();
    assert_eq!(applied.applied.len(), 1);
    let after = levels
        .get_agent_level(auth(
            &token,
            pb::GetAgentLevelRequest {
                agent_id: ada.clone(),
                read: Some(pb::ReadOptions {
                    min_position: applied.applied[0].position,
                    wait_ms: 20_000,
                }),
            },
        ))
        .await?
        .into_inner();
    assert_eq!(after.level.unwrap().level.unwrap().name, "Novice");
    Ok(())
}

#[tokio::test]
async fn an_agent_climbs_and_a_recompute_applies_todays_definitions() -> anyhow::Result<()> {
    let mut helpdesk = Helpdesk::start_embedded().await?;
    run(&helpdesk).await?;
    helpdesk.stop().await
}
