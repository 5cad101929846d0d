//! Compiling candidates (and checkers) of compiled languages, in the sandbox, once per source.
//!
//! What it does: [`compile`] runs a language's compile script (see
//! [`crate::language::Compile`]) in the sandbox with its own limits (180 s wall, 4 GiB address
//! space, 256 MiB output) and returns the artifact or the compiler's message.
//! [`CompileCache`] keeps artifacts by SHA-256 of (language, script, source), so a multi-test
//! problem compiles once and identical attempts compile once per verifier.
//!
//! Known failure modes: the cache is in memory and bounded ([`CompileCache::CAPACITY`]
//! entries, then cleared); a compiler that needs files outside the exposed paths fails as a
//! compile error naming them.

use crate::language::Language;
use crate::sandbox::{Limits, RunSpec, Sandbox, SandboxError, SandboxFile, Termination};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What compiling one source gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compiled {
    /// The artifact, ready to be placed in `/code`.
    Artifact(SandboxFile),
    /// The compiler rejected the source (its message, truncated).
    Error(String),
}

/// Compiled artifacts by source hash.
#[derive(Debug, Default)]
pub struct CompileCache {
    entries: Mutex<HashMap<String, Arc<Compiled>>>,
}

impl CompileCache {
    /// Entries kept before the cache is cleared.
    pub const CAPACITY: usize = 512;

    /// An empty cache.
    pub fn new() -> CompileCache {
        CompileCache::default()
    }

    /// Number of artifacts held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Compiled>>> {
        self.entries
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// The artifact of `source` in `language`, compiled now unless cached.
    pub fn get_or_compile(
        &self,
        sandbox: &Sandbox,
        language: &Language,
        source_file: &str,
        source: &str,
    ) -> Result<Arc<Compiled>, SandboxError> {
        let key = cache_key(language, source_file, source);
        if let Some(hit) = self.lock().get(&key) {
            return Ok(Arc::clone(hit));
        }
        let compiled = Arc::new(compile(sandbox, language, source_file, source)?);
        let mut entries = self.lock();
        if entries.len() >= Self::CAPACITY {
            entries.clear();
        }
        entries.insert(key, Arc::clone(&compiled));
        Ok(compiled)
    }
}

fn cache_key(language: &Language, source_file: &str, source: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [
        language.name.as_str(),
        language.compile.as_ref().map_or("", |c| c.script.as_str()),
        source_file,
        source,
    ] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Limits of a compilation (a compiler needs more than a solution).
fn compile_limits() -> Limits {
    Limits {
        wall_timeout: Duration::from_secs(180),
        cpu_seconds: None,
        address_space_bytes: 4 << 30,
        file_size_bytes: 256 << 20,
        open_files: 512,
        processes: 64,
        output_bytes: 256 << 20,
        scratch_bytes: 512 << 20,
        shm_bytes: 16 << 20,
        tree_memory_bytes: 4 << 30,
        inet_sockets_fail: false,
    }
}

/// Compile `source` (written to `/code/<source_file>`) in the sandbox.
pub fn compile(
    sandbox: &Sandbox,
    language: &Language,
    source_file: &str,
    source: &str,
) -> Result<Compiled, SandboxError> {
    let Some(step) = &language.compile else {
        return Ok(Compiled::Artifact(SandboxFile::new(source_file, source)));
    };
    let script = step
        .script
        .replace("{file}", &format!("/code/{source_file}"));
    let spec = RunSpec {
        argv: vec!["/bin/sh".into(), "-c".into(), script],
        files: vec![SandboxFile::new(source_file, source)],
        stdin: Vec::new(),
        env: language.env.clone(),
        limits: Limits {
            inet_sockets_fail: language.network_probe,
            ..compile_limits()
        },
    };
    let output = sandbox.run(&spec)?;
    let message = |reason: &str| {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Compiled::Error(super::truncate(
            &format!("{reason}\n{}", stderr.trim_end()),
            4000,
        ))
    };
    Ok(match output.termination {
        Termination::Exited(0) if !output.stdout.is_empty() => {
            let mut file = SandboxFile::new(step.artifact.clone(), output.stdout);
            file.executable = step.executable;
            Compiled::Artifact(file)
        }
        Termination::Exited(0) => message("the compiler produced no artifact"),
        Termination::Exited(code) => message(&format!("compilation failed (exit code {code})")),
        Termination::WallTimeout => message("compilation exceeded its 180 s time limit"),
        Termination::MemoryLimit => message("compilation exceeded its memory limit"),
        Termination::OutputLimit => message("the artifact exceeded 256 MiB"),
        Termination::Signaled(signal) => {
            message(&format!("the compiler was killed by signal {signal}"))
        }
        Termination::Cancelled => message("compilation was cancelled"),
    })
}
