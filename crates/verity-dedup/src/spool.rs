//! An on-disk spool of output lines.
//!
//! # What it does
//!
//! [`Spool`] appends lines (already encoded output rows) to an anonymous temporary file and
//! reads them back in the same order. Dedup encodes each record while streaming (on worker
//! threads), then after clustering replays the spool to route each line to the kept output or
//! the removed file, so memory does not grow with the data size.
//!
//! # Known failure modes
//!
//! - Needs free disk space about the size of the encoded output in the temporary directory
//!   (the output's directory by default, else the system temp dir).

use crate::error::{Error, Result};
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Lines written to a temporary file, read back in order.
pub struct Spool {
    file: BufWriter<std::fs::File>,
    dir: PathBuf,
    lines: u64,
    bytes: u64,
}

impl Spool {
    /// A spool in `dir` (the system temp dir when `None`). The file is deleted when dropped.
    pub fn create(dir: Option<&Path>) -> Result<Spool> {
        let dir = dir
            .map(Path::to_path_buf)
            .unwrap_or_else(std::env::temp_dir);
        let file = tempfile::tempfile_in(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(Spool {
            file: BufWriter::with_capacity(1 << 20, file),
            dir,
            lines: 0,
            bytes: 0,
        })
    }

    /// Append one line (must not contain a newline).
    pub fn push(&mut self, line: &[u8]) -> Result<()> {
        self.file
            .write_all(line)
            .and_then(|()| self.file.write_all(b"\n"))
            .map_err(|e| Error::io(&self.dir, e))?;
        self.lines += 1;
        self.bytes += line.len() as u64 + 1;
        Ok(())
    }

    /// Lines written.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Bytes written.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Read every line back in order; `f` gets the line index and the line (without newline).
    pub fn replay(self, mut f: impl FnMut(u64, &[u8]) -> Result<()>) -> Result<()> {
        let dir = self.dir.clone();
        let mut file = self
            .file
            .into_inner()
            .map_err(|e| Error::io(&dir, e.into_error()))?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| Error::io(&dir, e))?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut line = Vec::new();
        let mut index = 0u64;
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| Error::io(&dir, e))?;
            if n == 0 {
                break;
            }
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            f(index, &line)?;
            index += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_back_in_order() {
        let mut spool = Spool::create(None).unwrap();
        for i in 0..1000 {
            spool.push(format!("{{\"i\":{i}}}").as_bytes()).unwrap();
        }
        spool.push(b"").unwrap();
        assert_eq!(spool.lines(), 1001);
        let mut seen = Vec::new();
        spool
            .replay(|i, line| {
                seen.push((i, String::from_utf8(line.to_vec()).unwrap()));
                Ok(())
            })
            .unwrap();
        assert_eq!(seen.len(), 1001);
        assert_eq!(seen[7], (7, "{\"i\":7}".to_string()));
        assert_eq!(seen[1000].1, "");
    }
}
