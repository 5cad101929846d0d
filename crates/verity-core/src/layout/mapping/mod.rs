//! Field mapping: read rows of any shape by naming which field holds which part of a record
//! ([`FieldMap`], `--map` and `[input.map]`), and the built-in layouts that are plain mappings
//! (`alpaca`, `qa`, `grader_cases`, `swe_bench_preds`, `toolbench_query`).

mod mapped;
mod presets;
mod propose;
mod spec;

pub use mapped::Mapping;
pub use presets::{Alpaca, GraderCases, Qa, SweBenchPreds, ToolBenchQuery};
pub use propose::propose;
pub use spec::{missing_field, FieldMap, TARGETS};

use crate::error::{Error, Result};
use crate::io::InputFile;

/// Check `map` against the first rows of every input: a mapped field that occurs in none of
/// them is an error naming the file, the field, its target and the fields the file has.
pub fn check_inputs(map: &FieldMap, inputs: &[InputFile]) -> Result<()> {
    for input in inputs {
        let rows = crate::stream::sample_rows(input, 64)?;
        map.check_rows(&rows).map_err(|e| {
            Error::Other(format!(
                "{}: the field mapping names field `{}` {}",
                input.path.display(),
                e.field,
                e.reason
            ))
        })?;
    }
    Ok(())
}
