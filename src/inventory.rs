//! The prompt inventory: one summary per prompt found, for `promptlint prompts`, the owners
//! report and cross-prompt analyses (registry) that run after collection.
//!
//! A summary keeps what those need (id, place, hashes, placeholders) and drops the text, so
//! memory stays bounded by the number of prompts, not their size.

use serde::Serialize;

use crate::finding::sha256_hex;
use crate::prompt::{Origin, Prompt};
use crate::source::SourceFile;
use crate::span::{FileSpan, LineIndex};

#[derive(Debug, Clone, Serialize)]
pub struct PromptInfo {
    pub id: String,
    pub path: String,
    pub line: usize,
    pub end_line: usize,
    /// `inline` or `file`.
    pub kind: &'static str,
    pub format: &'static str,
    pub sha256: String,
    pub chars: usize,
    pub placeholders: Vec<String>,
    pub examples: usize,
    #[serde(skip)]
    pub origin: Origin,
    #[serde(skip)]
    pub span: FileSpan,
    #[serde(skip)]
    pub fragment: bool,
    #[serde(skip)]
    pub roles: Vec<&'static str>,
}

impl PromptInfo {
    pub fn new(p: &Prompt, file: &SourceFile, index: Option<&LineIndex>) -> Self {
        let span = p.file_span();
        let (line, end_line) = match index {
            Some(ix) => {
                let end = if span.end > span.start { span.end - 1 } else { span.end };
                (ix.line_col(&file.text, span.start).line, ix.line_col(&file.text, end).line)
            }
            None => (1, 1),
        };
        let sha256 = if p.inline {
            sha256_hex(p.text.as_bytes())
        } else if matches!(p.origin, Origin::File) {
            let mut bytes = Vec::with_capacity(file.text.len() + file.bom_len);
            if file.bom_len > 0 {
                bytes.extend_from_slice(b"\xEF\xBB\xBF");
            }
            bytes.extend_from_slice(file.text.as_bytes());
            sha256_hex(&bytes)
        } else {
            sha256_hex(p.text.as_bytes())
        };
        let mut placeholders: Vec<String> = Vec::new();
        for ph in &p.placeholders {
            if !placeholders.contains(&ph.name) {
                placeholders.push(ph.name.clone());
            }
        }
        let mut roles = Vec::new();
        for s in &p.segments {
            if let crate::segment::SegmentKind::Role { role } = s.kind {
                roles.push(role.name());
            }
        }
        PromptInfo {
            id: p.id.clone(),
            path: file.path.clone(),
            line,
            end_line,
            kind: if p.inline { "inline" } else { "file" },
            format: p.format.name(),
            sha256,
            chars: p.text.chars().count(),
            placeholders,
            examples: p.example_count(),
            origin: p.origin.clone(),
            span,
            fragment: p.fragment,
            roles,
        }
    }
}
