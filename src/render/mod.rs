//! Renderers: one per output format, all reading the same `Report`.
//!
//! Renderers never see raw sensitive values: findings carry masked messages, and snippets are
//! cut from source text with every mask of the file applied first.

pub mod human;
pub mod json;

use crate::cli::args::OutputFormat;
use crate::finding::{FileError, Report};
use crate::inventory::PromptInfo;
use crate::packs::{RuleSet, Severity};

pub struct Options<'a> {
    pub quiet: bool,
    pub show_pii: bool,
    pub fail_on: Severity,
    pub rules: &'a RuleSet,
}

pub fn render_check(report: &Report, format: OutputFormat, opts: &Options<'_>) -> String {
    match format {
        OutputFormat::Human => human::render(report, opts),
        OutputFormat::Json => json::render(report),
        OutputFormat::Sarif | OutputFormat::Github | OutputFormat::Gitlab => json::render(report),
    }
}

pub fn render_inventory(prompts: &[PromptInfo], errors: &[FileError], files: usize, as_json: bool, quiet: bool) -> String {
    if as_json {
        json::render_inventory(prompts, errors, files)
    } else {
        human::render_inventory(prompts, files, quiet)
    }
}
