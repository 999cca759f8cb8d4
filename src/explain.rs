//! `promptlint rule ID` and `promptlint rules`: the docs of each rule, from its pack.

use std::fmt::Write;

use serde::Serialize;

use crate::packs::compile::compile_builtin;
use crate::packs::Rule;

#[derive(Serialize)]
struct RuleDoc<'a> {
    id: &'a str,
    pack: &'a str,
    severity: &'static str,
    summary: &'a str,
    default_enabled: bool,
    docs: &'a str,
    valid: &'a [String],
    invalid: &'a [String],
}

fn doc(r: &Rule) -> RuleDoc<'_> {
    RuleDoc {
        id: &r.id,
        pack: &r.pack,
        severity: r.severity.name(),
        summary: &r.summary,
        default_enabled: r.default_enabled,
        docs: r.docs.trim(),
        valid: &r.tests.valid,
        invalid: &r.tests.invalid,
    }
}

/// Strips the `«…»` span markers of inline test cases.
pub fn unmark(case: &str) -> String {
    case.replace(['«', '»'], "")
}

pub fn rule(id: &str, json: bool) -> Result<String, String> {
    let rules = compile_builtin(&|_| true).map_err(|e| e.to_string())?;
    let Some(r) = rules.get(id) else {
        let near: Vec<&str> = rules.rules.iter().map(|r| r.id.as_str()).filter(|r| r.contains(id.rsplit('/').next().unwrap_or(id))).collect();
        let hint = if near.is_empty() { "see `promptlint rules`".to_string() } else { format!("did you mean {}?", near.join(", ")) };
        return Err(format!("unknown rule `{id}`: {hint}"));
    };
    if json {
        return Ok(serde_json::to_string_pretty(&doc(r)).unwrap_or_default() + "\n");
    }
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", r.id);
    let _ = writeln!(s, "{}\n", r.summary);
    let _ = writeln!(s, "Severity: {}{}\n", r.severity, if r.default_enabled { "" } else { " (off by default; enable with --select)" });
    let _ = writeln!(s, "{}\n", r.docs.trim());
    if !r.tests.invalid.is_empty() {
        let _ = writeln!(s, "## Fires on");
        for c in &r.tests.invalid {
            let _ = writeln!(s, "```\n{}\n```", unmark(c));
        }
        s.push('\n');
    }
    if !r.tests.valid.is_empty() {
        let _ = writeln!(s, "## Does not fire on");
        for c in &r.tests.valid {
            let _ = writeln!(s, "```\n{c}\n```");
        }
        s.push('\n');
    }
    let _ = writeln!(s, "## Suppress");
    let _ = writeln!(s, "On the finding's line or the line above, in the host file's comment syntax:");
    let _ = writeln!(s, "    # promptlint: ignore[{}]", r.id);
    let _ = writeln!(s, "or for a whole file: `promptlint: ignore-file[{}]`; or `ignore = [\"{}\"]` under [rules] in promptlint.toml.", r.id, r.id);
    Ok(s)
}

pub fn rules(json: bool) -> Result<String, String> {
    let rules = compile_builtin(&|_| true).map_err(|e| e.to_string())?;
    if json {
        let docs: Vec<RuleDoc<'_>> = rules.rules.iter().map(doc).collect();
        return Ok(serde_json::to_string_pretty(&docs).unwrap_or_default() + "\n");
    }
    let width = rules.rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
    let mut s = String::new();
    for pack in &rules.packs {
        let _ = writeln!(s, "{}: {}", pack.name, pack.summary);
        for r in rules.rules.iter().filter(|r| r.pack == pack.name) {
            let off = if r.default_enabled { "" } else { " (off by default)" };
            let _ = writeln!(s, "  {:<width$}  {:<7}  {}{}", r.id, r.severity.name(), r.summary, off);
        }
        s.push('\n');
    }
    Ok(s)
}
