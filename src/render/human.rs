//! Human output: rustc-style diagnostics via annotate-snippets, then a one-line summary.
//!
//! Each finding shows the rule id, the message, the source lines with the primary span (and a
//! labelled related span for multi-span findings), and a help line. Snippets are cut from the
//! file text with every mask of that file applied, so a value redacted in one finding's message
//! cannot leak through another finding's snippet.

use std::fmt::Write;
use std::io::IsTerminal;

use annotate_snippets::renderer::DecorStyle;
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::Options;
use crate::finding::{Finding, Mask, Report};
use crate::inventory::PromptInfo;
use crate::packs::Severity;
use crate::span::{ceil_char_boundary, floor_char_boundary, LineIndex};

fn renderer() -> Renderer {
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let r = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    r.decor_style(DecorStyle::Ascii)
}

pub fn render(report: &Report, opts: &Options<'_>) -> String {
    let renderer = renderer();
    let mut out = String::new();
    // Findings are sorted by path: each file's line index and masks are built once.
    for group in report.findings.chunk_by(|a, b| a.path == b.path) {
        let file = report.source(&group[0].path).map(|src| {
            let masks: Vec<&Mask> = if opts.show_pii {
                Vec::new()
            } else {
                group.iter().flat_map(|f| f.masks.iter()).collect()
            };
            (src, LineIndex::new(src), masks)
        });
        for f in group {
            out.push_str(&render_finding(&renderer, f, file.as_ref()));
            out.push_str("\n\n");
        }
    }
    if !opts.quiet {
        out.push_str(&summary(report));
    }
    out
}

fn summary(report: &Report) -> String {
    let n = report.findings.len();
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
    let mut s = String::new();
    if n == 0 {
        if report.prompts == 0 {
            let _ = writeln!(
                s,
                "no prompts found ({} files scanned)",
                report.files_scanned
            );
        } else {
            let _ = writeln!(
                s,
                "All clear: {} prompts in {} files, no findings.",
                report.prompts, report.files_scanned
            );
        }
    } else {
        let _ = writeln!(
            s,
            "Found {n} finding{} ({} error, {} warning, {} info) in {} prompts across {} files.",
            if n == 1 { "" } else { "s" },
            count(Severity::Error),
            count(Severity::Warning),
            count(Severity::Info),
            report.prompts,
            report.files_scanned
        );
    }
    s
}

fn level(s: Severity) -> Level<'static> {
    match s {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
    }
}

/// The lines from `first` to `last` (0-based) of `text`, with every mask inside applied.
/// Returns the excerpt and a function mapping file offsets into it.
struct Excerpt {
    text: String,
    /// `(file offset, excerpt offset)` anchors, sorted; offsets between anchors shift linearly.
    start: usize,
    edits: Vec<(usize, usize, isize)>,
}

impl Excerpt {
    fn new(src: &str, index: &LineIndex, first: usize, last: usize, masks: &[&Mask]) -> Excerpt {
        let start = index.line_start(first).min(src.len());
        let end = index.line_range(src, last).1.max(start);
        let mut text = String::with_capacity(end - start);
        let mut edits = Vec::new();
        let mut at = start;
        // Every mask that touches the excerpt applies, clamped to it; overlapping masks merge,
        // so no byte of a sensitive value is ever shown (a multi-line key cut by the excerpt,
        // two rules matching overlapping text).
        let mut sorted: Vec<&&Mask> = masks
            .iter()
            .filter(|m| m.span.start < end && m.span.end > start)
            .collect();
        sorted.sort_by_key(|m| m.span.start);
        let mut delta: isize = 0;
        for m in sorted {
            let (s, e) = (
                floor_char_boundary(src, m.span.start.max(at)),
                ceil_char_boundary(src, m.span.end.min(end)),
            );
            if e <= s {
                continue;
            }
            let masked = if s == m.span.start && e == m.span.end {
                m.masked.as_str()
            } else {
                "•••"
            };
            text.push_str(&src[at..s]);
            text.push_str(masked);
            delta += masked.len() as isize - (e - s) as isize;
            edits.push((s, e, delta));
            at = e;
        }
        text.push_str(&src[at..end]);
        Excerpt { text, start, edits }
    }

    fn map(&self, offset: usize) -> usize {
        let mut delta = 0isize;
        for &(s, e, d) in &self.edits {
            if offset >= e {
                delta = d;
            } else if offset > s {
                // Inside a masked value: point at the end of the mask.
                delta = d;
                return ((e - self.start) as isize + delta).max(0) as usize;
            }
        }
        (((offset.max(self.start) - self.start) as isize) + delta)
            .clamp(0, self.text.len() as isize) as usize
    }
}

/// One finding; `file` is its file's text, line index and every mask of that file.
fn render_finding(
    renderer: &Renderer,
    f: &Finding,
    file: Option<&(&str, LineIndex, Vec<&Mask>)>,
) -> String {
    let Some((src, index, masks)) = file else {
        return format!(
            "{}[{}]: {}\n --> {}:{}:{}",
            f.severity, f.rule, f.message, f.path, f.start.line, f.start.column
        );
    };
    let same_file: Vec<_> = f.related.iter().filter(|r| r.path == f.path).collect();
    let first = same_file
        .iter()
        .map(|r| r.start.line)
        .chain([f.start.line])
        .min()
        .unwrap_or(1)
        - 1;
    let last = same_file
        .iter()
        .map(|r| r.end.line)
        .chain([f.end.line])
        .max()
        .unwrap_or(1)
        - 1;
    let ex = Excerpt::new(src, index, first, last, masks);
    let (ps, pe) = (ex.map(f.span.start), ex.map(f.span.end));
    let label = f.message.clone();
    let mut snippet = Snippet::source(ex.text.as_str())
        .line_start(first + 1)
        .path(f.path.as_str())
        .fold(true)
        .annotation(
            AnnotationKind::Primary
                .span(ps..pe.max(ps))
                .label(short_label(&label)),
        );
    for r in &same_file {
        let (rs, re) = (ex.map(r.span.start), ex.map(r.span.end));
        snippet = snippet.annotation(
            AnnotationKind::Context
                .span(rs..re.max(rs))
                .label(r.message.as_str()),
        );
    }
    let mut groups = vec![level(f.severity)
        .primary_title(f.message.as_str())
        .id(f.rule.as_str())
        .element(snippet)];
    if let Some(help) = &f.help {
        groups.push(Group::with_title(
            Level::HELP.secondary_title(help.as_str()),
        ));
    }
    renderer.render(&groups)
}

fn short_label(message: &str) -> &str {
    message.split(':').next().unwrap_or(message)
}

pub fn render_inventory(prompts: &[PromptInfo], files: usize, quiet: bool) -> String {
    let mut out = String::new();
    if prompts.is_empty() {
        if !quiet {
            let _ = writeln!(out, "no prompts found ({files} files scanned)");
        }
        return out;
    }
    let rows: Vec<[String; 6]> = prompts
        .iter()
        .map(|p| {
            let place = if p.line == p.end_line {
                format!("{}:{}", p.path, p.line)
            } else {
                format!("{}:{}-{}", p.path, p.line, p.end_line)
            };
            [
                place,
                p.kind.to_string(),
                p.format.to_string(),
                p.chars.to_string(),
                p.examples.to_string(),
                p.id.clone(),
            ]
        })
        .collect();
    let headers = ["PLACE", "KIND", "FORMAT", "CHARS", "EXAMPLES", "ID"];
    let mut widths = headers.map(str::len);
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: [&str; 6]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == 5 {
                s.push_str(c);
            } else if i == 3 || i == 4 {
                let _ = write!(s, "{:>w$}  ", c, w = widths[i]);
            } else {
                let _ = write!(s, "{:<w$}  ", c, w = widths[i]);
            }
        }
        s.trim_end().to_string() + "\n"
    };
    out.push_str(&line(headers));
    for r in &rows {
        out.push_str(&line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]]));
    }
    if !quiet {
        let _ = writeln!(
            out,
            "\n{} prompts in {} files ({} files scanned)",
            prompts.len(),
            count_files(prompts),
            files
        );
    }
    out
}

fn count_files(prompts: &[PromptInfo]) -> usize {
    let mut paths: Vec<&str> = prompts.iter().map(|p| p.path.as_str()).collect();
    paths.dedup();
    paths.len()
}
