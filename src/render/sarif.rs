//! `--format sarif`: SARIF 2.1.0, as GitHub code scanning and other SARIF viewers read it.
//!
//! One run; `tool.driver.rules` describes every rule that can appear (id, name, short and full
//! description, help, default level), results point at the finding's region with character
//! columns (`columnKind: unicodeCodePoints`), the other side of a multi-span finding becomes
//! `relatedLocations`, and the finding's content fingerprint goes in `partialFingerprints` so
//! code scanning tracks a finding across edits. Suppressed findings never reach the report, so
//! they are omitted. Per-file errors become tool execution notifications.

use serde_json::{json, Value};

use crate::finding::Report;
use crate::packs::{RuleSet, Severity};
use crate::suppress::{UNUSED_IGNORE_HELP, UNUSED_IGNORE_RULE, UNUSED_IGNORE_SUMMARY};

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A relative path as a URI reference: percent-encode everything but unreserved bytes and `/`.
pub fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn location(path: &str, start: crate::span::LineCol, end: crate::span::LineCol) -> Value {
    // An empty span still needs a region one column wide to be shown.
    let end_column = if end.line == start.line && end.column <= start.column {
        start.column + 1
    } else {
        end.column
    };
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri(path) },
            "region": {
                "startLine": start.line,
                "startColumn": start.column,
                "endLine": end.line.max(start.line),
                "endColumn": end_column,
            }
        }
    })
}

fn rules(rules: &RuleSet) -> Vec<Value> {
    let mut out: Vec<Value> = rules
        .rules
        .iter()
        .map(|r| {
            let help = r.help.clone().unwrap_or_else(|| r.summary.clone());
            json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": r.summary },
                "help": { "text": format!("{help}\n\nSuppress with `promptlint: ignore[{}]` in a comment on the line, or see `promptlint rule {}`.", r.id, r.id), "markdown": r.docs },
                "defaultConfiguration": { "level": level(r.severity), "enabled": r.default_enabled },
                "properties": { "tags": [r.pack] },
            })
        })
        .collect();
    out.push(json!({
        "id": UNUSED_IGNORE_RULE,
        "name": "unused-ignore",
        "shortDescription": { "text": UNUSED_IGNORE_SUMMARY },
        "fullDescription": { "text": UNUSED_IGNORE_SUMMARY },
        "help": { "text": UNUSED_IGNORE_HELP },
        "defaultConfiguration": { "level": "warning", "enabled": false },
        "properties": { "tags": ["promptlint"] },
    }));
    out
}

/// The SARIF log for `report`, describing every rule of `ruleset`.
pub fn render(report: &Report, ruleset: &RuleSet) -> String {
    let descriptors = rules(ruleset);
    let index_of = |id: &str| descriptors.iter().position(|d| d["id"] == id);
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut r = json!({
                "ruleId": f.rule,
                "level": level(f.severity),
                "message": { "text": f.message },
                "locations": [location(&f.path, f.start, f.end)],
                "partialFingerprints": { "promptlintFingerprint/v1": f.fingerprint },
            });
            if let Some(i) = index_of(&f.rule) {
                r["ruleIndex"] = json!(i);
            }
            if !f.related.is_empty() {
                let related: Vec<Value> = f
                    .related
                    .iter()
                    .enumerate()
                    .map(|(i, l)| {
                        let mut loc = location(&l.path, l.start, l.end);
                        loc["id"] = json!(i + 1);
                        loc["message"] = json!({ "text": l.message });
                        loc
                    })
                    .collect();
                r["relatedLocations"] = Value::Array(related);
            }
            if let Some(id) = &f.prompt_id {
                r["properties"] = json!({ "prompt": id });
            }
            r
        })
        .collect();
    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            json!({
                "level": "warning",
                "message": { "text": e.message },
                "locations": [{ "physicalLocation": { "artifactLocation": { "uri": uri(&e.path) } } }],
            })
        })
        .collect();
    let out = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "promptlint",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": descriptors,
                }
            },
            "invocations": [{ "executionSuccessful": true, "toolExecutionNotifications": notifications }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&out).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(uri("src/a b/ü.py"), "src/a%20b/%C3%BC.py");
        assert_eq!(uri("prompts/x-y_z.md"), "prompts/x-y_z.md");
    }
}
