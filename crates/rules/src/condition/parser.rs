//! Tokens to a syntax tree, without recursion.
//!
//! The grammar (docs/STATISTICS.md, Conditions) is a precedence grammar, so the parser is
//! operator precedence ("shunting yard") with two states: it expects an operand (a number,
//! a variable, or a prefix: `-`, `!`, `(`), then an operator (a binary operator, `)`, or
//! the end), and so on. Pending operators wait on a stack until an operator that binds no
//! tighter arrives; then they take their operands. The result is the tree the grammar
//! describes:
//!
//! - precedence: `||` 1, `&&` 2, comparisons 3, `+ -` 4, `* /` 5, unary `- !` 6;
//! - `||`, `&&`, `+ -`, `* /` associate to the left: an operator reduces pending ones of
//!   the same precedence first;
//! - comparisons do not associate: a comparison that meets a pending comparison in the
//!   same parentheses is an error, as `cmp := sum ( op sum )?` allows only one.
//!
//! Everything lives in two `Vec`s, so no input can exhaust the thread's stack; the
//! nesting limit is enforced all the same (docs/STATISTICS.md, Conditions), and it bounds
//! the evaluator's stack.

use super::error::{ConditionError, ErrorKind, Expected, Want};
use super::expr::{BinaryOp, Expr, UnaryOp, UNARY_PRECEDENCE};
use super::lexer::{Lexer, Tok, Token};
use super::variables::Variable;
use super::MAX_NESTING;

/// Parses a whole condition. With `check_names`, a variable that is not one of
/// [`VARIABLES`](super::VARIABLES) is an error where it stands, so the first problem
/// from the left is the one reported.
pub(crate) fn parse(source: &str, check_names: bool) -> Result<Expr, ConditionError> {
    let mut lexer = Lexer::new(source);
    let token = lexer.next_token()?;
    Parser {
        lexer,
        token,
        previous: None,
        operands: Vec::new(),
        pending: Vec::new(),
        depth: 0,
        groups: 0,
        check_names,
    }
    .run()
}

/// An operator waiting for (the rest of) its operands, or an open parenthesis.
#[derive(Debug, Clone, Copy)]
enum Pending {
    Unary(UnaryOp),
    /// Its left operand is on the operand stack.
    Binary(BinaryOp),
    Group,
}

fn binary_op(tok: Tok) -> Option<BinaryOp> {
    Some(match tok {
        Tok::OrOr => BinaryOp::Or,
        Tok::AndAnd => BinaryOp::And,
        Tok::Gt => BinaryOp::Gt,
        Tok::Ge => BinaryOp::Ge,
        Tok::Lt => BinaryOp::Lt,
        Tok::Le => BinaryOp::Le,
        Tok::EqEq => BinaryOp::Eq,
        Tok::Ne => BinaryOp::Ne,
        Tok::Plus => BinaryOp::Add,
        Tok::Minus => BinaryOp::Sub,
        Tok::Star => BinaryOp::Mul,
        Tok::Slash => BinaryOp::Div,
        _ => return None,
    })
}

const OPERAND_START: [Want; 5] = [
    Want::Number,
    Want::Variable,
    Want::LParen,
    Want::Minus,
    Want::Not,
];
const ARITHMETIC: [Want; 4] = [Want::Plus, Want::Minus, Want::Star, Want::Slash];
const COMPARISON: [Want; 6] = [Want::Gt, Want::Ge, Want::Lt, Want::Le, Want::EqEq, Want::Ne];
const LOGIC: [Want; 2] = [Want::AndAnd, Want::OrOr];

struct Parser<'a> {
    lexer: Lexer<'a>,
    /// The lookahead: the next token not yet consumed.
    token: Token<'a>,
    previous: Option<Token<'a>>,
    /// Finished subtrees, innermost last.
    operands: Vec<Expr>,
    /// Operators and parentheses waiting, innermost last.
    pending: Vec<Pending>,
    /// The `Unary` and `Group` entries of `pending`: the nesting at this point.
    depth: usize,
    /// The `Group` entries of `pending`.
    groups: usize,
    check_names: bool,
}

impl Parser<'_> {
    fn run(mut self) -> Result<Expr, ConditionError> {
        loop {
            self.operand()?;
            // Expecting an operator.
            loop {
                let token = self.token;
                if let Some(op) = binary_op(token.tok) {
                    if op.is_comparison() {
                        self.reduce(|precedence| precedence > op.precedence());
                        if self.comparison_pending() {
                            return Err(self.unexpected(self.expected_operator()));
                        }
                    } else {
                        self.reduce(|precedence| precedence >= op.precedence());
                    }
                    self.pending.push(Pending::Binary(op));
                    self.advance()?;
                    break;
                }
                match token.tok {
                    Tok::RParen if self.groups > 0 => {
                        self.reduce(|_| true);
                        let group = self.pending.pop();
                        debug_assert!(matches!(group, Some(Pending::Group)));
                        self.depth -= 1;
                        self.groups -= 1;
                        self.advance()?;
                    }
                    Tok::End if self.groups == 0 => {
                        self.reduce(|_| true);
                        debug_assert!(self.pending.is_empty() && self.operands.len() == 1);
                        return Ok(self
                            .operands
                            .pop()
                            .expect("a finished parse leaves one tree"));
                    }
                    _ => return Err(self.unexpected(self.expected_operator())),
                }
            }
        }
    }

    /// `unary := ( "-" | "!" ) unary | atom`, `atom := number | "$" name | "(" expr ")"`:
    /// takes prefixes until a number or a variable ends the operand.
    fn operand(&mut self) -> Result<(), ConditionError> {
        loop {
            let token = self.token;
            let pending = match token.tok {
                Tok::Minus => Pending::Unary(UnaryOp::Neg),
                Tok::Not => Pending::Unary(UnaryOp::Not),
                Tok::LParen => Pending::Group,
                Tok::Number(value) => {
                    self.operands.push(Expr::Number(value));
                    return self.advance();
                }
                Tok::Variable => {
                    let name = &token.text[1..];
                    if self.check_names && Variable::from_name(name).is_none() {
                        return Err(ConditionError::new(
                            token.column,
                            ErrorKind::UnknownVariable {
                                name: name.to_owned(),
                                suggestion: Variable::closest(name),
                            },
                        ));
                    }
                    self.operands.push(Expr::variable(name));
                    return self.advance();
                }
                _ => {
                    let mut expected = Expected::NONE;
                    OPERAND_START
                        .into_iter()
                        .for_each(|want| expected.insert(want));
                    return Err(self.unexpected(expected));
                }
            };
            if self.depth == MAX_NESTING {
                return Err(ConditionError::new(token.column, ErrorKind::TooDeep));
            }
            self.depth += 1;
            self.groups += usize::from(matches!(pending, Pending::Group));
            self.pending.push(pending);
            self.advance()?;
        }
    }

    /// Lets pending operators whose precedence satisfies `takes` take their operands,
    /// innermost first, stopping at an open parenthesis.
    fn reduce(&mut self, takes: impl Fn(u8) -> bool) {
        while let Some(&top) = self.pending.last() {
            let node = match top {
                Pending::Unary(op) if takes(UNARY_PRECEDENCE) => {
                    self.depth -= 1;
                    let operand = self.pop_operand();
                    Expr::unary(op, operand)
                }
                Pending::Binary(op) if takes(op.precedence()) => {
                    let right = self.pop_operand();
                    let left = self.pop_operand();
                    Expr::binary(op, left, right)
                }
                _ => return,
            };
            self.pending.pop();
            self.operands.push(node);
        }
    }

    fn pop_operand(&mut self) -> Expr {
        self.operands
            .pop()
            .expect("every pending operator has its operands")
    }

    /// Whether a comparison waits for its right side within the innermost parentheses.
    fn comparison_pending(&self) -> bool {
        self.pending
            .iter()
            .rev()
            .take_while(|pending| !matches!(pending, Pending::Group))
            .any(|pending| matches!(pending, Pending::Binary(op) if op.is_comparison()))
    }

    /// What fits after an operand: any binary operator (but a second comparison), then
    /// `)` inside parentheses or the end outside.
    fn expected_operator(&self) -> Expected {
        let mut expected = Expected::NONE;
        ARITHMETIC
            .into_iter()
            .chain(LOGIC)
            .for_each(|want| expected.insert(want));
        if !self.comparison_pending() {
            COMPARISON
                .into_iter()
                .for_each(|want| expected.insert(want));
        }
        expected.insert(if self.groups > 0 {
            Want::RParen
        } else {
            Want::End
        });
        expected
    }

    fn advance(&mut self) -> Result<(), ConditionError> {
        let next = self.lexer.next_token()?;
        self.previous = Some(std::mem::replace(&mut self.token, next));
        Ok(())
    }

    /// The lookahead is none of `expected`.
    fn unexpected(&self, expected: Expected) -> ConditionError {
        ConditionError::new(
            self.token.column,
            ErrorKind::Unexpected {
                expected,
                found: self.token.describe(),
                hint: self.hint(expected),
            },
        )
    }

    /// A suggestion for the slips people make most.
    fn hint(&self, expected: Expected) -> Option<String> {
        let token = &self.token;
        let after_operand = expected.contains(Want::Plus);
        let hint = match token.tok {
            Tok::Invalid => match token.text {
                "=" => "write \"==\" to compare",
                "=>" | "=<" => "write \">=\" or \"<=\"",
                "&" => "write \"&&\" for and",
                "|" => "write \"||\" for or",
                text if Variable::from_name(text).is_some() => {
                    return Some(format!("variables start with \"$\": ${text}"));
                }
                text if text.eq_ignore_ascii_case("and") => "write \"&&\" for and",
                text if text.eq_ignore_ascii_case("or") => "write \"||\" for or",
                text if text.eq_ignore_ascii_case("not") => "write \"!\" for not",
                text if text.starts_with(['e', 'E'])
                    && self.previous.is_some_and(|previous| {
                        matches!(previous.tok, Tok::Number(_)) && previous.end == token.start
                    }) =>
                {
                    "numbers have no exponent: write them out, e.g. 1000 for 1e3"
                }
                _ => return None,
            },
            Tok::Gt | Tok::Ge | Tok::Lt | Tok::Le | Tok::EqEq | Tok::Ne
                if after_operand && !expected.contains(Want::Gt) =>
            {
                "comparisons do not chain: join them with \"&&\", as in 1 < $calls && $calls < 5"
            }
            Tok::RParen if after_operand && !expected.contains(Want::RParen) => {
                "there is no \"(\" for it to close"
            }
            _ => return None,
        };
        Some(hint.to_owned())
    }
}
