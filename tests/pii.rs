//! The `pii` pack end to end: the real binary over `tests/fixtures/pii/`.
//!
//! `expected.json` (written by `tests/fixtures/pii/gen.py`) lists every finding the prompt files
//! must produce; any other finding is a false positive, so the hard negatives in the same files
//! are checked by the exact comparison. Shapes whose extractor is still being written (Python,
//! YAML, notebooks) are asserted in an ignored test, ready to enable. The no-leak test runs every
//! output format and requires that no raw value appears unless `--show-pii`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

type Key = (String, usize, String, String);

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pii")
}

fn run(dir: &Path, args: &[&str]) -> (String, String, i32) {
    let out = Command::cargo_bin("promptlint")
        .expect("binary builds")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("binary runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// `(path, line, rule, severity)` of every finding `check --select pii` reports on `paths`.
fn findings(paths: &[&str]) -> BTreeSet<Key> {
    let mut args = vec!["check", "--format", "json", "--select", "pii"];
    args.extend_from_slice(paths);
    let (stdout, stderr, code) = run(&fixtures(), &args);
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("JSON report");
    assert_eq!(
        report["errors"].as_array().map(Vec::len),
        Some(0),
        "file errors: {}",
        report["errors"]
    );
    report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default() as usize,
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["severity"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn key(path: &str, line: usize, rule: &str, severity: &str) -> Key {
    (
        path.to_string(),
        line,
        format!("pii/{rule}"),
        severity.to_string(),
    )
}

fn assert_same(got: &BTreeSet<Key>, expected: &BTreeSet<Key>) {
    let missing: Vec<_> = expected.difference(got).collect();
    let extra: Vec<_> = got.difference(expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing (false negatives): {missing:#?}\nextra (false positives): {extra:#?}"
    );
}

#[test]
fn prompt_files_report_exactly_the_expected_findings() {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).expect("expected.json");
    let expected: Value = serde_json::from_str(&text).expect("expected.json parses");
    let list = expected["findings"].as_array().expect("findings");
    let want: BTreeSet<Key> = list
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap_or_default().to_string(),
                e["line"].as_u64().unwrap_or_default() as usize,
                e["rule"].as_str().unwrap_or_default().to_string(),
                e["severity"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let positives = want.iter().filter(|k| k.3 != "info").count();
    assert!(
        positives >= 60,
        "the fixture set needs at least 60 positive cases, has {positives}"
    );
    assert!(
        expected["negatives"].as_u64().unwrap_or(0) >= 60,
        "the fixture set needs at least 60 hard negatives"
    );
    let rules: BTreeSet<&str> = want.iter().map(|k| k.2.as_str()).collect();
    assert!(rules.len() >= 19, "every pii rule has a fixture: {rules:?}");
    assert_same(&findings(&["prompts"]), &want);
}

/// Prompt-file shapes that extract today: Prompty and Dotprompt.
#[test]
fn prompty_and_dotprompt_shapes() {
    let want: BTreeSet<Key> = [
        key("shapes/classify.prompt", 10, "ssn", "error"),
        key("shapes/classify.prompt", 10, "iban", "error"),
        key("shapes/contoso.prompty", 17, "street-address", "error"),
        key("shapes/contoso.prompty", 17, "phone-number", "error"),
        key("shapes/contoso.prompty", 22, "email-address", "warning"),
    ]
    .into_iter()
    .collect();
    assert_same(
        &findings(&["shapes/classify.prompt", "shapes/contoso.prompty"]),
        &want,
    );
}

/// Python (dedent, implicit concatenation splitting a phone number, f-string, JSON in a
/// prompt), YAML and notebook shapes. Enable once those extractors are merged (verified against
/// a local merge of the `python` and `files` branches).
#[test]
fn python_yaml_notebook_shapes() {
    let want: BTreeSet<Key> = [
        key("shapes/support_bot.py", 13, "credit-card", "error"),
        key("shapes/support_bot.py", 19, "phone-number", "error"),
        key("shapes/support_bot.py", 24, "email-address", "error"),
        key("shapes/support_bot.py", 32, "email-address", "warning"),
        key("shapes/safe_bot.py", 12, "credit-card", "info"),
        key("shapes/prompts.yaml", 7, "ssn", "error"),
        key("shapes/prompts.yaml", 11, "phone-number", "error"),
        key("shapes/summarise.ipynb", 21, "email-address", "error"),
        key("shapes/summarise.ipynb", 21, "ip-address", "error"),
    ]
    .into_iter()
    .collect();
    assert_same(
        &findings(&[
            "shapes/support_bot.py",
            "shapes/safe_bot.py",
            "shapes/prompts.yaml",
            "shapes/summarise.ipynb",
        ]),
        &want,
    );
}

/// Raw values from the fixtures, one per detector, that must never be printed.
const RAW: &[&str] = &[
    "dana.whitfield@northwind-mail.com",
    "m.okafor@brightlane.co.uk",
    "lena.vogt@posteo.de",
    "(415) 867-2341",
    "+44 7911 123987",
    "4158672341",
    "536-22-1487",
    "4539 1488 0343 6467",
    "DE44 5001 0517 5407 3249 31",
    "73.158.64.21",
    "2a03:2880:f12f:83:face:b00c:0:25de",
    "03/14/1985",
    "4817 Larkspur Lane",
    "X48213907",
    "D482-9173-0521",
    "sk-proj-Zq3RtY8uVw2XaB5cDe7FgH1iJk4LmN6oPq9RsT0uVw2XyZ4bN7cM1xK",
    "sk-ant-api03-Hq7mZ2xVbN4cR8tY1uW6pL3sK9dF0gJ5aE2rT7yU1iO4pA6sD8fG-Kq2Wx9AA",
    "AKIAZ7QX4M2PLWR9TB3K",
    "ghp_4fG7hJ2kL9mN3pQ8rS1tU6vW0xY5zA2bC7dE",
    "xoxb-2718281828-3141592653589-Zq3RtY8uVw2XaB5cDe7FgH1i",
    "AIzaSyD4fG7hJ2kL9mN3pQ8rS1tU6vW0xY5zA2b",
    "sk_live_51Hq7mZ2xVbN4cR8tY1uW6pL3sK9dF0gJ5aE2rT7y",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1XzgyNzMiLCJlbWFpbCI6ImRAbi5pbyJ9.Xq7mZ2xVbN4cR8tY1uW6pL3sK9dF0gJ5",
    "MIIEpAIBAAKCAQEAu7VJTUt9Us8cKjMzEfYyjiWA4R4M2bS1GB4t7NXp98C3SC6d",
];

#[test]
fn no_raw_value_in_any_output_format() {
    let mut ran = Vec::new();
    for format in ["human", "json", "sarif", "github", "gitlab"] {
        let (stdout, stderr, code) = run(
            &fixtures(),
            &["check", "--format", format, "--select", "pii", "."],
        );
        if code == 2 && stderr.contains(format) {
            continue; // this build does not offer the format
        }
        assert!(code == 0 || code == 1, "{format}: exit {code}: {stderr}");
        assert!(!stdout.trim().is_empty(), "{format}: empty output");
        // SARIF carries every rule's static docs (with their own example values) in
        // `tool.driver.rules`; what must not leak is what the scan found: the results.
        let stdout = if format == "sarif" {
            let mut v: serde_json::Value = serde_json::from_str(&stdout).expect("SARIF is JSON");
            v["runs"][0]["tool"]["driver"]["rules"] = serde_json::Value::Null;
            v.to_string()
        } else {
            stdout
        };
        for raw in RAW {
            assert!(!stdout.contains(raw), "{format} stdout leaks {raw}");
            assert!(!stderr.contains(raw), "{format} stderr leaks {raw}");
        }
        ran.push(format);
    }
    assert!(
        ran.contains(&"human") && ran.contains(&"json"),
        "ran {ran:?}"
    );
    for format in ["human", "json"] {
        let (stdout, _, _) = run(
            &fixtures(),
            &[
                "check",
                "--format",
                format,
                "--select",
                "pii",
                "--show-pii",
                ".",
            ],
        );
        for raw in [
            "dana.whitfield@northwind-mail.com",
            "536-22-1487",
            "AKIAZ7QX4M2PLWR9TB3K",
        ] {
            assert!(
                stdout.contains(raw),
                "{format} --show-pii should print {raw}"
            );
        }
    }
}

#[test]
fn masked_forms_keep_enough_to_find_the_value() {
    let (stdout, _, _) = run(
        &fixtures(),
        &["check", "--format", "json", "--select", "pii", "prompts"],
    );
    for masked in ["d•••@northwind-mail.com", "•••2341", "•••6467", "sk-p•••"]
    {
        assert!(stdout.contains(masked), "expected masked form {masked}");
    }
}

#[test]
fn configured_allow_values_are_not_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("prompts")).expect("mkdir");
    std::fs::write(
        dir.path().join("prompts/triage.md"),
        "Example 1:\nInput: call me at (415) 867-2341 or dana.whitfield@northwind-mail.com\nOutput: callback\n",
    )
    .expect("write prompt");
    let (stdout, _, _) = run(
        dir.path(),
        &["check", "--format", "json", "--select", "pii", "."],
    );
    assert_eq!(stdout.matches("\"rule\": \"pii/").count(), 2, "{stdout}");
    std::fs::write(
        dir.path().join("promptlint.toml"),
        "[pii]\nallow = [\"415 867 2341\", \"Dana.Whitfield@northwind-mail.com\"]\n",
    )
    .expect("write config");
    let (stdout, stderr, code) = run(
        dir.path(),
        &["check", "--format", "json", "--select", "pii", "."],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!stdout.contains("\"rule\": \"pii/"), "{stdout}");
}
