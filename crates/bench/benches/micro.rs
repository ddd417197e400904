//! Micro-benchmarks (criterion): condition evaluation, envelope encode and decode, and one
//! event folded by each projector. `just bench-micro` (or `cargo bench -p helpdesk-bench`).
//!
//! The folds run over a generated history: the first messages are folded once to give
//! the model state (kept in memory in one uncommitted `Txn` over a temporary sled tree),
//! then each iteration folds the next message's events, cycling through a window of the
//! history. Writes stay in memory, so a fold here is the model's own work plus reads of
//! its in-memory writes: the sled commit and flush of a batch are not in it (the
//! `helpdesk-bench` table's replay rows have them).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use helpdesk_bench::history::History;
use helpdesk_domain::{AggregateId, Envelope};
use helpdesk_projections::badges::Badges;
use helpdesk_projections::levels::Levels;
use helpdesk_projections::reports::Reports;
use helpdesk_projections::stats::Stats;
use helpdesk_projections::tickets::Tickets;
use helpdesk_projections::{At, Model, Partition, Txn};
use helpdesk_rules::condition::{compile, Values, Variable};
use helpdesk_rules::defaults::LEVELS;
use helpdesk_workload::WorkloadConfig;

fn conditions(c: &mut Criterion) {
    let mut group = c.benchmark_group("condition");
    let values = Values::new()
        .with(Variable::Answers, 4_000.0)
        .with(Variable::Chats, 1_300.0)
        .with(Variable::Calls, 700.0)
        .with(Variable::Worktime, 500.0)
        .with(Variable::Rewards, 300.0)
        .with(Variable::RewardsP, 70.0);
    for level in [&LEVELS[5], &LEVELS[9], &LEVELS[11]] {
        let condition = compile(level.condition).expect("default conditions compile");
        group.bench_function(format!("eval {}", level.name), |b| {
            b.iter(|| black_box(&condition).holds(black_box(&values)))
        });
    }
    group.bench_function("compile King", |b| {
        b.iter(|| compile(black_box(LEVELS[11].condition)))
    });
    group.finish();
}

/// The first `n` messages of a generated history, decoded.
fn history(n: usize) -> Vec<(String, Vec<u8>, Envelope)> {
    let cfg = WorkloadConfig {
        agents: 30,
        days: 30,
        ..WorkloadConfig::default()
    };
    History::new(cfg)
        .take(n)
        .map(|m| {
            let envelope = Envelope::decode(&m.payload).expect("generated envelopes decode");
            (m.subject, m.payload, envelope)
        })
        .collect()
}

fn envelopes(c: &mut Criterion) {
    let messages = history(2_000);
    let mut group = c.benchmark_group("envelope");
    group.throughput(Throughput::Elements(messages.len() as u64));
    group.bench_function("encode 2000", |b| {
        b.iter(|| {
            for (_, _, envelope) in &messages {
                black_box(envelope.encode());
            }
        })
    });
    group.bench_function("decode 2000", |b| {
        b.iter(|| {
            for (_, bytes, _) in &messages {
                black_box(Envelope::decode(bytes).expect("decodes"));
            }
        })
    });
    group.finish();
}

const WARM: usize = 5_000;
const WINDOW: usize = 5_000;

fn fold_one<M: Model>(c: &mut Criterion, model: M, messages: &[(AggregateId, Envelope)]) {
    let db = sled::Config::new()
        .temporary(true)
        .open()
        .expect("a temporary sled");
    let tree = db.open_tree("model").expect("a tree");
    let mut txn = Txn::new(&tree);
    let fold = |txn: &mut Txn<'_>, index: usize| {
        let (aggregate, envelope) = &messages[index];
        let at = At {
            position: index as u64 + 1,
            time: envelope.occurred_at,
            aggregate: *aggregate,
            envelope,
            partition: Partition::ALL,
        };
        for event in &envelope.events {
            model.fold(txn, &at, event).expect("folds");
        }
    };
    for index in 0..WARM {
        fold(&mut txn, index);
    }
    let mut next = 0;
    c.bench_function(&format!("fold one message/{}", M::NAME), |b| {
        b.iter(|| {
            fold(&mut txn, WARM + next);
            next = (next + 1) % WINDOW;
        })
    });
}

fn folds(c: &mut Criterion) {
    let messages: Vec<(AggregateId, Envelope)> = history(WARM + WINDOW)
        .into_iter()
        .map(|(subject, _, envelope)| {
            (
                AggregateId::from_subject(&subject).expect("generated subjects name aggregates"),
                envelope,
            )
        })
        .collect();
    fold_one(c, Tickets, &messages);
    fold_one(c, Stats::default(), &messages);
    fold_one(c, Levels::new(), &messages);
    fold_one(c, Badges::new(), &messages);
    fold_one(c, Reports::default(), &messages);
}

criterion_group!(benches, conditions, envelopes, folds);
criterion_main!(benches);
