//! Adapters of the construction stages (verity-gen) to pipeline stages: `generate`, `judge`
//! and `step_label`.
//!
//! Each talks to an OpenAI-compatible server through a request cache. The cache is the
//! stage's `endpoint.cache` (relative to the recipe) or `.verity/generate-cache.sqlite` next to
//! the recipe; the three stages may share one file (keys never collide: they include the
//! model and the whole request). `step_label` checks completions with a `math` (default),
//! `exact` or `choice` verifier built here.

use crate::error::{Error, Result};
use crate::recipe::StageConfig;
use std::path::Path;
use std::sync::Arc;
use verity_core::stage::Stage;
use verity_core::verify::Verifier;

/// The default cache file of a recipe in `base_dir`.
pub fn default_cache(base_dir: &Path) -> std::path::PathBuf {
    base_dir.join(".verity").join("generate-cache.sqlite")
}

fn err(index: usize, stage: &str, e: impl std::fmt::Display) -> Error {
    Error::Stage {
        index,
        stage: stage.to_string(),
        message: e.to_string(),
    }
}

/// The verifier `step_label` checks completions with.
fn completion_verifier(index: usize, name: &str) -> Result<Arc<dyn Verifier>> {
    let extract = verity_math::ExtractOptions::default();
    Ok(match name {
        "math" => Arc::new(verity_math::MathVerifier::new(verity_math::MathOptions {
            extract,
            equiv: verity_math::EquivOptions::default(),
        })),
        "exact" => Arc::new(verity_math::simple::ExactVerifier::new(extract, false)),
        "choice" => Arc::new(verity_math::simple::ChoiceVerifier::new(
            "ABCDEFGHIJ",
            extract,
        )),
        other => {
            return Err(err(
                index,
                "step_label",
                format!("verifier `{other}`: expected math, exact or choice"),
            ))
        }
    })
}

/// Build a construction stage (`config` must be one of them).
pub fn build(index: usize, config: &StageConfig, base_dir: &Path) -> Result<Box<dyn Stage>> {
    let cache = default_cache(base_dir);
    Ok(match config {
        StageConfig::Generate(c) => Box::new(
            verity_gen::stage::GenerateStage::new(c, base_dir, &cache)
                .map_err(|e| err(index, "generate", e))?,
        ),
        StageConfig::Judge(c) => Box::new(
            verity_gen::judge::JudgeStage::new(c, base_dir, &cache)
                .map_err(|e| err(index, "judge", e))?,
        ),
        StageConfig::StepLabel(c) => {
            let verifier = completion_verifier(index, &c.verifier)?;
            Box::new(
                verity_gen::steps::StepLabelStage::new(c, verifier, base_dir, &cache)
                    .map_err(|e| err(index, "step_label", e))?,
            )
        }
        other => {
            return Err(err(
                index,
                other.name(),
                "internal: not a construction stage",
            ))
        }
    })
}
