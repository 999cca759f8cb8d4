//! CLI tests on the real binary: exit codes, bad input, config errors, explicit paths.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

fn promptlint(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("promptlint").expect("binary builds");
    c.current_dir(dir);
    c
}

const LEAKY_PROMPT: &str = "You sort tickets.\n\nExample 1:\nInput: I'm dana.whitfield@northwind-mail.com, my parcel is late\nOutput: shipping\n";

/// promptlint's JSON output for `args` run in `dir`, which must exit with `code`.
fn json_of<I, S>(dir: &Path, args: I, code: i32) -> serde_json::Value
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = promptlint(dir)
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

/// The path of each prompt a `prompts --format json` listing holds, in its order.
fn prompt_paths(v: &serde_json::Value) -> Vec<&str> {
    v["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect()
}

fn repo_with(files: &[(&str, &[u8])]) -> TempDir {
    let dir = TempDir::new().expect("temp dir");
    for (path, bytes) in files {
        let p = dir.path().join(path);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(p, bytes).expect("write");
    }
    dir
}

#[test]
fn empty_repo_is_clean() {
    let dir = TempDir::new().unwrap();
    promptlint(dir.path())
        .arg("check")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("no prompts found"));
    promptlint(dir.path())
        .arg("prompts")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("no prompts found"));
}

#[test]
fn findings_exit_1_and_point_at_the_value() {
    let dir = repo_with(&[("prompts/support.md", LEAKY_PROMPT.as_bytes())]);
    let out = promptlint(dir.path())
        .args(["check", "--format", "json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "pii/email-address");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["path"], "prompts/support.md");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(4), Some(12))
    );
    assert_eq!(
        (f["end_line"].as_u64(), f["end_column"].as_u64()),
        (Some(4), Some(45))
    );
    assert_eq!(v["summary"]["prompts"], 1);
    assert!(!String::from_utf8_lossy(&out).contains("dana.whitfield"));
}

#[test]
fn exit_zero_and_fail_on() {
    let dir = repo_with(&[("prompts/support.md", LEAKY_PROMPT.as_bytes())]);
    promptlint(dir.path())
        .args(["check", "--exit-zero"])
        .assert()
        .code(0);
    // An error-level finding fails at every threshold.
    promptlint(dir.path())
        .args(["check", "--fail-on", "error"])
        .assert()
        .code(1);
    promptlint(dir.path())
        .args(["check", "--ignore", "pii"])
        .assert()
        .code(0);
    promptlint(dir.path())
        .args(["check", "--select", "pii/email-address"])
        .assert()
        .code(1);
}

#[test]
fn nonexistent_path_is_exit_2() {
    let dir = TempDir::new().unwrap();
    promptlint(dir.path())
        .args(["check", "nope/"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nope/: no such file or directory"));
}

#[test]
fn unknown_rule_is_exit_2() {
    let dir = TempDir::new().unwrap();
    promptlint(dir.path())
        .args(["check", "--select", "pii/nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown rule or pack `pii/nope`"));
}

#[test]
fn broken_config_is_exit_2_naming_key_and_line() {
    let dir = repo_with(&[(
        "promptlint.toml",
        b"[rules]\nselect = [\"pii\"]\nbogus-key = true\n",
    )]);
    promptlint(dir.path()).arg("check").assert().code(2).stderr(
        predicate::str::contains("promptlint.toml")
            .and(predicate::str::contains("bogus-key"))
            .and(predicate::str::contains("line 3")),
    );
    let dir = repo_with(&[(
        "pyproject.toml",
        b"[tool.promptlint.rules]\nselect = \"pii\"\n",
    )]);
    promptlint(dir.path())
        .arg("check")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("pyproject.toml"));
    let dir = TempDir::new().unwrap();
    promptlint(dir.path())
        .args(["check", "--config", "missing.toml"])
        .assert()
        .code(2);
}

#[test]
fn config_is_discovered_from_parent_and_pyproject() {
    let dir = repo_with(&[
        (
            "pyproject.toml",
            b"[tool.promptlint.pii]\nallow = [\"dana.whitfield@northwind-mail.com\"]\n",
        ),
        ("sub/prompts/support.md", LEAKY_PROMPT.as_bytes()),
    ]);
    promptlint(&dir.path().join("sub"))
        .arg("check")
        .assert()
        .code(0);
}

#[test]
fn bad_files_are_reported_and_the_scan_goes_on() {
    let mut big = b"Summarise this: ".to_vec();
    big.resize(3 * 1024 * 1024, b'a');
    let dir = repo_with(&[
        ("prompts/binary.txt", b"\x00\x01\x02binary"),
        ("prompts/latin1.txt", b"Caf\xe9 prompt text with an invalid byte"),
        ("prompts/huge.txt", &big),
        ("broken.py", b"SYSTEM_PROMPT = \"\"\"You are helpful. Mail ops at dana.whitfield@northwind-mail.com\n\ndef (:\n"),
        ("prompts/support.md", LEAKY_PROMPT.as_bytes()),
    ]);
    let assert = promptlint(dir.path())
        .args(["check", "--format", "json"])
        .assert()
        .code(1);
    let out = assert.get_output();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors = v["errors"].as_array().unwrap();
    let msg = |p: &str| {
        errors
            .iter()
            .find(|e| e["path"] == p)
            .map(|e| e["message"].as_str().unwrap().to_string())
    };
    assert!(msg("prompts/latin1.txt")
        .unwrap()
        .contains("not valid UTF-8"));
    assert!(msg("prompts/huge.txt").unwrap().contains("--max-file-size"));
    assert!(
        msg("prompts/binary.txt").is_none(),
        "binary files are skipped silently"
    );
    assert!(v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["path"] == "prompts/support.md"));
    // Human format: errors on stderr naming the file.
    promptlint(dir.path())
        .arg("check")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "prompts/latin1.txt: not valid UTF-8",
        ));
    // Raising the cap scans the big file.
    let out = promptlint(dir.path())
        .args(["check", "--format", "json", "--max-file-size", "10000000"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("over the"));
}

#[cfg(unix)]
#[test]
fn symlink_loop_and_unreadable_file() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let dir = repo_with(&[
        ("prompts/support.md", LEAKY_PROMPT.as_bytes()),
        ("prompts/locked.md", b"secret prompt"),
    ]);
    symlink(dir.path().join("prompts"), dir.path().join("prompts/loop")).unwrap();
    symlink("a", dir.path().join("prompts/b")).unwrap();
    symlink("b", dir.path().join("prompts/a")).unwrap();
    let locked = dir.path().join("prompts/locked.md");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    let readable = fs::read(&locked).is_ok(); // root can read anything
    let out = promptlint(dir.path())
        .args(["check", "--format", "json"])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    if !readable {
        assert!(v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["path"] == "prompts/locked.md"));
    }
    // Loops through explicit symlink arguments do not hang either.
    promptlint(dir.path())
        .args(["check", "prompts/a"])
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .code(0);
}

#[test]
fn explicit_files_bypass_gitignore_unless_force_exclude() {
    let dir = repo_with(&[
        (".gitignore", b"prompts/ignored.md\n"),
        (
            "promptlint.toml",
            b"[files]\nexclude = [\"prompts/excluded.md\"]\n",
        ),
        ("prompts/ignored.md", LEAKY_PROMPT.as_bytes()),
        ("prompts/excluded.md", LEAKY_PROMPT.as_bytes()),
    ]);
    std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    // The walk honours .gitignore and config excludes.
    promptlint(dir.path()).arg("check").assert().code(0);
    // Named files are scanned anyway (pre-commit passes staged files this way)...
    promptlint(dir.path())
        .args(["check", "prompts/ignored.md"])
        .assert()
        .code(1);
    promptlint(dir.path())
        .args(["check", "prompts/excluded.md"])
        .assert()
        .code(1);
    // ...unless --force-exclude applies the config excludes to them.
    promptlint(dir.path())
        .args(["check", "--force-exclude", "prompts/excluded.md"])
        .assert()
        .code(0);
}

#[test]
fn rule_docs_and_rule_list() {
    let dir = TempDir::new().unwrap();
    promptlint(dir.path())
        .args(["rule", "pii/email-address"])
        .assert()
        .code(0)
        .stdout(
            predicate::str::contains("## What it flags")
                .and(predicate::str::contains("## Fires on"))
                .and(predicate::str::contains(
                    "promptlint: ignore[pii/email-address]",
                )),
        );
    promptlint(dir.path())
        .args(["rule", "pii/nope"])
        .assert()
        .code(2);
    promptlint(dir.path())
        .arg("rules")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("pii/email-address"));
}

#[test]
fn inventory_json_shape() {
    let dir = repo_with(&[("prompts/support.md", LEAKY_PROMPT.as_bytes())]);
    let out = promptlint(dir.path())
        .args(["prompts", "--format", "json"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let p = &v["prompts"][0];
    assert_eq!(p["id"], "prompts/support.md");
    assert_eq!(p["kind"], "file");
    assert_eq!(p["format"], "markdown");
    assert_eq!(p["line"], 1);
    assert_eq!(p["examples"], 1);
    // sha256 of a prompt file is the hash of its bytes, so `sha256sum` agrees.
    assert_eq!(
        p["sha256"],
        promptlint::finding::sha256_hex(LEAKY_PROMPT.as_bytes())
    );
}

#[test]
fn broken_pipe_is_not_an_error() {
    let dir = repo_with(&[("prompts/support.md", LEAKY_PROMPT.as_bytes())]);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("promptlint"))
        .args(["check", "--exit-zero"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end before the child writes: its write fails with EPIPE.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The walk hands files to the linter as it finds them, in an order that varies with thread
/// timing: the report must still be in path order, and a file reached through two of the paths
/// named (`. alpha`, `alpha alpha/prompts/a.md`) is linted once.
#[test]
fn overlapping_paths_lint_each_file_once_and_report_in_path_order() {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for d in ["zeta", "alpha", "x", "mid/deep"] {
        for i in 0..12 {
            files.push((
                format!("{d}/prompts/p{i:02}.md"),
                LEAKY_PROMPT.as_bytes().to_vec(),
            ));
        }
    }
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    let dir = repo_with(&refs);
    let run = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["check", "--format", "json", "-j", "4"];
        all.extend_from_slice(args);
        json_of(dir.path(), &all, 1)
    };
    // Each finding as (path, line, column, rule): a file linted twice repeats its findings.
    let findings = |v: &serde_json::Value| -> Vec<(String, u64, u64, String)> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["path"].as_str().unwrap().to_string(),
                    f["line"].as_u64().unwrap(),
                    f["column"].as_u64().unwrap(),
                    f["rule"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let whole = run(&[]);
    let mut sorted = findings(&whole);
    sorted.sort();
    assert_eq!(findings(&whole), sorted, "findings in path order");
    let mut files_with_findings: Vec<String> = sorted.into_iter().map(|f| f.0).collect();
    files_with_findings.dedup();
    assert_eq!(files_with_findings.len(), 48);
    assert_eq!(whole["summary"]["files_scanned"], 48);
    for overlapping in [
        &[".", "alpha"][..],
        &["alpha", "alpha/prompts/p03.md", "alpha/prompts"][..],
        &["zeta/prompts/p01.md", "."][..],
    ] {
        let v = run(overlapping);
        let got = findings(&v);
        let mut unique = got.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            got, unique,
            "{overlapping:?}: a file linted twice, or out of order"
        );
        let expected = if overlapping.contains(&".") { 48 } else { 12 };
        assert_eq!(v["summary"]["files_scanned"], expected, "{overlapping:?}");
    }
    // The inventory has no sort of its own: it follows the scan's order.
    let v = json_of(
        dir.path(),
        ["prompts", "--format", "json", "-j", "4", ".", "alpha"],
        0,
    );
    let listed = prompt_paths(&v);
    let mut expected = listed.clone();
    expected.sort();
    expected.dedup();
    assert_eq!(listed, expected);
    assert_eq!(listed.len(), 48);
}

/// `check` counts prompts without keeping their inventory entries (so its memory follows its
/// findings): the count must still match what `prompts` lists, for files with and without
/// findings. (`--diff` keeps them to tell changed prompts apart: tests/ci.rs.)
#[test]
fn check_counts_every_prompt_that_prompts_lists() {
    let dir = repo_with(&[
        ("prompts/leaky.md", LEAKY_PROMPT.as_bytes()),
        (
            "prompts/clean.md",
            b"You sort tickets into billing or shipping.\n",
        ),
        (
            "prompts/also_clean.prompt",
            b"Summarize the ticket in one sentence.\n",
        ),
        (
            "app.py",
            b"SYSTEM_PROMPT = \"You are a support agent. Answer briefly and politely.\"\n",
        ),
    ]);
    let listed = prompt_paths(&json_of(dir.path(), ["prompts", "--format", "json"], 0)).len();
    assert_eq!(listed, 4);
    let check = json_of(dir.path(), ["check", "--format", "json"], 1);
    assert_eq!(check["summary"]["prompts"], listed);
    assert_eq!(check["summary"]["files_scanned"], 4);
}

/// A walk started inside a directory that is skipped by name (recorded HTTP `cassettes`) still
/// skips it: the file's path under the walked directory no longer names it, the path from the
/// current directory does.
#[test]
fn a_walk_inside_a_skipped_directory_still_skips_it() {
    let cassette = "messages:\n- role: system\n  content: You are a support agent. Email dana.whitfield@northwind-mail.com when stuck.\nmodel: gpt-4o\n";
    let dir = repo_with(&[
        ("tests/cassettes/test_chat/one.yaml", cassette.as_bytes()),
        ("config/agent.yaml", cassette.as_bytes()),
    ]);
    for path in ["tests/cassettes", "tests/cassettes/test_chat", "."] {
        let v = json_of(dir.path(), ["prompts", "--format", "json", path], 0);
        let paths = prompt_paths(&v);
        assert!(
            paths.iter().all(|p| !p.contains("cassettes")),
            "{path}: {paths:?}"
        );
    }
}

/// A repository walked from outside it has absolute display paths: its `prompt-globs` still
/// match, by the path under the walked directory.
#[test]
fn prompt_globs_match_when_the_repository_is_walked_from_outside() {
    let repo = repo_with(&[
        (
            "promptlint.toml",
            b"[files]\nprompt-globs = [\"docs/*.md\"]\n",
        ),
        ("docs/support.md", LEAKY_PROMPT.as_bytes()),
    ]);
    let elsewhere = TempDir::new().unwrap();
    let config = repo.path().join("promptlint.toml");
    let v = json_of(
        elsewhere.path(),
        [
            "prompts".as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
            "--config".as_ref(),
            config.as_os_str(),
            repo.path().as_os_str(),
        ],
        0,
    );
    let paths = prompt_paths(&v);
    assert_eq!(paths.len(), 1, "{paths:?}");
    assert!(paths[0].ends_with("/docs/support.md"), "{paths:?}");
}
