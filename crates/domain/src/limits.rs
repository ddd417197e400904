//! Input limits (docs/TICKETS.md, Input limits, states them for users).
//!
//! Text is counted in characters (Unicode scalar values), because that is what a person
//! sees when they are told "at most 200"; bodies are counted in bytes, because their limit
//! exists to bound storage. Beyond a limit a command is `INVALID_ARGUMENT` naming the field.

/// Names of agents, departments, levels, badges, rules and roles.
pub const NAME_MAX_CHARS: usize = 200;
/// Ticket subjects.
pub const SUBJECT_MAX_CHARS: usize = 1_000;
/// Ticket bodies, in bytes (64 KiB).
pub const BODY_MAX_BYTES: usize = 64 * 1024;
/// One tag.
pub const TAG_MAX_CHARS: usize = 64;
/// Tags on one ticket.
pub const TAGS_PER_TICKET: usize = 50;
/// Level conditions.
pub const CONDITION_MAX_CHARS: usize = 2_000;

// Our choices.

/// The earliest `occurred_at` a command may carry: 1990-01-01T00:00:00Z, in milliseconds
/// since the Unix epoch. No help desk history is older, and a year like 0001 is a
/// mistake, not an import; the organization's own setup cannot be the floor, because
/// it is recorded at the Unix epoch.
pub const OCCURRED_AT_MIN_MILLIS: i64 = 631_152_000_000;

/// E-mail addresses (the longest address SMTP delivers).
pub const EMAIL_MAX_CHARS: usize = 254;
/// Level messages and badge descriptions.
pub const DESCRIPTION_MAX_CHARS: usize = 2_000;
/// Badge image URLs.
pub const URL_MAX_CHARS: usize = 2_000;
/// A free-text pause reason.
pub const PAUSE_REASON_MAX_CHARS: usize = 200;
/// A planned pause lasts 1 minute to a day.
pub const PLANNED_MINUTES_MAX: u32 = 1_440;
/// The length of an answer as reported (`chars`): the body limit, as characters.
pub const ANSWER_MAX_CHARS: u32 = 64 * 1024;
/// A custom badge's window, in days (docs/STATISTICS.md, Badges).
pub const BADGE_WINDOW_DAYS_MAX: u32 = 90;
/// Badge keys: `[a-z0-9_]`, at most this long.
pub const BADGE_KEY_MAX_CHARS: usize = 64;
/// Condition groups per routing rule, conditions per group, actions per rule.
pub const RULE_GROUPS_MAX: usize = 20;
pub const RULE_CONDITIONS_MAX: usize = 20;
pub const RULE_ACTIONS_MAX: usize = 20;
/// Entries of one word, channel, priority, agent or tag list in a routing rule.
pub const RULE_LIST_MAX: usize = 100;
/// Entries of all the lists of one routing rule together (channels, priorities, words,
/// agents, tags): what keeps the largest valid command under 1 MiB.
pub const RULE_ENTRIES_MAX: usize = 2_000;
/// One word of a routing condition.
pub const RULE_WORD_MAX_CHARS: usize = 64;
/// A routing rule's notes (free text, like a level's message).
pub const RULE_NOTES_MAX_CHARS: usize = 2_000;
/// Routing rules and levels an organization may have.
pub const RULES_MAX: usize = 500;
pub const LEVELS_MAX: usize = 500;
/// Level changes one recompute command may carry (keeps an envelope well under the log's
/// message size limit; a bigger recompute is applied in several commands).
pub const RECOMPUTE_CHANGES_MAX: usize = 2_000;
/// Badge evaluations one recompute command may carry, and holders per evaluation.
pub const RECOMPUTE_BADGE_EVALUATIONS_MAX: usize = 1_000;
pub const RECOMPUTE_HOLDERS_MAX: usize = 10_000;
/// IANA time zone names.
pub const TIME_ZONE_MAX_CHARS: usize = 64;
/// The highest value of the `max_custom_roles` setting.
pub const CUSTOM_ROLES_MAX: u32 = 100;
/// The default of the `max_custom_roles` setting (docs/SECURITY.md, Roles and permissions).
pub const DEFAULT_MAX_CUSTOM_ROLES: u32 = 3;
/// The default clover odds (docs/STATISTICS.md, Badges: 1/1000).
pub const DEFAULT_CLOVER_ODDS: f64 = 0.001;
/// Integration account names on tokens.
pub const INTEGRATION_NAME_MAX_CHARS: usize = 200;

/// How far behind the time the log has already reached an imported event may be, in
/// milliseconds: room for importers that run side by side and interleave. An event
/// within it counts at the log's time (never earlier); an older one is refused.
pub const IMPORT_LAG_MAX_MILLIS: i64 = 60_000;

/// How long a chat or call offered by the system waits for its answer before it counts
/// as missed, by default (docs/DISTRIBUTION.md).
pub const DEFAULT_ROUTING_SECONDS: u32 = 30;
/// The routing time is 5 seconds to 10 minutes: shorter and no one could answer, longer
/// and a customer waits for an agent who is not there.
pub const ROUTING_SECONDS_MIN: u32 = 5;
pub const ROUTING_SECONDS_MAX: u32 = 600;
