//! `verity atlas search|show|source`: the shipped atlas of published reasoning-data works.

use crate::common::{print_json, Context, ExitStatus};
use anyhow::Result;
use clap::Subcommand;
use serde_json::{json, Value};
use verity_card::atlas;

/// `println!` that returns broken-pipe errors instead of panicking (`main` maps them to success).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?;
    }};
}

/// Arguments of `verity atlas`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: AtlasCommand,
}

#[derive(Debug, Subcommand)]
enum AtlasCommand {
    /// Search entries by text (all words must match) and facets.
    Search(SearchArgs),
    /// Show one entry (and its release facts when the atlas has them).
    Show(ShowArgs),
    /// Print where the atlas data comes from and its license notice.
    Source,
}

#[derive(Debug, clap::Args)]
struct SearchArgs {
    /// Words to find in id, title, venue, arXiv id, domains and tracks.
    query: Vec<String>,
    /// Verification contract (programmatic, environmental, judgment_required, mixed).
    #[arg(long)]
    contract: Option<String>,
    /// Supervision granularity (answer, step, state_action, episode, pairwise, scalar, process).
    #[arg(long)]
    granularity: Option<String>,
    /// Training use (sft, distillation, rlvr, preference_learning, evaluation, ...).
    #[arg(long = "use", value_name = "USE")]
    training_use: Option<String>,
    /// Source role (data_release, benchmark, verifier_reward, construction_recipe, ...).
    #[arg(long)]
    role: Option<String>,
    /// Domain (math, code, ...).
    #[arg(long)]
    domain: Option<String>,
    /// Minimum curation level of the entry (0..5).
    #[arg(long, value_name = "N")]
    min_level: Option<u8>,
    /// Publication year.
    #[arg(long)]
    year: Option<u64>,
    /// Show at most this many entries.
    #[arg(long, default_value_t = 20)]
    limit: usize,
}

#[derive(Debug, clap::Args)]
struct ShowArgs {
    /// Entry id (with or without `atlas:`).
    id: String,
}

/// Run `verity atlas`.
pub fn run(args: Args, ctx: &Context) -> Result<ExitStatus> {
    match args.command {
        AtlasCommand::Search(a) => search(a, ctx),
        AtlasCommand::Show(a) => show(a, ctx),
        AtlasCommand::Source => {
            {
                use std::io::Write;
                std::io::stdout()
                    .lock()
                    .write_all(atlas::SOURCE_NOTICE.as_bytes())?;
            }
            Ok(ExitStatus::Success)
        }
    }
}

fn search(args: SearchArgs, ctx: &Context) -> Result<ExitStatus> {
    let facets = atlas::Facets {
        contract: args.contract,
        granularity: args.granularity,
        training_use: args.training_use,
        role: args.role,
        domain: args.domain,
        min_level: args.min_level,
        year: args.year,
    };
    let hits = atlas::search(&args.query.join(" "), &facets);
    if ctx.json {
        let items: Vec<Value> = hits
            .iter()
            .take(args.limit)
            .map(|e| Value::Object(e.0.clone()))
            .collect();
        print_json(&json!({"total": hits.len(), "entries": items}))?;
        return Ok(ExitStatus::Success);
    }
    for e in hits.iter().take(args.limit) {
        out!(
            "{:<58} {:>4}  L{}  {:<22} {}",
            e.id(),
            e.year().map(|y| y.to_string()).unwrap_or_default(),
            e.level()
                .map(|l| l.to_string())
                .unwrap_or_else(|| "?".into()),
            e.list("verification_contract").join(","),
            e.title()
        );
    }
    if hits.len() > args.limit {
        out!("... {} more (use --limit)", hits.len() - args.limit);
    }
    ctx.note(format!(
        "{} of {} entries; source and license: `verity atlas source`",
        hits.len(),
        atlas::entries().len()
    ));
    Ok(ExitStatus::Success)
}

fn show(args: ShowArgs, ctx: &Context) -> Result<ExitStatus> {
    let entry = atlas::get(&args.id)?;
    let facts = entry.release_facts();
    if ctx.json {
        let mut value = Value::Object(entry.0.clone());
        if let Some(f) = facts {
            value["release_facts"] = json!({
                "release": f.release, "size": f.size, "teacher": f.teacher,
                "model_trained": f.model_trained, "verifier": f.verifier,
                "license": f.license, "section": f.section,
            });
        }
        print_json(&value)?;
        return Ok(ExitStatus::Success);
    }
    out!("{}\n{}\n", entry.id(), entry.title());
    for (key, value) in &entry.0 {
        if matches!(key.as_str(), "id" | "title") {
            continue;
        }
        let shown = match value {
            Value::Null => continue,
            Value::Array(a) if a.is_empty() => continue,
            Value::String(s) => s.clone(),
            Value::Array(a) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        };
        out!("  {key:<24} {shown}");
    }
    if let Some(f) = facts {
        out!("\n{}", f.section);
    }
    out!("\n(atlas data: MIT, RenBing-Sumeru/Awesome-LLM-Reasoning-Data @ 0bc3872; `verity atlas source`)");
    Ok(ExitStatus::Success)
}
