//! promptlint: a fast, precise static linter for LLM prompts.
//!
//! The pipeline: `walk` finds files (respecting `.gitignore`); workers `extract` prompts from
//! each (`extract::python` via Ruff's Python parser, prompt files, YAML, notebooks) into the `prompt`
//! model (text, offset map, placeholders, `segment`s); the `engine` runs the candidate rules of
//! the compiled `packs` (keyword prefilter, then `kinds` and `checks`) and maps hits back to
//! file spans; findings are `suppress`ed, filtered by `baseline`, sorted, and rendered by
//! `render`. Library code never prints or exits: the `cli` module does both.

pub mod baseline;
pub mod checks;
pub mod cli;
pub mod config;
pub mod engine;
pub mod explain;
pub mod extract;
pub mod finding;
pub mod gitdiff;
pub mod inventory;
pub mod kinds;
pub mod lazy_regex;
pub mod literal_automaton;
pub mod owners;
pub mod packs;
pub mod prompt;
pub mod redact;
pub mod registry;
pub mod render;
pub mod segment;
pub mod source;
pub mod span;
pub mod suppress;
pub mod validate;
pub mod volatility;
pub mod walk;
