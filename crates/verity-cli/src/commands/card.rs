//! `verity card build|check|diff|export`: release cards and attribution.

use crate::common::{print_json, Context, ExitStatus, InputArgs, OnErrorArg};
use anyhow::{bail, Context as _, Result};
use clap::{Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use verity_card::build::{self, Declared, Ledger};
use verity_card::{atlas, check, diff, export, Card};

/// `println!` that returns broken-pipe errors instead of panicking (`main` maps them to success).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?;
    }};
}

/// Arguments of `verity card`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: CardCommand,
}

#[derive(Debug, Subcommand)]
enum CardCommand {
    /// Build a card from a run's ledger, a scan of the released data and declared facts.
    Build(BuildArgs),
    /// Grade a card on the curation scale L0..L5 and list the missing fields.
    Check(CheckArgs),
    /// Compare two cards (a card file or `atlas:ID`) factor by factor, with a verdict.
    Diff(DiffArgs),
    /// Export a card as a Hugging Face dataset card or Croissant JSON-LD.
    Export(ExportArgs),
}

#[derive(Debug, clap::Args)]
struct BuildArgs {
    /// Ledger file of the run (JSON Lines written by the stages).
    #[arg(long, value_name = "PATH")]
    ledger: Option<PathBuf>,
    /// JSON printed by `verity stats --json` (unique tasks, reuse, bands, tokens, mixture).
    #[arg(long, value_name = "PATH")]
    stats: Option<PathBuf>,
    /// Released data file(s) to scan (object kinds, fields, generators, sources, verdicts).
    #[arg(long, value_name = "FILE", num_args = 1..)]
    data: Vec<PathBuf>,
    /// Input layout of the data files (default: detected).
    #[arg(long, value_name = "LAYOUT")]
    from: Option<String>,
    /// Declared facts (TOML) for what no ledger can know: name, license, base model, optimizer, ...
    #[arg(long, value_name = "PATH")]
    facts: Option<PathBuf>,
    /// Output card (JSON). Written atomically. Default: print on stdout.
    #[arg(short = 'o', long, value_name = "PATH")]
    output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// The card (JSON) or `atlas:ID`.
    card: String,
    /// Exit 1 when the card is below this level (L0..L5, or 0..5): a CI gate.
    #[arg(long, value_name = "LEVEL", value_parser = verity_card::check::parse_level)]
    min_level: Option<u8>,
}

#[derive(Debug, clap::Args)]
struct DiffArgs {
    /// Card A (file or `atlas:ID`).
    a: String,
    /// Card B (file or `atlas:ID`).
    b: String,
    /// Also list fields outside the factors and data facts that differ.
    #[arg(long)]
    all: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Target {
    /// Hugging Face dataset card (README.md with YAML front matter).
    Hf,
    /// MLCommons Croissant 1.1 JSON-LD with RAI and PROV fields.
    Croissant,
}

#[derive(Debug, clap::Args)]
struct ExportArgs {
    /// The card (JSON) or `atlas:ID`.
    card: String,
    /// Target format.
    #[arg(long, value_enum)]
    to: Target,
    /// Output: a file, or a directory (gets `README.md` / `croissant.json`). Default: stdout.
    #[arg(short = 'o', long, value_name = "PATH")]
    output: Option<PathBuf>,
}

/// Load a card from a file or `atlas:ID`.
fn load(spec: &str) -> Result<Card> {
    if let Some(id) = spec.strip_prefix("atlas:") {
        let entry = atlas::get(id)?;
        return Ok(atlas::entry_card(entry));
    }
    Card::read(Path::new(spec)).with_context(|| format!("cannot read the card `{spec}`"))
}

/// Run `verity card`.
pub fn run(args: Args, ctx: &Context) -> Result<ExitStatus> {
    match args.command {
        CardCommand::Build(a) => run_build(a, ctx),
        CardCommand::Check(a) => run_check(a, ctx),
        CardCommand::Diff(a) => run_diff(a, ctx),
        CardCommand::Export(a) => run_export(a, ctx),
    }
}

fn run_build(args: BuildArgs, ctx: &Context) -> Result<ExitStatus> {
    if args.ledger.is_none() && args.stats.is_none() && args.data.is_empty() && args.facts.is_none()
    {
        bail!("nothing to build from: give `--ledger`, `--stats`, `--data` or `--facts`");
    }
    let mut ledger = match &args.ledger {
        Some(path) => Some(Ledger::read(path)?),
        None => None,
    };
    if let Some(path) = &args.stats {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        let stats: serde_json::Value = serde_json::from_str(&text).with_context(|| {
            format!(
                "`{}` is not the JSON of `verity stats --json`",
                path.display()
            )
        })?;
        ledger
            .get_or_insert_with(|| Ledger {
                name: path.display().to_string(),
                entries: Vec::new(),
            })
            .push_stats(stats, &path.display().to_string());
    }
    let scan = if args.data.is_empty() {
        None
    } else {
        let input = InputArgs {
            inputs: args.data.clone(),
            from: args.from.clone(),
            on_error: OnErrorArg::Skip,
            rejects: None,
            max_line_bytes: 256 << 20,
            strict: false,
            map: Vec::new(),
        };
        let origin = args
            .data
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(",");
        Some(build::scan_source(input.open()?, &origin)?)
    };
    let declared = match &args.facts {
        Some(path) => Some(Declared::read(path)?),
        None => None,
    };
    let card = build::build(ledger.as_ref(), scan.as_ref(), declared.as_ref())?;
    let report = check::check(&card);
    match &args.output {
        Some(path) => {
            card.write(path)?;
            ctx.note(format!(
                "wrote {} ({}; {} measured, {} declared fields; {} missing)",
                path.display(),
                report.level_label,
                report.measured,
                report.declared,
                report.missing.len()
            ));
        }
        None => print_json(&card.to_value())?,
    }
    Ok(ExitStatus::Success)
}

fn run_check(args: CheckArgs, ctx: &Context) -> Result<ExitStatus> {
    let card = load(&args.card)?;
    let report = check::check(&card);
    let below = args
        .min_level
        .is_some_and(|min| report.level.is_none_or(|l| l < min));
    if ctx.json {
        let mut value = serde_json::to_value(&report)?;
        if let Some(min) = args.min_level {
            value["min_level"] = serde_json::json!(min);
            value["passed"] = serde_json::json!(!below);
        }
        print_json(&value)?;
    } else if !ctx.quiet {
        out!("level: {}", report.level_label);
        out!(
            "reuse: {} ({})",
            serde_json::to_value(report.reuse)?.as_str().unwrap_or(""),
            report.reuse_reason
        );
        out!(
            "fields: {} measured, {} declared, {} missing",
            report.measured,
            report.declared,
            report.missing.len()
        );
        if !report.next_level.is_empty() {
            out!("next level needs: {}", report.next_level.join(", "));
        }
        if !report.missing.is_empty() {
            out!("\nmissing (most blocking first):");
            for m in &report.missing {
                out!("  {:<32} {}  {}", m.path, m.level, m.why);
            }
        }
        if !report.placeholders.is_empty() {
            out!("\nplaceholder text in: {}", report.placeholders.join(", "));
        }
        if let Some(min) = args.min_level {
            out!(
                "\n{}: level {} is {} the minimum L{min}",
                if below { "FAIL" } else { "ok" },
                report.level_label,
                if below { "below" } else { "at or above" }
            );
        }
    }
    Ok(if below {
        ExitStatus::Findings
    } else {
        ExitStatus::Success
    })
}

fn run_diff(args: DiffArgs, ctx: &Context) -> Result<ExitStatus> {
    let a = load(&args.a)?;
    let b = load(&args.b)?;
    let report = diff::diff(&a, &b);
    if ctx.json {
        print_json(&serde_json::to_value(&report)?)?;
        return Ok(ExitStatus::Success);
    }
    if ctx.quiet {
        return Ok(ExitStatus::Success);
    }
    out!("A: {}\nB: {}\n", args.a, args.b);
    out!("factors:");
    for f in &report.factors {
        let name = f.group.trim_start_matches("factor:");
        out!(
            "  {:<17} {:<12} A: {}",
            name,
            format!("{:?}", f.comparison).to_lowercase(),
            f.a
        );
        if f.comparison != diff::Comparison::Equal {
            out!("  {:<17} {:<12} B: {}", "", "", f.b);
        }
    }
    if !report.data.is_empty() {
        out!("\ndata facts:");
        for d in &report.data {
            out!(
                "  {:<28} {:<12} A: {}",
                d.path,
                format!("{:?}", d.comparison).to_lowercase(),
                d.a
            );
            out!("  {:<28} {:<12} B: {}", "", "", d.b);
        }
    }
    if args.all && !report.other.is_empty() {
        out!("\nother fields:");
        for d in &report.other {
            out!(
                "  {:<28} {:<12} A: {}",
                d.path,
                format!("{:?}", d.comparison).to_lowercase(),
                d.a
            );
            out!("  {:<28} {:<12} B: {}", "", "", d.b);
        }
    } else if !report.other.is_empty() {
        out!(
            "\n({} other fields differ; `--all` lists them)",
            report.other.len()
        );
    }
    out!(
        "\nverdict: {}\n  {}",
        format!("{:?}", report.verdict).to_lowercase(),
        report.explanation
    );
    Ok(ExitStatus::Success)
}

fn run_export(args: ExportArgs, ctx: &Context) -> Result<ExitStatus> {
    let card = load(&args.card)?;
    let default_name = match args.to {
        Target::Hf => "README.md",
        Target::Croissant => "croissant.json",
    };
    let target = args.output.map(|path| {
        if path.is_dir() || path.to_string_lossy().ends_with('/') {
            path.join(default_name)
        } else {
            path
        }
    });
    // Data file paths are written relative to where the export goes.
    let base = target.as_ref().map(|t| {
        t.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    });
    let bytes = match args.to {
        Target::Hf => export::hf::render_at(&card, base).into_bytes(),
        Target::Croissant => {
            let mut text =
                serde_json::to_string_pretty(&export::croissant::render_at(&card, base))?;
            text.push('\n');
            text.into_bytes()
        }
    };
    match target {
        None => {
            use std::io::Write;
            std::io::stdout().lock().write_all(&bytes)?;
        }
        Some(target) => {
            verity_card::write_atomic(&target, &bytes)?;
            ctx.note(format!("wrote {}", target.display()));
        }
    }
    Ok(ExitStatus::Success)
}
