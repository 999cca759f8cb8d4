//! Runs a rule's own test cases (`[rule.test]` valid/invalid) through the real pipeline.
//!
//! A case is a whole host file: by default a Markdown prompt file; a first line `#!python`,
//! `#!yaml`, `#!jinja`, `#!prompty` or `#!dotprompt` makes the rest a file of that kind. In an
//! invalid case, `«…»` may mark the exact expected span; markers are removed before linting.
//! Outcomes follow ast-grep's names: *missing* (invalid case not flagged), *noisy* (valid case
//! flagged), *wrong-span* (flagged, but not at the marked span).

use std::path::PathBuf;

use crate::config::RuleSettings;
use crate::engine::{Engine, Selection};
use crate::extract::{Extractor, PromptSpec};
use crate::prompt::PromptFormat;
use crate::source::{FileKind, SourceFile};

use super::RuleSet;

/// A failed case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub rule: String,
    /// `missing`, `noisy` or `wrong-span`.
    pub outcome: &'static str,
    pub case: String,
    pub detail: String,
}

/// Splits a case into its host kind, file name and text (markers removed) and marked span.
pub fn parse_case(case: &str) -> (FileKind, &'static str, String, Option<(usize, usize)>) {
    let (kind, name, body) = match case.split_once('\n') {
        Some(("#!python", rest)) => (FileKind::Python, "case.py", rest),
        Some(("#!yaml", rest)) => (FileKind::Yaml, "case.yaml", rest),
        Some(("#!jinja", rest)) => (FileKind::PromptFile(PromptFormat::Jinja), "case.j2", rest),
        Some(("#!prompty", rest)) => (FileKind::PromptFile(PromptFormat::Prompty), "case.prompty", rest),
        Some(("#!dotprompt", rest)) => (FileKind::PromptFile(PromptFormat::Dotprompt), "case.prompt", rest),
        _ => (FileKind::PromptFile(PromptFormat::Markdown), "prompts/case.md", case),
    };
    let start = body.find('«');
    let end = body.find('»');
    let text = body.replace(['«', '»'], "");
    let marked = match (start, end) {
        (Some(s), Some(e)) if e > s => Some((s, e - '«'.len_utf8())),
        _ => None,
    };
    (kind, name, text, marked)
}

/// Runs every case of every rule in `rules` and returns the failures.
pub fn run(rules: &RuleSet, spec: &PromptSpec) -> Vec<Problem> {
    let mut problems = Vec::new();
    let settings = RuleSettings { cache_min_static_chars: 1000, ..RuleSettings::default() };
    for rule in &rules.rules {
        let selection = Selection { select: Some(vec![rule.id.clone()]), ..Selection::default() };
        let Ok(engine) = Engine::new(rules, spec, &settings, &selection) else { continue };
        let mut extractor = Extractor::new(spec);
        let mut lint = |case: &str| {
            let (kind, name, text, marked) = parse_case(case);
            let file = SourceFile::from_bytes(text.into_bytes(), PathBuf::from(name), name.to_string(), kind)
                .expect("test case is valid UTF-8 text");
            let result = engine.lint_file(&mut extractor, &file);
            let spans: Vec<(usize, usize)> =
                result.findings.iter().filter(|f| f.rule == rule.id).map(|f| (f.span.start, f.span.end)).collect();
            (spans, marked)
        };
        for case in &rule.tests.valid {
            let (spans, _) = lint(case);
            if !spans.is_empty() {
                problems.push(Problem { rule: rule.id.clone(), outcome: "noisy", case: case.clone(), detail: format!("flagged at {spans:?}") });
            }
        }
        for case in &rule.tests.invalid {
            let (spans, marked) = lint(case);
            if spans.is_empty() {
                problems.push(Problem { rule: rule.id.clone(), outcome: "missing", case: case.clone(), detail: "not flagged".into() });
            } else if let Some(m) = marked {
                if !spans.contains(&m) {
                    problems.push(Problem {
                        rule: rule.id.clone(),
                        outcome: "wrong-span",
                        case: case.clone(),
                        detail: format!("expected {m:?}, got {spans:?}"),
                    });
                }
            }
        }
    }
    problems
}
