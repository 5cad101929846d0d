//! `verity stages [NAME]`: every stage of the registry with its parameters, types, defaults and
//! docs (`--json` for the same as data).

use crate::common::{print_json, Context, ExitStatus};
use anyhow::{bail, Result};
use serde_json::{json, Value};
use std::fmt::Write as _;
use verity_pipeline::registry::{self, StageInfo};

/// Arguments of `verity stages`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show only this stage.
    pub name: Option<String>,
}

fn default_text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

/// The human listing of `stages`.
pub fn render(stages: &[&StageInfo]) -> String {
    let mut out = String::new();
    for (i, info) in stages.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "{}: {}", info.name, info.about);
        let _ = writeln!(out, "  first pass: {}", info.first_pass);
        let params = registry::params(info);
        if params.is_empty() {
            let _ = writeln!(out, "  (no parameters)");
        }
        for p in params {
            let _ = writeln!(
                out,
                "  {}{}  {}  default {}\n      {}",
                p.name,
                if p.required { " (required)" } else { "" },
                p.kind,
                default_text(&p.default),
                p.doc
            );
        }
    }
    out
}

/// The `--json` form of `stages`.
pub fn to_json(stages: &[&StageInfo]) -> Value {
    Value::Array(
        stages
            .iter()
            .map(|info| {
                json!({
                    "name": info.name,
                    "about": info.about,
                    "first_pass": info.first_pass,
                    "params": registry::params(info),
                })
            })
            .collect(),
    )
}

/// Run `verity stages`.
pub fn run(args: Args, ctx: &Context) -> Result<ExitStatus> {
    let stages: Vec<&StageInfo> = match &args.name {
        Some(name) => match registry::info(name) {
            Some(info) => vec![info],
            None => bail!(
                "unknown stage `{name}` (known: {})",
                registry::names().join(", ")
            ),
        },
        None => registry::REGISTRY.iter().collect(),
    };
    if ctx.json {
        print_json(&to_json(&stages))?;
    } else {
        print!("{}", render(&stages));
    }
    Ok(ExitStatus::Success)
}
