//! Serde mirrors of pack files (`rules/<pack>.toml`) as written.
//!
//! One flat struct per rule, `deny_unknown_fields`, kebab-case: every kind's keys live here as
//! options and `compile.rs` checks per kind which are required or allowed. (A tagged enum with
//! `#[serde(flatten)]` would silently disable `deny_unknown_fields`.)

use serde::Deserialize;

use super::RuleTests;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawPackFile {
    pub pack: RawPack,
    #[serde(default)]
    pub rule: Vec<RawRule>,
    /// Shared data read by other modules (the cache pack's `[volatility]`).
    #[serde(default)]
    pub volatility: Option<toml::Value>,
    /// Pack-wide data tables (keyword lists, axes, allowlists) read by the pack's checks.
    #[serde(default)]
    pub data: Option<toml::Table>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawPack {
    pub name: String,
    pub summary: String,
    #[serde(default)]
    pub severity: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawRule {
    pub id: String,
    pub kind: String,
    pub summary: String,
    pub message: String,
    #[serde(default)]
    pub help: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub example_severity: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub default_enabled: Option<bool>,
    pub docs: String,
    #[serde(default)]
    pub test: RuleTests,

    // kind = "pattern"
    /// The regex; `(?P<value>...)` or group 1 marks the reported part, else the whole match.
    #[serde(default)]
    pub pattern: Option<String>,
    /// Post-match validators by name (`luhn`, `iban`, `ssn`, `public-ip`, `entropy`...).
    #[serde(default)]
    pub validate: Vec<String>,
    /// Regexes over the matched value: a match means "not a finding" (placeholders, test data).
    #[serde(default)]
    pub allow: Vec<String>,
    /// Case-insensitive substrings of the matched value that mean "not a finding".
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Regexes over the text around the match that must be present (a cue word).
    #[serde(default)]
    pub context: Option<String>,
    /// Characters either side of the match searched by `context` / `context-deny`.
    #[serde(default)]
    pub context_window: Option<usize>,
    /// Regexes over the text around the match: a match means "not a finding".
    #[serde(default)]
    pub context_deny: Option<String>,
    /// How to mask the value when rendering: `email`, `last4`, `secret`, `none`.
    #[serde(default)]
    pub redact: Option<String>,
    /// Severity when the value is documented test data (e.g. test card numbers).
    #[serde(default)]
    pub test_value_severity: Option<String>,
    /// Values that are documented test data (exact, after removing separators).
    #[serde(default)]
    pub test_values: Vec<String>,
    /// Matches whose local part / first label is one of these are not reported outside examples.
    #[serde(default)]
    pub outside_examples_allow: Vec<String>,
    /// Regexes over the value with separators removed (letters and digits only): a match means
    /// "not a finding" (reserved number ranges whatever the punctuation).
    #[serde(default)]
    pub allow_normalized: Vec<String>,
    /// A regex over the value: when it matches, the value's shape alone is enough and the
    /// `context` cue is not required (a dashed phone number needs no "phone" nearby).
    #[serde(default)]
    pub context_optional_if: Option<String>,
    /// A regex over the `context-window` characters just before the value (anchor with `$`):
    /// a match means "not a finding" (`Order #` before a number).
    #[serde(default)]
    pub prefix_deny: Option<String>,

    // kind = "check"
    /// The code-backed check's name (`kind = "check"`).
    #[serde(default)]
    pub check: Option<String>,
    /// Free-form parameters for a check.
    #[serde(default)]
    pub params: Option<toml::Table>,
}
