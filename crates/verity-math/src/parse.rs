//! LaTeX / plain-text answer parser.
//!
//! What it does: turns an extracted answer (`\frac34`, `2\sqrt{3}`, `(0, \infty)`, `x = 5`,
//! `10\text{ cm}^2`, `1,234.5`, `\begin{pmatrix}..\end{pmatrix}`) into a [`Node`] tree.
//! Why: equivalence needs structure; string normalisation alone cannot tell `\frac{1}{2}` from
//! `0.5` or `(r+5)^2` from `(r+5)(r+5)`.
//! Known failure modes: implicit multiplication is guessed (`xy` is `x*y`; words of four or
//! more letters become text); `(a, b)` is kept ambiguous; unknown commands become symbols.

use crate::ast::{Const, Func, Node, RelOp};
use crate::budget::{Budget, Exhausted};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::Zero;
use regex::Regex;
use std::sync::LazyLock;

/// Why parsing failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// The input is not an expression we understand (byte offset, message).
    Syntax(usize, &'static str),
    /// The budget ran out.
    Budget(Exhausted),
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::Syntax(p, m) => write!(f, "parse error at byte {p}: {m}"),
            ParseError::Budget(e) => write!(f, "{e}"),
        }
    }
}

impl From<Exhausted> for ParseError {
    fn from(e: Exhausted) -> Self {
        ParseError::Budget(e)
    }
}

type PResult<T> = Result<T, ParseError>;

/// Maximum nesting depth of the parser.
pub const MAX_DEPTH: u32 = 200;

/// Normalise an answer string before parsing: unicode operators to LaTeX, math delimiters
/// removed, digit-group separators (`1{,}000`, `56,\!017`) removed, `\%` to `%`, degrees to `@`.
pub fn preprocess(s: &str) -> String {
    let s = s.trim();
    let mut out = String::with_capacity(s.len() + 8);
    let b = s.as_bytes();
    let mut i = 0;
    // Work on chars for unicode mapping, on bytes for the ASCII cases.
    while i < b.len() {
        let c = b[i];
        if c >= 0x80 {
            // decode one char
            let ch = s[i..].chars().next().unwrap_or(' ');
            let rep: Option<&str> = match ch {
                '−' | '–' | '—' => Some("-"),
                '×' | '⋅' | '·' => Some("\\cdot "),
                '÷' => Some("/"),
                '≤' | '⩽' => Some("\\le "),
                '≥' | '⩾' => Some("\\ge "),
                '≠' => Some("\\ne "),
                '±' => Some("\\pm "),
                'π' => Some("\\pi "),
                '∞' => Some("\\infty "),
                '√' => Some("\\sqrt "),
                '°' => Some("@"),
                '∪' => Some("\\cup "),
                '，' => Some(","),
                '：' => Some(":"),
                '（' => Some("("),
                '）' => Some(")"),
                '≈' => Some("\\approx "),
                '\u{a0}' | '\u{2009}' | '\u{202f}' | '\u{3000}' => Some(" "),
                _ => None,
            };
            match rep {
                Some(r) => out.push_str(r),
                None => out.push(ch),
            }
            i += ch.len_utf8();
            continue;
        }
        match c {
            b'$' => {
                i += 1;
            }
            b'\\' => {
                let n = b.get(i + 1).copied().unwrap_or(0);
                match n {
                    b'$' => i += 2,
                    b'%' => {
                        out.push('%');
                        i += 2;
                    }
                    b'(' | b')' | b'[' | b']' => i += 2,
                    b'!' => {
                        // `56,\!017` and `11,\! 111`: a digit-group comma
                        let mut next = i + 2;
                        while b.get(next) == Some(&b' ') {
                            next += 1;
                        }
                        if out.ends_with(',')
                            && out.len() >= 2
                            && out.as_bytes()[out.len() - 2].is_ascii_digit()
                            && b.get(next).is_some_and(|d| d.is_ascii_digit())
                        {
                            out.pop();
                            i = next;
                        } else {
                            i += 2;
                        }
                    }
                    b'\\'
                        if b.get(i + 2).is_some_and(|d| d.is_ascii_alphabetic())
                            && !s.contains("\\begin") =>
                    {
                        // `\\frac` written with a doubled backslash
                        i += 1;
                    }
                    0 => {
                        // trailing backslash
                        i += 1;
                    }
                    _ => {
                        // `^\circ` / `^{\circ}` handled on the command name
                        if b[i + 1..].starts_with(b"circ") {
                            if out.ends_with('^') {
                                out.pop();
                            }
                            out.push('@');
                            i += 5;
                        } else {
                            out.push('\\');
                            i += 1;
                        }
                    }
                }
            }
            b'^' if b[i..].starts_with(b"^{\\circ}") => {
                out.push('@');
                i += 8;
            }
            b'{' if b[i..].starts_with(b"{,}") => {
                if !(out.ends_with(|c: char| c.is_ascii_digit())
                    && b.get(i + 3).is_some_and(|d| d.is_ascii_digit()))
                {
                    out.push(',');
                }
                i += 3;
            }
            _ => {
                out.push(c as char);
                i += 1;
            }
        }
    }
    let mut t = percent_words(out.trim());
    while t.ends_with('.') || t.ends_with('\\') {
        t.pop();
        let n = t.trim_end().len();
        t.truncate(n);
    }
    t
}

/// `15 pct`, `15 percent`, `15\text{ pct}` -> `15%`.
fn percent_words(s: &str) -> String {
    static PERCENT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(\d)\s*(?:\\(?:text|textrm|mbox|mathrm)\s*\{\s*(?:percent|pct)\s*\}|(?:percent|pct)\b)",
        )
        .unwrap_or_else(|e| unreachable!("valid regex: {e}"))
    });
    if !s.contains("pct") && !s.contains("percent") {
        return s.to_string();
    }
    PERCENT.replace_all(s, "${1}%").into_owned()
}

/// Parse an answer string (already extracted) into a tree. The string is preprocessed first.
pub fn parse(s: &str, budget: &Budget) -> PResult<Node> {
    let pre = preprocess(s);
    parse_preprocessed(&pre, budget)
}

/// Parse a string already passed through [`preprocess`].
pub fn parse_preprocessed(pre: &str, budget: &Budget) -> PResult<Node> {
    let mut p = Parser {
        s: pre.as_bytes(),
        src: pre,
        pos: 0,
        depth: 0,
        budget,
    };
    if pre.is_empty() {
        return Err(ParseError::Syntax(0, "empty answer"));
    }
    let node = p.list(&[])?;
    p.ws();
    if p.pos < p.s.len() {
        return Err(ParseError::Syntax(p.pos, "unexpected character"));
    }
    Ok(node)
}

struct Parser<'a> {
    s: &'a [u8],
    src: &'a str,
    pos: usize,
    depth: u32,
    budget: &'a Budget,
}

const IGNORED_COMMANDS: &[&str] = &[
    "left",
    "right",
    "big",
    "Big",
    "bigg",
    "Bigg",
    "bigl",
    "bigr",
    "Bigl",
    "Bigr",
    "biggl",
    "biggr",
    "Biggl",
    "Biggr",
    "middle",
    "displaystyle",
    "textstyle",
    "quad",
    "qquad",
    "limits",
    "nolimits",
    "mathstrut",
    "strut",
    "hfill",
    "noindent",
    "boxed",
    "fbox",
    "ensuremath",
    "hspace",
    "vspace",
    "phantom",
];

const TEXT_COMMANDS: &[&str] = &[
    "text",
    "textbf",
    "textit",
    "textrm",
    "textsf",
    "texttt",
    "textnormal",
    "mathrm",
    "mathbf",
    "mathit",
    "mathsf",
    "mathtt",
    "mathcal",
    "mathbb",
    "mathfrak",
    "mathscr",
    "boldsymbol",
    "bm",
    "mbox",
    "hbox",
    "emph",
    "operatorname",
    "underline",
    "overline",
    "textup",
    "mathnormal",
];

/// Unit words dropped when they multiply a number.
pub(crate) const UNIT_WORDS: &[&str] = &[
    "cm", "mm", "km", "kg", "mg", "ft", "yd", "mi", "hr", "hrs", "min", "mins", "sec", "secs",
    "mph", "lb", "lbs", "oz", "ml", "cc", "kph", "kmh", "sq", "in", "m", "g", "s", "h", "l",
];

impl<'a> Parser<'a> {
    fn err<T>(&self, m: &'static str) -> PResult<T> {
        Err(ParseError::Syntax(self.pos, m))
    }

    fn peek(&self) -> u8 {
        self.s.get(self.pos).copied().unwrap_or(0)
    }

    fn peek_at(&self, k: usize) -> u8 {
        self.s.get(self.pos + k).copied().unwrap_or(0)
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        self.budget.spend(1)?;
        if self.depth > MAX_DEPTH {
            return Err(ParseError::Budget(Exhausted::Depth));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Skip whitespace and ignorable commands (`\left`, `\quad`, `\,`...).
    fn ws(&mut self) {
        loop {
            let c = self.peek();
            if c == b' ' || c == b'\t' || c == b'\n' || c == b'\r' || c == b'~' {
                self.pos += 1;
                continue;
            }
            if c == b'\\' {
                let n = self.peek_at(1);
                if matches!(n, b',' | b';' | b':' | b' ' | b'!' | b'>') {
                    self.pos += 2;
                    continue;
                }
                if let Some(name) = self.command_name_at(self.pos) {
                    if IGNORED_COMMANDS.contains(&name) {
                        // `\boxed`, `\fbox` are transparent: their argument is a group.
                        self.pos += 1 + name.len();
                        if (name == "left"
                            || name == "right"
                            || name.starts_with("big")
                            || name.starts_with("Big")
                            || name == "middle")
                            && self.peek() == b'.'
                        {
                            self.pos += 1;
                        }
                        if name == "hspace" || name == "vspace" || name == "phantom" {
                            let _ = self.raw_braced();
                        }
                        continue;
                    }
                }
            }
            break;
        }
    }

    fn command_name_at(&self, at: usize) -> Option<&'a str> {
        if self.s.get(at) != Some(&b'\\') {
            return None;
        }
        let start = at + 1;
        let mut end = start;
        while end < self.s.len() && self.s[end].is_ascii_alphabetic() {
            end += 1;
        }
        if end == start {
            return None;
        }
        Some(&self.src[start..end])
    }

    /// Peek at the command name at the cursor (after whitespace).
    fn peek_command(&mut self) -> Option<&'a str> {
        self.ws();
        self.command_name_at(self.pos)
    }

    fn eat_command(&mut self, name: &str) {
        self.pos += 1 + name.len();
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.peek() == c {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn at_end(&self, terms: &[u8]) -> bool {
        let c = self.peek();
        c == 0 || terms.contains(&c)
    }

    fn at_set_close(&self) -> bool {
        self.s[self.pos..].starts_with(b"\\}")
            || self.s[self.pos..].starts_with(b"\\rbrace")
            || self.s[self.pos..].starts_with(b"\\end")
    }

    fn at_separator_word(&self) -> Option<usize> {
        // bare "and" / "or" between items
        for w in [&b"and"[..], &b"or"[..]] {
            if self.s[self.pos..].starts_with(w) {
                let after = self.s.get(self.pos + w.len()).copied().unwrap_or(0);
                if !after.is_ascii_alphabetic() {
                    return Some(w.len());
                }
            }
        }
        // \text{ and }, \text{or}, \text{ , }
        if let Some(name) = self.command_name_at(self.pos) {
            if name == "text" || name == "textrm" || name == "mbox" {
                let mut q = self.pos + 1 + name.len();
                while self.s.get(q) == Some(&b' ') {
                    q += 1;
                }
                if self.s.get(q) == Some(&b'{') {
                    if let Some(close) = self.s[q..].iter().position(|&c| c == b'}') {
                        let inner = self.src[q + 1..q + close].trim();
                        if matches!(inner, "and" | "or" | "," | "or " | "and ") {
                            return Some(q + close + 1 - self.pos);
                        }
                    }
                }
            }
        }
        None
    }

    /// items separated by `,` / `;` / "and" / "or"; terminated by one of `terms` or end.
    /// When `;` separates groups of several comma items (`m=3,n=1; m=5,n=1`), the result is a
    /// list of those groups.
    fn list(&mut self, terms: &[u8]) -> PResult<Node> {
        self.enter()?;
        let mut items = Vec::new();
        let mut groups: Vec<Vec<Node>> = Vec::new();
        loop {
            self.ws();
            if self.at_end(terms) || self.at_set_close() {
                if items.is_empty() {
                    self.leave();
                    return self.err("empty expression");
                }
                break;
            }
            let it = self.union()?;
            items.push(it);
            self.ws();
            let c = self.peek();
            if c == b';' {
                self.pos += 1;
                groups.push(std::mem::take(&mut items));
                continue;
            }
            if c == b',' {
                self.pos += 1;
                continue;
            }
            if let Some(n) = self.at_separator_word() {
                self.pos += n;
                continue;
            }
            if c == b'\\' && (self.s[self.pos..].starts_with(b"\\\\")) {
                // row separator outside matrices: treat like a comma
                if !terms.contains(&b'&') {
                    self.pos += 2;
                    continue;
                }
            }
            break;
        }
        self.leave();
        if groups.is_empty() {
            return Ok(one_or(items, Node::List));
        }
        if !items.is_empty() {
            groups.push(items);
        }
        if groups.iter().all(|g| g.len() <= 1) {
            return Ok(one_or(groups.into_iter().flatten().collect(), Node::List));
        }
        Ok(Node::List(
            groups.into_iter().map(|g| one_or(g, Node::List)).collect(),
        ))
    }

    fn union(&mut self) -> PResult<Node> {
        let first = self.rel()?;
        let mut parts = vec![first];
        while self.peek_command() == Some("cup") {
            self.eat_command("cup");
            parts.push(self.rel()?);
        }
        Ok(one_or(parts, Node::Union))
    }

    fn relop(&mut self) -> Option<RelOp> {
        self.ws();
        let c = self.peek();
        let n = self.peek_at(1);
        let (op, len) = match (c, n) {
            (b'<', b'=') => (RelOp::Le, 2),
            (b'>', b'=') => (RelOp::Ge, 2),
            (b'!', b'=') => (RelOp::Ne, 2),
            (b'=', b'=') => (RelOp::Eq, 2),
            (b'=', _) => (RelOp::Eq, 1),
            (b'<', _) => (RelOp::Lt, 1),
            (b'>', _) => (RelOp::Gt, 1),
            (b'\\', _) => {
                let name = self.command_name_at(self.pos)?;
                let op = match name {
                    "le" | "leq" | "leqslant" | "leqq" => RelOp::Le,
                    "ge" | "geq" | "geqslant" | "geqq" => RelOp::Ge,
                    "lt" => RelOp::Lt,
                    "gt" => RelOp::Gt,
                    "ne" | "neq" => RelOp::Ne,
                    "in" => RelOp::In,
                    "equiv" | "coloneqq" => RelOp::Eq,
                    _ => return None,
                };
                (op, 1 + name.len())
            }
            _ => return None,
        };
        self.pos += len;
        Some(op)
    }

    fn rel(&mut self) -> PResult<Node> {
        self.enter()?;
        let first = self.ratio()?;
        let mut parts = vec![first];
        let mut ops = Vec::new();
        loop {
            if self.peek_command() == Some("approx") {
                // keep the exact left side, drop the approximation; after a bare label
                // (`y \approx 7`) the approximation is the stated value
                self.eat_command("approx");
                let approximation = self.ratio()?;
                if ops.is_empty() && parts.len() == 1 && parts[0].is_label() {
                    ops.push(RelOp::Eq);
                    parts.push(approximation);
                }
                continue;
            }
            match self.relop() {
                Some(op) => {
                    ops.push(op);
                    parts.push(self.ratio()?);
                }
                None => break,
            }
        }
        self.leave();
        Ok(if ops.is_empty() {
            parts.pop().unwrap_or(Node::EmptySet)
        } else {
            Node::Rel(parts, ops)
        })
    }

    /// `a:b` (a ratio, or a time `09:30`): a group opened and closed by `:`.
    fn ratio(&mut self) -> PResult<Node> {
        let first = self.sum()?;
        let mut items = vec![first];
        loop {
            self.ws();
            if self.peek() == b':' && self.peek_at(1) != b'=' {
                self.pos += 1;
                items.push(self.sum()?);
            } else {
                break;
            }
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Node::EmptySet)
        } else {
            Node::Group {
                open: b':',
                close: b':',
                items,
            }
        })
    }

    fn sum(&mut self) -> PResult<Node> {
        self.enter()?;
        let first = self.unary()?;
        let mut terms = vec![first];
        let mut pm: Option<Node> = None;
        loop {
            self.ws();
            let c = self.peek();
            if c == b'+' {
                self.pos += 1;
                terms.push(self.term()?);
            } else if c == b'-' {
                self.pos += 1;
                let t = self.term()?;
                terms.push(Node::Neg(Box::new(t)));
            } else if matches!(self.peek_command(), Some("pm") | Some("mp")) {
                let name = self.peek_command().unwrap_or("pm");
                self.eat_command(name);
                let t = self.term()?;
                let base = one_or(std::mem::take(&mut terms), Node::Add);
                pm = Some(Node::PlusMinus(Box::new(base), Box::new(t)));
                break;
            } else {
                break;
            }
        }
        self.leave();
        if let Some(pm) = pm {
            return Ok(pm);
        }
        Ok(one_or(terms, Node::Add))
    }

    fn unary(&mut self) -> PResult<Node> {
        self.enter()?;
        self.ws();
        let r = match self.peek() {
            b'-' => {
                self.pos += 1;
                let u = self.unary()?;
                Ok(Node::Neg(Box::new(u)))
            }
            b'+' => {
                self.pos += 1;
                self.unary()
            }
            _ => {
                if matches!(self.peek_command(), Some("pm") | Some("mp")) {
                    let name = self.peek_command().unwrap_or("pm");
                    self.eat_command(name);
                    let u = self.term()?;
                    Ok(Node::PlusMinus(Box::new(Node::int(0)), Box::new(u)))
                } else {
                    self.term()
                }
            }
        };
        self.leave();
        r
    }

    fn starts_factor(&mut self) -> bool {
        self.ws();
        let c = self.peek();
        if c.is_ascii_digit() || c == b'(' || c == b'[' || c == b'{' || c.is_ascii_alphabetic() {
            // "and"/"or" separators are not factors
            return self.at_separator_word().is_none();
        }
        if c == b'.' && self.peek_at(1).is_ascii_digit() {
            return true;
        }
        if c >= 0x80 {
            return true;
        }
        if c == b'|' {
            // only an opening bar can start a factor; a closing one ends an abs group
            return false;
        }
        if c == b'\\' {
            if self.at_separator_word().is_some() {
                return false;
            }
            if let Some(name) = self.command_name_at(self.pos) {
                return !matches!(
                    name,
                    "cdot"
                        | "times"
                        | "div"
                        | "pm"
                        | "mp"
                        | "le"
                        | "leq"
                        | "ge"
                        | "geq"
                        | "lt"
                        | "gt"
                        | "ne"
                        | "neq"
                        | "in"
                        | "cup"
                        | "cap"
                        | "approx"
                        | "end"
                        | "equiv"
                        | "leqslant"
                        | "geqslant"
                        | "coloneqq"
                        | "rbrace"
                        | "rfloor"
                        | "rceil"
                        | "rvert"
                        | "rangle"
                        | "to"
                        | "implies"
                        | "Rightarrow"
                        | "quad"
                        | "qquad"
                ) && !IGNORED_COMMANDS.contains(&name);
            }
            return self.peek_at(1) == b'{';
        }
        false
    }

    fn term(&mut self) -> PResult<Node> {
        self.enter()?;
        let first = self.power()?;
        let mut factors = vec![first];
        loop {
            self.budget.spend(1)?;
            self.ws();
            let c = self.peek();
            if c == b'*' {
                self.pos += 1;
                factors.push(self.signed_power()?);
            } else if c == b'/' || self.peek_command() == Some("div") {
                if c == b'/' {
                    self.pos += 1;
                } else {
                    self.eat_command("div");
                }
                let d = self.signed_power()?;
                let num = one_or(std::mem::take(&mut factors), Node::Mul);
                factors.push(Node::Div(Box::new(num), Box::new(d)));
            } else if let Some(name @ ("cdot" | "times")) = self.peek_command() {
                self.eat_command(name);
                factors.push(self.signed_power()?);
            } else if self.starts_factor() {
                factors.push(self.power()?);
            } else {
                break;
            }
        }
        self.leave();
        Ok(one_or(factors, Node::Mul))
    }

    fn signed_power(&mut self) -> PResult<Node> {
        self.ws();
        match self.peek() {
            b'-' => {
                self.pos += 1;
                let p = self.signed_power()?;
                Ok(Node::Neg(Box::new(p)))
            }
            b'+' => {
                self.pos += 1;
                self.signed_power()
            }
            _ => self.power(),
        }
    }

    fn power(&mut self) -> PResult<Node> {
        self.enter()?;
        let mut base = self.postfix()?;
        loop {
            self.ws();
            if self.peek() == b'^' {
                self.pos += 1;
                let e = self.script_arg()?;
                base = match base {
                    // 10^\circ style degree already mapped; `x^{@}` -> degrees
                    Node::Text(t) if t == "@" => Node::Degree(Box::new(e)),
                    b => Node::Pow(Box::new(b), Box::new(e)),
                };
                base = self.postfix_ops(base)?;
            } else {
                break;
            }
        }
        self.leave();
        Ok(base)
    }

    /// Argument of `^` or `_`: a braced group, a signed single token, or a command.
    fn script_arg(&mut self) -> PResult<Node> {
        self.ws();
        match self.peek() {
            b'{' => self.braced(),
            b'-' => {
                self.pos += 1;
                let a = self.script_arg()?;
                Ok(Node::Neg(Box::new(a)))
            }
            b'@' => {
                self.pos += 1;
                Ok(Node::Text("@".into()))
            }
            c if c.is_ascii_digit() => {
                // a single digit in LaTeX (`x^23` is x^2 * 3); accept a full number when no
                // braces are used in plain text (`2^10`)
                let start = self.pos;
                let mut end = start;
                while end < self.s.len() && self.s[end].is_ascii_digit() {
                    end += 1;
                }
                let take = if self.src.contains('\\') {
                    1
                } else {
                    end - start
                };
                self.pos = start + take;
                let v: BigInt = self.src[start..start + take]
                    .parse()
                    .map_err(|_| ParseError::Syntax(start, "bad exponent"))?;
                Ok(Node::Num {
                    value: BigRational::from_integer(v),
                    approx: false,
                })
            }
            c if c.is_ascii_alphabetic() => {
                self.pos += 1;
                Ok(Node::Sym((c as char).to_string()))
            }
            b'(' => self.primary(),
            b'\\' => self.primary(),
            _ => self.err("missing exponent"),
        }
    }

    fn postfix(&mut self) -> PResult<Node> {
        let p = self.primary()?;
        self.postfix_ops(p)
    }

    fn postfix_ops(&mut self, mut node: Node) -> PResult<Node> {
        loop {
            let c = self.peek();
            match c {
                b'!' if self.peek_at(1) != b'=' => {
                    self.pos += 1;
                    node = Node::Factorial(Box::new(node));
                }
                b'%' => {
                    self.pos += 1;
                    node = Node::Percent(Box::new(node));
                }
                b'@' => {
                    self.pos += 1;
                    node = Node::Degree(Box::new(node));
                }
                b'\'' => {
                    self.pos += 1;
                    node = match node {
                        Node::Sym(s) => Node::Sym(format!("{s}'")),
                        Node::Text(s) => Node::Text(format!("{s}'")),
                        other => Node::Mul(vec![other, Node::Sym("'".into())]),
                    };
                }
                b'_' => {
                    self.pos += 1;
                    let sub = self.script_arg()?;
                    node = match node {
                        Node::Sym(s) => Node::Sym(format!("{s}_{}", node_key(&sub))),
                        Node::Num { value, .. } => {
                            // base-n numeral like 1011_2: keep as text
                            Node::Text(format!("{}_{}", value, node_key(&sub)))
                        }
                        other => other,
                    };
                }
                _ => break,
            }
        }
        Ok(node)
    }

    fn braced(&mut self) -> PResult<Node> {
        self.ws();
        if !self.eat(b'{') {
            return self.err("expected {");
        }
        self.ws();
        if self.peek() == b'}' {
            self.pos += 1;
            return Ok(Node::Text(String::new()));
        }
        let inner = self.list(b"}")?;
        if !self.eat(b'}') {
            return self.err("unbalanced {");
        }
        Ok(inner)
    }

    /// Raw content of a `{...}` group (balanced), cursor after the closing brace.
    fn raw_braced(&mut self) -> PResult<&'a str> {
        self.ws();
        if self.peek() != b'{' {
            return self.err("expected {");
        }
        let start = self.pos + 1;
        let mut depth = 0usize;
        let mut i = self.pos;
        while i < self.s.len() {
            match self.s[i] {
                b'\\' => {
                    i += 2;
                    continue;
                }
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        self.pos = i + 1;
                        return Ok(&self.src[start..i]);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        self.err("unbalanced {")
    }

    /// A LaTeX macro argument: `{...}`, a single digit, a single letter, or a command.
    fn macro_arg(&mut self) -> PResult<Node> {
        self.ws();
        let c = self.peek();
        if c == b'{' {
            return self.braced();
        }
        if c.is_ascii_digit() {
            self.pos += 1;
            return Ok(Node::int((c - b'0') as i64));
        }
        if c.is_ascii_alphabetic() {
            self.pos += 1;
            return Ok(letter_node(c as char));
        }
        if c == b'\\' {
            return self.primary();
        }
        if c == b'(' {
            return self.primary();
        }
        self.err("missing macro argument")
    }

    fn primary(&mut self) -> PResult<Node> {
        self.enter()?;
        self.ws();
        let c = self.peek();
        let r = if c.is_ascii_digit() || (c == b'.' && self.peek_at(1).is_ascii_digit()) {
            self.number()
        } else if c.is_ascii_alphabetic() {
            self.word()
        } else if c >= 0x80 {
            // non-ASCII run: text
            let start = self.pos;
            while self.pos < self.s.len() && self.s[self.pos] >= 0x80 {
                self.pos += 1;
            }
            Ok(Node::Text(self.src[start..self.pos].to_string()))
        } else if c == b'(' || c == b'[' {
            self.group()
        } else if c == b'{' {
            self.braced()
        } else if c == b'|' {
            self.pos += 1;
            let inner = self.sum()?;
            if !self.eat(b'|') {
                self.leave();
                return self.err("unbalanced |");
            }
            Ok(Node::Func(Func::Abs, Box::new(inner)))
        } else if c == b'\\' {
            self.command()
        } else {
            self.err("unexpected character")
        };
        self.leave();
        r
    }

    fn group(&mut self) -> PResult<Node> {
        let open = self.peek();
        self.pos += 1;
        let items = {
            self.ws();
            let inner = self.list(b")]")?;
            match inner {
                Node::List(v) => v,
                other => vec![other],
            }
        };
        self.ws();
        let close = self.peek();
        if close != b')' && close != b']' {
            return self.err("unbalanced bracket");
        }
        self.pos += 1;
        if items.len() == 1 && ((open == b'(' && close == b')') || (open == b'[' && close == b']'))
        {
            let mut items = items;
            return Ok(items.pop().unwrap_or(Node::EmptySet));
        }
        Ok(Node::Group { open, close, items })
    }

    fn number(&mut self) -> PResult<Node> {
        let start = self.pos;
        let mut int_digits = String::new();
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_digit() {
            int_digits.push(self.s[self.pos] as char);
            self.pos += 1;
        }
        // thousands separators: 1,234,567 (groups of exactly three digits)
        if !int_digits.is_empty() && int_digits.len() <= 3 {
            loop {
                let p = self.pos;
                if self.s.get(p) == Some(&b',')
                    && self
                        .s
                        .get(p + 1..p + 4)
                        .is_some_and(|g| g.iter().all(|d| d.is_ascii_digit()))
                    && !self.s.get(p + 4).is_some_and(|d| d.is_ascii_digit())
                {
                    int_digits.push_str(&self.src[p + 1..p + 4]);
                    self.pos = p + 4;
                } else {
                    break;
                }
            }
        }
        let mut frac_digits = String::new();
        let mut has_point = false;
        if self.peek() == b'.' && self.peek_at(1).is_ascii_digit() {
            has_point = true;
            self.pos += 1;
            while self.pos < self.s.len() && self.s[self.pos].is_ascii_digit() {
                frac_digits.push(self.s[self.pos] as char);
                self.pos += 1;
            }
        } else if self.peek() == b'.' && !self.peek_at(1).is_ascii_alphabetic() {
            // "5." trailing point
            self.pos += 1;
        }
        if int_digits.len() + frac_digits.len() > 5000 {
            return Err(ParseError::Budget(Exhausted::Steps));
        }
        self.budget
            .spend((int_digits.len() + frac_digits.len()) as u64 / 16)?;
        let digits = format!("{int_digits}{frac_digits}");
        let mantissa: BigInt = if digits.is_empty() {
            BigInt::zero()
        } else {
            digits
                .parse()
                .map_err(|_| ParseError::Syntax(start, "bad number"))?
        };
        let mut value =
            BigRational::new(mantissa, BigInt::from(10u32).pow(frac_digits.len() as u32));
        // scientific notation: 1.5e3, 2E-4
        let c = self.peek();
        if (c == b'e' || c == b'E') && !self.peek_at(1).is_ascii_alphabetic() {
            let mut q = self.pos + 1;
            let neg = match self.s.get(q) {
                Some(b'-') => {
                    q += 1;
                    true
                }
                Some(b'+') => {
                    q += 1;
                    false
                }
                _ => false,
            };
            let es = q;
            while q < self.s.len() && self.s[q].is_ascii_digit() {
                q += 1;
            }
            if q > es && q - es <= 4 && !self.s.get(q).is_some_and(|d| d.is_ascii_alphabetic()) {
                let e: u32 = self.src[es..q].parse().unwrap_or(0);
                if e <= 400 {
                    let p = BigRational::from_integer(BigInt::from(10u32).pow(e));
                    value = if neg { value / p } else { value * p };
                    self.pos = q;
                }
            }
        }
        let approx = has_point && frac_digits.bytes().any(|d| d != b'0');
        let num = Node::Num {
            value: value.clone(),
            approx,
        };
        // mixed numbers: 918\frac{1}{2}, 3128 1/2
        if !has_point && !int_digits.is_empty() {
            if let Some(frac) = self.try_mixed_fraction()? {
                let whole = Node::Num {
                    value,
                    approx: false,
                };
                return Ok(Node::Add(vec![whole, frac]));
            }
        }
        Ok(num)
    }

    fn try_mixed_fraction(&mut self) -> PResult<Option<Node>> {
        let save = self.pos;
        let had_space = matches!(self.peek(), b' ');
        self.ws();
        if let Some(name @ ("frac" | "dfrac" | "tfrac")) = self.command_name_at(self.pos) {
            self.eat_command(name);
            let n = self.macro_arg();
            let d = self.macro_arg();
            if let (Ok(Node::Num { value: n, .. }), Ok(Node::Num { value: d, .. })) = (&n, &d) {
                if n.is_integer() && d.is_integer() && !d.is_zero() && n < d && !n.is_zero() {
                    return Ok(Some(Node::Num {
                        value: n / d,
                        approx: false,
                    }));
                }
            }
            self.pos = save;
            return Ok(None);
        }
        if had_space && self.peek().is_ascii_digit() {
            // plain "3128 1/2"
            let s0 = self.pos;
            let mut q = s0;
            while q < self.s.len() && self.s[q].is_ascii_digit() {
                q += 1;
            }
            if self.s.get(q) == Some(&b'/') {
                let d0 = q + 1;
                let mut r = d0;
                while r < self.s.len() && self.s[r].is_ascii_digit() {
                    r += 1;
                }
                let next = self.s.get(r).copied().unwrap_or(0);
                if r > d0
                    && r - d0 < 10
                    && q - s0 < 10
                    && !next.is_ascii_alphanumeric()
                    && next != b'.'
                {
                    let n: u64 = self.src[s0..q].parse().unwrap_or(0);
                    let d: u64 = self.src[d0..r].parse().unwrap_or(0);
                    if d != 0 && n < d && n != 0 {
                        self.pos = r;
                        return Ok(Some(Node::Num {
                            value: BigRational::new(n.into(), d.into()),
                            approx: false,
                        }));
                    }
                }
            }
        }
        self.pos = save;
        Ok(None)
    }

    fn word(&mut self) -> PResult<Node> {
        let start = self.pos;
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_alphabetic() {
            self.pos += 1;
        }
        let w = &self.src[start..self.pos];
        // plain function names
        if let Some(f) = func_by_name(w) {
            return self.func_app(f);
        }
        match w {
            "sqrt" => {
                let a = self.func_arg()?;
                return Ok(Node::Pow(
                    Box::new(a),
                    Box::new(Node::Num {
                        value: BigRational::new(1.into(), 2.into()),
                        approx: false,
                    }),
                ));
            }
            "ln" => {
                let a = self.func_arg()?;
                return Ok(Node::Log(Box::new(a), None));
            }
            "log" => {
                let base = if self.peek() == b'_' {
                    self.pos += 1;
                    Some(Box::new(self.script_arg()?))
                } else {
                    None
                };
                let a = self.func_arg()?;
                return Ok(Node::Log(Box::new(a), base));
            }
            "pi" => return Ok(Node::Const(Const::Pi)),
            "inf" | "infty" | "infinity" => return Ok(Node::Const(Const::Inf)),
            _ => {}
        }
        let lw = w.to_ascii_lowercase();
        if UNIT_WORDS.contains(&w) && w.len() >= 2 {
            return Ok(Node::Text(w.to_string()));
        }
        if w.len() >= 4 || matches!(lw.as_str(), "and" | "or" | "the" | "is" | "yes" | "no") {
            return Ok(Node::Text(w.to_string()));
        }
        // short letter runs: implicit product of single-letter symbols
        let factors: Vec<Node> = w.chars().map(letter_node).collect();
        Ok(one_or(factors, Node::Mul))
    }

    /// Argument of a function written without braces (`\sin x`, `\sin 2x`, `\cos(x)`).
    fn func_arg(&mut self) -> PResult<Node> {
        self.ws();
        let c = self.peek();
        if c == b'(' || c == b'{' || c == b'[' {
            return self.power();
        }
        // implicit product of powers, without +/- (\sin 2x -> sin(2x))
        let first = self.signed_power()?;
        let mut factors = vec![first];
        loop {
            self.ws();
            let c = self.peek();
            if (c.is_ascii_alphanumeric() || c == b'\\')
                && self.starts_factor()
                && !matches!(self.peek_command(), Some(n) if func_by_name(n).is_some() || n == "frac")
            {
                factors.push(self.power()?);
            } else {
                break;
            }
        }
        Ok(one_or(factors, Node::Mul))
    }

    fn func_app(&mut self, f: Func) -> PResult<Node> {
        // \sin^2 x
        self.ws();
        let mut power = None;
        if self.peek() == b'^' {
            self.pos += 1;
            power = Some(self.script_arg()?);
        }
        let a = self.func_arg()?;
        let mut n = Node::Func(f, Box::new(a));
        if let Some(p) = power {
            // \sin^{-1} x is arcsin
            if p == Node::Neg(Box::new(Node::int(1))) {
                let inv = match f {
                    Func::Sin => Some(Func::Asin),
                    Func::Cos => Some(Func::Acos),
                    Func::Tan => Some(Func::Atan),
                    _ => None,
                };
                if let (Some(g), Node::Func(_, a)) = (inv, &n) {
                    return Ok(Node::Func(g, a.clone()));
                }
            }
            n = Node::Pow(Box::new(n), Box::new(p));
        }
        Ok(n)
    }

    fn command(&mut self) -> PResult<Node> {
        // `\{`
        if self.peek_at(1) == b'{' {
            self.pos += 2;
            return self.set_body();
        }
        let Some(name) = self.command_name_at(self.pos) else {
            return self.err("bad command");
        };
        self.eat_command(name);
        if let Some(f) = func_by_name(name) {
            return self.func_app(f);
        }
        match name {
            "frac" | "dfrac" | "tfrac" | "cfrac" => {
                let n = self.macro_arg()?;
                let d = self.macro_arg()?;
                Ok(Node::Div(Box::new(n), Box::new(d)))
            }
            "binom" | "dbinom" | "tbinom" | "choose" => {
                let n = self.macro_arg()?;
                let k = self.macro_arg()?;
                Ok(Node::Binom(Box::new(n), Box::new(k)))
            }
            "sqrt" => {
                self.ws();
                let mut index = None;
                if self.peek() == b'[' {
                    self.pos += 1;
                    let i = self.list(b"]")?;
                    if !self.eat(b']') {
                        return self.err("unbalanced [ in \\sqrt");
                    }
                    index = Some(i);
                }
                let a = self.macro_arg()?;
                let exp = match index {
                    None => Node::Num {
                        value: BigRational::new(1.into(), 2.into()),
                        approx: false,
                    },
                    Some(i) => Node::Div(Box::new(Node::int(1)), Box::new(i)),
                };
                Ok(Node::Pow(Box::new(a), Box::new(exp)))
            }
            "ln" => {
                self.ws();
                let mut power = None;
                if self.peek() == b'^' {
                    self.pos += 1;
                    power = Some(self.script_arg()?);
                }
                let a = self.func_arg()?;
                let n = Node::Log(Box::new(a), None);
                Ok(match power {
                    Some(p) => Node::Pow(Box::new(n), Box::new(p)),
                    None => n,
                })
            }
            "log" | "lg" => {
                self.ws();
                let base = if self.peek() == b'_' {
                    self.pos += 1;
                    Some(Box::new(self.script_arg()?))
                } else {
                    None
                };
                let a = self.func_arg()?;
                Ok(Node::Log(Box::new(a), base))
            }
            "pi" => Ok(Node::Const(Const::Pi)),
            "infty" | "infin" => Ok(Node::Const(Const::Inf)),
            "emptyset" | "varnothing" => Ok(Node::EmptySet),
            "lbrace" => self.set_body(),
            "lfloor" | "lceil" => {
                let inner = self.sum()?;
                let closer = if name == "lfloor" { "rfloor" } else { "rceil" };
                if self.peek_command() == Some(closer) {
                    self.eat_command(closer);
                } else {
                    return self.err("unbalanced floor/ceil");
                }
                Ok(Node::Func(
                    if name == "lfloor" {
                        Func::Floor
                    } else {
                        Func::Ceil
                    },
                    Box::new(inner),
                ))
            }
            "lvert" | "vert" => {
                let inner = self.sum()?;
                match self.peek_command() {
                    Some(c @ ("rvert" | "vert")) => self.eat_command(c),
                    _ => {
                        if !self.eat(b'|') {
                            return self.err("unbalanced |");
                        }
                    }
                }
                Ok(Node::Func(Func::Abs, Box::new(inner)))
            }
            "langle" => {
                let inner = self.list(b">")?;
                if self.peek_command() == Some("rangle") {
                    self.eat_command("rangle");
                } else {
                    return self.err("unbalanced \\langle");
                }
                let items = match inner {
                    Node::List(v) => v,
                    o => vec![o],
                };
                Ok(Node::Group {
                    open: b'(',
                    close: b')',
                    items,
                })
            }
            "begin" => self.environment(),
            "dots" | "ldots" | "cdots" => Ok(Node::Text("...".into())),
            "degree" => Ok(Node::Text("@".into())),
            _ if TEXT_COMMANDS.contains(&name) => self.text_command(name),
            "not" | "neg" | "mathop" => self.primary(),
            _ => {
                // Greek letters and other symbols; `\alpha`, `\theta`
                Ok(Node::Sym(format!("\\{name}")))
            }
        }
    }

    fn text_command(&mut self, name: &str) -> PResult<Node> {
        self.ws();
        if self.peek() != b'{' {
            // `\mathrm E` style single-token argument
            return self.macro_arg();
        }
        let raw = self.raw_braced()?;
        let t = raw.trim();
        if t.is_empty() {
            return Ok(Node::Text(String::new()));
        }
        if name == "operatorname" {
            if let Some(f) = func_by_name(t) {
                return self.func_app(f);
            }
        }
        // words and unit names stay text (`\mathrm{m}`, `\text{cm}`); a single letter in a math
        // font is a symbol (`\mathbf{v}`)
        if t.bytes().all(|c| c.is_ascii_alphabetic()) {
            let math_font = matches!(
                name,
                "mathbf" | "boldsymbol" | "mathit" | "mathcal" | "mathbb" | "bm"
            );
            if !(math_font && t.len() == 1) {
                return Ok(Node::Text(t.to_string()));
            }
        }
        // single letter/short math inside \mathrm{E}, \textbf{A}, \text{5}
        let inner_budget = self.budget;
        let looks_math = t.len() <= 200;
        if looks_math {
            if let Ok(n) = parse_preprocessed(t, inner_budget) {
                let has_number = n.any(&|x| matches!(x, Node::Num { .. }));
                // plain words inside (`red and`) make it text unless a number carries them
                // as units (`20 minutes`)
                if has_number || (!n.has_text() && !has_plain_word(t)) || t.len() <= 2 {
                    return Ok(n);
                }
            }
        }
        Ok(Node::Text(t.to_string()))
    }

    fn set_body(&mut self) -> PResult<Node> {
        self.ws();
        if self.s[self.pos..].starts_with(b"\\}") {
            self.pos += 2;
            return Ok(Node::EmptySet);
        }
        let inner = self.list(b"")?;
        self.ws();
        if self.s[self.pos..].starts_with(b"\\}") {
            self.pos += 2;
        } else if self.s[self.pos..].starts_with(b"\\rbrace") {
            self.pos += 7;
        } else {
            return self.err("unbalanced \\{");
        }
        Ok(match inner {
            Node::List(v) => Node::Set(v),
            // set-builder or single element
            o => Node::Set(vec![o]),
        })
    }

    fn environment(&mut self) -> PResult<Node> {
        let env = self.raw_braced()?.to_string();
        // optional column spec for array: {cc}
        if env == "array" {
            let _ = self.raw_braced();
        }
        let mut rows: Vec<Vec<Node>> = Vec::new();
        let mut row: Vec<Node> = Vec::new();
        loop {
            self.budget.spend(1)?;
            self.ws();
            if self.s[self.pos..].starts_with(b"\\end") {
                self.eat_command("end");
                let _ = self.raw_braced();
                break;
            }
            if self.pos >= self.s.len() {
                return self.err("unterminated \\begin");
            }
            let cell = self.list(b"&")?;
            row.push(cell);
            self.ws();
            if self.peek() == b'&' {
                self.pos += 1;
                continue;
            }
            if self.s[self.pos..].starts_with(b"\\\\") {
                self.pos += 2;
                rows.push(std::mem::take(&mut row));
                continue;
            }
            if self.s[self.pos..].starts_with(b"\\end") {
                continue;
            }
            return self.err("bad matrix cell");
        }
        if !row.is_empty() {
            rows.push(row);
        }
        if env.contains("cases") || env.contains("align") || env.contains("gather") {
            let items: Vec<Node> = rows.into_iter().flatten().collect();
            return Ok(one_or(items, Node::List));
        }
        Ok(Node::Matrix(rows))
    }
}

/// A run of two or more ASCII letters that is not a LaTeX command name.
/// `items` as one node: the single item itself, or `wrap(items)` when there are several.
fn one_or(mut items: Vec<Node>, wrap: fn(Vec<Node>) -> Node) -> Node {
    if items.len() == 1 {
        items.pop().unwrap_or(Node::EmptySet)
    } else {
        wrap(items)
    }
}

fn has_plain_word(t: &str) -> bool {
    let b = t.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            i += 1;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            continue;
        }
        if b[i].is_ascii_alphabetic() {
            let s0 = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            if i - s0 >= 2 {
                return true;
            }
            continue;
        }
        i += 1;
    }
    false
}

fn letter_node(c: char) -> Node {
    match c {
        'e' => Node::Const(Const::E),
        'i' => Node::Const(Const::I),
        _ => Node::Sym(c.to_string()),
    }
}

fn func_by_name(n: &str) -> Option<Func> {
    Some(match n {
        "sin" => Func::Sin,
        "cos" => Func::Cos,
        "tan" | "tg" => Func::Tan,
        "sec" => Func::Sec,
        "csc" => Func::Csc,
        "cot" | "ctg" => Func::Cot,
        "arcsin" | "asin" => Func::Asin,
        "arccos" | "acos" => Func::Acos,
        "arctan" | "atan" => Func::Atan,
        "sinh" => Func::Sinh,
        "cosh" => Func::Cosh,
        "tanh" => Func::Tanh,
        "exp" => Func::Exp,
        "abs" => Func::Abs,
        _ => return None,
    })
}

/// A short printable key for a node (used for subscripts and text comparison).
pub fn node_key(n: &Node) -> String {
    match n {
        Node::Num { value, .. } => value.to_string(),
        Node::Sym(s) | Node::Text(s) => s.clone(),
        Node::Const(c) => format!("{c:?}"),
        Node::Mul(v) => v.iter().map(node_key).collect::<Vec<_>>().join(""),
        other => format!("{other:?}"),
    }
}
