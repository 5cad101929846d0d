//! Tokenizer and recursive-descent parser of the expression language.

use super::{BinOp, Expr, FUNCTIONS};
use crate::error::{Error, Result};
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Ident(String),
    Op(&'static str),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    End,
}

fn lex(text: &str) -> Result<Vec<(Tok, usize)>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let two = text.get(i..i + 2).unwrap_or("");
        let tok = match c {
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            b'[' => Tok::LBracket,
            b']' => Tok::RBracket,
            b',' => Tok::Comma,
            _ if ["==", "!=", "<=", ">="].contains(&two) => {
                i += 1;
                Tok::Op(match two {
                    "==" => "==",
                    "!=" => "!=",
                    "<=" => "<=",
                    _ => ">=",
                })
            }
            b'<' => Tok::Op("<"),
            b'>' => Tok::Op(">"),
            b'=' => return Err(Error::expr(text, i, "single `=`: write `==` to compare")),
            b'+' => Tok::Op("+"),
            b'-' => Tok::Op("-"),
            b'*' => Tok::Op("*"),
            b'/' => Tok::Op("/"),
            b'&' if two == "&&" => {
                i += 1;
                Tok::Ident("and".into())
            }
            b'|' if two == "||" => {
                i += 1;
                Tok::Ident("or".into())
            }
            b'!' => Tok::Ident("not".into()),
            b'"' | b'\'' => {
                let quote = c;
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    let Some(&b) = bytes.get(j) else {
                        return Err(Error::expr(text, start, "unterminated string"));
                    };
                    if b == quote {
                        break;
                    }
                    if b == b'\\' {
                        if let Some(&n) = bytes.get(j + 1) {
                            s.push(match n {
                                b'n' => '\n',
                                b't' => '\t',
                                other => other as char,
                            });
                            j += 2;
                            continue;
                        }
                    }
                    let ch = text[j..].chars().next().unwrap_or('\u{fffd}');
                    s.push(ch);
                    j += ch.len_utf8();
                }
                i = j;
                Tok::Str(s)
            }
            b'0'..=b'9' | b'.' if c != b'.' || bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let mut j = i;
                while j < bytes.len()
                    && (bytes[j].is_ascii_digit()
                        || bytes[j] == b'.'
                        || bytes[j] == b'e'
                        || bytes[j] == b'E'
                        || ((bytes[j] == b'-' || bytes[j] == b'+')
                            && j > i
                            && (bytes[j - 1] == b'e' || bytes[j - 1] == b'E')))
                {
                    j += 1;
                }
                let n: f64 = text[i..j]
                    .parse()
                    .map_err(|_| Error::expr(text, i, format!("bad number `{}`", &text[i..j])))?;
                i = j - 1;
                Tok::Num(n)
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c == b'.' => {
                let mut j = i + 1;
                while j < bytes.len()
                    && (bytes[j].is_ascii_alphanumeric()
                        || bytes[j] == b'_'
                        || (bytes[j] == b'.'
                            && bytes
                                .get(j + 1)
                                .is_some_and(|n| n.is_ascii_alphabetic() || *n == b'_')))
                {
                    j += 1;
                }
                if c == b'.' && j == i + 1 {
                    return Err(Error::expr(
                        text,
                        i,
                        "a `.` must be followed by a field name",
                    ));
                }
                let word = &text[i..j];
                i = j - 1;
                Tok::Ident(word.to_string())
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                return Err(Error::expr(text, i, format!("unexpected character `{ch}`")));
            }
        };
        out.push((tok, start));
        i += 1;
    }
    out.push((Tok::End, text.len()));
    Ok(out)
}

struct Parser<'a> {
    text: &'a str,
    toks: Vec<(Tok, usize)>,
    pos: usize,
}

/// Parse an expression; errors point at the column.
pub fn parse(text: &str) -> Result<Expr> {
    let toks = lex(text)?;
    let mut p = Parser { text, toks, pos: 0 };
    if p.peek() == &Tok::End {
        return Err(Error::expr(text, 0, "empty expression"));
    }
    let e = p.or()?;
    if p.peek() != &Tok::End {
        return Err(p.error(format!("unexpected {}", p.describe())));
    }
    Ok(e)
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)].0
    }

    fn offset(&self) -> usize {
        self.toks[self.pos.min(self.toks.len() - 1)].1
    }

    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn error(&self, message: String) -> Error {
        Error::expr(self.text, self.offset(), message)
    }

    fn describe(&self) -> String {
        match self.peek() {
            Tok::End => "end of expression".into(),
            Tok::Num(n) => format!("number `{n}`"),
            Tok::Str(s) => format!("string \"{s}\""),
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Op(o) => format!("`{o}`"),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::LBracket => "`[`".into(),
            Tok::RBracket => "`]`".into(),
            Tok::Comma => "`,`".into(),
        }
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == w)
    }

    fn or(&mut self) -> Result<Expr> {
        let mut left = self.and()?;
        while self.is_word("or") {
            self.bump();
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr> {
        let mut left = self.not()?;
        while self.is_word("and") {
            self.bump();
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr> {
        if self.is_word("not") {
            self.bump();
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.compare()
    }

    fn compare(&mut self) -> Result<Expr> {
        let left = self.sum()?;
        let op = match self.peek() {
            Tok::Op("==") => BinOp::Eq,
            Tok::Op("!=") => BinOp::Ne,
            Tok::Op("<") => BinOp::Lt,
            Tok::Op("<=") => BinOp::Le,
            Tok::Op(">") => BinOp::Gt,
            Tok::Op(">=") => BinOp::Ge,
            Tok::Ident(w) if w == "in" => BinOp::In,
            Tok::Ident(w)
                if w == "not"
                    && matches!(self.toks.get(self.pos + 1), Some((Tok::Ident(n), _)) if n == "in") =>
            {
                self.bump();
                BinOp::NotIn
            }
            _ => return Ok(left),
        };
        self.bump();
        let right = self.sum()?;
        Ok(Expr::Binary(op, Box::new(left), Box::new(right)))
    }

    fn sum(&mut self) -> Result<Expr> {
        let mut left = self.product()?;
        loop {
            let op = match self.peek() {
                Tok::Op("+") => BinOp::Add,
                Tok::Op("-") => BinOp::Sub,
                _ => return Ok(left),
            };
            self.bump();
            left = Expr::Binary(op, Box::new(left), Box::new(self.product()?));
        }
    }

    fn product(&mut self) -> Result<Expr> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Op("*") => BinOp::Mul,
                Tok::Op("/") => BinOp::Div,
                _ => return Ok(left),
            };
            self.bump();
            left = Expr::Binary(op, Box::new(left), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<Expr> {
        if self.peek() == &Tok::Op("-") {
            self.bump();
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn list(&mut self, close: Tok) -> Result<Vec<Expr>> {
        let mut items = Vec::new();
        if self.peek() == &close {
            self.bump();
            return Ok(items);
        }
        loop {
            items.push(self.or()?);
            match self.peek() {
                Tok::Comma => {
                    self.bump();
                }
                t if *t == close => {
                    self.bump();
                    return Ok(items);
                }
                _ => {
                    let want = if close == Tok::RParen {
                        "`,` or `)`"
                    } else {
                        "`,` or `]`"
                    };
                    return Err(self.error(format!("expected {want}, found {}", self.describe())));
                }
            }
        }
    }

    fn primary(&mut self) -> Result<Expr> {
        let start = self.offset();
        match self.bump() {
            Tok::Num(n) => Ok(Expr::Literal(
                serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number),
            )),
            Tok::Str(s) => Ok(Expr::Literal(json!(s))),
            Tok::LParen => {
                let e = self.or()?;
                if self.peek() != &Tok::RParen {
                    return Err(self.error(format!("expected `)`, found {}", self.describe())));
                }
                self.bump();
                Ok(e)
            }
            Tok::LBracket => Ok(Expr::List(self.list(Tok::RBracket)?)),
            Tok::Ident(word) => match word.as_str() {
                "true" => Ok(Expr::Literal(json!(true))),
                "false" => Ok(Expr::Literal(json!(false))),
                "null" => Ok(Expr::Literal(Value::Null)),
                "and" | "or" | "in" | "not" => Err(Error::expr(
                    self.text,
                    start,
                    format!("expected a value, found `{word}`"),
                )),
                _ if self.peek() == &Tok::LParen => {
                    if !FUNCTIONS.contains(&word.as_str()) {
                        return Err(Error::expr(
                            self.text,
                            start,
                            format!("unknown function `{word}`; known: {}", FUNCTIONS.join(", ")),
                        ));
                    }
                    self.bump();
                    let args = self.list(Tok::RParen)?;
                    Ok(Expr::Call(word, args))
                }
                _ => self.path(word),
            },
            _ => {
                self.pos = self.pos.saturating_sub(1);
                Err(self.error(format!("expected a value, found {}", self.describe())))
            }
        }
    }

    /// Continue a path after its first name: `[index]` segments and `.name` segments after an
    /// index (the lexer keeps `a.b.c` as one identifier and `.b` after `]` as one token).
    fn path(&mut self, first: String) -> Result<Expr> {
        let mut path = first;
        loop {
            match self.peek().clone() {
                Tok::LBracket => {
                    self.bump();
                    match self.bump() {
                        Tok::Num(n) if n >= 0.0 && n.fract() == 0.0 => {
                            path.push_str(&format!("[{}]", n as u64))
                        }
                        _ => {
                            self.pos = self.pos.saturating_sub(1);
                            return Err(self.error("expected an index like `[0]`".into()));
                        }
                    }
                    if self.bump() != Tok::RBracket {
                        self.pos = self.pos.saturating_sub(1);
                        return Err(self.error("expected `]`".into()));
                    }
                }
                Tok::Ident(seg) if seg.starts_with('.') => {
                    self.bump();
                    path.push_str(&seg);
                }
                _ => return Ok(Expr::Path(path)),
            }
        }
    }
}
