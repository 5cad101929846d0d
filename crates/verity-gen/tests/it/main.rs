//! Integration tests of verity-gen, against the fault-injecting local server
//! (`verity_gen::testing::MockServer`) and, when `VERITY_TEST_LLM_URL` is set, a real
//! llama.cpp server (CI starts one; without the variable those tests print why they skip).

mod cache_resume;
mod common;
mod faults;
mod judge;
mod real_server;
mod steps;
