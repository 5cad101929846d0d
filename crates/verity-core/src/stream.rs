//! Records from files: rows read by [`crate::io::RowReader`], turned into [`Record`]s by the
//! layout detected for each file (or forced with `--from`), with the bad-row policy applied.
//!
//! This is the entry point every stage uses to read a dataset: it keeps input order, parses and
//! converts on all cores, and returns rejected rows (with file, line, field and reason, plus the
//! original row when it was valid JSON) next to the records so the caller can write them to a
//! rejects file (`--on-error skip`) or stop at the first one (`--on-error fail`).

use crate::error::{Error, Result, RowError};
use crate::io::{InputFile, ReadOptions, RowReader};
use crate::layout::{self, Layout, RowContext};
use crate::record::{Fields, Record};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// What to do with a row that cannot be read or converted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnError {
    /// Stop with an error naming the file, line and field.
    #[default]
    Fail,
    /// Skip the row; it is returned as a [`Reject`] for the rejects file.
    Skip,
}

/// A row that was not turned into a record.
#[derive(Debug, Clone, Serialize)]
pub struct Reject {
    /// Where and why.
    #[serde(flatten)]
    pub error: RowError,
    /// The stage that rejected it.
    pub stage: String,
    /// The original row, when it was valid JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<Value>,
}

/// Records of one batch, in input order.
#[derive(Debug, Clone)]
pub struct RecordBatch {
    /// Position in the stream.
    pub seq: u64,
    /// The records.
    pub records: Vec<Record>,
    /// Rows that failed, in input order.
    pub rejects: Vec<Reject>,
}

/// How to read a dataset into records.
#[derive(Clone)]
pub struct SourceOptions {
    /// Force this layout for every file instead of detecting.
    pub layout: Option<&'static dyn Layout>,
    /// Bad-row policy.
    pub on_error: OnError,
    /// Reader settings.
    pub read: ReadOptions,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            layout: None,
            on_error: OnError::Fail,
            read: ReadOptions::default(),
        }
    }
}

/// The layout of each input file.
pub fn detect_layouts(
    inputs: &[InputFile],
    forced: Option<&'static dyn Layout>,
) -> Result<Vec<&'static dyn Layout>> {
    let mut layouts = Vec::with_capacity(inputs.len());
    for input in inputs {
        if let Some(layout) = forced {
            layouts.push(layout);
            continue;
        }
        let (sample, first_error) = sample_rows_and_error(input, 64)?;
        if sample.is_empty() {
            if let Some(error) = first_error {
                return Err(Error::Row(error));
            }
        }
        let layout = layout::detect(&sample).ok_or_else(|| Error::UnknownLayout {
            path: input.path.display().to_string(),
            fields: sample
                .first()
                .map(|row| row.keys().cloned().collect::<Vec<_>>().join(", "))
                .unwrap_or_else(|| "no rows".into()),
        })?;
        layouts.push(layout);
    }
    Ok(layouts)
}

/// The first `limit` valid rows of a file.
pub fn sample_rows(input: &InputFile, limit: u64) -> Result<Vec<Fields>> {
    Ok(sample_rows_and_error(input, limit)?.0)
}

fn sample_rows_and_error(input: &InputFile, limit: u64) -> Result<(Vec<Fields>, Option<RowError>)> {
    let options = ReadOptions {
        limit: Some(limit),
        batch_bytes: 256 << 10,
        batch_rows: 64,
        ..ReadOptions::default()
    };
    let reader = RowReader::open(vec![input.clone()], options);
    let mut rows = Vec::new();
    let mut first_error = None;
    reader.for_each_ordered(
        |batch| batch.rows,
        |batch| {
            for row in batch {
                match row.value {
                    Ok(fields) => rows.push(fields),
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            Ok::<(), Error>(())
        },
    )?;
    rows.truncate(limit as usize);
    Ok((rows, first_error))
}

/// A dataset opened for reading as records.
pub struct RecordSource {
    inputs: Vec<InputFile>,
    layouts: Vec<&'static dyn Layout>,
    options: SourceOptions,
}

impl RecordSource {
    /// Open `inputs`, detecting each file's layout now (so errors come before any work).
    pub fn open(inputs: Vec<InputFile>, options: SourceOptions) -> Result<RecordSource> {
        let layouts = detect_layouts(&inputs, options.layout)?;
        Ok(RecordSource {
            inputs,
            layouts,
            options,
        })
    }

    /// The input files.
    pub fn inputs(&self) -> &[InputFile] {
        &self.inputs
    }

    /// Total size of the input files in bytes.
    pub fn total_bytes(&self) -> u64 {
        self.inputs
            .iter()
            .filter_map(|i| std::fs::metadata(&i.path).ok())
            .map(|m| m.len())
            .sum()
    }

    /// Share a counter of bytes read (for a progress bar on the caller's side).
    pub fn set_progress(&mut self, counter: Arc<std::sync::atomic::AtomicU64>) {
        self.options.read.progress = Some(counter);
    }

    /// The layout used for each input file.
    pub fn layouts(&self) -> &[&'static dyn Layout] {
        &self.layouts
    }

    /// Stream record batches: `map` runs on worker threads (in parallel), `sink` gets the results
    /// in input order. With [`OnError::Fail`] the first bad row stops the stream with an error.
    /// `progress` is called from the sink thread with the bytes read so far.
    pub fn for_each<T, M, S, E>(self, map: M, mut sink: S) -> std::result::Result<(), E>
    where
        T: Send,
        M: Fn(RecordBatch) -> T + Sync + Send,
        S: FnMut(T) -> std::result::Result<(), E>,
        E: From<Error>,
    {
        let names = dataset_names(&self.inputs);
        let layouts = self.layouts.clone();
        let on_error = self.options.on_error;
        let ids = (self.inputs.len() > 1).then(|| IdRegistry::new(&self.inputs));
        let reader = RowReader::open(self.inputs, self.options.read.clone());
        reader.for_each_ordered(
            |batch| {
                let layout = layouts[batch.input];
                let dataset = &names[batch.input];
                let mut records = Vec::with_capacity(batch.rows.len());
                let mut rejects = Vec::new();
                for row in batch.rows {
                    match row.value {
                        Err(error) => rejects.push(Reject {
                            error,
                            stage: "read".into(),
                            row: None,
                        }),
                        Ok(fields) => {
                            let ctx = RowContext {
                                file: &batch.file,
                                dataset,
                                row: row.index,
                            };
                            let kept = (on_error == OnError::Skip).then(|| fields.clone());
                            match layout::read_row(layout, fields, &ctx) {
                                Ok(record) => records.push(record),
                                Err(e) => rejects.push(Reject {
                                    error: RowError {
                                        file: batch.file.to_string(),
                                        line: row.index,
                                        field: Some(e.field),
                                        reason: format!(
                                            "{} (layout `{}`)",
                                            e.reason,
                                            layout.name()
                                        ),
                                    },
                                    stage: "read".into(),
                                    row: kept.map(Value::Object),
                                }),
                            }
                        }
                    }
                }
                if on_error == OnError::Fail {
                    if let Some(reject) = rejects.first() {
                        return Err(Error::Row(reject.error.clone()));
                    }
                }
                if let Some(ids) = &ids {
                    ids.check(batch.input, &records)?;
                }
                Ok(map(RecordBatch {
                    seq: batch.seq,
                    records,
                    rejects,
                }))
            },
            |output| match output {
                Ok(value) => sink(value),
                Err(error) => Err(error.into()),
            },
        )
    }
}

/// The dataset name of each input (ids and lineage use it): the file's own name, or, when two
/// inputs share one (`train/aime.json` and `test/aime.json`), the name with its parent
/// directories until they differ.
fn dataset_names(inputs: &[InputFile]) -> Vec<String> {
    let mut names: Vec<String> = inputs.iter().map(InputFile::dataset_name).collect();
    for depth in 1..8 {
        let mut clash = false;
        let counts = names
            .iter()
            .fold(std::collections::HashMap::new(), |mut m, n| {
                *m.entry(n.clone()).or_insert(0usize) += 1;
                m
            });
        for (i, input) in inputs.iter().enumerate() {
            if counts[&names[i]] > 1 && inputs.iter().filter(|o| o.path == input.path).count() == 1
            {
                clash = true;
                names[i] = qualified_name(input, depth);
            }
        }
        if !clash {
            break;
        }
    }
    names
}

/// `parent/.../stem` with `depth` parent directories.
fn qualified_name(input: &InputFile, depth: usize) -> String {
    let stem = input.dataset_name();
    let stem = stem.rsplit('/').next().unwrap_or(&stem).to_string();
    let mut parts = vec![stem];
    let mut dir = input.path.parent();
    for _ in 0..depth {
        match dir.and_then(|d| d.file_name()) {
            Some(name) => parts.push(name.to_string_lossy().to_string()),
            None => break,
        }
        dir = dir.and_then(std::path::Path::parent);
    }
    parts.reverse();
    parts.join("/")
}

/// Record ids seen so far, by input file: an id used in two files of one dataset stops the
/// read (ids identify records in every later stage, the ledger and the card).
struct IdRegistry {
    files: Vec<String>,
    /// Hash of the id -> (input index, row index).
    seen: std::sync::Mutex<std::collections::HashMap<u64, (usize, u64)>>,
}

impl IdRegistry {
    fn new(inputs: &[InputFile]) -> IdRegistry {
        IdRegistry {
            files: inputs
                .iter()
                .map(|i| i.path.display().to_string())
                .collect(),
            seen: Default::default(),
        }
    }

    fn check(&self, input: usize, records: &[Record]) -> Result<()> {
        use std::hash::{Hash, Hasher};
        let Ok(mut seen) = self.seen.lock() else {
            return Ok(());
        };
        for record in records {
            let mut hasher = std::hash::DefaultHasher::new();
            record.id.hash(&mut hasher);
            let row = record.lineage.row.unwrap_or(0);
            let (first_input, first_row) = *seen.entry(hasher.finish()).or_insert((input, row));
            if first_input != input {
                let (a, b) = if first_input < input {
                    ((first_input, first_row), (input, row))
                } else {
                    ((input, row), (first_input, first_row))
                };
                return Err(Error::Other(format!(
                    "record id `{}` is used in two files of one dataset: {} (row {}) and {} (row \
                     {}); ids must be unique across the files read together (give the files \
                     distinct ids, or process them separately)",
                    record.id, self.files[a.0], a.1, self.files[b.0], b.1
                )));
            }
        }
        Ok(())
    }
}
