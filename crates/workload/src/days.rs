//! The days: which agents work on each day (their shifts start here), and when tickets,
//! chats and calls arrive: Poisson arrivals whose rate follows the hour of the day, scaled
//! by the staff, the weekday and `intensity`.

use rand::Rng;

use crate::conversations::Live;
use crate::generator::{Ev, Workload};
use crate::{DAY, HOUR, MINUTE};

/// Tickets per agent and weekday at intensity 1.
pub(crate) const TICKETS_PER_AGENT_DAY: f64 = 30.0;
/// Chats per agent and weekday at intensity 1.
pub(crate) const CHATS_PER_AGENT_DAY: f64 = 25.0;
/// Calls per agent and weekday at intensity 1.
pub(crate) const CALLS_PER_AGENT_DAY: f64 = 10.0;
/// Saturday and Sunday traffic, relative to a weekday.
const WEEKEND_TRAFFIC: f64 = 0.35;
/// Arrivals by hour of the day (UTC), relative weights.
const HOURLY_PROFILE: [f64; 24] = [
    0.2, 0.15, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 3.4, 3.2, 2.6, 2.8, 3.1, 3.0, 2.6, 2.0, 1.5,
    1.2, 1.0, 0.8, 0.5, 0.3,
];
/// The share of agents working on a weekday, and on a weekend day.
const WORKING_WEEKDAY: f64 = 0.92;
const WORKING_WEEKEND: f64 = 0.30;

impl Workload {
    fn weekday(&self, day: u32) -> u32 {
        // 1970-01-01 was a Thursday; 0 = Monday.
        ((self.day0.div_euclid(DAY) + i64::from(day) + 3).rem_euclid(7)) as u32
    }

    pub(crate) fn day_start(&mut self, day: u32) {
        self.stats.days_begun = day + 1;
        let midnight = self.day0 + i64::from(day) * DAY;
        let weekend = self.weekday(day) >= 5;
        let working = if weekend {
            WORKING_WEEKEND
        } else {
            WORKING_WEEKDAY
        };
        for a in 0..self.agents.len() {
            if !self.chance(working) {
                continue;
            }
            let start =
                midnight + self.agents[a].usual_start * MINUTE + self.between(-20, 20) * MINUTE;
            self.schedule(start, Ev::ShiftStart(a));
        }
        let from = self.now;
        for (per_agent, ev) in [
            (TICKETS_PER_AGENT_DAY, Ev::TicketArrival(day)),
            (CHATS_PER_AGENT_DAY, Ev::LiveArrival(Live::Chat, day)),
            (CALLS_PER_AGENT_DAY, Ev::LiveArrival(Live::Call, day)),
        ] {
            if let Some(at) = self.next_arrival(per_agent, from, day) {
                self.schedule(at, ev);
            }
        }
        if day + 1 < self.cfg.days {
            self.schedule(midnight + DAY, Ev::DayStart(day + 1));
        }
    }

    /// The next arrival after `from` on `day` of a stream of `per_agent` arrivals per agent
    /// and weekday at intensity 1, if the day has one.
    pub(crate) fn next_arrival(&mut self, per_agent: f64, from: i64, day: u32) -> Option<i64> {
        let weekend = if self.weekday(day) >= 5 {
            WEEKEND_TRAFFIC
        } else {
            1.0
        };
        let per_day =
            per_agent * f64::from(self.cfg.agents.max(1)) * self.cfg.intensity.max(0.0) * weekend;
        if per_day <= 0.0 {
            return None;
        }
        let total: f64 = HOURLY_PROFILE.iter().sum();
        let midnight = self.day0 + i64::from(day) * DAY;
        let mut t = from.max(midnight);
        loop {
            let hour = (t - midnight) / HOUR;
            if hour >= 24 {
                return None;
            }
            let hour_end = midnight + (hour + 1) * HOUR;
            let per_ms = per_day * HOURLY_PROFILE[hour as usize] / total / HOUR as f64;
            // Exponential gaps; restarting at the hour's end is exact (no memory).
            let u: f64 = 1.0 - self.rng.random::<f64>();
            let gap = (-u.ln() / per_ms).max(1.0);
            if (t as f64 + gap) < hour_end as f64 {
                return Some(t + gap as i64);
            }
            t = hour_end;
        }
    }
}
