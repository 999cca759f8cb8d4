//! The contradiction pack on fixture prompts, through the real binary.
//!
//! Every file under `tests/fixtures/contradiction/prompts/` states its expectation in its name:
//! `pos_<rule>__<what>.md` must produce a `contradiction/<rule>` finding (with the earlier
//! directive as a related span and a help line); `neg__<what>.md` must produce no
//! contradiction finding at all.

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;

const DIR: &str = "tests/fixtures/contradiction";

fn findings() -> BTreeMap<String, Vec<serde_json::Value>> {
    let out = Command::cargo_bin("promptlint")
        .expect("binary builds")
        .current_dir(DIR)
        .args([
            "check",
            "--format",
            "json",
            "--select",
            "contradiction",
            "--exit-zero",
            "prompts",
        ])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(
        report["errors"].as_array().map(Vec::len),
        Some(0),
        "{}",
        report["errors"]
    );
    let mut by_file: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for f in report["findings"].as_array().expect("findings array") {
        let path = f["path"].as_str().expect("path").to_string();
        let name = path.rsplit('/').next().unwrap_or(&path).to_string();
        by_file.entry(name).or_default().push(f.clone());
    }
    by_file
}

#[test]
fn fixtures_meet_their_expectations() {
    let by_file = findings();
    let mut names: Vec<String> = std::fs::read_dir(Path::new(DIR).join("prompts"))
        .expect("fixture dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let positives = names.iter().filter(|n| n.starts_with("pos_")).count();
    let negatives = names.iter().filter(|n| n.starts_with("neg__")).count();
    assert!(
        positives >= 50 && negatives >= 50,
        "{positives} positive and {negatives} negative fixtures"
    );
    let mut problems = Vec::new();
    for name in &names {
        let found = by_file.get(name).cloned().unwrap_or_default();
        let rules: Vec<&str> = found.iter().filter_map(|f| f["rule"].as_str()).collect();
        if let Some(rest) = name.strip_prefix("pos_") {
            let want = format!("contradiction/{}", rest.split("__").next().unwrap_or(""));
            match found.iter().find(|f| f["rule"] == want.as_str()) {
                None => problems.push(format!("missing {want} in {name}: got {rules:?}")),
                Some(f) => {
                    let related = f["related"].as_array().map(Vec::len).unwrap_or(0);
                    if related != 1 || f["help"].as_str().is_none_or(str::is_empty) {
                        problems.push(format!(
                            "{name}: finding lacks its related span or help: {f}"
                        ));
                    }
                    if f["related"][0]["line"].as_u64() > f["line"].as_u64() {
                        problems.push(format!(
                            "{name}: the primary span must be the later directive: {f}"
                        ));
                    }
                }
            }
        } else if !found.is_empty() {
            problems.push(format!("noisy {name}: {rules:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn human_output_labels_both_spans() {
    let out = Command::cargo_bin("promptlint")
        .expect("binary builds")
        .current_dir(DIR)
        .args([
            "check",
            "--select",
            "contradiction",
            "prompts/pos_polarity__refunds.md",
        ])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("contradiction/polarity"), "{text}");
    assert!(text.contains("earlier:"), "{text}");
    assert!(text.contains("keep one"), "{text}");
}
