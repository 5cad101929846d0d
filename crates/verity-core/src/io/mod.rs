//! Streaming readers and writers.
//!
//! - [`source`]: expand paths (files, directories of shards) into an ordered list of inputs and
//!   detect each one's format from its name.
//! - [`read`]: stream rows (JSON objects) from JSONL (plain, `.gz`, `.zst`), JSON arrays (streamed
//!   element by element), single JSON documents and Parquet, in batches, with parallel parsing and
//!   bounded memory; bad rows come out as [`crate::RowError`]s with file and line.
//! - [`write`]: atomic outputs (temp file + rename), JSONL with compression by extension,
//!   Parquet, and sharding by size.
//! - [`lock`]: an exclusive lock on an output directory (one run at a time).

pub mod lock;
pub mod pool;
pub mod read;
pub mod source;
pub mod write;

pub use lock::DirLock;
pub use pool::BufferPool;
pub use read::{Batch, ReadOptions, Row, RowReader};
pub use source::{expand_inputs, Compression, Format, InputFile};
pub use write::{set_durable_outputs, AtomicFile, OutputFormat, RowWriter, WriteOptions};
