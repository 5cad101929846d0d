//! `math_aps`: MATH-APS (OmegaPRM-style automated process supervision, as shipped by OpenR):
//! `question, final_answer, reasoning_steps, question_id`. Two variants:
//! - flat: `reasoning_steps: [{solution_prefix, mc_value}]`, every entry a *prefix* of some
//!   rollout (starting with the question) with its Monte-Carlo value;
//! - tree: `reasoning_steps: {text, mc_value, children: [...]}`, the search tree itself (the
//!   root's text is the question).
//!
//! What it does: a `step_labeled_trace` whose steps carry the Monte-Carlo values (`score` and
//! `raw_label` = `mc_value`; label good when the value is > 0, bad when it is 0).
//! - Flat: one attempt per prefix, holding one step: the prefix text after the question
//!   (exactly: the question is stripped only when the prefix starts with it; the prefix entry
//!   that is the question alone gives an empty step). The entries are not one chain (they are
//!   the nodes of a search tree in visit order), so they are not merged into a single trace.
//!   Written back exactly (question + step text).
//! - Tree: one attempt per root-to-leaf path, one step per node below the root. Flattening
//!   loses the sharing of prefixes, so the tree is ALSO kept verbatim in `meta`
//!   (`reasoning_steps`) and written back from there; the attempts are a derived view.
//!
//! Known failure modes: a flat entry without `solution_prefix` or a tree node without `text`
//! is a `FieldError` naming it; trees deeper than 256 levels are cut there (no recursion limit
//! hit on hostile input).

use super::grades::{key_order, opt_text, req_text, same_layout};
use super::{Layout, RowContext};
use crate::error::FieldError;
use crate::record::{Attempt, Fields, ObjectKind, Record, Step, StepLabel};
use serde_json::{json, Value};

/// MATH-APS rows (flat and tree).
pub struct MathAps;

const MAX_DEPTH: usize = 256;

fn value_step(text: String, mc: Option<&Value>) -> Step {
    let score = mc.and_then(Value::as_f64);
    Step {
        text,
        label: score.map(|s| {
            if s > 0.0 {
                StepLabel::Good
            } else {
                StepLabel::Bad
            }
        }),
        score,
        raw_label: mc.cloned(),
    }
}

/// Root-to-leaf paths of a tree node's children, as step lists.
fn tree_paths(
    node: &Value,
    prefix: &mut Vec<Step>,
    out: &mut Vec<Vec<Step>>,
    field: &str,
) -> Result<(), FieldError> {
    let children = node.get("children").and_then(Value::as_array);
    match children {
        Some(children) if !children.is_empty() && prefix.len() < MAX_DEPTH => {
            for (i, child) in children.iter().enumerate() {
                let child_field = format!("{field}.children[{i}]");
                let text = child
                    .get("text")
                    .and_then(Value::as_str)
                    .ok_or_else(|| FieldError::missing(format!("{child_field}.text")))?;
                prefix.push(value_step(text.to_string(), child.get("mc_value")));
                tree_paths(child, prefix, out, &child_field)?;
                prefix.pop();
            }
        }
        _ => {
            if !prefix.is_empty() {
                out.push(prefix.clone());
            }
        }
    }
    Ok(())
}

impl Layout for MathAps {
    fn name(&self) -> &'static str {
        "math_aps"
    }

    fn description(&self) -> &'static str {
        "MATH-APS: {question, final_answer, reasoning_steps[{solution_prefix, mc_value}] or tree}"
    }

    fn detect(&self, row: &Fields) -> u8 {
        let base = row.get("question").is_some_and(Value::is_string)
            && row.contains_key("reasoning_steps");
        let flat = row
            .get("reasoning_steps")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().all(|e| e.get("solution_prefix").is_some()));
        let tree = row
            .get("reasoning_steps")
            .is_some_and(|t| t.get("children").is_some() && t.get("mc_value").is_some());
        if base && (flat || tree) {
            95
        } else {
            0
        }
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let mut record = Record::new("", ObjectKind::StepLabeledTrace);
        record.lineage.fields = key_order(&row);
        let question = req_text(&mut row, "question", &mut record.meta)?;
        record.task.domain = Some("math".into());
        record.task.reference.answer = opt_text(&mut row, "final_answer", &mut record.meta)?;
        match row.get("reasoning_steps") {
            Some(Value::Array(entries)) => {
                let mut all_stripped = true;
                for (i, entry) in entries.iter().enumerate() {
                    let field = format!("reasoning_steps[{i}]");
                    let prefix = entry
                        .get("solution_prefix")
                        .and_then(Value::as_str)
                        .ok_or_else(|| FieldError::missing(format!("{field}.solution_prefix")))?;
                    let extra = entry.as_object().is_some_and(|o| {
                        o.keys().any(|k| k != "solution_prefix" && k != "mc_value")
                    });
                    if extra {
                        return Err(FieldError::new(
                            field,
                            "has keys other than solution_prefix and mc_value",
                        ));
                    }
                    // Exact: the question is stripped only when the prefix starts with it.
                    let (text, stripped) = match prefix.strip_prefix(question.as_str()) {
                        Some(rest) => (rest.to_string(), true),
                        None => (prefix.to_string(), false),
                    };
                    all_stripped &= stripped;
                    record.attempts.push(Attempt {
                        steps: vec![value_step(text, entry.get("mc_value"))],
                        ..Attempt::default()
                    });
                }
                // A prefix that does not start with the question cannot be rebuilt from the
                // step: keep the list verbatim in meta then (like the tree).
                if !all_stripped {
                    // left in `row`, moved to meta below
                } else {
                    row.remove("reasoning_steps");
                }
            }
            Some(tree @ Value::Object(_)) => {
                let mut paths = Vec::new();
                tree_paths(tree, &mut Vec::new(), &mut paths, "reasoning_steps")?;
                for steps in paths {
                    record.attempts.push(Attempt {
                        steps,
                        ..Attempt::default()
                    });
                }
                // The tree stays verbatim in meta (see the module doc).
            }
            Some(other) => {
                return Err(FieldError::wrong_type(
                    "reasoning_steps",
                    "an array or a tree object",
                    other,
                ))
            }
            None => return Err(FieldError::missing("reasoning_steps")),
        }
        record.task.prompt = Some(question);
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let question = record
            .problem_text()
            .ok_or_else(|| FieldError::missing("task.prompt"))?;
        let mut row = Fields::new();
        row.insert("question".into(), Value::String(question.to_string()));
        let same = same_layout(record, self.name());
        if !same || record.lineage.fields.iter().any(|f| f == "final_answer") {
            row.insert(
                "final_answer".into(),
                record
                    .task
                    .reference
                    .answer
                    .clone()
                    .map_or(Value::Null, Value::String),
            );
        }
        if same_layout(record, self.name()) && record.meta.contains_key("reasoning_steps") {
            // Tree variant (or prefixes without the question): restored from meta.
            return Ok(row);
        }
        let mut entries = Vec::new();
        for attempt in &record.attempts {
            if same_layout(record, self.name()) && attempt.steps.len() == 1 {
                let step = &attempt.steps[0];
                let mut entry = Fields::new();
                entry.insert(
                    "solution_prefix".into(),
                    Value::String(format!("{question}{}", step.text)),
                );
                if let Some(mc) = &step.raw_label {
                    entry.insert("mc_value".into(), mc.clone());
                }
                entries.push(Value::Object(entry));
                continue;
            }
            // From another layout: one entry per step prefix, valued by the step's score or label.
            let mut text = question.to_string();
            for step in &attempt.steps {
                text.push_str("\n\n");
                text.push_str(&step.text);
                let mc = match (step.score, step.label) {
                    (Some(score), _) => json!(score),
                    (None, Some(StepLabel::Bad)) => json!(0.0),
                    (None, Some(_)) => json!(1.0),
                    (None, None) => Value::Null,
                };
                entries.push(json!({"solution_prefix": text.clone(), "mc_value": mc}));
            }
        }
        if entries.is_empty() && !same {
            return Err(FieldError::missing("attempts[].steps"));
        }
        row.insert("reasoning_steps".into(), Value::Array(entries));
        Ok(row)
    }
}
