//! Matcher kinds: the closed set of ways a rule can match, one file each.
//!
//! A kind is parameterised by pack data and runs over one prompt, returning hits in prompt
//! space; the engine maps them to the file. `check` hands a prompt to a named code-backed check
//! (`src/checks/`), for logic that data cannot express.

pub mod pattern;

use crate::checks::Check;
use crate::config::RuleSettings;
use crate::packs::{Rule, Severity};
use crate::prompt::Prompt;
use crate::source::SourceFile;
use crate::span::PromptSpan;

/// A compiled matcher.
#[derive(Debug)]
pub enum Matcher {
    Pattern(Box<pattern::PatternMatcher>),
    Check(Check),
}

/// What a matcher sees of one prompt.
pub struct RuleContext<'a> {
    pub prompt: &'a Prompt,
    pub file: &'a SourceFile,
    pub settings: &'a RuleSettings,
    /// The other prompts of the same file, for checks that resolve names across them.
    pub file_prompts: &'a [Prompt],
}

/// One match in prompt space.
#[derive(Debug, Clone)]
pub struct Hit {
    pub span: PromptSpan,
    /// The rendered message (slots already filled, values already masked).
    pub message: String,
    /// Other spans of a multi-span finding, with their labels.
    pub related: Vec<(PromptSpan, String)>,
    /// Overrides the rule's severity (inside an example, documented test data...).
    pub severity: Option<Severity>,
    /// The sensitive value found: hashed into the fingerprint, masked in snippets.
    pub secret: Option<Secret>,
    /// A help line specific to this hit.
    pub help: Option<String>,
}

/// A sensitive value and its masked form.
#[derive(Debug, Clone)]
pub struct Secret {
    pub value: String,
    pub masked: String,
}

impl Hit {
    pub fn new(span: PromptSpan, message: String) -> Self {
        Self {
            span,
            message,
            related: Vec::new(),
            severity: None,
            secret: None,
            help: None,
        }
    }
}

impl Matcher {
    pub fn run(&self, rule: &Rule, cx: &RuleContext<'_>) -> Vec<Hit> {
        match self {
            Matcher::Pattern(m) => m.run(rule, cx),
            Matcher::Check(c) => c.run(rule, cx),
        }
    }

    /// Builds everything a matcher builds lazily (regexes, vocabularies) and reports a failure;
    /// pack tests call it so a built-in pack cannot fail at run time.
    pub fn force(&self) -> Result<(), String> {
        match self {
            Matcher::Pattern(m) => m.force(),
            Matcher::Check(c) => c.force(),
        }
    }
}

/// Fills `{name}` slots of a message template.
pub fn fill(template: &str, slots: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in slots {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}
