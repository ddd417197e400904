//! Tokens to a syntax tree: recursive descent, one function per grammar rule.
//!
//! Chains (`a + b + c`) are loops, so the recursion only deepens with parentheses and
//! unary operators, which the nesting limit bounds: at most 7 frames per level.

use super::error::{ConditionError, ErrorKind, Expected, Want};
use super::expr::{BinaryOp, Expr, UnaryOp};
use super::lexer::{Lexer, Tok, Token};
use super::variables::Variable;
use super::MAX_NESTING;

/// Parses a whole condition. With `check_names`, a variable that is not one of
/// [`VARIABLES`](super::VARIABLES) is an error at the point it is read, so the first
/// problem from the left is the one reported.
pub(crate) fn parse(source: &str, check_names: bool) -> Result<Expr, ConditionError> {
    let mut lexer = Lexer::new(source);
    let token = lexer.next_token()?;
    let mut parser = Parser {
        lexer,
        token,
        previous: None,
        expected: Expected::NONE,
        depth: 0,
        check_names,
    };
    let expr = parser.or()?;
    parser.expected.insert(Want::End);
    if parser.token.tok != Tok::End {
        return Err(parser.unexpected());
    }
    Ok(expr)
}

const OR: [(Tok, BinaryOp); 1] = [(Tok::OrOr, BinaryOp::Or)];
const AND: [(Tok, BinaryOp); 1] = [(Tok::AndAnd, BinaryOp::And)];
const COMPARISONS: [(Tok, BinaryOp); 6] = [
    (Tok::Gt, BinaryOp::Gt),
    (Tok::Ge, BinaryOp::Ge),
    (Tok::Lt, BinaryOp::Lt),
    (Tok::Le, BinaryOp::Le),
    (Tok::EqEq, BinaryOp::Eq),
    (Tok::Ne, BinaryOp::Ne),
];
const SUM: [(Tok, BinaryOp); 2] = [(Tok::Plus, BinaryOp::Add), (Tok::Minus, BinaryOp::Sub)];
const PRODUCT: [(Tok, BinaryOp); 2] = [(Tok::Star, BinaryOp::Mul), (Tok::Slash, BinaryOp::Div)];
const UNARY: [(Tok, UnaryOp); 2] = [(Tok::Minus, UnaryOp::Neg), (Tok::Not, UnaryOp::Not)];

struct Parser<'a> {
    lexer: Lexer<'a>,
    /// The lookahead: the next token not yet consumed.
    token: Token<'a>,
    previous: Option<Token<'a>>,
    /// Everything tried at the lookahead's position since it became the lookahead.
    expected: Expected,
    /// Open parentheses and unary operators around the current point.
    depth: usize,
    check_names: bool,
}

type Parsed = Result<Expr, ConditionError>;

impl<'a> Parser<'a> {
    fn advance(&mut self) -> Result<(), ConditionError> {
        let next = self.lexer.next_token()?;
        self.previous = Some(std::mem::replace(&mut self.token, next));
        self.expected = Expected::NONE;
        Ok(())
    }

    /// Consumes the lookahead if it is one of `choices`; either way the choices count as
    /// expected here, for the error message if nothing fits.
    fn eat<T: Copy>(
        &mut self,
        choices: &[(Tok, T)],
    ) -> Result<Option<(T, Token<'a>)>, ConditionError> {
        for (tok, _) in choices {
            if let Some(want) = tok.want() {
                self.expected.insert(want);
            }
        }
        let token = self.token;
        match choices.iter().find(|(tok, _)| *tok == token.tok) {
            Some(&(_, value)) => {
                self.advance()?;
                Ok(Some((value, token)))
            }
            None => Ok(None),
        }
    }

    /// Opens a nesting level at `column` (a `(` or a unary operator).
    fn enter(&mut self, column: usize) -> Result<(), ConditionError> {
        if self.depth == MAX_NESTING {
            return Err(ConditionError::new(column, ErrorKind::TooDeep));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// `or := and ( "||" and )*`
    fn or(&mut self) -> Parsed {
        self.chain(&OR, Self::and)
    }

    /// `and := cmp ( "&&" cmp )*`
    fn and(&mut self) -> Parsed {
        self.chain(&AND, Self::comparison)
    }

    /// `cmp := sum ( ( ">" | ">=" | "<" | "<=" | "==" | "!=" ) sum )?`
    fn comparison(&mut self) -> Parsed {
        let left = self.sum()?;
        match self.eat(&COMPARISONS)? {
            Some((op, _)) => {
                let right = self.sum()?;
                Ok(Expr::binary(op, left, right))
            }
            None => Ok(left),
        }
    }

    /// `sum := prod ( ( "+" | "-" ) prod )*`
    fn sum(&mut self) -> Parsed {
        self.chain(&SUM, Self::product)
    }

    /// `prod := unary ( ( "*" | "/" ) unary )*`
    fn product(&mut self) -> Parsed {
        self.chain(&PRODUCT, Self::unary)
    }

    /// A left-associative chain of `operand`s joined by `operators`.
    fn chain(&mut self, operators: &[(Tok, BinaryOp)], operand: fn(&mut Self) -> Parsed) -> Parsed {
        let mut left = operand(self)?;
        while let Some((op, _)) = self.eat(operators)? {
            let right = operand(self)?;
            left = Expr::binary(op, left, right);
        }
        Ok(left)
    }

    /// `unary := ( "-" | "!" ) unary | atom`
    fn unary(&mut self) -> Parsed {
        match self.eat(&UNARY)? {
            Some((op, token)) => {
                self.enter(token.column)?;
                let operand = self.unary()?;
                self.leave();
                Ok(Expr::unary(op, operand))
            }
            None => self.atom(),
        }
    }

    /// `atom := number | "$" name | "(" expr ")"`
    fn atom(&mut self) -> Parsed {
        self.expected.insert(Want::Number);
        self.expected.insert(Want::Variable);
        self.expected.insert(Want::LParen);
        let token = self.token;
        match token.tok {
            Tok::Number(value) => {
                self.advance()?;
                Ok(Expr::Number(value))
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
                self.advance()?;
                Ok(Expr::variable(name))
            }
            Tok::LParen => {
                self.enter(token.column)?;
                self.advance()?;
                let inner = self.or()?;
                self.expected.insert(Want::RParen);
                if self.token.tok != Tok::RParen {
                    return Err(self.unexpected());
                }
                self.advance()?;
                self.leave();
                Ok(inner)
            }
            _ => Err(self.unexpected()),
        }
    }

    /// The lookahead fits none of what was tried at its position.
    fn unexpected(&self) -> ConditionError {
        ConditionError::new(
            self.token.column,
            ErrorKind::Unexpected {
                expected: self.expected,
                found: self.token.describe(),
                hint: self.hint(),
            },
        )
    }

    /// A suggestion for the slips people make most.
    fn hint(&self) -> Option<String> {
        let token = &self.token;
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
                if self.expected.contains(Want::Plus) && !self.expected.contains(Want::Gt) =>
            {
                "comparisons do not chain: join them with \"&&\", as in 1 < $calls && $calls < 5"
            }
            Tok::RParen if self.depth == 0 => "there is no \"(\" for it to close",
            _ => return None,
        };
        Some(hint.to_owned())
    }
}
