//! Finding the files to scan.
//!
//! Directories are walked with the `ignore` crate (honouring `.gitignore`, `.ignore` and git's
//! excludes; skipping hidden directories except the few that hold assistant instructions, and
//! vendored trees such as `node_modules`). Files named explicitly are always scanned (pre-commit
//! passes staged files this way) unless `--force-exclude` applies the config excludes to them
//! too. Symlinks are not followed, so a symlink loop cannot trap the walk. Files are handed to
//! the linter as the walk finds them, so the scan's results are sorted afterwards.

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

/// Finds the files to scan under the paths a run names.
pub struct Walker<'a> {
    spec: &'a PromptSpec,
    opts: &'a WalkOptions<'a>,
    excludes: GlobSet,
    cwd: PathBuf,
    /// The directory exclude globs are relative to, absolute (resolved once per run).
    root_abs: PathBuf,
}

impl<'a> Walker<'a> {
    pub fn new(spec: &'a PromptSpec, opts: &'a WalkOptions<'a>) -> Result<Self, String> {
        let excludes = exclude_set(opts.excludes)?;
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let root_abs = absolute(opts.root, &cwd);
        Ok(Walker {
            spec,
            opts,
            excludes,
            cwd,
            root_abs,
        })
    }

    fn is_excluded(&self, p: &Path) -> bool {
        !self.opts.excludes.is_empty()
            && self
                .excludes
                .is_match(relative_to(p, &self.root_abs, &self.cwd))
    }

    /// The files among `paths`, classified and sorted (under `--force-exclude` without the
    /// excluded ones), and the directories among them, to walk.
    pub fn split(&self, paths: &[PathBuf]) -> (Vec<WalkItem>, Vec<PathBuf>) {
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        for root in paths {
            if !(root.is_file() || (!root.is_dir() && root.exists())) {
                dirs.push(root.clone());
                continue;
            }
            if self.opts.force_exclude && self.is_excluded(root) {
                continue;
            }
            let path = display_path(root, &self.cwd);
            if let Some(kind) = self.spec.classify(&path).or_else(|| {
                self.spec
                    .classify(&relative_to(root, &self.root_abs, &self.cwd))
            }) {
                files.push(WalkItem {
                    path,
                    fs_path: root.clone(),
                    kind,
                });
            }
        }
        files.sort();
        files.dedup_by(|a, b| a.path == b.path);
        (files, dirs)
    }

    /// Walks `dir` and hands each file to `visit` as soon as it is found, on the walking
    /// thread, with the state `init` made for that thread: files are read while directories
    /// are still being listed, and no list of the repository's files is ever held. The order
    /// of visits varies from run to run. Walk problems are returned as per-file errors, sorted.
    pub fn walk_dir<S: Send>(
        &self,
        dir: &Path,
        init: impl Fn() -> S + Sync,
        visit: impl Fn(&mut S, WalkItem) + Sync,
    ) -> Vec<FileError> {
        let mut builder = WalkBuilder::new(dir);
        builder
            .hidden(false)
            .follow_links(false)
            .threads(self.opts.threads.max(1))
            .require_git(false);
        let excludes = self.excludes.clone();
        let has_excludes = !self.opts.excludes.is_empty();
        let (config_root, walk_cwd) = (self.root_abs.clone(), self.cwd.clone());
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
        let errors = std::sync::Mutex::new(Vec::new());
        let (init, visit, errors_ref) = (&init, &visit, &errors);
        builder.build_parallel().run(|| {
            let mut state = init();
            Box::new(move |entry| {
                match entry {
                    Ok(e) => {
                        if let Some(item) = walk_item(e, self.spec, &self.cwd, dir) {
                            visit(&mut state, item);
                        }
                    }
                    Err(err) => {
                        let path = err_path(&err)
                            .map(|p| display_path(&p, &self.cwd))
                            .unwrap_or_else(|| display_path(dir, &self.cwd));
                        let message = walk_message(&err);
                        // A poisoned lock still holds what was found: keep it rather than drop it.
                        errors_ref
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(FileError { path, message });
                    }
                }
                ignore::WalkState::Continue
            })
        });
        let mut errors = errors.into_inner().unwrap_or_else(|e| e.into_inner());
        sort_errors(&mut errors);
        errors
    }
}

/// Walk problems in path order, so output never depends on thread timing.
pub fn sort_errors(errors: &mut [FileError]) {
    errors.sort_by(|a, b| a.path.cmp(&b.path).then_with(|| a.message.cmp(&b.message)));
}

/// The walk item for a directory entry: a regular file promptlint reads.
fn walk_item(e: ignore::DirEntry, spec: &PromptSpec, cwd: &Path, root: &Path) -> Option<WalkItem> {
    if !e.file_type().is_some_and(|t| t.is_file()) {
        return None;
    }
    let path = display_path(e.path(), cwd);
    // A file outside the current directory has an absolute display path, which `[files]`
    // globs cannot match: classify it by its path under the walked directory as well. Under the
    // current directory the display path holds every directory that path does, and more (a
    // walk started inside `cassettes/` must not shed the name that skips it).
    let kind = spec.classify(&path).or_else(|| {
        Path::new(&path)
            .is_absolute()
            .then(|| spec.classify(&display_path(e.path(), root)))
            .flatten()
    })?;
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
