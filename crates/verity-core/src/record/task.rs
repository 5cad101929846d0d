//! The task: the problem, its chat context, where it came from and what counts as right.

use super::Fields;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One chat message. Keys other than the known ones are kept in `extra` so a message
/// round-trips unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Message {
    /// `system`, `user`, `assistant`, `tool`, ... (ShareGPT `from` values are mapped:
    /// human -> user, gpt -> assistant, observation -> tool, function_call -> assistant).
    pub role: String,
    /// Text content; `null` when the message only carries tool calls.
    #[serde(default)]
    pub content: Option<String>,
    /// Separate reasoning content (`reasoning_content`, `reasoning`, `thinking`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    /// Tool calls made in this message (OpenAI function-call shape, kept verbatim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Value>,
    /// Other keys of the input message, verbatim.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[schemars(with = "Map<String, Value>")]
    pub extra: Fields,
}

impl Message {
    /// A message with a role and text content.
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        Message {
            role: role.into(),
            content: Some(content.into()),
            ..Message::default()
        }
    }
}

/// Where the task comes from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Source {
    /// Dataset name (`gsm8k`, `openai/gsm8k`, `math500`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// Split (`train`, `test`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
    /// Row or item id in the source dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<String>,
    /// License of the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Link to the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// How a task's tests are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TestKind {
    /// Test code with asserts, run after the candidate (HumanEval `check(entry_point)`, MBPP asserts).
    Assert,
    /// Stdin/stdout pairs (competitive programming).
    Stdio,
    /// Call `entry_point` with inputs, compare with expected outputs.
    FunctionCall,
}

/// One input/output test case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TestCase {
    /// Stdin text, or the JSON arguments of a function call.
    pub input: Value,
    /// Expected stdout text, or the expected return value.
    pub output: Value,
}

/// Tests attached to a code task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Tests {
    /// How the tests run.
    pub kind: TestKind,
    /// Programming language (`python`).
    #[serde(default = "default_language")]
    pub language: String,
    /// Assert-style test code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Function under test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_point: Option<String>,
    /// Code run before the tests (MBPP `test_setup_code`, imports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup: Option<String>,
    /// Input/output cases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cases: Vec<TestCase>,
}

fn default_language() -> String {
    "python".to_string()
}

/// What counts as a right answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Reference {
    /// The gold final answer (bare, e.g. `72` or `\frac{3}{4}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// A reference solution (worked text or canonical code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solution: Option<String>,
    /// Tests for code tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<Tests>,
    /// Options of a multiple-choice task, in order (A, B, C, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// Rubric for judgment-required tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rubric: Option<Value>,
}

impl Reference {
    /// True when nothing is known about the right answer.
    pub fn is_empty(&self) -> bool {
        self.answer.is_none()
            && self.solution.is_none()
            && self.tests.is_none()
            && self.choices.is_empty()
            && self.rubric.is_none()
    }
}

/// The problem or context of a record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Task {
    /// The problem as plain text (for single-turn tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// The chat context given to the model (system + user turns, and for multi-turn data every
    /// turn before the final answer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<Message>,
    /// Domain (`math`, `code`, `science`, `tool_use`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Where the task comes from.
    #[serde(default, skip_serializing_if = "is_empty_source")]
    pub source: Source,
    /// The right answer, tests or rubric.
    #[serde(default, skip_serializing_if = "Reference::is_empty")]
    pub reference: Reference,
    /// Tool specifications available to the agent (JSON-schema function specs), verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Value>,
}

fn is_empty_source(source: &Source) -> bool {
    *source == Source::default()
}

impl Task {
    /// The problem text: `prompt`, else the last user message.
    pub fn problem_text(&self) -> Option<&str> {
        if let Some(prompt) = &self.prompt {
            return Some(prompt);
        }
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == "user")
            .and_then(|m| m.content.as_deref())
    }
}
