//! `registry/inline-prompt`: a prompt literal in source code when the project has a registry.
//!
//! Fires only when config declares `[registry]`, on inline prompts (`Prompt::inline`) that are
//! not fragments, not built around a loader call, long enough to be prompts (`min-chars` at a
//! call site, `min-chars-inferred` for a named constant, and `min-words` words of literal text,
//! placeholders excluded), outside `allow-paths` (tests, docs, examples, notebooks...) and
//! outside the registry dirs. One hit per prompt, at the first literal in the file (the engine
//! merges the hits of a constant and of the call that embeds it, since they map to the same
//! bytes). The message suggests a registry id from the file stem and the prompt's name.

use std::sync::{LazyLock, OnceLock};

use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::Regex;

use crate::kinds::{fill, Hit, RuleContext};
use crate::packs::Rule;
use crate::prompt::{Origin, Prompt};
use crate::segment::SegmentKind;
use crate::span::PromptSpan;

#[derive(Debug)]
pub struct InlinePrompt {
    min_chars: usize,
    min_chars_inferred: usize,
    min_words: usize,
    /// Words that make a literal a prompt even under the character floor.
    min_words_short: usize,
    /// `allow-paths`, checked at load and built into a set on first use: only runs with a
    /// registry configured use it, and building it costs a fifth of the start-up.
    allow_paths: Vec<Glob>,
    allow: OnceLock<Result<GlobSet, String>>,
    /// Name suffixes dropped when suggesting an id (`_prompt`, `_template`).
    suffixes: Vec<String>,
    /// Calls that write to a registry (`create_prompt`, `hub.push`): their text is the registry's.
    exempt_callees: Vec<String>,
    /// Names too generic to name a prompt (`prompt`, `messages`): the function's name is used.
    generic_names: Vec<String>,
}

fn usize_param(params: Option<&toml::Table>, key: &str, default: usize) -> Result<usize, String> {
    match params.and_then(|p| p.get(key)) {
        None => Ok(default),
        Some(v) => v
            .as_integer()
            .and_then(|i| usize::try_from(i).ok())
            .ok_or_else(|| format!("`{key}` must be a non-negative integer")),
    }
}

fn strings_param(params: Option<&toml::Table>, key: &str) -> Result<Vec<String>, String> {
    match params.and_then(|p| p.get(key)) {
        None => Ok(Vec::new()),
        Some(toml::Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("`{key}` must be a list of strings"))
            })
            .collect(),
        Some(_) => Err(format!("`{key}` must be a list of strings")),
    }
}

impl InlinePrompt {
    pub fn compile(params: Option<&toml::Table>) -> Result<Self, String> {
        let allow_paths = strings_param(params, "allow-paths")?
            .iter()
            .map(|g| Glob::new(g).map_err(|e| format!("`allow-paths`: invalid glob `{g}`: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(InlinePrompt {
            min_chars: usize_param(params, "min-chars", 20)?,
            min_chars_inferred: usize_param(params, "min-chars-inferred", 20)?,
            min_words: usize_param(params, "min-words", 3)?,
            min_words_short: usize_param(params, "min-words-short", 5)?,
            allow_paths,
            allow: OnceLock::new(),
            suffixes: strings_param(params, "suffixes")?,
            exempt_callees: strings_param(params, "exempt-callees")?,
            generic_names: strings_param(params, "generic-names")?,
        })
    }

    fn allow(&self) -> &Result<GlobSet, String> {
        self.allow.get_or_init(|| {
            let mut b = GlobSetBuilder::new();
            for g in &self.allow_paths {
                b.add(g.clone());
            }
            b.build().map_err(|e| format!("`allow-paths`: {e}"))
        })
    }

    /// Builds `allow-paths` now and reports a failure (for pack tests).
    pub fn force(&self) -> Result<(), String> {
        self.allow().as_ref().map(|_| ()).map_err(Clone::clone)
    }

    pub fn run(&self, rule: &Rule, cx: &RuleContext<'_>) -> Vec<Hit> {
        let Some(registry) = &cx.settings.registry else {
            return Vec::new();
        };
        let p = cx.prompt;
        if !p.inline || p.fragment || !p.loader_ids.is_empty() || p.map.pieces().is_empty() {
            return Vec::new();
        }
        let path = cx.file.path.as_str();
        // A set that cannot be built (`force` reports it) allows every path: silence over noise.
        let allowed = match self.allow() {
            Ok(allow) => allow.is_match(path),
            Err(_) => true,
        };
        if allowed || registry.dirs.iter().any(|d| under_dir(path, d)) {
            return Vec::new();
        }
        if let Origin::Call { callee, .. } = &p.origin {
            // The `fallback=` of a registry call is the registry's copy, not a bypass.
            if cx
                .settings
                .loaders
                .as_ref()
                .is_some_and(|l| l.family_of(callee).is_some())
                || self
                    .exempt_callees
                    .iter()
                    .any(|c| crate::extract::callee_matches(c, callee))
            {
                return Vec::new();
            }
        }
        let literal = literal_text(p);
        let chars = literal.chars().filter(|c| !c.is_whitespace()).count();
        let words = literal
            .split_whitespace()
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .count();
        let min = if matches!(p.origin, Origin::Call { .. }) {
            self.min_chars
        } else {
            self.min_chars_inferred
        };
        // Short but wordy templates (`"Tell me a {adjective} joke about {topic}."`) are prompts.
        if words < self.min_words || (chars < min && words < self.min_words_short) {
            return Vec::new();
        }
        let Some(span) = first_literal_line(p) else {
            return Vec::new();
        };
        let at = p.map.to_file(span).start;
        let id = suggest_id(
            p,
            path,
            &cx.file.text,
            at,
            &self.suffixes,
            &self.generic_names,
        );
        let dir = registry
            .dirs
            .first()
            .map(|d| d.trim_start_matches("./").trim_end_matches('/'))
            .filter(|d| !d.is_empty())
            .unwrap_or("prompts");
        let loader = registry
            .loaders
            .first()
            .map(String::as_str)
            .unwrap_or("load_prompt");
        let file = format!("{dir}/{id}.md");
        vec![Hit::new(
            span,
            fill(
                &rule.message,
                &[("path", &file), ("loader", loader), ("id", &id)],
            ),
        )]
    }
}

/// Whether `path` (display form) has the registry dir `dir` as a leading or inner component run.
fn under_dir(path: &str, dir: &str) -> bool {
    let dir = dir.trim_start_matches("./").trim_end_matches('/');
    !dir.is_empty() && (path.starts_with(&format!("{dir}/")) || path.contains(&format!("/{dir}/")))
}

/// The prompt text with placeholders removed (what is literally written in the source).
fn literal_text(p: &Prompt) -> String {
    let mut out = String::with_capacity(p.text.len());
    let mut at = 0;
    let mut spans: Vec<PromptSpan> = p.placeholders.iter().map(|ph| ph.span).collect();
    spans.sort();
    for s in spans {
        if s.start >= at {
            out.push_str(p.slice(PromptSpan::new(at, s.start)));
            out.push(' ');
            at = s.end;
        }
    }
    out.push_str(p.slice(PromptSpan::new(at, p.text.len())));
    out
}

/// The first line of the literal that starts earliest in the file, in prompt space.
fn first_literal_line(p: &Prompt) -> Option<PromptSpan> {
    // Not the source of a filled expression (`load_prompt("x")` spliced into an f-string).
    let literal = |pc: &&crate::prompt::Piece| {
        !p.placeholders.iter().any(|ph| {
            !ph.span.is_empty()
                && ph.span.start <= pc.prompt_start
                && pc.prompt_start + pc.prompt_len <= ph.span.end
        })
    };
    let wordy = |pc: &&crate::prompt::Piece| {
        p.slice(PromptSpan::new(
            pc.prompt_start,
            pc.prompt_start + pc.prompt_len,
        ))
        .chars()
        .any(char::is_alphanumeric)
    };
    let pieces = p.map.pieces();
    let piece = pieces
        .iter()
        .filter(literal)
        .filter(wordy)
        .min_by_key(|pc| pc.file_start)
        .or_else(|| pieces.iter().filter(literal).min_by_key(|pc| pc.file_start))?;
    let start = piece.prompt_start;
    let end = start + piece.prompt_len;
    let body = p.slice(PromptSpan::new(start, end));
    // Skip the newline right after `"""`, then stop at the end of that first text line.
    let lead = body.len() - body.trim_start_matches(['\n', '\r']).len();
    let line_end = body[lead..]
        .find(['\n', '\r'])
        .map(|i| lead + i)
        .unwrap_or(body.len());
    Some(PromptSpan::new(start, start + line_end.max(lead)))
}

fn kebab(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// `x = """` / `self.x: str = dedent("""` / `X = (` just before a literal.
static ASSIGNED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^[ \t]*(?:self\.)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*(?::[^=\n]*)?=[ \t]*(?:[A-Za-z_][A-Za-z0-9_.]*\([ \t]*)?\(?[ \t]*[rRfFuU]{0,2}(?:"""|'''|"|')?$"#)
        .expect("assignment regex")
});
static ENCLOSING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([ \t]*)(?:self\.)?([A-Za-z_][A-Za-z0-9_]*)(?:[ \t]*:[^=\n]*)?[ \t]+=[ \t]")
        .expect("enclosing regex")
});
static DEF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([ \t]*)(?:async[ \t]+)?def[ \t]+([A-Za-z_][A-Za-z0-9_]*)").expect("def regex")
});

/// The name a literal at byte `at` of `text` is bound to (`NAME = """...`), else the name of
/// the function around it: what a reader would call the prompt.
/// Names in `generic` (`prompt`, `messages`...) are skipped for the next candidate.
fn name_in_source(text: &str, at: usize, generic: &[String]) -> Option<String> {
    let useful = |n: &str| !generic.iter().any(|g| g.eq_ignore_ascii_case(n));
    let at = crate::span::floor_char_boundary(text, at);
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let mut before = text[..at].trim_end_matches(['"', '\'']).to_string();
    before.truncate(crate::span::floor_char_boundary(&before, before.len()));
    let head = &before[line_start.min(before.len())..];
    // `X = (` on the line above a parenthesized literal.
    let prev = if head.trim().is_empty() || head.trim_end().ends_with('(') {
        let p = text[..line_start.saturating_sub(1)]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        text.get(p..line_start.saturating_sub(1)).unwrap_or("")
    } else {
        ""
    };
    for cand in [head.trim_end_matches(['"', '\'']), prev.trim_end()] {
        if let Some(c) = ASSIGNED.captures(cand).filter(|c| useful(&c[1])) {
            return Some(c[1].to_string());
        }
    }
    // The statement around it: `agent = Agent(..., instructions="...")`, `CHAT = from_messages([`
    // on a line above, or the enclosing `def`. `name = ` needs spaces around `=` so keyword
    // arguments (`messages=[`) are not taken for assignments.
    if let Some(c) = ENCLOSING.captures(head).filter(|c| useful(&c[2])) {
        return Some(c[2].to_string());
    }
    let mut indent = head.len() - head.trim_start().len();
    let mut end = line_start;
    while end > 0 && indent > 0 {
        let start = text[..end - 1].rfind('\n').map_or(0, |i| i + 1);
        let line = &text[start..end - 1];
        let line_indent = line.len() - line.trim_start().len();
        if !line.trim().is_empty() && line_indent < indent {
            let named = DEF
                .captures(line)
                .or_else(|| ENCLOSING.captures(line).filter(|c| useful(&c[2])));
            if let Some(c) = named {
                return Some(c[2].to_string());
            }
            indent = line_indent;
        }
        end = start;
    }
    None
}

fn name_id(name: &str, suffixes: &[String]) -> String {
    let lower = name.trim_matches('_').to_ascii_lowercase();
    let cut = suffixes
        .iter()
        .find_map(|s| lower.strip_suffix(s.as_str()).filter(|r| !r.is_empty()));
    kebab(cut.unwrap_or(&lower))
}

/// `<file stem>/<name>`: `support_bot.py` + `TRIAGE_SYSTEM_PROMPT` -> `support-bot/triage-system`.
/// For a call, the name is the constant its first literal is bound to, else the enclosing
/// function, else the keyword or role.
pub fn suggest_id(
    p: &Prompt,
    path: &str,
    text: &str,
    at: usize,
    suffixes: &[String],
    generic: &[String],
) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = kebab(file.split('.').next().unwrap_or(file));
    let name = match &p.origin {
        // `Prompts.main_system` -> `main-system`.
        Origin::Assignment { name } | Origin::Key { key: name } => {
            name_id(name.rsplit('.').next().unwrap_or(name), suffixes)
        }
        Origin::Call { callee, keyword } => match (name_in_source(text, at, generic), keyword) {
            (Some(n), _) => name_id(&n, suffixes),
            (None, Some(k)) if !matches!(k.as_str(), "messages" | "input" | "contents") => kebab(k),
            _ => p
                .segments
                .iter()
                .find_map(|s| match s.kind {
                    SegmentKind::Role { role } => Some(role.name().to_string()),
                    _ => None,
                })
                .unwrap_or_else(|| kebab(callee.rsplit('.').next().unwrap_or(callee))),
        },
        Origin::File => String::new(),
    };
    match (stem.is_empty(), name.is_empty()) {
        (false, false) => format!("{stem}/{name}"),
        (false, true) => stem,
        (true, false) => name,
        (true, true) => "prompt".into(),
    }
}

#[cfg(test)]
mod tests;
