//! The execution plan: the recipe's processing stages cut into **segments**.
//!
//! A segment is a run of streaming stages, optionally headed by one first-pass stage (dedup,
//! split, select with quota/top-k/diversity/s1K). The runner reads a segment's input twice when
//! it is headed by a first-pass stage (observe, then process), and writes the segment's output
//! to a checkpoint, which is the next segment's input. The last segment writes the data files
//! through the export. `verity run --dry-run` prints this plan.

use crate::recipe::{Recipe, StageConfig};
use crate::stages::needs_first_pass;
use std::fmt::Write;

/// One segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// 0-based segment number.
    pub index: usize,
    /// Indices into `recipe.stages` (the export stage excluded).
    pub stages: Vec<usize>,
    /// Whether the first stage needs a first pass.
    pub first_pass: bool,
    /// Whether the output is a checkpoint (false for the last segment: data files).
    pub checkpoint: bool,
}

/// The plan of a recipe.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Segments in order (at least one, possibly without stages).
    pub segments: Vec<Segment>,
}

/// Cut the recipe's stages into segments.
pub fn plan(recipe: &Recipe) -> Plan {
    let mut segments: Vec<Segment> = Vec::new();
    let mut current = Segment {
        index: 0,
        stages: Vec::new(),
        first_pass: false,
        checkpoint: false,
    };
    for (i, stage) in recipe.stages.iter().enumerate() {
        if matches!(stage, StageConfig::Export(_)) {
            continue;
        }
        if needs_first_pass(stage) {
            if !current.stages.is_empty() {
                let next = current.index + 1;
                segments.push(std::mem::replace(
                    &mut current,
                    Segment {
                        index: next,
                        stages: Vec::new(),
                        first_pass: false,
                        checkpoint: false,
                    },
                ));
            }
            current.first_pass = true;
        }
        current.stages.push(i);
    }
    segments.push(current);
    let last = segments.len() - 1;
    for (i, s) in segments.iter_mut().enumerate() {
        s.checkpoint = i != last;
    }
    Plan { segments }
}

/// The plan for people (`verity run --dry-run`).
pub fn render(recipe: &Recipe, plan: &Plan, out_dir: &std::path::Path) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "recipe: {} ({})",
        recipe.display_name(),
        recipe.path.display()
    );
    let _ = writeln!(s, "input:");
    for p in recipe.input_paths() {
        let state = if p.exists() { "" } else { "   <- MISSING" };
        let _ = writeln!(s, "  {}{state}", p.display());
    }
    if let Some(l) = &recipe.input.layout {
        let _ = writeln!(s, "  layout: {l} (forced)");
    }
    let _ = writeln!(s, "output: {}", out_dir.display());
    for seg in &plan.segments {
        let how = if seg.first_pass {
            "two passes over its input (first pass builds global state)"
        } else {
            "one streaming pass"
        };
        let _ = writeln!(s, "segment {}: {how}", seg.index);
        for &i in &seg.stages {
            let st = &recipe.stages[i];
            let kind = if needs_first_pass(st) {
                "first-pass"
            } else {
                "streaming"
            };
            let params =
                crate::stage_lines::resolved_params(i + 1, st, &recipe.base_dir).to_string();
            let _ = writeln!(s, "  {:>2}. {:<9} {kind:<10} {params}", i + 1, st.name());
        }
        if seg.stages.is_empty() {
            let _ = writeln!(
                s,
                "      (no processing stage: records are read and exported)"
            );
        }
        if seg.checkpoint {
            let _ = writeln!(
                s,
                "  -> checkpoint {}/.verity/checkpoints/{:02}-<key>/ (resume point)",
                out_dir.display(),
                seg.index
            );
        } else {
            let export = recipe.export().cloned().unwrap_or_default();
            let _ = writeln!(
                s,
                "  -> export {} as {}: {}/data/<split>.{}",
                export.target,
                export.format,
                out_dir.display(),
                export.extension()
            );
        }
    }
    let _ = writeln!(
        s,
        "then: ledger.jsonl, rejects/NN-<stage>.jsonl, stats.json{}{}, run.json",
        if recipe.output.card {
            ", card.json, README.md (card)"
        } else {
            ""
        },
        if recipe.output.report {
            ", report.html"
        } else {
            ""
        }
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_pass_stages_start_segments() {
        let recipe = Recipe::parse(
            r#"
            [input]
            paths = ["x.jsonl"]
            [[stage]]
            stage = "normalize"
            [[stage]]
            stage = "verify"
            verifier = "math"
            [[stage]]
            stage = "dedup"
            [[stage]]
            stage = "decontam"
            against = ["builtin:math500"]
            [[stage]]
            stage = "select"
            where = ["pass_rate > 0"]
            [[stage]]
            stage = "split"
            sizes = "0.9,0.1"
            [[stage]]
            stage = "export"
            target = "verl"
            "#,
            "t.toml",
        )
        .unwrap();
        let p = plan(&recipe);
        assert_eq!(p.segments.len(), 3);
        assert_eq!(p.segments[0].stages, vec![0, 1]);
        assert!(!p.segments[0].first_pass && p.segments[0].checkpoint);
        assert_eq!(p.segments[1].stages, vec![2, 3, 4]);
        assert!(p.segments[1].first_pass);
        assert_eq!(p.segments[2].stages, vec![5]);
        assert!(!p.segments[2].checkpoint);
    }
}
