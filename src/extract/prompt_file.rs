//! Prompt files: Dotprompt, Prompty, Jinja, Mustache, Markdown and text.
//!
//! A prompt file is one prompt. YAML front matter (a `---` block on the first line) is not
//! prompt text: the prompt starts after it, and only its model name is kept. The body is copied
//! verbatim (one piece), so every prompt byte maps to the same file byte. Role markers become
//! `Role` segments: Prompty `system:` / `user:` / `assistant:` lines, Dotprompt
//! `{{role "system"}}` tags and Jinja `{% chat role="system" %}` blocks. Placeholders are found
//! by syntax: `{{ x }}`, `{{$x}}`, `{% for x in xs %}` and, in plain text and Markdown prompt
//! files, identifier-like `{x}`. This module does not render templates or resolve partials.

use crate::extract::PromptSpec;
use crate::lazy_regex::{Caseless, LazyRegex};
use crate::prompt::{
    Origin, Placeholder, PlaceholderSyntax, Prompt, PromptBuilder, PromptFormat, Volatility,
};
use crate::segment::{Role, Segment, SegmentKind};
use crate::source::SourceFile;
use crate::span::PromptSpan;

/// `{{ ... }}` / `{{{ ... }}}` tags, Jinja statements `{% ... %}` and comments `{# ... #}`.
static TAG: LazyRegex =
    LazyRegex::whole_texts(r"(?s)\{\{\{(.*?)\}\}\}|\{\{(.*?)\}\}|\{%-?(.*?)-?%\}|\{#.*?#\}");
/// A Prompty role marker alone on its line, in any letter case.
static PROMPTY_ROLE: Caseless =
    Caseless::whole_texts(r"(?m)^[ \t]*(system|user|assistant|developer)[ \t]*:[ \t]*\r?$");
/// Identifier-like single-brace placeholder (`{user_name}`, `{doc.title}`, `{x!r}`, `{n:>4}`).
static BRACE: LazyRegex = LazyRegex::whole_texts(
    r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)(?:![rsa])?(?::[^{}\n]{0,20})?\}",
);
static JINJA_FOR: LazyRegex =
    LazyRegex::fixed(r"^\s*for\s+[A-Za-z_][A-Za-z0-9_,\s]*?\s+in\s+(.+?)\s*$");
static ROLE_ARG: LazyRegex = LazyRegex::fixed(r#"role\s*=?\s*["']([A-Za-z]+)["']"#);
static ROLE_HELPER: LazyRegex = LazyRegex::fixed(r#"^\s*role\s+["']([A-Za-z]+)["']\s*$"#);

/// Handlebars/Dotprompt helpers that are not placeholders.
const HELPERS: &[&str] = &["role", "section", "media", "else", "log", "lookup"];

/// Extracts the prompt of one prompt file (`format` decided by `PromptSpec::classify`).
pub fn extract(file: &SourceFile, format: PromptFormat, spec: &PromptSpec) -> Vec<Prompt> {
    let text = file.text.as_str();
    let (body_start, model) = split_front_matter(text);
    let body = &text[body_start..];
    if body.trim().is_empty() {
        return Vec::new();
    }
    let mut b = PromptBuilder::new();
    b.push_verbatim(body, body_start);
    let instruction = spec
        .instruction_globs
        .is_match(file.path.trim_start_matches("./"));
    b.placeholders = placeholders(body, format, instruction);
    let mut prompt = b.into_prompt(Prompt::new(file.path.clone(), Origin::File, format, false));
    prompt.model = model;
    prompt.segments = roles(body, format);
    vec![prompt]
}

/// The byte offset where the body starts after a `---` front matter block, and the model it
/// names. No front matter: `(0, None)`.
pub fn split_front_matter(text: &str) -> (usize, Option<String>) {
    let first_end = text.find('\n').unwrap_or(text.len());
    if text[..first_end].trim_end() != "---" {
        return (0, None);
    }
    let mut offset = first_end + 1;
    while offset < text.len() {
        let end = text[offset..]
            .find('\n')
            .map(|i| offset + i + 1)
            .unwrap_or(text.len());
        let line = text[offset..end].trim_end();
        if line == "---" || line == "..." {
            let yaml = &text[first_end + 1..offset];
            // A lone `---` followed much later by another is a Markdown rule, not front matter:
            // require at least one `key:` line.
            if !yaml.lines().any(|l| {
                l.split_once(':')
                    .is_some_and(|(k, _)| !k.trim().is_empty() && !k.contains(' '))
            }) {
                return (0, None);
            }
            return (end, front_matter_model(yaml));
        }
        offset = end;
    }
    (0, None)
}

/// The model named in front matter: `model: name`, or a Prompty `model:` mapping's
/// configuration (`azure_deployment`, `deployment`, `name`, `model`).
fn front_matter_model(yaml: &str) -> Option<String> {
    let (docs, _) = crate::extract::yaml::parse_tree(yaml);
    crate::extract::yaml::model_name(docs.first()?.get("model")?)
}

/// Role segments marked in the body (prompt offsets).
fn roles(body: &str, format: PromptFormat) -> Vec<Segment> {
    // (role, content start, marker start)
    let mut marks: Vec<(Role, usize, usize)> = Vec::new();
    if matches!(format, PromptFormat::Prompty | PromptFormat::Jinja) {
        let (role_marker, hay) = PROMPTY_ROLE.on(body);
        for c in role_marker.captures_iter(&hay) {
            let (Some(m), Some(r)) = (c.get(0), c.get(1)) else {
                continue;
            };
            if let Some(role) = Role::parse(r.as_str()) {
                let content = body[m.end()..]
                    .strip_prefix('\n')
                    .map(|_| m.end() + 1)
                    .unwrap_or(m.end());
                marks.push((role, content, m.start()));
            }
        }
    }
    let mut open_chats = Vec::new();
    let mut blocks: Vec<(Role, usize, usize)> = Vec::new();
    for c in TAG.captures_iter(body) {
        let Some(m) = c.get(0) else { continue };
        if let Some(inner) = c.get(2) {
            if let Some(r) = ROLE_HELPER
                .captures(inner.as_str())
                .and_then(|r| Role::parse(r.get(1)?.as_str()))
            {
                marks.push((r, skip_newline(body, m.end()), m.start()));
            }
        } else if let Some(stmt) = c.get(3) {
            let s = stmt.as_str().trim();
            if let Some(rest) = s.strip_prefix("chat") {
                if let Some(role) = ROLE_ARG
                    .captures(rest)
                    .and_then(|r| Role::parse(r.get(1)?.as_str()))
                {
                    open_chats.push((role, skip_newline(body, m.end())));
                }
            } else if s == "endchat" {
                if let Some((role, start)) = open_chats.pop() {
                    blocks.push((role, start, m.start()));
                }
            }
        }
    }
    // Markers run to the next marker; Jinja chat blocks carry their own end.
    marks.sort_by_key(|m| m.2);
    let mut out = Vec::new();
    for (i, (role, start, _)) in marks.iter().enumerate() {
        let end = marks.get(i + 1).map(|n| n.2).unwrap_or(body.len());
        out.push(Segment::new(
            SegmentKind::Role { role: *role },
            PromptSpan::new(*start, end.max(*start)),
        ));
    }
    for (role, start, end) in blocks {
        out.push(Segment::new(
            SegmentKind::Role { role },
            PromptSpan::new(start, end.max(start)),
        ));
    }
    out.sort_by_key(|s| s.span.start);
    out
}

fn skip_newline(body: &str, at: usize) -> usize {
    if body[at..].starts_with("\r\n") {
        at + 2
    } else if body[at..].starts_with('\n') {
        at + 1
    } else {
        at
    }
}

fn placeholder(name: &str, syntax: PlaceholderSyntax, span: PromptSpan) -> Placeholder {
    Placeholder {
        name: name.to_string(),
        expr: None,
        resolved: None,
        syntax,
        volatility: Volatility::Unknown,
        span,
    }
}

/// Placeholders written in `body` (prompt offsets equal body offsets).
pub fn placeholders(body: &str, format: PromptFormat, instruction_file: bool) -> Vec<Placeholder> {
    let mut out = Vec::new();
    let mut tags: Vec<(usize, usize)> = Vec::new();
    for c in TAG.captures_iter(body) {
        let Some(m) = c.get(0) else { continue };
        tags.push((m.start(), m.end()));
        let span = PromptSpan::new(m.start(), m.end());
        if let Some(inner) = c.get(1).or_else(|| c.get(2)) {
            if let Some((name, syntax)) = tag_name(inner.as_str()) {
                out.push(placeholder(&name, syntax, span));
            }
        } else if let Some(stmt) = c.get(3) {
            if let Some(f) = JINJA_FOR.captures(stmt.as_str()) {
                let name = f
                    .get(1)
                    .map_or(String::new(), |g| strip_filters(g.as_str()));
                if !name.is_empty() {
                    out.push(placeholder(&name, PlaceholderSyntax::JinjaBlock, span));
                }
            }
        }
    }
    if matches!(format, PromptFormat::Text | PromptFormat::Markdown) && !instruction_file {
        for c in BRACE.captures_iter(body) {
            let (Some(m), Some(name)) = (c.get(0), c.get(1)) else {
                continue;
            };
            let doubled = body[..m.start()].ends_with('{') || body[m.end()..].starts_with('}');
            let in_tag = tags.iter().any(|(s, e)| m.start() < *e && *s < m.end());
            if !doubled && !in_tag {
                out.push(placeholder(
                    name.as_str(),
                    PlaceholderSyntax::Brace,
                    PromptSpan::new(m.start(), m.end()),
                ));
            }
        }
        out.sort_by_key(|p| p.span.start);
    }
    out
}

/// The placeholder named by the inside of a `{{ ... }}` tag, if it is one.
fn tag_name(inner: &str) -> Option<(String, PlaceholderSyntax)> {
    let t = inner
        .trim()
        .trim_start_matches('~')
        .trim_end_matches('~')
        .trim();
    if t.is_empty() || t.starts_with(['#', '/', '>', '!', '^']) {
        return None;
    }
    let t = t.strip_prefix('&').map(str::trim).unwrap_or(t);
    if let Some(rest) = t.strip_prefix('$') {
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        return (!name.is_empty()).then_some((name, PlaceholderSyntax::SemanticKernel));
    }
    let first = t.split_whitespace().next().unwrap_or("");
    if HELPERS.contains(&first) || first == "." || first == "this" || first.starts_with('@') {
        return None;
    }
    // Semantic Kernel function calls: `{{plugin.func $arg}}` fills from `$arg`.
    if let Some(arg) = t
        .split_whitespace()
        .skip(1)
        .find_map(|w| w.strip_prefix('$'))
    {
        let name: String = arg
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        return (!name.is_empty()).then_some((name, PlaceholderSyntax::SemanticKernel));
    }
    // `{{json x}}`: the argument is the slot.
    if first == "json" {
        let arg = t.split_whitespace().nth(1)?;
        return Some((arg.to_string(), PlaceholderSyntax::DoubleBrace));
    }
    let name = strip_filters(t);
    (!name.is_empty()).then_some((name, PlaceholderSyntax::DoubleBrace))
}

/// `name | upper` -> `name`.
fn strip_filters(expr: &str) -> String {
    let mut depth = 0i32;
    for (i, c) in expr.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            '|' if depth == 0 && !expr[i + 1..].starts_with('|') && !expr[..i].ends_with('|') => {
                return expr[..i].trim().to_string();
            }
            _ => {}
        }
    }
    expr.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileKind;

    fn spec() -> PromptSpec {
        PromptSpec::compile(&Default::default(), &[]).unwrap()
    }

    fn run(path: &str, format: PromptFormat, text: &str) -> Vec<Prompt> {
        let file = SourceFile::from_bytes(
            text.as_bytes().to_vec(),
            path.into(),
            path.into(),
            FileKind::PromptFile(format),
        )
        .unwrap();
        extract(&file, format, &spec())
    }

    fn names(p: &Prompt) -> Vec<(&str, PlaceholderSyntax)> {
        p.placeholders
            .iter()
            .map(|ph| (ph.name.as_str(), ph.syntax))
            .collect()
    }

    fn role_texts(p: &Prompt) -> Vec<(Role, &str)> {
        p.segments
            .iter()
            .filter_map(|s| match s.kind {
                SegmentKind::Role { role } => Some((role, p.text[s.span.start..s.span.end].trim())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn dotprompt_front_matter_roles_and_placeholders() {
        let src = "---\nmodel: googleai/gemini-1.5-flash\ninput:\n  schema:\n    name: string\n---\n{{role \"system\"}}\nYou are a travel agent.\n{{role \"user\"}}\nPlan a trip for {{ name | upper }}.\n{{history}}\n{{#if x}}{{> footer}}{{/if}}{{! note }}\n";
        let ps = run("trip.prompt", PromptFormat::Dotprompt, src);
        assert_eq!(ps.len(), 1);
        let p = &ps[0];
        assert_eq!(p.model.as_deref(), Some("googleai/gemini-1.5-flash"));
        assert!(p.text.starts_with("{{role"));
        let start = src.find("{{role").unwrap();
        assert_eq!(p.map.pieces()[0].file_start, start);
        assert_eq!(
            role_texts(p),
            vec![(Role::System, "You are a travel agent."), (Role::User, "Plan a trip for {{ name | upper }}.\n{{history}}\n{{#if x}}{{> footer}}{{/if}}{{! note }}")]
        );
        assert_eq!(
            names(p),
            vec![
                ("name", PlaceholderSyntax::DoubleBrace),
                ("history", PlaceholderSyntax::DoubleBrace)
            ]
        );
    }

    #[test]
    fn prompty_sections_and_model_configuration() {
        let src = "---\nname: Chat\nmodel:\n  api: chat\n  configuration:\n    type: azure_openai\n    azure_deployment: gpt-4o-mini\n  parameters:\n    max_tokens: 300\n---\nsystem:\nYou are helpful.\n{% for item in documents %}\n- {{item.title}}\n{% endfor %}\n\nuser:\n{{question}}\n";
        let p = &run("chat.prompty", PromptFormat::Prompty, src)[0];
        assert_eq!(p.model.as_deref(), Some("gpt-4o-mini"));
        let roles = role_texts(p);
        assert_eq!(roles.len(), 2);
        assert_eq!(roles[0].0, Role::System);
        assert!(roles[0].1.starts_with("You are helpful."));
        assert_eq!(roles[1], (Role::User, "{{question}}"));
        assert_eq!(
            names(p),
            vec![
                ("documents", PlaceholderSyntax::JinjaBlock),
                ("item.title", PlaceholderSyntax::DoubleBrace),
                ("question", PlaceholderSyntax::DoubleBrace)
            ]
        );
    }

    #[test]
    fn prompty_role_markers_in_any_letter_case() {
        let src = "---\nname: Chat\n---\nSystem:\nYou are helpful.\n\nUSER :\r\n{{question}}\nAssistant:\nDone.\nsystems:\n";
        let p = &run("chat.prompty", PromptFormat::Prompty, src)[0];
        assert_eq!(
            role_texts(p),
            vec![
                (Role::System, "You are helpful."),
                (Role::User, "{{question}}"),
                (Role::Assistant, "Done.\nsystems:")
            ]
        );
    }

    #[test]
    fn jinja_chat_blocks_and_comments() {
        let src = "{# promptlint: ignore #}\n{% chat role=\"system\" %}\nAnswer with {{ context_str }}.\n{% endchat %}\n{% chat role=\"user\" %}{{ query_str }}{% endchat %}\n";
        let p = &run("qa.j2", PromptFormat::Jinja, src)[0];
        assert_eq!(
            role_texts(p),
            vec![
                (Role::System, "Answer with {{ context_str }}."),
                (Role::User, "{{ query_str }}")
            ]
        );
        assert_eq!(
            names(p).iter().map(|n| n.0).collect::<Vec<_>>(),
            vec!["context_str", "query_str"]
        );
    }

    #[test]
    fn semantic_kernel_and_mustache() {
        let p = &run(
            "skills/Summarize/skprompt.txt",
            PromptFormat::Text,
            "Summarize this:\n{{$input}}\n{{ time.now }}\n{{search.find $query}}\n",
        )[0];
        assert_eq!(
            names(p),
            vec![
                ("input", PlaceholderSyntax::SemanticKernel),
                ("time.now", PlaceholderSyntax::DoubleBrace),
                ("query", PlaceholderSyntax::SemanticKernel)
            ]
        );
        let p = &run(
            "prompts/a.mustache",
            PromptFormat::Mustache,
            "{{#items}}{{name}}{{.}}{{@index}}{{/items}}{{^x}}none{{/x}}{{{raw}}}",
        )[0];
        assert_eq!(
            names(p).iter().map(|n| n.0).collect::<Vec<_>>(),
            vec!["name", "raw"]
        );
    }

    #[test]
    fn single_braces_only_identifier_like() {
        let p = &run(
            "prompts/summary.txt",
            PromptFormat::Text,
            "Hi {user_name}, reply as JSON {\"a\": 1} or {{escaped}} {doc.title} { spaced }",
        )[0];
        let n: Vec<_> = names(p)
            .into_iter()
            .filter(|n| n.1 == PlaceholderSyntax::Brace)
            .map(|n| n.0)
            .collect();
        assert_eq!(n, vec!["user_name", "doc.title"]);
    }

    #[test]
    fn instruction_files_have_no_brace_placeholders() {
        let p = &run(
            "AGENTS.md",
            PromptFormat::Markdown,
            "# Agents\nUse `format!(\"{name}\")`.\n",
        )[0];
        assert!(p.placeholders.is_empty());
        assert_eq!(p.text, "# Agents\nUse `format!(\"{name}\")`.\n");
    }

    #[test]
    fn markdown_front_matter_is_excluded_and_rules_are_not_front_matter() {
        let src = "---\ndescription: Rust rules\nglobs: \"*.rs\"\n---\nAlways run tests.\n";
        let p = &run(".cursor/rules/rust.mdc", PromptFormat::Markdown, src)[0];
        assert_eq!(p.text, "Always run tests.\n");
        assert_eq!(p.map.pieces()[0].file_start, src.find("Always").unwrap());
        let src = "---\n\nSome text\n\n---\nmore";
        assert_eq!(split_front_matter(src).0, 0);
        assert!(run(
            "prompts/empty.md",
            PromptFormat::Markdown,
            "---\nmodel: x\n---\n  \n"
        )
        .is_empty());
    }
}
