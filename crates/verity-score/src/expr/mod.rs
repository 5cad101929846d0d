//! The selection expression language.
//!
//! What it does: parses expressions such as
//! `pass_rate > 0 and pass_rate < 0.8 and not truncated` into an AST and evaluates them on a
//! record. Grammar (lowest precedence first):
//!
//! ```text
//! expr    := or
//! or      := and ("or" and)*
//! and     := not ("and" not)*
//! not     := "not" not | compare
//! compare := sum (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in") sum)?
//! sum     := product (("+" | "-") product)*
//! product := unary (("*" | "/") unary)*
//! unary   := "-" unary | primary
//! primary := NUMBER | STRING | true | false | null | "[" (expr ("," expr)*)? "]"
//!          | NAME "(" (expr ("," expr)*)? ")" | path | "(" expr ")"
//! path    := NAME ("." NAME | "[" INT "]")*
//! ```
//!
//! Names resolve as described in [`resolve_path`]. Functions: `len`, `lower`, `upper`,
//! `contains`, `starts_with`, `ends_with`, `has`, `abs`, `min`, `max`, `round`.
//!
//! Why: selection criteria belong in recipes and command lines as text, reviewable and stored
//! verbatim in the ledger.
//!
//! Known failure modes: a missing field evaluates to `null`; comparisons with `null` are false
//! and `not null` is true, so `not truncated` keeps records that were never scored. Write
//! `has(truncated) and not truncated` to require the signal. Parse errors name the column.

mod parse;

pub use parse::parse;

use serde_json::{json, Value};
use std::borrow::Cow;
use verity_core::record::Record;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A literal.
    Literal(Value),
    /// A field path.
    Path(String),
    /// A list literal.
    List(Vec<Expr>),
    /// `not x`.
    Not(Box<Expr>),
    /// `-x`.
    Neg(Box<Expr>),
    /// `a and b`.
    And(Box<Expr>, Box<Expr>),
    /// `a or b`.
    Or(Box<Expr>, Box<Expr>),
    /// A comparison or arithmetic operation.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// A function call.
    Call(String, Vec<Expr>),
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`
    In,
    /// `not in`
    NotIn,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

/// Function names accepted by the parser.
pub const FUNCTIONS: &[&str] = &[
    "len",
    "lower",
    "upper",
    "contains",
    "starts_with",
    "ends_with",
    "has",
    "abs",
    "min",
    "max",
    "round",
];

/// Resolve a field path on a record.
///
/// - Explicit roots: `id`, `object`, `signals.X`, `task.X`, `lineage.X`, `meta.X`,
///   `attempts[i].X`, and `attempt.X` (= `attempts[0].X`).
/// - Shorthands: `problem` (the problem text), `domain` (`task.domain`), `source`
///   (`task.source.dataset`), `reference` (`task.reference.answer`), `answer` (the first
///   attempt's answer), `attempt_count` (number of attempts).
/// - Any other bare name: `signals.NAME`, else the first attempt's `signals.NAME`, else
///   `meta.NAME`.
pub fn resolve_path(record: &Record, path: &str) -> Option<Value> {
    let (head, rest) = split_head(path);
    let root: Cow<'_, Value> = match head {
        "id" => Cow::Owned(json!(record.id)),
        "object" => Cow::Owned(json!(record.object.as_str())),
        "problem" => Cow::Owned(record.problem_text().map_or(Value::Null, |p| json!(p))),
        "domain" => Cow::Owned(
            record
                .task
                .domain
                .as_ref()
                .map_or(Value::Null, |d| json!(d)),
        ),
        "source" => Cow::Owned(
            record
                .task
                .source
                .dataset
                .as_ref()
                .map_or(Value::Null, |d| json!(d)),
        ),
        "reference" => Cow::Owned(
            record
                .task
                .reference
                .answer
                .as_ref()
                .map_or(Value::Null, |d| json!(d)),
        ),
        "answer" => Cow::Owned(
            record
                .attempts
                .first()
                .and_then(|a| a.answer.as_ref())
                .map_or(Value::Null, |d| json!(d)),
        ),
        "attempt_count" => Cow::Owned(json!(record.attempts.len())),
        "signals" => Cow::Owned(Value::Object(record.signals.to_map())),
        "meta" => Cow::Owned(Value::Object(record.meta.clone())),
        "task" => Cow::Owned(serde_json::to_value(&record.task).ok()?),
        "lineage" => Cow::Owned(serde_json::to_value(&record.lineage).ok()?),
        "attempts" => Cow::Owned(serde_json::to_value(&record.attempts).ok()?),
        "attempt" => Cow::Owned(serde_json::to_value(record.attempts.first()?).ok()?),
        name => {
            let found = record
                .signals
                .get(name)
                .or_else(|| record.attempts.first().and_then(|a| a.signals.get(name)))
                .or_else(|| record.meta.get(name))?;
            Cow::Owned(found.clone())
        }
    };
    walk(&root, rest).cloned()
}

fn split_head(path: &str) -> (&str, &str) {
    let end = path.find(['.', '[']).unwrap_or(path.len());
    (&path[..end], &path[end..])
}

fn walk<'a>(mut value: &'a Value, mut rest: &str) -> Option<&'a Value> {
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            value = value.get(&r[..end])?;
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let index: usize = r[..end].trim().parse().ok()?;
            value = value.get(index)?;
            rest = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(value)
}

/// Truthiness: `null`, `false`, `0`, `""`, `[]` and `{}` are false.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (num(a), num(b)) {
        (Some(x), Some(y)) if !a.is_boolean() && !b.is_boolean() => x == y,
        _ => a == b,
    }
}

fn number(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

impl Expr {
    /// Evaluate on `record`; paths that resolve to nothing are pushed to `missing`.
    pub fn eval_with(&self, record: &Record, missing: &mut Vec<String>) -> Value {
        match self {
            Expr::Literal(v) => v.clone(),
            Expr::Path(p) => match resolve_path(record, p) {
                Some(v) => v,
                None => {
                    missing.push(p.clone());
                    Value::Null
                }
            },
            Expr::List(items) => {
                Value::Array(items.iter().map(|e| e.eval_with(record, missing)).collect())
            }
            Expr::Not(e) => Value::Bool(!truthy(&e.eval_with(record, missing))),
            Expr::Neg(e) => num(&e.eval_with(record, missing)).map_or(Value::Null, |x| number(-x)),
            Expr::And(a, b) => Value::Bool(
                truthy(&a.eval_with(record, missing)) && truthy(&b.eval_with(record, missing)),
            ),
            Expr::Or(a, b) => Value::Bool(
                truthy(&a.eval_with(record, missing)) || truthy(&b.eval_with(record, missing)),
            ),
            Expr::Binary(op, a, b) => {
                let (x, y) = (a.eval_with(record, missing), b.eval_with(record, missing));
                binary(*op, &x, &y)
            }
            Expr::Call(name, args) => {
                if name == "has" {
                    let mut ignore = Vec::new();
                    return Value::Bool(
                        args.first()
                            .is_some_and(|a| !a.eval_with(record, &mut ignore).is_null()),
                    );
                }
                let values: Vec<Value> =
                    args.iter().map(|a| a.eval_with(record, missing)).collect();
                call(name, &values)
            }
        }
    }

    /// Evaluate on `record`.
    pub fn eval(&self, record: &Record) -> Value {
        self.eval_with(record, &mut Vec::new())
    }

    /// Whether `record` satisfies the expression.
    pub fn matches(&self, record: &Record) -> bool {
        truthy(&self.eval(record))
    }
}

fn binary(op: BinOp, x: &Value, y: &Value) -> Value {
    let cmp = |f: fn(f64, f64) -> bool| -> Value {
        match (num(x), num(y)) {
            (Some(a), Some(b)) => Value::Bool(f(a, b)),
            _ => match (x.as_str(), y.as_str()) {
                (Some(a), Some(b)) => Value::Bool(f(a.cmp(b) as i8 as f64, 0.0)),
                _ => Value::Bool(false),
            },
        }
    };
    let arith = |f: fn(f64, f64) -> f64| -> Value {
        match (num(x), num(y)) {
            (Some(a), Some(b)) => {
                let r = f(a, b);
                if r.is_finite() {
                    number(r)
                } else {
                    Value::Null
                }
            }
            _ => Value::Null,
        }
    };
    let member = || match y {
        Value::Array(items) => items.iter().any(|i| equal(i, x)),
        Value::String(s) => x.as_str().is_some_and(|sub| s.contains(sub)),
        Value::Object(o) => x.as_str().is_some_and(|k| o.contains_key(k)),
        _ => false,
    };
    match op {
        BinOp::Eq => Value::Bool(!x.is_null() && !y.is_null() && equal(x, y)),
        BinOp::Ne => Value::Bool(!x.is_null() && !y.is_null() && !equal(x, y)),
        BinOp::Lt => cmp(|a, b| a < b),
        BinOp::Le => cmp(|a, b| a <= b),
        BinOp::Gt => cmp(|a, b| a > b),
        BinOp::Ge => cmp(|a, b| a >= b),
        BinOp::In => Value::Bool(!x.is_null() && member()),
        BinOp::NotIn => Value::Bool(!x.is_null() && !y.is_null() && !member()),
        BinOp::Add => arith(|a, b| a + b),
        BinOp::Sub => arith(|a, b| a - b),
        BinOp::Mul => arith(|a, b| a * b),
        BinOp::Div => arith(|a, b| a / b),
    }
}

fn call(name: &str, args: &[Value]) -> Value {
    let first = args.first().unwrap_or(&Value::Null);
    let second = args.get(1).unwrap_or(&Value::Null);
    match name {
        "len" => match first {
            Value::String(s) => json!(s.chars().count()),
            Value::Array(a) => json!(a.len()),
            Value::Object(o) => json!(o.len()),
            _ => Value::Null,
        },
        "lower" => first
            .as_str()
            .map_or(Value::Null, |s| json!(s.to_lowercase())),
        "upper" => first
            .as_str()
            .map_or(Value::Null, |s| json!(s.to_uppercase())),
        "contains" => Value::Bool(match (first, second) {
            (Value::String(s), Value::String(sub)) => s.contains(sub.as_str()),
            (Value::Array(a), v) => a.iter().any(|i| equal(i, v)),
            (Value::Object(o), Value::String(k)) => o.contains_key(k),
            _ => false,
        }),
        "starts_with" => Value::Bool(
            matches!((first, second), (Value::String(s), Value::String(p)) if s.starts_with(p.as_str())),
        ),
        "ends_with" => Value::Bool(
            matches!((first, second), (Value::String(s), Value::String(p)) if s.ends_with(p.as_str())),
        ),
        "abs" => num(first).map_or(Value::Null, |x| number(x.abs())),
        "round" => num(first).map_or(Value::Null, |x| {
            let digits = num(second).unwrap_or(0.0).clamp(0.0, 12.0) as i32;
            let scale = 10f64.powi(digits);
            number((x * scale).round() / scale)
        }),
        "min" | "max" => {
            let nums: Vec<f64> = args.iter().filter_map(num).collect();
            if nums.is_empty() {
                return Value::Null;
            }
            let pick = if name == "min" {
                nums.iter().copied().fold(f64::INFINITY, f64::min)
            } else {
                nums.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            };
            number(pick)
        }
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests;
