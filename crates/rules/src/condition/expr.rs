//! The syntax tree and its canonical printing.

use std::fmt::{self, Write as _};

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

const UNARY_PRECEDENCE: u8 = 6;
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
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_expr(f, self)
    }
}

fn write_operand(f: &mut fmt::Formatter<'_>, expr: &Expr, parenthesize: bool) -> fmt::Result {
    if parenthesize {
        f.write_char('(')?;
        write_expr(f, expr)?;
        f.write_char(')')
    } else {
        write_expr(f, expr)
    }
}

/// Recursion follows right operands, unary operands and parentheses only; a
/// left-associative chain (`1 + 2 + 3 + …`, as deep as it is long) is walked in a loop.
fn write_expr(f: &mut fmt::Formatter<'_>, expr: &Expr) -> fmt::Result {
    match expr {
        Expr::Number(value) => write!(f, "{value}"),
        Expr::Variable(name) => write!(f, "${name}"),
        Expr::Unary(op, operand) => {
            f.write_str(op.symbol())?;
            write_operand(f, operand, operand.precedence() < UNARY_PRECEDENCE)
        }
        Expr::Binary(op, left, right) => {
            let precedence = op.precedence();
            // The left spine of operators of this precedence prints without parentheses
            // (except for comparisons, which do not chain).
            let mut rights = vec![(*op, &**right)];
            let mut leftmost = &**left;
            if !op.is_comparison() {
                while let Expr::Binary(inner, l, r) = leftmost {
                    if inner.precedence() != precedence {
                        break;
                    }
                    rights.push((*inner, r));
                    leftmost = l;
                }
            }
            let left_parens = leftmost.precedence() < precedence
                || (op.is_comparison() && leftmost.precedence() == precedence);
            write_operand(f, leftmost, left_parens)?;
            for (op, right) in rights.into_iter().rev() {
                write!(f, " {} ", op.symbol())?;
                write_operand(f, right, right.precedence() <= precedence)?;
            }
            Ok(())
        }
    }
}
