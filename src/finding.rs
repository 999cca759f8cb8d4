//! Findings and the report every renderer consumes.
//!
//! A finding is positioned in file space (byte span plus 1-based line/column, computed once when
//! the finding is made). A sensitive value is never stored: only its masked form and the span
//! to mask in rendered snippets. The fingerprint hashes rule, path and the normalized matched
//! text (not the line), so baselines survive edits above a finding.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::packs::Severity;
use crate::span::{FileSpan, LineCol};

/// A secondary span of a finding (the other side of a contradiction).
#[derive(Debug, Clone, Serialize)]
pub struct Label {
    pub path: String,
    #[serde(skip)]
    pub span: FileSpan,
    pub start: LineCol,
    pub end: LineCol,
    pub message: String,
}

/// Bytes of the host file to show masked in snippets.
#[derive(Debug, Clone)]
pub struct Mask {
    pub span: FileSpan,
    pub masked: String,
}

#[derive(Debug, Clone)]
pub struct Finding {
    /// `pack/name`.
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
    pub path: String,
    pub span: FileSpan,
    pub start: LineCol,
    pub end: LineCol,
    pub related: Vec<Label>,
    pub prompt_id: Option<String>,
    pub fingerprint: String,
    pub masks: Vec<Mask>,
}

/// A file that could not be scanned, or a note about one.
#[derive(Debug, Clone, Serialize)]
pub struct FileError {
    pub path: String,
    pub message: String,
}

/// Everything a run found, ready to render.
#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub errors: Vec<FileError>,
    pub files_scanned: usize,
    pub prompts: usize,
    /// Text of every file with a finding, for snippets: `(path, text)`, sorted by path.
    pub sources: Vec<(String, String)>,
}

impl Report {
    pub fn source(&self, path: &str) -> Option<&str> {
        self.sources.binary_search_by(|(p, _)| p.as_str().cmp(path)).ok().map(|i| self.sources[i].1.as_str())
    }

    pub fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            (a.path.as_str(), a.span.start, a.span.end, a.rule.as_str()).cmp(&(b.path.as_str(), b.span.start, b.span.end, b.rule.as_str()))
        });
        self.errors.sort_by(|a, b| a.path.cmp(&b.path).then_with(|| a.message.cmp(&b.message)));
        self.sources.sort_by(|a, b| a.0.cmp(&b.0));
        self.sources.dedup_by(|a, b| a.0 == b.0);
    }

    pub fn count_at_least(&self, severity: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity >= severity).count()
    }
}

/// Stable id of a finding: rule, path and a hash of the normalized matched text (or value).
pub fn fingerprint(rule: &str, path: &str, matched: &str) -> String {
    let normalized: String = matched.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut h = Sha256::new();
    h.update(rule.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(normalized.as_bytes());
    hex(&h.finalize()[..16])
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// sha256 of `bytes` as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Makes fingerprints unique within a report: the n-th duplicate gets `:n` appended.
pub fn disambiguate(findings: &mut [Finding]) {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for f in findings.iter_mut() {
        let n = seen.entry(f.fingerprint.clone()).or_insert(0);
        if *n > 0 {
            f.fingerprint = format!("{}:{}", f.fingerprint, n);
        }
        *n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_ignores_whitespace_layout() {
        assert_eq!(fingerprint("a/b", "x.py", "be  brief\n now"), fingerprint("a/b", "x.py", "be brief now"));
        assert_ne!(fingerprint("a/b", "x.py", "v1"), fingerprint("a/b", "y.py", "v1"));
        assert!(!fingerprint("pii/email-address", "x.py", "dana@corp.io").contains("dana"));
    }
}
