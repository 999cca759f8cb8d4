//! Segmentation: roles, sections, few-shot examples, code blocks and quotes in prompt text.
//!
//! Extractors add the segments only they can see (a message's role, an `examples=[...]` list);
//! `segment` adds what the text itself shows: Markdown headings and XML-ish tags as sections,
//! fenced code blocks, quoted blocks, and few-shot examples. Examples come in two layers:
//! *example blocks* (an "Examples" section, an `<examples>` wrapper, an "EXAMPLES:" list), whose
//! whole body is data, and the individual *examples* inside or outside them (`<example>` tags,
//! "Example N:" / "### Example 2" / "**Example**:" headers, `Input:`/`Output:`, `Q:`/`A:`,
//! `User:`/`Assistant:`, `Customer:`/`Agent:` transcripts, JSON example lines, list items of an
//! examples list, user/assistant message pairs after a system message). Template slots
//! (`Input: {input}\nOutput:`), "for example" in prose and format specs (`Output: a JSON object
//! with ...`) are not examples. Segments are a flat vector sorted by start; nesting is
//! containment. Rule packs ask "is this span inside an example / code / quote?" through the
//! helpers at the bottom (`SegmentQuery`, `instruction_spans`), never by re-parsing text.
//!
//! Every pass is linear in the text (one regex pass each, line scans bounded by the next
//! header), so segmentation is cheap enough to run on every prompt.

use foldhash::{HashMap, HashMapExt};

use serde::Serialize;

use crate::lazy_regex::{Captures, Caseless, LazyRegex};
use crate::prompt::Prompt;
use crate::span::PromptSpan;

/// A chat role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    Developer,
    User,
    Assistant,
    Tool,
}

impl Role {
    /// Parses the role names used by SDKs, templates and transcripts.
    pub fn parse(name: &str) -> Option<Role> {
        match name.trim().to_ascii_lowercase().as_str() {
            "system" | "sys" => Some(Role::System),
            "developer" => Some(Role::Developer),
            "user" | "human" => Some(Role::User),
            "assistant" | "ai" | "model" | "bot" => Some(Role::Assistant),
            "tool" | "function" => Some(Role::Tool),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::Developer => "developer",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }

    /// System and developer messages carry instructions.
    pub fn is_instruction(self) -> bool {
        matches!(self, Role::System | Role::Developer)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SegmentKind {
    /// One message of a chat prompt.
    Role { role: Role },
    /// A Markdown heading's section or an XML-ish tag's body.
    Section { title: String },
    /// A block of few-shot examples as a whole (an "Examples" section's body, an `<examples>`
    /// wrapper, an "EXAMPLES:" list): data, even between its individual examples.
    ExampleBlock,
    /// One few-shot example (0-based index within the prompt).
    Example { index: usize },
    /// The input half of an example.
    ExampleInput,
    /// The output half of an example.
    ExampleOutput,
    /// A fenced or indented code block.
    CodeBlock,
    /// A quoted passage (`>` lines or a `"""` block inside the prompt).
    Quote,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    #[serde(flatten)]
    pub kind: SegmentKind,
    #[serde(skip)]
    pub span: PromptSpan,
}

impl Segment {
    pub fn new(kind: SegmentKind, span: PromptSpan) -> Self {
        Self { kind, span }
    }
}

static HEADING: LazyRegex =
    LazyRegex::whole_texts(r"(?m)^(#{1,6})[ \t]+(\S[^\n]*?)[ \t#]*$").needing(b"#");
/// A fence line: its run of backticks or tildes and the rest of the line (info string).
static FENCE: LazyRegex =
    LazyRegex::whole_texts(r"(?m)^[ \t]*(`{3,}|~{3,})([^\n]*)$").needing(b"`~");
/// An opening or closing XML-ish tag. Name and attributes are unbounded here and their
/// lengths checked after (`tag_fits`): bounded repeats of a Unicode class compile to hundreds
/// of copies, and neither part can hold a `<`, so no other tag starts inside a rejected one.
static TAG: LazyRegex =
    LazyRegex::whole_texts(r"<(/?)([A-Za-z][A-Za-z0-9_\-]*)(?:[ \t\r\n]([^<>]*))?>").needing(b"<");

/// A tag name of at most 41 characters and at most 200 characters of attributes.
fn tag_fits(c: &Captures) -> bool {
    c.get(2).is_some_and(|n| n.len() <= 41)
        && c.get(3).is_none_or(|a| a.as_str().chars().count() <= 200)
}
/// A header line opening one example: `Example 1:`, `### Example 2`, `**Example**:`,
/// `Example 3 - refund:`, `Sample output:`. "For example, ..." never starts a line this way,
/// and "Examples of ..." (plural, no colon) is prose.
static EXAMPLE_HEADER: Caseless = Caseless::whole_texts(
    r"(?m)^[ \t]*(?:#{1,6}[ \t]+)?(?:\*\*|__)?(?:few[- ]shot[ \t]+)?(?:example|sample|demonstration|demo)(?:[ \t]*#?[0-9]{1,3}|[ \t]+(?:[ivx]{1,4}|[a-z]|input|output|response|answer|conversation|dialogue|dialog|interaction|exchange|query|request|usage|prompt|call|email|message|ticket))?(?:\*\*|__)?[ \t]*(?:$|[:.()\-\x{2013}\x{2014}][^\n]*$)",
);
/// A line announcing a list of examples: `EXAMPLES:`, `Here are some examples:`.
static EXAMPLES_LABEL: Caseless = Caseless::whole_texts(
    r"(?m)^[ \t]*(?:\*\*|__)?(?:[a-z][a-z' ,\-]{0,48}[ \t])?(?:examples|samples|demonstrations|few[- ]shots?(?:[ \t]+examples)?)(?:[ \t]+(?:below|follow|of [a-z ]{1,30}))?(?:\*\*|__)?[ \t]*:(?:\*\*|__)?[ \t]*$",
)
.needing(b":");
/// A heading title that makes its section an examples block.
static EXAMPLES_TITLE: Caseless =
    Caseless::new(r"(?-u:\b)(?:examples?|samples?|demonstrations?|few[- ]shots?)(?-u:\b)");
/// A line opening a turn of an inline transcript or an input/output pair.
static TURN: Caseless = Caseless::whole_texts(
    r"(?m)^[ \t]*(?:[-*>][ \t]+)?(?:\*\*|__)?(input|output|question|answer|q|a|user|human|customer|client|assistant|ai|agent|bot|model|query|response|request|text|label|sentence|sentiment|review|category|message|reply|email|sql|completion)(?:[ \t]*[0-9]{1,2})?(?:\*\*|__)?[ \t]*:(?:\*\*|__)?",
)
.needing(b":");
/// The start of an output value that describes a format rather than showing one.
static FORMAT_SPEC: Caseless = Caseless::new(
    r"^(?:a|an|the|one|your|valid|only|strictly|return)[ \t][^\n]{0,60}(?-u:\b)(?:json|object|list|array|string|table|markdown|yaml|xml|csv|label|number|integer|sentence|paragraph|summary|category|score|boolean|dictionary|dict|format)(?-u:\b)",
);
/// The start of an input value that describes what will be given rather than showing it.
static INPUT_SPEC: Caseless = Caseless::new(
    r"^(?:a|an|the|your|any|some)[ \t][^\n]{0,40}(?-u:\b)(?:text|message|question|email|document|input|query|request|string|passage|ticket|review|article|conversation|transcript|description|content)s?(?-u:\b)",
);

/// Adds text-derived segments to `prompt.segments` and sorts them.
pub fn segment(prompt: &mut Prompt) {
    let text = prompt.text.as_str();
    let mut found = Vec::new();
    let code = code_blocks(text);
    found.extend(
        code.iter()
            .map(|s| Segment::new(SegmentKind::CodeBlock, *s)),
    );
    let heads = headings(text, &code);
    let tags = tag_pairs(text, &code);
    sections(&heads, &tags, &mut found);
    quotes(text, &code, &mut found);
    let examples = find_examples(text, &code, &heads, &tags, &prompt.segments, &mut found);
    push_examples(&prompt.segments, examples, &mut found);
    prompt.segments.extend(found);
    prompt
        .segments
        .sort_by_key(|s| (s.span.start, std::cmp::Reverse(s.span.end)));
    prompt.segments.dedup();
}

/// Whether `at` lies inside one of `spans` (sorted by start, non-overlapping).
fn inside_sorted(spans: &[PromptSpan], at: usize) -> bool {
    let i = spans.partition_point(|s| s.start <= at);
    i > 0 && at < spans[i - 1].end
}

/// Sorted, merged copy of `spans`.
fn merged(mut spans: Vec<PromptSpan>) -> Vec<PromptSpan> {
    spans.sort_by_key(|s| s.start);
    let mut out: Vec<PromptSpan> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last_mut() {
            Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
            _ => out.push(s),
        }
    }
    out
}

/// Fenced code blocks, CommonMark-style: a fence closes only with the same character, at least
/// as many of them, and nothing else on the line, so "````" wrapping "```js" blocks stays open.
fn code_blocks(text: &str) -> Vec<PromptSpan> {
    let mut out = Vec::new();
    let mut open: Option<(usize, u8, usize)> = None; // (start, fence char, fence length)
    for c in FENCE.captures_iter(text) {
        let (Some(m), Some(run), Some(rest)) = (c.get(0), c.get(1), c.get(2)) else {
            continue;
        };
        let ch = run.as_str().as_bytes()[0];
        let len = run.as_str().len();
        match open {
            None => open = Some((m.start(), ch, len)),
            Some((start, och, olen))
                if och == ch && len >= olen && rest.as_str().trim().is_empty() =>
            {
                out.push(PromptSpan::new(start, m.end()));
                open = None;
            }
            Some(_) => {}
        }
    }
    // An unclosed fence near the end primes the model's output ("```json" as the last line)
    // and runs to the end; one far from the end is a stray marker (a fence quoted inside a
    // fence), and treating the rest of a long prompt as code would hide its instructions.
    if let Some((start, _, _)) = open {
        if text[start..].lines().count() <= 12 {
            out.push(PromptSpan::new(start, text.len()));
        }
    }
    out
}

/// A Markdown heading: where its line starts and ends, its level and title, and where its
/// section ends (the next heading of the same or a higher level).
struct Heading {
    start: usize,
    line_end: usize,
    level: usize,
    title: String,
    section_end: usize,
}

fn headings(text: &str, code: &[PromptSpan]) -> Vec<Heading> {
    let mut heads: Vec<Heading> = HEADING
        .captures_iter(text)
        .into_iter()
        .filter_map(|c| {
            let (m, marks, title) = (c.get(0)?, c.get(1)?, c.get(2)?);
            (!inside_sorted(code, m.start())).then(|| Heading {
                start: m.start(),
                line_end: m.end(),
                level: marks.len(),
                title: title.as_str().to_string(),
                section_end: text.len(),
            })
        })
        .collect();
    // One backward pass with a stack of open levels keeps this linear.
    let mut next_at_level = [text.len(); 7];
    for h in heads.iter_mut().rev() {
        h.section_end = next_at_level[1..=h.level]
            .iter()
            .copied()
            .min()
            .unwrap_or(text.len());
        next_at_level[h.level] = h.start;
    }
    heads
}

/// An XML-ish element: its lowercased name, the opening tag and the closing tag.
struct TagPair {
    name: String,
    open: PromptSpan,
    close: PromptSpan,
}

impl TagPair {
    fn span(&self) -> PromptSpan {
        PromptSpan::new(self.open.start, self.close.end)
    }
    fn body(&self) -> PromptSpan {
        PromptSpan::new(self.open.end, self.close.start)
    }
}

/// Pairs opening and closing tags with one stack per name, in one pass.
fn tag_pairs(text: &str, code: &[PromptSpan]) -> Vec<TagPair> {
    let mut open: HashMap<String, Vec<PromptSpan>> = HashMap::new();
    let mut out = Vec::new();
    for c in TAG.captures_iter(text) {
        let (Some(m), Some(name)) = (c.get(0), c.get(2)) else {
            continue;
        };
        if !tag_fits(&c) || inside_sorted(code, m.start()) {
            continue;
        }
        let name = name.as_str().to_ascii_lowercase();
        let span = PromptSpan::new(m.start(), m.end());
        if c.get(1).is_some_and(|s| !s.is_empty()) {
            if let Some(o) = open.get_mut(&name).and_then(|v| v.pop()) {
                out.push(TagPair {
                    name,
                    open: o,
                    close: span,
                });
            }
        } else {
            open.entry(name).or_default().push(span);
        }
    }
    out.sort_by_key(|t| t.open.start);
    out
}

fn sections(heads: &[Heading], tags: &[TagPair], out: &mut Vec<Segment>) {
    for h in heads {
        out.push(Segment::new(
            SegmentKind::Section {
                title: h.title.clone(),
            },
            PromptSpan::new(h.start, h.section_end),
        ));
    }
    for t in tags {
        out.push(Segment::new(
            SegmentKind::Section {
                title: t.name.clone(),
            },
            t.span(),
        ));
    }
}

fn quotes(text: &str, code: &[PromptSpan], out: &mut Vec<Segment>) {
    let mut start: Option<usize> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let is_quote = line.trim_start().starts_with('>') && !inside_sorted(code, offset);
        match (is_quote, start) {
            (true, None) => start = Some(offset),
            (false, Some(s)) => {
                out.push(Segment::new(SegmentKind::Quote, PromptSpan::new(s, offset)));
                start = None;
            }
            _ => {}
        }
        offset += line.len();
    }
    if let Some(s) = start {
        out.push(Segment::new(
            SegmentKind::Quote,
            PromptSpan::new(s, text.len()),
        ));
    }
    // Triple-quoted passages inside a prompt ("""...""") are quoted data.
    let mut rest = 0;
    while let Some(a) = text[rest..].find("\"\"\"") {
        let open = rest + a;
        let Some(b) = text[open + 3..].find("\"\"\"") else {
            break;
        };
        let close = open + 3 + b + 3;
        out.push(Segment::new(
            SegmentKind::Quote,
            PromptSpan::new(open, close),
        ));
        rest = close;
    }
}

/// An example candidate: its whole span plus optional input/output halves.
struct ExampleCandidate {
    span: PromptSpan,
    parts: Vec<(SegmentKind, PromptSpan)>,
}

/// `Some(true)` for a wrapper of several examples (`<examples>`), `Some(false)` for one
/// example (`<example>`, `<example_2>`), `None` for any other tag.
fn example_tag(name: &str) -> Option<bool> {
    let base = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '_' || c == '-');
    let fewshot = matches!(
        base,
        "few_shot" | "fewshot" | "few-shot" | "few_shots" | "shots" | "demos"
    );
    if fewshot
        || base.contains("examples")
        || base.ends_with("samples")
        || base.ends_with("demonstrations")
    {
        return Some(true);
    }
    (base.contains("example")
        || base == "sample"
        || base == "demo"
        || base == "demonstration"
        || base == "shot")
        .then_some(false)
}

/// Finds examples and example blocks; pushes `ExampleBlock` segments to `out` and returns the
/// individual example candidates.
fn find_examples(
    text: &str,
    code: &[PromptSpan],
    heads: &[Heading],
    tags: &[TagPair],
    existing: &[Segment],
    out: &mut Vec<Segment>,
) -> Vec<ExampleCandidate> {
    let mut examples = Vec::new();
    // 1. `<example>` elements, each one example.
    for t in tags.iter().filter(|t| example_tag(&t.name) == Some(false)) {
        examples.push(ExampleCandidate {
            span: t.span(),
            parts: io_parts(text, t.body()),
        });
    }
    let tagged: Vec<PromptSpan> = examples.iter().map(|c| c.span).collect();
    let has_tagged_child = |b: PromptSpan| tagged.iter().any(|s| b.contains(*s));
    // 2. Blocks whose body is example data.
    let mut blocks: Vec<PromptSpan> = Vec::new();
    for t in tags.iter().filter(|t| example_tag(&t.name) == Some(true)) {
        blocks.push(t.body());
    }
    for h in heads {
        let line = &text[h.start..h.line_end];
        if EXAMPLES_TITLE.is_match(&h.title) && !EXAMPLE_HEADER.is_match(line) {
            blocks.push(PromptSpan::new(h.line_end, h.section_end));
        }
    }
    let (label, hay) = EXAMPLES_LABEL.on(text);
    for (start, end) in label.find_iter(&hay) {
        if inside_sorted(code, start)
            || blocks
                .iter()
                .chain(&tagged)
                .any(|b| b.start <= start && start < b.end)
        {
            continue;
        }
        let block = block_end(text, end, text.len());
        blocks.push(PromptSpan::new(end, block));
    }
    let blocks = {
        let mut b = blocks;
        b.retain(|s| !text[s.start..s.end].trim().is_empty());
        b.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
        // Keep outermost blocks only.
        let mut keep: Vec<PromptSpan> = Vec::new();
        for s in b {
            if !keep.last().is_some_and(|k| k.contains(s)) {
                keep.push(s);
            }
        }
        keep
    };
    for b in &blocks {
        out.push(Segment::new(SegmentKind::ExampleBlock, *b));
        if !has_tagged_child(*b) {
            examples_in_block(text, code, *b, &mut examples);
        }
    }
    // 3. Outside blocks: headed examples, then transcripts.
    let mut covered = merged(
        blocks
            .iter()
            .copied()
            .chain(tagged.iter().copied())
            .collect(),
    );
    headed_examples(
        text,
        code,
        PromptSpan::new(0, text.len()),
        &covered,
        false,
        &mut examples,
    );
    covered = merged(
        covered
            .into_iter()
            .chain(examples.iter().map(|c| c.span))
            .collect(),
    );
    transcript_examples(
        text,
        code,
        PromptSpan::new(0, text.len()),
        &covered,
        &mut examples,
    );
    // 4. Message pairs from the extractor's roles.
    message_pair_examples(text, existing, &mut examples);
    examples
}

/// Sub-examples of a block: headed, else transcript pairs, else JSON lines or list items,
/// else the whole body as one example.
fn examples_in_block(
    text: &str,
    code: &[PromptSpan],
    block: PromptSpan,
    out: &mut Vec<ExampleCandidate>,
) {
    let before = out.len();
    headed_examples(text, code, block, &[], true, out);
    if out.len() == before {
        transcript_examples(text, code, block, &[], out);
    }
    if out.len() == before {
        subheading_examples(text, code, block, out);
    }
    if out.len() == before {
        line_examples(text, code, block, out);
    }
    if out.len() == before {
        let start = block.start
            + (text[block.start..block.end].len()
                - text[block.start..block.end].trim_start().len());
        let end = trim_end(text, start, block.end);
        if end > start && !is_slot(&text[start..end]) {
            let span = PromptSpan::new(start, end);
            out.push(ExampleCandidate {
                span,
                parts: io_parts(text, span),
            });
        }
    }
}

/// Where a block announced by an "EXAMPLES:" line ends: at a heading, a closing tag, or a
/// paragraph after a blank line that does not look like example content.
fn block_end(text: &str, from: usize, limit: usize) -> usize {
    let mut offset = from;
    let mut blank = false;
    for line in text[from..limit].split_inclusive('\n') {
        let t = line.trim();
        if t.starts_with('#')
            || t.starts_with("</")
            || (blank && !t.is_empty() && !is_content_line(line, true))
        {
            return trim_end(text, from, offset);
        }
        if !t.is_empty() || offset > from {
            blank = t.is_empty();
        }
        offset += line.len();
    }
    trim_end(text, from, limit)
}

/// A line that continues example content after a blank line. List items count only inside a
/// block announced as a list of examples.
fn is_content_line(line: &str, lists: bool) -> bool {
    let t = line.trim_start();
    if line.starts_with([' ', '\t']) || TURN.is_match(line) || EXAMPLE_HEADER.is_match(line) {
        return true;
    }
    if t.starts_with(['{', '[', '"', '\'', '>', '<', '`']) || t.starts_with('\u{201c}') {
        return true;
    }
    lists && is_list_item(t)
}

fn is_list_item(t: &str) -> bool {
    let b = t.as_bytes();
    if b.len() >= 2 && matches!(b[0], b'-' | b'*' | b'+') && b[1] == b' ' {
        return true;
    }
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    digits > 0
        && digits < 4
        && b.len() > digits + 1
        && matches!(b[digits], b'.' | b')')
        && b[digits + 1] == b' '
}

/// "Example 1:" style headers in `range`: each example runs to the next header (inside a
/// block) or, outside one, to the first paragraph that no longer looks like example content.
fn headed_examples(
    text: &str,
    code: &[PromptSpan],
    range: PromptSpan,
    skip: &[PromptSpan],
    in_block: bool,
    out: &mut Vec<ExampleCandidate>,
) {
    let (header, hay) = EXAMPLE_HEADER.on(&text[range.start..range.end]);
    let heads: Vec<(usize, usize)> = header
        .find_iter(&hay)
        .into_iter()
        .map(|(s, e)| (range.start + s, range.start + e))
        .filter(|(s, _)| !inside_sorted(code, *s) && !inside_sorted(skip, *s))
        .collect();
    for (i, &(start, header_end)) in heads.iter().enumerate() {
        let mut hard_end = heads.get(i + 1).map(|h| h.0).unwrap_or(range.end);
        // Outside a block, an example never swallows a block or tagged example that follows.
        if let Some(s) = skip.iter().find(|s| s.start > start) {
            hard_end = hard_end.min(s.start);
        }
        let end = if in_block {
            stop_at_markup(text, header_end, hard_end)
        } else {
            example_end(text, header_end, hard_end)
        };
        // The header line's own text after its label may hold the example ("Example: ...").
        let label_end = text[start..header_end]
            .find(':')
            .map(|i| start + i + 1)
            .unwrap_or(header_end);
        if text[label_end..end.max(label_end)].trim().is_empty() {
            continue;
        }
        let span = PromptSpan::new(start, end);
        out.push(ExampleCandidate {
            span,
            parts: io_parts(text, PromptSpan::new(header_end, end)),
        });
    }
}

/// Inside a block, an example runs to `hard_end` but not past a heading or closing tag line.
fn stop_at_markup(text: &str, from: usize, hard_end: usize) -> usize {
    let body_start = text[from..hard_end]
        .find('\n')
        .map(|i| from + i + 1)
        .unwrap_or(hard_end);
    let mut offset = body_start;
    for line in text[body_start..hard_end].split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with('#') || t.starts_with("</") {
            return trim_end(text, from, offset);
        }
        offset += line.len();
    }
    trim_end(text, from, hard_end)
}

/// Where a headed example outside any block ends, at most at `hard_end`: the next Markdown
/// heading or closing tag, or the next paragraph after a blank line that is not example
/// content (unless the previous paragraph ended with a colon, introducing it).
fn example_end(text: &str, from: usize, hard_end: usize) -> usize {
    let body_start = text[from..hard_end]
        .find('\n')
        .map(|i| from + i + 1)
        .unwrap_or(hard_end);
    let mut offset = body_start;
    let mut blank = false;
    // The header introduces what follows, even after a blank line.
    let mut prev = ":";
    for line in text[body_start..hard_end].split_inclusive('\n') {
        let t = line.trim();
        if t.starts_with('#')
            || t.starts_with("</")
            || (blank && t.starts_with('<') && t.ends_with('>'))
        {
            return trim_end(text, from, offset);
        }
        if blank && !t.is_empty() && !is_content_line(line, false) && !prev.ends_with(':') {
            return trim_end(text, from, offset);
        }
        if !t.is_empty() {
            prev = t;
        }
        blank = t.is_empty();
        offset += line.len();
    }
    trim_end(text, from, hard_end)
}

fn trim_end(text: &str, start: usize, mut end: usize) -> usize {
    while end > start && text.as_bytes()[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    end
}

/// One turn label: where the line starts, where the label ends, and whether it is an input.
struct Turn {
    start: usize,
    label_end: usize,
    input: bool,
}

fn turns_in(text: &str, code: &[PromptSpan], range: PromptSpan, skip: &[PromptSpan]) -> Vec<Turn> {
    let (turn, hay) = TURN.on(&text[range.start..range.end]);
    turn.captures_iter(&hay)
        .into_iter()
        .filter_map(|c| {
            let m = c.get(0)?;
            let start = range.start + m.start();
            if inside_sorted(code, start) || inside_sorted(skip, start) {
                return None;
            }
            let input = is_input_label(&c.get(1)?.as_str().to_ascii_lowercase())?;
            Some(Turn {
                start,
                label_end: range.start + m.end(),
                input,
            })
        })
        .collect()
}

/// Inline transcripts: an input turn (`Input:`, `Q:`, `User:`, `Customer:`...) directly
/// followed by an output turn (`Output:`, `A:`, `Assistant:`, `Agent:`...) is one example,
/// unless either value is a template slot or the pair describes a format.
fn transcript_examples(
    text: &str,
    code: &[PromptSpan],
    range: PromptSpan,
    skip: &[PromptSpan],
    out: &mut Vec<ExampleCandidate>,
) {
    let turns = turns_in(text, code, range, skip);
    let mut i = 0;
    while i + 1 < turns.len() {
        let (a, b) = (&turns[i], &turns[i + 1]);
        if !a.input || b.input {
            i += 1;
            continue;
        }
        let limit = turns.get(i + 2).map(|t| t.start).unwrap_or(range.end);
        let end = turn_end(text, b.label_end, limit);
        let a_value = text[a.label_end..b.start].trim();
        let b_value = text[b.label_end..end].trim();
        let crosses_markup = a_value.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with('#') || l.starts_with("</")
        });
        let spec = INPUT_SPEC.is_match(a_value) && FORMAT_SPEC.is_match(b_value);
        if !crosses_markup && !spec && !is_slot(a_value) && !is_slot(b_value) {
            out.push(ExampleCandidate {
                span: PromptSpan::new(a.start, end),
                parts: vec![
                    (
                        SegmentKind::ExampleInput,
                        PromptSpan::new(a.start, trim_end(text, a.start, b.start)),
                    ),
                    (SegmentKind::ExampleOutput, PromptSpan::new(b.start, end)),
                ],
            });
        }
        i += 2;
    }
}

fn is_input_label(label: &str) -> Option<bool> {
    match label {
        "input" | "question" | "q" | "user" | "human" | "customer" | "client" | "query"
        | "request" | "text" | "sentence" | "review" | "email" | "message" => Some(true),
        "output" | "answer" | "a" | "assistant" | "ai" | "agent" | "bot" | "model" | "response"
        | "label" | "sentiment" | "category" | "sql" | "reply" | "completion" => Some(false),
        _ => None,
    }
}

/// Empty, a lone placeholder, or an ellipsis: a slot the caller fills, not example data.
fn is_slot(value: &str) -> bool {
    let v = value.trim();
    let one_line = !v.contains('\n');
    v.is_empty()
        || v.chars()
            .all(|c| c == '.' || c == '\u{2026}' || c == '_' || c == '-')
        || (v.starts_with('{')
            && v.ends_with('}')
            && !v.contains('"')
            && !v.contains('\'')
            && one_line)
        || (v.starts_with('<')
            && v.ends_with('>')
            && one_line
            && v.len() < 80
            && !v[1..].contains('<'))
        || (v.starts_with('[') && v.ends_with(']') && v.len() < 60 && !v.contains('"') && one_line)
        || (v.starts_with('$') && v.len() < 40 && !v.contains(' '))
        || v == "%s"
}

/// The end of a turn's value starting at `from`: the first blank line, heading or closing tag
/// after some content, or `limit`.
fn turn_end(text: &str, from: usize, limit: usize) -> usize {
    let mut offset = from;
    let mut seen = false;
    for line in text[from..limit].split_inclusive('\n') {
        let t = line.trim();
        if seen && (t.is_empty() || t.starts_with('#') || t.starts_with("</")) {
            return trim_end(text, from, offset);
        }
        seen |= !t.is_empty();
        offset += line.len();
    }
    trim_end(text, from, limit)
}

/// Sub-headings inside a block ("## Examples" then "### Refund request", "### Angry
/// customer"): each sub-section is one example.
fn subheading_examples(
    text: &str,
    code: &[PromptSpan],
    block: PromptSpan,
    out: &mut Vec<ExampleCandidate>,
) {
    let mut starts = Vec::new();
    let mut offset = block.start;
    for line in text[block.start..block.end].split_inclusive('\n') {
        if line.starts_with('#') && !inside_sorted(code, offset) {
            starts.push(offset);
        }
        offset += line.len();
    }
    if starts.len() < 2 {
        return;
    }
    for (i, &start) in starts.iter().enumerate() {
        let end = trim_end(text, start, starts.get(i + 1).copied().unwrap_or(block.end));
        let body_start = text[start..end]
            .find('\n')
            .map(|n| start + n + 1)
            .unwrap_or(end);
        if text[body_start..end].trim().is_empty() {
            continue;
        }
        let span = PromptSpan::new(start, end);
        out.push(ExampleCandidate {
            span,
            parts: io_parts(text, span),
        });
    }
}

/// JSON example lines (`{"input": ..., "output": ...}`) or list items of an examples block.
fn line_examples(
    text: &str,
    code: &[PromptSpan],
    block: PromptSpan,
    out: &mut Vec<ExampleCandidate>,
) {
    let mut items: Vec<(usize, usize, bool)> = Vec::new();
    let mut offset = block.start;
    for line in text[block.start..block.end].split_inclusive('\n') {
        if inside_sorted(code, offset) {
            // A code block ends the current item; its own lines are not items.
            if let Some(last) = items.last_mut() {
                last.1 = last.1.min(offset);
            }
            offset += line.len();
            continue;
        }
        let t = line.trim_start();
        let lead = line.len() - t.len();
        let unbulleted = t
            .strip_prefix("- ")
            .or_else(|| t.strip_prefix("* "))
            .unwrap_or(t)
            .trim_start();
        let json = unbulleted.starts_with('{')
            && (unbulleted.contains("\":") || unbulleted.contains("':"));
        if json || is_list_item(t) {
            items.push((offset + lead, offset + line.len(), json));
        } else if !t.trim().is_empty() && !line.starts_with([' ', '\t']) {
            // A plain line closes the previous item.
            if let Some(last) = items.last_mut() {
                last.1 = last.1.min(offset);
            }
        } else if let Some(last) = items.last_mut() {
            if last.1 == offset {
                last.1 = offset + line.len();
            }
        }
        offset += line.len();
    }
    let any_json = items.iter().any(|i| i.2);
    for (start, end, json) in items {
        if any_json && !json {
            continue;
        }
        let end = trim_end(text, start, end);
        if end <= start {
            continue;
        }
        let span = PromptSpan::new(start, end);
        let parts = if json {
            json_parts(text, span)
        } else {
            arrow_parts(text, span)
        };
        out.push(ExampleCandidate { span, parts });
    }
}

/// Splits a JSON example object at its output key.
fn json_parts(text: &str, span: PromptSpan) -> Vec<(SegmentKind, PromptSpan)> {
    let body = text[span.start..span.end].to_ascii_lowercase();
    let at = [
        "\"output\"",
        "\"answer\"",
        "\"completion\"",
        "\"response\"",
        "\"assistant\"",
        "\"label\"",
        "\"a\"",
        "'output'",
        "'answer'",
    ]
    .iter()
    .filter_map(|k| body.find(k))
    .min();
    match at {
        Some(at) if at > 0 => split_parts(span, span.start + at),
        _ => Vec::new(),
    }
}

/// Splits a list-item example at an arrow (`->`, `=>`, `→`) or at its output label.
fn arrow_parts(text: &str, span: PromptSpan) -> Vec<(SegmentKind, PromptSpan)> {
    let body = &text[span.start..span.end];
    match ["->", "=>", "\u{2192}"]
        .iter()
        .filter_map(|a| body.find(a))
        .min()
    {
        Some(at) => split_parts(span, span.start + at),
        None => io_parts(text, span),
    }
}

fn split_parts(span: PromptSpan, at: usize) -> Vec<(SegmentKind, PromptSpan)> {
    vec![
        (SegmentKind::ExampleInput, PromptSpan::new(span.start, at)),
        (SegmentKind::ExampleOutput, PromptSpan::new(at, span.end)),
    ]
}

/// Splits an example body into input and output halves at its first output label.
fn io_parts(text: &str, span: PromptSpan) -> Vec<(SegmentKind, PromptSpan)> {
    let body = &text[span.start..span.end];
    let (turn, hay) = TURN.on(body);
    for c in turn.captures_iter(&hay) {
        let (Some(m), Some(label)) = (c.get(0), c.get(1)) else {
            continue;
        };
        if is_input_label(&label.as_str().to_ascii_lowercase()) == Some(false) {
            return split_parts(span, span.start + m.start());
        }
    }
    Vec::new()
}

/// User/assistant message pairs that follow a system message (and precede the final user
/// turn) are few-shot examples given as messages.
fn message_pair_examples(text: &str, existing: &[Segment], out: &mut Vec<ExampleCandidate>) {
    let roles: Vec<(Role, PromptSpan)> = existing
        .iter()
        .filter_map(|s| match s.kind {
            SegmentKind::Role { role } => Some((role, s.span)),
            _ => None,
        })
        .collect();
    if roles.len() < 3 || !roles[0].0.is_instruction() {
        return;
    }
    let value = |s: PromptSpan| text.get(s.start..s.end).unwrap_or("");
    let mut i = 1;
    while i + 1 < roles.len() {
        let (a, a_span) = roles[i];
        let (b, b_span) = roles[i + 1];
        if a == Role::User
            && b == Role::Assistant
            && !is_slot(value(a_span))
            && !is_slot(value(b_span))
        {
            out.push(ExampleCandidate {
                span: PromptSpan::new(a_span.start, b_span.end),
                parts: vec![
                    (SegmentKind::ExampleInput, a_span),
                    (SegmentKind::ExampleOutput, b_span),
                ],
            });
            i += 2;
        } else {
            i += 1;
        }
    }
}

fn push_examples(
    existing: &[Segment],
    mut examples: Vec<ExampleCandidate>,
    out: &mut Vec<Segment>,
) {
    // Extractor-provided examples (from `examples=[...]`) count first.
    let given: Vec<PromptSpan> = existing
        .iter()
        .filter(|s| matches!(s.kind, SegmentKind::Example { .. }))
        .map(|s| s.span)
        .collect();
    let mut index = given.len();
    examples.sort_by_key(|c| (c.span.start, std::cmp::Reverse(c.span.end)));
    let mut last_end = 0;
    for c in examples {
        if c.span.is_empty() || c.span.start < last_end || given.iter().any(|s| s.overlaps(c.span))
        {
            continue;
        }
        out.push(Segment::new(SegmentKind::Example { index }, c.span));
        out.extend(
            c.parts
                .into_iter()
                .filter(|(_, s)| !s.is_empty())
                .map(|(k, s)| Segment::new(k, s)),
        );
        index += 1;
        last_end = c.span.end;
    }
}

/// Queries over a prompt's segments.
pub trait SegmentQuery {
    fn segments(&self) -> &[Segment];

    /// The example containing `span`, if any.
    fn example_at(&self, span: PromptSpan) -> Option<&Segment> {
        self.segments()
            .iter()
            .find(|s| matches!(s.kind, SegmentKind::Example { .. }) && s.span.contains(span))
    }

    /// Inside a few-shot example or a block of examples.
    fn in_example(&self, span: PromptSpan) -> bool {
        self.segments().iter().any(|s| {
            matches!(
                s.kind,
                SegmentKind::Example { .. } | SegmentKind::ExampleBlock
            ) && s.span.contains(span)
        })
    }

    /// Inside an example, example block, code block or quote: data, not instruction.
    fn in_data(&self, span: PromptSpan) -> bool {
        self.segments()
            .iter()
            .any(|s| is_data(&s.kind) && s.span.contains(span))
    }

    /// The data spans (examples, example blocks, code, quotes), merged and sorted.
    fn data_spans(&self) -> Vec<PromptSpan> {
        merged(
            self.segments()
                .iter()
                .filter(|s| is_data(&s.kind))
                .map(|s| s.span)
                .collect(),
        )
    }

    /// The innermost role segment containing `span`.
    fn role_at(&self, span: PromptSpan) -> Option<Role> {
        self.segments().iter().rev().find_map(|s| match s.kind {
            SegmentKind::Role { role } if s.span.contains(span) => Some(role),
            _ => None,
        })
    }

    /// The innermost section containing `span`.
    fn section_at(&self, span: PromptSpan) -> Option<&Segment> {
        self.segments()
            .iter()
            .filter(|s| matches!(s.kind, SegmentKind::Section { .. }) && s.span.contains(span))
            .min_by_key(|s| s.span.len())
    }
}

fn is_data(kind: &SegmentKind) -> bool {
    matches!(
        kind,
        SegmentKind::Example { .. }
            | SegmentKind::ExampleBlock
            | SegmentKind::CodeBlock
            | SegmentKind::Quote
    )
}

impl SegmentQuery for Prompt {
    fn segments(&self) -> &[Segment] {
        &self.segments
    }
}

/// The instruction text of a prompt: every span outside examples, example blocks, code blocks
/// and quotes, in order. Rule packs that reason about instructions (contradictions) split
/// these into units; what lies between them is data.
pub fn instruction_spans(prompt: &Prompt) -> Vec<PromptSpan> {
    let mut out = Vec::new();
    let mut at = 0;
    for d in prompt.data_spans() {
        if d.start > at {
            out.push(PromptSpan::new(at, d.start));
        }
        at = at.max(d.end);
    }
    if at < prompt.text.len() {
        out.push(PromptSpan::new(at, prompt.text.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::{Origin, PromptFormat};

    /// Lowercased text with the lowercase pattern finds exactly what `(?i)` finds on the text,
    /// captures included, also around the two non-ASCII letters that fold onto ASCII ones.
    #[test]
    fn caseless_regexes_match_as_their_case_insensitive_forms() {
        use crate::lazy_regex::has_uppercase_literal;
        let texts = [
            "## Examples\nINPUT: I was charged twice\nOutput: billing\n\nExample 2 - Refund:\nQ: x\nA: y",
            "Here are some EXAMPLES below:\n**Example 1**: The JSON object\nUser 2: hi\nASSISTANT: hello",
            "Few-Shot Examples:\n- Question: what?\n> Answer: that\nSample Output \u{2013} done",
            "A text message from the customer\nThe summary as a JSON list\nYOUR ANSWER: the Category",
            "Ta\u{17F}k: example\nE\u{17F}AMPLE \u{212A}: few-shot examples:\nInput: \u{212A}elvin",
            "Demonstrations of greatness:\nDEMO #3\nnothing to see, üß ÀÉ example ÿ\nEmail:",
            "",
        ];
        let all: [&Caseless; 6] = [
            &EXAMPLE_HEADER,
            &EXAMPLES_LABEL,
            &EXAMPLES_TITLE,
            &TURN,
            &FORMAT_SPEC,
            &INPUT_SPEC,
        ];
        let spans = |re: &LazyRegex, hay: &str| crate::lazy_regex::spans(&re.captures_iter(hay));
        let reference_spans = |re: &regex::Regex, hay: &str| -> Vec<Vec<Option<(usize, usize)>>> {
            re.captures_iter(hay)
                .map(|c| c.iter().map(|m| m.map(|m| (m.start(), m.end()))).collect())
                .collect()
        };
        let mut matched = 0;
        for c in all {
            assert!(!has_uppercase_literal(c.pattern()), "{}", c.pattern());
            c.force().unwrap();
            let reference = regex::Regex::new(&format!("(?i){}", c.pattern())).unwrap();
            for t in texts.iter().flat_map(|t| t.lines().chain([*t])) {
                let (re, hay) = c.on(t);
                let want = reference_spans(&reference, t);
                assert_eq!(spans(re, &hay), want, "{} on {t:?}", c.pattern());
                matched += want.len();
            }
        }
        assert!(matched > 20);
    }

    fn seg(text: &str) -> Prompt {
        let mut p = Prompt::new("t".into(), Origin::File, PromptFormat::Text, false);
        p.text = text.to_string();
        segment(&mut p);
        p
    }

    fn examples(p: &Prompt) -> Vec<&str> {
        p.segments
            .iter()
            .filter(|s| matches!(s.kind, SegmentKind::Example { .. }))
            .map(|s| &p.text[s.span.start..s.span.end])
            .collect()
    }

    fn kinds<'p>(p: &'p Prompt, kind: &SegmentKind) -> Vec<&'p str> {
        p.segments
            .iter()
            .filter(|s| &s.kind == kind)
            .map(|s| &p.text[s.span.start..s.span.end])
            .collect()
    }

    fn at(p: &Prompt, needle: &str) -> PromptSpan {
        let i = p
            .text
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in prompt"));
        PromptSpan::new(i, i + needle.len())
    }

    /// `SEG_DEBUG=path cargo test --lib segment::tests::debug_env -- --nocapture` prints the
    /// examples and example blocks found in a file.
    #[test]
    #[allow(clippy::print_stdout)]
    fn debug_env() {
        let Ok(path) = std::env::var("SEG_DEBUG") else {
            return;
        };
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        let p = seg(&text);
        for s in &p.segments {
            if matches!(
                s.kind,
                SegmentKind::Example { .. } | SegmentKind::ExampleBlock
            ) {
                let body = &p.text[s.span.start..s.span.end];
                let head: String = body.chars().take(160).collect();
                println!("{:?} {}..{} {:?}", s.kind, s.span.start, s.span.end, head);
            }
        }
    }

    #[test]
    fn xml_example_tags() {
        let p = seg("Be brief.\n<example>\nUser: hi I'm bob@corp.io\nAssistant: hello\n</example>\n<example>x</example>\nDone.");
        let ex = examples(&p);
        assert_eq!(ex.len(), 2);
        assert!(ex[0].contains("bob@corp.io"));
        assert!(p.in_example(at(&p, "bob@")));
        assert!(!p.in_example(at(&p, "Done")));
        assert!(!p.in_example(at(&p, "Be brief")));
    }

    #[test]
    fn examples_wrapper_with_children() {
        let p = seg("Rules.\n<examples>\n<example>\nInput: a\nOutput: b\n</example>\n<example>\nInput: c\nOutput: d\n</example>\n</examples>\nAfter.");
        assert_eq!(examples(&p).len(), 2);
        assert_eq!(
            kinds(&p, &SegmentKind::ExampleOutput),
            vec!["Output: b\n", "Output: d\n"]
        );
        assert!(!p.in_data(at(&p, "After")));
    }

    #[test]
    fn examples_wrapper_without_children_splits_by_turns() {
        let p = seg("<examples>\nQ: What is 2+2?\nA: 4\nQ: Capital of Peru?\nA: Lima\n</examples>\nAnswer the question.");
        assert_eq!(examples(&p).len(), 2);
        assert!(!p.in_data(at(&p, "Answer the question")));
    }

    #[test]
    fn examples_wrapper_with_free_text_is_one_example() {
        let p = seg("<examples>\nThe customer said the box was crushed; we apologised and refunded.\n</examples>\nNow reply.");
        let ex = examples(&p);
        assert_eq!(ex.len(), 1);
        assert!(ex[0].starts_with("The customer"));
    }

    #[test]
    fn numbered_example_headers() {
        let p = seg("Classify tickets.\n\nExample 1:\nInput: my card was charged twice\nOutput: billing\n\nExample 2:\nInput: app crashes\nOutput: bug\n\nNow classify the ticket below.\n{ticket}");
        let ex = examples(&p);
        assert_eq!(ex.len(), 2, "{ex:?}");
        assert!(ex[1].ends_with("Output: bug"));
        assert!(p
            .segments
            .iter()
            .any(|s| s.kind == SegmentKind::ExampleOutput));
        assert!(!p.in_data(at(&p, "Now classify")));
    }

    #[test]
    fn markdown_heading_examples() {
        let p = seg("# Task\nSummarise.\n### Example 1\nText: long\nSummary: short\n### Example 2\nText: longer\nSummary: shorter\n## Rules\nAlways be brief.");
        let ex = examples(&p);
        assert_eq!(ex.len(), 2, "{ex:?}");
        assert!(!p.in_data(at(&p, "Always be brief")));
    }

    #[test]
    fn bold_example_header() {
        let p = seg("Reply politely.\n\n**Example**:\nUser: where is my order?\nAssistant: Let me check that for you.\n\nKeep replies under 50 words.");
        assert_eq!(examples(&p).len(), 1);
        assert!(p.in_example(at(&p, "where is my order")));
        assert!(!p.in_data(at(&p, "Keep replies")));
    }

    #[test]
    fn bold_numbered_header_with_colon_inside() {
        let p = seg("**Example 1:**\nInput: hi\nOutput: hello\n\n**Example 2:**\nInput: bye\nOutput: goodbye\n");
        assert_eq!(examples(&p).len(), 2);
    }

    #[test]
    fn header_with_inline_content() {
        let p = seg("Extract the city.\nExample: \"Flights to Oslo tomorrow\" -> Oslo\nReturn only the city.");
        let ex = examples(&p);
        assert_eq!(ex.len(), 1, "{ex:?}");
        assert!(ex[0].contains("Oslo"));
    }

    #[test]
    fn header_introducing_a_paragraph_keeps_it() {
        let p = seg("Example:\n\nThe meeting covered Q3 goals and hiring.\n\nWrite summaries in that style.");
        let ex = examples(&p);
        assert_eq!(ex.len(), 1);
        assert!(ex[0].contains("Q3 goals"));
        assert!(!p.in_data(at(&p, "Write summaries")));
    }

    #[test]
    fn examples_label_followed_by_a_list() {
        let p = seg("Classify the intent.\nEXAMPLES:\n- \"I want my money back\" -> refund\n- \"Where is my parcel\" -> shipping\n\nRespond with the label only.");
        let ex = examples(&p);
        assert_eq!(ex.len(), 2, "{ex:?}");
        assert_eq!(
            kinds(&p, &SegmentKind::ExampleOutput),
            vec!["-> refund", "-> shipping"]
        );
        assert!(!p.in_data(at(&p, "Respond with the label")));
        assert!(p.in_data(at(&p, "money back")));
    }

    #[test]
    fn here_are_some_examples_label() {
        let p = seg("Here are some examples:\n1. Hello -> Bonjour\n2. Thanks -> Merci\n\nTranslate the user's text.");
        assert_eq!(examples(&p).len(), 2);
        assert!(!p.in_data(at(&p, "Translate")));
    }

    #[test]
    fn input_output_pairs() {
        let p = seg(
            "Input: The food was cold.\nOutput: negative\nInput: Loved it!\nOutput: positive\n",
        );
        let ex = examples(&p);
        assert_eq!(ex.len(), 2);
        assert_eq!(
            kinds(&p, &SegmentKind::ExampleInput),
            vec!["Input: The food was cold.", "Input: Loved it!"]
        );
    }

    #[test]
    fn qa_transcript_without_headers() {
        let p = seg("Answer like this.\nQ: What is 2+2?\nA: 4\nQ: Capital of France?\nA: Paris\n\nQ: {question}\nA:");
        let ex = examples(&p);
        assert_eq!(ex.len(), 2, "{ex:?}");
    }

    #[test]
    fn question_answer_labels() {
        let p = seg("Question: Who wrote Hamlet?\nAnswer: Shakespeare\n\nQuestion: {q}\nAnswer:");
        assert_eq!(
            examples(&p),
            vec!["Question: Who wrote Hamlet?\nAnswer: Shakespeare"]
        );
    }

    #[test]
    fn user_assistant_transcript() {
        let p = seg("You are a support bot.\n\nUser: My login fails.\nAssistant: Try resetting your password.\n\nUser: {message}\nAssistant:");
        assert_eq!(examples(&p).len(), 1);
        assert!(!p.in_data(at(&p, "You are a support bot")));
    }

    #[test]
    fn customer_agent_transcript() {
        let p = seg(
            "Customer: The app keeps crashing.\nAgent: Sorry about that! Which phone do you use?\n",
        );
        assert_eq!(examples(&p).len(), 1);
        assert_eq!(kinds(&p, &SegmentKind::ExampleOutput).len(), 1);
    }

    #[test]
    fn json_lines_in_examples_section() {
        let p = seg("## Examples\n{\"input\": \"cancel my plan\", \"output\": \"cancellation\"}\n{\"input\": \"card declined\", \"output\": \"billing\"}\n## Task\nClassify.");
        assert_eq!(examples(&p).len(), 2);
        let outs = kinds(&p, &SegmentKind::ExampleOutput);
        assert!(outs[0].starts_with("\"output\""), "{outs:?}");
        assert!(!p.in_data(at(&p, "Classify")));
    }

    #[test]
    fn examples_section_body_is_data() {
        let p = seg("# Instructions\nBe concise.\n\n## Examples\nA good reply greets the customer by name and thanks them.\n\nAnother one apologises first.\n\n## Output\nReturn JSON.");
        assert!(p.in_data(at(&p, "greets the customer")));
        assert!(p.in_data(at(&p, "apologises first")));
        assert!(!p.in_data(at(&p, "Be concise")));
        assert!(!p.in_data(at(&p, "Return JSON")));
        assert_eq!(kinds(&p, &SegmentKind::ExampleBlock).len(), 1);
    }

    #[test]
    fn examples_section_with_numbered_subheadings() {
        let p = seg("## Few-shot examples\n### Example 1\nUser: hi\n\nAssistant: hello there\n### Example 2\nfree text sample\n## Instructions\nNever use emoji.");
        assert_eq!(examples(&p).len(), 2, "{:?}", examples(&p));
        assert!(!p.in_data(at(&p, "Never use emoji")));
    }

    #[test]
    fn examples_section_with_plain_subheadings() {
        let p = seg("# EXAMPLES\n\n### Word choice\n- **Avoid**: \"very good\"\n- **Adopt**: \"great\"\n\n### Rhythm\n- **Avoid**: \"A. B. C.\"\n- **Adopt**: \"A, B and C.\"\n\n# OUTPUT\nRewrite the text.");
        assert_eq!(examples(&p).len(), 2, "{:?}", examples(&p));
        assert!(!p.in_data(at(&p, "Rewrite the text")));
    }

    #[test]
    fn examples_section_holding_a_code_block_is_one_example() {
        let p = seg("## Example\n\nA template:\n```yaml\nrequests:\n  - raw:\n      - GET /\n```\n\n## Rules\nBe strict.");
        assert_eq!(examples(&p).len(), 1, "{:?}", examples(&p));
        assert!(!p.in_data(at(&p, "Be strict")));
    }

    /// A prompt of chat messages: `text` with one role segment per `(role, start, end)`.
    fn chat(text: &str, roles: &[(Role, usize, usize)]) -> Prompt {
        let mut p = Prompt::new("t".into(), Origin::File, PromptFormat::Text, false);
        p.text = text.into();
        p.segments = roles
            .iter()
            .map(|&(role, s, e)| Segment::new(SegmentKind::Role { role }, PromptSpan::new(s, e)))
            .collect();
        p
    }

    #[test]
    fn message_pairs_after_system_are_examples() {
        let mut p = chat(
            "sys\n\nu1\n\na1\n\nu2",
            &[
                (Role::System, 0, 3),
                (Role::User, 5, 7),
                (Role::Assistant, 9, 11),
                (Role::User, 13, 15),
            ],
        );
        segment(&mut p);
        assert_eq!(examples(&p), vec!["u1\n\na1"]);
        assert_eq!(p.role_at(PromptSpan::new(13, 14)), Some(Role::User));
    }

    #[test]
    fn message_pair_with_slot_is_not_an_example() {
        let mut p = chat(
            "sys\n\n{q}\n\n{a}",
            &[
                (Role::System, 0, 3),
                (Role::User, 5, 8),
                (Role::Assistant, 10, 13),
            ],
        );
        segment(&mut p);
        assert!(examples(&p).is_empty());
    }

    #[test]
    fn extractor_examples_are_kept_and_counted_first() {
        let mut p = Prompt::new("t".into(), Origin::File, PromptFormat::Text, false);
        p.text = "ex0\nExample:\nInput: a\nOutput: b".into();
        p.segments = vec![Segment::new(
            SegmentKind::Example { index: 0 },
            PromptSpan::new(0, 3),
        )];
        segment(&mut p);
        let idx: Vec<usize> = p
            .segments
            .iter()
            .filter_map(|s| match s.kind {
                SegmentKind::Example { index } => Some(index),
                _ => None,
            })
            .collect();
        assert_eq!(idx, vec![0, 1]);
    }

    // Hard negatives.

    #[test]
    fn template_slots_are_not_examples() {
        for t in [
            "Input: {input}\nOutput:",
            "Q: {{ question }}\nA:",
            "User: <user_message>\nAssistant:",
            "Text: [TEXT]\nLabel: ...",
            "Human: %s\nAssistant:",
        ] {
            assert!(examples(&seg(t)).is_empty(), "{t:?}");
        }
    }

    #[test]
    fn for_example_in_prose_is_not_an_example() {
        let p = seg("Use short sentences. For example, say \"Done\" instead of \"The task has been completed\".\nExamples of tone we like are friendly and direct.");
        assert!(examples(&p).is_empty(), "{:?}", examples(&p));
        assert!(kinds(&p, &SegmentKind::ExampleBlock).is_empty());
    }

    #[test]
    fn format_spec_output_is_not_an_example() {
        let p =
            seg("Read the ticket.\nOutput: a JSON object with keys `category` and `urgency`.\n");
        assert!(examples(&p).is_empty());
        let p = seg("Input: the customer's email\nOutput: a JSON object with a `category` field\n");
        assert!(examples(&p).is_empty(), "{:?}", examples(&p));
    }

    #[test]
    fn instructions_after_last_example_are_not_data() {
        let p = seg("Example 1:\nQ: 2+2?\nA: 4\n\nAlways show your work.\nNever guess.");
        assert_eq!(examples(&p).len(), 1);
        assert!(!p.in_data(at(&p, "Always show")));
        assert!(!p.in_data(at(&p, "Never guess")));
    }

    #[test]
    fn headers_inside_code_blocks_are_ignored() {
        let p = seg("```\nExample 1:\nInput: x\nOutput: y\n```\nDone.");
        assert!(examples(&p).is_empty());
        assert!(p.in_data(at(&p, "Input: x")));
        assert!(!p.in_data(at(&p, "Done")));
    }

    #[test]
    fn example_of_prose_header_needs_punctuation() {
        let p = seg("Example 1 shows the ideal tone.\nSample size must be above 30.");
        assert!(examples(&p).is_empty());
    }

    #[test]
    fn input_with_blank_line_then_heading_is_not_paired() {
        let p = seg("Input: the ticket text\n\n## Format\nOutput: JSON\n");
        assert!(examples(&p).is_empty());
    }

    #[test]
    fn sections_code_and_quotes() {
        let p = seg("# Rules\nBe nice.\n## Format\nJSON.\n```\n# not a heading\n```\n> quoted\n");
        let titles: Vec<_> = p
            .segments
            .iter()
            .filter_map(|s| match &s.kind {
                SegmentKind::Section { title } => Some(title.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(titles, vec!["Rules", "Format"]);
        assert!(p.segments.iter().any(|s| s.kind == SegmentKind::CodeBlock));
        assert!(p.in_data(at(&p, "quoted")));
    }

    #[test]
    fn longer_fences_contain_shorter_ones() {
        let p = seg("Intro.\n````\nWrapped prompt.\n```js\nx()\n```\nStill wrapped.\n````\nAfter.");
        let code = kinds(&p, &SegmentKind::CodeBlock);
        assert_eq!(code.len(), 1, "{code:?}");
        assert!(p.in_data(at(&p, "Still wrapped")));
        assert!(!p.in_data(at(&p, "After")));
        let q = seg("```python\nprint(1)\n```\nText.\n~~~\nraw\n~~~\nEnd.");
        assert_eq!(kinds(&q, &SegmentKind::CodeBlock).len(), 2);
        assert!(!q.in_data(at(&q, "Text.")));
    }

    #[test]
    fn unclosed_fences() {
        let p = seg("Answer in JSON.\n```json\n{");
        assert!(p.in_data(at(&p, "{")));
        let body: String = (0..20).map(|i| format!("Rule {i}.\n")).collect();
        let q = seg(&format!("Intro.\n```\n{body}"));
        assert!(!q.in_data(at(&q, "Rule 19")));
    }

    #[test]
    fn heading_sections_end_at_same_or_higher_level() {
        let p = seg("# A\na\n## B\nb\n### C\nc\n## D\nd\n# E\ne");
        let b = p
            .segments
            .iter()
            .find(|s| s.kind == SegmentKind::Section { title: "B".into() })
            .unwrap();
        assert_eq!(&p.text[b.span.start..b.span.end], "## B\nb\n### C\nc\n");
        let a = p
            .segments
            .iter()
            .find(|s| s.kind == SegmentKind::Section { title: "A".into() })
            .unwrap();
        assert!(p.text[a.span.start..a.span.end].ends_with("d\n"));
    }

    #[test]
    fn nested_same_name_tags_pair_correctly() {
        let p = seg("<rules><rules>inner</rules> outer</rules>");
        let n = p
            .segments
            .iter()
            .filter(|s| {
                s.kind
                    == SegmentKind::Section {
                        title: "rules".into(),
                    }
            })
            .count();
        assert_eq!(n, 2);
        assert_eq!(
            p.section_at(at(&p, "inner")).map(|s| s.span),
            Some(PromptSpan::new(7, 27))
        );
    }

    #[test]
    fn instruction_spans_skip_data() {
        let p = seg("Be brief.\n<example>\nlong text\n</example>\nBe kind.");
        let spans: Vec<&str> = instruction_spans(&p)
            .into_iter()
            .map(|s| &p.text[s.start..s.end])
            .collect();
        assert_eq!(spans, vec!["Be brief.\n", "\nBe kind."]);
    }

    #[test]
    fn unclosed_tags_and_huge_input_stay_linear() {
        let mut t = String::new();
        for i in 0..3000 {
            t.push_str(&format!("<open{i}> Example {i}:\nQ: q{i}\nA: a{i}\n\n"));
        }
        let start = std::time::Instant::now();
        let p = seg(&t);
        assert_eq!(examples(&p).len(), 3000);
        assert!(start.elapsed().as_secs() < 5);
    }

    #[test]
    fn non_ascii_text_does_not_panic() {
        let p = seg("Beispiel 1:\nFrage: Wie spät ist es?\nAntwort: Zwölf Uhr — «genau».\n<example>Ünïcödé → ✓</example>");
        assert_eq!(examples(&p).len(), 1);
        let q = seg("Example 1 \u{2014} émoji 😀:\nUser: héllo\nAssistant: 👋\n");
        assert_eq!(examples(&q).len(), 1);
    }
}

#[cfg(test)]
mod tag_tests {
    use super::*;

    /// The unbounded tag regex plus `tag_fits` finds what the bounded one found.
    #[test]
    fn tag_limits_match_the_bounded_regex() {
        let bounded =
            regex::Regex::new(r"<(/?)([A-Za-z][A-Za-z0-9_\-]{0,40})(?:[ \t\r\n][^<>]{0,200})?>")
                .unwrap();
        let long_name = format!("<{}>x</{}>", "a".repeat(45), "a".repeat(41));
        let long_attr = format!("<doc {}>é<doc é=\"{}\">", "k".repeat(201), "é".repeat(150));
        for text in [
            "<rules>a</rules> <b x='1'> < c> <1x>",
            long_name.as_str(),
            long_attr.as_str(),
            "<a\n<b>",
        ] {
            let want: Vec<(usize, usize)> = bounded
                .find_iter(text)
                .map(|m| (m.start(), m.end()))
                .collect();
            let got: Vec<(usize, usize)> = TAG
                .captures_iter(text)
                .into_iter()
                .filter(tag_fits)
                .filter_map(|c| c.get(0).map(|m| (m.start(), m.end())))
                .collect();
            assert_eq!(got, want, "{text:?}");
        }
    }
}
