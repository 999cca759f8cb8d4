//! Finding the files to scan.
//!
//! Directories are walked with the `ignore` crate (honouring `.gitignore`, `.ignore` and git's
//! excludes; skipping hidden directories except the few that hold assistant instructions, and
//! vendored trees such as `node_modules`). Files named explicitly are always scanned (pre-commit
//! passes staged files this way) unless `--force-exclude` applies the config excludes to them
//! too. Symlinks are not followed, so a symlink loop cannot trap the walk. The result is sorted,
//! so output order never depends on thread timing.

use std::path::{Component, Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::WalkBuilder;

use crate::extract::PromptSpec;
use crate::finding::FileError;
use crate::source::FileKind;

/// Hidden entries that still hold prompts.
const HIDDEN_ALLOWED: &[&str] = &[
    ".github",
    ".cursor",
    ".cursorrules",
    ".windsurfrules",
    ".gemini",
    ".claude",
];
/// Directories never worth scanning.
/// (Hidden ones such as `.venv` and `.tox` are already skipped as hidden.)
const VENDORED: &[&str] = &["node_modules", "site-packages", "__pycache__", "venv"];

/// A file to scan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct WalkItem {
    /// Display path: relative to the current directory when under it, `/` separators.
    pub path: String,
    pub fs_path: PathBuf,
    pub kind: FileKind,
}

pub struct WalkOptions<'a> {
    pub excludes: &'a [String],
    /// Directory the exclude globs are relative to (the config's directory).
    pub root: &'a Path,
    pub force_exclude: bool,
    pub threads: usize,
}

/// Builds a glob set from exclude patterns. A pattern without `/` matches at any depth, as in
/// `.gitignore`; a directory pattern also excludes everything below it.
pub fn exclude_set(patterns: &[String]) -> Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let p = p.trim_start_matches("./").trim_end_matches('/');
        let mut variants = vec![p.to_string(), format!("{p}/**")];
        if !p.contains('/') {
            variants.push(format!("**/{p}"));
            variants.push(format!("**/{p}/**"));
        }
        for v in variants {
            b.add(Glob::new(&v).map_err(|e| format!("[files] exclude: invalid glob `{p}`: {e}"))?);
        }
    }
    b.build().map_err(|e| format!("[files] exclude: {e}"))
}

/// The display form of `path`.
pub fn display_path(path: &Path, cwd: &Path) -> String {
    let rel = path.strip_prefix(cwd).unwrap_or(path);
    let mut out = Vec::new();
    for c in rel.components() {
        match c {
            Component::CurDir => {}
            Component::RootDir => out.push(String::new()),
            other => out.push(other.as_os_str().to_string_lossy().into_owned()),
        }
    }
    let s = out.join("/");
    if s.is_empty() {
        ".".into()
    } else {
        s
    }
}

/// `p` made absolute against `cwd`, with `.` and `..` resolved lexically.
pub fn absolute(p: &Path, cwd: &Path) -> PathBuf {
    if p.is_absolute() {
        normalize(p)
    } else {
        normalize(&cwd.join(p))
    }
}

/// `path` relative to `root_abs` (an absolute, normalized directory), for matching excludes.
fn relative_to(path: &Path, root_abs: &Path, cwd: &Path) -> String {
    display_path(&absolute(path, cwd), root_abs)
}

/// `p` with `.` and `..` components resolved lexically (no file system access).
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Collects the files under `paths`, sorted. Walk problems are returned as per-file errors.
pub fn walk(
    paths: &[PathBuf],
    spec: &PromptSpec,
    opts: &WalkOptions<'_>,
) -> Result<(Vec<WalkItem>, Vec<FileError>), String> {
    let excludes = exclude_set(opts.excludes)?;
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    // Exclude globs are relative to the config's directory; resolve it once per run.
    let root_abs = absolute(opts.root, &cwd);
    let is_excluded =
        |p: &Path| !opts.excludes.is_empty() && excludes.is_match(relative_to(p, &root_abs, &cwd));
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for root in paths {
        if root.is_file() || (!root.is_dir() && root.exists()) {
            if opts.force_exclude && is_excluded(root) {
                continue;
            }
            let path = display_path(root, &cwd);
            if let Some(kind) = spec
                .classify(&path)
                .or_else(|| spec.classify(&relative_to(root, &root_abs, &cwd)))
            {
                items.push(WalkItem {
                    path,
                    fs_path: root.clone(),
                    kind,
                });
            }
            continue;
        }
        let mut builder = WalkBuilder::new(root);
        builder
            .hidden(false)
            .follow_links(false)
            .threads(opts.threads.max(1))
            .require_git(false);
        let excludes = excludes.clone();
        let has_excludes = !opts.excludes.is_empty();
        let (config_root, walk_cwd) = (root_abs.clone(), cwd.clone());
        builder.filter_entry(move |entry| {
            let name = entry.file_name().to_string_lossy();
            if entry.depth() == 0 {
                return true;
            }
            if name.starts_with('.') && !HIDDEN_ALLOWED.contains(&name.as_ref()) {
                return false;
            }
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            if is_dir && VENDORED.contains(&name.as_ref()) {
                return false;
            }
            !(has_excludes && excludes.is_match(relative_to(entry.path(), &config_root, &walk_cwd)))
        });
        // The parallel walker: reading directories is most of a walk, and the workers only
        // start once it is done. Its order varies, so items and errors are sorted below.
        let found = std::sync::Mutex::new((Vec::new(), Vec::new()));
        builder.build_parallel().run(|| {
            Box::new(|entry| {
                let (item, error) = match entry {
                    Ok(e) => (walk_item(e, spec, &cwd, root), None),
                    Err(err) => {
                        let path = err_path(&err)
                            .map(|p| display_path(&p, &cwd))
                            .unwrap_or_else(|| display_path(root, &cwd));
                        let message = walk_message(&err);
                        (None, Some(FileError { path, message }))
                    }
                };
                if item.is_some() || error.is_some() {
                    // A poisoned lock still holds what was found: keep it rather than drop it.
                    let mut found = found.lock().unwrap_or_else(|e| e.into_inner());
                    found.0.extend(item);
                    found.1.extend(error);
                }
                ignore::WalkState::Continue
            })
        });
        let (found_items, found_errors) = found.into_inner().unwrap_or_else(|e| e.into_inner());
        items.extend(found_items);
        errors.extend(found_errors);
    }
    items.sort();
    items.dedup_by(|a, b| a.path == b.path);
    errors.sort_by(|a, b| a.path.cmp(&b.path).then_with(|| a.message.cmp(&b.message)));
    Ok((items, errors))
}

/// The walk item for a directory entry: a regular file promptlint reads.
fn walk_item(e: ignore::DirEntry, spec: &PromptSpec, cwd: &Path, root: &Path) -> Option<WalkItem> {
    if !e.file_type().is_some_and(|t| t.is_file()) {
        return None;
    }
    let path = display_path(e.path(), cwd);
    let rel_root = display_path(e.path(), root);
    let kind = spec.classify(&path).or_else(|| spec.classify(&rel_root))?;
    Some(WalkItem {
        path,
        fs_path: e.into_path(),
        kind,
    })
}

fn err_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            err_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

fn walk_message(err: &ignore::Error) -> String {
    match err {
        ignore::Error::Loop { .. } => "skipped: symbolic link loop".into(),
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => walk_message(err),
        ignore::Error::Io(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            "cannot read: permission denied".into()
        }
        other => format!("cannot read: {}", other.to_string().to_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_paths() {
        assert_eq!(
            display_path(Path::new("/a/b/c.py"), Path::new("/a")),
            "b/c.py"
        );
        assert_eq!(
            display_path(Path::new("./x/y.md"), Path::new("/else")),
            "x/y.md"
        );
    }

    #[test]
    fn exclude_patterns_match_like_gitignore() {
        let s = exclude_set(&["tests/fixtures/**".into(), "vendor".into()]).unwrap();
        assert!(s.is_match("tests/fixtures/a/b.py"));
        assert!(s.is_match("src/vendor/x.py"));
        assert!(!s.is_match("src/app.py"));
    }
}
