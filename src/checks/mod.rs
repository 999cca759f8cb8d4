//! Code-backed checks: logic that pack data cannot express, one file each.
//!
//! A rule with `kind = "check"` names its check (`check = "..."`); the name is a serde enum, so
//! an unknown name fails when the pack loads and `match` exhaustiveness proves the wiring. A
//! check compiles from its rule's `params` and its pack's `[data]` table.

pub mod contradiction;
pub mod directive;
mod frames;
mod literal;
mod parse;
mod parse_memo;
mod vocab;

pub mod cache_order;
pub mod cache_serial;
pub mod inline_prompt;

use std::cell::RefCell;
use std::hash::BuildHasher;

use serde::Deserialize;

use crate::kinds::{Hit, RuleContext};
use crate::packs::Rule;

/// The result a pack-wide analysis gave last on this thread, by key: every rule of a pack asks
/// about the same prompt in turn, so the analysis runs once per prompt. Keep one in a
/// `thread_local!`.
pub(crate) struct LastResult<T>(RefCell<Option<(u64, T)>>);

impl<T: Clone> LastResult<T> {
    pub(crate) const fn new() -> Self {
        LastResult(RefCell::new(None))
    }

    /// The result for `key`: the kept one when its key is `key`, else `compute`'s, kept.
    pub(crate) fn get_or(&self, key: u64, compute: impl FnOnce() -> T) -> T {
        if let Some((k, v)) = self.0.borrow().as_ref() {
            if *k == key {
                return v.clone();
            }
        }
        let v = compute();
        *self.0.borrow_mut() = Some((key, v.clone()));
        v
    }
}

/// A hasher for `LastResult` keys: fixed, so keys do not depend on the process, and several
/// times faster than SipHash on the long texts a key covers.
pub(crate) fn key_hasher() -> foldhash::quality::FoldHasher<'static> {
    foldhash::quality::FixedState::default().build_hasher()
}

/// The closed set of checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckName {
    InlinePrompt,
    /// The cache pack's ordering analysis (`cache_order.rs`), one outcome per rule.
    CacheOrder,
    /// Cross-file registry checks (`src/registry.rs`): they run after collection, not per prompt.
    Registry,
    /// Contradicting instructions within one prompt (`checks/contradiction.rs`).
    Contradiction,
}

/// A compiled check with its parameters.
#[derive(Debug)]
pub enum Check {
    InlinePrompt(inline_prompt::InlinePrompt),
    CacheOrder(cache_order::CacheOrder),
    Registry,
    Contradiction(contradiction::Contradiction),
}

impl Check {
    /// Builds the check named `name` from its rule's `params` and its pack's `[data]`.
    pub fn compile(
        name: CheckName,
        params: Option<&toml::Table>,
        data: Option<&std::sync::Arc<toml::Table>>,
    ) -> Result<Check, String> {
        match name {
            CheckName::InlinePrompt => {
                inline_prompt::InlinePrompt::compile(params).map(Check::InlinePrompt)
            }
            CheckName::CacheOrder => {
                cache_order::CacheOrder::compile(params).map(Check::CacheOrder)
            }
            CheckName::Registry => Ok(Check::Registry),
            CheckName::Contradiction => {
                contradiction::Contradiction::compile(params, data).map(Check::Contradiction)
            }
        }
    }

    pub fn run(&self, rule: &Rule, cx: &RuleContext<'_>) -> Vec<Hit> {
        match self {
            Check::InlinePrompt(c) => c.run(rule, cx),
            Check::CacheOrder(c) => c.run(rule, cx),
            Check::Registry => Vec::new(),
            Check::Contradiction(c) => c.run(rule, cx),
        }
    }

    /// State the check builds on first use that a run about to lint prompts may build ahead, on
    /// a thread of its own (see `Engine::expect_prompts`).
    pub fn state_to_build_ahead(&self) -> Option<&std::sync::Arc<contradiction::LazyVocab>> {
        match self {
            Check::Contradiction(c) => Some(c.vocabulary()),
            Check::InlinePrompt(_) | Check::CacheOrder(_) | Check::Registry => None,
        }
    }

    /// Builds what the check builds lazily (see `Matcher::force`).
    pub fn force(&self) -> Result<(), String> {
        match self {
            Check::Contradiction(c) => c.force(),
            Check::CacheOrder(c) => c.force(),
            Check::InlinePrompt(c) => c.force(),
            Check::Registry => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LastResult;
    use std::cell::Cell;

    #[test]
    fn last_result_computes_once_per_run_of_the_same_key() {
        let last = LastResult::new();
        let runs = Cell::new(0);
        let get = |key: u64| {
            last.get_or(key, || {
                runs.set(runs.get() + 1);
                key * 10
            })
        };
        assert_eq!((get(1), get(1), runs.get()), (10, 10, 1));
        assert_eq!((get(2), runs.get()), (20, 2));
        // Only the last result is kept: a key seen before the last one is computed again.
        assert_eq!((get(1), runs.get()), (10, 3));
    }
}
