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

/// Name, config, requests, hash (taken from the generator as it was in `helpdesk-bench`).
fn golden() -> Vec<(&'static str, WorkloadConfig, u64, &'static str)> {
    const MARCH_2025: i64 = 1_740_960_000_000; // 2025-03-03T00:00:00Z, a Monday
    const JANUARY_2024: i64 = 1_704_067_200_000; // 2024-01-01T00:00:00Z, a Monday
    const MARCH_2024: i64 = 1_709_251_200_000; // 2024-03-01T00:00:00Z, a Friday
    vec![
        (
            "seed 7, 20 agents × 7 days",
            WorkloadConfig::new(7, 20, 7, MARCH_2025),
            60199,
            "077af56e236ca63720573e9ef24b2aaed7d7135993db80a25fd7ad9d816d78f9",
        ),
        (
            "the default",
            WorkloadConfig::default(),
            26078,
            "afefe3cd3cbd6fb6f0976640e8f23b1723c8862d12039ecd815685dd3124004d",
        ),
        (
            "9 departments",
            WorkloadConfig {
                departments: 9,
                ..WorkloadConfig::new(3, 14, 3, JANUARY_2024)
            },
            20829,
            "0d5e47ebafd97fe273518688600ef310ca15cf8d0bf82bc86a6c12ea6cb757ce",
        ),
        (
            "1 department, intensity 2.5",
            WorkloadConfig {
                departments: 1,
                intensity: 2.5,
                ..WorkloadConfig::new(11, 6, 2, MARCH_2025)
            },
            12570,
            "772492c59f9c51b06337b428b359a109f4fee8d7574e07f03edd1c0137667e0d",
        ),
        (
            "intensity 0.3, rules at the wall clock, days from 05:00",
            WorkloadConfig {
                intensity: 0.3,
                config_at_wall_clock: true,
                ..WorkloadConfig::new(99, 30, 4, MARCH_2024 + 5 * 3_600_000)
            },
            13486,
            "35afee7e831ca1aa72fe59d30d5f5fb43342a5177eef715a0cffa6fd52277097",
        ),
        (
            "no agents",
            WorkloadConfig::new(1, 0, 2, JANUARY_2024),
            245,
            "3d2ed8349f78fe815d5288a3b62513f2fb2a3550d09010aff1c40323cc09f361",
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
