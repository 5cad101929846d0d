//! `verity select IN... -o OUT`: filter by expressions over signals and fields, keep bands,
//! quotas, top-k, diversity-aware sampling, the s1K-style staged recipe, or build preference
//! pairs from rollout sets. Every filter's rejections are counted in the ledger.

use crate::common::{print_json, Context, ExitStatus, InputArgs};
use crate::output::{OutputArgs, Progress, StageOutput};
use anyhow::{bail, Result};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use verity_core::Record;
use verity_score::group::GroupKey;
use verity_score::select::pairs::{build_pairs, PairOptions};
use verity_score::select::{Candidate, KeyBy, Screened, SelectPlan, Selector};
use verity_score::signals::VerifierChoice;

/// Arguments of `verity select`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Keep records where EXPR is true (repeatable; applied in order; see docs/signals.md),
    /// e.g. `pass_rate > 0 and pass_rate < 0.8 and not truncated`.
    #[arg(long = "where", value_name = "EXPR")]
    pub filters: Vec<String>,
    /// Keep only these pass-rate bands: 0, (0,0.25], (0.25,0.5], (0.5,0.75], (0.75,1), 1, or
    /// unsolved/hard/medium/easy/very_easy/solved (repeatable).
    #[arg(long = "keep-band", value_name = "BAND")]
    pub keep_bands: Vec<String>,
    /// At most MAX records per key: `source=MAX`, `domain=MAX` or `field:PATH=MAX`.
    #[arg(long, value_name = "BY=MAX")]
    pub quota: Option<String>,
    /// Keep the K best records by `--score`.
    #[arg(long, value_name = "K")]
    pub top_k: Option<usize>,
    /// Score expression for `--top-k` (higher is better), e.g. `1 - pass_rate`.
    #[arg(long, value_name = "EXPR")]
    pub score: Option<String>,
    /// Sample N records spread evenly (round robin) over `--diverse-by` groups.
    #[arg(long, value_name = "N")]
    pub diverse: Option<usize>,
    /// What diversity spreads over: cluster (MinHash clusters of the problem), source, domain,
    /// field:PATH.
    #[arg(long, default_value = "cluster", value_name = "BY")]
    pub diverse_by: String,
    /// A staged recipe: `s1k` = quality -> difficulty -> diversity (needs `--n`).
    #[arg(long, value_name = "NAME")]
    pub recipe: Option<String>,
    /// Size of the recipe's selection.
    #[arg(long, value_name = "N")]
    pub n: Option<usize>,
    /// Seed of every tie-break and sample.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Build preference pairs (a passing vs a failing attempt of the same task) instead of
    /// selecting records.
    #[arg(long)]
    pub pairs: bool,
    /// Pairs per task.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub max_pairs: usize,
    /// For `--pairs` on one-attempt-per-row data: group rows into tasks by `problem` or
    /// `field:PATH` (holds the input in memory).
    #[arg(long, value_name = "KEY")]
    pub group_by: Option<String>,
    /// Which verifier's verdicts count for `--pairs` (default: own latest, else imported).
    #[arg(long, value_name = "NAME")]
    pub verifier: Option<String>,
}

fn plan(args: &Args) -> Result<SelectPlan> {
    let mut plan = SelectPlan {
        seed: args.seed,
        ..SelectPlan::default()
    };
    for f in &args.filters {
        plan.filter(f)?;
    }
    if !args.keep_bands.is_empty() {
        let names: Vec<String> = args
            .keep_bands
            .iter()
            .flat_map(|b| split_bands(b))
            .collect();
        plan.bands(&names)?;
    }
    if let Some(q) = &args.quota {
        let Some((by, max)) = q.rsplit_once('=') else {
            bail!("--quota `{q}`: expected BY=MAX, e.g. source=100");
        };
        let max: u64 = max
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("--quota `{q}`: MAX must be a whole number"))?;
        let by = KeyBy::parse(by.trim())?;
        if by == KeyBy::Cluster {
            bail!("--quota by cluster is not supported; use --diverse N --diverse-by cluster");
        }
        plan.quota = Some((by, max));
    }
    match (args.top_k, &args.score) {
        (Some(k), Some(score)) => {
            plan.top_k = Some((score.clone(), verity_score::expr::parse(score)?, k));
        }
        (Some(_), None) => bail!("--top-k needs --score EXPR (higher is better)"),
        (None, Some(_)) => bail!("--score is used with --top-k K"),
        (None, None) => {}
    }
    if let Some(n) = args.diverse {
        plan.diversity = Some((KeyBy::parse(&args.diverse_by)?, n));
    }
    match args.recipe.as_deref() {
        None => {}
        Some("s1k") => {
            let Some(n) = args.n else {
                bail!("--recipe s1k needs --n N (how many records to select)");
            };
            plan.s1k(n)?;
        }
        Some(other) => bail!("unknown recipe `{other}`; known: s1k"),
    }
    Ok(plan)
}

/// Band names contain commas (`(0,0.25]`), so a list is split only between bands.
fn split_bands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in text.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Run `verity select`.
pub fn run(args: Args, ctx: &Context) -> Result<ExitStatus> {
    if args.pairs {
        return run_pairs(args, ctx);
    }
    let plan = plan(&args)?;
    if plan.filters.is_empty()
        && plan.keep_bands.is_none()
        && plan.quota.is_none()
        && plan.top_k.is_none()
        && plan.diversity.is_none()
    {
        bail!("nothing to select on: give --where, --keep-band, --quota, --top-k, --diverse, --recipe or --pairs");
    }
    let selector = Selector::new(plan);
    let params =
        json!({"plan": selector.plan().to_json(), "from": args.input.from, "to": args.output.to});
    let mut rejections: BTreeMap<String, u64> = BTreeMap::new();
    let mut rows_in = 0u64;

    let kept: Option<Vec<bool>> = if selector.needs_global() {
        // Pass 1: screen, keep small candidates; choose globally.
        let mut source = args.input.open()?;
        let progress = Progress::bytes(ctx, source.total_bytes(), "screen");
        source.set_progress(progress.counter());
        let mut candidates: Vec<Candidate> = Vec::new();
        let mut offset = 0u64;
        source.for_each(
            |batch| screen_batch(&selector, &batch.records),
            |screened| {
                let n = screened.len() as u64;
                for (i, s) in screened.into_iter().enumerate() {
                    match s {
                        Screened::Keep(mut c) => {
                            c.index = offset + i as u64;
                            candidates.push(c);
                        }
                        Screened::Reject(reason) => *rejections.entry(reason).or_insert(0) += 1,
                    }
                }
                offset += n;
                progress.tick(offset);
                Ok::<(), anyhow::Error>(())
            },
        )?;
        progress.finish();
        let chosen = selector.choose(candidates, &mut rejections);
        let mut mask = vec![false; offset as usize];
        for i in chosen {
            if let Some(slot) = mask.get_mut(i as usize) {
                *slot = true;
            }
        }
        Some(mask)
    } else {
        None
    };

    let mut source = args.input.open()?;
    let mut out = StageOutput::create("select", params, &args.input, &source, &args.output)?;
    let progress = Progress::bytes(ctx, source.total_bytes(), "select");
    source.set_progress(progress.counter());
    let encoder = out.encoder();
    let mut offset = 0u64;
    source.for_each(
        |batch| {
            let verdicts: Vec<Option<String>> = match &kept {
                Some(_) => Vec::new(),
                None => screen_batch(&selector, &batch.records)
                    .into_iter()
                    .map(|s| match s {
                        Screened::Keep(_) => None,
                        Screened::Reject(r) => Some(r),
                    })
                    .collect(),
            };
            (batch, verdicts)
        },
        |(batch, verdicts)| {
            rows_in += (batch.records.len() + batch.rejects.len()) as u64;
            out.reject(&batch.rejects)?;
            let n = batch.records.len() as u64;
            let mut keep: Vec<Record> = Vec::new();
            for (i, record) in batch.records.into_iter().enumerate() {
                let index = offset + i as u64;
                let keep_it = match &kept {
                    Some(mask) => mask.get(index as usize).copied().unwrap_or(false),
                    None => match verdicts.get(i).cloned().flatten() {
                        None => true,
                        Some(reason) => {
                            *rejections.entry(reason).or_insert(0) += 1;
                            false
                        }
                    },
                };
                if keep_it {
                    keep.push(record);
                }
            }
            offset += n;
            out.write(encoder.encode(&keep))?;
            progress.tick(rows_in);
            Ok::<(), anyhow::Error>(())
        },
    )?;
    progress.finish();
    for (reason, n) in &rejections {
        out.entry_mut().reject(reason.clone(), *n);
    }
    let summary = json!({"rejections": rejections, "plan": selector.plan().to_json()});
    out.entry_mut().summary["select"] = summary;
    let result = out.finish(rows_in)?;
    report(
        ctx,
        "selected",
        rows_in,
        &result.entry,
        &result.outputs,
        result.ledger.as_deref(),
    )
}

fn screen_batch(selector: &Selector, records: &[Record]) -> Vec<Screened> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| selector.screen(r, i as u64))
        .collect()
}

fn report(
    ctx: &Context,
    verb: &str,
    rows_in: u64,
    entry: &verity_core::ledger::LedgerEntry,
    outputs: &[std::path::PathBuf],
    ledger: Option<&std::path::Path>,
) -> Result<ExitStatus> {
    let printed = json!({
        "rows_in": rows_in,
        "rows_out": entry.rows_out,
        "rejections": entry.rejections,
        "outputs": outputs,
        "ledger": ledger,
    });
    if ctx.json {
        print_json(&printed)?;
    } else if !ctx.quiet {
        eprintln!(
            "{verb} {} of {} rows -> {:?}",
            entry.rows_out, rows_in, outputs
        );
        for (reason, n) in &entry.rejections {
            eprintln!("  rejected {n:>8}  {reason}");
        }
    }
    Ok(ExitStatus::Success)
}

fn run_pairs(args: Args, ctx: &Context) -> Result<ExitStatus> {
    let options = PairOptions {
        verifier: VerifierChoice::parse(args.verifier.as_deref()),
        max_pairs: args.max_pairs.max(1),
        seed: args.seed,
    };
    let group_key = args.group_by.as_deref().map(GroupKey::parse).transpose()?;
    let mut source = args.input.open()?;
    let params = json!({
        "pairs": true,
        "max_pairs": options.max_pairs,
        "seed": args.seed,
        "group_by": args.group_by,
        "verifier": args.verifier,
        "to": args.output.to,
    });
    let mut out = StageOutput::create("select", params, &args.input, &source, &args.output)?;
    let progress = Progress::bytes(ctx, source.total_bytes(), "pairs");
    source.set_progress(progress.counter());
    let encoder = out.encoder();
    let mut rows_in = 0u64;
    let mut rejections: BTreeMap<String, u64> = BTreeMap::new();
    let mut groups: HashMap<u64, Vec<Record>> = HashMap::new();
    let mut order: Vec<u64> = Vec::new();
    source.for_each(
        |batch| {
            if group_key.is_some() {
                return (batch, Vec::new(), Vec::new());
            }
            let mut pairs = Vec::new();
            let mut reasons = Vec::new();
            for r in &batch.records {
                match build_pairs(std::slice::from_ref(r), &options) {
                    Ok(p) => pairs.extend(p),
                    Err(reason) => reasons.push(reason),
                }
            }
            (batch, pairs, reasons)
        },
        |(batch, pairs, reasons)| {
            rows_in += (batch.records.len() + batch.rejects.len()) as u64;
            out.reject(&batch.rejects)?;
            for r in reasons {
                *rejections.entry(r.to_string()).or_insert(0) += 1;
            }
            if let Some(key) = &group_key {
                for record in batch.records {
                    match key.key(&record) {
                        Ok(k) => {
                            let g = groups.entry(k).or_default();
                            if g.is_empty() {
                                order.push(k);
                            }
                            g.push(record);
                        }
                        Err(reason) => {
                            *rejections.entry(format!("pairs: {reason}")).or_insert(0) += 1
                        }
                    }
                }
            } else {
                out.write(encoder.encode(&pairs))?;
            }
            progress.tick(rows_in);
            Ok::<(), anyhow::Error>(())
        },
    )?;
    progress.finish();
    for k in order {
        let Some(records) = groups.remove(&k) else {
            continue;
        };
        match build_pairs(&records, &options) {
            Ok(p) => out.write(encoder.encode(&p))?,
            Err(reason) => {
                *rejections.entry(reason.to_string()).or_insert(0) += records.len() as u64
            }
        }
    }
    for (reason, n) in &rejections {
        out.entry_mut().reject(reason.clone(), *n);
    }
    out.entry_mut().summary["pairs"] = json!({"rejections": rejections, "unit": if group_key.is_some() { "rows of a task" } else { "records" }});
    let result = out.finish(rows_in)?;
    if !ctx.json && !ctx.quiet {
        eprintln!(
            "note: rows_out counts preference pairs; rejections count {} that yielded none",
            if group_key.is_some() {
                "rows of tasks"
            } else {
                "records"
            }
        );
    }
    report(
        ctx,
        "built pairs:",
        rows_in,
        &result.entry,
        &result.outputs,
        result.ledger.as_deref(),
    )
}
