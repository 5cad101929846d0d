//! `verity agree IN... --a VERIFIER --b VERIFIER`: how often two verifiers agree on the same
//! attempts (confusion counts, agreement rate, Cohen's kappa) and which attempts they disagree on.
//!
//! Each side is the name of a verifier whose feedback the attempts carry (verity's `math`, a
//! grade imported with the data such as `score` or `expected`, a judge). When an attempt has no
//! verdict from `math`, `exact` or `choice`, that built-in verifier is run on it here (default
//! options; the input is not modified). The disagreements are printed (`--show`) and written in
//! full to `--disagreements PATH` (JSON Lines) for review. The logic lives in
//! `verity_score::agree`.

use crate::common::{print_json, Context, ExitStatus, InputArgs};
use crate::output::Progress;
use anyhow::Result;
use serde_json::{json, Value};
use std::path::PathBuf;
use verity_card::agreement::AGREE_STAGE;
use verity_core::ledger::{FileDigest, LedgerEntry};
use verity_core::record::Record;
use verity_core::verify::Verifier;
use verity_score::agree::{Agreement, Disagreement};

/// Arguments of `verity agree`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// The first verifier (a feedback name; `math`, `exact`, `choice` are run when absent).
    #[arg(long, value_name = "VERIFIER")]
    pub a: String,
    /// The second verifier (e.g. an imported grade column such as `score`).
    #[arg(long, value_name = "VERIFIER")]
    pub b: String,
    /// Write every disagreement to this JSON Lines file.
    #[arg(long, value_name = "PATH")]
    pub disagreements: Option<PathBuf>,
    /// Disagreements shown on the terminal (and in `--json`).
    #[arg(long, default_value_t = 5)]
    pub show: usize,
    /// Exit with status 1 when the verifiers disagree on any attempt.
    #[arg(long)]
    pub fail_on_disagreement: bool,
    /// Append the measurement to this ledger (stage `agree`); `verity card build` then states it
    /// under the verifier's failure modes as a measured fact.
    #[arg(long, value_name = "PATH")]
    pub ledger: Option<PathBuf>,
}

/// A built-in verifier for a side name, run on attempts that have no verdict of that name.
fn builtin(name: &str) -> Option<Box<dyn Verifier>> {
    let extract = verity_math::ExtractOptions::default();
    match name {
        verity_math::MATH_NAME => Some(Box::new(verity_math::MathVerifier::default())),
        "exact" => Some(Box::new(verity_math::simple::ExactVerifier::new(
            extract, false,
        ))),
        "choice" => Some(Box::new(verity_math::simple::ChoiceVerifier::new(
            "ABCDEFGHIJ",
            extract,
        ))),
        _ => None,
    }
}

/// Run `verifier` on the attempts of `record` that have no verdict from it. Returns how many.
fn fill(record: &mut Record, verifier: &dyn Verifier) -> u64 {
    let name = verifier.id().name;
    let mut filled = 0;
    for attempt in &mut record.attempts {
        if attempt.verdict_of(&name).is_none() {
            let feedback = verifier.verify(&record.task, attempt);
            attempt.feedback.extend(feedback);
            filled += 1;
        }
    }
    filled
}

/// Run `verity agree`.
pub fn run(args: Args, ctx: &Context) -> Result<ExitStatus> {
    if args.a == args.b {
        anyhow::bail!("--a and --b both name `{}`: give two verifiers", args.a);
    }
    let runners: Vec<Box<dyn Verifier>> = [&args.a, &args.b]
        .into_iter()
        .filter_map(|n| builtin(n))
        .collect();
    let started = LedgerEntry::start(
        AGREE_STAGE,
        json!({"a": args.a, "b": args.b, "from": args.input.from, "map": args.input.map}),
    );
    let mut source = args.input.open()?;
    let inputs: Vec<PathBuf> = source.inputs().iter().map(|i| i.path.clone()).collect();
    let progress = Progress::bytes(ctx, source.total_bytes(), "agree");
    source.set_progress(progress.counter());
    let mut total = Agreement::new(&args.a, &args.b);
    let mut found: Vec<Disagreement> = Vec::new();
    let mut ran = 0u64;
    let mut rows = 0u64;
    let mut unreadable = 0u64;
    source.for_each(
        |mut batch| {
            use rayon::prelude::*;
            let parts: Vec<(Agreement, Vec<Disagreement>, u64)> = batch
                .records
                .par_iter_mut()
                .map(|record| {
                    let ran = runners.iter().map(|v| fill(record, v.as_ref())).sum();
                    let mut part = Agreement::new(&args.a, &args.b);
                    let found = part.observe(record);
                    (part, found, ran)
                })
                .collect();
            (parts, batch.records.len(), batch.rejects.len())
        },
        |(parts, records, rejects)| {
            for (part, more, n) in parts {
                total.merge(&part);
                found.extend(more);
                ran += n;
            }
            rows += (records + rejects) as u64;
            unreadable += rejects as u64;
            progress.tick(rows);
            Ok::<(), anyhow::Error>(())
        },
    )?;
    progress.finish();
    if let Some(path) = &args.disagreements {
        let mut text = Vec::new();
        for d in &found {
            serde_json::to_writer(&mut text, d)?;
            text.push(b'\n');
        }
        verity_core::io::write::write_atomic(path, &text)?;
    }
    let mut summary = total.to_json();
    summary["records"] = json!(rows - unreadable);
    summary["unreadable_rows"] = json!(unreadable);
    summary["verified_here"] = json!(ran);
    summary["failure_mode"] = json!(total.failure_mode());
    summary["disagreements_file"] = json!(args.disagreements);
    if let Some(path) = &args.ledger {
        let mut entry = started;
        for input in &inputs {
            entry.inputs.push(FileDigest::of(input)?);
        }
        entry.rows_in = rows;
        entry.rows_out = rows - unreadable;
        entry.summarize("agreement", total.to_json());
        entry.summarize("failure_mode", json!(total.failure_mode()));
        entry.finish();
        entry.append_to(path)?;
        summary["ledger"] = json!(path);
    }
    if ctx.json {
        summary["shown"] = json!(found.iter().take(args.show).collect::<Vec<_>>());
        print_json(&summary)?;
    } else if !ctx.quiet {
        print_human(&total, &summary, &found, args.show);
    }
    if total.compared() == 0 {
        ctx.note(format!(
            "no attempt has a pass/fail verdict from both `{}` and `{}` ({} without `{}`, {} without `{}`)",
            args.a, args.b, total.a_missing, args.a, total.b_missing, args.b
        ));
    }
    Ok(if args.fail_on_disagreement && total.disagreements() > 0 {
        ExitStatus::Findings
    } else {
        ExitStatus::Success
    })
}

fn print_human(total: &Agreement, summary: &Value, found: &[Disagreement], show: usize) {
    let (a, b) = (&total.a, &total.b);
    println!(
        "{} attempts in {} records; compared {} ({} without `{a}`, {} without `{b}`)",
        total.attempts,
        summary["records"],
        total.compared(),
        total.a_missing,
        total.b_missing
    );
    if summary["verified_here"].as_u64().unwrap_or(0) > 0 {
        println!(
            "  ({} verdicts computed here by the built-in verifier)",
            summary["verified_here"]
        );
    }
    let w = a.len().max(8);
    println!(
        "  {:>w$}  {:>10} {:>10}",
        "",
        format!("{b} pass"),
        format!("{b} fail")
    );
    println!(
        "  {:>w$}  {:>10} {:>10}",
        format!("{a} pass"),
        total.both_pass,
        total.a_pass_b_fail
    );
    println!(
        "  {:>w$}  {:>10} {:>10}",
        format!("{a} fail"),
        total.a_fail_b_pass,
        total.both_fail
    );
    let fmt = |v: Option<f64>| v.map_or_else(|| "undefined".to_string(), |x| format!("{x:.4}"));
    println!(
        "  agreement {}   Cohen's kappa {}   disagreements {}",
        fmt(total.rate()),
        fmt(total.kappa()),
        total.disagreements()
    );
    for d in found.iter().take(show) {
        println!();
        println!(
            "  {} attempt {}: {a} {} / {b} {}",
            d.id,
            d.attempt,
            if d.a_pass { "pass" } else { "fail" },
            if d.b_pass { "pass" } else { "fail" }
        );
        if let Some(r) = &d.reference {
            println!("    reference  {r}");
        }
        if let Some(p) = &d.answer {
            println!("    answer     {p}");
        }
        for (side, detail) in [(a, &d.a_detail), (b, &d.b_detail)] {
            if !detail.is_null() {
                println!("    {side} detail  {detail}");
            }
        }
        if let Some(t) = &d.response_tail {
            let t: String = t
                .chars()
                .rev()
                .take(200)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            println!("    response   …{}", t.replace('\n', " "));
        }
    }
    if found.len() > show {
        println!(
            "\n  ({} more; --disagreements PATH writes them all)",
            found.len() - show
        );
    }
}
