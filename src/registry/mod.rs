//! The prompt registry: registry prompt files, their ids, the lockfile, and the cross-file
//! checks that run after collection (`registry/unknown-id`, `registry/unlocked-change`,
//! `registry/unused-prompt`).
//!
//! A registry is declared by `[registry]` in config: `dirs` (relative to the config root) hold
//! the registry prompt files; loader calls (`crate::extract::loaders`) fetch them by id. A
//! prompt at `<dir>/<rel>` answers to `<rel>` with and without its extension(s), to
//! `<dir>/<rel>` with and without them, and to its bare file stem when that stem is unique in
//! the registry. The lockfile (`[registry] lockfile`, default `prompts.lock` at the config root)
//! holds one `<sha256>  <path from the root>` line per registry prompt, sorted by path: the
//! `sha256sum` format, hashed over the file's raw bytes so `sha256sum -c` verifies it.
//!
//! `analyze` works on data already in memory (so rule self-tests can run it on `#!repo` cases);
//! `collect` reads a registry from disk. Nothing here prints; the CLI renders and exits.

mod analyze;
mod lockfile;
mod repo_case;
#[cfg(test)]
mod tests;

pub use analyze::{analyze, Input, RegistryFinding};
pub use lockfile::{
    lock_differences, parse_lockfile, read_lockfile, render_lockfile, write_atomic, LockLine,
    Lockfile,
};
pub use repo_case::{run_repo_case, CaseOutcome};

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

use crate::config::RawRegistryConfig;
use crate::extract::loaders::{LoaderSpec, RawLoader};
use crate::extract::PromptSpec;
use crate::finding::sha256_hex;
use crate::packs::builtin;
use crate::source::FileKind;

/// The default lockfile, relative to the config root.
pub const DEFAULT_LOCKFILE: &str = "prompts.lock";

#[derive(Debug, Deserialize)]
struct RawRegistryPack {
    #[serde(default)]
    data: RawData,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawData {
    #[serde(default)]
    loader: Vec<RawLoader>,
    #[serde(default)]
    files: RawDataFiles,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDataFiles {
    #[serde(default)]
    not_prompts: Vec<String>,
    #[serde(default)]
    extensions: Vec<String>,
    #[serde(default)]
    mention_pattern: Option<String>,
    #[serde(default)]
    id_mention_pattern: Option<String>,
    #[serde(default)]
    no_unknown_id_paths: Vec<String>,
}

/// The registry pack's data, compiled once.
#[derive(Debug)]
pub struct RegistryData {
    pub loaders: Vec<RawLoader>,
    mention: Option<Regex>,
    id_mention: Option<Regex>,
    /// Files whose loader calls are never unknown ids (tests that load missing ids on purpose).
    no_unknown_id: globset::GlobSet,
    not_prompts: Option<Regex>,
    extensions: Vec<String>,
}

static BUILTIN: LazyLock<Result<RegistryData, String>> = LazyLock::new(|| {
    // Only `[data]` is read here; the rest of the pack is compiled by `packs::compile`.
    let pack: RawRegistryPack = builtin::REGISTRY.parse()?;
    let not_prompts = crate::lazy_regex::any_of(&pack.data.files.not_prompts)
        .map_err(|e| format!("rules/registry.toml: not-prompts: {e}"))?;
    let mention = pack
        .data
        .files
        .mention_pattern
        .as_deref()
        .map(Regex::new)
        .transpose()
        .map_err(|e| format!("rules/registry.toml: mention-pattern: {e}"))?;
    let id_mention = pack
        .data
        .files
        .id_mention_pattern
        .as_deref()
        .map(Regex::new)
        .transpose()
        .map_err(|e| format!("rules/registry.toml: id-mention-pattern: {e}"))?;
    let mut globs = globset::GlobSetBuilder::new();
    for g in &pack.data.files.no_unknown_id_paths {
        globs.add(
            globset::Glob::new(g)
                .map_err(|e| format!("rules/registry.toml: no-unknown-id-paths: {e}"))?,
        );
    }
    let no_unknown_id = globs
        .build()
        .map_err(|e| format!("rules/registry.toml: no-unknown-id-paths: {e}"))?;
    Ok(RegistryData {
        loaders: pack.data.loader,
        mention,
        id_mention,
        no_unknown_id,
        not_prompts,
        extensions: pack.data.files.extensions,
    })
});

/// The built-in registry data.
pub fn builtin() -> Result<&'static RegistryData, String> {
    BUILTIN.as_ref().map_err(Clone::clone)
}

/// Built-in loader families plus the config's `loaders`.
pub fn loader_spec(cfg: &RawRegistryConfig) -> Result<LoaderSpec, String> {
    let data = builtin()?;
    Ok(LoaderSpec::compile(&data.loaders, &cfg.loaders)?
        .with_mentions(data.mention.clone(), data.id_mention.clone()))
}

/// The lockfile's path relative to the config root.
pub fn lockfile_rel(cfg: &RawRegistryConfig) -> String {
    clean_rel(cfg.lockfile.as_deref().unwrap_or(DEFAULT_LOCKFILE))
}

pub(crate) fn clean_rel(p: &str) -> String {
    p.replace('\\', "/")
        .trim_start_matches("./")
        .trim_end_matches('/')
        .to_string()
}

/// Whether `rel` (relative to the config root) lies under a registry dir and is a prompt file.
/// Returns the registry dir it is under.
pub fn registry_dir_of<'c>(
    cfg: &'c RawRegistryConfig,
    spec: &PromptSpec,
    rel: &str,
) -> Option<&'c str> {
    let data = builtin().ok()?;
    let dir = cfg.dirs.iter().map(|d| d.as_str()).find(|d| {
        let d = clean_rel(d);
        d.is_empty()
            || rel
                .strip_prefix(d.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    })?;
    let name = rel.rsplit('/').next().unwrap_or(rel);
    if rel == lockfile_rel(cfg) || data.not_prompts.as_ref().is_some_and(|r| r.is_match(name)) {
        return None;
    }
    let ext = match name.rfind('.') {
        Some(i) if i > 0 => name[i + 1..].to_ascii_lowercase(),
        _ => String::new(),
    };
    let classified = matches!(spec.classify(rel), Some(k) if !matches!(k, FileKind::Python | FileKind::Notebook));
    (classified || data.extensions.contains(&ext)).then_some(dir)
}

/// Every id a registry prompt at `rel` (from the root) under `dir` answers to, stem excluded.
pub fn ids(dir: &str, rel: &str) -> Vec<String> {
    let dir = clean_rel(dir);
    let inner = if dir.is_empty() {
        rel
    } else {
        rel.strip_prefix(dir.as_str())
            .map(|r| r.trim_start_matches('/'))
            .unwrap_or(rel)
    };
    let mut out = Vec::new();
    for base in [inner, rel] {
        out.push(base.to_string());
        let (head, name) = base
            .rsplit_once('/')
            .map(|(h, n)| (format!("{h}/"), n))
            .unwrap_or((String::new(), base));
        if let Some(i) = name.rfind('.').filter(|i| *i > 0) {
            out.push(format!("{head}{}", &name[..i]));
        }
        if let Some(i) = name.find('.').filter(|i| *i > 0) {
            out.push(format!("{head}{}", &name[..i]));
        }
    }
    out.sort();
    out.dedup();
    out
}

pub(crate) fn stem(rel: &str) -> &str {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    match name.find('.') {
        Some(i) if i > 0 => &name[..i],
        _ => name,
    }
}

/// One registry prompt file.
#[derive(Debug, Clone)]
pub struct RegistryPrompt {
    /// Path from the config root, `/` separators (as written in the lockfile).
    pub rel: String,
    /// Path as displayed in findings.
    pub display: String,
    /// The registry dir it is under, as configured.
    pub dir: String,
    pub sha256: String,
    /// The file's text when it is UTF-8 (for snippets, suppressions and include scanning).
    pub text: Option<String>,
}

impl RegistryPrompt {
    pub fn new(rel: String, display: String, dir: String, bytes: &[u8]) -> Self {
        let text = std::str::from_utf8(bytes)
            .ok()
            .map(|t| t.trim_start_matches('\u{feff}').to_string());
        RegistryPrompt {
            rel,
            display,
            dir,
            sha256: sha256_hex(bytes),
            text,
        }
    }
}

/// Reads every registry prompt under `root` (sorted by path). Honours `.gitignore` and the
/// config's excludes, skips hidden entries, does not follow symlinks.
pub fn collect(
    root: &Path,
    cwd: &Path,
    cfg: &RawRegistryConfig,
    spec: &PromptSpec,
    excludes: &[String],
) -> Result<Vec<RegistryPrompt>, String> {
    let exclude = crate::walk::exclude_set(excludes)?;
    let mut out = Vec::new();
    for dir in &cfg.dirs {
        let base = root.join(clean_rel(dir));
        if !base.is_dir() {
            continue;
        }
        let walker = ignore::WalkBuilder::new(&base)
            .hidden(true)
            .follow_links(false)
            .require_git(false)
            .build();
        for entry in walker.flatten() {
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let rel = crate::walk::display_path(entry.path(), root);
            if (!excludes.is_empty() && exclude.is_match(&rel))
                || registry_dir_of(cfg, spec, &rel).is_none()
            {
                continue;
            }
            let bytes =
                std::fs::read(entry.path()).map_err(|e| format!("{rel}: cannot read: {e}"))?;
            let display = crate::walk::display_path(&root.join(&rel), cwd);
            out.push(RegistryPrompt::new(rel, display, dir.clone(), &bytes));
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    out.dedup_by(|a, b| a.rel == b.rel);
    Ok(out)
}

/// Whether `path` (absolute) lies under one of the scan roots (absolute).
pub fn in_scope(path: &Path, roots: &[PathBuf]) -> bool {
    roots.iter().any(|r| path.starts_with(r))
}
