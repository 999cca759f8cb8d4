//! `--format gitlab`: a GitLab Code Quality report (a JSON array of issues), for
//! `artifacts: reports: codequality`, so findings show in the merge request widget.
//!
//! Each issue has `description`, `check_name`, `fingerprint` (unique within the report),
//! `severity` (`info`, `minor`, `major`, `critical`, `blocker`) and `location.path` with
//! `lines.begin`/`lines.end`.

use serde_json::{json, Value};

use crate::finding::Report;
use crate::packs::Severity;

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "major",
        Severity::Warning => "minor",
        Severity::Info => "info",
    }
}

/// The Code Quality report for `report`: a JSON array, one issue per finding.
pub fn render(report: &Report) -> String {
    let issues: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "type": "issue",
                "description": format!("{}: {}", f.rule, f.message),
                "check_name": f.rule,
                "categories": ["Security"],
                "fingerprint": f.fingerprint,
                "severity": severity(f.severity),
                "location": { "path": f.path, "lines": { "begin": f.start.line, "end": f.end.line.max(f.start.line) } },
            })
        })
        .collect();
    serde_json::to_string_pretty(&Value::Array(issues)).unwrap_or_default() + "\n"
}
