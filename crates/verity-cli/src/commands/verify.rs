//! `verity verify IN... -o OUT --verifier NAME`: fill feedback on every attempt of every record.
//!
//! Each verifier is versioned and its identity goes into every feedback it writes, into the
//! ledger entry (with pass/fail/unknown counts) and from there into the release card. Records
//! are verified in parallel on all cores, in input order. A record without a reference yields an
//! `unknown` verdict with the reason, not an error.

use crate::common::{print_json, Context, ExitStatus, InputArgs};
use crate::output::{OutputArgs, Progress, StageOutput};
use anyhow::{bail, Result};
use clap::ValueEnum;
use serde_json::json;
use std::collections::BTreeMap;
use verity_core::verify::{verify_record, Verifier, VerifyCounts};

/// Built-in verifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifierName {
    /// Answer extraction + mathematical equivalence.
    Math,
    /// Normalized string match of the extracted answer.
    Exact,
    /// Multiple-choice letter matching.
    Choice,
    /// A user pattern with a capture group (`--pattern`).
    Regex,
    /// Run candidate programs against the task's tests in the sandbox.
    Code,
    /// An external checker program (`--command`), JSON in / JSON out, in the sandbox.
    Command,
}

/// Verification contract declared for a `command` checker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ContractArg {
    /// A program decides (proof checker, test runner).
    Programmatic,
    /// An environment's terminal predicate decides.
    Environmental,
    /// A judge decides.
    JudgmentRequired,
    /// A stack of the above.
    Mixed,
}

/// Stdout comparison of stdin/stdout code tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputMatchArg {
    /// Whitespace-separated tokens must be equal.
    Tokens,
    /// Lines equal after trimming trailing whitespace.
    Lines,
    /// Byte-exact.
    Exact,
}

/// Percent policy of the math verifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Percent {
    /// `10%` equals both `0.1` and `10`.
    Either,
    /// `10%` equals `0.1` only.
    Fraction,
    /// `10%` equals `10` only.
    Number,
}

/// Arguments of `verity verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Which verifier fills the feedback.
    #[arg(long, value_enum)]
    pub verifier: VerifierName,
    /// math: relative tolerance for decimal approximations.
    #[arg(long, default_value_t = 1e-4)]
    pub rel_tol: f64,
    /// math: how `x%` compares with plain numbers.
    #[arg(long, value_enum, default_value_t = Percent::Either)]
    pub percent: Percent,
    /// math: compare bare comma lists as sets instead of in order.
    #[arg(long)]
    pub unordered_lists: bool,
    /// math: also accept a decimal approximation that equals the other side when both are
    /// rounded to this many decimal places.
    #[arg(long, value_name = "K")]
    pub precision: Option<u32>,
    /// math: read a comma between digits as a decimal comma (`3,25` is 3.25) unless it groups
    /// thousands.
    #[arg(long)]
    pub decimal_comma: bool,
    /// math/exact/choice: do not fall back to the last number when no answer marker is found.
    #[arg(long)]
    pub no_last_number: bool,
    /// regex: the pattern; the answer is group `answer` or group 1.
    #[arg(long)]
    pub pattern: Option<String>,
    /// regex: compare the captured answer with math equivalence instead of string match.
    #[arg(long)]
    pub regex_math: bool,
    /// choice: valid option letters.
    #[arg(long, default_value = "ABCDEFGHIJ")]
    pub letters: String,
    /// exact: compare case-sensitively.
    #[arg(long)]
    pub case_sensitive: bool,
    /// code/command: concurrent sandboxed runs (default: all cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// code: time limit of one test, seconds (command: of one checker run).
    #[arg(long, default_value_t = 6.0)]
    pub timeout: f64,
    /// code/command: address-space limit per run, MiB.
    #[arg(long, default_value_t = 2048)]
    pub memory_mib: u64,
    /// code: stdout comparison for stdin/stdout tests.
    #[arg(long, value_enum, default_value_t = OutputMatchArg::Tokens)]
    pub output_match: OutputMatchArg,
    /// code: accept numeric output tokens within this relative tolerance.
    #[arg(long)]
    pub float_tolerance: Option<f64>,
    /// Also verify each record's reference solution against its reference answer (added as an
    /// attempt with role `reference`): a failing one marks a mislabelled item.
    #[arg(long)]
    pub reference: bool,
    /// code: Python interpreter.
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// command: the checker and its arguments (one string, split on whitespace).
    #[arg(long)]
    pub command: Option<String>,
    /// command: contract recorded in the verifier identity.
    #[arg(long, value_enum, default_value_t = ContractArg::Programmatic)]
    pub contract: ContractArg,
    /// code/command: a host path the program may read (repeatable).
    #[arg(long, value_name = "PATH")]
    pub allow_read: Vec<std::path::PathBuf>,
    /// command: bring up loopback networking inside the sandbox.
    #[arg(long)]
    pub loopback_network: bool,
    /// code/command: run WITHOUT namespace isolation (only rlimits and timeouts). Only for
    /// machines that cannot create user namespaces, on code you trust.
    #[arg(long)]
    pub unsafe_no_sandbox: bool,
}

fn build(args: &Args) -> Result<(Box<dyn Verifier>, serde_json::Value)> {
    let extract = verity_math::ExtractOptions {
        last_number: !args.no_last_number,
        ..verity_math::ExtractOptions::default()
    };
    let percent = match args.percent {
        Percent::Either => verity_math::PercentPolicy::Either,
        Percent::Fraction => verity_math::PercentPolicy::Fraction,
        Percent::Number => verity_math::PercentPolicy::Number,
    };
    let equiv = verity_math::EquivOptions {
        rel_tol: args.rel_tol,
        percent,
        unordered_lists: args.unordered_lists,
        precision: args.precision,
        decimal_comma: args.decimal_comma,
        ..verity_math::EquivOptions::default()
    };
    Ok(match args.verifier {
        VerifierName::Math => {
            let options = verity_math::MathOptions { extract, equiv };
            let params = serde_json::to_value(&options)?;
            (Box::new(verity_math::MathVerifier::new(options)), params)
        }
        VerifierName::Exact => (
            Box::new(verity_math::simple::ExactVerifier::new(
                extract,
                args.case_sensitive,
            )),
            json!({"case_sensitive": args.case_sensitive, "last_number": !args.no_last_number}),
        ),
        VerifierName::Choice => (
            Box::new(verity_math::simple::ChoiceVerifier::new(
                &args.letters,
                extract,
            )),
            json!({"letters": args.letters}),
        ),
        VerifierName::Regex => {
            let Some(pattern) = &args.pattern else {
                bail!("--verifier regex needs --pattern 'REGEX' with a capture group");
            };
            let mut verifier = verity_math::simple::RegexVerifier::new(pattern, args.regex_math)?;
            verifier.equiv = equiv;
            (
                Box::new(verifier),
                json!({"pattern": pattern, "math": args.regex_math}),
            )
        }
        VerifierName::Code => build_code(args)?,
        VerifierName::Command => build_command(args)?,
    })
}

fn build_code(args: &Args) -> Result<(Box<dyn Verifier>, serde_json::Value)> {
    let mut options = verity_sandbox::CodeVerifierOptions::default();
    let timeout = std::time::Duration::from_secs_f64(args.timeout.max(0.1));
    options.harness.per_test_timeout = timeout;
    options.harness.total_timeout = timeout * 5;
    options.harness.limits.address_space_bytes = args.memory_mib << 20;
    options.harness.compare.mode = match args.output_match {
        OutputMatchArg::Tokens => verity_sandbox::harness::compare::OutputMatch::Tokens,
        OutputMatchArg::Lines => verity_sandbox::harness::compare::OutputMatch::Lines,
        OutputMatchArg::Exact => verity_sandbox::harness::compare::OutputMatch::Exact,
    };
    options.harness.compare.float_tolerance = args.float_tolerance;
    options.python = args.python.clone();
    options.read_only_paths = args.allow_read.clone();
    if let Some(workers) = args.workers {
        options.workers = workers.max(1);
    }
    if args.unsafe_no_sandbox {
        options.isolation = verity_sandbox::Isolation::None;
    }
    let params = json!({
        "timeout_s": args.timeout,
        "memory_mib": args.memory_mib,
        "output_match": format!("{:?}", args.output_match).to_lowercase(),
        "float_tolerance": args.float_tolerance,
        "python": args.python,
        "workers": options.workers,
        "isolation": if args.unsafe_no_sandbox { "none" } else { "namespaces" },
    });
    Ok((
        Box::new(verity_sandbox::CodeVerifier::new(options)?),
        params,
    ))
}

fn build_command(args: &Args) -> Result<(Box<dyn Verifier>, serde_json::Value)> {
    let Some(command) = &args.command else {
        bail!(
            "--verifier command needs --command 'PROGRAM [ARGS]' (see examples/checkers/README.md)"
        );
    };
    let mut options = verity_sandbox::CommandVerifierOptions {
        command: command.split_whitespace().map(str::to_string).collect(),
        contract: match args.contract {
            ContractArg::Programmatic => verity_core::record::Contract::Programmatic,
            ContractArg::Environmental => verity_core::record::Contract::Environmental,
            ContractArg::JudgmentRequired => verity_core::record::Contract::JudgmentRequired,
            ContractArg::Mixed => verity_core::record::Contract::Mixed,
        },
        read_only_paths: args.allow_read.clone(),
        loopback_network: args.loopback_network,
        ..verity_sandbox::CommandVerifierOptions::default()
    };
    options.limits.wall_timeout = std::time::Duration::from_secs_f64(args.timeout.max(0.1) * 5.0);
    options.limits.address_space_bytes = args.memory_mib << 20;
    if let Some(workers) = args.workers {
        options.workers = workers.max(1);
    }
    if args.unsafe_no_sandbox {
        options.isolation = verity_sandbox::Isolation::None;
    }
    let params = json!({
        "command": command,
        "loopback_network": args.loopback_network,
        "allow_read": args.allow_read,
        "isolation": if args.unsafe_no_sandbox { "none" } else { "namespaces" },
    });
    Ok((
        Box::new(verity_sandbox::CommandVerifier::new(options)?),
        params,
    ))
}

/// Run `verity verify`.
pub fn run(args: Args, ctx: &Context) -> Result<ExitStatus> {
    let (verifier, options) = build(&args)?;
    let id = verifier.id();
    let mut source = args.input.open()?;
    let params = json!({"verifier": id, "options": options, "reference": args.reference});
    let mut out = StageOutput::create("verify", params, &args.input, &source, &args.output)?;
    let progress = Progress::bytes(ctx, source.total_bytes(), "verify");
    source.set_progress(progress.counter());
    let encoder = out.encoder();
    let verifier = verifier.as_ref();
    let mut rows_in = 0u64;
    let mut counts = VerifyCounts::default();
    let mut no_attempts = 0u64;
    let reference = args.reference;
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    source.for_each(
        |mut batch| {
            use rayon::prelude::*;
            let results: Vec<(VerifyCounts, Vec<String>)> = batch
                .records
                .par_iter_mut()
                .map(|record| {
                    if reference {
                        verity_core::verify::add_solution_attempt(record);
                    }
                    let c = verify_record(verifier, record);
                    let unknown_reasons = record
                        .attempts
                        .iter()
                        .filter_map(|a| a.verdict_of(&verifier.id().name))
                        .filter(|f| f.verdict == verity_core::record::Verdict::Unknown)
                        .filter_map(|f| {
                            f.detail.as_ref()?.get("reason")?.as_str().map(reason_class)
                        })
                        .collect();
                    (c, unknown_reasons)
                })
                .collect();
            let encoded = encoder.encode(&batch.records);
            (batch.records.len(), batch.rejects, results, encoded)
        },
        |(records, rejects, results, encoded)| {
            rows_in += (records + rejects.len()) as u64;
            for (c, unknown) in results {
                if c.attempts == 0 {
                    no_attempts += 1;
                }
                counts.add(c);
                for r in unknown {
                    *reasons.entry(r).or_default() += 1;
                }
            }
            out.reject(&rejects)?;
            out.write(encoded)?;
            progress.tick(rows_in);
            Ok::<(), anyhow::Error>(())
        },
    )?;
    progress.finish();
    let summary = json!({
        "verifier": id,
        "attempts": counts.attempts,
        "pass": counts.pass,
        "fail": counts.fail,
        "unknown": counts.unknown,
        "records_without_attempts": no_attempts,
        "unknown_reasons": reasons,
    });
    {
        let entry = out.entry_mut();
        entry.verifiers.push(id.clone());
        if let serde_json::Value::Object(map) = &mut entry.summary {
            if let serde_json::Value::Object(extra) = summary.clone() {
                map.extend(extra);
            }
        }
    }
    let result = out.finish(rows_in)?;
    if ctx.json {
        let mut s = summary;
        s["rows_in"] = json!(rows_in);
        s["rows_out"] = json!(result.entry.rows_out);
        s["outputs"] = json!(result.outputs);
        s["rejects"] = json!(result.rejects);
        s["ledger"] = json!(result.ledger);
        print_json(&s)?;
    } else if !ctx.quiet {
        let rate = |n: u64| {
            if counts.attempts == 0 {
                "-".to_string()
            } else {
                format!("{:.1}%", n as f64 * 100.0 / counts.attempts as f64)
            }
        };
        eprintln!(
            "{}: {} attempts in {} records: pass {} ({}), fail {} ({}), unknown {} ({})",
            id.label(),
            counts.attempts,
            rows_in,
            counts.pass,
            rate(counts.pass),
            counts.fail,
            rate(counts.fail),
            counts.unknown,
            rate(counts.unknown)
        );
        if no_attempts > 0 {
            eprintln!("{no_attempts} records have no attempt to verify");
        }
        for (reason, n) in &reasons {
            eprintln!("  unknown: {reason} ({n})");
        }
        eprintln!(
            "wrote {}",
            result
                .outputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(ExitStatus::Success)
}

fn reason_class(reason: &str) -> String {
    let cut = reason.find([':', '(']).unwrap_or(reason.len());
    reason[..cut].trim().to_string()
}
