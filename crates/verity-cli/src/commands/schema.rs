//! `verity schema [record|ledger|card]`: print a JSON Schema.

use crate::common::{print_json, Context, ExitStatus};
use anyhow::Result;
use clap::ValueEnum;

/// Which schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Which {
    /// One reasoning-data record (the JSONL wire format of every stage).
    Record,
    /// One ledger entry.
    Ledger,
    /// A release card (`verity card build` output).
    Card,
}

/// Arguments of `verity schema`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The schema to print.
    #[arg(value_enum, default_value_t = Which::Record)]
    pub which: Which,
}

/// The schema of `which`.
pub fn schema_of(which: Which) -> serde_json::Value {
    match which {
        Which::Record => verity_core::Record::json_schema(),
        Which::Ledger => {
            serde_json::to_value(schemars::schema_for!(verity_core::ledger::LedgerEntry))
                .unwrap_or(serde_json::Value::Null)
        }
        Which::Card => verity_card::card_json_schema(),
    }
}

/// Run `verity schema`.
pub fn run(args: Args, _ctx: &Context) -> Result<ExitStatus> {
    print_json(&schema_of(args.which))?;
    Ok(ExitStatus::Success)
}
