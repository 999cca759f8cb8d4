//! Rule packs: the registry of every rule, compiled once from `rules/*.toml`.
//!
//! A pack file declares rules as data (`raw.rs`); `compile.rs` validates them and builds their
//! regexes and automata once, and is the only place pack errors come from, each naming the
//! file, rule id and key. The compiled `RuleSet` is shared read-only by every worker thread;
//! `prefilter.rs` decides with one Aho-Corasick pass which keyworded rules can match a prompt.

pub mod builtin;
pub mod compile;
pub mod prefilter;
pub mod raw;
pub mod selftest;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::kinds::Matcher;

/// How serious a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" | "note" => Some(Severity::Info),
            "warning" | "warn" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which part of a prompt a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// The whole prompt text.
    Prompt,
    /// Instruction text: outside examples, code blocks and quotes.
    Instructions,
    /// Only inside few-shot examples.
    Examples,
    /// Only system/developer messages.
    System,
}

/// A rule's own test cases: prompt texts that must not / must produce a finding.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuleTests {
    #[serde(default)]
    pub valid: Vec<String>,
    #[serde(default)]
    pub invalid: Vec<String>,
}

/// One compiled rule.
#[derive(Debug)]
pub struct Rule {
    /// `pack/name`.
    pub id: String,
    pub pack: String,
    pub name: String,
    pub severity: Severity,
    /// Severity inside a few-shot example, when different.
    pub example_severity: Option<Severity>,
    pub summary: String,
    pub message: String,
    pub help: Option<String>,
    pub docs: String,
    pub scope: Scope,
    pub keywords: Vec<String>,
    /// Off unless selected by id (`--select pack/rule`).
    pub default_enabled: bool,
    pub matcher: Matcher,
    pub tests: RuleTests,
}

/// Every rule, compiled, plus the keyword prefilter.
#[derive(Debug)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub packs: Vec<PackInfo>,
    pub prefilter: prefilter::Prefilter,
}

#[derive(Debug, Clone)]
pub struct PackInfo {
    pub name: String,
    pub summary: String,
    pub file: String,
}

impl RuleSet {
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    pub fn is_pack(&self, name: &str) -> bool {
        self.packs.iter().any(|p| p.name == name)
    }

    /// Whether `selector` names a pack or a rule.
    pub fn knows(&self, selector: &str) -> bool {
        self.is_pack(selector) || self.get(selector).is_some()
    }
}
