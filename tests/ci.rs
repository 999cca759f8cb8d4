//! The CI gate: `check --diff REV`, the SARIF / GitHub / GitLab formats, baselines, and
//! suppressions (including unused ones) in every host syntax, run against real git repos.
#![allow(clippy::print_stderr)]

mod common;
use common::Repo;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const EMAIL_PROMPT: &str =
    "You are a support agent for Northwind. Classify the ticket.\n\nExample 1:\nInput: Hi, this is Dana (dana.whitfield@northwind-mail.com), my order never arrived.\nOutput: category=shipping\n";

fn email_prompt(name: &str) -> String {
    EMAIL_PROMPT.replace("dana.whitfield", name)
}

fn finding_paths(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}:{}",
                f["path"].as_str().unwrap(),
                f["rule"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn diff_reports_only_prompts_touched_since_rev() {
    let r = Repo::new();
    r.write("prompts/untouched.md", &email_prompt("ann.lee"));
    r.write("prompts/edited.md", &email_prompt("bo.chen"));
    r.write("prompts/moved.md", &email_prompt("cy.diaz"));
    r.write("prompts/moved_edited.md", &email_prompt("di.evans"));
    r.commit("base");
    // Edit one prompt, rename one untouched, rename-and-edit one, add an untracked one.
    r.write(
        "prompts/edited.md",
        &format!("{}Keep answers short.\n", email_prompt("bo.chen")),
    );
    std::fs::create_dir_all(r.root.join("prompts/archive")).unwrap();
    r.git(&["mv", "prompts/moved.md", "prompts/archive/moved.md"]);
    r.git(&["mv", "prompts/moved_edited.md", "prompts/renamed.md"]);
    r.write(
        "prompts/renamed.md",
        &format!("{}Be polite.\n", email_prompt("di.evans")),
    );
    r.write("prompts/fresh.md", &email_prompt("ed.fox"));

    let (all, code) = r.json(&["check", "--format", "json"]);
    assert_eq!(code, 1);
    assert_eq!(all["findings"].as_array().unwrap().len(), 5);

    let (v, code) = r.json(&["check", "--diff", "main", "--format", "json"]);
    assert_eq!(code, 1);
    assert_eq!(
        finding_paths(&v),
        [
            "prompts/edited.md:pii/email-address",
            "prompts/fresh.md:pii/email-address",
            "prompts/renamed.md:pii/email-address"
        ]
    );
    // Unchanged-by-diff findings are not reported, so a clean diff passes the gate.
    r.commit("everything");
    let (v, code) = r.json(&["check", "--diff", "HEAD", "--format", "json"]);
    assert_eq!(code, 0, "{v}");
    assert!(v["findings"].as_array().unwrap().is_empty());
}

#[test]
fn diff_from_a_subdirectory_uses_display_paths() {
    let r = Repo::new();
    r.write("app/prompts/a.md", "You are concise.\n");
    r.commit("base");
    r.write("app/prompts/a.md", &email_prompt("gil.ho"));
    let o = Command::new(env!("CARGO_BIN_EXE_promptlint"))
        .current_dir(r.root.join("app"))
        .args(["check", "--diff", "main", "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(finding_paths(&v), ["prompts/a.md:pii/email-address"]);
}

#[test]
fn bad_revision_or_no_repository_is_exit_2() {
    let r = Repo::new();
    r.write("prompts/a.md", "You are concise.\n");
    r.commit("base");
    let o = r.run(&["check", "--diff", "no-such-branch"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("unknown git revision `no-such-branch`"),
        "{err}"
    );
    let o = r.run(&["check", "--diff", "--upload-pack=evil"]);
    assert_eq!(o.status.code(), Some(2));

    let plain = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_promptlint"))
        .current_dir(plain.path())
        .args(["check", "--diff", "main"])
        .env("GIT_CEILING_DIRECTORIES", plain.path().parent().unwrap())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not inside a git repository"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The official SARIF 2.1.0 schema, kept beside the checkout (never copied into the repo).
fn sarif_schema() -> Option<Value> {
    let mut candidates = Vec::new();
    if let Some(p) = std::env::var_os("PROMPTLINT_SARIF_SCHEMA") {
        candidates.push(PathBuf::from(p));
    }
    candidates.push(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/schemas/sarif-schema-2.1.0.json"),
    );
    let path = candidates.into_iter().find(|p| p.is_file())?;
    Some(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
}

fn validate_sarif(v: &Value) {
    let Some(schema) = sarif_schema() else {
        eprintln!("SKIPPED schema validation: ../shared/schemas/sarif-schema-2.1.0.json not found (set PROMPTLINT_SARIF_SCHEMA)");
        return;
    };
    let validator = jsonschema::draft4::new(&schema).expect("SARIF schema compiles");
    // The validator does reject a broken log (so a pass below means something).
    let mut broken = v.clone();
    broken["runs"][0]["results"] = serde_json::json!([{ "level": "fatal", "message": {} }]);
    assert!(!validator.is_valid(&broken));
    let errors: Vec<String> = validator
        .iter_errors(v)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF output does not validate:\n{}",
        errors.join("\n")
    );
}

#[test]
fn sarif_output_validates_and_describes_rules() {
    let r = Repo::new();
    r.write("prompts/support.md", &email_prompt("hal.ito"));
    r.write(
        "prompts/with space.md",
        &format!(
            "{}<!-- promptlint: ignore[pii/phone-number] -->\n",
            email_prompt("ivy.jo")
        ),
    );
    r.write(
        "prompts/clean.md",
        "You are concise.\n<!-- promptlint: ignore -->\n",
    );
    let (v, code) = r.json(&["check", "--format", "sarif", "--report-unused-ignores"]);
    assert_eq!(code, 1);
    validate_sarif(&v);
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for rule in rules {
        for key in ["id", "name"] {
            assert!(rule[key].is_string(), "{rule}");
        }
        assert!(
            rule["shortDescription"]["text"].is_string() && rule["help"]["text"].is_string(),
            "{rule}"
        );
    }
    assert!(rules.iter().any(|r| r["id"] == "pii/email-address"));
    let results = run["results"].as_array().unwrap();
    let pii: Vec<&Value> = results
        .iter()
        .filter(|r| r["ruleId"] == "pii/email-address")
        .collect();
    assert_eq!(pii.len(), 2);
    let loc = &pii[0]["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "prompts/support.md");
    assert_eq!(loc["region"]["startLine"], 4);
    assert_eq!(pii[0]["level"], "error");
    assert!(pii[0]["partialFingerprints"]
        .as_object()
        .unwrap()
        .values()
        .all(|f| f.is_string()));
    assert!(
        !pii[0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("hal.ito"),
        "redacted"
    );
    assert_eq!(
        pii[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "prompts/with%20space.md"
    );
    let unused: Vec<&Value> = results
        .iter()
        .filter(|r| r["ruleId"] == "promptlint/unused-ignore")
        .collect();
    assert_eq!(unused.len(), 2, "{unused:?}");
    assert!(unused.iter().all(|u| u["level"] == "warning"));
    let idx = unused[0]["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[idx]["id"], "promptlint/unused-ignore");
}

#[test]
fn github_and_gitlab_formats() {
    let r = Repo::new();
    r.write("prompts/support.md", &email_prompt("jo.kim"));
    let o = r.run(&["check", "--format", "github"]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    let line = out
        .lines()
        .find(|l| l.contains("pii/email-address"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.starts_with("::error file=prompts/support.md,line=4,col="),
        "{line}"
    );
    assert!(
        line.contains(",endLine=4,endColumn=")
            && line.contains(",title=promptlint pii/email-address::email address"),
        "{line}"
    );
    assert!(!out.contains("jo.kim@"), "redacted");

    let (v, code) = r.json(&["check", "--format", "gitlab"]);
    assert_eq!(code, 1);
    let issues = v.as_array().unwrap();
    assert_eq!(issues.len(), 1);
    let i = &issues[0];
    assert_eq!(i["check_name"], "pii/email-address");
    assert_eq!(i["severity"], "major");
    assert_eq!(i["location"]["path"], "prompts/support.md");
    assert_eq!(i["location"]["lines"]["begin"], 4);
    assert!(i["description"].is_string() && i["fingerprint"].is_string());
}

#[test]
fn baseline_survives_edits_above_and_reports_new_findings() {
    let r = Repo::new();
    r.write("prompts/support.md", &email_prompt("kai.lu"));
    let o = r.run(&["check", "--write-baseline", "baseline.json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let b: Value =
        serde_json::from_str(&std::fs::read_to_string(r.root.join("baseline.json")).unwrap())
            .unwrap();
    assert_eq!(b["findings"].as_array().unwrap().len(), 1);
    assert!(
        !b.to_string().contains("kai.lu"),
        "no raw values in the baseline"
    );
    let (v, code) = r.json(&["check", "--baseline", "baseline.json", "--format", "json"]);
    assert_eq!((code, v["findings"].as_array().unwrap().len()), (0, 0));
    // Lines inserted above the finding: still known.
    r.write(
        "prompts/support.md",
        &format!("# Support\n\nRead carefully.\n\n{}", email_prompt("kai.lu")),
    );
    let (v, code) = r.json(&["check", "--baseline", "baseline.json", "--format", "json"]);
    assert_eq!((code, v["findings"].as_array().unwrap().len()), (0, 0));
    // A new address is new.
    r.write(
        "prompts/support.md",
        &format!(
            "{}\nExample 2:\nInput: mail lu.mei@northwind-mail.com\nOutput: category=other\n",
            email_prompt("kai.lu")
        ),
    );
    let (v, code) = r.json(&["check", "--baseline", "baseline.json", "--format", "json"]);
    assert_eq!(code, 1);
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    assert!(
        v["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("l•••@"),
        "{v}"
    );
    // A file that is not a baseline is exit 2.
    r.write("bad.json", "[1, 2]");
    assert_eq!(
        r.run(&["check", "--baseline", "bad.json"]).status.code(),
        Some(2)
    );
}

#[test]
fn suppressions_in_prompt_file_syntaxes() {
    let r = Repo::new();
    let md = email_prompt("li.ma").replace(
        "my order never arrived.\n",
        "my order never arrived. <!-- promptlint: ignore[pii/email-address] -->\n",
    );
    r.write("prompts/line.md", &md);
    let above =
        email_prompt("li.ma").replace("Input: Hi", "<!-- promptlint: ignore[pii] -->\nInput: Hi");
    r.write("prompts/above.md", &above);
    r.write(
        "prompts/file.md",
        &format!(
            "<!-- promptlint: ignore-file[pii/email-address] -->\n{}",
            email_prompt("li.ma")
        ),
    );
    let jinja = email_prompt("li.ma")
        .replace("Output:", "{# promptlint: ignore #}\nOutput:")
        .replace(
            "my order never arrived.\n",
            "my order never arrived. {# promptlint: ignore[pii/email-address] #}\n",
        );
    r.write("prompts/ticket.j2", &jinja);
    r.write(
        "prompts/other_rule.md",
        &email_prompt("li.ma").replace(
            "arrived.\n",
            "arrived. <!-- promptlint: ignore[cache] -->\n",
        ),
    );
    let (v, code) = r.json(&["check", "--format", "json"]);
    assert_eq!(
        finding_paths(&v),
        ["prompts/other_rule.md:pii/email-address"],
        "{v}"
    );
    assert_eq!(code, 1);
    // The jinja file's bare directive on the Output line suppresses nothing, nor does the
    // Markdown file's `ignore[cache]` (the cache pack finds nothing there): reported when asked.
    let (v, _) = r.json(&["check", "--format", "json", "--report-unused-ignores"]);
    let unused: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "promptlint/unused-ignore")
        .collect();
    assert_eq!(unused.len(), 2, "{v}");
    assert_eq!(unused[0]["path"], "prompts/other_rule.md");
    assert!(
        unused[0]["message"].as_str().unwrap().contains("`cache`"),
        "{v}"
    );
    assert_eq!(unused[1]["path"], "prompts/ticket.j2");
    assert_eq!(unused[1]["line"], 5);
    assert_eq!(unused[1]["severity"], "warning");
}

#[test]
fn unused_suppressions_show_in_every_format_and_fail_the_run() {
    let r = Repo::new();
    r.write(
        "prompts/clean.md",
        "You are concise.\n<!-- promptlint: ignore[pii/email-address] -->\n",
    );
    assert_eq!(r.run(&["check"]).status.code(), Some(0));
    let o = r.run(&["check", "--report-unused-ignores"]);
    assert_eq!(o.status.code(), Some(1));
    let human = String::from_utf8_lossy(&o.stdout);
    assert!(
        human.contains("promptlint/unused-ignore") && human.contains("prompts/clean.md:2:6"),
        "{human}"
    );
    let (v, code) = r.json(&["check", "--report-unused-ignores", "--format", "json"]);
    assert_eq!(
        (code, v["findings"][0]["rule"].as_str()),
        (1, Some("promptlint/unused-ignore"))
    );
    assert!(v["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("`pii/email-address`"));
    let (v, _) = r.json(&["check", "--report-unused-ignores", "--format", "sarif"]);
    assert_eq!(
        v["runs"][0]["results"][0]["ruleId"],
        "promptlint/unused-ignore"
    );
    validate_sarif(&v);
    let (v, _) = r.json(&["check", "--report-unused-ignores", "--format", "gitlab"]);
    assert_eq!(v[0]["check_name"], "promptlint/unused-ignore");
    let o = r.run(&["check", "--report-unused-ignores", "--format", "github"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with("::warning file=prompts/clean.md,line=2,")
    );
    assert_eq!(
        r.run(&["check", "--report-unused-ignores", "--fail-on", "error"])
            .status
            .code(),
        Some(0)
    );
    // Selecting only another pack: a pii directive cannot be judged, so it is not reported.
    assert_eq!(
        r.run(&[
            "check",
            "--report-unused-ignores",
            "--select",
            "pii",
            "--ignore",
            "pii/email-address"
        ])
        .status
        .code(),
        Some(0)
    );
}

/// Python and YAML suppressions. Inline extraction is being built in parallel; until a file's
/// prompt is found these checks have nothing to suppress and say so.
#[test]
fn suppressions_in_python_and_yaml() {
    let r = Repo::new();
    let body = "You are a support agent for Northwind. Classify the ticket.\n\nExample 1:\nInput: Hi, this is Dana (dana.whitfield@northwind-mail.com), my order never arrived.\nOutput: category=shipping\n";
    r.write("bare.py", &format!("SYSTEM_PROMPT = \"\"\"{body}\"\"\"\n"));
    r.write(
        "after_quotes.py",
        &format!("SYSTEM_PROMPT = \"\"\"{body}\"\"\"  # promptlint: ignore[pii/email-address]\n"),
    );
    r.write("on_line.py", "SYSTEM_PROMPT = (\n    \"Example 1:\\nInput: write to dana.whitfield@northwind-mail.com\\n\"  # promptlint: ignore[pii]\n    \"Output: ok\\n\"\n)\n");
    r.write(
        "config/prompts.yaml",
        "system_prompt: \"Example 1: Input: write to dana.whitfield@northwind-mail.com Output: ok\"  # promptlint: ignore[pii/email-address]\nuser_prompt: \"Example 1: Input: write to bo.chen@northwind-mail.com Output: ok\"\n",
    );
    let (inv, _) = r.json(&["prompts", "--format", "json"]);
    let found: Vec<&str> = inv["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    let (v, _) = r.json(&["check", "--format", "json"]);
    let paths = finding_paths(&v);
    for path in [
        "bare.py",
        "after_quotes.py",
        "on_line.py",
        "config/prompts.yaml",
    ] {
        assert!(found.contains(&path), "{path} holds a prompt: {inv}");
    }
    assert!(
        paths.contains(&"bare.py:pii/email-address".to_string()),
        "{v}"
    );
    assert!(
        !paths.iter().any(|p| p.starts_with("after_quotes.py")),
        "a comment after the closing quotes suppresses: {v}"
    );
    assert!(!paths.iter().any(|p| p.starts_with("on_line.py")), "{v}");
    let yaml: Vec<&String> = paths.iter().filter(|p| p.starts_with("config/")).collect();
    assert_eq!(
        yaml,
        ["config/prompts.yaml:pii/email-address"],
        "only the unsuppressed key: {v}"
    );
}

#[test]
fn renamed_files_keep_their_findings_identity() {
    let r = Repo::new();
    r.write("prompts/support.md", &email_prompt("mo.ng"));
    r.commit("base");
    let o = r.run(&["check", "--write-baseline", "baseline.json"]);
    assert_eq!(o.status.code(), Some(0));
    let (before, _) = r.json(&["check", "--format", "json"]);
    r.git(&["mv", "prompts/support.md", "prompts/helpdesk.md"]);
    r.write(
        "prompts/helpdesk.md",
        &format!("{}Be polite.\n", email_prompt("mo.ng")),
    );
    let (after, code) = r.json(&["check", "--diff", "main", "--format", "json"]);
    assert_eq!(code, 1);
    assert_eq!(
        finding_paths(&after),
        ["prompts/helpdesk.md:pii/email-address"]
    );
    assert_eq!(
        after["findings"][0]["fingerprint"],
        before["findings"][0]["fingerprint"]
    );
    let (v, code) = r.json(&[
        "check",
        "--diff",
        "main",
        "--baseline",
        "baseline.json",
        "--format",
        "json",
    ]);
    assert_eq!(
        (code, v["findings"].as_array().unwrap().len()),
        (0, 0),
        "{v}"
    );
}

/// Two prompts in one file, one edited: only the edited one's findings.
#[test]
fn diff_keeps_only_the_touched_prompt_of_a_file() {
    let r = Repo::new();
    let py = |second_extra: &str| {
        format!(
            "SYSTEM_PROMPT = \"\"\"You are a support agent.\n\nExample 1:\nInput: write to ann.lee@northwind-mail.com\nOutput: ok\n\"\"\"\n\n\n\nTRIAGE_PROMPT = \"\"\"You triage tickets.{second_extra}\n\nExample 1:\nInput: write to bo.chen@northwind-mail.com\nOutput: ok\n\"\"\"\n"
        )
    };
    r.write("bot.py", &py(""));
    r.commit("base");
    r.write("bot.py", &py(" Be brief."));
    let (inv, _) = r.json(&["prompts", "--format", "json"]);
    assert_eq!(inv["prompts"].as_array().unwrap().len(), 2, "{inv}");
    let (v, _) = r.json(&["check", "--diff", "main", "--format", "json"]);
    let lines: Vec<u64> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [13], "{v}");
}
