//! An exclusive lock on an output directory, so two runs never write into one directory at once.
//!
//! The lock is an OS advisory lock (`flock`) on `DIR/.verity.lock`, held for the life of a
//! [`DirLock`]: it is released when the value is dropped or the process dies (even by
//! `kill -9`), so a crashed run never leaves a stale lock behind. The file holds the pid of the
//! holder, for the message the second run prints. A directory the lock created, and in which
//! nothing else was written, is removed again on drop (a run that failed early leaves nothing).

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Name of the lock file inside a locked directory.
pub const LOCK_FILE: &str = ".verity.lock";

/// A held lock on a directory (released on drop).
#[derive(Debug)]
pub struct DirLock {
    _file: File,
    path: PathBuf,
    /// The directory did not exist before the lock.
    created: Option<PathBuf>,
}

impl DirLock {
    /// Create `dir` if needed and lock it; fails at once, naming the holder, when another
    /// process holds the lock.
    pub fn acquire(dir: &Path) -> Result<DirLock> {
        let created = (!dir.exists()).then(|| dir.to_path_buf());
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let path = dir.join(LOCK_FILE);
        let io = |e| Error::io(&path, e);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let who = if holder.is_empty() {
                    "another process".to_string()
                } else {
                    format!("process {holder}")
                };
                return Err(Error::Other(format!(
                    "{}: {who} is writing into this directory (it holds {}); wait for it to \
                     finish or choose another output directory",
                    dir.display(),
                    path.display()
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(DirLock {
            _file: file,
            path,
            created,
        })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let Some(dir) = &self.created else {
            return;
        };
        let only_the_lock = std::fs::read_dir(dir)
            .map(|entries| entries.flatten().all(|e| e.path() == self.path))
            .unwrap_or(false);
        if only_the_lock {
            let _ = std::fs::remove_file(&self.path);
            let _ = std::fs::remove_dir(dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_directory_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let first = DirLock::acquire(&out).unwrap();
        let error = DirLock::acquire(&out).unwrap_err().to_string();
        assert!(
            error.contains(&format!("process {}", std::process::id())),
            "{error}"
        );
        assert!(error.contains("is writing into this directory"), "{error}");
        drop(first);
        // The lock created `out` and nothing else was written there: it is gone again.
        assert!(!out.exists());
        let again = DirLock::acquire(&out).unwrap();
        assert!(again.path().ends_with(LOCK_FILE));
        std::fs::write(out.join("data.jsonl"), "{}\n").unwrap();
        drop(again);
        assert!(
            out.join("data.jsonl").exists(),
            "a directory with outputs stays"
        );
    }
}
