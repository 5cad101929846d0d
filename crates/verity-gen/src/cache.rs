//! The request cache: never pay twice.
//!
//! What it does: a SQLite database (rusqlite, bundled SQLite, WAL journal) mapping a request
//! key to the sample it produced. The key is the SHA-256 of the model, the API route, the
//! rendered messages or prompt, the sampling parameters and the sample index
//! ([`request_key`]); the API key and the base URL are not part of it (moving a model to
//! another host keeps its cache). A sample is committed as soon as its reply is parsed, before
//! it is used, so after a kill -9 at any moment a rerun finds every sample that was answered
//! and sends only the requests that were not.
//!
//! Known failure modes: a request in flight at the moment of a kill was sent but its answer
//! was not stored; the rerun sends it again (at most `concurrency` such requests). Two
//! processes may share a cache file (SQLite locks it); a busy database is waited on for up to
//! 30 s.

use crate::error::{Error, Result};
use crate::response::Sample;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The cache key of one sample.
pub fn request_key(model: &str, route: &str, body: &Value, sample_index: u32) -> String {
    let canonical = serde_json::json!({
        "model": model,
        "route": route,
        "body": body,
        "sample": sample_index,
    });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// An open request cache.
pub struct Cache {
    path: PathBuf,
    connection: Mutex<Connection>,
}

impl Cache {
    /// Open (or create) the cache at `path`, creating its directory.
    pub fn open(path: &Path) -> Result<Cache> {
        let err = |message: String| Error::Cache {
            path: path.to_path_buf(),
            message,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| err(format!("cannot create {}: {e}", dir.display())))?;
        }
        let connection = Connection::open(path).map_err(|e| err(e.to_string()))?;
        connection
            .busy_timeout(std::time::Duration::from_secs(30))
            .map_err(|e| err(e.to_string()))?;
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 CREATE TABLE IF NOT EXISTS samples (
                     key TEXT PRIMARY KEY NOT NULL,
                     sample TEXT NOT NULL,
                     created_at INTEGER NOT NULL
                 );",
            )
            .map_err(|e| err(format!("not a verity request cache: {e}")))?;
        Ok(Cache {
            path: path.to_path_buf(),
            connection: Mutex::new(connection),
        })
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, message: impl std::fmt::Display) -> Error {
        Error::Cache {
            path: self.path.clone(),
            message: message.to_string(),
        }
    }

    /// The sample stored under `key`.
    pub fn get(&self, key: &str) -> Result<Option<Sample>> {
        let connection = self.connection.lock().map_err(|_| self.err("poisoned"))?;
        let text: Option<String> = connection
            .prepare_cached("SELECT sample FROM samples WHERE key = ?1")
            .and_then(|mut s| s.query_row(params![key], |row| row.get(0)).optional())
            .map_err(|e| self.err(e))?;
        match text {
            None => Ok(None),
            Some(t) => serde_json::from_str(&t)
                .map(Some)
                .map_err(|e| self.err(format!("entry {key} is corrupt: {e}"))),
        }
    }

    /// Store samples (one transaction: a reply's choices are stored together or not at all).
    pub fn put(&self, entries: &[(String, Sample)]) -> Result<()> {
        let mut connection = self.connection.lock().map_err(|_| self.err("poisoned"))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let tx = connection.transaction().map_err(|e| self.err(e))?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO samples (key, sample, created_at) VALUES (?1, ?2, ?3)",
                )
                .map_err(|e| self.err(e))?;
            for (key, sample) in entries {
                let text = serde_json::to_string(sample).map_err(|e| self.err(e))?;
                insert
                    .execute(params![key, text, now])
                    .map_err(|e| self.err(e))?;
            }
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// Number of stored samples.
    pub fn len(&self) -> Result<u64> {
        let connection = self.connection.lock().map_err(|_| self.err("poisoned"))?;
        connection
            .query_row("SELECT COUNT(*) FROM samples", [], |row| {
                row.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(text: &str) -> Sample {
        Sample {
            model: "m".into(),
            text: text.into(),
            reasoning: None,
            finish_reason: Some("stop".into()),
            prompt_tokens: Some(3),
            completion_tokens: Some(2),
            latency_ms: 5,
        }
    }

    #[test]
    fn samples_survive_reopening_and_are_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/cache.sqlite");
        {
            let cache = Cache::open(&path).unwrap();
            cache.put(&[("k".into(), sample("first"))]).unwrap();
            cache.put(&[("k".into(), sample("second"))]).unwrap();
        }
        let cache = Cache::open(&path).unwrap();
        assert_eq!(cache.get("k").unwrap().unwrap().text, "first");
        assert_eq!(cache.get("other").unwrap(), None);
        assert_eq!(cache.len().unwrap(), 1);
    }

    #[test]
    fn keys_differ_by_every_part() {
        let body = serde_json::json!({"messages": [{"role": "user", "content": "x"}]});
        let k = request_key("m", "chat/completions", &body, 0);
        assert_ne!(k, request_key("m2", "chat/completions", &body, 0));
        assert_ne!(k, request_key("m", "completions", &body, 0));
        assert_ne!(k, request_key("m", "chat/completions", &body, 1));
        let other = serde_json::json!({"messages": [{"role": "user", "content": "y"}]});
        assert_ne!(k, request_key("m", "chat/completions", &other, 0));
    }

    #[test]
    fn a_file_that_is_not_a_database_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.sqlite");
        std::fs::write(
            &path,
            "this is not sqlite, it is a text file of some length ....",
        )
        .unwrap();
        let e = Cache::open(&path).err().expect("opened a text file");
        assert!(e.to_string().contains("cache.sqlite"), "{e}");
    }
}
