//! Atomic, optionally sharded and compressed outputs.
//!
//! Every output is written to a temporary file in the destination directory and renamed into
//! place only when complete ([`AtomicFile::commit`]); a run that fails or is killed leaves no
//! half-written file under the final name. [`RowWriter`] picks the format from the output name
//! (`.jsonl`, `.jsonl.gz`, `.jsonl.zst`, `.parquet`) and can cut the output into shards of a
//! given size (`name-00000.jsonl`, `name-00001.jsonl`, ...).

use crate::error::{Error, Result};
use crate::ledger::StreamDigest;
use serde_json::Value;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A file written under a temporary name and renamed into place on [`AtomicFile::commit`].
/// Dropping it without committing removes the temporary file.
pub struct AtomicFile {
    path: PathBuf,
    temp: Option<tempfile::NamedTempFile>,
    /// Bytes written so far.
    written: u64,
    /// Bytes already handed to the kernel for write-back ([`WRITEBACK_BYTES`]).
    handed: u64,
    /// SHA-256 of the bytes written so far, with streamed digests on (dropped when the file is
    /// reached directly through [`AtomicFile::file`]).
    digest: Option<StreamDigest>,
}

/// With durable outputs, start writing back every this many bytes while the output grows, so
/// the final `fsync` of [`AtomicFile::commit`] has little left to wait for (on Linux; elsewhere
/// the commit does it all).
const WRITEBACK_BYTES: u64 = 16 << 20;

static DURABLE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Make every output committed from now on durable: flushed to disk (`fsync`) before it is
/// renamed into place, and its directory entry synced after. Off by default: outputs are always
/// atomic (a failed or killed run never leaves a partial file under the final name), but without
/// this a power loss shortly after a run can lose data the kernel had not yet written; with it a
/// run waits for the disk (seconds per GB on slow disks). `verity --fsync` turns it on.
pub fn set_durable_outputs(durable: bool) {
    DURABLE.store(durable, std::sync::atomic::Ordering::Relaxed);
}

fn durable() -> bool {
    DURABLE.load(std::sync::atomic::Ordering::Relaxed)
}

impl AtomicFile {
    /// Create the temporary file next to `path` (creating parent directories).
    pub fn create(path: &Path) -> Result<AtomicFile> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "output".into());
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .tempfile_in(&dir)
            .map_err(|e| Error::io(&dir, e))?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            temp: Some(temp),
            written: 0,
            handed: 0,
            digest: StreamDigest::for_output(),
        })
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open temporary file (writes through it are not in the streamed digest, which is
    /// then not kept).
    pub fn file(&mut self) -> &mut std::fs::File {
        self.digest = None;
        self.temp
            .as_mut()
            .map(|t| t.as_file_mut())
            .expect("AtomicFile used after commit")
    }

    /// Rename into place (flushing to disk first with [`set_durable_outputs`]).
    pub fn commit(mut self) -> Result<()> {
        let temp = self
            .temp
            .take()
            .ok_or_else(|| Error::Other("output committed twice".into()))?;
        let durable = durable();
        if durable {
            temp.as_file()
                .sync_all()
                .map_err(|e| Error::io(&self.path, e))?;
        }
        // Temporary files are created 0600; a finished output is an ordinary file.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            temp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))
                .map_err(|e| Error::io(&self.path, e))?;
        }
        temp.persist(&self.path)
            .map_err(|e| Error::io(&self.path, e.error))?;
        if let Some(digest) = self.digest.take() {
            digest.finish(&self.path);
        }
        if durable {
            // The rename itself is durable once the directory is synced.
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                if let Ok(handle) = std::fs::File::open(dir) {
                    let _ = handle.sync_all();
                }
            }
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let file = self
            .temp
            .as_mut()
            .map(|t| t.as_file_mut())
            .ok_or_else(|| std::io::Error::other("AtomicFile used after commit"))?;
        let n = file.write(buf)?;
        if let Some(digest) = self.digest.as_mut() {
            digest.update(&buf[..n]);
        }
        self.written += n as u64;
        if self.written - self.handed >= WRITEBACK_BYTES && durable() {
            let (offset, len) = (self.handed, self.written - self.handed);
            self.handed = self.written;
            start_writeback(self.file(), offset, len);
        }
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self.temp.as_mut() {
            Some(t) => t.as_file_mut().flush(),
            None => Ok(()),
        }
    }
}

/// Ask the kernel to start writing `len` bytes at `offset` to disk without waiting for it
/// (`sync_file_range(SYNC_FILE_RANGE_WRITE)`): the write-back overlaps the rest of the run
/// instead of all happening in the final `fsync`. Only a hint; errors are ignored (the commit's
/// `fsync` reports real write failures).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn start_writeback(file: &std::fs::File, offset: u64, len: u64) {
    use std::os::unix::io::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: plain system call on a file descriptor owned by `file`, which outlives the call;
    // no memory is passed.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &std::fs::File, _offset: u64, _len: u64) {}

/// Write `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes).map_err(|e| Error::io(path, e))?;
    file.commit()
}

/// Output container format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// JSON Lines, uncompressed.
    JsonLines,
    /// JSON Lines, gzip.
    JsonLinesGzip,
    /// JSON Lines, zstd.
    JsonLinesZstd,
    /// Parquet (schema inferred per shard, zstd-compressed).
    Parquet,
}

impl OutputFormat {
    /// The format implied by an output file name.
    pub fn from_path(path: &Path) -> Result<OutputFormat> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if name.ends_with(".jsonl.gz") || name.ends_with(".ndjson.gz") {
            Ok(OutputFormat::JsonLinesGzip)
        } else if name.ends_with(".jsonl.zst") || name.ends_with(".ndjson.zst") {
            Ok(OutputFormat::JsonLinesZstd)
        } else if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
            Ok(OutputFormat::JsonLines)
        } else if name.ends_with(".parquet") {
            Ok(OutputFormat::Parquet)
        } else {
            Err(Error::Other(format!(
                "{}: cannot tell the output format from the name; use .jsonl, .jsonl.gz, .jsonl.zst or .parquet",
                path.display()
            )))
        }
    }

    fn extension(self) -> &'static str {
        match self {
            OutputFormat::JsonLines => ".jsonl",
            OutputFormat::JsonLinesGzip => ".jsonl.gz",
            OutputFormat::JsonLinesZstd => ".jsonl.zst",
            OutputFormat::Parquet => ".parquet",
        }
    }
}

/// Writer settings.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// Start a new shard when the current one holds this many uncompressed bytes.
    pub shard_bytes: Option<u64>,
}

enum Sink {
    Plain(BufWriter<AtomicFile>),
    Gzip(flate2::write::GzEncoder<BufWriter<AtomicFile>>),
    Zstd(zstd::stream::write::Encoder<'static, BufWriter<AtomicFile>>),
    Parquet(Box<ParquetShard>),
}

/// Without `--shard-size`, Parquet output is still cut into files of about this size.
const PARQUET_SHARD_DEFAULT: u64 = 1 << 30;

/// Rows are buffered (as JSON values) up to about this many bytes, then written as one row
/// group; this bounds the memory of a Parquet output.
const PARQUET_ROW_GROUP_BYTES: u64 = 16 << 20;

/// Writes rows (JSON values or pre-serialized JSON lines) to one or more output files.
pub struct RowWriter {
    base: PathBuf,
    format: OutputFormat,
    options: WriteOptions,
    current: Option<Sink>,
    current_bytes: u64,
    shard_index: usize,
    written: Vec<PathBuf>,
    rows: u64,
}

impl RowWriter {
    /// A writer for `path` (format from the name).
    pub fn create(path: &Path, options: WriteOptions) -> Result<RowWriter> {
        let format = OutputFormat::from_path(path)?;
        Ok(RowWriter {
            base: path.to_path_buf(),
            format,
            options,
            current: None,
            current_bytes: 0,
            shard_index: 0,
            written: Vec::new(),
            rows: 0,
        })
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    fn shard_limit(&self) -> Option<u64> {
        match (self.options.shard_bytes, self.format) {
            (Some(limit), _) => Some(limit),
            (None, OutputFormat::Parquet) => Some(PARQUET_SHARD_DEFAULT),
            (None, _) => None,
        }
    }

    fn shard_path(&self, index: usize) -> PathBuf {
        if self.options.shard_bytes.is_none() && index == 0 {
            return self.base.clone();
        }
        let name = self
            .base
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let ext = self.format.extension();
        let stem = name.strip_suffix(ext).unwrap_or(&name);
        self.base.with_file_name(format!("{stem}-{index:05}{ext}"))
    }

    fn open_shard(&mut self) -> Result<()> {
        let path = self.shard_path(self.shard_index);
        let file = AtomicFile::create(&path)?;
        let sink = match self.format {
            OutputFormat::JsonLines => Sink::Plain(BufWriter::with_capacity(1 << 20, file)),
            OutputFormat::JsonLinesGzip => Sink::Gzip(flate2::write::GzEncoder::new(
                BufWriter::with_capacity(1 << 20, file),
                flate2::Compression::default(),
            )),
            OutputFormat::JsonLinesZstd => Sink::Zstd(
                zstd::stream::write::Encoder::new(BufWriter::with_capacity(1 << 20, file), 3)
                    .map_err(|e| Error::io(&path, e))?,
            ),
            OutputFormat::Parquet => Sink::Parquet(Box::new(ParquetShard::new(file))),
        };
        self.current = Some(sink);
        self.current_bytes = 0;
        Ok(())
    }

    /// Write one row given as a JSON line (without the newline).
    pub fn write_line(&mut self, line: &[u8]) -> Result<()> {
        if self.format == OutputFormat::Parquet {
            let value: Value = serde_json::from_slice(line)
                .map_err(|e| Error::Other(format!("internal: row is not JSON: {e}")))?;
            return self.write_value(value);
        }
        self.before_row()?;
        let path = self.shard_path(self.shard_index);
        let io = |e| Error::io(&path, e);
        match self.current.as_mut() {
            Some(Sink::Plain(w)) => w
                .write_all(line)
                .and_then(|()| w.write_all(b"\n"))
                .map_err(io)?,
            Some(Sink::Gzip(w)) => w
                .write_all(line)
                .and_then(|()| w.write_all(b"\n"))
                .map_err(io)?,
            Some(Sink::Zstd(w)) => w
                .write_all(line)
                .and_then(|()| w.write_all(b"\n"))
                .map_err(io)?,
            _ => {}
        }
        self.current_bytes += line.len() as u64 + 1;
        self.rows += 1;
        Ok(())
    }

    /// Write a batch of `rows` rows given as JSON Lines text (every row followed by `\n`, no
    /// blank lines). Plain JSONL that fits the current shard is written in one piece.
    pub fn write_lines(&mut self, text: &[u8], rows: usize) -> Result<()> {
        if rows == 0 {
            return Ok(());
        }
        let fits = match (self.shard_limit(), self.current.is_some()) {
            (Some(limit), true) => self.current_bytes + text.len() as u64 <= limit,
            (Some(_), false) => false,
            (None, _) => true,
        };
        if self.format == OutputFormat::JsonLines && fits {
            self.before_row()?;
            let path = self.shard_path(self.shard_index);
            if let Some(Sink::Plain(w)) = self.current.as_mut() {
                w.write_all(text).map_err(|e| Error::io(&path, e))?;
                self.current_bytes += text.len() as u64;
                self.rows += rows as u64;
                return Ok(());
            }
        }
        let body = text.strip_suffix(b"\n").unwrap_or(text);
        for line in body.split(|&b| b == b'\n') {
            self.write_line(line)?;
        }
        Ok(())
    }

    /// Write one row given as a JSON value.
    pub fn write_value(&mut self, value: Value) -> Result<()> {
        if self.format != OutputFormat::Parquet {
            let line = serde_json::to_vec(&value).map_err(|e| Error::Other(e.to_string()))?;
            return self.write_line(&line);
        }
        self.before_row()?;
        let size = estimate_size(&value);
        let mut overflow = None;
        if let Some(Sink::Parquet(shard)) = self.current.as_mut() {
            shard.pending.push(value);
            shard.pending_bytes += size;
            if shard.pending_bytes >= PARQUET_ROW_GROUP_BYTES {
                overflow = shard
                    .flush()
                    .map_err(|message| self.parquet_error(message))?;
            }
        }
        if let Some(rows) = overflow {
            // The rows do not fit the shard's schema: start a new shard with them.
            self.close_shard()?;
            self.shard_index += 1;
            self.open_shard()?;
            if let Some(Sink::Parquet(shard)) = self.current.as_mut() {
                shard.pending_bytes = rows.iter().map(estimate_size).sum();
                shard.pending = rows;
            }
            self.current_bytes = 0;
        }
        self.current_bytes += size;
        self.rows += 1;
        Ok(())
    }

    fn parquet_error(&self, message: String) -> Error {
        Error::Parquet {
            path: self.shard_path(self.shard_index).display().to_string(),
            message,
        }
    }

    fn before_row(&mut self) -> Result<()> {
        if let (Some(limit), Some(_)) = (self.shard_limit(), self.current.as_ref()) {
            if self.current_bytes >= limit {
                self.close_shard()?;
                self.shard_index += 1;
            }
        }
        if self.current.is_none() {
            self.open_shard()?;
        }
        Ok(())
    }

    fn close_shard(&mut self) -> Result<()> {
        let path = self.shard_path(self.shard_index);
        let io = |e| Error::io(&path, e);
        let file = match self.current.take() {
            None => return Ok(()),
            Some(Sink::Plain(w)) => w.into_inner().map_err(|e| io(e.into_error()))?,
            Some(Sink::Gzip(w)) => w
                .finish()
                .map_err(io)?
                .into_inner()
                .map_err(|e| io(e.into_error()))?,
            Some(Sink::Zstd(w)) => w
                .finish()
                .map_err(io)?
                .into_inner()
                .map_err(|e| io(e.into_error()))?,
            Some(Sink::Parquet(shard)) => {
                let mut shard = *shard;
                match shard.flush() {
                    Ok(None) => {}
                    Ok(Some(rows)) => {
                        // The last rows need a schema of their own: they go to the next shard.
                        let file = shard.close().map_err(|message| Error::Parquet {
                            path: path.display().to_string(),
                            message,
                        })?;
                        file.commit()?;
                        self.written.push(path.clone());
                        self.shard_index += 1;
                        let next = self.shard_path(self.shard_index);
                        let mut next_shard = ParquetShard::new(AtomicFile::create(&next)?);
                        next_shard.pending = rows;
                        return self.finish_parquet_shard(next_shard);
                    }
                    Err(message) => {
                        return Err(Error::Parquet {
                            path: path.display().to_string(),
                            message,
                        })
                    }
                }
                shard.close().map_err(|message| Error::Parquet {
                    path: path.display().to_string(),
                    message,
                })?
            }
        };
        file.commit()?;
        self.written.push(path);
        Ok(())
    }

    /// Write the remaining rows of a Parquet shard (which fit its own schema) and commit it.
    fn finish_parquet_shard(&mut self, mut shard: ParquetShard) -> Result<()> {
        let path = self.shard_path(self.shard_index);
        let error = |message| Error::Parquet {
            path: path.display().to_string(),
            message,
        };
        if shard.flush().map_err(error)?.is_some() {
            return Err(Error::Other(
                "internal: parquet rows do not fit their own schema".into(),
            ));
        }
        let file = shard.close().map_err(|message| Error::Parquet {
            path: path.display().to_string(),
            message,
        })?;
        file.commit()?;
        self.written.push(path);
        Ok(())
    }

    /// Finish the last shard and return the paths written. An empty output still produces one
    /// (empty) file so downstream steps find it.
    pub fn finish(mut self) -> Result<Vec<PathBuf>> {
        if self.current.is_none() && self.written.is_empty() {
            self.open_shard()?;
        }
        self.close_shard()?;
        Ok(std::mem::take(&mut self.written))
    }
}

fn estimate_size(value: &Value) -> u64 {
    match value {
        Value::String(s) => s.len() as u64 + 2,
        Value::Array(items) => items.iter().map(estimate_size).sum::<u64>() + 2,
        Value::Object(map) => {
            map.iter()
                .map(|(k, v)| k.len() as u64 + 3 + estimate_size(v))
                .sum::<u64>()
                + 2
        }
        _ => 8,
    }
}

/// One Parquet output file written row group by row group. The schema is inferred from the
/// first row group; a later group whose rows need more (new columns, other types) is handed
/// back by [`ParquetShard::flush`] so the caller starts a new shard for it: no row is dropped or
/// coerced.
struct ParquetShard {
    file: Option<AtomicFile>,
    writer: Option<parquet::arrow::ArrowWriter<std::fs::File>>,
    schema: Option<arrow_schema::SchemaRef>,
    pending: Vec<Value>,
    pending_bytes: u64,
}

impl ParquetShard {
    fn new(file: AtomicFile) -> ParquetShard {
        ParquetShard {
            file: Some(file),
            writer: None,
            schema: None,
            pending: Vec::new(),
            pending_bytes: 0,
        }
    }

    /// Write the pending rows as a row group. `Ok(Some(rows))`: they do not fit this shard's
    /// schema and were not written.
    fn flush(&mut self) -> std::result::Result<Option<Vec<Value>>, String> {
        if self.pending.is_empty() {
            return Ok(None);
        }
        let inferred =
            arrow_json::reader::infer_json_schema_from_iterator(self.pending.iter().map(Ok))
                .map_err(|e| format!("cannot infer a schema: {e}"))?;
        let schema = match &self.schema {
            None => {
                let schema = std::sync::Arc::new(inferred);
                let props = parquet::file::properties::WriterProperties::builder()
                    .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
                    .build();
                let handle = self
                    .file
                    .as_mut()
                    .ok_or("internal: shard already closed")?
                    .file()
                    .try_clone()
                    .map_err(|e| e.to_string())?;
                self.writer = Some(
                    parquet::arrow::ArrowWriter::try_new(handle, schema.clone(), Some(props))
                        .map_err(|e| e.to_string())?,
                );
                self.schema = Some(schema.clone());
                schema
            }
            Some(schema) if fits(&inferred, schema) => schema.clone(),
            Some(_) => {
                self.pending_bytes = 0;
                return Ok(Some(std::mem::take(&mut self.pending)));
            }
        };
        let writer = self.writer.as_mut().ok_or("internal: no parquet writer")?;
        for chunk in self.pending.chunks(4096) {
            let mut decoder = arrow_json::ReaderBuilder::new(schema.clone())
                .build_decoder()
                .map_err(|e| e.to_string())?;
            decoder
                .serialize(chunk)
                .map_err(|e| format!("cannot encode rows: {e}"))?;
            if let Some(batch) = decoder.flush().map_err(|e| e.to_string())? {
                writer.write(&batch).map_err(|e| e.to_string())?;
            }
        }
        writer.flush().map_err(|e| e.to_string())?;
        self.pending.clear();
        self.pending_bytes = 0;
        Ok(None)
    }

    /// Finish the file (an empty shard gets an empty schema) and hand back the atomic file.
    fn close(mut self) -> std::result::Result<AtomicFile, String> {
        if self.writer.is_none() {
            let schema = std::sync::Arc::new(arrow_schema::Schema::empty());
            let handle = self
                .file
                .as_mut()
                .ok_or("internal: shard already closed")?
                .file()
                .try_clone()
                .map_err(|e| e.to_string())?;
            self.writer = Some(
                parquet::arrow::ArrowWriter::try_new(handle, schema, None)
                    .map_err(|e| e.to_string())?,
            );
        }
        if let Some(writer) = self.writer.take() {
            writer.close().map_err(|e| e.to_string())?;
        }
        self.file
            .take()
            .ok_or_else(|| "internal: shard already closed".to_string())
    }
}

/// True when every column of `new` exists in `old` with a type that holds it.
fn fits(new: &arrow_schema::Schema, old: &arrow_schema::Schema) -> bool {
    new.fields().iter().all(|field| {
        old.field_with_name(field.name())
            .is_ok_and(|existing| type_fits(field.data_type(), existing.data_type()))
    })
}

fn type_fits(new: &arrow_schema::DataType, old: &arrow_schema::DataType) -> bool {
    use arrow_schema::DataType;
    match (new, old) {
        (DataType::Null, _) => true,
        (DataType::Struct(new), DataType::Struct(old)) => new.iter().all(|field| {
            old.iter()
                .find(|f| f.name() == field.name())
                .is_some_and(|existing| type_fits(field.data_type(), existing.data_type()))
        }),
        (DataType::List(new), DataType::List(old)) => type_fits(new.data_type(), old.data_type()),
        (a, b) => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn atomic_file_is_invisible_until_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"x\n").unwrap();
        assert!(!path.exists());
        f.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"x\n");
    }

    #[test]
    fn dropped_atomic_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        {
            let mut f = AtomicFile::create(&path).unwrap();
            f.write_all(b"partial").unwrap();
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn parquet_streams_row_groups_and_starts_a_shard_when_the_schema_grows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.parquet");
        let mut w = RowWriter::create(&path, WriteOptions::default()).unwrap();
        let text = "t".repeat(4096);
        // ~20 MB of rows with one schema: at least one row group is written before the end.
        for i in 0..5000 {
            w.write_value(json!({"i": i, "text": text, "meta": {"a": 1}}))
                .unwrap();
        }
        // A new column: these rows cannot join the first shard's schema.
        for i in 0..3 {
            w.write_value(json!({"i": i, "extra": "new"})).unwrap();
        }
        let files = w.finish().unwrap();
        assert_eq!(files.len(), 2, "{files:?}");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        let mut rows = 0;
        for file in &files {
            let f = std::fs::File::open(file).unwrap();
            let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
                .unwrap()
                .build()
                .unwrap();
            rows += reader.map(|b| b.unwrap().num_rows()).sum::<usize>();
        }
        assert_eq!(rows, 5003);
    }

    #[test]
    fn batches_of_lines_write_the_same_files_as_single_lines() {
        let rows: Vec<String> = (0..40)
            .map(|i| format!(r#"{{"i":{i},"pad":"{}"}}"#, "x".repeat(i % 7)))
            .collect();
        for shard_bytes in [None, Some(100), Some(1)] {
            let dir = tempfile::tempdir().unwrap();
            let one = dir.path().join("one.jsonl");
            let batch = dir.path().join("batch.jsonl");
            let mut w = RowWriter::create(&one, WriteOptions { shard_bytes }).unwrap();
            for row in &rows {
                w.write_line(row.as_bytes()).unwrap();
            }
            let one_files = w.finish().unwrap();
            let mut w = RowWriter::create(&batch, WriteOptions { shard_bytes }).unwrap();
            for group in rows.chunks(6) {
                let text: String = group.iter().map(|r| format!("{r}\n")).collect();
                w.write_lines(text.as_bytes(), group.len()).unwrap();
            }
            assert_eq!(w.rows(), rows.len() as u64);
            let batch_files = w.finish().unwrap();
            let read = |files: &[PathBuf]| -> Vec<String> {
                files
                    .iter()
                    .map(|f| std::fs::read_to_string(f).unwrap())
                    .collect()
            };
            if shard_bytes.is_none() {
                assert_eq!(read(&one_files), read(&batch_files));
            } else {
                // Batches may cut shards at other rows, never inside one, and lose nothing.
                assert!(batch_files.len() > 1, "{shard_bytes:?}: {batch_files:?}");
                assert_eq!(read(&one_files).concat(), read(&batch_files).concat());
            }
        }
    }

    #[test]
    fn shards_by_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let mut w = RowWriter::create(
            &path,
            WriteOptions {
                shard_bytes: Some(30),
            },
        )
        .unwrap();
        for i in 0..10 {
            w.write_value(json!({"i": i, "pad": "xxxxxxxx"})).unwrap();
        }
        let files = w.finish().unwrap();
        assert!(files.len() > 1, "{files:?}");
        assert!(files[0].ends_with("out-00000.jsonl"));
        let total: usize = files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap().lines().count())
            .sum();
        assert_eq!(total, 10);
    }
}
