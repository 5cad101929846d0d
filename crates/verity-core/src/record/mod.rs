//! The record: what one row of reasoning data is.
//!
//! A record is `task/context -> behaviour (attempts: trace, steps, actions) -> answer ->
//! feedback -> attribution metadata`. Every input field an adapter does not map is kept in
//! [`Record::meta`], so nothing is lost on a round trip.
//!
//! The JSON form of [`Record`] is the wire format of verity (one record per JSONL line); its
//! JSON Schema is printed by `verity schema record` and committed under `schema/record.json`.

mod attempt;
mod feedback;
mod signals;
mod task;

pub use attempt::{Attempt, AttemptRole, Event, Generator, Step, StepLabel};
pub use feedback::{Contract, Feedback, Granularity, Verdict, VerifierId};
pub use signals::{SignalName, Signals};
pub use task::{Message, Reference, Source, Task, TestCase, TestKind, Tests};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A JSON object of free-form fields.
pub type Fields = Map<String, Value>;

/// The kind of data object a record holds (DESIGN.md §1).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// Task plus final answer (SFT, RLVR prompts, evaluation).
    PromptAnswer,
    /// Task plus reasoning trace plus answer (SFT, distillation).
    PromptTraceAnswer,
    /// Segmented steps with per-step labels (process supervision).
    StepLabeledTrace,
    /// Several attempts at one task (RLVR, rejection sampling, difficulty).
    RolloutSet,
    /// A chosen and a rejected attempt (DPO, reward models).
    PreferencePair,
    /// Goal, tool calls and observations (agent SFT/RL).
    ToolTrajectory,
    /// State, action, observation, state diff and terminal predicate (agent RL, eval).
    EnvironmentEpisode,
    /// Rubric, evidence and score (reward modelling).
    RubricJudgment,
}

impl ObjectKind {
    /// Every kind, in documentation order.
    pub const ALL: [ObjectKind; 8] = [
        ObjectKind::PromptAnswer,
        ObjectKind::PromptTraceAnswer,
        ObjectKind::StepLabeledTrace,
        ObjectKind::RolloutSet,
        ObjectKind::PreferencePair,
        ObjectKind::ToolTrajectory,
        ObjectKind::EnvironmentEpisode,
        ObjectKind::RubricJudgment,
    ];

    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::PromptAnswer => "prompt_answer",
            ObjectKind::PromptTraceAnswer => "prompt_trace_answer",
            ObjectKind::StepLabeledTrace => "step_labeled_trace",
            ObjectKind::RolloutSet => "rollout_set",
            ObjectKind::PreferencePair => "preference_pair",
            ObjectKind::ToolTrajectory => "tool_trajectory",
            ObjectKind::EnvironmentEpisode => "environment_episode",
            ObjectKind::RubricJudgment => "rubric_judgment",
        }
    }
}

impl std::fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a record came from and what has been done to it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Lineage {
    /// Layout adapter that read the row (`gsm8k`, `sharegpt`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<String>,
    /// Input file the row was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line (JSONL) or 0-based item index (JSON array, Parquet) in that file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
    /// Ids of records this one was derived from (a preference pair built from a rollout set).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
    /// Stages applied, in order (`verify:math@1.0.0`, `dedup:minhash`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<String>,
    /// Id of the record this one duplicates, when a dedup stage flagged it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dup_of: Option<String>,
    /// Input fields the layout adapter mapped, in input order (lets the adapter write the
    /// row back with the same fields and order).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// Teacher / trace writer, when declared by the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teacher: Option<String>,
}

/// One reasoning-data record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Record {
    /// Stable identifier (kept from the input when it has one, else derived from file and row).
    pub id: String,
    /// The data object kind.
    pub object: ObjectKind,
    /// The problem / context.
    pub task: Task,
    /// Behaviour: samples, chosen/rejected, trajectories.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Attempt>,
    /// Provenance and processing history.
    #[serde(default, skip_serializing_if = "is_default")]
    pub lineage: Lineage,
    /// Task-level utility signals written by `verity score` (pass rate, pass@k, band, ...).
    #[serde(default, skip_serializing_if = "Signals::is_empty")]
    #[schemars(with = "Map<String, Value>")]
    pub signals: Signals,
    /// Every input field the adapter did not map, verbatim.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[schemars(with = "Map<String, Value>")]
    pub meta: Fields,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

impl Record {
    /// An empty record of the given kind.
    pub fn new(id: impl Into<String>, object: ObjectKind) -> Self {
        Record {
            id: id.into(),
            object,
            task: Task::default(),
            attempts: Vec::new(),
            lineage: Lineage::default(),
            signals: Signals::new(),
            meta: Map::new(),
        }
    }

    /// The problem text: `task.prompt`, else the last user message.
    pub fn problem_text(&self) -> Option<&str> {
        self.task.problem_text()
    }

    /// The canonical JSON Schema of a record.
    pub fn json_schema() -> Value {
        let schema = schemars::schema_for!(Record);
        serde_json::to_value(schema).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests;
