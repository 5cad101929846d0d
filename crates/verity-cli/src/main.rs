//! `verity`: the command line of the reasoning-data engine.
//!
//! `main` parses arguments, runs one subcommand and maps the outcome to an exit code:
//! 0 success, 1 findings (a gate failed, contamination found, ...), 2 usage or input error.
//! Errors print as `error: ...` with their cause chain and a `hint:` when there is one; a broken
//! pipe (e.g. `verity ... | head`) counts as success.

mod commands;
mod common;
mod output;

use clap::Parser;

/// mimalloc: the record pipeline allocates many short strings; glibc malloc costs ~15% of a
/// conversion, mimalloc about a third of that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

/// `mi_option_purge_delay` in the bundled mimalloc 3 (`mimalloc.h`, `enum mi_option_e`; the
/// Rust bindings do not name it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keep freed memory mapped instead of returning it to the OS 10 ms later (mimalloc's default).
/// A streaming stage frees and reallocates the same few megabytes per chunk; returning them made
/// the kernel zero fresh pages for every chunk (15,800 page faults and ~14% of the CPU time of a
/// 100k-row conversion, 490 faults with this). Peak memory is unchanged: it is bounded by the
/// chunks in flight either way.
#[allow(unsafe_code)]
fn keep_freed_memory() {
    // SAFETY: sets an allocator option (an integer in a global table); valid at any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

/// verity: build, clean, verify, measure and document post-training reasoning data.
#[derive(Debug, Parser)]
#[command(name = "verity", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: common::GlobalArgs,
    #[command(subcommand)]
    command: commands::Command,
}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = Cli::parse();
    if let Some(threads) = cli.global.threads {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global();
    }
    verity_core::io::set_durable_outputs(cli.global.fsync);
    verity_core::ledger::set_streamed_digests(cli.command.hashes_files());
    let ctx = common::Context::new(&cli.global);
    match commands::run(cli.command, &ctx) {
        Ok(status) => status.into(),
        Err(error) => report_error(&error),
    }
}

fn report_error(error: &anyhow::Error) -> ExitCode {
    for cause in error.chain() {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::BrokenPipe {
                return ExitCode::SUCCESS;
            }
        }
        if let Some(json) = cause.downcast_ref::<serde_json::Error>() {
            if json.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe) {
                return ExitCode::SUCCESS;
            }
        }
    }
    eprintln!("error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    if let Some(hint) = common::hint_for(error) {
        eprintln!("\nhint: {hint}");
    }
    ExitCode::from(2)
}
