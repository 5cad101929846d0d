//! Mathematical equivalence of two parsed answers.
//!
//! What it does: decides whether a predicted answer equals a gold answer: exact rational
//! comparison, numeric comparison with a relative tolerance when a decimal approximation is
//! involved, symbolic equivalence of expressions with free variables by evaluation at several
//! deterministic pseudo-random rational points, equations as equations (`a=b` ≡ `b=a` ≡ `2a=2b`),
//! inequalities and intervals as sets, sets unordered, tuples in order. A relation matches a
//! value only when it states that value for a label (`x = 3`, `f(x) = 2x`, `P:Q = 2`); other
//! equations (`2x + y = 5`) never match a value. Lists of tuples or of relations are sets of
//! solutions; ratios and times (`3:5`, `09:30`) compare term by term; `precision` and
//! `decimal_comma` are options (decisions per answer family: `docs/math-equivalence.md`).
//! Why: this is the verdict RLVR rewards and rejection sampling depend on.
//! Known failure modes: randomized evaluation can call two different functions equal when they
//! agree at every sampled point (vanishingly unlikely for polynomials and rational functions,
//! possible for piecewise functions such as `|x|` vs `x`, since points are positive);
//! assumptions about variables (positive, real) are not tracked.

use crate::ast::{Const, Node, RelOp};
use crate::budget::{Budget, Exhausted};
use crate::eval::{close, close_exact, exact, float, Point, C64};
use crate::parse::{node_key, parse, preprocess, ParseError};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};
use serde::{Deserialize, Serialize};

/// How `x%` relates to plain numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PercentPolicy {
    /// `10%` equals both `0.1` and `10` (default; the suites disagree, see DISAGREEMENTS.md).
    #[default]
    Either,
    /// `10%` equals `0.1` only.
    Fraction,
    /// `10%` equals `10` only (the `%` is a unit).
    Number,
}

/// Options of the equivalence check. `Default` gives the documented defaults.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EquivOptions {
    /// Relative tolerance used when either side contains a decimal approximation (`1.0001`,
    /// `0.333`): `|a-b| <= rel_tol * max(|a|,|b|)`. Exact values (integers, fractions) are
    /// compared exactly. Default `1e-4` (the Qwen2.5-Math grader's value).
    pub rel_tol: f64,
    /// Percent policy. Default [`PercentPolicy::Either`].
    pub percent: PercentPolicy,
    /// Compare bare comma lists (`1, 2, 3`) as sets instead of in order. Default `false`
    /// (MATH's own tests treat `4, 10, -2` and `10, 4, -2` as different).
    pub unordered_lists: bool,
    /// Evaluation points used for expressions with free variables. Default 5.
    pub points: usize,
    /// Step budget per pair (parser and evaluator). Default 200,000.
    pub step_budget: u64,
    /// Longest extracted answer considered, in bytes. Default 20,000.
    pub max_answer_bytes: usize,
    /// Round both sides to this many decimal places when a side is a decimal approximation,
    /// and accept equal roundings (in addition to [`EquivOptions::rel_tol`]): with `Some(2)`,
    /// `0.33` matches `\frac{1}{3}` and `7.78` matches `\frac{70}{9}`. Exact values on both
    /// sides (`\pi` vs `\frac{22}{7}`) are never rounded. Default `None`.
    #[serde(default)]
    pub precision: Option<u32>,
    /// Read a comma between digits as a decimal comma (`3,25` is 3.25) unless it groups
    /// thousands (several groups of three digits, `7,425,000`, or one group of three after a
    /// non-zero integer part, `1,000`). Default `false`: `3,25` is the list 3, 25.
    #[serde(default)]
    pub decimal_comma: bool,
}

impl Default for EquivOptions {
    fn default() -> Self {
        EquivOptions {
            rel_tol: 1e-4,
            percent: PercentPolicy::Either,
            unordered_lists: false,
            points: 5,
            step_budget: 200_000,
            max_answer_bytes: 20_000,
            precision: None,
            decimal_comma: false,
        }
    }
}

/// The verdict of an equivalence check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The answers are equivalent.
    Equivalent,
    /// The answers differ (or the prediction has no answer).
    NotEquivalent,
    /// Could not decide (budget, overflow, undefined values, missing gold); see the reason.
    Unknown,
}

impl Verdict {
    /// Lowercase name: `equivalent`, `not_equivalent`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Equivalent => "equivalent",
            Verdict::NotEquivalent => "not_equivalent",
            Verdict::Unknown => "unknown",
        }
    }
}

/// Result of comparing two answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Verdict.
    pub verdict: Verdict,
    /// Why (always set for `unknown`, sometimes for `not_equivalent`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Outcome {
    fn yes() -> Self {
        Outcome {
            verdict: Verdict::Equivalent,
            reason: None,
        }
    }
    fn no(r: Option<String>) -> Self {
        Outcome {
            verdict: Verdict::NotEquivalent,
            reason: r,
        }
    }
    fn unknown(r: impl Into<String>) -> Self {
        Outcome {
            verdict: Verdict::Unknown,
            reason: Some(r.into()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tri {
    T,
    F,
    U(String),
}

impl From<Exhausted> for Tri {
    fn from(e: Exhausted) -> Self {
        Tri::U(e.to_string())
    }
}

fn tri(b: bool) -> Tri {
    if b {
        Tri::T
    } else {
        Tri::F
    }
}

/// Normalised text form used for string-level comparison.
pub fn norm_text(s: &str) -> String {
    let pre = preprocess(s);
    let mut out = String::with_capacity(pre.len());
    let mut rest = pre.as_str();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('\\') {
            // drop text-style command names, keep others
            let name_len = r.bytes().take_while(|c| c.is_ascii_alphabetic()).count();
            let name = &r[..name_len];
            if matches!(
                name,
                "text"
                    | "textbf"
                    | "textit"
                    | "mathrm"
                    | "mathbf"
                    | "mbox"
                    | "mathit"
                    | "textrm"
                    | "mathcal"
                    | "operatorname"
                    | "left"
                    | "right"
                    | "displaystyle"
                    | "boxed"
            ) {
                rest = &r[name_len..];
                continue;
            }
            if name_len == 0 {
                // `\,` `\!` `\ ` spacing
                rest = r.get(1..).unwrap_or("");
                continue;
            }
            out.push('\\');
            out.push_str(name);
            rest = &r[name_len..];
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        rest = &rest[c.len_utf8()..];
        if c.is_whitespace() || c == '{' || c == '}' || c == '$' || c == '~' {
            continue;
        }
        out.extend(c.to_lowercase());
    }
    while out.ends_with('.') {
        out.pop();
    }
    match out.as_str() {
        "yes" | "true" | "correct" => "true".into(),
        "no" | "false" | "incorrect" => "false".into(),
        _ => out,
    }
}

/// Compare two already-extracted answers.
pub fn equivalent(gold: &str, pred: &str, opts: &EquivOptions) -> Outcome {
    if gold.len() > opts.max_answer_bytes || pred.len() > opts.max_answer_bytes {
        return Outcome::unknown(format!(
            "answer longer than {} bytes",
            opts.max_answer_bytes
        ));
    }
    let (gold, pred) = if opts.decimal_comma {
        (decimal_commas(gold), decimal_commas(pred))
    } else {
        (gold.to_string(), pred.to_string())
    };
    let (gold, pred) = (gold.as_str(), pred.as_str());
    let tg = norm_text(gold);
    let tp = norm_text(pred);
    if tg.is_empty() {
        return Outcome::unknown("empty gold answer");
    }
    if tp.is_empty() {
        return Outcome::no(Some("empty predicted answer".into()));
    }
    if tg == tp {
        return Outcome::yes();
    }
    let budget = Budget::new(opts.step_budget);
    let g = parse(gold, &budget);
    let p = parse(pred, &budget);
    let (g, p) = match (g, p) {
        (Ok(g), Ok(p)) => (g, p),
        (Err(ParseError::Budget(e)), _) | (_, Err(ParseError::Budget(e))) => {
            return Outcome::unknown(e.to_string())
        }
        (Err(e), _) => {
            return Outcome::no(Some(format!("gold not parsed ({e}); texts differ")));
        }
        (_, Err(e)) => {
            return Outcome::no(Some(format!("prediction not parsed ({e}); texts differ")));
        }
    };
    let g = assignments_as_tuples(strip_units(g));
    let p = assignments_as_tuples(strip_units(p));
    // `x=7, y=6` against `(7,6)`: the values of the assignments, in order
    let (g, p) = match (assignment_values(&g), assignment_values(&p)) {
        (Some(values), None) if !is_relation_list(&p) => (values, p),
        (None, Some(values)) if !is_relation_list(&g) => (g, values),
        _ => (g, p),
    };
    let ctx = Ctx {
        opts,
        budget: &budget,
    };
    match ctx.cmp(&g, &p) {
        Tri::T => Outcome::yes(),
        Tri::F => Outcome::no(None),
        Tri::U(r) => Outcome::unknown(r),
    }
}

fn is_unit_factor(n: &Node) -> bool {
    match n {
        Node::Text(_) => true,
        Node::Pow(b, _) => matches!(b.as_ref(), Node::Text(_)),
        Node::Div(a, b) => is_unit_factor(a) && is_unit_factor(b),
        Node::Mul(v) => v.iter().all(is_unit_factor),
        _ => false,
    }
}

/// Remove units and trailing words multiplying a value: `10\text{ cm}^2` -> `10`.
fn strip_units(n: Node) -> Node {
    match n {
        Node::Mul(v) => {
            let has_value = v.iter().any(|f| !is_unit_factor(f));
            let mut kept: Vec<Node> = if has_value {
                v.into_iter()
                    .filter(|f| !is_unit_factor(f))
                    .map(strip_units)
                    .collect()
            } else {
                v
            };
            if kept.len() == 1 {
                kept.pop().unwrap_or(Node::EmptySet)
            } else {
                Node::Mul(kept)
            }
        }
        Node::Div(a, b) if is_unit_factor(&b) && !is_unit_factor(&a) => strip_units(*a),
        Node::List(v) => {
            // "5 and 7", drop empty text items
            let v: Vec<Node> = v
                .into_iter()
                .map(strip_units)
                .filter(|x| !matches!(x, Node::Text(t) if t.is_empty()))
                .collect();
            if v.len() == 1 {
                v.into_iter().next().unwrap_or(Node::EmptySet)
            } else {
                Node::List(v)
            }
        }
        Node::Group { open, close, items } => Node::Group {
            open,
            close,
            items: items.into_iter().map(strip_units).collect(),
        },
        Node::Set(v) => Node::Set(v.into_iter().map(strip_units).collect()),
        Node::Rel(v, ops) => Node::Rel(v.into_iter().map(strip_units).collect(), ops),
        Node::Add(v) => Node::Add(v.into_iter().map(strip_units).collect()),
        Node::Neg(a) => Node::Neg(Box::new(strip_units(*a))),
        Node::Degree(a) => Node::Degree(Box::new(strip_units(*a))),
        Node::Percent(a) => Node::Percent(Box::new(strip_units(*a))),
        other => other,
    }
}

/// `x=7, y=6` (two or more assignments `symbol = value` to distinct symbols): the tuple of
/// the values, `(7, 6)`.
fn assignment_values(n: &Node) -> Option<Node> {
    let Node::List(items) = n else {
        return None;
    };
    if items.len() < 2 {
        return None;
    }
    let mut names: Vec<&str> = Vec::new();
    let mut values = Vec::new();
    for item in items {
        match item {
            Node::Rel(parts, ops) if ops.as_slice() == [RelOp::Eq] => match &parts[0] {
                Node::Sym(name) if !names.contains(&name.as_str()) => {
                    names.push(name);
                    values.push(parts[1].clone());
                }
                _ => return None,
            },
            _ => return None,
        }
    }
    Some(Node::Group {
        open: b'(',
        close: b')',
        items: values,
    })
}

/// Inside a list of `;`-separated groups (`m=3,n=1; m=5,n=1`), each group of assignments
/// becomes the tuple of its values (`(3,1),(5,1)`).
fn assignments_as_tuples(n: Node) -> Node {
    match n {
        Node::List(items) if items.iter().any(|i| assignment_values(i).is_some()) => Node::List(
            items
                .into_iter()
                .map(|i| assignment_values(&i).unwrap_or(i))
                .collect(),
        ),
        other => other,
    }
}

/// A bare list whose items are all relations (`f(x)=x, f(x)=-x`).
fn is_relation_list(n: &Node) -> bool {
    matches!(n, Node::List(items) if items.iter().all(|i| matches!(i, Node::Rel(..))))
}

/// A tuple: a parenthesised group of two or more items.
fn is_tuple(n: &Node) -> bool {
    matches!(n, Node::Group { open: b'(', close: b')', items } if items.len() >= 2)
}

/// The value a relation states for a label: `x = 3` -> `3`, `5 = x` -> `5`, `35 + 70 = 105`
/// -> `105` (no free symbol: a computation ending in its value). `None` for an equation
/// (`2x + y = 5`, `4 = 3b - d`): it is not a value.
fn stated_value(parts: &[Node]) -> Option<&Node> {
    let last = parts.last()?;
    if parts[0].is_label() {
        return Some(last);
    }
    if parts.len() == 2 && last.is_label() {
        return Some(&parts[0]);
    }
    let mut symbols = Vec::new();
    for part in parts {
        part.symbols(&mut symbols);
    }
    symbols.is_empty().then_some(last)
}

/// Rewrite decimal commas as points (see [`EquivOptions::decimal_comma`]).
fn decimal_commas(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || (i > 0 && (b[i - 1].is_ascii_digit() || b[i - 1] == b'.')) {
            let c = s[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
            continue;
        }
        // a number starts at i: integer digits, then comma groups
        let mut j = i;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let int_part = &s[i..j];
        let mut groups: Vec<&str> = Vec::new();
        let mut k = j;
        while k + 1 < b.len() && b[k] == b',' && b[k + 1].is_ascii_digit() {
            let mut e = k + 1;
            while e < b.len() && b[e].is_ascii_digit() {
                e += 1;
            }
            groups.push(&s[k + 1..e]);
            k = e;
        }
        let thousands = groups.len() > 1
            || groups
                .first()
                .is_some_and(|g| g.len() == 3 && int_part != "0");
        let followed_by_point = b.get(k) == Some(&b'.');
        if groups.len() == 1 && !thousands && !followed_by_point {
            out.push_str(int_part);
            out.push('.');
            out.push_str(groups[0]);
        } else {
            out.push_str(&s[i..k]);
        }
        i = k;
    }
    out
}

struct Ctx<'a> {
    opts: &'a EquivOptions,
    budget: &'a Budget,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bare,
    Paren,
    Bracket,
    Mixed(u8, u8),
    Set,
    Union,
    Matrix,
    Ratio,
}

fn container(n: &Node) -> Option<(Kind, Vec<Node>)> {
    Some(match n {
        Node::List(v) => (Kind::Bare, v.clone()),
        Node::Group { open, close, items } => {
            let k = match (open, close) {
                (b':', _) => Kind::Ratio,
                (b'(', b')') => Kind::Paren,
                (b'[', b']') => Kind::Bracket,
                (o, c) => Kind::Mixed(*o, *c),
            };
            (k, items.clone())
        }
        Node::Set(v) => (Kind::Set, v.clone()),
        Node::EmptySet => (Kind::Set, vec![]),
        Node::Union(v) => (Kind::Union, v.clone()),
        Node::PlusMinus(a, b) => (
            Kind::Set,
            vec![
                Node::Add(vec![(**a).clone(), (**b).clone()]),
                Node::Add(vec![(**a).clone(), Node::Neg(b.clone())]),
            ],
        ),
        Node::Matrix(rows) => (
            Kind::Matrix,
            rows.iter().map(|r| Node::List(r.clone())).collect(),
        ),
        _ => return None,
    })
}

fn text_of(n: &Node) -> Option<String> {
    match n {
        Node::Text(t) => Some(norm_text(t)),
        Node::Sym(s) => Some(s.to_lowercase()),
        Node::Const(Const::E) => Some("e".into()),
        Node::Const(Const::I) => Some("i".into()),
        Node::Mul(v) => {
            let mut s = String::new();
            for x in v {
                s.push_str(&text_of(x)?);
            }
            Some(s)
        }
        _ => None,
    }
}

/// Interval view of a node: (lo, hi, lo_closed, hi_closed).
type Iv = (Node, Node, bool, bool);

fn as_interval(n: &Node) -> Option<Iv> {
    match n {
        Node::Group { open, close, items } if items.len() == 2 && *open != b':' => Some((
            items[0].clone(),
            items[1].clone(),
            *open == b'[',
            *close == b']',
        )),
        Node::Rel(parts, ops) => {
            let inf = Node::Const(Const::Inf);
            let ninf = Node::Neg(Box::new(Node::Const(Const::Inf)));
            let is_var = |x: &Node| x.is_label() && !x.is_ratio();
            let strict = |o: &RelOp| matches!(o, RelOp::Lt | RelOp::Gt);
            match (parts.len(), ops.as_slice()) {
                (2, [op]) if op != &RelOp::Eq && op != &RelOp::Ne && op != &RelOp::In => {
                    let (v, c, op) = if is_var(&parts[0]) {
                        (&parts[0], &parts[1], *op)
                    } else if is_var(&parts[1]) {
                        let flipped = match op {
                            RelOp::Lt => RelOp::Gt,
                            RelOp::Le => RelOp::Ge,
                            RelOp::Gt => RelOp::Lt,
                            RelOp::Ge => RelOp::Le,
                            o => *o,
                        };
                        (&parts[1], &parts[0], flipped)
                    } else {
                        return None;
                    };
                    let _ = v;
                    match op {
                        RelOp::Lt | RelOp::Le => Some((ninf, c.clone(), false, !strict(&op))),
                        _ => Some((c.clone(), inf, !strict(&op), false)),
                    }
                }
                // `x \in [1,2]`
                (2, [RelOp::In]) if is_var(&parts[0]) => as_interval(&parts[1]),
                (3, [a, b]) if is_var(&parts[1]) => {
                    let lt = |o: &RelOp| matches!(o, RelOp::Lt | RelOp::Le);
                    let gt = |o: &RelOp| matches!(o, RelOp::Gt | RelOp::Ge);
                    if lt(a) && lt(b) {
                        Some((parts[0].clone(), parts[2].clone(), !strict(a), !strict(b)))
                    } else if gt(a) && gt(b) {
                        Some((parts[2].clone(), parts[0].clone(), !strict(b), !strict(a)))
                    } else {
                        None
                    }
                }
                _ => None,
            }
        }
        _ => None,
    }
}

fn point_value(var: usize, j: usize) -> BigRational {
    // deterministic pseudo-random positive rationals, distinct per (var, point)
    let mut h: u64 = 0x9E37_79B9_7F4A_7C15
        ^ ((var as u64) << 32)
        ^ (j as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h ^= h >> 31;
    h = h.wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^= h >> 29;
    let num = 1 + (h % 89) as i64;
    let den = 1 + ((h >> 20) % 13) as i64;
    BigRational::new(
        BigInt::from(num * 7 + var as i64 * 3 + 2),
        BigInt::from(den * 5 + 1),
    )
}

impl Ctx<'_> {
    fn cmp(&self, g: &Node, p: &Node) -> Tri {
        if let Err(e) = self.budget.spend(1) {
            return e.into();
        }
        if g == p {
            return Tri::T;
        }
        // relations
        match (g, p) {
            (Node::Rel(_, _), Node::Rel(_, _)) => return self.rel_cmp(g, p),
            (Node::Rel(parts, ops), other) | (other, Node::Rel(parts, ops))
                if container(other).is_none()
                    || other.is_ratio()
                    || as_interval(g).is_some()
                    || as_interval(p).is_some() =>
            {
                // interval vs inequality
                if let (Some(a), Some(b)) = (as_interval(g), as_interval(p)) {
                    if matches!(g, Node::Group { .. }) || matches!(p, Node::Group { .. }) {
                        return self.interval_cmp(&a, &b);
                    }
                }
                // `x = 5` vs `5`, `35 + 70 = 105` vs `105`, `x \in [1,2]` vs `[1,2]`; an
                // equation (`2x + y = 5`) is not a value
                if ops.iter().all(|o| matches!(o, RelOp::Eq | RelOp::In)) {
                    return match stated_value(parts) {
                        Some(value) => self.cmp_oriented(g, p, other, value),
                        None => Tri::F,
                    };
                }
                return Tri::F;
            }
            _ => {}
        }
        // containers
        let cg = container(g);
        let cp = container(p);
        if cg.is_some() || cp.is_some() {
            return self.container_cmp(g, p, cg, cp);
        }
        // text
        if matches!(g, Node::Text(_)) || matches!(p, Node::Text(_)) {
            return match (text_of(g), text_of(p)) {
                (Some(a), Some(b)) => tri(a == b),
                _ => Tri::F,
            };
        }
        self.scalar_cmp(g, p)
    }

    /// Compare keeping gold/pred orientation when one side was replaced by a sub-part.
    fn cmp_oriented(&self, g: &Node, _p: &Node, other: &Node, part: &Node) -> Tri {
        if matches!(g, Node::Rel(_, _)) {
            self.cmp(part, other)
        } else {
            self.cmp(other, part)
        }
    }

    fn container_cmp(
        &self,
        g: &Node,
        p: &Node,
        cg: Option<(Kind, Vec<Node>)>,
        cp: Option<(Kind, Vec<Node>)>,
    ) -> Tri {
        let (Some((kg, ig)), Some((kp, ip))) = (cg.clone(), cp.clone()) else {
            // a one-element set/list vs a scalar
            let (k, items, other, gold_is_container) = match (cg, cp) {
                (Some((k, i)), None) => (k, i, p, true),
                (None, Some((k, i))) => (k, i, g, false),
                _ => return Tri::F,
            };
            if items.len() == 1 && matches!(k, Kind::Set | Kind::Bare) {
                return if gold_is_container {
                    self.cmp(&items[0], other)
                } else {
                    self.cmp(other, &items[0])
                };
            }
            // interval vs inequality handled earlier; a 2-tuple vs relation
            if let (Some(a), Some(b)) = (as_interval(g), as_interval(p)) {
                return self.interval_cmp(&a, &b);
            }
            return Tri::F;
        };
        use Kind::*;
        match (kg, kp) {
            (Ratio, Ratio) => self.ordered(&ig, &ip),
            (Ratio, _) | (_, Ratio) => Tri::F,
            (Set, Set) | (Set, Bare) | (Bare, Set) => self.unordered(&ig, &ip),
            // several solutions: a list of tuples, or of relations (`f(x)=x, f(x)=-x`), is
            // a set of them
            (Bare, Bare)
                if (ig.iter().all(is_tuple) && ip.iter().all(is_tuple))
                    || (is_relation_list(g) && is_relation_list(p)) =>
            {
                self.unordered(&ig, &ip)
            }
            (Union, Union) => self.unordered_intervals(&ig, &ip),
            (Union, _) | (_, Union) => {
                // a bare list of inequalities ("x \le -2 or x \ge 2") is a union too
                let a = if matches!(kg, Union | Bare) {
                    ig
                } else {
                    vec![g.clone()]
                };
                let b = if matches!(kp, Union | Bare) {
                    ip
                } else {
                    vec![p.clone()]
                };
                self.unordered_intervals(&a, &b)
            }
            (Matrix, Matrix) => self.ordered(&ig, &ip),
            (Matrix, _) | (_, Matrix) => {
                // column/row vector vs tuple
                let flat = |k: Kind, items: &[Node]| -> Vec<Node> {
                    if k == Matrix {
                        items
                            .iter()
                            .flat_map(|r| match r {
                                Node::List(v) => v.clone(),
                                o => vec![o.clone()],
                            })
                            .collect()
                    } else {
                        items.to_vec()
                    }
                };
                let (a, b) = (flat(kg, &ig), flat(kp, &ip));
                let is_vector = |k: Kind, items: &[Node]| {
                    k != Matrix
                        || items.len() == 1
                        || items.iter().all(|r| {
                            matches!(r, Node::List(v) if v.len() == 1)
                                || !matches!(r, Node::List(_))
                        })
                };
                if is_vector(kg, &ig) && is_vector(kp, &ip) {
                    self.ordered(&a, &b)
                } else {
                    Tri::F
                }
            }
            (Mixed(..), _) | (_, Mixed(..)) => match (as_interval(g), as_interval(p)) {
                (Some(a), Some(b)) => self.interval_cmp(&a, &b),
                _ => Tri::F,
            },
            (Bare, Bare) if self.opts.unordered_lists => self.unordered(&ig, &ip),
            (Bare, Bare) | (Paren, Paren) | (Bracket, Bracket) | (Bare, Paren) | (Paren, Bare) => {
                self.ordered(&ig, &ip)
            }
            (Bracket, Bare) | (Bare, Bracket) => self.ordered(&ig, &ip),
            _ => Tri::F,
        }
    }

    fn ordered(&self, a: &[Node], b: &[Node]) -> Tri {
        if a.len() != b.len() {
            return Tri::F;
        }
        let mut unknown = None;
        for (x, y) in a.iter().zip(b) {
            match self.cmp(x, y) {
                Tri::T => {}
                Tri::F => return Tri::F,
                Tri::U(r) => unknown = Some(r),
            }
        }
        match unknown {
            Some(r) => Tri::U(r),
            None => Tri::T,
        }
    }

    fn unordered(&self, a: &[Node], b: &[Node]) -> Tri {
        // sets: duplicates do not matter, so match each element of one side somewhere in the other
        if a.len() > 200 || b.len() > 200 {
            return Tri::U("set too large".into());
        }
        for (xs, ys, flip) in [(a, b, false), (b, a, true)] {
            for x in xs {
                let mut found = false;
                for y in ys {
                    let r = if flip { self.cmp(y, x) } else { self.cmp(x, y) };
                    if let Tri::U(ref m) = r {
                        if m.contains("budget") {
                            return r;
                        }
                    }
                    if r == Tri::T {
                        found = true;
                        break;
                    }
                }
                if !found {
                    return Tri::F;
                }
            }
        }
        Tri::T
    }

    fn unordered_intervals(&self, a: &[Node], b: &[Node]) -> Tri {
        if a.len() != b.len() {
            return Tri::F;
        }
        let mut used = vec![false; b.len()];
        for x in a {
            let ix = as_interval(x);
            let mut found = false;
            for (j, y) in b.iter().enumerate() {
                if used[j] {
                    continue;
                }
                // intervals as intervals; points and sets (`\{1\}`) as themselves
                let same = match (&ix, as_interval(y)) {
                    (Some(ix), Some(iy)) => self.interval_cmp(ix, &iy),
                    (None, None) => self.cmp(x, y),
                    _ => Tri::F,
                };
                if same == Tri::T {
                    used[j] = true;
                    found = true;
                    break;
                }
            }
            if !found {
                return Tri::F;
            }
        }
        Tri::T
    }

    fn interval_cmp(&self, a: &Iv, b: &Iv) -> Tri {
        if a.2 != b.2 || a.3 != b.3 {
            return Tri::F;
        }
        match self.cmp(&a.0, &b.0) {
            Tri::T => self.cmp(&a.1, &b.1),
            o => o,
        }
    }

    fn rel_cmp(&self, g: &Node, p: &Node) -> Tri {
        let (Node::Rel(gp, go), Node::Rel(pp, po)) = (g, p) else {
            return Tri::F;
        };
        let all_eq = |o: &[RelOp]| o.iter().all(|x| *x == RelOp::Eq);
        if all_eq(go) && all_eq(po) {
            // `x = 5` vs `x = 10/2 = 5`: compare first = last of each chain
            let lhs_sym = |v: &[Node]| v[0].is_label();
            if lhs_sym(gp) && lhs_sym(pp) && gp[0] == pp[0] {
                return self.cmp(&gp[gp.len() - 1], &pp[pp.len() - 1]);
            }
            let f = diff(&gp[0], &gp[gp.len() - 1]);
            let h = diff(&pp[0], &pp[pp.len() - 1]);
            return self.proportional(&f, &h, false);
        }
        // inequalities: normalise to `<`/`<=` direction
        let norm = |parts: &[Node], ops: &[RelOp]| -> Option<(Vec<Node>, Vec<RelOp>)> {
            if ops.iter().all(|o| matches!(o, RelOp::Lt | RelOp::Le)) {
                Some((parts.to_vec(), ops.to_vec()))
            } else if ops.iter().all(|o| matches!(o, RelOp::Gt | RelOp::Ge)) {
                let mut ps = parts.to_vec();
                ps.reverse();
                let mut os: Vec<RelOp> = ops
                    .iter()
                    .map(|o| {
                        if *o == RelOp::Gt {
                            RelOp::Lt
                        } else {
                            RelOp::Le
                        }
                    })
                    .collect();
                os.reverse();
                Some((ps, os))
            } else if ops.len() == 1 {
                Some((parts.to_vec(), ops.to_vec()))
            } else {
                None
            }
        };
        let (Some((gp, go)), Some((pp, po))) = (norm(gp, go), norm(pp, po)) else {
            return Tri::F;
        };
        if go != po || gp.len() != pp.len() {
            if let (Some(a), Some(b)) = (as_interval(g), as_interval(p)) {
                return self.interval_cmp(&a, &b);
            }
            return Tri::F;
        }
        if self.ordered(&gp, &pp) == Tri::T {
            return Tri::T;
        }
        if gp.len() == 2 {
            let f = diff(&gp[0], &gp[1]);
            let h = diff(&pp[0], &pp[1]);
            let positive = matches!(go[0], RelOp::Lt | RelOp::Le);
            return self.proportional(&f, &h, positive || go[0] == RelOp::Ne);
        }
        if let (Some(a), Some(b)) = (as_interval(g), as_interval(p)) {
            return self.interval_cmp(&a, &b);
        }
        Tri::F
    }

    /// `f == k * h` for a constant `k != 0` (`k > 0` when `positive`).
    fn proportional(&self, f: &Node, h: &Node, positive: bool) -> Tri {
        let mut vars = Vec::new();
        f.symbols(&mut vars);
        h.symbols(&mut vars);
        vars.sort();
        if vars.is_empty() {
            // numeric identities: compare truth values loosely
            return self.scalar_cmp(f, h);
        }
        let mut k: Option<C64> = None;
        let mut checked = 0;
        for j in 0..self.opts.points.max(2) {
            let pt = self.point(&vars, j, true);
            let (a, b) = match (float(f, &pt, self.budget), float(h, &pt, self.budget)) {
                (Ok(a), Ok(b)) => (a, b),
                (Err(e), _) | (_, Err(e)) => return e.into(),
            };
            if !a.is_finite() || !b.is_finite() {
                continue;
            }
            if b.abs() < 1e-12 {
                if a.abs() < 1e-12 {
                    continue;
                }
                return Tri::F;
            }
            let r = C64 {
                re: (a.re * b.re + a.im * b.im) / (b.re * b.re + b.im * b.im),
                im: (a.im * b.re - a.re * b.im) / (b.re * b.re + b.im * b.im),
            };
            match k {
                None => {
                    if r.abs() < 1e-12 {
                        return Tri::F;
                    }
                    if positive && (r.re <= 0.0 || r.im.abs() > 1e-9 * r.re.abs()) {
                        return Tri::F;
                    }
                    k = Some(r);
                }
                Some(k0) => {
                    if !close(k0, r, 1e-8) {
                        return Tri::F;
                    }
                }
            }
            checked += 1;
        }
        if checked == 0 {
            Tri::U("relation could not be evaluated".into())
        } else {
            Tri::T
        }
    }

    fn point(&self, vars: &[String], j: usize, percent_scale: bool) -> Point {
        Point {
            vars: vars
                .iter()
                .enumerate()
                .map(|(k, v)| {
                    let q = point_value(k, j);
                    let f = q.to_f64().unwrap_or(f64::NAN);
                    (v.clone(), q, f)
                })
                .collect(),
            percent_scale,
            degrees_as_radians: false,
        }
    }

    fn scalar_cmp(&self, g: &Node, p: &Node) -> Tri {
        let r = self.scalar_cmp_percent(g, p, false);
        let has_deg = |n: &Node| n.any(&|x| matches!(x, Node::Degree(_)));
        if r != Tri::T && (has_deg(g) != has_deg(p)) {
            // `90^\circ` vs `\frac{\pi}{2}`: degrees against radians
            let r2 = self.scalar_cmp_percent(g, p, true);
            if r2 == Tri::T {
                return r2;
            }
        }
        r
    }

    fn scalar_cmp_percent(&self, g: &Node, p: &Node, deg_rad: bool) -> Tri {
        let modes: &[bool] = if g.has_percent() || p.has_percent() {
            match self.opts.percent {
                PercentPolicy::Either => &[true, false],
                PercentPolicy::Fraction => &[true],
                PercentPolicy::Number => &[false],
            }
        } else {
            &[true]
        };
        let mut last = Tri::F;
        for &m in modes {
            let r = self.scalar_cmp_mode(g, p, m, deg_rad);
            match r {
                Tri::T => return Tri::T,
                Tri::U(_) => last = r,
                Tri::F => {
                    if !matches!(last, Tri::U(_)) {
                        last = Tri::F
                    }
                }
            }
        }
        last
    }

    fn scalar_cmp_mode(&self, g: &Node, p: &Node, percent_scale: bool, deg_rad: bool) -> Tri {
        let mut vars = Vec::new();
        g.symbols(&mut vars);
        p.symbols(&mut vars);
        vars.sort();
        if vars.len() > 12 {
            return Tri::U("too many free variables".into());
        }
        let approx = g.has_approx() || p.has_approx();
        let tol = self.opts.rel_tol;
        let tol_q = rational_from_f64(tol);
        // a bare decimal must also agree with the other side at its own written precision:
        // `9999.857142857143` is not `10000` even though it is within 1e-4 relative
        let unit = match (precision_unit(g), precision_unit(p)) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let unit_f = unit.as_ref().and_then(|u| u.to_f64());
        let npoints = if vars.is_empty() {
            1
        } else {
            self.opts.points.max(1)
        };
        let mut ok = 0;
        let mut why = String::new();
        for j in 0..npoints {
            let mut pt = self.point(&vars, j, percent_scale);
            pt.degrees_as_radians = deg_rad;
            let ea = match exact(g, &pt, self.budget) {
                Ok(v) => v,
                Err(e) => return e.into(),
            };
            let eb = match exact(p, &pt, self.budget) {
                Ok(v) => v,
                Err(e) => return e.into(),
            };
            if let (Some(a), Some(b)) = (&ea, &eb) {
                if a == b
                    || (approx
                        && close_exact(a, b, &tol_q)
                        && unit.as_ref().is_none_or(|u| (a - b).abs() <= *u))
                    || (approx && self.rounded_equal_exact(a, b))
                {
                    ok += 1;
                    continue;
                }
                return Tri::F;
            }
            let (fa, fb) = match (float(g, &pt, self.budget), float(p, &pt, self.budget)) {
                (Ok(a), Ok(b)) => (a, b),
                (Err(e), _) | (_, Err(e)) => return e.into(),
            };
            if fa.is_finite() && fb.is_finite() {
                let t = if approx { tol.max(1e-8) } else { 1e-8 };
                let within_unit = unit_f.is_none_or(|u| {
                    let d = C64 {
                        re: fa.re - fb.re,
                        im: fa.im - fb.im,
                    };
                    d.abs() <= u * (1.0 + 1e-9)
                });
                if (close(fa, fb, t) && (within_unit || !approx))
                    || (approx && self.rounded_equal_float(fa, fb))
                {
                    ok += 1;
                    continue;
                }
                return Tri::F;
            }
            let inf = |c: C64| c.im == 0.0 && c.re.is_infinite();
            if inf(fa) && inf(fb) {
                if fa.re.signum() == fb.re.signum() && is_plain_infinity(g) && is_plain_infinity(p)
                {
                    ok += 1;
                    continue;
                }
                why = "overflow: value too large to compare".into();
                continue;
            }
            if fa.is_finite() != fb.is_finite()
                && (inf(fa) || inf(fb))
                && (is_plain_infinity(g) || is_plain_infinity(p))
            {
                return Tri::F;
            }
            why = if fa.re.is_nan() || fb.re.is_nan() {
                "undefined value (division by zero or outside the domain)".into()
            } else {
                "overflow: value too large to compare".into()
            };
        }
        if ok > 0 {
            Tri::T
        } else if why.is_empty() {
            Tri::F
        } else {
            Tri::U(why)
        }
    }
}

impl Ctx<'_> {
    /// Equal after rounding both to [`EquivOptions::precision`] decimal places (half away
    /// from zero); false when the option is off.
    fn rounded_equal_exact(&self, a: &BigRational, b: &BigRational) -> bool {
        let Some(k) = self.opts.precision else {
            return false;
        };
        let scale = BigRational::from_integer(BigInt::from(10).pow(k.min(60)));
        (a * &scale).round() == (b * &scale).round()
    }

    /// [`Self::rounded_equal_exact`] for floating-point values (real parts; imaginary parts
    /// must round alike too).
    fn rounded_equal_float(&self, a: C64, b: C64) -> bool {
        let Some(k) = self.opts.precision else {
            return false;
        };
        let scale = 10f64.powi(k.min(60) as i32);
        let r = |x: f64| (x * scale).round();
        r(a.re) == r(b.re) && r(a.im) == r(b.im)
    }
}

fn is_plain_infinity(n: &Node) -> bool {
    match n {
        Node::Const(Const::Inf) => true,
        Node::Neg(a) => is_plain_infinity(a),
        Node::Add(v) => v.iter().any(is_plain_infinity),
        Node::Mul(v) => v.iter().any(is_plain_infinity),
        _ => false,
    }
}

/// One unit in the last written decimal place of a bare approximate number (`2.37` -> `0.01`).
fn precision_unit(n: &Node) -> Option<BigRational> {
    match n {
        Node::Num {
            value,
            approx: true,
        } => {
            let mut d = value.denom().clone();
            let (two, five) = (BigInt::from(2), BigInt::from(5));
            let (mut a, mut b) = (0u32, 0u32);
            while (&d % &two).is_zero() && a < 4000 {
                d /= &two;
                a += 1;
            }
            while (&d % &five).is_zero() && b < 4000 {
                d /= &five;
                b += 1;
            }
            let k = a.max(b);
            Some(BigRational::new(BigInt::from(1), BigInt::from(10).pow(k)))
        }
        Node::Neg(a) => precision_unit(a),
        _ => None,
    }
}

fn diff(a: &Node, b: &Node) -> Node {
    Node::Add(vec![a.clone(), Node::Neg(Box::new(b.clone()))])
}

fn rational_from_f64(x: f64) -> BigRational {
    // tolerance as a decimal rational with 12 significant digits
    let scaled = (x * 1e12).round();
    if scaled.is_finite() && scaled >= 0.0 {
        BigRational::new(
            BigInt::from(scaled as i64),
            BigInt::from(1_000_000_000_000i64),
        )
    } else {
        BigRational::zero()
    }
}

#[allow(dead_code)]
fn key(n: &Node) -> String {
    node_key(n)
}

#[allow(dead_code)]
fn is_neg(q: &BigRational) -> bool {
    q.is_negative()
}
