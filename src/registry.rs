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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

use crate::config::RawRegistryConfig;
use crate::extract::loaders::{LoaderCall, LoaderSpec, RawLoader, CONFIG_FAMILY, MENTION_FAMILY};
use crate::extract::PromptSpec;
use crate::finding::sha256_hex;
use crate::source::FileKind;
use crate::span::{FileSpan, LineCol, LineIndex};

/// The embedded registry pack (its `[data]` tables are read here).
pub const REGISTRY_TOML: &str = include_str!("../rules/registry.toml");

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
    no_unknown_id_paths: Vec<String>,
}

/// The registry pack's data, compiled once.
#[derive(Debug)]
pub struct RegistryData {
    pub loaders: Vec<RawLoader>,
    mention: Option<Regex>,
    /// Files whose loader calls are never unknown ids (tests that load missing ids on purpose).
    no_unknown_id: globset::GlobSet,
    not_prompts: Option<Regex>,
    extensions: Vec<String>,
}

static BUILTIN: LazyLock<Result<RegistryData, String>> = LazyLock::new(|| {
    // Only `[data]` is read here; the rest of the pack is compiled by `packs::compile`.
    let raw: toml::Table =
        toml::from_str(REGISTRY_TOML).map_err(|e| format!("rules/registry.toml: {e}"))?;
    let pack: RawRegistryPack = raw
        .try_into()
        .map_err(|e| format!("rules/registry.toml: [data]: {e}"))?;
    let not_prompts = if pack.data.files.not_prompts.is_empty() {
        None
    } else {
        let alt = pack
            .data
            .files
            .not_prompts
            .iter()
            .map(|p| format!("(?:{p})"))
            .collect::<Vec<_>>()
            .join("|");
        Some(Regex::new(&alt).map_err(|e| format!("rules/registry.toml: not-prompts: {e}"))?)
    };
    let mention = pack
        .data
        .files
        .mention_pattern
        .as_deref()
        .map(Regex::new)
        .transpose()
        .map_err(|e| format!("rules/registry.toml: mention-pattern: {e}"))?;
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
    Ok(LoaderSpec::compile(&data.loaders, &cfg.loaders)?.with_mentions(data.mention.clone()))
}

/// The lockfile's path relative to the config root.
pub fn lockfile_rel(cfg: &RawRegistryConfig) -> String {
    clean_rel(cfg.lockfile.as_deref().unwrap_or(DEFAULT_LOCKFILE))
}

fn clean_rel(p: &str) -> String {
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

fn stem(rel: &str) -> &str {
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

/// The lockfile as found.
#[derive(Debug, Clone)]
pub struct Lockfile {
    pub rel: String,
    pub display: String,
    /// `None` when the file does not exist.
    pub text: Option<String>,
    /// Named in config (so a missing file means every prompt is unlocked).
    pub explicit: bool,
}

/// One line of a lockfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockLine {
    /// 0-based line number.
    pub line: usize,
    pub span: FileSpan,
    pub sha256: String,
    pub path: String,
}

/// Parses `<sha256>  <path>` lines (`sha256sum` text or ` *` binary mode); other lines are skipped.
pub fn parse_lockfile(text: &str) -> Vec<LockLine> {
    let index = LineIndex::new(text);
    (0..index.line_count())
        .filter_map(|line| {
            let (start, end) = index.line_range(text, line);
            let l = &text[start..end];
            let (sha, rest) = l.split_at_checked(64)?;
            if !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            let path = rest
                .strip_prefix("  ")
                .or_else(|| rest.strip_prefix(" *"))?;
            Some(LockLine {
                line,
                span: FileSpan::new(start, end),
                sha256: sha.to_ascii_lowercase(),
                path: clean_rel(path),
            })
        })
        .collect()
}

/// The lockfile's content for `prompts`: one line each, sorted by path.
pub fn render_lockfile(prompts: &[RegistryPrompt]) -> String {
    let mut lines: Vec<(&str, &str)> = prompts
        .iter()
        .map(|p| (p.rel.as_str(), p.sha256.as_str()))
        .collect();
    lines.sort();
    lines.dedup_by(|a, b| a.0 == b.0);
    lines
        .iter()
        .map(|(path, sha)| format!("{sha}  {path}\n"))
        .collect()
}

/// Writes `content` to `path` atomically: a temp file beside it, then a rename.
pub fn write_atomic(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "prompts.lock".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(content.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
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

/// Reads the lockfile under `root`.
pub fn read_lockfile(root: &Path, cwd: &Path, cfg: &RawRegistryConfig) -> Lockfile {
    let rel = lockfile_rel(cfg);
    let path = root.join(&rel);
    Lockfile {
        display: crate::walk::display_path(&path, cwd),
        text: std::fs::read(&path)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned()),
        rel,
        explicit: cfg.lockfile.is_some(),
    }
}

/// How the lockfile differs from the registry: `(path, what)` per difference, sorted.
pub fn lock_differences(
    prompts: &[RegistryPrompt],
    lock: &Lockfile,
) -> Vec<(String, &'static str)> {
    let lines = lock.text.as_deref().map(parse_lockfile).unwrap_or_default();
    let recorded: HashMap<&str, &str> = lines
        .iter()
        .map(|l| (l.path.as_str(), l.sha256.as_str()))
        .collect();
    let mut out = Vec::new();
    for p in prompts {
        match recorded.get(p.rel.as_str()) {
            None => out.push((p.rel.clone(), "not locked")),
            Some(sha) if *sha != p.sha256 => out.push((p.rel.clone(), "changed")),
            _ => {}
        }
    }
    let present: BTreeSet<&str> = prompts.iter().map(|p| p.rel.as_str()).collect();
    for l in &lines {
        if !present.contains(l.path.as_str()) {
            out.push((l.path.clone(), "gone"));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A registry finding before severity, selection and suppression are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryFinding {
    /// `registry/...`.
    pub rule: &'static str,
    /// Display path of the file it is in.
    pub path: String,
    pub span: FileSpan,
    pub start: LineCol,
    pub end: LineCol,
    /// Message slots: `id`, `hint`, `path`, `detail`.
    pub slots: Vec<(&'static str, String)>,
    /// What the fingerprint hashes (an id, a path and hash...).
    pub key: String,
}

/// Everything the cross-file checks look at.
pub struct Input<'a> {
    pub prompts: &'a [RegistryPrompt],
    pub lockfile: Option<&'a Lockfile>,
    /// Loader calls with the display path of their file.
    pub calls: &'a [(String, LoaderCall)],
    /// The configured registry dirs.
    pub dirs: &'a [String],
    /// Whether every file was scanned (unused-prompt needs every call site).
    pub whole_repo: bool,
}

/// The span of line 1 of `text` (or an empty span at 0).
fn first_line(text: Option<&str>) -> (FileSpan, LineCol, LineCol) {
    let t = text.unwrap_or("");
    let end = t.find(['\n', '\r']).unwrap_or(t.len());
    let end_col = t[..end].chars().count() + 1;
    (
        FileSpan::new(0, end),
        LineCol { line: 1, column: 1 },
        LineCol {
            line: 1,
            column: end_col,
        },
    )
}

/// Levenshtein distance over chars, capped: returns `cap + 1` once it is exceeded.
fn distance(a: &str, b: &str, cap: usize) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > cap {
        return cap + 1;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        if cur.iter().min().copied().unwrap_or(0) > cap {
            return cap + 1;
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The prompts an id names: an exact id, or a key inside a structured prompt file
/// (`triage.system` or `triage/system` for `prompts/triage.yaml`).
fn resolve<'m>(
    by_id: &'m BTreeMap<String, Vec<usize>>,
    prompts: &[RegistryPrompt],
    id: &str,
) -> Option<&'m Vec<usize>> {
    if let Some(hits) = by_id.get(id) {
        return Some(hits);
    }
    let structured = |i: &usize| {
        let rel = prompts[*i].rel.to_ascii_lowercase();
        [".yaml", ".yml", ".json", ".toml"]
            .iter()
            .any(|e| rel.ends_with(e))
    };
    id.char_indices()
        .rev()
        .filter(|(_, c)| matches!(c, '.' | '/' | '#' | ':'))
        .filter_map(|(i, _)| by_id.get(&id[..i]))
        .find(|hits| hits.iter().any(structured))
}

/// Runs unknown-id, unlocked-change and unused-prompt over `input`.
pub fn analyze(input: &Input<'_>) -> Vec<RegistryFinding> {
    let mut out = Vec::new();
    // id -> indices of the prompts answering to it.
    let mut by_id: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut stems: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, p) in input.prompts.iter().enumerate() {
        for id in ids(&p.dir, &p.rel) {
            by_id.entry(id).or_default().push(i);
        }
        stems.entry(stem(&p.rel)).or_default().push(i);
    }
    for (s, v) in &stems {
        if v.len() == 1 {
            by_id
                .entry(s.to_string())
                .or_default()
                .extend(v.iter().copied());
        }
    }
    let mut referenced = vec![false; input.prompts.len()];
    let mut mirrored: BTreeSet<&str> = BTreeSet::new();
    let mut any_reference = false;
    for (_, call) in input.calls {
        if call.family == MENTION_FAMILY {
            // A file named in a string (`open(PROMPTS / "support/triage.md")`).
            if let Some(m) = &call.id {
                for (i, p) in input.prompts.iter().enumerate() {
                    if p.rel == *m || p.rel.ends_with(&format!("/{m}")) {
                        referenced[i] = true;
                    }
                }
            }
        } else if let Some(id) = &call.id {
            any_reference = true;
            if let Some(hits) = resolve(&by_id, input.prompts, id) {
                mirrored.insert(call.family.as_str());
                for &i in hits {
                    referenced[i] = true;
                }
            }
        } else if let Some(prefix) = call.id_prefix.as_deref().filter(|p| !p.is_empty()) {
            any_reference = true;
            for (id, hits) in by_id.range(prefix.to_string()..) {
                if !id.starts_with(prefix) {
                    break;
                }
                for &i in hits {
                    referenced[i] = true;
                }
            }
        }
    }
    // unknown-id
    let namespaces: BTreeSet<&str> = by_id
        .keys()
        .filter_map(|k| k.rsplit_once('/').map(|(d, _)| d))
        .collect();
    let mut locked_ids: HashMap<String, String> = HashMap::new();
    if let Some(text) = input.lockfile.and_then(|l| l.text.as_deref()) {
        for l in parse_lockfile(text) {
            for dir in input.dirs {
                if clean_rel(dir).is_empty() || l.path.starts_with(&format!("{}/", clean_rel(dir)))
                {
                    for id in ids(dir, &l.path) {
                        locked_ids.entry(id).or_insert_with(|| l.path.clone());
                    }
                }
            }
        }
    }
    let no_unknown_id = builtin().ok().map(|d| &d.no_unknown_id);
    for (path, call) in input.calls {
        let Some(id) = &call.id else { continue };
        if call.reference_only || no_unknown_id.is_some_and(|g| g.is_match(path)) {
            continue;
        }
        if resolve(&by_id, input.prompts, id).is_some() || id.is_empty() {
            continue;
        }
        let cap = (id.chars().count() / 4).clamp(1, 3);
        let near = by_id
            .keys()
            .map(|k| (distance(id, k, cap), k))
            .filter(|(d, _)| *d <= cap)
            .min();
        let namespace = id.rsplit_once('/').map(|(d, _)| d);
        let was_locked = locked_ids.get(id.as_str());
        // A loader named in config is the registry's own: every unknown id is an error. A
        // built-in or hosted one may fetch from elsewhere, so it needs evidence that the id
        // was meant for this registry.
        let report = call.family == CONFIG_FAMILY
            || mirrored.contains(call.family.as_str())
            || near.is_some_and(|(d, _)| d <= 2)
            || namespace.is_some_and(|n| namespaces.contains(n))
            || was_locked.is_some();
        if !report {
            continue;
        }
        let hint = match (near, was_locked) {
            (Some((_, k)), _) => format!(" (did you mean `{k}`?)"),
            (None, Some(path)) => format!(" ({path} was deleted or moved)"),
            (None, None) => String::new(),
        };
        out.push(RegistryFinding {
            rule: "registry/unknown-id",
            path: path.clone(),
            span: call.span,
            start: call.start,
            end: call.end,
            slots: vec![("id", id.clone()), ("hint", hint)],
            key: id.clone(),
        });
    }
    // unlocked-change
    if let Some(lock) = input.lockfile {
        let lines = lock.text.as_deref().map(parse_lockfile).unwrap_or_default();
        if lock.text.is_some() || lock.explicit {
            let recorded: HashMap<&str, &LockLine> =
                lines.iter().map(|l| (l.path.as_str(), l)).collect();
            for p in input.prompts {
                let detail = match recorded.get(p.rel.as_str()) {
                    Some(l) if l.sha256 == p.sha256 => continue,
                    Some(l) => format!(
                        "{} changed since it was locked ({} records {}, the file is {})",
                        p.rel,
                        lock.rel,
                        &l.sha256[..12],
                        &p.sha256[..12]
                    ),
                    None if lock.text.is_none() => {
                        format!("{} is not locked ({} does not exist)", p.rel, lock.rel)
                    }
                    None => format!("{} is not in {}", p.rel, lock.rel),
                };
                let (span, start, end) = first_line(p.text.as_deref());
                out.push(RegistryFinding {
                    rule: "registry/unlocked-change",
                    path: p.display.clone(),
                    span,
                    start,
                    end,
                    slots: vec![("detail", detail), ("path", p.rel.clone())],
                    key: format!("{} {}", p.rel, p.sha256),
                });
            }
            let present: BTreeSet<&str> = input.prompts.iter().map(|p| p.rel.as_str()).collect();
            let text = lock.text.as_deref().unwrap_or("");
            let index = LineIndex::new(text);
            for l in lines.iter().filter(|l| !present.contains(l.path.as_str())) {
                out.push(RegistryFinding {
                    rule: "registry/unlocked-change",
                    path: lock.display.clone(),
                    span: l.span,
                    start: index.line_col(text, l.span.start),
                    end: index.line_col(text, l.span.end),
                    slots: vec![
                        (
                            "detail",
                            format!(
                                "{} records {}, which is no longer a registry prompt",
                                lock.rel, l.path
                            ),
                        ),
                        ("path", l.path.clone()),
                    ],
                    key: format!("gone {}", l.path),
                });
            }
        }
    }
    // unused-prompt
    if input.whole_repo && any_reference {
        for (i, p) in input.prompts.iter().enumerate() {
            if referenced[i] {
                continue;
            }
            // Included by another registry prompt (`{% include "partials/header.j2" %}`).
            let name = p.rel.rsplit('/').next().unwrap_or(&p.rel);
            let included = input
                .prompts
                .iter()
                .any(|o| o.rel != p.rel && o.text.as_deref().is_some_and(|t| t.contains(name)));
            if included {
                continue;
            }
            let id = ids(&p.dir, &p.rel)
                .into_iter()
                .filter(|x| !x.starts_with(&format!("{}/", clean_rel(&p.dir))))
                .min_by_key(|x| x.len())
                .unwrap_or_else(|| p.rel.clone());
            let (span, start, end) = first_line(p.text.as_deref());
            out.push(RegistryFinding {
                rule: "registry/unused-prompt",
                path: p.display.clone(),
                span,
                start,
                end,
                slots: vec![("path", p.rel.clone()), ("id", id)],
                key: p.rel.clone(),
            });
        }
    }
    out
}

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

/// Whether `path` (absolute) lies under one of the scan roots (absolute).
pub fn in_scope(path: &Path, roots: &[PathBuf]) -> bool {
    roots.iter().any(|r| path.starts_with(r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::RawPromptsSpec;

    fn spec() -> PromptSpec {
        PromptSpec::compile(&RawPromptsSpec::default(), &[]).unwrap()
    }

    fn cfg(dirs: &[&str]) -> RawRegistryConfig {
        RawRegistryConfig {
            dirs: dirs.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn builtin_data_compiles() {
        let spec = loader_spec(&cfg(&["prompts"])).unwrap();
        assert!(spec
            .families
            .iter()
            .any(|f| f.name == "langfuse" && f.hosted));
        assert_eq!(
            spec.families[spec.family_of("langfuse.get_prompt").unwrap()].name,
            "langfuse"
        );
        assert_eq!(
            spec.families[spec.family_of("load_prompt").unwrap()].name,
            "in-house"
        );
    }

    #[test]
    fn id_forms() {
        let v = ids("prompts", "prompts/support/triage.prompt.md");
        for want in [
            "support/triage.prompt.md",
            "support/triage.prompt",
            "support/triage",
            "prompts/support/triage",
            "prompts/support/triage.prompt.md",
        ] {
            assert!(v.contains(&want.to_string()), "{want} in {v:?}");
        }
        assert_eq!(
            ids("./prompts/", "prompts/a.txt"),
            vec!["a", "a.txt", "prompts/a", "prompts/a.txt"]
        );
    }

    #[test]
    fn registry_files_are_classified() {
        let (c, s) = (cfg(&["prompts", "llm/templates"]), spec());
        assert_eq!(
            registry_dir_of(&c, &s, "prompts/support/triage.md"),
            Some("prompts")
        );
        assert_eq!(
            registry_dir_of(&c, &s, "llm/templates/qa.j2"),
            Some("llm/templates")
        );
        assert_eq!(
            registry_dir_of(&c, &s, "llm/templates/qa.txt"),
            Some("llm/templates")
        );
        assert_eq!(registry_dir_of(&c, &s, "prompts/README.md"), None);
        assert_eq!(registry_dir_of(&c, &s, "prompts/__init__.py"), None);
        assert_eq!(registry_dir_of(&c, &s, "prompts/manifest.json"), None);
        assert_eq!(registry_dir_of(&c, &s, "src/prompts_util.md"), None);
        assert_eq!(registry_dir_of(&c, &s, "promptsx/a.md"), None);
    }

    #[test]
    fn lockfile_round_trip() {
        let ps = vec![
            RegistryPrompt::new(
                "prompts/b.md".into(),
                "prompts/b.md".into(),
                "prompts".into(),
                b"b\n",
            ),
            RegistryPrompt::new(
                "prompts/a.md".into(),
                "prompts/a.md".into(),
                "prompts".into(),
                b"a\n",
            ),
        ];
        let text = render_lockfile(&ps);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].ends_with("  prompts/a.md") && lines[1].ends_with("  prompts/b.md"));
        assert_eq!(&lines[0][..64], sha256_hex(b"a\n"));
        let parsed = parse_lockfile(&text);
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1].line, 1);
        let lock = Lockfile {
            rel: "prompts.lock".into(),
            display: "prompts.lock".into(),
            text: Some(text),
            explicit: false,
        };
        assert!(lock_differences(&ps, &lock).is_empty());
        let edited = vec![RegistryPrompt::new(
            "prompts/a.md".into(),
            "prompts/a.md".into(),
            "prompts".into(),
            b"a2\n",
        )];
        assert_eq!(
            lock_differences(&edited, &lock),
            vec![
                ("prompts/a.md".to_string(), "changed"),
                ("prompts/b.md".to_string(), "gone")
            ]
        );
    }

    #[test]
    fn distance_is_capped() {
        assert_eq!(distance("suport/triage", "support/triage", 3), 1);
        assert_eq!(distance("abc", "xyzabcdef", 2), 3);
        assert_eq!(distance("kitten", "sitting", 3), 3);
    }

    fn run(case: &str, rule: &str) -> Vec<(usize, usize)> {
        run_repo_case(rule, case, &spec()).unwrap().0
    }

    #[test]
    fn hosted_ids_are_reported_only_when_mirrored_or_near() {
        let base = "#!repo\n--- promptlint.toml\n[registry]\ndirs = [\"prompts\"]\n--- prompts/summarize.md\nSummarize.\n--- app.py\n";
        assert!(run(
            &format!("{base}a = hub.pull('rlm/rag-prompt')\n"),
            "registry/unknown-id"
        )
        .is_empty());
        assert_eq!(
            run(
                &format!("{base}a = langfuse.get_prompt('sumarize')\n"),
                "registry/unknown-id"
            )
            .len(),
            1
        );
        let mirrored = format!("{base}a = langfuse.get_prompt('summarize')\nb = langfuse.get_prompt('translate-everything')\n");
        assert_eq!(run(&mirrored, "registry/unknown-id").len(), 1);
    }

    #[test]
    fn builtin_loaders_need_evidence_config_loaders_do_not() {
        let base = "#!repo\n--- promptlint.toml\n[registry]\ndirs = [\"prompts\"]\n--- prompts/support/triage.md\nT.\n";
        let unknown = |extra: &str, app: &str| {
            run(
                &format!("{base}{extra}--- app.py\n{app}"),
                "registry/unknown-id",
            )
            .len()
        };
        // No evidence the id was meant for this registry.
        assert_eq!(unknown("", "a = get_prompt('welcome-banner')\n"), 0);
        // Same namespace as registry prompts: a deleted or renamed prompt.
        assert_eq!(unknown("", "a = get_prompt('support/escalation')\n"), 1);
        // Other calls of the family resolve: the family reads this registry.
        assert_eq!(
            unknown(
                "",
                "a = get_prompt('triage')\nb = get_prompt('welcome-banner')\n"
            ),
            1
        );
        // The lockfile still records it.
        let lock = format!(
            "--- prompts.lock\n{}  prompts/welcome-banner.md\n",
            "0".repeat(64)
        );
        assert_eq!(unknown(&lock, "a = get_prompt('welcome-banner')\n"), 1);
        // A loader named in config always reads this registry.
        let cfg = "#!repo\n--- promptlint.toml\n[registry]\ndirs = [\"prompts\"]\nloaders = [\"get_prompt\"]\n--- prompts/a.md\nA.\n--- app.py\na = get_prompt('welcome-banner')\n";
        assert_eq!(run(cfg, "registry/unknown-id").len(), 1);
    }

    #[test]
    fn file_mentions_count_as_references_and_tests_may_load_missing_ids() {
        let base = "#!repo\n--- promptlint.toml\n[registry]\ndirs = [\"prompts\"]\nloaders = [\"load_prompt\"]\n--- prompts/a.md\nA.\n--- prompts/support/b.txt\nB.\n--- app.py\nx = load_prompt('a')\n";
        assert_eq!(run(base, "registry/unused-prompt").len(), 1);
        let read = format!("{base}y = (PROMPTS / \"support/b.txt\").read_text()\n");
        assert!(run(&read, "registry/unused-prompt").is_empty());
        assert!(run(&read, "registry/unknown-id").is_empty());
        let test = format!("{base}--- tests/test_loader.py\nwith raises(KeyError):\n    load_prompt('does-not-exist')\n");
        assert!(run(&test, "registry/unknown-id").is_empty());
    }

    #[test]
    fn jinja_template_loads_are_references_only() {
        let base = "#!repo\n--- promptlint.toml\n[registry]\ndirs = [\"prompts\"]\n--- prompts/triage.j2\nT.\n--- prompts/other.md\nO.\n--- app.py\nt = env.get_template('triage.j2')\nh = env.get_template('index.html')\nx = load_prompt('other')\n";
        assert!(run(base, "registry/unknown-id").is_empty());
        assert!(run(base, "registry/unused-prompt").is_empty());
    }

    #[test]
    fn keys_inside_structured_prompt_files_resolve() {
        let base = "#!repo\n--- promptlint.toml\n[registry]\ndirs = [\"prompts\"]\nloaders = [\"load_prompt\"]\n--- prompts/triage.yaml\nsystem: Sort tickets.\n--- prompts/notes.md\nN.\n--- app.py\nx = load_prompt('triage.system')\ny = load_prompt('notes')\n";
        assert!(run(base, "registry/unknown-id").is_empty());
        assert!(run(base, "registry/unused-prompt").is_empty());
        // Only structured files have keys.
        let md = base.replace("y = load_prompt('notes')", "y = load_prompt('notes.intro')");
        assert_eq!(run(&md, "registry/unknown-id").len(), 1);
    }

    #[test]
    fn unused_needs_some_reference_and_sees_includes() {
        let base = "#!repo\n--- promptlint.toml\n[registry]\ndirs = [\"prompts\"]\n--- prompts/main.j2\n{% include \"header.j2\" %} Go.\n--- prompts/header.j2\nHeader.\n";
        assert!(run(base, "registry/unused-prompt").is_empty());
        assert!(run(
            &format!("{base}--- app.py\nx = load_prompt('main')\n"),
            "registry/unused-prompt"
        )
        .is_empty());
        assert_eq!(
            run(
                &format!(
                    "{base}--- prompts/orphan.md\nOrphan.\n--- app.py\nx = load_prompt('main')\n"
                ),
                "registry/unused-prompt"
            ),
            vec![(0, 7)]
        );
    }

    #[test]
    fn explicit_missing_lockfile_reports_every_prompt() {
        let case = "#!repo\n--- promptlint.toml\n[registry]\ndirs = [\"prompts\"]\nlockfile = \"prompts.lock\"\n--- prompts/a.md\nA.\n--- prompts/b.md\nB.\n";
        assert_eq!(run(case, "registry/unlocked-change").len(), 2);
    }
}
