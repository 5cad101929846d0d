//! Discovering the toolchains of the languages competitive programming uses.
//!
//! What it does: [`discover`] finds, on `PATH`, the compiler or interpreter of a language by its
//! canonical name (see [`crate::language::canonical_name`]) and returns the [`Language`]: C and
//! C++ (`gcc`/`g++`, `-O2`), Java (`javac` + `jar`, then `java` with a bounded heap), JavaScript
//! (`node`), Rust (`rustc -O`, the toolchain's sysroot exposed read-only) and Go (`go build`).
//! Compilers run inside the sandbox like the programs (see [`crate::language::Compile`]).
//!
//! Why: the data says which language a solution is in; the machine decides which exist. A
//! missing toolchain is [`LanguageError::Unavailable`] with the reason, which the `code`
//! verifier turns into an `unknown` verdict, never a `fail`.
//!
//! Known failure modes: toolchains installed outside `/usr` need their directories exposed;
//! this is done for the JDK's `/etc` configuration, rustup's sysroot and Go's `GOROOT`, not for
//! arbitrary layouts.

use crate::language::{Compile, Language, LanguageError};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Options of every JVM run (compiler and program): a bounded heap and few threads, so the JVM
/// fits the sandbox's address-space and process limits.
const JVM_OPTIONS: &[&str] = &[
    "-Xmx512m",
    "-Xss64m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:CompressedClassSpaceSize=64m",
    "-XX:ReservedCodeCacheSize=64m",
    "-XX:MaxMetaspaceSize=256m",
    "-XX:ActiveProcessorCount=1",
    "-Xshare:auto",
];

/// Find `program` on `PATH` (or take it as a path) and resolve symbolic links.
pub fn find_program(program: &str) -> Option<PathBuf> {
    find_on_path(program).and_then(|path| std::fs::canonicalize(path).ok())
}

/// Find `program` on `PATH` (or take it as a path), without resolving links (a rustup proxy
/// is a link to `rustup`, which behaves as the tool only under the tool's name).
fn find_on_path(program: &str) -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = if program.contains('/') {
        vec![PathBuf::from(program)]
    } else {
        std::env::var_os("PATH")
            .map(|path| {
                std::env::split_paths(&path)
                    .map(|dir| dir.join(program))
                    .collect()
            })
            .unwrap_or_default()
    };
    candidates.into_iter().find(|path| path.is_file())
}

fn missing(language: &str, what: &str) -> LanguageError {
    LanguageError::Unavailable {
        language: language.to_string(),
        reason: format!("`{what}` was not found on PATH"),
    }
}

fn is_system(path: &Path) -> bool {
    ["/usr", "/lib", "/lib64", "/bin", "/sbin"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

fn compiled(
    name: &str,
    script: String,
    artifact: &str,
    run_argv: Vec<String>,
    source_file: &str,
) -> Language {
    Language {
        name: name.to_string(),
        run_argv,
        source_file: source_file.to_string(),
        read_only_paths: Vec::new(),
        env: Vec::new(),
        in_process_harness: false,
        compile: Some(Compile {
            script,
            artifact: artifact.to_string(),
            executable: true,
        }),
        time_factor: 1.0,
        address_space_bytes: None,
        network_probe: false,
    }
}

/// The language called `canonical` on this machine.
pub fn discover(canonical: &str) -> Result<Language, LanguageError> {
    match canonical {
        "python" => Language::python("python3"),
        "c" | "cpp" => {
            let (tool, flags, file) = if canonical == "c" {
                ("gcc", "-O2 -std=gnu11", "main.c")
            } else {
                ("g++", "-O2 -std=gnu++17", "main.cpp")
            };
            let compiler = find_program(tool).ok_or_else(|| missing(canonical, tool))?;
            let script = format!(
                "{} {flags} -pipe -o /tmp/main.bin {{file}} -lm >&2 && cat /tmp/main.bin",
                compiler.display()
            );
            let mut language = compiled(
                canonical,
                script,
                "main.bin",
                vec!["{code}/main.bin".into()],
                file,
            );
            if !is_system(&compiler) {
                language.read_only_paths.push(compiler);
            }
            Ok(language)
        }
        "rust" => {
            let rustc = find_on_path("rustc").ok_or_else(|| missing("rust", "rustc"))?;
            let sysroot = Command::new(&rustc)
                .args(["--print", "sysroot"])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
                .filter(|p| p.is_dir())
                .ok_or_else(|| LanguageError::Unavailable {
                    language: "rust".into(),
                    reason: "`rustc --print sysroot` failed".into(),
                })?;
            let real = sysroot.join("bin/rustc");
            // The linker by its real path (`cc` is often a link through /etc/alternatives).
            let linker = find_program("cc").ok_or_else(|| missing("rust", "cc (the linker)"))?;
            let script = format!(
                "{} -O --edition 2021 -C codegen-units=4 -C linker={} -o /tmp/main.bin {{file}} >&2 \
                 && cat /tmp/main.bin",
                real.display(),
                linker.display()
            );
            let mut language = compiled(
                "rust",
                script,
                "main.bin",
                vec!["{code}/main.bin".into()],
                "main.rs",
            );
            if !is_system(&sysroot) {
                language.read_only_paths.push(sysroot);
            }
            Ok(language)
        }
        "go" => {
            let go = find_program("go").ok_or_else(|| missing("go", "go"))?;
            let goroot = go
                .parent()
                .and_then(Path::parent)
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let script = format!(
                "cd /tmp && cp {{file}} main.go && GOCACHE=/tmp/gocache GOPATH=/tmp/gopath \
                 GO111MODULE=off {} build -o /tmp/main.bin main.go >&2 && cat /tmp/main.bin",
                go.display()
            );
            let mut language = compiled(
                "go",
                script,
                "main.bin",
                vec!["{code}/main.bin".into()],
                "main.go",
            );
            if !is_system(&goroot) {
                language.read_only_paths.push(goroot);
            }
            Ok(language)
        }
        "java" => {
            let javac = find_program("javac").ok_or_else(|| missing("java", "javac"))?;
            let bin = javac.parent().map(Path::to_path_buf).unwrap_or_default();
            let (java, jar) = (bin.join("java"), bin.join("jar"));
            if !java.is_file() || !jar.is_file() {
                return Err(missing("java", "java and jar next to javac"));
            }
            let jvm = |prefix: &str| -> String {
                JVM_OPTIONS
                    .iter()
                    .map(|o| format!("{prefix}{o}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            // The class is named in the source; `{file}` is `/code/Main.java` and the runs call
            // the class given by `{main}` (see `java_main_class`).
            let script = format!(
                "mkdir -p /tmp/classes && {} {} -encoding UTF-8 -d /tmp/classes {{file}} >&2 && \
                 cd /tmp/classes && {} {} cf /tmp/main.jar . >&2 && cat /tmp/main.jar",
                javac.display(),
                jvm("-J"),
                jar.display(),
                jvm("-J"),
            );
            let mut run_argv = vec![java.to_string_lossy().into_owned()];
            run_argv.extend(JVM_OPTIONS.iter().map(|o| o.to_string()));
            run_argv.extend(["-cp".into(), "{code}/main.jar".into(), "{main}".into()]);
            let mut language = compiled("java", script, "main.jar", run_argv, "Main.java");
            if let Some(compile) = language.compile.as_mut() {
                compile.executable = false;
            }
            let home = bin.parent().map(Path::to_path_buf).unwrap_or_default();
            if !is_system(&home) {
                language.read_only_paths.push(home.clone());
            }
            language.read_only_paths.extend(outside_links(&home));
            language.time_factor = 2.0;
            language.address_space_bytes = Some(8 << 30);
            language.network_probe = true;
            Ok(language)
        }
        "javascript" => {
            let node = find_program("node")
                .or_else(|| find_program("nodejs"))
                .ok_or_else(|| missing("javascript", "node"))?;
            let mut language = Language::custom(
                "javascript",
                vec![node.to_string_lossy().into_owned(), "{file}".into()],
                "main.js",
                Vec::new(),
            );
            if !is_system(&node) {
                language.read_only_paths.push(node);
            }
            language.time_factor = 1.5;
            language.address_space_bytes = Some(8 << 30);
            Ok(language)
        }
        other => Err(LanguageError::Unknown(other.to_string())),
    }
}

/// The directories outside the system prefixes that symbolic links under `home` point into
/// (a Debian JDK links its configuration to `/etc/java-17-openjdk`).
fn outside_links(home: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = Vec::new();
    let mut stack = vec![(home.to_path_buf(), 0)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_symlink() {
                let Ok(target) = std::fs::canonicalize(&path) else {
                    continue;
                };
                if is_system(&target) || target.starts_with(home) {
                    continue;
                }
                let top: PathBuf = target.components().take(3).collect();
                if top.components().count() == 3 && !found.contains(&top) {
                    found.push(top);
                }
            } else if kind.is_dir() && depth < 5 {
                stack.push((path, depth + 1));
            }
        }
    }
    found
}

/// The class a Java program's `main` lives in: the public class of the source, else `Main`.
pub fn java_main_class(source: &str) -> String {
    for line in source.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Some(at) = words.windows(2).position(|w| w[0] == "class") {
            if words[..at].contains(&"public") {
                let name: String = words[at + 1]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
                    .collect();
                if !name.is_empty() {
                    return name;
                }
            }
        }
    }
    "Main".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_main_class_is_the_public_class() {
        assert_eq!(
            java_main_class("import java.util.*;\npublic class Solution {\n}"),
            "Solution"
        );
        assert_eq!(java_main_class("class A {}\npublic final class B{}"), "B");
        assert_eq!(java_main_class("class Main {}"), "Main");
    }

    #[test]
    fn a_missing_toolchain_is_unavailable_not_an_error_of_the_program() {
        let saved = std::env::var_os("PATH");
        // Discovery of a language by a name that has no toolchain anywhere.
        match discover("cobol") {
            Err(LanguageError::Unknown(name)) => assert_eq!(name, "cobol"),
            other => panic!("{other:?}"),
        }
        assert_eq!(std::env::var_os("PATH"), saved);
    }
}
