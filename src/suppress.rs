//! Inline suppressions: `promptlint: ignore[rule, ...]` in the host file's comment syntax.
//!
//! A directive must follow a comment opener on its line (`#` in Python and YAML, `{#` in Jinja,
//! `<!--` in Markdown, `//`), so prose that merely mentions the syntax does not count. It
//! applies to findings that start on its line or the line below, or end on its line (ruff's
//! "comment after the closing quotes" for multi-line strings). `ignore-file[...]` anywhere
//! applies to the whole file. Selectors are rule ids or pack names; a bare `ignore` applies to
//! every rule. Each directive records whether it suppressed anything, so unused ones can be
//! reported.

use std::sync::LazyLock;

use regex::Regex;

use crate::finding::Finding;
use crate::span::LineIndex;

static DIRECTIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:#|\{#|<!--|//|;)[ \t]*promptlint:[ \t]*(ignore-file|ignore)(?:\[([^\]\n]*)\])?")
        .expect("directive regex")
});

/// Rule id of the finding reported for a directive that suppressed nothing.
pub const UNUSED_IGNORE_RULE: &str = "promptlint/unused-ignore";
/// One-line description of that pseudo-rule (for `rules` listings in SARIF).
pub const UNUSED_IGNORE_SUMMARY: &str =
    "A `promptlint: ignore` directive that suppresses nothing (like ruff's RUF100).";
/// How to fix it.
pub const UNUSED_IGNORE_HELP: &str =
    "remove the directive, or the rule ids in it that no longer match a finding";

#[derive(Debug, Clone)]
pub struct Directive {
    /// 1-based line.
    pub line: usize,
    /// 1-based column of `promptlint:`.
    pub column: usize,
    /// Rule ids or pack names; empty means every rule.
    pub selectors: Vec<String>,
    pub file_wide: bool,
    /// The comment stands alone on its line, so it also covers the line below; a trailing
    /// comment after code or text covers only its own line.
    pub own_line: bool,
    /// Selectors that suppressed at least one finding (or `"*"` for a bare directive).
    pub used: Vec<String>,
}

impl Directive {
    fn matches(&self, rule: &str) -> Option<String> {
        if self.selectors.is_empty() {
            return Some("*".into());
        }
        self.selectors
            .iter()
            .find(|s| rule == s.as_str() || rule.split('/').next() == Some(s.as_str()))
            .cloned()
    }

    /// Selectors that never suppressed anything (`"*"` for a bare directive).
    pub fn unused(&self) -> Vec<String> {
        if self.selectors.is_empty() {
            return if self.used.is_empty() {
                vec!["*".into()]
            } else {
                Vec::new()
            };
        }
        self.selectors
            .iter()
            .filter(|s| !self.used.contains(s))
            .cloned()
            .collect()
    }
}

/// All directives of one file.
pub fn parse(text: &str) -> Vec<Directive> {
    if !text.contains("promptlint:") {
        return Vec::new();
    }
    let index = LineIndex::new(text);
    DIRECTIVE
        .captures_iter(text)
        .filter_map(|c| {
            let m = c.get(0)?;
            let at = m.as_str().find("promptlint:").map(|i| m.start() + i)?;
            let lc = index.line_col(text, at);
            let line_start = index.line_start(lc.line - 1);
            let own_line = text[line_start..m.start()].trim().is_empty();
            let selectors = c
                .get(2)
                .map(|s| {
                    s.as_str()
                        .split(',')
                        .map(|x| x.trim().to_string())
                        .filter(|x| !x.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            Some(Directive {
                line: lc.line,
                column: lc.column,
                selectors,
                file_wide: &c[1] == "ignore-file",
                own_line,
                used: Vec::new(),
            })
        })
        .collect()
}

/// Removes suppressed findings, marking the directives that did it.
pub fn apply(findings: &mut Vec<Finding>, directives: &mut [Directive]) {
    apply_with(findings, directives, &|_| None);
}

/// Like `apply`, where `literal_end(f)` is the line of the closing quotes of the string literal
/// holding `f` (for an inline prompt): a directive there also applies, as in ruff, since a
/// comment cannot go inside a multi-line string.
pub fn apply_with(
    findings: &mut Vec<Finding>,
    directives: &mut [Directive],
    literal_end: &dyn Fn(&Finding) -> Option<usize>,
) {
    if directives.is_empty() {
        return;
    }
    findings.retain(|f| {
        let end_line = literal_end(f);
        for d in directives.iter_mut() {
            let applies = d.file_wide
                || d.line == f.start.line
                || (d.own_line && d.line + 1 == f.start.line)
                || d.line == f.end.line
                || Some(d.line) == end_line;
            if !applies {
                continue;
            }
            if let Some(sel) = d.matches(&f.rule) {
                if !d.used.contains(&sel) {
                    d.used.push(sel);
                }
                return false;
            }
        }
        true
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_host_syntaxes() {
        let text = "x = 1  # promptlint: ignore[pii/email-address, cache]\n{# promptlint: ignore #}\n<!-- promptlint: ignore-file[pii] -->\nsay promptlint: ignore here\n";
        let d = parse(text);
        assert_eq!(d.len(), 3);
        assert_eq!(d[0].selectors, vec!["pii/email-address", "cache"]);
        assert_eq!(d[0].line, 1);
        assert!(d[1].selectors.is_empty() && !d[1].file_wide);
        assert!(d[2].file_wide && d[2].line == 3);
        assert!(!d[0].own_line && d[1].own_line);
    }

    #[test]
    fn selector_matches_rule_or_pack() {
        let d = Directive {
            line: 1,
            column: 1,
            selectors: vec!["pii".into()],
            file_wide: false,
            own_line: true,
            used: vec![],
        };
        assert_eq!(d.matches("pii/email-address").as_deref(), Some("pii"));
        assert_eq!(d.matches("cache/volatile-prefix"), None);
        assert_eq!(d.unused(), vec!["pii"]);
    }
}

#[cfg(test)]
mod literal_end_tests {
    use super::*;
    use crate::packs::Severity;
    use crate::span::{FileSpan, LineCol};

    fn finding(line: usize, end_line: usize) -> Finding {
        Finding {
            rule: "pii/email-address".into(),
            severity: Severity::Error,
            message: String::new(),
            help: None,
            path: "bot.py".into(),
            span: FileSpan::new(0, 1),
            start: LineCol { line, column: 8 },
            end: LineCol {
                line: end_line,
                column: 30,
            },
            related: Vec::new(),
            prompt_id: Some("bot.py#SYSTEM_PROMPT".into()),
            fingerprint: String::new(),
            masks: Vec::new(),
        }
    }

    #[test]
    fn comment_after_the_closing_quotes_of_a_multiline_string() {
        // SYSTEM_PROMPT = """...          line 1
        // Input: dana@northwind-mail.com   line 4 (the finding)
        // """  # promptlint: ignore[pii]   line 6
        let text = "SYSTEM_PROMPT = \"\"\"You help.\n\nExample 1:\nInput: dana@northwind-mail.com\nOutput: ok\n\"\"\"  # promptlint: ignore[pii]\n";
        let mut ds = parse(text);
        assert_eq!(ds[0].line, 6);
        let mut fs = vec![finding(4, 4)];
        apply(&mut fs, &mut ds.clone());
        assert_eq!(fs.len(), 1, "not on the finding's line or the line above");
        apply_with(&mut fs, &mut ds, &|_| Some(6));
        assert!(fs.is_empty());
        assert!(ds[0].unused().is_empty());
        // On the finding's end line (a span that runs to the closing line).
        let mut ds = parse(text);
        let mut fs = vec![finding(4, 6)];
        apply(&mut fs, &mut ds);
        assert!(fs.is_empty());
    }
}
