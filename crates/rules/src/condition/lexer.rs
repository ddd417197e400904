//! Characters to tokens, with their columns.

use super::error::{ConditionError, ErrorKind, Expected, Want};
use super::MAX_TOKENS;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Tok {
    /// A literal, already converted (finite, ≥ 0).
    Number(f64),
    /// `$name`; the token's text includes the `$`.
    Variable,
    LParen,
    RParen,
    Plus,
    Minus,
    Star,
    Slash,
    Not,
    Gt,
    Ge,
    Lt,
    Le,
    EqEq,
    Ne,
    AndAnd,
    OrOr,
    End,
    /// Text that is no token (a bare word, a lone `=`, `&` or `|`, any other character):
    /// it fits nowhere, so the parser reports what it expected instead.
    Invalid,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Token<'a> {
    pub(crate) tok: Tok,
    pub(crate) text: &'a str,
    /// 1-based, in characters.
    pub(crate) column: usize,
    /// Byte offsets into the source.
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Token<'_> {
    /// How an error message names the token.
    pub(crate) fn describe(&self) -> String {
        if self.tok == Tok::End {
            return END.to_owned();
        }
        quote(self.text)
    }
}

pub(crate) const END: &str = "the end of the condition";

/// `"text"`, escaped like a Rust string and cut after 32 characters.
fn quote(text: &str) -> String {
    const LIMIT: usize = 32;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
        None => format!("{text:?}"),
    }
}

fn describe_char(c: Option<char>) -> String {
    match c {
        None => END.to_owned(),
        Some(' ') => "a space".to_owned(),
        Some(c) => quote(c.encode_utf8(&mut [0; 4])),
    }
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

pub(crate) struct Lexer<'a> {
    source: &'a str,
    /// Byte offset of the next character.
    pos: usize,
    /// Column of the next character.
    column: usize,
    tokens: usize,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(source: &'a str) -> Self {
        Lexer {
            source,
            pos: 0,
            column: 1,
            tokens: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.source[self.pos..].chars().next()
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.pos += c.len_utf8();
            self.column += 1;
        }
    }

    fn bump_while(&mut self, keep: impl Fn(char) -> bool) {
        while self.peek().is_some_and(&keep) {
            self.bump();
        }
    }

    /// An error about the next character, which should have been `want`.
    fn unexpected_char(&self, want: Want) -> ConditionError {
        ConditionError::new(
            self.column,
            ErrorKind::Unexpected {
                expected: Expected::one(want),
                found: describe_char(self.peek()),
                hint: None,
            },
        )
    }

    pub(crate) fn next_token(&mut self) -> Result<Token<'a>, ConditionError> {
        self.bump_while(char::is_whitespace);
        let (start, column) = (self.pos, self.column);
        let Some(first) = self.peek() else {
            return Ok(Token {
                tok: Tok::End,
                text: "",
                column,
                start,
                end: start,
            });
        };
        self.tokens += 1;
        if self.tokens > MAX_TOKENS {
            return Err(ConditionError::new(column, ErrorKind::TooManyTokens));
        }
        self.bump();
        let tok = if first.is_ascii_digit() {
            self.bump_while(|c| c.is_ascii_digit());
            if self.peek() == Some('.') {
                self.bump();
                if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    return Err(self.unexpected_char(Want::Digit));
                }
                self.bump_while(|c| c.is_ascii_digit());
            }
            let value: f64 = self.source[start..self.pos]
                .parse()
                .expect("digits with at most one inner '.' parse as f64");
            if !value.is_finite() {
                return Err(ConditionError::new(column, ErrorKind::NumberTooLarge));
            }
            Tok::Number(value)
        } else if first == '$' {
            if !self.peek().is_some_and(is_name_start) {
                return Err(self.unexpected_char(Want::Name));
            }
            self.bump_while(is_name_char);
            Tok::Variable
        } else if is_name_start(first) {
            self.bump_while(is_name_char);
            Tok::Invalid
        } else {
            let (tok, two_chars) = match (first, self.peek()) {
                ('(', _) => (Tok::LParen, false),
                (')', _) => (Tok::RParen, false),
                ('+', _) => (Tok::Plus, false),
                ('-', _) => (Tok::Minus, false),
                ('*', _) => (Tok::Star, false),
                ('/', _) => (Tok::Slash, false),
                ('!', Some('=')) => (Tok::Ne, true),
                ('!', _) => (Tok::Not, false),
                ('>', Some('=')) => (Tok::Ge, true),
                ('>', _) => (Tok::Gt, false),
                ('<', Some('=')) => (Tok::Le, true),
                ('<', _) => (Tok::Lt, false),
                ('=', Some('=')) => (Tok::EqEq, true),
                // "=>" and "=<" are one slip, reported as one.
                ('=', Some('>' | '<')) => (Tok::Invalid, true),
                ('&', Some('&')) => (Tok::AndAnd, true),
                ('|', Some('|')) => (Tok::OrOr, true),
                _ => (Tok::Invalid, false),
            };
            if two_chars {
                self.bump();
            }
            tok
        };
        Ok(Token {
            tok,
            text: &self.source[start..self.pos],
            column,
            start,
            end: self.pos,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(source: &str) -> Result<Vec<(Tok, &str, usize)>, String> {
        let mut lexer = Lexer::new(source);
        let mut out = Vec::new();
        loop {
            let token = lexer.next_token().map_err(|e| e.to_string())?;
            if token.tok == Tok::End {
                out.push((token.tok, token.text, token.column));
                return Ok(out);
            }
            out.push((token.tok, token.text, token.column));
        }
    }

    #[test]
    fn tokens_and_columns() {
        let tokens = lex(" $answers>=10&&!($x_1 != 2.5)||-0.75 ").unwrap();
        let kinds: Vec<_> = tokens
            .iter()
            .map(|(tok, text, column)| (*tok, *text, *column))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (Tok::Variable, "$answers", 2),
                (Tok::Ge, ">=", 10),
                (Tok::Number(10.0), "10", 12),
                (Tok::AndAnd, "&&", 14),
                (Tok::Not, "!", 16),
                (Tok::LParen, "(", 17),
                (Tok::Variable, "$x_1", 18),
                (Tok::Ne, "!=", 23),
                (Tok::Number(2.5), "2.5", 26),
                (Tok::RParen, ")", 29),
                (Tok::OrOr, "||", 30),
                (Tok::Minus, "-", 32),
                (Tok::Number(0.75), "0.75", 33),
                (Tok::End, "", 38),
            ]
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let tokens = lex("\u{e4}\t\u{1F600} 1").unwrap();
        assert_eq!(tokens[0], (Tok::Invalid, "\u{e4}", 1));
        assert_eq!(tokens[1], (Tok::Invalid, "\u{1F600}", 3));
        assert_eq!(tokens[2], (Tok::Number(1.0), "1", 5));
    }

    #[test]
    fn slips_become_invalid_tokens() {
        for text in ["=", "=>", "=<", "&", "|", "answers", "e5", "@", "."] {
            let tokens = lex(text).unwrap();
            assert_eq!(tokens[0], (Tok::Invalid, text, 1), "{text}");
        }
        assert_eq!(lex("1e5").unwrap()[1], (Tok::Invalid, "e5", 2));
    }

    #[test]
    fn lexical_errors() {
        assert_eq!(
            lex("$ answers").unwrap_err(),
            "column 2: expected a variable name right after \"$\", found a space"
        );
        assert_eq!(
            lex("1 + $").unwrap_err(),
            "column 6: expected a variable name right after \"$\", found the end of the condition"
        );
        assert_eq!(
            lex("$1").unwrap_err(),
            "column 2: expected a variable name right after \"$\", found \"1\""
        );
        assert_eq!(
            lex("1.").unwrap_err(),
            "column 3: expected a digit after \".\", found the end of the condition"
        );
        assert_eq!(
            lex("10.x").unwrap_err(),
            "column 4: expected a digit after \".\", found \"x\""
        );
        let huge = format!("1{}", "0".repeat(309));
        assert_eq!(
            lex(&format!("2 * {huge}")).unwrap_err(),
            "column 5: number too large"
        );
        assert_eq!(
            lex(&format!("{}", f64::MAX)).unwrap()[0].0,
            Tok::Number(f64::MAX)
        );
    }

    #[test]
    fn the_token_limit_counts_tokens_not_characters() {
        let at_limit = format!("-1{}", " + 1".repeat((MAX_TOKENS - 2) / 2));
        assert_eq!(lex(&at_limit).unwrap().len(), MAX_TOKENS + 1); // and the end
        assert!(lex(&format!("{at_limit}    ")).is_ok());
        let beyond = "(".repeat(MAX_TOKENS + 1);
        assert_eq!(
            lex(&beyond).unwrap_err(),
            format!(
                "column {}: too long: a condition has at most {MAX_TOKENS} tokens",
                MAX_TOKENS + 1
            )
        );
    }
}
