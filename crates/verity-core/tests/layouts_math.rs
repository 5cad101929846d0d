//! Round trips, mapped values and detection of the math / PRM / code / rollout-dump adapters on
//! real rows (and the two documented-schema samples: OpenR1 and s1K, see tests/data/README.md).

use serde_json::{json, Value};
use verity_core::layout::{self, read_row, write_row, RowContext};
use verity_core::record::{
    AttemptRole, Fields, Granularity, ObjectKind, Record, StepLabel, TestKind, Verdict,
};
use verity_core::testing::{assert_round_trip, data_dir, load_rows};

fn layout(name: &str) -> &'static dyn layout::Layout {
    layout::by_name(name).unwrap_or_else(|| panic!("layout {name} is registered"))
}

fn fields(value: &Value) -> Fields {
    value.as_object().cloned().expect("object")
}

fn ctx() -> RowContext<'static> {
    RowContext {
        file: "data/sample.jsonl",
        dataset: "sample",
        row: 1,
    }
}

fn read(name: &str, row: &Value) -> Record {
    read_row(layout(name), fields(row), &ctx()).expect("row reads")
}

/// Rows of a test-data file as read by verity's streaming reader (unwraps `{"examples": [...]}`,
/// reads Parquet).
fn read_with_io(path: &str) -> Vec<Value> {
    use verity_core::io::{InputFile, ReadOptions, RowReader};
    let full = data_dir().join(path);
    let input = InputFile::detect(&full).expect("known format");
    let batches = RowReader::open(vec![input], ReadOptions::default())
        .collect_batches()
        .expect("read");
    batches
        .into_iter()
        .flat_map(|b| b.rows)
        .map(|r| Value::Object(r.value.expect("row parses")))
        .collect()
}

fn detected(rows: &[Value]) -> Option<&'static str> {
    let rows: Vec<Fields> = rows.iter().take(64).map(fields).collect();
    layout::detect(&rows).map(|l| l.name())
}

fn imported<'a>(
    record: &'a Record,
    attempt: usize,
    column: &str,
) -> &'a verity_core::record::Feedback {
    record.attempts[attempt]
        .feedback
        .iter()
        .find(|f| f.verifier.name == column)
        .unwrap_or_else(|| panic!("feedback {column} on attempt {attempt}"))
}

// ---------------------------------------------------------------- rollout dumps

#[test]
fn openr1_sample_round_trips_with_imported_verifiers() {
    let rows = load_rows("openr1/openr1_math_sample.jsonl", 10);
    let records = assert_round_trip(layout("openr1"), &rows);
    assert_eq!(records.len(), 3);
    for (row, record) in rows.iter().zip(&records) {
        assert_eq!(record.object, ObjectKind::RolloutSet);
        assert_eq!(
            record.attempts.len(),
            row["generations"].as_array().unwrap().len()
        );
        assert_eq!(
            record.task.reference.answer.as_deref(),
            row["answer"].as_str()
        );
        assert_eq!(record.id, row["uuid"].as_str().unwrap());
    }
    // Row 2: four generations, the last one cut off (finish reason `length`, no closed think).
    let r = &records[1];
    assert!(r.attempts[0].trace.as_deref().unwrap().contains("60 = 2^2"));
    assert_eq!(r.attempts[3].trace, None);
    assert_eq!(r.attempts[3].finish_reason.as_deref(), Some("length"));
    let mv = imported(r, 3, "correctness_math_verify");
    assert!(mv.verifier.imported);
    assert_eq!(mv.verdict, Verdict::Fail);
    assert_eq!(imported(r, 0, "correctness_llama").verdict, Verdict::Pass);
    assert_eq!(
        imported(r, 3, "correctness_llama").verdict,
        Verdict::Unknown
    );
    assert_eq!(
        imported(r, 3, "is_reasoning_complete").verdict,
        Verdict::Fail
    );
    // Row 1: correctness_llama and finish_reasons are null: kept in meta, not attempts.
    assert_eq!(records[0].meta["correctness_llama"], Value::Null);
    assert!(records[0]
        .attempts
        .iter()
        .all(|a| a.finish_reason.is_none()));
    // Row 3: second generation graded wrong by both verifiers.
    assert_eq!(
        imported(&records[2], 1, "correctness_math_verify").passed(),
        Some(false)
    );
}

#[test]
fn qwen_eval_rm_example_round_trips() {
    let rows = load_rows("qwen25-math-eval/math_cot_100.head10.jsonl.gz", 10);
    let records = assert_round_trip(layout("qwen_eval"), &rows);
    for (row, record) in rows.iter().zip(&records) {
        assert_eq!(record.object, ObjectKind::RolloutSet);
        assert_eq!(record.attempts.len(), 8);
        assert_eq!(record.task.reference.answer.as_deref(), row["gt"].as_str());
        for (i, attempt) in record.attempts.iter().enumerate() {
            assert_eq!(attempt.answer.as_deref(), row["pred"][i].as_str());
            let score = imported(record, i, "score");
            assert_eq!(score.passed(), row["score"][i].as_bool());
            assert_eq!(score.granularity, Granularity::Answer);
            let rm = imported(record, i, "pred_score");
            assert_eq!(rm.verdict, Verdict::Score);
            assert_eq!(rm.score, row["pred_score"][i][0].as_f64());
        }
    }
}

#[test]
fn qwen_eval_sky_t1_traces_split_exactly() {
    for path in [
        "skythought-evals/Sky-T1-math-correct-5K-14B.amc23.shortest3.jsonl",
        "skythought-evals/Sky-T1-math-correct-5K-32B-ckpt140.aime24.shortest2.jsonl",
    ] {
        let rows = load_rows(path, 10);
        let records = assert_round_trip(layout("qwen_eval"), &rows);
        for record in &records {
            assert_eq!(record.object, ObjectKind::PromptTraceAnswer, "{path}");
            let attempt = &record.attempts[0];
            assert!(attempt.trace.is_some(), "{path}");
            assert!(attempt
                .response
                .as_deref()
                .unwrap()
                .contains("<|begin_of_solution|>"));
        }
    }
    // The amc23 dump has a float `answer` (27.0): it stays a number.
    let rows = load_rows(
        "skythought-evals/Sky-T1-math-correct-5K-14B.amc23.shortest3.jsonl",
        10,
    );
    let record = read("qwen_eval", &rows[0]);
    assert!(record.meta["answer"].is_number());
    // A plain instruct model: no trace, one sample.
    let rows = load_rows(
        "skythought-evals/Qwen2.5-14B-Instruct.aime24.shortest3.jsonl",
        10,
    );
    let records = assert_round_trip(layout("qwen_eval"), &rows);
    assert!(records
        .iter()
        .all(|r| r.object == ObjectKind::PromptAnswer && r.attempts[0].trace.is_none()));
}

#[test]
fn gsm8k_example_solutions_have_four_graded_generators() {
    let rows = load_rows("gsm8k/example_model_solutions.head30.jsonl.gz", 30);
    let records = assert_round_trip(layout("gsm8k_solutions"), &rows);
    let first = &records[0];
    assert_eq!(first.task.reference.answer.as_deref(), Some("18"));
    assert_eq!(first.attempts.len(), 4);
    let models: Vec<_> = first
        .attempts
        .iter()
        .map(|a| {
            let g = a.generator.as_ref().unwrap();
            format!(
                "{}/{}",
                g.model.as_deref().unwrap(),
                g.params["method"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        models,
        [
            "gpt3-6b/finetuning",
            "gpt3-6b/verification",
            "gpt3-175b/finetuning",
            "gpt3-175b/verification"
        ]
    );
    for (row, record) in rows.iter().zip(&records) {
        for (attempt, key) in record.attempts.iter().zip([
            "6b_finetuning",
            "6b_verification",
            "175b_finetuning",
            "175b_verification",
        ]) {
            let fb = attempt
                .feedback
                .iter()
                .find(|f| f.verifier.name == "is_correct")
                .unwrap();
            assert!(fb.verifier.imported);
            assert_eq!(fb.passed(), row[key]["is_correct"].as_bool());
        }
    }
    // 175b_verification is right on the first problem; 26 = 13*2 is the 6B fine-tuned answer.
    assert_eq!(first.attempts[0].answer.as_deref(), Some("26"));
}

#[test]
fn bbh_rows_and_cot_outputs_round_trip_through_the_reader() {
    let rows = read_with_io("bbh/boolean_expressions.json");
    assert_eq!(rows.len(), 250);
    let records = assert_round_trip(layout("bbh"), &rows);
    assert_eq!(records[0].task.reference.answer.as_deref(), Some("False"));
    assert!(records.iter().all(|r| r.attempts.is_empty()));
    let rows = read_with_io("bbh/boolean_expressions_cot.head20.json");
    assert_eq!(rows.len(), 20);
    let records = assert_round_trip(layout("bbh"), &rows);
    let answered = records
        .iter()
        .filter(|r| r.attempts[0].answer.is_some())
        .count();
    let right = records
        .iter()
        .filter(|r| r.attempts[0].answer == r.task.reference.answer)
        .count();
    // Row 5 is cut off before "So the answer is"; row 17 concludes True where the target is
    // False.
    assert_eq!((answered, right), (19, 18));
    assert_eq!(records[4].attempts[0].answer, None);
}

// ---------------------------------------------------------------- process supervision

#[test]
fn prm800k_chosen_path_and_exact_round_trip() {
    let rows = load_rows("openr-prm/samples_prm800k.jsonl", 10);
    let records = assert_round_trip(layout("prm800k"), &rows);
    assert_eq!(records.len(), 6);
    for (row, record) in rows.iter().zip(&records) {
        assert_eq!(record.object, ObjectKind::StepLabeledTrace);
        assert_eq!(
            record.task.prompt.as_deref(),
            row["question"]["problem"].as_str()
        );
        assert_eq!(
            record.task.reference.answer.as_deref(),
            row["question"]["ground_truth_answer"].as_str()
        );
        let steps = &record.attempts[0].steps;
        let label_steps = row["label"]["steps"].as_array().unwrap();
        assert!(!steps.is_empty() && steps.len() <= label_steps.len());
        // Where a completion was chosen, the step is that completion with its rating.
        for (step, raw) in steps.iter().zip(label_steps) {
            if let Some(i) = raw["chosen_completion"].as_u64() {
                let chosen = &raw["completions"][i as usize];
                assert_eq!(step.text, chosen["text"].as_str().unwrap());
                assert_eq!(step.raw_label.as_ref(), Some(&chosen["rating"]));
            }
        }
    }
    // Row 1, step 2: no chosen completion, the labeler wrote the step (human_completion).
    let human = rows[0]["label"]["steps"][1]["human_completion"]["text"]
        .as_str()
        .unwrap();
    assert_eq!(records[0].attempts[0].steps[1].text, human);
    // Row 2 ends with found_error: the last step of the path is the one rated -1.
    let r = &records[1];
    let last = r.attempts[0].steps.last().unwrap();
    assert_eq!(last.label, Some(StepLabel::Bad));
    assert_eq!(r.attempts[0].steps.len(), 7);
    assert_eq!(r.attempts[0].steps[1].label, Some(StepLabel::Neutral));
    let fb = imported(r, 0, "label.finish_reason");
    assert_eq!(
        (fb.verdict, fb.label.as_deref()),
        (Verdict::Fail, Some("found_error"))
    );
}

#[test]
fn math_shepherd_tags_become_step_labels() {
    let rows = load_rows("openr-prm/samples_math-shepherd.jsonl", 10);
    let records = assert_round_trip(layout("math_shepherd"), &rows);
    for (row, record) in rows.iter().zip(&records) {
        let input = row["input"].as_str().unwrap();
        let steps = &record.attempts[0].steps;
        assert_eq!(steps.len(), input.matches("ки").count());
        assert!(input.starts_with(record.task.prompt.as_deref().unwrap()));
        // The parse is canonical: input and label are not duplicated in meta.
        assert!(!record.meta.contains_key("input"));
        assert_eq!(record.task.source.dataset.as_deref(), Some("GSM8K"));
    }
    let first = &records[0].attempts[0];
    let labels: Vec<_> = first.steps.iter().map(|s| s.label.unwrap()).collect();
    use StepLabel::{Bad, Good};
    assert_eq!(labels, [Good, Good, Good, Good, Bad]);
    assert_eq!(first.answer.as_deref(), Some("13520"));
    assert!(first.steps[0].text.starts_with("Step 1: Janet spends"));
}

#[test]
fn math_aps_flat_and_tree_round_trip() {
    let rows = load_rows("openr-prm/samples_math-aps.jsonl.gz", 10);
    let records = assert_round_trip(layout("math_aps"), &rows);
    for (row, record) in rows.iter().zip(&records) {
        let entries = row["reasoning_steps"].as_array().unwrap();
        assert_eq!(record.attempts.len(), entries.len());
        assert!(!record.meta.contains_key("reasoning_steps"));
        for (attempt, entry) in record.attempts.iter().zip(entries) {
            assert_eq!(attempt.steps[0].score, entry["mc_value"].as_f64());
        }
    }
    // The first prefix is the question alone (MC value 0.75): an empty step.
    assert_eq!(records[0].attempts[0].steps[0].text, "");
    assert_eq!(records[0].task.reference.answer.as_deref(), Some("64"));

    let rows = load_rows("openr-prm/samples_math-aps-tree.jsonl.gz", 10);
    let records = assert_round_trip(layout("math_aps"), &rows);
    for record in &records {
        assert!(record.meta["reasoning_steps"].is_object());
        assert!(!record.attempts.is_empty());
        assert!(record
            .attempts
            .iter()
            .all(|a| a.steps.iter().all(|s| s.score.is_some())));
    }
}

#[test]
fn prm_stepwise_reads_and_exports_step_labels() {
    let row = json!({
        "prompt": "What is 2+3*4?",
        "completions": ["3*4 = 12.", "2 + 12 = 15.", "The answer is 15."],
        "labels": [true, true, true]
    });
    assert_round_trip(layout("prm_stepwise"), std::slice::from_ref(&row));
    // Export: Math-Shepherd -> TRL stepwise.
    let rows = load_rows("openr-prm/samples_math-shepherd.jsonl", 10);
    let record = read("math_shepherd", &rows[0]);
    let out = write_row(layout("prm_stepwise"), &record, false).unwrap();
    assert_eq!(out["labels"], json!([true, true, true, true, false]));
    assert_eq!(out["completions"].as_array().unwrap().len(), 5);
    // Export: PRM800K found_error path (neutral counts as not wrong; ends at the bad step).
    let rows = load_rows("openr-prm/samples_prm800k.jsonl", 10);
    let record = read("prm800k", &rows[1]);
    let out = write_row(layout("prm_stepwise"), &record, false).unwrap();
    assert_eq!(
        out["labels"],
        json!([true, true, true, true, true, true, false])
    );
    // And back in as Math-Shepherd text.
    let out = write_row(layout("math_shepherd"), &record, false).unwrap();
    let input = out["input"].as_str().unwrap();
    assert_eq!(input.matches("ки").count(), 7);
    assert!(out["label"].as_str().unwrap().ends_with(" -"));
    let back = read("math_shepherd", &out);
    assert_eq!(back.attempts[0].steps.len(), 7);
}

#[test]
fn detection_picks_the_right_adapter_for_every_sample() {
    for (path, expected) in [
        ("openr1/openr1_math_sample.jsonl", "openr1"),
        ("qwen25-math-eval/math_cot_100.head10.jsonl.gz", "qwen_eval"),
        (
            "skythought-evals/Sky-T1-math-correct-5K-14B.amc23.shortest3.jsonl",
            "qwen_eval",
        ),
        (
            "skythought-evals/Qwen2.5-14B-Instruct.aime24.shortest3.jsonl",
            "qwen_eval",
        ),
        (
            "gsm8k/example_model_solutions.head30.jsonl.gz",
            "gsm8k_solutions",
        ),
        ("openr-prm/samples_prm800k.jsonl", "prm800k"),
        ("openr-prm/samples_math-shepherd.jsonl", "math_shepherd"),
        ("openr-prm/samples_math-aps.jsonl.gz", "math_aps"),
        ("openr-prm/samples_math-aps-tree.jsonl.gz", "math_aps"),
    ] {
        let rows = load_rows(path, 64);
        assert_eq!(detected(&rows), Some(expected), "{path}");
    }
    for (path, expected) in [
        ("bbh/boolean_expressions.json", "bbh"),
        ("bbh/boolean_expressions_cot.head20.json", "bbh"),
    ] {
        assert_eq!(detected(&read_with_io(path)), Some(expected), "{path}");
    }
}

// ---------------------------------------------------------------- bad input

#[test]
fn bad_rows_are_field_errors_naming_the_field() {
    let cases = [
        (
            "openr1",
            json!({"problem": "p", "generations": "x", "finish_reasons": []}),
            "generations",
        ),
        (
            "openr1",
            json!({"problem": "p", "generations": [1], "correctness_math_verify": [true]}),
            "generations[0]",
        ),
        (
            "qwen_eval",
            json!({"question": "q", "gt": "1", "code": 3, "pred": [], "score": []}),
            "code",
        ),
        (
            "prm800k",
            json!({"question": {"problem": "p"}, "label": {"steps": [{"completions": [], "chosen_completion": 2}]}}),
            "label.steps[0].chosen_completion",
        ),
        (
            "prm800k",
            json!({"question": {"problem": "p"}, "label": {"steps": 5}}),
            "label.steps",
        ),
        (
            "math_shepherd",
            json!({"input": "q Step 1: a ки", "label": "q Step 2: a +"}),
            "label",
        ),
        (
            "prm_stepwise",
            json!({"prompt": "p", "completions": ["a"], "labels": [true, false]}),
            "labels",
        ),
        (
            "prm_stepwise",
            json!({"prompt": "p", "completions": ["a"], "labels": ["yes"]}),
            "labels[0]",
        ),
        (
            "math_aps",
            json!({"question": "q", "reasoning_steps": [{"mc_value": 1.0}]}),
            "reasoning_steps[0].solution_prefix",
        ),
        (
            "gsm8k_solutions",
            json!({"question": "q", "ground_truth": ["a"]}),
            "ground_truth",
        ),
    ];
    for (name, row, field) in cases {
        let error = read_row(layout(name), fields(&row), &ctx()).unwrap_err();
        assert_eq!(error.field, field, "{name}: {error}");
    }
}

#[test]
fn writing_a_layout_without_what_it_needs_names_the_missing_part() {
    let rows = load_rows("gsm8k/test.head50.jsonl", 1);
    let record = read("gsm8k", &rows[0]);
    for (name, field) in [
        ("openr1", "attempts"),
        ("qwen_eval", "attempts"),
        ("prm800k", "attempts[].steps"),
        ("math_shepherd", "attempts[].steps"),
        ("prm_stepwise", "attempts[].steps (labeled)"),
        ("math_aps", "attempts[].steps"),
    ] {
        let error = write_row(layout(name), &record, true).unwrap_err();
        assert_eq!(error.field, field, "{name}");
    }
    // gsm8k -> bbh / gsm8k_solutions work without attempts.
    let out = write_row(layout("bbh"), &record, false).unwrap();
    assert_eq!(out["target"], json!("18"));
    let _ = AttemptRole::Sample;
    let _ = TestKind::Assert;
}

// ---------------------------------------------------------------- verl

#[test]
fn verl_parquet_reads_through_io_and_round_trips() {
    let rows = read_with_io("verl/gsm8k_test.head20.parquet");
    assert_eq!(rows.len(), 20);
    // Parquet structs and lists come back as JSON objects and arrays, ints as numbers.
    assert_eq!(rows[0]["extra_info"]["index"], json!(0));
    assert_eq!(rows[0]["prompt"][0]["role"], json!("user"));
    let records = assert_round_trip(layout("verl"), &rows);
    let gsm8k = load_rows("gsm8k/test.head50.jsonl", 20);
    for ((record, row), source) in records.iter().zip(&rows).zip(&gsm8k) {
        assert_eq!(record.task.source.dataset.as_deref(), Some("openai/gsm8k"));
        assert_eq!(record.task.domain.as_deref(), Some("math"));
        assert_eq!(record.task.source.split.as_deref(), Some("test"));
        assert_eq!(record.task.messages.len(), 1);
        assert_eq!(record.task.prompt.as_deref(), source["question"].as_str());
        assert_eq!(
            record.task.reference.answer.as_deref(),
            row["reward_model"]["ground_truth"].as_str()
        );
        // The ground truth is GSM8K's answer after ####.
        let gsm = read("gsm8k", source);
        assert_eq!(record.task.reference.answer, gsm.task.reference.answer);
    }
    assert_eq!(detected(&rows), Some("verl"));
}

#[test]
fn verl_messages_need_content_and_keep_a_null_one() {
    // `content: null` (a message without text) reads and writes back as it was.
    let row = json!({
        "data_source": "custom/tools",
        "prompt": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": null}],
        "ability": "math",
        "reward_model": {"style": "rule", "ground_truth": "4"},
    });
    let records = assert_round_trip(layout("verl"), std::slice::from_ref(&row));
    assert_eq!(records[0].task.messages[1].content, None);
    // Without the key the message is refused, naming the field: read as `content: null` it
    // would write back another row (found by `arbitrary_rows_never_panic`).
    let mut missing = row.clone();
    missing["prompt"][1] = json!({"role": "assistant"});
    let err = read_row(layout("verl"), fields(&missing), &ctx()).unwrap_err();
    assert!(err.to_string().contains("prompt[1].content"), "{err}");
}

#[test]
fn verl_keeps_list_ground_truth_and_writes_from_other_layouts() {
    let row = json!({
        "data_source": "custom/multi",
        "prompt": [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Name a prime between 10 and 15.", "name": "u1"}],
        "ability": "math",
        "reward_model": {"style": "rule", "ground_truth": ["11", "13"]},
        "extra_info": {"split": "train", "index": 7}
    });
    let records = assert_round_trip(layout("verl"), std::slice::from_ref(&row));
    assert_eq!(records[0].task.reference.answer, None);
    assert_eq!(records[0].task.messages[1].extra["name"], json!("u1"));
    assert_eq!(
        records[0].task.problem_text(),
        Some("Name a prime between 10 and 15.")
    );
    // MATH-500 record -> verl.
    let rows = load_rows("math500/test.head50.jsonl", 1);
    let record = read_row(
        layout("math"),
        fields(&rows[0]),
        &RowContext {
            file: "data/math500/test.jsonl",
            dataset: "test",
            row: 1,
        },
    )
    .unwrap();
    let out = write_row(layout("verl"), &record, false).unwrap();
    // `math500/test.jsonl`: the dataset is the directory, the split the file name, the index
    // 0-based.
    assert_eq!(out["data_source"], json!("math500"));
    assert_eq!(
        out["prompt"],
        json!([{"role": "user", "content": rows[0]["problem"]}])
    );
    assert_eq!(out["ability"], json!("math"));
    assert_eq!(
        out["reward_model"],
        json!({"style": "rule", "ground_truth": rows[0]["answer"]})
    );
    assert_eq!(out["extra_info"], json!({"split": "test", "index": 0}));
    // And it reads back as verl with the same answer.
    let back = read("verl", &out);
    assert_eq!(back.task.reference.answer, record.task.reference.answer);
    // A record without an answer cannot be a verl row.
    let mut bare = record.clone();
    bare.task.reference.answer = None;
    assert_eq!(
        write_row(layout("verl"), &bare, false).unwrap_err().field,
        "task.reference.answer"
    );
}

// ---------------------------------------------------------------- MR-GSM8K

#[test]
fn mr_gsm8k_first_error_step_labels_and_imported_feedback() {
    let rows = load_rows("mr-gsm8k/metamath_70B_eval_results.json", 100);
    assert_eq!(rows.len(), 22);
    let records = assert_round_trip(layout("mr_gsm8k"), &rows);
    for (row, record) in rows.iter().zip(&records) {
        let attempt = &record.attempts[0];
        let n = row["model_output_steps"].as_array().unwrap().len();
        assert_eq!(attempt.steps.len(), n);
        let e = row["model_output_solution_first_error_step"]
            .as_u64()
            .unwrap() as usize;
        for (i, step) in attempt.steps.iter().enumerate() {
            let expected = match (i + 1).cmp(&e) {
                std::cmp::Ordering::Less => Some(StepLabel::Good),
                std::cmp::Ordering::Equal => Some(StepLabel::Bad),
                std::cmp::Ordering::Greater => None,
            };
            assert_eq!(step.label, expected);
        }
        let step_fb = imported(record, 0, "model_output_solution_first_error_step");
        assert_eq!(
            (step_fb.granularity, step_fb.step),
            (Granularity::Step, Some(e - 1))
        );
        assert_eq!(
            step_fb.detail.as_ref().unwrap()["reason"],
            row["model_output_solution_first_error_reason"]
        );
        let answer = imported(record, 0, "model_output_answer_correctness");
        assert_eq!(
            answer.passed(),
            Some(row["model_output_answer_correctness"] == "correct")
        );
        assert_eq!(
            imported(record, 0, "model_output_solution_correctness").passed(),
            Some(false)
        );
        // The evaluator's own output stays in meta.
        assert!(record.meta.contains_key("metamath_70B_eval_output"));
    }
    // ground_truth_answer is a number in this file: its type survives (checked by the round
    // trip) and the reference answer is its text.
    assert_eq!(records[0].task.reference.answer.as_deref(), Some("525"));
    // Export to TRL stepwise, Math-Shepherd and PRM800K stops at the first error.
    let out = write_row(layout("prm_stepwise"), &records[0], false).unwrap();
    assert_eq!(out["labels"], json!([false]));
    let record = &records[1];
    let e = rows[1]["model_output_solution_first_error_step"]
        .as_u64()
        .unwrap() as usize;
    assert!(e < record.attempts[0].steps.len());
    let out = write_row(layout("math_shepherd"), record, false).unwrap();
    let marks: String = out["label"]
        .as_str()
        .unwrap()
        .lines()
        .filter_map(|l| l.chars().last())
        .collect();
    assert_eq!(marks, format!("{}-", "+".repeat(e - 1)));
    let out = write_row(layout("prm800k"), record, false).unwrap();
    assert_eq!(out["label"]["steps"].as_array().unwrap().len(), e);
    assert_eq!(out["label"]["finish_reason"], json!("found_error"));
    let back = read("prm800k", &out);
    assert_eq!(back.attempts[0].steps.len(), e);
    assert_eq!(back.attempts[0].steps[e - 1].label, Some(StepLabel::Bad));
}

// ---------------------------------------------------------------- code

#[test]
fn humaneval_keeps_fields_exact_and_maps_assert_tests() {
    let rows = load_rows("humaneval/HumanEval.jsonl.gz", 200);
    assert_eq!(rows.len(), 164);
    let records = assert_round_trip(layout("humaneval"), &rows);
    for (row, record) in rows.iter().zip(&records) {
        let tests = record.task.reference.tests.as_ref().unwrap();
        assert_eq!(tests.kind, TestKind::Assert);
        assert_eq!(tests.code.as_deref(), row["test"].as_str());
        assert_eq!(tests.entry_point.as_deref(), row["entry_point"].as_str());
        // The canonical solution is the body only, exactly as given.
        assert_eq!(
            record.task.reference.solution.as_deref(),
            row["canonical_solution"].as_str()
        );
        assert_eq!(record.id, row["task_id"].as_str().unwrap());
        assert_eq!(record.task.domain.as_deref(), Some("code"));
    }
    // HumanEval -> rllm `functional`: the check call on the entry point is appended.
    let out = write_row(layout("code_contests"), &records[0], false).unwrap();
    let functional = out["tests"]["functional"].as_str().unwrap();
    assert!(functional.ends_with("check(has_close_elements)\n"));
    let back = read("code_contests", &out);
    assert_eq!(back.task.reference.tests.unwrap().kind, TestKind::Assert);
}

#[test]
fn mbpp_tests_join_one_assert_per_line() {
    let rows = load_rows("mbpp/mbpp.head50.jsonl", 50);
    let records = assert_round_trip(layout("mbpp"), &rows);
    for (row, record) in rows.iter().zip(&records) {
        let tests = record.task.reference.tests.as_ref().unwrap();
        let list = row["test_list"].as_array().unwrap();
        assert_eq!(tests.code.as_deref().unwrap().lines().count(), list.len());
        assert_eq!(tests.setup.as_deref(), row["test_setup_code"].as_str());
        assert_eq!(
            record.task.reference.solution.as_deref(),
            row["code"].as_str()
        );
        assert!(!record.meta.contains_key("test_list"));
    }
    let tests = records[0].task.reference.tests.as_ref().unwrap();
    assert!(tests
        .code
        .as_deref()
        .unwrap()
        .starts_with("assert min_cost("));
    assert_eq!(tests.entry_point.as_deref(), Some("min_cost"));
    let with_entry = records
        .iter()
        .filter(|r| {
            r.task
                .reference
                .tests
                .as_ref()
                .unwrap()
                .entry_point
                .is_some()
        })
        .count();
    assert!(with_entry >= 45, "{with_entry}/50");
    // MBPP -> HumanEval (entry point known) keeps the asserts.
    let out = write_row(layout("humaneval"), &records[0], false).unwrap();
    assert_eq!(out["entry_point"], json!("min_cost"));
    assert!(out["test"].as_str().unwrap().contains("assert min_cost("));
    // A multi-line assert cannot be split back by line: kept verbatim in meta.
    let row = json!({"text": "t", "code": "def f(): return 1", "task_id": 1, "test_setup_code": "",
        "test_list": ["assert f() == \\\n  1", "assert f()"], "challenge_test_list": []});
    let records = assert_round_trip(layout("mbpp"), std::slice::from_ref(&row));
    assert!(records[0].meta.contains_key("test_list"));
}

#[test]
fn rllm_code_rows_map_every_test_shape() {
    let rows = load_rows("rllm-code/leetcode_test.head20.json", 20);
    let records = assert_round_trip(layout("code_contests"), &rows);
    for (row, record) in rows.iter().zip(&records) {
        let tests = record.task.reference.tests.as_ref().unwrap();
        assert_eq!(tests.kind, TestKind::Assert);
        assert_eq!(tests.code.as_deref(), row["tests"]["functional"].as_str());
        assert_eq!(
            record.task.reference.solution.as_deref(),
            row["solutions"].as_str()
        );
    }
    let rows = load_rows("rllm-code/codeforces_test.head20.json", 20);
    let records = assert_round_trip(layout("code_contests"), &rows);
    for (row, record) in rows.iter().zip(&records) {
        let tests = record.task.reference.tests.as_ref().unwrap();
        assert_eq!(tests.kind, TestKind::Stdio);
        assert_eq!(tests.cases.len(), row["tests"].as_array().unwrap().len());
        assert_eq!(tests.cases[0].input, row["tests"][0]["input"]);
    }
    let rows = load_rows("rllm-code/code_contests_test.head10.json.gz", 10);
    let records = assert_round_trip(layout("code_contests"), &rows);
    for (row, record) in rows.iter().zip(&records) {
        let tests = record.task.reference.tests.as_ref().unwrap();
        assert_eq!(tests.kind, TestKind::Stdio);
        assert_eq!(
            tests.cases.len(),
            row["tests"]["inputs"].as_array().unwrap().len()
        );
        assert_eq!(tests.cases[0].output, row["tests"]["outputs"][0]);
    }
    // JSON-string tests (DeepCoder/TACO) and the APPS call-based shape.
    let row = json!({
        "problem": "Return the sum of a and b.",
        "tests": "{\"fn_name\": \"add\", \"inputs\": [[1, 2], [3, 4]], \"outputs\": [3, 7]}",
        "solutions": ["def add(a, b):\n    return a + b\n"]
    });
    let records = assert_round_trip(layout("code_contests"), std::slice::from_ref(&row));
    let tests = records[0].task.reference.tests.as_ref().unwrap();
    assert_eq!(tests.kind, TestKind::FunctionCall);
    assert_eq!(tests.entry_point.as_deref(), Some("add"));
    assert_eq!(tests.cases[1].input, json!([3, 4]));
    assert_eq!(tests.cases[1].output, json!(7));
    assert_eq!(
        records[0].task.reference.solution.as_deref(),
        Some("def add(a, b):\n    return a + b\n")
    );
    // Code rows -> stdio rows from another layout keep their cases.
    let rows = load_rows("rllm-code/codeforces_test.head20.json", 1);
    let record = read("code_contests", &rows[0]);
    let mut other = record.clone();
    other.lineage.layout = Some("verity".into());
    let out = write_row(layout("code_contests"), &other, false).unwrap();
    assert_eq!(out["tests"], rows[0]["tests"]);
}

// ---------------------------------------------------------------- s1K

#[test]
fn s1k_and_s1k_1_1_samples_round_trip() {
    let rows = load_rows("s1k/s1K_sample.jsonl", 10);
    let records = assert_round_trip(layout("s1k"), &rows);
    for (row, record) in rows.iter().zip(&records) {
        assert_eq!(record.object, ObjectKind::PromptTraceAnswer);
        assert_eq!(record.attempts.len(), 1);
        assert_eq!(
            record.attempts[0].trace.as_deref(),
            row["thinking_trajectories"][0].as_str()
        );
        assert_eq!(
            record.attempts[0].response.as_deref(),
            row["attempt"].as_str()
        );
        assert_eq!(record.task.domain.as_deref(), row["cot_type"].as_str());
        assert_eq!(
            record.task.source.dataset.as_deref(),
            row["source_type"].as_str()
        );
        assert!(record.meta["metadata"].is_string());
    }
    assert_eq!(records[0].task.reference.answer.as_deref(), Some("2"));
    let rows = load_rows("s1k/s1K-1.1_sample.jsonl", 10);
    let records = assert_round_trip(layout("s1k"), &rows);
    for record in &records {
        assert_eq!(record.object, ObjectKind::RolloutSet);
        let models: Vec<_> = record
            .attempts
            .iter()
            .map(|a| a.generator.as_ref().and_then(|g| g.model.clone()))
            .collect();
        assert_eq!(
            models,
            [None, Some("gemini".into()), Some("deepseek".into())]
        );
    }
    // A grade column becomes imported feedback and is restored.
    let mut row = rows[0].clone();
    row["deepseek_grade"] = json!("Yes");
    let records = assert_round_trip(layout("s1k"), std::slice::from_ref(&row));
    let fb = imported(&records[0], 2, "deepseek_grade");
    assert_eq!(fb.passed(), Some(true));
    // OpenR1 -> s1K: the first generation's trace and response.
    let rows = load_rows("openr1/openr1_math_sample.jsonl", 1);
    let record = read("openr1", &rows[0]);
    let out = write_row(layout("s1k"), &record, false).unwrap();
    assert_eq!(
        out["thinking_trajectories"][0].as_str(),
        record.attempts[0].trace.as_deref()
    );
    assert_eq!(
        out["attempt"].as_str(),
        record.attempts[0].response.as_deref()
    );
    assert_eq!(
        read("s1k", &out).attempts[0].trace,
        record.attempts[0].trace
    );
}

#[test]
fn detection_of_the_step_label_code_and_distillation_samples() {
    for (path, expected) in [
        ("mr-gsm8k/metamath_70B_eval_results.json", "mr_gsm8k"),
        ("humaneval/HumanEval.jsonl.gz", "humaneval"),
        ("mbpp/mbpp.head50.jsonl", "mbpp"),
        ("rllm-code/leetcode_test.head20.json", "code_contests"),
        ("rllm-code/codeforces_test.head20.json", "code_contests"),
        (
            "rllm-code/code_contests_test.head10.json.gz",
            "code_contests",
        ),
        ("s1k/s1K_sample.jsonl", "s1k"),
        ("s1k/s1K-1.1_sample.jsonl", "s1k"),
    ] {
        let rows = load_rows(path, 64);
        assert_eq!(detected(&rows), Some(expected), "{path}");
    }
}

#[test]
fn more_bad_rows_are_field_errors() {
    let cases = [
        (
            "mr_gsm8k",
            json!({"question": "q", "model_output_steps": [1]}),
            "model_output_steps[0]",
        ),
        (
            "humaneval",
            json!({"prompt": "p", "entry_point": ["f"], "test": "t"}),
            "entry_point",
        ),
        (
            "humaneval",
            json!({"prompt": "p", "test": "t"}),
            "entry_point",
        ),
        (
            "mbpp",
            json!({"text": "t", "test_list": "assert x"}),
            "test_list",
        ),
        (
            "code_contests",
            json!({"problem": "p", "tests": 3}),
            "tests",
        ),
        (
            "code_contests",
            json!({"problem": "p", "tests": "{not json"}),
            "tests",
        ),
        (
            "code_contests",
            json!({"problem": "p", "tests": {"inputs": ["1"], "outputs": []}}),
            "tests.outputs",
        ),
        (
            "code_contests",
            json!({"problem": "p", "tests": [{"input": "1"}]}),
            "tests[0].output",
        ),
        (
            "s1k",
            json!({"question": ["q"], "thinking_trajectories": []}),
            "question",
        ),
        (
            "verl",
            json!({"data_source": "d", "prompt": [{"content": "c"}]}),
            "prompt[0].role",
        ),
    ];
    for (name, row, field) in cases {
        let error = read_row(layout(name), fields(&row), &ctx()).unwrap_err();
        assert_eq!(error.field, field, "{name}: {error}");
    }
}

// ---------------------------------------------------------------- cross-layout writing

/// Every sample record written to every adapter of this file: when the adapter accepts the
/// record, its row must be detected and read back by the same adapter with the same problem
/// text (and the same reference answer where the layout carries one).
#[test]
fn cross_layout_rows_read_back() {
    let samples: &[(&str, &str)] = &[
        ("gsm8k/test.head50.jsonl", "gsm8k"),
        ("math500/test.head50.jsonl", "math"),
        ("openr1/openr1_math_sample.jsonl", "openr1"),
        ("qwen25-math-eval/math_cot_100.head10.jsonl.gz", "qwen_eval"),
        (
            "skythought-evals/Sky-T1-math-correct-5K-14B.amc23.shortest3.jsonl",
            "qwen_eval",
        ),
        (
            "gsm8k/example_model_solutions.head30.jsonl.gz",
            "gsm8k_solutions",
        ),
        ("openr-prm/samples_prm800k.jsonl", "prm800k"),
        ("openr-prm/samples_math-shepherd.jsonl", "math_shepherd"),
        ("openr-prm/samples_math-aps.jsonl.gz", "math_aps"),
        ("openr-prm/samples_math-aps-tree.jsonl.gz", "math_aps"),
        ("mr-gsm8k/metamath_70B_eval_results.json", "mr_gsm8k"),
        ("humaneval/HumanEval.jsonl.gz", "humaneval"),
        ("mbpp/mbpp.head50.jsonl", "mbpp"),
        ("rllm-code/leetcode_test.head20.json", "code_contests"),
        ("rllm-code/codeforces_test.head20.json", "code_contests"),
        ("s1k/s1K-1.1_sample.jsonl", "s1k"),
    ];
    let targets = [
        "openr1",
        "qwen_eval",
        "gsm8k_solutions",
        "bbh",
        "prm800k",
        "math_shepherd",
        "prm_stepwise",
        "math_aps",
        "verl",
        "mr_gsm8k",
        "humaneval",
        "mbpp",
        "code_contests",
        "s1k",
    ];
    let mut written = 0;
    for (path, from) in samples {
        for row in load_rows(path, 3) {
            let record = read(from, &row);
            for to in targets {
                if to == *from {
                    continue;
                }
                let Ok(out) = write_row(layout(to), &record, false) else {
                    continue;
                };
                written += 1;
                let out_fields = fields(&out);
                assert!(
                    layout(to).detect(&out_fields) > 0,
                    "{from} -> {to}: not detected: {out}"
                );
                let back = read_row(layout(to), out_fields, &ctx())
                    .unwrap_or_else(|e| panic!("{from} -> {to}: {e}"));
                // Math-Shepherd, MATH-APS and PRM800K put the problem inside other text.
                if !["math_aps"].contains(&to) {
                    assert_eq!(
                        back.problem_text().map(str::trim),
                        record.problem_text().map(str::trim),
                        "{from} -> {to}"
                    );
                }
                if ["openr1", "qwen_eval", "bbh", "verl", "prm800k", "math_aps"].contains(&to)
                    && record.task.reference.answer.is_some()
                {
                    assert_eq!(
                        back.task.reference.answer, record.task.reference.answer,
                        "{from} -> {to}"
                    );
                }
                if to == "code_contests" || to == "humaneval" || to == "mbpp" {
                    let a = record.task.reference.tests.as_ref().map(|t| t.kind);
                    let b = back.task.reference.tests.as_ref().map(|t| t.kind);
                    assert_eq!(a, b, "{from} -> {to}");
                }
                if ["openr1", "qwen_eval", "gsm8k_solutions"].contains(&to) {
                    assert_eq!(back.attempts.len(), record.attempts.len(), "{from} -> {to}");
                }
            }
        }
    }
    assert!(written > 100, "{written}");
}

// ---------------------------------------------------------------- properties

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        // Mix of plain text, think tags, Sky-T1 markers and the Math-Shepherd tag.
        prop::collection::vec(
            prop_oneof![
                "[a-z =+0-9.]{0,12}",
                Just("<think>".to_string()),
                Just("</think>".to_string()),
                Just("<|begin_of_thought|>".to_string()),
                Just("<|end_of_thought|>".to_string()),
                Just("\n".to_string()),
                Just("ки".to_string()),
                Just("Step 1:".to_string()),
            ],
            0..8,
        )
        .prop_map(|parts| parts.concat())
    }

    /// Arbitrary JSON values (shallow), biased to the shapes the adapters look at.
    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(|n| json!(n)),
            (-1i8..=1).prop_map(|n| json!(n)),
            text().prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((key(), inner), 0..4)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    fn key() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "problem",
            "question",
            "answer",
            "solution",
            "generations",
            "correctness_math_verify",
            "correctness_llama",
            "finish_reasons",
            "is_reasoning_complete",
            "code",
            "pred",
            "score",
            "pred_score",
            "gt",
            "ground_truth",
            "6b_finetuning",
            "is_correct",
            "input",
            "target",
            "prediction",
            "label",
            "steps",
            "completions",
            "rating",
            "chosen_completion",
            "human_completion",
            "text",
            "labels",
            "prompt",
            "reasoning_steps",
            "solution_prefix",
            "mc_value",
            "children",
            "final_answer",
            "data_source",
            "ability",
            "reward_model",
            "extra_info",
            "role",
            "content",
            "model_output_steps",
            "model_output_solution_first_error_step",
            "model_output_solution_correctness",
            "task_id",
            "entry_point",
            "canonical_solution",
            "test",
            "test_list",
            "tests",
            "functional",
            "inputs",
            "outputs",
            "fn_name",
            "solutions",
            "thinking_trajectories",
            "attempt",
            "cot_type",
            "gemini_attempt",
            "deepseek_grade",
        ])
        .prop_map(str::to_string)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Real rows with one field replaced by an arbitrary value (or removed) never panic their
        /// adapter; when still readable they round-trip exactly.
        #[test]
        fn mutated_real_rows_round_trip_or_fail_cleanly(which in 0usize..14, field in any::<prop::sample::Index>(), nested in any::<prop::sample::Index>(), replacement in prop::option::of(value())) {
            let samples = [
                ("openr1/openr1_math_sample.jsonl", "openr1"),
                ("qwen25-math-eval/math_cot_100.head10.jsonl.gz", "qwen_eval"),
                ("gsm8k/example_model_solutions.head30.jsonl.gz", "gsm8k_solutions"),
                ("openr-prm/samples_prm800k.jsonl", "prm800k"),
                ("openr-prm/samples_math-shepherd.jsonl", "math_shepherd"),
                ("openr-prm/samples_math-aps-tree.jsonl.gz", "math_aps"),
                ("mr-gsm8k/metamath_70B_eval_results.json", "mr_gsm8k"),
                ("humaneval/HumanEval.jsonl.gz", "humaneval"),
                ("mbpp/mbpp.head50.jsonl", "mbpp"),
                ("rllm-code/leetcode_test.head20.json", "code_contests"),
                ("rllm-code/codeforces_test.head20.json", "code_contests"),
                ("rllm-code/code_contests_test.head10.json.gz", "code_contests"),
                ("s1k/s1K-1.1_sample.jsonl", "s1k"),
                ("openr-prm/samples_math-aps.jsonl.gz", "math_aps"),
            ];
            let (path, name) = samples[which];
            let rows = load_rows(path, 2);
            let mut row = fields(&rows[0]);
            let key = row.keys().nth(field.index(row.len())).cloned().unwrap();
            // Mutate either the field itself or one element/key inside it.
            let target = match row.get_mut(&key) {
                Some(Value::Array(items)) if !items.is_empty() => {
                    let i = nested.index(items.len());
                    &mut items[i]
                }
                Some(Value::Object(map)) if !map.is_empty() => {
                    let k = map.keys().nth(nested.index(map.len())).cloned().unwrap();
                    map.get_mut(&k).unwrap()
                }
                Some(v) => v,
                None => unreachable!(),
            };
            match replacement {
                Some(v) => *target = v,
                None => {
                    row.remove(&key);
                }
            }
            let l = layout(name);
            if let Ok(record) = read_row(l, row.clone(), &ctx()) {
                let back = write_row(l, &record, true)
                    .unwrap_or_else(|e| panic!("{name}: read but cannot write: {e}"));
                prop_assert_eq!(&back, &Value::Object(row.clone()), "{} {}", name, key);
                let wire = serde_json::to_string(&record).unwrap();
                let reparsed: Record = serde_json::from_str(&wire).unwrap();
                prop_assert_eq!(&reparsed, &record, "{}", name);
                // Writing the record in every layout never panics (an error is fine).
                for other in layout::all() {
                    let _ = write_row(*other, &record, true);
                }
            }
        }

        /// Arbitrary rows never panic any adapter; a row an adapter reads is written back
        /// exactly by that adapter and its record survives its own JSON form.
        #[test]
        fn arbitrary_rows_never_panic(row in prop::collection::vec((key(), value()), 0..10)) {
            let row: Fields = row.into_iter().collect();
            for name in [
                "openr1", "qwen_eval", "gsm8k_solutions", "bbh", "prm800k", "math_shepherd",
                "prm_stepwise", "math_aps", "verl", "mr_gsm8k", "humaneval", "mbpp",
                "code_contests", "s1k",
            ] {
                let l = layout(name);
                let _ = l.detect(&row);
                if let Ok(record) = read_row(l, row.clone(), &ctx()) {
                    let back = write_row(l, &record, true)
                        .unwrap_or_else(|e| panic!("{name}: read but cannot write: {e}"));
                    prop_assert_eq!(&back, &Value::Object(row.clone()), "{}", name);
                    let wire = serde_json::to_string(&record).unwrap();
                    let reparsed: Record = serde_json::from_str(&wire).unwrap();
                    prop_assert_eq!(&reparsed, &record, "{}", name);
                    for other in layout::all() {
                        let _ = write_row(*other, &record, true);
                    }
                }
            }
        }

        /// Any generations (with or without think blocks) round-trip through openr1 and
        /// qwen_eval exactly.
        #[test]
        fn rollout_outputs_round_trip(outputs in prop::collection::vec(text(), 1..5), grades in prop::collection::vec(any::<bool>(), 5)) {
            let n = outputs.len();
            let openr1 = json!({
                "problem": "p", "answer": "1", "generations": outputs,
                "correctness_math_verify": grades[..n].to_vec(),
                "finish_reasons": vec!["stop"; n],
            });
            assert_round_trip(layout("openr1"), std::slice::from_ref(&openr1));
            let qwen = json!({
                "idx": 0, "question": "q", "gt": "1", "code": outputs,
                "pred": vec!["1"; n], "score": grades[..n].to_vec(),
            });
            assert_round_trip(layout("qwen_eval"), std::slice::from_ref(&qwen));
        }

        /// Math-Shepherd rows built from arbitrary steps and marks round-trip exactly, whether
        /// or not the canonical parse applies.
        #[test]
        fn math_shepherd_round_trips(question in "[A-Za-z ?]{1,20}", steps in prop::collection::vec(("[a-z =0-9.]{1,15}", any::<bool>()), 1..6)) {
            let mut input = format!("{question} ");
            let mut label = input.clone();
            for (i, (step, good)) in steps.iter().enumerate() {
                let sep = if i + 1 < steps.len() { "\n" } else { "" };
                input.push_str(&format!("Step {}: {step} ки{sep}", i + 1));
                label.push_str(&format!("Step {}: {step} {}{sep}", i + 1, if *good { "+" } else { "-" }));
            }
            let row = json!({"input": input, "label": label, "task": "GSM8K"});
            let records = assert_round_trip(layout("math_shepherd"), std::slice::from_ref(&row));
            let labels: Vec<bool> = records[0].attempts[0].steps.iter().map(|s| s.label == Some(StepLabel::Good)).collect();
            let expected: Vec<bool> = steps.iter().map(|(_, g)| *g).collect();
            prop_assert_eq!(labels, expected);
        }
    }
}
