//! `--fail-on` gates: turn an outcome the user does not accept (an empty release, contaminated
//! records, too many rejected rows) into exit code 1.
//!
//! Commands that write data report what they wrote with [`observe`] (every ledger entry they
//! finish) or [`observe_run`] (a recipe run); `main` checks the gates against what was
//! observed once the command has succeeded.

use anyhow::{bail, Result};
use serde_json::Value;
use std::sync::Mutex;
use verity_core::ledger::LedgerEntry;

/// An outcome that fails the command (exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// The final output holds no rows.
    Empty,
    /// Any record matched a benchmark (flagged, dropped or refused at export).
    Contaminated,
    /// More than this many rows were rejected (by any stage, for any reason).
    RejectsOver(u64),
}

/// Parse `empty`, `contaminated` or `rejects>N`.
pub fn parse_gate(text: &str) -> std::result::Result<Gate, String> {
    let t = text.trim().replace(' ', "");
    match t.as_str() {
        "empty" => Ok(Gate::Empty),
        "contaminated" => Ok(Gate::Contaminated),
        _ => match t.strip_prefix("rejects>") {
            Some(n) => n
                .parse()
                .map(Gate::RejectsOver)
                .map_err(|_| format!("`{text}`: N in rejects>N must be a whole number")),
            None => Err(format!(
                "unknown gate `{text}`: use empty, contaminated or rejects>N (e.g. rejects>0)"
            )),
        },
    }
}

/// What the command wrote, summed over the ledger entries it finished.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Rows in the final output (the last entry's `rows_out`).
    pub rows_out: u64,
    /// Rows rejected, all stages and reasons.
    pub rejected: u64,
    /// Records found contaminated.
    pub contaminated: u64,
}

static OBSERVED: Mutex<Option<Outcome>> = Mutex::new(None);

/// Record a finished ledger entry of this command.
pub fn observe(entry: &LedgerEntry) {
    let Ok(mut slot) = OBSERVED.lock() else {
        return;
    };
    let outcome = slot.get_or_insert_with(Outcome::default);
    outcome.rows_out = entry.rows_out;
    outcome.rejected += entry.rejections.values().sum::<u64>();
    outcome.contaminated += contaminated(entry);
}

/// Record a recipe run: its ledger (this run's entries) and the rows it released.
pub fn observe_run(rows_out: u64, ledger: &std::path::Path) -> Result<()> {
    for entry in verity_core::ledger::read_ledger(ledger)? {
        observe(&entry);
    }
    if let Ok(mut slot) = OBSERVED.lock() {
        slot.get_or_insert_with(Outcome::default).rows_out = rows_out;
    }
    Ok(())
}

/// Records an entry found contaminated: the decontamination summary's count (flag or drop
/// mode), else rejections for contamination (a recipe's decontam stage, an export refusing
/// flagged rows).
fn contaminated(entry: &LedgerEntry) -> u64 {
    let summary = entry
        .summary
        .pointer("/decontam/contaminated_records")
        .or_else(|| entry.summary.pointer("/contaminated_records"))
        .and_then(Value::as_u64);
    summary.unwrap_or_else(|| {
        entry
            .rejections
            .iter()
            .filter(|(reason, _)| reason.contains("contaminated"))
            .map(|(_, n)| n)
            .sum()
    })
}

/// The gates that failed, one line each; an error when gates were given to a command that
/// writes no data.
pub fn check(gates: &[Gate]) -> Result<Vec<String>> {
    if gates.is_empty() {
        return Ok(Vec::new());
    }
    let Some(outcome) = OBSERVED.lock().ok().and_then(|o| *o) else {
        bail!("--fail-on applies to commands that write data (convert, verify, score, dedup, decontam, select, split, export, run); this command wrote none");
    };
    Ok(failures(gates, &outcome))
}

/// The failed gates for `outcome`.
pub fn failures(gates: &[Gate], outcome: &Outcome) -> Vec<String> {
    gates
        .iter()
        .filter_map(|gate| match *gate {
            Gate::Empty if outcome.rows_out == 0 => {
                Some("--fail-on empty: the output holds 0 rows".to_string())
            }
            Gate::Contaminated if outcome.contaminated > 0 => Some(format!(
                "--fail-on contaminated: {} record(s) matched a benchmark",
                outcome.contaminated
            )),
            Gate::RejectsOver(n) if outcome.rejected > n => Some(format!(
                "--fail-on rejects>{n}: {} row(s) were rejected",
                outcome.rejected
            )),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_parse_and_fail_on_their_outcome_only() {
        assert_eq!(parse_gate("empty"), Ok(Gate::Empty));
        assert_eq!(parse_gate("rejects > 10"), Ok(Gate::RejectsOver(10)));
        assert!(parse_gate("rejects>x").is_err());
        assert!(parse_gate("many").is_err());
        let gates = [Gate::Empty, Gate::Contaminated, Gate::RejectsOver(2)];
        let clean = Outcome {
            rows_out: 5,
            rejected: 2,
            contaminated: 0,
        };
        assert!(failures(&gates, &clean).is_empty());
        let bad = Outcome {
            rows_out: 0,
            rejected: 3,
            contaminated: 1,
        };
        assert_eq!(failures(&gates, &bad).len(), 3);
    }
}
