//! How a recipe's `[input]` is read: a forced `layout`, an `[input.map]` field mapping, or
//! detection per file.

use crate::error::{Error, Result};
use crate::recipe::InputConfig;
use verity_core::io::InputFile;
use verity_core::layout::mapping::{check_inputs, Mapping};
use verity_core::layout::{by_name, Layout};

impl InputConfig {
    /// The layout every input is read with (`None`: detected per file). An `[input.map]` is
    /// checked against the first rows of each input: a field it names that is not there is an
    /// error naming the field and the fields that exist.
    pub fn forced_layout(&self, inputs: &[InputFile]) -> Result<Option<&'static dyn Layout>> {
        match (&self.map, &self.layout) {
            (Some(_), Some(layout)) => Err(Error::Other(format!(
                "[input] has both `layout = \"{layout}\"` and an [input.map]: give one"
            ))),
            (Some(map), None) => {
                check_inputs(map, inputs)?;
                Ok(Some(Mapping::user(map.clone()).leak()))
            }
            (None, Some(name)) => {
                Ok(Some(by_name(name).ok_or_else(|| {
                    verity_core::Error::NoSuchLayout(name.clone())
                })?))
            }
            (None, None) => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::recipe::Recipe;
    use verity_core::io::expand_inputs;

    fn recipe(input: &str) -> Recipe {
        let text = format!(
            "[input]\npaths = [\"../../tests/data/tora/math_tora.head6.jsonl\"]\n{input}\n\n[[stage]]\nstage = \"verify\"\nverifier = \"math\"\n"
        );
        let mut recipe = Recipe::parse(&text, "recipe.toml").unwrap();
        recipe.base_dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        recipe
    }

    #[test]
    fn an_input_map_reads_the_rows_through_the_mapping() {
        let recipe = recipe(
            "[input.map]\nprompt = \"question\"\nanswer = \"gt\"\nresponse = \"code\"\ngrade = [\"score\"]",
        );
        let map = recipe.input.map.as_ref().unwrap();
        assert_eq!(map.grade, vec!["score"]);
        let inputs = expand_inputs(&recipe.input_paths()).unwrap();
        let layout = recipe.input.forced_layout(&inputs).unwrap().unwrap();
        assert_eq!(layout.name(), "map");
    }

    #[test]
    fn a_missing_field_and_a_layout_beside_a_map_are_errors() {
        let recipe = recipe("[input.map]\nprompt = \"question\"\nanswer = \"gold\"");
        let inputs = expand_inputs(&recipe.input_paths()).unwrap();
        let err = recipe
            .input
            .forced_layout(&inputs)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("`gold`") && err.contains("`gt`"), "{err}");
        let recipe = recipe_with_layout();
        let err = recipe
            .input
            .forced_layout(&inputs)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("give one"), "{err}");
        let err = Recipe::parse(
            "[input]\npaths = [\"x.jsonl\"]\n[input.map]\npromt = \"q\"\n",
            "r.toml",
        )
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("promt"), "{err}");
    }

    fn recipe_with_layout() -> Recipe {
        recipe("layout = \"qwen_eval\"\n[input.map]\nprompt = \"question\"")
    }
}
