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
    let mut entries: Vec<BaselineEntry> =
        findings.iter().map(|f| BaselineEntry { path: f.path.clone(), rule: f.rule.clone(), fingerprint: f.fingerprint.clone() }).collect();
    entries.sort();
    let json = serde_json::to_string_pretty(&BaselineFile { version: 1, findings: entries }).map_err(|e| e.to_string())?;
    std::fs::write(path, json + "\n").map_err(|e| format!("{}: cannot write baseline: {e}", path.display()))
}

pub fn read(path: &Path) -> Result<HashSet<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read baseline: {e}", path.display()))?;
    let file: BaselineFile =
        serde_json::from_str(&text).map_err(|e| format!("{}: not a promptlint baseline: {e}", path.display()))?;
    Ok(file.findings.into_iter().map(|e| e.fingerprint).collect())
}
