use super::*;
use serde_json::json;

#[test]
fn minimal_record_round_trips_through_json() {
    let mut record = Record::new("r1", ObjectKind::PromptAnswer);
    record.task.prompt = Some("2+2?".into());
    record.task.reference.answer = Some("4".into());
    record.meta.insert("custom".into(), json!({"a": [1, 2]}));
    let text = serde_json::to_string(&record).unwrap();
    let back: Record = serde_json::from_str(&text).unwrap();
    assert_eq!(back, record);
    // Empty parts are omitted from the wire form.
    assert!(!text.contains("attempts"));
    assert!(!text.contains("lineage"));
}

#[test]
fn object_kind_names_match_serde() {
    for kind in ObjectKind::ALL {
        let json = serde_json::to_value(kind).unwrap();
        assert_eq!(json, json!(kind.as_str()));
    }
}

#[test]
fn imported_grades_are_marked() {
    let id = VerifierId::imported("correctness_math_verify", Contract::Programmatic);
    let json = serde_json::to_value(&id).unwrap();
    assert_eq!(json["imported"], json!(true));
    let own = VerifierId::new("math", "1.0.0", Contract::Programmatic);
    assert!(serde_json::to_value(&own)
        .unwrap()
        .get("imported")
        .is_none());
}

#[test]
fn problem_text_falls_back_to_last_user_message() {
    let mut task = Task::default();
    task.messages.push(Message::new("system", "be brief"));
    task.messages.push(Message::new("user", "what is 1+1"));
    assert_eq!(task.problem_text(), Some("what is 1+1"));
}

#[test]
fn schema_lists_all_object_kinds() {
    let schema = Record::json_schema().to_string();
    for kind in ObjectKind::ALL {
        assert!(schema.contains(kind.as_str()), "{kind} missing from schema");
    }
}
