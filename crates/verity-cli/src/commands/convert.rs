//! `verity convert IN... -o OUT --to LAYOUT`: read any supported layout, write another.

use crate::common::{print_json, Context, ExitStatus, InputArgs};
use crate::output::{OutputArgs, Progress, StageOutput};
use anyhow::Result;
use serde_json::json;
use verity_core::layout;

/// Arguments of `verity convert`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// List the layouts verity reads and writes, and exit.
    #[arg(long)]
    pub list_layouts: bool,
}

/// Run `verity convert`.
pub fn run(args: Args, ctx: &Context) -> Result<ExitStatus> {
    if args.list_layouts {
        return list_layouts(ctx);
    }
    let mut source = args.input.open()?;
    let params = json!({
        "from": args.input.from,
        "to": args.output.to,
        "on_error": format!("{:?}", args.input.on_error).to_lowercase(),
        "drop_meta": args.output.drop_meta,
        "shard_size": args.output.shard_size,
    });
    let mut out = StageOutput::create("convert", params, &args.input, &source, &args.output)?;
    let progress = Progress::bytes(ctx, source.total_bytes(), "convert");
    source.set_progress(progress.counter());
    let encoder = out.encoder();
    let mut rows_in = 0u64;
    source.for_each(
        |batch| {
            let records = batch.records.len();
            (records, batch.rejects, encoder.encode_owned(batch.records))
        },
        |(records, rejects, encoded)| {
            rows_in += (records + rejects.len()) as u64;
            out.reject(&rejects)?;
            out.write(encoded)?;
            progress.tick(rows_in);
            Ok::<(), anyhow::Error>(())
        },
    )?;
    progress.finish();
    let result = out.finish(rows_in)?;
    let summary = json!({
        "rows_in": rows_in,
        "rows_out": result.entry.rows_out,
        "rejected": result.entry.rejections.values().sum::<u64>(),
        "outputs": result.outputs,
        "rejects": result.rejects,
        "ledger": result.ledger,
        "layouts_in": result.entry.summary["layouts_in"],
        "layout_out": result.entry.summary["layout_out"],
    });
    if ctx.json {
        print_json(&summary)?;
    } else if !ctx.quiet {
        eprintln!(
            "converted {} rows -> {} rows ({}) in {}",
            rows_in,
            result.entry.rows_out,
            summary["layout_out"].as_str().unwrap_or("?"),
            result
                .outputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        if let Some(rejects) = &result.rejects {
            eprintln!(
                "{} rows rejected (reasons in {})",
                summary["rejected"],
                rejects.display()
            );
        }
    }
    Ok(ExitStatus::Success)
}

fn list_layouts(ctx: &Context) -> Result<ExitStatus> {
    let layouts: Vec<_> = layout::all()
        .iter()
        .map(|l| json!({"name": l.name(), "description": l.description()}))
        .collect();
    if ctx.json {
        print_json(&json!(layouts))?;
    } else {
        for l in layout::all() {
            println!("{:<20} {}", l.name(), l.description());
        }
    }
    Ok(ExitStatus::Success)
}
