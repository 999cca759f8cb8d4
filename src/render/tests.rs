//! Renderers on a hand-built multi-span finding (the shape contradiction findings have): the
//! related span must reach SARIF `relatedLocations`, JSON `related` and the human snippet.

use serde_json::Value;

use super::Options;
use crate::cli::args::OutputFormat;
use crate::finding::{Finding, Label, Report};
use crate::packs::compile::compile_builtin;
use crate::packs::Severity;
use crate::span::{FileSpan, LineIndex};

const TEXT: &str =
    "Always answer in JSON.\nBe brief and friendly.\nNever answer in JSON; reply in prose.\n";

fn report() -> Report {
    let index = LineIndex::new(TEXT);
    let at = |needle: &str| {
        let s = TEXT.find(needle).unwrap();
        FileSpan::new(s, s + needle.len())
    };
    let primary = at("Never answer in JSON");
    let other = at("Always answer in JSON");
    let finding = Finding {
        rule: "contradiction/output-format".into(),
        severity: Severity::Warning,
        message: "contradictory output format: JSON and prose".into(),
        help: Some("keep one output format".into()),
        path: "prompts/agent.md".into(),
        span: primary,
        start: index.line_col(TEXT, primary.start),
        end: index.line_col(TEXT, primary.end),
        related: vec![Label {
            path: "prompts/agent.md".into(),
            span: other,
            start: index.line_col(TEXT, other.start),
            end: index.line_col(TEXT, other.end),
            message: "the other instruction".into(),
        }],
        prompt_id: Some("prompts/agent.md".into()),
        fingerprint: "0123456789abcdef".into(),
        masks: Vec::new(),
    };
    Report {
        findings: vec![finding],
        errors: vec![crate::finding::FileError {
            path: "data/x.ipynb".into(),
            message: "not valid JSON".into(),
        }],
        files_scanned: 2,
        prompts: 1,
        sources: vec![("prompts/agent.md".into(), TEXT.into())],
    }
}

fn render(format: OutputFormat) -> String {
    let rules = compile_builtin(&|_| true).unwrap();
    super::render_check(
        &report(),
        format,
        &Options {
            quiet: false,
            show_pii: false,
            fail_on: Severity::Warning,
            rules: &rules,
        },
    )
}

#[test]
#[allow(clippy::print_stderr)]
fn sarif_related_locations() {
    let v: Value = serde_json::from_str(&render(OutputFormat::Sarif)).unwrap();
    let result = &v["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "contradiction/output-format");
    assert_eq!(result["level"], "warning");
    let region = &result["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (
            region["startLine"].as_u64(),
            region["startColumn"].as_u64(),
            region["endColumn"].as_u64()
        ),
        (Some(3), Some(1), Some(21))
    );
    let related = &result["relatedLocations"][0];
    assert_eq!(related["id"], 1);
    assert_eq!(related["message"]["text"], "the other instruction");
    assert_eq!(related["physicalLocation"]["region"]["startLine"], 1);
    assert_eq!(
        related["physicalLocation"]["artifactLocation"]["uri"],
        "prompts/agent.md"
    );
    assert_eq!(
        result["partialFingerprints"]["promptlintFingerprint/v1"],
        "0123456789abcdef"
    );
    let note = &v["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
    assert_eq!(note["message"]["text"], "not valid JSON");
    // Against the official schema when it is available (see tests/ci.rs for where it lives).
    let schema_path = std::env::var_os("PROMPTLINT_SARIF_SCHEMA")
        .map(std::path::PathBuf::from)
        .into_iter()
        .chain([std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/schemas/sarif-schema-2.1.0.json")])
        .find(|p| p.is_file());
    match schema_path {
        Some(p) => {
            let schema: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
            let validator = jsonschema::draft4::new(&schema).unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&v)
                .map(|e| format!("{e} at {}", e.instance_path))
                .collect();
            assert!(errors.is_empty(), "{errors:?}");
        }
        None => eprintln!(
            "SKIPPED schema validation: ../shared/schemas/sarif-schema-2.1.0.json not found"
        ),
    }
}

#[test]
fn json_and_human_show_the_related_span() {
    let v: Value = serde_json::from_str(&render(OutputFormat::Json)).unwrap();
    let related = &v["findings"][0]["related"][0];
    assert_eq!(
        (related["line"].as_u64(), related["column"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(related["message"], "the other instruction");
    let human = render(OutputFormat::Human);
    assert!(
        human.contains(
            "warning[contradiction/output-format]: contradictory output format: JSON and prose"
        ),
        "{human}"
    );
    assert!(human.contains("--> prompts/agent.md:3:1"), "{human}");
    assert!(
        human.contains("Always answer in JSON.") && human.contains("the other instruction"),
        "{human}"
    );
    assert!(
        human.contains("Never answer in JSON; reply in prose."),
        "{human}"
    );
}

#[test]
fn github_and_gitlab_lines() {
    let gh = render(OutputFormat::Github);
    assert!(gh.starts_with("::warning file=prompts/agent.md,line=3,col=1,endLine=3,endColumn=21,title=promptlint contradiction/output-format::contradictory output format: JSON and prose\n"), "{gh}");
    assert!(
        gh.contains("::warning file=data/x.ipynb,title=promptlint::not valid JSON"),
        "{gh}"
    );
    let gl: Value = serde_json::from_str(&render(OutputFormat::Gitlab)).unwrap();
    assert_eq!(gl[0]["severity"], "minor");
    assert_eq!(gl[0]["location"]["lines"]["begin"], 3);
}
