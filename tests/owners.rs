//! `promptlint owners`: the reviewers' report from a real git history and CODEOWNERS file.

mod common;
use common::Repo;

use serde_json::Value;
use sha2::{Digest, Sha256};

const EMAIL_EXAMPLE: &str = "\nExample 1:\nInput: Hi, this is Dana (dana.whitfield@northwind-mail.com), my order never arrived.\nOutput: category=shipping\n";

fn sha(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const CODEOWNERS: &str = "\
# Prompt reviewers own the prompt directory.
/prompts/ @acme/prompt-reviewers
*.j2 @acme/templates
# Legacy prompts have no owner.
/prompts/legacy.md
";

const SUPPORT_V1: &str = "You are a support agent for Northwind. Classify the ticket.\n";
const LEGACY: &str = "You are the old assistant. Answer in French.\n";
const MOVED: &str = "You summarise tickets in one sentence.\n";
const TEMPLATE: &str = "Greet {{ customer_name }} and mention order {{ order_id }}.\n";

fn scenario() -> Repo {
    let r = Repo::new();
    r.write(".github/CODEOWNERS", CODEOWNERS);
    r.write("prompts/support.md", SUPPORT_V1);
    r.write("prompts/legacy.md", LEGACY);
    r.write("prompts/old_name.md", MOVED);
    r.write("README.md", "not a prompt\n");
    r.git(&["add", "-A"]);
    r.git(&["commit", "-q", "-m", "base"]);
    // The change under review: one prompt edited (now with a real email), one removed, one
    // renamed, one added elsewhere, a non-prompt file edited.
    r.write(
        "prompts/support.md",
        &format!("{SUPPORT_V1}{EMAIL_EXAMPLE}"),
    );
    r.git(&["rm", "-q", "prompts/legacy.md"]);
    r.git(&["mv", "prompts/old_name.md", "prompts/new_name.md"]);
    r.write("templates/greeting.j2", TEMPLATE);
    r.write("README.md", "still not a prompt\n");
    r
}

#[test]
fn markdown_report_groups_by_owner_and_calls_out_unowned() {
    let r = scenario();
    let md = r.stdout(&["owners", "--base", "main"]);
    assert!(
        md.starts_with("## promptlint: prompt changes since `main`"),
        "{md}"
    );
    assert!(
        md.contains(
            "4 prompts changed: 1 added, 1 modified, 1 renamed, 1 removed · 1 finding · 1 unowned"
        ),
        "{md}"
    );
    let reviewers = md
        .find("### @acme/prompt-reviewers (2)")
        .unwrap_or_else(|| panic!("{md}"));
    let templates = md
        .find("### @acme/templates (1)")
        .unwrap_or_else(|| panic!("{md}"));
    let unowned = md
        .find("### ⚠️ Unowned (1)")
        .unwrap_or_else(|| panic!("{md}"));
    assert!(reviewers < templates && templates < unowned, "{md}");
    let section = |start: usize| {
        let rest = &md[start + 4..];
        &rest[..rest.find("\n### ").unwrap_or(rest.len())]
    };
    let rev = section(reviewers);
    assert!(
        rev.contains("**modified** `prompts/support.md` at `prompts/support.md:1-5`"),
        "{rev}"
    );
    assert!(rev.contains("error `pii/email-address` at line 4"), "{rev}");
    assert!(
        rev.contains("**renamed** `prompts/new_name.md`")
            && rev.contains("(was `prompts/old_name.md`)"),
        "{rev}"
    );
    assert!(
        section(templates)
            .contains("**added** `templates/greeting.j2` at `templates/greeting.j2:1`"),
        "{md}"
    );
    let un = section(unowned);
    assert!(
        un.contains("**removed** `prompts/legacy.md`") && un.contains("`.github/CODEOWNERS`"),
        "{un}"
    );
    assert!(un.contains("promptlint owners --suggest"), "{un}");
    assert!(!md.contains("README"), "non-prompt files are not listed");
    assert!(!md.contains("dana.whitfield"), "messages stay redacted");
}

#[test]
fn json_report_has_hashes_sizes_placeholders_and_owners() {
    let r = scenario();
    let v: Value =
        serde_json::from_str(&r.stdout(&["owners", "--base", "main", "--format", "json"])).unwrap();
    assert_eq!(v["base"], "main");
    assert_eq!(v["codeowners"], ".github/CODEOWNERS");
    let prompts = v["prompts"].as_array().unwrap();
    let get = |id: &str| {
        prompts
            .iter()
            .find(|p| p["id"] == id)
            .unwrap_or_else(|| panic!("{id} in {v}"))
    };
    let support = get("prompts/support.md");
    let new_support = format!("{SUPPORT_V1}{EMAIL_EXAMPLE}");
    assert_eq!(support["change"], "modified");
    assert_eq!(support["old_sha256"], sha(SUPPORT_V1));
    assert_eq!(support["new_sha256"], sha(&new_support));
    assert_eq!(
        support["size_change"],
        (new_support.chars().count() - SUPPORT_V1.chars().count()) as i64
    );
    assert_eq!(
        support["owners"],
        serde_json::json!(["@acme/prompt-reviewers"])
    );
    assert_eq!(support["owner_rule"], ".github/CODEOWNERS:2");
    assert_eq!(support["findings"][0]["rule"], "pii/email-address");
    assert_eq!(support["findings"][0]["line"], 4);

    let legacy = get("prompts/legacy.md");
    assert_eq!(legacy["change"], "removed");
    assert_eq!(legacy["old_sha256"], sha(LEGACY));
    assert!(legacy["new_sha256"].is_null());
    assert_eq!(legacy["size_change"], -(LEGACY.chars().count() as i64));
    assert_eq!(legacy["owners"], serde_json::json!([]));
    assert_eq!(
        legacy["owner_rule"], ".github/CODEOWNERS:5",
        "an owner-less line clears ownership"
    );

    let moved = get("prompts/new_name.md");
    assert_eq!(moved["change"], "renamed");
    assert_eq!(moved["old_path"], "prompts/old_name.md");
    assert_eq!(moved["old_sha256"], moved["new_sha256"]);

    let tpl = get("templates/greeting.j2");
    assert_eq!(tpl["change"], "added");
    assert_eq!(tpl["owners"], serde_json::json!(["@acme/templates"]));
    assert!(tpl["old_sha256"].is_null());
    // Placeholders come from the extractor; when it reports them, they show as added.
    let inv: Value = serde_json::from_str(&r.stdout(&["prompts", "--format", "json"])).unwrap();
    let inv_tpl = inv["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["path"] == "templates/greeting.j2")
        .unwrap()
        .clone();
    assert_eq!(tpl["placeholders_added"], inv_tpl["placeholders"]);
    assert_eq!(tpl["placeholders_removed"], serde_json::json!([]));

    assert_eq!(v["unowned"], serde_json::json!(["prompts/legacy.md"]));
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 3);
    assert_eq!(groups[2]["owners"], serde_json::json!([]));
}

#[test]
fn nothing_changed_and_no_codeowners() {
    let r = Repo::new();
    r.write("prompts/a.md", "You are concise.\n");
    r.git(&["add", "-A"]);
    r.git(&["commit", "-q", "-m", "base"]);
    let md = r.stdout(&["owners", "--base", "HEAD"]);
    assert!(
        md.contains("No prompts were added, modified or removed."),
        "{md}"
    );
    r.write("prompts/a.md", "You are very concise.\n");
    let md = r.stdout(&["owners", "--base", "HEAD"]);
    assert!(
        md.contains("### ⚠️ Unowned (1)") && md.contains("no CODEOWNERS file"),
        "{md}"
    );
}

#[test]
fn suggest_prints_codeowners_lines_for_uncovered_prompt_files() {
    let r = scenario();
    r.write(
        "src/agents/prompts/triage.md",
        "You triage incoming tickets.\n",
    );
    r.write("docs/guide.md", "Just documentation, not a prompt.\n");
    let out = r.stdout(&["owners", "--suggest", "@acme/ml"]);
    let lines: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines, ["/src/agents/prompts/triage.md @acme/ml"], "{out}");
    // Appending the suggestion leaves nothing to suggest.
    let co = std::fs::read_to_string(r.root.join(".github/CODEOWNERS")).unwrap();
    r.write(".github/CODEOWNERS", &format!("{co}{out}"));
    let again = r.stdout(&["owners", "--suggest", "@acme/ml"]);
    assert!(again.trim().is_empty(), "{again}");
}

#[test]
fn bad_arguments_are_exit_2() {
    let r = scenario();
    let o = r.run(&["owners", "--base", "no-such-rev"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown git revision `no-such-rev`"));
    assert_eq!(r.run(&["owners"]).status.code(), Some(2));
    assert_eq!(
        r.run(&["owners", "--base", "main", "--suggest", "@x"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        r.run(&["owners", "--suggest", "two words"]).status.code(),
        Some(2)
    );
}

#[test]
fn config_excludes_apply() {
    let r = scenario();
    r.write("promptlint.toml", "[files]\nexclude = [\"templates/**\"]\n");
    let v: Value =
        serde_json::from_str(&r.stdout(&["owners", "--base", "main", "--format", "json"])).unwrap();
    let ids: Vec<&str> = v["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"templates/greeting.j2"), "{ids:?}");
    assert!(ids.contains(&"prompts/support.md"), "{ids:?}");
}
