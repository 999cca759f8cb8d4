//! Lint one file: read, extract, run candidate rules, map to file space, suppress.
//!
//! `Engine` is built once per run and shared read-only by worker threads; each worker owns an
//! `Extractor` (with its Python extractor). Per-file problems become `FileError`s, never
//! aborts; a panic inside one file's analysis is caught and reported as a bug for that file so
//! the scan goes on.

use std::cell::OnceCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Once};

use globset::{Glob, GlobMatcher};

use crate::checks::contradiction::LazyVocab;
use crate::config::RuleSettings;
use crate::extract::{Extractor, PromptSpec};
use crate::finding::{fingerprint, FileError, Finding, Label, Mask};
use crate::inventory::PromptInfo;
use crate::kinds::{Matcher, RuleContext};
use crate::packs::{RuleSet, Severity};
use crate::prompt::Prompt;
use crate::source::{FileKind, Skip, SourceFile};
use crate::span::LineIndex;
use crate::suppress;

/// Which rules run, and how loud.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Packs or rule ids; `None` means every default-enabled rule.
    pub select: Option<Vec<String>>,
    pub ignore: Vec<String>,
    pub severity: Vec<(String, Severity)>,
    pub per_file_ignores: Vec<(String, Vec<String>)>,
}

fn selector_matches(selector: &str, rule_id: &str) -> bool {
    selector == rule_id || selector == "all" || rule_id.split('/').next() == Some(selector)
}

pub struct Engine<'a> {
    pub rules: &'a RuleSet,
    pub spec: &'a PromptSpec,
    pub settings: &'a RuleSettings,
    enabled: Vec<bool>,
    severity: Vec<Severity>,
    per_file: Vec<(GlobMatcher, Vec<String>)>,
    /// The enabled checks' state to build ahead (see `expect_prompts`), each once.
    ahead: Vec<Arc<LazyVocab>>,
    ahead_started: Once,
    /// Whether each prompt's inventory entry (lines, sha256, placeholders) is made. A `check`
    /// that only counts prompts turns this off, so what it keeps follows its findings, not
    /// the number of prompts in the repository.
    pub inventory: bool,
}

/// What one file produced.
#[derive(Debug, Default)]
pub struct FileResult {
    pub path: String,
    pub scanned: bool,
    /// How many prompts the file holds.
    pub prompt_count: usize,
    /// Their inventory entries (empty unless `Engine::inventory`).
    pub prompts: Vec<PromptInfo>,
    pub findings: Vec<Finding>,
    pub errors: Vec<FileError>,
    /// The file's text, kept only when it has findings (for snippets).
    pub text: Option<String>,
    /// Suppression directives that suppressed nothing: `(line, column, selector)`.
    pub unused_ignores: Vec<(usize, usize, String)>,
    /// Registry loader calls (Python files, only when a registry is configured).
    pub loader_calls: Vec<crate::extract::loaders::LoaderCall>,
}

impl FileResult {
    /// A scanned file with nothing to keep: no inventory entry, finding, error or loader call.
    pub fn is_empty(&self) -> bool {
        self.scanned
            && self.prompts.is_empty()
            && self.findings.is_empty()
            && self.errors.is_empty()
            && self.text.is_none()
            && self.unused_ignores.is_empty()
            && self.loader_calls.is_empty()
    }
}

impl<'a> Engine<'a> {
    pub fn new(
        rules: &'a RuleSet,
        spec: &'a PromptSpec,
        settings: &'a RuleSettings,
        selection: &Selection,
    ) -> Result<Self, String> {
        let enabled: Vec<bool> = rules
            .rules
            .iter()
            .map(|r| {
                let selected = match &selection.select {
                    None => r.default_enabled,
                    Some(sel) => {
                        sel.iter().any(|s| s == &r.id)
                            || (r.default_enabled && sel.iter().any(|s| selector_matches(s, &r.id)))
                    }
                };
                selected && !selection.ignore.iter().any(|s| selector_matches(s, &r.id))
            })
            .collect();
        let severity = rules
            .rules
            .iter()
            .map(|r| {
                selection
                    .severity
                    .iter()
                    .rev()
                    .find(|(s, _)| selector_matches(s, &r.id))
                    .map(|(_, sev)| *sev)
                    .unwrap_or(r.severity)
            })
            .collect();
        let per_file = selection
            .per_file_ignores
            .iter()
            .map(|(glob, sels)| {
                Glob::new(glob)
                    .map(|g| (g.compile_matcher(), sels.clone()))
                    .map_err(|e| format!("per-file-ignores: invalid glob `{glob}`: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut ahead: Vec<Arc<LazyVocab>> = Vec::new();
        for (rule, _) in rules.rules.iter().zip(&enabled).filter(|(_, e)| **e) {
            if let Matcher::Check(check) = &rule.matcher {
                if let Some(state) = check.state_to_build_ahead() {
                    if !ahead.iter().any(|a| Arc::ptr_eq(a, state)) {
                        ahead.push(Arc::clone(state));
                    }
                }
            }
        }
        Ok(Engine {
            rules,
            spec,
            settings,
            enabled,
            severity,
            per_file,
            ahead,
            ahead_started: Once::new(),
            inventory: true,
        })
    }

    /// Whether any rule is enabled (so extraction is worth doing for `check`).
    pub fn any_enabled(&self) -> bool {
        self.enabled.iter().any(|e| *e)
    }

    pub fn is_enabled(&self, rule_id: &str) -> bool {
        self.rules
            .rules
            .iter()
            .zip(&self.enabled)
            .any(|(r, e)| *e && r.id == rule_id)
    }

    /// Whether `[per-file-ignores]` turns `rule_id` off for `path`.
    pub fn is_ignored_for(&self, path: &str, rule_id: &str) -> bool {
        self.per_file
            .iter()
            .any(|(g, sels)| g.is_match(path) && sels.iter().any(|s| selector_matches(s, rule_id)))
    }

    pub fn severity_of(&self, rule_id: &str) -> Option<Severity> {
        self.rules
            .rules
            .iter()
            .zip(&self.severity)
            .find(|(r, _)| r.id == rule_id)
            .map(|(_, s)| *s)
    }

    /// Reads and lints one file. Never panics: a panic in analysis becomes a per-file error.
    pub fn lint_path(
        &self,
        extractor: &mut Extractor<'a>,
        fs_path: &std::path::Path,
        path: String,
        kind: crate::source::FileKind,
        max_size: u64,
    ) -> FileResult {
        let file = match SourceFile::read(fs_path, path.clone(), kind, max_size) {
            Ok(f) => f,
            Err(Skip::Binary) => return FileResult { path, ..Default::default() },
            Err(Skip::TooLarge { size, cap }) => {
                return FileResult {
                    path: path.clone(),
                    errors: vec![FileError { path, message: format!("skipped: {size} bytes is over the {cap}-byte limit (raise it with --max-file-size)") }],
                    ..Default::default()
                }
            }
            Err(Skip::Error(message)) => return FileResult { path: path.clone(), errors: vec![FileError { path, message }], ..Default::default() },
        };
        match catch_unwind(AssertUnwindSafe(|| self.lint_file(extractor, &file))) {
            Ok(r) => r,
            Err(_) => {
                *extractor = Extractor::new(self.spec);
                FileResult {
                    path: path.clone(),
                    scanned: true,
                    errors: vec![FileError { path, message: "internal error while analysing this file (a promptlint bug: please report it)".into() }],
                    ..Default::default()
                }
            }
        }
    }

    /// Starts building the enabled checks' lazily built state (the contradiction vocabulary,
    /// about 3 ms) on a thread of its own, once: when the run meets a prompt file or finds a
    /// file's first prompts. The workers go on reading and extracting meanwhile, instead of one
    /// of them building it when its first prompt needs it while the other waits for it. A run
    /// that finds no prompt never starts it; if no thread can start, the state is built on
    /// first use as before.
    fn expect_prompts(&self) {
        self.ahead_started.call_once(|| {
            if self.ahead.is_empty() {
                return;
            }
            let ahead = self.ahead.clone();
            let _ = std::thread::Builder::new()
                .name("build-ahead".into())
                .spawn(move || ahead.iter().for_each(|state| state.build()));
        });
    }

    /// Extracts prompts from `file` and runs the enabled rules on them.
    pub fn lint_file(&self, extractor: &mut Extractor<'_>, file: &SourceFile) -> FileResult {
        // A prompt file holds prompts: start before reading them. Other files start once their
        // prompts are found (a Python file passing the prefilter often holds none).
        if matches!(file.kind, FileKind::PromptFile(_)) {
            self.expect_prompts();
        }
        let (prompts, error) = extractor.extract_then(file, || self.expect_prompts());
        let mut result = FileResult {
            path: file.path.clone(),
            scanned: true,
            ..Default::default()
        };
        // Loader calls (for the registry pack) come from the same parse as the prompts.
        match (file.kind, &self.settings.loaders) {
            (FileKind::Python, Some(loaders)) => {
                result.loader_calls = extractor.loader_calls(&file.text, loaders);
            }
            (FileKind::Notebook, Some(loaders)) => {
                result.loader_calls =
                    crate::extract::loaders::notebook_references(&file.text, loaders);
            }
            _ => {}
        }
        if let Some(message) = error {
            result.errors.push(FileError {
                path: file.path.clone(),
                message,
            });
        }
        result.prompt_count = prompts.len();
        let index = if prompts.is_empty() || !self.inventory {
            None
        } else {
            Some(LineIndex::new(&file.text))
        };
        if self.inventory {
            result.prompts = prompts
                .iter()
                .map(|p| PromptInfo::new(p, file, index.as_ref()))
                .collect();
        }
        if prompts.is_empty() || !self.any_enabled() {
            return result;
        }
        let file_ignores: Vec<&String> = self
            .per_file
            .iter()
            .filter(|(g, _)| g.is_match(&file.path))
            .flat_map(|(_, s)| s.iter())
            .collect();
        // Most files with prompts have no finding: their line index is built on first use.
        let index: OnceCell<LineIndex> = index.map(OnceCell::from).unwrap_or_default();
        let index = || index.get_or_init(|| LineIndex::new(&file.text));
        let mut findings = Vec::new();
        for prompt in &prompts {
            self.lint_prompt(prompt, &prompts, file, &index, &file_ignores, &mut findings);
        }
        // A constant reused by several calls yields the same finding more than once.
        findings.sort_by(|a: &Finding, b| (a.span, &a.rule).cmp(&(b.span, &b.rule)));
        findings.dedup_by(|a, b| a.span == b.span && a.rule == b.rule);
        let mut directives = suppress::parse(&file.text);
        let literal_end_line = |f: &Finding| -> Option<usize> {
            if file.kind != FileKind::Python {
                return None;
            }
            let p = prompts.iter().find(|p| {
                p.inline
                    && Some(&p.id) == f.prompt_id.as_ref()
                    && p.map.file_extent().contains(f.span)
            })?;
            literal_end(&p.map, f.span.end.saturating_sub(1).max(f.span.start))
                .map(|off| index().line_col(&file.text, off).line)
        };
        suppress::apply_with(&mut findings, &mut directives, &literal_end_line);
        for d in &directives {
            for sel in d.unused() {
                result.unused_ignores.push((d.line, d.column, sel));
            }
        }
        if !findings.is_empty() || !result.unused_ignores.is_empty() {
            result.text = Some(file.text.clone());
        }
        result.findings = findings;
        result
    }

    fn lint_prompt<'i>(
        &self,
        prompt: &Prompt,
        all: &[Prompt],
        file: &SourceFile,
        index: &dyn Fn() -> &'i LineIndex,
        file_ignores: &[&String],
        out: &mut Vec<Finding>,
    ) {
        let line_col = |offset: usize| index().line_col(&file.text, offset);
        let candidates = self.rules.prefilter.candidates(&prompt.text);
        let cx = RuleContext {
            prompt,
            file,
            settings: self.settings,
            file_prompts: all,
        };
        for (i, rule) in self.rules.rules.iter().enumerate() {
            if !self.enabled[i]
                || !candidates[i]
                || file_ignores.iter().any(|s| selector_matches(s, &rule.id))
            {
                continue;
            }
            for hit in rule.matcher.run(rule, &cx) {
                let span = prompt.map.to_file(hit.span);
                let matched = match &hit.secret {
                    Some(s) => s.value.clone(),
                    None => prompt.slice(hit.span).to_string(),
                };
                let related = hit
                    .related
                    .iter()
                    .map(|(s, message)| {
                        let fs = prompt.map.to_file(*s);
                        Label {
                            path: file.path.clone(),
                            span: fs,
                            start: line_col(fs.start),
                            end: line_col(fs.end),
                            message: message.clone(),
                        }
                    })
                    .collect();
                let severity = match hit.severity {
                    // A hit's own severity (inside an example) is relative to the rule's
                    // default; a configured override caps nothing but replaces the default.
                    Some(s) if self.severity[i] == rule.severity => s,
                    _ => self.severity[i],
                };
                out.push(Finding {
                    rule: rule.id.clone(),
                    severity,
                    message: hit.message,
                    help: hit.help.or_else(|| rule.help.clone()),
                    path: file.path.clone(),
                    span,
                    start: line_col(span.start),
                    end: line_col(span.end),
                    related,
                    prompt_id: Some(prompt.id.clone()),
                    fingerprint: fingerprint(&rule.id, &file.path, &matched),
                    masks: hit
                        .secret
                        .map(|s| {
                            vec![Mask {
                                span,
                                masked: s.masked,
                            }]
                        })
                        .unwrap_or_default(),
                });
            }
        }
    }
}

/// The file offset where the string literal holding `file_offset` ends: the end of the run of
/// pieces contiguous in the file starting with the piece that holds it (pieces from different
/// literals are separated by at least their quotes).
pub fn literal_end(map: &crate::prompt::OffsetMap, file_offset: usize) -> Option<usize> {
    let pieces = map.pieces();
    let i = pieces.iter().position(|p| {
        file_offset >= p.file_start && file_offset < p.file_start + p.file_len.max(1)
    })?;
    let mut end = pieces[i].file_start + pieces[i].file_len;
    for p in &pieces[i + 1..] {
        if p.file_len == 0 {
            continue;
        }
        if p.file_start != end {
            break;
        }
        end = p.file_start + p.file_len;
    }
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::{Origin, PromptBuilder, PromptFormat};
    use crate::span::FileSpan;

    #[test]
    fn literal_end_follows_contiguous_pieces_only() {
        // A triple-quoted literal `a\nb` (verbatim, decoded escape, verbatim) at bytes 10..15,
        // then a second literal `c` at 22 after a gap for the quotes.
        let mut b = PromptBuilder::new();
        b.push_verbatim("a", 10);
        b.push_decoded("\n", FileSpan::new(11, 13));
        b.push_verbatim("b\n", 13);
        b.push_synthetic("\n");
        b.push_verbatim("c", 22);
        let p = b.into_prompt(Prompt::new(
            "x#p".into(),
            Origin::Assignment { name: "p".into() },
            PromptFormat::Python,
            true,
        ));
        assert_eq!(literal_end(&p.map, 10), Some(15));
        assert_eq!(literal_end(&p.map, 13), Some(15));
        assert_eq!(literal_end(&p.map, 22), Some(23));
        assert_eq!(literal_end(&p.map, 16), None);
    }

    #[test]
    fn the_contradiction_vocabulary_is_built_ahead_once_and_only_when_selected() {
        let spec = PromptSpec::compile(&Default::default(), &[]).unwrap();
        let rules = crate::packs::compile::compile_builtin(&|_| true).unwrap();
        let settings = RuleSettings::default();
        let engine = |select: &[&str]| {
            let selection = Selection {
                select: Some(select.iter().map(|s| s.to_string()).collect()),
                ..Selection::default()
            };
            Engine::new(&rules, &spec, &settings, &selection).unwrap()
        };
        // Every rule of the pack shares one vocabulary: one state to build.
        let all = engine(&["contradiction"]);
        assert!(
            rules
                .rules
                .iter()
                .filter(|r| r.pack == "contradiction")
                .count()
                > 1
        );
        assert_eq!(all.ahead.len(), 1);
        let one = engine(&["contradiction/length"]);
        assert_eq!(one.ahead.len(), 1);
        assert!(Arc::ptr_eq(&all.ahead[0], &one.ahead[0]));
        assert!(engine(&["pii", "cache"]).ahead.is_empty());
    }
}
