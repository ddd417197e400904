//! The generated request streams, pinned: the same config gives exactly the requests it
//! gave when these hashes were taken (before the generator moved out of `helpdesk-bench`
//! and was split by what it simulates). A change of behaviour, however small, changes a
//! hash; a change meant to alter the stream updates them (`cargo test -p helpdesk-workload
//! --test golden -- --nocapture` prints the new ones on failure).
//!
//! Each hash is SHA-256 over every request's prost encoding (length-prefixed), then the
//! generator's model of the tickets and its counters at the end of the run.

use helpdesk_workload::{Workload, WorkloadConfig};
use prost::Message;
use sha2::{Digest, Sha256};

/// Requests generated, and the hash of the run.
fn digest(cfg: WorkloadConfig) -> (u64, String) {
    let mut workload = Workload::new(cfg);
    let mut hasher = Sha256::new();
    let mut count = 0u64;
    for request in workload.by_ref() {
        let bytes = request.encode_to_vec();
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
        count += 1;
    }
    hasher.update(format!("{:?}", workload.model_tickets()).as_bytes());
    hasher.update(format!("{:?}", workload.stats()).as_bytes());
    let hex = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (count, hex)
}

/// Name, config, requests, hash (taken from the generator as it was in `helpdesk-bench`;
/// the hashes again when CreateDepartmentRequest lost `to_solve_enabled`, the same
/// number of requests).
fn golden() -> Vec<(&'static str, WorkloadConfig, u64, &'static str)> {
    const MARCH_2025: i64 = 1_740_960_000_000; // 2025-03-03T00:00:00Z, a Monday
    const JANUARY_2024: i64 = 1_704_067_200_000; // 2024-01-01T00:00:00Z, a Monday
    const MARCH_2024: i64 = 1_709_251_200_000; // 2024-03-01T00:00:00Z, a Friday
    vec![
        (
            "seed 7, 20 agents × 7 days",
            WorkloadConfig::new(7, 20, 7, MARCH_2025),
            60199,
            "98f211ec6e943b0a393e68ab472efce1d1fd6a7032d513638f1d470eff855ad7",
        ),
        (
            "the default",
            WorkloadConfig::default(),
            26078,
            "654a512d1a9a468ab0e652ed5208963f3366a58fb362db086f570fe2974d3be2",
        ),
        (
            "9 departments",
            WorkloadConfig {
                departments: 9,
                ..WorkloadConfig::new(3, 14, 3, JANUARY_2024)
            },
            20829,
            "fae4ba4854fe124fc50d14b28e2925f382d41ee0e0d5163916e62d72ffb35648",
        ),
        (
            "1 department, intensity 2.5",
            WorkloadConfig {
                departments: 1,
                intensity: 2.5,
                ..WorkloadConfig::new(11, 6, 2, MARCH_2025)
            },
            12570,
            "ae02cee122943e65b316a3f17eeaa9bc219008455a082875086d7d6f2b5f55f8",
        ),
        (
            "intensity 0.3, rules at the wall clock, days from 05:00",
            WorkloadConfig {
                intensity: 0.3,
                config_at_wall_clock: true,
                ..WorkloadConfig::new(99, 30, 4, MARCH_2024 + 5 * 3_600_000)
            },
            13486,
            "f68bf4e610d53c74730c06ba5c23800cd06fc08b75ce0fdb426b1a8f7b896177",
        ),
        (
            "no agents",
            WorkloadConfig::new(1, 0, 2, JANUARY_2024),
            245,
            "02d6937d1f3c5c2912fe64b57d29a786424d9b2fefe1740fe0ad1c5aba036222",
        ),
    ]
}

#[test]
fn the_same_seed_gives_the_requests_it_always_gave() {
    let mut wrong = Vec::new();
    for (name, cfg, count, hash) in golden() {
        let got = digest(cfg);
        println!("{name}: {}, \"{}\"", got.0, got.1);
        if got != (count, hash.to_owned()) {
            wrong.push(name);
        }
    }
    assert!(wrong.is_empty(), "the streams changed: {wrong:?}");
}
