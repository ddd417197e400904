//! The variables a condition reads (docs/STATISTICS.md, Level variables) and the values
//! evaluation reads them from.

use std::fmt;
use std::ops::{Index, IndexMut};
use std::str::FromStr;

/// Every level variable (docs/STATISTICS.md, Level variables), without the `$`, in the
/// fixed order of [`Variable`] and [`Values`]. The order never changes: it is the index
/// into [`Values`].
pub const VARIABLES: &[&str] = &[
    "worktime",
    "answers",
    "chats",
    "missed_chats",
    "chat_answers",
    "calls",
    "call_seconds",
    "missed_calls",
    "rewards",
    "punishments",
    "not_ranked",
    "answers_ph",
    "chats_ph",
    "chat_answers_ph",
    "calls_ph",
    "call_seconds_ph",
    "rewards_p",
    "punishments_p",
    "not_ranked_p",
];

/// One level variable (docs/STATISTICS.md, Level variables).
/// `Variable::ALL[i].name() == VARIABLES[i]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Variable {
    /// `$worktime`: hours online and not paused.
    Worktime,
    /// `$answers`: ticket answers written.
    Answers,
    /// `$chats`: chats accepted.
    Chats,
    /// `$missed_chats`: chats offered and missed.
    MissedChats,
    /// `$chat_answers`: chat messages sent.
    ChatAnswers,
    /// `$calls`: calls answered.
    Calls,
    /// `$call_seconds`: seconds of answered calls that have ended.
    CallSeconds,
    /// `$missed_calls`: calls rung and missed.
    MissedCalls,
    /// `$rewards`: positive ratings currently standing.
    Rewards,
    /// `$punishments`: negative ratings currently standing.
    Punishments,
    /// `$not_ranked`: handled conversations with no standing rating.
    NotRanked,
    /// `$answers_ph`: answers per hour of work time.
    AnswersPh,
    /// `$chats_ph`: chats per hour of work time.
    ChatsPh,
    /// `$chat_answers_ph`: chat messages per hour of work time.
    ChatAnswersPh,
    /// `$calls_ph`: calls per hour of work time.
    CallsPh,
    /// `$call_seconds_ph`: call seconds per hour of work time.
    CallSecondsPh,
    /// `$rewards_p`: rewards in percent of handled conversations.
    RewardsP,
    /// `$punishments_p`: punishments in percent of handled conversations.
    PunishmentsP,
    /// `$not_ranked_p`: unrated conversations in percent of handled conversations.
    NotRankedP,
}

impl Variable {
    /// How many variables there are.
    pub const COUNT: usize = 19;

    /// All variables, in the order of [`VARIABLES`].
    pub const ALL: [Variable; Variable::COUNT] = [
        Variable::Worktime,
        Variable::Answers,
        Variable::Chats,
        Variable::MissedChats,
        Variable::ChatAnswers,
        Variable::Calls,
        Variable::CallSeconds,
        Variable::MissedCalls,
        Variable::Rewards,
        Variable::Punishments,
        Variable::NotRanked,
        Variable::AnswersPh,
        Variable::ChatsPh,
        Variable::ChatAnswersPh,
        Variable::CallsPh,
        Variable::CallSecondsPh,
        Variable::RewardsP,
        Variable::PunishmentsP,
        Variable::NotRankedP,
    ];

    /// The position in [`VARIABLES`] and in [`Values`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The name without the `$`, e.g. `"answers"`.
    pub fn name(self) -> &'static str {
        VARIABLES[self.index()]
    }

    /// The variable with this exact name (without the `$`; case matters).
    pub fn from_name(name: &str) -> Option<Variable> {
        VARIABLES
            .iter()
            .position(|known| *known == name)
            .map(|index| Variable::ALL[index])
    }

    /// The known variable closest to `name` by edit distance (Levenshtein, over
    /// characters); ties go to the one listed first in [`VARIABLES`].
    pub fn closest(name: &str) -> Variable {
        let mut best = (usize::MAX, Variable::Worktime);
        for variable in Variable::ALL {
            let distance = edit_distance(name, variable.name());
            if distance < best.0 {
                best = (distance, variable);
            }
        }
        best.1
    }
}

/// Prints `$name`, as the variable is written in a condition.
impl fmt::Display for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${}", self.name())
    }
}

/// A name that is not one of [`VARIABLES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown variable ${name}; did you mean {suggestion}?")]
pub struct UnknownVariable {
    /// The name as given (without a leading `$`).
    pub name: String,
    /// The closest known variable.
    pub suggestion: Variable,
}

impl UnknownVariable {
    fn new(name: &str) -> Self {
        UnknownVariable {
            name: name.to_owned(),
            suggestion: Variable::closest(name),
        }
    }
}

/// Accepts the name with or without the leading `$`, so that it reads back what
/// `Display` prints.
impl FromStr for Variable {
    type Err = UnknownVariable;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let name = text.strip_prefix('$').unwrap_or(text);
        Variable::from_name(name).ok_or_else(|| UnknownVariable::new(name))
    }
}

/// The value of every variable for one agent at one moment: what a [`Condition`] reads.
///
/// Indexed by [`Variable`] (`values[Variable::Answers] = 12.0`) or by name. A NaN stored
/// here reads as 0 in a condition (see the module docs).
///
/// [`Condition`]: super::Condition
#[derive(Clone, Copy, PartialEq, Default)]
pub struct Values([f64; Variable::COUNT]);

impl Values {
    /// All variables 0.
    pub const ZERO: Values = Values([0.0; Variable::COUNT]);

    /// All variables 0.
    pub const fn new() -> Self {
        Values::ZERO
    }

    /// Values in the order of [`VARIABLES`].
    pub const fn from_array(values: [f64; Variable::COUNT]) -> Self {
        Values(values)
    }

    /// The values in the order of [`VARIABLES`].
    pub const fn as_array(&self) -> &[f64; Variable::COUNT] {
        &self.0
    }

    pub const fn get(&self, variable: Variable) -> f64 {
        self.0[variable as usize]
    }

    pub fn set(&mut self, variable: Variable, value: f64) {
        self.0[variable.index()] = value;
    }

    /// `self` with one variable set: `Values::new().with(Variable::Answers, 3.0)`.
    #[must_use]
    pub fn with(mut self, variable: Variable, value: f64) -> Self {
        self.set(variable, value);
        self
    }

    /// The value of the variable with this name (without the `$`), if there is one.
    pub fn get_by_name(&self, name: &str) -> Option<f64> {
        Variable::from_name(name).map(|variable| self.get(variable))
    }

    /// Sets the variable with this name (without the `$`).
    pub fn set_by_name(&mut self, name: &str, value: f64) -> Result<(), UnknownVariable> {
        let variable = Variable::from_name(name).ok_or_else(|| UnknownVariable::new(name))?;
        self.set(variable, value);
        Ok(())
    }

    /// Every variable with its value, in the order of [`VARIABLES`].
    pub fn iter(&self) -> impl Iterator<Item = (Variable, f64)> + '_ {
        Variable::ALL.into_iter().zip(self.0.iter().copied())
    }
}

impl From<[f64; Variable::COUNT]> for Values {
    fn from(values: [f64; Variable::COUNT]) -> Self {
        Values(values)
    }
}

impl Index<Variable> for Values {
    type Output = f64;

    fn index(&self, variable: Variable) -> &f64 {
        &self.0[variable.index()]
    }
}

impl IndexMut<Variable> for Values {
    fn index_mut(&mut self, variable: Variable) -> &mut f64 {
        &mut self.0[variable.index()]
    }
}

/// Prints a map from `$name` to value.
impl fmt::Debug for Values {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.iter()
                    .map(|(variable, value)| (variable.name(), value)),
            )
            .finish()
    }
}

/// Levenshtein distance over characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_enum_follows_the_names() {
        assert_eq!(VARIABLES.len(), Variable::COUNT);
        for (index, variable) in Variable::ALL.into_iter().enumerate() {
            assert_eq!(variable.index(), index);
            assert_eq!(variable.name(), VARIABLES[index]);
            assert_eq!(Variable::from_name(VARIABLES[index]), Some(variable));
            assert_eq!(variable.to_string().parse::<Variable>(), Ok(variable));
        }
        assert_eq!(Variable::from_name("$answers"), None);
        assert_eq!(Variable::from_name("Answers"), None);
    }

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("answer", "answers"), 1);
        assert_eq!(edit_distance("answres", "answers"), 2);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "calls"), 5);
        assert_eq!(edit_distance("äb", "ab"), 1);
    }

    #[test]
    fn closest_names_the_likely_typo() {
        assert_eq!(Variable::closest("answer"), Variable::Answers);
        assert_eq!(Variable::closest("chat"), Variable::Chats);
        assert_eq!(Variable::closest("reward_p"), Variable::RewardsP);
        assert_eq!(Variable::closest("worktim"), Variable::Worktime);
        assert_eq!(Variable::closest("Punishments"), Variable::Punishments);
    }

    #[test]
    fn values_by_variable_and_by_name() {
        let mut values = Values::new().with(Variable::Answers, 3.0);
        assert_eq!(values[Variable::Answers], 3.0);
        assert_eq!(values.get_by_name("answers"), Some(3.0));
        assert_eq!(values.get_by_name("answer"), None);
        values.set_by_name("not_ranked_p", 12.5).unwrap();
        assert_eq!(values.get(Variable::NotRankedP), 12.5);
        let error = values.set_by_name("answer", 1.0).unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown variable $answer; did you mean $answers?"
        );
        values[Variable::Worktime] = 2.0;
        assert_eq!(values.as_array()[0], 2.0);
        assert_eq!(values.iter().count(), Variable::COUNT);
        assert!(format!("{values:?}").contains("\"answers\": 3.0"));
    }
}
