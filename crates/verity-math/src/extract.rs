//! Answer extraction from model outputs and gold solutions.
//!
//! What it does: finds the final answer in a response: the last `\boxed{}` / `\fbox{}` (nested
//! braces; several boxes in the closing sentence are joined as a list), GSM8K's `#### N`, an
//! answer phrase ("final answer is", "the answer is", "Answer:", and the French/Spanish/German/
//! Chinese/Arabic/Hindi/Russian equivalents), a bare answer when the whole text is one, and the
//! last number as a fallback. `<think>…</think>` and `<|begin_of_thought|>…<|end_of_thought|>`
//! blocks are skipped. The rule that fired is reported.
//! Why: the verdict is only as good as the extracted answer; "which rule fired" is what makes
//! extraction errors auditable.
//! Known failure modes: the last-number fallback picks intermediate results when a response
//! ends with a check ("... 12 mois"); answer phrases followed by prose keep only the first
//! number-like token of the sentence.

use crate::budget::Budget;
use crate::parse::parse;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

/// Which extraction rule produced the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The last `\boxed{}` / `\fbox{}`.
    Boxed,
    /// Several boxes in the closing sentence, joined as a list.
    BoxedMulti,
    /// GSM8K `#### N`.
    HashMarks,
    /// An answer phrase ("the final answer is", "Answer:").
    AnswerPhrase,
    /// The whole text is a bare answer.
    Whole,
    /// The last `$...$` / `\\(...\\)` / `\\[...\\]` math span (when it ends after the last number).
    LastMath,
    /// The last number in the text.
    LastNumber,
    /// A multiple-choice letter (`choice` verifier).
    Letter,
    /// A user regex capture (`regex` verifier).
    Regex,
    /// Nothing found.
    None,
}

impl Rule {
    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Boxed => "boxed",
            Rule::BoxedMulti => "boxed_multi",
            Rule::HashMarks => "hash_marks",
            Rule::AnswerPhrase => "answer_phrase",
            Rule::Whole => "whole",
            Rule::LastMath => "last_math",
            Rule::LastNumber => "last_number",
            Rule::Letter => "letter",
            Rule::Regex => "regex",
            Rule::None => "none",
        }
    }
}

/// An extracted answer and the rule that produced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extracted {
    /// The answer text, if any.
    pub answer: Option<String>,
    /// Rule that fired.
    pub rule: Rule,
    /// Boxes joined by "or" (`\boxed{15\frac{39}{40}}, or \boxed{\frac{639}{40}}`): the
    /// response offers alternative forms; it is equivalent only if every one is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<String>,
}

impl Extracted {
    /// An answer found by `rule`.
    pub fn new(a: impl Into<String>, rule: Rule) -> Self {
        Extracted {
            answer: Some(a.into()),
            rule,
            alternatives: Vec::new(),
        }
    }
    /// No answer.
    pub fn none() -> Self {
        Extracted {
            answer: None,
            rule: Rule::None,
            alternatives: Vec::new(),
        }
    }
}

/// What to do with a think block that is opened but never closed (a truncated response).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum UnclosedThink {
    /// Search inside it anyway (default; what the Qwen2.5-Math harness does).
    #[default]
    Search,
    /// Treat the response as having no answer.
    NoAnswer,
}

/// Extraction options. `Default` gives the documented defaults.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExtractOptions {
    /// Skip closed think blocks (default true).
    pub skip_think: bool,
    /// Policy for unclosed think blocks (default [`UnclosedThink::Search`]).
    pub unclosed_think: UnclosedThink,
    /// Use answer phrases (default true).
    pub answer_phrases: bool,
    /// Fall back to the last number in the text (default true).
    pub last_number: bool,
    /// Join several boxes in the closing sentence into a list (default true).
    pub join_boxes: bool,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        ExtractOptions {
            skip_think: true,
            unclosed_think: UnclosedThink::Search,
            answer_phrases: true,
            last_number: true,
            join_boxes: true,
        }
    }
}

const THINK_PAIRS: &[(&str, &str)] = &[
    ("<think>", "</think>"),
    ("<|begin_of_thought|>", "<|end_of_thought|>"),
];

/// The part of the response after any think block; `None` when a think block is unclosed
/// and the policy says "no answer".
pub fn strip_think<'a>(text: &'a str, opts: &ExtractOptions) -> Option<&'a str> {
    if !opts.skip_think {
        return Some(text);
    }
    for (open, close) in THINK_PAIRS {
        if let Some(i) = text.rfind(close) {
            return Some(&text[i + close.len()..]);
        }
        if text.contains(open) && opts.unclosed_think == UnclosedThink::NoAnswer {
            return None;
        }
    }
    Some(text)
}

/// Content of a balanced `{...}` starting at byte `open` (which must be `{`).
fn balanced(text: &str, open: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    if b.get(open) != Some(&b'{') {
        return None;
    }
    let mut depth = 0usize;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                i += 2;
                continue;
            }
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some((open + 1, i));
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// All boxed answers as (start of command, end of content, content).
fn boxes(text: &str) -> Vec<(usize, usize, &str)> {
    let mut out = Vec::new();
    for name in ["\\boxed", "\\fbox"] {
        let mut from = 0;
        while let Some(rel) = text[from..].find(name) {
            let start = from + rel;
            let mut q = start + name.len();
            from = q;
            let b = text.as_bytes();
            if b.get(q).is_some_and(|c| c.is_ascii_alphabetic()) {
                continue;
            }
            while b.get(q) == Some(&b' ') {
                q += 1;
            }
            if b.get(q) == Some(&b'{') {
                if let Some((s, e)) = balanced(text, q) {
                    out.push((start, e + 1, &text[s..e]));
                    from = e + 1;
                }
            } else if q > start + name.len() {
                // `\boxed 5`
                let e = text[q..]
                    .find(|c: char| c.is_whitespace() || c == '$')
                    .map_or(text.len(), |k| q + k);
                if e > q {
                    out.push((start, e, &text[q..e]));
                }
            }
        }
    }
    out.sort_by_key(|x| x.0);
    out
}

fn is_or(between: &str) -> bool {
    let t = between.to_ascii_lowercase();
    t.contains("or") && !t.contains("and")
}

fn is_connector(between: &str) -> bool {
    let t = between
        .replace("\\text", "")
        .replace("\\quad", "")
        .replace("\\,", "")
        .replace(['{', '}', '$', '(', ')', '\\', ' ', ',', ';'], "");
    let mut t = t.trim().to_ascii_lowercase();
    // `\boxed{-2}$, $n = \boxed{0}`: the same one-letter label before each box
    if let Some(rest) = t.strip_suffix('=') {
        let mut rest = rest.to_string();
        if rest.ends_with(|c: char| c.is_ascii_alphabetic()) {
            rest.pop();
            t = rest;
        }
    }
    t.is_empty() || t == "and" || t == "or"
}

fn find_boxed(text: &str, opts: &ExtractOptions) -> Option<Extracted> {
    let bx = boxes(text);
    let last = bx.last()?;
    if opts.join_boxes && bx.len() > 1 {
        let mut parts = vec![last.2.trim()];
        let mut cur = last.0;
        let mut all_or = true;
        for b in bx.iter().rev().skip(1) {
            if b.1 <= cur && cur - b.1 <= 40 && is_connector(&text[b.1..cur]) {
                all_or &= is_or(&text[b.1..cur]);
                parts.push(b.2.trim());
                cur = b.0;
            } else {
                break;
            }
        }
        if parts.len() > 1 {
            parts.reverse();
            let mut x = Extracted::new(parts.join(", "), Rule::BoxedMulti);
            if all_or {
                x.alternatives = parts.iter().map(|p| p.to_string()).collect();
            }
            return Some(x);
        }
    }
    Some(Extracted::new(last.2.trim(), Rule::Boxed))
}

fn find_hash(text: &str) -> Option<Extracted> {
    let i = text.rfind("####")?;
    let rest = text[i + 4..].trim_start();
    let line = rest.lines().next().unwrap_or("").trim();
    if line.is_empty() {
        return None;
    }
    Some(Extracted::new(line, Rule::HashMarks))
}

/// Answer anchors, lowercase. Longer, more specific phrases first.
const ANCHORS: &[&str] = &[
    "final answer is",
    "final answer:",
    "the answer is",
    "answer is",
    "answer:",
    "réponse finale est",
    "réponse est",
    "réponse :",
    "réponse:",
    "la respuesta es",
    "respuesta:",
    "die antwort ist",
    "antwort:",
    "ответ:",
    "答案是",
    "答案：",
    "答案:",
    "答案为",
    "الإجابة",
    "الجواب",
    "उत्तर",
];

static NUMBER_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        \\[dt]?frac\{-?\d+(?:\.\d+)?\}\{-?\d+(?:\.\d+)?\}
        | \\[dt]?frac\d\d
        | -?\d+(?:,\d{3})*(?:\.\d+)?(?:\s*/\s*\d+(?:\.\d+)?)?(?:\s*\\?%)?
        | -?\.\d+(?:\s*\\?%)?
        ",
    )
    .unwrap_or_else(|_| Regex::new("$^").unwrap_or_else(|_| unreachable!()))
});

fn number_spans(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    NUMBER_RE.find_iter(text).map(move |m| {
        let (mut s, e) = (m.start(), m.end());
        // a minus right after a digit/letter/closing bracket is subtraction, not a sign
        if text.as_bytes()[s] == b'-' && s > 0 {
            let prev = text.as_bytes()[s - 1];
            if prev.is_ascii_alphanumeric() || prev == b')' || prev == b'}' {
                s += 1;
            }
        }
        (s, e)
    })
}

fn clean_number(s: &str) -> String {
    s.trim().to_string()
}

fn last_number(text: &str) -> Option<Extracted> {
    let (s, e) = number_spans(text).last()?;
    Some(Extracted::new(clean_number(&text[s..e]), Rule::LastNumber))
}

/// The last math span `$...$`, `$$...$$`, `\(...\)`, `\[...\]`: (start, end, inner).
fn last_math_span(text: &str) -> Option<(usize, usize, &str)> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut last = None;
    while i < b.len() {
        let (open_len, close): (usize, &str) = match b[i] {
            b'\\' if b.get(i + 1) == Some(&b'(') => (2, "\\)"),
            b'\\' if b.get(i + 1) == Some(&b'[') => (2, "\\]"),
            b'\\' => {
                i += 2;
                continue;
            }
            b'$' if b.get(i + 1) == Some(&b'$') => (2, "$$"),
            b'$' => (1, "$"),
            _ => {
                i += 1;
                continue;
            }
        };
        let start = i + open_len;
        match text[start..].find(close) {
            Some(k) => {
                let inner = text[start..start + k].trim();
                if !inner.is_empty() {
                    last = Some((i, start + k + close.len(), inner));
                }
                i = start + k + close.len();
            }
            None => break,
        }
    }
    last
}

fn first_math_span(s: &str) -> Option<&str> {
    // $...$ or \( ... \)
    if let Some(a) = s.find('$') {
        let inner_start = if s[a..].starts_with("$$") {
            a + 2
        } else {
            a + 1
        };
        if let Some(len) = s[inner_start..].find('$') {
            let inner = s[inner_start..inner_start + len].trim();
            if !inner.is_empty() {
                return Some(inner);
            }
        }
    }
    if let Some(a) = s.find("\\(") {
        if let Some(len) = s[a + 2..].find("\\)") {
            return Some(s[a + 2..a + 2 + len].trim());
        }
    }
    if let Some(a) = s.find("\\[") {
        if let Some(len) = s[a + 2..].find("\\]") {
            return Some(s[a + 2..a + 2 + len].trim());
        }
    }
    None
}

/// Heuristic: does the text read as prose rather than a bare answer?
pub fn looks_like_prose(s: &str) -> bool {
    let mut words = 0;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c >= 0x80 {
            // non-ASCII letters (CJK, Arabic, Devanagari...) are prose
            let ch = s[i..].chars().next().unwrap_or(' ');
            if ch.is_alphabetic()
                && !matches!(ch, 'π' | 'θ' | 'α' | 'β' | 'γ' | 'λ' | 'μ' | 'ω' | 'φ')
            {
                return true;
            }
            i += ch.len_utf8();
            continue;
        }
        if c == b'\\' {
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_alphabetic() {
                j += 1;
            }
            let name = &s[i + 1..j];
            if matches!(
                name,
                "text" | "mathrm" | "textbf" | "mbox" | "begin" | "end"
            ) && b.get(j) == Some(&b'{')
            {
                if let Some(k) = s[j..].find('}') {
                    i = j + k + 1;
                    continue;
                }
            }
            i = j.max(i + 1);
            continue;
        }
        if c.is_ascii_alphabetic() {
            let mut j = i;
            while j < b.len() && b[j].is_ascii_alphabetic() {
                j += 1;
            }
            if j - i >= 3
                && !matches!(
                    &s[i..j],
                    "sin"
                        | "cos"
                        | "tan"
                        | "log"
                        | "exp"
                        | "sqrt"
                        | "frac"
                        | "and"
                        | "sec"
                        | "csc"
                        | "cot"
                        | "inf"
                        | "pi"
                )
            {
                words += 1;
            }
            i = j;
            continue;
        }
        i += 1;
    }
    words >= 2 || consecutive_words(s)
}

/// Two whitespace-separated alphabetic tokens of two or more letters in a row ("So we get").
fn consecutive_words(s: &str) -> bool {
    let is_word = |t: &str| {
        t.len() >= 2
            && t.bytes().all(|c| c.is_ascii_alphabetic())
            && !matches!(
                t,
                "sin" | "cos" | "tan" | "log" | "ln" | "exp" | "and" | "or" | "pi"
            )
    };
    let mut prev = false;
    for tok in s.split_whitespace() {
        let w = is_word(tok.trim_end_matches([',', '.', ':', ';']));
        if w && prev {
            return true;
        }
        prev = w;
    }
    false
}

fn find_phrase(text: &str) -> Option<Extracted> {
    let lower = text.to_lowercase();
    if lower.len() != text.len() {
        // lowercasing changed byte offsets (rare scripts): fall back to ASCII lowercasing
        return find_phrase_in(text, &text.to_ascii_lowercase());
    }
    find_phrase_in(text, &lower)
}

fn find_phrase_in(text: &str, lower: &str) -> Option<Extracted> {
    let mut best: Option<(usize, usize)> = None;
    for a in ANCHORS {
        if let Some(i) = lower.rfind(a) {
            let end = i + a.len();
            if best.is_none_or(|(bi, _)| i > bi) {
                best = Some((i, end));
            }
        }
    }
    let (_, end) = best?;
    let mut rest = text.get(end..)?;
    // stop at the end of the line
    if let Some(nl) = rest.find("\n\n") {
        rest = &rest[..nl];
    }
    let mut rest = rest.trim_start();
    for lead in [
        "**", ":", "：", "is", "est", "es", "ist", "为", "是", "=", "**",
    ] {
        rest = rest.strip_prefix(lead).unwrap_or(rest).trim_start();
    }
    if rest.len() > 400 {
        let mut cut = 400;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        rest = &rest[..cut];
    }
    if let Some(m) = first_math_span(rest) {
        return Some(Extracted::new(m, Rule::AnswerPhrase));
    }
    // up to the end of the sentence
    let mut cand = rest.lines().next().unwrap_or("").trim();
    if let Some(k) = cand.find(". ") {
        cand = &cand[..k];
    }
    let cand = cand
        .trim_end_matches(['.', '。', '*', ' '])
        .trim_start_matches(['*', ' '])
        .trim();
    if cand.is_empty() {
        return None;
    }
    if !looks_like_prose(cand) && cand.len() <= 200 {
        return Some(Extracted::new(cand, Rule::AnswerPhrase));
    }
    // first number-like token of the sentence
    let (s, e) = number_spans(cand).next()?;
    Some(Extracted::new(
        clean_number(&cand[s..e]),
        Rule::AnswerPhrase,
    ))
}

fn whole(text: &str) -> Option<Extracted> {
    let t = text.trim();
    if t.is_empty() || t.len() > 300 || looks_like_prose(t) {
        return None;
    }
    let budget = Budget::new(20_000);
    if parse(t, &budget).is_ok() {
        return Some(Extracted::new(t, Rule::Whole));
    }
    None
}

/// Extract the final answer from a model response.
pub fn extract_pred(text: &str, opts: &ExtractOptions) -> Extracted {
    let Some(body) = strip_think(text, opts) else {
        return Extracted::none();
    };
    let body = body
        .trim()
        .trim_start_matches("<|begin_of_solution|>")
        .trim_end_matches("<|end_of_solution|>");
    if let Some(x) = find_boxed(body, opts) {
        return x;
    }
    if let Some(x) = find_hash(body) {
        return x;
    }
    if let Some(x) = whole(body) {
        return x;
    }
    if opts.answer_phrases {
        if let Some(x) = find_phrase(body) {
            return x;
        }
    }
    if opts.last_number {
        let num = number_spans(body).last();
        if let Some((_, end, inner)) = last_math_span(body) {
            if num.is_none_or(|(_, ne)| ne <= end)
                && !looks_like_prose(inner)
                && parse(inner, &Budget::new(20_000)).is_ok()
            {
                return Extracted::new(inner, Rule::LastMath);
            }
        }
        if let Some(x) = last_number(body) {
            return x;
        }
    }
    Extracted::none()
}

/// Extract the reference answer from a gold field (a bare answer or a full solution).
pub fn extract_gold(text: &str, opts: &ExtractOptions) -> Extracted {
    let t = text.trim();
    if let Some(x) = find_boxed(t, opts) {
        return x;
    }
    if let Some(x) = find_hash(t) {
        return x;
    }
    if t.is_empty() {
        return Extracted::none();
    }
    if looks_like_prose(t) && t.len() > 60 {
        if let Some(x) = find_phrase(t) {
            return x;
        }
    }
    Extracted::new(t, Rule::Whole)
}
