//! The registry at the command line: `promptlint lock [--check]`, and the cross-file registry
//! findings `check` adds after its per-file results.
//!
//! Both read the registry from disk through `crate::registry` (the same walk, so `lock` and
//! `check` always agree on which files are registry prompts). `lock` writes the lockfile
//! atomically and only when its content changes; `--check` writes nothing.

use std::path::{Path, PathBuf};

use super::args::LockArgs;
use super::{exit, Fatal, Setup};
use crate::config::{self, RawRegistryConfig};
use crate::engine::Engine;
use crate::extract::loaders::LoaderCall;
use crate::extract::PromptSpec;
use crate::finding::{fingerprint, FileError, Finding, Report};
use crate::registry::{self, Input};

const NO_REGISTRY: &str = "no prompt registry configured: add `[registry]` with `dirs = [\"prompts\"]` to promptlint.toml (or `[tool.promptlint.registry]` in pyproject.toml)";

/// `promptlint lock [--check]`.
pub fn lock(args: LockArgs) -> Result<(String, u8), Fatal> {
    let cwd = std::env::current_dir()
        .map_err(|e| Fatal(format!("cannot read the current directory: {e}")))?;
    let config = match &args.config {
        Some(path) if !path.is_file() => {
            return Err(Fatal(format!("{}: config file not found", path.display())))
        }
        Some(path) => config::load(path)?,
        None => config::discover(&cwd)?,
    };
    let cfg: &RawRegistryConfig = &config.raw.registry;
    if cfg.dirs.is_empty() {
        return Err(Fatal(NO_REGISTRY.into()));
    }
    let spec = PromptSpec::compile(&config.raw.prompts, &config.raw.files.prompt_globs)
        .map_err(|e| Fatal(e.to_string()))?;
    let root = crate::walk::absolute(&config.root, &cwd);
    let prompts =
        registry::collect(&root, &cwd, cfg, &spec, &config.raw.files.exclude).map_err(Fatal)?;
    let lock = registry::read_lockfile(&root, &cwd, cfg);
    let content = registry::render_lockfile(&prompts);
    let n = prompts.len();
    let plural = if n == 1 { "" } else { "s" };
    let differences = registry::lock_differences(&prompts, &lock);
    // `--check` asks whether the recorded hashes are current; layout (order, `./`, binary-mode
    // `*` markers) is only normalised when the file is written.
    let current = lock.text.as_deref() == Some(content.as_str())
        || (args.check && lock.text.is_some() && differences.is_empty());
    if current {
        let out = if args.quiet {
            String::new()
        } else {
            format!("{} is up to date ({n} prompt{plural})\n", lock.display)
        };
        return Ok((out, exit::CLEAN));
    }
    if args.check {
        let mut out = String::new();
        for (path, what) in differences {
            out.push_str(&format!("  {what}: {path}\n"));
        }
        let why = if lock.text.is_none() {
            "does not exist"
        } else {
            "is out of date"
        };
        out.push_str(&format!(
            "{} {why}; run `promptlint lock` to update it\n",
            lock.display
        ));
        return Ok((out, exit::FINDINGS));
    }
    let path = root.join(&lock.rel);
    registry::write_atomic(&path, &content)
        .map_err(|e| Fatal(format!("{}: cannot write the lockfile: {e}", lock.display)))?;
    let out = if args.quiet {
        String::new()
    } else {
        format!("wrote {} ({n} prompt{plural})\n", lock.display)
    };
    Ok((out, exit::CLEAN))
}

const CROSS_FILE_RULES: &[&str] = &[
    "registry/unknown-id",
    "registry/unlocked-change",
    "registry/unused-prompt",
];

/// Adds the cross-file registry findings (unknown-id, unlocked-change, unused-prompt) to
/// `report`, honouring rule selection, severities, per-file ignores and inline suppressions.
/// Findings in registry files outside the scanned paths are left out; unused-prompt runs only
/// when the scan covers the whole config root (it needs every call site).
pub fn add_registry_findings(
    report: &mut Report,
    engine: &Engine<'_>,
    setup: &Setup,
    scan_paths: &[PathBuf],
    calls: &[(String, LoaderCall)],
) -> Result<(), Fatal> {
    let Some(cfg) = &engine.settings.registry else {
        return Ok(());
    };
    if cfg.dirs.is_empty() || !CROSS_FILE_RULES.iter().any(|r| engine.is_enabled(r)) {
        return Ok(());
    }
    let cwd = std::env::current_dir()
        .map_err(|e| Fatal(format!("cannot read the current directory: {e}")))?;
    let root = crate::walk::absolute(&setup.config.root, &cwd);
    let prompts = match registry::collect(
        &root,
        &cwd,
        cfg,
        &setup.spec,
        &setup.config.raw.files.exclude,
    ) {
        Ok(p) => p,
        Err(message) => {
            report.errors.push(FileError {
                path: "[registry]".into(),
                message,
            });
            return Ok(());
        }
    };
    let lock = registry::read_lockfile(&root, &cwd, cfg);
    let scope: Vec<PathBuf> = scan_paths
        .iter()
        .map(|p| crate::walk::absolute(p, &cwd))
        .collect();
    let whole_repo = scope.iter().any(|s| root.starts_with(s));
    let found = registry::analyze(&Input {
        dirs: &cfg.dirs,
        prompts: &prompts,
        lockfile: Some(&lock),
        calls,
        whole_repo,
    });
    let mut by_path: std::collections::BTreeMap<String, Vec<Finding>> = Default::default();
    for f in found {
        let Some(rule) = engine.rules.get(f.rule) else {
            continue;
        };
        if !engine.is_enabled(f.rule)
            || engine.is_ignored_for(&f.path, f.rule)
            || !registry::in_scope(&crate::walk::absolute(Path::new(&f.path), &cwd), &scope)
        {
            continue;
        }
        let slots: Vec<(&str, &str)> = f.slots.iter().map(|(k, v)| (*k, v.as_str())).collect();
        by_path.entry(f.path.clone()).or_default().push(Finding {
            rule: rule.id.clone(),
            severity: engine.severity_of(f.rule).unwrap_or(rule.severity),
            message: crate::kinds::fill(&rule.message, &slots),
            help: rule.help.clone(),
            fingerprint: fingerprint(&rule.id, &f.path, &f.key),
            path: f.path,
            span: f.span,
            start: f.start,
            end: f.end,
            related: Vec::new(),
            prompt_id: None,
            masks: Vec::new(),
        });
    }
    for (path, mut findings) in by_path {
        let text = prompts
            .iter()
            .find(|p| p.display == path)
            .and_then(|p| p.text.clone())
            .or_else(|| (lock.display == path).then(|| lock.text.clone()).flatten())
            .or_else(|| {
                std::fs::read_to_string(crate::walk::absolute(Path::new(&path), &cwd)).ok()
            });
        if let Some(text) = text {
            let mut directives = crate::suppress::parse(&text);
            crate::suppress::apply(&mut findings, &mut directives);
            if !findings.is_empty() {
                report.sources.push((path, text));
            }
        }
        report.findings.extend(findings);
    }
    Ok(())
}
