//! Unit tests of loader-call collection, on real tree-sitter parses.

use super::*;

fn spec() -> LoaderSpec {
    let raw: Vec<RawLoader> = toml::from_str::<toml::Table>(
        r#"
[[loader]]
name = "in-house"
callee = ["load_prompt", "get_prompt"]
id-keywords = ["name", "prompt_name"]
version-keywords = ["version", "label"]
[[loader]]
name = "langfuse"
callee = ["langfuse.get_prompt"]
id-keywords = ["name"]
version-keywords = ["version", "label"]
hosted = true
[[loader]]
name = "langchain-hub"
callee = ["hub.pull"]
id-pattern = '^(?P<id>[^:]+)(?::(?P<version>[0-9a-f]{6,}))?$'
hosted = true
[[loader]]
name = "mlflow"
callee = ["mlflow.genai.load_prompt"]
id-keywords = ["name_or_uri"]
id-pattern = '^prompts:/(?P<id>[^/@]+)(?:[/@](?P<version>.+))?$'
hosted = true
[[loader]]
name = "braintrust"
callee = ["braintrust.load_prompt"]
id-positional = 1
id-keywords = ["slug"]
version-keywords = ["version", "environment"]
hosted = true
[[loader]]
name = "promptlayer"
callee = ["templates.get"]
version-keywords = ["version", "label"]
hosted = true
"#,
    )
    .unwrap()
    .get("loader")
    .cloned()
    .unwrap()
    .try_into()
    .unwrap();
    LoaderSpec::compile(&raw, &["registry.get".to_string()]).unwrap()
}

fn calls(src: &str) -> Vec<LoaderCall> {
    let tree = crate::extract::python::tree::Tree::parse(src);
    collect_loader_calls(tree.root_node(), src, &spec())
}

#[test]
fn positional_and_keyword_ids() {
    let src = "p = load_prompt(\"support/triage\")\nq = load_prompt(name='billing', version=3)\n";
    let c = calls(src);
    assert_eq!(c.len(), 2);
    assert_eq!(c[0].id.as_deref(), Some("support/triage"));
    assert_eq!(&src[c[0].span.start..c[0].span.end], "support/triage");
    assert_eq!((c[0].start.line, c[0].start.column), (1, 18));
    assert!(!c[0].versioned);
    assert_eq!(c[1].id.as_deref(), Some("billing"));
    assert!(c[1].versioned);
    assert_eq!(c[1].family, "in-house");
}

#[test]
fn most_specific_family_wins() {
    let c = calls(
        "x = self.langfuse.get_prompt('triage', label='production')\ny = client.get_prompt('a')\n",
    );
    assert_eq!(c[0].family, "langfuse");
    assert!(c[0].hosted && c[0].versioned);
    assert_eq!(c[1].family, "in-house");
}

#[test]
fn id_patterns_strip_uris_and_hashes() {
    let c = calls("a = hub.pull('rlm/rag-prompt:50442af1')\nb = mlflow.genai.load_prompt('prompts:/summarize@production')\nc = hub.pull('hwchase17/react')\n");
    assert_eq!(c[0].id.as_deref(), Some("rlm/rag-prompt"));
    assert!(c[0].versioned);
    assert_eq!(c[1].id.as_deref(), Some("summarize"));
    assert!(c[1].versioned);
    assert_eq!(c[2].id.as_deref(), Some("hwchase17/react"));
    assert!(!c[2].versioned);
}

#[test]
fn braintrust_slug_and_promptlayer_params() {
    let c = calls("p = braintrust.load_prompt('proj', 'summarizer')\nq = braintrust.load_prompt(project='p', slug='qa', version='5')\nr = pl.templates.get('triage', {'label': 'prod'})\n");
    assert_eq!(c[0].id.as_deref(), Some("summarizer"));
    assert_eq!(c[1].id.as_deref(), Some("qa"));
    assert!(c[1].versioned);
    assert_eq!(c[2].id.as_deref(), Some("triage"));
    assert!(c[2].versioned);
}

#[test]
fn dynamic_ids_keep_their_prefix() {
    let c = calls("a = load_prompt(f'support/{kind}')\nb = load_prompt('support/' + kind)\nc = load_prompt(name)\nd = registry.get('x' 'y')\ne = registry.get('support/triage@v2')\n");
    assert_eq!(c.len(), 5);
    assert_eq!(
        (c[0].id.as_deref(), c[0].id_prefix.as_deref()),
        (None, Some("support/"))
    );
    assert_eq!(c[1].id_prefix.as_deref(), Some("support/"));
    assert_eq!(
        (c[2].id.as_deref(), c[2].id_prefix.as_deref()),
        (None, None)
    );
    assert_eq!(c[3].id.as_deref(), Some("xy"));
    assert_eq!(c[3].family, "config");
    assert_eq!(c[4].id.as_deref(), Some("support/triage"));
    assert!(c[4].versioned);
}

#[test]
fn notebook_code_cells_are_references() {
    let nb = r#"{"cells": [{"cell_type": "markdown", "source": ["load_prompt('no')"]}, {"cell_type": "code", "source": ["x = 1\n", "p = load_prompt('support/triage')"]}]}"#;
    let c = notebook_references(nb, &spec());
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].id.as_deref(), Some("support/triage"));
    assert_eq!(c[0].start.line, 1);
}

#[test]
fn other_calls_are_ignored() {
    assert!(calls("x = load(\"a\")\nprompt_loader = 1\ny = d.get('k')\ndef load_prompt(name):\n    return name\n").is_empty());
}
