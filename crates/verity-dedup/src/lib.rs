//! # verity-dedup
//!
//! verity's `dedup` and `decontam` stages.
//!
//! - [`normalize`]: the documented text normalization (NFKC, case, whitespace, LaTeX spacing)
//!   and word tokens shared by every matcher.
//! - [`exact`]: what text of a record is compared ([`exact::View`]) and exact-duplicate keys.
//! - [`minhash`]: one-permutation MinHash signatures with optimal densification.
//! - [`lsh`]: bands/rows from a threshold, band tables.
//! - [`cluster`]: union-find and keep policies.
//! - [`dedup`]: the streaming dedup engine (a pipeline blocker; ~63 B per record in memory,
//!   signatures and band entries spilled to disk).
//! - [`spill`]: append-only index storage in memory or in an unlinked temporary file.
//! - [`decontam`]: n-gram overlap plus a short-problem matcher against benchmark sets.
//! - [`benchmarks`]: the builtin benchmark registry (data shipped in the crate).
//! - [`report`]: the JSONL report lines of both stages.
//! - [`spool`]: an on-disk spool of encoded output lines, so dedup can write kept records in
//!   input order after the last record was seen without holding them in memory.
//!
//! ## Defaults (measured on the labelled 100k corpus, `bench/dedup/README.md`)
//!
//! Near-dup: word 5-shingles of `problem + "\n" + trace`, 128 bins, threshold **0.7**, which
//! gives **14 bands x 9 rows** (S-curve knee 0.746) and candidate verification at estimated
//! Jaccard >= 0.7: pair precision 1.000, recall 0.996 (0.8 -> recall 0.938 like datasketch;
//! 0.5 -> precision 0.9992). Decontamination: 13-grams + contained/fuzzy problem matcher:
//! recall 1.000 with 0 false flags. Memory of dedup: ~63 B per record plus the id
//! (1M records: 176 MiB peak for the whole `verity dedup` process).
//!
//! ```
//! use verity_dedup::dedup::{dedup_texts, DedupConfig};
//! let a = "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May.";
//! let b = "natalia sold clips to 48 of her friends in April, and then  she sold half as many clips in May.";
//! let out = dedup_texts(&DedupConfig::default(), &[a, b]);
//! assert_eq!(out.dup_of, vec![None, Some(0)]);
//! ```
#![deny(missing_docs)]

pub mod answer;
pub mod benchmarks;
pub mod cluster;
pub mod decontam;
pub mod dedup;
pub mod error;
pub mod exact;
pub mod lsh;
pub mod minhash;
pub mod normalize;
pub mod report;
pub mod spill;
pub mod spool;

pub use error::{Error, Result};
