//! Integration tests of verity-pipeline (one test binary).

mod card_truth;
mod pipeline;
