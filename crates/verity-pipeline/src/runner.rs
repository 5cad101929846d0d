//! The runner: streams records through the recipe's stages and writes the release directory.
//!
//! What it does: cuts the recipe into segments ([`crate::plan`]), reuses completed segment
//! checkpoints ([`crate::resume`]), and runs the rest. Inside a segment, batches of records
//! (about 2 MB of input each) are parsed and pushed through every stage of the segment on
//! rayon worker threads, several batches at once; a single sink thread receives them in input
//! order and writes the outputs, so the output order never depends on the thread count.
//! Memory is bounded by the reader's window (2 x threads batches in flight) plus the state of
//! first-pass stages (see [`crate::stages`] for the per-record formulas).
//!
//! The output directory:
//!
//! | path | what |
//! |---|---|
//! | `data/<split>.<jsonl|parquet>` | the records in the export target's layout (`train` without a split stage) |
//! | `rejects/NN-<stage>.jsonl` | every record a stage removed: `{stage, reason, detail, record}` (`00-read` for unreadable rows) |
//! | `ledger.jsonl` | one entry per stage (parameters, counts, rejection reasons, verifiers, summary, cpu seconds, input/output digests) |
//! | `stats.json` | the scaling ledger of the output (rows, unique tasks, attempts, passes, bands, tokens, mixture, funnel) plus histograms for the report |
//! | `card.json`, `README.md` | the release card (verity-card) and its Hugging Face export |
//! | `report.html` | the self-contained report |
//! | `run.json` | written last: the run is complete and these files belong together |
//! | `.verity/checkpoints/` | segment checkpoints (resume points) |
//!
//! Determinism: data files, rejects and `stats.json` are byte-identical across runs and
//! thread counts for the same recipe and inputs (no timestamps; every tie broken by position or
//! seed). The ledger, card and report carry times.
//!
//! Known failure modes: a full disk or any write error stops the run with the path and the OS
//! message; temporary files are removed and `run.json` is not written, so nothing
//! half-written is presented as complete. A run killed by SIGKILL leaves the completed
//! checkpoints, which the next run reuses.

use crate::error::{Error, Result};
use crate::export::{export_row, ExportConfig};
use crate::plan::{plan, Plan};
use crate::recipe::{OnErrorConfig, Recipe};
use crate::resume;
use crate::stages;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use verity_core::io::{expand_inputs, InputFile, ReadOptions, RowWriter, WriteOptions};
use verity_core::ledger::{FileDigest, LedgerEntry};
use verity_core::stage::Stage;
use verity_core::stream::{OnError, RecordBatch, RecordSource, SourceOptions};
use verity_core::summary::{ExportSummary, StageSummary};
use verity_core::Record;

/// Progress and messages, implemented by the CLI with progress bars.
pub trait Reporter: Sync {
    /// A task starts (`label`), reading `total_bytes` of input; returns a handle.
    fn begin(&self, label: &str, total_bytes: u64) -> usize;
    /// Progress of a task: input bytes consumed and records done.
    fn progress(&self, task: usize, bytes: u64, rows: u64);
    /// A task ended.
    fn end(&self, task: usize, message: &str);
    /// A message for the user.
    fn note(&self, message: &str);
}

/// A reporter that says nothing.
pub struct SilentReporter;

impl Reporter for SilentReporter {
    fn begin(&self, _: &str, _: u64) -> usize {
        0
    }
    fn progress(&self, _: usize, _: u64, _: u64) {}
    fn end(&self, _: usize, _: &str) {}
    fn note(&self, _: &str) {}
}

/// Options of a run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Override the recipe's output directory.
    pub out_dir: Option<PathBuf>,
    /// Ignore existing checkpoints (run every segment).
    pub fresh: bool,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// The output directory.
    pub out_dir: PathBuf,
    /// Data files written.
    pub data_files: Vec<PathBuf>,
    /// Rows read from the inputs.
    pub rows_read: u64,
    /// Rows written to the data files.
    pub rows_out: u64,
    /// Segments reused from checkpoints.
    pub reused_segments: Vec<usize>,
    /// The ledger.
    pub ledger: PathBuf,
    /// The card, if built.
    pub card: Option<PathBuf>,
    /// The report, if written.
    pub report: Option<PathBuf>,
    /// Per stage (`NN-name`): rows in, rows out, rejected.
    pub funnel: Vec<(String, u64, u64, u64)>,
}

/// Where a segment reads from.
enum SegInput {
    Raw {
        inputs: Vec<InputFile>,
        options: SourceOptions,
    },
    Checkpoint(PathBuf),
}

impl SegInput {
    fn open(&self) -> Result<RecordSource> {
        match self {
            SegInput::Raw { inputs, options } => {
                Ok(RecordSource::open(inputs.clone(), options.clone())?)
            }
            SegInput::Checkpoint(path) => {
                let input = InputFile::detect(path).ok_or_else(|| {
                    Error::Other(format!("{}: not a checkpoint file", path.display()))
                })?;
                let options = SourceOptions {
                    layout: verity_core::layout::by_name("verity"),
                    on_error: OnError::Fail,
                    read: ReadOptions::default(),
                };
                Ok(RecordSource::open(vec![input], options)?)
            }
        }
    }
}

/// Per-stage counters of one segment.
#[derive(Default, Clone)]
struct StageCounts {
    rows_in: u64,
    rows_out: u64,
    rejections: BTreeMap<String, u64>,
}

struct StageBatch {
    rows_in: u64,
    rows_out: u64,
    rejects: Vec<(String, Vec<u8>)>,
}

enum Output {
    Lines(Vec<Vec<u8>>),
    Final {
        rows: Vec<(String, Value)>,
        skips: Vec<(String, Vec<u8>)>,
        records: Vec<Record>,
    },
}

struct BatchOut {
    read_rejects: Vec<(String, Vec<u8>)>,
    records_read: u64,
    stages: Vec<StageBatch>,
    output: Output,
}

fn reject_line(stage: &str, reason: &str, detail: &Option<Value>, record: &Record) -> Vec<u8> {
    let v = json!({"stage": stage, "reason": reason, "detail": detail, "record": record});
    serde_json::to_vec(&v).unwrap_or_default()
}

/// Stage file label `NN-name` (NN = 1-based position in the recipe; 00 = read).
fn label(position: usize, name: &str) -> String {
    format!("{position:02}-{name}")
}

struct FinalState {
    export: ExportConfig,
    data_dir: PathBuf,
    shard_bytes: Option<u64>,
    writers: BTreeMap<String, RowWriter>,
    index: BTreeMap<String, u64>,
    export_counts: StageCounts,
    stats: verity_score::stats::StatsAccumulator,
    scan: verity_card::build::DataScan,
    hist: crate::report::Histograms,
}

impl FinalState {
    fn write(&mut self, split: String, mut row: Value) -> Result<()> {
        let counter = self.index.entry(split.clone()).or_insert(0);
        if self.export.target == "verl" {
            row["extra_info"]["index"] = json!(*counter);
        }
        *counter += 1;
        let writer = match self.writers.get_mut(&split) {
            Some(w) => w,
            None => {
                let path = self
                    .data_dir
                    .join(format!("{split}.{}", self.export.extension()));
                let w = RowWriter::create(
                    &path,
                    WriteOptions {
                        shard_bytes: self.shard_bytes,
                    },
                )?;
                self.writers.entry(split).or_insert(w)
            }
        };
        writer.write_value(row)?;
        Ok(())
    }
}

/// Run a recipe.
pub fn run(recipe: &Recipe, options: &RunOptions, reporter: &dyn Reporter) -> Result<RunSummary> {
    let out = options
        .out_dir
        .clone()
        .unwrap_or_else(|| recipe.output_dir());
    let export = recipe.export().cloned().unwrap_or_default();
    export.validate().map_err(|m| Error::Stage {
        index: recipe.stages.len(),
        stage: "export".into(),
        message: m,
    })?;
    // Build every stage first: configuration errors come before any work.
    let mut built: Vec<Option<Box<dyn Stage>>> = Vec::new();
    for (i, s) in recipe.stages.iter().enumerate() {
        built.push(stages::build(i + 1, s, &recipe.base_dir)?);
    }
    let paths = recipe.input_paths();
    for p in &paths {
        if !p.exists() {
            return Err(Error::Other(format!(
                "input {} does not exist (paths in [input] are relative to the recipe file {})",
                p.display(),
                recipe.path.display()
            )));
        }
    }
    let inputs = expand_inputs(&paths)?;
    let layout = recipe.input.forced_layout(&inputs)?;
    let source_options = SourceOptions {
        layout,
        on_error: match recipe.input.on_error {
            OnErrorConfig::Fail => OnError::Fail,
            OnErrorConfig::Skip => OnError::Skip,
        },
        read: ReadOptions::default(),
    };
    // Detect layouts now so a bad input fails before hashing and before touching OUT.
    let layouts: Vec<String> = RecordSource::open(inputs.clone(), source_options.clone())?
        .layouts()
        .iter()
        .map(|l| l.name().to_string())
        .collect();

    std::fs::create_dir_all(&out).map_err(|e| Error::io(&out, e))?;
    let manifest = out.join("run.json");
    if manifest.exists() {
        std::fs::remove_file(&manifest).map_err(|e| Error::io(&manifest, e))?;
    }
    resume::clean_temp(&out);

    let hash_task = reporter.begin("hashing inputs", 0);
    let mut digests = Vec::new();
    for input in &inputs {
        digests.push(FileDigest::of(&input.path)?);
    }
    reporter.end(hash_task, "");
    let settings = json!({"layout": recipe.input.layout, "on_error": recipe.input.on_error, "layouts": layouts, "map": recipe.input.map});
    let plan = plan(recipe);
    let mut keys = Vec::new();
    let mut previous = resume::input_key(&digests, &settings);
    for seg in &plan.segments {
        let configs: Vec<Value> = seg
            .stages
            .iter()
            .map(|&i| serde_json::to_value(&recipe.stages[i]).unwrap_or(Value::Null))
            .collect();
        let key = resume::segment_key(&previous, &Value::Array(configs));
        previous = key.clone();
        keys.push(key);
    }

    // Reuse the longest prefix of completed checkpoints.
    let mut start = 0;
    let mut chain: Vec<PathBuf> = Vec::new();
    if !options.fresh {
        for seg in plan.segments.iter().filter(|s| s.checkpoint) {
            match resume::find(&out, seg.index, &keys[seg.index]) {
                Some(dir) => {
                    chain.push(dir);
                    start = seg.index + 1;
                }
                None => break,
            }
        }
    }
    let reused: Vec<usize> = (0..start).collect();
    if start > 0 {
        reporter.note(&format!(
            "resuming: segment{} {} reused from checkpoints",
            if start > 1 { "s" } else { "" },
            reused
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }

    let mut entries: Vec<LedgerEntry> = Vec::new();
    for dir in &chain {
        entries.extend(read_entries(&dir.join("entries.json"))?);
    }
    let mut input = match chain.last() {
        Some(dir) => SegInput::Checkpoint(dir.join("records.jsonl")),
        None => SegInput::Raw {
            inputs: inputs.clone(),
            options: source_options.clone(),
        },
    };
    let data_dir = out.join("data");
    let rejects_dir = out.join("rejects");
    let mut final_state: Option<FinalState> = None;
    let mut final_staging: Option<resume::Pending> = None;
    let mut rows_read = 0u64;
    if let Some(e) = entries.first().filter(|e| e.stage == "read") {
        rows_read = e.rows_in;
    }
    for seg in plan.segments.iter().skip(start) {
        let mut seg_stages: Vec<(usize, Box<dyn Stage>)> = Vec::new();
        for &i in &seg.stages {
            if let Some(st) = built[i].take() {
                seg_stages.push((i + 1, st));
            }
        }
        let is_raw = matches!(input, SegInput::Raw { .. });
        // Checkpointed segments write into their checkpoint; the last one stages its rejects
        // there too and publishes them after the data files are complete.
        let pending = Some(resume::Pending::create(&out, seg.index, &keys[seg.index])?);
        let seg_rejects_dir = match &pending {
            Some(p) => p.dir().join("rejects"),
            None => rejects_dir.clone(),
        };
        let fin = if seg.checkpoint {
            None
        } else {
            Some(FinalState {
                export: export.clone(),
                data_dir: data_dir.clone(),
                shard_bytes: recipe.output.shard_bytes,
                writers: BTreeMap::new(),
                index: BTreeMap::new(),
                export_counts: StageCounts::default(),
                stats: verity_score::stats::StatsAccumulator::new(
                    verity_score::group::GroupKey::Problem,
                    verity_score::signals::VerifierChoice::Auto,
                    None,
                ),
                scan: verity_card::build::DataScan {
                    origin: "data".into(),
                    ..Default::default()
                },
                hist: crate::report::Histograms::default(),
            })
        };
        let result = run_segment(
            seg.index,
            &input,
            is_raw,
            &mut seg_stages,
            pending.as_ref().map(|p| p.dir().join("records.jsonl")),
            fin,
            &seg_rejects_dir,
            recipe.stages.len(),
            &digests,
            reporter,
        )?;
        if is_raw {
            rows_read += result.rows_read;
        }
        let mut seg_entries = result.entries;
        match pending {
            Some(p) if !seg.checkpoint => final_staging = Some(p),
            Some(p) => {
                let bytes =
                    serde_json::to_vec(&seg_entries).map_err(|e| Error::Other(e.to_string()))?;
                let path = p.dir().join("entries.json");
                std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
                let dir = p.commit()?;
                input = SegInput::Checkpoint(dir.join("records.jsonl"));
                chain.push(dir);
            }
            None => {}
        }
        entries.append(&mut seg_entries);
        if let Some(f) = result.final_state {
            final_state = Some(f);
        }
    }
    let mut fin =
        final_state.ok_or_else(|| Error::Other("internal: the last segment did not run".into()))?;

    // Data files.
    let mut data_files = Vec::new();
    if fin.writers.is_empty() {
        let path = data_dir.join(format!("train.{}", fin.export.extension()));
        fin.writers.insert(
            "train".into(),
            RowWriter::create(
                &path,
                WriteOptions {
                    shard_bytes: fin.shard_bytes,
                },
            )?,
        );
    }
    let mut rows_out = 0;
    for (_, w) in std::mem::take(&mut fin.writers) {
        rows_out += w.rows();
        data_files.extend(w.finish()?);
    }
    // Publish the rejects (checkpointed segments: hard links; last segment: renames).
    std::fs::create_dir_all(&rejects_dir).map_err(|e| Error::io(&rejects_dir, e))?;
    let mut produced: Vec<PathBuf> = Vec::new();
    for dir in &chain {
        let from = dir.join("rejects");
        let Ok(list) = std::fs::read_dir(&from) else {
            continue;
        };
        let mut names: Vec<PathBuf> = list.flatten().map(|e| e.path()).collect();
        names.sort();
        for src in names {
            let Some(name) = src.file_name() else {
                continue;
            };
            let dst = rejects_dir.join(name);
            publish(&src, &dst)?;
            produced.push(dst);
        }
    }
    if let Some(staging) = final_staging.take() {
        let from = staging.dir().join("rejects");
        let mut names: Vec<PathBuf> = std::fs::read_dir(&from)
            .map_err(|e| Error::io(&from, e))?
            .flatten()
            .map(|e| e.path())
            .collect();
        names.sort();
        for src in names {
            let Some(name) = src.file_name() else {
                continue;
            };
            let dst = rejects_dir.join(name);
            std::fs::rename(&src, &dst).map_err(|e| Error::io(&dst, e))?;
            produced.push(dst);
        }
    }

    let mut export_entry = LedgerEntry::start(
        "export",
        serde_json::to_value(&fin.export).unwrap_or(Value::Null),
    );
    export_entry.rows_in = fin.export_counts.rows_in;
    export_entry.rows_out = rows_out;
    export_entry.rejections = fin.export_counts.rejections.clone();
    for f in &data_files {
        export_entry.outputs.push(FileDigest::of(f)?);
    }
    export_entry.summary = StageSummary::Export(ExportSummary {
        target: fin.export.target.clone(),
        format: fin.export.format.clone(),
        files: data_files.len() as u64,
        rows_per_split: fin.index.clone(),
        attempts: Some(fin.scan.attempts),
    })
    .to_value();
    export_entry.finish();
    entries.push(export_entry);
    for entry in entries.iter_mut() {
        for d in entry.inputs.iter_mut().chain(entry.outputs.iter_mut()) {
            d.path = relative(&d.path, &out);
        }
    }

    // Ledger.
    let ledger = out.join("ledger.jsonl");
    let mut text = Vec::new();
    for e in &entries {
        text.extend(serde_json::to_vec(e).map_err(|e| Error::Other(e.to_string()))?);
        text.push(b'\n');
    }
    verity_core::io::write::write_atomic(&ledger, &text)?;

    // Stats (timestamps removed so the file is deterministic).
    let mut timeless = entries.clone();
    for e in &mut timeless {
        e.started_at.clear();
        e.finished_at.clear();
        strip_timing(&mut e.summary);
    }
    let mut stats = fin.stats.finish(&timeless);
    if let Value::Object(m) = &mut stats {
        m.insert("histograms".into(), fin.hist.to_json());
        m.insert("recipe".into(), json!(recipe.display_name()));
        m.insert(
            "export".into(),
            json!({"target": fin.export.target, "format": fin.export.format}),
        );
    }
    let stats_path = out.join("stats.json");
    verity_core::io::write::write_atomic(&stats_path, &pretty(&stats)?)?;

    // Card.
    let mut card_path = None;
    if recipe.output.card {
        let declared = match &recipe.card.declared {
            Some(p) => Some(verity_card::build::Declared::read(&recipe.resolve(p))?),
            None => None,
        };
        let l = verity_card::build::Ledger {
            name: "ledger.jsonl".into(),
            entries: entries.clone(),
        };
        let mut card = verity_card::build::build(Some(&l), Some(&fin.scan), declared.as_ref())?;
        if card.release.name.value().is_none() {
            card.release.name = verity_card::Fact::declared(recipe.display_name(), "recipe");
        }
        let p = out.join("card.json");
        verity_core::io::write::write_atomic(
            &p,
            &pretty(&serde_json::to_value(&card).unwrap_or(Value::Null))?,
        )?;
        let readme = verity_card::export::hf::render(&card);
        verity_core::io::write::write_atomic(&out.join("README.md"), readme.as_bytes())?;
        card_path = Some(p);
    }

    // Clean stale files from earlier runs, keep this run's checkpoints.
    produced.extend(read_dir_files(&rejects_dir).into_iter().filter(|p| {
        p.file_name()
            .map(|n| {
                let n = n.to_string_lossy();
                n.starts_with("00-")
                    || recipe
                        .stages
                        .iter()
                        .enumerate()
                        .any(|(i, s)| n == format!("{}.jsonl", label(i + 1, s.name())))
            })
            .unwrap_or(false)
    }));
    for f in read_dir_files(&rejects_dir) {
        if !produced.contains(&f) {
            let _ = std::fs::remove_file(&f);
        }
    }
    for f in read_dir_files(&data_dir) {
        if !data_files.contains(&f) {
            let _ = std::fs::remove_file(&f);
        }
    }
    resume::prune(&out, &chain);

    let funnel: Vec<(String, u64, u64, u64)> = entries
        .iter()
        .map(|e| {
            (
                e.stage.clone(),
                e.rows_in,
                e.rows_out,
                e.rejections.values().sum(),
            )
        })
        .collect();
    let manifest_value = json!({
        "recipe": recipe.display_name(),
        "recipe_file": recipe.path.display().to_string(),
        "complete": true,
        "key": keys.last(),
        "rows_read": rows_read,
        "rows_out": rows_out,
        "data": data_files.iter().map(|p| relative(&p.display().to_string(), &out)).collect::<Vec<_>>(),
        "reused_segments": reused,
        "tool": verity_core::ledger::TOOL_VERSION,
    });
    // Report.
    let mut report_path = None;
    if recipe.output.report {
        let p = out.join("report.html");
        crate::report::write_report_with(&out, &p, Some(&manifest_value))?;
        report_path = Some(p);
    }

    for f in data_files
        .iter()
        .chain(read_dir_files(&rejects_dir).iter())
        .chain([
            &ledger,
            &stats_path,
            &out.join("card.json"),
            &out.join("README.md"),
            &out.join("report.html"),
        ])
    {
        if f.exists() {
            readable(f);
        }
    }
    verity_core::io::write::write_atomic(&manifest, &pretty(&manifest_value)?)?;
    readable(&manifest);
    Ok(RunSummary {
        out_dir: out,
        data_files,
        rows_read,
        rows_out,
        reused_segments: reused,
        ledger,
        card: card_path,
        report: report_path,
        funnel,
    })
}

/// Make a finished output world-readable (temp files are created 0600).
fn readable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644));
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn strip_timing(v: &mut Value) {
    if let Value::Object(m) = v {
        m.remove("cpu_seconds");
        m.remove("wall_seconds");
    }
}

fn pretty(v: &Value) -> Result<Vec<u8>> {
    let mut b = serde_json::to_vec_pretty(v).map_err(|e| Error::Other(e.to_string()))?;
    b.push(b'\n');
    Ok(b)
}

fn relative(path: &str, out: &Path) -> String {
    Path::new(path)
        .strip_prefix(out)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.to_string())
}

fn read_dir_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|l| {
            l.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Put `src` at `dst` atomically (hard link when possible, else copy), replacing `dst`.
fn publish(src: &Path, dst: &Path) -> Result<()> {
    let tmp = dst.with_file_name(format!(
        ".{}.tmp-{}",
        dst.file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default(),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    if std::fs::hard_link(src, &tmp).is_err() {
        std::fs::copy(src, &tmp).map_err(|e| Error::io(dst, e))?;
    }
    std::fs::rename(&tmp, dst).map_err(|e| Error::io(dst, e))
}

fn read_entries(path: &Path) -> Result<Vec<LedgerEntry>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Other(format!("{}: {e}", path.display())))
}

struct SegResult {
    entries: Vec<LedgerEntry>,
    rows_read: u64,
    final_state: Option<FinalState>,
}

#[allow(clippy::too_many_arguments)]
fn run_segment(
    seg_index: usize,
    input: &SegInput,
    is_raw: bool,
    stages: &mut [(usize, Box<dyn Stage>)],
    checkpoint: Option<PathBuf>,
    mut fin: Option<FinalState>,
    rejects_dir: &Path,
    recipe_len: usize,
    digests: &[FileDigest],
    reporter: &dyn Reporter,
) -> Result<SegResult> {
    let started = verity_core::ledger::now_rfc3339();
    let wall = Instant::now();
    let names: Vec<String> = stages.iter().map(|(_, s)| s.name().to_string()).collect();
    let cpu: Vec<AtomicU64> = stages.iter().map(|_| AtomicU64::new(0)).collect();

    // First pass.
    let mut firsts: Vec<u64> = Vec::new();
    if let Some((_, head)) = stages.first_mut().filter(|(_, s)| s.needs_first_pass()) {
        let mut source = input.open()?;
        let counter = Arc::new(AtomicU64::new(0));
        source.set_progress(counter.clone());
        let task = reporter.begin(
            &format!("segment {seg_index}: first pass ({})", head.name()),
            source.total_bytes(),
        );
        let mut count = 0u64;
        let t = Instant::now();
        source.for_each(
            |batch: RecordBatch| batch,
            |batch: RecordBatch| -> Result<()> {
                if batch.seq != firsts.len() as u64 {
                    return Err(Error::Other("internal: batches out of order".into()));
                }
                firsts.push(count);
                head.observe(count, &batch.records)?;
                count += batch.records.len() as u64;
                reporter.progress(task, counter.load(Ordering::Relaxed), count);
                Ok(())
            },
        )?;
        head.seal()?;
        cpu[0].fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        reporter.end(task, &format!("{count} records observed"));
    }

    // Main pass.
    let mut source = input.open()?;
    let counter = Arc::new(AtomicU64::new(0));
    source.set_progress(counter.clone());
    let desc = if names.is_empty() {
        "read".to_string()
    } else {
        names.join(" -> ")
    };
    let target = match &fin {
        Some(f) => format!(" -> export {}", f.export.target),
        None => " -> checkpoint".into(),
    };
    let task = reporter.begin(
        &format!("segment {seg_index}: {desc}{target}"),
        source.total_bytes(),
    );
    let mut record_writer = match &checkpoint {
        Some(p) => Some(RowWriter::create(p, WriteOptions::default())?),
        None => None,
    };
    std::fs::create_dir_all(rejects_dir).map_err(|e| Error::io(rejects_dir, e))?;
    let mut read_writer = if is_raw {
        Some(RowWriter::create(
            &rejects_dir.join(format!("{}.jsonl", label(0, "read"))),
            WriteOptions::default(),
        )?)
    } else {
        None
    };
    let mut reject_writers: Vec<RowWriter> = Vec::new();
    for (pos, st) in stages.iter() {
        reject_writers.push(RowWriter::create(
            &rejects_dir.join(format!("{}.jsonl", label(*pos, st.name()))),
            WriteOptions::default(),
        )?);
    }
    let mut export_writer = match &fin {
        Some(_) => Some(RowWriter::create(
            &rejects_dir.join(format!(
                "{}.jsonl",
                label(
                    recipe_len.max(stages.last().map(|s| s.0).unwrap_or(0) + 1),
                    "export"
                )
            )),
            WriteOptions::default(),
        )?),
        None => None,
    };
    let mut counts: Vec<StageCounts> = vec![StageCounts::default(); stages.len()];
    let mut read_counts = StageCounts::default();
    let mut done = 0u64;
    let firsts = &firsts;
    let stage_refs: Vec<&dyn Stage> = stages.iter().map(|(_, s)| s.as_ref()).collect();
    let stage_refs = &stage_refs;
    let cpu_ref = &cpu;
    let export_cfg = fin.as_ref().map(|f| f.export.clone());
    let export_cfg = &export_cfg;
    source.for_each(
        |batch: RecordBatch| -> Result<BatchOut> {
            let first = firsts.get(batch.seq as usize).copied().unwrap_or(0);
            let read_rejects: Vec<(String, Vec<u8>)> = batch
                .rejects
                .iter()
                .map(|r| {
                    (
                        read_reason(&r.error.reason),
                        serde_json::to_vec(r).unwrap_or_default(),
                    )
                })
                .collect();
            let records_read = batch.records.len() as u64;
            let mut records = batch.records;
            let mut out_stages = Vec::with_capacity(stage_refs.len());
            for (i, st) in stage_refs.iter().enumerate() {
                let rows_in = records.len() as u64;
                let t = Instant::now();
                let p = st.process(if i == 0 { first } else { 0 }, records)?;
                let rejects = p
                    .rejected
                    .iter()
                    .map(|r| {
                        (
                            r.reason.clone(),
                            reject_line(st.name(), &r.reason, &r.detail, &r.record),
                        )
                    })
                    .collect();
                cpu_ref[i].fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
                out_stages.push(StageBatch {
                    rows_in,
                    rows_out: p.kept.len() as u64,
                    rejects,
                });
                records = p.kept;
            }
            let output = match export_cfg {
                None => Output::Lines(
                    records
                        .iter()
                        .map(|r| serde_json::to_vec(r).map_err(|e| Error::Other(e.to_string())))
                        .collect::<Result<Vec<_>>>()?,
                ),
                Some(cfg) => {
                    let mut rows = Vec::with_capacity(records.len());
                    let mut skips = Vec::new();
                    let mut kept = Vec::with_capacity(records.len());
                    for r in records {
                        let split = r
                            .signals
                            .get("split")
                            .and_then(Value::as_str)
                            .unwrap_or("train")
                            .to_string();
                        match export_row(&r, cfg, &split, 0) {
                            Ok(v) => {
                                rows.push((split, v));
                                kept.push(r);
                            }
                            Err(skip) => skips.push((
                                skip.0.to_string(),
                                reject_line("export", skip.0, &None, &r),
                            )),
                        }
                    }
                    Output::Final {
                        rows,
                        skips,
                        records: kept,
                    }
                }
            };
            Ok(BatchOut {
                read_rejects,
                records_read,
                stages: out_stages,
                output,
            })
        },
        |out: Result<BatchOut>| -> Result<()> {
            let out = out?;
            read_counts.rows_in += out.records_read + out.read_rejects.len() as u64;
            read_counts.rows_out += out.records_read;
            if let Some(w) = read_writer.as_mut() {
                for (reason, line) in &out.read_rejects {
                    *read_counts.rejections.entry(reason.clone()).or_default() += 1;
                    w.write_line(line)?;
                }
            }
            for (i, sb) in out.stages.into_iter().enumerate() {
                let c = &mut counts[i];
                c.rows_in += sb.rows_in;
                c.rows_out += sb.rows_out;
                for (reason, line) in sb.rejects {
                    *c.rejections.entry(reason).or_default() += 1;
                    reject_writers[i].write_line(&line)?;
                }
            }
            match out.output {
                Output::Lines(lines) => {
                    if let Some(w) = record_writer.as_mut() {
                        for l in &lines {
                            w.write_line(l)?;
                        }
                    }
                    done += lines.len() as u64;
                }
                Output::Final {
                    rows,
                    skips,
                    records,
                } => {
                    let f = fin
                        .as_mut()
                        .ok_or_else(|| Error::Other("internal: no export state".into()))?;
                    f.export_counts.rows_in += (rows.len() + skips.len()) as u64;
                    f.export_counts.rows_out += rows.len() as u64;
                    for (reason, line) in skips {
                        *f.export_counts.rejections.entry(reason).or_default() += 1;
                        if let Some(w) = export_writer.as_mut() {
                            w.write_line(&line)?;
                        }
                    }
                    for r in &records {
                        f.stats.add(r);
                        f.scan.add(r);
                        f.hist.add(r);
                    }
                    done += rows.len() as u64;
                    for (split, row) in rows {
                        f.write(split, row)?;
                    }
                }
            }
            reporter.progress(task, counter.load(Ordering::Relaxed), done);
            Ok(())
        },
    )?;

    // Finish outputs of this segment (atomic renames happen here).
    if let Some(w) = record_writer {
        w.finish()?;
    }
    if let Some(w) = read_writer {
        w.finish()?;
    }
    for w in reject_writers {
        w.finish()?;
    }
    if let Some(w) = export_writer {
        w.finish()?;
    }
    reporter.end(task, &format!("{done} records out"));

    let wall_s = wall.elapsed().as_secs_f64();
    let mut entries = Vec::new();
    if is_raw {
        let mut e = LedgerEntry::start("read", json!({"layouts": source_layouts(input)}));
        e.started_at = started.clone();
        e.inputs = digests.to_vec();
        e.rows_in = read_counts.rows_in;
        e.rows_out = read_counts.rows_out;
        e.rejections = read_counts.rejections.clone();
        e.summary = json!({"segment": seg_index});
        e.finish();
        entries.push(e);
    }
    for (i, (pos, st)) in stages.iter().enumerate() {
        let mut e = LedgerEntry::start(st.name(), st.params());
        e.started_at = started.clone();
        e.rows_in = counts[i].rows_in;
        e.rows_out = counts[i].rows_out;
        e.rejections = counts[i].rejections.clone();
        e.verifiers = st.verifiers();
        let mut summary = match st.summary().to_value() {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        summary.insert("position".into(), json!(pos));
        summary.insert("segment".into(), json!(seg_index));
        summary.insert(
            "cpu_seconds".into(),
            json!(cpu[i].load(Ordering::Relaxed) as f64 / 1e9),
        );
        summary.insert("wall_seconds".into(), json!(wall_s));
        e.summary = Value::Object(summary);
        e.finish();
        entries.push(e);
    }
    Ok(SegResult {
        entries,
        rows_read: read_counts.rows_in,
        final_state: fin,
    })
}

fn source_layouts(input: &SegInput) -> Value {
    match input {
        SegInput::Raw { inputs, options } => RecordSource::open(inputs.clone(), options.clone())
            .map(|s| json!(s.layouts().iter().map(|l| l.name()).collect::<Vec<_>>()))
            .unwrap_or(Value::Null),
        SegInput::Checkpoint(_) => json!(["verity"]),
    }
}

fn read_reason(reason: &str) -> String {
    let cut = reason.find([':', '(']).unwrap_or(reason.len());
    format!("read: {}", reason[..cut].trim())
}

type ExportBatch = (Vec<(String, Value)>, Vec<(String, Vec<u8>)>);

/// Export records to one file (`verity export`): `out`'s extension picks JSONL or Parquet;
/// records that cannot be expressed go to `rejects` with the reason. Returns (rows written,
/// rows rejected by reason).
pub fn export_source(
    source: RecordSource,
    cfg: &ExportConfig,
    out: &Path,
    rejects: &Path,
    reporter: &dyn Reporter,
) -> Result<(u64, BTreeMap<String, u64>, Vec<PathBuf>)> {
    cfg.validate().map_err(Error::Other)?;
    let counter = Arc::new(AtomicU64::new(0));
    let mut source = source;
    source.set_progress(counter.clone());
    let task = reporter.begin(&format!("export {}", cfg.target), source.total_bytes());
    let mut writer = RowWriter::create(out, WriteOptions::default())?;
    let mut rejects_writer = RowWriter::create(rejects, WriteOptions::default())?;
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    let mut index: BTreeMap<String, u64> = BTreeMap::new();
    source.for_each(
        |batch: RecordBatch| {
            let mut rows = Vec::new();
            let mut skips = Vec::new();
            for r in &batch.rejects {
                skips.push((
                    "read".to_string(),
                    serde_json::to_vec(r).unwrap_or_default(),
                ));
            }
            for r in batch.records {
                let split = r
                    .signals
                    .get("split")
                    .and_then(Value::as_str)
                    .unwrap_or("train")
                    .to_string();
                match export_row(&r, cfg, &split, 0) {
                    Ok(v) => rows.push((split, v)),
                    Err(s) => skips.push((s.0.to_string(), reject_line("export", s.0, &None, &r))),
                }
            }
            (rows, skips)
        },
        |(rows, skips): ExportBatch| -> Result<()> {
            for (reason, line) in skips {
                *reasons.entry(reason).or_default() += 1;
                rejects_writer.write_line(&line)?;
            }
            for (split, mut row) in rows {
                let c = index.entry(split).or_insert(0);
                if cfg.target == "verl" {
                    row["extra_info"]["index"] = json!(*c);
                }
                *c += 1;
                writer.write_value(row)?;
            }
            reporter.progress(task, counter.load(Ordering::Relaxed), writer.rows());
            Ok(())
        },
    )?;
    let rows = writer.rows();
    let files = writer.finish()?;
    rejects_writer.finish()?;
    reporter.end(task, &format!("{rows} rows"));
    Ok((rows, reasons, files))
}

/// The plan of a recipe (for `--dry-run`), after building every stage so parameter errors show.
pub fn dry_run(recipe: &Recipe, out_dir: Option<&Path>) -> Result<(Plan, String)> {
    for (i, s) in recipe.stages.iter().enumerate() {
        stages::build(i + 1, s, &recipe.base_dir)?;
    }
    if let Some(e) = recipe.export() {
        e.validate().map_err(|m| Error::Stage {
            index: recipe.stages.len(),
            stage: "export".into(),
            message: m,
        })?;
    }
    let out = out_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| recipe.output_dir());
    let p = plan(recipe);
    let text = crate::plan::render(recipe, &p, &out);
    Ok((p, text))
}
