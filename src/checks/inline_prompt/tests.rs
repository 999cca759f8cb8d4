//! Unit tests of `registry/inline-prompt`, on hand-built prompts.

use super::*;
use crate::config::{RawRegistryConfig, RuleSettings};
use crate::kinds::{Matcher, RuleContext};
use crate::packs::{RuleTests, Scope, Severity};
use crate::prompt::{PromptBuilder, PromptFormat};
use crate::source::{FileKind, SourceFile};

fn rule() -> Rule {
    let params: toml::Table =
        toml::from_str("allow-paths = [\"**/tests/**\"]\nsuffixes = [\"_prompt\"]\nexempt-callees = [\"create_prompt\"]\ngeneric-names = [\"prompt\"]").unwrap();
    Rule {
        id: "registry/inline-prompt".into(),
        pack: "registry".into(),
        name: "inline-prompt".into(),
        severity: Severity::Error,
        example_severity: None,
        summary: String::new(),
        message: "move it to {path} and load it with {loader}(\"{id}\")".into(),
        help: None,
        docs: String::new(),
        scope: Scope::Prompt,
        keywords: Vec::new(),
        default_enabled: true,
        matcher: Matcher::Check(crate::checks::Check::InlinePrompt(
            InlinePrompt::compile(Some(&params)).unwrap(),
        )),
        tests: RuleTests::default(),
    }
}

/// A Python file with `NAME = "<text>"` and the prompt the extractor would make of it.
fn case(path: &str, name: &str, text: &str, origin: Option<Origin>) -> (SourceFile, Prompt) {
    let src = format!("x = 1\n{name} = \"{text}\"\n");
    let file = SourceFile::from_bytes(
        src.clone().into_bytes(),
        path.into(),
        path.into(),
        FileKind::Python,
    )
    .unwrap();
    let mut b = PromptBuilder::new();
    b.push_verbatim(text, src.find(text).unwrap());
    let origin = origin.unwrap_or(Origin::Assignment { name: name.into() });
    (
        file,
        b.into_prompt(Prompt::new(
            format!("{path}#{name}"),
            origin,
            PromptFormat::Python,
            true,
        )),
    )
}

fn run(file: &SourceFile, prompt: &Prompt, registry: bool) -> Vec<Hit> {
    let mut settings = RuleSettings::default();
    if registry {
        settings.registry = Some(RawRegistryConfig {
            dirs: vec!["prompts".into()],
            ..Default::default()
        });
        settings.loaders = crate::registry::loader_spec(settings.registry.as_ref().unwrap())
            .ok()
            .map(std::sync::Arc::new);
    }
    let r = rule();
    let cx = RuleContext {
        prompt,
        file,
        settings: &settings,
        file_prompts: std::slice::from_ref(prompt),
    };
    r.matcher.run(&r, &cx)
}

const LONG: &str =
    "You are the triage assistant for Northwind support. Classify each ticket by urgency.";

#[test]
fn flags_an_inline_constant_with_a_suggested_id() {
    let (f, p) = case("src/support_bot.py", "TRIAGE_PROMPT", LONG, None);
    let hits = run(&f, &p, true);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].message, "move it to prompts/support-bot/triage.md and load it with load_prompt(\"support-bot/triage\")");
    assert_eq!(
        p.map.to_file(hits[0].span).start,
        f.text.find("You are").unwrap()
    );
}

#[test]
fn names_come_from_the_binding_or_the_function() {
    let src = "X_PROMPT = \"\"\"\nHi\n\"\"\"\nclass A:\n    def summarize(self):\n        return call(messages=[{\"content\": \"Summarize it\"}])\nY = (\n    \"abc\"\n)\nself.tmpl: str = dedent(\"z\")\n";
    assert_eq!(
        name_in_source(src, src.find("\nHi").unwrap(), &[]).as_deref(),
        Some("X_PROMPT")
    );
    assert_eq!(
        name_in_source(src, src.find("Summarize").unwrap(), &[]).as_deref(),
        Some("summarize")
    );
    assert_eq!(
        name_in_source(src, src.find("abc").unwrap(), &[]).as_deref(),
        Some("Y")
    );
    assert_eq!(
        name_in_source(src, src.find("z\"").unwrap(), &[]).as_deref(),
        Some("tmpl")
    );
    assert_eq!(name_in_source("call(\"top level\")", 6, &[]), None);
    let chat = "CHAT = from_messages([\n    (\"system\", \"Be careful\"),\n])\nagent = Agent(\"m\", instructions=\"Book it\")\ndef f():\n    return create(\n        messages=[\n            {\"content\": \"Deep\"},\n        ],\n    )\n";
    assert_eq!(
        name_in_source(chat, chat.find("Be careful").unwrap(), &[]).as_deref(),
        Some("CHAT")
    );
    assert_eq!(
        name_in_source(chat, chat.find("Book it").unwrap(), &[]).as_deref(),
        Some("agent")
    );
    assert_eq!(
        name_in_source(chat, chat.find("Deep").unwrap(), &[]).as_deref(),
        Some("f")
    );
    let kw = "def build():\n    return create(model=\"m\", system=\"Be brief\")\n";
    assert_eq!(
        name_in_source(kw, kw.find("Be brief").unwrap(), &[]).as_deref(),
        Some("build")
    );
}

#[test]
fn silent_without_a_registry() {
    let (f, p) = case("src/app.py", "TRIAGE_PROMPT", LONG, None);
    assert!(run(&f, &p, false).is_empty());
}

#[test]
fn skips_tests_registry_dirs_fragments_and_short_turns() {
    let (f, p) = case("pkg/tests/test_bot.py", "TRIAGE_PROMPT", LONG, None);
    assert!(run(&f, &p, true).is_empty());
    let (f, p) = case("prompts/support.py", "TRIAGE_PROMPT", LONG, None);
    assert!(run(&f, &p, true).is_empty());
    let (f, mut p) = case("src/app.py", "TRIAGE_PROMPT", LONG, None);
    p.fragment = true;
    assert!(run(&f, &p, true).is_empty());
    let call = Origin::Call {
        callee: "client.chat.completions.create".into(),
        keyword: None,
    };
    let (f, p) = case("src/app.py", "x", "Summarize", Some(call.clone()));
    assert!(run(&f, &p, true).is_empty());
    let (f, p) = case(
        "src/app.py",
        "x",
        "Answer in one short sentence.",
        Some(call),
    );
    assert_eq!(run(&f, &p, true).len(), 1);
    // Too short to be a prompt.
    let (f, p) = case("src/app.py", "GREETING_PROMPT", "Reply in French now", None);
    assert!(run(&f, &p, true).is_empty());
}

#[test]
fn registry_fallbacks_are_not_bypasses() {
    let origin = Origin::Call {
        callee: "langfuse.get_prompt".into(),
        keyword: Some("fallback".into()),
    };
    let (f, p) = case("src/app.py", "x", LONG, Some(origin));
    assert!(run(&f, &p, true).is_empty());
    let publish = Origin::Call {
        callee: "langfuse.create_prompt".into(),
        keyword: Some("prompt".into()),
    };
    let (f, p) = case("src/app.py", "x", LONG, Some(publish));
    assert!(run(&f, &p, true).is_empty());
}

#[test]
fn the_span_skips_spliced_loader_results() {
    let src = "def e(q):\n    prompt = load_prompt(\"triage\") + \"Never mention competitors by name in any answer.\"\n";
    let file = SourceFile::from_bytes(
        src.as_bytes().to_vec(),
        "src/app.py".into(),
        "src/app.py".into(),
        FileKind::Python,
    )
    .unwrap();
    let expr = src.find("load_prompt").unwrap();
    let lit = src.find("Never").unwrap();
    let mut b = PromptBuilder::new();
    b.push_decoded(
        "{load_prompt(\"triage\")}",
        crate::span::FileSpan::new(expr, expr + 21),
    );
    let n = b.len();
    b.push_verbatim("Never mention competitors by name in any answer.", lit);
    let origin = Origin::Call {
        callee: "client.chat.completions.create".into(),
        keyword: Some("messages".into()),
    };
    let mut p = b.into_prompt(Prompt::new(
        "src/app.py#create".into(),
        origin,
        PromptFormat::Python,
        true,
    ));
    p.placeholders.push(crate::prompt::Placeholder {
        name: "load_prompt(\"triage\")".into(),
        expr: None,
        resolved: None,
        syntax: crate::prompt::PlaceholderSyntax::Expression,
        volatility: crate::prompt::Volatility::Unknown,
        span: PromptSpan::new(0, n),
    });
    let hits = run(&file, &p, true);
    assert_eq!(hits.len(), 1);
    assert_eq!(p.map.to_file(hits[0].span).start, lit);
    assert!(hits[0].message.contains("\"app/e\""), "{}", hits[0].message);
}

#[test]
fn placeholders_do_not_count_as_literal_text() {
    let call = Origin::Call {
        callee: "client.chat.completions.create".into(),
        keyword: None,
    };
    let (f, mut p) = case(
        "src/app.py",
        "x",
        "Ticket: {ticket_text_from_the_customer_form}",
        Some(call),
    );
    p.placeholders.push(crate::prompt::Placeholder {
        name: "ticket_text_from_the_customer_form".into(),
        expr: None,
        resolved: None,
        syntax: crate::prompt::PlaceholderSyntax::FString,
        volatility: crate::prompt::Volatility::Unknown,
        span: PromptSpan::new(8, p.text.len()),
    });
    assert!(run(&f, &p, true).is_empty());
}
