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
    #[error("unknown language `{0}` (supported: python, c, cpp, java, javascript, rust, go)")]
    Unknown(String),
    /// A known language whose toolchain this machine lacks.
    #[error("language `{language}` is not available on this machine: {reason}")]
    Unavailable {
        /// The language.
        language: String,
        /// What is missing.
        reason: String,
    },
}

/// How candidate programs of one language are run.
#[derive(Debug, Clone, PartialEq)]
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
    /// How to compile, for compiled languages (run in the sandbox, once per distinct source).
    pub compile: Option<Compile>,
    /// Factor applied to per-test time limits (a JVM starts slower than a C++ binary).
    pub time_factor: f64,
    /// Address-space limit of runs in this language, when it must differ from the harness's
    /// (a JVM reserves far more virtual memory than it uses).
    pub address_space_bytes: Option<u64>,
    /// The runtime opens network sockets at start-up (the JVM): they fail instead of killing it.
    pub network_probe: bool,
}

/// A compile step: a shell script run in the sandbox with the source in `/code`; it writes the
/// artifact to stdout (compiler messages go to stderr), which the runs then find as
/// `/code/<artifact>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compile {
    /// `/bin/sh -c` script; `{file}` is the source's path.
    pub script: String,
    /// File name of the artifact in `/code` for the runs.
    pub artifact: String,
    /// Whether the artifact is an executable (mode 0755) rather than data (a jar).
    pub executable: bool,
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
            compile: None,
            time_factor: 1.0,
            address_space_bytes: None,
            network_probe: false,
        })
    }

    /// A language known by name (any spelling [`canonical_name`] accepts), discovered on this
    /// machine. A language whose toolchain is missing is [`LanguageError::Unavailable`].
    pub fn by_name(name: &str) -> Result<Language, LanguageError> {
        let canonical =
            canonical_name(name).ok_or_else(|| LanguageError::Unknown(name.to_string()))?;
        crate::toolchains::discover(canonical)
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
            compile: None,
            time_factor: 1.0,
            address_space_bytes: None,
            network_probe: false,
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

/// The canonical name (`python`, `c`, `cpp`, `java`, `javascript`, `rust`, `go`) of a language
/// label as datasets and responses write it: names and fence tags (`c++`, `cpp17`, `js`,
/// `node`, `py3`), Codeforces compiler names (`GNU C++17`, `Java 11`, `PyPy 3`, `Rust 2021`,
/// `Node.js 15.8.0`, `Go 1.19.5`, `GNU C11`) and CodeContests language ids (`1` Python 2,
/// `2` C++, `3` Python 3, `4` Java). `python2` (and id 1) is not Python 3: `None`.
pub fn canonical_name(label: &str) -> Option<&'static str> {
    let lower = label.trim().to_ascii_lowercase();
    let word = lower.as_str();
    match word {
        "2" => return Some("cpp"),
        "3" => return Some("python"),
        "4" => return Some("java"),
        "1" | "python2" | "py2" | "python 2" => return None,
        _ => {}
    }
    if word.contains("c++")
        || word.starts_with("cpp")
        || word.starts_with("g++")
        || word == "cc"
        || word == "cxx"
        || word.contains("clang++")
    {
        return Some("cpp");
    }
    if word.contains("python 2") || word.contains("pypy 2") {
        return None;
    }
    if word.starts_with("python") || word.starts_with("pypy") || word == "py" || word == "py3" {
        return Some("python");
    }
    if word.starts_with("java") && !word.starts_with("javascript") {
        return Some("java");
    }
    if word.starts_with("javascript") || word.starts_with("node") || word == "js" {
        return Some("javascript");
    }
    if word.starts_with("rust") || word == "rs" {
        return Some("rust");
    }
    if word == "go" || word.starts_with("go ") || word == "golang" {
        return Some("go");
    }
    if word == "c"
        || word.starts_with("gnu c1")
        || word.starts_with("gnu c ")
        || word == "c11"
        || word == "c99"
        || word == "c17"
    {
        return Some("c");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::canonical_name;

    #[test]
    fn labels_of_datasets_and_fences_map_to_languages() {
        for (label, want) in [
            ("GNU C++17", Some("cpp")),
            ("c++", Some("cpp")),
            ("cpp", Some("cpp")),
            ("2", Some("cpp")),
            ("GNU C11", Some("c")),
            ("c", Some("c")),
            ("Java 11", Some("java")),
            ("4", Some("java")),
            ("JavaScript V8", Some("javascript")),
            ("Node.js 15.8.0", Some("javascript")),
            ("js", Some("javascript")),
            ("Rust 2021", Some("rust")),
            ("Go 1.19.5", Some("go")),
            ("PyPy 3", Some("python")),
            ("Python 3", Some("python")),
            ("3", Some("python")),
            ("Python 2", None),
            ("1", None),
            ("Kotlin 1.7", None),
        ] {
            assert_eq!(canonical_name(label), want, "{label}");
        }
    }
}
