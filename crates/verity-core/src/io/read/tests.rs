use super::*;
use crate::io::source::expand_inputs;
use crate::io::write::{RowWriter, WriteOptions};
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};

fn read_all(
    paths: &[PathBuf],
    options: ReadOptions,
) -> Vec<(u64, std::result::Result<Fields, RowError>)> {
    let inputs = expand_inputs(paths).unwrap();
    let reader = RowReader::open(inputs, options);
    reader
        .collect_batches()
        .unwrap()
        .into_iter()
        .flat_map(|b| b.rows.into_iter().map(|r| (r.index, r.value)))
        .collect()
}

fn write(path: &Path, bytes: &[u8]) -> PathBuf {
    std::fs::write(path, bytes).unwrap();
    path.to_path_buf()
}

#[test]
fn jsonl_rows_errors_and_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = Vec::new();
    text.extend_from_slice(b"\xEF\xBB\xBF{\"a\":1}\r\n");
    text.extend_from_slice(b"\n");
    text.extend_from_slice(b"{\"a\":2\n");
    text.extend_from_slice(b"[1,2]\n");
    text.extend_from_slice(b"{\"a\":\"\xff\xfe\"}\n");
    text.extend_from_slice(b"{\"a\":3}");
    let path = write(&dir.path().join("x.jsonl"), &text);
    let rows = read_all(&[path], ReadOptions::default());
    let summary: Vec<(u64, bool)> = rows.iter().map(|(i, v)| (*i, v.is_ok())).collect();
    assert_eq!(
        summary,
        vec![(1, true), (3, false), (4, false), (5, false), (6, true)]
    );
    let bad_json = rows[1].1.as_ref().unwrap_err();
    assert!(bad_json.reason.contains("invalid JSON"), "{bad_json}");
    assert!(bad_json.to_string().contains("x.jsonl:3"), "{bad_json}");
    assert!(rows[2]
        .1
        .as_ref()
        .unwrap_err()
        .reason
        .contains("expected a JSON object"));
    assert!(rows[3].1.as_ref().unwrap_err().reason.contains("UTF-8"));
}

#[test]
fn lines_that_are_not_objects_name_the_type_found() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[1,{\"a\":2}]\n\"text\"\n42\n-1.5\ntrue\nnull\n{\"k\":1,\"k\":2,\"j\":[]}\n";
    let path = write(&dir.path().join("t.jsonl"), text.as_bytes());
    let rows = read_all(&[path], ReadOptions::default());
    let reasons: Vec<String> = rows
        .iter()
        .map(|(_, v)| match v {
            Ok(map) => serde_json::to_string(map).unwrap(),
            Err(e) => e.reason.clone(),
        })
        .collect();
    let got = |t: &str| format!("expected a JSON object per line, got {t}");
    assert_eq!(
        reasons,
        vec![
            got("array"),
            got("string"),
            got("number"),
            got("number"),
            got("boolean"),
            got("null"),
            // Duplicate keys: the last value wins, in the first key's place (as serde_json).
            r#"{"k":2,"j":[]}"#.to_string(),
        ]
    );
}

#[test]
fn order_is_kept_across_many_small_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..5000 {
        text.push_str(&format!(
            "{{\"i\":{i},\"pad\":\"{}\"}}\n",
            "x".repeat(i % 37)
        ));
    }
    let path = write(&dir.path().join("x.jsonl"), text.as_bytes());
    let options = ReadOptions {
        batch_bytes: 1000,
        ..ReadOptions::default()
    };
    let rows = read_all(&[path], options);
    assert_eq!(rows.len(), 5000);
    for (n, (line, value)) in rows.iter().enumerate() {
        assert_eq!(*line, n as u64 + 1);
        assert_eq!(value.as_ref().unwrap()["i"], json!(n));
    }
}

#[test]
fn gzip_zstd_and_truncated_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..2000 {
        text.push_str(&format!(
            "{{\"i\":{i},\"text\":\"row number {i} with some words\"}}\n"
        ));
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let good = write(&dir.path().join("a.jsonl.gz"), &gz);
    let zst = write(
        &dir.path().join("b.jsonl.zst"),
        &zstd::encode_all(text.as_bytes(), 3).unwrap(),
    );
    let rows = read_all(&[good, zst], ReadOptions::default());
    assert_eq!(rows.len(), 4000);
    assert!(rows.iter().all(|(_, v)| v.is_ok()));

    // A cut stream loses every row after the cut: the read fails, whatever the row policy.
    let cut = write(&dir.path().join("cut.jsonl.gz"), &gz[..gz.len() / 2]);
    let error = RowReader::open(
        vec![InputFile::detect(&cut).unwrap()],
        ReadOptions::default(),
    )
    .collect_batches()
    .unwrap_err();
    assert!(
        matches!(error, crate::error::Error::Damaged { rows_read, .. } if rows_read > 0),
        "{error}"
    );
    assert!(
        error.to_string().contains("truncated or corrupt"),
        "{error}"
    );
}

#[test]
fn a_repeated_key_keeps_the_last_value_or_is_rejected_under_strict() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir.path().join("dup.jsonl"),
        b"{\"a\": 1, \"b\": 2, \"a\": 3}\n",
    );
    let rows = read_all(std::slice::from_ref(&path), ReadOptions::default());
    assert_eq!(rows[0].1.as_ref().unwrap()["a"], json!(3));
    let (count, first) = duplicate_keys_seen();
    assert!(count >= 1);
    assert!(first.is_some());
    let strict = ReadOptions {
        strict_keys: true,
        ..ReadOptions::default()
    };
    let rows = read_all(&[path], strict);
    let error = rows[0].1.as_ref().unwrap_err();
    assert_eq!(error.field.as_deref(), Some("a"));
    assert!(error.reason.contains("more than once"), "{error}");
}

#[test]
fn overlong_line_is_rejected_and_reading_continues() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!("{{\"a\":\"{}\"}}\n", "y".repeat(10_000));
    let text = format!("{{\"a\":1}}\n{long}{{\"a\":2}}\n");
    let path = write(&dir.path().join("x.jsonl"), text.as_bytes());
    let options = ReadOptions {
        max_line_bytes: 1000,
        batch_bytes: 64,
        ..ReadOptions::default()
    };
    let rows = read_all(&[path], options);
    let summary: Vec<(u64, bool)> = rows.iter().map(|(i, v)| (*i, v.is_ok())).collect();
    assert_eq!(summary, vec![(1, true), (2, false), (3, true)]);
}

#[test]
fn json_documents_arrays_wrappers_and_single_objects() {
    let dir = tempfile::tempdir().unwrap();
    let array = write(&dir.path().join("a.json"), br#" [{"x":1},{"x":2},3]"#);
    let wrapper = write(
        &dir.path().join("b.json"),
        br#"{"canary":"do not train","examples":[{"input":"q","target":"a"}]}"#,
    );
    let single = write(
        &dir.path().join("c.traj"),
        br#"{"trajectory":[{"action":"ls"}],"info":{"exit_status":"submitted"}}"#,
    );
    let lines = write(&dir.path().join("d.json"), b"{\"x\":1}\n{\"x\":2}\n");
    let broken = write(&dir.path().join("e.json"), br#"[{"x":1},{"x":"#);
    let rows = read_all(&[array], ReadOptions::default());
    assert_eq!(rows.len(), 3);
    assert!(rows[2].1.is_err());
    let rows = read_all(&[wrapper], ReadOptions::default());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1.as_ref().unwrap()["target"], json!("a"));
    let rows = read_all(&[single], ReadOptions::default());
    assert_eq!(rows.len(), 1);
    assert!(rows[0].1.as_ref().unwrap().contains_key("trajectory"));
    let rows = read_all(&[lines], ReadOptions::default());
    assert_eq!(rows.len(), 2);
    // An array that breaks off loses every item after the break: the read fails.
    assert!(matches!(
        read_result(&broken),
        Err(crate::error::Error::Damaged { rows_read: 1, .. })
    ));
}

fn read_result(path: &Path) -> crate::error::Result<Vec<Batch>> {
    RowReader::open(
        vec![InputFile::detect(path).unwrap()],
        ReadOptions::default(),
    )
    .collect_batches()
}

#[test]
fn parquet_round_trip_through_writer_and_reader() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.parquet");
    let mut w = RowWriter::create(&path, WriteOptions::default()).unwrap();
    let rows = vec![
        json!({"data_source": "gsm8k", "prompt": [{"role": "user", "content": "q1"}],
               "reward_model": {"style": "rule", "ground_truth": "72"}, "extra_info": {"index": 0}}),
        json!({"data_source": "gsm8k", "prompt": [{"role": "user", "content": "q2"}],
               "reward_model": {"style": "rule", "ground_truth": "8"}, "extra_info": {"index": 1}}),
    ];
    for row in &rows {
        w.write_value(row.clone()).unwrap();
    }
    w.finish().unwrap();
    let back: Vec<serde_json::Value> = read_all(&[path], ReadOptions::default())
        .into_iter()
        .map(|(_, v)| serde_json::Value::Object(v.unwrap()))
        .collect();
    assert_eq!(back, rows);
}

#[test]
fn directory_of_shards_is_one_dataset_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let shards = dir.path().join("shards");
    std::fs::create_dir(&shards).unwrap();
    write(&shards.join("part-00001.jsonl"), b"{\"i\":2}\n");
    write(&shards.join("part-00000.jsonl"), b"{\"i\":0}\n{\"i\":1}\n");
    write(&shards.join("README.md"), b"not data");
    let rows = read_all(&[shards], ReadOptions::default());
    let values: Vec<_> = rows
        .iter()
        .map(|(_, v)| v.as_ref().unwrap()["i"].clone())
        .collect();
    assert_eq!(values, vec![json!(0), json!(1), json!(2)]);
}

#[test]
fn missing_input_names_the_path() {
    let err = expand_inputs(&[PathBuf::from("/nonexistent/data.jsonl")]).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/data.jsonl"));
}

#[test]
fn object_document_over_the_size_cap_is_an_error_suggesting_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let object = format!("{{\"x\":\"{}\"}}", "a".repeat(200));
    let big = write(&dir.path().join("big.json"), object.as_bytes());
    let lines = format!("{object}\n{object}\n");
    let big_lines = write(&dir.path().join("lines.json"), lines.as_bytes());
    // An array of the same size is streamed, not capped.
    let array = format!("[{object},{object}]");
    let big_array = write(&dir.path().join("array.json"), array.as_bytes());
    let capped = || ReadOptions {
        max_document_bytes: 100,
        ..ReadOptions::default()
    };
    for path in [big, big_lines] {
        let rows = read_all(std::slice::from_ref(&path), capped());
        assert_eq!(rows.len(), 1, "{path:?}");
        let error = rows[0].1.as_ref().unwrap_err();
        assert!(error.reason.contains("larger than 100 bytes"), "{error}");
        assert!(error.reason.contains("JSON Lines"), "{error}");
        assert!(error.file.ends_with(".json"), "{error}");
        // Under the default cap the same file reads.
        let rows = read_all(&[path], ReadOptions::default());
        assert!(rows.iter().all(|(_, r)| r.is_ok()));
        assert!(!rows.is_empty());
    }
    let rows = read_all(&[big_array], capped());
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|(_, r)| r.is_ok()));
}

#[test]
fn deeply_nested_input_is_an_error_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    let jsonl = write(
        &dir.path().join("deep.jsonl"),
        format!("{deep}\n{{\"b\":1}}\n").as_bytes(),
    );
    let rows = read_all(&[jsonl], ReadOptions::default());
    assert_eq!(rows.len(), 2);
    let error = rows[0].1.as_ref().unwrap_err();
    assert!(error.reason.contains("recursion limit"), "{error}");
    assert!(rows[1].1.is_ok());
    // Nesting up to the limit, many sibling brackets, and brackets inside strings still read.
    let nested = format!("{{\"a\":{}{}}}", "[".repeat(120), "]".repeat(120));
    let siblings = format!("{{\"a\":[{}]}}", vec!["[]"; 300].join(","));
    let quoted = format!("{{\"a\":\"{}\\\"{}\"}}", "[".repeat(300), "{".repeat(300));
    assert!(nesting_exceeds(nested.as_bytes(), SIMD_MAX_NESTING));
    assert!(!nesting_exceeds(siblings.as_bytes(), SIMD_MAX_NESTING));
    assert!(!nesting_exceeds(quoted.as_bytes(), SIMD_MAX_NESTING));
    let ok = write(
        &dir.path().join("ok.jsonl"),
        format!("{nested}\n{siblings}\n{quoted}\n").as_bytes(),
    );
    let rows = read_all(&[ok], ReadOptions::default());
    assert_eq!(rows.len(), 3);
    for (_, row) in &rows {
        assert!(row.is_ok(), "{row:?}");
    }
    assert_eq!(
        rows[2].1.as_ref().unwrap()["a"].as_str().unwrap().len(),
        601
    );
    let json = write(&dir.path().join("deep.json"), deep.as_bytes());
    let rows = read_all(&[json], ReadOptions::default());
    assert!(rows[0].1.is_err());
    let array = write(
        &dir.path().join("deep_array.json"),
        format!("[{deep}]").as_bytes(),
    );
    assert!(read_result(&array).is_err());
}

#[test]
fn simd_line_parser_agrees_with_serde_json_on_numbers_and_escapes() {
    // The JSONL line parser (sonic-rs) must give the same values as serde_json (with
    // `float_roundtrip`), so that a row written back is byte-identical in its numbers.
    let cases = [
        "0.10225247968817909",
        "0.0034425000000000002",
        "5e-324",
        "2.2250738585072011e-308",
        "1.7976931348623157e308",
        "1.0",
        "1E5",
        "1e-7",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "123456789012345678901234567890",
        "0.30000000000000004",
        "\"\\u00e9\\ud83d\\ude00\\n\\t\\\"\"",
        "\"\u{1F600}\"",
    ];
    for case in cases {
        let line = format!("{{\"v\":{case}}}");
        let expected = serde_json::from_str::<Value>(&line).unwrap();
        let got = parse_object(line.as_bytes()).unwrap().0;
        assert_eq!(Value::Object(got.clone()), expected, "{case}");
        assert_eq!(
            serde_json::to_string(&got["v"]).unwrap(),
            serde_json::to_string(&expected["v"]).unwrap(),
            "{case}"
        );
    }
    // Known deviation: sonic-rs drops the sign of a negative zero (serde_json keeps it, and
    // writes `-0` back as `-0.0`); the value compares equal. Asserted so a change is noticed.
    for case in ["-0", "-0.0"] {
        let line = format!("{{\"v\":{case}}}");
        let got = parse_object(line.as_bytes()).unwrap().0;
        assert_eq!(got["v"].as_f64(), Some(0.0), "{case}");
        assert_eq!(serde_json::to_string(&got["v"]).unwrap(), "0.0", "{case}");
    }
    // Both reject what JSON does not allow.
    for bad in ["1e400", "\"\\ud800\"", "01", "NaN", "\"\\x\""] {
        let line = format!("{{\"v\":{bad}}}");
        assert_eq!(
            parse_object(line.as_bytes()).is_ok(),
            serde_json::from_str::<Value>(&line).is_ok(),
            "{bad}"
        );
    }
}

/// SHA-256 of a file's bytes, computed directly.
fn sha256_of(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

#[test]
fn streamed_digests_equal_a_direct_hash_and_never_go_stale() {
    crate::ledger::set_streamed_digests(true);
    let dir = tempfile::tempdir().unwrap();
    // Written through a RowWriter (plain and zstd), then read to the end (plain and gzip).
    let mut paths = Vec::new();
    for name in ["out.jsonl", "out.jsonl.zst"] {
        let path = dir.path().join(name);
        let mut writer = RowWriter::create(&path, WriteOptions::default()).unwrap();
        for i in 0..2000 {
            writer
                .write_value(json!({"id": i, "text": "x".repeat(i % 97)}))
                .unwrap();
        }
        paths.extend(writer.finish().unwrap());
    }
    let gz = dir.path().join("in.jsonl.gz");
    {
        let mut e = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::fast(),
        );
        for i in 0..500 {
            writeln!(e, "{{\"id\": {i}}}").unwrap();
        }
        e.finish().unwrap();
    }
    paths.push(gz.clone());
    assert_eq!(read_all(&paths, ReadOptions::default()).len(), 4500);
    for path in &paths {
        let digest = crate::ledger::FileDigest::of(path).unwrap();
        assert_eq!(digest.sha256, sha256_of(path), "{}", path.display());
        assert_eq!(digest.bytes, std::fs::metadata(path).unwrap().len());
    }
    // Rewritten in place (same size, other bytes): the digest follows the new content.
    let text = std::fs::read(&paths[0]).unwrap();
    let mut changed = text.clone();
    changed[10] ^= 1;
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&paths[0], &changed).unwrap();
    assert_eq!(
        crate::ledger::FileDigest::of(&paths[0]).unwrap().sha256,
        sha256_of(&paths[0])
    );
    // A file read only in part (a row limit) is hashed whole when asked.
    let partial = write(
        &dir.path().join("partial.jsonl"),
        b"{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n",
    );
    let limited = ReadOptions {
        limit: Some(1),
        batch_bytes: 4,
        ..ReadOptions::default()
    };
    read_all(std::slice::from_ref(&partial), limited);
    assert_eq!(
        crate::ledger::FileDigest::of(&partial).unwrap().sha256,
        sha256_of(&partial)
    );
}
