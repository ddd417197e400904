//! The built-in badge keys (docs/STATISTICS.md, Badges).
//!
//! Only the keys live here, because the domain needs them to tell a customization of a
//! built-in badge from a custom one (built-ins can be disabled but not removed, and a custom
//! badge may not take their keys). Names, descriptions and the statistics behind them live
//! with the rules crate, where badges are evaluated. These keys are stored in the log
//! (BadgeCustomized) and never change.

pub const BUILTIN_BADGES: [&str; 15] = [
    "traffic_controller",
    "siesta",
    "unruly_rebel",
    "inspector",
    "speedy_gonzales",
    "recognized",
    "coffee_lover",
    "novelist",
    "tag_hanger",
    "four_leaf_clover",
    "express",
    "diligent",
    "chatterbox",
    "cleaner",
    "spokesman",
];

/// Whether `key` names a built-in badge.
pub fn is_builtin_badge(key: &str) -> bool {
    BUILTIN_BADGES.contains(&key)
}

/// The time zone of a new organization.
pub const TIME_ZONE: &str = "UTC";
