//! Pack tests: every bundled rule's inline cases, and pack hygiene.

use promptlint::extract::{PromptSpec, RawPromptsSpec};
use promptlint::packs::compile::compile_builtin;
use promptlint::packs::selftest;

#[test]
fn every_rule_passes_its_own_cases() {
    let rules = compile_builtin(&|_| true).expect("built-in packs compile");
    let spec = PromptSpec::compile(&RawPromptsSpec::default(), &[]).expect("prompt spec compiles");
    let problems = selftest::run(&rules, &spec);
    let report: Vec<String> = problems
        .iter()
        .map(|p| {
            format!(
                "{} {}: {}\n  case: {:?}",
                p.outcome, p.rule, p.detail, p.case
            )
        })
        .collect();
    assert!(
        problems.is_empty(),
        "{} failing rule cases:\n{}",
        problems.len(),
        report.join("\n")
    );
}

#[test]
fn packs_are_hygienic() {
    let rules = compile_builtin(&|_| true).expect("built-in packs compile");
    let mut errors = Vec::new();
    for r in &rules.rules {
        for heading in [
            "## What it flags",
            "## Why it matters",
            "## Example",
            "## Instead",
        ] {
            if !r.docs.contains(heading) {
                errors.push(format!("{}: docs lack `{heading}`", r.id));
            }
        }
        if r.tests.valid.is_empty() || r.tests.invalid.is_empty() {
            errors.push(format!(
                "{}: needs at least one valid and one invalid case",
                r.id
            ));
        }
        if !r.keywords.is_empty() {
            for case in &r.tests.invalid {
                let lower = case.to_lowercase();
                if !r.keywords.iter().any(|k| lower.contains(&k.to_lowercase())) {
                    errors.push(format!(
                        "{}: invalid case contains none of its keywords: {case:?}",
                        r.id
                    ));
                }
            }
        }
        if r.summary.trim().is_empty() || r.message.trim().is_empty() {
            errors.push(format!("{}: empty summary or message", r.id));
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn every_lazily_built_matcher_builds() {
    let rules = compile_builtin(&|_| true).expect("built-in packs compile");
    let failures: Vec<String> = rules
        .rules
        .iter()
        .filter_map(|r| r.matcher.force().err().map(|e| format!("{}: {e}", r.id)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
