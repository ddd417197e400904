//! Unit tests of the language: one group per grammar rule, then precedence, semantics,
//! errors, limits and printing. The property tests live in `tests/condition_properties.rs`.

use super::compile::MAX_STACK;
use super::*;
use crate::defaults::LEVELS;

fn values() -> Values {
    Values::new()
        .with(Variable::Worktime, 0.0)
        .with(Variable::Answers, 3.0)
        .with(Variable::Chats, 7.0)
        .with(Variable::Rewards, 2.0)
        .with(Variable::Calls, 2.5)
}

#[track_caller]
fn eval(source: &str) -> f64 {
    match compile(source) {
        Ok(condition) => condition.eval(&values()),
        Err(error) => panic!("{source:?} does not compile: {error}"),
    }
}

#[track_caller]
fn error(source: &str) -> String {
    match compile(source) {
        Ok(condition) => panic!("{source:?} compiled to {condition}"),
        Err(error) => error.to_string(),
    }
}

#[track_caller]
fn canonical(source: &str) -> String {
    compile(source).unwrap().to_string()
}

fn num(value: f64) -> Expr {
    Expr::number(value)
}

fn var(name: &str) -> Expr {
    Expr::variable(name)
}

fn bin(op: BinaryOp, left: Expr, right: Expr) -> Expr {
    Expr::binary(op, left, right)
}

// --- atom ------------------------------------------------------------------------------

#[test]
fn numbers() {
    assert_eq!(eval("10"), 10.0);
    assert_eq!(eval("2.5"), 2.5);
    assert_eq!(eval("0.75"), 0.75);
    assert_eq!(eval("007"), 7.0);
    assert_eq!(eval("  42\t\n"), 42.0);
    assert_eq!(parse("0.1").unwrap(), num(0.1));
    assert_eq!(parse(&f64::MAX.to_string()).unwrap(), num(f64::MAX));
}

#[test]
fn variables_read_their_values() {
    assert_eq!(eval("$answers"), 3.0);
    assert_eq!(eval("$calls"), 2.5);
    assert_eq!(eval("$not_ranked_p"), 0.0);
    for name in VARIABLES {
        assert!(compile(&format!("${name}")).is_ok(), "{name}");
    }
    let condition = compile("$answers").unwrap();
    assert_eq!(
        condition.eval(&Values::new().with(Variable::Answers, 12.0)),
        12.0
    );
}

#[test]
fn parse_accepts_any_variable_name_and_compile_does_not() {
    assert_eq!(
        parse("$whatever_1 > 2").unwrap(),
        bin(BinaryOp::Gt, var("whatever_1"), num(2.0))
    );
    assert_eq!(
        error("$whatever_1 > 2"),
        "column 1: unknown variable $whatever_1; did you mean $answers?"
    );
}

#[test]
fn parentheses_group_and_leave_no_node() {
    assert_eq!(parse("((($answers)))").unwrap(), var("answers"));
    assert_eq!(eval("(1 + 2) * 3"), 9.0);
    assert_eq!(eval("2 * (3 + 4)"), 14.0);
    assert_eq!(
        parse("(1 + 2) * 3").unwrap(),
        bin(
            BinaryOp::Mul,
            bin(BinaryOp::Add, num(1.0), num(2.0)),
            num(3.0)
        )
    );
}

// --- unary -----------------------------------------------------------------------------

#[test]
fn unary_minus_and_not() {
    assert_eq!(eval("-$answers"), -3.0);
    assert_eq!(eval("--$answers"), 3.0);
    assert_eq!(eval("- - 4"), 4.0);
    assert_eq!(eval("!0"), 1.0);
    assert_eq!(eval("!5"), 0.0);
    assert_eq!(eval("!-0.5"), 0.0);
    assert_eq!(eval("!!7"), 1.0);
    assert_eq!(eval("-!0"), -1.0);
    assert_eq!(eval("!$worktime"), 1.0);
    assert_eq!(parse("-5").unwrap(), Expr::unary(UnaryOp::Neg, num(5.0)));
}

#[test]
fn unary_binds_tighter_than_any_binary_operator() {
    assert_eq!(eval("-2 * 3"), -6.0);
    assert_eq!(eval("-2 - 3"), -5.0);
    assert_eq!(eval("2 - -3"), 5.0);
    assert_eq!(eval("!0 + 1"), 2.0);
    assert_eq!(eval("!(0 + 1)"), 0.0);
    assert_eq!(eval("-$answers * -$chats"), 21.0);
}

// --- prod and sum ----------------------------------------------------------------------

#[test]
fn products_and_sums_are_left_associative() {
    assert_eq!(eval("1 - 2 - 3"), -4.0);
    assert_eq!(eval("8 / 4 / 2"), 1.0);
    assert_eq!(eval("2 * 3 / 4"), 1.5);
    assert_eq!(eval("1 - 2 + 3"), 2.0);
    assert_eq!(
        parse("1 - 2 - 3").unwrap(),
        bin(
            BinaryOp::Sub,
            bin(BinaryOp::Sub, num(1.0), num(2.0)),
            num(3.0)
        )
    );
}

#[test]
fn products_bind_tighter_than_sums() {
    assert_eq!(eval("2 * 3 + 4"), 10.0);
    assert_eq!(eval("2 + 3 * 4"), 14.0);
    assert_eq!(eval("10 - 6 / 2"), 7.0);
    assert_eq!(eval("$answers + $chats * 2"), 17.0);
}

#[test]
fn division_by_zero_is_zero() {
    assert_eq!(eval("5 / 0"), 0.0);
    assert_eq!(eval("-5 / 0"), 0.0);
    assert_eq!(eval("0 / 0"), 0.0);
    assert_eq!(eval("$answers / $worktime"), 0.0);
    assert_eq!(eval("1 / (1 - 1)"), 0.0);
    assert_eq!(eval("1 / -0"), 0.0);
    assert_eq!(eval("5 / 0 == 0"), 1.0);
}

// --- cmp -------------------------------------------------------------------------------

#[test]
fn comparisons_give_one_or_zero() {
    for (source, expected) in [
        ("3 > 2", 1.0),
        ("2 > 2", 0.0),
        ("2 >= 2", 1.0),
        ("1 >= 2", 0.0),
        ("1 < 2", 1.0),
        ("2 < 2", 0.0),
        ("2 <= 2", 1.0),
        ("3 <= 2", 0.0),
        ("2 == 2", 1.0),
        ("2 == 3", 0.0),
        ("2 != 3", 1.0),
        ("2 != 2", 0.0),
        ("$calls == 2.5", 1.0),
    ] {
        assert_eq!(eval(source), expected, "{source}");
    }
}

#[test]
fn comparisons_bind_looser_than_arithmetic() {
    assert_eq!(eval("$answers + $chats >= 10"), 1.0);
    assert_eq!(eval("1 + 1 == 2"), 1.0);
    assert_eq!(eval("-1 < 0"), 1.0);
    assert_eq!(
        parse("1 + 2 > 3 * 4").unwrap(),
        bin(
            BinaryOp::Gt,
            bin(BinaryOp::Add, num(1.0), num(2.0)),
            bin(BinaryOp::Mul, num(3.0), num(4.0))
        )
    );
}

#[test]
fn comparisons_do_not_chain() {
    assert_eq!(
        error("1 < 2 < 3"),
        "column 7: expected \"+\", \"-\", \"*\", \"/\", \"&&\", \"||\" or the end of the condition, found \"<\" \
         (comparisons do not chain: join them with \"&&\", as in 1 < $calls && $calls < 5)"
    );
    assert_eq!(error("1 == 2 != 3").split(':').next(), Some("column 8"));
    assert_eq!(error("(1 < 2 >= 3)").split(':').next(), Some("column 8"));
    assert_eq!(eval("(1 < 2) < 3"), 1.0);
    assert_eq!(eval("1 < (2 < 3)"), 0.0);
    assert_eq!(eval("1 < 2 && 2 < 3"), 1.0);
}

// --- and, or ---------------------------------------------------------------------------

#[test]
fn and_or_give_one_or_zero() {
    for (source, expected) in [
        ("1 && 1", 1.0),
        ("5 && -2", 1.0),
        ("1 && 0", 0.0),
        ("0 && 1", 0.0),
        ("0 || 0", 0.0),
        ("0 || 3", 1.0),
        ("3 || 0", 1.0),
        ("0.5 || 0.5", 1.0),
        ("1 && 1 && 0", 0.0),
        ("0 || 0 || 7", 1.0),
    ] {
        assert_eq!(eval(source), expected, "{source}");
    }
}

#[test]
fn and_binds_tighter_than_or() {
    assert_eq!(eval("1 || 0 && 0"), 1.0);
    assert_eq!(eval("(1 || 0) && 0"), 0.0);
    assert_eq!(eval("0 && 0 || 1"), 1.0);
    assert_eq!(
        parse("$a || $b && $c").unwrap(),
        bin(
            BinaryOp::Or,
            var("a"),
            bin(BinaryOp::And, var("b"), var("c"))
        )
    );
    assert_eq!(
        parse("$a && $b && $c").unwrap(),
        bin(
            BinaryOp::And,
            bin(BinaryOp::And, var("a"), var("b")),
            var("c")
        )
    );
}

#[test]
fn a_condition_holds_when_its_value_is_not_zero() {
    let values = values();
    assert!(compile("1").unwrap().holds(&values));
    assert!(compile("-0.5").unwrap().holds(&values));
    assert!(!compile("0").unwrap().holds(&values));
    assert!(!compile("-0").unwrap().holds(&values));
    assert!(compile("$answers").unwrap().holds(&values));
    assert!(!compile("$worktime").unwrap().holds(&values));
}

#[test]
fn undefined_results_are_zero_and_overflow_is_infinite() {
    let big = f64::MAX.to_string();
    assert_eq!(eval(&format!("{big} * 10")), f64::INFINITY);
    assert_eq!(eval(&format!("{big} * 10 > 1000")), 1.0);
    assert_eq!(eval(&format!("-{big} * 10")), f64::NEG_INFINITY);
    assert_eq!(eval(&format!("{big} * 10 - {big} * 10")), 0.0);
    assert_eq!(eval(&format!("{big} * 10 * 0")), 0.0);
    assert_eq!(eval(&format!("{big} * 10 / ({big} * 10)")), 0.0);
    assert_eq!(eval(&format!("1 / ({big} * 10)")), 0.0);
    assert_eq!(eval(&format!("{big} * 10 == {big} * 10")), 1.0);

    let condition = compile("$answers + 1").unwrap();
    assert_eq!(
        condition.eval(&Values::new().with(Variable::Answers, f64::NAN)),
        1.0
    );
    let condition = compile("$answers != $answers").unwrap();
    assert_eq!(
        condition.eval(&Values::new().with(Variable::Answers, f64::NAN)),
        0.0
    );
    let condition = compile("$answers - $chats").unwrap();
    let infinite = Values::new()
        .with(Variable::Answers, f64::INFINITY)
        .with(Variable::Chats, f64::INFINITY);
    assert_eq!(condition.eval(&infinite), 0.0);
}

// --- errors ----------------------------------------------------------------------------

#[test]
fn syntax_errors_name_the_column_and_what_was_expected() {
    let operand = "expected a number, \"$\" and a variable name, \"(\", \"-\" or \"!\"";
    for (source, message) in [
        ("", format!("column 1: {operand}, found the end of the condition")),
        ("   ", format!("column 4: {operand}, found the end of the condition")),
        ("$answers >=", format!("column 12: {operand}, found the end of the condition")),
        ("($answers + )", format!("column 13: {operand}, found \")\"")),
        ("()", format!("column 2: {operand}, found \")\"")),
        ("-", format!("column 2: {operand}, found the end of the condition")),
        ("1 + @", format!("column 5: {operand}, found \"@\"")),
        ("1 +\u{e4}", format!("column 4: {operand}, found \"\u{e4}\"")),
        ("1 * * 2", format!("column 5: {operand}, found \"*\"")),
        ("1 2", "column 3: expected an operator or the end of the condition, found \"2\"".into()),
        ("($answers + 1", "column 14: expected an operator or \")\", found the end of the condition".into()),
        ("($answers > 1", "column 14: expected \"+\", \"-\", \"*\", \"/\", \"&&\", \"||\" or \")\", found the end of the condition".into()),
        ("($answers > 1 $chats", "column 15: expected \"+\", \"-\", \"*\", \"/\", \"&&\", \"||\" or \")\", found \"$chats\"".into()),
        ("1 !", "column 3: expected an operator or the end of the condition, found \"!\"".into()),
        ("$answers ! = 1", "column 10: expected an operator or the end of the condition, found \"!\"".into()),
    ] {
        assert_eq!(error(source), message, "{source:?}");
        let column = compile(source).unwrap_err().column();
        assert!(column >= 1 && column <= source.chars().count() + 1);
    }
}

#[test]
fn hints_for_common_slips() {
    for (source, message) in [
        ("$answers = 10", "column 10: expected an operator or the end of the condition, found \"=\" (write \"==\" to compare)"),
        ("$answers => 10", "column 10: expected an operator or the end of the condition, found \"=>\" (write \">=\" or \"<=\")"),
        ("$answers & $chats", "column 10: expected an operator or the end of the condition, found \"&\" (write \"&&\" for and)"),
        ("$answers | $chats", "column 10: expected an operator or the end of the condition, found \"|\" (write \"||\" for or)"),
        ("1 AND 2", "column 3: expected an operator or the end of the condition, found \"AND\" (write \"&&\" for and)"),
        ("1 or 2", "column 3: expected an operator or the end of the condition, found \"or\" (write \"||\" for or)"),
        ("not 1", "column 1: expected a number, \"$\" and a variable name, \"(\", \"-\" or \"!\", found \"not\" (write \"!\" for not)"),
        ("answers > 1", "column 1: expected a number, \"$\" and a variable name, \"(\", \"-\" or \"!\", found \"answers\" (variables start with \"$\": $answers)"),
        ("1e3", "column 2: expected an operator or the end of the condition, found \"e3\" (numbers have no exponent: write them out, e.g. 1000 for 1e3)"),
        ("(1))", "column 4: expected an operator or the end of the condition, found \")\" (there is no \"(\" for it to close)"),
    ] {
        assert_eq!(error(source), message, "{source:?}");
    }
    // Only a word right after a number reads as an exponent.
    assert!(!error("1 e3").contains("exponent"));
}

#[test]
fn lexical_errors_point_inside_the_token() {
    assert_eq!(
        error("$ answers"),
        "column 2: expected a variable name right after \"$\", found a space"
    );
    assert_eq!(
        error("1 + $"),
        "column 6: expected a variable name right after \"$\", found the end of the condition"
    );
    assert_eq!(
        error("2. + 1"),
        "column 3: expected a digit after \".\", found a space"
    );
    assert_eq!(error(".5"), "column 1: expected a number, \"$\" and a variable name, \"(\", \"-\" or \"!\", found \".\"");
    assert_eq!(
        error(&format!("1 + 1{}", "0".repeat(309))),
        "column 5: number too large"
    );
}

#[test]
fn long_text_is_cut_in_messages() {
    let word = "x".repeat(100);
    let message = error(&format!("1 {word}"));
    assert!(
        message.ends_with(&format!("found \"{}\"…", "x".repeat(32))),
        "{message}"
    );
}

#[test]
fn unknown_variables_name_the_closest_one() {
    for (source, message) in [
        (
            "$answer > 1",
            "column 1: unknown variable $answer; did you mean $answers?",
        ),
        (
            "1 + $chat",
            "column 5: unknown variable $chat; did you mean $chats?",
        ),
        (
            "$reward_p >= 60",
            "column 1: unknown variable $reward_p; did you mean $rewards_p?",
        ),
        (
            "$Worktime",
            "column 1: unknown variable $Worktime; did you mean $worktime?",
        ),
        (
            "($punishment_p)",
            "column 2: unknown variable $punishment_p; did you mean $punishments_p?",
        ),
        (
            "$answers > 1 && $call_second > 1",
            "column 17: unknown variable $call_second; did you mean $call_seconds?",
        ),
    ] {
        assert_eq!(error(source), message, "{source:?}");
    }
    let error = compile("$answer").unwrap_err();
    assert_eq!(
        error.kind(),
        &ErrorKind::UnknownVariable {
            name: "answer".into(),
            suggestion: Variable::Answers
        }
    );
    assert_eq!(error.column(), 1);
    assert_eq!(
        error.message(),
        "unknown variable $answer; did you mean $answers?"
    );
}

#[test]
fn the_first_problem_from_the_left_is_reported() {
    assert_eq!(
        error("$answer >"),
        "column 1: unknown variable $answer; did you mean $answers?"
    );
    assert_eq!(parse("$answer >").unwrap_err().column(), 10);
    assert_eq!(error("1 > > $answer"), error("1 > >"));
}

// --- limits ----------------------------------------------------------------------------

#[test]
fn nesting_up_to_64_is_accepted() {
    let parens = format!("{}1{}", "(".repeat(64), ")".repeat(64));
    assert_eq!(eval(&parens), 1.0);
    assert_eq!(eval(&format!("{}1", "-".repeat(64))), 1.0);
    assert_eq!(eval(&format!("{}1", "!".repeat(64))), 1.0);
    let mixed = format!("{}1{}", "-(".repeat(32), ")".repeat(32));
    assert_eq!(eval(&mixed), 1.0);
    // Siblings do not add up.
    let siblings = format!("{0}1{1} + {0}2{1}", "(".repeat(64), ")".repeat(64));
    assert_eq!(eval(&siblings), 3.0);
}

#[test]
fn nesting_beyond_64_is_refused_at_the_opening_token() {
    let message =
        "nesting deeper than 64 levels (each \"(\" and each unary \"-\" or \"!\" opens one)";
    assert_eq!(
        error(&format!("{}1{}", "(".repeat(65), ")".repeat(65))),
        format!("column 65: {message}")
    );
    assert_eq!(
        error(&format!("{}1", "-".repeat(65))),
        format!("column 65: {message}")
    );
    assert_eq!(
        error(&format!("{}1", "!".repeat(65))),
        format!("column 65: {message}")
    );
    // "-(" opens two levels: the 33rd "-" is level 65.
    assert_eq!(
        error(&format!("{}1{}", "-(".repeat(33), ")".repeat(33))),
        format!("column 65: {message}")
    );
    assert_eq!(
        error(&format!("1 + {}1", "-".repeat(65))),
        format!("column 69: {message}")
    );
    assert_eq!(
        parse(&format!("{}1", "-".repeat(65))).unwrap_err().kind(),
        &ErrorKind::TooDeep
    );
}

#[test]
fn deep_and_long_input_cannot_overflow_the_stack() {
    // Parsing, checking, compiling, printing, evaluating and dropping a condition never
    // recurse, so a thread with a stack far smaller than the usual 2 MiB will do.
    std::thread::Builder::new()
        .stack_size(128 * 1024)
        .spawn(|| {
            for opener in ["(", "-", "!", "-(", "!(", "(-"] {
                let source = opener.repeat(2000 / opener.len());
                let error = compile(&source).unwrap_err();
                assert_eq!(error.kind(), &ErrorKind::TooDeep, "{opener}");
                assert_eq!(error.column(), 65, "{opener}");
            }
            // The longest chain the token limit allows: a tree 999 deep.
            let chain = format!("1{}", " + 1".repeat((MAX_TOKENS - 1) / 2));
            let condition = compile(&chain).unwrap();
            assert_eq!(condition.eval(&Values::new()), 1000.0);
            assert_eq!(condition.to_string(), chain);
            drop(condition);
            let and_chain = format!("1{}", " && 1".repeat((MAX_TOKENS - 1) / 2));
            assert_eq!(compile(&and_chain).unwrap().parts().len(), 1000);
            // The deepest nesting with the widest stack: a tree 325 deep to the right.
            let worst = worst_stack(MAX_NESTING);
            let condition = compile(&worst).unwrap();
            assert_eq!(condition.stack_depth(), MAX_STACK);
            assert_eq!(condition.eval(&Values::new()), 1.0);
            assert_eq!(condition.to_string(), worst);
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn the_derived_traits_of_a_long_chain_work_on_a_usual_stack() {
    // Derived Clone, PartialEq, Debug and Drop of an `Expr` do recurse along a chain.
    let chain = format!("1{}", " * 1".repeat((MAX_TOKENS - 1) / 2));
    let expr = parse(&chain).unwrap();
    let copy = expr.clone();
    assert_eq!(copy, expr);
    assert!(format!("{copy:?}").starts_with("Binary(Mul, Binary(Mul"));
}

/// `1 || 1 && 1 == 1 + 1 * (…)`, nested `depth` times: every level adds five values.
fn worst_stack(depth: usize) -> String {
    let mut source = "1 || 1 && 1 == 1 + 1 * 1".to_owned();
    for _ in 0..depth {
        source = format!("1 || 1 && 1 == 1 + 1 * ({source})");
    }
    source
}

#[test]
fn the_stack_bound_is_reached_exactly() {
    assert_eq!(compile(&worst_stack(0)).unwrap().stack_depth(), 6);
    assert_eq!(compile(&worst_stack(1)).unwrap().stack_depth(), 11);
    assert_eq!(compile("1 + 1 + 1 + 1").unwrap().stack_depth(), 2);
    assert_eq!(compile("---1").unwrap().stack_depth(), 1);
    assert_eq!(MAX_STACK, 326);
}

#[test]
fn too_many_tokens() {
    let source = format!("1{}", " + 1".repeat(MAX_TOKENS / 2));
    let error = compile(&source).unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::TooManyTokens);
    assert_eq!(error.column(), 4 * (MAX_TOKENS / 2) + 1);
}

// --- printing --------------------------------------------------------------------------

#[test]
fn canonical_printing() {
    for (source, printed) in [
        (
            "$answers+$chats>=10&&($rewards>1||$calls>2)",
            "$answers + $chats >= 10 && ($rewards > 1 || $calls > 2)",
        ),
        ("((1 + 2)) + 3", "1 + 2 + 3"),
        ("1 + (2 + 3)", "1 + (2 + 3)"),
        ("1 - (2 - 3)", "1 - (2 - 3)"),
        ("(1 * 2) + (3 * 4)", "1 * 2 + 3 * 4"),
        ("(1 + 2) * (3 + 4)", "(1 + 2) * (3 + 4)"),
        ("(1 < 2) == (3 > 4)", "(1 < 2) == (3 > 4)"),
        ("(1 + 2) < 3", "1 + 2 < 3"),
        (
            "($answers && $chats) && $calls",
            "$answers && $chats && $calls",
        ),
        (
            "$answers && ($chats && $calls)",
            "$answers && ($chats && $calls)",
        ),
        (
            "($answers || $chats) && $calls",
            "($answers || $chats) && $calls",
        ),
        (
            "(($answers && $chats) || $calls)",
            "$answers && $chats || $calls",
        ),
        ("- ( - 1)", "--1"),
        ("-(1 + 2)", "-(1 + 2)"),
        ("!($answers > 1)", "!($answers > 1)"),
        ("2 - (-3)", "2 - -3"),
        ("(-2) * 3", "-2 * 3"),
        ("1.50", "1.5"),
        ("0.10", "0.1"),
        ("007", "7"),
        ("0.30000000000000001", "0.3"),
        ("100000000000000000000000", "100000000000000000000000"),
    ] {
        assert_eq!(canonical(source), printed, "{source:?}");
        assert_eq!(
            canonical(printed),
            printed,
            "{printed:?} is not a fixed point"
        );
        assert_eq!(
            parse(printed).unwrap(),
            parse(source).unwrap(),
            "{source:?}"
        );
    }
}

// --- the compiled condition ------------------------------------------------------------

#[test]
fn all_default_levels_compile_and_are_canonical() {
    for level in LEVELS {
        let condition =
            compile(level.condition).unwrap_or_else(|error| panic!("{}: {error}", level.name));
        assert_eq!(condition.to_string(), level.condition, "{}", level.name);
    }
    let professional = compile(LEVELS[5].condition).unwrap();
    assert!(!professional.holds(&Values::new().with(Variable::Answers, 499.0)));
    assert!(professional.holds(&Values::new().with(Variable::Chats, 500.0)));
    assert!(compile(LEVELS[0].condition).unwrap().holds(&Values::new()));
}

#[test]
fn variables_lists_what_the_condition_reads() {
    let condition =
        compile("$rewards_p >= 60 && $answers + $chats + $answers >= 50000 && $worktime > 1")
            .unwrap();
    assert_eq!(
        condition.variables(),
        &[
            Variable::Worktime,
            Variable::Answers,
            Variable::Chats,
            Variable::RewardsP
        ]
    );
    assert!(compile("1 + 2").unwrap().variables().is_empty());
}

#[test]
fn parts_split_the_top_level_and_chain() {
    let king = compile(LEVELS[11].condition).unwrap();
    let parts: Vec<String> = king.parts().iter().map(ToString::to_string).collect();
    assert_eq!(
        parts,
        [
            "$answers + $chats + $calls >= 50000",
            "$worktime >= 5000",
            "$rewards_p >= 60"
        ]
    );
    assert_eq!(king.parts()[1].variables(), &[Variable::Worktime]);
    let values = Values::new().with(Variable::Worktime, 6000.0);
    let held: Vec<bool> = king
        .parts()
        .iter()
        .map(|part| part.holds(&values))
        .collect();
    assert_eq!(held, [false, true, false]);

    let nested =
        compile("$answers > 1 && ($chats > 1 && $calls > 1) && ($rewards > 1 || $punishments < 1)")
            .unwrap();
    let parts: Vec<String> = nested.parts().iter().map(ToString::to_string).collect();
    assert_eq!(
        parts,
        [
            "$answers > 1",
            "$chats > 1",
            "$calls > 1",
            "$rewards > 1 || $punishments < 1"
        ]
    );

    let single = compile("$answers >= 500 || $chats >= 500").unwrap();
    assert_eq!(single.parts(), vec![single.clone()]);
}

#[test]
fn conditions_are_cheap_shared_values() {
    fn shared<T: Send + Sync + Clone + 'static>() {}
    shared::<Condition>();
    shared::<ConditionError>();
    let condition: Condition = "$answers>1".parse().unwrap();
    assert_eq!(condition, compile("($answers > 1)").unwrap());
    assert_ne!(condition, compile("$answers > 2").unwrap());
    assert_eq!(format!("{condition:?}"), "Condition(\"$answers > 1\")");
    assert_eq!(condition.as_str(), "$answers > 1");
    assert_eq!(condition.program_len(), 3);
}

#[test]
fn the_errors_the_module_docs_show() {
    let docs = include_str!("mod.rs");
    for source in [
        "$answers >=",
        "1 2",
        "($answers + 1",
        "1 < 2 < 3",
        "$answers = 10",
        "answers > 1",
        "1e3",
        "(1))",
        "$ answers",
        "1.",
        "$answer > 1",
    ] {
        let row = format!(
            "//! | `{source}` | `{}` |",
            error(source).replace("||", "\\|\\|")
        );
        assert!(docs.contains(&row), "the docs lack {row}");
    }
}
