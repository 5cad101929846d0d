//! Verifier agreement on the card: a ledger entry of `verity agree --ledger` becomes a measured
//! `verification.agreement` entry and a measured line in `verification.failure_modes` (which
//! otherwise can only be declared).
//!
//! Known failure modes: agreement is not correctness; two verifiers with the same blind spot
//! agree on it. The line states the counts, not which verifier was wrong.

use crate::model::{Card, Fact, VerifierAgreement};
use serde_json::Value;
use verity_core::ledger::LedgerEntry;

/// The ledger stage name `verity agree` writes.
pub const AGREE_STAGE: &str = "agree";

/// Read the agreement of an `agree` ledger entry (`summary.agreement`, as written by
/// `verity_score::agree::Agreement::to_json`).
pub fn parse(entry: &LedgerEntry) -> Option<(VerifierAgreement, String)> {
    let a = entry.summary.get("agreement")?;
    let count = |key: &str| a["confusion"][key].as_u64();
    let agreement = VerifierAgreement {
        a: a["a"].as_str()?.to_string(),
        b: a["b"].as_str()?.to_string(),
        compared: a["compared"].as_u64()?,
        both_pass: count("both_pass")?,
        a_pass_b_fail: count("a_pass_b_fail")?,
        a_fail_b_pass: count("a_fail_b_pass")?,
        both_fail: count("both_fail")?,
        agreement_rate: a["agreement_rate"].as_f64(),
        kappa: a["kappa"].as_f64(),
    };
    let line = entry
        .summary
        .get("failure_mode")
        .and_then(Value::as_str)?
        .to_string();
    Some((agreement, line))
}

/// Put the agreement measured by `entry` on the card (no-op for other stages).
pub fn apply(card: &mut Card, entry: &LedgerEntry, evidence: &str) {
    if entry.stage != AGREE_STAGE {
        return;
    }
    let Some((agreement, line)) = parse(entry) else {
        return;
    };
    let v = &mut card.verification;
    let mut list = v.agreement.value().cloned().unwrap_or_default();
    list.retain(|x| !(x.a == agreement.a && x.b == agreement.b));
    list.push(agreement);
    v.agreement = Fact::measured(list, evidence);
    let mut modes = v.failure_modes.value().cloned().unwrap_or_default();
    if !modes.contains(&line) {
        modes.push(line);
    }
    v.failure_modes = Fact::measured(modes, evidence);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Provenance;
    use serde_json::json;

    fn entry() -> LedgerEntry {
        let mut e = LedgerEntry::start(AGREE_STAGE, json!({"a": "math", "b": "score"}));
        e.summarize(
            "agreement",
            json!({"a": "math", "b": "score", "compared": 800,
                   "confusion": {"both_pass": 500, "a_pass_b_fail": 1, "a_fail_b_pass": 0, "both_fail": 299},
                   "agreement_rate": 0.99875, "kappa": 0.997}),
        );
        e.summarize(
            "failure_mode",
            json!("measured: `math` and `score` disagree on 1 of 800 attempts"),
        );
        e
    }

    #[test]
    fn an_agree_entry_becomes_a_measured_fact() {
        let mut card = Card::default();
        apply(&mut card, &entry(), "ledger.jsonl#3");
        apply(&mut card, &entry(), "ledger.jsonl#3");
        let list = card.verification.agreement.value().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].a_pass_b_fail, 1);
        assert!(matches!(
            card.verification.failure_modes,
            Fact::Value {
                provenance: Provenance::Measured,
                ..
            }
        ));
        assert_eq!(card.verification.failure_modes.value().unwrap().len(), 1);
    }

    #[test]
    fn other_stages_and_bad_summaries_change_nothing() {
        let mut card = Card::default();
        let other = LedgerEntry::start("verify", json!({}));
        apply(&mut card, &other, "x");
        let bad = LedgerEntry::start(AGREE_STAGE, json!({}));
        apply(&mut card, &bad, "x");
        assert!(!card.verification.agreement.is_known());
    }
}
