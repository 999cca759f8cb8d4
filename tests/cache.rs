//! The `cache` pack end to end: the real binary over `tests/fixtures/cache/`.
//!
//! `expected.json` (written by `tests/fixtures/cache/gen.py`) lists, per fixture file, the
//! findings `check --select cache` must report as `[rule, line]`; positives have exactly one,
//! hard negatives none. Any other finding fails the comparison.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cache")
}

type Found = BTreeMap<String, BTreeSet<(String, u64)>>;

fn run(args: &[&str]) -> Value {
    let out = Command::cargo_bin("promptlint")
        .expect("binary builds")
        .current_dir(fixtures())
        .args(args)
        .output()
        .expect("binary runs");
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "exit {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

fn findings(report: &Value) -> Found {
    assert_eq!(
        report["errors"].as_array().map(Vec::len),
        Some(0),
        "file errors: {}",
        report["errors"]
    );
    let mut found = Found::new();
    for f in report["findings"].as_array().expect("findings array") {
        found
            .entry(f["path"].as_str().unwrap_or_default().to_string())
            .or_default()
            .insert((
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
            ));
    }
    found
}

fn expected() -> Found {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).expect("expected.json");
    let json: BTreeMap<String, Vec<(String, u64)>> =
        serde_json::from_str(&text).expect("expected.json parses");
    json.into_iter()
        .map(|(path, list)| (path, list.into_iter().collect()))
        .collect()
}

#[test]
fn fixtures_produce_exactly_the_expected_findings() {
    let report = run(&[
        "check", "--format", "json", "--select", "cache", "positive", "negative",
    ]);
    let found = findings(&report);
    let expected = expected();
    let positives = expected
        .keys()
        .filter(|p| p.starts_with("positive/"))
        .count();
    let negatives = expected
        .keys()
        .filter(|p| p.starts_with("negative/"))
        .count();
    assert!(
        positives >= 40 && negatives >= 40,
        "{positives} / {negatives}"
    );
    let mut problems = Vec::new();
    for (path, want) in &expected {
        let got = found.get(path).cloned().unwrap_or_default();
        if &got != want {
            problems.push(format!("{path}: expected {want:?}, got {got:?}"));
        }
    }
    for path in found.keys().filter(|p| !expected.contains_key(*p)) {
        problems.push(format!("{path}: unexpected findings {:?}", found[path]));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn messages_state_the_cost_and_the_fix() {
    let report = run(&[
        "check",
        "--format",
        "json",
        "--select",
        "cache",
        "positive/py/fstring_datetime_now.py",
    ]);
    let f = &report["findings"][0];
    let message = f["message"].as_str().unwrap_or_default();
    assert!(message.contains("static characters"), "{message}");
    assert!(message.contains("tokens"), "{message}");
    assert!(
        message.contains("move it after the static text"),
        "{message}"
    );
    assert_eq!(f["severity"], "warning");
}

#[test]
fn threshold_comes_from_config() {
    // A 700-character remainder is below the default and above a configured 500.
    let dir = tempfile::tempdir().expect("tempdir");
    let src = fixtures().join("negative/py/short_remainder.py");
    std::fs::copy(&src, dir.path().join("short_remainder.py")).expect("copy");
    let check = |dir: &Path| -> usize {
        let out = Command::cargo_bin("promptlint")
            .expect("binary builds")
            .current_dir(dir)
            .args(["check", "--format", "json", "--select", "cache", "."])
            .output()
            .expect("binary runs");
        let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        v["findings"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(check(dir.path()), 0);
    std::fs::write(
        dir.path().join("promptlint.toml"),
        "[cache]\nmin-static-chars = 500\n",
    )
    .expect("config");
    assert_eq!(check(dir.path()), 1);
}

#[test]
fn dynamic_before_static_is_off_by_default_and_info_when_selected() {
    let path = "negative/prompts/static_slots.md";
    let off = run(&["check", "--format", "json", "--select", "cache", path]);
    assert_eq!(off["findings"].as_array().map(Vec::len), Some(0));
    let on = run(&[
        "check",
        "--format",
        "json",
        "--select",
        "cache/dynamic-before-static",
        path,
    ]);
    let f = &on["findings"][0];
    assert_eq!(f["rule"], "cache/dynamic-before-static", "{on}");
    assert_eq!(f["severity"], "info");
}
