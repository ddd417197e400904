//! The syntax tree and its canonical printing.

use std::fmt;

/// A prefix operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `!x`: 1 when `x` is 0, else 0.
    Not,
}

impl UnaryOp {
    pub const fn symbol(self) -> &'static str {
        match self {
            UnaryOp::Neg => "-",
            UnaryOp::Not => "!",
        }
    }
}

/// An infix operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
    Add,
    Sub,
    Mul,
    Div,
}

impl BinaryOp {
    /// Every binary operator, lowest precedence first.
    pub const ALL: [BinaryOp; 12] = [
        BinaryOp::Or,
        BinaryOp::And,
        BinaryOp::Gt,
        BinaryOp::Ge,
        BinaryOp::Lt,
        BinaryOp::Le,
        BinaryOp::Eq,
        BinaryOp::Ne,
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
    ];

    pub const fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "||",
            BinaryOp::And => "&&",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
        }
    }

    /// The symbol with a space on either side, as canonical printing writes it.
    pub const fn spaced(self) -> &'static str {
        match self {
            BinaryOp::Or => " || ",
            BinaryOp::And => " && ",
            BinaryOp::Gt => " > ",
            BinaryOp::Ge => " >= ",
            BinaryOp::Lt => " < ",
            BinaryOp::Le => " <= ",
            BinaryOp::Eq => " == ",
            BinaryOp::Ne => " != ",
            BinaryOp::Add => " + ",
            BinaryOp::Sub => " - ",
            BinaryOp::Mul => " * ",
            BinaryOp::Div => " / ",
        }
    }

    /// 1 (`||`) to 5 (`*`, `/`); unary operators bind at 6 and atoms at 7.
    pub const fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Gt
            | BinaryOp::Ge
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Eq
            | BinaryOp::Ne => 3,
            BinaryOp::Add | BinaryOp::Sub => 4,
            BinaryOp::Mul | BinaryOp::Div => 5,
        }
    }

    /// Comparisons do not associate: `a < b < c` is a syntax error.
    pub const fn is_comparison(self) -> bool {
        self.precedence() == 3
    }
}

pub(crate) const UNARY_PRECEDENCE: u8 = 6;
const ATOM_PRECEDENCE: u8 = 7;

/// A condition's syntax tree, as [`parse`](super::parse) builds it.
///
/// Parentheses leave no node: `(1 + 2) * 3` is `Mul(Add(1, 2), 3)`. Chains of one
/// precedence are left-associative: `1 - 2 - 3` is `Sub(Sub(1, 2), 3)`.
///
/// `Display` prints the canonical text (see the module docs), which parses back to an
/// equal tree as long as every [`Expr::Number`] holds a finite value ≥ 0 (the parser
/// never builds another: `-5` is `Neg(5)`).
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A literal: finite and ≥ 0.
    Number(f64),
    /// A variable, by name without the `$`. [`parse`](super::parse) accepts any name;
    /// [`compile`](super::compile) accepts only the names of [`VARIABLES`](super::VARIABLES).
    Variable(String),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
}

impl Expr {
    pub fn number(value: f64) -> Expr {
        Expr::Number(value)
    }

    /// A variable by name without the `$`.
    pub fn variable(name: impl Into<String>) -> Expr {
        Expr::Variable(name.into())
    }

    pub fn unary(op: UnaryOp, operand: Expr) -> Expr {
        Expr::Unary(op, Box::new(operand))
    }

    pub fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
        Expr::Binary(op, Box::new(left), Box::new(right))
    }

    /// How tightly the node binds: its operator's precedence, 6 for a unary operator,
    /// 7 for a number or a variable.
    pub fn precedence(&self) -> u8 {
        match self {
            Expr::Number(_) | Expr::Variable(_) => ATOM_PRECEDENCE,
            Expr::Unary(..) => UNARY_PRECEDENCE,
            Expr::Binary(op, ..) => op.precedence(),
        }
    }
}

/// The canonical text: single spaces around binary operators, none after a unary one,
/// and only the parentheses the tree needs.
///
/// Printing keeps its own list of what is left to write instead of recursing, so a
/// tree of any depth prints in constant stack.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        enum Piece<'e> {
            Expr(&'e Expr),
            Text(&'static str),
        }
        fn operand<'e>(todo: &mut Vec<Piece<'e>>, expr: &'e Expr, parenthesize: bool) {
            if parenthesize {
                todo.extend([Piece::Text(")"), Piece::Expr(expr), Piece::Text("(")]);
            } else {
                todo.push(Piece::Expr(expr));
            }
        }
        let mut todo = vec![Piece::Expr(self)];
        while let Some(piece) = todo.pop() {
            match piece {
                Piece::Text(text) => f.write_str(text)?,
                Piece::Expr(Expr::Number(value)) => write!(f, "{value}")?,
                Piece::Expr(Expr::Variable(name)) => write!(f, "${name}")?,
                Piece::Expr(Expr::Unary(op, inner)) => {
                    f.write_str(op.symbol())?;
                    operand(&mut todo, inner, inner.precedence() < UNARY_PRECEDENCE);
                }
                Piece::Expr(Expr::Binary(op, left, right)) => {
                    let precedence = op.precedence();
                    // Pushed in reverse: the right operand is written last. Operators of
                    // one precedence associate to the left, so a right operand of the
                    // same precedence needs parentheses; comparisons do not associate,
                    // so a left one does too.
                    operand(&mut todo, right, right.precedence() <= precedence);
                    todo.push(Piece::Text(op.spaced()));
                    let left_parens = left.precedence() < precedence
                        || (op.is_comparison() && left.precedence() == precedence);
                    operand(&mut todo, left, left_parens);
                }
            }
        }
        Ok(())
    }
}
