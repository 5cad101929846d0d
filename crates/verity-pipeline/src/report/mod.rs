//! `verity report DIR -o report.html`: one self-contained HTML page about a run.
//!
//! What it does: reads `ledger.jsonl`, `stats.json` and `card.json` from a run directory and
//! writes one HTML file with inline CSS and inline SVG plots (no script, no font, no network):
//! the funnel (rows per stage and rejection reasons), the share of time per stage, length and
//! token distributions per attempt, pass-rate bands, the source mixture, duplicate-cluster
//! sizes, contamination hits by benchmark, verifier verdicts, and the release card with its
//! completeness level and the missing fields that block reuse.
//!
//! Why: a release is reviewed by people; one file that opens anywhere (mail, CI artifact,
//! air-gapped machine) is the format that gets read.
//!
//! Known failure modes: plots read what the ledger and stats say; a run without a dedup or
//! decontam stage shows "not measured" for those plots rather than an empty chart (which would
//! read as "no duplicates"). Token plots need a `score` stage (token counts come from it).

mod svg;

use crate::error::{Error, Result};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;
use verity_core::record::Record;

pub use svg::{bar_chart, escape};

/// Log2-binned histograms of the output, built while the data files are written.
#[derive(Debug, Clone, Default)]
pub struct Histograms {
    attempt_chars: BTreeMap<u32, u64>,
    attempt_tokens: BTreeMap<u32, u64>,
    problem_chars: BTreeMap<u32, u64>,
    attempts_without_tokens: u64,
    sources: BTreeMap<String, u64>,
}

fn bin(x: u64) -> u32 {
    if x == 0 {
        0
    } else {
        64 - x.leading_zeros()
    }
}

fn bin_label(b: u32) -> String {
    if b == 0 {
        "0".into()
    } else {
        let lo = 1u64 << (b - 1);
        let hi = (1u64 << b) - 1;
        format!("{}-{}", short(lo), short(hi))
    }
}

fn short(n: u64) -> String {
    if n >= 1_000_000 {
        format!("{:.0}M", n as f64 / 1e6)
    } else if n >= 10_000 {
        format!("{:.0}k", n as f64 / 1e3)
    } else {
        n.to_string()
    }
}

impl Histograms {
    /// Add one output record.
    pub fn add(&mut self, record: &Record) {
        let source = record.task.source.dataset.clone().unwrap_or_else(|| {
            let file = record.lineage.file.as_deref().unwrap_or("(unknown)");
            let name = Path::new(file)
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            format!("file:{}", name.split('.').next().unwrap_or(""))
        });
        *self.sources.entry(source).or_default() += 1;
        let p = record
            .problem_text()
            .map(|t| t.chars().count() as u64)
            .unwrap_or(0);
        *self.problem_chars.entry(bin(p)).or_default() += 1;
        for a in &record.attempts {
            let chars = a.trace.as_deref().map(|t| t.chars().count()).unwrap_or(0)
                + a.response
                    .as_deref()
                    .map(|t| t.chars().count())
                    .unwrap_or(0);
            *self.attempt_chars.entry(bin(chars as u64)).or_default() += 1;
            match a.signals.get("tokens").and_then(Value::as_u64) {
                Some(t) => *self.attempt_tokens.entry(bin(t)).or_default() += 1,
                None => self.attempts_without_tokens += 1,
            }
        }
    }

    /// As JSON (`{"attempt_chars": [[label, count], ...], ...}`, bins in order).
    pub fn to_json(&self) -> Value {
        let h = |m: &BTreeMap<u32, u64>| {
            let (Some(lo), Some(hi)) = (m.keys().next(), m.keys().last()) else {
                return json!([]);
            };
            json!((*lo..=*hi)
                .map(|b| json!([bin_label(b), m.get(&b).copied().unwrap_or(0)]))
                .collect::<Vec<_>>())
        };
        json!({
            "attempt_chars": h(&self.attempt_chars),
            "attempt_tokens": h(&self.attempt_tokens),
            "problem_chars": h(&self.problem_chars),
            "attempts_without_tokens": self.attempts_without_tokens,
            "sources": self.sources,
        })
    }
}

/// Read a run directory and write the report to `out`.
pub fn write_report(dir: &Path, out: &Path) -> Result<()> {
    write_report_with(dir, out, None)
}

/// Like [`write_report`], with the run manifest given (the runner writes `run.json` last).
pub fn write_report_with(dir: &Path, out: &Path, run: Option<&Value>) -> Result<()> {
    let html = render_dir_with(dir, run)?;
    verity_core::io::write::write_atomic(out, html.as_bytes())?;
    Ok(())
}

/// Render the report of a run directory.
pub fn render_dir(dir: &Path) -> Result<String> {
    render_dir_with(dir, None)
}

fn render_dir_with(dir: &Path, run_given: Option<&Value>) -> Result<String> {
    let ledger_path = dir.join("ledger.jsonl");
    if !ledger_path.exists() {
        return Err(Error::Other(format!(
            "{}: no ledger.jsonl here; `verity report` needs the output directory of `verity run`",
            dir.display()
        )));
    }
    let ledger = verity_core::ledger::read_ledger(&ledger_path)?;
    let read_json = |name: &str| -> Result<Value> {
        let p = dir.join(name);
        if !p.exists() {
            return Ok(Value::Null);
        }
        let bytes = std::fs::read(&p).map_err(|e| Error::io(&p, e))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Other(format!("{}: {e}", p.display())))
    };
    let stats = read_json("stats.json")?;
    let card = read_json("card.json")?;
    let run = match run_given {
        Some(r) => r.clone(),
        None => read_json("run.json")?,
    };
    Ok(render(&ledger, &stats, &card, &run))
}

fn section(html: &mut String, id: &str, title: &str, body: &str, note: &str) {
    let _ = write!(
        html,
        "<section id=\"{id}\"><h2>{}</h2>{body}{}</section>",
        escape(title),
        if note.is_empty() {
            String::new()
        } else {
            format!("<p class=\"note\">{}</p>", escape(note))
        }
    );
    html.push('\n');
}

fn figure(id: &str, svg: Option<String>, missing: &str) -> String {
    match svg {
        Some(s) => format!("<figure class=\"plot\" id=\"plot-{id}\">{s}</figure>"),
        None => format!(
            "<figure class=\"plot empty\" id=\"plot-{id}\"><p class=\"missing\">{}</p></figure>",
            escape(missing)
        ),
    }
}

fn pairs_of(v: &Value) -> Vec<(String, f64)> {
    match v {
        Value::Array(a) => a
            .iter()
            .filter_map(|p| Some((p.get(0)?.as_str()?.to_string(), p.get(1)?.as_f64()?)))
            .collect(),
        Value::Object(o) => o
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
            .collect(),
        _ => Vec::new(),
    }
}

fn fmt_num(v: &Value) -> String {
    match v {
        Value::Null => "–".into(),
        Value::Number(n) => {
            if let Some(i) = n.as_u64() {
                let s = i.to_string();
                let mut out = String::new();
                for (k, c) in s.chars().enumerate() {
                    if k > 0 && (s.len() - k) % 3 == 0 {
                        out.push(',');
                    }
                    out.push(c);
                }
                out
            } else {
                format!("{:.4}", n.as_f64().unwrap_or(0.0))
            }
        }
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Render the page from the parsed files.
pub fn render(
    ledger: &[verity_core::ledger::LedgerEntry],
    stats: &Value,
    card: &Value,
    run: &Value,
) -> String {
    let title = stats["recipe"]
        .as_str()
        .or(run["recipe"].as_str())
        .unwrap_or("verity run")
        .to_string();
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>verity report: {}</title><style>{}</style></head><body>\n<header><h1>verity report: {}</h1><p>{}</p></header>\n",
        escape(&title),
        CSS,
        escape(&title),
        escape(&format!(
            "{} · {} rows read → {} rows released · export {}",
            verity_core::ledger::TOOL_VERSION,
            fmt_num(&run["rows_read"]),
            fmt_num(&run["rows_out"]),
            stats["export"]["target"].as_str().unwrap_or("?")
        ))
    );
    if run.is_null() || run["complete"] != json!(true) {
        html.push_str("<p class=\"warning\">run.json is missing: this run did not complete; numbers below may describe a partial run.</p>\n");
    }

    // Funnel.
    let funnel: Vec<(String, f64)> = ledger
        .iter()
        .enumerate()
        .map(|(i, e)| (format!("{}. {}", i + 1, e.stage), e.rows_out as f64))
        .collect();
    let mut table = String::from("<table class=\"funnel\"><tr><th>#</th><th>stage</th><th>rows in</th><th>rows out</th><th>rejected</th><th>top reasons</th></tr>");
    for (i, e) in ledger.iter().enumerate() {
        let mut reasons: Vec<(&String, &u64)> = e.rejections.iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let top = reasons
            .iter()
            .take(4)
            .map(|(r, n)| format!("{} ({})", escape(r), n))
            .collect::<Vec<_>>()
            .join("; ");
        let _ = write!(
            table,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            i + 1,
            escape(&e.stage),
            fmt_num(&json!(e.rows_in)),
            fmt_num(&json!(e.rows_out)),
            fmt_num(&json!(e.rejections.values().sum::<u64>())),
            top
        );
    }
    table.push_str("</table>");
    section(
        &mut html,
        "funnel",
        "Funnel",
        &format!("{}{}", figure("funnel", (!funnel.is_empty()).then(|| bar_chart(&funnel, "rows out of each stage", true)), "empty ledger"), table),
        "A filter's rejection count says what it removed, not that the removal helped. Rejected rows with reasons are in rejects/NN-stage.jsonl.",
    );

    // Time share.
    let cpu: Vec<(String, f64)> = ledger
        .iter()
        .filter_map(|e| Some((e.stage.clone(), e.summary.get("cpu_seconds")?.as_f64()?)))
        .collect();
    let total: f64 = cpu.iter().map(|c| c.1).sum();
    section(
        &mut html,
        "time",
        "Time per stage",
        &figure(
            "time",
            (total > 0.0).then(|| bar_chart(&cpu.iter().map(|(k, v)| (k.clone(), v * 100.0 / total)).collect::<Vec<_>>(), "share of stage CPU time (%)", false)),
            "no timing recorded",
        ),
        "Seconds spent inside each stage's calls, summed over threads (reading, parsing and writing are not included).",
    );

    // Lengths and tokens.
    let h = &stats["histograms"];
    let chars = pairs_of(&h["attempt_chars"]);
    let tokens = pairs_of(&h["attempt_tokens"]);
    let problems = pairs_of(&h["problem_chars"]);
    let body = format!(
        "<div class=\"grid\">{}{}{}</div>",
        figure(
            "chars",
            (!chars.is_empty()).then(|| bar_chart(
                &chars,
                "characters per attempt (trace + response), log2 bins",
                false
            )),
            "no attempts in the output"
        ),
        figure(
            "tokens",
            (!tokens.is_empty()).then(|| bar_chart(
                &tokens,
                &format!("tokens per attempt ({}), log2 bins", tokenizer_name(stats)),
                false
            )),
            "no token counts (add a `score` stage)"
        ),
        figure(
            "problems",
            (!problems.is_empty()).then(|| bar_chart(
                &problems,
                "characters per problem, log2 bins",
                false
            )),
            "no records"
        ),
    );
    section(
        &mut html,
        "lengths",
        "Length and token distributions",
        &body,
        "Length is not quality: long traces can be loops or padding.",
    );

    // Pass-rate bands.
    let mut bands = pairs_of(&stats["pass_rate_bands"]);
    // 0 first, 1 last, the open intervals in between (in their natural order)
    bands.sort_by_key(|(k, _)| match k.as_str() {
        "0" => (0, String::new()),
        "1" => (2, String::new()),
        other => (1, other.to_string()),
    });
    let graded = bands.iter().map(|b| b.1).sum::<f64>() > 0.0;
    section(
        &mut html,
        "bands",
        "Pass-rate bands",
        &figure(
            "bands",
            graded.then(|| bar_chart(&bands, "tasks per pass-rate band", false)),
            "no verdicts on rollouts: no pass rates",
        ),
        "Bands are relative to the model that produced the rollouts and to the verifier.",
    );

    // Sources.
    let mut sources = pairs_of(&stats["histograms"]["sources"]);
    sources.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    if sources.len() > 20 {
        let rest: f64 = sources[20..].iter().map(|s| s.1).sum();
        sources.truncate(20);
        sources.push(("(other)".into(), rest));
    }
    section(
        &mut html,
        "sources",
        "Source mixture",
        &figure(
            "sources",
            (!sources.is_empty()).then(|| bar_chart(&sources, "released rows per source", true)),
            "no source information",
        ),
        "Source = the record's task.source.dataset, else `file:` and the input file it came from.",
    );

    // Duplicates.
    let dedup = ledger.iter().rev().find(|e| e.stage == "dedup");
    let clusters = dedup.map(|e| {
        let mut v = pairs_of(&e.summary["cluster_sizes"]);
        v.sort_by_key(|(k, _)| k.parse::<u64>().unwrap_or(0));
        v
    });
    let dedup_note = dedup
        .map(|e| {
            format!(
                "{} exact and {} near duplicates removed in {} clusters (largest {}).",
                fmt_num(&e.summary["exact_removed"]),
                fmt_num(&e.summary["near_removed"]),
                fmt_num(&e.summary["clusters"]),
                fmt_num(&e.summary["largest_cluster"])
            )
        })
        .unwrap_or_default();
    section(
        &mut html,
        "duplicates",
        "Duplicate-cluster sizes",
        &figure(
            "duplicates",
            match &clusters {
                Some(c) if !c.is_empty() => Some(bar_chart(
                    c,
                    "clusters per size (records in the cluster)",
                    false,
                )),
                _ => None,
            },
            if dedup.is_some() {
                "dedup found no duplicates"
            } else {
                "not measured: the recipe has no dedup stage"
            },
        ),
        &dedup_note,
    );

    // Contamination.
    let decontam = ledger.iter().rev().find(|e| e.stage == "decontam");
    let hits = decontam
        .map(|e| pairs_of(&e.summary["hits_by_benchmark"]))
        .unwrap_or_default();
    section(
        &mut html,
        "contamination",
        "Contamination hits by benchmark",
        &figure(
            "contamination",
            decontam.is_some().then(|| bar_chart(&hits, "contaminated records per benchmark", true)),
            "not measured: the recipe has no decontam stage",
        ),
        "Lexical matchers (13-gram, contained, fuzzy) find copied and lightly edited problems, not paraphrases.",
    );

    // Verdicts.
    let mut verdicts = Vec::new();
    for e in ledger.iter().filter(|e| e.stage == "verify") {
        let name = e
            .verifiers
            .first()
            .map(|v| v.label())
            .unwrap_or_else(|| "verify".into());
        for k in ["pass", "fail", "unknown"] {
            if let Some(n) = e.summary.get(k).and_then(Value::as_f64) {
                verdicts.push((format!("{name}: {k}"), n));
            }
        }
    }
    section(
        &mut html,
        "verdicts",
        "Verifier verdicts",
        &figure("verdicts", (!verdicts.is_empty()).then(|| bar_chart(&verdicts, "attempts per verdict", true)), "no verify stage in this run"),
        "A pass is the verifier's verdict, not correctness: verifiers have false positives and false negatives.",
    );

    // Card.
    section(&mut html, "card", "Release card", &card_html(card), "");
    html.push_str("<footer>Generated by verity from ledger.jsonl, stats.json and card.json; no network resources are used by this page.</footer>\n</body></html>\n");
    html
}

fn tokenizer_name(stats: &Value) -> String {
    match &stats["tokens"]["tokenizer"] {
        Value::Object(o) if !o.is_empty() => o.keys().cloned().collect::<Vec<_>>().join(", "),
        _ => "tokenizer of the score stage".into(),
    }
}

fn card_html(card: &Value) -> String {
    if card.is_null() {
        return "<p class=\"missing\">No card.json in this run (output.card = false).</p>".into();
    }
    let mut s = String::new();
    if let Ok(c) = serde_json::from_value::<verity_card::Card>(card.clone()) {
        let report = verity_card::check::check(&c);
        let rv = serde_json::to_value(&report).unwrap_or(Value::Null);
        let _ = write!(
            s,
            "<p class=\"level\">Curation level: <strong>{}</strong></p>",
            escape(&verity_card::check::level_label(report.level))
        );
        if let Some(missing) = rv.get("missing").and_then(Value::as_array) {
            if !missing.is_empty() {
                s.push_str(
                    "<details><summary>Missing fields that would change reuse</summary><ul>",
                );
                for m in missing.iter().take(30) {
                    let field = m.get("field").and_then(Value::as_str).unwrap_or("?");
                    let why = m
                        .get("why")
                        .or_else(|| m.get("reason"))
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    let _ = write!(s, "<li><code>{}</code> {}</li>", escape(field), escape(why));
                }
                s.push_str("</ul></details>");
            }
        }
    }
    s.push_str("<table class=\"card\"><tr><th>field</th><th>value</th><th>provenance</th></tr>");
    for f in verity_card::model::facts(card) {
        let value = match f.value {
            Some(Value::String(t)) => t.clone(),
            Some(other) => other.to_string(),
            None => f.state.to_string(),
        };
        let value = if value.len() > 300 {
            format!(
                "{}…",
                &value[..value
                    .char_indices()
                    .nth(300)
                    .map(|c| c.0)
                    .unwrap_or(value.len())]
            )
        } else {
            value
        };
        let _ = write!(
            s,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            escape(&f.path),
            escape(&value),
            escape(f.provenance)
        );
    }
    s.push_str("</table>");
    s
}

const CSS: &str = "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:1rem 2rem;color:#1d2733;background:#fff}\
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;border-bottom:1px solid #d8dee6;padding-bottom:.2rem;margin-top:2rem}\
header p{color:#566;margin-top:0}.note{color:#566;font-size:.9rem}.missing{color:#8a6d3b;font-style:italic}.warning{background:#fff3cd;padding:.5rem;border:1px solid #e0c36a}\
table{border-collapse:collapse;font-size:.85rem;margin-top:.5rem;width:100%;table-layout:fixed}td,th{border:1px solid #d8dee6;padding:.25rem .4rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}\
table.funnel td:last-child,table.funnel th:last-child{width:40%}table.card td:first-child,table.card th:first-child{width:28%}table.card td:last-child,table.card th:last-child{width:12%}\
th{background:#f3f6f9}figure{margin:.5rem 0}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(330px,1fr));gap:1rem}\
svg{max-width:100%;height:auto}svg text{font-family:system-ui,sans-serif}footer{margin-top:3rem;color:#889;font-size:.8rem}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_bins_are_contiguous_log2() {
        let mut h = Histograms::default();
        let mut r = Record::new("a", verity_core::record::ObjectKind::PromptTraceAnswer);
        r.task.prompt = Some("x".repeat(10));
        r.attempts
            .push(verity_core::record::Attempt::with_response("y".repeat(100)));
        r.attempts
            .push(verity_core::record::Attempt::with_response("y".repeat(3)));
        h.add(&r);
        let j = h.to_json();
        let chars = j["attempt_chars"].as_array().unwrap();
        // 3 -> bin 2 (2-3), 100 -> bin 7 (64-127); bins 2..=7 all present
        assert_eq!(chars.len(), 6);
        assert_eq!(chars[0], json!(["2-3", 1]));
        assert_eq!(chars[5], json!(["64-127", 1]));
        assert_eq!(j["attempts_without_tokens"], 2);
    }
}
