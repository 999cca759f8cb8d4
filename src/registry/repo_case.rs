//! `#!repo` rule cases: a small repository in one string, analysed like a real one.

use super::{
    analyze, loader_spec, lockfile_rel, registry_dir_of, render_lockfile, Input, Lockfile,
    RegistryPrompt,
};
use crate::extract::PromptSpec;

/// Byte spans a rule reported in a case's file, and the span the case marks.
pub type CaseOutcome = (Vec<(usize, usize)>, Option<(usize, usize)>);

/// Runs a `#!repo` rule case: files separated by `--- <path>` lines (a `promptlint.toml` among
/// them configures the registry; a lockfile whose body is `@lock` is filled with the right
/// hashes). Returns the spans `rule` reported in the file holding the `«…»` marker (any file
/// when there is none) and the marked span.
pub fn run_repo_case(rule: &str, case: &str, spec: &PromptSpec) -> Result<CaseOutcome, String> {
    let body = case.strip_prefix("#!repo\n").ok_or("not a #!repo case")?;
    let mut files: Vec<(String, String)> = Vec::new();
    for line in body.split_inclusive('\n') {
        if let Some(path) = line.strip_prefix("--- ") {
            files.push((path.trim().to_string(), String::new()));
        } else if let Some(last) = files.last_mut() {
            last.1.push_str(line);
        }
    }
    let mut marked: Option<(String, (usize, usize))> = None;
    for (path, text) in &mut files {
        if let (Some(s), Some(e)) = (text.find('«'), text.find('»')) {
            marked = Some((path.clone(), (s, e - '«'.len_utf8())));
            *text = text.replace(['«', '»'], "");
        }
    }
    let config: crate::config::RawConfig = match files.iter().find(|(p, _)| p == "promptlint.toml")
    {
        Some((_, t)) => toml::from_str(t).map_err(|e| format!("promptlint.toml: {e}"))?,
        None => crate::config::RawConfig::default(),
    };
    let cfg = &config.registry;
    let loaders = loader_spec(cfg)?;
    let mut prompts = Vec::new();
    let mut calls = Vec::new();
    for (path, text) in &files {
        if let Some(dir) = registry_dir_of(cfg, spec, path) {
            prompts.push(RegistryPrompt::new(
                path.clone(),
                path.clone(),
                dir.to_string(),
                text.as_bytes(),
            ));
        }
        if path.ends_with(".py") {
            calls.extend(
                crate::extract::loaders::parse_and_collect(text, &loaders)
                    .into_iter()
                    .map(|c| (path.clone(), c)),
            );
        }
    }
    prompts.sort_by(|a, b| a.rel.cmp(&b.rel));
    let lock_rel = lockfile_rel(cfg);
    let lockfile = files
        .iter()
        .find(|(p, _)| *p == lock_rel)
        .map(|(_, t)| t.clone());
    let lockfile = Lockfile {
        display: lock_rel.clone(),
        text: lockfile.map(|t| {
            if t.trim() == "@lock" {
                render_lockfile(&prompts)
            } else {
                t
            }
        }),
        rel: lock_rel,
        explicit: cfg.lockfile.is_some(),
    };
    let configured = !cfg.dirs.is_empty();
    let found = if configured {
        analyze(&Input {
            dirs: &cfg.dirs,
            prompts: &prompts,
            lockfile: Some(&lockfile),
            calls: &calls,
            whole_repo: true,
        })
    } else {
        Vec::new()
    };
    let spans = found
        .iter()
        .filter(|f| f.rule == rule && marked.as_ref().is_none_or(|(p, _)| *p == f.path))
        .map(|f| (f.span.start, f.span.end))
        .collect();
    Ok((spans, marked.map(|(_, m)| m)))
}
