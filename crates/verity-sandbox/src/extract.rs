//! Extracting the program from a model response.
//!
//! What it does: [`extract_code`] takes the last fenced code block (```` ```python ````,
//! ```` ```py ````, ```` ```python3 ```` or an unlabelled fence) of a response; a response
//! without any fence is taken whole (datasets that store bare code, canonical solutions).
//!
//! Why the last block: reasoning models often show fragments or the buggy first version
//! before the final program, which comes last.
//!
//! Known failure modes: a response whose final block is an example invocation, not the
//! solution, yields that block; blocks labelled with another language are ignored when a
//! Python block exists, and used otherwise.

/// The program inside `response` and the language its fence names: the last fenced block
/// whose tag is a language [`crate::language::canonical_name`] knows (or that has no tag),
/// with the canonical name; a response without fences is taken whole, with `None`.
pub fn extract_program(response: &str) -> (String, Option<&'static str>) {
    let blocks = fenced_blocks(response);
    if blocks.is_empty() {
        return (response.to_string(), None);
    }
    let chosen = blocks
        .iter()
        .rev()
        .find(|(label, _)| label.is_empty() || crate::language::canonical_name(label).is_some());
    match chosen {
        Some((label, code)) => (
            format!("{code}\n"),
            crate::language::canonical_name(label).filter(|_| !label.is_empty()),
        ),
        None => (extract_code(response), None),
    }
}

fn fenced_blocks(response: &str) -> Vec<(String, String)> {
    let mut blocks: Vec<(String, String)> = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for line in response.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("```") {
            match current.take() {
                Some((label, lines)) => blocks.push((label, lines.join("\n"))),
                None => current = Some((rest.trim().to_ascii_lowercase(), Vec::new())),
            }
            continue;
        }
        if let Some((_, lines)) = current.as_mut() {
            lines.push(line);
        }
    }
    if let Some((label, lines)) = current {
        // Unclosed final fence (truncated generation): take what is there.
        blocks.push((label, lines.join("\n")));
    }
    blocks
}

/// The program inside `response` (see the module docs).
pub fn extract_code(response: &str) -> String {
    let blocks = fenced_blocks(response);
    if blocks.is_empty() {
        return response.to_string();
    }
    let python = |label: &str| matches!(label, "python" | "py" | "python3" | "");
    let chosen = blocks
        .iter()
        .rev()
        .find(|(label, _)| python(label))
        .or_else(|| blocks.last());
    chosen.map_or_else(|| response.to_string(), |(_, code)| format!("{code}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_last_python_block() {
        let response = "First try:\n```python\ndef f(): return 1\n```\nFixed:\n```python\ndef f(): return 2\n```\nExample:\n```text\nf() -> 2\n```\n";
        assert_eq!(extract_code(response), "def f(): return 2\n");
    }

    #[test]
    fn bare_code_is_kept_whole() {
        assert_eq!(
            extract_code("def f():\n    return 1\n"),
            "def f():\n    return 1\n"
        );
    }

    #[test]
    fn the_language_comes_from_the_fence() {
        let response =
            "```python\nprint(1)\n```\nIn C++:\n```cpp\nint main(){}\n```\n```text\nout\n```\n";
        assert_eq!(
            extract_program(response),
            ("int main(){}\n".to_string(), Some("cpp"))
        );
        assert_eq!(extract_program("```\nx = 1\n```"), ("x = 1\n".into(), None));
        assert_eq!(extract_program("x = 1"), ("x = 1".into(), None));
    }

    #[test]
    fn unclosed_fence_is_used() {
        assert_eq!(extract_code("```py\nprint(1)\n"), "print(1)\n");
    }
}
