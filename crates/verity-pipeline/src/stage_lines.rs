//! The `[[stage]]` tables of a recipe as a user reads them: where a bad one is, and the
//! parameters a stage will really use.
//!
//! `[[stage]]` tables are read through an internally tagged enum, and the TOML parser then
//! reports every stage error at the first `[[stage]]`. [`locate`] reads each stage table on
//! its own to find the one that fails, and names its position and the line of the offending key
//! (or of its `[[stage]]` header). [`resolved_params`] is what `--dry-run` prints: the built
//! stage's parameters, defaults filled in, instead of the recipe's `null`s.

use crate::recipe::StageConfig;
use serde::Deserialize;

/// A message naming the first `[[stage]]` that does not parse (its number, line and error),
/// or `None` when every stage parses on its own (the error is elsewhere).
pub fn locate(text: &str) -> Option<String> {
    let table: toml::Table = toml::from_str(text).ok()?;
    let stages = table.get("stage")?.as_array()?;
    for (index, stage) in stages.iter().enumerate() {
        let Err(error) = StageConfig::deserialize(stage.clone()) else {
            continue;
        };
        let message = error.message().trim().to_string();
        let kind = stage
            .get("stage")
            .and_then(toml::Value::as_str)
            .unwrap_or("?");
        let header = stage_header_line(text, index);
        let key = header.and_then(|h| key_line(text, h, &message));
        let at = key
            .or(header)
            .map(|l| format!("line {l}: "))
            .unwrap_or_default();
        let table = header.map(|h| format!(", line {h}")).unwrap_or_default();
        return Some(format!(
            "{at}[[stage]] number {} (`{kind}`{table}): {message}",
            index + 1
        ));
    }
    None
}

/// The parameters stage `index` (1-based) will run with, as the built stage reports them
/// (defaults resolved); the recipe's own keys when it cannot be built.
pub fn resolved_params(
    index: usize,
    config: &StageConfig,
    base_dir: &std::path::Path,
) -> serde_json::Value {
    match crate::stages::build(index, config, base_dir) {
        Ok(Some(stage)) => stage.params(),
        _ => {
            let mut value = serde_json::to_value(config).unwrap_or(serde_json::Value::Null);
            if let Some(map) = value.as_object_mut() {
                map.remove("stage");
                map.retain(|_, v| !v.is_null());
            }
            value
        }
    }
}

/// 1-based line of the `index`-th `[[stage]]` header.
fn stage_header_line(text: &str, index: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim_start();
            t.starts_with("[[") && t[2..].trim_start().starts_with("stage") && {
                let rest = t[2..].trim_start()["stage".len()..].trim_start();
                rest.starts_with("]]")
            }
        })
        .nth(index)
        .map(|(n, _)| n + 1)
}

/// 1-based line of the key named in `message` (`unknown field \`x\``, `invalid type ... for
/// key \`x\``) inside the stage table starting at `header`.
fn key_line(text: &str, header: usize, message: &str) -> Option<usize> {
    let key = message.split('`').nth(1)?;
    text.lines()
        .enumerate()
        .skip(header)
        .take_while(|(_, l)| !l.trim_start().starts_with('['))
        .find(|(_, l)| {
            let t = l.trim_start();
            t.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|(n, _)| n + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_key_in_the_third_stage_is_reported_at_its_line() {
        let text = "[input]\npaths = [\"a.jsonl\"]\n\n[[stage]]\nstage = \"normalize\"\n\n\
                    [[stage]]\nstage = \"verify\"\nverifier = \"math\"\n\n\
                    [[stage]]\nstage = \"dedup\"\nthreshhold = 0.8\n";
        let message = locate(text).unwrap();
        assert!(
            message.starts_with("line 13: [[stage]] number 3 (`dedup`, line 11)"),
            "{message}"
        );
        assert!(message.contains("threshhold"), "{message}");
    }

    #[test]
    fn good_stages_are_not_blamed() {
        let text = "[input]\npaths = [\"a.jsonl\"]\n[[stage]]\nstage = \"normalize\"\n";
        assert_eq!(locate(text), None);
    }
}
