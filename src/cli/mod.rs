//! The binary's commands: parse arguments, load config and packs, scan, render, exit.
//!
//! Everything user-facing about a run lives here: error messages for bad arguments and config
//! (exit 2), the choice of renderer, and the exit code. Library modules return data.

pub mod args;
pub mod exit;
pub mod lock;

use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use clap::Parser;
use rayon::prelude::*;

use crate::config::{self, LoadedConfig, RuleSettings};
use crate::engine::{Engine, FileResult, Selection};
use crate::extract::{Extractor, PromptSpec};
use crate::finding::Finding;
use crate::finding::{FileError, Report};
use crate::gitdiff::{self, Diff};
use crate::packs::compile::compile_builtin;
use crate::packs::{RuleSet, Severity};
use crate::render;
use crate::walk::{self, WalkItem, WalkOptions};
use args::{
    CheckArgs, Cli, Command, FailOn, ListFormat, OwnersArgs, OwnersFormat, PromptsArgs, ScanArgs,
};

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
            let code = if e.use_stderr() {
                exit::ERROR
            } else {
                exit::CLEAN
            };
            let _ = e.print();
            return exit::code(code);
        }
    };
    let result = match cli.command {
        Command::Check(a) => check(a),
        Command::Prompts(a) => prompts(a),
        Command::Rule(a) => crate::explain::rule(&a.id, a.format == ListFormat::Json)
            .map(|s| (s, exit::CLEAN))
            .map_err(Fatal),
        Command::Lock(a) => lock::lock(a),
        Command::Rules(a) => crate::explain::rules(a.format == ListFormat::Json)
            .map(|s| (s, exit::CLEAN))
            .map_err(Fatal),
        Command::Owners(a) => owners(a),
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
    let cwd = std::env::current_dir()
        .map_err(|e| Fatal(format!("cannot read the current directory: {e}")))?;
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
    let max_file_size = scan
        .max_file_size
        .or(config.raw.files.max_file_size)
        .unwrap_or(DEFAULT_MAX_FILE_SIZE);
    // Resolved here, not left to each pool: `0` would mean one thread to the walker.
    let threads = scan
        .threads
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    Ok(Setup {
        config,
        spec,
        max_file_size,
        threads,
    })
}

fn config_name(c: &LoadedConfig) -> String {
    c.path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "config".into())
}

/// What a scan found: results in path order for the files with anything to report, and how
/// many scanned files had nothing (counted, not kept, so memory follows what is reported rather
/// than the size of the repository).
pub struct Scanned {
    pub results: Vec<FileResult>,
    pub quiet_files: usize,
    /// Prompts in all scanned files, kept or not.
    pub prompts: usize,
    pub walk_errors: Vec<FileError>,
}

/// Walks and lints every file in parallel: the files named on the command line on a thread
/// pool, each directory's files on the walk's threads as the walk finds them.
pub fn scan<'a>(scan: &ScanArgs, setup: &'a Setup, engine: &Engine<'a>) -> Result<Scanned, Fatal> {
    let opts = WalkOptions {
        excludes: &setup.config.raw.files.exclude,
        root: &setup.config.root,
        force_exclude: scan.force_exclude,
        threads: setup.threads,
    };
    let walker = walk::Walker::new(&setup.spec, &opts).map_err(Fatal)?;
    let (files, dirs) = walker.split(&scan.paths);
    // Overlapping paths (`. docs`, `src src/app.py`) reach a file more than once: then each path
    // is linted the first time only. A single directory needs no record of what it saw.
    let seen: Option<Mutex<HashSet<String>>> = (!dirs.is_empty() && files.len() + dirs.len() > 1)
        .then(|| Mutex::new(files.iter().map(|f| f.path.clone()).collect()));
    let found = Mutex::new(Vec::new());
    let quiet = AtomicUsize::new(0);
    let prompts = AtomicUsize::new(0);
    let keep = |r: FileResult| {
        prompts.fetch_add(r.prompt_count, Ordering::Relaxed);
        if r.is_empty() {
            quiet.fetch_add(1, Ordering::Relaxed);
        } else {
            // A poisoned lock still holds what was found: keep it rather than drop it.
            found.lock().unwrap_or_else(|e| e.into_inner()).push(r);
        }
    };
    let lint = |ex: &mut Extractor<'a>, item: &WalkItem| {
        engine.lint_path(
            ex,
            &item.fs_path,
            item.path.clone(),
            item.kind,
            setup.max_file_size,
        )
    };
    if !files.is_empty() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(setup.threads)
            .build()
            .map_err(|e| Fatal(format!("cannot start worker threads: {e}")))?;
        pool.install(|| {
            files.par_iter().for_each_init(
                || Extractor::new(&setup.spec),
                |ex, item| keep(lint(ex, item)),
            )
        });
    }
    let mut walk_errors = Vec::new();
    for dir in &dirs {
        walk_errors.extend(walker.walk_dir(
            dir,
            || Extractor::new(&setup.spec),
            |ex, item| {
                let first = seen.as_ref().is_none_or(|s| {
                    s.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(item.path.clone())
                });
                if first {
                    keep(lint(ex, &item));
                }
            },
        ));
    }
    walk::sort_errors(&mut walk_errors);
    let mut results = found.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Scanned {
        results,
        quiet_files: quiet.into_inner(),
        prompts: prompts.into_inner(),
        walk_errors,
    })
}

fn selection(
    args: &CheckArgs,
    cfg: &config::RawConfig,
    rules: &RuleSet,
) -> Result<Selection, Fatal> {
    selection_from(args.select.clone(), &args.ignore, cfg, rules)
}

/// The rule selection from command-line `select`/`ignore` on top of the config's.
fn selection_from(
    select: Option<Vec<String>>,
    extra_ignore: &[String],
    cfg: &config::RawConfig,
    rules: &RuleSet,
) -> Result<Selection, Fatal> {
    let select = select.or_else(|| cfg.rules.select.clone());
    let mut ignore = cfg.rules.ignore.clone();
    ignore.extend(extra_ignore.iter().cloned());
    for s in select.iter().flatten().chain(ignore.iter()) {
        if s != "all" && !rules.knows(s) {
            return Err(Fatal(format!(
                "unknown rule or pack `{s}` (see `promptlint rules`)"
            )));
        }
    }
    let mut severity = Vec::new();
    for (id, sev) in &cfg.rules.severity {
        let s = Severity::parse(sev).ok_or_else(|| Fatal(format!("[rules] severity: `{id}`: unknown severity `{sev}` (expected error, warning or info)")))?;
        if !rules.knows(id) {
            return Err(Fatal(format!(
                "[rules] severity: unknown rule or pack `{id}`"
            )));
        }
        severity.push((id.clone(), s));
    }
    for (glob, sels) in &cfg.per_file_ignores {
        for s in sels {
            if !rules.knows(s) {
                return Err(Fatal(format!(
                    "[per-file-ignores] `{glob}`: unknown rule or pack `{s}`"
                )));
            }
        }
    }
    Ok(Selection {
        select,
        ignore,
        severity,
        per_file_ignores: cfg
            .per_file_ignores
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    })
}

fn fail_on(args: &CheckArgs, cfg: &config::RawConfig) -> Result<Severity, Fatal> {
    Ok(match args.fail_on {
        Some(FailOn::Error) => Severity::Error,
        Some(FailOn::Warning) => Severity::Warning,
        Some(FailOn::Info) => Severity::Info,
        None => match cfg.rules.fail_on.as_deref() {
            None => Severity::Warning,
            Some(s) => Severity::parse(s)
                .ok_or_else(|| Fatal(format!("[rules] fail-on: unknown severity `{s}`")))?,
        },
    })
}

fn check(args: CheckArgs) -> Result<(String, u8), Fatal> {
    let setup = setup(&args.scan)?;
    let rules = compile_builtin(&|_| true)?;
    let selection = selection(&args, &setup.config.raw, &rules)?;
    let fail_on = fail_on(&args, &setup.config.raw)?;
    let settings = RuleSettings::from_config(&setup.config.raw, args.show_pii);
    let mut engine = Engine::new(&rules, &setup.spec, &settings, &selection).map_err(Fatal)?;
    // Resolve the revision before scanning, so a bad one fails fast with exit 2.
    let diff = match &args.diff {
        Some(rev) => {
            let cwd = std::env::current_dir()
                .map_err(|e| Fatal(format!("cannot read the current directory: {e}")))?;
            Some(gitdiff::diff(&cwd, rev).map_err(|e| Fatal(format!("--diff {rev}: {e}")))?)
        }
        None => None,
    };
    // Only `--diff` reads the prompts' lines (to keep the findings of changed prompts).
    engine.inventory = diff.is_some();
    let Scanned {
        results,
        quiet_files,
        prompts,
        walk_errors,
    } = scan(&args.scan, &setup, &engine)?;
    let mut report = Report {
        errors: walk_errors,
        files_scanned: quiet_files,
        prompts,
        ..Default::default()
    };
    let mut loader_calls = Vec::new();
    for mut r in results {
        loader_calls.extend(r.loader_calls.iter().map(|c| (r.path.clone(), c.clone())));
        report.files_scanned += usize::from(r.scanned);
        if args.report_unused_ignores {
            let unused = unused_ignore_findings(&r, &engine);
            r.findings.extend(unused);
        }
        if let Some(diff) = &diff {
            only_changed(&mut r, diff);
            keep_identity_across_rename(&mut r, diff, &setup, &engine);
        }
        report.findings.extend(r.findings);
        report.errors.extend(r.errors);
        if let Some(text) = r.text {
            report.sources.push((r.path, text));
        }
    }
    lock::add_registry_findings(
        &mut report,
        &engine,
        &setup,
        &args.scan.paths,
        &loader_calls,
    )?;
    report.sort();
    crate::finding::disambiguate(&mut report.findings);
    if let Some(path) = &args.write_baseline {
        crate::baseline::write(path, &report.findings).map_err(Fatal)?;
        let out = if args.scan.quiet {
            String::new()
        } else {
            format!(
                "wrote {} findings to {}\n",
                report.findings.len(),
                path.display()
            )
        };
        return Ok((out, exit::CLEAN));
    }
    if let Some(path) = &args.baseline {
        let known = crate::baseline::read(path).map_err(Fatal)?;
        report.findings.retain(|f| !known.contains(&f.fingerprint));
    }
    let failing = report.count_at_least(fail_on);
    let out = render::render_check(
        &report,
        args.format,
        &render::Options {
            quiet: args.scan.quiet,
            show_pii: args.show_pii,
            fail_on,
            rules: &rules,
        },
    );
    print_errors(&report, args.format);
    let code = if failing > 0 && !args.exit_zero {
        exit::FINDINGS
    } else {
        exit::CLEAN
    };
    Ok((out, code))
}

/// Keeps only the findings of `r` in prompts whose lines were added or changed in `diff`
/// (findings outside any prompt, such as unused suppressions, by their own lines). A file the
/// diff does not mention, or a renamed file with no edits, keeps nothing.
fn only_changed(r: &mut FileResult, diff: &Diff) {
    let Some(change) = diff.get_display(&r.path) else {
        r.findings.clear();
        return;
    };
    if change.added {
        return;
    }
    let touched: Vec<&str> = r
        .prompts
        .iter()
        .filter(|p| change.touches(p.line, p.end_line))
        .map(|p| p.id.as_str())
        .collect();
    r.findings.retain(
        |f| match (&f.prompt_id, f.rule == crate::suppress::UNUSED_IGNORE_RULE) {
            (Some(id), false) => touched.contains(&id.as_str()),
            _ => change.touches(f.start.line, f.end.line),
        },
    );
}

/// A renamed file's findings keep the fingerprints they had under the old path, so baselines
/// and code-scanning alerts recorded before the rename still recognise them. The file is linted
/// a second time under its old path (only renamed files with findings, so this stays cheap) and
/// findings are paired by rule and span.
fn keep_identity_across_rename(
    r: &mut FileResult,
    diff: &Diff,
    setup: &Setup,
    engine: &Engine<'_>,
) {
    if r.findings.is_empty() {
        return;
    }
    let Some(change) = diff.get_display(&r.path) else {
        return;
    };
    let Some(old) = change.old_path.as_deref().filter(|_| !change.deleted) else {
        return;
    };
    let Some(old_display) = old.strip_prefix(diff.prefix.as_str()) else {
        return;
    };
    let Some(kind) = setup.spec.classify(&r.path) else {
        return;
    };
    let Ok(file) = crate::source::SourceFile::read(
        std::path::Path::new(&r.path),
        old_display.to_string(),
        kind,
        setup.max_file_size,
    ) else {
        return;
    };
    let mut extractor = Extractor::new(&setup.spec);
    let before = engine.lint_file(&mut extractor, &file);
    for f in &mut r.findings {
        if let Some(o) = before
            .findings
            .iter()
            .find(|o| o.rule == f.rule && o.span == f.span)
        {
            f.fingerprint = o.fingerprint.clone();
        }
    }
}

/// One `promptlint/unused-ignore` warning per directive that suppressed nothing, like ruff's
/// RUF100. Selectors naming rules that did not run are not judged (they could not match).
fn unused_ignore_findings(r: &FileResult, engine: &Engine<'_>) -> Vec<Finding> {
    use crate::span::LineIndex;
    let Some(text) = r.text.as_deref() else {
        return Vec::new();
    };
    let ran = |sel: &str| {
        sel == "*"
            || engine.is_enabled(sel)
            || engine
                .rules
                .rules
                .iter()
                .any(|rule| rule.pack == sel && engine.is_enabled(&rule.id))
            || !engine.rules.knows(sel)
    };
    let index = LineIndex::new(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < r.unused_ignores.len() {
        let (line, column, _) = &r.unused_ignores[i];
        let mut sels = Vec::new();
        while i < r.unused_ignores.len()
            && r.unused_ignores[i].0 == *line
            && r.unused_ignores[i].1 == *column
        {
            if ran(&r.unused_ignores[i].2) {
                sels.push(r.unused_ignores[i].2.clone());
            }
            i += 1;
        }
        if sels.is_empty() {
            continue;
        }
        let (ls, le) = index.line_range(text, line.saturating_sub(1));
        let line_text = &text[ls..le];
        let start = ls
            + line_text
                .char_indices()
                .nth(column.saturating_sub(1))
                .map(|(b, _)| b)
                .unwrap_or(0);
        let rest = &text[start..le];
        let len = match rest.find(']') {
            Some(j) => j + 1,
            None => rest
                .find("ignore")
                .map(|j| {
                    j + rest[j..]
                        .find(|c: char| !(c.is_ascii_alphabetic() || c == '-'))
                        .unwrap_or(rest.len() - j)
                })
                .unwrap_or(rest.len()),
        };
        let span = crate::span::FileSpan::new(start, start + len);
        // Like ruff's RUF100 ("Unused `noqa` directive"); the part before the first colon is
        // the snippet label.
        let message = if sels == ["*"] {
            "unused suppression: this blanket ignore suppresses nothing".to_string()
        } else {
            format!(
                "unused suppression: nothing here matches {}",
                sels.iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        out.push(Finding {
            rule: crate::suppress::UNUSED_IGNORE_RULE.to_string(),
            severity: Severity::Warning,
            message,
            help: Some(crate::suppress::UNUSED_IGNORE_HELP.to_string()),
            path: r.path.clone(),
            span,
            start: index.line_col(text, span.start),
            end: index.line_col(text, span.end),
            related: Vec::new(),
            prompt_id: None,
            fingerprint: crate::finding::fingerprint(
                crate::suppress::UNUSED_IGNORE_RULE,
                &r.path,
                &format!("{line}:{}", sels.join(",")),
            ),
            masks: Vec::new(),
        });
    }
    out
}

/// Per-file errors go to stderr in human-oriented formats (JSON carries them itself).
fn print_errors(report: &Report, format: args::OutputFormat) {
    if matches!(
        format,
        args::OutputFormat::Json | args::OutputFormat::Sarif | args::OutputFormat::Gitlab
    ) {
        return;
    }
    for e in &report.errors {
        eprint(&format!("promptlint: {}: {}", e.path, e.message));
    }
}

fn prompts(args: PromptsArgs) -> Result<(String, u8), Fatal> {
    let setup = setup(&args.scan)?;
    let rules = RuleSet {
        rules: Vec::new(),
        packs: Vec::new(),
        prefilter: crate::packs::prefilter::Prefilter::new(&[]).map_err(Fatal)?,
    };
    let settings = RuleSettings::default();
    let engine =
        Engine::new(&rules, &setup.spec, &settings, &Selection::default()).map_err(Fatal)?;
    let Scanned {
        results,
        quiet_files,
        walk_errors,
        ..
    } = scan(&args.scan, &setup, &engine)?;
    let mut errors = walk_errors;
    let mut inventory = Vec::new();
    let mut files = quiet_files;
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
    let out = render::render_inventory(
        &inventory,
        &errors,
        files,
        args.format == ListFormat::Json,
        args.scan.quiet,
    );
    Ok((out, exit::CLEAN))
}

fn owners(args: OwnersArgs) -> Result<(String, u8), Fatal> {
    let scan_args = ScanArgs {
        paths: Vec::new(),
        config: args.config.clone(),
        force_exclude: false,
        max_file_size: args.max_file_size,
        threads: args.threads,
        quiet: args.quiet,
    };
    let setup = setup(&scan_args)?;
    let cwd = std::env::current_dir()
        .map_err(|e| Fatal(format!("cannot read the current directory: {e}")))?;
    let flag = if args.suggest.is_some() {
        "--suggest"
    } else {
        "--base"
    };
    let (toplevel, _) = gitdiff::repo_info(&cwd, args.base.as_deref())
        .map_err(|e| Fatal(format!("owners {flag}: {e}")))?;
    let codeowners = crate::owners::CodeOwners::find(&toplevel).map_err(Fatal)?;
    if !args.quiet {
        for w in codeowners.iter().flat_map(|c| c.warnings.iter()) {
            eprint(&format!("promptlint: warning: {w}"));
        }
    }
    if let Some(team) = &args.suggest {
        if team.is_empty() || team.contains(char::is_whitespace) {
            return Err(Fatal(format!("--suggest: `{team}` is not a CODEOWNERS owner (expected @user, @org/team or an email)")));
        }
        let files = gitdiff::tracked_and_untracked(&toplevel).map_err(Fatal)?;
        let excludes = walk::exclude_set(&setup.config.raw.files.exclude).map_err(Fatal)?;
        let candidates: Vec<(String, crate::source::FileKind)> = files
            .into_iter()
            .filter(|f| !excludes.is_match(f))
            .filter_map(|f| setup.spec.classify(&f).map(|k| (f, k)))
            .collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(setup.threads)
            .build()
            .map_err(|e| Fatal(format!("cannot start worker threads: {e}")))?;
        let holding: Vec<String> = pool.install(|| {
            candidates
                .par_iter()
                .map_init(
                    || Extractor::new(&setup.spec),
                    |ex, (f, kind)| {
                        let file = crate::source::SourceFile::read(
                            &toplevel.join(f),
                            f.clone(),
                            *kind,
                            setup.max_file_size,
                        )
                        .ok()?;
                        (!ex.extract(&file).0.is_empty()).then(|| f.clone())
                    },
                )
                .flatten()
                .collect()
        });
        let lines = crate::owners::suggest(&holding, codeowners.as_ref(), team);
        let mut out = String::new();
        if lines.is_empty() {
            if !args.quiet {
                eprint(&format!(
                    "promptlint: every one of the {} files holding a prompt already has an owner",
                    holding.len()
                ));
            }
        } else {
            out.push_str(&format!("# Prompts: {team} reviews every file that holds one (added by `promptlint owners --suggest`)\n"));
            for l in lines {
                out.push_str(&l);
                out.push('\n');
            }
        }
        return Ok((out, exit::CLEAN));
    }
    let Some(base) = args.base.as_deref() else {
        return Err(Fatal("owners: give --base REV or --suggest OWNER".into()));
    };
    let diff =
        gitdiff::diff(&cwd, base).map_err(|e| Fatal(format!("owners --base {base}: {e}")))?;
    let rules = compile_builtin(&|_| true)?;
    let selection = selection_from(None, &[], &setup.config.raw, &rules)?;
    let settings = RuleSettings::from_config(&setup.config.raw, false);
    let engine = Engine::new(&rules, &setup.spec, &settings, &selection).map_err(Fatal)?;
    let excludes = walk::exclude_set(&setup.config.raw.files.exclude).map_err(Fatal)?;
    let has_excludes = !setup.config.raw.files.exclude.is_empty();
    let report = crate::owners::report(
        &diff,
        base,
        &engine,
        codeowners.as_ref(),
        setup.max_file_size,
        &|p: &str| has_excludes && excludes.is_match(p),
    );
    if args.format == OwnersFormat::Markdown {
        for e in &report.errors {
            eprint(&format!("promptlint: {}: {}", e.path, e.message));
        }
    }
    let out = match args.format {
        OwnersFormat::Markdown => render::markdown::render(&report),
        OwnersFormat::Json => render::markdown::render_json(&report),
    };
    Ok((out, exit::CLEAN))
}
