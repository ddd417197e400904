//! What went wrong in a condition, and where.

use std::fmt;

use super::{Variable, MAX_NESTING, MAX_TOKENS};

/// A condition that does not parse or does not check: `column N: message`.
///
/// The column is 1-based and counts characters (Unicode scalar values; a tab is one);
/// a problem at the end of the text is at the column one past its last character.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {kind}")]
pub struct ConditionError {
    column: usize,
    kind: ErrorKind,
}

impl ConditionError {
    pub(crate) fn new(column: usize, kind: ErrorKind) -> Self {
        ConditionError { column, kind }
    }

    /// 1-based, in characters.
    pub fn column(&self) -> usize {
        self.column
    }

    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The message without the column.
    pub fn message(&self) -> String {
        self.kind.to_string()
    }
}

/// What is wrong at the error's column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    /// Something that cannot stand here: `expected a number, …, found ")"`.
    #[error("expected {expected}, found {found}{}", Hint(hint))]
    Unexpected {
        expected: Expected,
        /// What stands there, quoted (`")"`, `"$answer"`), or `the end of the condition`.
        found: String,
        /// A suggestion for a likely slip, e.g. `write "==" to compare`.
        hint: Option<String>,
    },
    /// A `$name` that is not one of [`VARIABLES`](super::VARIABLES) (only from `compile`).
    #[error("unknown variable ${name}; did you mean {suggestion}?")]
    UnknownVariable { name: String, suggestion: Variable },
    /// The 65th nested parenthesis or unary operator.
    #[error("nesting deeper than {MAX_NESTING} levels (each \"(\" and each unary \"-\" or \"!\" opens one)")]
    TooDeep,
    /// A literal beyond the largest finite `f64` (about 1.8 × 10^308).
    #[error("number too large")]
    NumberTooLarge,
    /// The token after the first [`MAX_TOKENS`].
    #[error("too long: a condition has at most {MAX_TOKENS} tokens")]
    TooManyTokens,
}

struct Hint<'a>(&'a Option<String>);

impl fmt::Display for Hint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(hint) => write!(f, " ({hint})"),
            None => Ok(()),
        }
    }
}

/// The set of things the parser would have accepted at an error's column.
///
/// Displays as a list for people: `a number, "$" and a variable name, "(", "-" or "!"`;
/// when every binary operator would fit, they are summed up as `an operator`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Expected(u32);

/// The tokens and lexical pieces an [`Expected`] can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub(crate) enum Want {
    Number,
    Variable,
    LParen,
    RParen,
    Minus,
    Not,
    Plus,
    Star,
    Slash,
    Gt,
    Ge,
    Lt,
    Le,
    EqEq,
    Ne,
    AndAnd,
    OrOr,
    End,
    /// A name right after `$`.
    Name,
    /// A digit right after `.` in a number.
    Digit,
}

const OPERAND: [(Want, &str); 5] = [
    (Want::Number, "a number"),
    (Want::Variable, "\"$\" and a variable name"),
    (Want::LParen, "\"(\""),
    (Want::Minus, "\"-\""),
    (Want::Not, "\"!\""),
];

const OPERATORS: [(Want, &str); 12] = [
    (Want::Plus, "\"+\""),
    (Want::Minus, "\"-\""),
    (Want::Star, "\"*\""),
    (Want::Slash, "\"/\""),
    (Want::Gt, "\">\""),
    (Want::Ge, "\">=\""),
    (Want::Lt, "\"<\""),
    (Want::Le, "\"<=\""),
    (Want::EqEq, "\"==\""),
    (Want::Ne, "\"!=\""),
    (Want::AndAnd, "\"&&\""),
    (Want::OrOr, "\"||\""),
];

const CLOSERS: [(Want, &str); 4] = [
    (Want::RParen, "\")\""),
    (Want::End, "the end of the condition"),
    (Want::Name, "a variable name right after \"$\""),
    (Want::Digit, "a digit after \".\""),
];

impl Expected {
    pub(crate) const NONE: Expected = Expected(0);

    pub(crate) const fn one(want: Want) -> Expected {
        Expected(1 << want as u32)
    }

    pub(crate) fn insert(&mut self, want: Want) {
        self.0 |= 1 << want as u32;
    }

    pub(crate) const fn contains(self, want: Want) -> bool {
        self.0 & (1 << want as u32) != 0
    }

    fn items(self) -> Vec<&'static str> {
        let mut items = Vec::new();
        if self.contains(Want::Number) {
            // Where an operand may start, no binary operator fits, so "-" is unary here.
            items.extend(
                OPERAND
                    .iter()
                    .filter(|(want, _)| self.contains(*want))
                    .map(|(_, text)| *text),
            );
        } else if OPERATORS.iter().all(|(want, _)| self.contains(*want)) {
            items.push("an operator");
        } else {
            items.extend(
                OPERATORS
                    .iter()
                    .filter(|(want, _)| self.contains(*want))
                    .map(|(_, text)| *text),
            );
        }
        items.extend(
            CLOSERS
                .iter()
                .filter(|(want, _)| self.contains(*want))
                .map(|(_, text)| *text),
        );
        items
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items = self.items();
        match items.as_slice() {
            [] => f.write_str("nothing"),
            [only] => f.write_str(only),
            [init @ .., last] => write!(f, "{} or {last}", init.join(", ")),
        }
    }
}

impl fmt::Debug for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Expected({self})")
    }
}
