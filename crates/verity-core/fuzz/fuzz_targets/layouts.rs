//! Any JSON object through every layout adapter: detection, reading and writing must never
//! panic; a row an adapter reads must write back to the same JSON value (the round-trip promise).
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
