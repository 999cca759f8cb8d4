//! Baselines: record today's findings by fingerprint, then report only new ones.
//!
//! The file is JSON (`{"version": 1, "findings": [{"rule", "path", "fingerprint"}]}`), sorted, so
//! it diffs well in review. Fingerprints hash content, not line numbers, so an edit above a
//! finding does not resurrect it (gitleaks' baseline keys on lines and does).

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::finding::Finding;

#[derive(Debug, Serialize, Deserialize)]
struct BaselineFile {
    version: u32,
    findings: Vec<BaselineEntry>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
struct BaselineEntry {
    path: String,
    rule: String,
    fingerprint: String,
}

pub fn write(path: &Path, findings: &[Finding]) -> Result<(), String> {
    let mut entries: Vec<BaselineEntry> = findings
        .iter()
        .map(|f| BaselineEntry {
            path: f.path.clone(),
            rule: f.rule.clone(),
            fingerprint: f.fingerprint.clone(),
        })
        .collect();
    entries.sort();
    let json = serde_json::to_string_pretty(&BaselineFile {
        version: 1,
        findings: entries,
    })
    .map_err(|e| e.to_string())?;
    std::fs::write(path, json + "\n")
        .map_err(|e| format!("{}: cannot write baseline: {e}", path.display()))
}

pub fn read(path: &Path) -> Result<HashSet<String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read baseline: {e}", path.display()))?;
    let file: BaselineFile = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a promptlint baseline: {e}", path.display()))?;
    Ok(file.findings.into_iter().map(|e| e.fingerprint).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packs::Severity;
    use crate::span::{FileSpan, LineCol};

    fn finding(rule: &str, path: &str, matched: &str, line: usize) -> Finding {
        Finding {
            rule: rule.into(),
            severity: Severity::Error,
            message: "m".into(),
            help: None,
            path: path.into(),
            span: FileSpan::new(0, 1),
            start: LineCol { line, column: 1 },
            end: LineCol { line, column: 2 },
            related: Vec::new(),
            prompt_id: None,
            fingerprint: crate::finding::fingerprint(rule, path, matched),
            masks: Vec::new(),
        }
    }

    #[test]
    fn round_trip_is_sorted_and_keyed_by_fingerprint_not_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("baseline.json");
        let fs = vec![
            finding("pii/email-address", "b.md", "x@corp.io", 9),
            finding("pii/email-address", "a.md", "y@corp.io", 3),
        ];
        write(&path, &fs).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.find("a.md").unwrap() < text.find("b.md").unwrap(),
            "sorted by path: {text}"
        );
        assert!(!text.contains("corp.io"), "no matched values in the file");
        let known = read(&path).unwrap();
        // The same finding moved to another line is still known; another value is not.
        assert!(known.contains(&finding("pii/email-address", "a.md", "y@corp.io", 40).fingerprint));
        assert!(!known.contains(&finding("pii/email-address", "a.md", "z@corp.io", 3).fingerprint));
        // Writing the same findings again gives the same bytes (stable diffs in review).
        write(&path, &fs).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }

    #[test]
    fn unreadable_or_foreign_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(&dir.path().join("missing.json"))
            .unwrap_err()
            .contains("cannot read baseline"));
        let p = dir.path().join("other.json");
        std::fs::write(&p, "{\"results\": []}").unwrap();
        assert!(read(&p).unwrap_err().contains("not a promptlint baseline"));
    }
}
