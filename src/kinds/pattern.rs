//! `kind = "pattern"`: a regex over prompt text, filtered by allowlists, validators and cues.
//!
//! The pipeline per match: take the reported part (group `value`, else group 1, else the whole
//! match); drop it when it overlaps a placeholder (`{email}`), is inside an excluded scope, hits
//! an allow regex, stopword or user allow value, fails a validator, or lacks a required cue in
//! its context window. What survives is masked before it reaches any message.
//!
//! Numbers need more than one regex can say: `allow-normalized` matches reserved ranges on the
//! value without separators, `context-optional-if` lets an unambiguous shape (`415-867-2341`)
//! skip the cue that looser shapes need, and `prefix-deny` rejects a value right after a label
//! that makes it something else (`Order #`, `version`).

use crate::lazy_regex::LazyRegex;

use super::{fill, Hit, RuleContext, Secret};
use crate::packs::{Rule, Scope, Severity};
use crate::redact::Redact;
use crate::segment::SegmentQuery;
use crate::span::{ceil_char_boundary, floor_char_boundary, PromptSpan};
use crate::validate::Validator;

#[derive(Debug)]
pub struct PatternMatcher {
    pub regex: LazyRegex,
    pub validators: Vec<Validator>,
    pub allow: Option<LazyRegex>,
    pub stopwords: Vec<String>,
    pub context: Option<LazyRegex>,
    pub context_deny: Option<LazyRegex>,
    pub context_window: usize,
    pub redact: Redact,
    pub test_values: Vec<String>,
    pub test_value_severity: Option<Severity>,
    pub outside_examples_allow: Vec<String>,
    pub allow_normalized: Option<LazyRegex>,
    pub context_optional_if: Option<LazyRegex>,
    pub prefix_deny: Option<LazyRegex>,
}

impl PatternMatcher {
    /// Builds every regex now (see `Matcher::force`).
    pub fn force(&self) -> Result<(), String> {
        let optional = [
            &self.allow,
            &self.context,
            &self.context_deny,
            &self.allow_normalized,
            &self.context_optional_if,
            &self.prefix_deny,
        ];
        std::iter::once(&self.regex)
            .chain(optional.into_iter().flatten())
            .try_for_each(LazyRegex::force)
    }

    pub fn run(&self, rule: &Rule, cx: &RuleContext<'_>) -> Vec<Hit> {
        let prompt = cx.prompt;
        let text = prompt.text.as_str();
        let mut hits = Vec::new();
        for caps in self.regex.captures_iter(text) {
            let Some(m) = caps
                .name("value")
                .or_else(|| caps.get(1))
                .or_else(|| caps.get(0))
            else {
                continue;
            };
            let span = PromptSpan::new(m.start(), m.end());
            let value = m.as_str();
            if value.is_empty() || !in_scope(rule.scope, prompt, span) {
                continue;
            }
            if prompt.placeholders.iter().any(|p| p.span.overlaps(span)) {
                continue;
            }
            if self.allow.as_ref().is_some_and(|a| a.is_match(value)) {
                continue;
            }
            let normalized = normalize(value);
            if self
                .allow_normalized
                .as_ref()
                .is_some_and(|a| a.is_match(&normalized))
            {
                continue;
            }
            let lower = value.to_lowercase();
            if self.stopwords.iter().any(|s| lower.contains(s.as_str())) {
                continue;
            }
            // A user's allow entry matches with or without separators (`415 867 2341`).
            if cx.settings.pii_allow.iter().any(|a| {
                a.eq_ignore_ascii_case(value)
                    || (!normalized.is_empty() && normalize(a).eq_ignore_ascii_case(&normalized))
            }) {
                continue;
            }
            if !self.validators.iter().all(|v| v.check(value)) {
                continue;
            }
            let window = self.window(text, span);
            // A value whose shape is unambiguous (`415-867-2341`) needs no cue word.
            let shaped = self
                .context_optional_if
                .as_ref()
                .is_some_and(|c| c.is_match(value));
            if !shaped && self.context.as_ref().is_some_and(|c| !c.is_match(window)) {
                continue;
            }
            if self
                .context_deny
                .as_ref()
                .is_some_and(|c| c.is_match(window))
            {
                continue;
            }
            if self
                .prefix_deny
                .as_ref()
                .is_some_and(|c| c.is_match(self.before(text, span)))
            {
                continue;
            }
            let in_example = prompt.in_example(span);
            if !in_example
                && self
                    .outside_examples_allow
                    .iter()
                    .any(|a| lower.starts_with(a.as_str()))
            {
                continue;
            }
            let is_test_value = self
                .test_values
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&normalized));
            let severity = if is_test_value {
                match self.test_value_severity {
                    Some(s) => Some(s),
                    None => continue,
                }
            } else if in_example {
                rule.example_severity
            } else {
                None
            };
            let masked = if cx.settings.show_pii {
                value.to_string()
            } else {
                self.redact.mask(value)
            };
            let place = if in_example {
                "a few-shot example"
            } else {
                "a prompt"
            };
            let message = fill(&rule.message, &[("match", &masked), ("where", place)]);
            let mut hit = Hit::new(span, message);
            hit.severity = severity;
            if self.redact != Redact::None {
                hit.secret = Some(Secret {
                    value: value.to_string(),
                    masked,
                });
            }
            hits.push(hit);
        }
        hits
    }

    /// The `context-window` characters just before `span`.
    fn before<'t>(&self, text: &'t str, span: PromptSpan) -> &'t str {
        let start = floor_char_boundary(text, span.start.saturating_sub(self.context_window));
        &text[start..span.start]
    }

    fn window<'t>(&self, text: &'t str, span: PromptSpan) -> &'t str {
        let start = floor_char_boundary(text, span.start.saturating_sub(self.context_window));
        let end = ceil_char_boundary(text, span.end + self.context_window);
        &text[start..end]
    }
}

/// Letters and digits of `value` only: separators do not make a different value.
fn normalize(value: &str) -> String {
    value
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// Whether `span` lies in the part of the prompt a rule with `scope` looks at.
pub fn in_scope(scope: Scope, prompt: &crate::prompt::Prompt, span: PromptSpan) -> bool {
    match scope {
        Scope::Prompt => true,
        Scope::Instructions => !prompt.in_data(span),
        Scope::Examples => prompt.in_example(span),
        Scope::System => prompt.role_at(span).is_none_or(|r| r.is_instruction()),
    }
}
