//! The builtin benchmark registry, and benchmark sets read from files.
//!
//! # What it does
//!
//! verity ships the problem texts (and gold answers where the source has them) of common
//! reasoning benchmarks, compressed and embedded in the binary, so `verity decontam --against
//! builtin:all` works offline. [`BUILTIN`] lists them with their source repository, commit,
//! path and license; `crates/verity-dedup/benchmarks/README.md` has the same table and
//! `benchmarks/build.py` rebuilds the data from the sources. [`resolve`] turns an `--against`
//! argument (`builtin:math500,aime24`, `builtin:all`, a file or a directory) into
//! [`Benchmark`]s.
//!
//! Files are read with verity's row reader (JSONL, JSON arrays, gzip/zstd, Parquet); each row
//! gives an item with the first present field among [`ID_FIELDS`] (else the row number) and
//! the first among [`PROBLEM_FIELDS`], plus `answer`/`reference` when present. The benchmark is
//! named after the file stem.
//!
//! # Known failure modes
//!
//! - A file whose problem column has another name is rejected with the field names tried.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};
use verity_core::io::{expand_inputs, ReadOptions, RowReader};

/// One benchmark item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Item id within its benchmark.
    pub id: String,
    /// The problem text.
    pub problem: String,
    /// Gold answer, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// More benchmark text matched by n-grams only (e.g. MBPP test asserts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<String>,
}

/// A named set of items.
#[derive(Debug, Clone)]
pub struct Benchmark {
    /// Name used in reports (`math500`, or a file stem).
    pub name: String,
    /// The items.
    pub items: Vec<Item>,
}

/// A builtin benchmark's provenance.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Builtin {
    /// Name after `builtin:`.
    pub name: &'static str,
    /// What it is.
    pub description: &'static str,
    /// Source repository.
    pub repo: &'static str,
    /// Commit of the snapshot.
    pub commit: &'static str,
    /// Path in the repository.
    pub path: &'static str,
    /// License of the source.
    pub license: &'static str,
    /// Number of items.
    pub items: usize,
    #[serde(skip)]
    data: &'static [u8],
}

macro_rules! builtin {
    ($name:literal, $items:literal, $desc:literal, $repo:literal, $commit:literal, $path:literal, $license:literal) => {
        Builtin {
            name: $name,
            description: $desc,
            repo: $repo,
            commit: $commit,
            path: $path,
            license: $license,
            items: $items,
            data: include_bytes!(concat!("../../benchmarks/", $name, ".jsonl.zst")),
        }
    };
}

/// Every builtin benchmark.
pub static BUILTIN: &[Builtin] = &[
    builtin!(
        "gsm8k",
        1319,
        "GSM8K test split (grade-school math word problems)",
        "openai/grade-school-math",
        "3101c7d5072418e28b9008a6636bde82a006892c",
        "grade_school_math/data/test.jsonl",
        "MIT"
    ),
    builtin!(
        "math500",
        500,
        "MATH-500 (the PRM800K test subset of MATH)",
        "hkust-nlp/simpleRL-reason",
        "cf1c7858bfc145a27aa733e75d930d34f0d318a6",
        "examples/simplelr_math_eval/data/math500/test.jsonl",
        "MIT"
    ),
    builtin!(
        "aime24",
        30,
        "AIME 2024 I and II",
        "QwenLM/Qwen2.5-Math",
        "a45202bd16f1ec06f433442dc1152d0074773465",
        "evaluation/data/aime24/test.jsonl",
        "MIT"
    ),
    builtin!(
        "aime25",
        30,
        "AIME 2025 I and II",
        "Qihoo360/Light-R1",
        "48c9083b9ca5ae3cecc2a3b7fb82572045447eb0",
        "deepscaler-release/deepscaler/data/test/aime25.json",
        "MIT (subdir LICENSE; repo root Apache-2.0)"
    ),
    builtin!(
        "amc22",
        43,
        "AMC 12 2022 (the 2022 items of DeepScaleR's AMC test set)",
        "agentica-project/deepscaler",
        "95ef74ffee001cce89463f2d61dfdce1d03576c1",
        "deepscaler/data/test/amc.json",
        "MIT"
    ),
    builtin!(
        "amc23",
        40,
        "AMC 12 2023",
        "QwenLM/Qwen2.5-Math",
        "a45202bd16f1ec06f433442dc1152d0074773465",
        "evaluation/data/amc23/test.jsonl",
        "MIT"
    ),
    builtin!(
        "minerva",
        272,
        "Minerva math (MIT OCW STEM problems)",
        "QwenLM/Qwen2.5-Math",
        "a45202bd16f1ec06f433442dc1152d0074773465",
        "evaluation/data/minerva_math/test.jsonl",
        "MIT"
    ),
    builtin!(
        "olympiadbench",
        675,
        "OlympiadBench (English, text-only math)",
        "QwenLM/Qwen2.5-Math",
        "a45202bd16f1ec06f433442dc1152d0074773465",
        "evaluation/data/olympiadbench/test.jsonl",
        "MIT"
    ),
    builtin!(
        "humaneval",
        164,
        "HumanEval (function signature + docstring)",
        "openai/human-eval",
        "6d43fb980f9fee3c892a914eda09951f772ad10d",
        "data/HumanEval.jsonl.gz",
        "MIT"
    ),
    builtin!(
        "mbpp",
        974,
        "MBPP (task text; test asserts matched by n-grams)",
        "deepseek-ai/DeepSeek-Coder",
        "2f9fd85927c669dae3c0fbb2d607274023af243e",
        "Evaluation/MBPP/data/mbpp.jsonl",
        "CC-BY-4.0 (MBPP, google-research); copy under MIT"
    ),
    builtin!(
        "bbh",
        6511,
        "BIG-Bench Hard, all 27 tasks (id = task/index)",
        "suzgunmirac/BIG-Bench-Hard",
        "9ee07bd481feebf959a6b59d61ea57bdcf30964d",
        "bbh/*.json",
        "MIT"
    ),
    builtin!(
        "leetcode",
        200,
        "LeetCode test problems (rLLM)",
        "agentica-project/rllm",
        "874daa4acb7f451dc2a4b2b6e8ce28f5aa88d1f5",
        "rllm/data/test/code/leetcode.json",
        "MIT"
    ),
    builtin!(
        "codeforces",
        408,
        "Codeforces test problems (rLLM)",
        "agentica-project/rllm",
        "874daa4acb7f451dc2a4b2b6e8ce28f5aa88d1f5",
        "rllm/data/test/code/codeforces.json",
        "MIT"
    ),
    builtin!(
        "code_contests",
        165,
        "CodeContests test problems (rLLM)",
        "agentica-project/rllm",
        "874daa4acb7f451dc2a4b2b6e8ce28f5aa88d1f5",
        "rllm/data/test/code/code_contests.json",
        "MIT"
    ),
];

impl Builtin {
    /// Decode the embedded items.
    pub fn load(&self) -> Result<Benchmark> {
        let corrupt = |message: String| Error::CorruptBuiltin {
            name: self.name.to_string(),
            message,
        };
        let raw = zstd::decode_all(self.data).map_err(|e| corrupt(e.to_string()))?;
        let text = std::str::from_utf8(&raw).map_err(|e| corrupt(e.to_string()))?;
        let mut items = Vec::with_capacity(self.items);
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let item: Item =
                serde_json::from_str(line).map_err(|e| corrupt(format!("line {}: {e}", i + 1)))?;
            items.push(item);
        }
        Ok(Benchmark {
            name: self.name.to_string(),
            items,
        })
    }
}

/// The builtin called `name`.
pub fn builtin(name: &str) -> Option<&'static Builtin> {
    BUILTIN.iter().find(|b| b.name == name)
}

/// Fields read as the item id from benchmark files, in order.
pub const ID_FIELDS: &[&str] = &[
    "id",
    "task_id",
    "unique_id",
    "idx",
    "question_id",
    "problem_id",
];
/// Fields read as the problem text from benchmark files, in order.
pub const PROBLEM_FIELDS: &[&str] = &[
    "problem",
    "question",
    "prompt",
    "text",
    "input",
    "instruction",
    "query",
];
const ANSWER_FIELDS: &[&str] = &["answer", "reference", "final_answer", "target"];

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Read a benchmark from a file or a directory of files (named after the file/dir stem).
pub fn from_path(path: &Path) -> Result<Benchmark> {
    let inputs = expand_inputs(&[path.to_path_buf()])?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| path.display().to_string());
    let name = name.split('.').next().unwrap_or(&name).to_string();
    let reader = RowReader::open(inputs, ReadOptions::default());
    let mut items = Vec::new();
    let mut error: Option<Error> = None;
    reader.for_each_ordered(
        |batch| batch,
        |batch| {
            for row in batch.rows {
                let fields = match row.value {
                    Ok(f) => f,
                    Err(e) => {
                        error.get_or_insert(Error::Core(verity_core::Error::Row(e)));
                        continue;
                    }
                };
                let Some(problem) = PROBLEM_FIELDS
                    .iter()
                    .find_map(|k| fields.get(*k).and_then(text_of))
                else {
                    error.get_or_insert(Error::NoProblem {
                        file: batch.file.to_string(),
                        line: row.index,
                        fields: PROBLEM_FIELDS.join(", "),
                    });
                    continue;
                };
                let id = ID_FIELDS
                    .iter()
                    .find_map(|k| fields.get(*k).and_then(text_of))
                    .unwrap_or_else(|| row.index.to_string());
                let answer = ANSWER_FIELDS
                    .iter()
                    .find_map(|k| fields.get(*k).and_then(text_of));
                items.push(Item {
                    id,
                    problem,
                    answer,
                    extra: None,
                });
            }
            Ok::<(), verity_core::Error>(())
        },
    )?;
    if let Some(e) = error {
        return Err(e);
    }
    if items.is_empty() {
        return Err(Error::EmptyBenchmark(path.display().to_string()));
    }
    Ok(Benchmark { name, items })
}

/// Resolve `--against` arguments: `builtin:all`, `builtin:a,b`, or paths.
pub fn resolve(specs: &[String]) -> Result<Vec<Benchmark>> {
    let mut out: Vec<Benchmark> = Vec::new();
    for spec in specs {
        if let Some(names) = spec.strip_prefix("builtin:") {
            for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                if name == "all" {
                    for b in BUILTIN {
                        if !out.iter().any(|x| x.name == b.name) {
                            out.push(b.load()?);
                        }
                    }
                    continue;
                }
                let b = builtin(name).ok_or_else(|| Error::UnknownBenchmark {
                    name: name.to_string(),
                    known: BUILTIN
                        .iter()
                        .map(|b| b.name)
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
                if !out.iter().any(|x| x.name == b.name) {
                    out.push(b.load()?);
                }
            }
        } else {
            out.push(from_path(&PathBuf::from(spec))?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_decodes_with_its_declared_count() {
        for b in BUILTIN {
            let bench = b.load().unwrap();
            assert_eq!(bench.items.len(), b.items, "{}", b.name);
            assert!(
                bench.items.iter().all(|i| !i.problem.trim().is_empty()),
                "{}",
                b.name
            );
            let mut ids: Vec<&str> = bench.items.iter().map(|i| i.id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), b.items, "{}: ids must be unique", b.name);
        }
    }

    #[test]
    fn builtin_content_is_the_real_benchmark() {
        let gsm8k = builtin("gsm8k").unwrap().load().unwrap();
        assert!(gsm8k.items[0]
            .problem
            .starts_with("Janet\u{2019}s ducks lay 16 eggs per day"));
        assert_eq!(gsm8k.items[0].answer.as_deref(), Some("18"));
        let math = builtin("math500").unwrap().load().unwrap();
        assert_eq!(math.items[0].id, "test/precalculus/807.json");
        let he = builtin("humaneval").unwrap().load().unwrap();
        assert_eq!(he.items[0].id, "HumanEval/0");
    }

    #[test]
    fn resolve_handles_lists_all_and_unknown_names() {
        let two = resolve(&["builtin:math500,aime24".to_string()]).unwrap();
        assert_eq!(
            two.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(),
            ["math500", "aime24"]
        );
        let all = resolve(&["builtin:all".to_string()]).unwrap();
        assert_eq!(all.len(), BUILTIN.len());
        let err = resolve(&["builtin:nope".to_string()]).unwrap_err();
        assert!(err.to_string().contains("known: gsm8k"), "{err}");
    }

    #[test]
    fn files_are_read_with_flexible_field_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mybench.jsonl");
        std::fs::write(
            &path,
            "{\"task_id\": \"t1\", \"question\": \"What is 2+2?\", \"reference\": \"4\"}\n{\"prompt\": \"Say hi\"}\n",
        )
        .unwrap();
        let b = from_path(&path).unwrap();
        assert_eq!(b.name, "mybench");
        assert_eq!(b.items[0].id, "t1");
        assert_eq!(b.items[0].answer.as_deref(), Some("4"));
        assert_eq!(b.items[1].id, "2");
        let bad = dir.path().join("bad.jsonl");
        std::fs::write(&bad, "{\"foo\": 1}\n").unwrap();
        assert!(from_path(&bad)
            .unwrap_err()
            .to_string()
            .contains("no problem text"));
    }
}
