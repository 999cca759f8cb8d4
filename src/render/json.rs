//! `--format json`: one object on stdout, exactly as INTERFACES.md documents it.

use serde::Serialize;

use crate::finding::{FileError, Report};
use crate::inventory::PromptInfo;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: &'static str,
    findings: Vec<JsonFinding<'a>>,
    errors: &'a [FileError],
    summary: Summary,
}

#[derive(Serialize)]
struct Summary {
    files_scanned: usize,
    prompts: usize,
    findings: usize,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    severity: &'static str,
    path: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
    related: Vec<JsonRelated<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt: Option<&'a str>,
    fingerprint: &'a str,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    path: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
}

pub fn render(report: &Report) -> String {
    let findings = report
        .findings
        .iter()
        .map(|f| JsonFinding {
            rule: &f.rule,
            severity: f.severity.name(),
            path: &f.path,
            line: f.start.line,
            column: f.start.column,
            end_line: f.end.line,
            end_column: f.end.column,
            message: &f.message,
            help: f.help.as_deref(),
            related: f
                .related
                .iter()
                .map(|r| JsonRelated {
                    path: &r.path,
                    line: r.start.line,
                    column: r.start.column,
                    end_line: r.end.line,
                    end_column: r.end.column,
                    message: &r.message,
                })
                .collect(),
            prompt: f.prompt_id.as_deref(),
            fingerprint: &f.fingerprint,
        })
        .collect();
    let out = JsonReport {
        version: env!("CARGO_PKG_VERSION"),
        findings,
        errors: &report.errors,
        summary: Summary { files_scanned: report.files_scanned, prompts: report.prompts, findings: report.findings.len() },
    };
    serde_json::to_string_pretty(&out).unwrap_or_default() + "\n"
}

#[derive(Serialize)]
struct Inventory<'a> {
    version: &'static str,
    prompts: &'a [PromptInfo],
    errors: &'a [FileError],
    summary: InventorySummary,
}

#[derive(Serialize)]
struct InventorySummary {
    files_scanned: usize,
    prompts: usize,
}

pub fn render_inventory(prompts: &[PromptInfo], errors: &[FileError], files: usize) -> String {
    let inv = Inventory {
        version: env!("CARGO_PKG_VERSION"),
        prompts,
        errors,
        summary: InventorySummary { files_scanned: files, prompts: prompts.len() },
    };
    serde_json::to_string_pretty(&inv).unwrap_or_default() + "\n"
}
