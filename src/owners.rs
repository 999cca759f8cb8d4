//! The reviewers' report: which prompts changed since a revision, their findings, and who owns
//! them per CODEOWNERS.
//!
//! CODEOWNERS follows GitHub's semantics: the first of `.github/CODEOWNERS`, `CODEOWNERS`,
//! `docs/CODEOWNERS` is used; patterns are gitignore-style (a pattern without a `/` other than
//! a trailing one matches at any depth, a leading or inner `/` anchors it at the root, a
//! trailing `/` matches directories, `*` stops at `/`, `**` crosses directories, a pattern that
//! matches a directory owns everything below it except that `dir/*` owns only the files
//! directly inside); the last matching line wins, and a matching line with no owners leaves the
//! file unowned. `!` negation and `[...]` ranges are not supported by GitHub and not here.
//!
//! Old prompts are read with `git cat-file` at the base revision and extracted with the same
//! `Extractor` as new ones, under the file's new path, so a renamed file's prompts keep their
//! ids and pair up with their old versions. Nothing here prints; the CLI renders the report.

use std::collections::HashMap;
use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};
use serde::Serialize;

use crate::engine::Engine;
use crate::extract::Extractor;
use crate::finding::{FileError, Finding};
use crate::gitdiff::{self, Diff};
use crate::inventory::PromptInfo;
use crate::source::{Skip, SourceFile};
use crate::span::LineIndex;

/// Where GitHub looks for CODEOWNERS, in order.
pub const LOCATIONS: &[&str] = &[".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"];

/// One line of a CODEOWNERS file.
#[derive(Debug, Clone)]
pub struct OwnerRule {
    /// 1-based line in the file.
    pub line: usize,
    pub pattern: String,
    /// Owners as written (`@user`, `@org/team`, an email); empty clears ownership.
    pub owners: Vec<String>,
    matcher: GlobMatcher,
    dir_only: bool,
    /// `dir/*`: files directly inside only, not deeper ones.
    files_only: bool,
}

impl OwnerRule {
    fn new(line: usize, pattern: &str, owners: Vec<String>) -> Result<OwnerRule, String> {
        let mut p = pattern.to_string();
        let dir_only = p.ends_with('/') && p.len() > 1;
        if dir_only {
            p.pop();
        }
        let anchored = p.contains('/');
        let body = p.trim_start_matches('/');
        let glob = if anchored {
            body.to_string()
        } else {
            format!("**/{body}")
        };
        let files_only = glob.ends_with("/*") || glob == "*";
        let matcher = GlobBuilder::new(&glob)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| format!("line {line}: invalid pattern `{pattern}`: {e}"))?
            .compile_matcher();
        Ok(OwnerRule {
            line,
            pattern: pattern.to_string(),
            owners,
            matcher,
            dir_only,
            files_only: files_only && glob != "*" && glob != "**/*",
        })
    }

    /// Whether this line's pattern covers `path` (a file path relative to the repository root).
    pub fn matches(&self, path: &str) -> bool {
        let path = path.trim_start_matches("./").trim_start_matches('/');
        if !self.dir_only && self.matcher.is_match(path) {
            return true;
        }
        if self.files_only {
            return false;
        }
        // A matching directory owns everything below it.
        let mut end = 0;
        while let Some(i) = path[end..].find('/') {
            let dir = &path[..end + i];
            if self.matcher.is_match(dir) {
                return true;
            }
            end += i + 1;
        }
        false
    }
}

/// A parsed CODEOWNERS file.
#[derive(Debug, Clone, Default)]
pub struct CodeOwners {
    /// Where it was found, relative to the repository root.
    pub path: String,
    pub rules: Vec<OwnerRule>,
    /// Lines that could not be used, with why (GitHub ignores them too).
    pub warnings: Vec<String>,
}

/// Splits a CODEOWNERS line into the pattern and owners, honouring `\ ` in patterns and
/// stopping at a `#` comment.
fn tokens(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(&n) = chars.peek() {
                    if n == ' ' || n == '#' {
                        cur.push(n);
                        chars.next();
                        continue;
                    }
                }
                cur.push(c);
            }
            '#' if cur.is_empty() => break,
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

impl CodeOwners {
    /// Parses CODEOWNERS text found at `path`; unusable lines become warnings, as GitHub
    /// skips them.
    pub fn parse(path: &str, text: &str) -> CodeOwners {
        let mut co = CodeOwners {
            path: path.to_string(),
            ..Default::default()
        };
        for (i, line) in text.lines().enumerate() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let mut toks = tokens(t);
            if toks.is_empty() {
                continue;
            }
            let pattern = toks.remove(0);
            if pattern.starts_with('!') || pattern.contains('[') {
                co.warnings.push(format!("{path}:{}: `{pattern}`: GitHub does not support `!` or `[...]` in CODEOWNERS; line ignored", i + 1));
                continue;
            }
            match OwnerRule::new(i + 1, &pattern, toks) {
                Ok(r) => co.rules.push(r),
                Err(e) => co.warnings.push(format!("{path}: {e}")),
            }
        }
        co
    }

    /// The CODEOWNERS file of the repository at `root`, if any.
    pub fn find(root: &Path) -> Result<Option<CodeOwners>, String> {
        for loc in LOCATIONS {
            let p = root.join(loc);
            if p.is_file() {
                let text =
                    std::fs::read_to_string(&p).map_err(|e| format!("{loc}: cannot read: {e}"))?;
                return Ok(Some(CodeOwners::parse(loc, &text)));
            }
        }
        Ok(None)
    }

    /// The line that decides ownership of `path` (the last that matches), if any.
    pub fn rule_for(&self, path: &str) -> Option<&OwnerRule> {
        self.rules.iter().rev().find(|r| r.matches(path))
    }

    /// The owners of `path`; empty when no line matches or the deciding line has no owners.
    pub fn owners_of(&self, path: &str) -> &[String] {
        self.rule_for(path)
            .map(|r| r.owners.as_slice())
            .unwrap_or(&[])
    }
}

/// How a prompt changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Modified,
    /// Same text, new path (the file was renamed).
    Renamed,
    Removed,
}

impl ChangeKind {
    /// The lowercase name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Modified => "modified",
            ChangeKind::Renamed => "renamed",
            ChangeKind::Removed => "removed",
        }
    }
}

/// One prompt added, modified, renamed or removed.
#[derive(Debug, Clone)]
pub struct PromptChange {
    pub id: String,
    pub change: ChangeKind,
    /// Path now (at the base for a removed prompt), relative to the repository root.
    pub path: String,
    /// Path at the base when it differs.
    pub old_path: Option<String>,
    /// Lines now (at the base for a removed prompt).
    pub line: usize,
    pub end_line: usize,
    pub old_sha256: Option<String>,
    pub new_sha256: Option<String>,
    pub old_chars: Option<usize>,
    pub new_chars: Option<usize>,
    pub placeholders_added: Vec<String>,
    pub placeholders_removed: Vec<String>,
    pub findings: Vec<Finding>,
    /// Owners per CODEOWNERS; empty means unowned.
    pub owners: Vec<String>,
    /// The CODEOWNERS line that decided (`path:line`), if any matched.
    pub owner_rule: Option<String>,
}

impl PromptChange {
    /// New minus old size in characters (a removed prompt is negative).
    pub fn size_change(&self) -> isize {
        self.new_chars.unwrap_or(0) as isize - self.old_chars.unwrap_or(0) as isize
    }
}

/// The whole report.
#[derive(Debug, Clone, Default)]
pub struct OwnersReport {
    pub base: String,
    pub changes: Vec<PromptChange>,
    /// Where CODEOWNERS was found, if anywhere.
    pub codeowners: Option<String>,
    pub errors: Vec<FileError>,
    pub warnings: Vec<String>,
}

impl OwnersReport {
    /// Changes grouped by owner set (`@a @b`), groups sorted by owners; unowned ones last, under
    /// an empty key.
    pub fn groups(&self) -> Vec<(Vec<String>, Vec<&PromptChange>)> {
        let mut map: Vec<(Vec<String>, Vec<&PromptChange>)> = Vec::new();
        for c in &self.changes {
            match map.iter_mut().find(|(o, _)| *o == c.owners) {
                Some((_, v)) => v.push(c),
                None => map.push((c.owners.clone(), vec![c])),
            }
        }
        map.sort_by(|a, b| (a.0.is_empty(), &a.0).cmp(&(b.0.is_empty(), &b.0)));
        map
    }

    /// Changes no CODEOWNERS line gives an owner.
    pub fn unowned(&self) -> impl Iterator<Item = &PromptChange> {
        self.changes.iter().filter(|c| c.owners.is_empty())
    }
}

/// Prompts of one version of one file.
fn prompts_of(extractor: &mut Extractor<'_>, file: &SourceFile) -> Vec<PromptInfo> {
    let (prompts, _) = extractor.extract(file);
    let index = LineIndex::new(&file.text);
    prompts
        .iter()
        .map(|p| PromptInfo::new(p, file, Some(&index)))
        .collect()
}

/// Builds the report for the change `diff` (from `base` to the working tree). Files for which
/// `is_excluded` holds (the config's `[files] exclude`, on root-relative paths) are left out.
pub fn report(
    diff: &Diff,
    base: &str,
    engine: &Engine<'_>,
    codeowners: Option<&CodeOwners>,
    max_size: u64,
    is_excluded: &dyn Fn(&str) -> bool,
) -> OwnersReport {
    let mut out = OwnersReport {
        base: base.to_string(),
        codeowners: codeowners.map(|c| c.path.clone()),
        ..Default::default()
    };
    if let Some(co) = codeowners {
        out.warnings.extend(co.warnings.iter().cloned());
    }
    let mut extractor = Extractor::new(engine.spec);
    for (path, change) in &diff.files {
        let old_path = change.old_path.clone().unwrap_or_else(|| path.clone());
        let new_kind = if change.deleted {
            None
        } else {
            engine.spec.classify(path)
        };
        let old_kind = if change.added {
            None
        } else {
            engine.spec.classify(&old_path)
        };
        if (new_kind.is_none() && old_kind.is_none())
            || (is_excluded(path) && is_excluded(&old_path))
        {
            continue;
        }
        // New version: lint it (findings) and take its inventory.
        let (new_prompts, findings) = match new_kind {
            None => (Vec::new(), Vec::new()),
            Some(kind) => {
                match SourceFile::read(&diff.toplevel.join(path), path.clone(), kind, max_size) {
                    Ok(file) => {
                        let r = engine.lint_file(&mut extractor, &file);
                        out.errors.extend(r.errors);
                        (r.prompts, r.findings)
                    }
                    Err(Skip::Binary) => continue,
                    Err(Skip::TooLarge { size, cap }) => {
                        out.errors.push(FileError {
                            path: path.clone(),
                            message: format!("skipped: {size} bytes is over the {cap}-byte limit"),
                        });
                        continue;
                    }
                    Err(Skip::Error(message)) => {
                        out.errors.push(FileError {
                            path: path.clone(),
                            message,
                        });
                        continue;
                    }
                }
            }
        };
        // Old version, under the new path so ids pair up across a rename.
        let old_prompts = match old_kind {
            None => Vec::new(),
            Some(kind) => match gitdiff::show(&diff.toplevel, base, &old_path) {
                Ok(Some(bytes)) => match SourceFile::from_bytes(
                    bytes,
                    diff.toplevel.join(&old_path),
                    path.clone(),
                    kind,
                ) {
                    Ok(file) => prompts_of(&mut extractor, &file),
                    Err(_) => Vec::new(),
                },
                Ok(None) => Vec::new(),
                Err(e) => {
                    out.errors.push(FileError {
                        path: old_path.clone(),
                        message: e,
                    });
                    Vec::new()
                }
            },
        };
        let renamed = change.old_path.is_some() && !change.deleted;
        let mut used = vec![false; old_prompts.len()];
        for p in &new_prompts {
            let old = old_prompts
                .iter()
                .enumerate()
                .find(|(i, o)| !used[*i] && o.id == p.id)
                .map(|(i, o)| {
                    used[i] = true;
                    o
                });
            let kind = match old {
                None => ChangeKind::Added,
                Some(o) if o.sha256 != p.sha256 => ChangeKind::Modified,
                Some(_) if renamed => ChangeKind::Renamed,
                Some(_) => continue,
            };
            let (added, removed) = placeholder_diff(
                old.map(|o| o.placeholders.as_slice()).unwrap_or(&[]),
                &p.placeholders,
            );
            out.changes.push(PromptChange {
                id: p.id.clone(),
                change: kind,
                path: path.clone(),
                old_path: renamed.then(|| old_path.clone()),
                line: p.line,
                end_line: p.end_line,
                old_sha256: old.map(|o| o.sha256.clone()),
                new_sha256: Some(p.sha256.clone()),
                old_chars: old.map(|o| o.chars),
                new_chars: Some(p.chars),
                placeholders_added: added,
                placeholders_removed: removed,
                findings: findings
                    .iter()
                    .filter(|f| f.prompt_id.as_deref() == Some(p.id.as_str()))
                    .cloned()
                    .collect(),
                owners: Vec::new(),
                owner_rule: None,
            });
        }
        for (o, _) in old_prompts.iter().zip(&used).filter(|(_, u)| !**u) {
            // Report a removed prompt under its old path and id.
            let id = if renamed && o.id.starts_with(path.as_str()) {
                format!("{old_path}{}", &o.id[path.len()..])
            } else {
                o.id.clone()
            };
            out.changes.push(PromptChange {
                id,
                change: ChangeKind::Removed,
                path: old_path.clone(),
                old_path: None,
                line: o.line,
                end_line: o.end_line,
                old_sha256: Some(o.sha256.clone()),
                new_sha256: None,
                old_chars: Some(o.chars),
                new_chars: None,
                placeholders_added: Vec::new(),
                placeholders_removed: o.placeholders.clone(),
                findings: Vec::new(),
                owners: Vec::new(),
                owner_rule: None,
            });
        }
    }
    if let Some(co) = codeowners {
        for c in &mut out.changes {
            if let Some(rule) = co.rule_for(&c.path) {
                c.owners = rule.owners.clone();
                c.owner_rule = Some(format!("{}:{}", co.path, rule.line));
            }
        }
    }
    out.changes.sort_by(|a, b| {
        (a.path.as_str(), a.line, a.change).cmp(&(b.path.as_str(), b.line, b.change))
    });
    out
}

fn placeholder_diff(old: &[String], new: &[String]) -> (Vec<String>, Vec<String>) {
    let added = new.iter().filter(|p| !old.contains(p)).cloned().collect();
    let removed = old.iter().filter(|p| !new.contains(p)).cloned().collect();
    (added, removed)
}

/// CODEOWNERS lines giving `team` every file in `files` (root-relative paths of files holding
/// prompts) that has no owner today. Paths are anchored (`/path`) and spaces escaped.
pub fn suggest(files: &[String], codeowners: Option<&CodeOwners>, team: &str) -> Vec<String> {
    let mut seen: HashMap<&str, ()> = HashMap::new();
    let mut out = Vec::new();
    for f in files {
        if seen.insert(f.as_str(), ()).is_some() {
            continue;
        }
        let owned = codeowners.is_some_and(|co| !co.owners_of(f).is_empty());
        if !owned {
            out.push(format!("/{} {team}", escape_pattern(f)));
        }
    }
    out.sort();
    out
}

fn escape_pattern(path: &str) -> String {
    let mut s = String::with_capacity(path.len());
    for c in path.chars() {
        if matches!(c, ' ' | '#' | '*' | '?' | '[' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example file from GitHub's "About code owners" documentation.
    const GITHUB_EXAMPLE: &str = "\
# This is a comment.
*       @global-owner1 @global-owner2
*.js    @js-owner #This is an inline comment.
*.go docs@example.com
*.txt @octo-org/octocats
/build/logs/ @doctocat
docs/*  docs@example.com
apps/ @octocat
/docs/ @doctocat
/scripts/ @doctocat @octocat
**/logs @octocat
/apps/ @octocat
/apps/github
";

    fn owners(co: &CodeOwners, path: &str) -> Vec<String> {
        co.owners_of(path).to_vec()
    }

    #[test]
    fn github_documented_examples() {
        let co = CodeOwners::parse("CODEOWNERS", GITHUB_EXAMPLE);
        assert!(co.warnings.is_empty(), "{:?}", co.warnings);
        assert_eq!(
            owners(&co, "README.md"),
            ["@global-owner1", "@global-owner2"]
        );
        assert_eq!(owners(&co, "src/app/index.js"), ["@js-owner"]);
        assert_eq!(owners(&co, "main.go"), ["docs@example.com"]);
        assert_eq!(owners(&co, "notes/a.txt"), ["@octo-org/octocats"]);
        // `/build/logs/`: the root build/logs directory and everything below it — but `**/logs`
        // comes later and wins.
        assert_eq!(owners(&co, "build/logs/deep/x.log"), ["@octocat"]);
        // `docs/*` matches files directly in docs/ but not nested ones; `/docs/` (later) wins
        // for both anyway, so check the rule alone below.
        assert_eq!(owners(&co, "docs/getting-started.md"), ["@doctocat"]);
        assert_eq!(owners(&co, "scripts/deploy.sh"), ["@doctocat", "@octocat"]);
        assert_eq!(owners(&co, "deeply/nested/logs/x.log"), ["@octocat"]);
        assert_eq!(owners(&co, "apps/web/x.rb"), ["@octocat"]);
        // `/apps/github` with no owners clears ownership.
        assert!(owners(&co, "apps/github/x.rb").is_empty());
        assert_eq!(co.rule_for("apps/github/x.rb").map(|r| r.line), Some(13));
        // `apps/` (unanchored) matches an apps directory anywhere.
        assert_eq!(
            co.rule_for("src/apps/x.py").map(|r| r.pattern.as_str()),
            Some("apps/")
        );
    }

    #[test]
    fn single_rules_follow_gitignore_semantics() {
        let rule = |p: &str| OwnerRule::new(1, p, vec!["@x".into()]).unwrap();
        let docs_star = rule("docs/*");
        assert!(docs_star.matches("docs/getting-started.md"));
        assert!(!docs_star.matches("docs/build-app/troubleshooting.md"));
        assert!(
            !docs_star.matches("src/docs/a.md"),
            "a slash anchors the pattern at the root"
        );
        let build_logs = rule("/build/logs/");
        assert!(build_logs.matches("build/logs/a.log") && build_logs.matches("build/logs/x/y.log"));
        assert!(!build_logs.matches("src/build/logs/a.log") && !build_logs.matches("build/logs"));
        let apps = rule("apps/");
        assert!(
            apps.matches("apps/a.py") && apps.matches("x/y/apps/z/a.py") && !apps.matches("apps")
        );
        let js = rule("*.js");
        assert!(js.matches("a.js") && js.matches("x/y/a.js") && !js.matches("a.jsx"));
        let logs = rule("**/logs");
        assert!(
            logs.matches("build/logs/a")
                && logs.matches("logs/a")
                && logs.matches("deeply/nested/logs/a")
        );
        let exact = rule("/src/bot.py");
        assert!(exact.matches("src/bot.py") && !exact.matches("lib/src/bot.py"));
        let any = rule("*");
        assert!(any.matches("a") && any.matches("a/b/c.py"));
        let dstar = rule("docs/**");
        assert!(dstar.matches("docs/a/b.md"));
        let name = rule("prompts");
        assert!(
            name.matches("prompts/a.md")
                && name.matches("src/prompts/a.md")
                && name.matches("x/prompts")
        );
    }

    #[test]
    fn escaped_spaces_and_comments() {
        let co = CodeOwners::parse("CODEOWNERS", "my\\ dir/ @a # trailing\n!neg @b\n");
        assert_eq!(co.rules.len(), 1);
        assert_eq!(co.rules[0].owners, ["@a"]);
        assert!(co.rules[0].matches("my dir/x.md"));
        assert_eq!(co.warnings.len(), 1);
    }

    #[test]
    fn suggest_covers_unowned_files_only() {
        let co = CodeOwners::parse("CODEOWNERS", "/prompts/ @ml\n/prompts/legacy/\n");
        let files = vec![
            "prompts/a.md".to_string(),
            "prompts/legacy/b.md".into(),
            "src/my bot.py".into(),
        ];
        let lines = suggest(&files, Some(&co), "@team");
        assert_eq!(
            lines,
            ["/prompts/legacy/b.md @team", "/src/my\\ bot.py @team"]
        );
        let again = CodeOwners::parse(
            "CODEOWNERS",
            &format!("/prompts/ @ml\n/prompts/legacy/\n{}\n", lines.join("\n")),
        );
        assert!(files.iter().all(|f| !again.owners_of(f).is_empty()));
    }
}
