//! Prompt text under construction, with a per-byte record of where each byte came from.
//!
//! Python builds prompt strings at run time (`dedent`, `.strip()`, `.format`, `%`, `"\n".join`),
//! so the extractor first builds a `Frag`: text plus, for every byte, its origin (a file byte
//! copied verbatim, a decoded escape's source range, or nothing). Transforms that drop bytes
//! (dedent, strip, `{{` -> `{`) keep the surviving bytes' origins, so the final `OffsetMap`
//! still satisfies the invariant: a verbatim piece's prompt bytes equal its file bytes. This
//! module also decodes one string literal (prefixes, escapes, f-string fields) into a `Frag`.
//! It does not resolve names or know about call sites (see `sites.rs` and the parent module).

use crate::lazy_regex::LazyRegex;
use crate::prompt::{Placeholder, PlaceholderSyntax, PromptBuilder, Volatility};
use crate::span::{FileSpan, PromptSpan};

/// Where one byte of a `Frag` came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Src {
    File(usize),
    Decoded(usize),
    Synthetic,
}

/// A placeholder whose span indexes the `Frag` text.
#[derive(Debug, Clone)]
pub(super) struct Slot {
    pub name: String,
    pub expr: Option<String>,
    pub resolved: Option<String>,
    pub syntax: PlaceholderSyntax,
    pub start: usize,
    pub end: usize,
}

/// Text with a per-byte origin map and placeholders.
#[derive(Debug, Clone, Default)]
pub(super) struct Frag {
    pub text: String,
    src: Vec<Src>,
    decoded: Vec<FileSpan>,
    pub slots: Vec<Slot>,
    /// Bytes that came from string literals (not from expressions or separators).
    pub literal_bytes: usize,
}

static BRACE_FIELD: LazyRegex = LazyRegex::whole_texts(
    r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\[[A-Za-z0-9_]+\])*|[0-9]*)(?:![rsa])?(?::[^{}]*)?\}",
)
.needing(b"{");
static DOUBLE_BRACE: LazyRegex =
    LazyRegex::whole_texts(r"\{\{-?\s*\$?([A-Za-z_][A-Za-z0-9_.]*)[^{}]*?-?\}\}").needing(b"{");
static PERCENT: LazyRegex = LazyRegex::whole_texts(
    r"%(?:\(([A-Za-z_][A-Za-z0-9_]*)\))?[-#0 +]*[0-9*]*(?:\.[0-9*]+)?[sdirfgexXocaEGF%]",
);

impl Frag {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Bytes of literal text outside placeholders and separators: what minimum lengths count.
    pub fn prose_len(&self) -> usize {
        let mut covered = vec![false; self.text.len()];
        for s in &self.slots {
            let end = s.end.min(covered.len());
            covered[s.start.min(end)..end]
                .iter_mut()
                .for_each(|c| *c = true);
        }
        self.src
            .iter()
            .zip(covered)
            .filter(|(s, c)| !*c && **s != Src::Synthetic)
            .count()
    }

    /// Literal text identical to the file bytes at `at`.
    pub fn verbatim(&mut self, s: &str, at: usize) {
        self.text.push_str(s);
        self.src.extend((0..s.len()).map(|i| Src::File(at + i)));
        self.literal_bytes += s.len();
    }

    /// Literal text decoded from a differently written source range.
    pub fn decoded(&mut self, s: &str, span: FileSpan) {
        if s.is_empty() {
            return;
        }
        let idx = self.decoded.len();
        self.decoded.push(span);
        self.text.push_str(s);
        self.src
            .extend(std::iter::repeat_n(Src::Decoded(idx), s.len()));
        self.literal_bytes += s.len();
    }

    /// Text with no source (a separator).
    pub fn synthetic(&mut self, s: &str) {
        self.text.push_str(s);
        self.src
            .extend(std::iter::repeat_n(Src::Synthetic, s.len()));
    }

    /// A non-literal value: `{<expr>}` mapped to the expression's source, as a placeholder.
    pub fn expression(&mut self, expr: &str, span: FileSpan, resolved: Option<String>) {
        let start = self.text.len();
        let shown = format!("{{{}}}", squash(expr));
        let idx = self.decoded.len();
        self.decoded.push(span);
        self.text.push_str(&shown);
        self.src
            .extend(std::iter::repeat_n(Src::Decoded(idx), shown.len()));
        self.slots.push(Slot {
            name: squash(expr),
            expr: Some(squash(expr)),
            resolved,
            syntax: PlaceholderSyntax::Expression,
            start,
            end: self.text.len(),
        });
    }

    pub fn append(&mut self, other: Frag) {
        let shift = self.text.len();
        let dshift = self.decoded.len();
        self.text.push_str(&other.text);
        self.src.extend(other.src.into_iter().map(|s| match s {
            Src::Decoded(i) => Src::Decoded(i + dshift),
            s => s,
        }));
        self.decoded.extend(other.decoded);
        self.slots.extend(other.slots.into_iter().map(|mut s| {
            s.start += shift;
            s.end += shift;
            s
        }));
        self.literal_bytes += other.literal_bytes;
    }

    /// Keeps the bytes whose `keep` flag is set. Only ASCII bytes may be dropped.
    fn retain(&mut self, keep: &[bool]) {
        let mut text = String::with_capacity(self.text.len());
        let mut src = Vec::with_capacity(self.src.len());
        let mut new_index = Vec::with_capacity(keep.len() + 1);
        let bytes = self.text.as_bytes();
        let mut run_start = None;
        for (i, &k) in keep.iter().enumerate() {
            new_index.push(src.len());
            let k = k || !bytes[i].is_ascii();
            if k {
                src.push(self.src[i]);
                run_start.get_or_insert(i);
            } else if let Some(s) = run_start.take() {
                text.push_str(&self.text[s..i]);
            }
        }
        if let Some(s) = run_start {
            text.push_str(&self.text[s..]);
        }
        new_index.push(src.len());
        let dropped = self.text.len() - text.len();
        self.text = text;
        self.src = src;
        self.literal_bytes = self.literal_bytes.saturating_sub(dropped);
        for s in &mut self.slots {
            s.start = new_index[s.start.min(keep.len())];
            s.end = new_index[s.end.min(keep.len())];
        }
        self.slots.retain(|s| s.end > s.start);
    }

    /// `str.strip()` family: `left`/`right` choose the sides.
    pub fn strip(&mut self, left: bool, right: bool) {
        let t = self.text.as_bytes();
        let mut keep = vec![true; t.len()];
        if left {
            for (i, b) in t.iter().enumerate() {
                if b.is_ascii_whitespace() {
                    keep[i] = false;
                } else {
                    break;
                }
            }
        }
        if right {
            for (i, b) in t.iter().enumerate().rev() {
                if b.is_ascii_whitespace() {
                    keep[i] = false;
                } else {
                    break;
                }
            }
        }
        self.retain(&keep);
    }

    /// `textwrap.dedent`: whitespace-only lines become empty, then the longest common leading
    /// whitespace of the other lines is removed from each.
    pub fn dedent(&mut self) {
        let lines = line_ranges(&self.text);
        let t = self.text.as_bytes();
        let mut margin: Option<&[u8]> = None;
        for &(s, e) in &lines {
            let indent_len = t[s..e]
                .iter()
                .take_while(|b| **b == b' ' || **b == b'\t')
                .count();
            if s + indent_len == e {
                continue;
            }
            let indent = &t[s..s + indent_len];
            margin = Some(match margin {
                None => indent,
                Some(m) => {
                    let common = m.iter().zip(indent).take_while(|(a, b)| a == b).count();
                    &m[..common]
                }
            });
        }
        let margin = margin.map(|m| m.len()).unwrap_or(0);
        let mut keep = vec![true; t.len()];
        for &(s, e) in &lines {
            let indent_len = t[s..e]
                .iter()
                .take_while(|b| **b == b' ' || **b == b'\t')
                .count();
            let cut = if s + indent_len == e {
                indent_len
            } else {
                margin
            };
            keep[s..s + cut].iter_mut().for_each(|k| *k = false);
        }
        self.retain(&keep);
    }

    /// `inspect.cleandoc`: strip the first line's indentation, remove the common indentation of
    /// the following lines, and drop leading and trailing blank lines.
    pub fn cleandoc(&mut self) {
        let lines = line_ranges(&self.text);
        let t = self.text.as_bytes();
        let indent = |s: usize, e: usize| {
            t[s..e]
                .iter()
                .take_while(|b| **b == b' ' || **b == b'\t')
                .count()
        };
        let margin = lines
            .iter()
            .skip(1)
            .filter(|&&(s, e)| s + indent(s, e) < e)
            .map(|&(s, e)| indent(s, e))
            .min()
            .unwrap_or(0);
        let mut keep = vec![true; t.len()];
        let mut kept_lines: Vec<(usize, usize, bool)> = Vec::new();
        for (n, &(s, e)) in lines.iter().enumerate() {
            let cut = if n == 0 {
                indent(s, e)
            } else {
                margin.min(e - s)
            };
            keep[s..s + cut].iter_mut().for_each(|k| *k = false);
            kept_lines.push((s, e, s + cut == e));
        }
        // Leading and trailing empty lines (with their newline) go.
        let first = kept_lines.iter().position(|l| !l.2);
        let last = kept_lines.iter().rposition(|l| !l.2);
        match (first, last) {
            (Some(f), Some(l)) => {
                let start = kept_lines[f].0;
                let end = kept_lines[l].1;
                keep[..start].iter_mut().for_each(|k| *k = false);
                keep[end..].iter_mut().for_each(|k| *k = false);
            }
            _ => keep.iter_mut().for_each(|k| *k = false),
        }
        self.retain(&keep);
    }

    /// Finds `{name}` fields (and `{{ name }}` Jinja variables) in literal text that has not
    /// been formatted yet. Runs per literal, before pieces are joined.
    pub fn scan_template_fields(&mut self) {
        let mut found = Vec::new();
        for c in DOUBLE_BRACE.captures_iter(&self.text) {
            let (Some(m), Some(n)) = (c.get(0), c.get(1)) else {
                continue;
            };
            found.push(slot(
                n.as_str(),
                None,
                PlaceholderSyntax::DoubleBrace,
                m.start(),
                m.end(),
            ));
        }
        for c in BRACE_FIELD.captures_iter(&self.text) {
            let (Some(m), Some(n)) = (c.get(0), c.get(1)) else {
                continue;
            };
            let bytes = self.text.as_bytes();
            let escaped = (m.start() > 0 && bytes[m.start() - 1] == b'{')
                || bytes.get(m.end()) == Some(&b'}');
            if escaped
                || found
                    .iter()
                    .any(|s: &Slot| s.start <= m.start() && m.end() <= s.end)
            {
                continue;
            }
            found.push(slot(
                n.as_str(),
                None,
                PlaceholderSyntax::Brace,
                m.start(),
                m.end(),
            ));
        }
        self.slots.extend(found);
        self.slots.sort_by_key(|s| s.start);
    }

    /// `str.format(...)`: fills each brace field's `expr` from the visible arguments and turns
    /// `{{`/`}}` into single braces (Jinja `{{ x }}` fields stop being placeholders).
    pub fn apply_format(&mut self, keywords: &[(String, String)], positional: &[String]) {
        let mut auto = 0usize;
        for s in &mut self.slots {
            match s.syntax {
                PlaceholderSyntax::Brace => {
                    if s.name.is_empty() {
                        s.expr = positional.get(auto).cloned();
                        if let Some(e) = &s.expr {
                            s.name = e.clone();
                        }
                        auto += 1;
                    } else if let Ok(i) = s.name.parse::<usize>() {
                        s.expr = positional.get(i).cloned();
                    } else {
                        let head = s.name.split(['.', '[']).next().unwrap_or("");
                        s.expr = keywords
                            .iter()
                            .find(|(k, _)| k == head)
                            .map(|(_, v)| v.clone());
                    }
                }
                PlaceholderSyntax::DoubleBrace => s.syntax = PlaceholderSyntax::Expression,
                _ => {}
            }
        }
        self.slots
            .retain(|s| s.syntax != PlaceholderSyntax::Expression || s.expr.is_some());
        self.collapse_pairs(b'{', b'}');
    }

    /// `.replace(marker, expr)`: each occurrence of `marker` becomes (or fills) a placeholder.
    pub fn fill_marker(&mut self, marker: &str, expr: &str, resolved: Option<String>) {
        let starts: Vec<usize> = self.text.match_indices(marker).map(|(i, _)| i).collect();
        for start in starts {
            let end = start + marker.len();
            if let Some(s) = self
                .slots
                .iter_mut()
                .find(|s| s.start == start && s.end == end)
            {
                s.expr = Some(expr.to_string());
                s.resolved.clone_from(&resolved);
                continue;
            }
            if self.slots.iter().any(|s| s.start < end && start < s.end) {
                continue;
            }
            let t = marker.trim();
            let syntax = if t.starts_with("{{") {
                PlaceholderSyntax::DoubleBrace
            } else if t.starts_with('{') {
                PlaceholderSyntax::Brace
            } else if t.starts_with('$') {
                PlaceholderSyntax::Dollar
            } else {
                PlaceholderSyntax::Expression
            };
            let name = t.trim_matches(|c: char| "{}$[]<>% ".contains(c));
            let name = if name.is_empty() { t } else { name };
            let mut s = slot(name, Some(expr.to_string()), syntax, start, end);
            s.resolved.clone_from(&resolved);
            self.slots.push(s);
        }
        self.slots.sort_by_key(|s| s.start);
    }

    /// `template % args`: `%s`/`%(name)s` become placeholders; `%%` becomes `%`.
    pub fn apply_percent(&mut self, keywords: &[(String, String)], positional: &[String]) {
        let mut auto = 0usize;
        let mut found = Vec::new();
        let mut keep = vec![true; self.text.len()];
        let mut widen = Vec::new();
        for c in PERCENT.captures_iter(&self.text) {
            let Some(m) = c.get(0) else { continue };
            if m.as_str() == "%%" {
                keep[m.start() + 1] = false;
                widen.push(m.start());
                continue;
            }
            let named = c.get(1).map(|n| n.as_str().to_string());
            let (name, expr) = match named {
                Some(n) => {
                    let e = keywords
                        .iter()
                        .find(|(k, _)| *k == n)
                        .map(|(_, v)| v.clone());
                    (n, e)
                }
                None => {
                    let e = positional.get(auto).cloned();
                    auto += 1;
                    (e.clone().unwrap_or_else(|| m.as_str().to_string()), e)
                }
            };
            found.push(slot(
                &name,
                expr,
                PlaceholderSyntax::Percent,
                m.start(),
                m.end(),
            ));
        }
        self.slots.retain(|s| s.syntax != PlaceholderSyntax::Brace);
        self.slots.extend(found);
        self.slots.sort_by_key(|s| s.start);
        for i in widen {
            self.widen(i);
        }
        self.retain(&keep);
    }

    /// Before byte `i + 1` is dropped: byte `i` now stands for both file bytes (`{{` -> `{`).
    fn widen(&mut self, i: usize) {
        if let (Some(Src::File(a)), Some(Src::File(b))) =
            (self.src.get(i).copied(), self.src.get(i + 1).copied())
        {
            if b == a + 1 {
                let idx = self.decoded.len();
                self.decoded.push(FileSpan::new(a, a + 2));
                self.src[i] = Src::Decoded(idx);
            }
        }
    }

    /// Drops the second byte of each `{{` and `}}` outside placeholders.
    fn collapse_pairs(&mut self, open: u8, close: u8) {
        let t = self.text.as_bytes();
        let mut keep = vec![true; t.len()];
        let mut widen = Vec::new();
        let mut i = 0;
        while i + 1 < t.len() {
            let in_slot = self.slots.iter().any(|s| s.start <= i && i < s.end);
            if !in_slot
                && ((t[i] == open && t[i + 1] == open) || (t[i] == close && t[i + 1] == close))
            {
                keep[i + 1] = false;
                widen.push(i);
                i += 2;
            } else {
                i += 1;
            }
        }
        for i in widen {
            self.widen(i);
        }
        self.retain(&keep);
    }

    /// Writes this text into a prompt builder and returns its prompt span there.
    pub fn push_into(self, b: &mut PromptBuilder) -> PromptSpan {
        let base = b.len();
        let mut i = 0;
        let n = self.text.len();
        while i < n {
            let mut j = i + 1;
            match self.src[i] {
                Src::File(f) => {
                    while j < n && self.src[j] == Src::File(f + (j - i)) {
                        j += 1;
                    }
                    b.push_verbatim(&self.text[i..j], f);
                }
                Src::Decoded(d) => {
                    while j < n && self.src[j] == Src::Decoded(d) {
                        j += 1;
                    }
                    b.push_decoded(&self.text[i..j], self.decoded[d]);
                }
                Src::Synthetic => {
                    while j < n && self.src[j] == Src::Synthetic {
                        j += 1;
                    }
                    b.push_synthetic(&self.text[i..j]);
                }
            }
            i = j;
        }
        for s in self.slots {
            b.placeholders.push(Placeholder {
                name: s.name,
                expr: s.expr,
                resolved: s.resolved,
                syntax: s.syntax,
                volatility: Volatility::Unknown,
                span: PromptSpan::new(base + s.start, base + s.end),
            });
        }
        PromptSpan::new(base, b.len())
    }
}

fn slot(
    name: &str,
    expr: Option<String>,
    syntax: PlaceholderSyntax,
    start: usize,
    end: usize,
) -> Slot {
    Slot {
        name: name.to_string(),
        expr,
        resolved: None,
        syntax,
        start,
        end,
    }
}

/// Collapses runs of whitespace (an expression written over several lines) to one space.
pub(super) fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `(start, end)` of each line's content, without the newline.
fn line_ranges(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut s = 0;
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' {
            out.push((s, i));
            s = i + 1;
        }
    }
    out.push((s, text.len()));
    out
}

/// How a literal is written.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Prefix {
    pub raw: bool,
    pub bytes: bool,
    pub fstring: bool,
}

pub(super) fn parse_prefix(p: &str) -> Prefix {
    let l = p.to_ascii_lowercase();
    Prefix {
        raw: l.contains('r'),
        bytes: l.contains('b'),
        fstring: l.contains('f') || l.contains('t'),
    }
}

/// Decodes the literal bytes `src[start..end]` (no quotes, no f-string fields) into `out`.
pub(super) fn decode_into(out: &mut Frag, src: &str, start: usize, end: usize, p: Prefix) {
    let b = src.as_bytes();
    let mut i = start;
    let mut run = start;
    let flush = |out: &mut Frag, run: usize, i: usize| {
        if i > run {
            out.verbatim(&src[run..i], run);
        }
    };
    while i < end {
        let c = b[i];
        let step: Option<(String, usize)> = if c == b'\\' && !p.raw && i + 1 < end {
            escape(src, i + 1, end)
        } else if p.fstring
            && i + 1 < end
            && ((c == b'{' && b[i + 1] == b'{') || (c == b'}' && b[i + 1] == b'}'))
        {
            Some(((c as char).to_string(), 2))
        } else if c == b'\r' && i + 1 < end && b[i + 1] == b'\n' {
            Some(("\n".to_string(), 2))
        } else {
            None
        };
        match step {
            Some((text, len)) => {
                flush(out, run, i);
                if text == src[i..i + len] {
                    out.verbatim(&text, i);
                } else {
                    out.decoded(&text, FileSpan::new(i, i + len));
                }
                i += len;
                run = i;
            }
            None => i += 1,
        }
    }
    flush(out, run, end.max(run));
}

/// Decodes the escape whose letter is at `i` (after the backslash): `(text, source length)`.
fn escape(src: &str, i: usize, end: usize) -> Option<(String, usize)> {
    let b = src.as_bytes();
    let c = b[i];
    let simple = |s: &str| Some((s.to_string(), 2));
    match c {
        b'\n' => simple(""),
        b'\r' => Some((
            String::new(),
            if b.get(i + 1) == Some(&b'\n') { 3 } else { 2 },
        )),
        b'\\' => simple("\\"),
        b'\'' => simple("'"),
        b'"' => simple("\""),
        b'a' => simple("\x07"),
        b'b' => simple("\x08"),
        b'f' => simple("\x0c"),
        b'n' => simple("\n"),
        b'r' => simple("\r"),
        b't' => simple("\t"),
        b'v' => simple("\x0b"),
        b'0'..=b'7' => {
            let n = b[i..end.min(i + 3)]
                .iter()
                .take_while(|d| (b'0'..=b'7').contains(d))
                .count();
            let v = u32::from_str_radix(&src[i..i + n], 8).ok()?;
            Some((char::from_u32(v)?.to_string(), n + 1))
        }
        b'x' | b'u' | b'U' => {
            let n = match c {
                b'x' => 2,
                b'u' => 4,
                _ => 8,
            };
            let hex = src
                .get(i + 1..i + 1 + n)
                .filter(|h| i + 1 + n <= end && h.bytes().all(|d| d.is_ascii_hexdigit()))?;
            let v = u32::from_str_radix(hex, 16).ok()?;
            Some((char::from_u32(v)?.to_string(), n + 2))
        }
        // `\N{NAME}` needs the Unicode name table: kept as written.
        _ => None,
    }
}
