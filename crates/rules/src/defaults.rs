//! The levels and badges a new organization starts with (docs/STATISTICS.md, Levels and
//! Badges).
//!
//! The server records the default levels in the log when it sets an organization up, so
//! a later change to this table never rewrites an existing organization's history.

/// One shipped level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultLevel {
    /// 1 = lowest.
    pub rank: u32,
    pub name: &'static str,
    pub condition: &'static str,
    /// The message sent on reaching the level.
    pub message: &'static str,
}

/// The twelve shipped levels, lowest first. The Professional condition is the documented
/// one; the others form a ladder around it.
#[rustfmt::skip]
pub const LEVELS: [DefaultLevel; 12] = [
    level(1, "Novice", "1", "You are new to the system and ready to take your first steps."),
    level(2, "Apprentice", "$answers + $chats >= 10", "You have answered a couple of questions, but your training has only just begun."),
    level(3, "Intern", "$answers >= 50 || $chats >= 50", "You are learning well. Keep up the good work and one day you will be great."),
    level(4, "Beginner", "$answers >= 100 || $chats >= 100", "You have finished the learning phase. Now it is time to show what you can do."),
    level(5, "Amateur", "$answers >= 250 || $chats >= 250", "It seems you know your job. Keep improving."),
    level(6, "Professional", "$answers >= 500 || $chats >= 500", "Now you are a Professional. Your answers are precise and concise. Customers look forward to your answers."),
    level(7, "Master", "$answers >= 1000 || $chats >= 1000", "You have earned respect. Your colleagues look up to you. Help them become as good as you."),
    level(8, "Wizard", "$answers + $chats >= 2500 && $rewards >= 100", "Your skills are slowly surpassing the limits of this world. Some of your answers are magical."),
    level(9, "Mage", "$answers + $chats >= 5000 && $rewards >= 250", "You answer tickets with a touch of your mind. Your magic has reached its highest level."),
    level(10, "White Mage", "$answers + $chats >= 10000 && $rewards >= 500 && $punishments_p < 5", "You have proven your magic. Now you may wear the white hat."),
    level(11, "Regent", "$answers + $chats + $calls >= 20000 && $worktime >= 2000", "You rule this system. Tickets come and go at your command."),
    level(12, "King", "$answers + $chats + $calls >= 50000 && $worktime >= 5000 && $rewards_p >= 60", "You are the king. Take the throne and defend it, so that no one can overthrow you."),
];

const fn level(
    rank: u32,
    name: &'static str,
    condition: &'static str,
    message: &'static str,
) -> DefaultLevel {
    DefaultLevel {
        rank,
        name,
        condition,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_form_a_ladder_from_rank_one() {
        for (index, level) in LEVELS.iter().enumerate() {
            assert_eq!(level.rank as usize, index + 1, "{}", level.name);
            assert!(!level.message.is_empty() && !level.condition.is_empty());
        }
        assert_eq!(LEVELS[5].condition, "$answers >= 500 || $chats >= 500");
    }
}
