//! Resident memory of a whole sandboxed process tree, for machines without a usable cgroup.
//!
//! What it does: [`TreeMemory`] finds every host process in the run's pid namespace (the
//! namespace of its init) and sums their anonymous and shared-memory resident pages
//! (`RssAnon + RssShmem` of `/proc/<pid>/status`). The supervisor samples it while a run lasts
//! and kills the tree when the sum passes the run's limit, so N forked children cannot hold N
//! times the per-process limit.
//!
//! Why: `RLIMIT_AS` bounds each process, not the tree; cgroup v2 `memory.max` bounds the tree but
//! is not available everywhere (hybrid hierarchies, containers without delegation).
//!
//! Known failure modes: sampling (every 50 ms once a run lasts longer than that) lets a very fast allocator overshoot briefly;
//! copy-on-write pages shared after `fork` are counted once per process (an over-estimate);
//! files written to the tmpfs mounts are bounded by their sizes, not here.

use std::path::PathBuf;

/// The processes of one run's pid namespace.
#[derive(Debug)]
pub(crate) struct TreeMemory {
    namespace: PathBuf,
    /// The namespace's init: a forked copy of verity (its pages are verity's, not the
    /// program's), not counted.
    init: String,
}

impl TreeMemory {
    /// The tree of the namespace whose init has host pid `init_pid`; `None` when the
    /// namespace cannot be read (the run is already over).
    pub(crate) fn new(init_pid: libc::pid_t) -> Option<TreeMemory> {
        let namespace = std::fs::read_link(format!("/proc/{init_pid}/ns/pid")).ok()?;
        Some(TreeMemory {
            namespace,
            init: init_pid.to_string(),
        })
    }

    /// Resident anonymous and shared-memory bytes of every process of the tree.
    pub(crate) fn resident_bytes(&self) -> u64 {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return 0;
        };
        let mut total = 0u64;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit()) && *n != self.init)
            else {
                continue;
            };
            let in_tree = std::fs::read_link(format!("/proc/{pid}/ns/pid"))
                .is_ok_and(|ns| ns == self.namespace);
            if !in_tree {
                continue;
            }
            let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
                continue;
            };
            for line in status.lines() {
                if let Some(rest) = line
                    .strip_prefix("RssAnon:")
                    .or_else(|| line.strip_prefix("RssShmem:"))
                {
                    let kib: u64 = rest
                        .split_whitespace()
                        .next()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    total += kib * 1024;
                }
            }
        }
        total
    }
}
