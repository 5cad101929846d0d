//! `verity score IN... -o OUT`: utility signals on every attempt and rollout statistics on every
//! task (pass rate, unbiased pass@k, majority vote, difficulty band), written onto the records.

use crate::common::{print_json, Context, ExitStatus, InputArgs};
use crate::output::{OutputArgs, Progress, StageOutput};
use anyhow::{Context as _, Result};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use verity_core::record::VerifierId;
use verity_score::group::{GroupKey, Grouper};
use verity_score::signals::{ScoreOptions, ScoreSummary, Scorer, VerifierChoice};

/// Input batch size for scoring: 64 KiB (instead of the readers' 256 KiB) keeps a batch's
/// rows and output in L2 next to the per-thread token cache; on the 100k corpus it took 15%
/// less CPU, while `convert` does not change (`bench/score/README.md`).
const BATCH_BYTES: usize = 64 << 10;

/// Arguments of `verity score`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Tokenizer for token counts: cl100k_base, o200k_base, whitespace, or `none` to skip
    /// counting (the slowest signal).
    #[arg(long, default_value = verity_core::tokens::DEFAULT_TOKENIZER, value_name = "NAME")]
    pub tokenizer: String,
    /// The k values of pass@k (only k <= graded attempts are written).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1,2,4,8,16,32,64,128",
        value_name = "K,..."
    )]
    pub k: Vec<u64>,
    /// Which verifier's verdicts count (a name like `math` or an imported column like `score`);
    /// default: verity's own latest verdict, else the imported one.
    #[arg(long, value_name = "NAME")]
    pub verifier: Option<String>,
    /// Rows are single attempts of shared tasks: group them by `problem` (normalized problem
    /// text) or `field:PATH` (e.g. `field:meta.idx`) and write the group's statistics on each
    /// row. Reads the input twice.
    #[arg(long, value_name = "KEY")]
    pub group_by: Option<String>,
    /// Words per n-gram for the repetition ratio.
    #[arg(long, default_value_t = 4)]
    pub ngram: usize,
}

/// Run `verity score`.
pub fn run(args: Args, ctx: &Context) -> Result<ExitStatus> {
    let group_key = args.group_by.as_deref().map(GroupKey::parse).transpose()?;
    let choice = VerifierChoice::parse(args.verifier.as_deref());
    let options = ScoreOptions {
        tokenizer: (args.tokenizer != "none").then(|| args.tokenizer.clone()),
        ks: args.k.clone(),
        verifier: choice.clone(),
        ngram: args.ngram.max(1),
        task_stats: group_key.is_none(),
    };
    let scorer = Scorer::new(options).context("cannot set up the scorer")?;

    // Pass 1 (grouped data only): outcomes per task key.
    let grouper = match &group_key {
        Some(key) => {
            let mut source = args.input.open_in_batches(BATCH_BYTES)?;
            let progress = Progress::bytes(ctx, source.total_bytes(), "group");
            source.set_progress(progress.counter());
            let mut grouper = Grouper::default();
            let mut rows = 0u64;
            source.for_each(
                |batch| {
                    let mut g = Grouper::default();
                    for r in &batch.records {
                        g.add(key, r, &choice);
                    }
                    (batch.records.len() as u64, g)
                },
                |(n, g)| {
                    rows += n;
                    grouper.merge(g);
                    progress.tick(rows);
                    Ok::<(), anyhow::Error>(())
                },
            )?;
            progress.finish();
            Some(grouper)
        }
        None => None,
    };

    let mut source = args.input.open_in_batches(BATCH_BYTES)?;
    let params = json!({
        "tokenizer": scorer.tokenizer_name(),
        "k": args.k,
        "verifier": args.verifier.clone().unwrap_or_else(|| "auto (own latest, else imported)".into()),
        "group_by": args.group_by,
        "ngram": args.ngram,
        "from": args.input.from,
        "to": args.output.to,
    });
    let mut out = StageOutput::create("score", params, &args.input, &source, &args.output)?;
    let progress = Progress::bytes(ctx, source.total_bytes(), "score");
    source.set_progress(progress.counter());
    let encoder = out.encoder();
    let mut rows_in = 0u64;
    let mut summary = ScoreSummary::default();
    let mut verifier_ids: BTreeMap<String, VerifierId> = BTreeMap::new();
    let ks = args.k.clone();
    source.for_each(
        |mut batch| {
            let mut partial = ScoreSummary::default();
            let mut ids: BTreeMap<String, VerifierId> = BTreeMap::new();
            for record in &mut batch.records {
                for attempt in &record.attempts {
                    if let Some((_, f)) = choice.verdict(attempt) {
                        // Nearly every attempt names a verifier already seen in the batch:
                        // compare before building its label.
                        if !ids.values().any(|v| *v == f.verifier) {
                            ids.entry(f.verifier.label())
                                .or_insert_with(|| f.verifier.clone());
                        }
                    }
                }
                scorer.score_record(record);
                if let (Some(g), Some(key)) = (&grouper, &group_key) {
                    g.annotate(key, record, &ks);
                }
                partial.add(record);
            }
            let encoded = encoder.encode(&batch.records);
            (batch.records.len(), batch.rejects, encoded, partial, ids)
        },
        |(records, rejects, encoded, partial, ids)| {
            rows_in += (records + rejects.len()) as u64;
            verifier_ids.extend(ids);
            summary.merge(partial);
            out.reject(&rejects)?;
            out.write(encoded)?;
            progress.tick(rows_in);
            Ok::<(), anyhow::Error>(())
        },
    )?;
    progress.finish();
    let mut report = summary.to_json();
    report["tokenizer"] = json!(scorer.tokenizer_name());
    if let (Some(g), Some(_)) = (&grouper, &group_key) {
        report["groups"] = json!({
            "tasks": g.groups(),
            "rows_without_key": g.unkeyed,
            "conflicting_groups": g.conflicting(),
        });
    }
    let verifier_note = verifier_note(&report, args.verifier.as_deref());
    report["verifier_used"] = json!(verifier_note);
    out.entry_mut().verifiers = verifier_ids.into_values().collect();
    out.entry_mut().summary = merge_summary(out.entry_mut().summary.take(), &report);
    let result = out.finish(rows_in)?;
    let printed = json!({
        "rows_in": rows_in,
        "rows_out": result.entry.rows_out,
        "outputs": result.outputs,
        "rejects": result.rejects,
        "ledger": result.ledger,
        "summary": report,
    });
    if ctx.json {
        print_json(&printed)?;
    } else if !ctx.quiet {
        print_human(&printed);
    }
    Ok(ExitStatus::Success)
}

fn verifier_note(report: &Value, asked: Option<&str>) -> String {
    let used: Vec<String> = report["verifiers"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k} ({v} attempts)"))
                .collect()
        })
        .unwrap_or_default();
    let how = match asked {
        Some(name) => format!("--verifier {name}"),
        None => "default: verity's own latest verdict, else the imported one".into(),
    };
    if used.is_empty() {
        format!("no attempt had a pass/fail verdict ({how}); pass rates are absent")
    } else {
        format!("{} ({how})", used.join(", "))
    }
}

fn merge_summary(base: Value, extra: &Value) -> Value {
    let mut base = match base {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    if let Value::Object(e) = extra {
        for (k, v) in e {
            base.insert(k.clone(), v.clone());
        }
    }
    Value::Object(base)
}

fn print_human(printed: &Value) {
    let s = &printed["summary"];
    eprintln!(
        "scored {} records ({} attempts) -> {}",
        s["records"], s["attempts"], printed["outputs"]
    );
    eprintln!("verdicts: {}", s["verifier_used"].as_str().unwrap_or("-"));
    if let Some(g) = s.get("groups") {
        eprintln!(
            "grouped into {} tasks ({} rows without a key, {} conflicting groups)",
            g["tasks"], g["rows_without_key"], g["conflicting_groups"]
        );
    }
    eprintln!(
        "records with a pass rate: {}; bands:",
        s["records_with_pass_rate"]
    );
    if let Some(b) = s["bands"].as_object() {
        for (k, v) in b {
            eprintln!("  {k:<12} {v}");
        }
    }
    match s["tokenizer"].as_str() {
        Some(t) => eprintln!("tokens: {} ({t})", s["tokens"]),
        None => eprintln!("tokens: not counted (--tokenizer none)"),
    }
    if let Some(f) = s["flags"].as_object() {
        let flags: Vec<String> = f.iter().map(|(k, v)| format!("{k} {v}")).collect();
        if !flags.is_empty() {
            eprintln!("attempt flags: {}", flags.join(", "));
        }
    }
    if let Some(a) = s["absent"].as_object() {
        for (signal, reasons) in a {
            if let Some(r) = reasons.as_object() {
                for (reason, n) in r {
                    eprintln!("absent {signal}: {n} x {reason}");
                }
            }
        }
    }
    if let Some(r) = printed["rejects"].as_str() {
        eprintln!("rejected rows in {r}");
    }
    eprintln!("note: signals are measurements, not quality; length is not quality and harder is not always better (docs/signals.md)");
}
