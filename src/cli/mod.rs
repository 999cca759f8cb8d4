//! The binary's commands: parse arguments, load config and packs, scan, render, exit.
//!
//! Everything user-facing about a run lives here: error messages for bad arguments and config
//! (exit 2), the choice of renderer, and the exit code. Library modules return data.

pub mod args;
pub mod exit;

use std::process::ExitCode;

use clap::Parser;
use rayon::prelude::*;

use crate::config::{self, LoadedConfig, RuleSettings};
use crate::engine::{Engine, FileResult, Selection};
use crate::extract::{Extractor, PromptSpec};
use crate::finding::{FileError, Report};
use crate::packs::compile::compile_builtin;
use crate::packs::{RuleSet, Severity};
use crate::render;
use crate::walk::{self, WalkOptions};
use args::{CheckArgs, Cli, Command, FailOn, ListFormat, PromptsArgs, ScanArgs};

/// Default size cap for one file.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 2 * 1024 * 1024;

/// A failure that makes the exit code 2.
#[derive(Debug)]
pub struct Fatal(pub String);

impl<E: std::fmt::Display> From<E> for Fatal {
    fn from(e: E) -> Self {
        Fatal(e.to_string())
    }
}

#[allow(clippy::print_stderr)]
fn eprint_fatal(msg: &str) {
    eprintln!("promptlint: error: {msg}");
}

#[allow(clippy::print_stderr)]
pub fn eprint(msg: &str) {
    eprintln!("{msg}");
}

pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { exit::ERROR } else { exit::CLEAN };
            let _ = e.print();
            return exit::code(code);
        }
    };
    let result = match cli.command {
        Command::Check(a) => check(a),
        Command::Prompts(a) => prompts(a),
        Command::Rule(a) => crate::explain::rule(&a.id, a.format == ListFormat::Json).map(|s| (s, exit::CLEAN)).map_err(Fatal),
        Command::Rules(a) => crate::explain::rules(a.format == ListFormat::Json).map(|s| (s, exit::CLEAN)).map_err(Fatal),
    };
    match result {
        Ok((out, code)) => {
            if let Err(e) = exit::write_stdout(&out) {
                eprint_fatal(&format!("cannot write output: {e}"));
                return exit::code(exit::ERROR);
            }
            exit::code(code)
        }
        Err(Fatal(msg)) => {
            eprint_fatal(&msg);
            exit::code(exit::ERROR)
        }
    }
}

/// Config, spec and settings for a scan.
pub struct Setup {
    pub config: LoadedConfig,
    pub spec: PromptSpec,
    pub max_file_size: u64,
    pub threads: usize,
}

pub fn setup(scan: &ScanArgs) -> Result<Setup, Fatal> {
    for p in &scan.paths {
        if !p.exists() && p.symlink_metadata().is_err() {
            return Err(Fatal(format!("{}: no such file or directory", p.display())));
        }
    }
    let cwd = std::env::current_dir().map_err(|e| Fatal(format!("cannot read the current directory: {e}")))?;
    let config = match &scan.config {
        Some(path) => {
            if !path.is_file() {
                return Err(Fatal(format!("{}: config file not found", path.display())));
            }
            config::load(path)?
        }
        None => config::discover(&cwd)?,
    };
    let spec = PromptSpec::compile(&config.raw.prompts, &config.raw.files.prompt_globs)
        .map_err(|e| Fatal(format!("{}: {e}", config_name(&config))))?;
    let max_file_size = scan.max_file_size.or(config.raw.files.max_file_size).unwrap_or(DEFAULT_MAX_FILE_SIZE);
    let threads = scan.threads.unwrap_or(0);
    Ok(Setup { config, spec, max_file_size, threads })
}

fn config_name(c: &LoadedConfig) -> String {
    c.path.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "config".into())
}

/// Walks and lints every file in parallel, results in path order.
pub fn scan(scan: &ScanArgs, setup: &Setup, engine: &Engine<'_>) -> Result<(Vec<FileResult>, Vec<FileError>), Fatal> {
    let opts = WalkOptions { excludes: &setup.config.raw.files.exclude, root: &setup.config.root, force_exclude: scan.force_exclude, threads: setup.threads };
    let (items, walk_errors) = walk::walk(&scan.paths, &setup.spec, &opts).map_err(Fatal)?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(setup.threads).build().map_err(|e| Fatal(format!("cannot start worker threads: {e}")))?;
    let results: Vec<FileResult> = pool.install(|| {
        items
            .par_iter()
            .map_init(|| Extractor::new(&setup.spec), |ex, item| engine.lint_path(ex, &item.fs_path, item.path.clone(), item.kind, setup.max_file_size))
            .collect()
    });
    Ok((results, walk_errors))
}

fn selection(args: &CheckArgs, cfg: &config::RawConfig, rules: &RuleSet) -> Result<Selection, Fatal> {
    let select = args.select.clone().or_else(|| cfg.rules.select.clone());
    let mut ignore = cfg.rules.ignore.clone();
    ignore.extend(args.ignore.iter().cloned());
    for s in select.iter().flatten().chain(ignore.iter()) {
        if s != "all" && !rules.knows(s) {
            return Err(Fatal(format!("unknown rule or pack `{s}` (see `promptlint rules`)")));
        }
    }
    let mut severity = Vec::new();
    for (id, sev) in &cfg.rules.severity {
        let s = Severity::parse(sev).ok_or_else(|| Fatal(format!("[rules] severity: `{id}`: unknown severity `{sev}` (expected error, warning or info)")))?;
        if !rules.knows(id) {
            return Err(Fatal(format!("[rules] severity: unknown rule or pack `{id}`")));
        }
        severity.push((id.clone(), s));
    }
    for (glob, sels) in &cfg.per_file_ignores {
        for s in sels {
            if !rules.knows(s) {
                return Err(Fatal(format!("[per-file-ignores] `{glob}`: unknown rule or pack `{s}`")));
            }
        }
    }
    Ok(Selection { select, ignore, severity, per_file_ignores: cfg.per_file_ignores.iter().map(|(k, v)| (k.clone(), v.clone())).collect() })
}

fn fail_on(args: &CheckArgs, cfg: &config::RawConfig) -> Result<Severity, Fatal> {
    Ok(match args.fail_on {
        Some(FailOn::Error) => Severity::Error,
        Some(FailOn::Warning) => Severity::Warning,
        Some(FailOn::Info) => Severity::Info,
        None => match cfg.rules.fail_on.as_deref() {
            None => Severity::Warning,
            Some(s) => Severity::parse(s).ok_or_else(|| Fatal(format!("[rules] fail-on: unknown severity `{s}`")))?,
        },
    })
}

fn check(args: CheckArgs) -> Result<(String, u8), Fatal> {
    let setup = setup(&args.scan)?;
    let rules = compile_builtin(&|_| true)?;
    let selection = selection(&args, &setup.config.raw, &rules)?;
    let fail_on = fail_on(&args, &setup.config.raw)?;
    let settings = RuleSettings::from_config(&setup.config.raw, args.show_pii);
    let engine = Engine::new(&rules, &setup.spec, &settings, &selection).map_err(Fatal)?;
    let (results, walk_errors) = scan(&args.scan, &setup, &engine)?;
    let mut report = Report { errors: walk_errors, ..Default::default() };
    for r in results {
        report.files_scanned += usize::from(r.scanned);
        report.prompts += r.prompts.len();
        report.findings.extend(r.findings);
        report.errors.extend(r.errors);
        if let Some(text) = r.text {
            report.sources.push((r.path, text));
        }
    }
    report.sort();
    crate::finding::disambiguate(&mut report.findings);
    if let Some(path) = &args.write_baseline {
        crate::baseline::write(path, &report.findings).map_err(Fatal)?;
        let out = if args.scan.quiet { String::new() } else { format!("wrote {} findings to {}\n", report.findings.len(), path.display()) };
        return Ok((out, exit::CLEAN));
    }
    if let Some(path) = &args.baseline {
        let known = crate::baseline::read(path).map_err(Fatal)?;
        report.findings.retain(|f| !known.contains(&f.fingerprint));
    }
    let failing = report.count_at_least(fail_on);
    let out = render::render_check(&report, args.format, &render::Options { quiet: args.scan.quiet, show_pii: args.show_pii, fail_on, rules: &rules });
    print_errors(&report, args.format);
    let code = if failing > 0 && !args.exit_zero { exit::FINDINGS } else { exit::CLEAN };
    Ok((out, code))
}

/// Per-file errors go to stderr in human-oriented formats (JSON carries them itself).
fn print_errors(report: &Report, format: args::OutputFormat) {
    if matches!(format, args::OutputFormat::Json | args::OutputFormat::Sarif | args::OutputFormat::Gitlab) {
        return;
    }
    for e in &report.errors {
        eprint(&format!("promptlint: {}: {}", e.path, e.message));
    }
}

fn prompts(args: PromptsArgs) -> Result<(String, u8), Fatal> {
    let setup = setup(&args.scan)?;
    let rules = RuleSet { rules: Vec::new(), packs: Vec::new(), prefilter: crate::packs::prefilter::Prefilter::new(&[]).map_err(Fatal)? };
    let settings = RuleSettings::default();
    let engine = Engine::new(&rules, &setup.spec, &settings, &Selection::default()).map_err(Fatal)?;
    let (results, walk_errors) = scan(&args.scan, &setup, &engine)?;
    let mut errors = walk_errors;
    let mut inventory = Vec::new();
    let mut files = 0;
    for r in results {
        files += usize::from(r.scanned);
        inventory.extend(r.prompts);
        errors.extend(r.errors);
    }
    for e in &errors {
        if args.format == ListFormat::Human {
            eprint(&format!("promptlint: {}: {}", e.path, e.message));
        }
    }
    let out = render::render_inventory(&inventory, &errors, files, args.format == ListFormat::Json, args.scan.quiet);
    Ok((out, exit::CLEAN))
}
