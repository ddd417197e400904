//! The level condition language (docs/STATISTICS.md, Conditions).
//!
//! A level's condition is a small expression over an agent's statistics
//! (docs/STATISTICS.md, Level variables), such as `$answers >= 500 || $chats >= 500`.
//! [`compile`] checks a condition when it is defined and turns it into a [`Condition`] that
//! evaluates without allocating; [`parse`] only builds the syntax tree ([`Expr`]).
//!
//! ```
//! use helpdesk_rules::condition::{compile, Values, Variable};
//!
//! let condition = compile("$answers+$chats>=10 && ($rewards > 1 || $calls > 2)").unwrap();
//! assert_eq!(condition.to_string(), "$answers + $chats >= 10 && ($rewards > 1 || $calls > 2)");
//! let values = Values::new().with(Variable::Answers, 8.0).with(Variable::Chats, 2.0).with(Variable::Calls, 3.0);
//! assert!(condition.holds(&values));
//! assert_eq!(condition.parts().len(), 2);
//! ```
//!
//! # Grammar
//!
//! ```text
//! expr     := or
//! or       := and ( "||" and )*
//! and      := cmp ( "&&" cmp )*
//! cmp      := sum ( ( ">" | ">=" | "<" | "<=" | "==" | "!=" ) sum )?
//! sum      := prod ( ( "+" | "-" ) prod )*
//! prod     := unary ( ( "*" | "/" ) unary )*
//! unary    := ( "-" | "!" ) unary | atom
//! atom     := number | "$" name | "(" expr ")"
//!
//! number   := digit+ ( "." digit+ )?          10, 2.5, 0.75, 007
//! name     := ( letter | "_" ) ( letter | digit | "_" )*     ASCII letters and digits
//! ```
//!
//! Whitespace (any Unicode white space) may stand between tokens, never inside one:
//! `$ answers`, `> =` and `1 .5` are errors. Names are case-sensitive.
//!
//! Numbers have no sign (`-5` is unary minus applied to `5`) and **no exponent**: `1e3` is
//! an error; write `1000`. Conditions compare counters with thresholds, so plain decimals
//! are all anyone writes, and canonical printing never needs an exponent (it writes numbers
//! out in full). A literal is rounded to the nearest `f64`; one beyond the largest finite
//! `f64` (a 310-digit number) is an error.
//!
//! # Semantics
//!
//! Every value is an `f64`. From the loosest binding to the tightest:
//!
//! | operators | associativity | value |
//! |---|---|---|
//! | `\|\|` | left | 1 if either side is not 0, else 0 |
//! | `&&` | left | 1 if both sides are not 0, else 0 |
//! | `>` `>=` `<` `<=` `==` `!=` | none: `a < b < c` is a syntax error | 1 or 0 |
//! | `+` `-` | left | sum, difference |
//! | `*` `/` | left | product, quotient; **`x / 0` is 0** |
//! | unary `-` `!` | prefix | `-x`; `!x` is 1 when `x` is 0, else 0 |
//!
//! So `1 - 2 - 3` is -4 and `2 * 3 + 4` is 10. A condition **holds** when its value is not
//! 0. Both sides of `&&` and `||` are always evaluated, which is indistinguishable from
//! short-circuiting because evaluation has no effects and no errors.
//!
//! **No NaN.** Any operation whose IEEE 754 result would be NaN gives 0 instead, just as
//! division by zero does: `0 * x` with an infinite `x`, `x - x` with an infinite `x`, and
//! `x / y` with both infinite. A variable whose value is NaN reads as 0. So a value is
//! never NaN, and "not 0" is unambiguous. Overflow (a result beyond about 1.8 × 10^308)
//! gives ±infinity as in IEEE 754, and infinities compare as usual (infinity `> 1000`
//! holds, infinity `==` infinity holds); `-0` equals `0` and does not hold.
//!
//! # Variables
//!
//! The names of [`VARIABLES`] (docs/STATISTICS.md, Level variables) after a `$`, e.g.
//! `$answers`, `$rewards_p`. [`parse`] accepts any name; [`compile`] refuses one that is
//! not a variable, naming the closest one by edit distance (ties go to the one listed
//! first).
//!
//! # Limits
//!
//! - **Nesting at most [`MAX_NESTING`] (64).** Each `(` and each unary `-` or `!` opens a
//!   level, which closes at the end of its operand: the nesting at a point is the number
//!   of parentheses open around it plus the number of unary operators applying to it.
//!   `((1))` nests 2, `-(-1)` nests 3, `-1 + -1` nests 1, and 64 × `(`, `1`, 64 × `)` is
//!   accepted. The token that would open level 65 is the error's column.
//! - **At most [`MAX_TOKENS`] (2,000) tokens.** Every text within the limit of 2,000
//!   characters is within it; it only bounds what a caller that skips the length check
//!   could cost.
//! - **Stack.** Parsing, checking, compiling, printing, evaluating and dropping a
//!   [`Condition`] never recurse (explicit work lists instead), so no input can overflow
//!   the stack, in any build. The derived `Clone`, `PartialEq`, `Debug` and `Drop` of an
//!   [`Expr`] do recurse, as deep as the tree: the tree of a chain `1 + 1 + …` is as deep as
//!   the chain is long, at most 1,000 within the token limit (about 512 KiB of stack in a
//!   debug build, 128 KiB optimized; threads get 2 MiB).
//! - **The evaluator** holds at most 5 × (64 + 1) + 1 = 326 values at once: five binary
//!   precedences per nesting level, one more for the innermost operand.
//!
//! # Errors
//!
//! A [`ConditionError`] reads `column N: message`. N is 1-based and counts characters
//! (Unicode scalar values; a tab is one); a problem at the end is one past the last
//! character. The first problem from the left is the one reported, so `compile` reports
//! an unknown variable before a syntax error further right.
//!
//! | condition | error |
//! |---|---|
//! | `$answers >=` | `column 12: expected a number, "$" and a variable name, "(", "-" or "!", found the end of the condition` |
//! | `1 2` | `column 3: expected an operator or the end of the condition, found "2"` |
//! | `($answers + 1` | `column 14: expected an operator or ")", found the end of the condition` |
//! | `1 < 2 < 3` | `column 7: expected "+", "-", "*", "/", "&&", "\|\|" or the end of the condition, found "<" (comparisons do not chain: join them with "&&", as in 1 < $calls && $calls < 5)` |
//! | `$answers = 10` | `column 10: expected an operator or the end of the condition, found "=" (write "==" to compare)` |
//! | `answers > 1` | `column 1: expected a number, "$" and a variable name, "(", "-" or "!", found "answers" (variables start with "$": $answers)` |
//! | `1e3` | `column 2: expected an operator or the end of the condition, found "e3" (numbers have no exponent: write them out, e.g. 1000 for 1e3)` |
//! | `(1))` | `column 4: expected an operator or the end of the condition, found ")" (there is no "(" for it to close)` |
//! | `$ answers` | `column 2: expected a variable name right after "$", found a space` |
//! | `1.` | `column 3: expected a digit after ".", found the end of the condition` |
//! | `$answer > 1` | `column 1: unknown variable $answer; did you mean $answers?` |
//! | 65 × `(`, `1`, 65 × `)` | `column 65: nesting deeper than 64 levels (each "(" and each unary "-" or "!" opens one)` |
//! | `1` and 309 zeros | `column 1: number too large` |
//! | 2,001 tokens | `column N: too long: a condition has at most 2000 tokens` |
//!
//! "Expected" lists everything that would have fit at that column; when every binary
//! operator would, they are summed up as "an operator" (so a missing one after a
//! comparison stands out). A hint in parentheses names a likely slip: `=`, `=>`, `&`, `|`,
//! `and`/`or`/`not`, a variable without its `$`, an exponent, a chained comparison, a
//! `)` with no `(`. [`ConditionError::column`] and [`ConditionError::kind`] give the parts.
//!
//! # Canonical printing
//!
//! `Display` of an [`Expr`] or a [`Condition`] prints single spaces around binary
//! operators, none after unary ones, numbers as Rust prints an `f64` (the shortest text
//! that reads back to the same value, never with an exponent), and only the parentheses
//! the tree needs: `(a + b) + c` prints `a + b + c`, while `a - (b - c)`, `(a < b) == c`
//! and `a && (b && c)` keep theirs. Parsing the printed text gives the same tree.
//!
//! # Parsing and evaluation
//!
//! The parser is operator precedence ("shunting yard") over an explicit stack, which
//! builds exactly the tree the grammar describes (see `parser.rs`). `compile` then turns
//! the tree into a postfix program (a boxed slice of steps: push a
//! constant, push a variable, apply an operator) and records the most values it holds at
//! once. [`Condition::eval`] runs it over an `[f64; N]` on the stack with `N` the smallest
//! of 8, 32 or 326 that fits: nothing is allocated per evaluation.

mod compile;
mod error;
mod expr;
mod lexer;
mod parser;
mod variables;

#[cfg(test)]
mod tests;

pub use compile::Condition;
pub use error::{ConditionError, ErrorKind, Expected};
pub use expr::{BinaryOp, Expr, UnaryOp};
pub use variables::{UnknownVariable, Values, Variable, VARIABLES};

/// The deepest nesting of parentheses and unary operators a condition may have
/// (docs/STATISTICS.md, Conditions).
pub const MAX_NESTING: usize = 64;

/// The most tokens a condition may have: as many as the characters a condition may have, so the
/// limit only guards direct callers that skip the length check.
pub const MAX_TOKENS: usize = helpdesk_domain::limits::CONDITION_MAX_CHARS;

/// Parses a condition's syntax. Variable names are not checked: `$anything` is accepted.
pub fn parse(source: &str) -> Result<Expr, ConditionError> {
    parser::parse(source, false)
}

/// Parses a condition, checks that every variable is one of [`VARIABLES`], and compiles it.
pub fn compile(source: &str) -> Result<Condition, ConditionError> {
    parser::parse(source, true).map(Condition::from_checked)
}
