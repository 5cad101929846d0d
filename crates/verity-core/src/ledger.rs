//! The ledger: one JSON line per stage run, the measured half of the release card.
//!
//! Every stage (and every subcommand, which is a stage run alone) appends a [`LedgerEntry`]:
//! its parameters, tool version, input/output row counts, rejection reasons with counts,
//! verifier identities, hashes of input and output files, and a stage-specific `summary`
//! (duplicate clusters, contamination hits per benchmark, pass-rate bands, ...). The card
//! builder reads these entries; nothing in a card marked `measured` comes from anywhere else.
//!
//! Wire format: JSON Lines, one [`LedgerEntry`] per line, appended (never rewritten).

use crate::error::{Error, Result};
use crate::record::VerifierId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// The version of verity that wrote an entry.
pub const TOOL_VERSION: &str = concat!("verity ", env!("CARGO_PKG_VERSION"));

/// A file with its size and SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FileDigest {
    /// Path as given.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
}

impl FileDigest {
    /// Hash a file (streaming). A file this process read to its end or wrote while
    /// [`set_streamed_digests`] was on, and that is unchanged since (same size and
    /// modification time), is not read again: its digest was computed as its bytes passed.
    pub fn of(path: &Path) -> Result<FileDigest> {
        if let Some((bytes, sha256)) = streamed::lookup(path) {
            return Ok(FileDigest {
                path: path.display().to_string(),
                bytes,
                sha256,
            });
        }
        let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 1 << 20];
        let mut bytes = 0u64;
        loop {
            let n = file.read(&mut buffer).map_err(|e| Error::io(path, e))?;
            if n == 0 {
                break;
            }
            bytes += n as u64;
            hasher.update(&buffer[..n]);
        }
        let sha256 = hex::encode(hasher.finalize());
        streamed::remember(path, bytes, &sha256);
        Ok(FileDigest {
            path: path.display().to_string(),
            bytes,
            sha256,
        })
    }
}

pub use streamed::{set_streamed_digests, streamed_digests, StreamDigest};

/// SHA-256 digests computed while files are read and written, so that a stage's ledger entry
/// does not read its (possibly many-GB) input and output again, single-threaded, after the
/// work: the reader thread hashes the input as it reads it, the writer the output as it writes
/// it, both alongside the workers.
mod streamed {
    use sha2::{Digest, Sha256};
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Mutex, OnceLock};
    use std::time::SystemTime;

    static ON: AtomicBool = AtomicBool::new(false);

    /// Digests by canonical path: (size, version, hex SHA-256).
    type Registry = Mutex<HashMap<PathBuf, (u64, Version, String)>>;

    fn registry() -> &'static Registry {
        static REGISTRY: OnceLock<Registry> = OnceLock::new();
        REGISTRY.get_or_init(Mutex::default)
    }

    /// Hash files as they are read and written from now on (off by default: a run that does
    /// not record digests should not pay for them).
    pub fn set_streamed_digests(on: bool) {
        ON.store(on, Ordering::Relaxed);
    }

    /// Whether files are hashed as they are read and written.
    pub fn streamed_digests() -> bool {
        ON.load(Ordering::Relaxed)
    }

    /// What identifies a version of a file: its modification time and, on Unix, its inode and
    /// status-change time (a file replaced or rewritten within the mtime's resolution still
    /// differs).
    type Version = (SystemTime, u64, i64, i64);

    /// The canonical path, size and [`Version`] of `path`.
    fn stamp(path: &Path) -> Option<(PathBuf, u64, Version)> {
        let canonical = std::fs::canonicalize(path).ok()?;
        let meta = std::fs::metadata(&canonical).ok()?;
        #[cfg(unix)]
        let extra = {
            use std::os::unix::fs::MetadataExt;
            (meta.ino(), meta.ctime(), meta.ctime_nsec())
        };
        #[cfg(not(unix))]
        let extra = (0, 0, 0);
        let version = (meta.modified().ok()?, extra.0, extra.1, extra.2);
        Some((canonical, meta.len(), version))
    }

    /// The streamed digest of `path`, if it has one and the file is unchanged since.
    pub(super) fn lookup(path: &Path) -> Option<(u64, String)> {
        let (canonical, bytes, modified) = stamp(path)?;
        let registry = registry().lock().ok()?;
        let (b, m, sha) = registry.get(&canonical)?;
        (*b == bytes && *m == modified).then(|| (bytes, sha.clone()))
    }

    /// Remember the digest of `path` computed by reading it whole (if it is `bytes` long).
    pub(super) fn remember(path: &Path, bytes: u64, sha256: &str) {
        if let Some((canonical, b, modified)) = stamp(path) {
            if b == bytes {
                if let Ok(mut registry) = registry().lock() {
                    registry.insert(canonical, (bytes, modified, sha256.to_string()));
                }
            }
        }
    }

    /// A digest being computed over the bytes of one file, in order, from its first byte.
    pub struct StreamDigest {
        hasher: Sha256,
        bytes: u64,
        /// The file's stamp when hashing began (inputs: a file changed while it was read is
        /// not remembered).
        start: Option<(u64, Version)>,
    }

    impl StreamDigest {
        /// Start hashing a file about to be read from its start (None when streamed digests
        /// are off or the file's digest is known).
        pub fn for_input(path: &Path) -> Option<StreamDigest> {
            // A file already hashed (e.g. `verity run` hashes its inputs first) is not hashed
            // again as it is read.
            if !streamed_digests() || lookup(path).is_some() {
                return None;
            }
            let (_, bytes, modified) = stamp(path)?;
            Some(StreamDigest {
                hasher: Sha256::new(),
                bytes: 0,
                start: Some((bytes, modified)),
            })
        }

        /// Start hashing a file about to be written (None when streamed digests are off).
        pub fn for_output() -> Option<StreamDigest> {
            streamed_digests().then(|| StreamDigest {
                hasher: Sha256::new(),
                bytes: 0,
                start: None,
            })
        }

        /// The next bytes of the file.
        pub fn update(&mut self, bytes: &[u8]) {
            self.hasher.update(bytes);
            self.bytes += bytes.len() as u64;
        }

        /// All bytes of `path` went through [`StreamDigest::update`]: remember the digest if
        /// the file is (still) exactly those bytes.
        pub fn finish(self, path: &Path) {
            let Some((canonical, bytes, modified)) = stamp(path) else {
                return;
            };
            if bytes != self.bytes || self.start.is_some_and(|s| s != (bytes, modified)) {
                return;
            }
            let sha = hex::encode(self.hasher.finalize());
            if let Ok(mut registry) = registry().lock() {
                registry.insert(canonical, (bytes, modified, sha));
            }
        }
    }
}

/// One stage run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LedgerEntry {
    /// Stage name: `read`, `convert`, `verify`, `score`, `dedup`, `decontam`, `select`, `split`, `export`.
    pub stage: String,
    /// Tool and version that ran it.
    pub tool: String,
    /// Start time, RFC 3339 UTC.
    pub started_at: String,
    /// End time, RFC 3339 UTC.
    pub finished_at: String,
    /// The stage's parameters, exactly as resolved.
    pub params: Value,
    /// Input files.
    #[serde(default)]
    pub inputs: Vec<FileDigest>,
    /// Output files.
    #[serde(default)]
    pub outputs: Vec<FileDigest>,
    /// Rows (records) read.
    pub rows_in: u64,
    /// Rows (records) written.
    pub rows_out: u64,
    /// Rejected rows by reason.
    #[serde(default)]
    pub rejections: BTreeMap<String, u64>,
    /// Verifiers whose feedback this stage wrote or read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verifiers: Vec<VerifierId>,
    /// Stage-specific measurements.
    #[serde(default)]
    pub summary: Value,
}

impl LedgerEntry {
    /// A new entry for `stage` starting now.
    pub fn start(stage: impl Into<String>, params: Value) -> LedgerEntry {
        let now = now_rfc3339();
        LedgerEntry {
            stage: stage.into(),
            tool: TOOL_VERSION.to_string(),
            started_at: now.clone(),
            finished_at: now,
            params,
            inputs: Vec::new(),
            outputs: Vec::new(),
            rows_in: 0,
            rows_out: 0,
            rejections: BTreeMap::new(),
            verifiers: Vec::new(),
            summary: Value::Null,
        }
    }

    /// Mark the entry finished now.
    pub fn finish(&mut self) {
        self.finished_at = now_rfc3339();
    }

    /// Put `value` under `key` in the stage-specific summary (turning a null summary into an
    /// object first).
    pub fn summarize(&mut self, key: &str, value: Value) {
        if !self.summary.is_object() {
            self.summary = Value::Object(serde_json::Map::new());
        }
        if let Value::Object(map) = &mut self.summary {
            map.insert(key.to_string(), value);
        }
    }

    /// Count one rejection for `reason`.
    pub fn reject(&mut self, reason: impl Into<String>, count: u64) {
        *self.rejections.entry(reason.into()).or_insert(0) += count;
    }

    /// Append this entry as one line to the ledger file at `path` (created if missing).
    ///
    /// All or nothing: the line is written whole or not at all (a failed write, e.g. on a full
    /// disk, is cut off again). A torn last line left by a process killed mid-append is removed
    /// first (see [`LedgerEntry::append`]). Concurrent appends are serialised by a lock on the
    /// file.
    pub fn append_to(&self, path: &Path) -> Result<()> {
        self.append(path).map(|_| ())
    }

    /// [`LedgerEntry::append_to`], returning what had to be repaired first.
    pub fn append(&self, path: &Path) -> Result<Appended> {
        let mut line = serde_json::to_vec(self).map_err(|e| Error::Other(e.to_string()))?;
        line.push(b'\n');
        if let Some(parent) = path.parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
        }
        let io = |e| Error::io(path, e);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .open(path)
            .map_err(io)?;
        file.lock().map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let whole = whole_lines_len(&mut file, len).map_err(io)?;
        if whole < len {
            file.set_len(whole).map_err(io)?;
        }
        file.seek(SeekFrom::Start(whole)).map_err(io)?;
        if let Err(e) = file.write_all(&line).and_then(|()| file.sync_data()) {
            // Take the partial line back so the ledger stays whole lines.
            let _ = file.set_len(whole);
            let _ = file.sync_data();
            return Err(io(e));
        }
        Ok(Appended {
            torn_bytes_removed: len - whole,
        })
    }
}

/// What [`LedgerEntry::append`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// Bytes of a torn last line (no newline) removed before appending; 0 normally.
    pub torn_bytes_removed: u64,
}

/// Length of the file up to and including its last newline.
fn whole_lines_len(file: &mut std::fs::File, len: u64) -> std::io::Result<u64> {
    let mut end = len;
    let mut block = [0u8; 4096];
    while end > 0 {
        let start = end.saturating_sub(block.len() as u64);
        let chunk = &mut block[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        if let Some(pos) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(start + pos as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// A ledger read back: the entries, and a torn last line that was skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerRead {
    /// Every whole entry, in order.
    pub entries: Vec<LedgerEntry>,
    /// `(line number, bytes)` of a last line without a newline that is not a valid entry (an
    /// append interrupted by a crash or a full disk); it was skipped.
    pub torn: Option<(u64, usize)>,
}

/// Read every entry of a ledger file. A torn last line (an interrupted append) is skipped with
/// a warning on stderr; any other bad line is an error naming the line.
pub fn read_ledger(path: &Path) -> Result<Vec<LedgerEntry>> {
    let read = read_ledger_checked(path)?;
    if let Some((line, bytes)) = read.torn {
        eprintln!(
            "warning: {}:{line}: torn last line ({bytes} bytes without a newline, an interrupted \
             append) skipped; the next append removes it",
            path.display()
        );
    }
    Ok(read.entries)
}

/// [`read_ledger`] without the warning: the torn last line, if any, is returned.
pub fn read_ledger_checked(path: &Path) -> Result<LedgerRead> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let complete = text.ends_with('\n');
    let count = text.lines().count();
    let mut entries = Vec::new();
    let mut torn = None;
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(entry) => entries.push(entry),
            Err(_) if !complete && index + 1 == count => {
                torn = Some((index as u64 + 1, line.len()));
            }
            Err(e) => {
                return Err(Error::Json {
                    path: path.display().to_string(),
                    line: index as u64 + 1,
                    message: e.to_string(),
                })
            }
        }
    }
    Ok(LedgerRead { entries, torn })
}

/// The current time as RFC 3339 UTC with second precision.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(secs)
}

/// Format seconds since the Unix epoch as RFC 3339 UTC.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
    }

    #[test]
    fn entries_append_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.jsonl");
        let mut entry = LedgerEntry::start("dedup", serde_json::json!({"threshold": 0.8}));
        entry.rows_in = 10;
        entry.rows_out = 8;
        entry.reject("near_duplicate", 2);
        entry.append_to(&path).unwrap();
        entry.stage = "decontam".into();
        entry.append_to(&path).unwrap();
        let entries = read_ledger(&path).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].rejections["near_duplicate"], 2);
        assert_eq!(entries[1].stage, "decontam");
    }

    #[test]
    fn a_torn_last_line_is_skipped_by_readers_and_removed_by_the_next_append() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.jsonl");
        let entry = LedgerEntry::start("dedup", serde_json::json!({}));
        entry.append_to(&path).unwrap();
        // A process killed mid-append (or a full disk) leaves half a line.
        let whole = std::fs::read(&path).unwrap();
        let mut torn = whole.clone();
        torn.extend_from_slice(&whole[..whole.len() / 2]);
        std::fs::write(&path, &torn).unwrap();
        let read = read_ledger_checked(&path).unwrap();
        assert_eq!(read.entries.len(), 1);
        assert_eq!(read.torn, Some((2, whole.len() / 2)));
        let appended = entry.append(&path).unwrap();
        assert_eq!(appended.torn_bytes_removed, (whole.len() / 2) as u64);
        let read = read_ledger_checked(&path).unwrap();
        assert_eq!((read.entries.len(), read.torn), (2, None));
        let mut expected = whole.clone();
        expected.extend_from_slice(&whole);
        assert_eq!(std::fs::read(&path).unwrap(), expected);
    }

    #[test]
    fn a_bad_line_inside_the_ledger_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.jsonl");
        let entry = LedgerEntry::start("dedup", serde_json::json!({}));
        entry.append_to(&path).unwrap();
        let line = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{line}{{\"stage\": \n{line}")).unwrap();
        let error = read_ledger(&path).unwrap_err().to_string();
        assert!(error.contains("ledger.jsonl:2"), "{error}");
    }
}
