//! `verity math-eq`: answer equivalence for one pair (`--gold G --pred P`) or a JSONL file of
//! `{gold, pred}` objects (field names configurable).
//!
//! File mode writes one JSON line per input pair (in input order) with the verdict, the reason,
//! both extracted answers and the extraction rules, to `-o OUT` (written atomically) or stdout.
//! The summary (counts per verdict and per rule; agreement with `--label FIELD` when given) goes
//! to stdout when `-o` is used, else to stderr; `--json` prints it as JSON.
//! Exit codes: 0 ok, 2 usage or input error (unreadable file, bad JSON, missing field: the
//! message names the file and line).

use crate::common::{print_json, Context, ExitStatus};
use anyhow::{bail, Context as _, Result};
use clap::ValueEnum;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use verity_math::{check_batch, Checked, MathOptions, Verdict};

/// Percent policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PercentArg {
    /// `10%` equals both `0.1` and `10`.
    Either,
    /// `10%` equals `0.1` only.
    Fraction,
    /// `10%` equals `10` only.
    Number,
}

/// Arguments of `verity math-eq`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// JSONL file of pairs (omit when using --gold/--pred).
    #[arg(value_name = "FILE", conflicts_with_all = ["gold", "pred"])]
    pub file: Option<PathBuf>,
    /// Gold answer (bare, or a full solution with \boxed{} / ####).
    #[arg(long, requires = "pred", allow_hyphen_values = true)]
    pub gold: Option<String>,
    /// Predicted response (a model output; the final answer is extracted).
    #[arg(long, requires = "gold", allow_hyphen_values = true)]
    pub pred: Option<String>,
    /// File mode: field holding the gold answer.
    #[arg(long, default_value = "gold")]
    pub gold_field: String,
    /// File mode: field holding the prediction.
    #[arg(long, default_value = "pred")]
    pub pred_field: String,
    /// File mode: a boolean field with the expected verdict; the summary reports agreement.
    #[arg(long, value_name = "FIELD")]
    pub label: Option<String>,
    /// File mode: write the per-pair lines here (atomically) instead of stdout.
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Relative tolerance for decimal approximations.
    #[arg(long, default_value_t = 1e-4)]
    pub rel_tol: f64,
    /// How `x%` compares with plain numbers.
    #[arg(long, value_enum, default_value_t = PercentArg::Either)]
    pub percent: PercentArg,
    /// Compare bare comma lists as sets instead of in order.
    #[arg(long)]
    pub unordered_lists: bool,
    /// Also accept a decimal approximation that equals the other side when both are rounded
    /// to this many decimal places.
    #[arg(long, value_name = "K")]
    pub precision: Option<u32>,
    /// Read a comma between digits as a decimal comma (`3,25` is 3.25) unless it groups
    /// thousands.
    #[arg(long)]
    pub decimal_comma: bool,
    /// Do not fall back to the last number when no answer marker is found.
    #[arg(long)]
    pub no_last_number: bool,
}

fn options(args: &Args) -> Result<MathOptions> {
    if !(args.rel_tol >= 0.0 && args.rel_tol < 1.0) {
        bail!("--rel-tol must be in [0, 1), got {}", args.rel_tol);
    }
    let mut o = MathOptions::default();
    o.extract.last_number = !args.no_last_number;
    o.equiv.rel_tol = args.rel_tol;
    o.equiv.unordered_lists = args.unordered_lists;
    o.equiv.precision = args.precision;
    o.equiv.decimal_comma = args.decimal_comma;
    o.equiv.percent = match args.percent {
        PercentArg::Either => verity_math::PercentPolicy::Either,
        PercentArg::Fraction => verity_math::PercentPolicy::Fraction,
        PercentArg::Number => verity_math::PercentPolicy::Number,
    };
    Ok(o)
}

fn line_json(c: &Checked) -> Value {
    let mut v = json!({
        "verdict": c.verdict.as_str(),
        "gold": c.gold.answer,
        "gold_rule": c.gold.rule.as_str(),
        "pred": c.pred.answer,
        "pred_rule": c.pred.rule.as_str(),
    });
    if let Some(r) = &c.reason {
        v["reason"] = json!(r);
    }
    v
}

/// Run `verity math-eq`.
pub fn run(args: Args, ctx: &Context) -> Result<ExitStatus> {
    let opts = options(&args)?;
    match (&args.file, &args.gold, &args.pred) {
        (None, Some(g), Some(p)) => {
            let c = verity_math::check(g, p, &opts);
            if ctx.json {
                let mut v = line_json(&c);
                v["verifier"] =
                    json!({"name": verity_math::MATH_NAME, "version": verity_math::MATH_VERSION});
                print_json(&v)?;
            } else {
                let show = |a: &Option<String>| a.clone().unwrap_or_else(|| "(none)".into());
                println!("{}", c.verdict.as_str());
                println!(
                    "  gold: {}  [{}]",
                    show(&c.gold.answer),
                    c.gold.rule.as_str()
                );
                println!(
                    "  pred: {}  [{}]",
                    show(&c.pred.answer),
                    c.pred.rule.as_str()
                );
                if let Some(r) = &c.reason {
                    println!("  reason: {r}");
                }
            }
            Ok(ExitStatus::Success)
        }
        (Some(file), None, None) => run_file(file, &args, &opts, ctx),
        _ => bail!("give either FILE or both --gold and --pred"),
    }
}

struct Pair {
    gold: String,
    pred: String,
    label: Option<bool>,
}

fn field(v: &Value, name: &str, path: &Path, line: usize) -> Result<String> {
    match v.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(Value::Bool(b)) => Ok(b.to_string()),
        Some(Value::Array(a)) if a.len() == 1 && a[0].is_string() => {
            Ok(a[0].as_str().unwrap_or_default().to_string())
        }
        Some(other) => bail!(
            "{}:{line}: field `{name}` is {}, expected a string",
            path.display(),
            match other {
                Value::Null => "null",
                Value::Object(_) => "an object",
                _ => "an array",
            }
        ),
        None => bail!(
            "{}:{line}: missing field `{name}` (set the field name with --gold-field / --pred-field)",
            path.display()
        ),
    }
}

fn run_file(path: &Path, args: &Args, opts: &MathOptions, ctx: &Context) -> Result<ExitStatus> {
    let f =
        std::fs::File::open(path).with_context(|| format!("cannot open `{}`", path.display()))?;
    let reader = std::io::BufReader::new(f);
    // output: temp file next to OUT (renamed at the end) or stdout
    let (mut sink, tmp): (Box<dyn Write>, Option<PathBuf>) = match &args.output {
        Some(out) => {
            let name = out
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "out".into());
            let tmp = out.with_file_name(format!(".{name}.tmp{}", std::process::id()));
            let f = std::fs::File::create(&tmp)
                .with_context(|| format!("cannot create `{}`", tmp.display()))?;
            (Box::new(std::io::BufWriter::new(f)), Some(tmp))
        }
        None => (
            Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            None,
        ),
    };
    let result = (|| -> Result<Value> {
        let mut verdicts: BTreeMap<&'static str, u64> = BTreeMap::new();
        let mut rules: BTreeMap<&'static str, u64> = BTreeMap::new();
        let (mut labelled, mut agree, mut total) = (0u64, 0u64, 0u64);
        let mut batch: Vec<Pair> = Vec::with_capacity(4096);
        let mut flush = |batch: &mut Vec<Pair>, sink: &mut Box<dyn Write>| -> Result<()> {
            let pairs: Vec<(&str, &str)> = batch
                .iter()
                .map(|p| (p.gold.as_str(), p.pred.as_str()))
                .collect();
            let checked = check_batch(&pairs, opts);
            for (p, c) in batch.iter().zip(&checked) {
                let mut v = line_json(c);
                if let Some(l) = p.label {
                    v["label"] = json!(l);
                    labelled += 1;
                    if (c.verdict == Verdict::Equivalent) == l {
                        agree += 1;
                    }
                }
                serde_json::to_writer(&mut *sink, &v)?;
                sink.write_all(b"\n")?;
                *verdicts.entry(c.verdict.as_str()).or_default() += 1;
                *rules.entry(c.pred.rule.as_str()).or_default() += 1;
                total += 1;
            }
            batch.clear();
            Ok(())
        };
        for (i, line) in reader.lines().enumerate() {
            let n = i + 1;
            let line =
                line.with_context(|| format!("cannot read `{}` line {n}", path.display()))?;
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(&line)
                .with_context(|| format!("{}:{n}: not valid JSON", path.display()))?;
            let label = match &args.label {
                Some(name) => match v.get(name) {
                    Some(Value::Bool(b)) => Some(*b),
                    Some(Value::Null) | None => None,
                    Some(other) => bail!(
                        "{}:{n}: label field `{name}` is {other}, expected true/false",
                        path.display()
                    ),
                },
                None => None,
            };
            batch.push(Pair {
                gold: field(&v, &args.gold_field, path, n)?,
                pred: field(&v, &args.pred_field, path, n)?,
                label,
            });
            if batch.len() >= 4096 {
                flush(&mut batch, &mut sink)?;
            }
        }
        flush(&mut batch, &mut sink)?;
        sink.flush()?;
        let mut s = json!({
            "verifier": {"name": verity_math::MATH_NAME, "version": verity_math::MATH_VERSION},
            "pairs": total,
            "verdicts": verdicts,
            "pred_rules": rules,
        });
        if args.label.is_some() {
            s["labelled"] = json!(labelled);
            s["agree"] = json!(agree);
            s["agreement"] = json!(if labelled > 0 {
                agree as f64 / labelled as f64
            } else {
                0.0
            });
        }
        Ok(s)
    })();
    drop(sink);
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            if let Some(t) = &tmp {
                let _ = std::fs::remove_file(t);
            }
            return Err(e);
        }
    };
    if let (Some(t), Some(out)) = (&tmp, &args.output) {
        std::fs::rename(t, out).with_context(|| format!("cannot write `{}`", out.display()))?;
    }
    let to_stdout = args.output.is_some();
    if ctx.json {
        if to_stdout {
            print_json(&summary)?;
        } else {
            eprintln!("{}", serde_json::to_string_pretty(&summary)?);
        }
    } else if !ctx.quiet {
        let mut text = format!("{} pairs:", summary["pairs"]);
        if let Value::Object(m) = &summary["verdicts"] {
            for (k, v) in m {
                text.push_str(&format!(" {k} {v}"));
            }
        }
        if args.label.is_some() {
            text.push_str(&format!(
                "; agreement with `{}`: {}/{}",
                args.label.as_deref().unwrap_or(""),
                summary["agree"],
                summary["labelled"]
            ));
        }
        if to_stdout {
            println!("{text}");
        } else {
            eprintln!("{text}");
        }
    }
    Ok(ExitStatus::Success)
}
