//! Attempts: the behaviour recorded for a task (samples, chosen/rejected, trajectories).

use super::{Feedback, Fields, Message, Signals};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The role of an attempt within its record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttemptRole {
    /// One sample (an SFT target, one rollout).
    #[default]
    Sample,
    /// The preferred response of a preference pair.
    Chosen,
    /// The dispreferred response of a preference pair.
    Rejected,
    /// The dataset's own reference / canonical solution used as an attempt.
    Reference,
}

/// A normalized step label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepLabel {
    /// The step is correct / useful (`+`, rating 1).
    Good,
    /// The step is acceptable but not progress (rating 0).
    Neutral,
    /// The step is wrong (`-`, rating -1).
    Bad,
}

/// One segmented reasoning step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Step {
    /// Step text.
    pub text: String,
    /// Normalized label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<StepLabel>,
    /// Numeric value (Monte-Carlo value, rating).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The label exactly as it arrived (`"+"`, `1`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_label: Option<Value>,
}

/// One action/observation turn of an agent trajectory or environment episode.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Event {
    /// The agent's reasoning before acting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thought: Option<String>,
    /// The action (a command, or a tool call rendered as `name(args)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Tool name, when the action is a tool call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// Tool arguments, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Value>,
    /// What the environment returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observation: Option<String>,
    /// State change (a patch, a DB diff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_diff: Option<String>,
    /// Error reported for this action, if it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Who or what produced an attempt.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Generator {
    /// Model name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Base model the generator was trained from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// Decoding parameters (temperature, top_p, max_tokens, n, seed).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[schemars(with = "Map<String, Value>")]
    pub params: Fields,
}

/// One attempt at a task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Attempt {
    /// Role in the record.
    #[serde(default)]
    pub role: AttemptRole,
    /// Reasoning trace (the content of a think block, or the chain of thought).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    /// The visible response (the solution after the think block; the whole output when no
    /// separate trace exists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// The extracted or stated final answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// Assistant-side turns for multi-turn attempts, verbatim (tool-call conversations).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<Message>,
    /// Segmented steps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    /// Action/observation events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Event>,
    /// Producer of the attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator: Option<Generator>,
    /// Why generation stopped (`stop`, `length`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// Feedback from verifiers (verity's own and imported).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feedback: Vec<Feedback>,
    /// Attempt-level utility signals written by `verity score`.
    #[serde(default, skip_serializing_if = "Signals::is_empty")]
    #[schemars(with = "Map<String, Value>")]
    pub signals: Signals,
}

impl Attempt {
    /// A sample attempt with a response.
    pub fn with_response(response: impl Into<String>) -> Self {
        Attempt {
            response: Some(response.into()),
            ..Attempt::default()
        }
    }

    /// The full model output: trace and response joined the way a `<think>` model prints them.
    pub fn full_text(&self) -> String {
        match (&self.trace, &self.response) {
            (Some(trace), Some(response)) => format!("<think>\n{trace}\n</think>\n\n{response}"),
            (Some(trace), None) => trace.clone(),
            (None, Some(response)) => response.clone(),
            (None, None) => String::new(),
        }
    }

    /// The latest verdict of verity's own verifier `name`, if any.
    pub fn verdict_of(&self, name: &str) -> Option<&Feedback> {
        self.feedback
            .iter()
            .rev()
            .find(|f| f.verifier.name == name && f.step.is_none())
    }
}
