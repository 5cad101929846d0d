//! Hugging Face dataset card: `README.md` with YAML front matter using the Hub's metadata keys
//! (`pretty_name`, `license`, `language`, `tags`, `task_categories`, `size_categories`,
//! `source_datasets`, `annotations_creators`, `configs`) plus a `verity` block with the
//! attribution factors, and the card's sections in Markdown following the Hub's template
//! (Dataset Details, Uses, Dataset Structure, Dataset Creation, Bias/Risks/Limitations, Citation).
//!
//! Known failure modes: the Hub's YAML has no fields for the verifier, generator or budget, so
//! they live in the non-standard `verity` block (the Hub keeps unknown keys but does not index
//! them); `configs` lists every released file under the `train` split.

use super::{prose, text, with_provenance};
use crate::check;
use crate::model::*;
use serde_json::{json, Map, Value};
use std::fmt::Write as _;

/// The Hub's `size_categories` value for a record count.
pub fn size_category(n: u64) -> &'static str {
    match n {
        0..=999 => "n<1K",
        1_000..=9_999 => "1K<n<10K",
        10_000..=99_999 => "10K<n<100K",
        100_000..=999_999 => "100K<n<1M",
        1_000_000..=9_999_999 => "1M<n<10M",
        10_000_000..=99_999_999 => "10M<n<100M",
        100_000_000..=999_999_999 => "100M<n<1B",
        _ => "1B<n<10B",
    }
}

/// Hub license id for an SPDX id (`Apache-2.0` -> `apache-2.0`); `unknown` when unknown;
/// `other` when the license is free text (then `license_name` carries the text).
pub fn hub_license(card: &Card) -> String {
    match card.release.license.value() {
        Some(l) if is_license_id(l) => l.trim().to_lowercase(),
        Some(_) => "other".into(),
        None => "unknown".into(),
    }
}

fn is_license_id(license: &str) -> bool {
    let l = license.trim();
    !l.is_empty()
        && l.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
}

fn task_categories(card: &Card) -> Vec<&'static str> {
    let mut out = vec!["text-generation"];
    if let Some(kinds) = card.released.object_kinds.value() {
        if kinds
            .iter()
            .any(|k| k == "prompt_answer" || k == "prompt_trace_answer")
        {
            out.push("question-answering");
        }
        if kinds
            .iter()
            .any(|k| k == "preference_pair" || k == "rubric_judgment")
        {
            out.push("text-classification");
        }
    }
    out
}

fn annotations_creators(card: &Card) -> &'static str {
    match card.verification.contract.value().map(String::as_str) {
        Some("programmatic") | Some("environmental") => "machine-generated",
        Some("judgment_required") | Some("mixed") => "other",
        _ => "no-annotation",
    }
}

/// The front-matter mapping (data file paths as in [`super::data_path`] without a base).
pub fn front_matter(card: &Card) -> Value {
    front_matter_at(card, None)
}

/// The front-matter mapping for a README written in directory `base`.
pub fn front_matter_at(card: &Card, base: Option<&std::path::Path>) -> Value {
    let mut fm = Map::new();
    fm.insert("pretty_name".into(), json!(text(&card.release.name)));
    fm.insert("license".into(), json!(hub_license(card)));
    if let Some(l) = card.release.license.value().filter(|l| !is_license_id(l)) {
        fm.insert("license_name".into(), json!(l));
    }
    if let Some(langs) = card.release.languages.value() {
        fm.insert("language".into(), json!(langs));
    }
    let mut tags = vec!["reasoning".to_string(), "verity".to_string()];
    if let Some(kinds) = card.released.object_kinds.value() {
        tags.extend(kinds.iter().cloned());
    }
    if let Some(c) = card.verification.contract.value() {
        tags.push(format!("{c}-verification"));
    }
    fm.insert("tags".into(), json!(tags));
    fm.insert("task_categories".into(), json!(task_categories(card)));
    if let Some(counts) = card.released.counts.value() {
        fm.insert(
            "size_categories".into(),
            json!([size_category(counts.records)]),
        );
    }
    if let Some(sources) = card.construction.prompt_sources.value() {
        fm.insert(
            "source_datasets".into(),
            json!(sources.iter().map(|s| s.source.clone()).collect::<Vec<_>>()),
        );
    }
    fm.insert(
        "annotations_creators".into(),
        json!([annotations_creators(card)]),
    );
    if let Some(files) = card.released.files.value() {
        if !files.is_empty() {
            let data_files: Vec<Value> = files
                .iter()
                .map(|f| json!({"split": "train", "path": super::data_path(&f.path, base)}))
                .collect();
            fm.insert(
                "configs".into(),
                json!([{"config_name": "default", "data_files": data_files}]),
            );
        }
    }
    let report = check::check(card);
    let factor = |f: &dyn Fn() -> (String, &'static str)| {
        let (v, p) = f();
        json!({"value": v, "provenance": p})
    };
    fm.insert(
        "verity".into(),
        json!({
            "card_schema": CARD_SCHEMA,
            "curation_level": report.level_label,
            "reuse_class": report.reuse,
            "factors": {
                "verifier": verifier_summary(card),
                "base_model": factor(&|| with_provenance(&card.factors.base_model)),
                "lineage": factor(&|| lineage_summary(card)),
                "optimizer": factor(&|| with_provenance(&card.factors.optimizer)),
                "scaffold": factor(&|| with_provenance(&card.factors.scaffold)),
                "inference_budget": factor(&|| with_provenance(&card.factors.inference_budget)),
            }
        }),
    );
    Value::Object(fm)
}

fn verifier_summary(card: &Card) -> Value {
    match &card.factors.verifier {
        Fact::Value { value, .. } => json!({
            "value": value.iter().map(|v| format!("{}@{} ({})", v.name, v.version, v.contract)).collect::<Vec<_>>().join(", "),
            "provenance": with_provenance(&card.factors.verifier).1,
        }),
        other => {
            let (v, p) = with_provenance(other);
            json!({"value": v, "provenance": p})
        }
    }
}

fn lineage_summary(card: &Card) -> (String, &'static str) {
    let (_, p) = with_provenance(&card.factors.lineage);
    match card.factors.lineage.value() {
        Some(l) => (
            format!(
                "sources: {}; generators: {}",
                if l.sources.is_empty() {
                    "none".into()
                } else {
                    l.sources.join(", ")
                },
                if l.generators.is_empty() {
                    "none".into()
                } else {
                    l.generators.join(", ")
                }
            ),
            p,
        ),
        None => with_provenance(&card.factors.lineage),
    }
}

/// Render a JSON value as block-style YAML (strings double-quoted, JSON escapes, which YAML
/// accepts).
pub fn yaml(value: &Value) -> String {
    let mut out = String::new();
    emit(value, 0, &mut out);
    out
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

fn emit(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::Object(m) if !m.is_empty() => {
                        let _ = writeln!(out, "{pad}{k}:");
                        emit(v, indent + 2, out);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        let _ = writeln!(out, "{pad}{k}:");
                        emit(v, indent + 2, out);
                    }
                    Value::Object(_) => {
                        let _ = writeln!(out, "{pad}{k}: {{}}");
                    }
                    Value::Array(_) => {
                        let _ = writeln!(out, "{pad}{k}: []");
                    }
                    other => {
                        let _ = writeln!(out, "{pad}{k}: {}", scalar(other));
                    }
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Object(m) if !m.is_empty() => {
                        let mut inner = String::new();
                        emit(item, indent + 2, &mut inner);
                        // First line goes after the dash.
                        let trimmed = inner.trim_start_matches(' ');
                        let _ = write!(out, "{pad}- {trimmed}");
                    }
                    Value::Array(a) if !a.is_empty() => {
                        let _ = writeln!(out, "{pad}-");
                        emit(item, indent + 2, out);
                    }
                    other => {
                        let _ = writeln!(out, "{pad}- {}", scalar(other));
                    }
                }
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{}", scalar(other));
        }
    }
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Writes one `- **label:** value` line per fact.
fn bullets(md: &mut String, items: &[(&str, String)]) {
    for (label, value) in items {
        let _ = writeln!(md, "- **{label}:** {value}");
    }
}

/// The whole `README.md`.
pub fn render(card: &Card) -> String {
    render_at(card, None)
}

/// The whole `README.md`, to be written in directory `base` (data paths relative to it).
pub fn render_at(card: &Card, base: Option<&std::path::Path>) -> String {
    let mut md = String::new();
    md.push_str("---\n");
    md.push_str(&yaml(&front_matter_at(card, base)));
    md.push_str("---\n\n");
    let report = check::check(card);
    let _ = writeln!(md, "# Dataset Card for {}\n", text(&card.release.name));
    if let Some(d) = card.release.description.value() {
        let _ = writeln!(md, "{d}\n");
    }
    let _ = writeln!(
        md,
        "This card was generated by `{}` from the run's ledger and declared facts. Curation level: **{}**; reuse class: **{}** ({}).\n",
        card.generated_by,
        report.level_label,
        serde_json::to_value(report.reuse).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
        report.reuse_reason
    );

    md.push_str("## Dataset Details\n\n");
    bullets(
        &mut md,
        &[
            ("Curated by", text(&card.release.creators)),
            ("Version", text(&card.release.version)),
            ("Language(s)", text(&card.release.languages)),
            ("License", text(&card.release.license)),
        ],
    );
    md.push('\n');
    md.push_str("### Dataset Sources\n\n");
    bullets(
        &mut md,
        &[
            ("Repository", text(&card.release.links.code)),
            ("Paper", text(&card.release.links.paper)),
            ("Data", text(&card.release.links.data)),
            ("Project page", text(&card.release.links.project)),
        ],
    );
    md.push('\n');

    md.push_str("## Uses\n\n");
    bullets(&mut md, &[("Training use", text(&card.usage.training_use))]);
    md.push_str("\n### Out-of-Scope Use\n\n");
    let _ = writeln!(md, "{}\n", text(&card.usage.out_of_scope));

    md.push_str("## Dataset Structure\n\n");
    bullets(
        &mut md,
        &[
            ("Object kinds", text(&card.released.object_kinds)),
            ("Record fields", text(&card.released.fields)),
            ("Domains", text(&card.released.domains)),
        ],
    );
    if let Some(c) = card.released.counts.value() {
        let _ = writeln!(
            md,
            "- **Records:** {} released{}",
            c.records,
            c.attempts
                .map(|a| format!(", holding {a} attempts"))
                .unwrap_or_default()
        );
    }
    if let Some(cols) = card.released.columns.value() {
        md.push_str("\n| column | type |\n|---|---|\n");
        for c in cols {
            let _ = writeln!(md, "| `{}` | {} |", md_cell(&c.name), c.dtype);
        }
    }
    if let Some(files) = card.released.files.value() {
        md.push_str("\n| file | bytes | rows | sha256 |\n|---|---|---|---|\n");
        for f in files {
            let _ = writeln!(
                md,
                "| `{}` | {} | {} | `{}` |",
                md_cell(&f.path),
                f.bytes,
                f.rows
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "unknown".into()),
                f.sha256
            );
        }
    }
    md.push('\n');

    md.push_str("## Dataset Creation\n\n### Curation Rationale\n\n");
    let _ = writeln!(md, "{}\n", text(&card.release.description));
    md.push_str("### Source Data\n\n#### Initial Data Collection and Normalization\n\n");
    match card.construction.prompt_sources.value() {
        Some(sources) => {
            md.push_str("| prompt source | records | share | license |\n|---|---|---|---|\n");
            for s in sources {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} |",
                    md_cell(&s.source),
                    s.records
                        .map(|r| r.to_string())
                        .unwrap_or_else(|| "unknown".into()),
                    s.share
                        .map(|r| format!("{:.1}%", r * 100.0))
                        .unwrap_or_else(|| "unknown".into()),
                    s.license.clone().unwrap_or_else(|| "unknown".into())
                );
            }
        }
        None => {
            let _ = writeln!(
                md,
                "Prompt sources: {}",
                text(&card.construction.prompt_sources)
            );
        }
    }
    md.push_str("\n#### Who are the source data producers?\n\n");
    bullets(
        &mut md,
        &[("Trace writer", text(&card.construction.trace_writer))],
    );
    match card.construction.generators.value() {
        Some(gens) => {
            for g in gens {
                let _ = writeln!(
                    md,
                    "- **Generator:** `{}` with decoding {}",
                    g.model,
                    if g.params.is_empty() {
                        "unknown".to_string()
                    } else {
                        prose(&Value::Object(g.params.clone()))
                    }
                );
            }
        }
        None => {
            bullets(
                &mut md,
                &[("Generator", text(&card.construction.generators))],
            );
        }
    }
    bullets(
        &mut md,
        &[
            (
                "Search substrate",
                text(&card.construction.search_substrate),
            ),
            (
                "Self-play anchor",
                text(&card.construction.self_play_anchor),
            ),
        ],
    );
    md.push('\n');

    md.push_str("### Annotations\n\n#### Annotation process\n\n");
    bullets(
        &mut md,
        &[
            ("Verification contract", text(&card.verification.contract)),
            (
                "Supervision granularity",
                text(&card.verification.granularity),
            ),
        ],
    );
    if let Some(results) = card.verification.results.value() {
        md.push_str(
            "\n| verifier | attempts | pass | fail | no verdict |\n|---|---|---|---|---|\n",
        );
        let n = |x: Option<u64>| x.map(|v| v.to_string()).unwrap_or_else(|| "unknown".into());
        for r in results {
            let _ = writeln!(
                md,
                "| `{}` | {} | {} | {} | {} |",
                md_cell(&r.verifier),
                n(r.attempts),
                n(r.pass),
                n(r.fail),
                n(r.unknown)
            );
        }
    }
    md.push_str("\n#### Filtering\n\n");
    match card.construction.filters.value() {
        Some(filters) if !filters.is_empty() => {
            md.push_str(
                "Rows each stage removed, with the reasons:\n\n| stage | rows in | rows out | rejected | reasons |\n|---|---|---|---|---|\n",
            );
            for f in filters {
                let rej = f
                    .rejections
                    .iter()
                    .map(|(k, v)| format!("`{k}` {v}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} |",
                    f.stage,
                    f.rows_in,
                    f.rows_out,
                    f.rejections.values().sum::<u64>(),
                    md_cell(if rej.is_empty() {
                        "none recorded"
                    } else {
                        &rej
                    })
                );
            }
        }
        Some(_) => md.push_str("No rows were filtered.\n"),
        None => {
            let _ = writeln!(md, "{}", text(&card.construction.filters));
        }
    }
    md.push('\n');

    md.push_str("## Attribution Factors\n\n| factor | value | provenance |\n|---|---|---|\n");
    let rows: [(&str, (String, &str)); 6] = [
        ("verifier", {
            let v = verifier_summary(card);
            (
                v["value"].as_str().unwrap_or("unknown").to_string(),
                with_provenance(&card.factors.verifier).1,
            )
        }),
        ("base model", with_provenance(&card.factors.base_model)),
        ("lineage", lineage_summary(card)),
        ("optimizer", with_provenance(&card.factors.optimizer)),
        ("scaffold", with_provenance(&card.factors.scaffold)),
        (
            "inference budget",
            with_provenance(&card.factors.inference_budget),
        ),
    ];
    for (name, (value, provenance)) in rows {
        let _ = writeln!(md, "| {name} | {} | {provenance} |", md_cell(&value));
    }
    md.push('\n');

    md.push_str("## Quality and Audit\n\n");
    quality(&mut md, card);
    bullets(
        &mut md,
        &[
            ("Split policy", text(&card.quality.split_policy)),
            (
                "License and provenance",
                text(&card.quality.license_provenance),
            ),
        ],
    );
    md.push('\n');

    md.push_str("## Scaling Ledger\n\n");
    bullets(
        &mut md,
        &[
            ("Unique tasks", text(&card.scaling.unique_tasks)),
            (
                "Reuse rate (records beyond one per unique task, per unique task)",
                text(&card.scaling.reuse_rate),
            ),
            ("Rollouts per task", text(&card.scaling.rollouts_per_task)),
            ("pass@k", pass_at_k(card)),
            ("Tokens", tokens(card)),
        ],
    );
    md.push('\n');

    md.push_str("## Bias, Risks, and Limitations\n\n");
    bullets(
        &mut md,
        &[
            (
                "Known failure modes of the data",
                text(&card.quality.known_failure_modes),
            ),
            (
                "Known failure modes of the verifier",
                text(&card.verification.failure_modes),
            ),
        ],
    );
    if !report.missing.is_empty() {
        md.push_str("\n### Missing facts\n\n");
        for m in &report.missing {
            let _ = writeln!(md, "- `{}` ({}): {}", m.path, m.level, m.why);
        }
    }
    md.push_str("\n## Citation\n\n");
    match card.release.citation.value() {
        Some(c) => {
            let _ = writeln!(md, "```\n{c}\n```");
        }
        None => md.push_str("unknown\n"),
    }
    md.push_str("\n## Dataset Card Authors\n\nGenerated by verity from the release card (`card.json`, schema `verity.card/1`).\n");
    md
}

/// Dedup, decontamination and pass-rate bands as sentences and tables.
fn quality(md: &mut String, card: &Card) {
    match card.quality.dedup.value() {
        Some(d) => {
            let _ = writeln!(
                md,
                "- **Deduplication:** {}; {} records removed as duplicates{}.",
                d.method,
                d.removed
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "an unknown number of".into()),
                d.clusters
                    .map(|c| format!(", {c} duplicate clusters"))
                    .unwrap_or_default()
            );
            if let Value::Object(p) = &d.params {
                let _ = writeln!(md, "  Parameters: {}.", prose(&Value::Object(p.clone())));
            }
        }
        None => bullets(md, &[("Deduplication", text(&card.quality.dedup))]),
    }
    match card.quality.decontamination.value() {
        Some(d) => {
            let hit: u64 = d.hits.values().sum();
            let _ = writeln!(
                md,
                "- **Decontamination:** checked against {} benchmark{} ({}) with {}; {} records matched, {} removed.",
                d.benchmarks.len(),
                if d.benchmarks.len() == 1 { "" } else { "s" },
                d.benchmarks.join(", "),
                d.method,
                hit,
                d.removed
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "unknown".into())
            );
            if !d.hits.is_empty() {
                md.push_str("\n  | benchmark | contaminated records |\n  |---|---|\n");
                for (b, n) in &d.hits {
                    let _ = writeln!(md, "  | {} | {n} |", md_cell(b));
                }
                md.push('\n');
            }
        }
        None => bullets(
            md,
            &[("Decontamination", text(&card.quality.decontamination))],
        ),
    }
    match card.quality.pass_rate_bands.value() {
        Some(b) => {
            let _ = writeln!(
                md,
                "- **Pass-rate bands:**{}",
                b.rollouts_per_task
                    .map(|r| format!(" over {r:.2} rollouts per task on average"))
                    .unwrap_or_default()
            );
            md.push_str("\n  | pass rate | count |\n  |---|---|\n");
            for (band, n) in &b.bands {
                let _ = writeln!(md, "  | {} | {n} |", md_cell(band));
            }
            md.push('\n');
        }
        None => bullets(
            md,
            &[("Pass-rate bands", text(&card.quality.pass_rate_bands))],
        ),
    }
}

fn pass_at_k(card: &Card) -> String {
    match card.scaling.pass_at_k.value() {
        Some(values) => {
            let mut v: Vec<(&String, &f64)> = values.iter().collect();
            v.sort_by_key(|(k, _)| k.parse::<u64>().unwrap_or(u64::MAX));
            v.iter()
                .map(|(k, x)| format!("pass@{k} {x}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
        None => text(&card.scaling.pass_at_k),
    }
}

fn tokens(card: &Card) -> String {
    match card.scaling.tokens.value() {
        Some(t) => format!(
            "{} tokens{}{}",
            t.total,
            t.mean
                .map(|m| format!(", {m:.1} per attempt on average"))
                .unwrap_or_default(),
            t.tokenizer
                .as_ref()
                .map(|k| format!(" ({k})"))
                .unwrap_or_default()
        ),
        None => text(&card.scaling.tokens),
    }
}
