//! The owners report as Markdown (ready to post as a pull-request comment) and as JSON.
//!
//! Markdown groups changed prompts by owner set, then calls out unowned prompts with the
//! command that fixes it. Every value that comes from the repository (paths, ids, messages,
//! placeholder names) is put in code spans or escaped, so a crafted file name cannot inject
//! links or mentions into the comment. Messages are already redacted.

use std::fmt::Write;

use serde_json::{json, Value};

use crate::owners::{ChangeKind, OwnersReport, PromptChange};

/// A code span that survives backticks in the value.
fn code(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let mut fence = String::from("`");
    while s.contains(fence.as_str()) {
        fence.push('`');
    }
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// Plain text safe in Markdown: escapes punctuation that could start markup or a mention.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '!' | '@' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

fn short(sha: &Option<String>) -> String {
    match sha {
        Some(s) => code(&s[..s.len().min(12)]),
        None => "∅".into(),
    }
}

fn place(c: &PromptChange) -> String {
    if c.line == c.end_line {
        format!("{}:{}", c.path, c.line)
    } else {
        format!("{}:{}-{}", c.path, c.line, c.end_line)
    }
}

fn owners_label(owners: &[String]) -> String {
    // Owners are shown as mentions on purpose: the comment should notify them.
    owners
        .iter()
        .map(|o| {
            if o.starts_with('@') {
                o.clone()
            } else {
                text(o)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn change_line(out: &mut String, c: &PromptChange) {
    let _ = write!(
        out,
        "- **{}** {} at {}",
        c.change.name(),
        code(&c.id),
        code(&place(c))
    );
    if let Some(old) = &c.old_path {
        let _ = write!(out, " (was {})", code(old));
    }
    out.push('\n');
    let size = c.size_change();
    let _ = writeln!(
        out,
        "  - sha256 {} → {}, {} chars ({}{})",
        short(&c.old_sha256),
        short(&c.new_sha256),
        c.new_chars.or(c.old_chars).unwrap_or(0),
        if size >= 0 { "+" } else { "" },
        size
    );
    if !c.placeholders_added.is_empty() || !c.placeholders_removed.is_empty() {
        let mut parts: Vec<String> = c
            .placeholders_added
            .iter()
            .map(|p| format!("+{}", code(p)))
            .collect();
        parts.extend(
            c.placeholders_removed
                .iter()
                .map(|p| format!("−{}", code(p))),
        );
        let _ = writeln!(out, "  - placeholders: {}", parts.join(", "));
    }
    for f in &c.findings {
        let _ = writeln!(
            out,
            "  - {} {} at line {}: {}",
            f.severity.name(),
            code(&f.rule),
            f.start.line,
            text(&f.message)
        );
    }
}

/// The owners report as a Markdown pull-request comment.
pub fn render(report: &OwnersReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## promptlint: prompt changes since {}\n",
        code(&report.base)
    );
    if report.changes.is_empty() {
        out.push_str("No prompts were added, modified or removed.\n");
        return out;
    }
    let count = |k: ChangeKind| report.changes.iter().filter(|c| c.change == k).count();
    let findings: usize = report.changes.iter().map(|c| c.findings.len()).sum();
    let unowned = report.unowned().count();
    let _ = writeln!(
        out,
        "{} prompt{} changed: {} added, {} modified, {} renamed, {} removed · {} finding{} · {} unowned\n",
        report.changes.len(),
        if report.changes.len() == 1 { "" } else { "s" },
        count(ChangeKind::Added),
        count(ChangeKind::Modified),
        count(ChangeKind::Renamed),
        count(ChangeKind::Removed),
        findings,
        if findings == 1 { "" } else { "s" },
        unowned
    );
    for (owners, changes) in report.groups() {
        if owners.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {} ({})\n", owners_label(&owners), changes.len());
        for c in changes {
            change_line(&mut out, c);
        }
        out.push('\n');
    }
    if unowned > 0 {
        let _ = writeln!(out, "### ⚠️ Unowned ({unowned})\n");
        match &report.codeowners {
            Some(p) => {
                let _ = write!(out, "No line of {} gives these prompts an owner, so no review is required for them.", code(p));
            }
            None => {
                out.push_str("This repository has no CODEOWNERS file, so no review is required for prompt edits.");
            }
        }
        out.push_str(" Run `promptlint owners --suggest @your-team` for CODEOWNERS lines that cover them.\n\n");
        for c in report.unowned() {
            change_line(&mut out, c);
        }
        out.push('\n');
    }
    truncate(out, COMMENT_LIMIT)
}

/// GitHub rejects comments over 65,536 characters; stay well under it.
const COMMENT_LIMIT: usize = 60_000;

/// Cuts `out` at a line boundary so it fits in `limit` bytes, saying so.
fn truncate(mut out: String, limit: usize) -> String {
    if out.len() <= limit {
        return out;
    }
    let note = "\n… report truncated to fit in a comment; run `promptlint owners --base REV --format json` for all of it.\n";
    let mut cut = limit.saturating_sub(note.len());
    while cut > 0 && !out.is_char_boundary(cut) {
        cut -= 1;
    }
    let cut = out[..cut].rfind('\n').map(|i| i + 1).unwrap_or(cut);
    out.truncate(cut);
    out.push_str(note);
    out
}

/// The owners report as one JSON object (`prompts`, `groups`, `unowned`, `errors`).
pub fn render_json(report: &OwnersReport) -> String {
    let prompts: Vec<Value> = report
        .changes
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "change": c.change,
                "path": c.path,
                "old_path": c.old_path,
                "line": c.line,
                "end_line": c.end_line,
                "old_sha256": c.old_sha256,
                "new_sha256": c.new_sha256,
                "old_chars": c.old_chars,
                "new_chars": c.new_chars,
                "size_change": c.size_change(),
                "placeholders_added": c.placeholders_added,
                "placeholders_removed": c.placeholders_removed,
                "findings": c.findings.iter().map(|f| json!({
                    "rule": f.rule,
                    "severity": f.severity.name(),
                    "path": f.path,
                    "line": f.start.line,
                    "column": f.start.column,
                    "end_line": f.end.line,
                    "end_column": f.end.column,
                    "message": f.message,
                    "fingerprint": f.fingerprint,
                })).collect::<Vec<_>>(),
                "owners": c.owners,
                "owner_rule": c.owner_rule,
            })
        })
        .collect();
    let groups: Vec<Value> =
        report.groups().into_iter().map(|(owners, cs)| json!({ "owners": owners, "prompts": cs.iter().map(|c| &c.id).collect::<Vec<_>>() })).collect();
    let out = json!({
        "version": env!("CARGO_PKG_VERSION"),
        "base": report.base,
        "codeowners": report.codeowners,
        "prompts": prompts,
        "groups": groups,
        "unowned": report.unowned().map(|c| &c.id).collect::<Vec<_>>(),
        "errors": report.errors,
        "warnings": report.warnings,
    });
    serde_json::to_string_pretty(&out).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_reports_are_cut_at_a_line() {
        let long = "- line\n".repeat(40);
        let t = truncate(long.clone(), 150);
        assert!(t.len() <= 150 && t.contains("truncated"), "{t}");
        assert!(t.starts_with("- line\n") && !t.contains("- li\n"));
        assert_eq!(truncate("short\n".into(), 100), "short\n");
    }

    #[test]
    fn escaping() {
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(text("[x](http://e) @team"), "\\[x\\](http://e) \\@team");
    }
}
