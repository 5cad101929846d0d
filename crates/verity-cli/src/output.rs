//! Writing a stage's results: records in an output layout (atomic, sharded), rejected rows to a
//! rejects file with reasons, a ledger entry next to the output, and a progress bar.

use crate::common::{Context, InputArgs};
use anyhow::{Context as _, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use verity_core::io::{BufferPool, RowWriter, WriteOptions};
use verity_core::layout::{self, Layout};
use verity_core::ledger::{FileDigest, LedgerEntry};
use verity_core::stream::{RecordSource, Reject};
use verity_core::Record;

/// Output flags shared by the commands that write a dataset.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output file (.jsonl, .jsonl.gz, .jsonl.zst or .parquet), written atomically; `-` writes
    /// to stdout once complete (container: `--format`).
    #[arg(short = 'o', long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Output layout (default: verity records). See `verity convert --list-layouts`.
    #[arg(long, value_name = "LAYOUT", default_value = "verity")]
    pub to: String,
    /// Cut the output into shards of about this size (e.g. `500MB`, `2GB`): `OUT-00000.jsonl`, ...
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub shard_size: Option<u64>,
    /// Do not copy unmapped input fields (`meta`) into rows of another layout.
    #[arg(long)]
    pub drop_meta: bool,
    /// Ledger file to append this run's entry to (default: `ledger.jsonl` next to the output).
    #[arg(long, value_name = "PATH")]
    pub ledger: Option<PathBuf>,
    /// Do not write a ledger entry.
    #[arg(long)]
    pub no_ledger: bool,
    /// Skip SHA-256 hashing of input and output files in the ledger entry.
    #[arg(long)]
    pub no_hash: bool,
}

/// Parse `500MB`, `2GiB`, `1000` (bytes).
pub fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let t = text.trim().to_ascii_lowercase();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size like 500MB"))?;
    let factor: f64 = match unit.trim() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1048576.0,
        "g" | "gb" => 1e9,
        "gib" => 1073741824.0,
        other => {
            return Err(format!(
                "unknown size unit `{other}` (use KB, MB, GB, KiB, MiB, GiB)"
            ))
        }
    };
    let bytes = number * factor;
    if bytes < 1.0 {
        return Err("size must be at least 1 byte".into());
    }
    Ok(bytes as u64)
}

/// A progress bar over input bytes; hidden when disabled or when stderr is not a terminal.
pub struct Progress {
    bar: ProgressBar,
    counter: Arc<AtomicU64>,
}

impl Progress {
    /// A byte-based bar for reading `total` bytes.
    pub fn bytes(ctx: &Context, total: u64, label: &str) -> Progress {
        let bar = if ctx.progress {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:>10} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_prefix(label.to_string());
            bar
        } else {
            ProgressBar::hidden()
        };
        Progress {
            bar,
            counter: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The counter the reader updates.
    pub fn counter(&self) -> Arc<AtomicU64> {
        self.counter.clone()
    }

    /// Refresh from the counter, with a message (e.g. rows so far).
    pub fn tick(&self, rows: u64) {
        self.bar.set_position(self.counter.load(Ordering::Relaxed));
        self.bar.set_message(format!("{rows} rows"));
    }

    /// Remove the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Turns records into output lines; cheap to share with worker threads.
#[derive(Clone, Copy)]
pub struct Encoder {
    layout: &'static dyn Layout,
    keep_meta: bool,
}

/// A batch of encoded rows, or the records that could not be written in the output layout.
pub struct Encoded {
    /// One serialized JSON row per output row.
    pub lines: Lines,
    /// Records the output layout could not express.
    pub rejects: Vec<Reject>,
}

/// Serialized JSON rows of one batch in one buffer, each followed by a newline.
///
/// The buffers come from a small pool and go back to it when dropped: a batch is encoded on a
/// worker thread and written (then dropped) on the writing thread, and allocating a fresh
/// multi-megabyte buffer per batch made the kernel zero new pages for every batch.
#[derive(Default)]
pub struct Lines {
    text: Vec<u8>,
    /// End of each row in `text` (excluding its newline).
    ends: Vec<usize>,
}

/// Batch buffers kept for reuse.
static POOL: BufferPool = BufferPool::new(64, 64 << 20);

impl Lines {
    /// An empty batch with a buffer from the pool.
    pub fn new() -> Lines {
        Lines {
            text: POOL.take(0),
            ends: Vec::new(),
        }
    }

    /// One row (without newline).
    pub fn from_line(line: &[u8]) -> Lines {
        let mut lines = Lines::new();
        lines.push(line);
        lines
    }

    /// Append a row (without newline).
    pub fn push(&mut self, line: &[u8]) {
        self.text.extend_from_slice(line);
        self.close_row();
    }

    /// Serialize a row straight into the buffer with `write`; on error nothing is added.
    pub fn push_with<E>(
        &mut self,
        write: impl FnOnce(&mut Vec<u8>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let start = self.text.len();
        match write(&mut self.text) {
            Ok(()) => {
                self.close_row();
                Ok(())
            }
            Err(e) => {
                self.text.truncate(start);
                Err(e)
            }
        }
    }

    fn close_row(&mut self) {
        self.ends.push(self.text.len());
        self.text.push(b'\n');
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The rows (without newlines).
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let line = &self.text[start..end];
            start = end + 1;
            line
        })
    }

    /// The whole batch as JSON Lines text (each row followed by a newline).
    pub fn text(&self) -> &[u8] {
        &self.text
    }
}

impl<'a> IntoIterator for &'a Lines {
    type Item = &'a [u8];
    type IntoIter = Box<dyn Iterator<Item = &'a [u8]> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl Drop for Lines {
    fn drop(&mut self) {
        POOL.give(std::mem::take(&mut self.text));
    }
}

impl Encoder {
    /// Encode records (call on worker threads).
    pub fn encode(&self, records: &[Record]) -> Encoded {
        let native = !self.layout.merges_meta();
        self.encode_each(records.iter(), |record, text| {
            if native {
                // verity records serialize directly, without an intermediate JSON tree.
                sonic_rs::to_writer(text, record)
                    .map_err(|e| verity_core::FieldError::new("row", e.to_string()))
            } else {
                layout::encode_row(self.layout, record, self.keep_meta, text)
            }
        })
    }

    /// [`Encoder::encode`] for records that are not needed afterwards: texts are moved into the
    /// output rows instead of copied. The same output.
    pub fn encode_owned(&self, mut records: Vec<Record>) -> Encoded {
        if !self.layout.merges_meta() {
            return self.encode(&records);
        }
        self.encode_each(records.iter_mut(), |record, text| {
            layout::encode_taken_row(self.layout, record, self.keep_meta, text)
        })
    }

    /// Write each record with `write`, collecting the rows and the records it refused.
    fn encode_each<R: std::ops::Deref<Target = Record>>(
        &self,
        records: impl Iterator<Item = R>,
        mut write: impl FnMut(&mut R, &mut Vec<u8>) -> Result<(), verity_core::FieldError>,
    ) -> Encoded {
        let mut lines = Lines::new();
        let mut rejects = Vec::new();
        for mut record in records {
            if let Err(e) = lines.push_with(|text| write(&mut record, text)) {
                rejects.push(write_reject(self.layout, &record, &e.field, &e.reason));
            }
        }
        Encoded { lines, rejects }
    }
}

fn write_reject(layout: &dyn Layout, record: &Record, field: &str, reason: &str) -> Reject {
    Reject {
        error: verity_core::RowError {
            file: record.lineage.file.clone().unwrap_or_default(),
            line: record.lineage.row.unwrap_or(0),
            field: Some(field.to_string()),
            reason: format!(
                "cannot write record `{}` as `{}`: {reason}",
                record.id,
                layout.name()
            ),
        },
        stage: "write".into(),
        row: serde_json::to_value(record).ok(),
    }
}

/// The outputs of one stage run.
pub struct StageOutput {
    encoder: Encoder,
    writer: RowWriter,
    rejects_path: PathBuf,
    rejects: Option<RowWriter>,
    rejected: u64,
    entry: LedgerEntry,
    ledger_path: Option<PathBuf>,
    inputs: Vec<PathBuf>,
    hash: bool,
}

/// What a finished stage wrote.
pub struct StageResult {
    /// Data files written.
    pub outputs: Vec<PathBuf>,
    /// Rejects file, when rows were rejected.
    pub rejects: Option<PathBuf>,
    /// The ledger entry as written.
    pub entry: LedgerEntry,
    /// Where the ledger entry went.
    pub ledger: Option<PathBuf>,
}

impl OutputArgs {
    /// The `-o` path, or an error saying to pass one.
    pub fn path(&self) -> Result<PathBuf> {
        let path = self.output.clone().context(
            "no output given: pass -o PATH (.jsonl, .jsonl.gz, .jsonl.zst or .parquet, or - for stdout)",
        )?;
        if crate::pipes::is_dash(&path) {
            if self.shard_size.is_some() {
                anyhow::bail!("--shard-size needs a file output, not `-o -`");
            }
            return crate::pipes::stdout_file();
        }
        Ok(path)
    }
}

impl StageOutput {
    /// Prepare the outputs of `stage`.
    pub fn create(
        stage: &str,
        params: Value,
        input: &InputArgs,
        source: &RecordSource,
        out: &OutputArgs,
    ) -> Result<StageOutput> {
        let output = out.path()?;
        let layout = layout::by_name(&out.to)
            .ok_or_else(|| verity_core::Error::NoSuchLayout(out.to.clone()))?;
        for input_file in source.inputs() {
            if same_file(&input_file.path, &output) {
                anyhow::bail!(
                    "output {} is also an input; verity never overwrites its inputs: choose another -o",
                    output.display()
                );
            }
        }
        let writer = RowWriter::create(
            &output,
            WriteOptions {
                shard_bytes: out.shard_size,
            },
        )?;
        let rejects_path = input
            .rejects
            .clone()
            .unwrap_or_else(|| sibling(&output, "rejects.jsonl"));
        // A stdout output has no directory to hold a ledger: only `--ledger` writes one.
        let ledger_path = if out.no_ledger {
            None
        } else if crate::pipes::is_stdout_file(&output) {
            out.ledger.clone()
        } else {
            Some(
                out.ledger
                    .clone()
                    .unwrap_or_else(|| default_ledger(&output)),
            )
        };
        let mut entry = LedgerEntry::start(stage, params);
        entry.summary = json!({
            "layouts_in": source.layouts().iter().map(|l| l.name()).collect::<Vec<_>>(),
            "layout_out": layout.name(),
        });
        Ok(StageOutput {
            encoder: Encoder {
                layout,
                keep_meta: !out.drop_meta,
            },
            writer,
            rejects_path,
            rejects: None,
            rejected: 0,
            entry,
            ledger_path,
            inputs: source.inputs().iter().map(|i| i.path.clone()).collect(),
            hash: !out.no_hash,
        })
    }

    /// The encoder for worker threads.
    pub fn encoder(&self) -> Encoder {
        self.encoder
    }

    /// The ledger entry being built (stages add counts and a summary).
    pub fn entry_mut(&mut self) -> &mut LedgerEntry {
        &mut self.entry
    }

    /// Write an encoded batch.
    pub fn write(&mut self, encoded: Encoded) -> Result<()> {
        self.writer
            .write_lines(encoded.lines.text(), encoded.lines.len())?;
        self.reject(&encoded.rejects)
    }

    /// Record rejected rows (written to the rejects file, counted by reason in the ledger).
    pub fn reject(&mut self, rejects: &[Reject]) -> Result<()> {
        for reject in rejects {
            if self.rejects.is_none() {
                self.rejects = Some(RowWriter::create(
                    &self.rejects_path,
                    WriteOptions::default(),
                )?);
            }
            let line = serde_json::to_vec(reject)?;
            if let Some(writer) = self.rejects.as_mut() {
                writer.write_line(&line)?;
            }
            self.rejected += 1;
            let reason = format!("{}: {}", reject.stage, reason_class(&reject.error.reason));
            self.entry.reject(reason, 1);
        }
        Ok(())
    }

    /// Close the outputs, write the ledger entry and return what was written.
    pub fn finish(mut self, rows_in: u64) -> Result<StageResult> {
        let rows_out = self.writer.rows();
        let outputs = self.writer.finish()?;
        let rejects = match self.rejects.take() {
            Some(writer) => {
                writer.finish()?;
                Some(self.rejects_path.clone())
            }
            None => {
                remove_stale(&self.rejects_path)?;
                None
            }
        };
        self.entry.rows_in = rows_in;
        self.entry.rows_out = rows_out;
        if self.hash {
            for path in &self.inputs {
                self.entry.inputs.push(FileDigest::of(path)?);
            }
            for path in &outputs {
                self.entry.outputs.push(FileDigest::of(path)?);
            }
        } else {
            self.entry.inputs = self.inputs.iter().map(|p| unhashed(p)).collect();
            self.entry.outputs = outputs.iter().map(|p| unhashed(p)).collect();
        }
        let stdout = outputs
            .first()
            .filter(|p| crate::pipes::is_stdout_file(p))
            .cloned();
        for digest in self
            .entry
            .inputs
            .iter_mut()
            .chain(self.entry.outputs.iter_mut())
        {
            if crate::pipes::is_spooled(Path::new(&digest.path)) {
                digest.path = crate::pipes::DASH.into();
            }
        }
        self.entry.finish();
        if let Some(path) = &self.ledger_path {
            append_entry(&self.entry, path)?;
        }
        crate::gates::observe(&self.entry);
        if let Some(path) = stdout {
            crate::pipes::emit(&path)?;
        }
        let outputs = outputs.iter().map(|p| crate::pipes::shown(p)).collect();
        Ok(StageResult {
            outputs,
            rejects,
            entry: self.entry,
            ledger: self.ledger_path,
        })
    }
}

/// `ledger.jsonl` in the directory of `output`.
pub fn default_ledger(output: &Path) -> PathBuf {
    output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| p.join("ledger.jsonl"))
        .unwrap_or_else(|| PathBuf::from("ledger.jsonl"))
}

/// Append `entry` to the ledger at `path` (whole or not at all), saying so when a torn last line
/// of an interrupted earlier append had to be removed first.
pub fn append_entry(entry: &LedgerEntry, path: &Path) -> Result<()> {
    let appended = entry
        .append(path)
        .with_context(|| format!("cannot append to the ledger {}", path.display()))?;
    if appended.torn_bytes_removed > 0 {
        crate::report::print_warning(
            &format!(
                "{}: removed a torn last line ({} bytes, an interrupted earlier append) before \
                 appending",
                path.display(),
                appended.torn_bytes_removed
            ),
            false,
        );
    }
    Ok(())
}

fn unhashed(path: &Path) -> FileDigest {
    FileDigest {
        path: path.display().to_string(),
        bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        sha256: String::new(),
    }
}

/// The reason without row-specific details (for counting by reason).
fn reason_class(reason: &str) -> String {
    let cut = reason.find([':', '(']).unwrap_or(reason.len());
    reason[..cut].trim().to_string()
}

/// Data extensions taken off an output name before a side file's suffix is added.
const DATA_EXTENSIONS: &[&str] = &[
    ".jsonl.gz",
    ".jsonl.zst",
    ".jsonl.zstd",
    ".ndjson.gz",
    ".ndjson.zst",
    ".jsonl",
    ".ndjson",
    ".json",
    ".parquet",
];

/// `dir/run.v1.jsonl.gz` -> `dir/run.v1.<suffix>`: the output's full name without its data
/// extension, so outputs that differ only after a first dot get side files of their own.
pub fn sibling(output: &Path, suffix: &str) -> PathBuf {
    if crate::pipes::is_stdout_file(output) {
        return PathBuf::from(format!("stdout.{suffix}"));
    }
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "output".into());
    let lower = name.to_ascii_lowercase();
    let base = DATA_EXTENSIONS
        .iter()
        .find(|ext| lower.ends_with(*ext) && lower.len() > ext.len())
        .map(|ext| &name[..name.len() - ext.len()])
        .unwrap_or(&name);
    output.with_file_name(format!("{base}.{suffix}"))
}

/// Remove a side file left by an earlier run into the same output (this run wrote none), so
/// what sits next to an output always belongs to it.
pub fn remove_stale(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(anyhow::Error::new(e).context(format!(
            "cannot remove the stale side file {} of an earlier run",
            path.display()
        ))),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5XB").is_err());
    }

    #[test]
    fn sibling_paths() {
        assert_eq!(
            sibling(Path::new("/a/out.jsonl.gz"), "rejects.jsonl"),
            PathBuf::from("/a/out.rejects.jsonl")
        );
        // Outputs that differ after the first dot get side files of their own.
        assert_eq!(
            sibling(Path::new("run.v1.jsonl"), "rejects.jsonl"),
            PathBuf::from("run.v1.rejects.jsonl")
        );
        assert_eq!(
            sibling(Path::new("d/run.v2.parquet"), "removed.jsonl"),
            PathBuf::from("d/run.v2.removed.jsonl")
        );
    }
}
