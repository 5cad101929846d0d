//! Feedback: a verdict with the identity of the verifier that produced it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who decides correctness (the verification contract).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Contract {
    /// A program decides (answer checker, unit tests, proof checker).
    Programmatic,
    /// An environment's terminal predicate decides.
    Environmental,
    /// A judge (human, rubric, LLM) decides.
    JudgmentRequired,
    /// A stack of the above.
    Mixed,
    /// Not disclosed.
    Unknown,
}

/// What unit a verdict applies to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// The final answer.
    Answer,
    /// One step of a trace.
    Step,
    /// One state-action transition.
    StateAction,
    /// A whole episode / trajectory.
    Episode,
    /// A chosen-vs-rejected comparison.
    Pairwise,
    /// A scalar reward.
    Scalar,
    /// Process reward over the whole trace.
    Process,
    /// Value of a state (Monte-Carlo rollout values).
    TrajectoryValue,
}

/// The identity of a verifier: name, version and contract. Goes into every feedback.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct VerifierId {
    /// `math`, `code`, `exact`, ... or, for imported grades, the column they came from.
    pub name: String,
    /// Version of the verifier (semver for verity's own; `unknown` for imported).
    pub version: String,
    /// Verification contract.
    pub contract: Contract,
    /// True when the verdict arrived with the data (an imported grade column), not computed by verity.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub imported: bool,
}

impl VerifierId {
    /// Identity of one of verity's own verifiers.
    pub fn new(name: impl Into<String>, version: impl Into<String>, contract: Contract) -> Self {
        VerifierId {
            name: name.into(),
            version: version.into(),
            contract,
            imported: false,
        }
    }

    /// Identity of a grade that arrived with the data in column `column`.
    pub fn imported(column: impl Into<String>, contract: Contract) -> Self {
        VerifierId {
            name: column.into(),
            version: "unknown".to_string(),
            contract,
            imported: true,
        }
    }

    /// `name@version`.
    pub fn label(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

/// The outcome of one verification.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Correct / accepted.
    Pass,
    /// Wrong / rejected.
    Fail,
    /// A scalar score (see `score`).
    Score,
    /// A categorical label (see `label`).
    Label,
    /// The verifier could not decide (see `detail` for the reason).
    Unknown,
}

/// One piece of feedback on an attempt (or on one step of it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Feedback {
    /// Who produced it.
    pub verifier: VerifierId,
    /// What it applies to.
    pub granularity: Granularity,
    /// The verdict.
    pub verdict: Verdict,
    /// Scalar score (reward, pass fraction, rating).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Categorical label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Step index (0-based) for step-level feedback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    /// Verifier-specific detail (extracted answers, rule used, per-test results, reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Value>,
}

impl Feedback {
    /// Feedback with a verdict and nothing else.
    pub fn new(verifier: VerifierId, granularity: Granularity, verdict: Verdict) -> Self {
        Feedback {
            verifier,
            granularity,
            verdict,
            score: None,
            label: None,
            step: None,
            detail: None,
        }
    }

    /// Pass/fail feedback from a boolean.
    pub fn from_bool(verifier: VerifierId, granularity: Granularity, passed: bool) -> Self {
        let verdict = if passed { Verdict::Pass } else { Verdict::Fail };
        Feedback::new(verifier, granularity, verdict)
    }

    /// Builder: set the detail.
    pub fn with_detail(mut self, detail: Value) -> Self {
        self.detail = Some(detail);
        self
    }

    /// Builder: set the score.
    pub fn with_score(mut self, score: f64) -> Self {
        self.score = Some(score);
        self
    }

    /// True / false for a pass / fail verdict; a score counts as a pass when > 0.
    pub fn passed(&self) -> Option<bool> {
        match self.verdict {
            Verdict::Pass => Some(true),
            Verdict::Fail => Some(false),
            Verdict::Score => self.score.map(|s| s > 0.0),
            Verdict::Label | Verdict::Unknown => None,
        }
    }
}
