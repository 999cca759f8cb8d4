//! Registry integration tests: `promptlint lock` and the cross-file registry rules, on the real
//! binary, in real git repositories made in temp dirs.

use std::fs;
use std::path::Path;
use std::process::Command as StdCommand;

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

fn promptlint(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("promptlint").expect("binary builds");
    c.current_dir(dir);
    c
}

fn git(dir: &Path, args: &[&str]) {
    let ok = StdCommand::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs")
        .status
        .success();
    assert!(ok, "git {args:?} failed");
}

const CONFIG: &str = "[registry]\ndirs = [\"prompts\"]\nloaders = [\"registry.get\"]\n";
const TRIAGE: &str = "You triage Northwind support tickets.\nAnswer with one label.\n";
const APP: &str = "from app.prompts import load_prompt\n\nTRIAGE = load_prompt(\"support/triage\")\nBILLING = load_prompt(\"billing.md\")\n";

/// A committed git repo with a registry of three prompts and an app that loads two of them.
fn repo(config: &str) -> TempDir {
    let dir = TempDir::new().expect("temp dir");
    let files: &[(&str, &str)] = &[
        ("promptlint.toml", config),
        ("prompts/support/triage.md", TRIAGE),
        (
            "prompts/billing.md",
            "You answer billing questions for Northwind customers.\n",
        ),
        (
            "prompts/legacy/greeting.txt",
            "Greet the customer warmly.\n",
        ),
        ("prompts/README.md", "# Our prompts\n"),
        ("app/main.py", APP),
    ];
    for (path, text) in files {
        let p = dir.path().join(path);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(p, text).expect("write");
    }
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "init"]);
    dir
}

fn check_json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = promptlint(dir)
        .args(["check", "--format", "json"])
        .args(args)
        .output()
        .expect("runs");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("json: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn findings<'a>(v: &'a serde_json::Value, rule: &str) -> Vec<&'a serde_json::Value> {
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn sha256sum_available() -> bool {
    StdCommand::new("sha256sum")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn lock_writes_a_sorted_sha256sum_file_and_is_idempotent() {
    let dir = repo(CONFIG);
    promptlint(dir.path())
        .arg("lock")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("wrote prompts.lock (3 prompts)"));
    let first = fs::read_to_string(dir.path().join("prompts.lock")).expect("lockfile");
    let paths: Vec<&str> = first.lines().map(|l| &l[66..]).collect();
    assert_eq!(
        paths,
        [
            "prompts/billing.md",
            "prompts/legacy/greeting.txt",
            "prompts/support/triage.md"
        ],
        "{first}"
    );
    assert!(first.lines().all(|l| l.len() > 66
        && l[..64].bytes().all(|b| b.is_ascii_hexdigit())
        && &l[64..66] == "  "));
    if sha256sum_available() {
        let out = StdCommand::new("sha256sum")
            .args(["-c", "prompts.lock"])
            .current_dir(dir.path())
            .output()
            .expect("sha256sum");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    promptlint(dir.path())
        .arg("lock")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("up to date"));
    assert_eq!(
        fs::read_to_string(dir.path().join("prompts.lock")).expect("lockfile"),
        first
    );
    promptlint(dir.path())
        .args(["lock", "--check"])
        .assert()
        .code(0);
    // No temp files left behind.
    let stray: Vec<_> = fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(stray.is_empty());
    // A clean, locked repo has no unlocked-change findings.
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "lock"]);
    assert!(findings(&check_json(dir.path(), &[]), "registry/unlocked-change").is_empty());
}

#[test]
fn lock_check_fails_after_an_edit_and_writes_nothing() {
    let dir = repo(CONFIG);
    promptlint(dir.path()).arg("lock").assert().code(0);
    let locked = fs::read_to_string(dir.path().join("prompts.lock")).expect("lockfile");
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "lock"]);
    fs::write(
        dir.path().join("prompts/support/triage.md"),
        format!("{TRIAGE}Never apologise.\n"),
    )
    .expect("edit");
    promptlint(dir.path())
        .args(["lock", "--check"])
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("changed: prompts/support/triage.md")
                .and(predicate::str::contains("promptlint lock")),
        );
    assert_eq!(
        fs::read_to_string(dir.path().join("prompts.lock")).expect("lockfile"),
        locked
    );

    let v = check_json(dir.path(), &[]);
    let f = findings(&v, "registry/unlocked-change");
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["path"], "prompts/support/triage.md");
    assert_eq!(
        (f[0]["line"].as_u64(), f[0]["column"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(f[0]["severity"], "error");
    assert!(f[0]["message"]
        .as_str()
        .expect("message")
        .contains("promptlint lock"));

    promptlint(dir.path())
        .arg("lock")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("wrote"));
    promptlint(dir.path())
        .args(["lock", "--check"])
        .assert()
        .code(0);
    assert!(findings(&check_json(dir.path(), &[]), "registry/unlocked-change").is_empty());
}

#[test]
fn a_deleted_prompt_is_reported_at_its_lockfile_line() {
    let dir = repo(CONFIG);
    promptlint(dir.path()).arg("lock").assert().code(0);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "lock"]);
    git(dir.path(), &["rm", "-q", "prompts/legacy/greeting.txt"]);
    let v = check_json(dir.path(), &[]);
    let f = findings(&v, "registry/unlocked-change");
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["path"], "prompts.lock");
    assert_eq!(
        (f[0]["line"].as_u64(), f[0]["column"].as_u64()),
        (Some(2), Some(1))
    );
    assert!(f[0]["message"]
        .as_str()
        .expect("message")
        .contains("prompts/legacy/greeting.txt"));
    promptlint(dir.path())
        .args(["lock", "--check"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "gone: prompts/legacy/greeting.txt",
        ));
}

#[test]
fn a_new_prompt_missing_from_the_lockfile_is_reported() {
    let dir = repo(CONFIG);
    promptlint(dir.path()).arg("lock").assert().code(0);
    fs::write(
        dir.path().join("prompts/refunds.md"),
        "You handle refund requests.\n",
    )
    .expect("write");
    let v = check_json(dir.path(), &[]);
    let f = findings(&v, "registry/unlocked-change");
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["path"], "prompts/refunds.md");
    assert!(f[0]["message"]
        .as_str()
        .expect("message")
        .contains("not in prompts.lock"));
}

#[test]
fn a_typo_in_a_loader_id_is_an_unknown_id() {
    let dir = repo(CONFIG);
    fs::write(dir.path().join("app/main.py"), format!("{APP}OOPS = load_prompt(\"suport/triage\")\nOK = registry.get(\"support/triage.md\")\n")).expect("write");
    let v = check_json(dir.path(), &[]);
    let f = findings(&v, "registry/unknown-id");
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["path"], "app/main.py");
    assert_eq!(
        (f[0]["line"].as_u64(), f[0]["column"].as_u64()),
        (Some(5), Some(21))
    );
    assert_eq!(
        (f[0]["end_line"].as_u64(), f[0]["end_column"].as_u64()),
        (Some(5), Some(34))
    );
    assert!(
        f[0]["message"]
            .as_str()
            .expect("message")
            .contains("did you mean `support/triage`"),
        "{}",
        f[0]["message"]
    );
    // A suppression comment on the line silences it.
    fs::write(dir.path().join("app/main.py"), format!("{APP}OOPS = load_prompt(\"suport/triage\")  # promptlint: ignore[registry/unknown-id]\n")).expect("write");
    assert!(findings(&check_json(dir.path(), &[]), "registry/unknown-id").is_empty());
}

#[test]
fn an_unreferenced_prompt_is_unused_info() {
    let dir = repo(CONFIG);
    let v = check_json(dir.path(), &[]);
    let f = findings(&v, "registry/unused-prompt");
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["path"], "prompts/legacy/greeting.txt");
    assert_eq!(f[0]["severity"], "info");
    assert_eq!(f[0]["line"].as_u64(), Some(1));
    // Info does not fail the default threshold.
    promptlint(dir.path())
        .args(["check", "--select", "registry/unused-prompt"])
        .assert()
        .code(0);
    promptlint(dir.path())
        .args([
            "check",
            "--select",
            "registry/unused-prompt",
            "--fail-on",
            "info",
        ])
        .assert()
        .code(1);
    // A loader call with a computed id under `legacy/` may reach it.
    fs::write(
        dir.path().join("app/main.py"),
        format!("{APP}G = load_prompt(f\"legacy/{{name}}\")\n"),
    )
    .expect("write");
    assert!(findings(&check_json(dir.path(), &[]), "registry/unused-prompt").is_empty());
}

#[test]
fn explicit_paths_limit_registry_findings_to_those_files() {
    let dir = repo(CONFIG);
    promptlint(dir.path()).arg("lock").assert().code(0);
    fs::write(dir.path().join("prompts/support/triage.md"), "edited\n").expect("edit");
    fs::write(dir.path().join("prompts/billing.md"), "edited too\n").expect("edit");
    let v = check_json(dir.path(), &["prompts/billing.md"]);
    let f = findings(&v, "registry/unlocked-change");
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["path"], "prompts/billing.md");
    // Not the whole repo: unused-prompt cannot know every call site.
    assert!(findings(&v, "registry/unused-prompt").is_empty());
}

#[test]
fn without_a_registry_there_are_no_registry_findings_and_lock_refuses() {
    let dir = repo("[pii]\nallow = []\n");
    fs::write(
        dir.path().join("app/main.py"),
        format!("{APP}OOPS = load_prompt(\"suport/triage\")\n"),
    )
    .expect("write");
    fs::write(
        dir.path().join("prompts.lock"),
        "0000000000000000000000000000000000000000000000000000000000000000  prompts/billing.md\n",
    )
    .expect("write");
    let v = check_json(dir.path(), &[]);
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert!(
        !rules.iter().any(|r| r.starts_with("registry/")),
        "{rules:?}"
    );
    promptlint(dir.path())
        .arg("lock")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("[registry]").and(predicate::str::contains("dirs")));
    promptlint(dir.path())
        .args(["lock", "--check"])
        .assert()
        .code(2);
}

#[test]
fn pyproject_config_and_a_custom_lockfile_path() {
    let dir = repo("");
    fs::remove_file(dir.path().join("promptlint.toml")).expect("rm");
    fs::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = \"x\"\n\n[tool.promptlint.registry]\ndirs = [\"prompts\"]\nlockfile = \"locks/prompts.sha256\"\n",
    )
    .expect("write");
    fs::create_dir_all(dir.path().join("locks")).expect("mkdir");
    // Configured but not yet written: every prompt is unlocked.
    let v = check_json(dir.path(), &[]);
    assert_eq!(findings(&v, "registry/unlocked-change").len(), 3, "{v}");
    promptlint(dir.path())
        .args(["lock", "--check"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("does not exist"));
    promptlint(dir.path()).arg("lock").assert().code(0);
    assert!(dir.path().join("locks/prompts.sha256").is_file());
    // Run from a subdirectory: the config root is still the repo root.
    promptlint(&dir.path().join("app"))
        .args(["lock", "--check"])
        .assert()
        .code(0);
    assert!(findings(&check_json(dir.path(), &[]), "registry/unlocked-change").is_empty());
}

const BOT: &str = r#"from openai import OpenAI

client = OpenAI()

SYSTEM_PROMPT = """
You are the triage assistant for Northwind support.
Classify each ticket by urgency and product area.
"""


def triage(ticket):
    return client.chat.completions.create(
        model="gpt-4o",
        messages=[
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": ticket},
        ],
    )


def answer(question):
    return client.chat.completions.create(
        model="gpt-4o",
        messages=[
            {"role": "system", "content": load_prompt("support/triage")},
            {"role": "user", "content": question},
        ],
    )


def ping():
    return client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
"#;

#[test]
fn inline_prompts_are_reported_only_with_a_registry() {
    let dir = repo(CONFIG);
    for path in ["app/bot.py", "tests/test_bot.py", "prompts/legacy_bot.py"] {
        fs::create_dir_all(dir.path().join(path).parent().expect("parent")).expect("mkdir");
        fs::write(dir.path().join(path), BOT).expect("write");
    }
    let inventory = promptlint(dir.path())
        .args(["prompts", "--format", "json", "app/bot.py"])
        .output()
        .expect("runs");
    let inventory: serde_json::Value = serde_json::from_slice(&inventory.stdout).expect("json");
    assert!(
        inventory["prompts"]
            .as_array()
            .is_some_and(|p| !p.is_empty()),
        "app/bot.py holds an inline prompt: {inventory}"
    );
    let v = check_json(dir.path(), &[]);
    let f = findings(&v, "registry/inline-prompt");
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["path"], "app/bot.py");
    assert_eq!(f[0]["line"].as_u64(), Some(5));
    assert!(
        f[0]["message"]
            .as_str()
            .expect("message")
            .contains("(\"bot/system\")"),
        "{}",
        f[0]["message"]
    );
    fs::write(dir.path().join("promptlint.toml"), "[pii]\nallow = []\n").expect("write");
    assert!(findings(&check_json(dir.path(), &[]), "registry/inline-prompt").is_empty());
}
