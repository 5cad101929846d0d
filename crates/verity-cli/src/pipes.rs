//! `-` as an input (stdin) or output (stdout), so verity sits in a shell pipeline.
//!
//! Stdin is copied to a temporary file first (layout detection samples a file before it is
//! read, and the ledger hashes it); stdout output is written to a temporary file like any
//! atomic output and copied to stdout once complete, so a failed command writes nothing to
//! stdout. `--format` names the container when no file name does (`jsonl` by default).
//! Side files of a stdout output are named after `stdout` in the current directory
//! (`stdout.rejects.jsonl`); there is no default ledger (pass `--ledger PATH`).

use anyhow::{bail, Context as _, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The argument that means stdin or stdout.
pub const DASH: &str = "-";

/// Container formats `--format` accepts.
pub const FORMATS: &[&str] = &[
    "jsonl",
    "jsonl.gz",
    "jsonl.zst",
    "json",
    "json.gz",
    "json.zst",
    "parquet",
];

static FORMAT: OnceLock<Option<String>> = OnceLock::new();

/// Set the global `--format` (once, from `main`).
pub fn set_format(format: Option<String>) {
    let _ = FORMAT.set(format);
}

fn format() -> Option<&'static str> {
    FORMAT.get().and_then(|f| f.as_deref())
}

/// Whether `path` is `-`.
pub fn is_dash(path: &Path) -> bool {
    path.as_os_str() == DASH
}

/// Check a `--format` value.
pub fn parse_format(text: &str) -> std::result::Result<String, String> {
    let t = text.trim().trim_start_matches('.').to_ascii_lowercase();
    if FORMATS.contains(&t.as_str()) {
        Ok(t)
    } else {
        Err(format!(
            "unknown format `{text}`: use one of {}",
            FORMATS.join(", ")
        ))
    }
}

static SPOOL: std::sync::Mutex<Option<tempfile::TempDir>> = std::sync::Mutex::new(None);

/// The directory temporary stdin/stdout files live in (removed by [`cleanup`]).
fn spool_dir() -> Result<PathBuf> {
    let mut slot = SPOOL
        .lock()
        .map_err(|_| anyhow::anyhow!("stdin/stdout spool poisoned"))?;
    if slot.is_none() {
        let dir = tempfile::Builder::new()
            .prefix("verity-pipe-")
            .tempdir()
            .context("cannot create a temporary directory for stdin/stdout")?;
        *slot = Some(dir);
    }
    Ok(slot
        .as_ref()
        .map(|d| d.path().to_path_buf())
        .unwrap_or_default())
}

/// Remove the temporary stdin/stdout files (end of `main`).
pub fn cleanup() {
    if let Ok(mut slot) = SPOOL.lock() {
        slot.take();
    }
}

/// Replace `-` in `inputs` by a file holding stdin (read once, however often `-` appears).
pub fn resolve_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    if !inputs.iter().any(|p| is_dash(p)) {
        return Ok(inputs.to_vec());
    }
    if inputs.iter().filter(|p| is_dash(p)).count() > 1 {
        bail!("`-` (stdin) can be given only once");
    }
    let path = stdin_file(format().unwrap_or("jsonl"))?;
    Ok(inputs
        .iter()
        .map(|p| if is_dash(p) { path.clone() } else { p.clone() })
        .collect())
}

fn stdin_file(format: &str) -> Result<PathBuf> {
    static STDIN: OnceLock<PathBuf> = OnceLock::new();
    if let Some(path) = STDIN.get() {
        return Ok(path.clone());
    }
    let path = spool_dir()?.join(format!("stdin.{format}"));
    let mut file = std::fs::File::create(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    std::io::copy(&mut std::io::stdin().lock(), &mut file).context("cannot read stdin")?;
    file.flush()?;
    Ok(STDIN.get_or_init(|| path).clone())
}

/// The file a `-o -` output is written to before it goes to stdout.
pub fn stdout_file() -> Result<PathBuf> {
    stdout_file_as(format().unwrap_or("jsonl"))
}

fn stdout_file_as(format: &str) -> Result<PathBuf> {
    if format.starts_with("json") && !format.starts_with("jsonl") {
        bail!("`-o -` writes JSON Lines or Parquet: use --format jsonl, jsonl.gz, jsonl.zst or parquet");
    }
    Ok(spool_dir()?.join(format!("stdout.{format}")))
}

/// Whether `path` is the stand-in file of a `-o -` output.
pub fn is_stdout_file(path: &Path) -> bool {
    is_spooled(path)
        && path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("stdout."))
}

/// Whether `path` is the stand-in file of stdin or stdout (shown as `-`).
pub fn is_spooled(path: &Path) -> bool {
    path.parent().is_some_and(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("verity-pipe-"))
    })
}

static STDOUT_TAKEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether stdout carries data (`-o -`): reports then go to stderr.
pub fn stdout_taken() -> bool {
    STDOUT_TAKEN.load(std::sync::atomic::Ordering::Relaxed)
}

/// `path` as the user named it: `-` for the stand-in files of stdin and stdout.
pub fn shown(path: &Path) -> PathBuf {
    if is_spooled(path) {
        PathBuf::from(DASH)
    } else {
        path.to_path_buf()
    }
}

/// Copy a finished `-o -` output to stdout and remove the file.
pub fn emit(path: &Path) -> Result<()> {
    STDOUT_TAKEN.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = std::io::stdout().lock();
    std::io::copy(&mut file, &mut out).context("cannot write to stdout")?;
    out.flush().context("cannot write to stdout")?;
    let _ = std::fs::remove_file(path);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_stdout_files() {
        assert_eq!(parse_format(".JSONL.gz"), Ok("jsonl.gz".to_string()));
        assert!(parse_format("csv").is_err());
        let path = stdout_file_as("jsonl").unwrap();
        assert!(is_stdout_file(&path));
        assert!(!is_stdout_file(Path::new("out/stdout.jsonl")));
        assert!(stdout_file_as("json").is_err());
    }
}
