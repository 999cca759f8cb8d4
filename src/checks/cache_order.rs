//! `cache/*`: content that changes per request placed ahead of the static text that provider
//! prompt caches could reuse.
//!
//! Provider caches reuse an exact prefix only (Anthropic: tools, system, messages, byte for byte
//! up to a `cache_control` breakpoint; OpenAI: the longest common prefix of 1,024+ tokens), so
//! one volatile byte early in the prompt makes everything after it a full-price miss.
//!
//! The analysis (`analyze`) runs once per prompt and yields at most one finding, at the first
//! cache-breaking element: a placeholder whose volatility (`src/volatility.rs`) is volatile, or
//! an unstable serialisation (`json.dumps` without `sort_keys=True`, a set iterated into text,
//! see `cache_serial.rs`). Each of the five rules runs the same analysis and reports only the
//! outcome that is its own, so the rules are exclusive.
//!
//! The *cacheable prefix* ends at the last `cache_control` breakpoint when the prompt has one;
//! otherwise at the start of the last user message (history and the final user turn are per
//! request anyway); for a prompt with no roles, at its end. A prompt with no roles whose name
//! says it is the user turn (`USER_PROMPT`, `human_template`), or that holds the user's own
//! input after the volatile value (`... {question}`), has no cacheable prefix. The *static remainder* of
//! an element is the text after it within the cacheable prefix, other placeholders excluded;
//! it must reach `[cache] min-static-chars` (tokens are estimated as characters / 4).
//!
//! A prompt-returning function's return values are alternatives: each is measured on its own.
//! A placeholder filled by a string constant of the module (`f"{date}\n{BASE_PROMPT}"`) counts
//! as that constant's text; one of unknown volatility filled through same-module helpers is
//! volatile when a helper up to three levels down calls a volatile function. A breakpoint on a
//! system block that is an unseen constant (`HANDBOOK` imported) counts as long enough.
//!
//! A named constant that a call site in the same file sends as a message is judged at the call
//! site, where its role is known (a date in a constant used as the user message is fine).
//! Not done: following prompts across modules (a template sent as the user message elsewhere
//! still counts whole), or values the source does not show.

use std::hash::{Hash, Hasher};
use std::sync::LazyLock;

use regex::Regex;

use crate::lazy_regex::{lazy_any_of, LazyRegex};
use serde::Deserialize;

use super::cache_serial::Serial;
use super::{key_hasher, LastResult};
use crate::kinds::{fill, Hit, RuleContext};
use crate::packs::builtin;
use crate::packs::Rule;
use crate::prompt::{Origin, Placeholder, PlaceholderSyntax, Prompt, Volatility};
use crate::segment::{Role, SegmentKind};
use crate::span::PromptSpan;
use crate::volatility::VolatilitySpec;

/// Which outcome of the analysis a rule reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    VolatilePrefix,
    MessagesOrder,
    BreakpointAfterVolatile,
    UnstableSerialization,
    DynamicBeforeStatic,
}

/// `[data]` of rules/cache.toml.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawData {
    /// Names (of a constant, a YAML key, a file stem) of prompts that are the user turn.
    user_turn_names: Vec<String>,
    /// Placeholder names that carry the user's own input (`{question}`, `{query}`).
    user_input_names: Vec<String>,
    /// Serialisation calls whose key order is insertion order.
    serialize_calls: Vec<String>,
    /// Arguments or wrappers that make a serialisation deterministic.
    stable_markers: Vec<String>,
    /// Expressions that build a set.
    set_builders: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct FileView {
    data: RawData,
}

/// Compiled pack data shared by the cache checks.
#[derive(Debug)]
pub struct CacheData {
    user_turn_names: LazyRegex,
    user_input_names: LazyRegex,
    pub(super) serial: Serial,
    volatility: &'static VolatilitySpec,
}

static CALLED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u:\b)([A-Za-z_][A-Za-z0-9_]*)\s*\(").expect("call regex"));

impl CacheData {
    /// A placeholder of unknown volatility filled through helpers of the same module: the
    /// extractor resolves one level (`stamp()` -> `def stamp(): return _clock()...`); this
    /// follows the helpers that definition calls, two more levels deep.
    fn calls_volatile_helper(&self, ph: &Placeholder, file_text: &str) -> bool {
        if ph.volatility != Volatility::Unknown {
            return false;
        }
        let Some(start) = ph.resolved.as_deref().or(ph.expr.as_deref()) else {
            return false;
        };
        let mut frontier = vec![start.to_string()];
        for _ in 0..2 {
            let mut next = Vec::new();
            for src in &frontier {
                for c in CALLED.captures_iter(src) {
                    let Some(name) = c.get(1).map(|m| m.as_str()) else {
                        continue;
                    };
                    if let Some(body) = def_source(file_text, name) {
                        if self.volatility.expression_is_volatile(body) {
                            return true;
                        }
                        next.push(body.to_string());
                    }
                }
            }
            frontier = next;
        }
        false
    }
}

/// The source of `def name(...)` in `text`: its header line and the indented lines after it.
fn def_source<'t>(text: &'t str, name: &str) -> Option<&'t str> {
    let at = text
        .match_indices(name)
        .find(|(i, _)| text[..*i].ends_with("def ") && text[i + name.len()..].starts_with('('))?
        .0;
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let indent = text[line_start..at].len() - text[line_start..at].trim_start().len();
    let mut end = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
    while end < text.len() {
        let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
        let line = &text[end..line_end];
        let ind = line.len() - line.trim_start().len();
        if !line.trim().is_empty() && ind <= indent {
            break;
        }
        end = line_end;
    }
    Some(&text[line_start..end])
}

static DATA: LazyLock<Result<CacheData, String>> = LazyLock::new(|| {
    let view: FileView = builtin::CACHE.parse()?;
    let d = view.data;
    Ok(CacheData {
        volatility: VolatilitySpec::builtin()?,
        user_turn_names: lazy_any_of(&d.user_turn_names),
        user_input_names: lazy_any_of(&d.user_input_names),
        serial: Serial {
            calls: lazy_any_of(&d.serialize_calls),
            stable: lazy_any_of(&d.stable_markers),
            set_builders: lazy_any_of(&d.set_builders),
        },
    })
});

/// One cache rule: reports the analysis outcome named by its `outcome` parameter.
#[derive(Debug)]
pub struct CacheOrder {
    outcome: Outcome,
}

impl CacheOrder {
    pub fn compile(params: Option<&toml::Table>) -> Result<Self, String> {
        let outcome = params
            .and_then(|p| p.get("outcome"))
            .ok_or("`outcome` is required")?
            .clone()
            .try_into::<Outcome>()
            .map_err(|e| format!("`outcome`: {e}"))?;
        DATA.as_ref().map_err(Clone::clone)?;
        Ok(CacheOrder { outcome })
    }

    /// Builds the pack data's regexes now and reports a failure (for pack tests).
    pub fn force(&self) -> Result<(), String> {
        let d = DATA.as_ref().map_err(Clone::clone)?;
        d.volatility.force()?;
        [
            &d.user_turn_names,
            &d.user_input_names,
            &d.serial.calls,
            &d.serial.stable,
            &d.serial.set_builders,
        ]
        .into_iter()
        .try_for_each(LazyRegex::force)
    }

    pub fn run(&self, rule: &Rule, cx: &RuleContext<'_>) -> Vec<Hit> {
        let Ok(data) = DATA.as_ref() else {
            return Vec::new();
        };
        let min = cx.settings.cache_min_static_chars.max(1);
        let (p, text, all) = (cx.prompt, cx.file.text.as_str(), cx.file_prompts);
        if p.placeholders.is_empty() {
            return Vec::new();
        }
        let key = analysis_key(p, text, all, min);
        let analysis = LAST.with(|last| last.get_or(key, || analyze(p, text, all, min, data)));
        let Some(a) = analysis else {
            return Vec::new();
        };
        if a.outcome != self.outcome {
            return Vec::new();
        }
        let ph = &p.placeholders[a.index];
        let chars = thousands(a.chars);
        let tokens = thousands(a.chars.div_ceil(4));
        let message = fill(
            &rule.message,
            &[
                ("what", &describe(p, ph)),
                ("chars", &chars),
                ("tokens", &tokens),
                ("block", a.block_word),
            ],
        );
        let mut hit = Hit::new(ph.span, message);
        if evaluated_at_import(p, ph, &cx.file.text) {
            // Still a prefix that differs between processes started at different times.
            hit.help = Some(format!(
                "this module-level f-string runs once, at import: the value is fixed per process and goes stale; {}",
                rule.help.as_deref().unwrap_or("build the prompt per request, with the volatile part last")
            ));
        }
        vec![hit]
    }
}

/// The result of analysing one prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    pub outcome: Outcome,
    /// Index into `prompt.placeholders` of the reported element.
    pub index: usize,
    /// Static characters after it that the cache can never reuse.
    pub chars: usize,
    /// "message" or "block": what the reported element sits in.
    pub block_word: &'static str,
}

thread_local! {
    /// The analysis of the last prompt analysed on this thread.
    static LAST: LastResult<Option<Analysis>> = const { LastResult::new() };
}

/// What the analysis reads of a prompt (where it starts in the file, its text and
/// placeholders) and of its file (the id names it), hashed.
fn analysis_key(p: &Prompt, file_text: &str, file_prompts: &[Prompt], min: usize) -> u64 {
    let mut h = key_hasher();
    let start = p.map.pieces().first().map(|pc| pc.file_start);
    (p.text.as_str(), &p.id, start).hash(&mut h);
    for ph in &p.placeholders {
        let span = (ph.span.start, ph.span.end);
        (span, &ph.expr, &ph.resolved, ph.volatility as u8).hash(&mut h);
    }
    (&p.cache_breakpoints, p.segments.len()).hash(&mut h);
    (file_text.len(), file_prompts.len(), min).hash(&mut h);
    h.finish()
}

/// The first cache-breaking element of `p`, if its static remainder is long enough.
pub fn analyze(
    p: &Prompt,
    file_text: &str,
    file_prompts: &[Prompt],
    min: usize,
    data: &CacheData,
) -> Option<Analysis> {
    if p.placeholders.is_empty() {
        return None;
    }
    let roles: Vec<(Role, PromptSpan)> = p
        .segments
        .iter()
        .filter_map(|s| match s.kind {
            SegmentKind::Role { role } => Some((role, s.span)),
            _ => None,
        })
        .collect();
    if roles.is_empty() && is_user_turn(p, data) {
        return None;
    }
    let has_bp = !p.cache_breakpoints.is_empty();
    let prefix_end = if has_bp {
        p.cache_breakpoints.iter().copied().max().unwrap_or(0)
    } else {
        roles
            .iter()
            .rev()
            .find(|(r, _)| *r == Role::User)
            .map(|(_, s)| s.start)
            .unwrap_or(p.text.len())
    }
    .min(p.text.len());
    // A prompt-returning function joins its return values: alternatives, not a sequence.
    let alternatives = roles.is_empty() && returns_of_function(p, file_text);
    let split_gaps = !roles.is_empty() || has_bp || alternatives;
    let bounds = block_bounds(p, &roles, prefix_end, split_gaps);
    let mut order: Vec<usize> = (0..p.placeholders.len())
        .filter(|&i| p.placeholders[i].span.start < prefix_end)
        .collect();
    order.sort_by_key(|&i| p.placeholders[i].span.start);
    let block_word = if has_bp { "block" } else { "message" };

    let first_bad = order.iter().copied().find_map(|i| {
        let ph = &p.placeholders[i];
        if ph.volatility == Volatility::Volatile || data.calls_volatile_helper(ph, file_text) {
            Some((i, false))
        } else if data.serial.is_unstable(ph, file_text) {
            Some((i, true))
        } else {
            None
        }
    });
    if let Some((i, unstable)) = first_bad {
        let ph = &p.placeholders[i];
        if deferred(p, ph, file_prompts) || carries_user_input_after(p, ph, &roles, data) {
            return None;
        }
        let (bs, be) = block_of(&bounds, ph.span.start);
        let end = if alternatives { be } else { prefix_end };
        let rem = static_chars(p, ph.span.end, end);
        let outcome = if unstable {
            (rem >= min).then_some(Outcome::UnstableSerialization)
        } else if has_bp {
            (rem >= min || opaque_cached_block(p, &bounds, &roles, ph.span.end))
                .then_some(Outcome::BreakpointAfterVolatile)
        } else if rem >= min {
            let own = static_chars(p, ph.span.end, be);
            let later_static = rem - own > 0 && be < end;
            let leads_block = p
                .slice(PromptSpan::new(bs, ph.span.start))
                .trim()
                .is_empty()
                && (ph.syntax == PlaceholderSyntax::Expression
                    || (ph.syntax == PlaceholderSyntax::FString
                        && !ph.expr.as_deref().unwrap_or(&ph.name).contains('(')
                        && p.slice(PromptSpan::new(ph.span.end, be))
                            .split('\n')
                            .next()
                            .is_some_and(|rest| rest.trim().is_empty())));
            if own < min && later_static {
                Some(Outcome::MessagesOrder)
            } else if leads_block {
                // `tenant.override + BASE_PROMPT`: a volatile part concatenated first.
                return Some(Analysis {
                    outcome: Outcome::MessagesOrder,
                    index: i,
                    chars: rem,
                    block_word: "part",
                });
            } else {
                Some(Outcome::VolatilePrefix)
            }
        } else {
            None
        };
        return outcome.map(|outcome| Analysis {
            outcome,
            index: i,
            chars: rem,
            block_word,
        });
    }
    // No volatile element: any placeholder ahead of a long static remainder (off by default).
    let i = order.first().copied()?;
    let ph = &p.placeholders[i];
    if deferred(p, ph, file_prompts) {
        return None;
    }
    let end = if alternatives {
        block_of(&bounds, ph.span.start).1
    } else {
        prefix_end
    };
    let rem = static_chars(p, ph.span.end, end);
    (rem >= min).then_some(Analysis {
        outcome: Outcome::DynamicBeforeStatic,
        index: i,
        chars: rem,
        block_word,
    })
}

/// A prompt with no roles whose name says it is the user turn.
fn is_user_turn(p: &Prompt, data: &CacheData) -> bool {
    let name = match &p.origin {
        Origin::Assignment { name } => name.rsplit('.').next().unwrap_or(name),
        Origin::Key { key } => key.rsplit(['.', '/']).next().unwrap_or(key),
        Origin::File => {
            let file = p.id.rsplit('/').next().unwrap_or(&p.id);
            file.split('.').next().unwrap_or(file)
        }
        Origin::Call { .. } => return false,
    };
    data.user_turn_names.is_match(name)
}

/// A prompt with no roles that holds the user's own input (`{question}`) after `ph`: a
/// one-shot template sent as the user message, where per-request values belong.
fn carries_user_input_after(
    p: &Prompt,
    ph: &Placeholder,
    roles: &[(Role, PromptSpan)],
    data: &CacheData,
) -> bool {
    roles.is_empty()
        && p.placeholders.iter().any(|o| {
            o.span.start >= ph.span.end
                && o.volatility != Volatility::Volatile
                && [Some(o.name.as_str()), o.expr.as_deref()]
                    .into_iter()
                    .flatten()
                    .any(|n| data.user_input_names.is_match(n.trim()))
        })
}

/// Block boundaries within `[0, prefix_end]`: message starts and ends, and the separators the
/// extractor put between content blocks (unmapped blank runs).
fn block_bounds(
    p: &Prompt,
    roles: &[(Role, PromptSpan)],
    prefix_end: usize,
    split_gaps: bool,
) -> Vec<usize> {
    let mut b = vec![0, prefix_end];
    for (_, s) in roles {
        b.push(s.start);
        b.push(s.end);
    }
    if !split_gaps {
        b.retain(|&x| x <= prefix_end);
        b.sort_unstable();
        b.dedup();
        return b;
    }
    let mut at = 0;
    let in_placeholder = |x: usize| {
        p.placeholders
            .iter()
            .any(|ph| ph.span.start <= x && x < ph.span.end)
    };
    let gap = |from: usize, to: usize, b: &mut Vec<usize>| {
        if to > from
            && !in_placeholder(from)
            && p.slice(PromptSpan::new(from, to)).contains("\n\n")
            && p.slice(PromptSpan::new(from, to)).trim().is_empty()
        {
            b.push(to);
        }
    };
    for pc in p.map.pieces() {
        gap(at, pc.prompt_start, &mut b);
        at = pc.prompt_start + pc.prompt_len;
    }
    b.retain(|&x| x <= prefix_end);
    b.sort_unstable();
    b.dedup();
    b
}

/// Whether `p` is the return values of a function (`Origin::Assignment` named after a `def`).
fn returns_of_function(p: &Prompt, file_text: &str) -> bool {
    let Origin::Assignment { name } = &p.origin else {
        return false;
    };
    let last = name.rsplit('.').next().unwrap_or(name);
    // `def <name>(` as one substring: a search for the bare name stopped at every use of it.
    !last.is_empty() && file_text.contains(&format!("def {last}("))
}

/// Whether `p` is a module-level constant whose f-string fields run once, at import.
fn evaluated_at_import(p: &Prompt, ph: &Placeholder, file_text: &str) -> bool {
    let Origin::Assignment { name } = &p.origin else {
        return false;
    };
    if ph.syntax != PlaceholderSyntax::FString || name.contains('.') {
        return false;
    }
    file_text.match_indices(name.as_str()).any(|(i, _)| {
        (i == 0 || file_text.as_bytes()[i - 1] == b'\n')
            && file_text[i + name.len()..]
                .trim_start_matches([' ', '\t'])
                .starts_with(['=', ':'])
    })
}

/// The block `[start, end)` holding `at`.
fn block_of(bounds: &[usize], at: usize) -> (usize, usize) {
    let i = bounds.partition_point(|&b| b <= at);
    let start = if i == 0 { 0 } else { bounds[i - 1] };
    let end = bounds.get(i).copied().unwrap_or(start);
    (start, end)
}

/// Characters in `[from, to)` outside every placeholder, plus the text of non-volatile
/// placeholders filled by a string constant of the module (`f"{date}\n{BASE_PROMPT}"`).
pub fn static_chars(p: &Prompt, from: usize, to: usize) -> usize {
    if from >= to {
        return 0;
    }
    let inside: Vec<&Placeholder> = p
        .placeholders
        .iter()
        .filter(|ph| ph.span.end > from && ph.span.start < to)
        .collect();
    let mut n: usize = inside
        .iter()
        .filter(|ph| ph.span.start >= from && ph.volatility != Volatility::Volatile)
        .map(|ph| constant_len(ph.resolved.as_deref()))
        .sum();
    let mut spans: Vec<PromptSpan> = inside.iter().map(|ph| ph.span).collect();
    spans.sort();
    let mut at = from;
    for s in spans {
        if s.start > at {
            n += p.slice(PromptSpan::new(at, s.start)).chars().count();
        }
        at = at.max(s.end);
    }
    if to > at {
        n += p.slice(PromptSpan::new(at, to)).chars().count();
    }
    n
}

static STRING_CONSTANT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?s)^\s*[A-Za-z_][A-Za-z0-9_.]*\s*(?::[^=\n]*)?=\s*[rRuU]?(\"\"\"|'''|"|')(.*)$"#)
        .expect("string constant regex")
});

/// The length of a string constant's text from its definition (`NAME = """..."""`), 0 for
/// anything else (an f-string, a call, a concatenation).
fn constant_len(resolved: Option<&str>) -> usize {
    let Some(src) = resolved else { return 0 };
    let Some(c) = STRING_CONSTANT.captures(src) else {
        return 0;
    };
    let (Some(q), Some(body)) = (c.get(1), c.get(2)) else {
        return 0;
    };
    let Some(body) = body.as_str().trim_end().strip_suffix(q.as_str()) else {
        return 0;
    };
    // One literal only: the closing quote must not appear inside (no `"a" + x + "b"`).
    if body.contains(q.as_str()) || (q.as_str().len() == 1 && body.contains('\n')) {
        return 0;
    }
    body.chars().count()
}

/// A system block after `from` that ends at a breakpoint and holds nothing but a non-volatile
/// placeholder (a constant imported from elsewhere): an explicit `cache_control` on it says it
/// is long enough to cache.
fn opaque_cached_block(
    p: &Prompt,
    bounds: &[usize],
    roles: &[(Role, PromptSpan)],
    from: usize,
) -> bool {
    p.cache_breakpoints.iter().any(|&bp| {
        let (bs, _) = block_of(bounds, bp.saturating_sub(1));
        // Only system blocks: a breakpoint on a user turn caches the conversation so far.
        let in_system = roles.is_empty()
            || roles
                .iter()
                .any(|(r, s)| r.is_instruction() && s.start <= bs && bs < s.end.max(s.start + 1));
        in_system
            && bs >= from
            && static_chars(p, bs, bp) <= 2
            && p.placeholders.iter().any(|ph| {
                ph.span.start >= bs
                    && ph.span.end <= bp
                    && ph.volatility != Volatility::Volatile
                    && ph.syntax == PlaceholderSyntax::Expression
            })
    })
}

/// A constant judged where it is used: another prompt of the file with roles (a call site)
/// holds the element's bytes.
fn deferred(p: &Prompt, ph: &Placeholder, file_prompts: &[Prompt]) -> bool {
    if !matches!(p.origin, Origin::Assignment { .. }) {
        return false;
    }
    let fs = p.map.to_file(ph.span);
    file_prompts.iter().any(|o| {
        o.id != p.id
            && matches!(o.origin, Origin::Call { .. })
            && o.segments
                .iter()
                .any(|s| matches!(s.kind, SegmentKind::Role { .. }))
            && o.map.pieces().iter().any(|pc| {
                pc.file_start < fs.end.max(fs.start + 1) && fs.start < pc.file_start + pc.file_len
            })
    })
}

/// "`{today}` (datetime.now())": the placeholder as written, and its filling expression.
fn describe(p: &Prompt, ph: &Placeholder) -> String {
    let written = short(p.slice(ph.span).trim());
    match ph.expr.as_deref().map(str::trim) {
        Some(e) if !written.contains(e) => format!("`{written}` (`{}`)", short(e)),
        _ => format!("`{written}`"),
    }
}

fn short(s: &str) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 60 {
        let cut: String = one_line.chars().take(57).collect();
        format!("{cut}...")
    } else {
        one_line
    }
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
