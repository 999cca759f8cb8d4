//! Runs a rule's own test cases (`[rule.test]` valid/invalid) through the real pipeline.
//!
//! A case is a whole host file: by default a Markdown prompt file; a first line `#!python`,
//! `#!yaml`, `#!jinja`, `#!prompty` or `#!dotprompt` makes the rest a file of that kind. In an
//! invalid case, `«…»` may mark the exact expected span; markers are removed before linting.
//! Outcomes follow ast-grep's names: *missing* (invalid case not flagged), *noisy* (valid case
//! flagged), *wrong-span* (flagged, but not at the marked span).
//!
//! A `#!repo` case is a small repository (files after `--- <path>` lines) for the cross-file
//! registry rules; `crate::registry::run_repo_case` analyses it and reports spans in the file
//! holding the `«…»` marker.

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
    /// `missing`, `noisy`, `wrong-span`, or `broken` (the case could not be run).
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
        Some(("#!prompty", rest)) => (
            FileKind::PromptFile(PromptFormat::Prompty),
            "case.prompty",
            rest,
        ),
        Some(("#!dotprompt", rest)) => (
            FileKind::PromptFile(PromptFormat::Dotprompt),
            "case.prompt",
            rest,
        ),
        _ => (
            FileKind::PromptFile(PromptFormat::Markdown),
            "prompts/case.md",
            case,
        ),
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
    let settings = RuleSettings {
        cache_min_static_chars: 1000,
        ..RuleSettings::default()
    };
    // Registry rules are silent without a registry: their cases run with `dirs = ["prompts"]`.
    let registry_cfg = crate::config::RawRegistryConfig {
        dirs: vec!["prompts".into()],
        ..Default::default()
    };
    let registry_settings = RuleSettings {
        registry: Some(registry_cfg.clone()),
        loaders: crate::registry::loader_spec(&registry_cfg)
            .ok()
            .map(std::sync::Arc::new),
        ..settings.clone()
    };
    for rule in &rules.rules {
        let settings = if rule.pack == "registry" {
            &registry_settings
        } else {
            &settings
        };
        let selection = Selection {
            select: Some(vec![rule.id.clone()]),
            ..Selection::default()
        };
        let Ok(engine) = Engine::new(rules, spec, settings, &selection) else {
            continue;
        };
        let mut extractor = Extractor::new(spec);
        let mut lint = |case: &str| {
            // Cross-file cases (`#!repo`): a small repository analysed by `crate::registry`.
            if case.starts_with("#!repo\n") {
                return crate::registry::run_repo_case(&rule.id, case, spec);
            }
            let (kind, name, text, marked) = parse_case(case);
            let file = SourceFile::from_bytes(
                text.into_bytes(),
                PathBuf::from(name),
                name.to_string(),
                kind,
            )
            .map_err(|e| format!("the case is not a text file: {e:?}"))?;
            let result = engine.lint_file(&mut extractor, &file);
            let spans: Vec<(usize, usize)> = result
                .findings
                .iter()
                .filter(|f| f.rule == rule.id)
                .map(|f| (f.span.start, f.span.end))
                .collect();
            Ok((spans, marked))
        };
        // A case that cannot be run at all is a problem of its own, never a silent pass.
        let mut run_case = |case: &String, problems: &mut Vec<Problem>| match lint(case) {
            Ok(r) => Some(r),
            Err(detail) => {
                problems.push(Problem {
                    rule: rule.id.clone(),
                    outcome: "broken",
                    case: case.clone(),
                    detail,
                });
                None
            }
        };
        for case in &rule.tests.valid {
            let Some((spans, _)) = run_case(case, &mut problems) else {
                continue;
            };
            if !spans.is_empty() {
                problems.push(Problem {
                    rule: rule.id.clone(),
                    outcome: "noisy",
                    case: case.clone(),
                    detail: format!("flagged at {spans:?}"),
                });
            }
        }
        for case in &rule.tests.invalid {
            let Some((spans, marked)) = run_case(case, &mut problems) else {
                continue;
            };
            if spans.is_empty() {
                problems.push(Problem {
                    rule: rule.id.clone(),
                    outcome: "missing",
                    case: case.clone(),
                    detail: "not flagged".into(),
                });
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
