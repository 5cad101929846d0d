//! Input discovery: files and directories of shards, formats detected from file names.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Compression of a file, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip (`.gz`).
    Gzip,
    /// Zstandard (`.zst`, `.zstd`).
    Zstd,
}

/// Container format of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line (`.jsonl`, `.ndjson`).
    JsonLines,
    /// A JSON document: an array of rows, an object wrapping an array of rows (BBH
    /// `{"examples": [...]}`), or one row (`.json`, `.traj`).
    Json,
    /// Apache Parquet.
    Parquet,
}

/// One input file with its detected format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// Path to the file.
    pub path: PathBuf,
    /// Container format.
    pub format: Format,
    /// Compression.
    pub compression: Compression,
}

impl InputFile {
    /// Detect the format of `path` from its name; `None` when the name says nothing.
    pub fn detect(path: &Path) -> Option<InputFile> {
        let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        let (stem, compression) = if let Some(stem) = name.strip_suffix(".gz") {
            (stem.to_string(), Compression::Gzip)
        } else if let Some(stem) = name
            .strip_suffix(".zst")
            .or_else(|| name.strip_suffix(".zstd"))
        {
            (stem.to_string(), Compression::Zstd)
        } else {
            (name.clone(), Compression::None)
        };
        let format = if stem.ends_with(".jsonl") || stem.ends_with(".ndjson") {
            Format::JsonLines
        } else if stem.ends_with(".json") || stem.ends_with(".traj") {
            Format::Json
        } else if stem.ends_with(".parquet") || stem.ends_with(".pq") {
            Format::Parquet
        } else {
            return None;
        };
        Some(InputFile {
            path: path.to_path_buf(),
            format,
            compression,
        })
    }

    /// Dataset name: the file name without directories and extensions (`test.jsonl.gz` -> `test`);
    /// for generic shard names (`test`, `train`, `data-00000`) the parent directory is prefixed.
    pub fn dataset_name(&self) -> String {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let stem = name.split('.').next().unwrap_or(&name).to_string();
        let generic = ["test", "train", "validation", "val", "dev", "data"]
            .iter()
            .any(|g| stem == *g || stem.starts_with(&format!("{g}-")) || stem.starts_with("part-"));
        match self.path.parent().and_then(|p| p.file_name()) {
            Some(parent) if generic => format!("{}/{stem}", parent.to_string_lossy()),
            _ => stem,
        }
    }
}

/// Expand `paths` into input files: files as given (in order), directories recursively into
/// their data files sorted by path (a directory of shards is one dataset). Errors name the path
/// that is missing or that has no recognisable format.
pub fn expand_inputs(paths: &[PathBuf]) -> Result<Vec<InputFile>> {
    let mut inputs = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            found.sort();
            if found.is_empty() {
                return Err(Error::Other(format!(
                    "{}: directory holds no .jsonl/.json/.parquet files (optionally .gz/.zst)",
                    path.display()
                )));
            }
            inputs.extend(found.iter().filter_map(|p| InputFile::detect(p)));
        } else {
            let input = InputFile::detect(path).ok_or_else(|| {
                Error::Other(format!(
                    "{}: unknown file type; expected .jsonl, .ndjson, .json, .traj or .parquet (optionally .gz or .zst)",
                    path.display()
                ))
            })?;
            inputs.push(input);
        }
    }
    Ok(inputs)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(&path, found)?;
        } else if InputFile::detect(&path).is_some() {
            found.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats_and_compression() {
        let f = InputFile::detect(Path::new("a/b/test.jsonl.gz")).unwrap();
        assert_eq!(
            (f.format, f.compression),
            (Format::JsonLines, Compression::Gzip)
        );
        let f = InputFile::detect(Path::new("x.parquet")).unwrap();
        assert_eq!(f.format, Format::Parquet);
        let f = InputFile::detect(Path::new("run.traj")).unwrap();
        assert_eq!(f.format, Format::Json);
        let f = InputFile::detect(Path::new("x.ndjson.zst")).unwrap();
        assert_eq!(
            (f.format, f.compression),
            (Format::JsonLines, Compression::Zstd)
        );
        assert!(InputFile::detect(Path::new("x.csv")).is_none());
    }

    #[test]
    fn dataset_names() {
        let f = InputFile::detect(Path::new("data/gsm8k/test.jsonl")).unwrap();
        assert_eq!(f.dataset_name(), "gsm8k/test");
        let f = InputFile::detect(Path::new("data/math500.jsonl")).unwrap();
        assert_eq!(f.dataset_name(), "math500");
    }
}
