//! Code-backed checks: logic that pack data cannot express, one file each.
//!
//! A rule with `kind = "check"` names its check (`check = "..."`); the name is a serde enum, so
//! an unknown name fails when the pack loads and `match` exhaustiveness proves the wiring.

use serde::Deserialize;

use crate::kinds::{Hit, RuleContext};
use crate::packs::Rule;

/// The closed set of checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckName {}

/// A compiled check with its parameters.
#[derive(Debug)]
pub enum Check {}

impl Check {
    /// Builds the check named `name` from its rule's `params`.
    pub fn compile(name: CheckName, _params: Option<&toml::Table>) -> Result<Check, String> {
        match name {}
    }

    pub fn run(&self, _rule: &Rule, _cx: &RuleContext<'_>) -> Vec<Hit> {
        match *self {}
    }
}
