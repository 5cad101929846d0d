//! The recipe: a TOML file naming the inputs, the stages in order with their parameters, the
//! output directory and the export target.
//!
//! ```toml
//! [input]
//! paths = ["data/rollouts.jsonl"]   # relative to the recipe file
//! layout = "openr1"                 # optional: forced layout (default: detected per file)
//! on_error = "skip"                 # fail (default) | skip: bad rows go to rejects/00-read.jsonl
//!
//! [output]
//! dir = "out/rlvr"                  # relative to the recipe file; `verity run --out` overrides
//!
//! [[stage]]
//! stage = "verify"
//! verifier = "math"
//!
//! [[stage]]
//! stage = "export"
//! target = "verl"
//! format = "parquet"
//! ```
//!
//! Parsing is strict (`deny_unknown_fields` everywhere): an unknown stage is reported with the
//! list of stages, an unknown parameter with the list of that stage's parameters, both with the
//! line and column in the file. `docs/recipes.md` is the reference of every stage and parameter.
//!
//! Known failure modes: TOML has no `null`; leave a parameter out to get its default.

use crate::error::{Error, Result};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A parsed recipe.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// Free-text name (goes into the card and the report).
    #[serde(default)]
    pub name: Option<String>,
    /// Free-text description.
    #[serde(default)]
    pub description: Option<String>,
    /// Where the records come from.
    pub input: InputConfig,
    /// Where the results go.
    #[serde(default)]
    pub output: OutputConfig,
    /// The stages, in order.
    #[serde(default, rename = "stage")]
    pub stages: Vec<StageConfig>,
    /// Release card options.
    #[serde(default)]
    pub card: CardConfig,
    /// Directory of the recipe file (paths are relative to it); not part of the TOML.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// Path of the recipe file; not part of the TOML.
    #[serde(skip)]
    pub path: PathBuf,
}

/// `[input]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputConfig {
    /// Files or directories of shards, read as one dataset in this order.
    pub paths: Vec<PathBuf>,
    /// Forced layout name (see `verity convert --list-layouts`).
    #[serde(default)]
    pub layout: Option<String>,
    /// `fail` (default) or `skip` bad rows.
    #[serde(default)]
    pub on_error: OnErrorConfig,
    /// `[input.map]`: read the rows through a field mapping instead of a layout
    /// (docs/field-mapping.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<verity_core::layout::mapping::FieldMap>,
}

/// Bad-row policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnErrorConfig {
    /// Stop at the first bad row.
    #[default]
    Fail,
    /// Skip bad rows into the read rejects file.
    Skip,
}

/// `[output]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Output directory (default `out/<recipe file stem>`).
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// Cut data files into shards of about this many bytes.
    #[serde(default)]
    pub shard_bytes: Option<u64>,
    /// Write the HTML report (default true).
    #[serde(default = "yes")]
    pub report: bool,
    /// Build the release card (default true).
    #[serde(default = "yes")]
    pub card: bool,
}

fn yes() -> bool {
    true
}

/// `[card]`: declared facts merged into the release card.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardConfig {
    /// A declared-facts TOML file (see `docs/card.md`), relative to the recipe.
    #[serde(default)]
    pub declared: Option<PathBuf>,
}

/// One `[[stage]]`: the `stage` key names the kind, the other keys are its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum StageConfig {
    /// Unicode NFC, whitespace, chat-template junk, empty-record rejection.
    Normalize(NormalizeConfig),
    /// Fill verifier feedback on every attempt.
    Verify(VerifyConfig),
    /// Utility signals: tokens, truncation, repetition, pass rate, pass@k, band.
    Score(ScoreConfig),
    /// Exact and MinHash near-duplicate removal (first pass).
    Dedup(DedupStageConfig),
    /// Benchmark decontamination.
    #[serde(alias = "decontaminate")]
    Decontam(DecontamStageConfig),
    /// Filters, bands, quotas, top-k, diversity, s1K-style selection.
    Select(SelectConfig),
    /// Preference pairs (chosen = passing, rejected = failing attempt) from rollout sets.
    Pairs(PairsConfig),
    /// Grouped deterministic train/validation/test splits (first pass).
    Split(SplitConfig),
    /// The trainer format of the data files (last stage).
    Export(crate::export::ExportConfig),
    /// Sample attempts from an OpenAI-compatible server, cached (verity-gen).
    Generate(verity_gen::config::GenerateConfig),
    /// Grade attempts with an LLM judge against a rubric (verity-gen).
    Judge(verity_gen::judge::JudgeConfig),
    /// Math-Shepherd step labels from completions of each step prefix (verity-gen).
    StepLabel(verity_gen::steps::StepLabelConfig),
}

impl StageConfig {
    /// The stage name.
    pub fn name(&self) -> &'static str {
        match self {
            StageConfig::Normalize(_) => "normalize",
            StageConfig::Verify(_) => "verify",
            StageConfig::Score(_) => "score",
            StageConfig::Dedup(_) => "dedup",
            StageConfig::Decontam(_) => "decontam",
            StageConfig::Select(_) => "select",
            StageConfig::Pairs(_) => "pairs",
            StageConfig::Split(_) => "split",
            StageConfig::Export(_) => "export",
            StageConfig::Generate(_) => "generate",
            StageConfig::Judge(_) => "judge",
            StageConfig::StepLabel(_) => "step_label",
        }
    }
}

/// `stage = "normalize"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NormalizeConfig {
    /// Unicode NFC on every text field.
    #[serde(default = "yes")]
    pub nfc: bool,
    /// Trim, unify line endings, collapse runs of 3+ newlines and trailing spaces.
    #[serde(default = "yes")]
    pub whitespace: bool,
    /// Strip leftover chat-template tokens (`<|im_start|>`, `<|eot_id|>`, `[INST]`, ...).
    #[serde(default = "yes")]
    pub strip_template: bool,
    /// Reject records whose problem is empty.
    #[serde(default = "yes")]
    pub drop_empty: bool,
}

/// `stage = "verify"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyConfig {
    /// `math`, `exact`, `choice`, `regex`, `code` or `command`.
    pub verifier: String,
    /// math: relative tolerance of decimal approximations.
    #[serde(default)]
    pub rel_tol: Option<f64>,
    /// math: `either` (default), `fraction` or `number`.
    #[serde(default)]
    pub percent: Option<String>,
    /// math: compare bare lists as sets.
    #[serde(default)]
    pub unordered_lists: bool,
    /// math/exact/choice: fall back to the last number when no answer marker is found.
    #[serde(default = "yes")]
    pub last_number: bool,
    /// regex: the pattern (answer = group `answer` or group 1).
    #[serde(default)]
    pub pattern: Option<String>,
    /// regex: compare with math equivalence.
    #[serde(default)]
    pub regex_math: bool,
    /// choice: option letters.
    #[serde(default)]
    pub letters: Option<String>,
    /// exact: case-sensitive comparison.
    #[serde(default)]
    pub case_sensitive: bool,
    /// command: the checker and its arguments.
    #[serde(default)]
    pub command: Vec<String>,
    /// code/command: time limit per run in seconds.
    #[serde(default)]
    pub timeout_s: Option<f64>,
    /// What to drop: `none` (default: annotate only), `no_pass` (records where no attempt
    /// passed), `failed_attempts` (drop attempts that did not pass; records left without
    /// attempts are rejected).
    #[serde(default)]
    pub drop: VerifyDrop,
    /// Also verify the reference solution against the reference answer (as an attempt with
    /// role `reference`; a failing one marks a mislabelled item).
    #[serde(default)]
    pub reference: bool,
}

/// What the verify stage removes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerifyDrop {
    /// Keep everything (feedback only).
    #[default]
    None,
    /// Reject records with no passing attempt.
    NoPass,
    /// Remove attempts that did not pass; reject records left without attempts.
    FailedAttempts,
}

/// `stage = "score"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreConfig {
    /// Tokenizer (`cl100k_base`, `o200k_base`, `whitespace`, or `none`).
    #[serde(default)]
    pub tokenizer: Option<String>,
    /// k values of pass@k.
    #[serde(default)]
    pub ks: Option<Vec<u64>>,
    /// Which verifier's verdicts count (default: the latest answer-level verdict).
    #[serde(default)]
    pub verifier: Option<String>,
}

/// `stage = "dedup"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DedupStageConfig {
    /// `exact`, `near` or `both` (default).
    #[serde(default)]
    pub mode: Option<String>,
    /// `problem`, `problem_answer`, `trace` (default) or `record`.
    #[serde(default)]
    pub view: Option<String>,
    /// Jaccard threshold (default 0.7).
    #[serde(default)]
    pub threshold: Option<f64>,
    /// MinHash bins (default 128).
    #[serde(default)]
    pub num_perm: Option<usize>,
    /// Keep policy: `first` (default), `longest`, `passing`, `highest-score`.
    #[serde(default)]
    pub keep: Option<String>,
    /// Verify candidates with exact Jaccard (more memory).
    #[serde(default)]
    pub verify_jaccard: bool,
    /// Link near duplicates even when their reference answers differ (default false).
    #[serde(default)]
    pub ignore_answers: bool,
}

/// `stage = "decontam"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecontamStageConfig {
    /// Benchmarks: `builtin:all`, `builtin:math500,aime24`, or files (relative to the recipe).
    pub against: Vec<String>,
    /// Word n-gram length (default 13).
    #[serde(default)]
    pub ngram: Option<usize>,
    /// Run the short/fuzzy problem matchers (default true).
    #[serde(default = "yes")]
    pub short_matcher: bool,
    /// Fuzzy threshold (default 0.8).
    #[serde(default)]
    pub fuzzy_threshold: Option<f64>,
    /// Minimum fraction of a benchmark item's words covered by shared n-grams (default 0.5;
    /// 0 = any shared n-gram).
    #[serde(default)]
    pub min_coverage: Option<f64>,
    /// Which texts are checked: `problem` and/or `trace` (default both).
    #[serde(default)]
    pub fields: Option<Vec<String>>,
    /// `drop` (default) or `flag` (keep, with `signals.contamination`).
    #[serde(default)]
    pub action: Option<String>,
}

/// `stage = "select"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SelectConfig {
    /// Expression filters, applied in order (the expression language of `docs/signals.md`).
    #[serde(default, rename = "where")]
    pub filters: Vec<String>,
    /// Keep only these pass-rate bands.
    #[serde(default)]
    pub keep_bands: Option<Vec<String>>,
    /// At most `max` records per key.
    #[serde(default)]
    pub quota: Option<QuotaConfig>,
    /// The `k` best by a score expression.
    #[serde(default)]
    pub top_k: Option<TopKConfig>,
    /// Spread `n` records over keys.
    #[serde(default)]
    pub diversity: Option<DiversityConfig>,
    /// The s1K-style staged recipe with this many records (quality -> difficulty -> diversity).
    #[serde(default)]
    pub s1k: Option<usize>,
    /// Seed of ties and samples.
    #[serde(default)]
    pub seed: u64,
}

/// `quota = { by = "source", max = 100 }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotaConfig {
    /// `source`, `domain` or `field:PATH`.
    pub by: String,
    /// Maximum per key.
    pub max: u64,
}

/// `top_k = { score = "1 - pass_rate", k = 1000 }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TopKConfig {
    /// Score expression.
    pub score: String,
    /// How many.
    pub k: usize,
}

/// `diversity = { by = "domain", n = 1000 }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiversityConfig {
    /// `source`, `domain`, `cluster` or `field:PATH`.
    pub by: String,
    /// How many.
    pub n: usize,
}

/// `stage = "pairs"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PairsConfig {
    /// Pairs per task (default 1).
    #[serde(default)]
    pub max_pairs: Option<usize>,
    /// Which verifier's verdicts count.
    #[serde(default)]
    pub verifier: Option<String>,
    /// Seed of the attempt order.
    #[serde(default)]
    pub seed: u64,
}

/// `stage = "split"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitConfig {
    /// Split names (default train, test).
    #[serde(default)]
    pub names: Option<Vec<String>>,
    /// Ratios `0.9,0.1` or counts `1000,100`.
    pub sizes: String,
    /// Seed.
    #[serde(default)]
    pub seed: u64,
    /// Join near-duplicate problems into one group (default true).
    #[serde(default = "yes")]
    pub near_dup: bool,
}

impl Recipe {
    /// Parse a recipe file.
    pub fn load(path: &Path) -> Result<Recipe> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut recipe = Recipe::parse(&text, &path.display().to_string())?;
        recipe.base_dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        recipe.path = path.to_path_buf();
        Ok(recipe)
    }

    /// Parse recipe text (`origin` names it in errors); paths stay relative to `.`.
    pub fn parse(text: &str, origin: &str) -> Result<Recipe> {
        let mut recipe: Recipe = toml::from_str(text).map_err(|e| Error::Recipe {
            path: origin.to_string(),
            message: crate::stage_lines::locate(text)
                .map(explain)
                .unwrap_or_else(|| explain(e.to_string())),
        })?;
        recipe.base_dir = PathBuf::from(".");
        recipe.path = PathBuf::from(origin);
        recipe.validate(origin)?;
        Ok(recipe)
    }

    fn validate(&self, origin: &str) -> Result<()> {
        let err = |message: String| Error::Recipe {
            path: origin.to_string(),
            message,
        };
        if self.input.paths.is_empty() {
            return Err(err(
                "[input] paths is empty: name at least one file or directory".into(),
            ));
        }
        if let Some(layout) = &self.input.layout {
            if verity_core::layout::by_name(layout).is_none() {
                let known: Vec<&str> = verity_core::layout::all()
                    .iter()
                    .map(|l| l.name())
                    .collect();
                return Err(err(format!(
                    "[input] layout `{layout}` does not exist (known: {})",
                    known.join(", ")
                )));
            }
        }
        for (i, stage) in self.stages.iter().enumerate() {
            if matches!(stage, StageConfig::Export(_)) && i + 1 != self.stages.len() {
                return Err(err(format!(
                    "stage {} (`export`) must be the last stage ({} stages follow it)",
                    i + 1,
                    self.stages.len() - i - 1
                )));
            }
        }
        Ok(())
    }

    /// A path from the recipe, resolved against the recipe's directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            clean_path(&self.base_dir.join(path))
        }
    }

    /// The input paths, resolved.
    pub fn input_paths(&self) -> Vec<PathBuf> {
        self.input.paths.iter().map(|p| self.resolve(p)).collect()
    }

    /// The output directory, resolved (default `out/<recipe stem>` next to the recipe).
    pub fn output_dir(&self) -> PathBuf {
        match &self.output.dir {
            Some(dir) => self.resolve(dir),
            None => {
                let stem = self
                    .path
                    .file_stem()
                    .map(|s| s.to_string_lossy().to_string())
                    .unwrap_or_else(|| "run".into());
                clean_path(&self.base_dir.join("out").join(stem))
            }
        }
    }

    /// The export stage, if any.
    pub fn export(&self) -> Option<&crate::export::ExportConfig> {
        match self.stages.last() {
            Some(StageConfig::Export(e)) => Some(e),
            _ => None,
        }
    }

    /// The display name.
    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            self.path
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_else(|| "recipe".into())
        })
    }
}

/// Remove `.` and `name/..` components lexically (`recipes/../out` -> `out`).
pub fn clean_path(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) => {}
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// Add the list of stages to serde's "unknown variant" message (it already lists them, but
/// says "variant", which means nothing to a recipe author).
fn explain(message: String) -> String {
    let message = message.replace("unknown variant", "unknown stage");
    if message.contains("missing field `stage`") {
        return format!(
            "{message}\nevery [[stage]] needs `stage = \"NAME\"`, one of: {}",
            crate::registry::names().join(", ")
        );
    }
    message
}
