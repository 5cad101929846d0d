//! Any bytes, as a JSONL file, a JSON document, or a gzip/zstd stream: the reader must return
//! rows or row errors (never panic, never hang), and every error must name the file.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::io::Write;
use verity_core::io::{expand_inputs, ReadOptions, RowReader};

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let names = ["x.jsonl", "x.json", "x.jsonl.gz", "x.jsonl.zst"];
    for name in names {
        let path = dir.path().join(name);
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(data).unwrap();
        drop(f);
        let inputs = expand_inputs(&[path]).unwrap();
        let options = ReadOptions {
            batch_bytes: 64,
            max_line_bytes: 4096,
            ..ReadOptions::default()
        };
        let reader = RowReader::open(inputs, options);
        if let Ok(batches) = reader.collect_batches() {
            for batch in batches {
                for row in batch.rows {
                    if let Err(e) = row.value {
                        assert!(e.file.ends_with(name));
                    }
                }
            }
        }
    }
});
