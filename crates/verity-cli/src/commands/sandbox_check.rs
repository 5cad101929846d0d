//! `verity sandbox-check`: is the code sandbox really isolated on this machine?
//!
//! Builds the sandbox the `code` and `command` verifiers use, runs probes inside it and prints
//! each property with its evidence (not root, no capabilities, `no_new_privs`, seccomp, only
//! `lo`, read-only root, writable `/tmp`, hidden `/etc/shadow`, own pid namespace, network
//! socket killed, fork bomb, memory hog and multi-process memory hog contained, host command
//! line hidden, `/dev/shm` writable), then which mechanism bounds a whole run's memory and
//! processes (cgroup v2 or rlimits plus the tree watchdog, and why), and which languages the
//! `code` verifier finds on this machine (missing ones are not failures). Exit 0 when everything holds, 1 when a
//! property fails, 2 when the sandbox cannot be created at all (with the reason and a hint).

use crate::common::{print_json, Context, ExitStatus};
use anyhow::{bail, Result};

/// Arguments of `verity sandbox-check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Python interpreter to check with.
    #[arg(long, default_value = "python3")]
    pub python: String,
}

/// Run `verity sandbox-check`.
pub fn run(args: Args, ctx: &Context) -> Result<ExitStatus> {
    let diagnosis =
        verity_sandbox::diagnose::diagnose(&args.python, verity_sandbox::Isolation::Namespaces);
    if ctx.json {
        print_json(&serde_json::to_value(&diagnosis)?)?;
    } else if diagnosis.available {
        println!(
            "sandbox: available (python: {})",
            diagnosis.python.as_deref().unwrap_or("?")
        );
        for check in &diagnosis.checks {
            let mark = if check.ok { "ok  " } else { "FAIL" };
            println!("  {mark} {:<32} {}", check.name, check.evidence);
        }
        if let Some(limits) = &diagnosis.limits {
            println!("limits of a run: {}", limits.mechanism);
            println!(
                "  cgroup v2: {} ({})",
                if limits.cgroup_v2_usable {
                    "usable"
                } else {
                    "unavailable"
                },
                limits.cgroup_v2
            );
        }
        println!("languages:");
        for language in &diagnosis.languages {
            let mark = if language.ok { "yes " } else { "no  " };
            println!("  {mark} {:<12} {}", language.name, language.evidence);
        }
    }
    if !diagnosis.available {
        bail!(
            "{}",
            diagnosis
                .error
                .unwrap_or_else(|| "the sandbox is unavailable".to_string())
        );
    }
    Ok(if diagnosis.all_ok() {
        ExitStatus::Success
    } else {
        ExitStatus::Findings
    })
}
