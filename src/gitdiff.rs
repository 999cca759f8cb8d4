//! What changed since a git revision: added or changed line ranges per file, renames, new and
//! deleted files — the input of `check --diff REV` and `owners --base REV`.
//!
//! git runs as a subprocess (`git diff --unified=0 -M REV` for tracked files, `git ls-files
//! --others --exclude-standard` for untracked ones), with external diff drivers, textconv
//! filters and fsmonitor hooks turned off, so nothing from the repository is executed and
//! nothing touches the network. Paths are relative to the repository root, `/`-separated; the
//! caller maps them to display paths with `prefix` (the current directory inside the repo).
//! This module does not decide what a prompt is; it only says which lines moved.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// How one file changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileChange {
    /// Path at REV when it differs from the new path (a rename), or for a deleted file.
    pub old_path: Option<String>,
    /// The file did not exist at REV (added or untracked): every line is new.
    pub added: bool,
    /// The file no longer exists in the working tree.
    pub deleted: bool,
    /// 1-based inclusive line ranges of the new file that were added or changed.
    pub ranges: Vec<(usize, usize)>,
    /// Lines after which old lines were removed with nothing added in their place (0 = before
    /// the first line): a prompt spanning such a point was changed too.
    pub deletions: Vec<usize>,
}

impl FileChange {
    /// Whether lines `first..=last` of the new file were touched.
    pub fn touches(&self, first: usize, last: usize) -> bool {
        self.added
            || self.ranges.iter().any(|&(a, b)| a <= last && first <= b)
            || self.deletions.iter().any(|&d| first <= d && d < last)
    }
}

/// The whole change from REV to the working tree.
#[derive(Debug, Clone, Default)]
pub struct Diff {
    /// Absolute path of the repository's top-level directory.
    pub toplevel: PathBuf,
    /// The current directory relative to `toplevel`, with a trailing `/` (empty at the root).
    pub prefix: String,
    /// Keyed by new path (by old path for a deleted file), relative to `toplevel`.
    pub files: BTreeMap<String, FileChange>,
}

impl Diff {
    /// The change to the file whose display path (relative to the current directory) is `path`.
    pub fn get_display(&self, path: &str) -> Option<&FileChange> {
        self.files.get(&format!("{}{}", self.prefix, path))
    }
}

fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir)
        .args([
            "-c",
            "core.fsmonitor=false",
            "-c",
            "core.quotePath=false",
            "-c",
            "diff.noprefix=false",
            "-c",
            "diff.mnemonicPrefix=false",
            "-c",
            "diff.relative=false",
        ])
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_EXTERNAL_DIFF");
    c
}

fn run(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = git(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e} (is git installed?)"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("unknown error")
            .trim()
            .to_string();
        return Err(first.trim_start_matches("fatal: ").to_string());
    }
    Ok(out.stdout)
}

/// Checks that `rev` names a commit and returns the repository's toplevel and prefix.
pub fn repo_info(dir: &Path, rev: Option<&str>) -> Result<(PathBuf, String), String> {
    let top = run(dir, &["rev-parse", "--show-toplevel"])
        .map_err(|e| format!("not inside a git repository ({e})"))?;
    let toplevel = PathBuf::from(String::from_utf8_lossy(&top).trim_end_matches(['\n', '\r']));
    let prefix = String::from_utf8_lossy(&run(dir, &["rev-parse", "--show-prefix"])?)
        .trim_end_matches(['\n', '\r'])
        .to_string();
    if let Some(rev) = rev {
        if rev.starts_with('-') {
            return Err(format!("`{rev}` is not a git revision"));
        }
        run(dir, &["rev-parse", "--verify", "--quiet", "--end-of-options", &format!("{rev}^{{commit}}")])
            .map_err(|_| format!("unknown git revision `{rev}` (fetch it first, e.g. `git fetch origin main`; in CI check out with full history)"))?;
    }
    Ok((toplevel, prefix))
}

/// The change from `rev` to the working tree (staged and unstaged edits, plus untracked files).
pub fn diff(dir: &Path, rev: &str) -> Result<Diff, String> {
    let (toplevel, prefix) = repo_info(dir, Some(rev))?;
    let patch = run(
        &toplevel,
        &[
            "diff",
            "--no-ext-diff",
            "--no-textconv",
            "--no-color",
            "--unified=0",
            "-M",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            rev,
            "--",
        ],
    )?;
    let mut files = parse_patch(&String::from_utf8_lossy(&patch));
    let untracked = run(
        &toplevel,
        &["ls-files", "-z", "--others", "--exclude-standard"],
    )?;
    for p in untracked.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let path = String::from_utf8_lossy(p).into_owned();
        files.insert(
            path,
            FileChange {
                added: true,
                ..Default::default()
            },
        );
    }
    Ok(Diff {
        toplevel,
        prefix,
        files,
    })
}

/// The bytes of `path` (relative to the toplevel) at `rev`, or `None` when it did not exist.
pub fn show(toplevel: &Path, rev: &str, path: &str) -> Result<Option<Vec<u8>>, String> {
    let out = git(toplevel)
        .args(["cat-file", "blob", &format!("{rev}:{path}")])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    Ok(out.status.success().then_some(out.stdout))
}

/// Paths of every file tracked at `HEAD` plus untracked ones, relative to the toplevel.
pub fn tracked_and_untracked(toplevel: &Path) -> Result<Vec<String>, String> {
    let out = run(
        toplevel,
        &[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
    )?;
    let mut v: Vec<String> = out
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    v.sort();
    v.dedup();
    Ok(v)
}

/// Parses `git diff --unified=0 -M` output.
pub fn parse_patch(patch: &str) -> BTreeMap<String, FileChange> {
    let mut files = BTreeMap::new();
    let mut cur: Option<(String, FileChange)> = None;
    let flush = |cur: &mut Option<(String, FileChange)>,
                 files: &mut BTreeMap<String, FileChange>| {
        if let Some((p, c)) = cur.take() {
            if !p.is_empty() {
                files.insert(p, c);
            }
        }
    };
    for line in patch.lines() {
        if let Some(rest) = line.strip_prefix("diff --git ") {
            flush(&mut cur, &mut files);
            // Provisional path from the header; `+++`/`rename to` lines refine it.
            let new = header_new_path(rest).unwrap_or_default();
            cur = Some((new, FileChange::default()));
            continue;
        }
        let Some((path, change)) = cur.as_mut() else {
            continue;
        };
        if let Some(p) = line.strip_prefix("rename from ") {
            change.old_path = Some(unquote(p));
        } else if let Some(p) = line.strip_prefix("rename to ") {
            *path = unquote(p);
        } else if line.starts_with("new file mode") {
            change.added = true;
        } else if line.starts_with("deleted file mode") {
            change.deleted = true;
        } else if let Some(p) = line.strip_prefix("--- ") {
            if change.deleted {
                if let Some(old) = strip_ab(p, "a/") {
                    *path = old.clone();
                    change.old_path = Some(old);
                }
            }
        } else if let Some(p) = line.strip_prefix("+++ ") {
            if let Some(new) = strip_ab(p, "b/") {
                *path = new;
            }
        } else if let Some(h) = line.strip_prefix("@@ ") {
            if let Some((start, count)) = hunk_new_range(h) {
                if count == 0 {
                    change.deletions.push(start);
                } else {
                    change.ranges.push((start, start + count - 1));
                }
            }
        }
    }
    flush(&mut cur, &mut files);
    files
}

fn strip_ab(p: &str, side: &str) -> Option<String> {
    let p = unquote(p.trim_end_matches('\t'));
    p.strip_prefix(side).map(str::to_string)
}

/// `a/x b/y` → `y` (only reliable without spaces; refined by later lines).
fn header_new_path(rest: &str) -> Option<String> {
    if rest.starts_with('"') {
        let end = rest.rfind(" \"b/").or_else(|| rest.rfind(" b/"))?;
        return strip_ab(rest[end + 1..].trim(), "b/");
    }
    let i = rest.find(" b/")?;
    Some(rest[i + 3..].to_string())
}

/// `-a,b +c,d @@ ...` → `(c, d)`; a missing count means 1.
fn hunk_new_range(h: &str) -> Option<(usize, usize)> {
    let plus = h.split_whitespace().find(|t| t.starts_with('+'))?;
    let plus = &plus[1..];
    let (start, count) = match plus.split_once(',') {
        Some((s, c)) => (s.parse().ok()?, c.parse().ok()?),
        None => (plus.parse().ok()?, 1),
    };
    Some((start, count))
}

/// Undoes git's C-style quoting of unusual paths (`"a/t\303\251st.md"`).
fn unquote(s: &str) -> String {
    let Some(inner) = s.strip_prefix('"').and_then(|x| x.strip_suffix('"')) else {
        return s.to_string();
    };
    let mut out: Vec<u8> = Vec::new();
    let b = inner.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let c = b[i + 1];
            if c.is_ascii_digit() && i + 4 <= b.len() {
                let oct = std::str::from_utf8(&b[i + 1..i + 4]).unwrap_or("");
                if let Ok(v) = u8::from_str_radix(oct, 8) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
            out.push(match c {
                b'n' => b'\n',
                b't' => b'\t',
                b'r' => b'\r',
                other => other,
            });
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATCH: &str = "\
diff --git a/prompts/a.md b/prompts/a.md
index 1111111..2222222 100644
--- a/prompts/a.md
+++ b/prompts/a.md
@@ -3 +3 @@ heading
-old
+new
@@ -10,2 +9,0 @@
-gone
-gone
@@ -20,0 +21,3 @@
+x
+y
+z
diff --git a/old/name.md b/new/name.md
similarity index 90%
rename from old/name.md
rename to new/name.md
index 3333333..4444444 100644
--- a/old/name.md
+++ b/new/name.md
@@ -1 +1 @@
-a
+b
diff --git a/moved.md b/elsewhere/moved.md
similarity index 100%
rename from moved.md
rename to elsewhere/moved.md
diff --git a/dead.py b/dead.py
deleted file mode 100644
index 5555555..0000000
--- a/dead.py
+++ /dev/null
@@ -1,2 +0,0 @@
-x
-y
diff --git a/fresh.md b/fresh.md
new file mode 100644
--- /dev/null
+++ b/fresh.md
@@ -0,0 +1,2 @@
+hello
+world
diff --git \"a/t\\303\\251st.md\" \"b/t\\303\\251st.md\"
--- \"a/t\\303\\251st.md\"
+++ \"b/t\\303\\251st.md\"
@@ -1 +1 @@
-a
+b
";

    #[test]
    fn parses_hunks_renames_and_new_files() {
        let f = parse_patch(PATCH);
        let a = &f["prompts/a.md"];
        assert_eq!(a.ranges, vec![(3, 3), (21, 23)]);
        assert_eq!(a.deletions, vec![9]);
        assert!(a.touches(2, 3) && a.touches(8, 10) && !a.touches(4, 8) && !a.touches(10, 20));
        let r = &f["new/name.md"];
        assert_eq!(r.old_path.as_deref(), Some("old/name.md"));
        assert_eq!(r.ranges, vec![(1, 1)]);
        let m = &f["elsewhere/moved.md"];
        assert_eq!(m.old_path.as_deref(), Some("moved.md"));
        assert!(m.ranges.is_empty() && !m.touches(1, 100));
        let d = &f["dead.py"];
        assert!(d.deleted && d.old_path.as_deref() == Some("dead.py"));
        assert!(f["fresh.md"].added);
        assert!(
            f.contains_key("tést.md"),
            "{:?}",
            f.keys().collect::<Vec<_>>()
        );
    }

    #[test]
    fn hunk_header_counts() {
        assert_eq!(hunk_new_range("-1 +1 @@"), Some((1, 1)));
        assert_eq!(hunk_new_range("-4,0 +5,2 @@ fn x"), Some((5, 2)));
        assert_eq!(hunk_new_range("-4,3 +3,0 @@"), Some((3, 0)));
    }
}
