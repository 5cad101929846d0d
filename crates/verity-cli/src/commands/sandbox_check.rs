//! `verity sandbox-check`: is the code sandbox really isolated on this machine?
//!
//! Builds the sandbox the `code` and `command` verifiers use, runs probes inside it and prints
//! each property with its evidence (not root, no capabilities, `no_new_privs`, seccomp, only
//! `lo`, read-only root, writable `/tmp`, hidden `/etc/shadow`, own pid namespace, network
//! socket killed, fork bomb and memory hog contained). Exit 0 when everything holds, 1 when a
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
