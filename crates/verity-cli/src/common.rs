//! Arguments and helpers shared by every subcommand: global flags, the input and output flag
//! groups, exit statuses and error hints.

use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use verity_core::io::{expand_inputs, ReadOptions};
use verity_core::layout;
use verity_core::stream::{OnError, RecordSource, SourceOptions};

/// Flags accepted by every subcommand.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Print machine-readable JSON on stdout instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// Print nothing but errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Hide progress bars (they are also hidden when stderr is not a terminal).
    #[arg(long, global = true, env = "VERITY_NO_PROGRESS", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_progress: bool,
    /// Worker threads (default: all cores).
    #[arg(long, global = true, env = "VERITY_THREADS")]
    pub threads: Option<usize>,
    /// Flush every output to disk before renaming it into place (durable across a power loss;
    /// the run waits for the disk). Outputs are atomic either way.
    #[arg(long, global = true, env = "VERITY_FSYNC", value_parser = clap::builder::BoolishValueParser::new())]
    pub fsync: bool,
    /// Exit 1 when the output is unacceptable: `empty` (0 rows written), `contaminated` (any
    /// record matched a benchmark), `rejects>N` (more than N rows rejected). Repeatable or
    /// comma-separated.
    #[arg(long, global = true, value_name = "GATE", value_delimiter = ',', value_parser = crate::gates::parse_gate)]
    pub fail_on: Vec<crate::gates::Gate>,
    /// Container of `-` (stdin input, stdout output), which has no file name to tell it:
    /// jsonl (default), jsonl.gz, jsonl.zst, json, parquet.
    #[arg(long, global = true, value_name = "FORMAT", value_parser = crate::pipes::parse_format)]
    pub format: Option<String>,
}

/// Resolved global settings handed to every command.
#[derive(Debug, Clone)]
pub struct Context {
    /// `--json`.
    pub json: bool,
    /// `--quiet`.
    pub quiet: bool,
    /// Show progress bars.
    pub progress: bool,
}

impl Context {
    /// Resolve the global flags.
    pub fn new(args: &GlobalArgs) -> Context {
        Context {
            json: args.json,
            quiet: args.quiet,
            progress: !args.no_progress && !args.quiet && !args.json,
        }
    }

    /// Print a human line on stderr unless quiet or json.
    pub fn note(&self, message: impl AsRef<str>) {
        if !self.quiet && !self.json {
            eprintln!("{}", message.as_ref());
        }
    }
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything fine: exit 0.
    Success,
    /// The command ran and found something the user asked to be told about (a gate failed,
    /// contamination found, rows rejected under a strict policy): exit 1.
    Findings,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => std::process::ExitCode::SUCCESS,
            ExitStatus::Findings => std::process::ExitCode::from(1),
        }
    }
}

/// Bad-row policy flag.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum OnErrorArg {
    /// Stop at the first bad row with its file, line and field.
    #[default]
    Fail,
    /// Skip bad rows and write them to the rejects file with the reason.
    Skip,
}

/// Input flags shared by the commands that read a dataset.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Input files or directories of shards (.jsonl, .json, .parquet; .gz/.zst compressed), read
    /// as one dataset in the order given; `-` reads stdin (container: `--format`).
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Input layout (default: detected per file). See `verity convert --list-layouts`.
    #[arg(long, value_name = "LAYOUT")]
    pub from: Option<String>,
    /// What to do with rows that cannot be read or mapped.
    #[arg(long, value_enum, default_value_t = OnErrorArg::Fail)]
    pub on_error: OnErrorArg,
    /// Where skipped rows go (JSONL with file, line, field, reason and the row); default
    /// `<OUTPUT>.rejects.jsonl` next to the output.
    #[arg(long, value_name = "PATH")]
    pub rejects: Option<PathBuf>,
    /// Longest accepted input line in bytes.
    #[arg(long, default_value_t = 256 << 20, value_name = "BYTES")]
    pub max_line_bytes: usize,
    /// Reject rows whose JSON object repeats a key (by default the last value is kept and the
    /// repetition is reported).
    #[arg(long)]
    pub strict: bool,
    /// Read the rows through a field mapping instead of a layout: `TARGET=FIELD` pairs, comma
    /// separated (targets: id, prompt, answer, solution, tests, tools, response, trace, pred,
    /// grade, model, source), e.g. `--map prompt=question,answer=gt,response=code,grade=score`.
    /// See docs/field-mapping.md.
    #[arg(long, value_name = "TARGET=FIELD,...", conflicts_with = "from")]
    pub map: Vec<String>,
}

impl InputArgs {
    /// The input files (directories expanded, `-` read from stdin); an error when none given.
    pub fn files(&self) -> Result<Vec<verity_core::io::InputFile>> {
        if self.inputs.is_empty() {
            anyhow::bail!(
                "no input given: pass one or more INPUT files or directories (`-` for stdin)"
            );
        }
        Ok(expand_inputs(&crate::pipes::resolve_inputs(&self.inputs)?)?)
    }

    /// Open the inputs as a record source (layouts detected now, so errors come first).
    pub fn open(&self) -> Result<RecordSource> {
        self.open_in_batches(ReadOptions::default().batch_bytes)
    }

    /// [`InputArgs::open`] with batches of about `batch_bytes` of input. A stage that keeps
    /// per-thread tables (scoring's token cache) runs faster on smaller batches: the batch's
    /// rows, its encoded output and the tables then share a core's L2 cache.
    pub fn open_in_batches(&self, batch_bytes: usize) -> Result<RecordSource> {
        let inputs = self.files()?;
        let layout = self.forced_layout(&inputs)?;
        let options = SourceOptions {
            layout,
            on_error: match self.on_error {
                OnErrorArg::Fail => OnError::Fail,
                OnErrorArg::Skip => OnError::Skip,
            },
            read: ReadOptions {
                max_line_bytes: self.max_line_bytes,
                strict_keys: self.strict,
                batch_bytes,
                ..ReadOptions::default()
            },
        };
        RecordSource::open(inputs, options).context("cannot open the input")
    }
}

impl InputArgs {
    /// The layout every input is read with: `--from`, or the `--map` field mapping (checked
    /// against the first rows of each input); `None` to detect per file.
    pub fn forced_layout(
        &self,
        inputs: &[verity_core::io::InputFile],
    ) -> Result<Option<&'static dyn layout::Layout>> {
        if !self.map.is_empty() {
            let map = layout::mapping::FieldMap::parse(&self.map).map_err(anyhow::Error::msg)?;
            layout::mapping::check_inputs(&map, inputs)?;
            return Ok(Some(layout::mapping::Mapping::user(map).leak()));
        }
        Ok(match &self.from {
            Some(name) => Some(
                layout::by_name(name)
                    .ok_or_else(|| verity_core::Error::NoSuchLayout(name.clone()))?,
            ),
            None => None,
        })
    }
}

/// A `hint:` line for errors users commonly hit.
pub fn hint_for(error: &anyhow::Error) -> Option<String> {
    for cause in error.chain() {
        if let Some(core) = cause.downcast_ref::<verity_core::Error>() {
            match core {
                verity_core::Error::UnknownLayout { .. } | verity_core::Error::NoSuchLayout(_) => {
                    return Some("`verity inspect FILE` shows the fields and proposes a --map (docs/field-mapping.md)".into());
                }
                verity_core::Error::Row(_) => {
                    return Some("pass `--on-error skip` to skip bad rows into a rejects file and keep going".into());
                }
                _ => {}
            }
        }
    }
    None
}

/// Print a JSON value on stdout (pretty); on stderr when stdout carries the data (`-o -`).
pub fn print_json(value: &serde_json::Value) -> Result<()> {
    use std::io::Write;
    if crate::pipes::stdout_taken() {
        let mut err = std::io::stderr().lock();
        serde_json::to_writer_pretty(&mut err, value)?;
        writeln!(err)?;
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Lock the output directory of a recipe run (`--out` or the recipe's `[output] dir`): a second
/// run into the same directory is refused with a message naming the holder.
pub fn lock_output_dir(
    recipe: &verity_pipeline::Recipe,
    out: Option<&std::path::Path>,
) -> Result<verity_core::io::DirLock> {
    let dir = out
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| recipe.output_dir());
    Ok(verity_core::io::DirLock::acquire(&dir)?)
}

/// An error naming every input of `recipe` that does not exist (for `run --dry-run`, which
/// reads no data but must not call a recipe valid that cannot run).
pub fn require_inputs(recipe: &verity_pipeline::Recipe) -> Result<()> {
    let missing: Vec<String> = recipe
        .input_paths()
        .iter()
        .filter(|p| !p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "the recipe cannot run: input {} does not exist (paths in [input] are relative to the \
         recipe file {})",
        missing.join(", "),
        recipe.path.display()
    )
}
