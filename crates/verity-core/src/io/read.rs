//! Streaming row reader with parallel parsing and bounded memory.
//!
//! A background thread reads and decompresses the inputs in order and cuts them into chunks of
//! about [`ReadOptions::batch_bytes`] at line boundaries (JSONL) or into batches of parsed items
//! (JSON arrays, streamed element by element; Parquet, decoded batch by batch). The chunks go
//! through a bounded channel, so at most [`CHUNKS_PER_THREAD`] `× threads` chunks wait in it.
//! The consumer parses a window of as many chunks in parallel with rayon and hands them on in
//! input order ([`RowReader::for_each_ordered`]), so output order never depends on the thread
//! count.
//!
//! Bad rows are data, not failures: each [`Row`] carries either the parsed object or a
//! [`RowError`] naming the file, the line and what is wrong (invalid JSON or UTF-8, not an
//! object, a line over [`ReadOptions::max_line_bytes`], a truncated compressed stream).

use super::source::{Compression, Format, InputFile};
use crate::error::{Error, Result, RowError};
use crate::ledger::StreamDigest;
use crate::record::Fields;
use crossbeam_channel::{bounded, Receiver};
use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Chunks per worker thread that may wait in the reader's channel, and chunks per worker
/// thread in flight in [`RowReader::for_each_ordered`] (parsed, mapped, or done but waiting
/// for an earlier one to be written). With 2 per thread the workers ran dry whenever the
/// writer thread was busy writing or a slow chunk held up the ordered output: on the 1M
/// corpus (2 threads) `convert` spent ~1-2 s of system time in idle workers' `sched_yield`,
/// and `convert` / `score` took 10-25% / ~9% more wall time than with 8. Memory stays bounded:
/// ~1.5 MiB per chunk in flight at the default 256 KiB chunks (peak RSS of a 1M `convert`
/// 55-80 -> 90-130 MiB).
pub const CHUNKS_PER_THREAD: usize = 8;

/// Reader settings.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Target size of one chunk of JSONL text handed to a parser thread.
    pub batch_bytes: usize,
    /// Rows per batch for JSON arrays and Parquet.
    pub batch_rows: usize,
    /// Longest accepted line; longer lines are rejected (and skipped without being buffered).
    pub max_line_bytes: usize,
    /// Reject a JSONL row whose object repeats a key (otherwise the last value is kept and the
    /// repetition is counted, see [`duplicate_keys_seen`]).
    pub strict_keys: bool,
    /// Largest `.json` document that is not a top-level array (an object, or JSON Lines under a
    /// `.json` name), which is read whole into memory; larger ones are rejected with an error
    /// suggesting JSON Lines. Top-level arrays are streamed and not limited by this.
    pub max_document_bytes: usize,
    /// Stop after this many rows in total (for sampling and detection).
    pub limit: Option<u64>,
    /// Counter of input bytes consumed, shared with a progress display (one is created when
    /// absent).
    pub progress: Option<Arc<AtomicU64>>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            batch_bytes: 256 << 10,
            batch_rows: 1024,
            max_line_bytes: 256 << 20,
            strict_keys: false,
            max_document_bytes: 1 << 30,
            limit: None,
            progress: None,
        }
    }
}

/// One input row: the parsed JSON object or why it could not be read.
#[derive(Debug, Clone)]
pub struct Row {
    /// 1-based line (JSONL) or 0-based item index (JSON arrays, Parquet).
    pub index: u64,
    /// The object, or the problem with this row.
    pub value: std::result::Result<Fields, RowError>,
}

/// A batch of consecutive rows of one input file.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Position of the batch in the whole stream (0, 1, 2, ...).
    pub seq: u64,
    /// Index of the file in the input list.
    pub input: usize,
    /// File path as text.
    pub file: Arc<str>,
    /// The rows.
    pub rows: Vec<Row>,
}

enum Chunk {
    /// Unparsed JSONL text made of whole lines; `first_line` is 1-based.
    Lines {
        input: usize,
        file: Arc<str>,
        first_line: u64,
        data: Vec<u8>,
    },
    /// Rows already parsed (JSON documents, Parquet) or errors found while reading.
    Parsed(Batch),
    /// A file-level failure that ends the stream (could not open, etc.).
    Fatal(Error),
}

/// A streaming reader over several input files read as one dataset.
pub struct RowReader {
    receiver: Receiver<Chunk>,
    handle: Option<JoinHandle<()>>,
    bytes_read: Arc<AtomicU64>,
    total_bytes: u64,
    next_seq: u64,
    rows_seen: u64,
    limit: Option<u64>,
    max_line_bytes: usize,
    strict_keys: bool,
}

impl RowReader {
    /// Start reading `inputs` in a background thread.
    pub fn open(inputs: Vec<InputFile>, options: ReadOptions) -> RowReader {
        let total_bytes = inputs
            .iter()
            .filter_map(|i| std::fs::metadata(&i.path).ok())
            .map(|m| m.len())
            .sum();
        let threads = rayon::current_num_threads().max(1);
        let (sender, receiver) = bounded(threads * CHUNKS_PER_THREAD);
        let bytes_read = options.progress.clone().unwrap_or_default();
        let counter = bytes_read.clone();
        let limit = options.limit;
        let max_line_bytes = options.max_line_bytes;
        let strict_keys = options.strict_keys;
        let handle = std::thread::Builder::new()
            .name("verity-reader".into())
            .spawn(move || {
                for (index, input) in inputs.iter().enumerate() {
                    let ok = match input.format {
                        Format::JsonLines => read_lines(index, input, &options, &counter, &sender),
                        Format::Json => read_json(index, input, &options, &counter, &sender),
                        Format::Parquet => read_parquet(index, input, &options, &counter, &sender),
                    };
                    if !ok {
                        return;
                    }
                }
            })
            .ok();
        RowReader {
            receiver,
            handle,
            bytes_read,
            total_bytes,
            next_seq: 0,
            rows_seen: 0,
            limit,
            max_line_bytes,
            strict_keys,
        }
    }

    /// Bytes of input consumed so far (compressed size for compressed inputs).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    /// Shared counter of bytes read, for progress bars on another thread.
    pub fn progress_counter(&self) -> Arc<AtomicU64> {
        self.bytes_read.clone()
    }

    /// Total size of the inputs in bytes.
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Parse chunks in parallel, apply `map` to each batch on the worker threads, and hand the
    /// results to `sink` in input order. `sink` returning an error stops the stream.
    pub fn for_each_ordered<T, M, S, E>(mut self, map: M, mut sink: S) -> std::result::Result<(), E>
    where
        T: Send,
        M: Fn(Batch) -> T + Sync + Send,
        S: FnMut(T) -> std::result::Result<(), E>,
        E: From<Error>,
    {
        // Chunks are parsed and mapped as independent tasks on the rayon pool while this thread
        // hands finished results to `sink` in sequence order, so writing overlaps parsing. At
        // most `window` chunks are in flight (bounded memory).
        let window = rayon::current_num_threads().max(1) * CHUNKS_PER_THREAD;
        let rules = LineRules {
            max_line_bytes: self.max_line_bytes,
            strict_keys: self.strict_keys,
        };
        let (done_tx, done_rx) = crossbeam_channel::bounded::<(u64, usize, T)>(window);
        let map = &map;
        let receiver = self.receiver.clone();
        let mut next_seq = self.next_seq;
        let mut next_emit = next_seq;
        let mut rows_seen = self.rows_seen;
        let limit = self.limit;
        let result = rayon::in_place_scope(|scope| -> std::result::Result<(), E> {
            let mut in_flight = 0usize;
            let mut input_done = false;
            let mut ready: std::collections::BTreeMap<u64, (usize, T)> = Default::default();
            loop {
                // Launch work while there is room; block for input only when nothing is running.
                while !input_done && in_flight < window {
                    let chunk = if in_flight == 0 {
                        receiver.recv().ok()
                    } else {
                        match receiver.try_recv() {
                            Ok(chunk) => Some(chunk),
                            Err(crossbeam_channel::TryRecvError::Empty) => break,
                            Err(crossbeam_channel::TryRecvError::Disconnected) => None,
                        }
                    };
                    let Some(chunk) = chunk else {
                        input_done = true;
                        break;
                    };
                    if let Chunk::Fatal(error) = chunk {
                        // Let running tasks finish (the scope waits for them), then stop.
                        while in_flight > 0 {
                            let _ = done_rx.recv();
                            in_flight -= 1;
                        }
                        return Err(error.into());
                    }
                    let seq = next_seq;
                    next_seq += 1;
                    in_flight += 1;
                    let done_tx = done_tx.clone();
                    scope.spawn(move |_| {
                        let batch = into_batch(seq, chunk, rules);
                        let rows = batch.rows.len();
                        let _ = done_tx.send((seq, rows, map(batch)));
                    });
                }
                if in_flight == 0 && input_done {
                    return Ok(());
                }
                let Ok((seq, rows, output)) = done_rx.recv() else {
                    return Ok(());
                };
                in_flight -= 1;
                ready.insert(seq, (rows, output));
                while let Some((rows, output)) = ready.remove(&next_emit) {
                    next_emit += 1;
                    if let Err(error) = sink(output) {
                        while in_flight > 0 {
                            let _ = done_rx.recv();
                            in_flight -= 1;
                        }
                        return Err(error);
                    }
                    rows_seen += rows as u64;
                }
                if limit.is_some_and(|limit| rows_seen >= limit) {
                    while in_flight > 0 {
                        let _ = done_rx.recv();
                        in_flight -= 1;
                    }
                    return Ok(());
                }
            }
        });
        self.next_seq = next_seq;
        self.rows_seen = rows_seen;
        result
    }

    /// Read everything into batches (in order), for small inputs and tests.
    pub fn collect_batches(self) -> Result<Vec<Batch>> {
        let mut batches = Vec::new();
        self.for_each_ordered(
            |b| b,
            |b| {
                batches.push(b);
                Ok::<(), Error>(())
            },
        )?;
        Ok(batches)
    }
}

impl Drop for RowReader {
    fn drop(&mut self) {
        // Unblock the reader thread, then wait for it.
        let receiver = std::mem::replace(&mut self.receiver, bounded(0).1);
        drop(receiver);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// What a JSONL line must satisfy.
#[derive(Clone, Copy)]
struct LineRules {
    max_line_bytes: usize,
    strict_keys: bool,
}

/// Rows whose object repeated a key (the last value was kept), and the first of them.
static DUPLICATE_KEYS: std::sync::Mutex<(u64, Option<RowError>)> = std::sync::Mutex::new((0, None));

/// How many rows read so far (without [`ReadOptions::strict_keys`]) repeated a key in their
/// object, and the first of them (file, line, key). The last value of a repeated key is kept.
pub fn duplicate_keys_seen() -> (u64, Option<RowError>) {
    DUPLICATE_KEYS
        .lock()
        .map(|d| d.clone())
        .unwrap_or((0, None))
}

fn note_duplicate_key(error: RowError) {
    if let Ok(mut seen) = DUPLICATE_KEYS.lock() {
        seen.0 += 1;
        seen.1.get_or_insert(error);
    }
}

fn into_batch(seq: u64, chunk: Chunk, rules: LineRules) -> Batch {
    match chunk {
        Chunk::Lines {
            input,
            file,
            first_line,
            data,
        } => {
            let rows = parse_lines(&file, first_line, &data, rules);
            CHUNK_POOL.give(data);
            Batch {
                seq,
                input,
                rows,
                file,
            }
        }
        Chunk::Parsed(mut batch) => {
            batch.seq = seq;
            batch
        }
        Chunk::Fatal(_) => Batch {
            seq,
            input: 0,
            file: Arc::from(""),
            rows: Vec::new(),
        },
    }
}

/// Parse whole lines of JSONL text. Blank lines are skipped.
fn parse_lines(file: &str, first_line: u64, data: &[u8], rules: LineRules) -> Vec<Row> {
    let max_line_bytes = rules.max_line_bytes;
    let mut rows = Vec::with_capacity(data.len() / 512 + 1);
    let mut line_no = first_line;
    let mut start = 0;
    let mut it = memchr::memchr_iter(b'\n', data);
    loop {
        let end = it.next().unwrap_or(data.len());
        if start >= data.len() && end == data.len() {
            break;
        }
        let mut line = &data[start..end];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        if line_no == 1 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.len() > max_line_bytes {
            rows.push(Row {
                index: line_no,
                value: Err(RowError {
                    file: file.to_string(),
                    line: line_no,
                    field: None,
                    reason: format!(
                        "line is longer than {max_line_bytes} bytes; raise --max-line-bytes to read it"
                    ),
                }),
            });
        } else if !line.iter().all(u8::is_ascii_whitespace) {
            let value = match parse_object(line) {
                Ok((fields, None)) => Ok(fields),
                Ok((fields, Some(key))) => {
                    let error = RowError {
                        file: file.to_string(),
                        line: line_no,
                        field: Some(key),
                        reason: "the key appears more than once in the object".into(),
                    };
                    if rules.strict_keys {
                        Err(RowError {
                            reason: format!("{} (rejected under --strict)", error.reason),
                            ..error
                        })
                    } else {
                        note_duplicate_key(error);
                        Ok(fields)
                    }
                }
                Err(reason) => Err(RowError {
                    file: file.to_string(),
                    line: line_no,
                    field: None,
                    reason,
                }),
            };
            rows.push(Row {
                index: line_no,
                value,
            });
        }
        line_no += 1;
        start = end + 1;
        if end >= data.len() {
            break;
        }
    }
    rows
}

/// Parse one JSON object (SIMD parser, into serde_json values); the error text says what to fix.
///
/// sonic-rs allows 255 levels of nesting and its recursion takes far more stack per level than
/// serde_json's: about 120 levels already overflow a 2 MiB thread stack (test threads, rayon
/// workers) in a debug build (found by the fuzz regression test). A line nested deeper than
/// [`SIMD_MAX_NESTING`] goes to serde_json instead, which reads up to 128 levels and reports
/// "recursion limit exceeded" beyond, like the `.json` document path.
fn parse_object(bytes: &[u8]) -> std::result::Result<(Fields, Option<String>), String> {
    let parsed = if nesting_exceeds(bytes, SIMD_MAX_NESTING) {
        serde_json::from_slice::<TopLevel>(bytes).map_err(|e| e.to_string())
    } else {
        sonic_rs::from_slice::<TopLevel>(bytes).map_err(|e| e.to_string())
    };
    match parsed {
        Ok(TopLevel::Object(map, repeated)) => Ok((map, repeated)),
        Ok(TopLevel::Other(kind)) => Err(format!("expected a JSON object per line, got {kind}")),
        Err(e) => {
            if std::str::from_utf8(bytes).is_err() {
                let valid = std::str::from_utf8(bytes)
                    .err()
                    .map(|u| u.valid_up_to())
                    .unwrap_or(0);
                Err(format!("invalid UTF-8 at byte {valid} of the line (the file must be UTF-8; re-encode it, e.g. `iconv -f latin1 -t utf-8`)"))
            } else {
                Err(format!("invalid JSON: {e}"))
            }
        }
    }
}

/// The top-level value of a line: the object, built with room for its keys up front (growing
/// the map key by key rehashed it twice per row), or the JSON type found instead.
enum TopLevel {
    /// The object and the first key it repeats (the last value is kept).
    Object(Fields, Option<String>),
    Other(&'static str),
}

/// Room reserved for the keys of a row object when the parser gives no count.
const ROW_KEYS_HINT: usize = 16;

impl<'de> serde::Deserialize<'de> for TopLevel {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_any(TopVisitor)
    }
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = TopLevel;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut access: A,
    ) -> std::result::Result<TopLevel, A::Error> {
        let mut fields = Fields::with_capacity(access.size_hint().unwrap_or(ROW_KEYS_HINT));
        let mut repeated = None;
        while let Some(key) = access.next_key::<String>()? {
            let value: Value = access.next_value()?;
            match fields.entry(key) {
                serde_json::map::Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                serde_json::map::Entry::Occupied(mut slot) => {
                    repeated.get_or_insert_with(|| slot.key().clone());
                    slot.insert(value);
                }
            }
        }
        Ok(TopLevel::Object(fields, repeated))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<TopLevel, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(TopLevel::Other("array"))
    }

    fn visit_bool<E>(self, _: bool) -> std::result::Result<TopLevel, E> {
        Ok(TopLevel::Other("boolean"))
    }

    fn visit_i64<E>(self, _: i64) -> std::result::Result<TopLevel, E> {
        Ok(TopLevel::Other("number"))
    }

    fn visit_u64<E>(self, _: u64) -> std::result::Result<TopLevel, E> {
        Ok(TopLevel::Other("number"))
    }

    fn visit_f64<E>(self, _: f64) -> std::result::Result<TopLevel, E> {
        Ok(TopLevel::Other("number"))
    }

    fn visit_str<E>(self, _: &str) -> std::result::Result<TopLevel, E> {
        Ok(TopLevel::Other("string"))
    }

    fn visit_unit<E>(self) -> std::result::Result<TopLevel, E> {
        Ok(TopLevel::Other("null"))
    }

    fn visit_none<E>(self) -> std::result::Result<TopLevel, E> {
        Ok(TopLevel::Other("null"))
    }
}

/// Deepest nesting handed to the SIMD parser (real rows nest < 20 levels).
const SIMD_MAX_NESTING: usize = 64;

/// Whether arrays/objects nest deeper than `limit` (brackets inside strings do not count). A
/// cheap count of brackets settles almost every line without the string-aware scan.
fn nesting_exceeds(bytes: &[u8], limit: usize) -> bool {
    // memchr2 skips text without brackets 32 bytes at a time; stop counting past the limit.
    if memchr::memchr2_iter(b'[', b'{', bytes).nth(limit).is_none() {
        return false;
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Counts bytes pulled from the underlying file (and, with streamed digests on, hashes them;
/// the digest is remembered when the file is read to its end).
struct Counting<R> {
    inner: R,
    counter: Arc<AtomicU64>,
    digest: Option<(StreamDigest, PathBuf)>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        if n > 0 {
            if let Some((digest, _)) = self.digest.as_mut() {
                digest.update(&buf[..n]);
            }
        } else if !buf.is_empty() {
            if let Some((digest, path)) = self.digest.take() {
                digest.finish(&path);
            }
        }
        Ok(n)
    }
}

fn open_decoded(input: &InputFile, counter: &Arc<AtomicU64>) -> Result<Box<dyn Read + Send>> {
    let file = std::fs::File::open(&input.path).map_err(|e| Error::io(&input.path, e))?;
    let counted = Counting {
        inner: file,
        counter: counter.clone(),
        digest: StreamDigest::for_input(&input.path).map(|d| (d, input.path.clone())),
    };
    let reader: Box<dyn Read + Send> = match input.compression {
        Compression::None => Box::new(counted),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
            1 << 16,
            counted,
        ))),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::new(counted).map_err(|e| Error::io(&input.path, e))?,
        ),
    };
    Ok(reader)
}

fn stream_error(input: &InputFile, after_line: u64, error: &std::io::Error) -> Chunk {
    let what = match input.compression {
        Compression::Gzip => "gzip stream",
        Compression::Zstd => "zstd stream",
        Compression::None => "file",
    };
    let read = after_line.saturating_sub(1);
    Chunk::Fatal(Error::Damaged {
        path: input.path.display().to_string(),
        rows_read: read,
        message: format!(
            "read failed after line {read}: {error} (the {what} is truncated or corrupt; every \
             row after line {read} is lost, so nothing is written: repair or re-download the file)"
        ),
    })
}

fn error_batch(index: usize, file: &Arc<str>, error: RowError) -> Chunk {
    Chunk::Parsed(Batch {
        seq: 0,
        input: index,
        file: file.clone(),
        rows: vec![Row {
            index: error.line,
            value: Err(error),
        }],
    })
}

/// Chunk buffers parsed and ready for reuse (filled on the reader thread, freed on a worker).
static CHUNK_POOL: super::BufferPool = super::BufferPool::new(32, 16 << 20);

/// Cuts a JSONL byte stream into chunks of whole lines and numbers them.
struct LineChunker<'a> {
    index: usize,
    file: Arc<str>,
    sender: &'a crossbeam_channel::Sender<Chunk>,
    /// Bytes not yet handed on; starts at line `next_line`.
    pending: Vec<u8>,
    next_line: u64,
}

impl LineChunker<'_> {
    /// Hand on every complete line in `pending` (keeping the incomplete tail). False when the
    /// consumer has gone away.
    fn flush_complete(&mut self) -> bool {
        let Some(last_nl) = memchr::memrchr(b'\n', &self.pending) else {
            return true;
        };
        let mut rest = CHUNK_POOL.take(self.pending.capacity());
        rest.extend_from_slice(&self.pending[last_nl + 1..]);
        self.pending.truncate(last_nl + 1);
        let lines = memchr::memchr_iter(b'\n', &self.pending).count() as u64;
        let chunk = Chunk::Lines {
            input: self.index,
            file: self.file.clone(),
            first_line: self.next_line,
            data: std::mem::replace(&mut self.pending, rest),
        };
        self.next_line += lines;
        self.sender.send(chunk).is_ok()
    }

    /// Hand on everything left (the last line may lack a newline).
    fn flush_all(&mut self) -> bool {
        if self.pending.is_empty() {
            return true;
        }
        let chunk = Chunk::Lines {
            input: self.index,
            file: self.file.clone(),
            first_line: self.next_line,
            data: std::mem::take(&mut self.pending),
        };
        self.sender.send(chunk).is_ok()
    }

    /// Report a row error for the current line.
    fn send_error(&self, error: RowError) -> bool {
        self.sender
            .send(error_batch(self.index, &self.file, error))
            .is_ok()
    }
}

/// Read a JSONL file into line-aligned chunks. Returns false when the consumer has gone away.
fn read_lines(
    index: usize,
    input: &InputFile,
    options: &ReadOptions,
    counter: &Arc<AtomicU64>,
    sender: &crossbeam_channel::Sender<Chunk>,
) -> bool {
    let file: Arc<str> = Arc::from(input.path.display().to_string());
    let mut reader = match open_decoded(input, counter) {
        Ok(r) => r,
        Err(e) => return sender.send(Chunk::Fatal(e)).is_ok(),
    };
    let mut chunker = LineChunker {
        index,
        file,
        sender,
        pending: Vec::with_capacity(options.batch_bytes + (1 << 16)),
        next_line: 1,
    };
    let mut discarding = false; // inside an over-long line
                                // Read about one chunk at a time, straight into the chunk being filled.
    let block = options.batch_bytes.clamp(1, 4 << 20);
    loop {
        let start = chunker.pending.len();
        chunker.pending.reserve(block);
        let n = match (&mut reader)
            .take(block as u64)
            .read_to_end(&mut chunker.pending)
        {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                // Keep what was read before the failure, hand on the complete lines, then
                // report the broken stream.
                if !chunker.flush_complete() {
                    return false;
                }
                return sender
                    .send(stream_error(input, chunker.next_line, &e))
                    .is_ok();
            }
        };
        if discarding {
            match memchr::memchr(b'\n', &chunker.pending[start..start + n]) {
                Some(pos) => {
                    discarding = false;
                    chunker.next_line += 1;
                    chunker.pending.drain(start..start + pos + 1);
                }
                None => {
                    chunker.pending.truncate(start);
                    continue;
                }
            }
        }
        // Over-long line: no newline within the limit after the last complete line. It is
        // reported and skipped without being buffered.
        let last_nl = memchr::memrchr(b'\n', &chunker.pending);
        let tail_len = chunker.pending.len() - last_nl.map_or(0, |p| p + 1);
        if tail_len > options.max_line_bytes {
            if !chunker.flush_complete() {
                return false;
            }
            let error = RowError {
                file: chunker.file.to_string(),
                line: chunker.next_line,
                field: None,
                reason: format!(
                    "line is longer than {} bytes; raise --max-line-bytes to read it",
                    options.max_line_bytes
                ),
            };
            if !chunker.send_error(error) {
                return false;
            }
            chunker.pending.clear();
            discarding = true;
            continue;
        }
        if chunker.pending.len() >= options.batch_bytes && !chunker.flush_complete() {
            return false;
        }
    }
    discarding || chunker.flush_all()
}

/// Keys under which a JSON object wraps its list of rows (BBH `examples`, ...).
const WRAPPER_KEYS: &[&str] = &[
    "examples",
    "outputs",
    "data",
    "rows",
    "records",
    "instances",
    "items",
];

/// Read a JSON document: a top-level array is streamed element by element; an object is either a
/// wrapper around a list of rows or one row; a file that is really JSONL is read as such.
fn read_json(
    index: usize,
    input: &InputFile,
    options: &ReadOptions,
    counter: &Arc<AtomicU64>,
    sender: &crossbeam_channel::Sender<Chunk>,
) -> bool {
    let file: Arc<str> = Arc::from(input.path.display().to_string());
    let reader = match open_decoded(input, counter) {
        Ok(r) => r,
        Err(e) => return sender.send(Chunk::Fatal(e)).is_ok(),
    };
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    // Peek at the first non-whitespace byte.
    let first = loop {
        match reader.fill_buf() {
            Ok([]) => break None,
            Ok(buf) => {
                let skip = buf
                    .iter()
                    .take_while(|b| {
                        b.is_ascii_whitespace() || **b == 0xEF || **b == 0xBB || **b == 0xBF
                    })
                    .count();
                if skip < buf.len() {
                    let b = buf[skip];
                    reader.consume(skip);
                    break Some(b);
                }
                let len = buf.len();
                reader.consume(len);
            }
            Err(e) => {
                return sender.send(stream_error(input, 0, &e)).is_ok();
            }
        }
    };
    match first {
        None => true,
        Some(b'[') => stream_array(index, &file, reader, options, sender),
        Some(_) => {
            // An object document is parsed whole: bound the memory it may take.
            let cap = options.max_document_bytes;
            let mut bytes = Vec::new();
            if let Err(e) = (&mut reader).take(cap as u64 + 1).read_to_end(&mut bytes) {
                return sender.send(stream_error(input, 0, &e)).is_ok();
            }
            if bytes.len() > cap {
                let error = RowError {
                    file: file.to_string(),
                    line: 1,
                    field: None,
                    reason: format!(
                        "JSON document is larger than {cap} bytes and is not a top-level array, so \
                         it would be read whole; convert it to JSON Lines (one object per line, \
                         `.jsonl`), or rename it to `.jsonl` if it already is JSON Lines"
                    ),
                };
                return sender.send(error_batch(index, &file, error)).is_ok();
            }
            read_json_object(index, &file, bytes, options, sender)
        }
    }
}

fn read_json_object(
    index: usize,
    file: &Arc<str>,
    bytes: Vec<u8>,
    options: &ReadOptions,
    sender: &crossbeam_channel::Sender<Chunk>,
) -> bool {
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => {
            let wrapped = WRAPPER_KEYS.iter().find(|k| {
                map.get(**k)
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().all(Value::is_object))
            });
            let others_scalar = |key: &str| {
                map.iter()
                    .filter(|(k, _)| k.as_str() != key)
                    .all(|(_, v)| !v.is_array() && !v.is_object())
            };
            match wrapped {
                Some(key) if others_scalar(key) => {
                    let mut map = map;
                    let items = match map.remove(*key) {
                        Some(Value::Array(items)) => items,
                        _ => Vec::new(),
                    };
                    send_items(index, file, items.into_iter(), options.batch_rows, sender)
                }
                _ => send_items(index, file, std::iter::once(Value::Object(map)), 1, sender),
            }
        }
        Ok(other) => {
            let error = RowError {
                file: file.to_string(),
                line: 1,
                field: None,
                reason: format!(
                    "expected a JSON object or array of objects, got {}",
                    crate::error::json_type_name(&other)
                ),
            };
            sender.send(error_batch(index, file, error)).is_ok()
        }
        Err(e) if e.to_string().contains("trailing characters") => {
            // A JSON Lines file with a .json name.
            let chunk = Chunk::Lines {
                input: index,
                file: file.clone(),
                first_line: 1,
                data: bytes,
            };
            sender.send(chunk).is_ok()
        }
        Err(e) => {
            let error = RowError {
                file: file.to_string(),
                line: e.line() as u64,
                field: None,
                reason: format!("invalid JSON document: {e}"),
            };
            sender.send(error_batch(index, file, error)).is_ok()
        }
    }
}

fn send_items(
    index: usize,
    file: &Arc<str>,
    items: impl Iterator<Item = Value>,
    batch_rows: usize,
    sender: &crossbeam_channel::Sender<Chunk>,
) -> bool {
    let mut rows = Vec::with_capacity(batch_rows);
    for (i, item) in items.enumerate() {
        rows.push(item_row(file, i as u64, item));
        if rows.len() >= batch_rows {
            let batch = Batch {
                seq: 0,
                input: index,
                file: file.clone(),
                rows: std::mem::take(&mut rows),
            };
            if sender.send(Chunk::Parsed(batch)).is_err() {
                return false;
            }
        }
    }
    if rows.is_empty() {
        return true;
    }
    let batch = Batch {
        seq: 0,
        input: index,
        file: file.clone(),
        rows,
    };
    sender.send(Chunk::Parsed(batch)).is_ok()
}

fn item_row(file: &Arc<str>, index: u64, item: Value) -> Row {
    match item {
        Value::Object(map) => Row {
            index,
            value: Ok(map),
        },
        other => Row {
            index,
            value: Err(RowError {
                file: file.to_string(),
                line: index,
                field: None,
                reason: format!(
                    "item {index}: expected a JSON object, got {}",
                    crate::error::json_type_name(&other)
                ),
            }),
        },
    }
}

/// Stream the elements of a top-level JSON array without loading the whole document.
fn stream_array<R: Read>(
    index: usize,
    file: &Arc<str>,
    reader: R,
    options: &ReadOptions,
    sender: &crossbeam_channel::Sender<Chunk>,
) -> bool {
    struct Items<'a> {
        index: usize,
        file: &'a Arc<str>,
        batch_rows: usize,
        sender: &'a crossbeam_channel::Sender<Chunk>,
        alive: bool,
        count: u64,
    }
    impl<'de> Visitor<'de> for &mut Items<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON array of objects")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
            let mut rows = Vec::with_capacity(self.batch_rows);
            loop {
                let item = match seq.next_element::<Value>() {
                    Ok(Some(item)) => item,
                    Ok(None) => break,
                    Err(e) => {
                        // Hand over the good rows before reporting the broken tail.
                        if !rows.is_empty() {
                            let batch = Batch {
                                seq: 0,
                                input: self.index,
                                file: self.file.clone(),
                                rows: std::mem::take(&mut rows),
                            };
                            if self.sender.send(Chunk::Parsed(batch)).is_err() {
                                self.alive = false;
                            }
                        }
                        return Err(e);
                    }
                };
                rows.push(item_row(self.file, self.count, item));
                self.count += 1;
                if rows.len() >= self.batch_rows {
                    let batch = Batch {
                        seq: 0,
                        input: self.index,
                        file: self.file.clone(),
                        rows: std::mem::take(&mut rows),
                    };
                    if self.sender.send(Chunk::Parsed(batch)).is_err() {
                        self.alive = false;
                        return Err(serde::de::Error::custom("consumer stopped"));
                    }
                }
            }
            if !rows.is_empty() {
                let batch = Batch {
                    seq: 0,
                    input: self.index,
                    file: self.file.clone(),
                    rows,
                };
                if self.sender.send(Chunk::Parsed(batch)).is_err() {
                    self.alive = false;
                }
            }
            Ok(())
        }
    }
    impl<'de> DeserializeSeed<'de> for &mut Items<'_> {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(
            self,
            d: D,
        ) -> std::result::Result<(), D::Error> {
            d.deserialize_seq(self)
        }
    }
    // The peeked '[' is still in the reader's buffer.
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let mut items = Items {
        index,
        file,
        batch_rows: options.batch_rows,
        sender,
        alive: true,
        count: 0,
    };
    let result = (&mut items).deserialize(&mut deserializer);
    if !items.alive {
        return false;
    }
    if let Err(e) = result.and_then(|()| deserializer.end()) {
        // Nothing after the damage can be read: the rest of the array is lost.
        let error = Error::Damaged {
            path: file.to_string(),
            rows_read: items.count,
            message: format!(
                "invalid JSON array after item {} (line {} column {}): {e}; every item after it \
                 is lost, so nothing is written: repair the file",
                items.count,
                e.line(),
                e.column()
            ),
        };
        return sender.send(Chunk::Fatal(error)).is_ok();
    }
    true
}

/// Read a Parquet file batch by batch, converting each row to a JSON object.
fn read_parquet(
    index: usize,
    input: &InputFile,
    options: &ReadOptions,
    counter: &Arc<AtomicU64>,
    sender: &crossbeam_channel::Sender<Chunk>,
) -> bool {
    let file: Arc<str> = Arc::from(input.path.display().to_string());
    let fatal = |message: String| {
        sender
            .send(Chunk::Fatal(Error::Parquet {
                path: file.to_string(),
                message,
            }))
            .is_ok()
    };
    let handle = match std::fs::File::open(&input.path) {
        Ok(f) => f,
        Err(e) => return sender.send(Chunk::Fatal(Error::io(&input.path, e))).is_ok(),
    };
    if let Ok(meta) = handle.metadata() {
        counter.fetch_add(meta.len(), Ordering::Relaxed);
    }
    let builder =
        match parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(handle) {
            Ok(b) => b,
            Err(e) => return fatal(format!("{e} (is this a Parquet file?)")),
        };
    let reader = match builder.with_batch_size(options.batch_rows).build() {
        Ok(r) => r,
        Err(e) => return fatal(e.to_string()),
    };
    let mut row_index = 0u64;
    for batch in reader {
        let batch = match batch {
            Ok(b) => b,
            Err(e) => return fatal(format!("after row {row_index}: {e}")),
        };
        let mut buffer = Vec::new();
        {
            let mut writer = arrow_json::WriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, arrow_json::writer::JsonArray>(&mut buffer);
            if let Err(e) = writer.write(&batch).and_then(|()| writer.finish()) {
                return fatal(format!("cannot convert rows from {row_index} to JSON: {e}"));
            }
        }
        let items: Vec<Value> = match serde_json::from_slice::<Value>(&buffer) {
            Ok(Value::Array(items)) => items,
            Ok(_) => Vec::new(),
            Err(e) => return fatal(format!("internal JSON conversion failed: {e}")),
        };
        let rows: Vec<Row> = items
            .into_iter()
            .enumerate()
            .map(|(i, item)| item_row(&file, row_index + i as u64, item))
            .collect();
        row_index += rows.len() as u64;
        let chunk = Chunk::Parsed(Batch {
            seq: 0,
            input: index,
            file: file.clone(),
            rows,
        });
        if sender.send(chunk).is_err() {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests;
