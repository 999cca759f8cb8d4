//! The Python extractor end to end: `promptlint prompts --format json` over
//! `tests/fixtures/python`, one realistic file per library plus negatives and a broken file.

use assert_cmd::Command;
use serde_json::Value;

fn inventory() -> Vec<Value> {
    let out = Command::cargo_bin("promptlint")
        .expect("binary")
        .args(["prompts", "--format", "json", "tests/fixtures/python"])
        .output()
        .expect("run promptlint");
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("json output");
    assert_eq!(json["errors"].as_array().map(Vec::len), Some(0), "{json}");
    json["prompts"].as_array().cloned().unwrap_or_default()
}

fn ids_in(prompts: &[Value], file: &str) -> Vec<String> {
    prompts
        .iter()
        .filter(|p| p["path"] == format!("tests/fixtures/python/{file}"))
        .filter_map(|p| {
            p["id"]
                .as_str()
                .map(|s| s.rsplit('#').next().unwrap_or(s).to_string())
        })
        .collect()
}

#[test]
fn fixture_inventory_snapshot() {
    let prompts = inventory();
    let view: Vec<Value> = prompts
        .iter()
        .map(|p| {
            serde_json::json!({
                "id": p["id"], "line": p["line"], "end_line": p["end_line"], "chars": p["chars"],
                "placeholders": p["placeholders"], "examples": p["examples"],
            })
        })
        .collect();
    insta::assert_json_snapshot!("python_fixture_inventory", view);
}

#[test]
fn every_library_shape_is_found() {
    let prompts = inventory();
    assert_eq!(
        ids_in(&prompts, "openai_chat.py"),
        [
            "client.chat.completions.create",
            "client.chat.completions.create[2]",
            "client.responses.create"
        ]
    );
    assert_eq!(
        ids_in(&prompts, "anthropic_cache.py"),
        ["client.messages.create", "client.messages.create[2]"]
    );
    assert_eq!(
        ids_in(&prompts, "langchain_app.py"),
        [
            "ChatPromptTemplate.from_messages",
            "PromptTemplate",
            "PromptTemplate.from_template",
            "PromptTemplate.from_template[2]",
            "FewShotPromptTemplate",
            "history"
        ]
    );
    assert_eq!(
        ids_in(&prompts, "llamaindex_rag.py"),
        ["PromptTemplate", "RichPromptTemplate", "PromptTemplate[2]"]
    );
    assert_eq!(
        ids_in(&prompts, "pydantic_ai_agent.py"),
        ["Agent", "add_the_users_name", "add_the_date"]
    );
    assert_eq!(
        ids_in(&prompts, "genai_app.py"),
        ["client.models.generate_content"]
    );
    assert_eq!(ids_in(&prompts, "litellm_app.py"), ["completion"]);
    assert_eq!(ids_in(&prompts, "dspy_program.py"), ["ExtractFacts"]);
    assert_eq!(
        ids_in(&prompts, "prompts.py"),
        [
            "SYSTEM_PROMPT",
            "SUMMARY_TEMPLATE",
            "REVIEW_INSTRUCTIONS",
            "SYSTEM_PERSONA",
            "GREETING_PROMPT",
            "FEW_SHOT_EXAMPLES",
            "REPORT_PROMPT",
            "Prompts.main_system",
            "Prompts.system_reminder",
            "build_prompt"
        ]
    );
}

#[test]
fn negatives_yield_nothing_and_broken_files_still_yield() {
    let prompts = inventory();
    assert!(
        ids_in(&prompts, "negatives.py").is_empty(),
        "{:?}",
        ids_in(&prompts, "negatives.py")
    );
    assert_eq!(
        ids_in(&prompts, "broken.py"),
        ["SYSTEM_PROMPT", "FALLBACK_PROMPT"]
    );
}

#[test]
fn few_shot_examples_and_volatile_placeholders_reach_the_inventory() {
    let prompts = inventory();
    let find = |id: &str| {
        prompts
            .iter()
            .find(|p| p["id"] == format!("tests/fixtures/python/{id}"))
            .unwrap_or_else(|| panic!("missing {id}"))
    };
    assert_eq!(
        find("langchain_app.py#FewShotPromptTemplate")["examples"],
        2
    );
    assert_eq!(find("prompts.py#FEW_SHOT_EXAMPLES")["examples"], 2);
    let placeholders = &find("openai_chat.py#client.chat.completions.create")["placeholders"];
    assert_eq!(
        placeholders,
        &serde_json::json!(["today()", "customer_email", "question"])
    );
}
