//! Languages: how to run a source file, and which harnesses a language supports.
//!
//! What it does: a [`Language`] is an interpreter (or a compile-and-run command) given as an
//! argv template, the file name the candidate is written to, and the host paths the sandbox
//! must expose read-only for the interpreter to work. [`Language::python`] discovers the Python
//! interpreter the user runs (`python3` on `PATH`, resolving pyenv shims and virtualenvs to the
//! real executable and its prefix).
//!
//! Why: the harnesses (see [`crate::harness`]) are written once per language; stdin/stdout tests
//! work for any language whose program reads stdin, so [`Language::custom`] covers those.
//!
//! Known failure modes: discovery runs the interpreter once *outside* the sandbox (it is the
//! user's own trusted interpreter, not candidate code). A Python whose standard library lives
//! outside `sys.base_prefix`, `/usr` and `/lib*` needs that path added with
//! [`crate::SandboxConfig::read_only_paths`].

use std::path::{Path, PathBuf};
use std::process::Command;

/// Errors of interpreter discovery.
#[derive(Debug, thiserror::Error)]
pub enum LanguageError {
    /// The interpreter could not be started.
    #[error("cannot run the interpreter `{program}` to discover its location")]
    NotFound {
        /// The program name or path.
        program: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The interpreter answered something unexpected.
    #[error("the interpreter `{program}` gave an unexpected answer: {answer}")]
    BadAnswer {
        /// The program name or path.
        program: String,
        /// What it printed (truncated).
        answer: String,
    },
    /// Unknown language name.
    #[error("unknown language `{0}` (supported: python)")]
    Unknown(String),
}

/// How candidate programs of one language are run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Language {
    /// Name (`python`).
    pub name: String,
    /// argv to run a source file; `{file}` is replaced by the file's path in the sandbox.
    /// `argv[0]` is an absolute path.
    pub run_argv: Vec<String>,
    /// File name of the candidate in `/code` (`main.py`).
    pub source_file: String,
    /// Host paths the interpreter needs, to be exposed read-only.
    pub read_only_paths: Vec<PathBuf>,
    /// Environment for every run.
    pub env: Vec<(String, String)>,
    /// Whether the in-process harnesses (assert-style, function-call) exist for this language.
    pub in_process_harness: bool,
}

/// Python's discovery script: real executable and the prefixes its library lives under.
const PYTHON_PROBE: &str =
    "import os, sys; print(os.path.realpath(sys.executable)); print(sys.base_prefix); print(sys.prefix)";

impl Language {
    /// Discover Python: `program` is `python3` (looked up on `PATH`) or a path.
    pub fn python(program: &str) -> Result<Language, LanguageError> {
        let output = Command::new(program)
            .args(["-c", PYTHON_PROBE])
            .output()
            .map_err(|source| LanguageError::NotFound {
                program: program.to_string(),
                source,
            })?;
        let text = String::from_utf8_lossy(&output.stdout);
        let lines: Vec<&str> = text.lines().collect();
        if !output.status.success() || lines.len() < 3 || !lines[0].starts_with('/') {
            return Err(LanguageError::BadAnswer {
                program: program.to_string(),
                answer: text.chars().take(200).collect(),
            });
        }
        let executable = PathBuf::from(lines[0]);
        let mut read_only_paths = Vec::new();
        let system = |path: &Path| {
            ["/usr", "/lib", "/lib64", "/bin", "/sbin"]
                .iter()
                .any(|prefix| path.starts_with(prefix))
        };
        for prefix in [lines[1], lines[2]] {
            let prefix = PathBuf::from(prefix);
            if !system(&prefix) && !read_only_paths.contains(&prefix) {
                read_only_paths.push(prefix);
            }
        }
        if !system(&executable) && !read_only_paths.iter().any(|p| executable.starts_with(p)) {
            read_only_paths.push(executable.clone());
        }
        Ok(Language {
            name: "python".to_string(),
            run_argv: vec![
                executable.to_string_lossy().into_owned(),
                "{file}".to_string(),
            ],
            source_file: "main.py".to_string(),
            read_only_paths,
            env: vec![
                ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
                ("PYTHONHASHSEED".into(), "0".into()),
                ("PYTHONIOENCODING".into(), "utf-8".into()),
            ],
            in_process_harness: true,
        })
    }

    /// A language known by name, discovered on this machine (`python`, `python3`).
    pub fn by_name(name: &str) -> Result<Language, LanguageError> {
        match name {
            "python" | "python3" | "py" => Language::python("python3"),
            other => Err(LanguageError::Unknown(other.to_string())),
        }
    }

    /// Any interpreter for stdin/stdout tests: `run_argv` uses `{file}` for the source path.
    pub fn custom(
        name: impl Into<String>,
        run_argv: Vec<String>,
        source_file: impl Into<String>,
        read_only_paths: Vec<PathBuf>,
    ) -> Language {
        Language {
            name: name.into(),
            run_argv,
            source_file: source_file.into(),
            read_only_paths,
            env: Vec::new(),
            in_process_harness: false,
        }
    }

    /// The interpreter executable (`argv[0]`).
    pub fn interpreter(&self) -> &str {
        self.run_argv.first().map_or("", String::as_str)
    }

    /// argv running `file` (a path inside the sandbox, may contain `{code}`).
    pub fn argv_for(&self, file: &str) -> Vec<String> {
        self.run_argv
            .iter()
            .map(|arg| arg.replace("{file}", file))
            .collect()
    }
}
