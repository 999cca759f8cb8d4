//! The lockfile: `<sha256>  <path>` lines, sorted by path, in the format `sha256sum` writes.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use super::{clean_rel, lockfile_rel, RegistryPrompt};
use crate::config::RawRegistryConfig;
use crate::span::{FileSpan, LineIndex};

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
