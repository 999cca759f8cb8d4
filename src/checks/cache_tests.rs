use super::*;
use crate::extract::{Extractor, PromptSpec, RawPromptsSpec};
use crate::source::{FileKind, SourceFile};

#[test]
fn thousands_separators() {
    assert_eq!(thousands(999), "999");
    assert_eq!(thousands(1000), "1,000");
    assert_eq!(thousands(1234567), "1,234,567");
}

#[test]
fn string_constants_count_as_static_text() {
    assert_eq!(constant_len(Some("BASE = \"\"\"abc\ndef\"\"\"")), 7);
    assert_eq!(constant_len(Some("BASE: str = 'abc'")), 3);
    assert_eq!(constant_len(Some("BASE = f\"{x}\"")), 0);
    assert_eq!(constant_len(Some("BASE = \"a\" + X + \"b\"")), 0);
    assert_eq!(constant_len(Some("def f():\n    return 1")), 0);
    assert_eq!(constant_len(None), 0);
}

#[test]
fn def_source_stops_at_dedent() {
    let src = "import x\n\ndef a():\n    return b()\n\n    # still a\ndef b():\n    return 1\n";
    assert_eq!(
        def_source(src, "a"),
        Some("def a():\n    return b()\n\n    # still a\n")
    );
    assert_eq!(def_source(src, "b"), Some("def b():\n    return 1\n"));
    assert_eq!(def_source(src, "c"), None);
}

fn prompts_of_py(src: &str) -> Vec<Prompt> {
    let spec = PromptSpec::compile(&RawPromptsSpec::default(), &[]).unwrap();
    let file = SourceFile::from_bytes(
        src.as_bytes().to_vec(),
        "app.py".into(),
        "app.py".into(),
        FileKind::Python,
    )
    .unwrap();
    let mut ex = Extractor::new(&spec);
    ex.extract(&file).0
}

fn analyze_py(src: &str, min: usize) -> Vec<(String, Option<Outcome>)> {
    let prompts = prompts_of_py(src);
    let data = DATA.as_ref().unwrap();
    let got: Vec<(String, Option<Outcome>)> = prompts
        .iter()
        .map(|p| {
            (
                p.id.clone(),
                analyze(p, src, &prompts, min, data).map(|a| a.outcome),
            )
        })
        .collect();
    // The rules' per-prompt cache answers as the analysis does, asked twice in a row and after
    // another prompt.
    for round in 0..2 {
        for (p, (_, want)) in prompts.iter().zip(&got) {
            for _ in 0..=round {
                let key = analysis_key(p, src, &prompts, min);
                let cached =
                    LAST.with(|last| last.get_or(key, || analyze(p, src, &prompts, min, data)));
                let cached = cached.map(|a| a.outcome);
                assert_eq!(&cached, want, "{}", p.id);
            }
        }
    }
    got
}

#[test]
fn roles_bound_the_cacheable_prefix() {
    let src = r#"
from datetime import datetime
def answer(client, q):
    return client.chat.completions.create(model="gpt-4o", messages=[
        {"role": "system", "content": "You are a careful assistant. Always cite sources."},
        {"role": "user", "content": f"Today is {datetime.now()}. Follow the long rules here. {q}"},
    ])
"#;
    // The date is in the final user turn: never part of the cacheable prefix.
    assert!(analyze_py(src, 10).iter().all(|(_, o)| o.is_none()));
}

#[test]
fn a_constant_used_as_the_user_message_is_judged_at_the_call() {
    let src = r#"
from datetime import datetime
TASK_PROMPT = f"Today is {datetime.now()}. Summarise the text below in three sentences."
def answer(client, text):
    return client.chat.completions.create(model="gpt-4o", messages=[
        {"role": "system", "content": "You are a careful assistant."},
        {"role": "user", "content": TASK_PROMPT + text},
    ])
"#;
    assert!(analyze_py(src, 10).iter().all(|(_, o)| o.is_none()));
}

#[test]
fn threshold_and_order_decide_the_outcome() {
    let src = r#"
from datetime import datetime
SYSTEM_PROMPT = f"Today is {datetime.now()}. You are a careful assistant; always cite sources."
"#;
    let got = analyze_py(src, 20);
    assert_eq!(got[0].1, Some(Outcome::VolatilePrefix));
    let got = analyze_py(src, 500);
    assert_eq!(got[0].1, None);
}

/// Two prompts alike but for a placeholder's volatility or expression, or where they start,
/// have different keys, so the per-rule cache never answers one with the other's analysis.
#[test]
fn the_analysis_key_tells_apart_prompts_that_differ_only_in_their_placeholders() {
    let src = r#"
from datetime import datetime
SYSTEM_PROMPT = f"Today is {datetime.now()}. You are a careful assistant; always cite sources."
"#;
    let prompts = prompts_of_py(src);
    let p = &prompts[0];
    let data = DATA.as_ref().unwrap();
    let key = |q: &Prompt| analysis_key(q, src, &prompts, 20);
    assert_eq!(key(p), key(&p.clone()));
    let mut fixed = p.clone();
    fixed.placeholders[0].volatility = Volatility::Static;
    fixed.placeholders[0].expr = Some("COMPANY".into());
    assert_ne!(key(p), key(&fixed));
    let mut expr_only = p.clone();
    expr_only.placeholders[0].expr = Some("COMPANY".into());
    assert_ne!(key(p), key(&expr_only));
    let mut moved = p.clone();
    moved.id.push('2');
    assert_ne!(key(p), key(&moved));

    let outcome = |q: &Prompt| {
        LAST.with(|last| last.get_or(key(q), || analyze(q, src, &prompts, 20, data)))
            .map(|a| a.outcome)
    };
    assert_eq!(outcome(p), Some(Outcome::VolatilePrefix));
    assert_eq!(outcome(&fixed), Some(Outcome::DynamicBeforeStatic));
    assert_eq!(outcome(p), Some(Outcome::VolatilePrefix));
}
