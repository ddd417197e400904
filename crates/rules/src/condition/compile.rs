//! The checked, compiled condition and its allocation-free evaluator.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::Arc;

use super::error::ConditionError;
use super::expr::{BinaryOp, Expr, UnaryOp};
use super::variables::{Values, Variable};
use super::MAX_NESTING;

/// The most values the evaluator ever holds at once.
///
/// Without parentheses an operand nests at most five binary precedences deep
/// (`a || b && c == d + e * f` holds six values before the first operator runs), and each
/// nesting level can start that again one value higher; unary operators take no room.
/// So 5 × (64 + 1) + 1; `compile` asserts the bound for every program it builds.
pub(crate) const MAX_STACK: usize = 5 * (MAX_NESTING + 1) + 1;

/// One step of a postfix program.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Op {
    Const(f64),
    Load(Variable),
    Unary(UnaryOp),
    Binary(BinaryOp),
}

/// A checked condition, ready to evaluate.
///
/// Built by [`compile`](super::compile) (or `str::parse`). Cloning is cheap (one `Arc`).
/// Equality and hashing follow the canonical text, i.e. the syntax tree.
#[derive(Clone)]
pub struct Condition {
    inner: Arc<Compiled>,
}

struct Compiled {
    expr: Expr,
    /// The canonical text.
    text: String,
    /// The postfix program.
    ops: Box<[Op]>,
    /// The most values the program holds at once (≤ [`MAX_STACK`]).
    stack: usize,
    /// The variables read, each once, in the order of `VARIABLES`.
    variables: Box<[Variable]>,
}

impl Condition {
    /// Compiles a tree whose variables are all known and whose nesting is within the
    /// limit (a tree `parse(_, true)` built, or a part of one).
    pub(crate) fn from_checked(expr: Expr) -> Condition {
        let (ops, stack, read) = emit(&expr);
        assert!(
            stack <= MAX_STACK,
            "the nesting limit bounds the evaluator's stack"
        );
        let variables = Variable::ALL
            .into_iter()
            .filter(|variable| read & (1 << variable.index()) != 0)
            .collect();
        Condition {
            inner: Arc::new(Compiled {
                text: expr.to_string(),
                expr,
                ops: ops.into_boxed_slice(),
                stack,
                variables,
            }),
        }
    }

    /// The condition's value for these values. Never NaN; never allocates.
    pub fn eval(&self, values: &Values) -> f64 {
        let ops = &self.inner.ops;
        // The stack is an array on the machine stack; pick the smallest size that fits,
        // so that small conditions do not pay for zeroing the largest.
        match self.inner.stack {
            0..=8 => run::<8>(ops, values),
            9..=32 => run::<32>(ops, values),
            _ => run::<MAX_STACK>(ops, values),
        }
    }

    /// Whether the condition holds: its value is not 0.
    pub fn holds(&self, values: &Values) -> bool {
        self.eval(values) != 0.0
    }

    /// The variables the condition reads, each once, in the order of
    /// [`VARIABLES`](super::VARIABLES).
    pub fn variables(&self) -> &[Variable] {
        &self.inner.variables
    }

    /// The syntax tree.
    pub fn expr(&self) -> &Expr {
        &self.inner.expr
    }

    /// The canonical text (what `Display` prints).
    pub fn as_str(&self) -> &str {
        &self.inner.text
    }

    /// The operands of the top-level `&&`s, left to right, each a condition of its own:
    /// the condition holds exactly when every part holds. `&&`s inside parentheses
    /// directly under the top-level chain split too (`a && (b && c)` has three parts);
    /// a condition that is not an `&&` is its own single part.
    pub fn parts(&self) -> Vec<Condition> {
        if !matches!(self.inner.expr, Expr::Binary(BinaryOp::And, ..)) {
            return vec![self.clone()];
        }
        let mut parts = Vec::new();
        let mut pending = vec![&self.inner.expr];
        while let Some(expr) = pending.pop() {
            match expr {
                Expr::Binary(BinaryOp::And, left, right) => {
                    pending.push(right);
                    pending.push(left);
                }
                part => parts.push(Condition::from_checked(part.clone())),
            }
        }
        parts
    }

    /// The number of steps of the compiled program (for tests and curiosity).
    pub fn program_len(&self) -> usize {
        self.inner.ops.len()
    }

    /// The most values the evaluator holds at once for this condition.
    pub fn stack_depth(&self) -> usize {
        self.inner.stack
    }
}

/// Takes a tree apart node by node, so that dropping a long chain does not recurse.
impl Drop for Compiled {
    fn drop(&mut self) {
        let mut pending = vec![std::mem::replace(&mut self.expr, Expr::Number(0.0))];
        while let Some(expr) = pending.pop() {
            match expr {
                Expr::Unary(_, operand) => pending.push(*operand),
                Expr::Binary(_, left, right) => {
                    pending.push(*left);
                    pending.push(*right);
                }
                Expr::Number(_) | Expr::Variable(_) => {}
            }
        }
    }
}

/// Post-order walk with an explicit work list (a chain `1 + 1 + …` is as deep as it is
/// long). Returns the program, its stack depth and the variables read as a bit set.
fn emit(expr: &Expr) -> (Vec<Op>, usize, u32) {
    enum Work<'e> {
        Visit(&'e Expr),
        Emit(Op),
    }
    let mut work = vec![Work::Visit(expr)];
    let mut ops = Vec::new();
    let (mut depth, mut max_depth, mut read) = (0usize, 0usize, 0u32);
    while let Some(item) = work.pop() {
        let op = match item {
            Work::Emit(op) => op,
            Work::Visit(Expr::Number(value)) => Op::Const(*value),
            Work::Visit(Expr::Variable(name)) => {
                let variable = Variable::from_name(name).expect("compiled trees are checked");
                read |= 1 << variable.index();
                Op::Load(variable)
            }
            Work::Visit(Expr::Unary(op, operand)) => {
                work.push(Work::Emit(Op::Unary(*op)));
                work.push(Work::Visit(operand));
                continue;
            }
            Work::Visit(Expr::Binary(op, left, right)) => {
                work.push(Work::Emit(Op::Binary(*op)));
                work.push(Work::Visit(right));
                work.push(Work::Visit(left));
                continue;
            }
        };
        match op {
            Op::Const(_) | Op::Load(_) => depth += 1,
            Op::Binary(_) => depth -= 1,
            Op::Unary(_) => {}
        }
        max_depth = max_depth.max(depth);
        ops.push(op);
    }
    (ops, max_depth, read)
}

/// Runs a program whose stack depth is at most `N`.
fn run<const N: usize>(ops: &[Op], values: &Values) -> f64 {
    let mut stack = [0.0f64; N];
    let mut len = 0;
    for op in ops {
        match *op {
            Op::Const(value) => {
                stack[len] = value;
                len += 1;
            }
            Op::Load(variable) => {
                stack[len] = defined(values.get(variable));
                len += 1;
            }
            Op::Unary(op) => stack[len - 1] = unary(op, stack[len - 1]),
            Op::Binary(op) => {
                len -= 1;
                stack[len - 1] = binary(op, stack[len - 1], stack[len]);
            }
        }
    }
    stack[0]
}

/// NaN (an undefined result or value) becomes 0.
fn defined(value: f64) -> f64 {
    if value.is_nan() {
        0.0
    } else {
        value
    }
}

fn truth(holds: bool) -> f64 {
    if holds {
        1.0
    } else {
        0.0
    }
}

fn unary(op: UnaryOp, value: f64) -> f64 {
    match op {
        UnaryOp::Neg => -value,
        UnaryOp::Not => truth(value == 0.0),
    }
}

fn binary(op: BinaryOp, a: f64, b: f64) -> f64 {
    match op {
        BinaryOp::Or => truth(a != 0.0 || b != 0.0),
        BinaryOp::And => truth(a != 0.0 && b != 0.0),
        BinaryOp::Gt => truth(a > b),
        BinaryOp::Ge => truth(a >= b),
        BinaryOp::Lt => truth(a < b),
        BinaryOp::Le => truth(a <= b),
        BinaryOp::Eq => truth(a == b),
        BinaryOp::Ne => truth(a != b),
        BinaryOp::Add => defined(a + b),
        BinaryOp::Sub => defined(a - b),
        BinaryOp::Mul => defined(a * b),
        BinaryOp::Div if b == 0.0 => 0.0,
        BinaryOp::Div => defined(a / b),
    }
}

/// The canonical text.
impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.text)
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Condition").field(&self.inner.text).finish()
    }
}

impl PartialEq for Condition {
    fn eq(&self, other: &Self) -> bool {
        self.inner.text == other.inner.text
    }
}

impl Eq for Condition {}

impl Hash for Condition {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.text.hash(state);
    }
}

/// Same as [`compile`](super::compile).
impl FromStr for Condition {
    type Err = ConditionError;

    fn from_str(source: &str) -> Result<Self, Self::Err> {
        super::compile(source)
    }
}
