//! Layout adapters: the published shapes of reasoning datasets, read into [`Record`]s and
//! written back.
//!
//! Each adapter is one file implementing [`Layout`]. Reading moves the fields the adapter
//! understands into the record and keeps every other field verbatim in `record.meta`;
//! writing rebuilds the row from the record and merges `meta` back, so converting
//! `A -> record -> A` reproduces the input rows (same JSON values). The mapped input fields are
//! remembered in `record.lineage.fields` so optional fields come back only when they were there.
//!
//! Detection ([`detect`]) scores every adapter on the first rows of a file and picks the best;
//! `--from NAME` overrides it.

mod bbh;
mod chat_util;
mod code_contests;
mod dpo;
mod fields;
mod flat;
mod grades;
mod gsm8k;
mod gsm8k_solutions;
mod hh_rlhf;
mod humaneval;
pub mod mapping;
mod math;
mod math_aps;
mod math_shepherd;
mod mbpp;
mod messages;
mod mr_gsm8k;
mod native;
mod openr1;
mod prm800k;
mod prm_stepwise;
mod prompt_completion;
mod qwen_eval;
mod s1k;
mod sharegpt;
mod sharegpt_dpo;
mod swe_agent;
mod tau_bench;
mod toolbench;
mod verl;

pub use fields::*;

use crate::error::{FieldError, MISSING};
use crate::record::{Fields, Record};
use serde_json::Value;

/// Context of one row, for ids and lineage.
#[derive(Debug, Clone, Copy)]
pub struct RowContext<'a> {
    /// The input file.
    pub file: &'a str,
    /// Dataset name derived from the file (stem without extensions).
    pub dataset: &'a str,
    /// Row index (1-based line for JSONL, 0-based item for arrays/Parquet).
    pub row: u64,
}

/// A published dataset shape.
pub trait Layout: Send + Sync {
    /// Short name used by `--from` / `--to` (`gsm8k`, `sharegpt`, ...).
    fn name(&self) -> &'static str;

    /// One line for `--list-layouts`.
    fn description(&self) -> &'static str;

    /// How sure the adapter is that `row` is in its layout: 0 (not at all) to 100 (certain).
    fn detect(&self, row: &Fields) -> u8;

    /// Read a row into a record, moving mapped fields and keeping the rest in `meta`.
    fn to_record(&self, row: Fields, ctx: &RowContext) -> Result<Record, FieldError>;

    /// Write a record as a row of this layout (before `meta` is merged back).
    #[allow(clippy::wrong_self_convention)]
    fn from_record(&self, record: &Record) -> Result<Fields, FieldError>;

    /// [`Layout::from_record`] for a record that is not used afterwards: an adapter may move its
    /// texts out instead of copying them, leaving `meta`, `lineage` and feedback in place (the
    /// caller still reads them). The default copies.
    fn take_row(&self, record: &mut Record) -> Result<Fields, FieldError> {
        self.from_record(record)
    }

    /// Whether [`write_row`] merges `record.meta` into the row (false for layouts that carry
    /// `meta` themselves, like verity's own).
    fn merges_meta(&self) -> bool {
        true
    }
}

/// Every built-in layout, in detection-priority order for ties.
pub fn all() -> &'static [&'static dyn Layout] {
    static ALL: &[&dyn Layout] = &[
        &native::Native,
        &gsm8k::Gsm8k,
        &math::Math,
        &flat::Flat,
        &sharegpt::ShareGpt,
        &sharegpt_dpo::ShareGptDpo,
        &messages::Messages,
        &prompt_completion::PromptCompletion,
        &dpo::Dpo,
        &hh_rlhf::HhRlhf,
        &swe_agent::SweAgent,
        &tau_bench::TauBench,
        &toolbench::ToolBench,
        &openr1::OpenR1,
        &qwen_eval::QwenEval,
        &gsm8k_solutions::Gsm8kSolutions,
        &bbh::Bbh,
        &prm800k::Prm800k,
        &math_shepherd::MathShepherd,
        &prm_stepwise::PrmStepwise,
        &math_aps::MathAps,
        &verl::Verl,
        &mr_gsm8k::MrGsm8k,
        &humaneval::HumanEval,
        &mbpp::Mbpp,
        &code_contests::CodeContests,
        &s1k::S1k,
        &mapping::Alpaca,
        &mapping::Qa,
        &mapping::GraderCases,
        &mapping::SweBenchPreds,
        &mapping::ToolBenchQuery,
    ];
    ALL
}

/// The layout called `name`.
pub fn by_name(name: &str) -> Option<&'static dyn Layout> {
    all().iter().copied().find(|l| l.name() == name)
}

/// Pick the layout that best explains `rows` (the first rows of a file). Returns `None` when no
/// adapter scores above zero on the majority of rows.
pub fn detect(rows: &[Fields]) -> Option<&'static dyn Layout> {
    if rows.is_empty() {
        return None;
    }
    let mut best: Option<(&'static dyn Layout, u64)> = None;
    for layout in all() {
        let mut total = 0u64;
        let mut hits = 0usize;
        for row in rows {
            let score = layout.detect(row);
            if score > 0 {
                hits += 1;
            }
            total += u64::from(score);
        }
        if hits * 2 < rows.len() || total == 0 {
            continue;
        }
        if best.is_none_or(|(_, b)| total > b) {
            best = Some((*layout, total));
        }
    }
    best.map(|(layout, _)| layout)
}

/// Read a row with `layout`, then fill the lineage (layout, file, row) and a default id.
pub fn read_row(layout: &dyn Layout, row: Fields, ctx: &RowContext) -> Result<Record, FieldError> {
    let id = pick_id(&row, ctx);
    // Keys holding null, named when a required field is reported missing (a null is present
    // in the input, just not a value). Collected only for rows that have nulls.
    let nulls: Vec<String> = if row.values().any(Value::is_null) {
        row.iter()
            .filter(|(_, v)| v.is_null())
            .map(|(k, _)| k.clone())
            .collect()
    } else {
        Vec::new()
    };
    let mut record = layout
        .to_record(row, ctx)
        .map_err(|e| explain_nulls(e, &nulls))?;
    if record.id.is_empty() {
        record.id = id;
    }
    if record.lineage.layout.is_none() {
        record.lineage.layout = Some(layout.name().to_string());
    }
    if record.lineage.file.is_none() {
        record.lineage.file = Some(ctx.file.to_string());
    }
    if record.lineage.row.is_none() {
        record.lineage.row = Some(ctx.row);
    }
    Ok(record)
}

/// A "missing" field error for a row that holds nulls: say which keys are null, so `null` is
/// not reported as an absent key.
fn explain_nulls(mut error: FieldError, nulls: &[String]) -> FieldError {
    if nulls.is_empty() || !error.reason.starts_with(MISSING) {
        return error;
    }
    let keys = nulls
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    error.reason = format!(
        "no value (required by this layout): the row has null in {keys}, and null is not a value"
    );
    error
}

/// Write a record in `layout`, merging `meta` back. For a record read with the same layout,
/// `meta` values win (they hold the exact input values); for another layout, fields the layout
/// wrote win and `meta` only adds new keys. With `keep_meta = false`, `meta` is dropped.
pub fn write_row(
    layout: &dyn Layout,
    record: &Record,
    keep_meta: bool,
) -> Result<Value, FieldError> {
    let row = layout.from_record(record)?;
    Ok(Value::Object(merge_meta(layout, record, row, keep_meta)))
}

/// The `meta` merge and key order of [`write_row`], applied to the row the layout wrote.
fn merge_meta(layout: &dyn Layout, record: &Record, mut row: Fields, keep_meta: bool) -> Fields {
    if !layout.merges_meta() {
        return row;
    }
    if keep_meta && !record.meta.is_empty() {
        let same_layout = record.lineage.layout.as_deref() == Some(layout.name());
        for (key, value) in &record.meta {
            if same_layout || !row.contains_key(key) {
                row.insert(key.clone(), value.clone());
            }
        }
    }
    if record.lineage.layout.as_deref() == Some(layout.name()) {
        row = restore_order(row, &record.lineage.fields, &record.meta);
    }
    row
}

/// Rows with more keys than this are encoded through [`write_row`] (the key lookups below are
/// linear scans, quicker than hashing for the few keys of a real row).
const ENCODE_ROW_MAX_KEYS: usize = 48;

/// Append the JSON text of the row [`write_row`] would return to `out`, without building it:
/// `meta` values are borrowed instead of cloned and the key order is worked out on references
/// (the same order, key for key). The streaming writers call this once per output row.
pub fn encode_row(
    layout: &dyn Layout,
    record: &Record,
    keep_meta: bool,
    out: &mut Vec<u8>,
) -> Result<(), FieldError> {
    let row = layout.from_record(record)?;
    encode_fields(layout, record, row, keep_meta, out)
}

/// [`encode_row`] for a record that is dropped afterwards: the layout may move texts out of it
/// ([`Layout::take_row`]) instead of copying them. The same text as [`encode_row`].
pub fn encode_taken_row(
    layout: &dyn Layout,
    record: &mut Record,
    keep_meta: bool,
    out: &mut Vec<u8>,
) -> Result<(), FieldError> {
    let row = layout.take_row(record)?;
    encode_fields(layout, record, row, keep_meta, out)
}

fn encode_fields(
    layout: &dyn Layout,
    record: &Record,
    row: Fields,
    keep_meta: bool,
    out: &mut Vec<u8>,
) -> Result<(), FieldError> {
    let serialize = |out: &mut Vec<u8>, value: &dyn erased::Row| {
        value
            .write(out)
            .map_err(|e| FieldError::new("row", e.to_string()))
    };
    let merge = layout.merges_meta() && keep_meta;
    if !layout.merges_meta()
        || row.len() > ENCODE_ROW_MAX_KEYS
        || (merge && record.meta.len() > ENCODE_ROW_MAX_KEYS)
    {
        let row = merge_meta(layout, record, row, keep_meta);
        return serialize(out, &Value::Object(row));
    }
    let same_layout = record.lineage.layout.as_deref() == Some(layout.name());
    let mut entries: Vec<(&str, &Value)> = row.iter().map(|(k, v)| (k.as_str(), v)).collect();
    if merge {
        for (key, value) in &record.meta {
            match entries.iter().position(|(k, _)| *k == key) {
                Some(i) if same_layout => entries[i].1 = value,
                Some(_) => {}
                None => entries.push((key, value)),
            }
        }
    }
    if same_layout && !record.lineage.fields.is_empty() {
        // `restore_order`: mapped fields in input order, then meta keys, then the rest in the
        // order `swap_remove` leaves them.
        let mut ordered = Vec::with_capacity(entries.len());
        let keys = record.lineage.fields.iter().chain(record.meta.keys());
        for key in keys {
            if let Some(i) = entries.iter().position(|(k, _)| *k == key) {
                ordered.push(entries.swap_remove(i));
            }
        }
        ordered.append(&mut entries);
        entries = ordered;
    }
    serialize(out, &erased::Entries(&entries))
}

/// What [`encode_row`] serializes: a whole value or borrowed key/value pairs.
mod erased {
    use serde::ser::{Serialize, SerializeMap, Serializer};
    use serde_json::Value;

    pub trait Row {
        fn write(&self, out: &mut Vec<u8>) -> sonic_rs::Result<()>;
    }

    impl Row for Value {
        fn write(&self, out: &mut Vec<u8>) -> sonic_rs::Result<()> {
            sonic_rs::to_writer(out, self)
        }
    }

    /// A JSON object given as ordered borrowed entries.
    pub struct Entries<'a>(pub &'a [(&'a str, &'a Value)]);

    impl Serialize for Entries<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(Some(self.0.len()))?;
            for (key, value) in self.0 {
                map.serialize_entry(key, value)?;
            }
            map.end()
        }
    }

    impl Row for Entries<'_> {
        fn write(&self, out: &mut Vec<u8>) -> sonic_rs::Result<()> {
            sonic_rs::to_writer(out, self)
        }
    }
}

/// Reorder `row` so mapped fields come in their input order, interleaved with meta keys as far
/// as that order is known (mapped fields first, in `fields` order, then the rest in place).
fn restore_order(mut row: Fields, order: &[String], meta: &Fields) -> Fields {
    if order.is_empty() {
        return row;
    }
    let mut out = Fields::new();
    for key in order {
        if let Some(value) = row.remove(key) {
            out.insert(key.clone(), value);
        }
    }
    for key in meta.keys() {
        if let Some(value) = row.remove(key) {
            out.insert(key.clone(), value);
        }
    }
    out.extend(row);
    out
}
