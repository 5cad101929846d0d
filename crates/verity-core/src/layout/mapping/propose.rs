//! A proposed [`FieldMap`] for rows no layout recognises, built from the field names and what
//! the values look like (strings, lists of strings, booleans, numbers). `verity inspect` prints
//! it as a `--map` value; it is a starting point for the user to check, not a guarantee.

use super::FieldMap;
use crate::layout::ID_FIELDS;
use crate::record::Fields;
use serde_json::Value;

const PROMPT: &[&str] = &[
    "prompt",
    "question",
    "problem",
    "query",
    "instruction",
    "q",
    "input",
    "text",
    "context",
];
const ANSWER: &[&str] = &[
    "answer",
    "gt",
    "gold",
    "ground_truth",
    "gold_answer",
    "target",
    "final_answer",
    "expected_answer",
    "reference",
    "a",
];
const SOLUTION: &[&str] = &["solution", "gt_cot", "rationale", "explanation"];
const RESPONSE: &[&str] = &[
    "response",
    "responses",
    "output",
    "outputs",
    "completion",
    "completions",
    "generation",
    "generations",
    "model_output",
    "model_patch",
    "prediction",
    "predictions",
    "code",
];
const TRACE: &[&str] = &["trace", "reasoning", "thinking", "cot", "chain_of_thought"];
const PRED: &[&str] = &[
    "pred",
    "preds",
    "extracted_answer",
    "model_answer",
    "parsed_answer",
];
const GRADE: &[&str] = &[
    "score",
    "scores",
    "correct",
    "is_correct",
    "correctness",
    "expected",
    "reward",
    "rewards",
    "win",
    "passed",
    "accuracy",
];
const TOOLS: &[&str] = &["tools", "api_list", "functions"];
const MODEL: &[&str] = &["model", "model_name", "model_name_or_path", "generator"];
const SOURCE: &[&str] = &["source", "dataset", "data_source"];

/// What the values of one field look like across the sampled rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    TextList,
    Grade,
    GradeList,
    Other,
}

fn is_text(v: &Value) -> bool {
    v.is_string() || v.is_null()
}

fn is_grade(v: &Value) -> bool {
    v.is_boolean() || v.is_number() || v.is_null()
}

fn kind_of(rows: &[Fields], field: &str) -> Option<Kind> {
    let values: Vec<&Value> = rows.iter().filter_map(|r| r.get(field)).collect();
    if values.is_empty() || values.iter().all(|v| v.is_null()) {
        return None;
    }
    let all = |f: &dyn Fn(&Value) -> bool| values.iter().all(|v| f(v));
    let list_of = |f: fn(&Value) -> bool| {
        all(&|v: &Value| v.is_null() || v.as_array().is_some_and(|a| a.iter().all(f)))
    };
    Some(if all(&|v: &Value| is_text(v)) {
        Kind::Text
    } else if all(&|v: &Value| is_grade(v)) {
        Kind::Grade
    } else if list_of(is_text) {
        Kind::TextList
    } else if list_of(is_grade) {
        Kind::GradeList
    } else {
        Kind::Other
    })
}

/// The number of entries of a list field in the first row that has it.
fn list_len(rows: &[Fields], field: &str) -> Option<usize> {
    rows.iter()
        .find_map(|r| r.get(field).and_then(Value::as_array))
        .map(Vec::len)
}

/// Propose a mapping for `rows` (the first rows of a file). `None` when nothing fits (no field
/// that could be a prompt, an answer or a response).
pub fn propose(rows: &[Fields]) -> Option<FieldMap> {
    let mut used: Vec<String> = Vec::new();
    let mut pick = |names: &[&str], ok: &dyn Fn(Kind) -> bool| -> Option<String> {
        let found = names
            .iter()
            .find(|n| !used.iter().any(|u| u == *n) && kind_of(rows, n).is_some_and(ok))?;
        used.push(found.to_string());
        Some(found.to_string())
    };
    let text = |k: Kind| k == Kind::Text;
    let text_or_grade = |k: Kind| matches!(k, Kind::Text | Kind::Grade);
    let text_or_list = |k: Kind| matches!(k, Kind::Text | Kind::TextList);
    let mut map = FieldMap {
        id: pick(ID_FIELDS, &text_or_grade),
        ..FieldMap::default()
    };
    if let Some(p) = pick(PROMPT, &text) {
        map.prompt.push(p.clone());
        if p == "instruction" {
            map.prompt.extend(pick(&["input"], &text));
        }
    }
    map.answer = pick(ANSWER, &text_or_grade);
    map.solution = pick(SOLUTION, &text);
    map.response = pick(RESPONSE, &text_or_list);
    let listed = map
        .response
        .as_deref()
        .is_some_and(|r| kind_of(rows, r) == Some(Kind::TextList));
    let n = map.response.as_deref().and_then(|r| list_len(rows, r));
    // Attempt fields must be shaped like the responses: lists of the same length, or scalars.
    let shaped = |field: &str, list: Kind, scalar: Kind| {
        let kind = kind_of(rows, field);
        if listed {
            kind == Some(list) && list_len(rows, field) == n
        } else {
            kind == Some(scalar)
        }
    };
    map.trace = pick(TRACE, &|_: Kind| true).filter(|f| shaped(f, Kind::TextList, Kind::Text));
    map.pred = pick(PRED, &|_: Kind| true).filter(|f| shaped(f, Kind::TextList, Kind::Text));
    for name in GRADE {
        if shaped(name, Kind::GradeList, Kind::Grade) && !used.iter().any(|u| u == name) {
            map.grade.push(name.to_string());
        }
    }
    let mut pick_more = |names: &[&str], ok: &dyn Fn(Kind) -> bool| -> Option<String> {
        names
            .iter()
            .find(|n| !used.iter().any(|u| u == *n) && kind_of(rows, n).is_some_and(ok))
            .map(|n| {
                used.push(n.to_string());
                n.to_string()
            })
    };
    map.tools = pick_more(TOOLS, &|k: Kind| k != Kind::Text);
    map.model = pick_more(MODEL, &text);
    map.source = pick_more(SOURCE, &text);
    let useful = !map.prompt.is_empty() || map.answer.is_some() || map.response.is_some();
    useful.then_some(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows(values: &[Value]) -> Vec<Fields> {
        values
            .iter()
            .map(|v| serde_json::from_value(v.clone()).unwrap())
            .collect()
    }

    #[test]
    fn tora_layout_gets_lists_for_the_attempt_fields() {
        let r = rows(&[json!({
            "idx": 0, "question": "1+1?", "gt": "2", "gt_cot": "one and one",
            "code": ["a \\boxed{2}", "b \\boxed{3}"], "pred": ["2", "3"],
            "report": [null, null], "score": [true, false]
        })]);
        let map = propose(&r).unwrap();
        assert_eq!(
            map.to_arg(),
            "id=idx,prompt=question,answer=gt,solution=gt_cot,response=code,pred=pred,grade=score"
        );
    }

    #[test]
    fn alpaca_joins_instruction_and_input_and_scalars_stay_scalars() {
        let r = rows(&[
            json!({"instruction": "Add", "input": "1 and 2", "output": "3", "correct": true}),
        ]);
        let map = propose(&r).unwrap();
        assert_eq!(
            map.to_arg(),
            "prompt=instruction,prompt=input,response=output,grade=correct"
        );
    }

    #[test]
    fn a_list_grade_of_another_length_is_not_proposed() {
        let r = rows(&[json!({"q": "x", "outputs": ["a", "b"], "score": [true]})]);
        let map = propose(&r).unwrap();
        assert!(map.grade.is_empty());
        assert_eq!(map.response.as_deref(), Some("outputs"));
    }

    #[test]
    fn nothing_useful_is_none() {
        assert_eq!(propose(&rows(&[json!({"zzz": 1, "yyy": [1, 2]})])), None);
        assert_eq!(propose(&[]), None);
    }
}
