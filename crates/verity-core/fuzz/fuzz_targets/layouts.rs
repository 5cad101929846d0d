//! Any JSON object through every layout adapter: detection, reading and writing must never
//! panic; a row an adapter reads must write back to the same JSON value (the round-trip promise),
//! and the streaming encoders (`encode_row`, `encode_taken_row`) must write exactly that row.
#![no_main]
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use verity_core::layout::{self, RowContext};

fuzz_target!(|data: &[u8]| {
    let Ok(Value::Object(row)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let ctx = RowContext {
        file: "fuzz.jsonl",
        dataset: "fuzz",
        row: 1,
    };
    for adapter in layout::all() {
        let score = adapter.detect(&row);
        let Ok(record) = layout::read_row(*adapter, row.clone(), &ctx) else {
            continue;
        };
        let back = layout::write_row(*adapter, &record, true);
        if let Ok(expected) = &back {
            let mut text = Vec::new();
            layout::encode_row(*adapter, &record, true, &mut text).expect("encode_row fails where write_row works");
            let mut taken = Vec::new();
            layout::encode_taken_row(*adapter, &mut record.clone(), true, &mut taken)
                .expect("encode_taken_row fails where write_row works");
            assert_eq!(text, taken, "encode_taken_row differs from encode_row in `{}`", adapter.name());
            let encoded: Value = serde_json::from_slice(&text).expect("encoded row is JSON");
            assert_eq!(
                serde_json::to_string(&encoded).unwrap(),
                serde_json::to_string(expected).unwrap(),
                "encode_row differs from write_row in `{}`",
                adapter.name()
            );
        }
        if score > 0 {
            if let Ok(back) = back {
                assert_eq!(back, Value::Object(row.clone()), "round trip through `{}`", adapter.name());
            }
        }
        // Every other layout must either write the record or say which field is missing.
        for other in layout::all() {
            let _ = layout::write_row(*other, &record, false);
        }
    }
});
