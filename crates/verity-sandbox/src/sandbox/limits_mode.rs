//! Which mechanism bounds the memory and processes of a whole run on this machine.
//!
//! What it does: [`detect`] looks for a cgroup v2 hierarchy where verity could create a group
//! per run with the `memory` and `pids` controllers (the cgroup v2 mount in
//! `/proc/self/mountinfo`, verity's group in `/proc/self/cgroup`, its `cgroup.controllers`, write
//! access), and reports why not when it cannot. Runs are bounded by rlimits per process
//! (`RLIMIT_AS`, `RLIMIT_NPROC` counted per run's user namespace) plus the whole-tree resident
//! memory watchdog of the supervisor (see `tree_memory.rs`); `verity sandbox-check` prints
//! which applies and why.
//!
//! Known failure modes: hybrid hierarchies (v1 controllers, an empty v2 mount) and containers
//! without delegation have no usable cgroup v2; the watchdog is then the whole-tree bound.

use serde::Serialize;
use std::path::{Path, PathBuf};

/// How runs are bounded.
#[derive(Debug, Clone, Serialize)]
pub struct LimitsMode {
    /// `rlimits + tree memory watchdog`, the mechanism in use.
    pub mechanism: String,
    /// Whether a delegated cgroup v2 with `memory` and `pids` exists for verity.
    pub cgroup_v2_usable: bool,
    /// What was found about cgroup v2 (or why it cannot be used).
    pub cgroup_v2: String,
}

/// The mechanism in use and the cgroup v2 situation of this machine.
pub fn detect() -> LimitsMode {
    let (usable, cgroup_v2) = match cgroup_v2_group() {
        Ok(group) => (
            true,
            format!("delegated group {} has memory and pids", group.display()),
        ),
        Err(reason) => (false, reason),
    };
    LimitsMode {
        mechanism: "rlimits per process (RLIMIT_AS, RLIMIT_NPROC per run) + whole-tree resident \
                    memory watchdog (sampled every 50 ms)"
            .into(),
        cgroup_v2_usable: usable,
        cgroup_v2,
    }
}

fn cgroup_v2_group() -> Result<PathBuf, String> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| format!("cannot read /proc/self/mountinfo: {e}"))?;
    let mount = mountinfo
        .lines()
        .find_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            (right.split_whitespace().next() == Some("cgroup2"))
                .then(|| left.split_whitespace().nth(4).map(PathBuf::from))?
        })
        .ok_or_else(|| "no cgroup v2 file system is mounted".to_string())?;
    let own = std::fs::read_to_string("/proc/self/cgroup")
        .map_err(|e| format!("cannot read /proc/self/cgroup: {e}"))?;
    let relative = own
        .lines()
        .find_map(|line| line.strip_prefix("0::"))
        .ok_or_else(|| "this process has no cgroup v2 group".to_string())?;
    let group = mount.join(relative.trim_start_matches('/'));
    let controllers = std::fs::read_to_string(group.join("cgroup.controllers"))
        .map_err(|e| format!("cannot read {}/cgroup.controllers: {e}", group.display()))?;
    let available: Vec<&str> = controllers.split_whitespace().collect();
    let missing: Vec<&str> = ["memory", "pids"]
        .into_iter()
        .filter(|c| !available.contains(c))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "controllers {} are not available in the cgroup v2 group {} (it has: {}); they are \
             bound to cgroup v1 hierarchies or not delegated",
            missing.join(", "),
            group.display(),
            if available.is_empty() {
                "none".to_string()
            } else {
                available.join(" ")
            }
        ));
    }
    if !writable(&group) {
        return Err(format!(
            "the cgroup v2 group {} is not writable",
            group.display()
        ));
    }
    Ok(group)
}

fn writable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.permissions().readonly())
        && std::fs::OpenOptions::new()
            .write(true)
            .open(path.join("cgroup.procs"))
            .is_ok()
}
