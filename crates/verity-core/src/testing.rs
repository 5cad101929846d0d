//! Test helpers shared by the crates' tests: round-trip assertions over real rows and a loader
//! for the sample files under the repository's `tests/data/`. Not part of the stable API.

use crate::layout::{encode_row, encode_taken_row, read_row, write_row, Layout, RowContext};
use crate::record::Fields;
use serde_json::Value;

/// Read every row with `layout`, write it back, and assert the JSON values are identical.
/// Returns the records for further assertions.
pub fn assert_round_trip(layout: &dyn Layout, rows: &[Value]) -> Vec<crate::record::Record> {
    let mut records = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let fields: Fields = row.as_object().cloned().expect("test rows are objects");
        assert!(
            layout.detect(&fields) > 0,
            "{} does not detect row {index}: {}",
            layout.name(),
            truncate(row)
        );
        let ctx = RowContext {
            file: "test.jsonl",
            dataset: "test",
            row: index as u64,
        };
        let record = read_row(layout, fields, &ctx)
            .unwrap_or_else(|e| panic!("{} failed to read row {index}: {e}", layout.name()));
        // The record survives its own wire format.
        let wire = serde_json::to_string(&record).expect("record serializes");
        let reparsed: crate::record::Record = serde_json::from_str(&wire).expect("record parses");
        assert_eq!(reparsed, record, "record JSON round trip, row {index}");
        let back = write_row(layout, &record, true)
            .unwrap_or_else(|e| panic!("{} failed to write row {index}: {e}", layout.name()));
        assert_eq!(
            &back,
            row,
            "{} round trip differs at row {index}",
            layout.name()
        );
        // The streaming encoder writes the same row, key order included, with and without meta.
        for keep_meta in [true, false] {
            let mut text = Vec::new();
            encode_row(layout, &record, keep_meta, &mut text)
                .unwrap_or_else(|e| panic!("{} failed to encode row {index}: {e}", layout.name()));
            let mut taken = Vec::new();
            encode_taken_row(layout, &mut record.clone(), keep_meta, &mut taken)
                .unwrap_or_else(|e| panic!("{} failed to encode row {index}: {e}", layout.name()));
            assert_eq!(text, taken, "{} encode_taken_row differs", layout.name());
            let encoded: Value = serde_json::from_slice(&text).expect("encoded row is JSON");
            let expected = write_row(layout, &record, keep_meta).expect("written above");
            assert_eq!(
                serde_json::to_string(&encoded).expect("serializes"),
                serde_json::to_string(&expected).expect("serializes"),
                "{} encode_row differs from write_row at row {index} (keep_meta {keep_meta})",
                layout.name()
            );
        }
        records.push(record);
    }
    records
}

/// Load up to `limit` rows of a test-data file (JSONL or JSON array, optionally gzipped).
pub fn load_rows(path: &str, limit: usize) -> Vec<Value> {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(path);
    let bytes = std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()));
    let text = if full.extension().is_some_and(|e| e == "gz") {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out)
            .expect("gunzip");
        out
    } else {
        String::from_utf8(bytes).expect("utf-8")
    };
    let trimmed = text.trim_start();
    let rows: Vec<Value> = if trimmed.starts_with('[') {
        serde_json::from_str(trimmed).expect("json array")
    } else if trimmed.starts_with('{') && !trimmed.contains("}\n{") {
        vec![serde_json::from_str(trimmed).expect("json object")]
    } else {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("jsonl row"))
            .collect()
    };
    rows.into_iter().take(limit).collect()
}

/// The repository's `tests/data` directory.
pub fn data_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data")
}

fn truncate(value: &Value) -> String {
    let text = value.to_string();
    text.chars().take(200).collect()
}
