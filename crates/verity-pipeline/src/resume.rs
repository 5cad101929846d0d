//! Resumable runs: content-addressed checkpoints per segment.
//!
//! # How it works
//!
//! Every segment of the plan (see [`crate::plan`]) has a **key**: the SHA-256 of
//! - the previous segment's key (for segment 0: the SHA-256 and size of every input file, in
//!   order, plus the input settings `layout` and `on_error`),
//! - the exact configuration of the segment's stages (the recipe's TOML values, re-serialized
//!   as JSON, so comments and formatting do not matter),
//! - the tool version.
//!
//! A segment that is not the last writes its output records (verity's own JSONL), its per-stage
//! rejects and its ledger entries into `OUT/.verity/checkpoints/NN-<key>.tmp-<pid>/` and
//! renames the directory to `NN-<key>/` only when everything is written and synced: a
//! checkpoint directory under its final name is complete by construction.
//!
//! On a rerun, the runner looks for each segment's key in order. Present: the segment is
//! skipped and its checkpoint is the next segment's input. Absent (first run, killed during
//! that segment, or anything upstream changed — an input file's bytes, a stage parameter, a
//! stage added or removed before it): the segment and everything after it run again. So a
//! SIGKILL at any point loses at most the segment in progress, and because every segment is a
//! deterministic function of its input and configuration, the final output is byte-identical to
//! an uninterrupted run: no lost and no duplicated rows.
//!
//! The last segment writes the data files directly (each atomically); `run.json` is written
//! last and removed at the start of every run, so its presence means the outputs in the
//! directory are complete and belong together. Stale checkpoints (from an older recipe or
//! input) are removed at the end of a successful run; leftover `.tmp-*` directories of killed
//! runs are removed at the start.
//!
//! Known failure modes: two runs writing the same output directory at the same time are not
//! detected; do not do that. Input files are hashed in full at the start (about 1-2 s per GB).

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use verity_core::ledger::FileDigest;

/// Name of the checkpoint root inside the output directory.
pub const CHECKPOINTS: &str = ".verity/checkpoints";

/// SHA-256 of several parts, hex.
pub fn hash_parts(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())
}

/// The key of segment 0's input: the input digests and settings.
pub fn input_key(digests: &[FileDigest], settings: &serde_json::Value) -> String {
    let mut parts: Vec<Vec<u8>> = vec![settings.to_string().into_bytes()];
    for d in digests {
        parts.push(format!("{}:{}", d.bytes, d.sha256).into_bytes());
    }
    let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_slice()).collect();
    hash_parts(&refs)
}

/// The key of a segment given the previous key and its stages' configuration.
pub fn segment_key(previous: &str, stages: &serde_json::Value) -> String {
    hash_parts(&[
        previous.as_bytes(),
        stages.to_string().as_bytes(),
        verity_core::ledger::TOOL_VERSION.as_bytes(),
    ])
}

/// The checkpoint directory of segment `index` with `key`.
pub fn checkpoint_dir(out: &Path, index: usize, key: &str) -> PathBuf {
    out.join(CHECKPOINTS)
        .join(format!("{index:02}-{}", &key[..16.min(key.len())]))
}

/// A completed checkpoint, if present.
pub fn find(out: &Path, index: usize, key: &str) -> Option<PathBuf> {
    let dir = checkpoint_dir(out, index, key);
    (dir.join("records.jsonl").is_file() && dir.join("entries.json").is_file()).then_some(dir)
}

/// A checkpoint being written: a temporary directory renamed into place by [`Pending::commit`],
/// removed when dropped uncommitted.
pub struct Pending {
    temp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl Pending {
    /// Create the temporary directory for segment `index` with `key`.
    pub fn create(out: &Path, index: usize, key: &str) -> Result<Pending> {
        let target = checkpoint_dir(out, index, key);
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let temp = target.with_file_name(format!("{name}.tmp-{}", std::process::id()));
        if temp.exists() {
            std::fs::remove_dir_all(&temp).map_err(|e| Error::io(&temp, e))?;
        }
        std::fs::create_dir_all(temp.join("rejects")).map_err(|e| Error::io(&temp, e))?;
        Ok(Pending {
            temp,
            target,
            committed: false,
        })
    }

    /// Where to write.
    pub fn dir(&self) -> &Path {
        &self.temp
    }

    /// Rename into place (replacing a stale directory of the same name).
    pub fn commit(mut self) -> Result<PathBuf> {
        if self.target.exists() {
            std::fs::remove_dir_all(&self.target).map_err(|e| Error::io(&self.target, e))?;
        }
        // make the files durable before the rename makes them visible
        if let Ok(f) = std::fs::File::open(&self.temp) {
            let _ = f.sync_all();
        }
        std::fs::rename(&self.temp, &self.target).map_err(|e| Error::io(&self.target, e))?;
        self.committed = true;
        Ok(self.target.clone())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.temp);
        }
    }
}

/// Remove leftover temporary checkpoint directories (from killed runs).
pub fn clean_temp(out: &Path) {
    let root = out.join(CHECKPOINTS);
    if let Ok(entries) = std::fs::read_dir(&root) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().contains(".tmp-") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

/// Remove checkpoints that are not in `keep` (stale: older recipe or input).
pub fn prune(out: &Path, keep: &[PathBuf]) {
    let root = out.join(CHECKPOINTS);
    if let Ok(entries) = std::fs::read_dir(&root) {
        for e in entries.flatten() {
            let p = e.path();
            if !keep.iter().any(|k| k == &p) {
                let _ = std::fs::remove_dir_all(&p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_change_with_inputs_and_stages() {
        let d = |sha: &str| FileDigest {
            path: "a".into(),
            bytes: 3,
            sha256: sha.into(),
        };
        let s = serde_json::json!({"layout": null});
        let k1 = input_key(&[d("aa")], &s);
        assert_eq!(k1, input_key(&[d("aa")], &s));
        assert_ne!(k1, input_key(&[d("ab")], &s));
        let a = segment_key(
            &k1,
            &serde_json::json!([{"stage": "dedup", "threshold": 0.7}]),
        );
        let b = segment_key(
            &k1,
            &serde_json::json!([{"stage": "dedup", "threshold": 0.8}]),
        );
        assert_ne!(a, b);
    }

    #[test]
    fn pending_is_invisible_until_committed() {
        let dir = tempfile::tempdir().unwrap();
        let key = "0123456789abcdef0123";
        {
            let p = Pending::create(dir.path(), 0, key).unwrap();
            std::fs::write(p.dir().join("records.jsonl"), b"x\n").unwrap();
            std::fs::write(p.dir().join("entries.json"), b"[]").unwrap();
            assert!(find(dir.path(), 0, key).is_none());
        }
        assert!(find(dir.path(), 0, key).is_none());
        let p = Pending::create(dir.path(), 0, key).unwrap();
        std::fs::write(p.dir().join("records.jsonl"), b"x\n").unwrap();
        std::fs::write(p.dir().join("entries.json"), b"[]").unwrap();
        p.commit().unwrap();
        assert!(find(dir.path(), 0, key).is_some());
    }
}
