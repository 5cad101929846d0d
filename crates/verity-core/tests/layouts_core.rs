//! Round trips and detection of the core adapters on real rows.

use verity_core::layout;
use verity_core::testing::{assert_round_trip, load_rows};

#[test]
fn gsm8k_round_trips_and_extracts_the_answer() {
    let rows = load_rows("gsm8k/test.head50.jsonl", 50);
    let gsm8k = layout::by_name("gsm8k").unwrap();
    let records = assert_round_trip(gsm8k, &rows);
    assert_eq!(records.len(), 50);
    // First GSM8K test problem: Janet's ducks, answer 18.
    assert_eq!(records[0].task.reference.answer.as_deref(), Some("18"));
    assert!(records.iter().all(|r| r.task.reference.answer.is_some()));
}

#[test]
fn math500_round_trips_with_answer_field() {
    let rows = load_rows("math500/test.head50.jsonl", 50);
    let math = layout::by_name("math").unwrap();
    let records = assert_round_trip(math, &rows);
    for (row, record) in rows.iter().zip(&records) {
        assert_eq!(
            record.task.reference.answer.as_deref(),
            row["answer"].as_str()
        );
        assert_eq!(record.meta["unique_id"], row["unique_id"]);
    }
}

#[test]
fn deepscaler_numeric_answers_keep_their_type() {
    let rows = load_rows("deepscaler/aime.json", 30);
    let math = layout::by_name("math").unwrap();
    let records = assert_round_trip(math, &rows);
    assert!(records.iter().all(|r| r.task.reference.answer.is_some()));
}

#[test]
fn detection_picks_the_right_core_adapter() {
    for (path, expected) in [
        ("gsm8k/test.head50.jsonl", "gsm8k"),
        ("math500/test.head50.jsonl", "math"),
        ("deepscaler/aime.json", "math"),
    ] {
        let rows: Vec<_> = load_rows(path, 64)
            .into_iter()
            .map(|v| v.as_object().cloned().unwrap())
            .collect();
        let detected = layout::detect(&rows).map(|l| l.name());
        assert_eq!(detected, Some(expected), "{path}");
    }
}

#[test]
fn flat_corpus_rows_round_trip_as_trace_records_with_imported_grades() {
    let rows = load_rows("corpus_sample.jsonl", 100);
    let flat = layout::by_name("flat").unwrap();
    let records = assert_round_trip(flat, &rows);
    for (row, record) in rows.iter().zip(&records) {
        assert_eq!(record.object.as_str(), "prompt_trace_answer");
        assert_eq!(
            record.task.reference.answer.as_deref(),
            row["reference"].as_str()
        );
        let attempt = &record.attempts[0];
        assert_eq!(attempt.answer.as_deref(), row["answer"].as_str());
        let grade = &attempt.feedback[0];
        assert!(grade.verifier.imported);
        assert_eq!(grade.verifier.name, "correct");
        assert_eq!(grade.passed(), row["correct"].as_bool());
    }
    let fields: Vec<_> = rows
        .iter()
        .map(|v| v.as_object().cloned().unwrap())
        .collect();
    assert_eq!(layout::detect(&fields).map(|l| l.name()), Some("flat"));
}

#[test]
fn olympiadbench_list_answers_round_trip_in_both_copies() {
    let math = layout::by_name("math").unwrap();
    for path in [
        "deepscaler/olympiad_bench.head8.json",
        "qwen25-math-eval/olympiadbench/test.head8.jsonl",
    ] {
        let rows = load_rows(path, 8);
        let fields: Vec<_> = rows
            .iter()
            .map(|v| v.as_object().cloned().unwrap())
            .collect();
        assert_eq!(
            layout::detect(&fields).map(|l| l.name()),
            Some("math"),
            "{path}"
        );
        let records = assert_round_trip(math, &rows);
        for (row, record) in rows.iter().zip(&records) {
            let list = row
                .get("answer")
                .or_else(|| row.get("final_answer"))
                .unwrap();
            let joined: Vec<&str> = list
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert_eq!(
                record.task.reference.answer.as_deref(),
                Some(joined.join(", ").as_str())
            );
            assert!(record.task.reference.solution.is_some());
        }
    }
}
