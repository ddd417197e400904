//! Property tests of the condition language: no input panics, printing round-trips, and
//! the compiled evaluator agrees with a plain recursive interpreter written here.

use helpdesk_rules::condition::{
    compile, parse, BinaryOp, Expr, UnaryOp, Values, Variable, VARIABLES,
};
use proptest::prelude::*;
use proptest::sample::select;

// --- strategies ------------------------------------------------------------------------

/// Literals as the parser builds them: finite and ≥ 0, with the extremes well represented.
fn literal() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        (0u32..100).prop_map(f64::from),
        0.0..1000.0f64,
        Just(f64::MAX),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
        prop::num::f64::POSITIVE
            | prop::num::f64::NORMAL
            | prop::num::f64::SUBNORMAL
            | prop::num::f64::ZERO,
    ]
}

/// Variable values, including what the evaluator must tame: NaN, infinities, huge values.
fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => Just(0.0),
        4 => (-5i32..50).prop_map(f64::from),
        2 => -1e6..1e6f64,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(f64::MAX),
        1 => Just(-0.0),
        2 => any::<f64>(),
    ]
}

fn values() -> impl Strategy<Value = Values> {
    prop::array::uniform19(value()).prop_map(Values::from)
}

/// Random trees; with `known_only`, every variable is one of `VARIABLES`.
fn tree(known_only: bool) -> impl Strategy<Value = Expr> {
    let variable = if known_only {
        select(VARIABLES).prop_map(Expr::variable).boxed()
    } else {
        prop_oneof![
            select(VARIABLES).prop_map(Expr::variable),
            "[a-zA-Z_][a-zA-Z0-9_]{0,10}".prop_map(Expr::variable),
        ]
        .boxed()
    };
    let leaf = prop_oneof![literal().prop_map(Expr::number), variable];
    leaf.prop_recursive(8, 64, 2, |inner| {
        prop_oneof![
            1 => (select(&[UnaryOp::Neg, UnaryOp::Not][..]), inner.clone())
                .prop_map(|(op, operand)| Expr::unary(op, operand)),
            3 => (select(&BinaryOp::ALL[..]), inner.clone(), inner)
                .prop_map(|(op, left, right)| Expr::binary(op, left, right)),
        ]
    })
}

/// Pieces of the grammar's alphabet and of the slips people make, glued at random.
const SOUP: &[&str] = &[
    "(",
    ")",
    "(",
    ")",
    "+",
    "-",
    "-",
    "*",
    "/",
    "!",
    ">",
    ">=",
    "<",
    "<=",
    "==",
    "!=",
    "&&",
    "||",
    "$answers",
    "$chats",
    "$rewards_p",
    "$answer",
    "$x",
    "$",
    "$1",
    "=",
    "=>",
    "&",
    "|",
    ".",
    "e",
    "1",
    "0",
    "2.5",
    "10",
    "0.75",
    "007",
    "1.",
    ".5",
    "1e5",
    "answers",
    "and",
    " ",
    " ",
    "\t",
    "\n",
    "\u{e4}",
    "\u{1F642}",
    "\"",
    "\\",
    "\u{0}",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(select(SOUP), 0..48).prop_map(|pieces| pieces.concat())
}

/// Printed trees with a few random edits: errors deep inside text that mostly makes sense.
fn edited() -> impl Strategy<Value = String> {
    let edit = (any::<prop::sample::Index>(), select(SOUP), any::<bool>());
    (tree(false), prop::collection::vec(edit, 1..4)).prop_map(|(expr, edits)| {
        let mut text: Vec<char> = expr.to_string().chars().collect();
        for (at, piece, insert) in edits {
            let at = at.index(text.len() + 1);
            if insert {
                text.splice(at..at, piece.chars());
            } else if at < text.len() {
                text.remove(at);
            }
        }
        text.into_iter().collect()
    })
}

// --- the reference interpreter ----------------------------------------------------------

/// The condition language of docs/STATISTICS.md, Conditions, as plainly as it can be said,
/// recursively over the tree.
fn reference(expr: &Expr, values: &Values) -> f64 {
    fn no_nan(x: f64) -> f64 {
        if x.is_nan() {
            0.0
        } else {
            x
        }
    }
    fn flag(b: bool) -> f64 {
        if b {
            1.0
        } else {
            0.0
        }
    }
    match expr {
        Expr::Number(n) => *n,
        Expr::Variable(name) => no_nan(values.get_by_name(name).expect("known variable")),
        Expr::Unary(UnaryOp::Neg, e) => -reference(e, values),
        Expr::Unary(UnaryOp::Not, e) => flag(reference(e, values) == 0.0),
        Expr::Binary(op, l, r) => {
            let (a, b) = (reference(l, values), reference(r, values));
            match op {
                BinaryOp::Or => flag(a != 0.0 || b != 0.0),
                BinaryOp::And => flag(a != 0.0 && b != 0.0),
                BinaryOp::Gt => flag(a > b),
                BinaryOp::Ge => flag(a >= b),
                BinaryOp::Lt => flag(a < b),
                BinaryOp::Le => flag(a <= b),
                BinaryOp::Eq => flag(a == b),
                BinaryOp::Ne => flag(a != b),
                BinaryOp::Add => no_nan(a + b),
                BinaryOp::Sub => no_nan(a - b),
                BinaryOp::Mul => no_nan(a * b),
                BinaryOp::Div => {
                    if b == 0.0 {
                        0.0
                    } else {
                        no_nan(a / b)
                    }
                }
            }
        }
    }
}

fn variables_in(expr: &Expr, out: &mut Vec<Variable>) {
    match expr {
        Expr::Number(_) => {}
        Expr::Variable(name) => out.push(Variable::from_name(name).unwrap()),
        Expr::Unary(_, e) => variables_in(e, out),
        Expr::Binary(_, l, r) => {
            variables_in(l, out);
            variables_in(r, out);
        }
    }
}

/// NaN-aware and sign-aware: the same bits, or both NaN.
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

// --- properties ------------------------------------------------------------------------

/// Whatever the text, parse and compile return (never panic), errors point into the text
/// or just past it, and what compiles prints to text that compiles to the same tree.
fn check_any_text(text: &str) -> Result<(), TestCaseError> {
    let chars = text.chars().count();
    let parsed = parse(text);
    let compiled = compile(text);
    match (&parsed, &compiled) {
        (Ok(tree), Ok(condition)) => {
            prop_assert_eq!(condition.expr(), tree);
            let printed = condition.to_string();
            prop_assert_eq!(&parse(&printed).unwrap(), tree);
            let again = compile(&printed).unwrap();
            prop_assert_eq!(again.as_str(), printed.as_str());
        }
        (Ok(tree), Err(error)) => {
            // Only an unknown variable keeps a parsed text from compiling.
            prop_assert!(error.message().starts_with("unknown variable"), "{}", error);
            prop_assert_eq!(&parse(&tree.to_string()).unwrap(), tree);
        }
        (Err(syntax), Err(error)) => {
            prop_assert!(error.column() <= syntax.column(), "{} / {}", syntax, error);
        }
        (Err(syntax), Ok(_)) => {
            return Err(TestCaseError::fail(format!(
                "parse failed but compile did not: {syntax}"
            )));
        }
    }
    for error in [parsed.err(), compiled.err()].into_iter().flatten() {
        prop_assert!((1..=chars + 1).contains(&error.column()), "{}", error);
        let prefix = format!("column {}: ", error.column());
        prop_assert!(error.to_string().starts_with(&prefix), "{}", error);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn no_string_panics(text in any::<String>()) {
        check_any_text(&text)?;
    }

    #[test]
    fn no_printable_ascii_panics(text in "[ -~]{0,80}") {
        check_any_text(&text)?;
    }

    #[test]
    fn no_token_soup_panics(text in soup()) {
        check_any_text(&text)?;
    }

    #[test]
    fn no_edited_condition_panics(text in edited()) {
        check_any_text(&text)?;
    }

    #[test]
    fn printing_then_parsing_gives_the_same_tree(expr in tree(false)) {
        let printed = expr.to_string();
        prop_assert_eq!(parse(&printed), Ok(expr.clone()), "printed as {}", printed);
        // Whitespace is only ever needed for people: without it the tokens stay the same.
        let tight: String = printed.chars().filter(|c| *c != ' ').collect();
        prop_assert_eq!(parse(&tight), Ok(expr), "squeezed to {}", tight);
    }

    #[test]
    fn the_compiled_evaluator_agrees_with_the_reference(expr in tree(true), values in values()) {
        let printed = expr.to_string();
        let condition = compile(&printed).unwrap();
        prop_assert_eq!(condition.expr(), &expr);
        let expected = reference(&expr, &values);
        let actual = condition.eval(&values);
        prop_assert!(same(actual, expected), "{} gave {} instead of {}", printed, actual, expected);
        prop_assert!(!actual.is_nan());
        prop_assert_eq!(condition.holds(&values), expected != 0.0);
        // A condition holds exactly when all its parts do.
        let parts = condition.parts();
        prop_assert_eq!(condition.holds(&values), parts.iter().all(|part| part.holds(&values)));
        // It reads exactly the variables in it.
        let mut read = Vec::new();
        variables_in(&expr, &mut read);
        read.sort();
        read.dedup();
        prop_assert_eq!(condition.variables(), read.as_slice());
    }
}
