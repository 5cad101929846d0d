//! Trainer formats: the exact row shapes TRL, verl and OpenRLHF read.
//!
//! | target | columns | from |
//! |---|---|---|
//! | `native` | verity's record | any |
//! | `trl-sft` | `messages` (conversational: system?, user, assistant) | records with a response |
//! | `trl-sft-prompt-completion` | `prompt` (messages), `completion` (assistant message) | records with a response |
//! | `trl-dpo` | `prompt`, `chosen`, `rejected` (conversational) | preference pairs |
//! | `trl-grpo` | `prompt` (messages), `solution` (gold answer, read by TRL's `accuracy_reward`), `id`, `data_source` | tasks with a reference answer |
//! | `trl-prm` | `prompt`, `completions` (steps), `labels` (bool per step) | step-labeled traces |
//! | `verl` | `data_source`, `prompt` (messages), `ability`, `reward_model{style, ground_truth}`, `extra_info{split, index, id, dataset}` | tasks with a reference answer |
//! | `openrlhf-sft` | `input`, `output` | records with a response |
//! | `openrlhf-dpo` | `prompt`, `chosen`, `rejected` (text) | preference pairs |
//! | `openrlhf-prompt` | `input`, `label` (`--label_key label` for reward functions) | tasks with a reference answer |
//! | `sharegpt` | `conversations` [{from: system/human/gpt, value}] | records with a response |
//!
//! Think content (`attempt.trace`) goes where the target model's chat convention expects it,
//! chosen with `think`: `tags` (default: `<think>\n...\n</think>\n\n` before the answer in the
//! assistant content, the DeepSeek-R1 / Qwen3 convention), `field` (a separate
//! `reasoning_content` key on the assistant message, the vLLM/OpenAI reasoning-parser
//! convention; name it with `reasoning_field`), or `drop` (answer only).
//!
//! Which attempt becomes the response (SFT targets): `attempt = "best"` (default: the first
//! attempt whose latest verdict passed, else the first attempt), `first`, or `passing` (only a
//! passing attempt; records without one are rejected at export with `export:no_passing_attempt`).
//!
//! Prompts of the RL targets (`verl`, `trl-grpo`, `openrlhf-prompt`) get a prompt template:
//! by default [`BOXED_TEMPLATE`] (the user turn, then "Let's think step by step and output the
//! final answer within \boxed{}.", the instruction verl's own MATH preprocessing adds), so the
//! policy writes the answer where the rule-based rewards look for it. `prompt_template` sets
//! another (`{prompt}` marks the problem) for any target, `"none"` turns it off.
//!
//! verl's `data_source` picks the reward function (`default_compute_score` raises
//! `NotImplementedError` for a name it does not know): it is `data_source` when given, else
//! `lighteval/MATH` for math records (boxed-answer reward, matching the template); records of
//! other domains need an explicit `data_source` and are rejected with
//! `export:data_source_required` without one. The record's dataset is kept in
//! `extra_info.dataset`.
//!
//! Records flagged by decontamination (`signals.contamination`) are not exported: they are
//! rejected with `export:contaminated` unless `allow_contaminated = true` (CLI
//! `--allow-contaminated`) says to keep them.
//!
//! Known failure modes: records that cannot be expressed in a target (no response for SFT, no
//! reference answer for RL targets, no chosen/rejected for DPO, no step labels for PRM) are
//! rejected at export with a reason, never written half-empty. `neutral` PRM800K labels (0) map
//! to `true` by default (`neutral = "false"` or `"drop"` to change).

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use verity_core::record::{Attempt, AttemptRole, Message, ObjectKind, Record, StepLabel};

/// The export stage's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportConfig {
    /// The trainer format (see the module table).
    #[serde(default = "native")]
    pub target: String,
    /// `jsonl` (default) or `parquet`.
    #[serde(default = "jsonl")]
    pub format: String,
    /// `tags` (default), `field` or `drop`.
    #[serde(default = "tags")]
    pub think: String,
    /// Name of the reasoning key with `think = "field"`.
    #[serde(default = "reasoning_content")]
    pub reasoning_field: String,
    /// A system message put first in conversational targets.
    #[serde(default)]
    pub system: Option<String>,
    /// `best` (default), `first` or `passing`.
    #[serde(default = "best")]
    pub attempt: String,
    /// verl/GRPO `data_source` (default: the record's source dataset, else the file stem).
    #[serde(default)]
    pub data_source: Option<String>,
    /// verl `ability` (default: the record's domain, else `math`).
    #[serde(default)]
    pub ability: Option<String>,
    /// PRM: what a neutral step label becomes: `true` (default), `false` or `drop` (the
    /// record is rejected).
    #[serde(default = "neutral_true")]
    pub neutral: String,
    /// Keep unmapped input fields (`meta`) in native output (default true).
    #[serde(default = "yes")]
    pub keep_meta: bool,
    /// Template of the user turn (`{prompt}` is the problem); default [`BOXED_TEMPLATE`] for
    /// the RL targets and none for the others; `"none"` turns it off.
    #[serde(default)]
    pub prompt_template: Option<String>,
    /// Export records flagged by decontamination (default false: they are rejected with
    /// `export:contaminated`).
    #[serde(default)]
    pub allow_contaminated: bool,
}

/// The default prompt template of the RL targets: verl's MATH instruction.
pub const BOXED_TEMPLATE: &str =
    "{prompt}\n\nLet's think step by step and output the final answer within \\boxed{}.";

/// verl's `data_source` for math records when none is given: its boxed-answer MATH reward.
pub const VERL_MATH_SOURCE: &str = "lighteval/MATH";

fn native() -> String {
    "native".into()
}
fn jsonl() -> String {
    "jsonl".into()
}
fn tags() -> String {
    "tags".into()
}
fn reasoning_content() -> String {
    "reasoning_content".into()
}
fn best() -> String {
    "best".into()
}
fn neutral_true() -> String {
    "true".into()
}
fn yes() -> bool {
    true
}

impl Default for ExportConfig {
    fn default() -> Self {
        ExportConfig {
            target: native(),
            format: jsonl(),
            think: tags(),
            reasoning_field: reasoning_content(),
            system: None,
            attempt: best(),
            data_source: None,
            ability: None,
            neutral: neutral_true(),
            keep_meta: true,
            prompt_template: None,
            allow_contaminated: false,
        }
    }
}

/// Every export target.
pub const TARGETS: &[&str] = &[
    "native",
    "trl-sft",
    "trl-sft-prompt-completion",
    "trl-dpo",
    "trl-grpo",
    "trl-prm",
    "verl",
    "openrlhf-sft",
    "openrlhf-dpo",
    "openrlhf-prompt",
    "sharegpt",
];

impl ExportConfig {
    /// Check the parameters; the message names the bad one and the valid values.
    pub fn validate(&self) -> Result<(), String> {
        if !TARGETS.contains(&self.target.as_str()) {
            return Err(format!(
                "target `{}` does not exist (known: {})",
                self.target,
                TARGETS.join(", ")
            ));
        }
        let check = |name: &str, value: &str, valid: &[&str]| {
            if valid.contains(&value) {
                Ok(())
            } else {
                Err(format!(
                    "{name} `{value}`: expected one of {}",
                    valid.join(", ")
                ))
            }
        };
        check("format", &self.format, &["jsonl", "parquet"])?;
        check("think", &self.think, &["tags", "field", "drop"])?;
        check("attempt", &self.attempt, &["best", "first", "passing"])?;
        check("neutral", &self.neutral, &["true", "false", "drop"])?;
        if let Some(t) = &self.prompt_template {
            if t != "none" && !t.contains("{prompt}") {
                return Err(format!(
                    "prompt_template `{t}` has no `{{prompt}}` where the problem goes (or use \"none\")"
                ));
            }
        }
        Ok(())
    }

    /// The prompt template in effect for this target, if any.
    pub fn template(&self) -> Option<&str> {
        match self.prompt_template.as_deref() {
            Some("none") => None,
            Some(t) => Some(t),
            None if matches!(
                self.target.as_str(),
                "verl" | "trl-grpo" | "openrlhf-prompt"
            ) =>
            {
                Some(BOXED_TEMPLATE)
            }
            None => None,
        }
    }

    /// File extension of data files.
    pub fn extension(&self) -> &'static str {
        if self.format == "parquet" {
            "parquet"
        } else {
            "jsonl"
        }
    }
}

/// Why a record was not exported.
#[derive(Debug, Clone, PartialEq)]
pub struct Skip(pub &'static str);

fn prompt_messages(record: &Record, cfg: &ExportConfig) -> Vec<Value> {
    let mut out = Vec::new();
    let has_system = record.task.messages.iter().any(|m| m.role == "system");
    if let (Some(system), false) = (&cfg.system, has_system) {
        out.push(json!({"role": "system", "content": system}));
    }
    if record.task.messages.is_empty() {
        if let Some(p) = &record.task.prompt {
            out.push(json!({"role": "user", "content": p}));
        }
    } else {
        for m in &record.task.messages {
            out.push(message_json(m, cfg));
        }
    }
    if let Some(template) = cfg.template() {
        if let Some(user) = out.iter_mut().rev().find(|m| m["role"] == "user") {
            let text = user["content"].as_str().unwrap_or_default().to_string();
            user["content"] = json!(apply_template(template, &text));
        }
    }
    out
}

fn apply_template(template: &str, prompt: &str) -> String {
    template.replace("{prompt}", prompt)
}

fn message_json(m: &Message, cfg: &ExportConfig) -> Value {
    let content = m.content.clone().unwrap_or_default();
    match (&m.reasoning, cfg.think.as_str()) {
        (Some(r), "tags") => {
            json!({"role": m.role, "content": format!("<think>\n{r}\n</think>\n\n{content}")})
        }
        (Some(r), "field") => {
            let mut o = Map::new();
            o.insert("role".into(), json!(m.role));
            o.insert("content".into(), json!(content));
            o.insert(cfg.reasoning_field.clone(), json!(r));
            Value::Object(o)
        }
        _ => json!({"role": m.role, "content": content}),
    }
}

fn prompt_text(record: &Record, cfg: &ExportConfig) -> Option<String> {
    let text = record.problem_text()?;
    Some(match cfg.template() {
        Some(template) => apply_template(template, text),
        None => text.to_string(),
    })
}

/// Whether decontamination flagged the record.
fn contaminated(record: &Record) -> bool {
    record
        .signals
        .get("contamination")
        .is_some_and(|v| v.as_array().is_none_or(|hits| !hits.is_empty()))
}

/// The attempt's trace and final text, from its fields or its assistant messages.
fn trace_and_answer(a: &Attempt) -> (Option<String>, Option<String>) {
    if a.trace.is_some() || a.response.is_some() {
        let mut response = a.response.clone();
        if response.is_none() && a.trace.is_some() {
            response = a.answer.clone();
        }
        return (a.trace.clone(), response);
    }
    if let Some(m) = a.messages.iter().rev().find(|m| m.role == "assistant") {
        return (m.reasoning.clone(), m.content.clone());
    }
    (None, a.answer.clone())
}

fn assistant_content(a: &Attempt, cfg: &ExportConfig) -> Option<(String, Option<String>)> {
    let (trace, response) = trace_and_answer(a);
    let response = response.unwrap_or_default();
    if trace.as_deref().unwrap_or("").is_empty() && response.is_empty() {
        return None;
    }
    Some(match (trace, cfg.think.as_str()) {
        (Some(t), "tags") if !t.is_empty() => {
            (format!("<think>\n{t}\n</think>\n\n{response}"), None)
        }
        (Some(t), "field") if !t.is_empty() => (response, Some(t)),
        _ => (response, None),
    })
}

fn assistant_message(a: &Attempt, cfg: &ExportConfig) -> Option<Value> {
    let (content, reasoning) = assistant_content(a, cfg)?;
    let mut o = Map::new();
    o.insert("role".into(), json!("assistant"));
    o.insert("content".into(), json!(content));
    if let Some(r) = reasoning {
        o.insert(cfg.reasoning_field.clone(), json!(r));
    }
    Some(Value::Object(o))
}

fn passed(a: &Attempt) -> bool {
    a.feedback
        .iter()
        .rev()
        .find(|f| f.step.is_none())
        .and_then(|f| f.passed())
        == Some(true)
}

fn pick_attempt<'a>(record: &'a Record, cfg: &ExportConfig) -> Result<&'a Attempt, Skip> {
    let usable: Vec<&Attempt> = record
        .attempts
        .iter()
        .filter(|a| a.role != AttemptRole::Rejected)
        .collect();
    if usable.is_empty() {
        return Err(Skip("export:no_response"));
    }
    match cfg.attempt.as_str() {
        "first" => Ok(usable[0]),
        "passing" => usable
            .iter()
            .copied()
            .find(|a| passed(a))
            .ok_or(Skip("export:no_passing_attempt")),
        _ => Ok(usable
            .iter()
            .copied()
            .find(|a| passed(a))
            .unwrap_or(usable[0])),
    }
}

fn pair(record: &Record) -> Result<(&Attempt, &Attempt), Skip> {
    let chosen = record
        .attempts
        .iter()
        .find(|a| a.role == AttemptRole::Chosen);
    let rejected = record
        .attempts
        .iter()
        .find(|a| a.role == AttemptRole::Rejected);
    match (chosen, rejected) {
        (Some(c), Some(r)) => Ok((c, r)),
        _ => Err(Skip("export:not_a_preference_pair")),
    }
}

fn gold(record: &Record) -> Result<String, Skip> {
    record
        .task
        .reference
        .answer
        .clone()
        .filter(|a| !a.trim().is_empty())
        .ok_or(Skip("export:no_reference_answer"))
}

fn data_source(record: &Record, cfg: &ExportConfig) -> String {
    cfg.data_source
        .clone()
        .unwrap_or_else(|| dataset_of(record))
}

/// The record's source dataset, else its file's stem.
fn dataset_of(record: &Record) -> String {
    record
        .task
        .source
        .dataset
        .clone()
        .or_else(|| {
            record.lineage.file.as_ref().map(|f| {
                let name = std::path::Path::new(f)
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                name.split('.').next().unwrap_or("").to_string()
            })
        })
        .unwrap_or_else(|| "unknown".into())
}

fn text_of(a: &Attempt, cfg: &ExportConfig) -> Result<String, Skip> {
    assistant_content(a, cfg)
        .map(|(c, _)| c)
        .ok_or(Skip("export:empty_response"))
}

/// One record as a row of `cfg.target`. `index` is the row's position in its split (verl's
/// `extra_info.index`), `split` its split name.
pub fn export_row(
    record: &Record,
    cfg: &ExportConfig,
    split: &str,
    index: u64,
) -> Result<Value, Skip> {
    let need_prompt = |msgs: Vec<Value>| {
        if msgs.iter().any(|m| m["role"] == "user") {
            Ok(msgs)
        } else {
            Err(Skip("export:no_prompt"))
        }
    };
    if !cfg.allow_contaminated && contaminated(record) {
        return Err(Skip("export:contaminated"));
    }
    Ok(match cfg.target.as_str() {
        "native" => {
            let mut v = serde_json::to_value(record).map_err(|_| Skip("export:unserializable"))?;
            if !cfg.keep_meta {
                if let Value::Object(o) = &mut v {
                    o.remove("meta");
                }
            }
            v
        }
        "trl-sft" => {
            let mut messages = need_prompt(prompt_messages(record, cfg))?;
            // drop a trailing assistant turn already in the task (the attempt replaces it)
            while messages.last().is_some_and(|m| m["role"] == "assistant") {
                messages.pop();
            }
            let a = pick_attempt(record, cfg)?;
            messages.push(assistant_message(a, cfg).ok_or(Skip("export:empty_response"))?);
            json!({"messages": messages})
        }
        "trl-sft-prompt-completion" => {
            let prompt = need_prompt(prompt_messages(record, cfg))?;
            let a = pick_attempt(record, cfg)?;
            let completion = assistant_message(a, cfg).ok_or(Skip("export:empty_response"))?;
            json!({"prompt": prompt, "completion": [completion]})
        }
        "trl-dpo" => {
            let prompt = need_prompt(prompt_messages(record, cfg))?;
            let (c, r) = pair(record)?;
            let chosen = assistant_message(c, cfg).ok_or(Skip("export:empty_response"))?;
            let rejected = assistant_message(r, cfg).ok_or(Skip("export:empty_response"))?;
            json!({"prompt": prompt, "chosen": [chosen], "rejected": [rejected]})
        }
        "trl-grpo" => {
            let prompt = need_prompt(prompt_messages(record, cfg))?;
            json!({"prompt": prompt, "solution": gold(record)?, "id": record.id,
                   "data_source": data_source(record, cfg)})
        }
        "trl-prm" => {
            let prompt = prompt_text(record, cfg).ok_or(Skip("export:no_prompt"))?;
            let a = record
                .attempts
                .iter()
                .find(|a| !a.steps.is_empty())
                .ok_or(Skip("export:no_steps"))?;
            let mut completions = Vec::new();
            let mut labels = Vec::new();
            for step in &a.steps {
                let label = match step.label {
                    Some(StepLabel::Good) => true,
                    Some(StepLabel::Bad) => false,
                    Some(StepLabel::Neutral) => match cfg.neutral.as_str() {
                        "true" => true,
                        "false" => false,
                        _ => return Err(Skip("export:neutral_step_label")),
                    },
                    None => return Err(Skip("export:unlabeled_step")),
                };
                completions.push(json!(step.text));
                labels.push(json!(label));
            }
            json!({"prompt": prompt, "completions": completions, "labels": labels})
        }
        "verl" => {
            let prompt = need_prompt(prompt_messages(record, cfg))?;
            let ability = cfg
                .ability
                .clone()
                .or_else(|| record.task.domain.clone())
                .unwrap_or_else(|| "math".into());
            let source = match (&cfg.data_source, ability.as_str()) {
                (Some(given), _) => given.clone(),
                (None, "math") => VERL_MATH_SOURCE.to_string(),
                (None, _) => return Err(Skip("export:data_source_required")),
            };
            json!({
                "data_source": source,
                "prompt": prompt,
                "ability": ability,
                "reward_model": {"style": "rule", "ground_truth": gold(record)?},
                "extra_info": {"split": split, "index": index, "id": record.id,
                               "dataset": dataset_of(record)},
            })
        }
        "openrlhf-sft" => {
            let input = prompt_text(record, cfg).ok_or(Skip("export:no_prompt"))?;
            let a = pick_attempt(record, cfg)?;
            json!({"input": input, "output": text_of(a, cfg)?})
        }
        "openrlhf-dpo" => {
            let prompt = prompt_text(record, cfg).ok_or(Skip("export:no_prompt"))?;
            let (c, r) = pair(record)?;
            json!({"prompt": prompt, "chosen": text_of(c, cfg)?, "rejected": text_of(r, cfg)?})
        }
        "openrlhf-prompt" => {
            let input = prompt_text(record, cfg).ok_or(Skip("export:no_prompt"))?;
            json!({"input": input, "label": gold(record)?})
        }
        "sharegpt" => {
            let mut conv = Vec::new();
            for m in prompt_messages(record, cfg) {
                let from = match m["role"].as_str() {
                    Some("system") => "system",
                    Some("assistant") => "gpt",
                    Some("tool") => "observation",
                    _ => "human",
                };
                conv.push(json!({"from": from, "value": m["content"]}));
            }
            while conv.last().is_some_and(|m| m["from"] == "gpt") {
                conv.pop();
            }
            if !conv.iter().any(|m| m["from"] == "human") {
                return Err(Skip("export:no_prompt"));
            }
            let a = pick_attempt(record, cfg)?;
            conv.push(json!({"from": "gpt", "value": text_of(a, cfg)?}));
            json!({"conversations": conv})
        }
        _ => return Err(Skip("export:unknown_target")),
    })
}

/// Whether the target can take records of `kind` at all (for `--dry-run` warnings).
pub fn accepts(target: &str, kind: ObjectKind) -> bool {
    match target {
        "trl-dpo" | "openrlhf-dpo" => kind == ObjectKind::PreferencePair,
        "trl-prm" => kind == ObjectKind::StepLabeledTrace,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use verity_core::record::{Contract, Feedback, Granularity, VerifierId};

    fn record() -> Record {
        let mut r = Record::new("r1", ObjectKind::RolloutSet);
        r.task.prompt = Some("What is 2+2?".into());
        r.task.reference.answer = Some("4".into());
        r.task.source.dataset = Some("toy".into());
        let id = VerifierId::new("math", "1", Contract::Programmatic);
        let mut bad = Attempt::with_response("It is 5.");
        bad.feedback
            .push(Feedback::from_bool(id.clone(), Granularity::Answer, false));
        let mut good = Attempt::with_response("It is \\boxed{4}.");
        good.trace = Some("2 and 2 make 4.".into());
        good.feedback
            .push(Feedback::from_bool(id, Granularity::Answer, true));
        r.attempts = vec![bad, good];
        r
    }

    #[test]
    fn sft_picks_the_passing_attempt_and_places_think_content() {
        let cfg = ExportConfig {
            target: "trl-sft".into(),
            ..ExportConfig::default()
        };
        let row = export_row(&record(), &cfg, "train", 0).unwrap();
        let msgs = row["messages"].as_array().unwrap();
        assert_eq!(msgs[0], json!({"role": "user", "content": "What is 2+2?"}));
        assert_eq!(
            msgs[1]["content"],
            "<think>\n2 and 2 make 4.\n</think>\n\nIt is \\boxed{4}."
        );
        let field = ExportConfig {
            think: "field".into(),
            ..cfg.clone()
        };
        let row = export_row(&record(), &field, "train", 0).unwrap();
        assert_eq!(row["messages"][1]["content"], "It is \\boxed{4}.");
        assert_eq!(row["messages"][1]["reasoning_content"], "2 and 2 make 4.");
        let first = ExportConfig {
            attempt: "first".into(),
            ..cfg
        };
        let row = export_row(&record(), &first, "train", 0).unwrap();
        assert_eq!(row["messages"][1]["content"], "It is 5.");
    }

    #[test]
    fn rl_targets_need_a_reference() {
        let cfg = ExportConfig {
            target: "verl".into(),
            ..ExportConfig::default()
        };
        let row = export_row(&record(), &cfg, "train", 7).unwrap();
        assert_eq!(
            row["reward_model"],
            json!({"style": "rule", "ground_truth": "4"})
        );
        assert_eq!(row["extra_info"]["index"], 7);
        assert_eq!(row["extra_info"]["dataset"], "toy");
        let mut no_ref = record();
        no_ref.task.reference.answer = None;
        assert_eq!(
            export_row(&no_ref, &cfg, "train", 0),
            Err(Skip("export:no_reference_answer"))
        );
        let grpo = ExportConfig {
            target: "trl-grpo".into(),
            ..ExportConfig::default()
        };
        assert_eq!(
            export_row(&record(), &grpo, "train", 0).unwrap()["solution"],
            "4"
        );
    }

    #[test]
    fn verl_rows_name_a_data_source_verl_scores_and_ask_for_a_boxed_answer() {
        let cfg = ExportConfig {
            target: "verl".into(),
            ..ExportConfig::default()
        };
        let row = export_row(&record(), &cfg, "train", 0).unwrap();
        // verl's default_compute_score knows `lighteval/MATH` (a file stem like `toy` or
        // `math` raises NotImplementedError there).
        assert_eq!(row["data_source"], VERL_MATH_SOURCE);
        assert_eq!(
            row["prompt"][0]["content"],
            "What is 2+2?\n\nLet's think step by step and output the final answer within \\boxed{}."
        );
        let mut code = record();
        code.task.domain = Some("code".into());
        assert_eq!(
            export_row(&code, &cfg, "train", 0),
            Err(Skip("export:data_source_required"))
        );
        let named = ExportConfig {
            data_source: Some("my/reward".into()),
            prompt_template: Some("Q: {prompt}".into()),
            ..cfg.clone()
        };
        let row = export_row(&code, &named, "train", 0).unwrap();
        assert_eq!(row["data_source"], "my/reward");
        assert_eq!(row["prompt"][0]["content"], "Q: What is 2+2?");
        let plain = ExportConfig {
            prompt_template: Some("none".into()),
            ..cfg.clone()
        };
        let row = export_row(&record(), &plain, "train", 0).unwrap();
        assert_eq!(row["prompt"][0]["content"], "What is 2+2?");
        let bad = ExportConfig {
            prompt_template: Some("no placeholder".into()),
            ..cfg
        };
        assert!(bad.validate().unwrap_err().contains("{prompt}"));
    }

    #[test]
    fn flagged_records_are_refused_unless_allowed() {
        let mut flagged = record();
        flagged.signals.insert(
            "contamination".into(),
            json!([{"benchmark": "gsm8k", "item": "1", "field": "problem", "method": "ngram"}]),
        );
        let cfg = ExportConfig {
            target: "trl-sft".into(),
            ..ExportConfig::default()
        };
        assert_eq!(
            export_row(&flagged, &cfg, "train", 0),
            Err(Skip("export:contaminated"))
        );
        let allowed = ExportConfig {
            allow_contaminated: true,
            ..cfg
        };
        assert!(export_row(&flagged, &allowed, "train", 0).is_ok());
    }

    #[test]
    fn dpo_needs_a_pair() {
        let cfg = ExportConfig {
            target: "trl-dpo".into(),
            ..ExportConfig::default()
        };
        assert_eq!(
            export_row(&record(), &cfg, "train", 0),
            Err(Skip("export:not_a_preference_pair"))
        );
        let mut p = record();
        p.attempts[0].role = AttemptRole::Rejected;
        p.attempts[1].role = AttemptRole::Chosen;
        let row = export_row(&p, &cfg, "train", 0).unwrap();
        assert_eq!(row["rejected"][0]["content"], "It is 5.");
        assert!(row["chosen"][0]["content"]
            .as_str()
            .unwrap()
            .contains("\\boxed{4}"));
    }
}
