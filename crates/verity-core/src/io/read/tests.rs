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

    let cut = write(&dir.path().join("cut.jsonl.gz"), &gz[..gz.len() / 2]);
    let rows = read_all(&[cut], ReadOptions::default());
    let (good, bad): (Vec<_>, Vec<_>) = rows.iter().partition(|(_, v)| v.is_ok());
    assert!(!good.is_empty());
    assert_eq!(bad.len(), 1);
    let error = bad[0].1.as_ref().unwrap_err();
    assert!(error.reason.contains("truncated"), "{error}");
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
    let rows = read_all(&[broken], ReadOptions::default());
    assert_eq!(rows.len(), 2);
    assert!(rows[0].1.is_ok() && rows[1].1.is_err());
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
