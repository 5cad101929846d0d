//! Round trips, detection and cross-layout writing of the chat, preference and agent adapters
//! on real rows (LLaMA-Factory demos, HH-RLHF, tau-bench, SWE-agent, ToolBench).

use serde_json::{json, Value};
use verity_core::layout::{self, read_row, write_row, RowContext};
use verity_core::record::{
    AttemptRole, Contract, Fields, Granularity, ObjectKind, Record, Verdict,
};
use verity_core::testing::{assert_round_trip, load_rows};

fn fields(rows: &[Value]) -> Vec<Fields> {
    rows.iter()
        .map(|v| v.as_object().cloned().unwrap())
        .collect()
}

fn read(layout_name: &str, row: Value) -> Record {
    let layout = layout::by_name(layout_name).unwrap();
    let ctx = RowContext {
        file: "x.jsonl",
        dataset: "x",
        row: 1,
    };
    read_row(layout, row.as_object().cloned().unwrap(), &ctx).unwrap()
}

fn read_err(layout_name: &str, row: Value) -> String {
    let layout = layout::by_name(layout_name).unwrap();
    let ctx = RowContext {
        file: "x.jsonl",
        dataset: "x",
        row: 1,
    };
    match read_row(layout, row.as_object().cloned().unwrap(), &ctx) {
        Ok(_) => panic!("{layout_name} accepted a bad row"),
        Err(e) => e.to_string(),
    }
}

fn write(layout_name: &str, record: &Record) -> Value {
    write_row(layout::by_name(layout_name).unwrap(), record, false).unwrap()
}

#[test]
fn detection_picks_the_right_chat_adapter() {
    for (path, expected) in [
        (
            "llamafactory-demo/glaive_toolcall_en_demo.head40.json",
            "sharegpt",
        ),
        ("llamafactory-demo/dpo_en_demo.head30.json", "sharegpt_dpo"),
        ("llamafactory-demo/kto_en_demo.head60.json", "messages"),
        (
            "llamafactory-demo/reason_tool_use_demo.head30.jsonl",
            "messages",
        ),
        ("llamafactory-demo/v1_dpo_demo.jsonl", "dpo"),
        ("hh-rlhf/harmless-base-test.head300.jsonl.gz", "hh_rlhf"),
        ("tau-bench/gpt-4o-airline.head16.json.gz", "tau_bench"),
        (
            "tau-bench/MockAirlineDomainEnv-few_shot.head10.jsonl",
            "tau_bench",
        ),
        ("swe-agent/swe-agent__test-repo-i1.traj", "swe_agent"),
        (
            "swe-agent/6e44b9__sweagenttestrepo-1c2844.traj",
            "swe_agent",
        ),
        ("swe-agent/pydicom__pydicom-1458.traj.gz", "swe_agent"),
        ("toolbench/G1_10_ChatGPT_DFS_woFilter_w2.json", "toolbench"),
        ("toolbench/G2_127_ChatGPT_DFS_woFilter_w2.json", "toolbench"),
    ] {
        let rows = fields(&load_rows(path, 64));
        let detected = layout::detect(&rows).map(|l| l.name());
        assert_eq!(detected, Some(expected), "{path}");
    }
}

#[test]
fn sharegpt_tool_calls_round_trip_with_events() {
    let rows = load_rows("llamafactory-demo/glaive_toolcall_en_demo.head40.json", 40);
    let records = assert_round_trip(layout::by_name("sharegpt").unwrap(), &rows);
    // Row 0: human, gpt, human, function_call, observation, gpt, human, gpt.
    let first = &records[0];
    assert_eq!(first.object, ObjectKind::ToolTrajectory);
    assert!(first.task.tools.as_ref().is_some_and(Value::is_string));
    assert_eq!(first.task.messages.len(), 1);
    assert_eq!(first.task.messages[0].role, "user");
    let attempt = &first.attempts[0];
    assert_eq!(attempt.messages.len(), 7);
    let calls: Vec<_> = attempt.events.iter().filter(|e| e.tool.is_some()).collect();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].tool.as_deref(), Some("search_recipes"));
    assert_eq!(
        calls[0].arguments.as_ref().unwrap()["ingredients"][0],
        "chicken"
    );
    assert!(calls[0]
        .observation
        .as_deref()
        .unwrap()
        .contains("Stir Fry"));
    // Every function_call turn of the sample becomes exactly one tool event.
    for (row, record) in rows.iter().zip(&records) {
        let calls = row["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["from"] == "function_call")
            .count();
        let events = record
            .attempts
            .iter()
            .flat_map(|a| &a.events)
            .filter(|e| e.tool.is_some())
            .count();
        assert_eq!(calls, events);
    }
    // A conversation without tool calls is an SFT pair with the last gpt turn as the answer.
    let plain = records
        .iter()
        .find(|r| r.object != ObjectKind::ToolTrajectory)
        .expect("a row without tool calls");
    assert!(plain.attempts[0].response.is_some());
    assert!(plain.attempts[0].messages.is_empty());
}

#[test]
fn messages_kto_labels_become_imported_feedback() {
    let rows = load_rows("llamafactory-demo/kto_en_demo.head60.json", 60);
    let records = assert_round_trip(layout::by_name("messages").unwrap(), &rows);
    for (row, record) in rows.iter().zip(&records) {
        let feedback = &record.attempts[0].feedback[0];
        assert!(feedback.verifier.imported);
        assert_eq!(feedback.verifier.name, "label");
        assert_eq!(feedback.verifier.contract, Contract::JudgmentRequired);
        let expected = if row["label"] == json!(true) {
            Verdict::Pass
        } else {
            Verdict::Fail
        };
        assert_eq!(feedback.verdict, expected);
        let turns = row["messages"].as_array().unwrap();
        assert_eq!(record.task.messages.len(), turns.len() - 1);
        assert_eq!(
            record.attempts[0].response.as_deref(),
            turns.last().unwrap()["content"].as_str()
        );
    }
}

#[test]
fn messages_reasoning_parts_and_tool_calls() {
    let rows = load_rows("llamafactory-demo/reason_tool_use_demo.head30.jsonl", 30);
    let records = assert_round_trip(layout::by_name("messages").unwrap(), &rows);
    // Row 0: system, user, assistant [reasoning, text] — an answer with a trace.
    let first = &records[0];
    assert_eq!(first.object, ObjectKind::PromptTraceAnswer);
    assert!(first.attempts[0]
        .trace
        .as_deref()
        .unwrap()
        .starts_with("Okay, the user"));
    assert!(first.attempts[0]
        .response
        .as_deref()
        .unwrap()
        .starts_with("I'm sorry"));
    assert_eq!(first.task.messages[0].role, "system");
    assert!(first.lineage.fields.iter().any(|f| f == "@parts"));
    // Tool rows: one event per tool_call part; observations attached.
    let mut tool_rows = 0;
    for (row, record) in rows.iter().zip(&records) {
        let parts: usize = row["messages"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|m| m["content"].as_array().unwrap())
            .filter(|p| p["type"] == "tool_call")
            .count();
        if parts == 0 {
            continue;
        }
        tool_rows += 1;
        assert_eq!(record.object, ObjectKind::ToolTrajectory);
        let events = &record.attempts[0].events;
        assert_eq!(events.iter().filter(|e| e.tool.is_some()).count(), parts);
        let has_tool_turn = row["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["role"] == "tool");
        assert_eq!(
            events
                .iter()
                .filter(|e| e.tool.is_some())
                .any(|e| e.observation.is_some()),
            has_tool_turn
        );
        // The reasoning before a call is the event's thought.
        assert!(events
            .iter()
            .any(|e| e.tool.is_some() && e.thought.is_some()));
    }
    assert!(tool_rows >= 5);
}

#[test]
fn dpo_v1_messages_split_the_implicit_prompt() {
    let rows = load_rows("llamafactory-demo/v1_dpo_demo.jsonl", 10);
    let records = assert_round_trip(layout::by_name("dpo").unwrap(), &rows);
    for record in &records {
        assert_eq!(record.object, ObjectKind::PreferencePair);
        assert_eq!(record.task.messages.len(), 2); // system + user shared
        assert_eq!(record.attempts[0].role, AttemptRole::Chosen);
        assert_eq!(record.attempts[1].role, AttemptRole::Rejected);
        assert_ne!(record.attempts[0].response, record.attempts[1].response);
    }
}

#[test]
fn sharegpt_dpo_round_trips() {
    let rows = load_rows("llamafactory-demo/dpo_en_demo.head30.json", 30);
    let records = assert_round_trip(layout::by_name("sharegpt_dpo").unwrap(), &rows);
    for (row, record) in rows.iter().zip(&records) {
        assert_eq!(record.object, ObjectKind::PreferencePair);
        assert_eq!(
            record.attempts[0].response.as_deref(),
            row["chosen"]["value"].as_str()
        );
        assert_eq!(
            record.task.messages.len(),
            row["conversations"].as_array().unwrap().len()
        );
    }
}

#[test]
fn hh_rlhf_shared_prefix_is_the_prompt() {
    let rows = load_rows("hh-rlhf/harmless-base-test.head300.jsonl.gz", 300);
    let records = assert_round_trip(layout::by_name("hh_rlhf").unwrap(), &rows);
    let first = &records[0];
    assert_eq!(
        first.task.messages[0].content.as_deref(),
        Some("what are some pranks with a pen i can do?")
    );
    assert_eq!(first.task.messages.last().unwrap().role, "user");
    // Human, Assistant, Human, Assistant, Human are shared; the last answers differ.
    assert_eq!(first.task.messages.len(), 5);
    assert!(first.attempts[0]
        .response
        .as_deref()
        .unwrap()
        .starts_with("No, sorry!"));
    assert!(first.attempts[1]
        .response
        .as_deref()
        .unwrap()
        .starts_with("There are lots"));
    for (row, record) in rows.iter().zip(&records) {
        let chosen = row["chosen"].as_str().unwrap();
        let response = record.attempts[0].response.as_deref().unwrap();
        assert!(chosen.ends_with(response));
    }
}

#[test]
fn tau_bench_reward_is_an_imported_episode_verdict() {
    let rows = load_rows("tau-bench/gpt-4o-airline.head16.json.gz", 16);
    let records = assert_round_trip(layout::by_name("tau_bench").unwrap(), &rows);
    for (row, record) in rows.iter().zip(&records) {
        assert_eq!(record.object, ObjectKind::EnvironmentEpisode);
        let attempt = &record.attempts[0];
        let feedback = &attempt.feedback[0];
        assert!(feedback.verifier.imported);
        assert_eq!(feedback.verifier.name, "reward");
        assert_eq!(feedback.granularity, Granularity::Episode);
        assert_eq!(feedback.score, row["reward"].as_f64());
        let calls: usize = row["traj"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["tool_calls"].as_array())
            .map(Vec::len)
            .sum();
        let tool_events: Vec<_> = attempt.events.iter().filter(|e| e.tool.is_some()).collect();
        assert_eq!(tool_events.len(), calls);
        assert!(tool_events.iter().all(|e| e.observation.is_some()));
        assert!(record.id.starts_with("test-"));
    }
    // Distinct ids for the trials of one task.
    assert_ne!(records[0].id, records[1].id);
    // Some tool calls fail (`Error: ...` observations).
    assert!(records
        .iter()
        .flat_map(|r| &r.attempts[0].events)
        .any(|e| e.error.is_some()));
}

#[test]
fn tau_bench_few_shot_display_round_trips() {
    let rows = load_rows("tau-bench/MockAirlineDomainEnv-few_shot.head10.jsonl", 10);
    let records = assert_round_trip(layout::by_name("tau_bench").unwrap(), &rows);
    let first = &records[0];
    assert_eq!(first.object, ObjectKind::ToolTrajectory);
    assert!(!first.attempts[0].messages.is_empty());
    // "assistant: None" then "tool: Error: user not found".
    assert!(first.attempts[0]
        .events
        .iter()
        .any(|e| e.error.as_deref() == Some("Error: user not found")));
}

#[test]
fn swe_agent_trajectories_round_trip_with_steps() {
    for path in [
        "swe-agent/swe-agent__test-repo-i1.traj",
        "swe-agent/6e44b9__sweagenttestrepo-1c2844.traj",
        "swe-agent/pydicom__pydicom-1458.traj.gz",
    ] {
        let rows = load_rows(path, 1);
        let records = assert_round_trip(layout::by_name("swe_agent").unwrap(), &rows);
        let record = &records[0];
        let steps = rows[0]["trajectory"].as_array().unwrap();
        assert_eq!(record.object, ObjectKind::EnvironmentEpisode, "{path}");
        let attempt = &record.attempts[0];
        assert_eq!(attempt.events.len(), steps.len(), "{path}");
        assert_eq!(attempt.finish_reason.as_deref(), Some("submitted"));
        let last = attempt.events.last().unwrap();
        assert_eq!(last.tool.as_deref(), Some("submit"));
        assert!(last.state_diff.as_deref().unwrap().contains("diff --git"));
        assert!(record
            .task
            .prompt
            .as_deref()
            .is_some_and(|p| !p.contains("INSTRUCTIONS:")));
    }
}

#[test]
fn toolbench_trees_round_trip_with_win_feedback() {
    for (path, win) in [
        ("toolbench/G1_10_ChatGPT_DFS_woFilter_w2.json", true),
        ("toolbench/G2_127_ChatGPT_DFS_woFilter_w2.json", false),
    ] {
        let rows = load_rows(path, 1);
        let records = assert_round_trip(layout::by_name("toolbench").unwrap(), &rows);
        let attempt = &records[0].attempts[0];
        let feedback = &attempt.feedback[0];
        assert!(feedback.verifier.imported);
        assert_eq!(feedback.passed(), Some(win), "{path}");
        assert!(attempt.events.iter().filter(|e| e.tool.is_some()).count() >= 2);
        assert!(records[0].task.prompt.is_some());
        if win {
            assert!(
                attempt.response.as_deref().unwrap().contains("Gondrand")
                    || attempt.response.is_some()
            );
            assert_eq!(attempt.finish_reason.as_deref(), Some("give_answer"));
            assert_eq!(
                attempt.events.last().unwrap().tool.as_deref(),
                Some("Finish")
            );
        }
    }
}

#[test]
fn prompt_completion_standard_and_conversational_round_trip() {
    let rows = vec![
        json!({"prompt": "2+2?", "completion": "<think>2 and 2</think>4", "label": true}),
        json!({"prompt": [{"role": "user", "content": "hi"}], "completion": [{"role": "assistant", "content": "hello"}]}),
        json!({"prompt": "x", "completion": "y", "extra": 3}),
    ];
    let records = assert_round_trip(layout::by_name("prompt_completion").unwrap(), &rows);
    assert_eq!(records[0].object, ObjectKind::PromptTraceAnswer);
    assert_eq!(records[0].attempts[0].trace.as_deref(), Some("2 and 2"));
    assert_eq!(records[0].attempts[0].feedback[0].verdict, Verdict::Pass);
    assert_eq!(records[1].task.messages.len(), 1);
    assert_eq!(records[1].attempts[0].response.as_deref(), Some("hello"));
}

#[test]
fn dpo_string_and_implicit_conversation_rows_round_trip() {
    let rows = vec![
        json!({"prompt": "Q", "chosen": "good", "rejected": "bad"}),
        json!({"chosen": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "<think>a</think>good"}],
               "rejected": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "bad"}]}),
        json!({"prompt": [{"role": "user", "content": "Q"}], "chosen": [{"role": "assistant", "content": "good"}],
               "rejected": [{"role": "assistant", "content": "bad"}], "score_chosen": 8.0}),
    ];
    let records = assert_round_trip(layout::by_name("dpo").unwrap(), &rows);
    assert_eq!(records[1].task.messages.len(), 1);
    assert_eq!(records[1].attempts[0].trace.as_deref(), Some("a"));
    assert_eq!(records[2].meta["score_chosen"], json!(8.0));
}

#[test]
fn gsm8k_converts_to_chat_layouts_with_the_reference_as_answer() {
    let rows = load_rows("gsm8k/test.head50.jsonl", 3);
    let record = read("gsm8k", rows[0].clone());
    let messages = write("messages", &record);
    let turns = messages["messages"].as_array().unwrap();
    assert_eq!(turns.len(), 2);
    assert_eq!(turns[0]["role"], "user");
    assert_eq!(turns[0]["content"], rows[0]["question"]);
    assert_eq!(turns[1]["role"], "assistant");
    assert_eq!(turns[1]["content"], rows[0]["answer"]);
    let sharegpt = write("sharegpt", &record);
    assert_eq!(sharegpt["conversations"][0]["from"], "human");
    assert_eq!(sharegpt["conversations"][1]["from"], "gpt");
    assert_eq!(sharegpt["conversations"][1]["value"], rows[0]["answer"]);
    let pc = write("prompt_completion", &record);
    assert_eq!(pc["prompt"], rows[0]["question"]);
    assert_eq!(pc["completion"], rows[0]["answer"]);
    // Not a preference pair: the DPO writers say which field is missing.
    let err = write_row(layout::by_name("dpo").unwrap(), &record, false).unwrap_err();
    assert!(err.to_string().contains("chosen"), "{err}");
    // The converted rows read back as the same conversation.
    let again = read("messages", messages);
    assert_eq!(again.task.problem_text(), rows[0]["question"].as_str());
    assert_eq!(
        again.attempts[0].response.as_deref(),
        rows[0]["answer"].as_str()
    );
}

#[test]
fn preference_pairs_convert_across_layouts() {
    let rows = load_rows("hh-rlhf/harmless-base-test.head300.jsonl.gz", 2);
    let record = read("hh_rlhf", rows[0].clone());
    // hh -> dpo (conversational, explicit prompt) -> hh gives the transcript back.
    let dpo = write("dpo", &record);
    assert_eq!(dpo["prompt"].as_array().unwrap().len(), 5);
    assert_eq!(dpo["chosen"][0]["role"], "assistant");
    let back = read("dpo", dpo);
    let hh = write("hh_rlhf", &back);
    assert_eq!(hh, rows[0]);
    // hh -> sharegpt_dpo.
    let sg = write("sharegpt_dpo", &record);
    assert_eq!(sg["conversations"][0]["from"], "human");
    assert_eq!(sg["chosen"]["from"], "gpt");
    // A ShareGPT DPO row -> TRL dpo keeps the system turn in the prompt.
    let rows = load_rows("llamafactory-demo/dpo_en_demo.head30.json", 30);
    let with_system = rows
        .iter()
        .find(|r| r["conversations"][0]["from"] == "system")
        .expect("a row with a system turn");
    let record = read("sharegpt_dpo", with_system.clone());
    let dpo = write("dpo", &record);
    assert_eq!(dpo["prompt"][0]["role"], "system");
    assert_eq!(dpo["chosen"][0]["content"], with_system["chosen"]["value"]);
}

#[test]
fn tool_trajectories_convert_to_messages_and_sharegpt() {
    let rows = load_rows("llamafactory-demo/glaive_toolcall_en_demo.head40.json", 1);
    let record = read("sharegpt", rows[0].clone());
    let messages = write("messages", &record);
    let turns = messages["messages"].as_array().unwrap();
    assert_eq!(turns.len(), 8);
    let call = &turns[3];
    assert_eq!(call["role"], "assistant");
    assert_eq!(call["tool_calls"][0]["function"]["name"], "search_recipes");
    assert_eq!(turns[4]["role"], "tool");
    // messages -> sharegpt gives the original conversation back.
    let back = read("messages", messages);
    assert_eq!(
        back.attempts[0].events.len(),
        record.attempts[0].events.len()
    );
    let sg = write("sharegpt", &back);
    assert_eq!(sg["conversations"][4], rows[0]["conversations"][4]);
    assert_eq!(sg["conversations"][3]["from"], "function_call");
    // tau-bench -> messages.
    let tau = load_rows("tau-bench/gpt-4o-airline.head16.json.gz", 1);
    let record = read("tau_bench", tau[0].clone());
    let out = write("messages", &record);
    assert_eq!(
        out["messages"].as_array().unwrap().len(),
        tau[0]["traj"].as_array().unwrap().len()
    );
}

#[test]
fn bad_rows_name_the_field() {
    assert!(read_err("messages", json!({"messages": "hi"})).contains("messages"));
    assert!(
        read_err("messages", json!({"messages": [{"content": "x"}]})).contains("messages[0].role")
    );
    assert!(read_err(
        "sharegpt",
        json!({"conversations": [{"from": "human", "value": 3.5}]})
    )
    .contains("conversations[0].value"));
    assert!(
        read_err("dpo", json!({"prompt": "q", "chosen": 1, "rejected": "b"})).contains("chosen")
    );
    assert!(read_err(
        "prompt_completion",
        json!({"prompt": {"a": 1}, "completion": "x"})
    )
    .contains("prompt"));
    assert!(
        read_err("tau_bench", json!({"task_id": 1, "traj": [{"role": 5}]}))
            .contains("traj[0].role")
    );
    assert!(read_err("swe_agent", json!({"trajectory": "x", "info": {}})).contains("trajectory"));
    assert!(read_err("toolbench", json!({"answer_generation": 3})).contains("answer_generation"));
    assert!(read_err("hh_rlhf", json!({"chosen": "\n\nHuman: x"})).contains("rejected"));
}

#[test]
fn message_key_order_survives_the_round_trip() {
    // kto: `{content, role}`; tau-bench: assistant `{content, role, tool_calls}`, tool
    // `{role, tool_call_id, name, content}`; ToolBench: `win` first.
    for (path, name, n) in [
        ("llamafactory-demo/kto_en_demo.head60.json", "messages", 20),
        ("tau-bench/gpt-4o-airline.head16.json.gz", "tau_bench", 8),
        (
            "toolbench/G1_10_ChatGPT_DFS_woFilter_w2.json",
            "toolbench",
            1,
        ),
        (
            "llamafactory-demo/glaive_toolcall_en_demo.head40.json",
            "sharegpt",
            20,
        ),
    ] {
        let layout = layout::by_name(name).unwrap();
        for row in load_rows(path, n) {
            let record = read(name, row.clone());
            let back = write_row(layout, &record, true).unwrap();
            assert_eq!(
                serde_json::to_string(&back).unwrap(),
                serde_json::to_string(&row).unwrap(),
                "{path}"
            );
        }
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    const LAYOUTS: [&str; 10] = [
        "sharegpt",
        "sharegpt_dpo",
        "messages",
        "prompt_completion",
        "dpo",
        "hh_rlhf",
        "swe_agent",
        "tau_bench",
        "toolbench",
        "verity",
    ];

    /// One or two real rows of every sample file (plus TRL shapes).
    fn samples() -> &'static Vec<Value> {
        static SAMPLES: OnceLock<Vec<Value>> = OnceLock::new();
        SAMPLES.get_or_init(|| {
            let mut rows = Vec::new();
            for path in [
                "llamafactory-demo/glaive_toolcall_en_demo.head40.json",
                "llamafactory-demo/dpo_en_demo.head30.json",
                "llamafactory-demo/kto_en_demo.head60.json",
                "llamafactory-demo/reason_tool_use_demo.head30.jsonl",
                "llamafactory-demo/v1_dpo_demo.jsonl",
                "hh-rlhf/harmless-base-test.head300.jsonl.gz",
                "tau-bench/gpt-4o-airline.head16.json.gz",
                "tau-bench/MockAirlineDomainEnv-few_shot.head10.jsonl",
                "swe-agent/swe-agent__test-repo-i1.traj",
                "toolbench/G1_10_ChatGPT_DFS_woFilter_w2.json",
            ] {
                rows.extend(load_rows(path, 2));
            }
            rows.push(json!({"prompt": "2+2?", "completion": "<think>a</think>4", "label": false}));
            rows.push(json!({"prompt": [{"role": "user", "content": "q"}], "chosen": [{"role": "assistant", "content": "a"}], "rejected": [{"role": "assistant", "content": "b"}]}));
            rows
        })
    }

    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                "[a-z ]{0,8}",
                Just("<think>".to_string()),
                Just("</think>".to_string()),
                Just("\n\nHuman:".to_string()),
                Just("\n\nAssistant:".to_string()),
                Just(" ".to_string()),
                Just("user: ".to_string()),
                Just("\nassistant: ".to_string()),
                Just("\ntool: ".to_string()),
                Just("None".to_string()),
                Just("Error: x".to_string()),
                Just("{\"name\": \"f\", \"arguments\": {\"a\": 1}}".to_string()),
                Just("{\"error\": \"bad\"}".to_string()),
                Just("ISSUE:\n".to_string()),
            ],
            0..6,
        )
        .prop_map(|parts| parts.concat())
    }

    fn key() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "role",
            "content",
            "from",
            "value",
            "type",
            "reasoning_content",
            "reasoning",
            "tool_calls",
            "function",
            "function_call",
            "name",
            "arguments",
            "tool_call_id",
            "id",
            "messages",
            "conversations",
            "chosen",
            "rejected",
            "chosen_messages",
            "rejected_messages",
            "prompt",
            "completion",
            "label",
            "system",
            "tools",
            "traj",
            "reward",
            "task_id",
            "trial",
            "info",
            "trajectory",
            "action",
            "observation",
            "thought",
            "submission",
            "exit_status",
            "history",
            "is_demo",
            "answer_generation",
            "train_messages",
            "final_answer",
            "finish_type",
            "win",
            "query",
            "messages_display",
            "loss_weight",
        ])
        .prop_map(str::to_string)
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(|n| json!(n)),
            prop_oneof![Just(0.0), Just(1.0), Just(0.5)].prop_map(|x: f64| json!(x)),
            text().prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((key(), inner), 0..4)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    fn check(row: &Fields) -> Result<(), TestCaseError> {
        let ctx = RowContext {
            file: "x.jsonl",
            dataset: "x",
            row: 0,
        };
        for name in LAYOUTS {
            let l = layout::by_name(name).unwrap();
            let _ = l.detect(row);
            if let Ok(record) = read_row(l, row.clone(), &ctx) {
                let back = write_row(l, &record, true)
                    .unwrap_or_else(|e| panic!("{name}: read but cannot write: {e}"));
                let row_value = Value::Object(row.clone());
                prop_assert!(
                    back == row_value,
                    "{} round trip differs at {}",
                    name,
                    first_diff(&back, &row_value, String::new())
                );
                let wire = serde_json::to_string(&record).unwrap();
                let reparsed: Record = serde_json::from_str(&wire).unwrap();
                prop_assert_eq!(&reparsed, &record, "{}", name);
                // Writing in every other layout never panics (an error is fine).
                for other in LAYOUTS {
                    let _ = write_row(layout::by_name(other).unwrap(), &record, true);
                }
            }
        }
        Ok(())
    }

    /// Path and values of the first difference between two JSON values.
    fn first_diff(a: &Value, b: &Value, path: String) -> String {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for key in x.keys().chain(y.keys()) {
                    match (x.get(key), y.get(key)) {
                        (Some(p), Some(q)) if p == q => {}
                        (Some(p), Some(q)) => return first_diff(p, q, format!("{path}.{key}")),
                        (p, q) => return format!("{path}.{key}: {p:?} vs {q:?}"),
                    }
                }
                format!("{path}: equal")
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    if p != q {
                        return first_diff(p, q, format!("{path}[{i}]"));
                    }
                }
                format!("{path}: equal")
            }
            _ => format!("{path}: {a} vs {b}"),
        }
    }

    /// Walk `path` into `value` (array items / object values) and return the spot.
    fn spot<'a>(value: &'a mut Value, path: &[prop::sample::Index]) -> &'a mut Value {
        let Some((first, rest)) = path.split_first() else {
            return value;
        };
        let len = match &*value {
            Value::Array(items) => items.len(),
            Value::Object(map) => map.len(),
            _ => 0,
        };
        if len == 0 {
            return value;
        }
        let i = first.index(len);
        let next = match value {
            Value::Array(items) => &mut items[i],
            Value::Object(map) => map.values_mut().nth(i).unwrap(),
            other => other,
        };
        spot(next, rest)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Real rows with one value replaced (at any depth) or removed never panic an adapter;
        /// a row an adapter reads is written back exactly.
        #[test]
        fn mutated_real_rows_never_panic(
            which in any::<prop::sample::Index>(),
            path in prop::collection::vec(any::<prop::sample::Index>(), 1..5),
            replacement in prop::option::of(value()),
        ) {
            let rows = samples();
            let mut row = rows[which.index(rows.len())].clone();
            match replacement {
                Some(v) => *spot(&mut row, &path) = v,
                None => {
                    // Remove the spot's key from its parent object (or drop an array item).
                    let (last, parent_path) = path.split_last().unwrap();
                    match spot(&mut row, parent_path) {
                        Value::Object(map) if !map.is_empty() => {
                            let k = map.keys().nth(last.index(map.len())).cloned().unwrap();
                            map.shift_remove(&k);
                        }
                        Value::Array(items) if !items.is_empty() => {
                            let i = last.index(items.len());
                            items.remove(i);
                        }
                        _ => {}
                    }
                }
            }
            if let Value::Object(row) = row {
                check(&row)?;
            }
        }

        /// Arbitrary rows never panic an adapter.
        #[test]
        fn arbitrary_rows_never_panic(row in prop::collection::vec((key(), value()), 0..8)) {
            let row: Fields = row.into_iter().collect();
            check(&row)?;
        }
    }
}

#[test]
fn swe_agent_steps_convert_to_tool_call_messages() {
    let rows = load_rows("swe-agent/swe-agent__test-repo-i1.traj", 1);
    let record = read("swe_agent", rows[0].clone());
    let steps = rows[0]["trajectory"].as_array().unwrap();
    let out = write("messages", &record);
    let turns = out["messages"].as_array().unwrap();
    // user issue, then (assistant call + tool observation) per step, then the patch.
    assert_eq!(turns.len(), 1 + 2 * steps.len() + 1);
    assert_eq!(turns[0]["role"], "user");
    let first_command = steps[0]["action"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .next();
    assert_eq!(
        turns[1]["tool_calls"][0]["function"]["name"].as_str(),
        first_command
    );
    assert_eq!(turns[2]["role"], "tool");
    assert_eq!(turns[2]["content"], steps[0]["observation"]);
    assert!(turns.last().unwrap()["content"]
        .as_str()
        .unwrap()
        .contains("diff --git"));
    // Read back as a messages tool trajectory with the same number of tool events.
    let again = read("messages", out);
    let calls = again.attempts[0]
        .events
        .iter()
        .filter(|e| e.tool.is_some())
        .count();
    assert_eq!(calls, steps.len());
}

#[test]
fn sharegpt_system_column_and_user_role_names() {
    // OpenThoughts-style row shape (hand-written: no real OpenThoughts rows are available
    // offline): `system` column, `user`/`assistant` role names, a think block.
    let row = json!({
        "system": "Think step by step.",
        "conversations": [
            {"from": "user", "value": "What is 2+3?"},
            {"from": "assistant", "value": "<think>2+3=5</think>The answer is 5."}
        ]
    });
    let records = assert_round_trip(layout::by_name("sharegpt").unwrap(), &[row]);
    let record = &records[0];
    assert_eq!(record.object, ObjectKind::PromptTraceAnswer);
    assert_eq!(record.task.messages[0].role, "system");
    assert_eq!(record.attempts[0].trace.as_deref(), Some("2+3=5"));
    assert_eq!(
        record.attempts[0].response.as_deref(),
        Some("The answer is 5.")
    );
    let out = write("messages", record);
    assert_eq!(out["messages"][0]["role"], "system");
    assert_eq!(
        out["messages"][2]["content"],
        "<think>2+3=5</think>The answer is 5."
    );
}

#[test]
fn messages_separate_reasoning_field_keeps_its_name() {
    // Hand-written rows in the DeepSeek-R1 API / OpenAI-compatible shape.
    let rows = [
        json!({"messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "a", "reasoning_content": "t"}
        ]}),
        json!({"messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "a", "thinking": "t"}
        ]}),
    ];
    let records = assert_round_trip(layout::by_name("messages").unwrap(), &rows);
    for record in &records {
        assert_eq!(record.object, ObjectKind::PromptTraceAnswer);
        assert_eq!(record.attempts[0].trace.as_deref(), Some("t"));
        assert_eq!(record.attempts[0].response.as_deref(), Some("a"));
        // Another layout gets the trace as a think block.
        let sg = write("sharegpt", record);
        assert_eq!(sg["conversations"][1]["value"], "<think>t</think>a");
    }
    assert!(records[1]
        .lineage
        .fields
        .iter()
        .any(|f| f == "@reasoning=thinking"));
}
