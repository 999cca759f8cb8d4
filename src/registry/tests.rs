//! Unit tests of the registry: ids, files, the lockfile and the cross-file checks.

use super::analyze::distance;
use super::*;
use crate::extract::RawPromptsSpec;

fn spec() -> PromptSpec {
    PromptSpec::compile(&RawPromptsSpec::default(), &[]).unwrap()
}

fn cfg(dirs: &[&str]) -> RawRegistryConfig {
    RawRegistryConfig {
        dirs: dirs.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

#[test]
fn builtin_data_compiles() {
    let spec = loader_spec(&cfg(&["prompts"])).unwrap();
    assert!(spec
        .families
        .iter()
        .any(|f| f.name == "langfuse" && f.hosted));
    assert_eq!(
        spec.families[spec.family_of("langfuse.get_prompt").unwrap()].name,
        "langfuse"
    );
    assert_eq!(
        spec.families[spec.family_of("load_prompt").unwrap()].name,
        "in-house"
    );
}

#[test]
fn id_forms() {
    let v = ids("prompts", "prompts/support/triage.prompt.md");
    for want in [
        "support/triage.prompt.md",
        "support/triage.prompt",
        "support/triage",
        "prompts/support/triage",
        "prompts/support/triage.prompt.md",
    ] {
        assert!(v.contains(&want.to_string()), "{want} in {v:?}");
    }
    assert_eq!(
        ids("./prompts/", "prompts/a.txt"),
        vec!["a", "a.txt", "prompts/a", "prompts/a.txt"]
    );
}

#[test]
fn registry_files_are_classified() {
    let (c, s) = (cfg(&["prompts", "llm/templates"]), spec());
    assert_eq!(
        registry_dir_of(&c, &s, "prompts/support/triage.md"),
        Some("prompts")
    );
    assert_eq!(
        registry_dir_of(&c, &s, "llm/templates/qa.j2"),
        Some("llm/templates")
    );
    assert_eq!(
        registry_dir_of(&c, &s, "llm/templates/qa.txt"),
        Some("llm/templates")
    );
    assert_eq!(registry_dir_of(&c, &s, "prompts/README.md"), None);
    assert_eq!(registry_dir_of(&c, &s, "prompts/__init__.py"), None);
    assert_eq!(registry_dir_of(&c, &s, "prompts/manifest.json"), None);
    assert_eq!(registry_dir_of(&c, &s, "src/prompts_util.md"), None);
    assert_eq!(registry_dir_of(&c, &s, "promptsx/a.md"), None);
}

#[test]
fn lockfile_round_trip() {
    let ps = vec![
        RegistryPrompt::new(
            "prompts/b.md".into(),
            "prompts/b.md".into(),
            "prompts".into(),
            b"b\n",
        ),
        RegistryPrompt::new(
            "prompts/a.md".into(),
            "prompts/a.md".into(),
            "prompts".into(),
            b"a\n",
        ),
    ];
    let text = render_lockfile(&ps);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].ends_with("  prompts/a.md") && lines[1].ends_with("  prompts/b.md"));
    assert_eq!(&lines[0][..64], sha256_hex(b"a\n"));
    let parsed = parse_lockfile(&text);
    assert_eq!(parsed.len(), 2);
    assert_eq!(parsed[1].line, 1);
    let lock = Lockfile {
        rel: "prompts.lock".into(),
        display: "prompts.lock".into(),
        text: Some(text),
        explicit: false,
    };
    assert!(lock_differences(&ps, &lock).is_empty());
    let edited = vec![RegistryPrompt::new(
        "prompts/a.md".into(),
        "prompts/a.md".into(),
        "prompts".into(),
        b"a2\n",
    )];
    assert_eq!(
        lock_differences(&edited, &lock),
        vec![
            ("prompts/a.md".to_string(), "changed"),
            ("prompts/b.md".to_string(), "gone")
        ]
    );
}

#[test]
fn distance_is_capped() {
    assert_eq!(distance("suport/triage", "support/triage", 3), 1);
    assert_eq!(distance("abc", "xyzabcdef", 2), 3);
    assert_eq!(distance("kitten", "sitting", 3), 3);
}

fn run(case: &str, rule: &str) -> Vec<(usize, usize)> {
    run_repo_case(rule, case, &spec()).unwrap().0
}

#[test]
fn hosted_ids_are_reported_only_when_mirrored_or_near() {
    let base = "#!repo\n--- promptlint.toml\n[registry]\ndirs = [\"prompts\"]\n--- prompts/summarize.md\nSummarize.\n--- app.py\n";
    assert!(run(
        &format!("{base}a = hub.pull('rlm/rag-prompt')\n"),
        "registry/unknown-id"
    )
    .is_empty());
    assert_eq!(
        run(
            &format!("{base}a = langfuse.get_prompt('sumarize')\n"),
            "registry/unknown-id"
        )
        .len(),
        1
    );
    let mirrored = format!("{base}a = langfuse.get_prompt('summarize')\nb = langfuse.get_prompt('translate-everything')\n");
    assert_eq!(run(&mirrored, "registry/unknown-id").len(), 1);
}

#[test]
fn builtin_loaders_need_evidence_config_loaders_do_not() {
    let base = "#!repo\n--- promptlint.toml\n[registry]\ndirs = [\"prompts\"]\n--- prompts/support/triage.md\nT.\n";
    let unknown = |extra: &str, app: &str| {
        run(
            &format!("{base}{extra}--- app.py\n{app}"),
            "registry/unknown-id",
        )
        .len()
    };
    // No evidence the id was meant for this registry.
    assert_eq!(unknown("", "a = get_prompt('welcome-banner')\n"), 0);
    // Same namespace as registry prompts: a deleted or renamed prompt.
    assert_eq!(unknown("", "a = get_prompt('support/escalation')\n"), 1);
    // Other calls of the family resolve: the family reads this registry.
    assert_eq!(
        unknown(
            "",
            "a = get_prompt('triage')\nb = get_prompt('welcome-banner')\n"
        ),
        1
    );
    // The lockfile still records it.
    let lock = format!(
        "--- prompts.lock\n{}  prompts/welcome-banner.md\n",
        "0".repeat(64)
    );
    assert_eq!(unknown(&lock, "a = get_prompt('welcome-banner')\n"), 1);
    // A loader named in config always reads this registry.
    let cfg = "#!repo\n--- promptlint.toml\n[registry]\ndirs = [\"prompts\"]\nloaders = [\"get_prompt\"]\n--- prompts/a.md\nA.\n--- app.py\na = get_prompt('welcome-banner')\n";
    assert_eq!(run(cfg, "registry/unknown-id").len(), 1);
}

#[test]
fn file_mentions_count_as_references_and_tests_may_load_missing_ids() {
    let base = "#!repo\n--- promptlint.toml\n[registry]\ndirs = [\"prompts\"]\nloaders = [\"load_prompt\"]\n--- prompts/a.md\nA.\n--- prompts/support/b.txt\nB.\n--- app.py\nx = load_prompt('a')\n";
    assert_eq!(run(base, "registry/unused-prompt").len(), 1);
    let read = format!("{base}y = (PROMPTS / \"support/b.txt\").read_text()\n");
    assert!(run(&read, "registry/unused-prompt").is_empty());
    assert!(run(&read, "registry/unknown-id").is_empty());
    let test = format!("{base}--- tests/test_loader.py\nwith raises(KeyError):\n    load_prompt('does-not-exist')\n");
    assert!(run(&test, "registry/unknown-id").is_empty());
}

#[test]
fn jinja_template_loads_are_references_only() {
    let base = "#!repo\n--- promptlint.toml\n[registry]\ndirs = [\"prompts\"]\n--- prompts/triage.j2\nT.\n--- prompts/other.md\nO.\n--- app.py\nt = env.get_template('triage.j2')\nh = env.get_template('index.html')\nx = load_prompt('other')\n";
    assert!(run(base, "registry/unknown-id").is_empty());
    assert!(run(base, "registry/unused-prompt").is_empty());
}

#[test]
fn keys_inside_structured_prompt_files_resolve() {
    let base = "#!repo\n--- promptlint.toml\n[registry]\ndirs = [\"prompts\"]\nloaders = [\"load_prompt\"]\n--- prompts/triage.yaml\nsystem: Sort tickets.\n--- prompts/notes.md\nN.\n--- app.py\nx = load_prompt('triage.system')\ny = load_prompt('notes')\n";
    assert!(run(base, "registry/unknown-id").is_empty());
    assert!(run(base, "registry/unused-prompt").is_empty());
    // Only structured files have keys.
    let md = base.replace("y = load_prompt('notes')", "y = load_prompt('notes.intro')");
    assert_eq!(run(&md, "registry/unknown-id").len(), 1);
}

#[test]
fn id_tables_for_computed_loader_ids_are_references() {
    let base = "#!repo\n--- promptlint.toml\n[registry]\ndirs = [\"prompts\"]\n--- prompts/support/triage.md\nT.\n--- prompts/billing.md\nB.\n--- app.py\nx = load_prompt('support/triage')\n";
    assert_eq!(run(base, "registry/unused-prompt").len(), 1);
    let table = format!("{base}--- jobs.py\nfor name in [\"billing\"]:\n    load_prompt(name)\n");
    assert!(run(&table, "registry/unused-prompt").is_empty());
    // Without a computed loader call, a bare word is not a reference.
    let word = format!("{base}--- jobs.py\nkind = \"billing\"\n");
    assert_eq!(run(&word, "registry/unused-prompt").len(), 1);
}

#[test]
fn unused_needs_some_reference_and_sees_includes() {
    let base = "#!repo\n--- promptlint.toml\n[registry]\ndirs = [\"prompts\"]\n--- prompts/main.j2\n{% include \"header.j2\" %} Go.\n--- prompts/header.j2\nHeader.\n";
    assert!(run(base, "registry/unused-prompt").is_empty());
    assert!(run(
        &format!("{base}--- app.py\nx = load_prompt('main')\n"),
        "registry/unused-prompt"
    )
    .is_empty());
    assert_eq!(
        run(
            &format!("{base}--- prompts/orphan.md\nOrphan.\n--- app.py\nx = load_prompt('main')\n"),
            "registry/unused-prompt"
        ),
        vec![(0, 7)]
    );
}

#[test]
fn explicit_missing_lockfile_reports_every_prompt() {
    let case = "#!repo\n--- promptlint.toml\n[registry]\ndirs = [\"prompts\"]\nlockfile = \"prompts.lock\"\n--- prompts/a.md\nA.\n--- prompts/b.md\nB.\n";
    assert_eq!(run(case, "registry/unlocked-change").len(), 2);
}
