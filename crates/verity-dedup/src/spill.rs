//! Append-only index storage kept in memory or spilled to an unlinked temporary file.
//!
//! # What it does
//!
//! [`Spill`] stores what dedup accumulates per record and reads only at the end (MinHash
//! signatures, LSH band entries): appended while streaming, read back at offsets
//! ([`Spill::read_at`]) or whole ([`Spill::read_u64s`]) after [`Spill::seal`].
//!
//! # Why
//!
//! Signatures and band entries are ~370 B per record at the defaults, three quarters of
//! dedup's index: on disk they cost page cache, not resident memory, and are read back once
//! per band or per candidate pair.
//!
//! # Known failure modes
//!
//! - A file spill needs free disk space of about 370 B per record in its directory; a full
//!   disk is an error naming the directory.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Bytes appended in order, read back after [`Spill::seal`].
pub struct Spill {
    store: Store,
    len: u64,
}

enum Store {
    Memory(Vec<u8>),
    File {
        writer: BufWriter<File>,
        dir: PathBuf,
    },
}

impl Spill {
    /// Storage in memory.
    pub fn memory() -> Spill {
        Spill {
            store: Store::Memory(Vec::new()),
            len: 0,
        }
    }

    /// Storage in an anonymous temporary file in `dir` (deleted when dropped).
    pub fn file_in(dir: &Path) -> Result<Spill> {
        let file = tempfile::tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
        Ok(Spill {
            store: Store::File {
                writer: BufWriter::with_capacity(64 << 10, file),
                dir: dir.to_path_buf(),
            },
            len: 0,
        })
    }

    /// Append bytes.
    pub fn append(&mut self, bytes: &[u8]) -> Result<()> {
        match &mut self.store {
            Store::Memory(v) => v.extend_from_slice(bytes),
            Store::File { writer, dir } => {
                writer.write_all(bytes).map_err(|e| Error::io(&*dir, e))?
            }
        }
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Bytes appended.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when nothing was appended.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes held in memory (buffers included).
    pub fn resident_bytes(&self) -> usize {
        match &self.store {
            Store::Memory(v) => v.capacity(),
            Store::File { writer, .. } => writer.capacity(),
        }
    }

    /// Finish appending: everything appended becomes readable.
    pub fn seal(&mut self) -> Result<()> {
        if let Store::File { writer, dir } = &mut self.store {
            writer.flush().map_err(|e| Error::io(&*dir, e))?;
        }
        Ok(())
    }

    /// Fill `buf` with the bytes at `offset` (after [`Spill::seal`]).
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        match &self.store {
            Store::Memory(v) => {
                let start = usize::try_from(offset).unwrap_or(usize::MAX);
                let bytes = start
                    .checked_add(buf.len())
                    .and_then(|end| v.get(start..end))
                    .ok_or_else(|| {
                        Error::Config(format!("internal: spill read past its end at {offset}"))
                    })?;
                buf.copy_from_slice(bytes);
                Ok(())
            }
            Store::File { writer, dir } => writer
                .get_ref()
                .read_exact_at(buf, offset)
                .map_err(|e| Error::io(&*dir, e)),
        }
    }

    /// Everything appended, read as little-endian `u64`s (after [`Spill::seal`]).
    pub fn read_u64s(&self) -> Result<Vec<u64>> {
        let mut out = Vec::with_capacity((self.len / 8) as usize);
        let mut chunk = vec![0u8; (1 << 20).min(self.len as usize)];
        let mut offset = 0u64;
        while offset < self.len {
            let n = chunk.len().min((self.len - offset) as usize) & !7;
            if n == 0 {
                break;
            }
            self.read_at(offset, &mut chunk[..n])?;
            out.extend(
                chunk[..n]
                    .chunks_exact(8)
                    .map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default())),
            );
            offset += n as u64;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(mut spill: Spill) {
        let values: Vec<u64> = (0..200_000u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .collect();
        for v in &values {
            spill.append(&v.to_le_bytes()).unwrap();
        }
        spill.seal().unwrap();
        assert_eq!(spill.len(), 1_600_000);
        assert_eq!(spill.read_u64s().unwrap(), values);
        let mut buf = [0u8; 8];
        spill.read_at(8 * 123_456, &mut buf).unwrap();
        assert_eq!(u64::from_le_bytes(buf), values[123_456]);
        assert!(spill.read_at(1_600_000 - 4, &mut buf).is_err());
    }

    #[test]
    fn memory_and_file_spills_read_back_what_was_appended() {
        round_trip(Spill::memory());
        let dir = tempfile::tempdir().unwrap();
        let spill = Spill::file_in(dir.path()).unwrap();
        assert!(spill.resident_bytes() <= 64 << 10);
        round_trip(spill);
    }
}
