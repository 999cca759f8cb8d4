//! The `cache` pack: volatile content placed where provider prompt caches need stable bytes.
//!
//! Provider caches reuse an exact prefix: Anthropic up to each `cache_control` breakpoint,
//! OpenAI and Gemini the longest common prefix. The *cacheable prefix* of a prompt is therefore
//! the text up to its last explicit breakpoint when it has one, else up to the start of the
//! final user message when the prompt is a message list that ends with one (history and the
//! final turn are per request anyway), else the whole prompt. A placeholder is volatile when
//! `volatility.rs` says so (dates, ids, random, per-user data).
//!
//! Each prompt gets at most one finding, the first that applies of:
//! 1. `breakpoint-after-volatile`: volatile content before a `cache_control` breakpoint;
//! 2. `volatile-prefix`: volatile content followed, in its own message, by at least
//!    `[cache] min-static-chars` static characters of the prefix;
//! 3. `messages-order`: volatile content in an earlier message followed by at least that many
//!    static characters in later messages of the prefix;
//! 4. `unstable-serialization`: `json.dumps(...)` without `sort_keys=True` (or a `set`) in the
//!    prefix, followed by that much static text;
//! 5. `dynamic-before-static` (off by default): any non-static placeholder followed by that much.
//!
//! Static characters exclude placeholder text; tokens are estimated as characters / 4.

use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

use crate::kinds::{fill, Hit, RuleContext};
use crate::packs::Rule;
use crate::prompt::{Placeholder, Prompt, Volatility};
use crate::segment::{Role, SegmentKind};
use crate::span::PromptSpan;

/// Which of the pack's findings a rule reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    BreakpointAfterVolatile,
    VolatilePrefix,
    MessagesOrder,
    UnstableSerialization,
    DynamicBeforeStatic,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawParams {
    mode: Mode,
}

#[derive(Debug)]
pub struct CacheOrder {
    mode: Mode,
}

static UNSORTED_DUMPS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u:\b)json\s*\.\s*dumps\s*\(").expect("dumps regex"));
static SORT_KEYS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"sort_keys\s*=\s*True").expect("sort_keys regex"));
static SET_ITER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)(?:set|frozenset)\s*\(|\{[^{}:]+\}\s*$").expect("set regex")
});

/// What the analysis found for one prompt.
struct Finding {
    mode: Mode,
    at: PromptSpan,
    name: String,
    static_chars: usize,
}

impl CacheOrder {
    pub fn compile(params: Option<&toml::Table>) -> Result<CacheOrder, String> {
        let params = params.ok_or("the cache check needs `params.mode`")?;
        let p: RawParams = toml::Value::Table(params.clone())
            .try_into()
            .map_err(|e| format!("{e}"))?;
        Ok(CacheOrder { mode: p.mode })
    }

    pub fn run(&self, rule: &Rule, cx: &RuleContext<'_>) -> Vec<Hit> {
        let prompt = cx.prompt;
        if prompt.placeholders.is_empty() {
            return Vec::new();
        }
        let Some(f) = analyse(prompt, cx.settings.cache_min_static_chars.max(1), self.mode) else {
            return Vec::new();
        };
        if f.mode != self.mode {
            return Vec::new();
        }
        let chars = f.static_chars.to_string();
        let tokens = (f.static_chars / 4).to_string();
        let message = fill(
            &rule.message,
            &[
                ("name", f.name.as_str()),
                ("chars", chars.as_str()),
                ("tokens", tokens.as_str()),
            ],
        );
        vec![Hit::new(f.at, message)]
    }
}

/// End of the cacheable prefix (see the module docs).
fn prefix_end(prompt: &Prompt) -> usize {
    if let Some(&b) = prompt.cache_breakpoints.iter().max() {
        return b.min(prompt.text.len());
    }
    let roles: Vec<(Role, PromptSpan)> = prompt
        .segments
        .iter()
        .filter_map(|s| match s.kind {
            SegmentKind::Role { role } => Some((role, s.span)),
            _ => None,
        })
        .collect();
    match roles.last() {
        Some((Role::User, span)) if roles.len() > 1 => span.start,
        _ => prompt.text.len(),
    }
}

/// The role segment holding `at`, if any.
fn message_of(prompt: &Prompt, at: usize) -> Option<PromptSpan> {
    prompt.segments.iter().find_map(|s| match s.kind {
        SegmentKind::Role { .. } if s.span.start <= at && at < s.span.end.max(s.span.start + 1) => {
            Some(s.span)
        }
        _ => None,
    })
}

/// Characters of `[from, to)` that are not placeholder text.
fn static_chars(prompt: &Prompt, from: usize, to: usize) -> usize {
    if from >= to {
        return 0;
    }
    let text = &prompt.text;
    let mut covered: Vec<(usize, usize)> = prompt
        .placeholders
        .iter()
        .map(|p| (p.span.start.max(from), p.span.end.min(to)))
        .filter(|(a, b)| a < b)
        .collect();
    covered.sort();
    let mut count = 0;
    let mut at = from;
    for (a, b) in covered {
        if a > at {
            count += slice_chars(text, at, a);
        }
        at = at.max(b);
    }
    if at < to {
        count += slice_chars(text, at, to);
    }
    count
}

fn slice_chars(text: &str, a: usize, b: usize) -> usize {
    let a = crate::span::floor_char_boundary(text, a);
    let b = crate::span::floor_char_boundary(text, b);
    text[a..b].chars().count()
}

fn expr_of(p: &Placeholder) -> &str {
    p.expr.as_deref().unwrap_or(p.name.as_str())
}

fn unstable_serialization(p: &Placeholder) -> bool {
    let e = expr_of(p);
    (UNSORTED_DUMPS.is_match(e) && !SORT_KEYS.is_match(e)) || SET_ITER.is_match(e)
}

fn analyse(prompt: &Prompt, min: usize, wanted: Mode) -> Option<Finding> {
    let end = prefix_end(prompt);
    let mut placeholders: Vec<&Placeholder> = prompt
        .placeholders
        .iter()
        .filter(|p| p.span.start < end)
        .collect();
    placeholders.sort_by_key(|p| p.span.start);
    let volatile: Vec<&&Placeholder> = placeholders
        .iter()
        .filter(|p| p.volatility == Volatility::Volatile)
        .collect();
    let finding = |mode, p: &Placeholder, static_chars| Finding {
        mode,
        at: p.span,
        name: p.name.clone(),
        static_chars,
    };
    // 1. An explicit breakpoint after volatile content: that cache entry can never be read.
    if !prompt.cache_breakpoints.is_empty() {
        if let Some(p) = volatile.first() {
            return Some(finding(
                Mode::BreakpointAfterVolatile,
                p,
                static_chars(prompt, p.span.end, end),
            ));
        }
    }
    // 2./3. Volatile content before a long static remainder, in its own message or in later ones.
    for p in &volatile {
        let own_end = message_of(prompt, p.span.start)
            .map(|m| m.end.min(end))
            .unwrap_or(end);
        let own = static_chars(prompt, p.span.end, own_end);
        if own >= min {
            return Some(finding(Mode::VolatilePrefix, p, own));
        }
        let later = static_chars(prompt, own_end, end);
        if later >= min {
            return Some(finding(Mode::MessagesOrder, p, later));
        }
    }
    // 4. Non-deterministic serialisation in the prefix.
    for p in placeholders.iter().filter(|p| unstable_serialization(p)) {
        let rest = static_chars(prompt, p.span.end, end);
        if rest >= min {
            return Some(finding(Mode::UnstableSerialization, p, rest));
        }
    }
    // 5. Any other dynamic value before a long static remainder (opt-in, informational).
    if wanted == Mode::DynamicBeforeStatic {
        for p in placeholders
            .iter()
            .filter(|p| p.volatility == Volatility::Unknown)
        {
            let rest = static_chars(prompt, p.span.end, end);
            if rest >= min {
                return Some(finding(Mode::DynamicBeforeStatic, p, rest));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::{Origin, PlaceholderSyntax, PromptFormat};
    use crate::segment::Segment;

    fn prompt(text: &str, volatile: &[&str]) -> Prompt {
        let mut p = Prompt::new("t".into(), Origin::File, PromptFormat::Text, false);
        p.text = text.to_string();
        for name in volatile {
            let token = format!("{{{name}}}");
            if let Some(at) = text.find(&token) {
                p.placeholders.push(Placeholder {
                    name: name.to_string(),
                    expr: None,
                    resolved: None,
                    syntax: PlaceholderSyntax::Brace,
                    volatility: Volatility::Volatile,
                    span: PromptSpan::new(at, at + token.len()),
                });
            }
        }
        p
    }

    #[test]
    fn volatile_at_top_of_long_prompt() {
        let text = format!(
            "Today is {{date}}.\n{}",
            "Be helpful and precise. ".repeat(60)
        );
        let f = analyse(&prompt(&text, &["date"]), 1000, Mode::VolatilePrefix).unwrap();
        assert_eq!(f.mode, Mode::VolatilePrefix);
        assert!(f.static_chars > 1000);
    }

    #[test]
    fn volatile_at_end_is_fine() {
        let text = format!(
            "{}\nToday is {{date}}.",
            "Be helpful and precise. ".repeat(60)
        );
        assert!(analyse(&prompt(&text, &["date"]), 1000, Mode::VolatilePrefix).is_none());
    }

    #[test]
    fn short_prompts_are_fine() {
        assert!(analyse(
            &prompt("Today is {date}. Be brief.", &["date"]),
            1000,
            Mode::VolatilePrefix
        )
        .is_none());
    }

    #[test]
    fn final_user_turn_is_outside_the_prefix() {
        let sys = "Be helpful and precise. ".repeat(60);
        let text = format!("{sys}\n\nToday is {{date}}. {{question}}");
        let mut p = prompt(&text, &["date"]);
        let user = sys.len() + 2;
        p.segments = vec![
            Segment::new(
                SegmentKind::Role { role: Role::System },
                PromptSpan::new(0, sys.len()),
            ),
            Segment::new(
                SegmentKind::Role { role: Role::User },
                PromptSpan::new(user, text.len()),
            ),
        ];
        assert!(analyse(&p, 1000, Mode::VolatilePrefix).is_none());
    }

    #[test]
    fn dynamic_first_message_before_static_one() {
        let sys = "Be helpful and precise. ".repeat(60);
        let text = format!("Today is {{date}}.\n\n{sys}\n\nhi");
        let mut p = prompt(&text, &["date"]);
        let second = 20;
        p.segments = vec![
            Segment::new(
                SegmentKind::Role { role: Role::System },
                PromptSpan::new(0, 18),
            ),
            Segment::new(
                SegmentKind::Role { role: Role::System },
                PromptSpan::new(second, second + sys.len()),
            ),
            Segment::new(
                SegmentKind::Role { role: Role::User },
                PromptSpan::new(text.len() - 2, text.len()),
            ),
        ];
        assert_eq!(
            analyse(&p, 1000, Mode::MessagesOrder).unwrap().mode,
            Mode::MessagesOrder
        );
    }

    #[test]
    fn breakpoint_after_volatile() {
        let text = format!("Today is {{date}}. {}", "Rules. ".repeat(10));
        let mut p = prompt(&text, &["date"]);
        p.cache_breakpoints = vec![text.len()];
        assert_eq!(
            analyse(&p, 1000, Mode::BreakpointAfterVolatile)
                .unwrap()
                .mode,
            Mode::BreakpointAfterVolatile
        );
    }
}
