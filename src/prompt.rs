//! The prompt model: what the model receives, and where every byte of it came from.
//!
//! A `Prompt` holds the text a model receives before placeholders are filled, an `OffsetMap`
//! from each byte of that text back to the host file, its placeholders (with the expression
//! that fills them and a volatility class) and its segments (roles, sections, few-shot
//! examples...). Extractors build prompts with `PromptBuilder`, which keeps the map's invariant:
//! for a verbatim piece the prompt bytes equal the file bytes. Decoded pieces (escapes, `{{` in
//! f-strings) map to their whole source range; synthetic pieces (separators between messages)
//! map to nothing and borrow the position of their neighbour.

use serde::Serialize;

use crate::segment::Segment;
use crate::span::{FileSpan, PromptSpan};

/// One contiguous run of prompt bytes and the file bytes it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub prompt_start: usize,
    pub prompt_len: usize,
    pub file_start: usize,
    pub file_len: usize,
    /// Prompt bytes equal file bytes one for one.
    pub verbatim: bool,
}

/// Sorted, non-overlapping pieces covering the mapped parts of a prompt's text.
#[derive(Debug, Clone, Default)]
pub struct OffsetMap {
    pieces: Vec<Piece>,
}

impl OffsetMap {
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// Maps a prompt span to the file span it came from. A span that starts or ends inside a
    /// decoded piece widens to the piece's whole source range; one that starts or ends in a
    /// synthetic gap snaps to the nearest mapped byte.
    pub fn to_file(&self, span: PromptSpan) -> FileSpan {
        if self.pieces.is_empty() {
            return FileSpan::default();
        }
        let start = self.map_start(span.start);
        let end = if span.is_empty() { start } else { self.map_end(span.end) };
        FileSpan::new(start, end.max(start))
    }

    fn map_start(&self, offset: usize) -> usize {
        // First piece whose end is beyond offset.
        let i = self.pieces.partition_point(|p| p.prompt_start + p.prompt_len <= offset);
        match self.pieces.get(i) {
            Some(p) if offset >= p.prompt_start => {
                if p.verbatim {
                    p.file_start + (offset - p.prompt_start)
                } else {
                    p.file_start
                }
            }
            Some(p) => p.file_start,
            None => self.pieces.last().map(|p| p.file_start + p.file_len).unwrap_or(0),
        }
    }

    fn map_end(&self, offset: usize) -> usize {
        // Last piece starting before offset.
        let i = self.pieces.partition_point(|p| p.prompt_start < offset);
        if i == 0 {
            return self.pieces[0].file_start;
        }
        let p = self.pieces[i - 1];
        if offset >= p.prompt_start + p.prompt_len {
            p.file_start + p.file_len
        } else if p.verbatim {
            p.file_start + (offset - p.prompt_start)
        } else {
            p.file_start + p.file_len
        }
    }

    /// The prompt offset of a file offset, if that byte is mapped verbatim.
    pub fn to_prompt(&self, file_offset: usize) -> Option<usize> {
        self.pieces.iter().find_map(|p| {
            (p.verbatim && file_offset >= p.file_start && file_offset < p.file_start + p.file_len)
                .then(|| p.prompt_start + (file_offset - p.file_start))
        })
    }

    /// The union of all mapped file bytes.
    pub fn file_extent(&self) -> FileSpan {
        let start = self.pieces.iter().map(|p| p.file_start).min().unwrap_or(0);
        let end = self.pieces.iter().map(|p| p.file_start + p.file_len).max().unwrap_or(0);
        FileSpan::new(start, end)
    }
}

/// How a placeholder is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlaceholderSyntax {
    /// `{expr}` inside a Python f-string.
    FString,
    /// `{name}` filled by `str.format` or a template engine using single braces.
    Brace,
    /// `{{ name }}` (Jinja, Handlebars, Mustache, Dotprompt, Prompty).
    DoubleBrace,
    /// `{{$name}}` (Semantic Kernel).
    SemanticKernel,
    /// `%s`, `%(name)s`.
    Percent,
    /// `$name` / `${name}` (string.Template).
    Dollar,
    /// `{% for x in ... %}` and other Jinja statements.
    JinjaBlock,
    /// A non-literal operand of `+` or a resolved name that could not be read.
    Expression,
}

/// Whether a placeholder's value changes from request to request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Volatility {
    /// Same for every request of a deployment (`{company_name}`).
    Static,
    /// Unknown: could be either.
    Unknown,
    /// Changes per request (dates, ids, user data, random).
    Volatile,
}

/// A slot in the prompt text filled at run time.
#[derive(Debug, Clone, Serialize)]
pub struct Placeholder {
    /// The name as written (`email`, `user.name`), or the expression text for f-strings.
    pub name: String,
    /// The expression that fills it, when the source shows it (`datetime.now()`).
    pub expr: Option<String>,
    /// For a name or call resolved within the module: the source of its definition.
    #[serde(skip)]
    pub resolved: Option<String>,
    pub syntax: PlaceholderSyntax,
    pub volatility: Volatility,
    #[serde(skip)]
    pub span: PromptSpan,
}

/// Where a prompt was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Origin {
    /// A string bound to a name (`SYSTEM_PROMPT = "..."`).
    Assignment { name: String },
    /// Argument(s) of a call (`client.chat.completions.create(messages=...)`).
    Call { callee: String, keyword: Option<String> },
    /// A whole file (or a file's body after front matter).
    File,
    /// A value under a key of a structured file (YAML `system_prompt:`).
    Key { key: String },
}

/// The file format a prompt came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PromptFormat {
    Python,
    Notebook,
    Dotprompt,
    Prompty,
    Jinja,
    Mustache,
    Markdown,
    Text,
    Yaml,
    Json,
}

impl PromptFormat {
    pub fn name(self) -> &'static str {
        match self {
            Self::Python => "python",
            Self::Notebook => "notebook",
            Self::Dotprompt => "dotprompt",
            Self::Prompty => "prompty",
            Self::Jinja => "jinja",
            Self::Mustache => "mustache",
            Self::Markdown => "markdown",
            Self::Text => "text",
            Self::Yaml => "yaml",
            Self::Json => "json",
        }
    }
}

/// One prompt found in a file.
#[derive(Debug, Clone)]
pub struct Prompt {
    /// Stable id: `path#name` for inline prompts, the path for a whole-file prompt.
    pub id: String,
    pub text: String,
    pub map: OffsetMap,
    pub origin: Origin,
    pub format: PromptFormat,
    /// Inline in source code (as opposed to a prompt file).
    pub inline: bool,
    pub placeholders: Vec<Placeholder>,
    /// Sorted by start; nesting by containment.
    pub segments: Vec<Segment>,
    /// Model named in front matter or a call's `model=` argument.
    pub model: Option<String>,
    /// Prompt offsets where an explicit cache breakpoint (Anthropic `cache_control`) ends a block.
    pub cache_breakpoints: Vec<usize>,
    /// Fewer than ~40 chars glued to other pieces at run time; kept out of registry findings.
    pub fragment: bool,
    /// Registry ids this prompt was loaded with, for prompts built around a loader call.
    pub loader_ids: Vec<String>,
}

impl Prompt {
    pub fn new(id: String, origin: Origin, format: PromptFormat, inline: bool) -> Self {
        Self {
            id,
            text: String::new(),
            map: OffsetMap::default(),
            origin,
            format,
            inline,
            placeholders: Vec::new(),
            segments: Vec::new(),
            model: None,
            cache_breakpoints: Vec::new(),
            fragment: false,
            loader_ids: Vec::new(),
        }
    }

    /// The file bytes this prompt covers, first mapped byte to last.
    pub fn file_span(&self) -> FileSpan {
        self.map.file_extent()
    }

    pub fn slice(&self, span: PromptSpan) -> &str {
        let s = crate::span::floor_char_boundary(&self.text, span.start);
        let e = crate::span::ceil_char_boundary(&self.text, span.end);
        &self.text[s..e.max(s)]
    }

    /// Number of few-shot examples found by segmentation.
    pub fn example_count(&self) -> usize {
        self.segments.iter().filter(|s| matches!(s.kind, crate::segment::SegmentKind::Example { .. })).count()
    }
}

/// Appends text to a prompt while recording where each byte came from.
#[derive(Debug, Default)]
pub struct PromptBuilder {
    pub text: String,
    pub map: OffsetMap,
    pub placeholders: Vec<Placeholder>,
}

impl PromptBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Text copied byte for byte from the file at `file_start`.
    pub fn push_verbatim(&mut self, text: &str, file_start: usize) {
        if text.is_empty() {
            return;
        }
        let prompt_start = self.text.len();
        // Merge with the previous piece when contiguous in both spaces.
        if let Some(last) = self.map.pieces.last_mut() {
            if last.verbatim
                && last.prompt_start + last.prompt_len == prompt_start
                && last.file_start + last.file_len == file_start
            {
                last.prompt_len += text.len();
                last.file_len += text.len();
                self.text.push_str(text);
                return;
            }
        }
        self.map.pieces.push(Piece { prompt_start, prompt_len: text.len(), file_start, file_len: text.len(), verbatim: true });
        self.text.push_str(text);
    }

    /// Text decoded from a differently written source range (an escape sequence).
    pub fn push_decoded(&mut self, text: &str, source: FileSpan) {
        if text.is_empty() {
            return;
        }
        let prompt_start = self.text.len();
        self.map.pieces.push(Piece {
            prompt_start,
            prompt_len: text.len(),
            file_start: source.start,
            file_len: source.len(),
            verbatim: false,
        });
        self.text.push_str(text);
    }

    /// Text with no source (a separator between messages).
    pub fn push_synthetic(&mut self, text: &str) {
        self.text.push_str(text);
    }

    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Appends another builder's content (e.g. a resolved constant), shifting its offsets.
    pub fn append(&mut self, other: PromptBuilder) {
        let shift = self.text.len();
        self.text.push_str(&other.text);
        self.map.pieces.extend(other.map.pieces.into_iter().map(|mut p| {
            p.prompt_start += shift;
            p
        }));
        self.placeholders.extend(other.placeholders.into_iter().map(|mut ph| {
            ph.span = PromptSpan::new(ph.span.start + shift, ph.span.end + shift);
            ph
        }));
    }

    /// Drops trailing pieces past `len` (used to undo a tentative append).
    pub fn truncate(&mut self, len: usize) {
        self.text.truncate(len);
        self.map.pieces.retain(|p| p.prompt_start < len);
        if let Some(last) = self.map.pieces.last_mut() {
            if last.prompt_start + last.prompt_len > len {
                let cut = last.prompt_start + last.prompt_len - len;
                last.prompt_len -= cut;
                if last.verbatim {
                    last.file_len -= cut;
                }
            }
        }
        self.placeholders.retain(|p| p.span.end <= len);
    }

    pub fn into_prompt(self, mut prompt: Prompt) -> Prompt {
        prompt.text = self.text;
        prompt.map = self.map;
        prompt.placeholders = self.placeholders;
        prompt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbatim_and_decoded_pieces_map_back() {
        // file: "ab\ncd" written as `"ab\\ncd"` at offset 10: a(10) b(11) \n(12..14) c(14) d(15)
        let mut b = PromptBuilder::new();
        b.push_verbatim("ab", 10);
        b.push_decoded("\n", FileSpan::new(12, 14));
        b.push_verbatim("cd", 14);
        assert_eq!(b.text, "ab\ncd");
        let m = &b.map;
        assert_eq!(m.to_file(PromptSpan::new(0, 2)), FileSpan::new(10, 12));
        assert_eq!(m.to_file(PromptSpan::new(2, 3)), FileSpan::new(12, 14));
        assert_eq!(m.to_file(PromptSpan::new(1, 4)), FileSpan::new(11, 15));
        assert_eq!(m.to_file(PromptSpan::new(3, 5)), FileSpan::new(14, 16));
        assert_eq!(m.to_prompt(15), Some(4));
        assert_eq!(m.to_prompt(12), None);
    }

    #[test]
    fn synthetic_gaps_snap_to_neighbours() {
        let mut b = PromptBuilder::new();
        b.push_verbatim("one", 0);
        b.push_synthetic("\n\n");
        b.push_verbatim("two", 100);
        assert_eq!(b.map.to_file(PromptSpan::new(0, 8)), FileSpan::new(0, 103));
        assert_eq!(b.map.to_file(PromptSpan::new(3, 5)), FileSpan::new(100, 100));
        assert_eq!(b.map.to_file(PromptSpan::new(5, 8)), FileSpan::new(100, 103));
    }

    #[test]
    fn adjacent_verbatim_pieces_merge() {
        let mut b = PromptBuilder::new();
        b.push_verbatim("ab", 0);
        b.push_verbatim("cd", 2);
        assert_eq!(b.map.pieces().len(), 1);
    }

    #[test]
    fn truncate_undoes_append() {
        let mut b = PromptBuilder::new();
        b.push_verbatim("abc", 0);
        b.push_verbatim("def", 10);
        b.truncate(4);
        assert_eq!(b.text, "abcd");
        assert_eq!(b.map.to_file(PromptSpan::new(3, 4)), FileSpan::new(10, 11));
    }
}
