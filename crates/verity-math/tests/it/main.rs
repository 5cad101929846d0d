//! Integration tests of verity-math: hand-picked answer forms, pathological inputs, the
//! public graders' test cases, the answer families of `tests/data/families.jsonl`, and real
//! model outputs with stored grades (all data under `tests/data`, see its README).

mod adversarial;
mod equivalence;
mod families;
mod grader_cases;
mod real_data;
