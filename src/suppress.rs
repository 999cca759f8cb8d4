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
    Regex::new(r"(?:#|\{#|<!--|//|;)[ \t]*promptlint:[ \t]*(ignore-file|ignore)(?:\[([^\]\n]*)\])?").expect("directive regex")
});

#[derive(Debug, Clone)]
pub struct Directive {
    /// 1-based line.
    pub line: usize,
    /// 1-based column of `promptlint:`.
    pub column: usize,
    /// Rule ids or pack names; empty means every rule.
    pub selectors: Vec<String>,
    pub file_wide: bool,
    /// Selectors that suppressed at least one finding (or `"*"` for a bare directive).
    pub used: Vec<String>,
}

impl Directive {
    fn matches(&self, rule: &str) -> Option<String> {
        if self.selectors.is_empty() {
            return Some("*".into());
        }
        self.selectors.iter().find(|s| rule == s.as_str() || rule.split('/').next() == Some(s.as_str())).cloned()
    }

    /// Selectors that never suppressed anything (`"*"` for a bare directive).
    pub fn unused(&self) -> Vec<String> {
        if self.selectors.is_empty() {
            return if self.used.is_empty() { vec!["*".into()] } else { Vec::new() };
        }
        self.selectors.iter().filter(|s| !self.used.contains(s)).cloned().collect()
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
            let selectors = c
                .get(2)
                .map(|s| s.as_str().split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect())
                .unwrap_or_default();
            Some(Directive { line: lc.line, column: lc.column, selectors, file_wide: &c[1] == "ignore-file", used: Vec::new() })
        })
        .collect()
}

/// Removes suppressed findings, marking the directives that did it.
pub fn apply(findings: &mut Vec<Finding>, directives: &mut [Directive]) {
    if directives.is_empty() {
        return;
    }
    findings.retain(|f| {
        for d in directives.iter_mut() {
            let applies = d.file_wide || d.line == f.start.line || d.line + 1 == f.start.line || d.line == f.end.line;
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
    }

    #[test]
    fn selector_matches_rule_or_pack() {
        let d = Directive { line: 1, column: 1, selectors: vec!["pii".into()], file_wide: false, used: vec![] };
        assert_eq!(d.matches("pii/email-address").as_deref(), Some("pii"));
        assert_eq!(d.matches("cache/volatile-prefix"), None);
        assert_eq!(d.unused(), vec!["pii"]);
    }
}
