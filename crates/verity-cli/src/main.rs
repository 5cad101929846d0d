//! `verity`: the command line of the reasoning-data engine.
//!
//! `main` parses arguments, runs one subcommand and maps the outcome to an exit code:
//! 0 success, 1 findings (a gate failed, contamination found, ...), 2 usage or input error
//! (`docs/cli.md` lists them per command). Errors print as `error: ...` with each cause that
//! adds something and a `hint:` when there is one, or as one JSON object on stderr with `--json`.
//! A closed pipe on stdout or stderr (e.g. `verity ... | head`) ends the process the way it ends
//! any Unix filter (SIGPIPE), never with a panic.

mod commands;
mod common;
mod gates;
mod output;
mod pipes;
mod report;

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

/// Let a write to a closed pipe end the process (SIGPIPE's default action) instead of
/// failing every later `print!` with a panic: `verity ... | head` stops verity like `cat`.
#[cfg(unix)]
#[allow(unsafe_code)]
fn die_on_closed_pipe() {
    // SAFETY: restores the default disposition of one signal, before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn die_on_closed_pipe() {}

fn main() -> ExitCode {
    die_on_closed_pipe();
    keep_freed_memory();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    if let Some(threads) = cli.global.threads {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global();
    }
    verity_core::io::set_durable_outputs(cli.global.fsync);
    pipes::set_format(cli.global.format.clone());
    verity_core::ledger::set_streamed_digests(cli.command.hashes_files());
    let ctx = common::Context::new(&cli.global);
    let outcome = commands::run(cli.command, &ctx);
    pipes::cleanup();
    warn_about_duplicate_keys(ctx.json);
    let status = match outcome.and_then(|status| gate(status, &cli.global.fail_on, ctx.json)) {
        Ok(status) => status,
        Err(error) => return report_error(&error, ctx.json),
    };
    status.into()
}

/// Apply the `--fail-on` gates to a command that succeeded.
fn gate(
    status: common::ExitStatus,
    gates: &[gates::Gate],
    json: bool,
) -> anyhow::Result<common::ExitStatus> {
    let failed = gates::check(gates)?;
    for line in &failed {
        report::print_warning(&format!("gate failed: {line}"), json);
    }
    Ok(if failed.is_empty() {
        status
    } else {
        common::ExitStatus::Findings
    })
}

/// Rows whose JSON object repeated a key were read with the last value: say so.
fn warn_about_duplicate_keys(json: bool) {
    let (count, first) = verity_core::io::read::duplicate_keys_seen();
    if let Some(first) = first {
        report::print_warning(
            &format!(
                "{count} row(s) repeat a key in their JSON object (first: {first}); the last \
                 value was kept; pass --strict to reject such rows"
            ),
            json,
        );
    }
}

/// A command line clap refused: its usual text, or a JSON object on stderr with `--json`.
fn usage_error(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let json = std::env::args().any(|a| a == "--json");
    let informational = matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    );
    if !json || informational {
        error.exit();
    }
    let message = error.to_string();
    let first = message
        .lines()
        .next()
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ")
        .to_string();
    let value = serde_json::json!({
        "error": first,
        "causes": [],
        "hint": "run `verity --help` or `verity COMMAND --help`",
        "exit_code": 2,
        "usage": message,
    });
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{value}");
    ExitCode::from(2)
}

fn report_error(error: &anyhow::Error, json: bool) -> ExitCode {
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
    report::print_error(error, common::hint_for(error).as_deref(), 2, json);
    ExitCode::from(2)
}
