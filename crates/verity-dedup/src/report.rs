//! Report lines (JSON Lines) written by `verity dedup --report` and `verity decontam --report`.
//!
//! Wire format, one object per line:
//!
//! - dedup, one line per cluster of two or more records:
//!   `{"cluster": 0, "kept": "r12", "size": 3, "members": [{"id": "r12", "similarity": 1.0,
//!   "match": "kept"}, {"id": "r40", "similarity": 0.91, "match": "near"}, ...]}`
//!   where `similarity` is to the kept record (1 for exact duplicates; the signature estimate,
//!   or exact Jaccard with `--verify-jaccard`, for near duplicates) and `match` is `kept`,
//!   `exact` or `near`. Members are in input order.
//! - decontam, one line per hit: `{"record": "r7", "field": "problem", "benchmark": "gsm8k",
//!   "item": "3", "method": "ngram", "span": "...", "matched_words": 25, "score": 1.0}`.
//!
//! The writer is atomic (temp file + rename on [`ReportWriter::finish`]).

use crate::decontam::Hit;
use crate::dedup::{Cluster, MatchKind};
use crate::error::{Error, Result};
use serde::Serialize;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use verity_core::io::AtomicFile;

/// One member in a dedup report line.
#[derive(Debug, Serialize)]
pub struct MemberLine<'a> {
    /// Record id.
    pub id: &'a str,
    /// Similarity to the kept record.
    pub similarity: f64,
    /// How it matched.
    #[serde(rename = "match")]
    pub kind: MatchKind,
}

/// One dedup report line.
#[derive(Debug, Serialize)]
pub struct ClusterLine<'a> {
    /// Cluster number (0-based, ordered by the kept record's position).
    pub cluster: usize,
    /// Kept record id.
    pub kept: &'a str,
    /// Members including the kept one.
    pub size: usize,
    /// Members in input order.
    pub members: Vec<MemberLine<'a>>,
}

impl<'a> ClusterLine<'a> {
    /// The line for `cluster`, with ids looked up by record index.
    pub fn new(number: usize, cluster: &Cluster, id: impl Fn(u32) -> &'a str) -> ClusterLine<'a> {
        ClusterLine {
            cluster: number,
            kept: id(cluster.kept),
            size: cluster.members.len(),
            members: cluster
                .members
                .iter()
                .map(|m| MemberLine {
                    id: id(m.index),
                    similarity: (m.similarity * 10_000.0).round() / 10_000.0,
                    kind: m.kind,
                })
                .collect(),
        }
    }
}

/// One decontam report line.
#[derive(Debug, Serialize)]
pub struct HitLine<'a> {
    /// Record id.
    pub record: &'a str,
    /// The hit.
    #[serde(flatten)]
    pub hit: &'a Hit,
}

/// Writes report lines atomically.
pub struct ReportWriter {
    path: PathBuf,
    out: BufWriter<AtomicFile>,
    lines: u64,
}

impl ReportWriter {
    /// Start a report at `path`.
    pub fn create(path: &Path) -> Result<ReportWriter> {
        let file = AtomicFile::create(path)?;
        Ok(ReportWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(1 << 20, file),
            lines: 0,
        })
    }

    /// Write one line.
    pub fn write<T: Serialize>(&mut self, line: &T) -> Result<()> {
        serde_json::to_writer(&mut self.out, line)
            .map_err(|e| Error::io(&self.path, std::io::Error::other(e)))?;
        self.out
            .write_all(b"\n")
            .map_err(|e| Error::io(&self.path, e))?;
        self.lines += 1;
        Ok(())
    }

    /// Lines written.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Flush and move into place.
    pub fn finish(self) -> Result<PathBuf> {
        let file = self
            .out
            .into_inner()
            .map_err(|e| Error::io(&self.path, e.into_error()))?;
        file.commit()?;
        Ok(self.path)
    }
}
