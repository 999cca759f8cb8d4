//! The pre-commit hook, end to end with the real `pre-commit` framework: a commit that stages a
//! prompt with a real email in a few-shot example is blocked and shows the finding; a clean
//! prompt commits.
//!
//! Uses the `promptlint-system` hook (the binary under test on PATH) so no release build runs
//! inside the test. The hook repository is this checkout when its HEAD has the current
//! `.pre-commit-hooks.yaml`, else a temporary git repository holding a copy of that file. Skipped
//! with a message only when `pre-commit` is not installed (`.ci/run` installs it).
#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pre_commit_available(path_env: &str) -> bool {
    Command::new("pre-commit")
        .arg("--version")
        .env("PATH", path_env)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn git(dir: &Path, args: &[&str], path_env: &str, home: &Path) -> Output {
    Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("PATH", path_env)
        .env("PRE_COMMIT_HOME", home.join("pre-commit-cache"))
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_CONFIG_GLOBAL", home.join("gitconfig"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_WORK_TREE")
        .output()
        .expect("git runs")
}

fn ok(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A hook repository and revision serving this checkout's `.pre-commit-hooks.yaml`.
fn hook_repo(tmp: &Path, path_env: &str) -> (PathBuf, String) {
    let checkout = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let hooks = std::fs::read_to_string(checkout.join(".pre-commit-hooks.yaml"))
        .expect(".pre-commit-hooks.yaml at the repository root");
    let committed = git(
        &checkout,
        &["show", "HEAD:.pre-commit-hooks.yaml"],
        path_env,
        tmp,
    );
    if committed.status.success() && committed.stdout == hooks.as_bytes() {
        let head = git(&checkout, &["rev-parse", "HEAD"], path_env, tmp);
        if head.status.success() {
            return (
                checkout,
                String::from_utf8_lossy(&head.stdout).trim().to_string(),
            );
        }
    }
    let repo = tmp.join("hooks-repo");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(repo.join(".pre-commit-hooks.yaml"), hooks).unwrap();
    ok(
        &git(&repo, &["init", "-q"], path_env, tmp),
        "git init (hooks)",
    );
    ok(
        &git(&repo, &["add", "-A"], path_env, tmp),
        "git add (hooks)",
    );
    ok(
        &git(&repo, &["commit", "-q", "-m", "hooks"], path_env, tmp),
        "git commit (hooks)",
    );
    let head = git(&repo, &["rev-parse", "HEAD"], path_env, tmp);
    (
        repo,
        String::from_utf8_lossy(&head.stdout).trim().to_string(),
    )
}

#[test]
fn pre_commit_blocks_a_prompt_with_an_email_and_passes_a_clean_one() {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_promptlint"))
        .parent()
        .unwrap()
        .to_path_buf();
    let home_local = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/bin"));
    let mut dirs = vec![bin_dir];
    dirs.extend(home_local);
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path_env = std::env::join_paths(dirs)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    if !pre_commit_available(&path_env) {
        eprintln!("SKIPPED: `pre-commit` is not installed (`python3 -m pip install pre-commit`; .ci/run does this)");
        return;
    }
    // Both hooks (including the `language: rust` one) are valid manifest entries.
    let manifest = Command::new("pre-commit")
        .args([
            "validate-manifest",
            concat!(env!("CARGO_MANIFEST_DIR"), "/.pre-commit-hooks.yaml"),
        ])
        .env("PATH", &path_env)
        .output()
        .unwrap();
    ok(&manifest, "pre-commit validate-manifest");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("gitconfig"),
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n",
    )
    .unwrap();
    let (hooks, rev) = hook_repo(tmp.path(), &path_env);
    let repo = tmp.path().join("project");
    std::fs::create_dir_all(repo.join("prompts")).unwrap();
    ok(
        &git(&repo, &["init", "-q"], &path_env, tmp.path()),
        "git init",
    );
    std::fs::write(
        repo.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: promptlint-system\n",
            hooks.display()
        ),
    )
    .unwrap();
    let install = Command::new("pre-commit")
        .current_dir(&repo)
        .arg("install")
        .env("PATH", &path_env)
        .env("PRE_COMMIT_HOME", tmp.path().join("pre-commit-cache"))
        .env("GIT_CONFIG_GLOBAL", tmp.path().join("gitconfig"))
        .output()
        .unwrap();
    ok(&install, "pre-commit install");
    ok(
        &git(
            &repo,
            &["add", ".pre-commit-config.yaml"],
            &path_env,
            tmp.path(),
        ),
        "git add config",
    );
    ok(
        &git(
            &repo,
            &["commit", "-q", "-m", "config"],
            &path_env,
            tmp.path(),
        ),
        "commit config",
    );

    // A real customer's address pasted into a few-shot example: blocked.
    std::fs::write(
        repo.join("prompts/support.md"),
        "You are a support agent for Northwind. Classify the ticket.\n\nExample 1:\nInput: Hi, this is Dana (dana.whitfield@northwind-mail.com), my order never arrived.\nOutput: category=shipping\n",
    )
    .unwrap();
    ok(
        &git(&repo, &["add", "prompts/support.md"], &path_env, tmp.path()),
        "git add support",
    );
    let blocked = git(
        &repo,
        &["commit", "-m", "add support prompt"],
        &path_env,
        tmp.path(),
    );
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&blocked.stdout),
        String::from_utf8_lossy(&blocked.stderr)
    );
    assert!(
        !blocked.status.success(),
        "the commit should be blocked:\n{out}"
    );
    assert!(out.contains("pii/email-address"), "{out}");
    assert!(out.contains("prompts/support.md:4"), "{out}");
    assert!(
        !out.contains("dana.whitfield@"),
        "the address is redacted in hook output:\n{out}"
    );

    // The same prompt with a reserved example address: commits.
    std::fs::write(
        repo.join("prompts/support.md"),
        "You are a support agent for Northwind. Classify the ticket.\n\nExample 1:\nInput: Hi, this is Dana (dana@example.com), my order never arrived.\nOutput: category=shipping\n",
    )
    .unwrap();
    ok(
        &git(&repo, &["add", "prompts/support.md"], &path_env, tmp.path()),
        "git add clean",
    );
    let passed = git(
        &repo,
        &["commit", "-m", "add support prompt"],
        &path_env,
        tmp.path(),
    );
    ok(&passed, "commit of a clean prompt");
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&passed.stdout),
        String::from_utf8_lossy(&passed.stderr)
    );
    assert!(out.contains("promptlint"), "the hook ran:\n{out}");
}
