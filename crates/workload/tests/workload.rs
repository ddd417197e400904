//! Properties of the generated request stream: deterministic, timed, well formed, varied.

use std::collections::BTreeSet;
use std::time::Instant;

use helpdesk_api::pb;
use helpdesk_api::pb::execute_request::Command as Cmd;
use helpdesk_workload::{command_kind, Workload, WorkloadConfig, GENERATED_KINDS};
use prost::Message;
use uuid::Uuid;

fn cfg(seed: u64, agents: u32, days: u32) -> WorkloadConfig {
    WorkloadConfig {
        seed,
        agents,
        days,
        ..WorkloadConfig::default()
    }
}

fn encoded(cfg: WorkloadConfig) -> Vec<Vec<u8>> {
    Workload::new(cfg).map(|r| r.encode_to_vec()).collect()
}

fn millis(ts: &prost_types::Timestamp) -> i64 {
    ts.seconds * 1_000 + i64::from(ts.nanos / 1_000_000)
}

/// The command id, the time and every id a request names (empty where it names none).
fn parts(request: &pb::ExecuteRequest) -> (&str, Option<&prost_types::Timestamp>, Vec<&str>) {
    macro_rules! r {
        ($r:expr, [$($id:ident),*]) => {
            (&$r.command_id[..], $r.occurred_at.as_ref(), vec![$(&$r.$id[..]),*])
        };
    }
    match request.command.as_ref().expect("a command") {
        Cmd::RegisterAgent(r) => r!(r, [agent_id]),
        Cmd::CreateDepartment(r) => r!(r, [department_id]),
        Cmd::AddAgentToDepartment(r) => r!(r, [department_id, agent_id]),
        Cmd::DefineRoutingRule(r) => {
            let (command_id, at, mut ids) = r!(r, [rule_id]);
            for action in &r.actions {
                if let Some(pb::routing_action::Action::TransferToDepartmentId(d)) = &action.action
                {
                    ids.push(d);
                }
            }
            (command_id, at, ids)
        }
        Cmd::GoOnline(r) => r!(r, [agent_id]),
        Cmd::GoOffline(r) => r!(r, [agent_id]),
        Cmd::PauseAgent(r) => r!(r, [agent_id]),
        Cmd::ResumeAgent(r) => r!(r, [agent_id]),
        Cmd::CreateTicket(r) => {
            let (command_id, at, mut ids) = r!(r, [ticket_id]);
            if !r.department_id.is_empty() {
                ids.push(&r.department_id);
            }
            (command_id, at, ids)
        }
        Cmd::AssignTicket(r) => r!(r, [ticket_id, agent_id]),
        Cmd::UnassignTicket(r) => r!(r, [ticket_id]),
        Cmd::TransferTicket(r) => r!(r, [ticket_id, department_id, agent_id]),
        Cmd::AnswerTicket(r) => r!(r, [ticket_id, agent_id]),
        Cmd::RecordCustomerReply(r) => r!(r, [ticket_id]),
        Cmd::TagTicket(r) => r!(r, [ticket_id, agent_id]),
        Cmd::UntagTicket(r) => r!(r, [ticket_id, agent_id]),
        Cmd::ResolveTicket(r) => r!(r, [ticket_id, agent_id]),
        Cmd::ReopenTicket(r) => r!(r, [ticket_id, agent_id]),
        Cmd::DeleteTicket(r) => r!(r, [ticket_id, agent_id]),
        Cmd::StartChat(r) => {
            let (command_id, at, mut ids) = r!(r, [chat_id]);
            if !r.department_id.is_empty() {
                ids.push(&r.department_id);
            }
            (command_id, at, ids)
        }
        Cmd::OfferChat(r) => r!(r, [chat_id, agent_id]),
        Cmd::AcceptChat(r) => r!(r, [chat_id, agent_id]),
        Cmd::MissChat(r) => r!(r, [chat_id]),
        Cmd::AnswerChat(r) => r!(r, [chat_id, agent_id]),
        Cmd::RecordChatCustomerMessage(r) => r!(r, [chat_id]),
        Cmd::EndChat(r) => r!(r, [chat_id]),
        Cmd::IncomingCall(r) => {
            let (command_id, at, mut ids) = r!(r, [call_id]);
            if !r.department_id.is_empty() {
                ids.push(&r.department_id);
            }
            (command_id, at, ids)
        }
        Cmd::RingCall(r) => r!(r, [call_id, agent_id]),
        Cmd::AnswerCall(r) => r!(r, [call_id, agent_id]),
        Cmd::MissCall(r) => r!(r, [call_id]),
        Cmd::EndCall(r) => r!(r, [call_id]),
        Cmd::RateConversation(r) => (
            &r.command_id[..],
            r.occurred_at.as_ref(),
            vec![&r.conversation.as_ref().expect("a conversation").id[..]],
        ),
        Cmd::RetractRating(r) => (
            &r.command_id[..],
            r.occurred_at.as_ref(),
            vec![&r.conversation.as_ref().expect("a conversation").id[..]],
        ),
        other => panic!("the generator does not claim to make {other:?}"),
    }
}

#[test]
fn the_same_config_gives_the_same_bytes() {
    let a = encoded(cfg(17, 10, 2));
    let b = encoded(cfg(17, 10, 2));
    assert!(a.len() > 1_000);
    assert_eq!(a.len(), b.len());
    assert!(a == b, "the sequences differ");
}

#[test]
fn other_seeds_and_configs_give_other_sequences() {
    let base = encoded(cfg(17, 10, 1));
    assert_ne!(base, encoded(cfg(18, 10, 1)));
    assert_ne!(base, encoded(cfg(17, 11, 1)));
    let mut busier = cfg(17, 10, 1);
    busier.intensity = 1.5;
    assert_ne!(base, encoded(busier));
    // Not even the first ids are shared.
    let first = |seed| {
        let request = Workload::new(cfg(seed, 10, 1)).next().unwrap();
        parts(&request).0.to_owned()
    };
    assert_ne!(first(1), first(2));
}

#[test]
fn a_longer_run_starts_like_a_shorter_one() {
    // Day by day: the first day of a two-day run is the one-day run (the generator never
    // looks ahead), apart from what the one-day run cut off at its end.
    let one = encoded(cfg(5, 12, 1));
    let two = encoded(cfg(5, 12, 2));
    assert!(two.len() > one.len());
    assert_eq!(&two[..one.len()], &one[..]);
}

#[test]
fn times_never_run_backwards_and_cover_the_days() {
    let config = cfg(3, 15, 3);
    let (start, end) = (config.start, config.end());
    let mut last = i64::MIN;
    let mut days_seen = BTreeSet::new();
    let mut count = 0;
    for request in Workload::new(config) {
        let at = millis(parts(&request).1.expect("every request has occurred_at"));
        assert!(at >= last, "{at} after {last}: {request:?}");
        assert!((start..end).contains(&at), "{at} outside [{start}, {end})");
        days_seen.insert((at - start) / 86_400_000);
        last = at;
        count += 1;
    }
    assert!(count > 5_000);
    assert_eq!(days_seen.into_iter().collect::<Vec<_>>(), [0, 1, 2]);
}

#[test]
fn the_first_request_is_at_start() {
    let config = cfg(3, 4, 1);
    let start = config.start;
    let first = Workload::new(config).next().unwrap();
    assert_eq!(millis(parts(&first).1.unwrap()), start);
    assert_eq!(command_kind(&first), "CreateDepartment");
    assert_eq!(Workload::new(cfg(3, 4, 0)).count(), 0);
}

#[test]
fn every_id_is_a_uuid_and_command_ids_are_unique() {
    let mut command_ids = BTreeSet::new();
    for request in Workload::new(cfg(9, 12, 2)) {
        let (command_id, _, ids) = parts(&request);
        let parsed: Uuid = command_id
            .parse()
            .unwrap_or_else(|_| panic!("command id {command_id:?} in {request:?}"));
        assert_eq!(parsed.get_version_num(), 7);
        assert!(command_ids.insert(parsed), "command id {parsed} twice");
        assert!(!ids.is_empty());
        for id in ids {
            let parsed: Uuid = id
                .parse()
                .unwrap_or_else(|_| panic!("id {id:?} in {request:?}"));
            assert_eq!(parsed.get_version_num(), 7, "{id}");
        }
    }
}

#[test]
fn the_mix_has_every_kind_claimed() {
    let mut workload = Workload::new(cfg(21, 20, 3));
    let mut seen = BTreeSet::new();
    for request in workload.by_ref() {
        seen.insert(command_kind(&request));
    }
    let claimed: BTreeSet<&str> = GENERATED_KINDS.iter().copied().collect();
    assert_eq!(seen, claimed);
    let stats = workload.stats();
    assert_eq!(
        stats.by_kind.keys().copied().collect::<BTreeSet<_>>(),
        claimed
    );
    assert_eq!(stats.by_kind.values().sum::<u64>(), stats.requests);
    assert_eq!(stats.days_begun, 3);
    assert_eq!(stats.count("RegisterAgent"), 20);
    assert_eq!(stats.count("CreateDepartment"), 4);
    assert_eq!(stats.count("DefineRoutingRule"), 4);
}

#[test]
fn a_normal_day_of_50_agents_is_20k_to_40k_requests() {
    let mut workload = Workload::new(WorkloadConfig::default());
    let count = workload.by_ref().count();
    assert!((20_000..=40_000).contains(&count), "{count}");
    let stats = workload.stats();
    assert_eq!(stats.requests as usize, count);
    // Every working agent went online and offline again.
    assert_eq!(stats.count("GoOnline"), stats.count("GoOffline"));
    assert!(stats.count("GoOnline") >= 40);
}

#[test]
fn intensity_scales_the_traffic() {
    let count = |intensity| {
        let mut config = cfg(4, 20, 1);
        config.intensity = intensity;
        let mut workload = Workload::new(config);
        workload.by_ref().for_each(drop);
        workload.stats().count("CreateTicket")
    };
    let (half, normal, double) = (count(0.5), count(1.0), count(2.0));
    assert!(half < normal && normal < double, "{half} {normal} {double}");
    assert!((double as f64 / half as f64) > 3.0, "{half} {double}");
}

#[test]
fn weekends_are_quieter() {
    // 2024-01-06 is a Saturday.
    let mut saturday = cfg(4, 30, 1);
    saturday.start += 5 * 86_400_000;
    let weekend = Workload::new(saturday).count();
    let weekday = Workload::new(cfg(4, 30, 1)).count();
    assert!(weekend * 2 < weekday, "{weekend} vs {weekday}");
}

/// Volumes and generation speed: `cargo test -p helpdesk-workload --release --test workload
/// -- --ignored --nocapture volumes`.
#[test]
#[ignore = "prints volumes and timings"]
fn volumes() {
    for (agents, days) in [(50, 1), (50, 14), (200, 7)] {
        let started = Instant::now();
        let mut workload = Workload::new(cfg(42, agents, days));
        let count = workload.by_ref().count();
        let elapsed = started.elapsed();
        let stats = workload.stats();
        println!(
            "{agents} agents × {days} days: {count} requests in {elapsed:.2?} ({:.0} k/s)",
            count as f64 / elapsed.as_secs_f64() / 1_000.0
        );
        for (kind, n) in &stats.by_kind {
            println!("  {kind:<26} {n:>9}");
        }
    }
}

/// When the system routes: no offer or ring by hand, the same bytes from the same config,
/// offers announced after the requests that make them possible, and every chat and call
/// taken or declined by one agent only after an offer was announced for it.
#[test]
fn when_the_system_routes_the_history_offers_nothing_and_says_when_the_system_does() {
    let routed = WorkloadConfig {
        system_routes: Some(30),
        ..cfg(5, 12, 1)
    };
    let steps: Vec<(pb::ExecuteRequest, u32)> = {
        let mut workload = Workload::new(routed.clone());
        std::iter::from_fn(|| workload.next_step()).collect()
    };
    assert_eq!(
        encoded(routed.clone()),
        steps
            .iter()
            .map(|(r, _)| r.encode_to_vec())
            .collect::<Vec<_>>()
    );
    assert_eq!(encoded(routed.clone()), encoded(routed));
    let mut offers = 0u32;
    let mut answers = 0u32;
    for (request, follow) in &steps {
        match request.command.as_ref().expect("a command") {
            Cmd::OfferChat(_) | Cmd::RingCall(_) => panic!("an offer by hand: {request:?}"),
            Cmd::AcceptChat(_) | Cmd::AnswerCall(_) | Cmd::MissChat(_) | Cmd::MissCall(_) => {
                answers += 1;
                assert!(answers <= offers, "an answer before its offer: {request:?}");
            }
            Cmd::StartChat(_) | Cmd::IncomingCall(_) | Cmd::GoOnline(_) | Cmd::ResumeAgent(_) => {}
            _ => assert_eq!(*follow, 0, "no offer follows {request:?}"),
        }
        offers += follow;
    }
    assert!(answers > 100, "{answers} offers answered");
    // Planned pauses are paused and resumed by hand.
    assert!(steps.iter().all(|(r, _)| !matches!(
        r.command.as_ref(),
        Some(Cmd::PauseAgent(p)) if p.planned_minutes.is_some()
    )));
}
