//! Prompt-file, YAML, JSON and notebook extraction over `tests/fixtures/files`, through the
//! real binary (`promptlint prompts --format json`) and through the library (the offset-map
//! invariant on every prompt). The notebook's code-cell prompt goes through the Python extractor.

use std::path::Path;

use assert_cmd::Command;
use promptlint::extract::{Extractor, PromptSpec, RawPromptsSpec};
use promptlint::source::SourceFile;

const ROOT: &str = "tests/fixtures/files";

fn inventory() -> serde_json::Value {
    let out = Command::cargo_bin("promptlint")
        .expect("binary")
        .args(["prompts", "--format", "json", ROOT])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json output")
}

#[test]
fn inventory_ids_formats_and_lines() {
    let json = inventory();
    assert_eq!(json["errors"].as_array().map(Vec::len), Some(0), "{json}");
    let prompts = json["prompts"].as_array().expect("prompts list");
    let mut rows: Vec<String> = Vec::new();
    let mut notebook_prompts = 0;
    for p in prompts {
        let id = p["id"]
            .as_str()
            .unwrap()
            .trim_start_matches("tests/fixtures/files/");
        if id.starts_with("notebooks/") {
            // The third cell's chat call, on the lines of its `source` strings in the .ipynb
            // file (35-45).
            notebook_prompts += 1;
            assert!(id.starts_with("notebooks/support_bot.ipynb#cell3:"), "{id}");
            assert_eq!(p["format"], "notebook");
            let (line, end) = (p["line"].as_u64().unwrap(), p["end_line"].as_u64().unwrap());
            assert!(
                (35..=45).contains(&line) && (line..=45).contains(&end),
                "{id}: {line}-{end}"
            );
            continue;
        }
        let placeholders: Vec<&str> = p["placeholders"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        rows.push(format!(
            "{id} {} {}-{} [{}]",
            p["format"].as_str().unwrap(),
            p["line"],
            p["end_line"],
            placeholders.join(",")
        ));
    }
    let expected = [
        ".cursor/rules/style.mdc markdown 6-6 []",
        "AGENTS.md markdown 1-4 []",
        "agents/default.yaml#agent.templates.system_template yaml 6-8 []",
        "agents/default.yaml#agent.templates.instance_template yaml 9-9 [problem_statement]",
        "agents/default.yaml#agent.templates.next_step_template yaml 10-10 [observation,open_file]",
        "agents/summarize.prompt.yaml#messages yaml 5-9 [ticket]",
        "chat.prompty prompty 14-29 [documentation,item.id,item.title,item.content,firstName,lastName,age,question]",
        "crew/config/agents.yaml#researcher yaml 3-9 [topic]",
        "crew/config/agents.yaml#reporting_analyst yaml 13-17 [topic]",
        "crew/config/tasks.yaml#research_task yaml 3-7 [topic,current_year]",
        "flows/answer.jinja2 jinja 1-9 [documents,loop.index,doc.content,question]",
        "plugins/Summarize/skprompt.txt text 1-7 [input]",
        "promptfooconfig.yaml#prompts[1] yaml 4-4 [topic]",
        "prompts/classify.txt text 1-7 [ticket]",
        "prompts/langchain/qa_prompt.json#template json 4-4 [context,question]",
        "prompts/philosophy text 1-2 []",
        "prompts/summary.md markdown 1-7 [team_name,ticket_text]",
        "trip.prompt dotprompt 10-16 [days,destination,interests,history]",
    ];
    assert_eq!(rows, expected, "actual:\n{}", rows.join("\n"));
    assert_eq!(notebook_prompts, 1, "the notebook's code-cell prompt");
}

#[test]
fn ci_config_and_docs_yield_nothing() {
    let json = inventory();
    for p in json["prompts"].as_array().unwrap() {
        let id = p["id"].as_str().unwrap();
        for quiet in [".github/workflows", "k8s/", "prompts/README.md"] {
            assert!(!id.contains(quiet), "{id} should not be a prompt");
        }
    }
}

/// Every verbatim piece of every prompt equals the file bytes it claims, and every prompt's
/// file span lies inside its file.
#[test]
fn offset_maps_hold_on_every_fixture() {
    let spec = PromptSpec::compile(&RawPromptsSpec::default(), &[]).unwrap();
    let mut extractor = Extractor::new(&spec);
    let mut files = Vec::new();
    collect(Path::new(ROOT), &mut files);
    let mut checked = 0;
    for path in files {
        let rel = path.to_string_lossy().replace('\\', "/");
        let Some(kind) = spec.classify(&rel) else {
            continue;
        };
        let bytes = std::fs::read(&path).unwrap();
        let file = SourceFile::from_bytes(bytes, path.clone(), rel.clone(), kind).unwrap();
        let (prompts, error) = extractor.extract(&file);
        assert!(error.is_none(), "{rel}: {error:?}");
        for p in prompts {
            let span = p.file_span();
            assert!(span.end <= file.text.len(), "{}", p.id);
            for piece in p.map.pieces().iter().filter(|x| x.verbatim) {
                assert_eq!(
                    &p.text[piece.prompt_start..piece.prompt_start + piece.prompt_len],
                    &file.text[piece.file_start..piece.file_start + piece.file_len],
                    "{}",
                    p.id
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 18, "only {checked} prompts checked");
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, out);
        } else {
            out.push(p);
        }
    }
}
