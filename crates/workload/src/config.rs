//! What to simulate: the seed, the staff, the days, the departments, the traffic.

use crate::DAY;

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadConfig {
    /// Seeds the one random number generator everything is drawn from.
    pub seed: u64,
    /// Agents to register (role Agent).
    pub agents: u32,
    /// Days to simulate after the setup.
    pub days: u32,
    /// The first day's UTC midnight, in milliseconds since the Unix epoch. The whole history
    /// lies in `[start, start + days × 24 h)`; the caller picks it in the past (see
    /// [`WorkloadConfig::start_days_before`]). Another time of day works too, but the
    /// days (shifts, the hourly traffic profile) then run from that time.
    pub start: i64,
    /// Departments to create (at least 1).
    pub departments: u32,
    /// Traffic relative to a normal day (1.0); scales every arrival rate.
    pub intensity: f64,
    /// When set, `DefineRoutingRule` requests carry no `occurred_at`, so the server stamps
    /// them with its clock. Needed when the organization was set up after `start`: the
    /// rules live on the configuration aggregate, whose last event (the setup) would be
    /// later than the simulated time, and the server refuses a time earlier than that.
    /// Every other request always carries its time. Default: false.
    pub config_at_wall_clock: bool,
    /// The organization lets the system offer chats and ring calls (setting
    /// `system_routes`, docs/DISTRIBUTION.md), with this routing time in seconds. Then
    /// no `OfferChat` or `RingCall` is generated: the generator follows the
    /// distribution's documented rules to know which agent the system offers each
    /// conversation to, and has that agent play the script; each offer follows a request
    /// at once ([`Workload::next_step`](crate::Workload::next_step) says how many), and
    /// the sender waits for them before it goes on. `None` (the default): the history
    /// routes by hand.
    pub system_routes: Option<u32>,
}

impl Default for WorkloadConfig {
    /// 50 agents in 4 departments for one normal day, Monday 2024-01-01.
    fn default() -> Self {
        WorkloadConfig {
            seed: 42,
            agents: 50,
            days: 1,
            start: 1_704_067_200_000, // 2024-01-01T00:00:00Z, a Monday
            departments: 4,
            intensity: 1.0,
            config_at_wall_clock: false,
            system_routes: None,
        }
    }
}

impl WorkloadConfig {
    /// A config with these essentials and the defaults for the rest.
    pub fn new(seed: u64, agents: u32, days: u32, start: i64) -> Self {
        WorkloadConfig {
            seed,
            agents,
            days,
            start,
            ..WorkloadConfig::default()
        }
    }

    /// The UTC midnight `days` days before the last midnight at or before `now_millis`:
    /// a history starting there ends by today's midnight, in the past.
    pub fn start_days_before(now_millis: i64, days: u32) -> i64 {
        now_millis.div_euclid(DAY) * DAY - i64::from(days) * DAY
    }

    /// The end of the simulated history (exclusive).
    pub fn end(&self) -> i64 {
        self.start + i64::from(self.days) * DAY
    }
}
