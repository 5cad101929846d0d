//! Field mappings and the layouts that are plain mappings, on real rows.

use serde_json::{json, Value};
use verity_core::layout::mapping::{FieldMap, Mapping};
use verity_core::layout::{self, read_row, write_row, Layout, RowContext};
use verity_core::record::{Fields, ObjectKind, Record, Verdict};
use verity_core::testing::{assert_round_trip, load_rows};

fn ctx(row: u64) -> RowContext<'static> {
    RowContext {
        file: "test.jsonl",
        dataset: "test",
        row,
    }
}

fn fields(value: &Value) -> Fields {
    value.as_object().cloned().expect("rows are objects")
}

fn user(spec: &str) -> &'static dyn Layout {
    Mapping::user(FieldMap::parse(&[spec.to_string()]).unwrap()).leak()
}

/// Read every row through `layout` and write it back: the same JSON value.
fn read_and_write_back(layout: &dyn Layout, rows: &[Value]) -> Vec<Record> {
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let record = read_row(layout, fields(row), &ctx(i as u64)).unwrap();
            let back = write_row(layout, &record, true).unwrap();
            assert_eq!(&back, row, "row {i} round trip");
            record
        })
        .collect()
}

const TORA_MAP: &str =
    "id=idx,prompt=question,answer=gt,solution=gt_cot,response=code,pred=pred,grade=score";

#[test]
fn tora_rows_map_into_rollout_sets_with_imported_grades() {
    let rows = load_rows("tora/math_tora.head6.jsonl", 10);
    assert_eq!(rows.len(), 6);
    let records = read_and_write_back(user(TORA_MAP), &rows);
    for (row, record) in rows.iter().zip(&records) {
        assert_eq!(record.object, ObjectKind::RolloutSet);
        assert_eq!(record.id, row["idx"].to_string());
        assert_eq!(record.problem_text(), row["question"].as_str());
        assert_eq!(record.task.reference.answer.as_deref(), row["gt"].as_str());
        let code = row["code"].as_array().unwrap();
        assert_eq!(record.attempts.len(), code.len());
        for (i, attempt) in record.attempts.iter().enumerate() {
            assert_eq!(attempt.response.as_deref(), code[i].as_str());
            assert_eq!(attempt.answer.as_deref(), row["pred"][i].as_str());
            let grade = attempt.verdict_of("score").expect("imported grade");
            assert!(grade.verifier.imported);
            assert_eq!(grade.passed(), row["score"][i].as_bool());
        }
        // unmapped fields stay in meta
        assert_eq!(record.meta["report"], row["report"]);
    }
}

#[test]
fn a_missing_field_is_named_with_the_fields_that_exist() {
    let rows = load_rows("tora/math_tora.head6.jsonl", 1);
    let err = read_row(
        user("prompt=question,answer=answer"),
        fields(&rows[0]),
        &ctx(0),
    )
    .unwrap_err();
    assert_eq!(err.field, "answer");
    assert!(err.reason.contains("`answer`"), "{err}");
    for existing in ["`question`", "`gt`", "`code`", "`score`"] {
        assert!(err.reason.contains(existing), "{err}");
    }
}

#[test]
fn attempt_fields_of_another_length_are_errors() {
    let row = json!({"q": "x", "outs": ["a", "b"], "ok": [true]});
    let err = read_row(
        user("prompt=q,response=outs,grade=ok"),
        fields(&row),
        &ctx(0),
    )
    .unwrap_err();
    assert_eq!(err.field, "ok");
    assert!(err.reason.contains("2 attempts"), "{err}");
    let row = json!({"q": "x", "outs": {"not": "text"}});
    let err = read_row(user("prompt=q,response=outs"), fields(&row), &ctx(0)).unwrap_err();
    assert!(err.to_string().contains("outs"), "{err}");
}

#[test]
fn scalars_numbers_and_nulls_round_trip() {
    let rows = vec![
        json!({"n": 7, "question": "2+5?", "gold": 7, "out": "It is 7.", "ok": true, "extra": [1]}),
        json!({"n": 8, "question": "null gold", "gold": null, "out": null, "ok": null}),
    ];
    let records = read_and_write_back(
        user("id=n,prompt=question,answer=gold,response=out,grade=ok"),
        &rows,
    );
    assert_eq!(records[0].id, "7");
    assert_eq!(records[0].task.reference.answer.as_deref(), Some("7"));
    assert_eq!(records[0].object, ObjectKind::PromptAnswer);
    assert_eq!(records[1].task.reference.answer, None);
    assert_eq!(
        records[1].attempts[0].verdict_of("ok").unwrap().verdict,
        Verdict::Unknown
    );
}

#[test]
fn alpaca_rows_join_instruction_and_input() {
    let rows = vec![
        json!({"instruction": "Add the numbers.", "input": "2 and 3", "output": "5"}),
        json!({"instruction": "Name a prime.", "input": "", "output": "7"}),
        json!({"instruction": "Say hi.", "output": "hi", "system": "be brief"}),
    ];
    let alpaca = layout::by_name("alpaca").unwrap();
    let records = assert_round_trip(alpaca, &rows);
    assert_eq!(
        records[0].problem_text(),
        Some("Add the numbers.\n\n2 and 3")
    );
    assert_eq!(records[1].problem_text(), Some("Name a prime."));
    assert_eq!(records[2].attempts[0].response.as_deref(), Some("hi"));
    let detected: Vec<Fields> = rows.iter().map(fields).collect();
    assert_eq!(layout::detect(&detected).map(|l| l.name()), Some("alpaca"));
}

#[test]
fn qa_rows_are_prompt_and_reference() {
    let rows = vec![
        json!({"q": "What is 2+2?", "a": "4"}),
        json!({"q": "Capital of France?", "a": "Paris", "topic": "geo"}),
    ];
    let qa = layout::by_name("qa").unwrap();
    let records = assert_round_trip(qa, &rows);
    assert_eq!(records[0].task.reference.answer.as_deref(), Some("4"));
    assert!(records[0].attempts.is_empty());
    let detected: Vec<Fields> = rows.iter().map(fields).collect();
    assert_eq!(layout::detect(&detected).map(|l| l.name()), Some("qa"));
}

#[test]
fn grader_cases_carry_the_expected_verdict_as_imported_feedback() {
    let rows = load_rows("grader_cases/cases.head40.jsonl", 40);
    let layout = layout::by_name("grader_cases").unwrap();
    let records = assert_round_trip(layout, &rows);
    for (row, record) in rows.iter().zip(&records) {
        assert_eq!(record.id, row["id"].as_str().unwrap());
        assert_eq!(
            record.task.reference.answer.as_deref(),
            row["gold"].as_str()
        );
        let attempt = &record.attempts[0];
        assert_eq!(attempt.response.as_deref(), row["pred"].as_str());
        assert_eq!(
            attempt.verdict_of("expected").unwrap().passed(),
            row["expected"].as_bool()
        );
    }
    let detected: Vec<Fields> = rows.iter().map(fields).collect();
    assert_eq!(
        layout::detect(&detected).map(|l| l.name()),
        Some("grader_cases")
    );
}

#[test]
fn swe_bench_predictions_become_patch_attempts() {
    let rows = load_rows("swe-agent/all_preds.jsonl", 10);
    let layout = layout::by_name("swe_bench_preds").unwrap();
    let records = assert_round_trip(layout, &rows);
    let record = &records[0];
    assert_eq!(record.id, "pydicom__pydicom-1458");
    let attempt = &record.attempts[0];
    assert!(attempt
        .response
        .as_deref()
        .unwrap()
        .contains("diff --git a/pydicom/pixel_data_handlers/numpy_handler.py"));
    assert!(attempt
        .generator
        .as_ref()
        .and_then(|g| g.model.as_deref())
        .unwrap()
        .starts_with("gpt4__swe-bench-dev"));
    let detected: Vec<Fields> = rows.iter().map(fields).collect();
    assert_eq!(
        layout::detect(&detected).map(|l| l.name()),
        Some("swe_bench_preds")
    );
}

#[test]
fn toolbench_queries_become_tool_tasks() {
    let rows = load_rows("toolbench/G1_query.json", 10);
    assert_eq!(rows.len(), 5);
    let layout = layout::by_name("toolbench_query").unwrap();
    let records = assert_round_trip(layout, &rows);
    for (row, record) in rows.iter().zip(&records) {
        assert_eq!(record.problem_text(), row["query"].as_str());
        assert_eq!(record.task.tools.as_ref(), Some(&row["api_list"]));
        assert_eq!(record.task.domain.as_deref(), Some("tool_use"));
        assert_eq!(record.meta["relevant APIs"], row["relevant APIs"]);
        assert_eq!(record.id, row["query_id"].to_string());
    }
    let detected: Vec<Fields> = rows.iter().map(fields).collect();
    assert_eq!(
        layout::detect(&detected).map(|l| l.name()),
        Some("toolbench_query")
    );
}

#[test]
fn the_presets_do_not_take_rows_of_other_layouts() {
    for (path, expected) in [
        ("gsm8k/test.head50.jsonl", "gsm8k"),
        ("qwen25-math-eval/math_cot_100.head10.jsonl.gz", "qwen_eval"),
        ("mbpp/mbpp.head50.jsonl", "mbpp"),
    ] {
        let rows: Vec<Fields> = load_rows(path, 64).iter().map(fields).collect();
        assert_eq!(
            layout::detect(&rows).map(|l| l.name()),
            Some(expected),
            "{path}"
        );
    }
}
