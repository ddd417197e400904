//! The daily badges (docs/STATISTICS.md, Badges): the fifteen shipped ones, and the
//! Four-leaf Clover's draw.

use helpdesk_domain::{Best, Statistic};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// How a badge picks its holders.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// The agents with the best value of a statistic over the window, among those whose
    /// sample reaches `minimum` (seconds for the `*_seconds` statistics, otherwise the
    /// statistic's own unit: answers, chats, resolutions, …).
    Statistic {
        statistic: Statistic,
        best: Best,
        minimum: u64,
    },
    /// Each agent active on the previous day, by a keyed draw (see [`clover`]).
    Clover,
}

/// One shipped badge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DefaultBadge {
    pub key: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub rule: Rule,
    /// 7 (the last 7 days) or 1 (the previous day).
    pub window_days: u32,
}

const fn stat(statistic: Statistic, best: Best, minimum: u64) -> Rule {
    Rule::Statistic {
        statistic,
        best,
        minimum,
    }
}

/// The fifteen shipped badges, in the order of docs/STATISTICS.md, Badges.
#[rustfmt::skip]
pub const BADGES: [DefaultBadge; 15] = [
    DefaultBadge { key: "traffic_controller", name: "Traffic Controller", description: "Transfers the most tickets.", rule: stat(Statistic::Transfers, Best::Max, 1), window_days: 7 },
    DefaultBadge { key: "siesta", name: "Siesta", description: "Spends the most time paused.", rule: stat(Statistic::PausedSeconds, Best::Max, 1), window_days: 7 },
    DefaultBadge { key: "unruly_rebel", name: "Unruly Rebel", description: "Receives the most negative feedback.", rule: stat(Statistic::NegativeRatings, Best::Max, 1), window_days: 7 },
    DefaultBadge { key: "inspector", name: "Inspector", description: "Keeps tickets open longest before answering.", rule: stat(Statistic::MeanAnswerWait, Best::Max, 3), window_days: 1 },
    DefaultBadge { key: "speedy_gonzales", name: "Speedy Gonzales", description: "Responds fastest to ringing chats.", rule: stat(Statistic::MeanChatPickup, Best::Min, 3), window_days: 1 },
    DefaultBadge { key: "recognized", name: "Recognized", description: "Receives the most positive feedback.", rule: stat(Statistic::PositiveRatings, Best::Max, 1), window_days: 7 },
    DefaultBadge { key: "coffee_lover", name: "Coffee Lover", description: "Takes the most breaks.", rule: stat(Statistic::PausesStarted, Best::Max, 1), window_days: 7 },
    DefaultBadge { key: "novelist", name: "Novelist", description: "Wrote the longest ticket answer.", rule: stat(Statistic::LongestAnswer, Best::Max, 1), window_days: 1 },
    DefaultBadge { key: "tag_hanger", name: "Tag Hanger", description: "Tags the most tickets.", rule: stat(Statistic::TicketsTagged, Best::Max, 1), window_days: 7 },
    DefaultBadge { key: "four_leaf_clover", name: "Four-leaf Clover", description: "Is lucky.", rule: Rule::Clover, window_days: 1 },
    DefaultBadge { key: "express", name: "Express", description: "Resolves tickets fastest.", rule: stat(Statistic::MeanResolution, Best::Min, 3), window_days: 7 },
    DefaultBadge { key: "diligent", name: "Diligent", description: "Spends the most time online.", rule: stat(Statistic::OnlineSeconds, Best::Max, 1), window_days: 7 },
    DefaultBadge { key: "chatterbox", name: "Chatterbox", description: "Had the longest chat.", rule: stat(Statistic::LongestChat, Best::Max, 1), window_days: 1 },
    DefaultBadge { key: "cleaner", name: "Cleaner", description: "Resolves or deletes the most tickets.", rule: stat(Statistic::ResolutionsAndDeletions, Best::Max, 1), window_days: 7 },
    DefaultBadge { key: "spokesman", name: "Spokesman", description: "Had the longest call.", rule: stat(Statistic::LongestCall, Best::Max, 1), window_days: 1 },
];

/// The shipped badge with this key.
pub fn default_badge(key: &str) -> Option<&'static DefaultBadge> {
    BADGES.iter().find(|b| b.key == key)
}

/// The Four-leaf Clover's draw for one agent and day (docs/STATISTICS.md, Badges): the
/// first 8 bytes, as a big-endian u64, of SHA-256(seed ‖ `YYYY-MM-DD` ‖ the agent's 16 uuid
/// bytes) are below `odds` × 2^64. The same on every replay and every machine.
pub fn clover(seed: &[u8; 32], date: &str, agent: Uuid, odds: f64) -> bool {
    let mut hash = Sha256::new();
    hash.update(seed);
    hash.update(date.as_bytes());
    hash.update(agent.as_bytes());
    let digest = hash.finalize();
    let draw = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    if odds >= 1.0 {
        return true;
    }
    if odds <= 0.0 || odds.is_nan() {
        return false;
    }
    // odds × 2^64, exact enough: an f64 has 53 bits of mantissa.
    (draw as f64) < odds * 18_446_744_073_709_551_616.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_key_has_a_badge() {
        for key in helpdesk_domain::defaults::BUILTIN_BADGES {
            assert!(default_badge(key).is_some(), "{key}");
        }
        assert_eq!(
            BADGES.len(),
            helpdesk_domain::defaults::BUILTIN_BADGES.len()
        );
    }

    #[test]
    fn the_clover_is_a_keyed_hash() {
        let seed = [7u8; 32];
        let agent = Uuid::from_u128(42);
        // Computed independently: sha256(seed || "2024-05-01" || agent) begins with the
        // bytes checked here, so the draw is reproducible anywhere.
        let mut hash = Sha256::new();
        hash.update([7u8; 32]);
        hash.update(b"2024-05-01");
        hash.update(Uuid::from_u128(42).as_bytes());
        let draw = u64::from_be_bytes(hash.finalize()[..8].try_into().unwrap());
        let just_above = (draw as f64 + 4096.0) / 18_446_744_073_709_551_616.0;
        let just_below = (draw as f64 - 4096.0) / 18_446_744_073_709_551_616.0;
        assert!(clover(&seed, "2024-05-01", agent, just_above));
        assert!(!clover(&seed, "2024-05-01", agent, just_below));
        assert!(clover(&seed, "2024-05-01", agent, 1.0));
        assert!(!clover(&seed, "2024-05-01", agent, 0.0));
        // About one in a thousand at the default odds.
        let lucky = (0..100_000u128)
            .filter(|n| clover(&seed, "2024-05-01", Uuid::from_u128(*n), 0.001))
            .count();
        assert!((60..=140).contains(&lucky), "{lucky}");
    }
}
