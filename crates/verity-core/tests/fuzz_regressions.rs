//! Regression tests for failures found by the cargo-fuzz targets in `fuzz/` (inputs in
//! `fuzz/regressions/<target>/`).
use serde_json::Value;
use verity_core::layout::{self, RowContext};

/// The `layouts` fuzz property: a row an adapter detects and reads writes back unchanged.
fn assert_layouts_property(bytes: &[u8]) {
    let Ok(Value::Object(row)) = serde_json::from_slice::<Value>(bytes) else {
        panic!("regression input is not a JSON object");
    };
    let ctx = RowContext {
        file: "fuzz.jsonl",
        dataset: "fuzz",
        row: 1,
    };
    let mut checked = 0;
    for adapter in layout::all() {
        let score = adapter.detect(&row);
        let Ok(record) = layout::read_row(*adapter, row.clone(), &ctx) else {
            continue;
        };
        if score > 0 {
            if let Ok(back) = layout::write_row(*adapter, &record, true) {
                assert_eq!(back, Value::Object(row.clone()), "`{}`", adapter.name());
                checked += 1;
            }
        }
    }
    assert!(checked > 0, "no adapter detected and read the input");
}

/// A GSM8K model column whose model part contains `_` was written back with `-`.
#[test]
fn gsm8k_solutions_model_column_with_underscores_round_trips() {
    assert_layouts_property(include_bytes!(
        "../fuzz/regressions/layouts/gsm8k_solutions_underscore_model_column.json"
    ));
    assert_layouts_property(
        br#"{"question":"q","ground_truth":"A: 3","my_model_v2_verification":{"is_correct":true,"solution":"A: 3"}}"#,
    );
}

/// A Math-Shepherd step mark other than `+`/`-` (here `A`) was written back as `+`.
#[test]
fn math_shepherd_mark_other_than_plus_minus_round_trips() {
    assert_layouts_property(include_bytes!(
        "../fuzz/regressions/layouts/math_shepherd_non_sign_mark.json"
    ));
}
